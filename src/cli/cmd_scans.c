/*
 * elava scans — the scans recorded in the store, newest first: when each
 * ran, how long it took, what it found and changed, and its status.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define SCANS_USAGE                                                            \
	"elava scans [--limit N] [--store DIR] [--config FILE] "               \
	"[--output table|json]"

struct scans_ctx {
	bool as_json;
	struct cli_json_array json;
	struct cli_table *t;
};

static int show_scan(const struct store_scan_meta *m, void *ud)
{
	struct scans_ctx *c = ud;
	char id[24], rev[24], when[CLI_TIME_LEN], dur[32], res[24], chg[80],
	    errs[24];

	if (c->as_json) {
		cli_json_item(&c->json, m->json, m->json_len);
		return 0;
	}
	snprintf(id, sizeof(id), "%llu", (unsigned long long)m->scan_id);
	snprintf(rev, sizeof(rev), "%llu", (unsigned long long)m->revision);
	cli_time_short(m->start_ns, when);
	cli_duration(m->duration_ms * 1000000, dur, sizeof(dur));
	snprintf(res, sizeof(res), "%zu", m->resource_count);
	if (m->baseline)
		snprintf(chg, sizeof(chg), "baseline");
	else
		snprintf(chg, sizeof(chg), "+%zu ~%zu -%zu", m->created,
			 m->modified, m->disappeared);
	snprintf(errs, sizeof(errs), "%zu", m->error_count);
	const char *cells[] = {id, rev, when, dur, res, chg, errs, m->status};
	enum cli_color st = cli_status_color(m->status);
	enum cli_color colors[] = {CLI_PLAIN,
				   CLI_PLAIN,
				   CLI_PLAIN,
				   CLI_PLAIN,
				   CLI_PLAIN,
				   CLI_PLAIN,
				   m->error_count ? CLI_RED : CLI_PLAIN,
				   st};
	cli_table_add(c->t, cells, colors);
	return 0;
}

enum { O_LIMIT = 1 };

static int scans_option(int c, const char *arg, void *ud)
{
	char *end;
	long n = strtol(arg, &end, 10);

	if (c != O_LIMIT)
		return cli_usage(SCANS_USAGE, "unknown option");
	if (*end || n < 1)
		return cli_usage(SCANS_USAGE,
				 "--limit takes a number >= 1, not '%s'", arg);
	*(size_t *)ud = (size_t)n;
	return 0;
}

int cmd_scans(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"limit", required_argument, NULL, O_LIMIT},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct cli_column cols[] = {
	    {"SCAN", 0, 0, 0, false, true},
	    {"REV", 0, 0, 0, false, true},
	    {"STARTED", 0, 0, 0, false, false},
	    {"DURATION", 0, 0, 0, false, true},
	    {"RESOURCES", 0, 0, 0, false, true},
	    {"CHANGES", 8, 0, 1, false, false},
	    {"ERRORS", 0, 0, 0, false, true},
	    {"STATUS", 0, 0, 0, false, false},
	};
	struct cli_common cm = {0};
	struct scans_ctx ctx = {0};
	struct elava_error err = {0};
	struct config cfg;
	struct store *s = NULL;
	size_t limit = 0;
	int rc = cli_parse(argc, argv, opts, SCANS_USAGE, &cm, scans_option,
			   &limit, 0, NULL);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_common_open(&cm, &cfg, &s)))
		goto out;
	ctx.as_json = cm.output == CLI_OUTPUT_JSON;
	if (ctx.as_json)
		cli_json_begin(&ctx.json, stdout);
	else
		ctx.t = cli_table_new(cols, ARRAY_SIZE(cols));
	rc = store_scans(s, limit, show_scan, &ctx, &err);
	if (ctx.as_json)
		cli_json_end(&ctx.json);
	else if (!rc && cli_table_rows(ctx.t))
		cli_table_print(ctx.t, stdout);
	else if (!rc)
		printf("No scans recorded yet.\n");
	if (rc)
		rc = cli_fail(&err);
	cli_table_free(&ctx.t);
out:
	store_close(&s);
	config_release(&cfg);
	return rc;
}
