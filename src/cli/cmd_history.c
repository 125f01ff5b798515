/*
 * elava history — every version of one resource, oldest first: when it
 * was recorded, whether it was created, modified or disappeared, and for a
 * modification each changed field with its old and new value.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define HISTORY_USAGE                                                          \
	"elava history KEY|ID [--store DIR] [--config FILE] "                  \
	"[--output table|json]"

struct history_ctx {
	bool as_json, color;
	struct cli_json_array json;
	uint64_t *baselines;
	size_t nbaselines;
	size_t width;
	size_t shown; /* versions printed so far */
};

/* A JSON value cut to fit `room` columns ("absent" for null). */
static void print_value(const struct ejson *v, size_t room)
{
	struct buf b;

	if (!v || ejson_typeof(v) == EJSON_NULL) {
		fputs("(none)", stdout);
		return;
	}
	buf_init(&b, 0);
	ejson_dump_canonical(v, &b);
	for (size_t i = 0; i < b.len; i++)
		if ((unsigned char)b.data[i] < 0x20)
			b.data[i] = '?';
	if (b.len > room && room > 3)
		printf("%.*s...", (int)(room - 3), b.data);
	else
		fputs(b.data ? b.data : "", stdout);
	buf_release(&b);
}

static void print_fields(const struct history_ctx *c, const char *fields_json)
{
	struct ejson *a = NULL;

	if (ejson_parse(fields_json, strlen(fields_json), &a, NULL))
		return;
	for (size_t i = 0; i < ejson_array_size(a); i++) {
		const struct ejson *f = ejson_array_get(a, i);
		const char *path =
		    ejson_string_value(ejson_object_get(f, "path"));
		size_t plen = path ? strlen(path) : 0;
		/* "    path: old -> new", each value given half the room. */
		size_t room = c->width > plen + 12 ? c->width - plen - 12 : 8;
		if (room < 16)
			room = 16;
		printf("    %s: ", path ? path : "?");
		print_value(ejson_object_get(f, "old"), room / 2);
		fputs(" -> ", stdout);
		print_value(ejson_object_get(f, "new"), room - room / 2);
		putchar('\n');
	}
	ejson_decref(a);
}

static int show_version(const struct store_change *ch, void *ud)
{
	struct history_ctx *c = ud;
	char when[CLI_TIME_LEN];
	bool baseline = cli_rev_in(c->baselines, c->nbaselines, ch->revision);

	if (c->as_json) {
		cli_json_item(&c->json, ch->event_json, ch->event_len);
		return 0;
	}
	const char *note = "";
	if (baseline && ch->kind == STORE_CHANGE_CREATED)
		note = " (baseline: first scan)";
	else if (!c->shown && ch->kind == STORE_CHANGE_MODIFIED)
		note = " (the versions before it were compacted)";
	c->shown++;
	cli_time_short(ch->time_ns, when);
	printf("revision %-6llu %s  %s%s%s%s\n",
	       (unsigned long long)ch->revision, when,
	       cli_color_on(c->color, cli_change_color(ch->kind)),
	       store_change_kind_name(ch->kind),
	       cli_color_off(c->color, cli_change_color(ch->kind)), note);
	if (ch->kind == STORE_CHANGE_MODIFIED)
		print_fields(c, ch->fields_json);
	return 0;
}

int cmd_history(int argc, char **argv)
{
	static const struct option opts[] = {
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common cm = {0};
	struct history_ctx ctx = {0};
	struct elava_error err = {0};
	struct config cfg;
	struct store *s = NULL;
	char *key = NULL;
	int rc = cli_parse(argc, argv, opts, HISTORY_USAGE, &cm, NULL, NULL, 1,
			   "which resource? (a key or id)");

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if ((rc = cli_common_open(&cm, &cfg, &s)))
		goto out;
	if ((rc = store_resolve_key(s, cm.args[0], &key, &err)) ||
	    (rc = cli_baselines(s, &ctx.baselines, &ctx.nbaselines, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	ctx.as_json = cm.output == CLI_OUTPUT_JSON;
	ctx.color = cli_use_color(stdout);
	ctx.width = cli_term_width(stdout);
	if (ctx.as_json)
		cli_json_begin(&ctx.json, stdout);
	else
		printf("%s\n\n", key);
	rc = store_history(s, key, show_version, &ctx, &err);
	if (ctx.as_json)
		cli_json_end(&ctx.json);
	if (rc)
		rc = cli_fail(&err);
out:
	xfree(key);
	xfree(ctx.baselines);
	store_close(&s);
	config_release(&cfg);
	return rc;
}
