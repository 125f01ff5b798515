/*
 * elava resources — the inventory, now or at any past revision or time,
 * filtered by type, region, account or tag.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "resource/resource.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define RESOURCES_USAGE                                                        \
	"elava resources [--at REV|TIME] [--type T] [--region R] "             \
	"[--account A]\n"                                                      \
	"                       [--tag KEY[=VALUE]] [--store DIR] "            \
	"[--config FILE]\n"                                                    \
	"                       [--output table|json]"

struct resources_ctx {
	bool as_json;
	struct cli_json_array json;
	struct cli_table *t;
	struct resource r;
	struct buf line;
	size_t n;
};

/*
 * One resource as the JSON output has it: its key, the revision and time
 * this version was first recorded, then the record's own members.
 */
static int show_resource(const struct store_item *it, void *ud)
{
	struct resources_ctx *c = ud;

	c->n++;
	if (c->as_json) {
		if (!store_item_json(it, &c->line))
			cli_json_item(&c->json, c->line.data, c->line.len);
		return 0;
	}
	if (resource_from_json(it->json, it->json_len, &c->r, NULL))
		return 0;
	const char *cells[] = {c->r.type, c->r.region, c->r.id,
			       c->r.name ? c->r.name : "",
			       c->r.status ? c->r.status : ""};
	cli_table_add(c->t, cells, NULL);
	return 0;
}

enum { O_AT = 1, O_TYPE, O_REGION, O_ACCOUNT, O_TAG };

struct resources_args {
	const char *at;
	char *tag;
	struct store_filter f;
};

static int resources_option(int c, const char *arg, void *ud)
{
	struct resources_args *a = ud;

	switch (c) {
	case O_AT: a->at = arg; return 0;
	case O_TYPE:
		if (!cli_known_type(arg))
			return cli_usage(RESOURCES_USAGE,
					 "unknown resource type '%s'", arg);
		a->f.type = arg;
		return 0;
	case O_REGION: a->f.region = arg; return 0;
	case O_ACCOUNT: a->f.account = arg; return 0;
	case O_TAG:
		if (!*arg || *arg == '=')
			return cli_usage(RESOURCES_USAGE,
					 "--tag takes KEY or KEY=VALUE");
		a->tag = (char *)arg; /* argv is writable */
		return 0;
	default: return cli_usage(RESOURCES_USAGE, "unknown option");
	}
}

int cmd_resources(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"at", required_argument, NULL, O_AT},
	    {"type", required_argument, NULL, O_TYPE},
	    {"region", required_argument, NULL, O_REGION},
	    {"account", required_argument, NULL, O_ACCOUNT},
	    {"tag", required_argument, NULL, O_TAG},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct cli_column cols[] = {
	    {"TYPE", 8, 0, 2, false, false},
	    {"REGION", 6, 0, 2, false, false},
	    {"ID", 12, 0, 1, true, false},
	    {"NAME", 8, 0, 3, false, false},
	    {"STATUS", 10, 0, 3, false, false},
	};
	struct cli_common cm = {0};
	struct resources_ctx ctx = {0};
	struct resources_args args = {0};
	struct store_filter *f = &args.f;
	struct elava_error err = {0};
	uint64_t rev = 0;
	struct config cfg;
	struct store *s = NULL;
	int rc = cli_parse(argc, argv, opts, RESOURCES_USAGE, &cm,
			   resources_option, &args, 0, NULL);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (args.tag) {
		char *eq = strchr(args.tag, '=');
		if (eq) {
			*eq = '\0';
			f->tag_value = eq + 1;
		}
		f->tag_key = args.tag;
	}
	if ((rc = cli_common_open(&cm, &cfg, &s)))
		goto out;
	if (args.at &&
	    (rc = store_point_parse(s, args.at, false, &rev, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	if (!rev && (rc = store_current_revision(s, &rev, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	ctx.as_json = cm.output == CLI_OUTPUT_JSON;
	resource_init(&ctx.r);
	buf_init(&ctx.line, 0);
	if (ctx.as_json)
		cli_json_begin(&ctx.json, stdout);
	else
		ctx.t = cli_table_new(cols, ARRAY_SIZE(cols));
	rc = store_inventory(s, rev, f, show_resource, &ctx, &err);
	if (ctx.as_json) {
		cli_json_end(&ctx.json);
	} else if (!rc) {
		if (ctx.n)
			cli_table_print(ctx.t, stdout);
		printf("%s%zu resource%s at revision %llu\n", ctx.n ? "\n" : "",
		       ctx.n, ctx.n == 1 ? "" : "s", (unsigned long long)rev);
	}
	if (rc)
		rc = cli_fail(&err);
	resource_release(&ctx.r);
	buf_release(&ctx.line);
	cli_table_free(&ctx.t);
out:
	store_close(&s);
	config_release(&cfg);
	return rc;
}
