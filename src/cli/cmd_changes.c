/*
 * elava changes — the change timeline: every resource created, modified or
 * disappeared between two points in history, oldest first. Changes the
 * baseline scan recorded (everything it found, as "created") are left out
 * unless --include-baseline asks for them.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "resource/resource.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define CHANGES_USAGE                                                          \
	"elava changes [--since REV|TIME] [--until REV|TIME] [--type T]\n"     \
	"                     [--change created|modified|disappeared] "        \
	"[--include-baseline]\n"                                               \
	"                     [--store DIR] [--config FILE] "                  \
	"[--output table|json]"

/* ------------------------------------------------------ change tables */

static const struct cli_column change_cols[] = {
    {"REV", 0, 0, 0, false, true},     {"TIME", 0, 0, 0, false, false},
    {"CHANGE", 0, 0, 0, false, false}, {"TYPE", 10, 0, 3, false, false},
    {"ID", 12, 0, 1, true, false},     {"FIELDS", 10, 0, 2, false, false},
};

struct cli_table *cli_change_table(bool with_revision)
{
	return with_revision
		   ? cli_table_new(change_cols, ARRAY_SIZE(change_cols))
		   : cli_table_new(change_cols + 2,
				   ARRAY_SIZE(change_cols) - 2);
}

enum cli_color cli_change_color(int kind)
{
	switch (kind) {
	case STORE_CHANGE_CREATED: return CLI_GREEN;
	case STORE_CHANGE_MODIFIED: return CLI_YELLOW;
	case STORE_CHANGE_DISAPPEARED: return CLI_RED;
	default: return CLI_PLAIN;
	}
}

enum cli_color cli_status_color(const char *status)
{
	return !strcmp(status, "success")   ? CLI_GREEN
	       : !strcmp(status, "partial") ? CLI_YELLOW
					    : CLI_RED;
}

void cli_change_paths(const char *fields_json, struct buf *out)
{
	struct ejson *a = NULL;

	if (!fields_json ||
	    ejson_parse(fields_json, strlen(fields_json), &a, NULL))
		return;
	for (size_t i = 0; i < ejson_array_size(a); i++) {
		const char *p = ejson_string_value(
		    ejson_object_get(ejson_array_get(a, i), "path"));
		if (p)
			buf_printf(out, "%s%s", i ? ", " : "", p);
	}
	ejson_decref(a);
}

void cli_change_row(struct cli_table *t, const struct store_change *c,
		    bool with_revision)
{
	size_t scope = resource_key_scope_len(c->key, strlen(c->key));
	char rev[24], when[CLI_TIME_LEN];
	struct buf fields;

	snprintf(rev, sizeof(rev), "%llu", (unsigned long long)c->revision);
	/* "11-21 10:00": month, day and minute; the ids need the room (the
	 * JSON output has the whole time). */
	cli_time_short(c->time_ns, when);
	memmove(when, when + 5, 11);
	when[11] = '\0';
	buf_init(&fields, 0);
	cli_change_paths(c->fields_json, &fields);
	const char *cells[] = {rev,
			       when,
			       store_change_kind_name(c->kind),
			       c->type,
			       scope ? c->key + scope + 1 : c->key,
			       fields.data ? fields.data : ""};
	enum cli_color colors[] = {
	    CLI_PLAIN, CLI_PLAIN, cli_change_color(c->kind),
	    CLI_PLAIN, CLI_PLAIN, CLI_PLAIN};
	if (with_revision)
		cli_table_add(t, cells, colors);
	else
		cli_table_add(t, cells + 2, colors + 2);
	buf_release(&fields);
}

/* ------------------------------------------------------------ command */

struct changes_ctx {
	const char *type;
	int kind;
	/* Revisions of baseline scans, whose events are left out. */
	uint64_t *baselines;
	size_t nbaselines;
	size_t hidden;
	struct cli_table *t;
	struct cli_json_array json;
	bool as_json;
	size_t shown;
};

static int show_change(const struct store_change *ch, void *ud)
{
	struct changes_ctx *c = ud;

	if (c->type && strcmp(ch->type, c->type))
		return 0;
	if (c->kind && (int)ch->kind != c->kind)
		return 0;
	if (ch->kind == STORE_CHANGE_CREATED &&
	    cli_rev_in(c->baselines, c->nbaselines, ch->revision)) {
		c->hidden++;
		return 0;
	}
	c->shown++;
	if (c->as_json)
		cli_json_item(&c->json, ch->event_json, ch->event_len);
	else
		cli_change_row(c->t, ch, true);
	return 0;
}

enum { O_SINCE = 1, O_UNTIL, O_TYPE, O_CHANGE, O_BASELINE };

struct changes_args {
	const char *since, *until;
	bool baseline;
	struct changes_ctx *ctx;
};

static int changes_option(int c, const char *arg, void *ud)
{
	struct changes_args *a = ud;

	switch (c) {
	case O_SINCE: a->since = arg; return 0;
	case O_UNTIL: a->until = arg; return 0;
	case O_TYPE:
		if (!cli_known_type(arg))
			return cli_usage(CHANGES_USAGE,
					 "unknown resource type '%s'", arg);
		a->ctx->type = arg;
		return 0;
	case O_CHANGE:
		if (!(a->ctx->kind = store_change_kind_parse(arg)))
			return cli_usage(CHANGES_USAGE,
					 "--change is created, modified or "
					 "disappeared, not '%s'",
					 arg);
		return 0;
	case O_BASELINE: a->baseline = true; return 0;
	default: return cli_usage(CHANGES_USAGE, "unknown option");
	}
}

int cmd_changes(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"since", required_argument, NULL, O_SINCE},
	    {"until", required_argument, NULL, O_UNTIL},
	    {"type", required_argument, NULL, O_TYPE},
	    {"change", required_argument, NULL, O_CHANGE},
	    {"include-baseline", no_argument, NULL, O_BASELINE},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common cm = {0};
	struct changes_ctx ctx = {0};
	struct changes_args args = {NULL, NULL, false, &ctx};
	struct elava_error err = {0};
	uint64_t from = 0, to = 0;
	struct config cfg;
	struct store *s = NULL;
	int rc = cli_parse(argc, argv, opts, CHANGES_USAGE, &cm, changes_option,
			   &args, 0, NULL);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_common_open(&cm, &cfg, &s)))
		goto out;
	/* A --since before the first scan means "from the beginning". */
	if (args.since &&
	    (rc = store_point_parse(s, args.since, true, &from, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	if (args.until &&
	    (rc = store_point_parse(s, args.until, false, &to, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	if (to && from >= to) {
		fprintf(stderr,
			"elava: --since (revision %llu) must be before --until "
			"(revision %llu)\n",
			(unsigned long long)from, (unsigned long long)to);
		rc = CLI_EXIT_USAGE;
		goto out;
	}
	if (!args.baseline &&
	    (rc = cli_baselines(s, &ctx.baselines, &ctx.nbaselines, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	ctx.as_json = cm.output == CLI_OUTPUT_JSON;
	if (ctx.as_json)
		cli_json_begin(&ctx.json, stdout);
	else
		ctx.t = cli_change_table(true);
	rc = store_changes(s, from, to, show_change, &ctx, &err);
	if (ctx.as_json)
		cli_json_end(&ctx.json);
	else if (ctx.shown)
		cli_table_print(ctx.t, stdout);
	else
		printf("No changes.\n");
	if (rc) {
		rc = cli_fail(&err);
		goto out;
	}
	fflush(stdout);
	if (ctx.hidden)
		fprintf(stderr,
			"(%zu created by a baseline scan are not listed; "
			"--include-baseline lists them)\n",
			ctx.hidden);
out:
	cli_table_free(&ctx.t);
	xfree(ctx.baselines);
	store_close(&s);
	config_release(&cfg);
	return rc;
}
