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
	const char *profile;
	struct cli_list regions, types, exclude;
	bool all_regions;
};

enum { O_REGION = 1, O_ALL, O_TYPES, O_EXCLUDE, O_PROFILE };

static int scan_option(int c, const char *arg, void *ud)
{
	struct scan_args *a = ud;
	int rc = 0;

	switch (c) {
	case O_REGION: rc = cli_list_add(&a->regions, arg); break;
	case O_ALL: a->all_regions = true; break;
	case O_TYPES: rc = cli_list_add(&a->types, arg); break;
	case O_EXCLUDE: rc = cli_list_add(&a->exclude, arg); break;
	case O_PROFILE: a->profile = arg; break;
	default: return cli_usage(SCAN_USAGE, "unknown option");
	}
	return rc ? cli_usage(SCAN_USAGE, "too many values in a list") : 0;
}

/* Returns 0 to go on, -1 after --help, or an exit code. */
static int parse_args(int argc, char **argv, struct scan_args *a)
{
	static const struct option opts[] = {
	    {"region", required_argument, NULL, O_REGION},
	    {"all-regions", no_argument, NULL, O_ALL},
	    {"types", required_argument, NULL, O_TYPES},
	    {"type", required_argument, NULL, O_TYPES},
	    {"exclude-types", required_argument, NULL, O_EXCLUDE},
	    {"profile", required_argument, NULL, O_PROFILE},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};

	return cli_parse(argc, argv, opts, SCAN_USAGE, &a->cm, scan_option, a,
			 0, NULL);
}

/* "elava.yaml:12: " for an item from the file, "" otherwise. */
static const char *where(const struct config *cfg, const struct config_item *it,
			 char *buf, size_t n)
{
	if (cfg->file && it->line)
		snprintf(buf, n, "%s:%u: ", cfg->file, it->line);
	else
		buf[0] = '\0';
	return buf;
}

/* Flags win; otherwise the config's list (file or environment). */
static int pick_list(struct cli_list *flag, const struct config *cfg,
		     const struct config_list *conf, const char *key,
		     const char *flag_name, bool types)
{
	char at[PATH_MAX + 32];

	if (!flag->n)
		for (size_t i = 0; i < conf->n && flag->n < CLI_LIST_MAX; i++)
			flag->v[flag->n++] = conf->v[i].value;
	for (size_t i = 0; types && i < flag->n; i++) {
		if (cli_known_type(flag->v[i]))
			continue;
		const struct config_item *it = NULL;
		for (size_t k = 0; k < conf->n && !it; k++)
			if (conf->v[k].value == flag->v[i])
				it = &conf->v[k];
		bool env = it && config_source_of(cfg, key) == CONFIG_SRC_ENV;
		fprintf(stderr,
			"elava: %s%s%s: unknown resource type '%s' ('elava "
			"debug types' lists them)\n",
			it ? where(cfg, it, at, sizeof(at)) : "",
			it ? key : flag_name,
			env ? " (from the environment)" : "", flag->v[i]);
		return it ? CLI_EXIT_FAIL : CLI_EXIT_USAGE;
	}
	return 0;
}

/* scan.ignore → the rules the store fingerprints and diffs with. */
static int build_ignore(const struct config *cfg, struct resource_ignore **out)
{
	struct resource_ignore *ign = resource_ignore_new();
	char at[PATH_MAX + 32];

	for (size_t i = 0; i < cfg->ignore.n; i++) {
		const struct config_item *it = &cfg->ignore.v[i];
		const char *type = strcmp(it->type, "*") ? it->type : NULL;
		if (type && !cli_known_type(type)) {
			fprintf(stderr,
				"elava: %sscan.ignore: unknown resource type "
				"'%s' ('elava debug types' lists them)\n",
				where(cfg, it, at, sizeof(at)), type);
			resource_ignore_free(&ign);
			return CLI_EXIT_FAIL;
		}
		if (resource_ignore_add(ign, type, it->value)) {
			fprintf(
			    stderr,
			    "elava: %sscan.ignore: '%s' is not a field path "
			    "(like status, tags.Name, "
			    "attributes.launch_time)\n",
			    where(cfg, it, at, sizeof(at)), it->value);
			resource_ignore_free(&ign);
			return CLI_EXIT_FAIL;
		}
	}
	*out = ign;
	return 0;
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

	if ((rc = pick_list(&a->regions, cfg, &cfg->regions, "cloud.region",
			    "--region", false)) ||
	    (rc = pick_list(&a->types, cfg, &cfg->types, "scan.types",
			    "--types", true)) ||
	    (rc = pick_list(&a->exclude, cfg, &cfg->exclude_types,
			    "scan.exclude_types", "--exclude-types", true)) ||
	    (rc = build_ignore(cfg, &ign)))
		return rc;
	scope.regions = a->regions.v;
	scope.nregions = a->regions.n;
	scope.all_regions = a->all_regions || cfg->all_regions;
	scope.types = a->types.v;
	scope.ntypes = a->types.n;
	scope.exclude_types = a->exclude.v;
	scope.nexclude = a->exclude.n;
	/*
	 * The home region (STS, DescribeRegions, global services) is the
	 * environment's; the first --region only when it names none.
	 */
	if (!getenv("AWS_REGION") && !getenv("AWS_DEFAULT_REGION") &&
	    a->regions.n)
		po.region = a->regions.v[0];
	po.profile = a->profile ? a->profile : cfg->profile;
	po.concurrency = cfg->concurrency;
	po.requests_per_second = cfg->requests_per_second;

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
	fflush(stdout);
	return rc;
}

int cmd_scan(int argc, char **argv)
{
	struct scan_args a = {0};
	struct config cfg;
	int rc = parse_args(argc, argv, &a);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!(rc = cli_config_load(a.cm.config, &cfg)))
		rc = run_scan(&a, &cfg);
	config_release(&cfg);
	cli_list_release(&a.regions);
	cli_list_release(&a.types);
	cli_list_release(&a.exclude);
	return rc;
}
