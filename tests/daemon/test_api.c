/*
 * Tests of the read-only JSON API (src/daemon/api.c) and of the store's
 * paging reads it stands on (store_inventory's `after`,
 * store_changes_after, store_history_after, store_scans_before,
 * store_baselines). A real store in a temporary directory gets a few
 * scans; the handlers are called directly with a parsed request target,
 * and each body is checked byte for byte against what the store's own
 * reads give (the objects the CLI prints), then walked page by page
 * through its cursors. Also: every bad parameter, unknown and ambiguous
 * resources, a compacted revision, the page size cap, and four reader
 * threads walking the inventory while another thread commits scans.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_int.h"
#include "store/store.h"

static char tmpl[] = "/tmp/elava-api-test-XXXXXX";
static char *root;
static int dir_seq;

typedef void (*handler_fn)(const struct http_request *req,
			   struct http_response *resp, struct store *s);

/* ------------------------------------------------------------- fixture */

static void rmtree(const char *path)
{
	char cmd[4200];
	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", path);
	if (system(cmd) != 0)
		fprintf(stderr, "cannot remove %s\n", path);
}

static char *new_dir(void)
{
	char *p = xmalloc(4096);
	snprintf(p, 4096, "%s/s%d", root, dir_seq++);
	return p;
}

static struct store *open_store(const char *path)
{
	struct store_options o = {0};
	struct elava_error err = {0};
	struct store *s = NULL;

	o.path = path;
	if (store_open(&o, &s, &err))
		fail_msg("store_open: %s", err.msg);
	return s;
}

/* A resource with a few tags and nested attributes; `pad` bytes of
 * filler make it as big as a test needs. Returns 0 or a message. */
static const char *add_res(struct store_scan *sc, const char *region,
			   const char *type, const char *id, const char *env,
			   int size, size_t pad)
{
	struct resource r;
	struct elava_error err = {0};
	static __thread char msg[600];
	struct buf attrs;
	int rc;

	resource_init(&r);
	resource_set(&r.provider, "aws");
	resource_set(&r.account, "123456789012");
	resource_set(&r.region, region);
	resource_set(&r.type, type);
	resource_set(&r.id, id);
	resource_set(&r.name, id);
	resource_set(&r.status, "running");
	r.created_at_ns = 1700000000000000000LL;
	resource_tag_set(&r, "Env", env);
	resource_tag_set(&r, "Team", "platform");
	buf_init(&attrs, 0);
	buf_printf(&attrs, "{\"size\":%d,\"nested\":{\"a\":[1,2]},\"pad\":\"",
		   size);
	for (size_t i = 0; i < pad; i++)
		buf_putc(&attrs, (char)('a' + i % 26));
	buf_puts(&attrs, "\"}");
	ejson_free(&r.attributes);
	rc = ejson_parse(attrs.data, attrs.len, &r.attributes, NULL);
	buf_release(&attrs);
	if (!rc)
		rc = store_scan_add(sc, &r, &err);
	resource_release(&r);
	if (rc) {
		snprintf(msg, sizeof(msg), "add %s: %s", id, err.msg);
		return msg;
	}
	return NULL;
}

static void add(struct store_scan *sc, const char *region, const char *type,
		const char *id, const char *env, int size)
{
	const char *msg = add_res(sc, region, type, id, env, size, 0);

	if (msg)
		fail_msg("%s", msg);
}

#define ACCOUNT	  "aws:123456789012:"
#define SCOPE_I	  ACCOUNT "us-east-1:ec2_instance"
#define SCOPE_V	  ACCOUNT "us-east-1:ebs_volume"
#define SCOPE_W	  ACCOUNT "us-west-2:ec2_instance"
#define KEY_I(id) SCOPE_I ":" id

static struct store_scan *begin(struct store *s)
{
	struct store_scan *sc = NULL;
	struct elava_error err = {0};

	if (store_scan_begin(s, &sc, &err))
		fail_msg("begin: %s", err.msg);
	return sc;
}

static struct store_scan_result commit(struct store_scan **sc)
{
	struct store_scan_result res;
	struct elava_error err = {0};

	if (store_scan_commit(*sc, &res, &err))
		fail_msg("commit: %s", err.msg);
	store_scan_free(sc);
	return res;
}

static void complete(struct store_scan *sc)
{
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_complete(sc, SCOPE_V);
	store_scan_scope_complete(sc, SCOPE_W);
}

/* The shared store: four scans (revisions 1 to 4). */
static struct store *main_store;
static char long_id[1200];
static char long_key[1400];
/* Commit time of revision 2, nanoseconds. */
static int64_t rev2_ns;

static void main_round(struct store *s, int round)
{
	struct store_scan *sc = begin(s);

	add(sc, "us-east-1", "ec2_instance", "i-1", "prod",
	    round == 1	? 1
	    : round < 4 ? 10
			: 11);
	if (round == 1)
		add(sc, "us-east-1", "ec2_instance", "i-2", "prod", 2);
	add(sc, "us-east-1", "ec2_instance", "i-3",
	    round < 3 ? "dev" : "staging", 3);
	add(sc, "us-east-1", "ec2_instance", "i-dup", "prod", 4);
	add(sc, "us-east-1", "ec2_instance", long_id, "prod", 9);
	if (round < 3)
		add(sc, "us-east-1", "ebs_volume", "vol-1", "dev", 5);
	add(sc, "us-west-2", "ec2_instance", "i-4", "prod", 6);
	add(sc, "us-west-2", "ec2_instance", "i-dup", "dev", 7);
	if (round >= 2)
		add(sc, "us-east-1", "ec2_instance", "i-5", "prod", 8);
	if (round >= 3)
		add(sc, "us-east-1", "ec2_instance", "i-6", "dev", 12);
	complete(sc);
	struct store_scan_result res = commit(&sc);
	assert_int_equal(res.revision, (uint64_t)round);
}

static int time_of(const struct store_item *it, void *ud)
{
	*(int64_t *)ud = it->time_ns;
	return 0;
}

static int group_setup(void **state)
{
	struct elava_error err = {0};
	(void)state;

	root = mkdtemp(tmpl);
	if (!root)
		return -1;
	memset(long_id, 'x', sizeof(long_id) - 1);
	memcpy(long_id, "arn:aws:thing:", 14);
	long_id[sizeof(long_id) - 1] = '\0';
	snprintf(long_key, sizeof(long_key), "%s:%s", SCOPE_I, long_id);
	char *dir = new_dir();
	main_store = open_store(dir);
	xfree(dir);
	for (int round = 1; round <= 4; round++)
		main_round(main_store, round);
	/* i-5 was created at revision 2: its version's time is rev 2's. */
	if (store_get(main_store, KEY_I("i-5"), 2, time_of, &rev2_ns, &err))
		return -1;
	return 0;
}

static int group_teardown(void **state)
{
	(void)state;
	store_close(&main_store);
	if (root)
		rmtree(root);
	return 0;
}

/* ------------------------------------------------------------- calling */

struct reply {
	struct http_response resp;
	struct ejson *json; /* the body, parsed */
};

static void reply_init(struct reply *r, size_t body_max)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->resp.body, body_max);
}

static void reply_release(struct reply *r)
{
	buf_release(&r->resp.body);
	ejson_free(&r->json);
}

/*
 * Call a handler on `target` as the HTTP layer would; parse the body,
 * which must be JSON whatever the status. Returns the status, or -1 (with
 * a message in why) when something is wrong; safe in any thread.
 */
static int call_r(handler_fn h, struct store *s, const char *target,
		  struct reply *r, char why[256])
{
	struct http_target t;
	struct http_request req;
	struct elava_error err = {0};

	ejson_free(&r->json);
	r->resp.status = 200;
	r->resp.content_type = NULL;
	r->resp.retry_after_s = 0;
	buf_reset(&r->resp.body);
	if (http_target_parse(target, &t, &err)) {
		snprintf(why, 256, "target '%.100s': %.100s", target, err.msg);
		http_target_release(&t);
		return -1;
	}
	req.method = "GET";
	req.target = &t;
	req.authorization = NULL;
	h(&req, &r->resp, s);
	http_target_release(&t);
	if (!r->resp.content_type ||
	    strcmp(r->resp.content_type, "application/json")) {
		snprintf(why, 256, "'%.100s': not application/json", target);
		return -1;
	}
	if (ejson_parse(r->resp.body.data, r->resp.body.len, &r->json, &err) ||
	    ejson_typeof(r->json) != EJSON_OBJECT) {
		snprintf(why, 256,
			 "'%.100s': body is not a JSON object: %.100s", target,
			 err.msg);
		return -1;
	}
	return r->resp.status;
}

static int call(handler_fn h, struct store *s, const char *target,
		struct reply *r)
{
	char why[256];
	int st = call_r(h, s, target, r, why);

	if (st < 0)
		fail_msg("%s", why);
	return st;
}

/* A 200 page: {"items":[...],"next":...}; next NULL when null. */
static const char *page_next(const struct reply *r)
{
	const struct ejson *items = ejson_object_get(r->json, "items");
	const struct ejson *next = ejson_object_get(r->json, "next");

	assert_int_equal(r->resp.status, 200);
	assert_non_null(items);
	assert_int_equal(ejson_typeof(items), EJSON_ARRAY);
	assert_non_null(next);
	assert_int_equal(ejson_object_size(r->json), 2);
	if (ejson_typeof(next) == EJSON_NULL)
		return NULL;
	assert_int_equal(ejson_typeof(next), EJSON_STRING);
	return ejson_string_value(next);
}

static size_t page_count(const struct reply *r)
{
	return ejson_array_size(ejson_object_get(r->json, "items"));
}

/* An error: the status, a JSON body {"error","status"} saying `what`. */
static void expect_error(handler_fn h, struct store *s, const char *target,
			 int status, const char *what)
{
	struct reply r;
	const struct ejson *msg, *st;

	reply_init(&r, 0);
	if (call(h, s, target, &r) != status)
		fail_msg("'%s': status %d, not %d: %s", target, r.resp.status,
			 status, r.resp.body.data);
	msg = ejson_object_get(r.json, "error");
	st = ejson_object_get(r.json, "status");
	assert_non_null(msg);
	assert_non_null(st);
	assert_int_equal(ejson_int_value(st), status);
	if (!strstr(ejson_string_value(msg), what))
		fail_msg("'%s': error '%s' lacks '%s'", target,
			 ejson_string_value(msg), what);
	reply_release(&r);
}

/* Percent-encode s into b (all but unreserved characters). */
static void url_encode(struct buf *b, const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '_' ||
		    c == '.' || c == '~')
			buf_putc(b, (char)c);
		else
			buf_printf(b, "%%%02X", c);
	}
}

/*
 * Walk every page of `target` (which has a '?') and return all items,
 * each canonical, one per line; *pages counts the pages. Fails when a
 * page is empty but says more follows.
 */
static char *walk(handler_fn h, struct store *s, const char *target,
		  size_t body_max, size_t *pages)
{
	struct buf out, t;
	struct reply r;
	char *next = NULL;

	buf_init(&out, 0);
	buf_init(&t, 0);
	reply_init(&r, body_max);
	*pages = 0;
	for (;;) {
		buf_reset(&t);
		buf_puts(&t, target);
		if (next) {
			/* The cursor replaces an `after` the target had. */
			char *a = strstr(t.data, "after=");
			if (a) {
				const char *end = strchr(a, '&');
				size_t tail = end ? strlen(end + 1) : 0;
				memmove(a, end ? end + 1 : a, tail + 1);
				t.len = strlen(t.data);
			}
			buf_puts(&t, t.data[t.len - 1] == '?' ||
					     t.data[t.len - 1] == '&'
					 ? "after="
					 : "&after=");
			url_encode(&t, next);
		}
		if (call(h, s, t.data, &r) != 200)
			fail_msg("'%s': %d %s", t.data, r.resp.status,
				 r.resp.body.data);
		const char *n = page_next(&r);
		const struct ejson *items = ejson_object_get(r.json, "items");
		if (n && !ejson_array_size(items))
			fail_msg("'%s': an empty page with a next", t.data);
		for (size_t i = 0; i < ejson_array_size(items); i++) {
			ejson_dump_canonical(ejson_array_get(items, i), &out);
			buf_putc(&out, '\n');
		}
		/* A cursor that does not move on would loop for ever. */
		if (++*pages > 1000)
			fail_msg("'%s': more than 1000 pages", target);
		xfree(next);
		next = n ? xstrdup(n) : NULL;
		if (!next)
			break;
	}
	reply_release(&r);
	buf_release(&t);
	return buf_detach(&out, NULL);
}

/* Append a JSON text canonically, one per line. */
static void canon_line(struct buf *out, const char *json, size_t len)
{
	struct ejson *v = NULL;

	if (ejson_parse(json, len, &v, NULL))
		fail_msg("not JSON: %.*s", (int)len, json);
	ejson_dump_canonical(v, out);
	buf_putc(out, '\n');
	ejson_free(&v);
}

/* What a whole page is made of: the envelope around the store's items. */
struct expect {
	struct buf body;  /* {"items":[...],"next":null} */
	struct buf lines; /* the items canonical, one per line */
	struct buf keys;  /* key per line (resources, changes) */
	struct buf item;
	size_t n;
};

static void expect_init(struct expect *e)
{
	buf_init(&e->body, 0);
	buf_init(&e->lines, 0);
	buf_init(&e->keys, 0);
	buf_init(&e->item, 0);
	buf_puts(&e->body, "{\"items\":[");
	e->n = 0;
}

static void expect_add(struct expect *e, const char *json, size_t len,
		       const char *key)
{
	if (e->n++)
		buf_putc(&e->body, ',');
	buf_append(&e->body, json, len);
	canon_line(&e->lines, json, len);
	if (key) {
		buf_puts(&e->keys, key);
		buf_putc(&e->keys, '\n');
	}
}

static void expect_end(struct expect *e)
{
	buf_puts(&e->body, "],\"next\":null}");
}

static void expect_release(struct expect *e)
{
	buf_release(&e->body);
	buf_release(&e->lines);
	buf_release(&e->keys);
	buf_release(&e->item);
}

static int expect_item(const struct store_item *it, void *ud)
{
	struct expect *e = ud;

	assert_int_equal(store_item_json(it, &e->item), 0);
	expect_add(e, e->item.data, e->item.len, it->key);
	return 0;
}

static void expect_inventory(struct store *s, uint64_t rev,
			     const struct store_filter *f, struct expect *e)
{
	struct elava_error err = {0};

	expect_init(e);
	if (!rev && store_current_revision(s, &rev, &err))
		fail_msg("%s", err.msg);
	if (store_inventory(s, rev, f, expect_item, e, &err))
		fail_msg("inventory: %s", err.msg);
	expect_end(e);
}

/* The CLI's `changes` (cmd_changes.c): filters, baselines left out. */
struct change_filter {
	struct expect *e;
	const char *type;
	int kind;
	bool with_baseline;
	uint64_t baselines[16];
	size_t nbaselines;
};

static int note_baseline(const struct store_scan_meta *m, void *ud)
{
	struct change_filter *f = ud;

	if (m->baseline && f->nbaselines < 16)
		f->baselines[f->nbaselines++] = m->revision;
	return 0;
}

static int expect_change(const struct store_change *c, void *ud)
{
	struct change_filter *f = ud;

	if (f->type && strcmp(c->type, f->type))
		return 0;
	if (f->kind && (int)c->kind != f->kind)
		return 0;
	if (!f->with_baseline && c->kind == STORE_CHANGE_CREATED)
		for (size_t i = 0; i < f->nbaselines; i++)
			if (f->baselines[i] == c->revision)
				return 0;
	expect_add(f->e, c->event_json, c->event_len, c->key);
	return 0;
}

static void expect_changes(struct store *s, uint64_t from, uint64_t to,
			   const char *type, int kind, bool with_baseline,
			   struct expect *e)
{
	struct change_filter f = {e, type, kind, with_baseline, {0}, 0};
	struct elava_error err = {0};

	expect_init(e);
	if (store_scans(s, 0, note_baseline, &f, &err) ||
	    store_changes(s, from, to, expect_change, &f, &err))
		fail_msg("changes: %s", err.msg);
	expect_end(e);
}

static int expect_version(const struct store_change *c, void *ud)
{
	expect_add(ud, c->event_json, c->event_len, NULL);
	return 0;
}

static int expect_scan(const struct store_scan_meta *m, void *ud)
{
	expect_add(ud, m->json, m->json_len, NULL);
	return 0;
}

struct scans_before {
	struct expect *e;
	uint64_t before;
};

static int expect_scan_before(const struct store_scan_meta *m, void *ud)
{
	struct scans_before *b = ud;

	if (m->revision < b->before)
		expect_add(b->e, m->json, m->json_len, NULL);
	return 0;
}

/* The body must be exactly e's. */
static void check_body(handler_fn h, struct store *s, const char *target,
		       const struct expect *e)
{
	struct reply r;

	reply_init(&r, 0);
	if (call(h, s, target, &r) != 200)
		fail_msg("'%s': %d %s", target, r.resp.status,
			 r.resp.body.data);
	assert_null(page_next(&r));
	assert_int_equal(page_count(&r), e->n);
	if (strcmp(r.resp.body.data, e->body.data))
		fail_msg("'%s':\n got %.600s\nwant %.600s", target,
			 r.resp.body.data, e->body.data);
	reply_release(&r);
}

/* Every page size from 1 to n+1 walks to exactly e's items. */
static void check_walks(handler_fn h, struct store *s, const char *target,
			const struct expect *e)
{
	for (size_t limit = 1; limit <= e->n + 1; limit++) {
		char t[512];
		size_t pages;
		snprintf(t, sizeof(t), "%s%climit=%zu", target,
			 strchr(target, '?') ? '&' : '?', limit);
		char *got = walk(h, s, t, 0, &pages);
		if (strcmp(got, e->lines.data ? e->lines.data : ""))
			fail_msg("'%s': walk gave\n%s\nnot\n%s", t, got,
				 e->lines.data);
		/* A page holds `limit` items; the last one is not empty. */
		size_t want = e->n ? (e->n + limit - 1) / limit : 1;
		if (pages != want)
			fail_msg("'%s': %zu pages, not %zu", t, pages, want);
		xfree(got);
	}
}

/* ---------------------------------------------------------- resources */

static void test_resources(void **state)
{
	struct store *s = main_store;
	struct store_filter f = {0};
	struct expect e;
	char t[256];
	(void)state;

	/* Now: the 8 live resources, exactly the CLI's objects. */
	expect_inventory(s, 0, NULL, &e);
	assert_int_equal(e.n, 8);
	check_body(api_resources, s, "/api/v1/resources", &e);
	check_walks(api_resources, s, "/api/v1/resources", &e);
	assert_non_null(strstr(e.keys.data, long_key));
	expect_release(&e);

	/* At each revision. */
	for (uint64_t rev = 1; rev <= 4; rev++) {
		expect_inventory(s, rev, NULL, &e);
		snprintf(t, sizeof(t), "/api/v1/resources?at=%llu",
			 (unsigned long long)rev);
		check_body(api_resources, s, t, &e);
		check_walks(api_resources, s, t, &e);
		expect_release(&e);
	}

	/* Filters, as store_filter has them. */
	f.type = "ebs_volume";
	expect_inventory(s, 1, &f, &e);
	assert_int_equal(e.n, 1);
	check_body(api_resources, s, "/api/v1/resources?at=1&type=ebs_volume",
		   &e);
	expect_release(&e);
	memset(&f, 0, sizeof(f));
	f.region = "us-west-2";
	expect_inventory(s, 0, &f, &e);
	assert_int_equal(e.n, 2);
	check_body(api_resources, s, "/api/v1/resources?region=us-west-2", &e);
	check_walks(api_resources, s, "/api/v1/resources?region=us-west-2", &e);
	expect_release(&e);
	memset(&f, 0, sizeof(f));
	f.account = "123456789012";
	f.type = "ec2_instance";
	f.region = "us-east-1";
	expect_inventory(s, 0, &f, &e);
	assert_int_equal(e.n, 6);
	check_walks(api_resources, s,
		    "/api/v1/resources?account=123456789012&type=ec2_instance"
		    "&region=us-east-1",
		    &e);
	expect_release(&e);
	memset(&f, 0, sizeof(f));
	f.account = "999999999999";
	expect_inventory(s, 0, &f, &e);
	assert_int_equal(e.n, 0);
	check_body(api_resources, s, "/api/v1/resources?account=999999999999",
		   &e);
	check_walks(api_resources, s, "/api/v1/resources?account=999999999999",
		    &e);
	expect_release(&e);
	memset(&f, 0, sizeof(f));
	f.tag_key = "Env";
	f.tag_value = "dev";
	expect_inventory(s, 0, &f, &e);
	assert_int_equal(e.n, 2); /* i-6, i-dup in us-west-2 */
	check_body(api_resources, s, "/api/v1/resources?tag=Env%3Ddev", &e);
	check_walks(api_resources, s, "/api/v1/resources?tag=Env=dev", &e);
	expect_release(&e);
	f.tag_value = NULL;
	expect_inventory(s, 0, &f, &e);
	assert_int_equal(e.n, 8);
	check_body(api_resources, s, "/api/v1/resources?tag=Env", &e);
	expect_release(&e);
	f.tag_key = "Nope";
	expect_inventory(s, 0, &f, &e);
	assert_int_equal(e.n, 0);
	check_body(api_resources, s, "/api/v1/resources?tag=Nope", &e);
	expect_release(&e);
}

/* `at` as a revision, an RFC 3339 time (to the nanosecond) and an age. */
static void test_resources_at(void **state)
{
	struct store *s = main_store;
	struct expect e2, e1, e4;
	char ts[TIME_RFC3339_LEN], t[256];
	(void)state;

	expect_inventory(s, 1, NULL, &e1);
	expect_inventory(s, 2, NULL, &e2);
	expect_inventory(s, 4, NULL, &e4);
	assert_string_not_equal(e1.body.data, e2.body.data);
	/* "2026-11-21T10:00:00.123Z" with all nine digits of the second. */
	time_format_rfc3339(rev2_ns, ts);
	snprintf(t, sizeof(t), "/api/v1/resources?at=%.19s.%09lldZ", ts,
		 (long long)(rev2_ns % 1000000000));
	check_body(api_resources, s, t, &e2);
	time_format_rfc3339(rev2_ns - 1, ts);
	snprintf(t, sizeof(t), "/api/v1/resources?at=%.19s.%09lldZ", ts,
		 (long long)((rev2_ns - 1) % 1000000000));
	check_body(api_resources, s, t, &e1);
	/* The same time with an offset. */
	time_format_rfc3339(rev2_ns + 3600000000000LL, ts);
	snprintf(t, sizeof(t), "/api/v1/resources?at=%.19s.%09lld%%2B01:00", ts,
		 (long long)(rev2_ns % 1000000000));
	check_body(api_resources, s, t, &e2);
	/* Ages: none is now; an hour ago is before the first scan (this
	 * test's store is seconds old). */
	check_body(api_resources, s, "/api/v1/resources?at=0s", &e4);
	expect_error(api_resources, s, "/api/v1/resources?at=1h", 404,
		     "no scan recorded at or before");
	expect_error(api_resources, s, "/api/v1/resources?at=3650d", 404,
		     "no scan recorded at or before");
	expect_error(api_resources, s, "/api/v1/resources?at=99", 404,
		     "revision 99 does not exist yet");
	expect_release(&e1);
	expect_release(&e2);
	expect_release(&e4);
}

/*
 * A resource cursor pins the revision of its first page: a walk that
 * straddles a commit still gives one snapshot. And `at` changes nothing
 * once a cursor is given.
 */
static void test_resources_cursor_pins_revision(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir);
	struct expect e1;
	struct reply r;
	struct buf got, t;
	char *next;
	(void)state;

	for (int round = 1; round <= 1; round++) {
		struct store_scan *sc = begin(s);
		for (int i = 0; i < 7; i++) {
			char id[16];
			snprintf(id, sizeof(id), "i-%d", i);
			add(sc, "us-east-1", "ec2_instance", id, "prod", round);
		}
		complete(sc);
		commit(&sc);
	}
	expect_inventory(s, 1, NULL, &e1);
	reply_init(&r, 0);
	assert_int_equal(
	    call(api_resources, s, "/api/v1/resources?limit=3", &r), 200);
	next = xstrdup(page_next(&r));
	assert_int_equal(strncmp(next, "1:", 2), 0);
	buf_init(&got, 0);
	for (size_t i = 0; i < page_count(&r); i++) {
		ejson_dump_canonical(
		    ejson_array_get(ejson_object_get(r.json, "items"), i),
		    &got);
		buf_putc(&got, '\n');
	}
	/* Revision 2 changes everything, drops i-0 and i-6, adds i-7. */
	struct store_scan *sc = begin(s);
	for (int i = 1; i < 6; i++) {
		char id[16];
		snprintf(id, sizeof(id), "i-%d", i);
		add(sc, "us-east-1", "ec2_instance", id, "dev", 2);
	}
	add(sc, "us-east-1", "ec2_instance", "i-7", "dev", 2);
	complete(sc);
	commit(&sc);
	buf_init(&t, 0);
	for (size_t pages = 0; next; pages++) {
		assert_true(pages < 100);
		buf_reset(&t);
		buf_puts(&t, "/api/v1/resources?limit=3&at=2&after=");
		url_encode(&t, next);
		assert_int_equal(call(api_resources, s, t.data, &r), 200);
		for (size_t i = 0; i < page_count(&r); i++) {
			ejson_dump_canonical(
			    ejson_array_get(ejson_object_get(r.json, "items"),
					    i),
			    &got);
			buf_putc(&got, '\n');
		}
		const char *n = page_next(&r);
		xfree(next);
		next = n ? xstrdup(n) : NULL;
	}
	assert_string_equal(got.data, e1.lines.data);
	buf_release(&got);
	buf_release(&t);
	reply_release(&r);
	expect_release(&e1);
	store_close(&s);
	xfree(dir);
}

/* ------------------------------------------------------------- history */

static void expect_history(struct store *s, const char *key, struct expect *e)
{
	struct elava_error err = {0};

	expect_init(e);
	if (store_history(s, key, expect_version, e, &err))
		fail_msg("history: %s", err.msg);
	expect_end(e);
}

static void test_history(void **state)
{
	struct store *s = main_store;
	struct expect e;
	struct buf t;
	(void)state;

	/* By key and by bare id: i-1 created, then modified twice. */
	expect_history(s, KEY_I("i-1"), &e);
	assert_int_equal(e.n, 3);
	assert_non_null(strstr(e.body.data, "\"path\":\"attributes.size\""));
	check_body(api_resources, s,
		   "/api/v1/resources/" KEY_I("i-1") "/history", &e);
	check_body(api_resources, s, "/api/v1/resources/i-1/history", &e);
	/* Each page compares its first version with the one before it. */
	check_walks(api_resources, s, "/api/v1/resources/i-1/history", &e);
	expect_release(&e);
	expect_history(s, KEY_I("i-2"), &e);
	assert_int_equal(e.n, 2); /* created, disappeared */
	check_body(api_resources, s, "/api/v1/resources/i-2/history?limit=2",
		   &e);
	check_walks(api_resources, s, "/api/v1/resources/i-2/history", &e);
	expect_release(&e);

	/* A key holding '/' and ':' escaped in the path, and a long key. */
	expect_history(s, long_key, &e);
	buf_init(&t, 0);
	buf_puts(&t, "/api/v1/resources/");
	url_encode(&t, long_key);
	buf_puts(&t, "/history");
	check_body(api_resources, s, t.data, &e);
	expect_release(&e);
	expect_error(api_resources, s,
		     "/api/v1/resources/" SCOPE_I ":i%2F1/history", 404,
		     "no history for '" SCOPE_I ":i/1'");

	/* After the last version: an empty page. */
	expect_init(&e);
	expect_end(&e);
	check_body(api_resources, s, "/api/v1/resources/i-1/history?after=4",
		   &e);
	expect_release(&e);

	/* Ambiguous, unknown. */
	expect_error(api_resources, s, "/api/v1/resources/i-dup/history", 400,
		     "id 'i-dup' matches 2 resources");
	expect_error(api_resources, s, "/api/v1/resources/i-dup/history", 400,
		     SCOPE_W ":i-dup");
	expect_error(api_resources, s, "/api/v1/resources/i-nope/history", 404,
		     "no resource with id 'i-nope'");
	expect_error(api_resources, s,
		     "/api/v1/resources/" KEY_I("i-nope") "/history", 404,
		     "no history for");
	buf_release(&t);
}

/* ------------------------------------------------------------- changes */

static void test_changes(void **state)
{
	struct store *s = main_store;
	static const struct {
		const char *query;
		uint64_t from, to;
		const char *type;
		int kind;
		bool baseline;
		size_t n;
	} cases[] = {
	    /* rev 2: i-1 ~, i-2 -, i-5 +; rev 3: i-3 ~, vol-1 -, i-6 +;
	     * rev 4: i-1 ~. Revision 1 is the baseline (8 created). */
	    {"", 0, 0, NULL, 0, false, 7},
	    {"?include_baseline=true", 0, 0, NULL, 0, true, 15},
	    {"?include_baseline", 0, 0, NULL, 0, true, 15},
	    {"?include_baseline=1", 0, 0, NULL, 0, true, 15},
	    {"?include_baseline=false", 0, 0, NULL, 0, false, 7},
	    {"?since=2", 2, 0, NULL, 0, false, 4},
	    {"?since=1&until=3", 1, 3, NULL, 0, false, 6},
	    {"?until=2&include_baseline=true", 0, 2, NULL, 0, true, 11},
	    {"?until=1", 0, 1, NULL, 0, false, 0},
	    {"?since=3h", 0, 0, NULL, 0, false, 7},
	    {"?type=ebs_volume", 0, 0, "ebs_volume", 0, false, 1},
	    {"?type=ebs_volume&include_baseline=true", 0, 0, "ebs_volume", 0,
	     true, 2},
	    {"?change=modified", 0, 0, NULL, STORE_CHANGE_MODIFIED, false, 3},
	    {"?change=created", 0, 0, NULL, STORE_CHANGE_CREATED, false, 2},
	    {"?change=created&include_baseline=true", 0, 0, NULL,
	     STORE_CHANGE_CREATED, true, 10},
	    {"?change=disappeared&since=2", 2, 0, NULL,
	     STORE_CHANGE_DISAPPEARED, false, 1},
	    {"?change=modified&type=ec2_instance&since=1&until=3", 1, 3,
	     "ec2_instance", STORE_CHANGE_MODIFIED, false, 2},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct expect e;
		char t[256];
		snprintf(t, sizeof(t), "/api/v1/changes%s", cases[i].query);
		expect_changes(s, cases[i].from, cases[i].to, cases[i].type,
			       cases[i].kind, cases[i].baseline, &e);
		if (e.n != cases[i].n)
			fail_msg("'%s': %zu events expected, not %zu", t, e.n,
				 cases[i].n);
		check_body(api_changes, s, t, &e);
		check_walks(api_changes, s, t, &e);
		expect_release(&e);
	}

	/* since as a time: the revision current then (2), so from 3 on. */
	struct expect e;
	char ts[TIME_RFC3339_LEN], t[256];
	time_format_rfc3339(rev2_ns, ts);
	snprintf(t, sizeof(t), "/api/v1/changes?since=%.19s.%09lldZ", ts,
		 (long long)(rev2_ns % 1000000000));
	expect_changes(s, 2, 0, NULL, 0, false, &e);
	check_body(api_changes, s, t, &e);
	expect_release(&e);
	/* since before the first scan: from the beginning. */
	expect_changes(s, 0, 0, NULL, 0, true, &e);
	check_body(api_changes, s,
		   "/api/v1/changes?since=2001-01-01T00:00:00Z&include_"
		   "baseline=true",
		   &e);
	expect_release(&e);
}

/* --------------------------------------------------------------- scans */

static void test_scans(void **state)
{
	struct store *s = main_store;
	struct elava_error err = {0};
	struct expect e;
	(void)state;

	expect_init(&e);
	assert_int_equal(store_scans(s, 0, expect_scan, &e, &err), 0);
	expect_end(&e);
	assert_int_equal(e.n, 4);
	check_body(api_scans, s, "/api/v1/scans", &e);
	check_walks(api_scans, s, "/api/v1/scans", &e);
	expect_release(&e);
	for (uint64_t before = 1; before <= 5; before++) {
		struct scans_before b = {&e, before};
		char t[64];
		expect_init(&e);
		assert_int_equal(
		    store_scans(s, 0, expect_scan_before, &b, &err), 0);
		expect_end(&e);
		assert_int_equal(e.n, before - 1 < 4 ? before - 1 : 4);
		snprintf(t, sizeof(t), "/api/v1/scans?after=%llu",
			 (unsigned long long)before);
		check_body(api_scans, s, t, &e);
		check_walks(api_scans, s, t, &e);
		expect_release(&e);
	}
}

/* -------------------------------------------------------- bad requests */

static void test_bad_parameters(void **state)
{
	struct store *s = main_store;
	static const struct {
		handler_fn h;
		const char *target;
		int status;
		const char *what;
	} cases[] = {
	    {api_resources, "/api/v1/resources?foo=1", 400,
	     "unknown query parameter 'foo' (valid: at, type, region, "
	     "account, tag, limit, after)"},
	    {api_resources, "/api/v1/resources?since=1", 400,
	     "unknown query parameter 'since'"},
	    {api_resources, "/api/v1/resources?limit=0", 400,
	     "limit takes a number from 1 to 10000, not '0'"},
	    {api_resources, "/api/v1/resources?limit=10001", 400, "'10001'"},
	    {api_resources, "/api/v1/resources?limit=99999999999999999999999",
	     400, "limit takes a number"},
	    {api_resources, "/api/v1/resources?limit=-1", 400, "'-1'"},
	    {api_resources, "/api/v1/resources?limit=1x", 400, "'1x'"},
	    {api_resources, "/api/v1/resources?limit=", 400, "not ''"},
	    {api_resources, "/api/v1/resources?limit", 400, "not ''"},
	    {api_resources, "/api/v1/resources?at=yesterday", 400,
	     "'yesterday' is not a revision (42), a time"},
	    {api_resources, "/api/v1/resources?at=0", 400,
	     "revisions start at 1"},
	    {api_resources, "/api/v1/resources?at=", 400, "is not a revision"},
	    {api_resources, "/api/v1/resources?at=2026-13-01T00:00:00Z", 400,
	     "is not a revision"},
	    {api_resources, "/api/v1/resources?at=-5m", 400,
	     "is not a revision"},
	    {api_resources, "/api/v1/resources?type=ec2", 400,
	     "unknown resource type 'ec2'"},
	    {api_resources, "/api/v1/resources?tag=", 400,
	     "tag takes KEY or KEY=VALUE"},
	    {api_resources, "/api/v1/resources?tag=%3Dv", 400,
	     "tag takes KEY or KEY=VALUE"},
	    {api_resources, "/api/v1/resources?after=aws%3Ax", 400,
	     "after: 'aws:x' is not a cursor this API returned"},
	    {api_resources, "/api/v1/resources?after=3", 400,
	     "is not a cursor"},
	    {api_resources, "/api/v1/resources?after=3%3A", 400,
	     "is not a cursor"},
	    {api_resources, "/api/v1/resources?after=0%3Aaws", 400,
	     "is not a cursor"},
	    {api_resources,
	     "/api/v1/resources?after=18446744073709551616%3Aaws", 400,
	     "is not a cursor"},
	    {api_resources, "/api/v1/resources?after=9%3Aaws", 404,
	     "revision 9 does not exist"},
	    {api_resources, "/api/v1/resources/i-1", 404,
	     "no API endpoint at '/api/v1/resources/i-1'"},
	    {api_resources, "/api/v1/resources//history", 404,
	     "no API endpoint"},
	    {api_resources, "/api/v1/resources/", 404, "no API endpoint"},
	    {api_resources, "/api/v1/resources/i-1/history?at=1", 400,
	     "unknown query parameter 'at' (valid: limit, after)"},
	    {api_resources, "/api/v1/resources/i-1/history?limit=0", 400,
	     "limit takes"},
	    {api_resources, "/api/v1/resources/i-1/history?after=x", 400,
	     "is not a cursor"},
	    {api_resources, "/api/v1/resources/i-1/history?after=1%3Ax", 400,
	     "is not a cursor"},
	    {api_changes, "/api/v1/changes?at=1", 400,
	     "unknown query parameter 'at' (valid: since, until, type, "
	     "change, include_baseline, limit, after)"},
	    {api_changes, "/api/v1/changes?change=deleted", 400,
	     "change is created, modified or disappeared, not 'deleted'"},
	    {api_changes, "/api/v1/changes?include_baseline=yes", 400,
	     "include_baseline takes true or false, not 'yes'"},
	    {api_changes, "/api/v1/changes?since=soon", 400,
	     "'soon' is not a revision"},
	    {api_changes, "/api/v1/changes?until=soon", 400,
	     "'soon' is not a revision"},
	    {api_changes, "/api/v1/changes?since=3&until=2", 400,
	     "since (revision 3) must be before until (revision 2)"},
	    {api_changes, "/api/v1/changes?since=2&until=2", 400,
	     "must be before until"},
	    {api_changes, "/api/v1/changes?until=99", 404,
	     "revision 99 does not exist yet"},
	    {api_changes, "/api/v1/changes?until=3650d", 404,
	     "no scan recorded"},
	    {api_changes, "/api/v1/changes?type=ec2", 400,
	     "unknown resource type"},
	    {api_changes, "/api/v1/changes?limit=10001", 400, "limit takes"},
	    {api_changes, "/api/v1/changes?after=2", 400, "is not a cursor"},
	    {api_changes, "/api/v1/changes/x", 404, "no API endpoint"},
	    {api_scans, "/api/v1/scans?since=1", 400,
	     "unknown query parameter 'since' (valid: limit, after)"},
	    {api_scans, "/api/v1/scans?limit=0", 400, "limit takes"},
	    {api_scans, "/api/v1/scans?after=x", 400, "is not a cursor"},
	    {api_scans, "/api/v1/scans?after=1%3Ax", 400, "is not a cursor"},
	    {api_scans, "/api/v1/scans/", 404, "no API endpoint"},
	};
	char t[600];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		expect_error(cases[i].h, s, cases[i].target, cases[i].status,
			     cases[i].what);
	/* A long or odd parameter name is quoted cut, the body stays JSON. */
	memset(t, 0, sizeof(t));
	strcpy(t, "/api/v1/scans?");
	memset(t + strlen(t), 'n', 300);
	strcat(t, "=1");
	expect_error(api_scans, s, t, 400, "'nnnnnnnnnn");
	expect_error(api_scans, s, "/api/v1/scans?%C3%A9%0A%22=1", 400,
		     "unknown query parameter '\xc3\xa9\n\"'");
	expect_error(api_scans, s, "/api/v1/scans?limit=%FF", 400,
		     "limit takes");
}

/* -------------------------------------------------- the store's paging */

static int collect_keys(const struct store_item *it, void *ud)
{
	buf_puts(ud, it->key);
	buf_putc(ud, '\n');
	return 0;
}

struct event_list {
	char *json[64];
	char *key[64];
	uint64_t rev[64];
	size_t n;
};

static int collect_event(const struct store_change *c, void *ud)
{
	struct event_list *l = ud;

	assert_true(l->n < 64);
	l->json[l->n] = xstrdup(c->event_json);
	l->key[l->n] = xstrdup(c->key);
	l->rev[l->n] = c->revision;
	l->n++;
	return 0;
}

static void events_release(struct event_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		xfree(l->json[i]);
		xfree(l->key[i]);
	}
	l->n = 0;
}

/* Events i.. of l joined; the same for what a call gave. */
static char *events_from(const struct event_list *l, size_t from)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = from; i < l->n; i++) {
		buf_puts(&b, l->json[i]);
		buf_putc(&b, '\n');
	}
	return buf_detach(&b, NULL);
}

static int collect_rev(const struct store_scan_meta *m, void *ud)
{
	buf_printf(ud, "%llu ", (unsigned long long)m->revision);
	return 0;
}

static void test_store_paging(void **state)
{
	struct store *s = main_store;
	struct elava_error err = {0};
	struct store_filter f = {0};
	struct event_list all = {0}, part = {0};
	struct buf full, b;
	uint64_t *revs = NULL;
	size_t n = 0;
	(void)state;

	/* Inventory after a key: those that follow it, listed or not. */
	buf_init(&full, 0);
	buf_init(&b, 0);
	assert_int_equal(store_inventory(s, 0, NULL, collect_keys, &full, &err),
			 0);
	const char *p = full.data;
	while (*p) {
		const char *nl = strchr(p, '\n');
		char *key = xstrndup(p, (size_t)(nl - p));
		f.after = key;
		buf_reset(&b);
		assert_int_equal(
		    store_inventory(s, 0, &f, collect_keys, &b, &err), 0);
		assert_string_equal(b.data ? b.data : "", nl + 1);
		xfree(key);
		p = nl + 1;
	}
	f.after = KEY_I("i-2"); /* gone since revision 2 */
	buf_reset(&b);
	assert_int_equal(store_inventory(s, 0, &f, collect_keys, &b, &err), 0);
	assert_string_equal(b.data, strstr(full.data, KEY_I("i-3")));
	f.after = "";
	buf_reset(&b);
	assert_int_equal(store_inventory(s, 0, &f, collect_keys, &b, &err), 0);
	assert_string_equal(b.data, full.data);
	f.after = "zzz";
	buf_reset(&b);
	assert_int_equal(store_inventory(s, 0, &f, collect_keys, &b, &err), 0);
	assert_true(!b.data || !*b.data);

	/* Changes after each event: exactly the events that follow it. */
	assert_int_equal(store_changes(s, 0, 0, collect_event, &all, &err), 0);
	assert_int_equal(all.n, 15);
	for (size_t i = 0; i < all.n; i++) {
		assert_int_equal(store_changes_after(s, all.rev[i], all.key[i],
						     0, collect_event, &part,
						     &err),
				 0);
		char *want = events_from(&all, i + 1);
		char *got = events_from(&part, 0);
		assert_string_equal(got, want);
		xfree(want);
		xfree(got);
		events_release(&part);
	}
	/* Without a key: store_changes itself; with `to`: bounded. */
	assert_int_equal(
	    store_changes_after(s, 1, NULL, 3, collect_event, &part, &err), 0);
	assert_int_equal(part.n, 6);
	events_release(&part);
	assert_int_equal(store_changes_after(s, 3, KEY_I("i-1"), 3,
					     collect_event, &part, &err),
			 0);
	assert_int_equal(part.n, 2); /* i-3 ~, i-6 + */
	events_release(&part);
	assert_int_equal(
	    store_changes_after(s, 4, NULL, 0, collect_event, &part, &err), 0);
	assert_int_equal(part.n, 0);
	events_release(&all);

	/* History after each version: the rest, still diffed. */
	const char *keys[] = {KEY_I("i-1"), KEY_I("i-2"), KEY_I("i-3"),
			      long_key};
	for (size_t k = 0; k < ARRAY_SIZE(keys); k++) {
		assert_int_equal(
		    store_history(s, keys[k], collect_event, &all, &err), 0);
		for (size_t i = 0; i < all.n; i++) {
			assert_int_equal(
			    store_history_after(s, keys[k], all.rev[i],
						collect_event, &part, &err),
			    0);
			char *want = events_from(&all, i + 1);
			char *got = events_from(&part, 0);
			assert_string_equal(got, want);
			xfree(want);
			xfree(got);
			events_release(&part);
		}
		/* Between versions (i-1 has none at 3): the same. */
		assert_int_equal(store_history_after(
				     s, keys[k], 3, collect_event, &part, &err),
				 0);
		assert_int_equal(part.n, all.rev[all.n - 1] > 3 ? 1 : 0);
		events_release(&part);
		events_release(&all);
	}
	assert_int_equal(
	    store_history_after(s, KEY_I("i-9"), 2, collect_event, &part, &err),
	    ELAVA_E_NOTFOUND);
	assert_int_equal(store_history_after(s, KEY_I("i-1"), UINT64_MAX,
					     collect_event, &part, &err),
			 0);
	assert_int_equal(part.n, 0);

	/* Scans before a revision, newest first. */
	buf_reset(&b);
	assert_int_equal(store_scans_before(s, 0, 0, collect_rev, &b, &err), 0);
	assert_string_equal(b.data, "4 3 2 1 ");
	buf_reset(&b);
	assert_int_equal(store_scans_before(s, 3, 0, collect_rev, &b, &err), 0);
	assert_string_equal(b.data, "2 1 ");
	buf_reset(&b);
	assert_int_equal(store_scans_before(s, 9, 1, collect_rev, &b, &err), 0);
	assert_string_equal(b.data, "4 ");
	buf_reset(&b);
	assert_int_equal(store_scans_before(s, 1, 0, collect_rev, &b, &err), 0);
	assert_true(!b.data || !*b.data);

	/* Baselines: revision 1 only. */
	assert_int_equal(store_baselines(s, &revs, &n, &err), 0);
	assert_int_equal(n, 1);
	assert_int_equal(revs[0], 1);
	xfree(revs);
	buf_release(&full);
	buf_release(&b);
}

/* ---------------------------------------- compaction, a later baseline */

static void one_scan(struct store *s, const char *const *ids, int size,
		     struct store_scan_result *res)
{
	struct store_scan *sc = begin(s);

	for (; ids && *ids; ids++)
		add(sc, "us-east-1", "ec2_instance", *ids, "prod", size);
	complete(sc);
	*res = commit(&sc);
}

static void test_compacted_and_later_baseline(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir);
	struct store_compact_result cr;
	struct store_scan_result res;
	struct elava_error err = {0};
	static const char *const a[] = {"i-a", "i-b", NULL};
	static const char *const c[] = {"i-c", NULL};
	static const char *const cd[] = {"i-c", "i-d", NULL};
	struct expect e;
	uint64_t *revs = NULL;
	size_t n = 0;
	(void)state;

	one_scan(s, a, 1, &res);    /* 1: baseline */
	one_scan(s, a, 2, &res);    /* 2: both modified */
	one_scan(s, NULL, 0, &res); /* 3: both disappeared */
	one_scan(s, NULL, 0, &res); /* 4: nothing */
	assert_int_equal(store_compact(s, 4, &cr, &err), 0);
	assert_int_equal(cr.keys_removed, 2);
	one_scan(s, c, 1, &res); /* 5: a baseline again: the store was empty */
	assert_true(res.baseline);
	one_scan(s, c, 2, &res);  /* 6: i-c modified */
	one_scan(s, cd, 2, &res); /* 7: i-d created */
	assert_int_equal(store_baselines(s, &revs, &n, &err), 0);
	assert_int_equal(n, 2);
	assert_int_equal(revs[0], 5);
	assert_int_equal(revs[1], 1);
	xfree(revs);

	/* The later baseline's events are left out, the rest listed. */
	expect_changes(s, 0, 0, NULL, 0, false, &e);
	assert_int_equal(e.n, 2);
	check_body(api_changes, s, "/api/v1/changes", &e);
	check_walks(api_changes, s, "/api/v1/changes", &e);
	expect_release(&e);
	expect_changes(s, 0, 0, NULL, 0, true, &e);
	assert_int_equal(e.n, 3);
	check_body(api_changes, s, "/api/v1/changes?include_baseline=true", &e);
	check_walks(api_changes, s, "/api/v1/changes?include_baseline=true",
		    &e);
	expect_release(&e);
	/* since before the compaction: what is left, as the CLI says. */
	expect_changes(s, 1, 0, NULL, 0, true, &e);
	check_body(api_changes, s,
		   "/api/v1/changes?since=1&include_baseline=true", &e);
	expect_release(&e);

	/* Gone for good: 410. */
	expect_error(api_resources, s, "/api/v1/resources?at=3", 410,
		     "revision 3 has been compacted");
	expect_error(api_resources, s, "/api/v1/resources?at=1", 410,
		     "oldest available is 4");
	expect_error(api_resources, s,
		     "/api/v1/resources?after=2%3A" KEY_I("i-a"), 410,
		     "revision 2 has been compacted");
	expect_error(api_changes, s, "/api/v1/changes?after=2%3A" KEY_I("i-a"),
		     410, "revision 2 has been compacted");
	/* A cursor at the compacted revision itself still resumes. */
	expect_changes(s, 5, 0, NULL, 0, false, &e);
	check_body(api_changes, s, "/api/v1/changes?after=5%3A" KEY_I("i-c"),
		   &e);
	expect_release(&e);
	expect_history(s, KEY_I("i-c"), &e);
	check_body(api_resources, s, "/api/v1/resources/i-c/history", &e);
	expect_release(&e);
	/* i-a's history went with the compaction. */
	expect_error(api_resources, s, "/api/v1/resources/i-a/history", 404,
		     "no resource with id 'i-a'");
	store_close(&s);
	xfree(dir);
}

/* ------------------------------------------------------ an empty store */

static void test_empty_store(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir);
	struct expect e;
	(void)state;

	expect_init(&e);
	expect_end(&e);
	check_body(api_resources, s, "/api/v1/resources", &e);
	check_body(api_resources, s, "/api/v1/resources?type=ec2_instance", &e);
	check_body(api_changes, s, "/api/v1/changes", &e);
	check_body(api_changes, s, "/api/v1/changes?include_baseline=true", &e);
	check_body(api_scans, s, "/api/v1/scans", &e);
	expect_error(api_resources, s, "/api/v1/resources?at=1", 404,
		     "revision 1 does not exist yet (the newest is 0)");
	expect_error(api_resources, s, "/api/v1/resources?at=1h", 404,
		     "no scan recorded");
	expect_error(api_resources, s, "/api/v1/resources/i-1/history", 404,
		     "no resource with id 'i-1'");
	expect_release(&e);
	store_close(&s);
	xfree(dir);
}

/* ------------------------------------------------------------ page size */

/*
 * Pages end at about 8 MiB of JSON however large `limit` is; the walk
 * still gives every item once. And a body with a smaller cap than that
 * gets shorter pages instead of an error.
 */
static void test_page_size_cap(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir);
	struct store_scan *sc = begin(s);
	struct expect e;
	struct reply r;
	size_t pages;
	char *got;
	(void)state;

	/* 150 resources of about 64 KiB: 9.6 MiB of JSON. */
	for (int i = 0; i < 150; i++) {
		char id[16];
		snprintf(id, sizeof(id), "i-%03d", i);
		const char *msg = add_res(sc, "us-east-1", "ec2_instance", id,
					  "prod", i, 64 << 10);
		if (msg)
			fail_msg("%s", msg);
	}
	complete(sc);
	commit(&sc);
	expect_inventory(s, 0, NULL, &e);
	assert_true(e.body.len > ((size_t)9 << 20));
	reply_init(&r, 0);
	assert_int_equal(
	    call(api_resources, s, "/api/v1/resources?limit=10000", &r), 200);
	assert_non_null(page_next(&r));
	assert_true(page_count(&r) >= 100 && page_count(&r) < 150);
	assert_true(r.resp.body.len <= ((size_t)8 << 20) + 4096);
	reply_release(&r);
	got =
	    walk(api_resources, s, "/api/v1/resources?limit=10000", 0, &pages);
	assert_string_equal(got, e.lines.data);
	assert_int_equal(pages, 2);
	xfree(got);
	expect_release(&e);

	/* The shared store through a 6 KiB body (its 8 resources take
	 * 7): shorter pages, each within the body's cap. */
	expect_inventory(main_store, 0, NULL, &e);
	assert_true(e.body.len > 6144);
	got = walk(api_resources, main_store, "/api/v1/resources?limit=100",
		   6144, &pages);
	assert_string_equal(got, e.lines.data);
	assert_true(pages >= 2);
	xfree(got);
	expect_release(&e);
	store_close(&s);
	xfree(dir);
}

/* --------------------------------------------------------- concurrency */

#define CONC_N	     40
#define CONC_SCANS   25
#define CONC_READERS 4

struct conc {
	struct store *s;
	atomic_bool writing;
	atomic_int scans_done;
	char fail[CONC_READERS + 1][256];
	size_t walks[CONC_READERS];
};

/* Every resource changes in every scan, and i-x<r> lives only in
 * revision r: a page from one snapshot has one revision throughout and
 * holds the i-x of that revision. */
static const char *conc_scan(struct store *s, int r)
{
	struct store_scan *sc = NULL;
	struct store_scan_result res;
	struct elava_error err = {0};
	static __thread char msg[600];
	const char *m;
	char id[32];

	if (store_scan_begin(s, &sc, &err)) {
		snprintf(msg, sizeof(msg), "begin: %s", err.msg);
		return msg;
	}
	for (int i = 0; i < CONC_N; i++) {
		snprintf(id, sizeof(id), "i-%02d", i);
		if ((m = add_res(sc, "us-east-1", "ec2_instance", id, "prod", r,
				 0)))
			goto fail;
	}
	snprintf(id, sizeof(id), "i-x%03d", r);
	if ((m = add_res(sc, "us-east-1", "ec2_instance", id, "prod", r, 0)))
		goto fail;
	store_scan_scope_complete(sc, SCOPE_I);
	if (store_scan_commit(sc, &res, &err)) {
		snprintf(msg, sizeof(msg), "commit: %s", err.msg);
		m = msg;
		goto fail;
	}
	store_scan_free(&sc);
	return NULL;
fail:
	store_scan_free(&sc);
	return m;
}

static void *conc_writer(void *ud)
{
	struct conc *c = ud;

	for (int r = 2; r <= CONC_SCANS + 1; r++) {
		const char *m = conc_scan(c->s, r);
		if (m) {
			snprintf(c->fail[CONC_READERS], 256, "%s", m);
			break;
		}
		atomic_fetch_add(&c->scans_done, 1);
	}
	atomic_store(&c->writing, false);
	return NULL;
}

struct reader {
	struct conc *c;
	int id;
};

/* One walk of the inventory, 7 at a time; 0 or a message in why. */
static int conc_walk(struct conc *c, struct reply *r, char why[256])
{
	struct buf t, seen;
	char *next = NULL, want_x[64];
	uint64_t rev = 0;
	size_t count = 0;
	bool saw_x = false;
	int rc = 0;

	buf_init(&t, 0);
	buf_init(&seen, 0);
	for (size_t pages = 0;; pages++) {
		if (pages > 1000) {
			snprintf(why, 256, "more than 1000 pages");
			rc = -1;
			break;
		}
		buf_reset(&t);
		buf_puts(&t, "/api/v1/resources?limit=7");
		if (next) {
			buf_puts(&t, "&after=");
			url_encode(&t, next);
		}
		int st = call_r(api_resources, c->s, t.data, r, why);
		if (st != 200) {
			if (st > 0)
				snprintf(why, 256, "status %d: %.200s", st,
					 r->resp.body.data);
			rc = -1;
			break;
		}
		const struct ejson *items = ejson_object_get(r->json, "items");
		const struct ejson *nx = ejson_object_get(r->json, "next");
		for (size_t i = 0; i < ejson_array_size(items); i++) {
			const struct ejson *it = ejson_array_get(items, i);
			uint64_t v = (uint64_t)ejson_int_value(
			    ejson_object_get(it, "revision"));
			const char *key =
			    ejson_string_value(ejson_object_get(it, "key"));
			if (!rev) {
				rev = v;
				snprintf(want_x, sizeof(want_x), "%s:i-x%03d",
					 SCOPE_I, (int)rev);
			}
			if (v != rev || !key) {
				snprintf(why, 256,
					 "a walk mixes revisions %llu and "
					 "%llu",
					 (unsigned long long)rev,
					 (unsigned long long)v);
				rc = -1;
				goto out;
			}
			/* Keys strictly increasing: no repeat. */
			if (seen.len && strcmp(seen.data, key) >= 0) {
				snprintf(why, 256, "key '%.80s' after '%.80s'",
					 key, seen.data);
				rc = -1;
				goto out;
			}
			buf_reset(&seen);
			buf_puts(&seen, key);
			saw_x |= !strcmp(key, want_x);
			count++;
		}
		xfree(next);
		next = ejson_typeof(nx) == EJSON_STRING
			   ? xstrdup(ejson_string_value(nx))
			   : NULL;
		if (next && rev &&
		    strtoull(next, NULL, 10) != (unsigned long long)rev) {
			snprintf(why, 256, "cursor '%.80s' is not at %llu",
				 next, (unsigned long long)rev);
			rc = -1;
			break;
		}
		if (!next)
			break;
	}
	if (!rc && (count != CONC_N + 1 || !saw_x)) {
		snprintf(why, 256, "revision %llu: %zu resources, %s",
			 (unsigned long long)rev, count,
			 saw_x ? "its i-x" : "without its i-x");
		rc = -1;
	}
out:
	xfree(next);
	buf_release(&t);
	buf_release(&seen);
	return rc;
}

static void *conc_reader(void *ud)
{
	struct reader *rd = ud;
	struct conc *c = rd->c;
	struct reply r;
	char *why = c->fail[rd->id];

	reply_init(&r, 0);
	/* Walk until the writer is done, and once more after. */
	for (bool last = false; !last;) {
		last = !atomic_load(&c->writing);
		if (conc_walk(c, &r, why))
			break;
		c->walks[rd->id]++;
		/* The other endpoints, under the same load. */
		int st = call_r(api_changes, c->s, "/api/v1/changes?limit=50",
				&r, why);
		if (st == 200)
			st = call_r(api_scans, c->s, "/api/v1/scans?limit=3",
				    &r, why);
		if (st == 200)
			st = call_r(api_resources, c->s,
				    "/api/v1/resources/i-00/history?limit=5",
				    &r, why);
		if (st != 200) {
			if (st > 0)
				snprintf(why, 256, "status %d: %.200s", st,
					 r.resp.body.data);
			break;
		}
	}
	reply_release(&r);
	return NULL;
}

static void test_concurrent_readers(void **state)
{
	char *dir = new_dir();
	struct conc c;
	struct reader rd[CONC_READERS];
	pthread_t w, t[CONC_READERS];
	const char *m;
	(void)state;

	memset(&c, 0, sizeof(c));
	c.s = open_store(dir);
	if ((m = conc_scan(c.s, 1)))
		fail_msg("%s", m);
	atomic_store(&c.writing, true);
	for (int i = 0; i < CONC_READERS; i++) {
		rd[i].c = &c;
		rd[i].id = i;
		assert_int_equal(
		    pthread_create(&t[i], NULL, conc_reader, &rd[i]), 0);
	}
	assert_int_equal(pthread_create(&w, NULL, conc_writer, &c), 0);
	pthread_join(w, NULL);
	for (int i = 0; i < CONC_READERS; i++)
		pthread_join(t[i], NULL);
	for (int i = 0; i <= CONC_READERS; i++)
		if (c.fail[i][0])
			fail_msg("%s %d: %s",
				 i < CONC_READERS ? "reader" : "writer", i,
				 c.fail[i]);
	assert_int_equal(atomic_load(&c.scans_done), CONC_SCANS);
	for (int i = 0; i < CONC_READERS; i++)
		assert_true(c.walks[i] >= 1);
	store_close(&c.s);
	xfree(dir);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_resources),
	    cmocka_unit_test(test_resources_at),
	    cmocka_unit_test(test_resources_cursor_pins_revision),
	    cmocka_unit_test(test_history),
	    cmocka_unit_test(test_changes),
	    cmocka_unit_test(test_scans),
	    cmocka_unit_test(test_bad_parameters),
	    cmocka_unit_test(test_store_paging),
	    cmocka_unit_test(test_compacted_and_later_baseline),
	    cmocka_unit_test(test_empty_store),
	    cmocka_unit_test(test_page_size_cap),
	    cmocka_unit_test(test_concurrent_readers),
	};

	log_configure(LOG_WARN, LOG_FORMAT_TEXT);
	return cmocka_run_group_tests(tests, group_setup, group_teardown);
}
