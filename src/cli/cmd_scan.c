/*
 * elava scan — one pass of the loop: list the cloud, record a new revision,
 * say what changed since the last one. The first scan of a store is a
 * baseline: it records everything and reports no changes.
 *
 * Exit: 0 every listing complete, 3 partial (some listings failed; their
 * resources were kept, not reported gone), 1 failed (nothing listed, or an
 * error before or while storing), 2 usage.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "engine/engine.h"
#include "provider/provider.h"
#include "resource/resource.h"
#include "store/store.h"
#include "wal/wal.h"

#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define SCAN_USAGE                                                             \
	"elava scan [--region R]... [--all-regions] [--types T,...]\n"         \
	"                  [--exclude-types T,...] [--profile P] "             \
	"[--store DIR]\n"                                                      \
	"                  [--config FILE] [--output table|json]"

/* Changes listed under the summary; `elava changes` shows them all. */
#define SUMMARY_CHANGES 20

struct scan_args {
	struct cli_common cm; /* --store, --config, --output */
	struct cli_flags flags;
};

/* Each flag is a config key (flags > env > file). */
static const struct cli_flag_key flag_keys[] = {CLI_SCOPE_FLAG_KEYS};

static int scan_option(int c, const char *arg, void *ud)
{
	struct scan_args *a = ud;

	return cli_flags_option(&a->flags, flag_keys, ARRAY_SIZE(flag_keys), c,
				arg, SCAN_USAGE);
}

/* Returns 0 to go on, -1 after --help, or an exit code. */
static int parse_args(int argc, char **argv, struct scan_args *a)
{
	static const struct option opts[] = {
	    CLI_SCOPE_OPTIONS,
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};

	return cli_parse(argc, argv, opts, SCAN_USAGE, &a->cm, scan_option, a,
			 0, NULL);
}

/*
 * Apply the flags over the file and the environment, then check types and
 * ignore rules. A bad flag is a usage error (2), a bad file or variable a
 * failure (1).
 */
static int settle_config(struct scan_args *a, struct config *cfg,
			 struct resource_ignore **ign)
{
	struct elava_error err = {0};
	static const char *const lists[][2] = {
	    {"scan.types", "--types"},
	    {"scan.exclude_types", "--exclude-types"},
	};

	if (cli_flags_apply(&a->flags, cfg, &err))
		return cli_usage(SCAN_USAGE, "%s", err.msg);
	for (size_t i = 0; i < ARRAY_SIZE(lists); i++)
		if (config_source_of(cfg, lists[i][0]) == CONFIG_SRC_FLAG &&
		    cli_types_check(cfg, lists[i][0], lists[i][1],
				    i ? &cfg->exclude_types : &cfg->types,
				    &err)) {
			fprintf(stderr, "elava: %s\n", err.msg);
			return CLI_EXIT_USAGE;
		}
	return cli_config_check(cfg, ign, &err) ? cli_fail(&err) : 0;
}

/* ------------------------------------------------------------ progress */

static struct provider *running;

static void on_signal(int sig)
{
	(void)sig;
	if (running)
		provider_cancel(running);
}

static void show_progress(const struct engine_progress *p, void *ud)
{
	(void)ud;
	fprintf(stderr,
		"\r\033[Kscanning: %zu listings done, %zu resources (%s %s%s)",
		p->listings_done, p->resources, p->listing->type,
		p->listing->region, p->listing->status ? ", failed" : "");
	fflush(stderr);
}

/* ------------------------------------------------------------- summary */

struct change_rows {
	struct cli_table *t;
	size_t n;
};

static int add_change_row(const struct store_change *c, void *ud)
{
	struct change_rows *rows = ud;

	if (rows->n++ < SUMMARY_CHANGES)
		cli_change_row(rows->t, c, false);
	return 0;
}

static void print_table(struct store *s, const struct engine_scan_report *rep)
{
	static const struct cli_column count_cols[] = {
	    {"TYPE", 8, 0, 1, false, false},
	    {"REGION", 6, 0, 1, false, false},
	    {"RESOURCES", 0, 0, 0, false, true},
	    {"FAILED", 0, 0, 0, false, true},
	};
	const struct store_scan_result *r = &rep->result;
	bool color = cli_use_color(stdout);
	enum cli_color sc = cli_status_color(r->status);
	char dur[32];
	struct cli_table *t;

	cli_duration(rep->duration_ns, dur, sizeof(dur));
	printf("Scan #%llu: revision %llu, %s%s%s, %zu resources in %s\n",
	       (unsigned long long)r->scan_id, (unsigned long long)r->revision,
	       cli_color_on(color, sc), r->status, cli_color_off(color, sc),
	       r->resource_count, dur);
	/* The FAILED column only when something failed. */
	t = cli_table_new(count_cols,
			  ARRAY_SIZE(count_cols) - (rep->nfailures ? 0 : 1));
	for (size_t i = 0; i < rep->ncounts; i++) {
		const struct engine_count *c = &rep->counts[i];
		char n[24], f[24];
		snprintf(n, sizeof(n), "%zu", c->resources);
		snprintf(f, sizeof(f), "%zu", c->failed);
		const char *cells[] = {c->type, c->region, n,
				       c->failed ? f : ""};
		enum cli_color colors[] = {CLI_PLAIN, CLI_PLAIN, CLI_PLAIN,
					   CLI_RED};
		/* Empty, complete listings would drown the rest. */
		if (c->resources || c->failed)
			cli_table_add(t, cells, colors);
	}
	if (cli_table_rows(t)) {
		putchar('\n');
		cli_table_print(t, stdout);
	}
	cli_table_free(&t);

	if (rep->nfailures) {
		printf("\n%zu listing%s failed; their resources were kept as "
		       "they were:\n",
		       rep->nfailures, rep->nfailures == 1 ? "" : "s");
		for (size_t i = 0; i < rep->nfailures; i++) {
			printf("  %s%s%s\n", cli_color_on(color, CLI_RED),
			       rep->failures[i].scope,
			       cli_color_off(color, CLI_RED));
			cli_print_wrapped(stdout, "    ",
					  rep->failures[i].reason);
		}
	}
	putchar('\n');
	if (r->baseline) {
		printf("Baseline: the first scan of this store recorded %zu "
		       "resources;\nchanges are reported from the next scan "
		       "on.\n",
		       r->created);
		return;
	}
	if (!r->created && !r->modified && !r->disappeared) {
		printf("No changes since revision %llu.\n",
		       (unsigned long long)(r->revision - 1));
		return;
	}
	printf("Changes since revision %llu: %zu created, %zu modified, %zu "
	       "disappeared\n\n",
	       (unsigned long long)(r->revision - 1), r->created, r->modified,
	       r->disappeared);
	struct change_rows rows = {cli_change_table(false), 0};
	struct elava_error err = {0};
	if (store_changes(s, r->revision - 1, r->revision, add_change_row,
			  &rows, &err))
		fprintf(stderr, "elava: %s\n", err.msg);
	cli_table_print(rows.t, stdout);
	cli_table_free(&rows.t);
	if (rows.n > SUMMARY_CHANGES)
		printf("... and %zu more: elava changes --since %llu\n",
		       rows.n - SUMMARY_CHANGES,
		       (unsigned long long)(r->revision - 1));
}

static void print_json(const struct engine_scan_report *rep)
{
	const struct store_scan_result *r = &rep->result;
	struct ejson *o = ejson_object(), *types = ejson_array(),
		     *errors = ejson_array();
	char st[TIME_RFC3339_LEN], et[TIME_RFC3339_LEN];
	struct buf b;

	time_format_rfc3339(r->start_ns, st);
	time_format_rfc3339(r->end_ns, et);
	ejson_object_set_take(o, "revision", ejson_int((int64_t)r->revision));
	ejson_object_set_take(o, "scan_id", ejson_int((int64_t)r->scan_id));
	ejson_object_set_take(o, "status",
			      ejson_string(r->status, strlen(r->status)));
	ejson_object_set_take(o, "baseline", ejson_bool(r->baseline));
	ejson_object_set_take(o, "start_time", ejson_string(st, strlen(st)));
	ejson_object_set_take(o, "end_time", ejson_string(et, strlen(et)));
	/* The scan's own span, as `elava scans` reports it. */
	ejson_object_set_take(
	    o, "duration_ms",
	    ejson_int((int64_t)((r->end_ns - r->start_ns) / 1000000)));
	ejson_object_set_take(o, "resource_count",
			      ejson_int((int64_t)r->resource_count));
	ejson_object_set_take(o, "error_count",
			      ejson_int((int64_t)r->error_count));
	ejson_object_set_take(o, "created", ejson_int((int64_t)r->created));
	ejson_object_set_take(o, "modified", ejson_int((int64_t)r->modified));
	ejson_object_set_take(o, "disappeared",
			      ejson_int((int64_t)r->disappeared));
	ejson_object_set_take(o, "unchanged", ejson_int((int64_t)r->unchanged));
	for (size_t i = 0; i < rep->ncounts; i++) {
		const struct engine_count *c = &rep->counts[i];
		struct ejson *t = ejson_object();
		ejson_object_set_take(t, "type",
				      ejson_string(c->type, strlen(c->type)));
		ejson_object_set_take(
		    t, "region", ejson_string(c->region, strlen(c->region)));
		ejson_object_set_take(t, "resources",
				      ejson_int((int64_t)c->resources));
		ejson_object_set_take(t, "listings",
				      ejson_int((int64_t)c->listings));
		ejson_object_set_take(t, "failed",
				      ejson_int((int64_t)c->failed));
		ejson_array_append_take(types, t);
	}
	for (size_t i = 0; i < rep->nfailures; i++) {
		const struct engine_failure *f = &rep->failures[i];
		struct ejson *e = ejson_object();
		ejson_object_set_take(e, "scope",
				      ejson_string(f->scope, strlen(f->scope)));
		ejson_object_set_take(
		    e, "error", ejson_string(f->reason, strlen(f->reason)));
		ejson_array_append_take(errors, e);
	}
	ejson_object_set_take(o, "types", types);
	ejson_object_set_take(o, "errors", errors);
	buf_init(&b, 0);
	if (!ejson_dump_canonical(o, &b))
		printf("%s\n", b.data);
	buf_release(&b);
	ejson_decref(o);
}

/* ----------------------------------------------------------------- run */

static int run_scan(struct scan_args *a, struct config *cfg)
{
	struct provider_aws_options po = {0};
	struct provider_scope scope = {0};
	struct store_options so = {0};
	struct wal_options wo = {0};
	struct engine_scan_options eo = {0};
	struct engine_scan_report rep = {0};
	struct elava_error err = {0};
	struct resource_ignore *ign = NULL;
	struct provider *p = NULL;
	struct store *s = NULL;
	struct wal *w = NULL;
	int rc;

	if ((rc = settle_config(a, cfg, &ign)))
		return rc;
	cli_scope_from_config(cfg, &scope);
	cli_provider_options(cfg, &po);

	/* The cloud first: bad credentials or scope must not create a store. */
	if (provider_aws_new(&po, &p, &err) ||
	    provider_check(p, &scope, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	so.path = cli_storage_path_cfg(a->cm.store, cfg->storage_path);
	so.ignore = ign;
	if (store_open(&so, &s, &err)) {
		rc = cli_fail(&err);
		goto out;
	}
	wo.dir = cli_wal_dir(NULL, so.path);
	if ((rc = wal_open(&wo, &w, &err))) {
		if (rc == ELAVA_E_BUSY)
			elava_error_prefix(&err,
					   "another elava process (a daemon?) "
					   "is recording into this store");
		rc = cli_fail(&err);
		goto out;
	}

	eo.scope = &scope;
	if (isatty(STDERR_FILENO) && a->cm.output == CLI_OUTPUT_TABLE)
		eo.progress = show_progress;
	running = p;
	signal(SIGINT, on_signal);
	signal(SIGTERM, on_signal);
	rc = engine_scan(p, s, w, &eo, &rep, &err);
	signal(SIGINT, SIG_DFL);
	signal(SIGTERM, SIG_DFL);
	running = NULL;
	if (eo.progress)
		fputs("\r\033[K", stderr);
	if (rc == ELAVA_E_CANCELLED) {
		fprintf(stderr, "elava: scan cancelled; nothing was stored\n");
		rc = CLI_EXIT_FAIL;
		goto out;
	}
	if (rc && !rep.result.revision) {
		rc = cli_fail(&err);
		goto out;
	}
	if (a->cm.output == CLI_OUTPUT_JSON)
		print_json(&rep);
	else
		print_table(s, &rep);
	if (rc)
		rc = cli_fail(&err); /* stored, but the WAL entry failed */
	else if (!strcmp(rep.result.status, "failed"))
		rc = CLI_EXIT_FAIL;
	else if (!strcmp(rep.result.status, "partial"))
		rc = CLI_EXIT_PARTIAL;
out:
	engine_scan_report_release(&rep);
	if (w && wal_close(&w, &err) && !rc)
		rc = cli_fail(&err);
	store_close(&s);
	provider_free(&p);
	resource_ignore_free(&ign);
	cli_scope_release(&scope);
	fflush(stdout);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_args a = {0};
	struct config cfg;
	int rc = parse_args(argc, argv, &a);

	if (rc) {
		cli_flags_release(&a.flags);
		return rc < 0 ? CLI_EXIT_OK : rc;
	}
	if (!(rc = cli_config_load(a.cm.config, &cfg)))
		rc = run_scan(&a, &cfg);
	config_release(&cfg);
	cli_flags_release(&a.flags);
	return rc;
}
