/*
 * engine — one pass of Elava's loop: observe (the provider lists the
 * scope), store (every resource streams into a store scan), detect (the
 * store's commit compares with the previous revision and records change
 * events and the scan's metadata in the same transaction), and record (one
 * `observed` WAL entry with the revision, the counts and the status of
 * every listing). `elava scan` runs it once; `elava serve` runs it on an
 * interval.
 *
 * Completeness: a listing that failed, or one that delivered a record the
 * store refused, is declared failed, so none of its stored resources is
 * reported disappeared; the scan is then "partial".
 */
#ifndef ELAVA_ENGINE_H
#define ELAVA_ENGINE_H

#include "core/core.h"
#include "provider/provider.h"
#include "store/store.h"
#include "wal/wal.h"

/* Resources seen per (type, region) in one scan. */
struct engine_count {
	char *type;
	char *region;
	size_t resources;
	size_t listings, failed; /* listings of that type and region */
};

/* A listing that failed: its scope and why (no secrets: AWS messages). */
struct engine_failure {
	char *scope; /* "aws:<account>:<region>:<type>" */
	char *reason;
};

/* Progress, for a terminal: called after each listing completes or fails. */
struct engine_progress {
	const struct provider_listing *listing;
	size_t listings_done;
	size_t resources; /* so far, all listings */
};

struct engine_scan_options {
	const struct provider_scope *scope;
	void (*progress)(const struct engine_progress *p, void *ud);
	void *progress_ud;
};

struct engine_scan_report {
	struct store_scan_result result; /* revision, counts, status */
	struct engine_count *counts;	 /* sorted by type, then region */
	size_t ncounts;
	struct engine_failure *failures; /* in the order they happened */
	size_t nfailures;
	size_t listings; /* listings reported by the provider */
	int64_t duration_ns;
	uint64_t wal_seq; /* seq of the `observed` entry; 0 when no WAL */
};

/*
 * Run one scan: list, store, commit, record. w may be NULL (no WAL entry).
 * Returns 0 when a revision was committed — whatever its status ("success",
 * "partial", or "failed" when no listing completed); the report says which.
 * Errors, with nothing stored: what provider_list returns before listing
 * anything (ELAVA_E_AUTH, ELAVA_E_INVAL for an unknown type or region,
 * ELAVA_E_NETWORK...), ELAVA_E_CANCELLED (provider_cancel from another
 * thread or a signal handler), the store's errors (ELAVA_E_NOSPACE,
 * ELAVA_E_IO, ELAVA_E_PERM, ELAVA_E_CONFLICT). When the revision was stored
 * but the WAL entry could not be written, returns the WAL's error with
 * report->result filled (err says the revision is stored).
 * The report is filled in either case; release it with
 * engine_scan_report_release.
 */
int engine_scan(struct provider *p, struct store *s, struct wal *w,
		const struct engine_scan_options *o,
		struct engine_scan_report *report, struct elava_error *err);

void engine_scan_report_release(struct engine_scan_report *r);

#endif /* ELAVA_ENGINE_H */
