/*
 * Compaction: drop history older than a revision while keeping every later
 * revision answerable and the latest version of each live resource. It
 * runs as a series of small write transactions (a bounded number of
 * entries each), so other writers interleave and readers in any process
 * are never blocked; the compacted revision is recorded first, so a crash
 * part-way leaves a consistent store that the next run finishes.
 */
#include "store_int.h"

#include <string.h>

#define CHUNK_ENTRIES 10000

struct compact_ctx {
	uint64_t keep;
	struct buf resume; /* versions key to continue from; empty: start */
	struct buf next;   /* resume point after this chunk */
	bool done;
	struct store_compact_result chunk; /* counts of the current chunk */
};

static int set_compacted(struct store *s, MDB_txn *txn, void *ud,
			 struct elava_error *err)
{
	struct compact_ctx *c = ud;
	uint64_t cur, current;
	int rc;

	if ((rc = store__meta_get_u64(txn, s, META_COMPACTED, &cur)) ||
	    (rc = store__meta_get_u64(txn, s, META_REVISION, &current)))
		return store__mdb_error(s, rc, err, "read");
	if (c->keep > current)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "cannot compact store '%s' to revision "
				       "%llu: current revision is %llu",
				       s->path, (unsigned long long)c->keep,
				       (unsigned long long)current);
	if (c->keep < cur)
		c->keep = cur; /* finish an earlier, further compaction */
	if (c->keep == cur)
		return 0;
	rc = store__meta_put_u64(txn, s, META_COMPACTED, c->keep);
	return rc ? store__mdb_error(s, rc, err, "write to") : 0;
}

struct del_list {
	struct buf keys; /* u32 length + bytes, repeated */
	size_t n;
};

static void del_add(struct del_list *d, const void *k, size_t len)
{
	uint8_t l[4];

	be32_put(l, (uint32_t)len);
	buf_append(&d->keys, l, 4);
	buf_append(&d->keys, k, len);
	d->n++;
}

static int del_apply(struct store *s, MDB_txn *txn, MDB_dbi dbi,
		     struct del_list *d, struct elava_error *err)
{
	size_t off = 0;

	while (off < d->keys.len) {
		uint32_t len = be32_get((const uint8_t *)d->keys.data + off);
		MDB_val k = {len, d->keys.data + off + 4};
		int rc = mdb_del(txn, dbi, &k, NULL);
		if (rc && rc != MDB_NOTFOUND)
			return store__mdb_error(s, rc, err, "compact");
		off += 4 + len;
	}
	return 0;
}

/*
 * One group = all versions of one key. Among those at or before `keep`,
 * the newest is the state at `keep` and stays (unless it is a tombstone:
 * then "absent" needs no record); older ones go. A key whose last version
 * is a dropped tombstone is forgotten entirely.
 */
static int compact_versions_chunk(struct store *s, MDB_txn *txn, void *ud,
				  struct elava_error *err)
{
	struct compact_ctx *c = ud;
	struct del_list vdel = {BUF_INIT, 0}, ldel = {BUF_INIT, 0};
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t examined = 0;
	/* The current group: its key and its versions <= keep. */
	struct buf group = BUF_INIT, olds = BUF_INIT;
	uint64_t last_old_rev = 0;
	bool last_old_tomb = false, has_newer = false, have_group = false;
	int rc;

	buf_init(&vdel.keys, 0);
	buf_init(&ldel.keys, 0);
	buf_init(&group, 0);
	buf_init(&olds, 0);
	memset(&c->chunk, 0, sizeof(c->chunk));
	buf_reset(&c->next);
	c->done = false;
	if ((rc = mdb_cursor_open(txn, s->versions, &cur))) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	if (c->resume.len) {
		k.mv_data = c->resume.data;
		k.mv_size = c->resume.len;
		rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	} else {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
	}
	for (;; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		bool end = rc == MDB_NOTFOUND;
		size_t skeylen = end ? 0 : k.mv_size - 9;

		if (rc && !end) {
			rc = store__mdb_error(s, rc, err, "read");
			goto out;
		}
		if (!end && k.mv_size < 10)
			continue;
		bool new_group = end || !have_group || group.len != skeylen ||
				 memcmp(group.data, k.mv_data, skeylen);
		if (new_group && have_group) {
			/* Settle the finished group. */
			size_t off = 0;
			while (off < olds.len) {
				uint64_t r =
				    be64_get((uint8_t *)olds.data + off);
				off += 8;
				if (r == last_old_rev && !last_old_tomb)
					continue;
				uint8_t vk[STORE_SKEY_MAX + 9];
				size_t n = store__version_key(group.data,
							      group.len, r, vk);
				del_add(&vdel, vk, n);
				c->chunk.versions_removed++;
			}
			if (last_old_tomb && !has_newer) {
				del_add(&ldel, group.data, group.len);
				c->chunk.keys_removed++;
			}
		}
		if (end) {
			c->done = true;
			break;
		}
		if (new_group) {
			if (examined >= CHUNK_ENTRIES) {
				/* Stop at a group boundary; resume here. */
				buf_append(&c->next, k.mv_data, k.mv_size);
				break;
			}
			buf_reset(&group);
			buf_append(&group, k.mv_data, skeylen);
			buf_reset(&olds);
			last_old_rev = 0;
			last_old_tomb = false;
			has_newer = false;
			have_group = true;
		}
		examined++;
		uint64_t r = be64_get((const uint8_t *)k.mv_data + skeylen + 1);
		if (r <= c->keep) {
			uint8_t rb[8];
			be64_put(rb, r);
			buf_append(&olds, rb, 8);
			last_old_rev = r;
			last_old_tomb =
			    v.mv_size >= 1 && ((const uint8_t *)v.mv_data)[0] ==
						  STORE_CHANGE_DISAPPEARED;
		} else {
			has_newer = true;
		}
	}
	mdb_cursor_close(cur);
	cur = NULL;
	if ((rc = del_apply(s, txn, s->versions, &vdel, err)) ||
	    (rc = del_apply(s, txn, s->latest, &ldel, err)))
		goto out;
	rc = 0;
out:
	if (cur)
		mdb_cursor_close(cur);
	buf_release(&vdel.keys);
	buf_release(&ldel.keys);
	buf_release(&group);
	buf_release(&olds);
	return rc;
}

struct prefix_ctx {
	MDB_dbi dbi;
	uint64_t keep;
	uint64_t removed;
	bool done;
};

/* Delete a chunk of the leading entries whose u64be revision < keep. */
static int drop_prefix_chunk(struct store *s, MDB_txn *txn, void *ud,
			     struct elava_error *err)
{
	struct prefix_ctx *p = ud;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	size_t n = 0;
	int rc;

	p->removed = 0;
	p->done = false;
	if ((rc = mdb_cursor_open(txn, p->dbi, &cur)))
		return store__mdb_error(s, rc, err, "read");
	while (n < CHUNK_ENTRIES) {
		rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST);
		if (rc == MDB_NOTFOUND ||
		    (!rc &&
		     (k.mv_size < 8 || be64_get(k.mv_data) >= p->keep))) {
			p->done = true;
			rc = 0;
			break;
		}
		if (!rc)
			rc = mdb_cursor_del(cur, 0);
		if (rc)
			break;
		n++;
	}
	mdb_cursor_close(cur);
	if (rc)
		return store__mdb_error(s, rc, err, "compact");
	p->removed = n;
	return 0;
}

int store_compact(struct store *s, uint64_t keep_from,
		  struct store_compact_result *res, struct elava_error *err)
{
	struct compact_ctx c;
	struct store_compact_result total = {0};
	int rc;

	memset(&c, 0, sizeof(c));
	c.keep = keep_from;
	buf_init(&c.resume, 0);
	buf_init(&c.next, 0);
	if ((rc = store__write(s, set_compacted, &c, err)))
		goto out;
	total.compacted_revision = c.keep;
	if (c.keep <= 1)
		goto out; /* nothing precedes revision 1 */
	do {
		if ((rc = store__write(s, compact_versions_chunk, &c, err)))
			goto out;
		total.versions_removed += c.chunk.versions_removed;
		total.keys_removed += c.chunk.keys_removed;
		buf_reset(&c.resume);
		buf_append(&c.resume, c.next.data, c.next.len);
	} while (!c.done);

	struct prefix_ctx p = {s->changes, c.keep, 0, false};
	do {
		if ((rc = store__write(s, drop_prefix_chunk, &p, err)))
			goto out;
		total.changes_removed += p.removed;
	} while (!p.done);
out:
	buf_release(&c.resume);
	buf_release(&c.next);
	if (res)
		*res = total;
	return rc;
}

int store_compact_revision_for_age(struct store *s, int64_t now_ns,
				   int64_t age_ns, uint64_t *rev,
				   struct elava_error *err)
{
	int rc = store_revision_at_time(s, now_ns - age_ns, rev, err);

	if (rc == ELAVA_E_NOTFOUND) {
		*rev = 0;
		return 0;
	}
	return rc;
}
