/*
 * Unit tests for the MVCC store: recording scans (created / modified /
 * disappeared, the completeness gate, duplicates, long keys, noise
 * control), reads (inventory now / at a revision / at a time, history,
 * diff, change events, scans, stat), compaction, concurrency between
 * processes, map growth, and bad input (not a store, newer format, full
 * map, full disk, unreadable directory, invalid resources).
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <fcntl.h>
#include <lmdb.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mount.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#include "store/store.h"

static char tmpl[] = "/tmp/elava-store-test-XXXXXX";
static char *root;
static int dir_seq;
/* In a forked child, failing must end the child, not run cmocka's jump. */
static bool in_child;

#define FAIL(...)                                                              \
	do {                                                                   \
		if (in_child) {                                                \
			fprintf(stderr, __VA_ARGS__);                          \
			_exit(1);                                              \
		}                                                              \
		fail_msg(__VA_ARGS__);                                         \
	} while (0)

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

static struct store *open_store(const char *path, size_t initial, size_t max,
				const struct resource_ignore *ign)
{
	struct store_options o = {0};
	struct elava_error err = {0};
	struct store *s = NULL;

	o.path = path;
	o.initial_map_size = initial;
	o.max_map_size = max;
	o.ignore = ign;
	if (store_open(&o, &s, &err))
		FAIL("store_open: %s", err.msg);
	return s;
}

/* A realistic-looking resource: id, a few tags, nested attributes. */
static void make(struct resource *r, const char *region, const char *type,
		 const char *id, const char *env, int size)
{
	char buf[64];

	resource_init(r);
	resource_set(&r->provider, "aws");
	resource_set(&r->account, "123456789012");
	resource_set(&r->region, region);
	resource_set(&r->type, type);
	resource_set(&r->id, id);
	resource_set(&r->name, id);
	resource_set(&r->status, "running");
	r->created_at_ns = 1700000000000000000LL;
	resource_tag_set(r, "Env", env);
	resource_tag_set(r, "Team", "platform");
	snprintf(buf, sizeof(buf), "{\"size\":%d,\"nested\":{\"a\":[1,2]}}",
		 size);
	ejson_free(&r->attributes);
	if (ejson_parse(buf, strlen(buf), &r->attributes, NULL))
		FAIL("bad attributes");
}

static void add(struct store_scan *sc, const char *region, const char *type,
		const char *id, const char *env, int size)
{
	struct resource r;
	struct elava_error err = {0};

	make(&r, region, type, id, env, size);
	if (store_scan_add(sc, &r, &err))
		FAIL("add: %s", err.msg);
	resource_release(&r);
}

#define SCOPE_I	  "aws:123456789012:us-east-1:ec2_instance"
#define SCOPE_V	  "aws:123456789012:us-east-1:ebs_volume"
#define KEY_I(id) SCOPE_I ":" id

static struct store_scan_result commit(struct store_scan **sc)
{
	struct store_scan_result res;
	struct elava_error err = {0};

	if (store_scan_commit(*sc, &res, &err))
		FAIL("commit: %s", err.msg);
	store_scan_free(sc);
	return res;
}

static struct store_scan *begin(struct store *s)
{
	struct store_scan *sc = NULL;
	struct elava_error err = {0};

	if (store_scan_begin(s, &sc, &err))
		FAIL("begin: %s", err.msg);
	return sc;
}

/* Collects inventory keys into one newline-separated string. */
static int collect_key(const struct store_item *it, void *ud)
{
	struct buf *b = ud;
	buf_puts(b, it->key);
	buf_putc(b, '\n');
	return 0;
}

static char *inventory(struct store *s, uint64_t rev,
		       const struct store_filter *f)
{
	struct buf b;
	struct elava_error err = {0};

	buf_init(&b, 0);
	if (store_inventory(s, rev, f, collect_key, &b, &err))
		fail_msg("inventory: %s", err.msg);
	return buf_detach(&b, NULL);
}

static int collect_change(const struct store_change *c, void *ud)
{
	struct buf *b = ud;
	buf_printf(b, "%llu %s %s %s\n", (unsigned long long)c->revision,
		   store_change_kind_name(c->kind), c->key, c->fields_json);
	return 0;
}

/* Baseline, then created / modified / disappeared with field diffs. */
static void test_scan_lifecycle(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_scan *sc = begin(s);
	struct store_scan_result res;
	struct elava_error err = {0};
	struct buf b;
	char *inv;
	(void)state;

	add(sc, "us-east-1", "ec2_instance", "i-1", "prod", 10);
	add(sc, "us-east-1", "ec2_instance", "i-2", "prod", 20);
	add(sc, "us-east-1", "ebs_volume", "vol-1", "dev", 30);
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_complete(sc, SCOPE_V);
	res = commit(&sc);
	assert_int_equal(res.revision, 1);
	assert_true(res.baseline);
	assert_int_equal(res.created, 3);
	assert_int_equal(res.resource_count, 3);
	assert_string_equal(res.status, "success");

	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "staging", 10); /* tag */
	add(sc, "us-east-1", "ec2_instance", "i-3", "prod", 5);	    /* new */
	add(sc, "us-east-1", "ebs_volume", "vol-1", "dev", 31);	    /* attr */
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_complete(sc, SCOPE_V);
	res = commit(&sc);
	assert_int_equal(res.revision, 2);
	assert_false(res.baseline);
	assert_int_equal(res.created, 1);
	assert_int_equal(res.modified, 2);
	assert_int_equal(res.disappeared, 1); /* i-2 */
	assert_int_equal(res.unchanged, 0);

	inv = inventory(s, 0, NULL);
	assert_string_equal(inv, SCOPE_V
			    ":vol-1\n" KEY_I("i-1") "\n" KEY_I("i-3") "\n");
	xfree(inv);
	inv = inventory(s, 1, NULL);
	assert_string_equal(inv, SCOPE_V
			    ":vol-1\n" KEY_I("i-1") "\n" KEY_I("i-2") "\n");
	xfree(inv);

	buf_init(&b, 0);
	assert_int_equal(store_changes(s, 1, 0, collect_change, &b, &err), 0);
	assert_string_equal(
	    b.data,
	    "2 modified " SCOPE_V ":vol-1 [{\"new\":31,\"old\":30,\"path\":"
	    "\"attributes.size\"}]\n"
	    "2 modified " KEY_I("i-1") " [{\"new\":\"staging\",\"old\":"
				       "\"prod\",\"path\":\"tags.Env\"}]\n"
				       "2 disappeared " KEY_I(
					   "i-2") " []\n"
						  "2 created " KEY_I(
						      "i-3") " []\n");
	buf_reset(&b);
	assert_int_equal(
	    store_history(s, KEY_I("i-2"), collect_change, &b, &err), 0);
	assert_string_equal(
	    b.data,
	    "1 created " KEY_I("i-2") " []\n"
				      "2 disappeared " KEY_I("i-2") " []\n");
	buf_reset(&b);
	assert_int_equal(store_diff(s, 1, 2, collect_change, &b, &err), 0);
	assert_non_null(strstr(b.data, "created " KEY_I("i-3")));
	assert_non_null(strstr(b.data, "disappeared " KEY_I("i-2")));
	assert_non_null(strstr(b.data, "\"path\":\"tags.Env\""));
	buf_release(&b);

	assert_int_equal(
	    store_history(s, KEY_I("i-404"), collect_change, &b, &err),
	    ELAVA_E_NOTFOUND);
	store_close(&s);
	xfree(dir);
}

/* A scan that changes nothing stores no versions, only its metadata. */
static void test_unchanged_scan(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_stat a;
	struct elava_error err = {0};
	(void)state;

	for (int round = 0; round < 3; round++) {
		struct store_scan *sc = begin(s);
		for (int i = 0; i < 50; i++) {
			char id[16];
			snprintf(id, sizeof(id), "i-%d", i);
			add(sc, "us-east-1", "ec2_instance", id, "prod", i);
		}
		store_scan_scope_complete(sc, SCOPE_I);
		struct store_scan_result res = commit(&sc);
		assert_int_equal(res.created, round == 0 ? 50 : 0);
		assert_int_equal(res.unchanged, round == 0 ? 0 : 50);
	}
	assert_int_equal(store_stat(s, &a, &err), 0);
	assert_int_equal(a.revision, 3);
	assert_int_equal(a.versions, 50);
	assert_int_equal(a.resources, 50);
	assert_int_equal(a.changes, 50);
	assert_int_equal(a.scans, 3);
	assert_int_equal(a.format_version, STORE_FORMAT_VERSION);
	store_close(&s);
	xfree(dir);
}

/* Failed or undeclared scopes never make resources look deleted. */
static void test_completeness_gate(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_scan *sc = begin(s);
	struct store_scan_result res;
	char *inv;
	(void)state;

	add(sc, "us-east-1", "ec2_instance", "i-1", "prod", 1);
	add(sc, "us-east-1", "ebs_volume", "vol-1", "prod", 1);
	add(sc, "eu-west-1", "ebs_volume", "vol-2", "prod", 1);
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_complete(sc, SCOPE_V);
	store_scan_scope_complete(sc, "aws:123456789012:eu-west-1:ebs_volume");
	commit(&sc);

	/* volumes in us-east-1 failed, eu-west-1 not listed at all */
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "prod", 1);
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_failed(sc, SCOPE_V,
				"Throttling: Rate exceeded (after 5 retries)");
	res = commit(&sc);
	assert_int_equal(res.disappeared, 0);
	assert_int_equal(res.error_count, 1);
	assert_string_equal(res.status, "partial");
	inv = inventory(s, 0, NULL);
	assert_non_null(strstr(inv, "vol-1"));
	assert_non_null(strstr(inv, "vol-2"));
	xfree(inv);

	/* a scope both completed and failed counts as failed */
	sc = begin(s);
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_failed(sc, SCOPE_I, "AccessDenied");
	res = commit(&sc);
	assert_int_equal(res.disappeared, 0);

	/* everything failed, nothing observed */
	sc = begin(s);
	store_scan_scope_failed(sc, NULL, "no credentials");
	res = commit(&sc);
	assert_string_equal(res.status, "failed");
	assert_int_equal(res.disappeared, 0);

	/* zero resources in a complete scope: its resources disappear */
	sc = begin(s);
	store_scan_scope_complete(sc, SCOPE_I);
	res = commit(&sc);
	assert_int_equal(res.disappeared, 1);
	assert_string_equal(res.status, "success");
	inv = inventory(s, 0, NULL);
	assert_null(strstr(inv, "i-1"));
	xfree(inv);

	sc = begin(s);
	assert_int_equal(store_scan_scope_complete(sc, "bad"), ELAVA_E_INVAL);
	assert_int_equal(store_scan_scope_complete(sc, "aws:1:r:t:extra"),
			 ELAVA_E_INVAL);
	store_scan_free(&sc);
	store_close(&s);
	xfree(dir);
}

static int count_scans(const struct store_scan_meta *m, void *ud)
{
	struct buf *b = ud;
	buf_printf(b, "%llu:%s:%zu ", (unsigned long long)m->revision,
		   m->status, m->error_count);
	return 0;
}

/* Scan metadata, newest first; filtered inventory; time travel. */
static void test_reads(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct elava_error err = {0};
	struct store_filter f = {0};
	int64_t t_before = time_now_ns();
	int64_t t_mid = 0;
	uint64_t rev;
	struct buf b;
	char *inv;
	(void)state;

	assert_int_equal(store_revision_at_time(s, t_before, &rev, &err),
			 ELAVA_E_NOTFOUND);
	assert_int_equal(store_inventory(s, 0, NULL, collect_key, NULL, &err),
			 ELAVA_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "has no scans recorded yet"));
	for (int round = 0; round < 4; round++) {
		struct store_scan *sc = begin(s);
		add(sc, "us-east-1", "ec2_instance", "i-1", "prod", round);
		add(sc, "eu-west-1", "ebs_volume", "vol-9", "dev", 1);
		if (round == 2)
			store_scan_scope_failed(sc, SCOPE_V, "boom");
		commit(&sc);
		if (round == 1)
			t_mid = time_now_ns();
	}
	assert_int_equal(store_revision_at_time(s, t_mid, &rev, &err), 0);
	assert_int_equal(rev, 2);
	assert_int_equal(store_revision_at_time(s, time_now_ns(), &rev, &err),
			 0);
	assert_int_equal(rev, 4);

	buf_init(&b, 0);
	assert_int_equal(store_scans(s, 0, count_scans, &b, &err), 0);
	assert_string_equal(b.data,
			    "4:success:0 3:partial:1 2:success:0 1:success:0 ");
	buf_reset(&b);
	assert_int_equal(store_scans(s, 2, count_scans, &b, &err), 0);
	assert_string_equal(b.data, "4:success:0 3:partial:1 ");
	buf_release(&b);

	f.region = "eu-west-1";
	inv = inventory(s, 0, &f);
	assert_string_equal(inv,
			    "aws:123456789012:eu-west-1:ebs_volume:vol-9\n");
	xfree(inv);
	memset(&f, 0, sizeof(f));
	f.type = "ec2_instance";
	f.tag_key = "Env";
	f.tag_value = "prod";
	inv = inventory(s, 0, &f);
	assert_string_equal(inv, KEY_I("i-1") "\n");
	xfree(inv);
	f.tag_value = "dev";
	inv = inventory(s, 0, &f);
	assert_string_equal(inv, "");
	xfree(inv);

	assert_int_equal(store_inventory(s, 9, NULL, collect_key, NULL, &err),
			 ELAVA_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "current revision is 4"));
	store_close(&s);
	xfree(dir);
}

/* Same key twice in one scan: the last one wins, one version stored. */
static void test_duplicates_and_noise(void **state)
{
	char *dir = new_dir();
	struct resource_ignore *ign = resource_ignore_new();
	struct store *s;
	struct store_scan *sc;
	struct store_scan_result res;
	struct store_stat st;
	struct elava_error err = {0};
	(void)state;

	assert_int_equal(
	    resource_ignore_add(ign, "ec2_instance", "attributes.size"), 0);
	s = open_store(dir, 0, 0, ign);
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "a", 1);
	add(sc, "us-east-1", "ec2_instance", "i-1", "b", 1);
	res = commit(&sc);
	assert_int_equal(res.created, 1);
	assert_int_equal(res.resource_count, 1);

	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "b", 999); /* ignored */
	res = commit(&sc);
	assert_int_equal(res.modified, 0);
	assert_int_equal(res.unchanged, 1);
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_int_equal(st.versions, 1);
	store_close(&s);
	resource_ignore_free(&ign);
	xfree(dir);
}

/* Keys beyond LMDB's key limit are stored hashed and read back whole. */
static void test_long_keys(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_scan *sc = begin(s);
	struct buf b;
	char id[1200];
	char key[1400];
	struct elava_error err = {0};
	char *inv;
	(void)state;

	memset(id, 'x', sizeof(id) - 1);
	memcpy(id, "arn:aws:thing:", 14);
	id[sizeof(id) - 1] = '\0';
	snprintf(key, sizeof(key), "%s:%s", SCOPE_I, id);
	add(sc, "us-east-1", "ec2_instance", id, "prod", 1);
	store_scan_scope_complete(sc, SCOPE_I);
	commit(&sc);
	inv = inventory(s, 0, NULL);
	assert_int_equal(strlen(inv), strlen(key) + 1);
	assert_memory_equal(inv, key, strlen(key));
	xfree(inv);

	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", id, "dev", 1);
	commit(&sc);
	sc = begin(s);
	store_scan_scope_complete(sc, SCOPE_I);
	commit(&sc);
	buf_init(&b, 0);
	assert_int_equal(store_history(s, key, collect_change, &b, &err), 0);
	assert_non_null(
	    strstr(b.data, "1 created " SCOPE_I ":arn:aws:thing:xx"));
	assert_non_null(strstr(b.data, "2 modified"));
	assert_non_null(strstr(b.data, "3 disappeared"));
	buf_reset(&b);
	assert_int_equal(store_changes(s, 2, 0, collect_change, &b, &err), 0);
	assert_non_null(strstr(b.data, key));
	buf_release(&b);
	store_close(&s);
	xfree(dir);
}

/* Invalid resources are refused with a message; nothing is stored. */
static void test_invalid_resources(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_scan *sc = begin(s);
	struct store_scan_result res;
	struct elava_error err = {0};
	struct resource r;
	(void)state;

	make(&r, "us-east-1", "ec2_instance", "", "prod", 1);
	assert_int_equal(store_scan_add(sc, &r, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "id"));
	resource_release(&r);
	make(&r, "us-east-1", "ec2_instance", "i-1", "bad\xff", 1);
	assert_int_equal(store_scan_add(sc, &r, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "UTF-8"));
	resource_release(&r);
	res = commit(&sc);
	assert_int_equal(res.created, 0);
	assert_int_equal(res.revision, 1);
	store_close(&s);
	xfree(dir);
}

/* Compaction keeps later revisions answerable and live resources. */
static void test_compaction(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_compact_result cr;
	struct store_stat st;
	struct elava_error err = {0};
	char *before[8] = {0};
	struct buf b;
	(void)state;

	/* i-keep: created once, never changes. i-flip: changes each scan.
	 * i-gone: disappears at revision 3. */
	for (int round = 1; round <= 6; round++) {
		struct store_scan *sc = begin(s);
		add(sc, "us-east-1", "ec2_instance", "i-keep", "prod", 1);
		add(sc, "us-east-1", "ec2_instance", "i-flip", "prod", round);
		if (round < 3)
			add(sc, "us-east-1", "ec2_instance", "i-gone", "prod",
			    1);
		store_scan_scope_complete(sc, SCOPE_I);
		commit(&sc);
		before[round] = inventory(s, (uint64_t)round, NULL);
	}
	assert_int_equal(store_compact(s, 4, &cr, &err), 0);
	assert_int_equal(cr.compacted_revision, 4);
	/* i-flip r1..r3 (3), i-gone r1 + tombstone r3 (2) */
	assert_int_equal(cr.versions_removed, 5);
	assert_int_equal(cr.keys_removed, 1);
	for (int round = 4; round <= 6; round++) {
		char *now = inventory(s, (uint64_t)round, NULL);
		assert_string_equal(now, before[round]);
		xfree(now);
	}
	assert_int_equal(store_inventory(s, 3, NULL, collect_key, NULL, &err),
			 ELAVA_E_COMPACTED);
	assert_non_null(strstr(err.msg, "oldest available is 4"));
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_int_equal(st.compacted_revision, 4);
	assert_int_equal(st.resources, 2);
	buf_init(&b, 0);
	assert_int_equal(
	    store_history(s, KEY_I("i-keep"), collect_change, &b, &err), 0);
	assert_string_equal(b.data, "1 created " KEY_I("i-keep") " []\n");
	buf_release(&b);
	/* idempotent; an older target finishes nothing new */
	assert_int_equal(store_compact(s, 2, &cr, &err), 0);
	assert_int_equal(cr.compacted_revision, 4);
	assert_int_equal(cr.versions_removed, 0);
	assert_int_equal(store_compact(s, 99, &cr, &err), ELAVA_E_INVAL);
	/* scanning still works after compaction */
	struct store_scan *sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-keep", "prod", 1);
	store_scan_scope_complete(sc, SCOPE_I);
	struct store_scan_result res = commit(&sc);
	assert_int_equal(res.disappeared, 1); /* i-flip */
	for (int i = 0; i < 8; i++)
		xfree(before[i]);
	store_close(&s);
	xfree(dir);
}

/* A writer commits while a scan runs: the scan reconciles against it. */
static void test_concurrent_scans(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store *s2 = open_store(dir, 0, 0, NULL);
	struct store_scan *a, *b;
	struct store_scan_result res;
	char *inv;
	(void)state;

	a = begin(s);
	add(a, "us-east-1", "ec2_instance", "i-1", "prod", 1);
	add(a, "us-east-1", "ec2_instance", "i-2", "prod", 1);
	store_scan_scope_complete(a, SCOPE_I);
	commit(&a);

	a = begin(s); /* snapshot at revision 1 */
	add(a, "us-east-1", "ec2_instance", "i-1", "prod", 1); /* unchanged */
	add(a, "us-east-1", "ec2_instance", "i-2", "prod", 1);
	store_scan_scope_complete(a, SCOPE_I);

	b = begin(s2); /* another instance modifies i-1, creates i-3 */
	add(b, "us-east-1", "ec2_instance", "i-1", "staging", 1);
	add(b, "us-east-1", "ec2_instance", "i-2", "prod", 1);
	add(b, "us-east-1", "ec2_instance", "i-3", "prod", 1);
	store_scan_scope_complete(b, SCOPE_I);
	res = commit(&b);
	assert_int_equal(res.revision, 2);

	res = commit(&a); /* last observation wins; i-3 is newer than a */
	assert_int_equal(res.revision, 3);
	assert_int_equal(res.modified, 1);
	assert_int_equal(res.disappeared, 0);
	inv = inventory(s, 0, NULL);
	assert_string_equal(
	    inv, KEY_I("i-1") "\n" KEY_I("i-2") "\n" KEY_I("i-3") "\n");
	xfree(inv);
	struct store_filter f = {0};
	f.tag_key = "Env";
	f.tag_value = "prod";
	inv = inventory(s, 3, &f);
	assert_non_null(strstr(inv, "i-1"));
	xfree(inv);
	store_close(&s);
	store_close(&s2);
	xfree(dir);
}

/* Two processes write at once: every scan lands, none is lost. */
static void test_two_processes(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_stat st;
	struct elava_error err = {0};
	pid_t pids[2];
	(void)state;

	store_close(&s);
	for (int p = 0; p < 2; p++) {
		pids[p] = fork();
		assert_true(pids[p] >= 0);
		if (pids[p] == 0) {
			in_child = true;
			struct store *cs = open_store(dir, 0, 0, NULL);
			const char *region = p ? "eu-west-1" : "us-east-1";
			char scope[128];
			snprintf(scope, sizeof(scope),
				 "aws:123456789012:%s:ec2_instance", region);
			for (int round = 0; round < 15; round++) {
				struct store_scan *sc = begin(cs);
				for (int i = 0; i < 20; i++) {
					char id[16];
					snprintf(id, sizeof(id), "i-%d", i);
					add(sc, region, "ec2_instance", id,
					    "prod", round);
				}
				store_scan_scope_complete(sc, scope);
				commit(&sc);
			}
			store_close(&cs);
			_exit(0);
		}
	}
	for (int p = 0; p < 2; p++) {
		int status;
		assert_int_equal(waitpid(pids[p], &status, 0), pids[p]);
		assert_true(WIFEXITED(status) && WEXITSTATUS(status) == 0);
	}
	s = open_store(dir, 0, 0, NULL);
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_int_equal(st.revision, 30);
	assert_int_equal(st.scans, 30);
	assert_int_equal(st.resources, 40);
	assert_int_equal(st.versions, 2 * 15 * 20);
	store_close(&s);
	xfree(dir);
}

static void fill(struct store *s, int n, int round)
{
	struct store_scan *sc = begin(s);
	for (int i = 0; i < n; i++) {
		char id[32];
		snprintf(id, sizeof(id), "i-%08d", i);
		add(sc, "us-east-1", "ec2_instance", id, "prod", round);
	}
	store_scan_scope_complete(sc, SCOPE_I);
	commit(&sc);
}

/* The map grows instead of failing; a configured cap is honoured. */
static void test_map_growth_and_cap(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 1 << 20, 0, NULL);
	struct store_stat st;
	struct elava_error err = {0};
	struct store_scan *sc;
	(void)state;

	fill(s, 3000, 0);
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_true(st.map_bytes > (1 << 20));
	assert_int_equal(st.resources, 3000);
	store_close(&s);

	xfree(dir);

	/* capped: the big commit fails, what was stored stays intact */
	dir = new_dir();
	s = open_store(dir, 4 << 20, 4 << 20, NULL);
	fill(s, 3000, 0);
	sc = begin(s);
	for (int i = 0; i < 20000; i++) {
		char id[32];
		snprintf(id, sizeof(id), "j-%08d", i);
		add(sc, "us-east-1", "ec2_instance", id, "prod", 7);
	}
	assert_int_equal(store_scan_commit(sc, NULL, &err), ELAVA_E_NOSPACE);
	assert_non_null(strstr(err.msg, "full"));
	store_scan_free(&sc);
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_int_equal(st.revision, 1);
	assert_int_equal(st.resources, 3000);
	store_close(&s);
	xfree(dir);
}

static void write_file(const char *path, const char *data)
{
	FILE *f = fopen(path, "w");
	assert_non_null(f);
	fputs(data, f);
	fclose(f);
}

/* Paths that are not stores are refused, never overwritten. */
static void test_not_a_store(void **state)
{
	struct store_options o = {0};
	struct elava_error err = {0};
	struct store *s = NULL;
	char *dir = new_dir(), path[4200];
	(void)state;

	/* a regular file */
	write_file(dir, "hello");
	o.path = dir;
	assert_int_equal(store_open(&o, &s, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "not a directory"));
	unlink(dir);

	/* a directory with someone else's files */
	mkdir(dir, 0700);
	snprintf(path, sizeof(path), "%s/notes.txt", dir);
	write_file(path, "mine");
	assert_int_equal(store_open(&o, &s, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "not an elava store"));
	assert_non_null(strstr(err.msg, "notes.txt"));
	unlink(path);

	/* data.mdb that is not LMDB */
	snprintf(path, sizeof(path), "%s/data.mdb", dir);
	write_file(path, "this is not a database, just text padding......");
	assert_int_equal(store_open(&o, &s, &err), ELAVA_E_CORRUPT);
	assert_non_null(strstr(err.msg, "not an elava store"));
	unlink(path);

	/* read-only open of a missing store */
	o.read_only = true;
	assert_int_equal(store_open(&o, &s, &err), ELAVA_E_NOTFOUND);
	assert_null(s);
	xfree(dir);
}

/* An LMDB file of another program, and a store of a newer format. */
static void test_foreign_and_newer_format(void **state)
{
	char *dir = new_dir();
	struct store_options o = {0};
	struct elava_error err = {0};
	struct store *s = NULL;
	MDB_env *env;
	MDB_txn *txn;
	MDB_dbi dbi;
	MDB_val k, v;
	uint8_t ver[8];
	(void)state;

	/* someone else's LMDB environment */
	mkdir(dir, 0700);
	assert_int_equal(mdb_env_create(&env), 0);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, NULL, 0, &dbi), 0);
	k.mv_data = (void *)(uintptr_t) "x";
	k.mv_size = 1;
	v = k;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	o.path = dir;
	assert_int_equal(store_open(&o, &s, &err), ELAVA_E_CORRUPT);
	assert_non_null(strstr(err.msg, "not an elava store"));
	xfree(dir);

	/* a store whose format marker is newer than this build */
	dir = new_dir();
	s = open_store(dir, 0, 0, NULL);
	fill(s, 5, 0);
	store_close(&s);
	assert_int_equal(mdb_env_create(&env), 0);
	mdb_env_set_maxdbs(env, 8);
	assert_int_equal(mdb_env_open(env, dir, 0, 0600), 0);
	assert_int_equal(mdb_txn_begin(env, NULL, 0, &txn), 0);
	assert_int_equal(mdb_dbi_open(txn, "meta", 0, &dbi), 0);
	be64_put(ver, STORE_FORMAT_VERSION + 1);
	k.mv_data = (void *)(uintptr_t) "format";
	k.mv_size = 6;
	v.mv_data = ver;
	v.mv_size = 8;
	assert_int_equal(mdb_put(txn, dbi, &k, &v, 0), 0);
	assert_int_equal(mdb_txn_commit(txn), 0);
	mdb_env_close(env);
	o.path = dir;
	assert_int_equal(store_open(&o, &s, &err), ELAVA_E_FORMAT);
	assert_non_null(strstr(err.msg, "format version 2"));
	assert_non_null(strstr(err.msg, "upgrade"));
	xfree(dir);
}

/* Read-only opens, and a directory this user may not read. */
static void test_read_only(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_options o = {0};
	struct elava_error err = {0};
	struct store_scan *sc = NULL;
	uint64_t rev;
	pid_t pid;
	int status;
	(void)state;

	fill(s, 3, 0);
	store_close(&s);
	o.path = dir;
	o.read_only = true;
	assert_int_equal(store_open(&o, &s, &err), 0);
	assert_int_equal(store_current_revision(s, &rev, &err), 0);
	assert_int_equal(rev, 1);
	assert_int_equal(store_scan_begin(s, &sc, &err), ELAVA_E_PERM);
	assert_non_null(strstr(err.msg, "read-only"));
	store_close(&s);

	if (geteuid() != 0) {
		xfree(dir);
		return;
	}
	/* As an unprivileged user, the 0700 root-owned store is closed. */
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct store_options co = {0};
		struct elava_error cerr = {0};
		struct store *cs = NULL;
		if (setgid(65534) || setuid(65534))
			_exit(3);
		co.path = dir;
		int rc = store_open(&co, &cs, &cerr);
		_exit(rc == ELAVA_E_PERM &&
			      strstr(cerr.msg, "Permission denied")
			  ? 0
			  : 1);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	assert_int_equal(WEXITSTATUS(status), 0);
	xfree(dir);
}

/*
 * A full disk (a 2 MiB tmpfs in a private mount namespace): the commit
 * fails with a clear error and the earlier revision is intact.
 */
static void test_disk_full(void **state)
{
	char *dir = new_dir();
	pid_t pid;
	int status;
	(void)state;

	mkdir(dir, 0700);
	pid = fork();
	assert_true(pid >= 0);
	if (pid == 0) {
		struct elava_error err = {0};
		struct store_stat st;
		int rc = 0;
		in_child = true;
		struct store_options o = {0};
		struct store *s = NULL;
		if (unshare(CLONE_NEWNS) ||
		    mount(NULL, "/", NULL, MS_REC | MS_PRIVATE, NULL) ||
		    mount("none", dir, "tmpfs", 0, "size=2m"))
			_exit(77);
		o.path = dir;
		o.initial_map_size = 64 << 20;
		if (store_open(&o, &s, &err))
			_exit(10);
		fill(s, 200, 0);
		struct store_scan *sc = begin(s);
		/* Either the spool or the commit runs out of space. */
		for (int i = 0; i < 3000 && !rc; i++) {
			struct resource r;
			char id[32];
			snprintf(id, sizeof(id), "k-%08d", i);
			make(&r, "us-east-1", "ec2_instance", id, "prod", 1);
			rc = store_scan_add(sc, &r, &err);
			resource_release(&r);
		}
		if (!rc)
			rc = store_scan_commit(sc, NULL, &err);
		store_scan_free(&sc);
		if (rc != ELAVA_E_NOSPACE && rc != ELAVA_E_IO)
			_exit(11);
		fprintf(stderr, "disk full reported as: %s\n", err.msg);
		if (!strstr(err.msg, "No space left on device"))
			_exit(12);
		store_close(&s);
		if (store_open(&o, &s, &err) || store_stat(s, &st, &err) ||
		    st.revision != 1 || st.resources != 200)
			_exit(13);
		store_close(&s);
		_exit(0);
	}
	assert_int_equal(waitpid(pid, &status, 0), pid);
	assert_true(WIFEXITED(status));
	if (WEXITSTATUS(status) == 77) {
		xfree(dir);
		skip();
	}
	assert_int_equal(WEXITSTATUS(status), 0);
	xfree(dir);
}

static int get_json(const struct store_item *it, void *ud)
{
	struct buf *b = ud;
	buf_reset(b);
	buf_append(b, it->json, it->json_len);
	return 0;
}

/* One resource at a revision; compaction target by age; diff errors. */
/*
 * Editing the ignore list changes fingerprints; a resource whose only
 * differences are in newly ignored fields must not be reported modified.
 */
static void test_ignore_rules_change(void **state)
{
	char *dir = new_dir();
	struct resource_ignore *ign = resource_ignore_new();
	struct store *s;
	struct store_scan *sc;
	struct store_scan_result res;
	struct store_stat st;
	struct elava_error err = {0};
	(void)state;

	s = open_store(dir, 0, 0, NULL);
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "a", 1);
	add(sc, "us-east-1", "ec2_instance", "i-2", "a", 1);
	res = commit(&sc);
	assert_true(res.baseline);
	assert_int_equal(res.created, 2);
	store_close(&s);

	assert_int_equal(
	    resource_ignore_add(ign, "ec2_instance", "attributes.size"), 0);
	s = open_store(dir, 0, 0, ign);
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "a", 1); /* same bytes */
	add(sc, "us-east-1", "ec2_instance", "i-2", "a", 7); /* ignored */
	res = commit(&sc);
	assert_false(res.baseline);
	assert_int_equal(res.modified, 0);
	assert_int_equal(res.unchanged, 2);
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_int_equal(st.versions, 2);
	assert_int_equal(st.changes, 2);

	/* The adopted fingerprints hold: the same again is unchanged... */
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "a", 3);
	add(sc, "us-east-1", "ec2_instance", "i-2", "a", 7);
	res = commit(&sc);
	assert_int_equal(res.modified, 0);
	/* ...and a real change is still one, with only its own field. */
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "b", 3);
	add(sc, "us-east-1", "ec2_instance", "i-2", "a", 7);
	res = commit(&sc);
	assert_int_equal(res.modified, 1);
	assert_int_equal(store_stat(s, &st, &err), 0);
	assert_int_equal(st.versions, 3);
	store_close(&s);
	resource_ignore_free(&ign);
	xfree(dir);
}

struct found {
	struct buf keys;
	size_t live;
};

static int found_key(const char *key, bool live, void *ud)
{
	struct found *f = ud;

	buf_printf(&f->keys, "%s\n", key);
	f->live += live;
	return 0;
}

/* A bare id names every resource the store knows with it, gone or not. */
static void test_find_id(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct store_scan *sc;
	struct found f = {0};
	struct elava_error err = {0};
	(void)state;

	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-1", "a", 1);
	add(sc, "us-west-2", "ec2_instance", "i-1", "a", 1);
	add(sc, "us-east-1", "ec2_instance", "i-10", "a", 1);
	add(sc, "us-east-1", "ebs_volume", "vol-1", "a", 1);
	commit(&sc);
	sc = begin(s);
	add(sc, "us-east-1", "ec2_instance", "i-10", "a", 1);
	store_scan_scope_complete(sc, SCOPE_I);
	store_scan_scope_complete(sc, SCOPE_V);
	commit(&sc);

	buf_init(&f.keys, 0);
	assert_int_equal(store_find_id(s, "i-1", found_key, &f, &err), 0);
	assert_string_equal(f.keys.data,
			    KEY_I("i-1") "\n"
					 "aws:123456789012:us-west-2:"
					 "ec2_instance:i-1\n");
	assert_int_equal(f.live, 1); /* us-east-1's is gone */
	buf_reset(&f.keys);
	f.live = 0;
	assert_int_equal(store_find_id(s, "vol-1", found_key, &f, &err), 0);
	assert_string_equal(f.keys.data, SCOPE_V ":vol-1\n");
	assert_int_equal(f.live, 0);
	buf_reset(&f.keys);
	assert_int_equal(store_find_id(s, "i-", found_key, &f, &err), 0);
	assert_int_equal(f.keys.len, 0);
	buf_release(&f.keys);
	store_close(&s);
	xfree(dir);
}

static void test_get_and_age(void **state)
{
	char *dir = new_dir();
	struct store *s = open_store(dir, 0, 0, NULL);
	struct elava_error err = {0};
	struct buf b;
	uint64_t rev;
	(void)state;

	for (int round = 1; round <= 3; round++) {
		struct store_scan *sc = begin(s);
		add(sc, "us-east-1", "ec2_instance", "i-1", "prod", round);
		if (round < 3)
			add(sc, "us-east-1", "ec2_instance", "i-2", "prod", 1);
		store_scan_scope_complete(sc, SCOPE_I);
		commit(&sc);
	}
	buf_init(&b, 0);
	assert_int_equal(store_get(s, KEY_I("i-1"), 2, get_json, &b, &err), 0);
	assert_non_null(strstr(b.data, "\"size\":2"));
	assert_int_equal(store_get(s, KEY_I("i-1"), 0, get_json, &b, &err), 0);
	assert_non_null(strstr(b.data, "\"size\":3"));
	assert_int_equal(store_get(s, KEY_I("i-2"), 0, get_json, &b, &err),
			 ELAVA_E_NOTFOUND);
	assert_non_null(strstr(err.msg, "does not exist at revision 3"));
	assert_int_equal(store_get(s, KEY_I("i-2"), 2, get_json, &b, &err), 0);
	buf_release(&b);

	/* Nothing is older than a day: nothing to compact. */
	assert_int_equal(store_compact_revision_for_age(s, time_now_ns(),
							86400LL * 1000000000,
							&rev, &err),
			 0);
	assert_int_equal(rev, 0);
	/* Everything is older than "now + 1h minus 1h": the newest. */
	assert_int_equal(store_compact_revision_for_age(
			     s, time_now_ns() + 3600LL * 1000000000,
			     3600LL * 1000000000, &rev, &err),
			 0);
	assert_int_equal(rev, 3);

	assert_int_equal(store_diff(s, 2, 2, collect_change, NULL, &err),
			 ELAVA_E_INVAL);
	assert_int_equal(store_diff(s, 3, 1, collect_change, NULL, &err),
			 ELAVA_E_INVAL);
	assert_int_equal(store_diff(s, 1, 7, collect_change, NULL, &err),
			 ELAVA_E_NOTFOUND);
	store_close(&s);
	xfree(dir);
}

/*
 * The index a handle keeps between its scans must give exactly the answers
 * of an index loaded fresh from the store: the same random history (keys
 * appearing, changing, vanishing, coming back; listings failing) recorded
 * through one long-lived handle and through a handle reopened per scan.
 */
static void test_cached_index_equivalence(void **state)
{
	char *dir_a = new_dir(), *dir_b = new_dir();
	struct store *a = open_store(dir_a, 0, 0, NULL);
	uint64_t rng = 12345;
	struct buf ca, cb;
	struct elava_error err = {0};
	(void)state;

	for (int round = 0; round < 40; round++) {
		struct store *b = open_store(dir_b, 0, 0, NULL);
		struct store_scan *sa = begin(a), *sb = begin(b);
		bool fail_volumes = false;
		for (int k = 0; k < 60; k++) {
			char id[16];
			rng = rng * 6364136223846793005ULL +
			      1442695040888963407ULL;
			unsigned r = (unsigned)(rng >> 33);
			if (r % 4 == 0)
				continue; /* absent this round */
			const char *type =
			    k % 2 ? "ebs_volume" : "ec2_instance";
			snprintf(id, sizeof(id), "r-%d", k);
			int size = (int)((r >> 4) % 3);
			add(sa, "us-east-1", type, id, "prod", size);
			add(sb, "us-east-1", type, id, "prod", size);
		}
		rng = rng * 6364136223846793005ULL + 1442695040888963407ULL;
		fail_volumes = (rng >> 40) % 5 == 0;
		store_scan_scope_complete(sa, SCOPE_I);
		store_scan_scope_complete(sb, SCOPE_I);
		if (fail_volumes) {
			store_scan_scope_failed(sa, SCOPE_V, "throttled");
			store_scan_scope_failed(sb, SCOPE_V, "throttled");
		} else {
			store_scan_scope_complete(sa, SCOPE_V);
			store_scan_scope_complete(sb, SCOPE_V);
		}
		struct store_scan_result ra = commit(&sa), rb = commit(&sb);
		assert_int_equal(ra.created, rb.created);
		assert_int_equal(ra.modified, rb.modified);
		assert_int_equal(ra.disappeared, rb.disappeared);
		assert_int_equal(ra.unchanged, rb.unchanged);
		store_close(&b);
	}
	struct store *b = open_store(dir_b, 0, 0, NULL);
	buf_init(&ca, 0);
	buf_init(&cb, 0);
	assert_int_equal(store_changes(a, 0, 0, collect_change, &ca, &err), 0);
	assert_int_equal(store_changes(b, 0, 0, collect_change, &cb, &err), 0);
	assert_string_equal(ca.data, cb.data);
	assert_non_null(strstr(ca.data, "disappeared"));
	buf_release(&ca);
	buf_release(&cb);

	/* Another writer invalidates the cache: the next scan sees its work. */
	struct store *a2 = open_store(dir_a, 0, 0, NULL);
	struct store_scan *sc = begin(a2);
	store_scan_scope_complete(sc, SCOPE_I);
	struct store_scan_result res = commit(&sc);
	assert_true(res.disappeared > 0);
	sc = begin(a);
	add(sc, "us-east-1", "ec2_instance", "r-0", "prod", 9);
	res = commit(&sc);
	assert_int_equal(res.created, 1); /* a2 tombstoned it */
	store_close(&a2);
	store_close(&a);
	store_close(&b);
	xfree(dir_a);
	xfree(dir_b);
}

static int setup(void **state)
{
	(void)state;
	root = mkdtemp(tmpl);
	return root ? 0 : -1;
}

static int teardown(void **state)
{
	(void)state;
	rmtree(root);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_scan_lifecycle),
	    cmocka_unit_test(test_unchanged_scan),
	    cmocka_unit_test(test_completeness_gate),
	    cmocka_unit_test(test_reads),
	    cmocka_unit_test(test_duplicates_and_noise),
	    cmocka_unit_test(test_long_keys),
	    cmocka_unit_test(test_invalid_resources),
	    cmocka_unit_test(test_compaction),
	    cmocka_unit_test(test_concurrent_scans),
	    cmocka_unit_test(test_two_processes),
	    cmocka_unit_test(test_map_growth_and_cap),
	    cmocka_unit_test(test_not_a_store),
	    cmocka_unit_test(test_foreign_and_newer_format),
	    cmocka_unit_test(test_read_only),
	    cmocka_unit_test(test_disk_full),
	    cmocka_unit_test(test_get_and_age),
	    cmocka_unit_test(test_ignore_rules_change),
	    cmocka_unit_test(test_find_id),
	    cmocka_unit_test(test_cached_index_equivalence),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
