/*
 * Recording a scan. Begin loads a compact index of the current inventory
 * (key hash, fingerprint prefix, scope: 24 bytes a slot) from a short read
 * snapshot; adds compare against it in memory and spool only new or changed
 * resources to an unlinked temporary file; commit writes the spool,
 * tombstones the unseen resources of completed scopes, the change events
 * and the scan metadata in one write transaction. So memory stays small,
 * and the write lock is held only for the final commit.
 */
#include "store_int.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

__extension__ typedef unsigned __int128 u128;

#define HASH_SEED 0x656c617661ULL /* "elava" */

#define F_USED	  0x01u
#define F_PREV	  0x02u /* live in the store when the scan began */
#define F_SEEN	  0x04u /* added by this scan */
#define F_SPOOLED 0x08u /* new or changed: its payload is in the spool */
#define F_WRITTEN 0x10u /* written by the current commit attempt */
/* Tombstoned by a kept scan; the slot keeps its hash so probing works. */
#define F_GONE	    0x20u
#define SCOPE_SHIFT 8
#define MAX_SCOPES  ((1u << 24) - 1)

struct idx_entry {
	uint32_t h[3]; /* 96 bits of the storage key's hash */
	uint8_t fp[8]; /* fingerprint prefix of the observed version */
	uint32_t meta; /* scope id << 8 | flags */
};

struct index {
	struct idx_entry *slots;
	size_t nslots;
	size_t count;
};

#define SCOPE_COMPLETE 0x1u
#define SCOPE_FAILED   0x2u

struct scope {
	char *name;
	size_t len;
	unsigned flags;
	char *reason;
	uint64_t unseen;
};

struct scope_table {
	struct scope *v; /* id i lives at v[i - 1] */
	size_t n, cap;
	uint32_t *slots; /* open addressing: scope id, 0 empty */
	size_t nslots;
	uint32_t last; /* cache: adds come grouped by scope */
};

struct general_error {
	char *reason;
};

struct store_scan {
	struct store *s;
	uint64_t base_rev;
	int64_t start_ns;
	struct index idx;
	struct scope_table scopes;
	struct store__spool spool;
	size_t resource_count;
	size_t failed, completed;
	char **errors; /* errors not tied to a scope */
	size_t nerrors;
	bool committed;
	bool spool_done; /* the spool's last run is written and mapped */
	bool broken;	 /* spooling failed: this scan can never commit */
	struct resource_encoded enc;
};

/* ------------------------------------------------------------- the index */

static void key_hash(const char *skey, size_t len, uint32_t h[3])
{
	uint64_t out[2];

	hash128(skey, len, HASH_SEED, out);
	h[0] = (uint32_t)out[1];
	h[1] = (uint32_t)(out[1] >> 32);
	h[2] = (uint32_t)out[0];
}

/*
 * Slot of a hash: h[2] scaled onto the table (no power-of-two rounding, so
 * the table can be sized to the inventory and stay near 24-32 bytes a
 * resource). The full 96 bits decide equality.
 */
static size_t slot_of(const uint32_t h[3], size_t nslots)
{
	return (size_t)(((u128)((uint64_t)h[2] << 32) * nslots) >> 64);
}

/* The entry holding h, or the empty slot where h belongs (no F_USED). */
static struct idx_entry *idx_slot(struct index *ix, const uint32_t h[3])
{
	size_t i = slot_of(h, ix->nslots);

	for (;;) {
		struct idx_entry *e = &ix->slots[i];
		if (!(e->meta & F_USED) ||
		    (e->h[0] == h[0] && e->h[1] == h[1] && e->h[2] == h[2]))
			return e;
		if (++i == ix->nslots)
			i = 0;
	}
}

static void idx_alloc(struct index *ix, size_t nslots)
{
	ix->slots = xcalloc(nslots, sizeof(*ix->slots));
	ix->nslots = nslots;
	ix->count = 0;
}

/* Grow by half when more than 80% full (call before taking a slot). */
static void idx_reserve_one(struct index *ix)
{
	struct index bigger;

	if ((ix->count + 1) * 5 <= ix->nslots * 4)
		return;
	idx_alloc(&bigger, ix->nslots + ix->nslots / 2 + 1024);
	for (size_t i = 0; i < ix->nslots; i++) {
		struct idx_entry *e = &ix->slots[i];
		if (e->meta & F_USED)
			*idx_slot(&bigger, e->h) = *e;
	}
	bigger.count = ix->count;
	xfree(ix->slots);
	*ix = bigger;
}

/* The entry of a storage key, or NULL; h receives the key's hash. */
static struct idx_entry *idx_lookup(struct index *ix, const char *skey,
				    size_t len, uint32_t h[3])
{
	struct idx_entry *e;

	key_hash(skey, len, h);
	e = idx_slot(ix, h);
	return (e->meta & F_USED) ? e : NULL;
}

/* Claim an empty slot returned by idx_slot for h. */
static struct idx_entry *idx_take(struct index *ix, struct idx_entry *slot,
				  const uint32_t h[3])
{
	memcpy(slot->h, h, sizeof(slot->h));
	ix->count++;
	return slot;
}

/* ------------------------------------------------------------ the scopes */

static uint32_t scope_intern(struct scope_table *t, const char *name,
			     size_t len)
{
	uint64_t hv[2];
	size_t i;

	if (t->last) {
		struct scope *sc = &t->v[t->last - 1];
		if (sc->len == len && !memcmp(sc->name, name, len))
			return t->last;
	}
	if ((t->n + 1) * 2 > t->nslots) {
		size_t nn = t->nslots ? t->nslots * 2 : 64;
		uint32_t *ns = xcalloc(nn, sizeof(*ns));
		for (size_t k = 0; k < t->nslots; k++) {
			uint32_t id = t->slots[k];
			if (!id)
				continue;
			hash128(t->v[id - 1].name, t->v[id - 1].len, 0, hv);
			i = hv[0] % nn;
			while (ns[i])
				i = (i + 1) % nn;
			ns[i] = id;
		}
		xfree(t->slots);
		t->slots = ns;
		t->nslots = nn;
	}
	hash128(name, len, 0, hv);
	i = hv[0] % t->nslots;
	while (t->slots[i]) {
		struct scope *sc = &t->v[t->slots[i] - 1];
		if (sc->len == len && !memcmp(sc->name, name, len))
			return t->last = t->slots[i];
		i = (i + 1) % t->nslots;
	}
	if (t->n >= MAX_SCOPES)
		return 0;
	if (t->n == t->cap) {
		t->cap = t->cap ? t->cap * 2 : 16;
		t->v = xrealloc(t->v, st_mult(t->cap, sizeof(*t->v)));
	}
	struct scope *sc = &t->v[t->n++];
	memset(sc, 0, sizeof(*sc));
	sc->name = xstrndup(name, len);
	sc->len = len;
	t->slots[i] = (uint32_t)t->n;
	return t->last = (uint32_t)t->n;
}

static void scopes_release(struct scope_table *t)
{
	for (size_t i = 0; i < t->n; i++) {
		xfree(t->v[i].name);
		xfree(t->v[i].reason);
	}
	xfree(t->v);
	xfree(t->slots);
	memset(t, 0, sizeof(*t));
}

/* ------------------------------------------------------------ begin / add */

static int load_index(struct store_scan *sc, struct elava_error *err)
{
	struct store *s = sc->s;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_val k, v;
	MDB_stat st;
	int rc;

	if ((rc = store__read_begin(s, &txn, err)))
		return rc;
	if ((rc = store__meta_get_u64(txn, s, META_REVISION, &sc->base_rev)) ||
	    (rc = mdb_stat(txn, s->latest, &st)) ||
	    (rc = mdb_cursor_open(txn, s->latest, &cur))) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	idx_alloc(&sc->idx, st.ms_entries + st.ms_entries / 4 + 1024);
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_FIRST); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const uint8_t *val = v.mv_data;
		uint32_t h[3];

		if (v.mv_size != LATEST_VAL_LEN) {
			rc = elava_error_set(err, ELAVA_E_CORRUPT,
					     "store '%s' is damaged: bad index "
					     "entry",
					     s->path);
			goto out;
		}
		if (val[8] & LATEST_TOMBSTONE)
			continue;
		size_t slen = resource_key_scope_len(k.mv_data, k.mv_size);
		uint32_t scope = scope_intern(&sc->scopes, k.mv_data, slen);
		if (!slen || !scope) {
			rc = elava_error_set(
			    err, ELAVA_E_CORRUPT,
			    "store '%s': bad key or too many "
			    "scopes in the index ('%.*s')",
			    s->path, (int)(k.mv_size > 200 ? 200 : k.mv_size),
			    (const char *)k.mv_data);
			goto out;
		}
		idx_reserve_one(&sc->idx);
		key_hash(k.mv_data, k.mv_size, h);
		struct idx_entry *e = idx_slot(&sc->idx, h);
		if (e->meta & F_USED) {
			/* 96-bit collision between two stored keys. */
			rc = elava_error_set(err, ELAVA_E_CONFLICT,
					     "store '%s': index hash collision "
					     "on '%.*s'",
					     s->path, (int)k.mv_size,
					     (const char *)k.mv_data);
			goto out;
		}
		idx_take(&sc->idx, e, h);
		memcpy(e->fp, val + 9, sizeof(e->fp));
		e->meta = F_USED | F_PREV | (scope << SCOPE_SHIFT);
	}
	rc = rc == MDB_NOTFOUND ? 0 : store__mdb_error(s, rc, err, "read");
out:
	if (cur)
		mdb_cursor_close(cur);
	store__read_end(s, &txn);
	return rc;
}

/* Does a commit tombstone the unseen resources of this scope? */
static bool scope_tombstones(const struct scope *t)
{
	return (t->flags & SCOPE_COMPLETE) && !(t->flags & SCOPE_FAILED);
}

/* ------------------------------------------------------------- the cache */

struct store__scan_cache {
	uint64_t rev;
	struct index idx;
	struct scope_table scopes;
};

void store__scan_cache_free(struct store *s)
{
	struct store__scan_cache *c = s->scan_cache;

	if (!c)
		return;
	xfree(c->idx.slots);
	scopes_release(&c->scopes);
	xfree(c);
	s->scan_cache = NULL;
}

/*
 * Take the cached index when it describes the current revision. Per-scan
 * flags and scope states are reset; every remaining entry is live.
 */
static int take_cached_index(struct store_scan *sc, struct elava_error *err)
{
	struct store *s = sc->s;
	struct store__scan_cache *c;
	uint64_t rev;
	int rc;

	pthread_mutex_lock(&s->cache_lock);
	c = s->scan_cache;
	s->scan_cache = NULL;
	pthread_mutex_unlock(&s->cache_lock);
	if (!c)
		return 1;
	if ((rc = store_current_revision(s, &rev, err)) || rev != c->rev) {
		xfree(c->idx.slots);
		scopes_release(&c->scopes);
		xfree(c);
		return rc ? rc : 1;
	}
	sc->base_rev = rev;
	sc->idx = c->idx;
	sc->scopes = c->scopes;
	for (size_t i = 0; i < sc->scopes.n; i++) {
		sc->scopes.v[i].flags = 0;
		sc->scopes.v[i].unseen = 0;
		xfree(sc->scopes.v[i].reason);
		sc->scopes.v[i].reason = NULL;
	}
	xfree(c);
	return 0;
}

/*
 * After a commit that no other writer raced, turn the scan's index into
 * the index of the new revision and keep it for the next scan: what was
 * seen is live, what was tombstoned is gone, the rest was carried forward.
 * Rebuilt compactly when gone slots pile up.
 */
static void keep_index(struct store_scan *sc, uint64_t rev)
{
	struct store *s = sc->s;
	struct store__scan_cache *c = xcalloc(1, sizeof(*c));
	size_t gone = 0;

	for (size_t i = 0; i < sc->idx.nslots; i++) {
		struct idx_entry *e = &sc->idx.slots[i];
		uint32_t scope = e->meta >> SCOPE_SHIFT;

		if (!(e->meta & F_USED) || (e->meta & F_GONE)) {
			gone += !!(e->meta & F_GONE);
			continue;
		}
		if (e->meta & F_SEEN) {
			e->meta = F_USED | F_PREV | (scope << SCOPE_SHIFT);
		} else if (scope_tombstones(&sc->scopes.v[scope - 1])) {
			e->meta = F_USED | F_GONE | (scope << SCOPE_SHIFT);
			gone++;
		}
	}
	if (gone * 4 > sc->idx.nslots) {
		struct index fresh;
		idx_alloc(&fresh, (sc->idx.count - gone) +
				      (sc->idx.count - gone) / 4 + 1024);
		for (size_t i = 0; i < sc->idx.nslots; i++) {
			struct idx_entry *e = &sc->idx.slots[i];
			if ((e->meta & (F_USED | F_GONE)) == F_USED)
				*idx_take(&fresh, idx_slot(&fresh, e->h),
					  e->h) = *e;
		}
		xfree(sc->idx.slots);
		sc->idx = fresh;
	}
	c->rev = rev;
	c->idx = sc->idx;
	c->scopes = sc->scopes;
	memset(&sc->idx, 0, sizeof(sc->idx));
	memset(&sc->scopes, 0, sizeof(sc->scopes));
	pthread_mutex_lock(&s->cache_lock);
	store__scan_cache_free(s);
	s->scan_cache = c;
	pthread_mutex_unlock(&s->cache_lock);
}

int store_scan_begin(struct store *s, struct store_scan **out,
		     struct elava_error *err)
{
	struct store_scan *sc;
	int rc;

	*out = NULL;
	if (s->read_only)
		return elava_error_set(err, ELAVA_E_PERM,
				       "store '%s' is open read-only", s->path);
	sc = xcalloc(1, sizeof(*sc));
	sc->s = s;
	sc->spool.fd = -1;
	sc->start_ns = time_now_ns();
	resource_encoded_init(&sc->enc);
	rc = store__spool_open(&sc->spool, s->path, err);
	if (!rc && (rc = take_cached_index(sc, err)) > 0)
		rc = load_index(sc, err);
	if (rc) {
		store_scan_free(&sc);
		return rc;
	}
	*out = sc;
	return 0;
}

size_t store_scan_index_bytes(const struct store_scan *sc)
{
	return sc->idx.nslots * sizeof(struct idx_entry);
}

int store_scan_add(struct store_scan *sc, const struct resource *r,
		   struct elava_error *err)
{
	int rc = resource_encode(r, sc->s->ignore, &sc->enc, err);

	return rc ? rc : store_scan_add_encoded(sc, &sc->enc, err);
}

int store_scan_add_encoded(struct store_scan *sc,
			   const struct resource_encoded *enc,
			   struct elava_error *err)
{
	char skey[STORE_SKEY_MAX];
	uint32_t h[3];
	size_t slen, scope_len;
	struct idx_entry *e;
	int rc;

	if (sc->committed || sc->spool_done || sc->broken)
		return elava_error_set(err, ELAVA_E_STATE,
				       sc->broken ? "scan failed earlier; "
						    "start a new one"
						  : "scan already committed");
	scope_len = resource_key_scope_len(enc->key.data, enc->key.len);
	if (!scope_len)
		return elava_error_set(
		    err, ELAVA_E_INVAL, "invalid resource key '%.*s'",
		    (int)(enc->key.len > 200 ? 200 : enc->key.len),
		    enc->key.data ? enc->key.data : "");
	if (enc->json.len > RESOURCE_MAX_JSON)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "resource '%s' is larger than %zu bytes",
				       enc->key.data, RESOURCE_MAX_JSON);
	slen = store__skey(enc->key.data, enc->key.len, skey);
	idx_reserve_one(&sc->idx);
	key_hash(skey, slen, h);
	e = idx_slot(&sc->idx, h);
	if ((e->meta & (F_USED | F_GONE)) == F_USED) {
		bool same = !memcmp(e->fp, enc->fingerprint, sizeof(e->fp));
		if (!(e->meta & F_SEEN)) {
			e->meta |= F_SEEN;
			sc->resource_count++;
		}
		if (same)
			return 0; /* unchanged, or a repeat of this scan's */
		memcpy(e->fp, enc->fingerprint, sizeof(e->fp));
		e->meta |= F_SPOOLED;
	} else {
		uint32_t scope =
		    scope_intern(&sc->scopes, enc->key.data, scope_len);
		if (!scope)
			return elava_error_set(err, ELAVA_E_TOOBIG,
					       "too many scopes in one scan");
		if (!(e->meta & F_GONE))
			idx_take(&sc->idx, e, h);
		memcpy(e->fp, enc->fingerprint, sizeof(e->fp));
		e->meta = F_USED | F_SEEN | F_SPOOLED | (scope << SCOPE_SHIFT);
		sc->resource_count++;
	}
	rc = store__spool_add(&sc->spool, enc->key.data, enc->key.len,
			      enc->json.data, enc->json.len, enc->fingerprint,
			      err);
	/* The index already counts this version: the scan cannot commit. */
	if (rc)
		sc->broken = true;
	return rc;
}

static struct scope *scope_for(struct store_scan *sc, const char *scope)
{
	size_t len = strlen(scope);
	uint32_t id = scope_intern(&sc->scopes, scope, len);

	return id ? &sc->scopes.v[id - 1] : NULL;
}

int store_scan_scope_complete(struct store_scan *sc, const char *scope)
{
	char probe[STORE_SKEY_MAX];
	size_t len = strlen(scope);
	struct scope *t;

	/* A scope is "provider:account:region:type": a key minus ":id". */
	if (len + 2 > sizeof(probe))
		return ELAVA_E_INVAL;
	memcpy(probe, scope, len);
	memcpy(probe + len, ":x", 2);
	if (resource_key_scope_len(probe, len + 2) != len)
		return ELAVA_E_INVAL;
	t = scope_for(sc, scope);
	if (!t)
		return ELAVA_E_TOOBIG;
	if (!(t->flags & SCOPE_COMPLETE))
		sc->completed++;
	t->flags |= SCOPE_COMPLETE;
	return 0;
}

int store_scan_scope_failed(struct store_scan *sc, const char *scope,
			    const char *reason)
{
	struct scope *t;

	if (!scope) {
		sc->errors = xrealloc(
		    sc->errors, st_mult(sc->nerrors + 1, sizeof(*sc->errors)));
		sc->errors[sc->nerrors++] = xstrdup(reason ? reason : "error");
		sc->failed++;
		return 0;
	}
	t = scope_for(sc, scope);
	if (!t)
		return ELAVA_E_TOOBIG;
	if (!(t->flags & SCOPE_FAILED))
		sc->failed++;
	t->flags |= SCOPE_FAILED;
	xfree(t->reason);
	t->reason = xstrdup(reason ? reason : "listing failed");
	return 0;
}

void store_scan_free(struct store_scan **scp)
{
	struct store_scan *sc;

	if (!scp || !*scp)
		return;
	sc = *scp;
	xfree(sc->idx.slots);
	scopes_release(&sc->scopes);
	store__spool_close(&sc->spool);
	for (size_t i = 0; i < sc->nerrors; i++)
		xfree(sc->errors[i]);
	xfree(sc->errors);
	resource_encoded_release(&sc->enc);
	xfree(sc);
	*scp = NULL;
}

/* ---------------------------------------------------------------- commit */

struct commit {
	struct store_scan *sc;
	bool raced;    /* another writer committed since the scan began */
	bool baseline; /* the store held no resource before this scan */
	uint64_t rev;
	int64_t t;
	uint32_t seq; /* change event sequence within the revision */
	size_t created, modified, disappeared;
	struct buf fields, vbuf;
	MDB_cursor *vcur; /* reads of old versions */
	/* Write cursors: one per database, kept for the whole commit so
	 * appends need no descent from the root and LMDB keeps their pages
	 * out of its dirty-page spills. */
	MDB_cursor *wversions, *wlatest, *wchanges;
	struct store_scan_result *res;
};

/*
 * Commits insert in key order (the spool is sorted), so most puts land
 * after the last key of their database. Try MDB_APPEND first: LMDB then
 * fills pages completely instead of splitting them in half, which halves
 * the pages a big scan writes. A key in the middle falls back to a plain
 * put.
 */
static int put_ordered(MDB_cursor *cur, MDB_val *key, MDB_val *val,
		       unsigned flags)
{
	int rc = mdb_cursor_put(cur, key, val, flags | MDB_APPEND);

	if (rc == MDB_KEYEXIST)
		rc = mdb_cursor_put(cur, key, val, flags);
	return rc;
}

/* A one-off put (scan metadata, time index). */
static int put(struct commit *c, MDB_txn *txn, MDB_dbi dbi, const void *k,
	       size_t klen, const void *v, size_t vlen, const char *what,
	       struct elava_error *err)
{
	MDB_val key = {klen, (void *)k}, val = {vlen, (void *)v};
	int rc = mdb_put(txn, dbi, &key, &val, 0);

	return rc ? store__mdb_error(c->sc->s, rc, err, what) : 0;
}

static int put_event(struct commit *c, MDB_txn *txn, const char *skey,
		     size_t skeylen, enum store_change_kind kind,
		     struct elava_error *err)
{
	uint8_t ck[8 + STORE_SKEY_MAX];
	MDB_val key = {8 + skeylen, ck}, val;
	size_t flen = kind == STORE_CHANGE_MODIFIED ? c->fields.len : 0;
	int rc;

	be64_put(ck, c->rev);
	memcpy(ck + 8, skey, skeylen);
	val.mv_size = CHANGE_HDR_LEN + flen;
	val.mv_data = NULL;
	rc = put_ordered(c->wchanges, &key, &val, MDB_RESERVE);
	if (rc)
		return store__mdb_error(c->sc->s, rc, err, "write to");
	uint8_t *p = val.mv_data;
	p[0] = (uint8_t)kind;
	be64_put(p + 1, (uint64_t)c->t);
	if (flen)
		memcpy(p + CHANGE_HDR_LEN, c->fields.data, flen);
	return 0;
}

static int put_version(struct commit *c, MDB_txn *txn, const char *skey,
		       size_t skeylen, enum store_change_kind kind,
		       const char *json, size_t jsonlen,
		       struct elava_error *err)
{
	uint8_t vk[STORE_SKEY_MAX + 9];
	size_t vklen = store__version_key(skey, skeylen, c->rev, vk);
	MDB_val key = {vklen, vk}, val = {VERSION_HDR_LEN + jsonlen, NULL};
	int rc;

	/* Reserve, then write in place: saves a copy of the payload. */
	rc = put_ordered(c->wversions, &key, &val, MDB_RESERVE);
	if (rc)
		return store__mdb_error(c->sc->s, rc, err, "write to");
	uint8_t *p = val.mv_data;
	p[0] = (uint8_t)kind;
	be64_put(p + 1, (uint64_t)c->t);
	if (jsonlen)
		memcpy(p + VERSION_HDR_LEN, json, jsonlen);
	return 0;
}

/*
 * Record one observed resource at this revision unless the store already
 * has exactly this version as its latest.
 */
static int write_observed(struct commit *c, MDB_txn *txn, const char *skey,
			  size_t skeylen, const char *json, size_t jsonlen,
			  const uint8_t *fp, const struct idx_entry *e,
			  struct elava_error *err)
{
	struct store *s = c->sc->s;
	uint8_t lv[LATEST_VAL_LEN];
	enum store_change_kind kind = STORE_CHANGE_CREATED;
	uint64_t orev = 0;
	MDB_val ov;
	int rc;

	if (!c->raced && e) {
		/*
		 * Nobody wrote since the snapshot the index was built from,
		 * so the index already knows: new at the snapshot means
		 * created; spooled while live means modified, and its old
		 * version is the one current at the snapshot.
		 */
		if (e->meta & F_PREV) {
			kind = STORE_CHANGE_MODIFIED;
			orev = c->sc->base_rev;
		}
	} else {
		MDB_val k = {skeylen, (void *)skey}, v;
		rc = mdb_get(txn, s->latest, &k, &v);
		if (rc && rc != MDB_NOTFOUND)
			return store__mdb_error(s, rc, err, "read");
		if (!rc) {
			const uint8_t *old = v.mv_data;
			if (v.mv_size != LATEST_VAL_LEN)
				return elava_error_set(err, ELAVA_E_CORRUPT,
						       "store '%s' is damaged: "
						       "bad index entry",
						       s->path);
			if (!(old[8] & LATEST_TOMBSTONE)) {
				if (!memcmp(old + 9, fp, RESOURCE_FP_LEN))
					return 0; /* the store has it */
				kind = STORE_CHANGE_MODIFIED;
				orev = be64_get(old);
			}
		}
	}
	if (kind == STORE_CHANGE_MODIFIED) {
		uint64_t frev;
		rc = store__version_at(s, txn, c->vcur, skey, skeylen, orev,
				       &frev, &ov);
		if (rc)
			return store__mdb_error(s, rc, err, "read");
		buf_reset(&c->fields);
		store__diff_json(s, skey, skeylen,
				 (const char *)ov.mv_data + VERSION_HDR_LEN,
				 ov.mv_size - VERSION_HDR_LEN, json, jsonlen,
				 &c->fields);
		if (c->fields.len == 2) {
			/*
			 * Only ignored fields differ: the ignore rules changed
			 * since the stored fingerprint was taken. Adopt the new
			 * fingerprint without a version or an event, or editing
			 * the noise list would report every resource modified.
			 */
			be64_put(lv, frev);
			lv[8] = 0;
			memcpy(lv + 9, fp, RESOURCE_FP_LEN);
			MDB_val lk = {skeylen, (void *)skey},
				lval = {sizeof(lv), lv};
			if ((rc = mdb_put(txn, s->latest, &lk, &lval, 0)))
				return store__mdb_error(s, rc, err, "write to");
			return 0;
		}
	}
	if ((rc = put_version(c, txn, skey, skeylen, kind, json, jsonlen, err)))
		return rc;
	be64_put(lv, c->rev);
	lv[8] = 0;
	memcpy(lv + 9, fp, RESOURCE_FP_LEN);
	MDB_val lk = {skeylen, (void *)skey}, lval = {sizeof(lv), lv};
	if ((rc = put_ordered(c->wlatest, &lk, &lval, 0)))
		return store__mdb_error(s, rc, err, "write to");
	if (kind == STORE_CHANGE_CREATED)
		c->created++;
	else
		c->modified++;
	return put_event(c, txn, skey, skeylen, kind, err);
}

/*
 * Another writer committed since this scan began. Resources this scan saw
 * unchanged (relative to its snapshot) were not spooled; any of them that
 * the other writer changed must be re-recorded as this scan observed them,
 * which is exactly the version that was current at the snapshot.
 */
static int reconcile_concurrent(struct commit *c, MDB_txn *txn,
				uint64_t current, struct elava_error *err)
{
	struct store_scan *sc = c->sc;
	struct store *s = sc->s;
	struct resource_encoded enc;
	struct resource r;
	MDB_cursor *cur = NULL;
	uint8_t start[8];
	MDB_val k = {8, start}, v;
	int rc;

	resource_encoded_init(&enc);
	resource_init(&r);
	be64_put(start, sc->base_rev + 1);
	if ((rc = mdb_cursor_open(txn, s->changes, &cur))) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE); !rc;
	     rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		const char *skey = (const char *)k.mv_data + 8;
		size_t skeylen = k.mv_size - 8;
		uint32_t h[3];
		uint64_t frev;
		MDB_val ov;

		if (be64_get(k.mv_data) > current)
			break;
		struct idx_entry *e = idx_lookup(&sc->idx, skey, skeylen, h);
		if (!e || (e->meta & (F_SPOOLED | F_WRITTEN)) ||
		    !(e->meta & F_SEEN))
			continue;
		e->meta |= F_WRITTEN;
		rc = store__version_at(s, txn, c->vcur, skey, skeylen,
				       sc->base_rev, &frev, &ov);
		if (rc || ((const uint8_t *)ov.mv_data)[0] ==
			      STORE_CHANGE_DISAPPEARED) {
			rc = elava_error_set(
			    err, ELAVA_E_CONFLICT,
			    "store '%s' was compacted past this "
			    "scan's starting revision %llu "
			    "while it ran; scan again",
			    s->path, (unsigned long long)sc->base_rev);
			goto out;
		}
		const char *json = (const char *)ov.mv_data + VERSION_HDR_LEN;
		size_t jsonlen = ov.mv_size - VERSION_HDR_LEN;
		/* Copy: the page may move once we write. */
		buf_reset(&c->vbuf);
		buf_append(&c->vbuf, json, jsonlen);
		if ((rc = resource_from_json(c->vbuf.data, c->vbuf.len, &r,
					     err)) ||
		    (rc = resource_encode(&r, s->ignore, &enc, err)))
			goto out;
		if ((rc = write_observed(c, txn, skey, skeylen, c->vbuf.data,
					 c->vbuf.len, enc.fingerprint, NULL,
					 err)))
			goto out;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = store__mdb_error(s, rc, err, "read");
out:
	if (cur)
		mdb_cursor_close(cur);
	resource_encoded_release(&enc);
	resource_release(&r);
	return rc;
}

static int write_spool(struct commit *c, MDB_txn *txn, struct elava_error *err)
{
	struct store_scan *sc = c->sc;
	struct store__spool_rec rec;
	int rc;

	store__spool_rewind(&sc->spool);
	while (store__spool_next(&sc->spool, &rec)) {
		const char *key = rec.key, *json = rec.json;
		size_t keylen = rec.keylen, jsonlen = rec.jsonlen;
		const uint8_t *fp = rec.fp;
		char skey[STORE_SKEY_MAX];
		uint32_t h[3];

		size_t skeylen = store__skey(key, keylen, skey);
		struct idx_entry *e = idx_lookup(&sc->idx, skey, skeylen, h);
		/* A key added twice: only its last version counts. */
		if (!e || memcmp(e->fp, fp, sizeof(e->fp)) ||
		    (e->meta & F_WRITTEN))
			continue;
		e->meta |= F_WRITTEN;
		if ((rc = write_observed(c, txn, skey, skeylen, json, jsonlen,
					 fp, e, err)))
			return rc;
	}
	return 0;
}

static int tombstone_scope(struct commit *c, MDB_txn *txn, struct scope *t,
			   struct elava_error *err)
{
	struct store *s = c->sc->s;
	MDB_cursor *cur = NULL;
	char prefix[STORE_SKEY_MAX + 1];
	MDB_val k, v;
	int rc;

	if (t->len + 1 > sizeof(prefix))
		return 0;
	memcpy(prefix, t->name, t->len);
	prefix[t->len] = ':';
	k.mv_data = prefix;
	k.mv_size = t->len + 1;
	if ((rc = mdb_cursor_open(txn, s->latest, &cur)))
		return store__mdb_error(s, rc, err, "read");
	for (rc = mdb_cursor_get(cur, &k, &v, MDB_SET_RANGE);
	     !rc && t->unseen > 0; rc = mdb_cursor_get(cur, &k, &v, MDB_NEXT)) {
		uint8_t lv[LATEST_VAL_LEN];
		char skey[STORE_SKEY_MAX];
		uint32_t h[3];

		if (k.mv_size < t->len + 1 ||
		    memcmp(k.mv_data, prefix, t->len + 1))
			break;
		if (v.mv_size != LATEST_VAL_LEN ||
		    (((const uint8_t *)v.mv_data)[8] & LATEST_TOMBSTONE))
			continue;
		size_t skeylen = k.mv_size;
		memcpy(skey, k.mv_data, skeylen);
		k.mv_data = skey; /* the page may be copied by the put below */
		struct idx_entry *e = idx_lookup(&c->sc->idx, skey, skeylen, h);
		if (!e || (e->meta & F_SEEN) || !(e->meta & F_PREV))
			continue;
		t->unseen--;
		memcpy(lv, v.mv_data, LATEST_VAL_LEN);
		be64_put(lv, c->rev);
		lv[8] |= LATEST_TOMBSTONE;
		MDB_val nv = {LATEST_VAL_LEN, lv};
		if ((rc = mdb_cursor_put(cur, &k, &nv, MDB_CURRENT))) {
			rc = store__mdb_error(s, rc, err, "write to");
			goto out;
		}
		if ((rc =
			 put_version(c, txn, skey, skeylen,
				     STORE_CHANGE_DISAPPEARED, NULL, 0, err)) ||
		    (rc = put_event(c, txn, skey, skeylen,
				    STORE_CHANGE_DISAPPEARED, err)))
			goto out;
		c->disappeared++;
	}
	if (rc == MDB_NOTFOUND)
		rc = 0;
	else if (rc > 0)
		rc = store__mdb_error(s, rc, err, "read");
out:
	mdb_cursor_close(cur);
	return rc;
}

static int write_tombstones(struct commit *c, MDB_txn *txn,
			    struct elava_error *err)
{
	struct store_scan *sc = c->sc;
	int rc;

	for (size_t i = 0; i < sc->scopes.n; i++)
		sc->scopes.v[i].unseen = 0;
	for (size_t i = 0; i < sc->idx.nslots; i++) {
		const struct idx_entry *e = &sc->idx.slots[i];
		if ((e->meta & (F_USED | F_PREV | F_SEEN)) != (F_USED | F_PREV))
			continue;
		struct scope *t = &sc->scopes.v[(e->meta >> SCOPE_SHIFT) - 1];
		if (scope_tombstones(t))
			t->unseen++;
	}
	for (size_t i = 0; i < sc->scopes.n; i++) {
		struct scope *t = &sc->scopes.v[i];
		if (t->unseen && (rc = tombstone_scope(c, txn, t, err)))
			return rc;
	}
	return 0;
}

static const char *scan_status(const struct store_scan *sc)
{
	if (!sc->failed)
		return "success";
	if (!sc->completed && !sc->resource_count)
		return "failed";
	return "partial";
}

static int scan_meta_json(struct commit *c, uint64_t scan_id, struct buf *out)
{
	struct store_scan *sc = c->sc;
	char st[TIME_RFC3339_LEN], et[TIME_RFC3339_LEN];
	size_t nfailed = 0;
	int rc;

	time_format_rfc3339(sc->start_ns, st);
	time_format_rfc3339(c->t, et);
	rc = buf_printf(
	    out,
	    "{\"baseline\":%s,\"created\":%zu,\"disappeared\":%zu,"
	    "\"duration_ms\":%lld,\"end_time\":\"%s\","
	    "\"error_count\":%zu,\"errors\":[",
	    c->baseline ? "true" : "false", c->created, c->disappeared,
	    (long long)((c->t - sc->start_ns) / 1000000), et, sc->failed);
	for (size_t i = 0; i < sc->scopes.n && !rc; i++) {
		const struct scope *t = &sc->scopes.v[i];
		if (!(t->flags & SCOPE_FAILED))
			continue;
		rc = buf_puts(out, nfailed++ ? ",{\"error\":" : "{\"error\":");
		if (!rc)
			rc = buf_append_json_string(out, t->reason,
						    strlen(t->reason));
		if (!rc)
			rc = buf_puts(out, ",\"scope\":");
		if (!rc)
			rc = buf_append_json_string(out, t->name, t->len);
		if (!rc)
			rc = buf_putc(out, '}');
	}
	for (size_t i = 0; i < sc->nerrors && !rc; i++) {
		rc = buf_puts(out, nfailed++ ? ",{\"error\":" : "{\"error\":");
		if (!rc)
			rc = buf_append_json_string(out, sc->errors[i],
						    strlen(sc->errors[i]));
		if (!rc)
			rc = buf_puts(out, ",\"scope\":null}");
	}
	if (!rc)
		rc = buf_printf(out,
				"],\"modified\":%zu,\"resource_count\":%zu,"
				"\"revision\":%llu,\"scan_id\":%llu,"
				"\"scopes_complete\":%zu,\"scopes_failed\":%zu,"
				"\"start_time\":\"%s\",\"status\":\"%s\"}",
				c->modified, sc->resource_count,
				(unsigned long long)c->rev,
				(unsigned long long)scan_id, sc->completed,
				nfailed, st, scan_status(sc));
	return rc;
}

static void close_cursors(struct commit *c)
{
	MDB_cursor **curs[] = {&c->vcur, &c->wversions, &c->wlatest,
			       &c->wchanges};

	for (size_t i = 0; i < ARRAY_SIZE(curs); i++) {
		if (*curs[i])
			mdb_cursor_close(*curs[i]);
		*curs[i] = NULL;
	}
}

static int commit_fn(struct store *s, MDB_txn *txn, void *ud,
		     struct elava_error *err)
{
	struct commit *c = ud;
	struct store_scan *sc = c->sc;
	uint64_t current, last_time, scan_seq, live;
	uint8_t k8[8], tk[16];
	struct buf meta;
	int rc;

	c->created = c->modified = c->disappeared = 0;
	c->seq = 0;
	for (size_t i = 0; i < sc->idx.nslots; i++)
		sc->idx.slots[i].meta &= ~F_WRITTEN;
	if ((rc = store__meta_get_u64(txn, s, META_REVISION, &current)) ||
	    (rc = store__meta_get_u64(txn, s, META_LAST_TIME, &last_time)) ||
	    (rc = store__meta_get_u64(txn, s, META_SCAN_SEQ, &scan_seq)) ||
	    (rc = store__meta_get_u64(txn, s, META_LIVE, &live)) ||
	    (rc = mdb_cursor_open(txn, s->versions, &c->vcur)) ||
	    (rc = mdb_cursor_open(txn, s->versions, &c->wversions)) ||
	    (rc = mdb_cursor_open(txn, s->latest, &c->wlatest)) ||
	    (rc = mdb_cursor_open(txn, s->changes, &c->wchanges))) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	c->rev = current + 1;
	c->t = time_now_ns();
	/* Keep commit times monotonic so time → revision is well defined. */
	if ((uint64_t)c->t <= last_time)
		c->t = (int64_t)last_time + 1;

	MDB_stat ls;
	if ((rc = mdb_stat(txn, s->latest, &ls))) {
		rc = store__mdb_error(s, rc, err, "read");
		goto out;
	}
	c->baseline = ls.ms_entries == 0;
	c->raced = current != sc->base_rev;
	if (c->raced && (rc = reconcile_concurrent(c, txn, current, err)))
		goto out;
	int64_t t0 = time_mono_ns();
	if ((rc = write_spool(c, txn, err)))
		goto out;
	int64_t t1 = time_mono_ns();
	if ((rc = write_tombstones(c, txn, err)))
		goto out;
	log_debug("store",
		  "commit of revision %llu: versions %.1f ms, "
		  "tombstones %.1f ms",
		  (unsigned long long)c->rev, (double)(t1 - t0) / 1e6,
		  (double)(time_mono_ns() - t1) / 1e6);

	buf_init(&meta, 0);
	scan_seq++;
	if ((rc = scan_meta_json(c, scan_seq, &meta))) {
		rc = elava_error_set(err, rc, "scan metadata too large");
		buf_release(&meta);
		goto out;
	}
	be64_put(k8, c->rev);
	rc = put(c, txn, s->scans, k8, 8, meta.data, meta.len, "write to", err);
	buf_release(&meta);
	if (rc)
		goto out;
	be64_put(tk, (uint64_t)c->t);
	be64_put(tk + 8, c->rev);
	if ((rc = put(c, txn, s->times, tk, 16, "", 0, "write to", err)))
		goto out;
	live = live + c->created - c->disappeared;
	if ((rc = store__meta_put_u64(txn, s, META_REVISION, c->rev)) ||
	    (rc =
		 store__meta_put_u64(txn, s, META_LAST_TIME, (uint64_t)c->t)) ||
	    (rc = store__meta_put_u64(txn, s, META_SCAN_SEQ, scan_seq)) ||
	    (rc = store__meta_put_u64(txn, s, META_LIVE, live))) {
		rc = store__mdb_error(s, rc, err, "write to");
		goto out;
	}
	if (c->res) {
		c->res->revision = c->rev;
		c->res->scan_id = scan_seq;
		c->res->end_ns = c->t;
		c->res->baseline = c->baseline;
	}
out:
	close_cursors(c);
	return rc;
}

int store_scan_commit(struct store_scan *sc, struct store_scan_result *res,
		      struct elava_error *err)
{
	struct store_scan_result local;
	struct commit c;
	int rc;

	if (!res)
		res = &local;
	memset(res, 0, sizeof(*res));
	if (sc->committed || sc->broken)
		return elava_error_set(err, ELAVA_E_STATE,
				       sc->broken ? "scan failed earlier; "
						    "start a new one"
						  : "scan already committed");
	int64_t t0 = time_mono_ns();
	if (!sc->spool_done) {
		if ((rc = store__spool_finish(&sc->spool, err)))
			return rc;
		sc->spool_done = true;
	}
	int64_t t1 = time_mono_ns();
	/* Versions, index, events and B-tree overhead: about 2x the spool. */
	if ((rc = store__map_reserve(sc->s,
				     sc->spool.size * 2 +
					 sc->resource_count * 64 +
					 ((uint64_t)1 << 20),
				     err)))
		return rc;
	log_debug("store",
		  "commit: spool finished in %.1f ms (%llu bytes in "
		  "%zu runs), map reserved in %.1f ms",
		  (double)(t1 - t0) / 1e6, (unsigned long long)sc->spool.size,
		  sc->spool.nruns, (double)(time_mono_ns() - t1) / 1e6);
	memset(&c, 0, sizeof(c));
	c.sc = sc;
	c.res = res;
	buf_init(&c.fields, 0);
	buf_init(&c.vbuf, 0);
	rc = store__write(sc->s, commit_fn, &c, err);
	buf_release(&c.fields);
	buf_release(&c.vbuf);
	if (rc)
		return rc;
	sc->committed = true;
	res->start_ns = sc->start_ns;
	res->resource_count = sc->resource_count;
	res->error_count = sc->failed;
	res->created = c.created;
	res->modified = c.modified;
	res->disappeared = c.disappeared;
	res->unchanged = sc->resource_count - c.created - c.modified;
	res->status = scan_status(sc);
	if (!c.raced)
		keep_index(sc, res->revision);
	return 0;
}
