/*
 * elava debug — run one module alone, for operators and tests:
 * `debug list` runs the provider without the store and prints what it
 * lists (JSON Lines, one resource per line, or a table), with each
 * listing's status on stderr; `debug types` prints the types it knows.
 * Exit: 0 every listing complete, 3 some failed, 1 nothing listed.
 */
#include "cli/cli.h"
#include "provider/provider.h"

#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define DEBUG_USAGE                                                            \
	"elava debug list [--type T]... [--types T,...] "                      \
	"[--exclude-types T,...]\n"                                            \
	"                        [--region R]... [--all-regions] "             \
	"[--profile P]\n"                                                      \
	"                        [--concurrency N] [--output json|table]\n"    \
	"       elava debug types"

static int add_names(struct cli_list *l, const char *arg, const char *flag)
{
	return cli_list_add(l, arg)
		   ? cli_usage(DEBUG_USAGE, "too many values for '%s'", flag)
		   : 0;
}

struct listing_totals {
	bool json;
	size_t complete, failed, resources;
	struct buf line;
};

static int print_resource(const struct resource *r, void *ud)
{
	struct listing_totals *t = ud;

	t->resources++;
	if (t->json) {
		buf_reset(&t->line);
		if (resource_to_json(r, &t->line))
			return 0;
		fwrite(t->line.data, 1, t->line.len, stdout);
		fputc('\n', stdout);
	} else {
		printf("%-16s %-14s %-40s %-24s %s\n", r->type, r->region,
		       r->id, r->name ? r->name : "-",
		       r->status ? r->status : "-");
	}
	return 0;
}

static void print_listing(const struct provider_listing *l, void *ud)
{
	struct listing_totals *t = ud;

	if (l->status) {
		t->failed++;
		fprintf(stderr, "listing %s: failed: %s\n", l->scope,
			l->err ? l->err->msg : elava_strerror(l->status));
	} else {
		t->complete++;
		fprintf(stderr,
			"listing %s: complete (%zu resources, %zu "
			"pages)\n",
			l->scope, l->resources, l->pages);
	}
}

static struct provider *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		provider_cancel(running);
}

static int debug_list(int argc, char **argv)
{
	struct cli_list types = {0}, exclude = {0}, regions = {0};
	struct provider_aws_options o = {0};
	struct provider_scope scope = {0};
	struct listing_totals totals = {0};
	struct provider_callbacks cb = {print_resource, print_listing, &totals};
	struct elava_error err = {0};
	struct provider *p = NULL;
	int rc = 0;

	for (int i = 1; i < argc && !rc; i++) {
		const char *a = argv[i], *v;
		if ((v = cli_flag_value(argc, argv, &i, "--type")) ||
		    (v = cli_flag_value(argc, argv, &i, "--types")))
			rc = add_names(&types, v, "--types");
		else if ((v = cli_flag_value(argc, argv, &i,
					     "--exclude-types")))
			rc = add_names(&exclude, v, "--exclude-types");
		else if ((v = cli_flag_value(argc, argv, &i, "--region")))
			rc = add_names(&regions, v, "--region");
		else if (!strcmp(a, "--all-regions"))
			scope.all_regions = true;
		else if ((v = cli_flag_value(argc, argv, &i, "--profile")))
			o.profile = v;
		else if ((v = cli_flag_value(argc, argv, &i,
					     "--concurrency"))) {
			char *end;
			long n = strtol(v, &end, 10);
			if (*end || n < 1 || n > 64)
				rc = cli_usage(DEBUG_USAGE,
					       "--concurrency takes 1 to 64, "
					       "not '%s'",
					       v);
			o.concurrency = (int)n;
		} else if ((v = cli_flag_value(argc, argv, &i, "--output"))) {
			if (strcmp(v, "json") && strcmp(v, "table"))
				rc = cli_usage(DEBUG_USAGE,
					       "--output is json or table, not "
					       "'%s'",
					       v);
			totals.json = !strcmp(v, "json");
		} else
			rc = cli_usage(DEBUG_USAGE,
				       "unknown or incomplete option '%s'", a);
	}
	if (!rc) {
		scope.types = types.v;
		scope.ntypes = types.n;
		scope.exclude_types = exclude.v;
		scope.nexclude = exclude.n;
		scope.regions = regions.v;
		scope.nregions = regions.n;
		if (regions.n)
			o.region = regions.v[0];
		buf_init(&totals.line, 0);
		if (provider_aws_new(&o, &p, &err)) {
			rc = cli_fail(&err);
		} else {
			running = p;
			signal(SIGINT, on_signal);
			signal(SIGTERM, on_signal);
			int lrc = provider_list(p, &scope, &cb, &err);
			signal(SIGINT, SIG_DFL);
			signal(SIGTERM, SIG_DFL);
			running = NULL;
			if (lrc)
				rc = cli_fail(&err);
			else if (totals.failed)
				rc = CLI_EXIT_PARTIAL;
			if (totals.complete + totals.failed)
				fprintf(
				    stderr,
				    "%zu resources; %zu listings complete, %zu "
				    "failed\n",
				    totals.resources, totals.complete,
				    totals.failed);
		}
		provider_free(&p);
		buf_release(&totals.line);
	}
	cli_list_release(&types);
	cli_list_release(&exclude);
	cli_list_release(&regions);
	fflush(stdout);
	return rc;
}

static int debug_types(void)
{
	const char *const *t = provider_aws_type_names();

	for (; *t; t++)
		printf("%s\n", *t);
	return CLI_EXIT_OK;
}

int cmd_debug(int argc, char **argv)
{
	if (argc >= 2 && !strcmp(argv[1], "list"))
		return debug_list(argc - 1, argv + 1);
	if (argc >= 2 && !strcmp(argv[1], "types"))
		return debug_types();
	if (argc >= 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s\n", DEBUG_USAGE);
		return CLI_EXIT_OK;
	}
	return cli_usage(DEBUG_USAGE, "debug needs a subcommand: list, types");
}
