/*
 * store — Elava's memory: an MVCC store of every version of every observed
 * resource, on LMDB (etcd-like). One scan = one atomic write transaction =
 * one new revision holding only what changed (new versions, tombstones,
 * change events, the scan's metadata). Reads never block and can look at
 * any revision that has not been compacted. Several processes may open one
 * store directory at once; writers serialize. The key layout is described
 * in docs/store-layout.md.
 *
 * Threads: a struct store may be shared by threads (reads run concurrently;
 * the map is grown under an internal lock). A struct store_scan belongs to
 * one thread.
 */
#ifndef ELAVA_STORE_H
#define ELAVA_STORE_H

#include "core/core.h"
#include "resource/resource.h"

/* On-disk format version this build reads and writes. */
#define STORE_FORMAT_VERSION 1

struct store;

struct store_options {
	const char *path;	 /* directory; created (0700) when missing */
	bool read_only;		 /* never create or write; fails when missing */
	size_t initial_map_size; /* bytes; 0 = 256 MiB */
	/*
	 * Largest map the store may grow to (bytes); 0 = no limit (grow until
	 * the disk is full). When reached, commits fail with ELAVA_E_NOSPACE
	 * and nothing is written.
	 */
	size_t max_map_size;
	/* Volatile fields for fingerprints and diffs (borrowed; may be NULL).
	 */
	const struct resource_ignore *ignore;
};

/*
 * Open (or create) the store at opts->path. Errors: ELAVA_E_NOTFOUND
 * (read_only and no store), ELAVA_E_PERM (opened for writing but the
 * directory belongs to another user — refused even for root), ELAVA_E_INVAL
 * (path is not a directory, or a
 * non-empty directory that is not a store), ELAVA_E_CORRUPT (data file is
 * not an elava store), ELAVA_E_FORMAT (written by a newer format),
 * ELAVA_E_PERM, ELAVA_E_IO. err says which path and why.
 */
int store_open(const struct store_options *opts, struct store **out,
	       struct elava_error *err);
/* Close and clear *sp; NULL-safe. No scan or read may be in progress. */
void store_close(struct store **sp);
const char *store_path(const struct store *s);

/* ----------------------------------------------------------------- scans */

enum store_change_kind {
	STORE_CHANGE_CREATED = 1,
	STORE_CHANGE_MODIFIED = 2,
	STORE_CHANGE_DISAPPEARED = 3,
};
const char *store_change_kind_name(enum store_change_kind k);
/* Returns the kind, or 0 when the name is unknown. */
int store_change_kind_parse(const char *name);

struct store_scan;

/*
 * Start recording a scan. Takes a short read snapshot of the current
 * inventory's index (a 24-byte slot per resource in a table kept 60-80%
 * full, so 30-40 bytes a resource; no payload) and releases it: the store's
 * write lock is taken only by store_scan_commit, so a scan that lists the cloud
 * for minutes never blocks other writers. Resources added are spooled to an
 * unlinked temporary file in the store directory. Errors: ELAVA_E_PERM
 * (read-only store), ELAVA_E_IO.
 */
int store_scan_begin(struct store *s, struct store_scan **out,
		     struct elava_error *err);

/* Validate, encode (with the store's ignore rules) and add one resource. */
int store_scan_add(struct store_scan *sc, const struct resource *r,
		   struct elava_error *err);
/*
 * Add an already encoded resource (the fingerprint must have been computed
 * with the store's ignore rules). Adding the same key twice keeps the last.
 */
int store_scan_add_encoded(struct store_scan *sc,
			   const struct resource_encoded *e,
			   struct elava_error *err);

/*
 * Declare that the listing of one scope ("provider:account:region:type")
 * finished without error: resources of that scope that are live in the
 * store but were not added become tombstones at commit. Scopes never
 * declared complete are carried forward untouched.
 */
int store_scan_scope_complete(struct store_scan *sc, const char *scope);
/*
 * Declare that the listing of a scope failed (scope may be NULL for an
 * error not tied to one scope). Counts in error_count; makes the scan
 * "partial" (or "failed" when nothing completed); its resources are
 * carried forward. A scope both completed and failed counts as failed.
 */
int store_scan_scope_failed(struct store_scan *sc, const char *scope,
			    const char *reason);

struct store_scan_result {
	uint64_t revision;
	uint64_t scan_id;
	int64_t start_ns, end_ns;
	size_t resource_count; /* distinct resources added */
	size_t error_count;
	size_t created, modified, disappeared, unchanged;
	const char *status; /* "success", "partial", "failed" (static) */
	bool baseline;	    /* the store held no resource before this scan */
};

/*
 * Commit: one write transaction = one new revision holding the changed
 * versions, tombstones, one change event per created/modified/disappeared
 * resource (with the field-level diff) and the scan metadata. If another
 * writer committed since store_scan_begin, the scan is reconciled against
 * that newer state (last observation wins; resources created after this
 * scan began are not tombstoned by it). The map grows as needed.
 * Errors: ELAVA_E_NOSPACE (disk full or max_map_size reached; nothing is
 * written), ELAVA_E_CONFLICT (the store was compacted past this scan's
 * snapshot while it ran: rescan), ELAVA_E_IO, ELAVA_E_STATE (already
 * committed). The scan must still be freed.
 */
int store_scan_commit(struct store_scan *sc, struct store_scan_result *res,
		      struct elava_error *err);
/* Discard (if not committed) and free; NULL-safe. */
void store_scan_free(struct store_scan **scp);
/* Bytes held in memory by the scan's index (for the benchmark). */
size_t store_scan_index_bytes(const struct store_scan *sc);

/* ----------------------------------------------------------------- reads */

/* Revision numbers start at 1; 0 means "current" where accepted. */
int store_current_revision(struct store *s, uint64_t *rev,
			   struct elava_error *err);

/*
 * The revision that was current at time t (the newest scan committed at or
 * before t). ELAVA_E_NOTFOUND when t is before the first scan.
 */
int store_revision_at_time(struct store *s, int64_t t_ns, uint64_t *rev,
			   struct elava_error *err);

struct store_filter {
	const char *account; /* NULL: any */
	const char *region;
	const char *type;
	const char *tag_key; /* with tag_value NULL: tag present */
	const char *tag_value;
	/*
	 * Paging: only the resources listed after this key, in the order
	 * store_inventory lists them (the last key of the previous page; it
	 * need not exist any more). A cursor seek, not a skip. NULL: from the
	 * first.
	 */
	const char *after;
};

struct store_item {
	const char *key;
	const char *json; /* canonical resource JSON (resource_to_json) */
	size_t json_len;
	uint64_t revision; /* revision of this version */
	int64_t time_ns;   /* commit time of that revision */
};

/* Return non-zero from a callback to stop; that value is returned. */
typedef int (*store_item_fn)(const struct store_item *it, void *ud);

/*
 * Inventory at revision `rev` (0 = current), in key order, filtered.
 * Errors: ELAVA_E_COMPACTED (rev older than the compacted revision),
 * ELAVA_E_NOTFOUND (rev beyond the current revision).
 */
int store_inventory(struct store *s, uint64_t rev, const struct store_filter *f,
		    store_item_fn fn, void *ud, struct elava_error *err);

/* Look up one resource at a revision (0 = current). NOTFOUND if absent. */
int store_get(struct store *s, const char *key, uint64_t rev, store_item_fn fn,
	      void *ud, struct elava_error *err);

/*
 * Every resource the store knows (live now or gone, and not compacted
 * away) whose id is `id`, in key order: how a bare id such as "i-0abc" is
 * turned into keys. Return non-zero from fn to stop; that value is
 * returned.
 */
typedef int (*store_key_fn)(const char *key, bool live, void *ud);
int store_find_id(struct store *s, const char *id, store_key_fn fn, void *ud,
		  struct elava_error *err);

struct store_change {
	uint64_t revision;
	int64_t time_ns;
	const char *key;
	const char *type;
	enum store_change_kind kind;
	/* JSON array [{"path","old","new"}]; "[]" for created/disappeared. */
	const char *fields_json;
	/* The whole event as stored (canonical JSON object). */
	const char *event_json;
	size_t event_len;
	/* Resource JSON after the change (NULL when disappeared). */
	const char *json;
	size_t json_len;
};

typedef int (*store_change_fn)(const struct store_change *c, void *ud);

/*
 * Every version of one resource, oldest first: each version's change kind
 * and changed fields relative to the previous version. NOTFOUND when the
 * store never saw the key.
 */
int store_history(struct store *s, const char *key, store_change_fn fn,
		  void *ud, struct elava_error *err);

/*
 * store_history without the versions up to revision `after` (0: none left
 * out): how the API pages through a long history. The first version
 * listed is still compared with the version before it. NOTFOUND when the
 * store never saw the key (or compacted all of it away), not when no
 * version follows `after`.
 */
int store_history_after(struct store *s, const char *key, uint64_t after,
			store_change_fn fn, void *ud, struct elava_error *err);

/*
 * Stored change events with from < revision <= to (to = 0: current), in
 * revision order and, within a revision, in key order. Events older than
 * the compacted revision are gone. `json`/`json_len` are not filled.
 */
int store_changes(struct store *s, uint64_t from, uint64_t to,
		  store_change_fn fn, void *ud, struct elava_error *err);

/*
 * store_changes resumed after one of its events, for paging: the events
 * that follow the event of revision `from` with key `after` in
 * store_changes' order, up to revision `to` (0: current). `after` is the
 * event's key as store_changes gave it; NULL means from the first event
 * after revision `from` (store_changes(from, to)). A cursor seek, not a
 * skip. Errors: ELAVA_E_COMPACTED when `after` is given and revision
 * `from` has been compacted since (events after it may be gone).
 */
int store_changes_after(struct store *s, uint64_t from, const char *after,
			uint64_t to, store_change_fn fn, void *ud,
			struct elava_error *err);

/*
 * State difference between revisions a < b: one entry per resource whose
 * state differs (created, modified with fields, disappeared), key order.
 * revision/time of each entry are b's. Errors: COMPACTED, NOTFOUND, INVAL.
 */
int store_diff(struct store *s, uint64_t a, uint64_t b, store_change_fn fn,
	       void *ud, struct elava_error *err);

struct store_scan_meta {
	uint64_t scan_id;
	uint64_t revision;
	int64_t start_ns, end_ns;
	int64_t duration_ms;
	size_t resource_count, error_count;
	size_t created, modified, disappeared;
	bool baseline; /* the store held no resource before this scan */
	const char *status;
	/* Canonical JSON object with the fields above, "end_time" and
	 * "errors" [{"error","scope"}]. */
	const char *json;
	size_t json_len;
};

typedef int (*store_scan_fn)(const struct store_scan_meta *m, void *ud);

/* Scan metadata, newest first, at most `limit` (0 = all). */
int store_scans(struct store *s, size_t limit, store_scan_fn fn, void *ud,
		struct elava_error *err);
/* store_scans from the newest scan committed before revision `before`
 * (0: from the newest), for paging. */
int store_scans_before(struct store *s, uint64_t before, size_t limit,
		       store_scan_fn fn, void *ud, struct elava_error *err);

/*
 * Revisions of the baseline scans (a store's first, or the first after it
 * held nothing), newest first: their "created" events are everything they
 * found, not news, and a baseline revision holds no other kind of event.
 * Reads the flag at the head of each scan's metadata without parsing the
 * rest. *revs (NULL when there is none) is xfree'd by the caller. Errors:
 * ELAVA_E_CORRUPT (metadata that is not a JSON object), ELAVA_E_IO.
 */
int store_baselines(struct store *s, uint64_t **revs, size_t *n,
		    struct elava_error *err);

struct store_stat {
	uint32_t format_version;
	uint64_t revision;
	uint64_t compacted_revision; /* 0: never compacted */
	uint64_t resources;	     /* live resources now */
	uint64_t keys;		     /* resources ever seen, not compacted */
	uint64_t versions;	     /* stored versions incl. tombstones */
	uint64_t changes;	     /* stored change events */
	uint64_t scans;
	uint64_t file_bytes; /* data.mdb's allocated blocks, bytes */
	uint64_t used_bytes; /* high-water mark (last page × page size) */
	uint64_t free_bytes; /* pages below the mark free for reuse */
	uint64_t map_bytes;  /* current map size */
};

int store_stat(struct store *s, struct store_stat *st, struct elava_error *err);

/* ------------------------------------------------------------ compaction */

struct store_compact_result {
	uint64_t compacted_revision;
	uint64_t versions_removed;
	uint64_t changes_removed;
	uint64_t keys_removed; /* resources gone for good (tombstoned) */
};

/*
 * Drop history before revision `keep_from`: afterwards, every revision >=
 * keep_from stays fully answerable, older ones fail with
 * ELAVA_E_COMPACTED. The latest version of each live resource is always
 * kept. Works in small write transactions so other writers interleave and
 * readers (in any process) are never blocked. Idempotent; a crash part-way
 * leaves a consistent store that the next compaction finishes.
 */
int store_compact(struct store *s, uint64_t keep_from,
		  struct store_compact_result *res, struct elava_error *err);

/* Revision to pass to store_compact to drop history older than `age_ns`
 * (the oldest revision still current at now - age); 0 if nothing to drop. */
int store_compact_revision_for_age(struct store *s, int64_t now_ns,
				   int64_t age_ns, uint64_t *rev,
				   struct elava_error *err);

/* ------------------------------------------------------------- benchmark */

/*
 * The physical limit the benchmark compares against: plain LMDB puts of
 * key → JSON for `n` encoded resources into a fresh environment in `dir`,
 * one transaction, committed and synced. With `sorted`, the items are put
 * in key order with MDB_APPEND (the fastest LMDB can go); otherwise in the
 * order given. Writes the rate to *puts_per_s.
 */
int store_calibrate_raw_puts(const char *dir,
			     const struct resource_encoded *items, size_t n,
			     bool sorted, double *puts_per_s,
			     struct elava_error *err);

/* ------------------------------------------------------------ queries */

/*
 * A point in the store's history: a revision number ("42"), an RFC 3339
 * time ("2026-11-21T10:00:00Z"), or an age ("90m", "2h", "7d": that long
 * before now). A time resolves to the revision current then; a time before
 * the first scan gives 0 when before_first allows it. Errors:
 * ELAVA_E_INVAL (none of those forms), ELAVA_E_NOTFOUND (before the first
 * scan, or a revision that does not exist yet).
 */
int store_point_parse(struct store *s, const char *arg, bool before_first,
		      uint64_t *rev, struct elava_error *err);

/*
 * A resource named by its key ("aws:123456789012:us-east-1:ec2_instance:
 * i-0abc") or by its id alone ("i-0abc"), which must match exactly one
 * resource the store knows. *key is xfree'd by the caller. Errors:
 * ELAVA_E_NOTFOUND, ELAVA_E_INVAL (an id shared by several resources: the
 * message lists their keys).
 */
int store_resolve_key(struct store *s, const char *arg, char **key,
		      struct elava_error *err);

/* One inventory item as the JSON output has it: {"key","revision","time",
 * then the resource's own members}. */
int store_item_json(const struct store_item *it, struct buf *out);

/*
 * Fingerprint and diff with these rules from the next scan on (NULL: none).
 * Only between scans: the caller makes sure none is in progress.
 */
void store_set_ignore(struct store *s, const struct resource_ignore *ignore);

#endif /* ELAVA_STORE_H */
