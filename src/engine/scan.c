/*
 * One scan: the provider's listings stream into a store scan; each
 * listing's outcome becomes a completeness declaration; the commit detects
 * and records the changes; one WAL entry records the scan.
 */
#include "engine/engine.h"

#include <stdlib.h>
#include <string.h>

struct scan_run {
	struct store_scan *sc;
	const struct engine_scan_options *o;
	struct engine_scan_report *rep;
	/* Scopes that delivered a record the store refused. */
	char **refused;
	size_t nrefused;
	size_t resources;
	/* Listing outcomes for the WAL entry, as a JSON array. */
	struct ejson *scopes;
	/* A store error that stops the scan (disk, I/O). */
	int fatal;
	struct elava_error fatal_err;
};

static bool refused_scope(const struct scan_run *run, const char *scope)
{
	for (size_t i = 0; i < run->nrefused; i++)
		if (!strcmp(run->refused[i], scope))
			return true;
	return false;
}

/* Remember the scope of a record the store refused (once per scope). */
static void refuse_scope(struct scan_run *run, const struct resource *r)
{
	struct buf key;
	size_t len;

	buf_init(&key, RESOURCE_MAX_KEY + 1);
	if (!resource_key(r, &key) &&
	    (len = resource_key_scope_len(key.data, key.len))) {
		key.data[len] = '\0';
		if (!refused_scope(run, key.data)) {
			run->refused =
			    xrealloc(run->refused, (run->nrefused + 1) *
						       sizeof(*run->refused));
			run->refused[run->nrefused++] = xstrdup(key.data);
		}
	}
	buf_release(&key);
}

static int on_resource(const struct resource *r, void *ud)
{
	struct scan_run *run = ud;
	struct elava_error err = {0};
	int rc = store_scan_add(run->sc, r, &err);

	if (!rc) {
		run->resources++;
		return 0;
	}
	if (rc == ELAVA_E_INVAL || rc == ELAVA_E_TOOBIG) {
		/* One bad record: its listing cannot count as complete. */
		log_warn("engine", "record refused: %s", err.msg);
		refuse_scope(run, r);
		return 0;
	}
	run->fatal = rc;
	run->fatal_err = err;
	return rc;
}

static struct engine_count *count_for(struct engine_scan_report *rep,
				      const char *type, const char *region)
{
	for (size_t i = 0; i < rep->ncounts; i++)
		if (!strcmp(rep->counts[i].type, type) &&
		    !strcmp(rep->counts[i].region, region))
			return &rep->counts[i];
	rep->counts =
	    xrealloc(rep->counts, (rep->ncounts + 1) * sizeof(*rep->counts));
	struct engine_count *c = &rep->counts[rep->ncounts++];
	memset(c, 0, sizeof(*c));
	c->type = xstrdup(type);
	c->region = xstrdup(region);
	return c;
}

static void add_failure(struct scan_run *run, const char *scope,
			const char *reason)
{
	struct engine_scan_report *rep = run->rep;

	rep->failures = xrealloc(rep->failures,
				 (rep->nfailures + 1) * sizeof(*rep->failures));
	rep->failures[rep->nfailures].scope = xstrdup(scope);
	rep->failures[rep->nfailures++].reason = xstrdup(reason);
}

static void scope_json(struct scan_run *run, const char *scope,
		       const char *reason, size_t resources)
{
	struct ejson *o = ejson_object();

	ejson_object_set_take(o, "scope", ejson_string(scope, strlen(scope)));
	ejson_object_set_take(
	    o, "status",
	    ejson_string(reason ? "failed" : "complete", reason ? 6 : 8));
	ejson_object_set_take(o, "resources", ejson_int((int64_t)resources));
	if (reason)
		ejson_object_set_take(o, "error",
				      ejson_string(reason, strlen(reason)));
	ejson_array_append_take(run->scopes, o);
}

static void on_listing(const struct provider_listing *l, void *ud)
{
	struct scan_run *run = ud;
	struct engine_count *c = count_for(run->rep, l->type, l->region);
	const char *reason = NULL;

	run->rep->listings++;
	c->listings++;
	c->resources += l->resources;
	if (l->status) {
		reason = l->err && l->err->msg[0] ? l->err->msg
						  : elava_strerror(l->status);
	} else if (refused_scope(run, l->scope)) {
		reason = "a record was refused by the store (see the log)";
	}
	if (reason) {
		c->failed++;
		add_failure(run, l->scope, reason);
		store_scan_scope_failed(run->sc, l->scope, reason);
	} else {
		store_scan_scope_complete(run->sc, l->scope);
	}
	scope_json(run, l->scope, reason, l->resources);
	if (run->o && run->o->progress) {
		struct engine_progress p = {l, run->rep->listings,
					    run->resources};
		run->o->progress(&p, run->o->progress_ud);
	}
}

static int count_cmp(const void *a, const void *b)
{
	const struct engine_count *x = a, *y = b;
	int c = strcmp(x->type, y->type);
	return c ? c : strcmp(x->region, y->region);
}

/* The `observed` entry: what this scan recorded, and every listing. */
static int record_wal(struct wal *w, struct scan_run *run,
		      struct elava_error *err)
{
	const struct store_scan_result *r = &run->rep->result;
	struct ejson *d = ejson_object();
	int rc;

	ejson_object_set_take(d, "scan_id", ejson_int((int64_t)r->scan_id));
	ejson_object_set_take(d, "status",
			      ejson_string(r->status, strlen(r->status)));
	ejson_object_set_take(d, "baseline", ejson_bool(r->baseline));
	ejson_object_set_take(d, "resource_count",
			      ejson_int((int64_t)r->resource_count));
	ejson_object_set_take(d, "created", ejson_int((int64_t)r->created));
	ejson_object_set_take(d, "modified", ejson_int((int64_t)r->modified));
	ejson_object_set_take(d, "disappeared",
			      ejson_int((int64_t)r->disappeared));
	ejson_object_set_take(d, "error_count",
			      ejson_int((int64_t)r->error_count));
	ejson_object_set_take(
	    d, "duration_ms",
	    ejson_int((int64_t)(run->rep->duration_ns / 1000000)));
	ejson_object_set_take(d, "scopes", ejson_incref(run->scopes));
	rc = wal_append_value(w, WAL_OBSERVED, r->revision, NULL, d,
			      &run->rep->wal_seq, err);
	if (rc == ELAVA_E_TOOBIG) {
		/* Thousands of listings: keep the counts, drop the list. */
		ejson_object_del(d, "scopes");
		rc = wal_append_value(w, WAL_OBSERVED, r->revision, NULL, d,
				      &run->rep->wal_seq, err);
	}
	if (!rc)
		rc = wal_sync(w, err);
	ejson_decref(d);
	if (rc)
		elava_error_prefix(err,
				   "revision %llu is stored, but its WAL entry "
				   "was not written",
				   (unsigned long long)r->revision);
	return rc;
}

int engine_scan(struct provider *p, struct store *s, struct wal *w,
		const struct engine_scan_options *o,
		struct engine_scan_report *rep, struct elava_error *err)
{
	static const struct provider_scope all = {0};
	struct scan_run run = {0};
	struct provider_callbacks cb = {on_resource, on_listing, &run};
	int64_t t0 = time_mono_ns();
	int rc;

	memset(rep, 0, sizeof(*rep));
	run.o = o;
	run.rep = rep;
	run.scopes = ejson_array();
	if ((rc = store_scan_begin(s, &run.sc, err)))
		goto out;
	rc = provider_list(p, o && o->scope ? o->scope : &all, &cb, err);
	if (rc && run.fatal) {
		*err = run.fatal_err;
		rc = run.fatal;
	}
	if (rc)
		goto out; /* nothing is committed: the scan is discarded */
	if ((rc = store_scan_commit(run.sc, &rep->result, err)))
		goto out;
	rep->duration_ns = time_mono_ns() - t0;
	if (w)
		rc = record_wal(w, &run, err);
out:
	if (rep->ncounts)
		qsort(rep->counts, rep->ncounts, sizeof(*rep->counts),
		      count_cmp);
	store_scan_free(&run.sc);
	for (size_t i = 0; i < run.nrefused; i++)
		xfree(run.refused[i]);
	xfree(run.refused);
	ejson_free(&run.scopes);
	if (!rep->duration_ns)
		rep->duration_ns = time_mono_ns() - t0;
	return rc;
}

void engine_scan_report_release(struct engine_scan_report *r)
{
	if (!r)
		return;
	for (size_t i = 0; i < r->ncounts; i++) {
		xfree(r->counts[i].type);
		xfree(r->counts[i].region);
	}
	for (size_t i = 0; i < r->nfailures; i++) {
		xfree(r->failures[i].scope);
		xfree(r->failures[i].reason);
	}
	xfree(r->counts);
	xfree(r->failures);
	memset(r, 0, sizeof(*r));
}
