/*
 * Reads: current and past inventory, one resource's history, stored change
 * events, the computed diff between two revisions, scan metadata and
 * statistics. Every read runs in one LMDB read transaction: a consistent
 * snapshot that never blocks writers or other readers.
 */
#include "store_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

int store__event_json(struct buf *out, uint64_t rev, int64_t time_ns,
		      const char *key, size_t keylen,
		      enum store_change_kind kind, const char *fields,
		      size_t fields_len)
{
	char ts[TIME_RFC3339_LEN];
	const char *type;
	size_t typelen;
	int rc;

	time_format_rfc3339(time_ns, ts);
	store__key_type(key, keylen, &type, &typelen);
	if ((rc = buf_printf(out, "{\"change\":\"%s\",\"fields\":",
			     store_change_kind_name(kind))) ||
	    (rc = buf_append(out, fields, fields_len)) ||
	    (rc = buf_puts(out, ",\"key\":")) ||
	    (rc = buf_append_json_string(out, key, keylen)) ||
	    (rc =
		 buf_printf(out, ",\"revision\":%llu,\"time\":\"%s\",\"type\":",
			    (unsigned long long)rev, ts)) ||
	    (rc = buf_append_json_string(out, type, typelen)))
		return rc;
	return buf_putc(out, '}');
}

int store__diff_json(struct store *s, const char *key, size_t keylen,
		     const char *old_json, size_t old_len, const char *new_json,
		     size_t new_len, struct buf *out)
{
	char type[RESOURCE_MAX_FIELD + 1];
	const char *t;
	size_t tlen, start = out->len;
	struct resource a, b;
	struct resource_diff d = {0};
	int rc;

	/* Stored versions are canonical: diff the texts in step. */
	store__key_type(key, keylen, &t, &tlen);
	if (tlen > RESOURCE_MAX_FIELD)
		tlen = RESOURCE_MAX_FIELD;
	memcpy(type, t, tlen);
	type[tlen] = '\0';
	if (!resource_diff_canonical(old_json, old_len, new_json, new_len,
				     s->ignore, type, out))
		return 0;
	/* Not canonical (an older writer?): the slow, parsing way. */
	out->len = start;
	if (out->data)
		out->data[start] = '\0';
	resource_init(&a);
	resource_init(&b);
	rc = resource_from_json(old_json, old_len, &a, NULL);
	if (!rc)
		rc = resource_from_json(new_json, new_len, &b, NULL);
	if (!rc)
		rc = resource_diff(&a, &b, s->ignore, &d);
	if (!rc)
		rc = resource_diff_to_json(&d, out);
	if (rc)
		rc = buf_puts(out, "[]");
	resource_diff_release(&d);
	resource_release(&a);
	resource_release(&b);
	return rc;
}

int store__version_at(struct store *s, MDB_txn *txn, MDB_cursor *cur,
		      const char *skey, size_t skeylen, uint64_t rev,
		      uint64_t *found_rev, MDB_val *val)
{
	uint8_t vk[STORE_SKEY_MAX + 9];
	size_t vklen = store__version_key(skey, skeylen, rev, vk);
	MDB_val k = {vklen, vk};
	int rc;

	(void)s;
	(void)txn;
	rc = mdb_cursor_get(cur, &k, val, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, val, MDB_LAST);
	else if (!rc && (k.mv_size != vklen || memcmp(k.mv_data, vk, vklen)))
		rc = mdb_cursor_get(cur, &k, val, MDB_PREV);
	if (rc)
		return rc;
	if (k.mv_size != skeylen + 9 || memcmp(k.mv_data, skey, skeylen) ||
	    ((const char *)k.mv_data)[skeylen] != '\0')
		return MDB_NOTFOUND;
	*found_rev = be64_get((const uint8_t *)k.mv_data + skeylen + 1);
	if (*found_rev > rev)
		return MDB_NOTFOUND;
	if (val->mv_size < VERSION_HDR_LEN)
		return MDB_CORRUPTED;
	return 0;
}

/*
 * A read snapshot with a cursor on each of up to two databases: what every
 * read below starts with. With rev non-NULL, *rev is checked against the
 * snapshot (and 0 resolved to the current revision).
 */
struct snap {
	MDB_txn *txn;
	MDB_cursor *cur[2];
};

static void snap_close(struct store *s, struct snap *sn)
{
	for (size_t i = 0; i < ARRAY_SIZE(sn->cur); i++)
		if (sn->cur[i])
			mdb_cursor_close(sn->cur[i]);
	memset(sn->cur, 0, sizeof(sn->cur));
	store__read_end(s, &sn->txn);
}

static int snap_open(struct store *s, uint64_t *rev, MDB_dbi db0, MDB_dbi db1,
		     size_t ndbs, struct snap *sn, struct elava_error *err)
{
	MDB_dbi dbs[2] = {db0, db1};
	int rc;

	memset(sn, 0, sizeof(*sn));
	if ((rc = store__read_begin(s, &sn->txn, err)))
		return rc;
	if (rev && (rc = store__check_rev(s, sn->txn, rev, err)))
		goto fail;
	for (size_t i = 0; i < ndbs; i++)
		if ((rc = mdb_cursor_open(sn->txn, dbs[i], &sn->cur[i]))) {
			rc = store__mdb_error(s, rc, err, "read");
			goto fail;
		}
	return 0;
fail:
	snap_close(s, sn);
	return rc;
}

int store_current_revision(struct store *s, uint64_t *rev,
			   struct elava_error *err)
{
	MDB_txn *txn = NULL;
	int rc = store__read_begin(s, &txn, err);

	if (rc)
		return rc;
	rc = store__meta_get_u64(txn, s, META_REVISION, rev);
	if (rc)
		rc = store__mdb_error(s, rc, err, "read");
	store__read_end(s, &txn);
	return rc;
}

int store_revision_at_time(struct store *s, int64_t t_ns, uint64_t *rev,
			   struct elava_error *err)
{
	struct snap sn;
	uint8_t tk[16];
	MDB_val k = {16, tk}, v;
	int rc = snap_open(s, NULL, s->times, 0, 1, &sn, err);

	if (rc)
		return rc;
	MDB_cursor *cur = sn.cur[0];
	/* First entry after t, then one back: the newest commit <= t. */
	be64_put(tk, t_ns < 0 ? 0 : (uint64_t)t_ns);
	memset(tk + 8, 0xff, 8);
	rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		rc = mdb_cursor_get(cur, &k, &v, MDB_LAST);
	else if (!rc)
		rc = mdb_cursor_get(cur, &k, &v, MDB_PREV);
	if (!rc && k.mv_size == 16 && be64_get(k.mv_data) <= (uint64_t)t_ns) {
		*rev = be64_get((const uint8_t *)k.mv_data + 8);
	} else if (!rc || rc == MDB_NOTFOUND) {
		char ts[TIME_RFC3339_LEN];
		time_format_rfc3339(t_ns, ts);
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "no scan recorded at or before %s in "
				     "store '%s'",
				     ts, s->path);
	} else {
		rc = store__mdb_error(s, rc, err, "read");
	}
	snap_close(s, &sn);
	return rc;
}

/* The n-th ':'-separated field of a key (n < 4). */
static bool key_field_is(const char *key, size_t keylen, int n,
			 const char *want)
{
	size_t start = 0, i = 0;
	int field = 0;

	for (; i < keylen && field < n; i++)
		if (key[i] == ':') {
			field++;
			start = i + 1;
		}
	if (field < n)
		return false;
	size_t end = start;
	while (end < keylen && key[end] != ':')
		end++;
	return strlen(want) == end - start &&
	       !memcmp(key + start, want, end - start);
}

struct inv_ctx {
	struct store *s;
	const struct store_filter *f;
	store_item_fn fn;
	void *ud;
	struct buf key;
	struct resource r;
};

static bool filter_key(const struct store_filter *f, const char *skey,
		       size_t len)
{
	if (!f)
		return true;
	return (!f->account || key_field_is(skey, len, 1, f->account)) &&
	       (!f->region || key_field_is(skey, len, 2, f->region)) &&
	       (!f->type || key_field_is(skey, len, 3, f->type));
}

static int emit_item(struct inv_ctx *c, const char *skey, size_t skeylen,
		     uint64_t rev, const MDB_val *v)
{
	const uint8_t *p = v->mv_data;
	struct store_item it;

	if (p[0] == STORE_CHANGE_DISAPPEARED)
		return 0;
	it.json = (const char *)p + VERSION_HDR_LEN;
	it.json_len = v->mv_size - VERSION_HDR_LEN;
	it.revision = rev;
	it.time_ns = (int64_t)be64_get(p + 1);
	if (c->f && c->f->tag_key) {
		if (resource_from_json(it.json, it.json_len, &c->r, NULL))
			return 0;
		const char *tv = resource_tag_get(&c->r, c->f->tag_key);
		if (!tv || (c->f->tag_value && strcmp(tv, c->f->tag_value)))
			return 0;
	}
	if (store__real_key(skey, skeylen, it.json, it.json_len, &c->key))
		return 0;
	it.key = c->key.data;
	return c->fn(&it, c->ud);
}

int store_inventory(struct store *s, uint64_t rev, const struct store_filter *f,
		    store_item_fn fn, void *ud, struct elava_error *err)
{
	struct inv_ctx c = {s, f, fn, ud, BUF_INIT, {0}};
	struct snap sn;
	MDB_val k, v, best = {0, NULL};
	const char *group = NULL;
	size_t grouplen = 0;
	uint64_t bestrev = 0;
	int rc;

	buf_init(&c.key, 0);
	resource_init(&c.r);
	if ((rc = snap_open(s, &rev, s->versions, 0, 1, &sn, err)))
		goto done;
	MDB_cursor *cur = sn.cur[0];
	MDB_cursor_op first = MDB_FIRST;
	uint8_t seek[STORE_SKEY_MAX + 9];
	if (f && f->after) {
		/* Past every version of the key: its skey, \0, then a
		 * revision no version has. */
		char skey[STORE_SKEY_MAX];
		size_t skeylen = store__skey(f->after, strlen(f->after), skey);
		k.mv_size = store__version_key(skey, skeylen, UINT64_MAX, seek);
		k.mv_data = seek;
		first = MDB_SET_RANGE;
	}
	/*
	 * versions is sorted by (key, revision): walk it once, and for each
	 * key keep the newest version at or before rev.
	 */
	for (rc = mdb_cursor_get(cur, &k, &v, first); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		if (k.mv_size < 10 || v.mv_size < VERSION_HDR_LEN)
			continue;
		const char *skey = k.mv_data;
		size_t skeylen = k.mv_size - 9;
		uint64_t vrev =
		    be64_get((const uint8_t *)k.mv_data + skeylen + 1);
		if (!group || grouplen != skeylen ||
		    memcmp(group, skey, skeylen)) {
			if (best.mv_data && (rc = emit_item(&c, group, grouplen,
							    bestrev, &best)))
				goto out;
			group = skey;
			grouplen = skeylen;
			best.mv_data = NULL;
			if (!filter_key(f, skey, skeylen))
				group = NULL;
		}
		if (group && vrev <= rev) {
			best = v;
			bestrev = vrev;
		}
	}
	if (rc != MDB_NOTFOUND) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	rc = 0;
	if (group && best.mv_data)
		rc = emit_item(&c, group, grouplen, bestrev, &best);
out:
	snap_close(s, &sn);
done:
	buf_release(&c.key);
	resource_release(&c.r);
	return rc;
}

int store_get(struct store *s, const char *key, uint64_t rev, store_item_fn fn,
	      void *ud, struct elava_error *err)
{
	struct inv_ctx c = {s, NULL, fn, ud, BUF_INIT, {0}};
	char skey[STORE_SKEY_MAX];
	size_t skeylen = store__skey(key, strlen(key), skey);
	struct snap sn;
	MDB_val v;
	uint64_t frev;
	int rc;

	buf_init(&c.key, 0);
	resource_init(&c.r);
	if ((rc = snap_open(s, &rev, s->versions, 0, 1, &sn, err)))
		goto done;
	rc = store__version_at(s, sn.txn, sn.cur[0], skey, skeylen, rev, &frev,
			       &v);
	if (!rc && ((const uint8_t *)v.mv_data)[0] == STORE_CHANGE_DISAPPEARED)
		rc = MDB_NOTFOUND;
	if (rc == MDB_NOTFOUND)
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "resource '%s' does not exist at revision "
				     "%llu",
				     key, (unsigned long long)rev);
	else if (rc)
		rc = store__mdb_error(s, rc, err, "read");
	else
		rc = emit_item(&c, skey, skeylen, frev, &v);
	snap_close(s, &sn);
done:
	buf_release(&c.key);
	resource_release(&c.r);
	return rc;
}

int store_history(struct store *s, const char *key, store_change_fn fn,
		  void *ud, struct elava_error *err)
{
	return store_history_after(s, key, 0, fn, ud, err);
}

int store_history_after(struct store *s, const char *key, uint64_t after,
			store_change_fn fn, void *ud, struct elava_error *err)
{
	char skey[STORE_SKEY_MAX];
	size_t keylen = strlen(key);
	size_t skeylen = store__skey(key, keylen, skey);
	uint8_t vk[STORE_SKEY_MAX + 9];
	size_t vklen;
	struct snap sn;
	MDB_cursor *cur;
	MDB_val k, v;
	const char *prev = NULL;
	size_t prevlen = 0, n = 0;
	struct buf fields, event;
	const char *type;
	size_t typelen;
	char typebuf[RESOURCE_MAX_FIELD + 1];
	int rc;

	buf_init(&fields, 0);
	buf_init(&event, 0);
	store__key_type(key, keylen, &type, &typelen);
	if (typelen > RESOURCE_MAX_FIELD)
		typelen = RESOURCE_MAX_FIELD;
	memcpy(typebuf, type, typelen);
	typebuf[typelen] = '\0';
	if ((rc = snap_open(s, NULL, s->versions, 0, 1, &sn, err)))
		goto done;
	cur = sn.cur[0];
	if (after) {
		/* The version the first one listed is compared with. */
		uint64_t frev;
		rc = store__version_at(s, sn.txn, cur, skey, skeylen, after,
				       &frev, &v);
		if (rc && rc != MDB_NOTFOUND)
			goto end;
		if (!rc) {
			n++;
			if (((const uint8_t *)v.mv_data)[0] !=
			    STORE_CHANGE_DISAPPEARED) {
				prev =
				    (const char *)v.mv_data + VERSION_HDR_LEN;
				prevlen = v.mv_size - VERSION_HDR_LEN;
			}
		}
		if (after == UINT64_MAX) {
			rc = MDB_NOTFOUND;
			goto end;
		}
	}
	vklen = store__version_key(skey, skeylen, after ? after + 1 : 0, vk);
	k.mv_size = vklen;
	k.mv_data = vk;
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		struct store_change ch;
		const uint8_t *p = v.mv_data;

		if (k.mv_size != skeylen + 9 ||
		    memcmp(k.mv_data, skey, skeylen) ||
		    ((const char *)k.mv_data)[skeylen] != '\0')
			break;
		if (v.mv_size < VERSION_HDR_LEN)
			continue;
		memset(&ch, 0, sizeof(ch));
		ch.revision =
		    be64_get((const uint8_t *)k.mv_data + skeylen + 1);
		ch.time_ns = (int64_t)be64_get(p + 1);
		ch.key = key;
		ch.type = typebuf;
		ch.kind = (enum store_change_kind)p[0];
		buf_reset(&fields);
		if (ch.kind == STORE_CHANGE_MODIFIED && prev)
			store__diff_json(s, skey, skeylen, prev, prevlen,
					 (const char *)p + VERSION_HDR_LEN,
					 v.mv_size - VERSION_HDR_LEN, &fields);
		else
			buf_puts(&fields, "[]");
		ch.fields_json = fields.data;
		buf_reset(&event);
		store__event_json(&event, ch.revision, ch.time_ns, key, keylen,
				  ch.kind, fields.data, fields.len);
		ch.event_json = event.data;
		ch.event_len = event.len;
		if (ch.kind != STORE_CHANGE_DISAPPEARED) {
			ch.json = (const char *)p + VERSION_HDR_LEN;
			ch.json_len = v.mv_size - VERSION_HDR_LEN;
			prev = ch.json;
			prevlen = ch.json_len;
		} else {
			prev = NULL;
		}
		n++;
		if ((rc = fn(&ch, ud)))
			goto out;
	}
end:
	if (rc && rc != MDB_NOTFOUND) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	rc = n ? 0
	       : elava_error_set(err, ELAVA_E_NOTFOUND,
				 "no history for '%s' in store '%s'", key,
				 s->path);
out:
	snap_close(s, &sn);
done:
	buf_release(&fields);
	buf_release(&event);
	return rc;
}

/* A buffer-backed copy of a key's type, NUL-terminated. */
static void key_type_copy(const char *key, size_t keylen, char *out,
			  size_t outlen)
{
	const char *type;
	size_t typelen;

	store__key_type(key, keylen, &type, &typelen);
	if (typelen >= outlen)
		typelen = outlen - 1;
	memcpy(out, type, typelen);
	out[typelen] = '\0';
}

int store_changes(struct store *s, uint64_t from, uint64_t to,
		  store_change_fn fn, void *ud, struct elava_error *err)
{
	return store_changes_after(s, from, NULL, to, fn, ud, err);
}

int store_changes_after(struct store *s, uint64_t from, const char *after,
			uint64_t to, store_change_fn fn, void *ud,
			struct elava_error *err)
{
	struct snap sn;
	MDB_txn *txn;
	MDB_cursor *cur, *vcur;
	uint8_t start[8 + STORE_SKEY_MAX + 1];
	MDB_val k = {8, start}, v;
	struct buf key, event, fields;
	char typebuf[RESOURCE_MAX_FIELD + 1];
	uint64_t current, compacted;
	int rc;

	buf_init(&key, 0);
	buf_init(&event, 0);
	buf_init(&fields, 0);
	if ((rc = snap_open(s, NULL, s->changes, s->versions, 2, &sn, err)))
		goto done;
	txn = sn.txn;
	cur = sn.cur[0];
	vcur = sn.cur[1];
	if ((rc = store__meta_get_u64(txn, s, META_REVISION, &current)) ||
	    (rc = store__meta_get_u64(txn, s, META_COMPACTED, &compacted))) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	if (to == 0 || to > current)
		to = current;
	if (after && from < compacted) {
		rc = elava_error_set(err, ELAVA_E_COMPACTED,
				     "revision %llu has been compacted in "
				     "store '%s' (oldest available is %llu)",
				     (unsigned long long)from, s->path,
				     (unsigned long long)compacted);
		goto out;
	}
	if (after) {
		/* Just past (from, after): its skey then a \0, which sorts
		 * before every longer key with that prefix. */
		be64_put(start, from);
		k.mv_size =
		    8 + store__skey(after, strlen(after), (char *)start + 8);
		start[k.mv_size++] = '\0';
	} else if (from >= to) {
		rc = 0; /* nothing after `to` is listed */
		goto out;
	} else {
		be64_put(start, from + 1);
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *p = v.mv_data;
		const char *skey = (const char *)k.mv_data + 8;
		size_t skeylen = k.mv_size - 8;
		struct store_change ch;

		if (k.mv_size <= 8 || v.mv_size < CHANGE_HDR_LEN)
			continue;
		memset(&ch, 0, sizeof(ch));
		ch.revision = be64_get(k.mv_data);
		if (ch.revision > to) {
			rc = MDB_NOTFOUND; /* the end of the window */
			break;
		}
		ch.kind = (enum store_change_kind)p[0];
		ch.time_ns = (int64_t)be64_get(p + 1);
		buf_reset(&key);
		if (store__skey_is_long(skey, skeylen)) {
			/* The whole key is in the resource JSON. */
			MDB_val vv;
			uint64_t fr;
			if (store__version_at(s, txn, vcur, skey, skeylen,
					      ch.kind ==
						      STORE_CHANGE_DISAPPEARED
						  ? ch.revision - 1
						  : ch.revision,
					      &fr, &vv) ||
			    store__real_key(skey, skeylen,
					    (const char *)vv.mv_data +
						VERSION_HDR_LEN,
					    vv.mv_size - VERSION_HDR_LEN, &key))
				buf_append(&key, skey, skeylen);
		} else {
			buf_append(&key, skey, skeylen);
		}
		key_type_copy(key.data, key.len, typebuf, sizeof(typebuf));
		ch.key = key.data;
		ch.type = typebuf;
		buf_reset(&fields);
		if (v.mv_size > CHANGE_HDR_LEN)
			buf_append(&fields, p + CHANGE_HDR_LEN,
				   v.mv_size - CHANGE_HDR_LEN);
		else
			buf_puts(&fields, "[]");
		ch.fields_json = fields.data;
		buf_reset(&event);
		store__event_json(&event, ch.revision, ch.time_ns, key.data,
				  key.len, ch.kind, fields.data, fields.len);
		ch.event_json = event.data;
		ch.event_len = event.len;
		if ((rc = fn(&ch, ud)))
			goto out;
	}
	rc = rc == MDB_NOTFOUND ? 0 : store__mdb_error(s, rc, err, "read");
out:
	snap_close(s, &sn);
done:
	buf_release(&key);
	buf_release(&event);
	buf_release(&fields);
	return rc;
}

static int cmp_keys(const void *a, const void *b)
{
	const struct buf *x = a, *y = b;
	size_t n = x->len < y->len ? x->len : y->len;
	int c = memcmp(x->data, y->data, n);

	return c ? c : (x->len > y->len) - (x->len < y->len);
}

/* When revision rev was committed (its scan's end_time); 0 if unknown. */
static int64_t revision_time(MDB_txn *txn, struct store *s, uint64_t rev)
{
	uint8_t k8[8];
	MDB_val k = {8, k8}, v;
	struct ejson *o = NULL;
	int64_t t = 0;

	be64_put(k8, rev);
	if (!mdb_get(txn, s->scans, &k, &v) &&
	    !ejson_parse(v.mv_data, v.mv_size, &o, NULL)) {
		const char *et =
		    ejson_string_value(ejson_object_get(o, "end_time"));
		if (et && time_parse_rfc3339(et, &t))
			t = 0;
	}
	ejson_free(&o);
	return t;
}

int store_diff(struct store *s, uint64_t a, uint64_t b, store_change_fn fn,
	       void *ud, struct elava_error *err)
{
	struct snap sn;
	MDB_txn *txn;
	MDB_cursor *rcur, *vcur;
	struct buf *keys = NULL;
	size_t nkeys = 0, cap = 0;
	struct buf fields, event, key;
	uint8_t start[8];
	MDB_val k = {8, start}, v;
	int64_t btime;
	int rc;

	buf_init(&fields, 0);
	buf_init(&event, 0);
	buf_init(&key, 0);
	if (a >= b && b != 0)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "diff needs an older and a newer "
				       "revision (got %llu and %llu)",
				       (unsigned long long)a,
				       (unsigned long long)b);
	if ((rc = snap_open(s, &a, s->changes, s->versions, 2, &sn, err)))
		goto done;
	txn = sn.txn;
	rcur = sn.cur[0];
	vcur = sn.cur[1];
	if ((rc = store__check_rev(s, txn, &b, err)))
		goto out;
	/* Keys touched in (a, b]; a resource untouched there is unchanged. */
	be64_put(start, a + 1);
	for (rc = mdb_cursor_get(rcur, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(rcur, &k, &v, MDB_NEXT)) {
		if (k.mv_size <= 8 || be64_get(k.mv_data) > b)
			break;
		if (nkeys == cap) {
			cap = cap ? cap * 2 : 256;
			keys = xrealloc(keys, st_mult(cap, sizeof(*keys)));
		}
		buf_init(&keys[nkeys], 0);
		buf_append(&keys[nkeys], (const char *)k.mv_data + 8,
			   k.mv_size - 8);
		nkeys++;
	}
	if (rc && rc != MDB_NOTFOUND) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	rc = 0;
	if (nkeys)
		qsort(keys, nkeys, sizeof(*keys), cmp_keys);
	btime = revision_time(txn, s, b);
	for (size_t i = 0; i < nkeys && !rc; i++) {
		MDB_val va, vb;
		uint64_t ra, rb;
		bool has_a, has_b;
		struct store_change ch;

		if (i && !cmp_keys(&keys[i - 1], &keys[i]))
			continue;
		has_a = !store__version_at(s, txn, vcur, keys[i].data,
					   keys[i].len, a, &ra, &va) &&
			((const uint8_t *)va.mv_data)[0] !=
			    STORE_CHANGE_DISAPPEARED;
		has_b = !store__version_at(s, txn, vcur, keys[i].data,
					   keys[i].len, b, &rb, &vb) &&
			((const uint8_t *)vb.mv_data)[0] !=
			    STORE_CHANGE_DISAPPEARED;
		if (!has_a && !has_b)
			continue;
		if (has_a && has_b && ra == rb)
			continue;
		memset(&ch, 0, sizeof(ch));
		buf_reset(&fields);
		if (has_a && has_b) {
			store__diff_json(
			    s, keys[i].data, keys[i].len,
			    (const char *)va.mv_data + VERSION_HDR_LEN,
			    va.mv_size - VERSION_HDR_LEN,
			    (const char *)vb.mv_data + VERSION_HDR_LEN,
			    vb.mv_size - VERSION_HDR_LEN, &fields);
			if (!strcmp(fields.data, "[]"))
				continue; /* only ignored fields moved */
			ch.kind = STORE_CHANGE_MODIFIED;
		} else {
			buf_puts(&fields, "[]");
			ch.kind = has_b ? STORE_CHANGE_CREATED
					: STORE_CHANGE_DISAPPEARED;
		}
		const MDB_val *cv = has_b ? &vb : &va;
		const char *json = (const char *)cv->mv_data + VERSION_HDR_LEN;
		size_t jsonlen = cv->mv_size - VERSION_HDR_LEN;
		if (store__real_key(keys[i].data, keys[i].len, json, jsonlen,
				    &key))
			continue;
		char typebuf[RESOURCE_MAX_FIELD + 1];
		const char *type;
		size_t typelen;
		store__key_type(key.data, key.len, &type, &typelen);
		if (typelen > RESOURCE_MAX_FIELD)
			typelen = RESOURCE_MAX_FIELD;
		memcpy(typebuf, type, typelen);
		typebuf[typelen] = '\0';
		ch.revision = b;
		ch.time_ns = btime;
		ch.key = key.data;
		ch.type = typebuf;
		ch.fields_json = fields.data;
		buf_reset(&event);
		store__event_json(&event, b, ch.time_ns, key.data, key.len,
				  ch.kind, fields.data, fields.len);
		ch.event_json = event.data;
		ch.event_len = event.len;
		if (has_b) {
			ch.json = json;
			ch.json_len = jsonlen;
		}
		rc = fn(&ch, ud);
	}
out:
	snap_close(s, &sn);
done:
	for (size_t i = 0; i < nkeys; i++)
		buf_release(&keys[i]);
	xfree(keys);
	buf_release(&fields);
	buf_release(&event);
	buf_release(&key);
	return rc;
}

static size_t obj_size(const struct ejson *o, const char *name)
{
	const struct ejson *v = ejson_object_get(o, name);
	return v && ejson_typeof(v) == EJSON_INT ? (size_t)ejson_int_value(v)
						 : 0;
}

int store_scans(struct store *s, size_t limit, store_scan_fn fn, void *ud,
		struct elava_error *err)
{
	return store_scans_before(s, 0, limit, fn, ud, err);
}

/*
 * Put the cursor on the newest scan committed before revision `before`
 * (0: the newest of all).
 */
static int scans_seek(MDB_cursor *cur, uint64_t before, MDB_val *k, MDB_val *v)
{
	uint8_t k8[8];
	int rc;

	if (!before)
		return mdb_cursor_get(cur, k, v, MDB_LAST);
	be64_put(k8, before);
	k->mv_size = sizeof(k8);
	k->mv_data = k8;
	/* The first at or after `before`, then one back. */
	rc = mdb_cursor_get(cur, k, v, MDB_SET_RANGE);
	if (rc == MDB_NOTFOUND)
		return mdb_cursor_get(cur, k, v, MDB_LAST);
	return rc ? rc : mdb_cursor_get(cur, k, v, MDB_PREV);
}

int store_scans_before(struct store *s, uint64_t before, size_t limit,
		       store_scan_fn fn, void *ud, struct elava_error *err)
{
	struct snap sn;
	MDB_cursor *cur;
	MDB_val k, v;
	size_t n = 0;
	int rc;

	if ((rc = snap_open(s, NULL, s->scans, 0, 1, &sn, err)))
		return rc;
	cur = sn.cur[0];
	for (rc = scans_seek(cur, before, &k, &v); !rc && (!limit || n < limit);
	     rc = mdb_cursor_get(cur, &k, &v, MDB_PREV)) {
		struct store_scan_meta m;
		struct ejson *o = NULL;
		const char *st, *et;

		if (ejson_parse(v.mv_data, v.mv_size, &o, NULL) ||
		    ejson_typeof(o) != EJSON_OBJECT) {
			ejson_free(&o);
			rc = elava_error_set(err, ELAVA_E_CORRUPT,
					     "store '%s' is damaged: bad scan "
					     "metadata",
					     s->path);
			goto out;
		}
		memset(&m, 0, sizeof(m));
		m.revision = be64_get(k.mv_data);
		m.scan_id = obj_size(o, "scan_id");
		m.duration_ms = (int64_t)obj_size(o, "duration_ms");
		m.resource_count = obj_size(o, "resource_count");
		m.error_count = obj_size(o, "error_count");
		m.created = obj_size(o, "created");
		m.modified = obj_size(o, "modified");
		m.disappeared = obj_size(o, "disappeared");
		m.baseline = ejson_bool_value(ejson_object_get(o, "baseline"));
		m.status = ejson_string_value(ejson_object_get(o, "status"));
		st = ejson_string_value(ejson_object_get(o, "start_time"));
		et = ejson_string_value(ejson_object_get(o, "end_time"));
		if (st)
			time_parse_rfc3339(st, &m.start_ns);
		if (et)
			time_parse_rfc3339(et, &m.end_ns);
		if (!m.status)
			m.status = "unknown";
		m.json = v.mv_data;
		m.json_len = v.mv_size;
		n++;
		rc = fn(&m, ud);
		ejson_free(&o);
		if (rc)
			goto out;
	}
	if (rc == MDB_NOTFOUND || (limit && n >= limit))
		rc = 0;
	else if (rc > 0)
		rc = store__mdb_error(s, rc, err, "read");
out:
	snap_close(s, &sn);
	return rc;
}

int store_baselines(struct store *s, uint64_t **revs, size_t *n,
		    struct elava_error *err)
{
	static const char yes[] = "{\"baseline\":true";
	static const char no[] = "{\"baseline\":false";
	struct snap sn;
	MDB_val k, v;
	uint64_t *list = NULL;
	size_t count = 0, cap = 0;
	int rc;

	*revs = NULL;
	*n = 0;
	if ((rc = snap_open(s, NULL, s->scans, 0, 1, &sn, err)))
		return rc;
	for (rc = mdb_cursor_get(sn.cur[0], &k, &v, MDB_LAST); !rc;
	     rc = mdb_cursor_get(sn.cur[0], &k, &v, MDB_PREV)) {
		const char *p = v.mv_data;
		bool baseline;

		/*
		 * The metadata is canonical JSON, so "baseline", its first
		 * member in key order, opens it; anything else is parsed.
		 */
		if (v.mv_size > sizeof(yes) - 1 &&
		    !memcmp(p, yes, sizeof(yes) - 1) &&
		    (p[sizeof(yes) - 1] == ',' || p[sizeof(yes) - 1] == '}')) {
			baseline = true;
		} else if (v.mv_size > sizeof(no) - 1 &&
			   !memcmp(p, no, sizeof(no) - 1) &&
			   (p[sizeof(no) - 1] == ',' ||
			    p[sizeof(no) - 1] == '}')) {
			baseline = false;
		} else {
			struct ejson *o = NULL;
			if (ejson_parse(p, v.mv_size, &o, NULL) ||
			    ejson_typeof(o) != EJSON_OBJECT) {
				ejson_free(&o);
				rc = elava_error_set(err, ELAVA_E_CORRUPT,
						     "store '%s' is damaged: "
						     "bad scan metadata",
						     s->path);
				goto out;
			}
			baseline =
			    ejson_bool_value(ejson_object_get(o, "baseline"));
			ejson_free(&o);
		}
		if (!baseline)
			continue;
		if (k.mv_size != 8) {
			rc = elava_error_set(err, ELAVA_E_CORRUPT,
					     "store '%s' is damaged: bad scan "
					     "key",
					     s->path);
			goto out;
		}
		if (count == cap) {
			cap = cap ? st_mult(cap, 2) : 8;
			list = xrealloc(list, st_mult(cap, sizeof(*list)));
		}
		list[count++] = be64_get(k.mv_data);
	}
	rc = rc == MDB_NOTFOUND ? 0 : store__mdb_error(s, rc, err, "read");
out:
	snap_close(s, &sn);
	if (rc) {
		xfree(list);
		return rc;
	}
	*revs = list;
	*n = count;
	return 0;
}

int store_stat(struct store *s, struct store_stat *st, struct elava_error *err)
{
	MDB_txn *txn = NULL;
	MDB_stat ms;
	MDB_envinfo info;
	struct stat fst;
	char datafile[4096];
	uint64_t fmt = 0;
	int rc;

	memset(st, 0, sizeof(*st));
	if ((rc = store__read_begin(s, &txn, err)))
		return rc;
	if ((rc = store__meta_get_u64(txn, s, META_FORMAT, &fmt)) ||
	    (rc = store__meta_get_u64(txn, s, META_REVISION, &st->revision)) ||
	    (rc = store__meta_get_u64(txn, s, META_COMPACTED,
				      &st->compacted_revision)) ||
	    (rc = store__meta_get_u64(txn, s, META_LIVE, &st->resources)))
		goto fail;
	st->format_version = (uint32_t)fmt;
	if ((rc = mdb_stat(txn, s->latest, &ms)))
		goto fail;
	st->keys = ms.ms_entries;
	if ((rc = mdb_stat(txn, s->versions, &ms)))
		goto fail;
	st->versions = ms.ms_entries;
	if ((rc = mdb_stat(txn, s->changes, &ms)))
		goto fail;
	st->changes = ms.ms_entries;
	if ((rc = mdb_stat(txn, s->scans, &ms)))
		goto fail;
	st->scans = ms.ms_entries;
	if ((rc = mdb_env_stat(s->env, &ms)) ||
	    (rc = mdb_env_info(s->env, &info)))
		goto fail;
	st->used_bytes = ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
	/* LMDB's free list (database 0): each record's first word counts
	 * the pages it frees. */
	MDB_cursor *fc;
	MDB_val fk, fv;
	size_t psize = ms.ms_psize;
	if ((rc = mdb_cursor_open(txn, 0, &fc)))
		goto fail;
	for (rc = mdb_cursor_get(fc, &fk, &fv, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(fc, &fk, &fv, MDB_NEXT))
		if (fv.mv_size >= sizeof(size_t))
			st->free_bytes += *(const size_t *)fv.mv_data * psize;
	mdb_cursor_close(fc);
	if (rc != MDB_NOTFOUND)
		goto fail;
	st->map_bytes = info.me_mapsize;
	snprintf(datafile, sizeof(datafile), "%s/data.mdb", s->path);
	/* Blocks, not the length: a writer sizes the file to its map
	 * (MDB_WRITEMAP), and only what is allocated takes disk. */
	if (stat(datafile, &fst) == 0)
		st->file_bytes = (uint64_t)fst.st_blocks * 512;
	store__read_end(s, &txn);
	return 0;
fail:
	store__read_end(s, &txn);
	return store__mdb_error(s, rc, err, "read");
}

/*
 * The whole key of a hashed long skey: rebuilt from its newest version that
 * has a payload (tombstones have none).
 */
static int long_real_key(struct store *s, MDB_cursor *vcur, const char *skey,
			 size_t skeylen, struct buf *out)
{
	uint64_t rev = UINT64_MAX, frev;
	MDB_val v;

	while (
	    !store__version_at(s, NULL, vcur, skey, skeylen, rev, &frev, &v)) {
		if (v.mv_size > VERSION_HDR_LEN)
			return store__real_key(
			    skey, skeylen,
			    (const char *)v.mv_data + VERSION_HDR_LEN,
			    v.mv_size - VERSION_HDR_LEN, out);
		if (!frev)
			break;
		rev = frev - 1;
	}
	return ELAVA_E_NOTFOUND;
}

int store_find_id(struct store *s, const char *id, store_key_fn fn, void *ud,
		  struct elava_error *err)
{
	struct snap sn;
	struct buf key;
	MDB_val k, v;
	size_t idlen = strlen(id);
	int rc;

	if ((rc = snap_open(s, NULL, s->latest, s->versions, 2, &sn, err)))
		return rc;
	buf_init(&key, 0);
	for (rc = mdb_cursor_get(sn.cur[0], &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(sn.cur[0], &k, &v, MDB_NEXT)) {
		const char *skey = k.mv_data;
		size_t skeylen = k.mv_size, scope;
		if (v.mv_size != LATEST_VAL_LEN)
			continue;
		bool live =
		    !(((const uint8_t *)v.mv_data)[8] & LATEST_TOMBSTONE);
		if (store__skey_is_long(skey, skeylen)) {
			if (long_real_key(s, sn.cur[1], skey, skeylen, &key))
				continue;
		} else {
			buf_reset(&key);
			if (buf_append(&key, skey, skeylen))
				continue;
		}
		scope = resource_key_scope_len(key.data, key.len);
		if (!scope || key.len - scope - 1 != idlen ||
		    memcmp(key.data + scope + 1, id, idlen))
			continue;
		if ((rc = fn(key.data, live, ud)))
			goto out;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else
		rc = store__mdb_error(s, rc, err, "read");
out:
	buf_release(&key);
	snap_close(s, &sn);
	return rc;
}
