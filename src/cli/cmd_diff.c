/*
 * elava diff — how the inventory differs between two points in history:
 * what was created, modified (with the changed fields) or disappeared
 * from A to B, whatever happened in between.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>

#define DIFF_USAGE                                                             \
	"elava diff A B [--store DIR] [--config FILE] [--output table|json]\n" \
	"  A and B: a revision (42), a time (2026-11-21T10:00:00Z) or an age " \
	"(2h, 7d)"

struct diff_ctx {
	bool as_json;
	struct cli_json_array json;
	struct cli_table *t;
	size_t n;
};

static int show_entry(const struct store_change *ch, void *ud)
{
	struct diff_ctx *c = ud;

	c->n++;
	if (c->as_json)
		cli_json_item(&c->json, ch->event_json, ch->event_len);
	else
		cli_change_row(c->t, ch, false);
	return 0;
}

int cmd_diff(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common cm = {0};
	struct diff_ctx ctx = {0};
	struct elava_error err = {0};
	struct config cfg;
	struct store *s = NULL;
	uint64_t a, b;
	int rc = cli_parse(argc, argv, opts, DIFF_USAGE, &cm, NULL, NULL, 2,
			   "diff takes two points, A and B");

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_common_open(&cm, &cfg, &s)))
		goto out;
	if ((rc = store_point_parse(s, cm.args[0], false, &a, &err)) ||
	    (rc = store_point_parse(s, cm.args[1], false, &b, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	if (a > b) {
		fprintf(stderr,
			"elava: A (revision %llu) must not be newer than B "
			"(revision %llu)\n",
			(unsigned long long)a, (unsigned long long)b);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	ctx.as_json = cm.output == CLI_OUTPUT_JSON;
	if (ctx.as_json)
		cli_json_begin(&ctx.json, stdout);
	else
		ctx.t = cli_change_table(false);
	rc = a == b ? 0 : store_diff(s, a, b, show_entry, &ctx, &err);
	if (ctx.as_json)
		cli_json_end(&ctx.json);
	else if (!rc && ctx.n)
		cli_table_print(ctx.t, stdout);
	if (!rc && !ctx.as_json)
		printf("%s%zu difference%s between revision %llu and %llu\n",
		       ctx.n ? "\n" : "", ctx.n, ctx.n == 1 ? "" : "s",
		       (unsigned long long)a, (unsigned long long)b);
	if (rc)
		rc = cli_fail(&err);
	cli_table_free(&ctx.t);
out:
	store_close(&s);
	config_release(&cfg);
	return rc;
}
