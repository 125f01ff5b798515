/*
 * elava why — the audit trail of one resource: every WAL entry that
 * touches it, in order. Entries about the resource itself (decisions and
 * actions) name it; a scan's `observed` entry names no resource, so it is
 * shown for each revision in which the store recorded a change to this
 * one, with that change.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"
#include "wal/wal.h"

#include <getopt.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>

#define WHY_USAGE                                                              \
	"elava why KEY|ID [--wal DIR] [--store DIR] [--config FILE]\n"         \
	"                 [--output table|json]"

struct version {
	uint64_t revision;
	enum store_change_kind kind;
	char *fields; /* changed paths, for the table */
};

struct why_ctx {
	const char *key;
	struct version *v;
	size_t nv;
	bool as_json;
	struct cli_json_array json;
	struct cli_table *t;
};

static int note_version(const struct store_change *ch, void *ud)
{
	struct why_ctx *c = ud;
	struct buf paths;

	buf_init(&paths, 0);
	buf_puts(&paths, ": ");
	cli_change_paths(ch->fields_json, &paths);
	c->v = xrealloc(c->v, (c->nv + 1) * sizeof(*c->v));
	c->v[c->nv].revision = ch->revision;
	c->v[c->nv].kind = ch->kind;
	c->v[c->nv++].fields = xstrdup(paths.len > 2 ? paths.data : "");
	buf_release(&paths);
	return 0;
}

static const struct version *version_at(const struct why_ctx *c, uint64_t rev)
{
	for (size_t i = 0; i < c->nv; i++)
		if (c->v[i].revision == rev)
			return &c->v[i];
	return NULL;
}

static int show_entry(const struct wal_entry *e, void *ud)
{
	struct why_ctx *c = ud;
	const struct version *v = NULL;
	char seq[24], rev[24], when[CLI_TIME_LEN];
	struct buf detail;

	if (!(e->resource && !strcmp(e->resource, c->key)) &&
	    !(e->type == WAL_OBSERVED && !e->resource &&
	      (v = version_at(c, e->revision))))
		return 0;
	if (c->as_json) {
		cli_json_item(&c->json, e->line, e->line_len);
		return 0;
	}
	buf_init(&detail, 0);
	if (v) {
		struct ejson *d = NULL;
		ejson_parse(e->data, e->data_len, &d, NULL);
		const char *st =
		    ejson_string_value(ejson_object_get(d, "status"));
		buf_printf(
		    &detail, "scan #%lld (%s): %s%s",
		    (long long)ejson_int_value(ejson_object_get(d, "scan_id")),
		    st ? st : "?", store_change_kind_name(v->kind), v->fields);
		ejson_decref(d);
	} else {
		buf_append(&detail, e->data, e->data_len);
	}
	snprintf(seq, sizeof(seq), "%llu", (unsigned long long)e->seq);
	snprintf(rev, sizeof(rev), "%llu", (unsigned long long)e->revision);
	cli_time_short(e->ts_ns, when);
	const char *cells[] = {
	    seq, when,	      wal_type_name(e->type),
	    rev, e->instance, detail.data ? detail.data : ""};
	cli_table_add(c->t, cells, NULL);
	buf_release(&detail);
	return 0;
}

enum { O_WAL = 1 };

static int why_option(int c, const char *arg, void *ud)
{
	if (c != O_WAL)
		return cli_usage(WHY_USAGE, "unknown option");
	*(const char **)ud = arg;
	return 0;
}

int cmd_why(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"wal", required_argument, NULL, O_WAL},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	static const struct cli_column cols[] = {
	    {"SEQ", 0, 0, 0, false, true},
	    {"TIME", 0, 0, 0, false, false},
	    {"ENTRY", 0, 0, 0, false, false},
	    {"REV", 0, 0, 0, false, true},
	    {"INSTANCE", 6, 0, 1, false, false},
	    {"WHAT", 8, 0, 2, false, false},
	};
	struct cli_common cm = {0};
	struct why_ctx ctx = {0};
	struct elava_error err = {0};
	const char *wal_flag = NULL;
	struct config cfg;
	struct store *s = NULL;
	char *key = NULL;
	int rc = cli_parse(argc, argv, opts, WHY_USAGE, &cm, why_option,
			   &wal_flag, 1, "which resource? (a key or id)");

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_common_open(&cm, &cfg, &s)))
		goto out;
	if ((rc = store_resolve_key(s, cm.args[0], &key, &err)) ||
	    (rc = store_history(s, key, note_version, &ctx, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	ctx.key = key;
	ctx.as_json = cm.output == CLI_OUTPUT_JSON;
	if (ctx.as_json)
		cli_json_begin(&ctx.json, stdout);
	else
		ctx.t = cli_table_new(cols, ARRAY_SIZE(cols));
	rc = wal_replay(cli_wal_dir(wal_flag, store_path(s)), 0, NULL,
			show_entry, &ctx, &err);
	if (ctx.as_json) {
		cli_json_end(&ctx.json);
	} else if (!rc) {
		printf("%s\n\n", key);
		if (cli_table_rows(ctx.t))
			cli_table_print(ctx.t, stdout);
		else
			printf("No WAL entries touch it (the log may have been "
			       "rotated away).\n");
	}
	if (rc)
		rc = cli_fail(&err);
out:
	for (size_t i = 0; i < ctx.nv; i++)
		xfree(ctx.v[i].fields);
	xfree(ctx.v);
	cli_table_free(&ctx.t);
	xfree(key);
	store_close(&s);
	config_release(&cfg);
	return rc;
}
