/*
 * Unit tests for the WAL: the line format, append/sync/reopen continuity,
 * rotation, retention, replay filters, tail, recovery of interrupted
 * actions, and every kind of damage verify must name — an edited byte, a
 * deleted line, swapped lines, a truncated segment, a torn tail (trimmed on
 * open and logged, nothing else lost), NUL garbage, a missing middle
 * segment — plus the poisoned handle after a failed write, provoked with
 * RLIMIT_FSIZE.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <ftw.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <unistd.h>

#include "wal/wal.h"
#include "wal/wal_int.h"

/* ---------------------------------------------------------------- helpers */

static char *tmpdir_new(void)
{
	const char *base = getenv("TMPDIR");
	char *p = xmalloc(4096);

	snprintf(p, 4096, "%s/elava-test-wal-XXXXXX",
		 base && *base ? base : "/tmp");
	assert_non_null(mkdtemp(p));
	return p;
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

static void tmpdir_free(char **p)
{
	nftw(*p, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
	xfree(*p);
	*p = NULL;
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char tmp[65536];
	size_t n;

	assert_non_null(f);
	buf_init(&b, 0);
	while ((n = fread(tmp, 1, sizeof(tmp), f)) > 0)
		assert_int_equal(buf_append(&b, tmp, n), 0);
	fclose(f);
	return buf_detach(&b, len);
}

static void write_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "wb");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

static void append_file(const char *path, const char *data, size_t len)
{
	FILE *f = fopen(path, "ab");

	assert_non_null(f);
	assert_int_equal(fwrite(data, 1, len, f), len);
	assert_int_equal(fclose(f), 0);
}

/* Segment paths of dir in seq order; caller releases. */
static void segments(const char *dir, struct wal__seglist *l)
{
	assert_int_equal(wal__segments_list(dir, l, NULL), 0);
}

static size_t segment_count(const char *dir)
{
	struct wal__seglist l;
	size_t n;

	segments(dir, &l);
	n = l.n;
	wal__segments_release(&l);
	return n;
}

/* Path of the i-th segment (negative: from the end); caller frees. */
static char *segment_path(const char *dir, int i)
{
	struct wal__seglist l;
	char *p;

	segments(dir, &l);
	if (i < 0)
		i += (int)l.n;
	assert_true(i >= 0 && (size_t)i < l.n);
	p = xstrdup(l.v[i].path);
	wal__segments_release(&l);
	return p;
}

static int64_t fake_now = 1700000000LL * 1000000000;

static int64_t fake_clock(void)
{
	return fake_now;
}

static struct wal *open_wal(const char *dir, size_t seg_max)
{
	struct wal_options o = {0};
	struct elava_error err = {0};
	struct wal *w = NULL;
	int rc;

	o.dir = dir;
	o.segment_max_bytes = seg_max;
	o.instance = "test-1";
	o.clock_ns = fake_clock;
	rc = wal_open(&o, &w, &err);
	if (rc)
		fail_msg("wal_open: %s", err.msg);
	return w;
}

static void add(struct wal *w, enum wal_type t, const char *res,
		const char *data, uint64_t expect_seq)
{
	struct elava_error err = {0};
	uint64_t seq = 0;
	int rc = wal_append(w, t, 7, res, data, &seq, &err);

	if (rc)
		fail_msg("wal_append: %s", err.msg);
	if (expect_seq)
		assert_int_equal(seq, expect_seq);
}

/* n entries of ~250 bytes, synced every `every` (0 = once at the end). */
static void fill(struct wal *w, int n, int every)
{
	for (int i = 0; i < n; i++) {
		char res[64], data[160];
		snprintf(res, sizeof(res),
			 "aws:1:us-east-1:ec2_instance:i-%03d", i % 7);
		snprintf(
		    data, sizeof(data),
		    "{\"n\":%d,\"tags\":{\"team\":\"sre\",\"env\":\"prod\"},"
		    "\"note\":\"padding padding padding\"}",
		    i);
		add(w, (enum wal_type)(i % WAL_TYPE_COUNT), res, data, 0);
		if (every && (i + 1) % every == 0)
			assert_int_equal(wal_sync(w, NULL), 0);
	}
	assert_int_equal(wal_sync(w, NULL), 0);
}

static void make_wal(const char *dir, int n, size_t seg_max)
{
	struct wal *w = open_wal(dir, seg_max);

	fill(w, n, 10);
	assert_int_equal(wal_close(&w, NULL), 0);
	assert_null(w);
}

static void verify_ok(const char *dir, uint64_t entries)
{
	struct wal_verify_report r;
	struct elava_error err = {0};
	int rc = wal_verify(dir, &r, &err);

	if (rc)
		fail_msg("verify: %s", err.msg);
	assert_true(r.ok);
	assert_int_equal(r.entries, entries);
}

static int verify_bad(const char *dir, struct wal_verify_report *r)
{
	struct elava_error err = {0};
	int rc = wal_verify(dir, r, &err);

	assert_int_equal(rc, ELAVA_E_CORRUPT);
	assert_false(r->ok);
	assert_non_null(strstr(err.msg, "WAL chain broken at seq"));
	return rc;
}

/* Split a file into lines (without newlines); returns the count. */
struct lines {
	char *data;
	size_t len;
	char **v;
	size_t *n;
	size_t count;
};

static void lines_read(const char *path, struct lines *l)
{
	size_t cap = 0;
	char *p, *end;

	memset(l, 0, sizeof(*l));
	l->data = read_file(path, &l->len);
	p = l->data;
	end = l->data + l->len;
	while (p < end) {
		char *nl = memchr(p, '\n', (size_t)(end - p));
		assert_non_null(nl);
		if (l->count == cap) {
			cap = cap ? cap * 2 : 64;
			l->v = xrealloc(l->v, cap * sizeof(*l->v));
			l->n = xrealloc(l->n, cap * sizeof(*l->n));
		}
		l->v[l->count] = p;
		l->n[l->count] = (size_t)(nl - p);
		l->count++;
		p = nl + 1;
	}
}

static void lines_write(const char *path, const struct lines *l,
			const size_t *order, size_t count)
{
	struct buf b;

	buf_init(&b, 0);
	for (size_t i = 0; i < count; i++) {
		size_t k = order ? order[i] : i;
		buf_append(&b, l->v[k], l->n[k]);
		buf_putc(&b, '\n');
	}
	write_file(path, b.data ? b.data : "", b.len);
	buf_release(&b);
}

static void lines_release(struct lines *l)
{
	xfree(l->data);
	xfree(l->v);
	xfree(l->n);
}

/* Captured warnings (log sink). */
static char logged[8192];

static void log_capture(enum log_level lvl, const char *line, void *ud)
{
	(void)ud;
	if (lvl >= LOG_WARN)
		strncat(logged, line, sizeof(logged) - strlen(logged) - 1);
}

static int setup(void **state)
{
	*state = tmpdir_new();
	logged[0] = '\0';
	log_set_sink(log_capture, NULL);
	fake_now = 1700000000LL * 1000000000;
	return 0;
}

static int teardown(void **state)
{
	char *dir = *state;

	log_set_sink(NULL, NULL);
	tmpdir_free(&dir);
	return 0;
}

/* Collects entries delivered by the readers. */
struct got {
	uint64_t seq[4096];
	enum wal_type type[4096];
	char res[4096][64];
	size_t n;
	size_t stop_after; /* 0 = never */
};

static int collect(const struct wal_entry *e, void *ud)
{
	struct got *g = ud;

	assert_true(g->n < ARRAY_SIZE(g->seq));
	g->seq[g->n] = e->seq;
	g->type[g->n] = e->type;
	snprintf(g->res[g->n], sizeof(g->res[0]), "%s",
		 e->resource ? e->resource : "(null)");
	g->n++;
	if (g->stop_after && g->n == g->stop_after)
		return 42;
	return 0;
}

/* ------------------------------------------------------------ line format */

static void test_type_names(void **state)
{
	enum wal_type t;
	(void)state;

	for (int i = 0; i < WAL_TYPE_COUNT; i++) {
		assert_non_null(wal_type_name((enum wal_type)i));
		assert_int_equal(
		    wal_type_parse(wal_type_name((enum wal_type)i), &t), 0);
		assert_int_equal(t, i);
	}
	assert_string_equal(wal_type_name(WAL_EXECUTING), "executing");
	assert_null(wal_type_name(WAL_TYPE_COUNT));
	assert_int_equal(wal_type_parse("execute", &t), ELAVA_E_INVAL);
	assert_int_equal(wal_type_parse(NULL, &t), ELAVA_E_INVAL);
}

static void test_line_roundtrip(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 0);
	struct wal_entry e;
	struct lines l;
	struct buf scratch;
	char hash[WAL_HASH_HEX_SIZE];
	char *seg;

	add(w, WAL_EXECUTING, "res \"q\"\n\x01\xc3\xa9",
	    "{\"b\":1.0,\"a\":[1]}", 1);
	add(w, WAL_OBSERVED, NULL, NULL, 2);
	assert_int_equal(wal_close(&w, NULL), 0);

	seg = segment_path(dir, 0);
	assert_non_null(strstr(seg, "/wal-00000000000000000001.jsonl"));
	lines_read(seg, &l);
	assert_int_equal(l.count, 2);
	buf_init(&scratch, 0);
	assert_int_equal(wal_line_parse(l.v[0], l.n[0], &e, &scratch, NULL), 0);
	assert_int_equal(e.seq, 1);
	assert_int_equal(e.type, WAL_EXECUTING);
	assert_true(e.ts_ns == fake_now);
	assert_string_equal(e.instance, "test-1");
	assert_int_equal(e.revision, 7);
	assert_string_equal(e.resource, "res \"q\"\n\x01\xc3\xa9");
	/* canonical: keys sorted, 1.0 → 1 */
	assert_string_equal(e.data, "{\"a\":[1],\"b\":1}");
	assert_int_equal(e.data_len, strlen(e.data));
	assert_string_equal(e.prev, wal__genesis);
	assert_true(wal_line_hash(l.v[0], l.n[0], hash));
	assert_string_equal(hash, e.hash);
	/* the escapes are the minimal ones */
	assert_non_null(
	    strstr(l.v[0], "\"resource\":\"res \\\"q\\\"\\n\\u0001"));
	{
		static const char head[] =
		    "{\"seq\":1,\"ts\":\"2023-11-14T22:13:20.000Z\","
		    "\"type\":\"executing\",\"instance\":\"test-1\","
		    "\"revision\":7,";
		assert_memory_equal(l.v[0], head, sizeof(head) - 1);
	}

	assert_int_equal(wal_line_parse(l.v[1], l.n[1], &e, &scratch, NULL), 0);
	assert_int_equal(e.seq, 2);
	assert_null(e.resource);
	assert_string_equal(e.data, "{}");
	assert_memory_equal(e.prev, hash, SHA256_HEX_LEN);
	buf_release(&scratch);
	lines_release(&l);
	xfree(seg);
}

static void test_line_parse_rejects(void **state)
{
	static const char good_head[] =
	    "{\"seq\":1,\"ts\":\"2023-11-14T22:13:20.000Z\",\"type\":"
	    "\"observed\",\"instance\":\"i\",\"revision\":0,\"resource\":null,"
	    "\"data\":{}";
	static const struct {
		const char *from, *to;
	} edits[] = {
	    {"\"seq\":1", "\"seq\":01"},
	    {"\"seq\":1", "\"seq\":0"},
	    {"\"seq\":1", "\"seq\": 1"},
	    {"\"seq\":1", "\"seq\":-1"},
	    {"\"seq\":1", "\"seq\":18446744073709551616"},
	    {"2023-11-14", "2023-02-30"},
	    {"20.000Z", "20.000+00:00"},
	    {"20.000Z", "20Z"},
	    {"\"observed\"", "\"Observed\""},
	    {"\"instance\":\"i\"", "\"instance\":\"\""},
	    {"\"instance\":\"i\"", "\"instance\":\"\\u0069\""},
	    {"\"instance\":\"i\"", "\"instance\":\"\\/\""},
	    {"\"instance\":\"i\"", "\"instance\":\"\xff\""},
	    {"\"instance\":\"i\"", "\"instance\":null"},
	    {"\"revision\":0", "\"revision\":00"},
	    {"\"resource\":null", "\"resource\":\"\""},
	    {"\"resource\":null", "\"resource\":\"a\\u000a\""},
	    {"\"data\":{}", "\"data\":[]"},
	    {"\"data\":{}", "\"data\":{\"a\":}"},
	    {"\"data\":{}", "\"data\":{\"a\":1}}"},
	    {"\"data\":{}", "\"data\":{\"a\":\"\\u0000\"}"},
	    {"\"data\":{}", "\"data\":{\"a\":\"\\ud800\"}"},
	    {"\"data\":{}", "\"data\":{\"a\":01}"},
	    {"\"data\":{}", "\"data\": {}"},
	};
	struct buf line, scratch;
	struct wal_entry e;
	char tail[WAL__TAIL_LEN + 1];
	(void)state;

	snprintf(tail, sizeof(tail), ",\"prev\":\"%s\",\"hash\":\"%s\"}",
		 wal__genesis, wal__genesis);
	buf_init(&line, 0);
	buf_init(&scratch, 0);
	buf_puts(&line, good_head);
	buf_puts(&line, tail);
	assert_int_equal(
	    wal_line_parse(line.data, line.len, &e, &scratch, NULL), 0);
	for (size_t i = 0; i < ARRAY_SIZE(edits); i++) {
		struct buf bad;
		const char *at = strstr(good_head, edits[i].from);
		struct elava_error err = {0};
		assert_non_null(at);
		buf_init(&bad, 0);
		buf_append(&bad, good_head, (size_t)(at - good_head));
		buf_puts(&bad, edits[i].to);
		buf_puts(&bad, at + strlen(edits[i].from));
		buf_puts(&bad, tail);
		if (wal_line_parse(bad.data, bad.len, &e, &scratch, &err) !=
		    ELAVA_E_PARSE)
			fail_msg("accepted edit %zu: %s", i, bad.data);
		assert_non_null(strstr(err.msg, "column"));
		buf_release(&bad);
	}
	/* upper-case hex, missing brace, too short */
	line.data[line.len - 3] = 'A';
	assert_int_equal(
	    wal_line_parse(line.data, line.len, &e, &scratch, NULL),
	    ELAVA_E_PARSE);
	line.data[line.len - 3] = '0';
	assert_int_equal(
	    wal_line_parse(line.data, line.len - 1, &e, &scratch, NULL),
	    ELAVA_E_PARSE);
	assert_int_equal(wal_line_parse("{}", 2, &e, &scratch, NULL),
			 ELAVA_E_PARSE);
	assert_int_equal(
	    wal_line_parse(line.data, WAL_LINE_MAX + 1, &e, &scratch, NULL),
	    ELAVA_E_TOOBIG);
	buf_release(&line);
	buf_release(&scratch);
}

static void test_ts_format_parse(void **state)
{
	static const int64_t cases[] = {
	    0, 1700000000123456789LL, 951782400000000000LL /* 2000-02-29 */,
	    4102444799999000000LL /* 2099-12-31T23:59:59.999 */};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		char a[WAL__TS_LEN + 1], b[TIME_RFC3339_LEN];
		int64_t ns;
		wal__ts_format(cases[i], a);
		time_format_rfc3339(cases[i], b);
		assert_string_equal(a, b);
		assert_int_equal(wal__ts_parse(a, &ns), 0);
		assert_true(ns == cases[i] / 1000000 * 1000000);
	}
	int64_t ns;
	assert_int_equal(wal__ts_parse("2100-02-29T00:00:00.000Z", &ns),
			 ELAVA_E_PARSE);
	assert_int_equal(wal__ts_parse("1969-12-31T23:59:59.000Z", &ns),
			 ELAVA_E_PARSE);
	assert_int_equal(wal__ts_parse("2300-01-01T00:00:00.000Z", &ns),
			 ELAVA_E_PARSE);
}

static void test_json_validator(void **state)
{
	static const char *good[] = {
	    "{}",
	    "{\"a\":1}",
	    "{ \"a\" : [ 1 , -2.5e+3 , true , null ] }",
	    "{\"\\ud83d\\ude00\":\"\xf0\x9f\x98\x80\"}",
	    "{\"a\":{\"b\":{\"c\":[[[]]]}}}",
	    "{\"a\":\"\\\"\\\\\\/\\b\"}",
	};
	static const char *bad[] = {
	    "",
	    "{",
	    "[]",
	    "{\"a\"}",
	    "{\"a\":1,}",
	    "{\"a\":tru}",
	    "{\"a\":1 \"b\":2}",
	    "{\"a\":\"\x01\"}",
	    "{\"a\":\"\\x\"}",
	    "{\"a\":-}",
	    "{\"a\":1.}",
	    "{\"a\":1e}",
	    "{\"a\":\"\xc0\xaf\"}",
	    "{\"a\":\"\\udc00\"}",
	    "{\"a\":1}x",
	    "{\"a\":[1,2}",
	};
	char deep[300];
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(good); i++)
		if (!wal__json_object_valid(good[i], strlen(good[i])))
			fail_msg("rejected %s", good[i]);
	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (wal__json_object_valid(bad[i], strlen(bad[i])))
			fail_msg("accepted %s", bad[i]);
	/* nesting: 64 containers pass, 65 do not */
	memset(deep, 0, sizeof(deep));
	deep[0] = '{';
	strcat(deep, "\"a\":");
	for (int i = 1; i < 64; i++)
		strcat(deep, "[");
	for (int i = 1; i < 64; i++)
		strcat(deep, "]");
	strcat(deep, "}");
	assert_true(wal__json_object_valid(deep, strlen(deep)));
	memmove(deep + 5, deep + 4, strlen(deep + 4) + 1);
	deep[4] = '[';
	size_t n = strlen(deep);
	memmove(deep + n, deep + n - 1, 2);
	deep[n - 1] = ']';
	assert_false(wal__json_object_valid(deep, strlen(deep)));
}

/* --------------------------------------------------------- append & sync */

static void test_append_sync_reopen(void **state)
{
	char dir[4096];
	struct wal_head h1, h2;
	struct wal *w;
	struct stat st;

	/* wal_open creates the directory, and its parents, 0700 */
	snprintf(dir, sizeof(dir), "%s/data/wal", (const char *)*state);
	w = open_wal(dir, 0);
	assert_int_equal(stat(dir, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0700);
	fill(w, 10, 0);
	wal_head_get(w, &h1);
	assert_int_equal(h1.seq, 10);
	assert_int_equal(h1.durable_seq, 10);
	assert_int_equal(wal_close(&w, NULL), 0);

	w = open_wal(dir, 0);
	wal_head_get(w, &h2);
	assert_int_equal(h2.seq, 10);
	assert_string_equal(h1.hash, h2.hash);
	add(w, WAL_DECIDED, "r", "{\"x\":1}", 11);
	wal_head_get(w, &h2);
	assert_int_equal(h2.seq, 11);
	assert_int_equal(h2.durable_seq, 10);
	assert_int_equal(wal_sync(w, NULL), 0);
	wal_head_get(w, &h2);
	assert_int_equal(h2.durable_seq, 11);
	assert_int_equal(wal_close(&w, NULL), 0);

	/* one segment, mode 0600, chain intact across the reopen */
	char *seg = segment_path(dir, 0);
	assert_int_equal(stat(seg, &st), 0);
	assert_int_equal(st.st_mode & 0777, 0600);
	assert_int_equal(segment_count(dir), 1);
	xfree(seg);

	struct wal_verify_report r;
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, 11);
	assert_int_equal(r.first_seq, 1);
	assert_int_equal(r.last_seq, 11);
	assert_false(r.anchored);
	assert_int_equal(r.torn_bytes, 0);
	wal_head_get(w = open_wal(dir, 0), &h2);
	assert_string_equal(r.head_hash, h2.hash);
	wal_close(&w, NULL);
	assert_string_equal(logged, "");
}

static void test_append_rejects(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 0);
	struct elava_error err = {0};
	uint64_t seq = 0;
	char *big;

	assert_int_equal(wal_append(w, WAL_OBSERVED, 0, "r", "[1]", &seq, &err),
			 ELAVA_E_INVAL);
	assert_int_equal(
	    wal_append(w, WAL_OBSERVED, 0, "r", "{\"a\":", &seq, &err),
	    ELAVA_E_PARSE);
	assert_non_null(strstr(err.msg, "invalid WAL entry data"));
	assert_int_equal(
	    wal_append(w, WAL_TYPE_COUNT, 0, "r", NULL, &seq, &err),
	    ELAVA_E_INVAL);
	assert_int_equal(wal_append(w, WAL_OBSERVED, 0, "", NULL, &seq, &err),
			 ELAVA_E_INVAL);
	assert_int_equal(
	    wal_append(w, WAL_OBSERVED, 0, "\xff", NULL, &seq, &err),
	    ELAVA_E_INVAL);
	big = xmalloc(WAL_LINE_MAX);
	memset(big, 'x', WAL_LINE_MAX - 1);
	big[WAL_LINE_MAX - 1] = '\0';
	memcpy(big, "{\"a\":\"", 6);
	memcpy(big + WAL_LINE_MAX - 3, "\"}", 2);
	assert_int_equal(wal_append(w, WAL_OBSERVED, 0, "r", big, &seq, &err),
			 ELAVA_E_TOOBIG);
	xfree(big);
	/* no seq was used up by the rejects */
	add(w, WAL_OBSERVED, "r", "{}", 1);
	struct ejson *v = ejson_object();
	ejson_object_set_take(v, "k", ejson_int(3));
	assert_int_equal(
	    wal_append_value(w, WAL_DECIDED, 0, NULL, v, &seq, NULL), 0);
	assert_int_equal(seq, 2);
	ejson_free(&v);
	v = ejson_array();
	assert_int_equal(
	    wal_append_value(w, WAL_DECIDED, 0, NULL, v, &seq, NULL),
	    ELAVA_E_INVAL);
	ejson_free(&v);
	assert_int_equal(wal_close(&w, NULL), 0);
	verify_ok(dir, 2);
}

static void test_not_durable_until_sync(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 0);
	struct got *g = xcalloc(1, sizeof(*g));

	add(w, WAL_OBSERVED, "r", "{}", 1);
	add(w, WAL_OBSERVED, "r", "{}", 2);
	assert_int_equal(wal_tail(dir, 10, collect, g, NULL), 0);
	assert_int_equal(g->n, 0);
	assert_int_equal(wal_sync(w, NULL), 0);
	assert_int_equal(wal_tail(dir, 10, collect, g, NULL), 0);
	assert_int_equal(g->n, 2);
	/* close makes the rest durable */
	add(w, WAL_OBSERVED, "r", "{}", 3);
	assert_int_equal(wal_close(&w, NULL), 0);
	verify_ok(dir, 3);
	xfree(g);
}

static void test_lock_busy(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 0), *w2 = NULL;
	struct wal_options o = {0};
	struct elava_error err = {0};

	o.dir = dir;
	assert_int_equal(wal_open(&o, &w2, &err), ELAVA_E_BUSY);
	assert_null(w2);
	assert_non_null(strstr(err.msg, dir));
	wal_close(&w, NULL);
	assert_int_equal(wal_open(&o, &w2, &err), 0);
	wal_close(&w2, NULL);
	assert_int_equal(wal_close(NULL, NULL), 0);
}

struct thread_arg {
	struct wal *w;
	int id;
};

static void *thread_main(void *p)
{
	struct thread_arg *a = p;

	for (int i = 0; i < 500; i++) {
		char res[32];
		snprintf(res, sizeof(res), "t%d", a->id);
		if (wal_append(a->w, WAL_OBSERVED, (uint64_t)i, res,
			       "{\"a\":1}", NULL, NULL))
			return p;
		if (i % 50 == 49 && wal_sync(a->w, NULL))
			return p;
	}
	return NULL;
}

static void test_threads(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 8192);
	struct thread_arg args[4];
	pthread_t th[4];

	for (int i = 0; i < 4; i++) {
		args[i].w = w;
		args[i].id = i;
		assert_int_equal(
		    pthread_create(&th[i], NULL, thread_main, &args[i]), 0);
	}
	for (int i = 0; i < 4; i++) {
		void *ret;
		pthread_join(th[i], &ret);
		assert_null(ret);
	}
	assert_int_equal(wal_close(&w, NULL), 0);
	verify_ok(dir, 2000);
	assert_true(segment_count(dir) > 10);
}

/* --------------------------------------------------------------- rotation */

static void test_rotation(void **state)
{
	const char *dir = *state;
	struct wal__seglist l;
	struct wal *w = open_wal(dir, 2048);

	fill(w, 100, 7);
	assert_int_equal(wal_close(&w, NULL), 0);
	segments(dir, &l);
	assert_true(l.n >= 10);
	for (size_t i = 0; i < l.n; i++) {
		struct stat st;
		struct lines ln;
		struct buf scratch;
		struct wal_entry e;

		assert_int_equal(stat(l.v[i].path, &st), 0);
		assert_true(st.st_size <= 2048);
		/* the name is the first seq in the file */
		lines_read(l.v[i].path, &ln);
		buf_init(&scratch, 0);
		assert_int_equal(
		    wal_line_parse(ln.v[0], ln.n[0], &e, &scratch, NULL), 0);
		assert_int_equal(e.seq, l.v[i].first_seq);
		buf_release(&scratch);
		lines_release(&ln);
	}
	wal__segments_release(&l);
	verify_ok(dir, 100);

	/* a reopen continues the chain; one big batch rotates several times */
	size_t before = segment_count(dir);
	w = open_wal(dir, 2048);
	fill(w, 60, 0);
	assert_int_equal(wal_close(&w, NULL), 0);
	assert_true(segment_count(dir) >= before + 5);
	verify_ok(dir, 160);

	struct got *g = xcalloc(1, sizeof(*g));
	assert_int_equal(wal_replay(dir, 0, NULL, collect, g, NULL), 0);
	assert_int_equal(g->n, 160);
	for (size_t i = 0; i < g->n; i++)
		assert_int_equal(g->seq[i], i + 1);
	xfree(g);
}

/* -------------------------------------------------------------- retention */

static void test_retention(void **state)
{
	const char *dir = *state;
	const int64_t hour = 3600LL * 1000000000;
	struct wal_options o = {0};
	struct wal *w = NULL;
	size_t removed = 0;
	struct wal_verify_report r;
	int64_t t0 = fake_now;

	o.dir = dir;
	o.segment_max_bytes = 2048;
	o.clock_ns = fake_clock;
	o.instance = "test-1";
	/* no automatic removal while filling: retention set later */
	assert_int_equal(wal_open(&o, &w, NULL), 0);
	fill(w, 20, 0); /* segments at t0 */
	fake_now = t0 + 2 * hour;
	fill(w, 20, 0); /* segments at t0+2h */
	fake_now = t0 + 4 * hour;
	fill(w, 3, 0); /* active segment at t0+4h */
	size_t total = segment_count(dir);
	assert_true(total >= 5);
	/* retention off: nothing happens */
	assert_int_equal(
	    wal_retention_apply(w, t0 + 100 * hour, &removed, NULL), 0);
	assert_int_equal(removed, 0);
	wal_close(&w, NULL);

	o.retention_ns = 3 * hour;
	assert_int_equal(wal_open(&o, &w, NULL), 0);
	/* cutoff t0+1h: only the t0 segments go */
	assert_int_equal(wal_retention_apply(w, t0 + 4 * hour, &removed, NULL),
			 0);
	assert_true(removed > 0);
	assert_int_equal(segment_count(dir), total - removed);
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_true(r.ok);
	assert_true(r.anchored);
	assert_true(r.first_seq > 1 && r.first_seq <= 21);
	assert_int_equal(r.last_seq, 43);

	/* far future: every closed segment goes, never the active one */
	assert_int_equal(
	    wal_retention_apply(w, t0 + 1000 * hour, &removed, NULL), 0);
	assert_int_equal(segment_count(dir), 1);
	assert_int_equal(
	    wal_retention_apply(w, t0 + 1000 * hour, &removed, NULL), 0);
	assert_int_equal(removed, 0);
	/* and the chain goes on from there */
	fill(w, 2, 0);
	wal_close(&w, NULL);
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_int_equal(r.last_seq, 45);
	assert_true(r.anchored);

	/* automatic: rotation applies retention with the handle's clock */
	assert_int_equal(wal_open(&o, &w, NULL), 0);
	fake_now = t0 + 2000 * hour;
	fill(w, 30, 0);
	wal_close(&w, NULL);
	struct got *g = xcalloc(1, sizeof(*g));
	assert_int_equal(wal_replay(dir, 0, NULL, collect, g, NULL), 0);
	assert_true(g->n < 32 && g->n > 0);
	assert_int_equal(g->seq[g->n - 1], 75);
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_true(r.anchored);
	assert_int_equal(r.entries, g->n);
	xfree(g);
}

/* ----------------------------------------------------- replay, tail, recover
 */

static void test_replay_filters(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 1024);
	struct wal_filter f = {0};
	struct got *g = xcalloc(1, sizeof(*g));

	add(w, WAL_OBSERVED, "a", NULL, 1);
	add(w, WAL_DECIDED, "a", NULL, 2);
	add(w, WAL_OBSERVED, "b", NULL, 3);
	add(w, WAL_EXECUTING, "a", NULL, 4);
	add(w, WAL_EXECUTED, "a", NULL, 5);
	add(w, WAL_OBSERVED, NULL, NULL, 6);
	fill(w, 30, 0); /* several segments */
	add(w, WAL_FAILED, "b", NULL, 37);
	assert_int_equal(wal_close(&w, NULL), 0);
	assert_true(segment_count(dir) > 3);

	assert_int_equal(wal_replay(dir, 0, NULL, collect, g, NULL), 0);
	assert_int_equal(g->n, 37);

	memset(g, 0, sizeof(*g));
	f.resource = "a";
	assert_int_equal(wal_replay(dir, 0, &f, collect, g, NULL), 0);
	assert_int_equal(g->n, 4);
	assert_int_equal(g->seq[3], 5);

	memset(g, 0, sizeof(*g));
	f.resource = "b";
	f.types = WAL_TYPE_BIT(WAL_FAILED) | WAL_TYPE_BIT(WAL_EXECUTED);
	assert_int_equal(wal_replay(dir, 0, &f, collect, g, NULL), 0);
	assert_int_equal(g->n, 1);
	assert_int_equal(g->seq[0], 37);

	memset(g, 0, sizeof(*g));
	f.resource = NULL;
	f.types = WAL_TYPE_BIT(WAL_OBSERVED);
	assert_int_equal(wal_replay(dir, 3, &f, collect, g, NULL), 0);
	assert_int_equal(g->seq[0], 3);
	assert_int_equal(g->seq[1], 6);
	for (size_t i = 0; i < g->n; i++)
		assert_int_equal(g->type[i], WAL_OBSERVED);

	/* since in a later segment; since past the end */
	memset(g, 0, sizeof(*g));
	assert_int_equal(wal_replay(dir, 30, NULL, collect, g, NULL), 0);
	assert_int_equal(g->n, 8);
	assert_int_equal(g->seq[0], 30);
	memset(g, 0, sizeof(*g));
	assert_int_equal(wal_replay(dir, 1000, NULL, collect, g, NULL), 0);
	assert_int_equal(g->n, 0);

	/* the callback stops the walk and its value comes back */
	memset(g, 0, sizeof(*g));
	g->stop_after = 2;
	assert_int_equal(wal_replay(dir, 0, NULL, collect, g, NULL), 42);
	assert_int_equal(g->n, 2);
	xfree(g);

	struct elava_error err = {0};
	assert_int_equal(
	    wal_replay("/nonexistent/elava-wal", 0, NULL, collect, NULL, &err),
	    ELAVA_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "/nonexistent/elava-wal"));
}

static void test_tail(void **state)
{
	const char *dir = *state;
	struct got *g = xcalloc(1, sizeof(*g));
	struct wal *w;

	/* empty or absent log */
	assert_int_equal(wal_tail(dir, 3, collect, g, NULL), 0);
	assert_int_equal(g->n, 0);

	w = open_wal(dir, 1024);
	fill(w, 40, 0);
	assert_int_equal(wal_close(&w, NULL), 0);
	assert_int_equal(wal_tail(dir, 3, collect, g, NULL), 0);
	assert_int_equal(g->n, 3);
	assert_int_equal(g->seq[0], 38);
	assert_int_equal(g->seq[2], 40);

	/* across segments, and more than there is */
	memset(g, 0, sizeof(*g));
	assert_int_equal(wal_tail(dir, 25, collect, g, NULL), 0);
	assert_int_equal(g->n, 25);
	for (size_t i = 0; i < 25; i++)
		assert_int_equal(g->seq[i], 16 + i);
	memset(g, 0, sizeof(*g));
	assert_int_equal(wal_tail(dir, 1000, collect, g, NULL), 0);
	assert_int_equal(g->n, 40);
	assert_int_equal(g->seq[0], 1);
	memset(g, 0, sizeof(*g));
	assert_int_equal(wal_tail(dir, 0, collect, g, NULL), 0);
	assert_int_equal(g->n, 0);
	xfree(g);
}

static void test_recover_pending(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 1024);
	struct got *g = xcalloc(1, sizeof(*g));

	add(w, WAL_EXECUTING, "A", "{\"op\":\"stop\"}", 1);
	add(w, WAL_EXECUTING, "B", NULL, 2);
	add(w, WAL_EXECUTED, "A", NULL, 3);
	add(w, WAL_EXECUTING, "C", NULL, 4);
	fill(w, 12, 0); /* noise, incl. executing for i-00x keys */
	add(w, WAL_FAILED, "C", NULL, 17);
	add(w, WAL_EXECUTING, "A", NULL, 18);
	add(w, WAL_EXECUTING, NULL, NULL, 19);
	add(w, WAL_SKIPPED, "B", NULL, 20);
	add(w, WAL_EXECUTING, "D", NULL, 21);
	add(w, WAL_EXECUTING, "D", NULL, 22);
	add(w, WAL_EXECUTED, "D", NULL, 23);
	/* settle the noise */
	for (int i = 0; i < 7; i++) {
		char res[64];
		snprintf(res, sizeof(res),
			 "aws:1:us-east-1:ec2_instance:i-%03d", i);
		add(w, WAL_EXECUTED, res, NULL, 0);
	}
	assert_int_equal(wal_close(&w, NULL), 0);

	assert_int_equal(wal_recover_pending(dir, collect, g, NULL), 0);
	assert_int_equal(g->n, 3);
	assert_int_equal(g->seq[0], 2);
	assert_string_equal(g->res[0], "B");
	assert_int_equal(g->seq[1], 18);
	assert_string_equal(g->res[1], "A");
	assert_int_equal(g->seq[2], 19);
	assert_string_equal(g->res[2], "(null)");

	memset(g, 0, sizeof(*g));
	g->stop_after = 1;
	assert_int_equal(wal_recover_pending(dir, collect, g, NULL), 42);
	xfree(g);
}

/* ---------------------------------------------------------- verify: damage */

static void test_verify_empty_and_missing(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct elava_error err = {0};

	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, 0);
	assert_string_equal(r.head_hash, wal__genesis);
	assert_int_equal(wal_verify("/nonexistent/elava-wal", &r, &err),
			 ELAVA_E_NOTFOUND);
	assert_false(r.ok);
	assert_non_null(strstr(err.msg, "cannot open WAL directory "
					"'/nonexistent/elava-wal'"));
}

/* Apply `edit` to line `idx` (0-based) of the only segment. */
static void edit_line(const char *dir, size_t idx, const char *from,
		      const char *to)
{
	char *seg = segment_path(dir, 0);
	struct lines l;
	struct buf b;
	char *at;

	lines_read(seg, &l);
	buf_init(&b, 0);
	buf_append(&b, l.v[idx], l.n[idx]);
	at = strstr(b.data, from);
	assert_non_null(at);
	assert_int_equal(strlen(from), strlen(to));
	memcpy(at, to, strlen(to));
	memcpy(l.v[idx], b.data, b.len);
	lines_write(seg, &l, NULL, l.count);
	buf_release(&b);
	lines_release(&l);
	xfree(seg);
}

static void test_verify_edited_byte(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;

	make_wal(dir, 20, 0);
	edit_line(dir, 4, "\"n\":4", "\"n\":5");
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, 5);
	assert_int_equal(r.line, 5);
	assert_int_equal(r.entries, 4);
	assert_non_null(strstr(r.reason, "hash mismatch"));
	assert_non_null(strstr(r.file, "wal-00000000000000000001.jsonl"));

	/* an edit that breaks the syntax is reported the same place */
	edit_line(dir, 4, "\"n\":5", "\"n\":x");
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, 5);
	assert_int_equal(r.line, 5);
	assert_non_null(strstr(r.reason, "unreadable entry"));
}

static void test_verify_rehashed_line(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	char *seg;
	struct lines l;
	char hash[WAL_HASH_HEX_SIZE];

	/*
	 * An edit whose own hash is recomputed still breaks the link from
	 * the next line.
	 */
	make_wal(dir, 10, 0);
	edit_line(dir, 2, "\"n\":2", "\"n\":9");
	seg = segment_path(dir, 0);
	lines_read(seg, &l);
	wal_line_hash(l.v[2], l.n[2], hash);
	memcpy(l.v[2] + l.n[2] - 2 - SHA256_HEX_LEN, hash, SHA256_HEX_LEN);
	lines_write(seg, &l, NULL, l.count);
	lines_release(&l);
	xfree(seg);
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, 4);
	assert_int_equal(r.line, 4);
	assert_non_null(strstr(r.reason, "prev does not match"));
}

static void test_verify_deleted_line(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	char *seg;
	struct lines l;
	size_t order[19];

	make_wal(dir, 20, 0);
	seg = segment_path(dir, 0);
	lines_read(seg, &l);
	for (size_t i = 0, k = 0; i < 20; i++)
		if (i != 9)
			order[k++] = i;
	lines_write(seg, &l, order, 19);
	lines_release(&l);
	xfree(seg);
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, 10);
	assert_int_equal(r.line, 10);
	assert_non_null(strstr(r.reason, "seq 10 expected, found seq 11"));
}

static void test_verify_swapped_lines(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	char *seg;
	struct lines l;
	size_t order[20];

	make_wal(dir, 20, 0);
	seg = segment_path(dir, 0);
	lines_read(seg, &l);
	for (size_t i = 0; i < 20; i++)
		order[i] = i;
	order[5] = 6;
	order[6] = 5;
	lines_write(seg, &l, order, 20);
	lines_release(&l);
	xfree(seg);
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, 6);
	assert_int_equal(r.line, 6);
	assert_non_null(strstr(r.reason, "seq 6 expected, found seq 7"));
}

static void test_torn_tail_trimmed(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct wal_head h;
	struct stat st;
	char *seg;
	struct wal *w;
	struct got *g = xcalloc(1, sizeof(*g));

	make_wal(dir, 20, 0);
	seg = segment_path(dir, 0);
	assert_int_equal(stat(seg, &st), 0);
	/* cut the last line in half: a crash during the write */
	assert_int_equal(truncate(seg, st.st_size - 100), 0);

	/* readers ignore the torn line and report it */
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_true(r.ok);
	assert_int_equal(r.entries, 19);
	assert_true(r.torn_bytes > 0 && r.torn_bytes < 300);
	assert_int_equal(wal_tail(dir, 1, collect, g, NULL), 0);
	assert_int_equal(g->seq[0], 19);

	/* open trims it, says so, and continues from seq 19 */
	w = open_wal(dir, 0);
	assert_non_null(strstr(logged, "trimmed torn tail"));
	assert_non_null(strstr(logged, seg));
	assert_non_null(strstr(logged, "an incomplete final line"));
	wal_head_get(w, &h);
	assert_int_equal(h.seq, 19);
	add(w, WAL_OBSERVED, "r", NULL, 20);
	assert_int_equal(wal_close(&w, NULL), 0);
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_int_equal(r.entries, 20);
	assert_int_equal(r.torn_bytes, 0);
	/* nothing else was lost */
	memset(g, 0, sizeof(*g));
	assert_int_equal(wal_replay(dir, 0, NULL, collect, g, NULL), 0);
	assert_int_equal(g->n, 20);
	assert_int_equal(g->type[19], WAL_OBSERVED);
	assert_int_equal(g->type[18], (enum wal_type)(18 % WAL_TYPE_COUNT));
	xfree(g);
	xfree(seg);
}

static void test_torn_tail_nul_garbage(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct wal_head h;
	struct stat st0, st;
	char *seg, *zeros = xcalloc(1, 3 << 20);
	struct wal *w;

	make_wal(dir, 20, 0);
	seg = segment_path(dir, 0);
	assert_int_equal(stat(seg, &st0), 0);
	/* a file extended with NULs by a crash (more than a line's worth) */
	append_file(seg, zeros, 3 << 20);
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_int_equal(r.entries, 20);
	assert_int_equal(r.torn_bytes, 3 << 20);
	w = open_wal(dir, 0);
	assert_non_null(strstr(logged, "NUL bytes"));
	wal_head_get(w, &h);
	assert_int_equal(h.seq, 20);
	wal_close(&w, NULL);
	assert_int_equal(stat(seg, &st), 0);
	assert_int_equal(st.st_size, st0.st_size);

	/* half a line followed by NULs */
	logged[0] = '\0';
	append_file(seg, "{\"seq\":21,\"ts\"", 15);
	append_file(seg, zeros, 4096);
	w = open_wal(dir, 0);
	assert_non_null(strstr(logged, "trimmed torn tail"));
	assert_non_null(strstr(logged, "4111 bytes after seq 20"));
	wal_close(&w, NULL);
	verify_ok(dir, 20);
	xfree(zeros);
	xfree(seg);
}

static void test_torn_only_segment_removed(void **state)
{
	const char *dir = *state;
	struct wal_head h;
	struct wal *w;
	char path[4096];

	/* crash right after a rotation: the new segment holds half a line */
	make_wal(dir, 10, 0);
	snprintf(path, sizeof(path), "%s/wal-00000000000000000011.jsonl", dir);
	write_file(path, "{\"seq\":11,", 10);
	verify_ok(dir, 10);
	w = open_wal(dir, 0);
	assert_non_null(strstr(logged, "held no complete entry"));
	wal_head_get(w, &h);
	assert_int_equal(h.seq, 10);
	add(w, WAL_OBSERVED, NULL, NULL, 11);
	wal_close(&w, NULL);
	assert_int_equal(segment_count(dir), 1);
	verify_ok(dir, 11);
}

static void test_corrupt_last_line_not_trimmed(void **state)
{
	const char *dir = *state;
	struct wal_options o = {0};
	struct elava_error err = {0};
	struct wal *w = NULL;
	struct stat st0, st;
	char *seg;

	make_wal(dir, 10, 0);
	edit_line(dir, 9, "\"n\":9", "\"n\":8");
	seg = segment_path(dir, 0);
	assert_int_equal(stat(seg, &st0), 0);
	o.dir = dir;
	assert_int_equal(wal_open(&o, &w, &err), ELAVA_E_CORRUPT);
	assert_null(w);
	assert_non_null(strstr(err.msg, "hash mismatch"));
	assert_non_null(strstr(err.msg, seg));
	assert_int_equal(stat(seg, &st), 0);
	assert_int_equal(st.st_size, st0.st_size);
	xfree(seg);
}

static void test_truncated_middle_segment(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct lines l;
	struct stat st;
	char *seg;

	make_wal(dir, 60, 2048);
	assert_true(segment_count(dir) >= 4);
	seg = segment_path(dir, 1);
	lines_read(seg, &l);
	assert_int_equal(stat(seg, &st), 0);
	assert_int_equal(truncate(seg, st.st_size - 50), 0);
	/* only the newest segment may end in a torn line */
	verify_bad(dir, &r);
	assert_string_equal(r.file, seg);
	assert_int_equal(r.line, l.count);
	assert_non_null(strstr(r.reason, "truncated"));
	lines_release(&l);
	xfree(seg);
}

static void test_verify_garbage_line(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct lines l;
	struct buf b;
	char *seg;

	/* a corrupt block: a line of junk in the middle of a segment */
	make_wal(dir, 10, 0);
	seg = segment_path(dir, 0);
	lines_read(seg, &l);
	buf_init(&b, 0);
	for (size_t i = 0; i < l.count; i++) {
		if (i == 3)
			buf_puts(&b, "\x01\x02 not json\n");
		buf_append(&b, l.v[i], l.n[i]);
		buf_putc(&b, '\n');
	}
	write_file(seg, b.data, b.len);
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, 4);
	assert_int_equal(r.line, 4);
	assert_non_null(strstr(r.reason, "unreadable entry"));
	buf_release(&b);
	lines_release(&l);
	xfree(seg);
}

static void test_garbage_without_newline(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct wal_options o = {0};
	struct wal *w = NULL;
	char *seg, *junk = xmalloc(WAL_LINE_MAX + 10);

	make_wal(dir, 10, 0);
	seg = segment_path(dir, 0);
	/* not a torn write: more than a line of text with no newline */
	memset(junk, 'x', WAL_LINE_MAX + 10);
	append_file(seg, junk, WAL_LINE_MAX + 10);
	verify_bad(dir, &r);
	assert_int_equal(r.line, 11);
	assert_int_equal(r.bad_seq, 11);
	assert_non_null(strstr(r.reason, "no newline"));
	o.dir = dir;
	assert_int_equal(wal_open(&o, &w, NULL), ELAVA_E_CORRUPT);
	xfree(junk);
	xfree(seg);
}

static void test_missing_middle_segment(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct wal__seglist l;

	make_wal(dir, 60, 2048);
	segments(dir, &l);
	assert_true(l.n >= 4);
	uint64_t gone = l.v[1].first_seq, next = l.v[2].first_seq;
	assert_int_equal(unlink(l.v[1].path), 0);
	verify_bad(dir, &r);
	assert_int_equal(r.bad_seq, gone);
	assert_string_equal(r.file, l.v[2].path);
	assert_int_equal(r.line, 1);
	assert_non_null(strstr(r.reason, "missing"));
	assert_non_null(strstr(r.reason, "segment deleted"));
	char want[64];
	snprintf(want, sizeof(want), "starts at seq %llu",
		 (unsigned long long)next);
	assert_non_null(strstr(r.reason, want));
	wal__segments_release(&l);
}

static void test_deleted_oldest_segment_is_anchor(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	struct wal__seglist l;
	struct lines ln;
	struct buf scratch;
	struct wal_entry e;

	make_wal(dir, 60, 2048);
	segments(dir, &l);
	assert_int_equal(unlink(l.v[0].path), 0);
	assert_int_equal(wal_verify(dir, &r, NULL), 0);
	assert_true(r.ok);
	assert_true(r.anchored);
	assert_int_equal(r.first_seq, l.v[1].first_seq);
	assert_int_equal(r.last_seq, 60);
	assert_int_equal(r.entries, 60 - l.v[1].first_seq + 1);
	/* the anchor is the first remaining entry's prev */
	lines_read(l.v[1].path, &ln);
	buf_init(&scratch, 0);
	assert_int_equal(wal_line_parse(ln.v[0], ln.n[0], &e, &scratch, NULL),
			 0);
	assert_string_equal(r.anchor_prev, e.prev);
	buf_release(&scratch);
	lines_release(&ln);
	wal__segments_release(&l);
}

static void test_renamed_segment(void **state)
{
	const char *dir = *state;
	struct wal_verify_report r;
	char path[4096];
	char *seg;

	make_wal(dir, 10, 0);
	seg = segment_path(dir, 0);
	snprintf(path, sizeof(path), "%s/wal-00000000000000000005.jsonl", dir);
	assert_int_equal(rename(seg, path), 0);
	verify_bad(dir, &r);
	assert_non_null(strstr(r.reason, "file name says"));
	xfree(seg);
}

/* ------------------------------------------------------- poisoned handle */

static void test_poisoned_after_failed_write(void **state)
{
	const char *dir = *state;
	struct wal *w = open_wal(dir, 0);
	struct elava_error err = {0};
	struct rlimit old, lim;
	struct wal_head h;
	struct stat st;
	char *seg;
	int rc;

	fill(w, 5, 0);
	seg = segment_path(dir, 0);
	assert_int_equal(stat(seg, &st), 0);
	/*
	 * A real write failure without touching the library's fd: the
	 * process file-size limit makes write() stop part-way and then fail
	 * with EFBIG, as a full disk would.
	 */
	assert_int_equal(getrlimit(RLIMIT_FSIZE, &old), 0);
	lim = old;
	lim.rlim_cur = (rlim_t)st.st_size + 100;
	signal(SIGXFSZ, SIG_IGN);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &lim), 0);
	for (int i = 0; i < 5; i++)
		add(w, WAL_DECIDED, "r", "{\"pad\":\"xxxxxxxxxxxxxxxxxxxx\"}",
		    0);
	rc = wal_sync(w, &err);
	assert_int_equal(setrlimit(RLIMIT_FSIZE, &old), 0);
	signal(SIGXFSZ, SIG_DFL);
	assert_int_equal(rc, ELAVA_E_NOSPACE);
	assert_non_null(strstr(err.msg, "cannot write WAL segment"));
	assert_non_null(strstr(logged, "unusable"));

	/* poisoned: an acknowledged write cannot be taken back */
	assert_int_equal(wal_append(w, WAL_OBSERVED, 0, NULL, NULL, NULL, &err),
			 ELAVA_E_STATE);
	assert_non_null(strstr(err.msg, "unusable after an earlier failure"));
	assert_int_equal(wal_sync(w, &err), ELAVA_E_STATE);
	wal_head_get(w, &h);
	assert_int_equal(h.durable_seq, 5);
	assert_int_equal(wal_close(&w, &err), ELAVA_E_STATE);
	assert_null(w);

	/* reopening keeps the durable entries and trims the partial write */
	logged[0] = '\0';
	w = open_wal(dir, 0);
	assert_non_null(strstr(logged, "trimmed torn tail"));
	wal_head_get(w, &h);
	assert_int_equal(h.seq, 5);
	add(w, WAL_OBSERVED, NULL, NULL, 6);
	assert_int_equal(wal_close(&w, NULL), 0);
	verify_ok(dir, 6);
	xfree(seg);
}

#define T(f) cmocka_unit_test_setup_teardown(f, setup, teardown)

int main(void)
{
	const struct CMUnitTest tests[] = {
	    T(test_type_names),
	    T(test_line_roundtrip),
	    T(test_line_parse_rejects),
	    T(test_ts_format_parse),
	    T(test_json_validator),
	    T(test_append_sync_reopen),
	    T(test_append_rejects),
	    T(test_not_durable_until_sync),
	    T(test_lock_busy),
	    T(test_threads),
	    T(test_rotation),
	    T(test_retention),
	    T(test_replay_filters),
	    T(test_tail),
	    T(test_recover_pending),
	    T(test_verify_empty_and_missing),
	    T(test_verify_edited_byte),
	    T(test_verify_rehashed_line),
	    T(test_verify_deleted_line),
	    T(test_verify_swapped_lines),
	    T(test_torn_tail_trimmed),
	    T(test_torn_tail_nul_garbage),
	    T(test_torn_only_segment_removed),
	    T(test_corrupt_last_line_not_trimmed),
	    T(test_truncated_middle_segment),
	    T(test_verify_garbage_line),
	    T(test_garbage_without_newline),
	    T(test_missing_middle_segment),
	    T(test_deleted_oldest_segment_is_anchor),
	    T(test_renamed_segment),
	    T(test_poisoned_after_failed_write),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
