/*
 * wal — the append-only audit log: what Elava observed, decided and did,
 * one JSON object per line, in size-rotated segment files, each line chained
 * to the one before by SHA-256 so that an edited, reordered or deleted line
 * is detected by wal_verify(). The record format, the durability rules and
 * the limits of tamper evidence are described in docs/wal-format.md.
 *
 * Writing goes through a handle (wal_open): appends are buffered in memory
 * and made durable together by wal_sync (group commit: one write, one
 * fdatasync per batch). Reading (verify, replay, tail, recovery) works on the
 * directory and needs no handle, so `elava wal verify` can run next to a
 * live daemon.
 *
 * The WAL stores exactly what it is given and keeps it for the retention
 * period: callers must never pass secrets (credentials, tokens, signed URLs)
 * in `resource` or `data`.
 */
#ifndef ELAVA_WAL_H
#define ELAVA_WAL_H

#include <limits.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#include "core/core.h"

/* Longest line, without its newline, accepted on write and on read. */
#define WAL_LINE_MAX ((size_t)1 << 20)
/* Default segment size cap (wal_options.segment_max_bytes == 0). */
#define WAL_SEGMENT_MAX_DEFAULT ((size_t)64 << 20)
/* A SHA-256 as lower-case hex, plus the NUL. */
#define WAL_HASH_HEX_SIZE (SHA256_HEX_LEN + 1)

/* ------------------------------------------------------------ entry types */

enum wal_type {
	WAL_OBSERVED,  /* a change was seen in the cloud */
	WAL_DECIDED,   /* the decision maker chose an action */
	WAL_EXECUTING, /* an action is about to be sent to the provider */
	WAL_EXECUTED,  /* the provider accepted it */
	WAL_FAILED,    /* the provider refused it or it timed out */
	WAL_SKIPPED,   /* an action was decided but deliberately not run */
	WAL_TYPE_COUNT
};

/* Bit of a type in wal_filter.types. */
#define WAL_TYPE_BIT(t) (1u << (unsigned)(t))

/* "observed", "decided", …; NULL for a value outside the enum. */
const char *wal_type_name(enum wal_type t);
/* Parse a type name. Returns 0, or ELAVA_E_INVAL for an unknown name. */
int wal_type_parse(const char *s, enum wal_type *out);

/* ------------------------------------------------------------------ entry */

/*
 * One parsed line. Every pointer is borrowed: valid only during the
 * callback that received it (or, from wal_line_parse, while both the line
 * and the scratch buffer are unchanged). Strings are NUL-terminated.
 */
struct wal_entry {
	uint64_t seq;  /* 1, 2, 3… with no gaps across segments */
	int64_t ts_ns; /* wall clock at append, millisecond precision */
	enum wal_type type;
	const char *instance; /* which Elava process wrote it */
	uint64_t revision;    /* store revision it refers to; 0 = none */
	const char *resource; /* resource key, or NULL (JSON null) */
	const char
	    *data; /* JSON text of an object (canonical if we wrote it) */
	size_t data_len;
	char prev[WAL_HASH_HEX_SIZE]; /* hash of the previous entry */
	char hash[WAL_HASH_HEX_SIZE]; /* hash of this entry (as stored) */
	const char *line;	      /* the raw line, without its newline */
	size_t line_len;
};

/*
 * Called for each entry by the readers. Return 0 to go on; any other value
 * stops the walk and is returned by the reader (so a positive value can
 * mean "found it, stop" and a negative ELAVA_E_* code an error).
 */
typedef int (*wal_entry_fn)(const struct wal_entry *e, void *ud);

/*
 * Parse one line (without its newline) into *e. The line must have exactly
 * the layout the writer produces (docs/wal-format.md); `data` must be one
 * valid JSON object. Decoded strings are stored in *scratch (reset first),
 * which the caller owns and releases. The stored hash is NOT checked against
 * the line here: see wal_line_hash().
 * Errors: ELAVA_E_PARSE (err says which field and at which column),
 * ELAVA_E_TOOBIG (longer than WAL_LINE_MAX).
 */
int wal_line_parse(const char *line, size_t len, struct wal_entry *e,
		   struct buf *scratch, struct elava_error *err);

/*
 * The hash a line should carry: SHA-256 over the bytes before ,"hash":
 * written as hex into out. The line must already have parsed. Returns true
 * when it equals the hash stored in the line.
 */
bool wal_line_hash(const char *line, size_t len, char out[WAL_HASH_HEX_SIZE]);

/* ----------------------------------------------------------------- writer */

struct wal;

struct wal_options {
	const char *dir;	   /* created 0700 if missing */
	size_t segment_max_bytes;  /* rotate past this; 0 = 64 MiB */
	int64_t retention_ns;	   /* drop closed segments older; 0 = forever */
	const char *instance;	   /* written in each entry; NULL = hostname */
	int64_t (*clock_ns)(void); /* NULL = time_now_ns (tests inject one) */
};

/*
 * Open (or create) the WAL in opts->dir for appending. Takes an exclusive
 * flock() on the directory so two writers cannot interleave chains. Finds
 * the head (last seq and hash) from the newest segment. If the newest
 * segment ends with an incomplete line or NUL bytes (a crash during a write),
 * those bytes are cut off and a warning is logged; a newest segment left
 * empty is removed. Complete lines are never removed.
 * Errors: ELAVA_E_INVAL (no dir, bad instance), ELAVA_E_BUSY (another
 * writer holds the lock), ELAVA_E_CORRUPT (the newest entry is unreadable or
 * its hash is wrong: run wal_verify), ELAVA_E_PERM, ELAVA_E_IO…
 */
int wal_open(const struct wal_options *opts, struct wal **out,
	     struct elava_error *err);

/*
 * Make buffered entries durable (as wal_sync), release the lock and free
 * the handle; clears *wp. NULL-safe. Returns the result of that last sync
 * (ELAVA_E_STATE if the handle was already poisoned); the handle is freed
 * either way.
 */
int wal_close(struct wal **wp, struct elava_error *err);

/*
 * Append one entry to the in-memory batch. It is NOT durable until
 * wal_sync() returns 0. data_json is the text of a JSON object (NULL = {});
 * it is validated and stored in canonical form. resource NULL means none.
 * *seq_out (may be NULL) receives the entry's seq; a rejected entry uses
 * no seq.
 * Errors: ELAVA_E_INVAL (unknown type, data not an object, resource or
 * instance not UTF-8 or empty), ELAVA_E_PARSE (data not JSON), ELAVA_E_TOOBIG
 * (line over WAL_LINE_MAX), ELAVA_E_STATE (poisoned: an earlier write or
 * fsync failed), and the I/O codes of a write the batch may trigger when it
 * grows past a few MiB (which poison the handle too).
 * Thread-safe: appends and syncs from several threads are serialised by one
 * mutex; seqs are assigned in lock order.
 */
int wal_append(struct wal *w, enum wal_type type, uint64_t revision,
	       const char *resource, const char *data_json, uint64_t *seq_out,
	       struct elava_error *err);

/* As wal_append, with data as a JSON value (must be an object). */
int wal_append_value(struct wal *w, enum wal_type type, uint64_t revision,
		     const char *resource, const struct ejson *data,
		     uint64_t *seq_out, struct elava_error *err);

/*
 * Write the batch and fdatasync() once (group commit). Rotates to a new
 * segment when the active one would pass segment_max_bytes (the old one is
 * synced first, the directory after the new file is created) and then
 * applies retention. A failed write or fsync poisons the handle: every later
 * append or sync returns ELAVA_E_STATE, because what the kernel dropped
 * cannot be known or taken back (reopen to continue from what is on disk).
 * Errors: ELAVA_E_NOSPACE, ELAVA_E_IO, ELAVA_E_PERM, ELAVA_E_STATE.
 */
int wal_sync(struct wal *w, struct elava_error *err);

struct wal_head {
	uint64_t seq; /* last appended (maybe not yet durable); 0 = none */
	uint64_t durable_seq;	      /* last made durable by wal_sync */
	char hash[WAL_HASH_HEX_SIZE]; /* hash of entry `seq` */
};

/* The head of the chain, for anchoring it elsewhere. Thread-safe. */
void wal_head_get(struct wal *w, struct wal_head *out);

/*
 * Delete whole closed segments, oldest first, whose newest entry is older
 * than now_ns - retention_ns; stops at the first one it keeps, never touches
 * the active segment. No-op when retention_ns is 0. *removed (may be NULL)
 * receives the number of files deleted. Also run automatically after each
 * rotation. Errors: ELAVA_E_CORRUPT (a segment's last entry is unreadable:
 * nothing past it is deleted), ELAVA_E_IO.
 */
int wal_retention_apply(struct wal *w, int64_t now_ns, size_t *removed,
			struct elava_error *err);

/* ---------------------------------------------------------------- readers */

/*
 * The readers below take the directory, not a handle, and never modify it.
 * They see whatever prefix a concurrent writer has written; an incomplete
 * final line in the newest segment is ignored (it is what wal_open would
 * trim). Thread-safe.
 */

struct wal_verify_report {
	bool ok;
	uint64_t entries;	      /* entries checked */
	uint64_t segments;	      /* segment files found */
	uint64_t bytes;		      /* bytes read */
	uint64_t first_seq, last_seq; /* 0 when the log is empty */
	/*
	 * The chain starts at first_seq. When first_seq > 1 (older segments
	 * removed by retention) it is anchored on the first entry's prev,
	 * which cannot itself be checked.
	 */
	bool anchored;
	char anchor_prev[WAL_HASH_HEX_SIZE];
	char head_hash[WAL_HASH_HEX_SIZE]; /* hash of last_seq (zeros if empty)
					    */
	uint64_t torn_bytes; /* incomplete tail of the newest segment */
	/* When !ok: the first seq that is wrong or missing, where, and why. */
	uint64_t bad_seq;
	char file[PATH_MAX];
	uint64_t line;
	char reason[256];
};

/*
 * Check every segment: each line parses, its hash matches its bytes, seqs
 * run on without gaps (also across segments and against the file names),
 * and each prev equals the hash before it. Stops at the first problem.
 * Returns 0 when the chain is intact, ELAVA_E_CORRUPT when it is not (report
 * says where and why), or an I/O code (ELAVA_E_NOTFOUND for a missing
 * directory) when it could not be read. *report is always filled.
 * Cannot detect whole lines removed from the end of the newest segment:
 * compare report->last_seq/head_hash with a copy kept elsewhere.
 */
int wal_verify(const char *dir, struct wal_verify_report *report,
	       struct elava_error *err);

/* Which entries a replay delivers; NULL or zeroed = all. */
struct wal_filter {
	const char *resource; /* exact resource key; NULL = any */
	unsigned types;	      /* WAL_TYPE_BIT mask; 0 = any */
};

/*
 * Call fn for every entry with seq >= since_seq that passes the filter, in
 * seq order. Does not check hashes (wal_verify does). Errors:
 * ELAVA_E_CORRUPT (a line does not parse: err names file and line), I/O
 * codes, or whatever non-zero value fn returned.
 */
int wal_replay(const char *dir, uint64_t since_seq,
	       const struct wal_filter *filter, wal_entry_fn fn, void *ud,
	       struct elava_error *err);

/*
 * The last n entries (fewer if the log is shorter), oldest first.
 * Errors as wal_replay.
 */
int wal_tail(const char *dir, size_t n, wal_entry_fn fn, void *ud,
	     struct elava_error *err);

/*
 * Actions that may have been interrupted: every `executing` entry with no
 * later `executed` or `failed` entry for the same resource (a completion
 * settles all earlier executing entries of its resource), passed to fn in
 * seq order. Reads the whole retained log. Whoever acts on them must
 * re-observe the resource before retrying anything. Errors as wal_replay.
 */
int wal_recover_pending(const char *dir, wal_entry_fn fn, void *ud,
			struct elava_error *err);

#endif /* ELAVA_WAL_H */
