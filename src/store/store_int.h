/*
 * Private to src/store: the store handle, the LMDB databases, key encoding
 * and the write-transaction runner shared by scan.c, read.c and
 * compact.c. See docs/store-layout.md for the layout these implement.
 */
#ifndef ELAVA_STORE_INT_H
#define ELAVA_STORE_INT_H

#include "store/store.h"

#include <lmdb.h>
#include <pthread.h>

/*
 * LMDB keys are limited to 511 bytes. A resource key longer than this is
 * stored as its first STORE_SKEY_PREFIX bytes, the marker byte 0x01 (never
 * valid in a key: control characters are rejected) and the hex SHA-256 of
 * the whole key; the scope prefix survives so scope range scans still work.
 */
#define STORE_SKEY_MAX	  440
#define STORE_SKEY_PREFIX 360
#define STORE_SKEY_MARK	  '\x01'

/* `latest` value: [u64 revision][u8 flags][32 fingerprint]. */
#define LATEST_VAL_LEN	 (8 + 1 + RESOURCE_FP_LEN)
#define LATEST_TOMBSTONE 0x01

/* `versions` value: [u8 kind][u64 time_ns][resource JSON]. */
#define VERSION_HDR_LEN 9
/*
 * `changes` value: [u8 kind][u64 time_ns][field diff JSON, modified only].
 * The event's key, revision and type come from the database key.
 */
#define CHANGE_HDR_LEN 9

struct store {
	MDB_env *env;
	char *path;
	bool read_only;
	size_t map_size;
	size_t max_map_size;
	/* Atomic: the daemon swaps it on reload while readers diff. */
	const struct resource_ignore *_Atomic ignore;
	/*
	 * Transactions hold this shared; growing the map holds it exclusive,
	 * because mdb_env_set_mapsize() needs no transaction open in this
	 * process.
	 */
	pthread_rwlock_t resize_lock;
	/*
	 * The index of the inventory as of the last scan this handle
	 * committed, kept so the next scan need not reload it from LMDB
	 * (a daemon scans the same store every few minutes). Valid only
	 * while the store's revision is still the one it describes.
	 */
	pthread_mutex_t cache_lock;
	struct store__scan_cache *scan_cache;
	MDB_dbi meta;	  /* name → value */
	MDB_dbi latest;	  /* skey → LATEST_VAL */
	MDB_dbi versions; /* skey \0 u64be(rev) → VERSION */
	MDB_dbi changes;  /* u64be(rev) skey → CHANGE */
	MDB_dbi scans;	  /* u64be(rev) → scan metadata JSON */
	MDB_dbi times;	  /* u64be(time_ns) u64be(rev) → "" */
};

/* Meta keys. */
#define META_FORMAT    "format"
#define META_REVISION  "revision"
#define META_COMPACTED "compacted"
#define META_SCAN_SEQ  "scan_seq"
#define META_LIVE      "live"
#define META_LAST_TIME "last_time"

/* Translate an LMDB/errno code into err; returns the elava code. */
int store__mdb_error(struct store *s, int rc, struct elava_error *err,
		     const char *what);

/* Storage key for a resource key; returns its length (≤ STORE_SKEY_MAX). */
size_t store__skey(const char *key, size_t keylen, char out[STORE_SKEY_MAX]);
/* True when a storage key is a hashed long key. */
bool store__skey_is_long(const char *skey, size_t len);

/* versions key: skey \0 rev. out must hold STORE_SKEY_MAX + 9 bytes. */
size_t store__version_key(const char *skey, size_t skeylen, uint64_t rev,
			  uint8_t *out);

/* Read/write a u64 meta value (missing → 0). */
int store__meta_get_u64(MDB_txn *txn, struct store *s, const char *name,
			uint64_t *v);
int store__meta_put_u64(MDB_txn *txn, struct store *s, const char *name,
			uint64_t v);

/* Begin a read transaction (holds the resize lock shared). */
int store__read_begin(struct store *s, MDB_txn **txn, struct elava_error *err);
void store__read_end(struct store *s, MDB_txn **txn);

/*
 * Run fn inside one write transaction and commit it. When the map is full
 * the transaction is aborted, the map grown, and fn run again from the
 * start (so fn must be restartable). fn returns 0 to commit, non-zero to
 * abort; MDB return codes from puts go through store__mdb_error.
 */
typedef int (*store_write_fn)(struct store *s, MDB_txn *txn, void *ud,
			      struct elava_error *err);
int store__write(struct store *s, store_write_fn fn, void *ud,
		 struct elava_error *err);

/*
 * Grow the map ahead of a write that needs about `extra` more bytes, so a
 * big commit is not run twice (once into "map full", once after growing).
 */
int store__map_reserve(struct store *s, uint64_t extra,
		       struct elava_error *err);

/* Internal marker: fn hit MDB_MAP_FULL (store__write grows and retries). */
#define STORE__MAP_FULL (-1000)

/* Resolve the real key of a stored version (decoding long keys). */
int store__real_key(const char *skey, size_t skeylen, const char *json,
		    size_t jsonlen, struct buf *out);

/* Largest version of skey with revision <= rev. Returns 0, NOTFOUND. */
int store__version_at(struct store *s, MDB_txn *txn, MDB_cursor *cur,
		      const char *skey, size_t skeylen, uint64_t rev,
		      uint64_t *found_rev, MDB_val *val);

/*
 * Field diff of two resource JSON versions of the resource stored under
 * key (a storage key is fine: the type is in its prefix), as a canonical
 * JSON array appended to out ("[]" when either cannot be parsed).
 */
int store__diff_json(struct store *s, const char *key, size_t keylen,
		     const char *old_json, size_t old_len, const char *new_json,
		     size_t new_len, struct buf *out);

/* Append a change event object (canonical key order) to out. */
int store__event_json(struct buf *out, uint64_t rev, int64_t time_ns,
		      const char *key, size_t keylen,
		      enum store_change_kind kind, const char *fields,
		      size_t fields_len);

/* Resource type (the 4th ':' field) of a key; empty if malformed. */
void store__key_type(const char *key, size_t keylen, const char **type,
		     size_t *typelen);

/* Check rev against compaction and the current revision. */
int store__check_rev(struct store *s, MDB_txn *txn, uint64_t *rev,
		     struct elava_error *err);

/* Drop the cached scan index (store_close). */
void store__scan_cache_free(struct store *s);

/* ------------------------------------------------------------ the spool */

struct store__spool_run {
	uint64_t start, end, pos;
};

struct store__spool {
	int fd;
	char *buf; /* the run being gathered */
	size_t len, cap;
	uint32_t *offs; /* record offsets in buf */
	size_t noffs, offcap;
	uint64_t size; /* bytes in the file */
	struct store__spool_run *runs;
	size_t nruns, runcap;
	uint8_t *map; /* the file, mapped by finish */
	size_t *heap; /* runs ordered by their next key */
	size_t nheap;
};

struct store__spool_rec {
	const char *key;
	size_t keylen;
	const char *json;
	size_t jsonlen;
	const uint8_t *fp;
};

int store__spool_open(struct store__spool *sp, const char *dir,
		      struct elava_error *err);
int store__spool_add(struct store__spool *sp, const char *key, size_t keylen,
		     const char *json, size_t jsonlen, const uint8_t *fp,
		     struct elava_error *err);
/* Write the last run and map the file; iteration starts at the first key. */
int store__spool_finish(struct store__spool *sp, struct elava_error *err);
/* Next record in key order (equal keys: in the order added); false at end. */
bool store__spool_next(struct store__spool *sp, struct store__spool_rec *rec);
/* Start the iteration again (a commit retried after growing the map). */
void store__spool_rewind(struct store__spool *sp);
void store__spool_close(struct store__spool *sp);

#endif /* ELAVA_STORE_INT_H */
