/*
 * What the daemon says of itself over HTTP: /metrics, /health, /ready,
 * /debug/vars, and the routes of the JSON API (api.c answers them).
 *
 * Health rules (seed 004 §12, with the holes closed):
 *   unhealthy (503): no successful iteration for daemon.unhealthy_after
 *     (three intervals by default) since the last success or the start;
 *   degraded: the last iteration was partial, failed, timed out or could
 *     not store, or the last success is older than two intervals;
 *   healthy otherwise (also while the first iteration runs: /ready is the
 *     probe that waits for it).
 */
#include "daemon_int.h"

#include "store/store.h"

#include <stdio.h>
#include <string.h>
#include <unistd.h>

/* ------------------------------------------------------------- metrics */

static const char *const type_region[] = {"type", "region", NULL};
static const char *const service[] = {"service", NULL};

void daemon_metrics_init(struct daemon_metrics *m)
{
	/* Milliseconds, from a quick scan to a long one. */
	static const double ms[] = {100,    250,    500,    1000,  2500,
				    5000,   10000,  30000,  60000, 120000,
				    300000, 600000, 1800000};
	struct metrics *r = metrics_new();

	m->reg = r;
	m->reconciliations = metrics_counter(
	    r, "daemon_reconciliation_total",
	    "Reconciliation iterations finished, whatever their outcome.",
	    NULL);
	m->duration_ms = metrics_histogram(
	    r, "daemon_reconciliation_duration_ms",
	    "Duration of reconciliation iterations, in milliseconds.", NULL, ms,
	    ARRAY_SIZE(ms));
	m->errors = metrics_counter(
	    r, "daemon_reconciliation_errors_total",
	    "Iterations that failed, timed out or could not store.", NULL);
	m->timeouts = metrics_counter(
	    r, "daemon_reconciliation_timeout_total",
	    "Iterations cancelled at daemon.reconciliation_timeout.", NULL);
	m->partials = metrics_counter(
	    r, "daemon_reconciliation_partial_total",
	    "Iterations in which some listings failed (their resources were "
	    "kept).",
	    NULL);
	m->storage_errors = metrics_counter(
	    r, "daemon_storage_write_errors_total",
	    "Iterations whose revision or WAL entry could not be written.",
	    NULL);
	m->last_ts = metrics_gauge(
	    r, "daemon_last_reconciliation_timestamp",
	    "Unix time the last iteration finished, whatever its outcome.",
	    NULL);
	m->last_success_ts = metrics_gauge(
	    r, "daemon_last_successful_reconciliation_timestamp",
	    "Unix time the last successful or partial iteration finished.",
	    NULL);
	m->scanned =
	    metrics_counter(r, "daemon_resources_scanned_total",
			    "Resources seen, summed over iterations.", NULL);
	m->resources_now =
	    metrics_gauge(r, "daemon_resources_current",
			  "Resources seen by the last iteration.", NULL);
	m->uptime = metrics_gauge(r, "daemon_uptime_seconds",
				  "Seconds since the daemon started.", NULL);
	m->threads = metrics_gauge(r, "daemon_threads",
				   "Threads of the daemon's process.", NULL);
	m->memory = metrics_gauge(
	    r, "daemon_memory_usage_bytes",
	    "Private memory (RssAnon; the store's map is page cache).", NULL);
	m->health =
	    metrics_gauge(r, "daemon_health_status",
			  "1 for the current health status, 0 for the others.",
			  (const char *const[]){"status", NULL});
	m->ready = metrics_gauge(
	    r, "daemon_ready",
	    "1 once the store is open and the first iteration finished.", NULL);
	m->created = metrics_counter(r, "elava_resources_created_total",
				     "Resources that appeared (baseline scans "
				     "excluded).",
				     type_region);
	m->modified =
	    metrics_counter(r, "elava_resources_modified_total",
			    "Resources whose fields changed.", type_region);
	m->disappeared = metrics_counter(
	    r, "elava_resources_disappeared_total",
	    "Resources gone from a listing that completed.", type_region);
	m->events_stored =
	    metrics_counter(r, "elava_change_events_stored_total",
			    "Change events written to the store.", NULL);
	m->resources_by_type = metrics_gauge(
	    r, "elava_resources_current",
	    "Resources per type and region at the last complete listing.",
	    type_region);
	m->listing_failures = metrics_counter(
	    r, "elava_listing_failures_total",
	    "Listings that failed (scan partial).", type_region);
	m->api_calls = metrics_counter(
	    r, "elava_api_calls_total",
	    "Cloud API requests sent, retries included.", service);
	m->api_errors = metrics_counter(
	    r, "elava_api_errors_total",
	    "Cloud API requests that failed (error answers and transport "
	    "failures).",
	    service);
	m->api_throttles =
	    metrics_counter(r, "elava_api_throttles_total",
			    "Cloud API answers that were throttling.", service);
	m->store_bytes = metrics_gauge(
	    r, "elava_store_size_bytes",
	    "Disk blocks allocated to the store's data file.", NULL);
	m->store_revision = metrics_gauge(r, "elava_store_revision",
					  "The store's newest revision.", NULL);
	m->wal_entries =
	    metrics_counter(r, "elava_wal_entries_total",
			    "WAL entries written by this process.", NULL);
	m->http_requests = metrics_counter(
	    r, "elava_http_requests_total", "HTTP requests answered.",
	    (const char *const[]){"handler", "code", NULL});
	m->build_info = metrics_gauge(r, "elava_build_info",
				      "Always 1; the labels say the build.",
				      (const char *const[]){"version", NULL});
	metric_set(m->build_info, (const char *const[]){ELAVA_VERSION}, 1);
}

/* ---------------------------------------------------------- the rules */

static void reason(struct buf *b, const char *text)
{
	if (b->len > 1) /* after the '[' */
		buf_putc(b, ',');
	buf_append_json_string(b, text, strlen(text));
}

static const char *outcome_reason(const char *last_status)
{
	if (!strcmp(last_status, "partial"))
		return "the last iteration was partial: some listings failed";
	if (!strcmp(last_status, "failed"))
		return "the last iteration failed: no listing completed";
	if (!strcmp(last_status, "timeout"))
		return "the last iteration was cancelled at its timeout";
	return "the last iteration failed with an error";
}

const char *daemon_health(const struct daemon_status *st, int64_t now,
			  struct buf *reasons)
{
	int64_t since =
	    st->last_success_ns ? st->last_success_ns : st->started_ns;
	const char *status = "healthy";

	buf_reset(reasons);
	buf_putc(reasons, '[');
	if (st->unhealthy_after_ns && now - since > st->unhealthy_after_ns) {
		status = "unhealthy";
		reason(reasons, st->last_success_ns
				    ? "no successful iteration for longer "
				      "than daemon.unhealthy_after"
				    : "no successful iteration since the "
				      "start, for longer than "
				      "daemon.unhealthy_after");
	}
	if (!st->storage_ok) {
		status = strcmp(status, "unhealthy") ? "degraded" : status;
		reason(reasons, "the last iteration could not write to the "
				"store");
	}
	if (st->last_status && strcmp(st->last_status, "success") &&
	    strcmp(st->last_status, "storage_error")) {
		status = strcmp(status, "unhealthy") ? "degraded" : status;
		reason(reasons, outcome_reason(st->last_status));
	}
	if (st->last_success_ns && st->interval_ns &&
	    now - st->last_success_ns > 2 * st->interval_ns) {
		status = strcmp(status, "unhealthy") ? "degraded" : status;
		reason(reasons, "the last success is older than two intervals");
	}
	buf_putc(reasons, ']');
	return status;
}

/* ---------------------------------------------------------- snapshots */

static struct daemon_status snapshot(struct daemon *d)
{
	struct daemon_status st;

	pthread_mutex_lock(&d->lock);
	st = d->st;
	pthread_mutex_unlock(&d->lock);
	return st;
}

/* /proc and the store's size, at most once a second: a scrape at 5,000
 * requests per second must not read /proc 5,000 times. */
static void scrape_figures(struct daemon *d, struct proc_stats *ps,
			   uint64_t *store_bytes)
{
	int64_t now = time_mono_ns();

	pthread_mutex_lock(&d->scrape_lock);
	if (!d->scraped_mono || now - d->scraped_mono > 1000000000LL) {
		struct store_stat ss;
		struct elava_error err = {0};
		proc_stats_read(&d->proc);
		if (!store_stat(d->store, &ss, &err))
			d->store_bytes = ss.file_bytes;
		d->scraped_mono = now;
	}
	*ps = d->proc;
	*store_bytes = d->store_bytes;
	pthread_mutex_unlock(&d->scrape_lock);
}

static const char *const phase_names[] = {"starting", "running", "sleeping",
					  "stopping"};

static void time_or_null(struct buf *b, const char *name, int64_t ns)
{
	char ts[TIME_RFC3339_LEN];

	buf_printf(b, ",\"%s\":", name);
	if (!ns) {
		buf_puts(b, "null");
		return;
	}
	time_format_rfc3339(ns, ts);
	buf_printf(b, "\"%s\"", ts);
}

/* ------------------------------------------------------------ handlers */

/* Update the gauges read at scrape time and render the page again. */
static void render_metrics(struct daemon *d, struct buf *page)
{
	static const char *const statuses[] = {"healthy", "degraded",
					       "unhealthy"};
	struct daemon_metrics *m = &d->m;
	struct daemon_status st = snapshot(d);
	struct proc_stats ps;
	struct buf reasons;
	uint64_t store_bytes;
	const char *status;

	scrape_figures(d, &ps, &store_bytes);
	buf_init(&reasons, 0);
	status = daemon_health(&st, time_now_ns(), &reasons);
	buf_release(&reasons);
	for (size_t i = 0; i < ARRAY_SIZE(statuses); i++)
		metric_set(m->health, (const char *const[]){statuses[i]},
			   !strcmp(status, statuses[i]));
	metric_set(m->ready, NULL, st.ready);
	metric_set(m->uptime, NULL,
		   (double)(time_now_ns() - st.started_ns) / 1e9);
	metric_set(m->threads, NULL, ps.threads);
	metric_set(m->memory, NULL, (double)ps.rss_anon_bytes);
	metric_set(m->store_bytes, NULL, (double)store_bytes);
	buf_reset(page);
	if (metrics_render(m->reg, page))
		buf_reset(page);
}

/*
 * The page is rendered again after each iteration and otherwise at most
 * once a second (a scrape every few seconds is the norm; a flood of them
 * then costs a copy, not a render each).
 */
static void on_metrics(const struct http_request *req,
		       struct http_response *resp, void *ud)
{
	struct daemon *d = ud;
	int64_t now = time_mono_ns();
	uint64_t iterations = snapshot(d).iterations;

	(void)req;
	pthread_mutex_lock(&d->page_lock);
	if (!d->page_mono || now - d->page_mono > 1000000000LL ||
	    iterations != d->page_iterations) {
		render_metrics(d, &d->page);
		d->page_mono = now;
		d->page_iterations = iterations;
	}
	if (!d->page.len || buf_append(&resp->body, d->page.data, d->page.len))
		http_error(resp, 500, "the metrics do not fit in memory");
	else
		resp->content_type = "text/plain; version=0.0.4; charset=utf-8";
	pthread_mutex_unlock(&d->page_lock);
}

static void on_health(const struct http_request *req,
		      struct http_response *resp, void *ud)
{
	struct daemon *d = ud;
	struct daemon_status st = snapshot(d);
	int64_t now = time_now_ns();
	struct buf reasons;
	const char *status;
	struct buf *b = &resp->body;

	(void)req;
	buf_init(&reasons, 0);
	status = daemon_health(&st, now, &reasons);
	buf_printf(b, "{\"status\":\"%s\",\"uptime_seconds\":%lld", status,
		   (long long)((now - st.started_ns) / 1000000000LL));
	time_or_null(b, "last_reconciliation", st.last_finish_ns);
	time_or_null(b, "last_success", st.last_success_ns);
	buf_printf(b,
		   ",\"reconciliation_errors\":%llu,\"storage_healthy\":%s,"
		   "\"iterations\":%llu,\"last_status\":",
		   (unsigned long long)st.errors,
		   st.storage_ok ? "true" : "false",
		   (unsigned long long)st.iterations);
	if (st.last_status)
		buf_printf(b, "\"%s\"", st.last_status);
	else
		buf_puts(b, "null");
	buf_printf(b, ",\"ready\":%s,\"reasons\":%s}\n",
		   st.ready ? "true" : "false", reasons.data);
	buf_release(&reasons);
	if (!strcmp(status, "unhealthy"))
		resp->status = 503;
}

static void on_ready(const struct http_request *req, struct http_response *resp,
		     void *ud)
{
	struct daemon_status st = snapshot(ud);

	(void)req;
	buf_printf(&resp->body, "{\"ready\":%s}\n",
		   st.ready ? "true" : "false");
	if (!st.ready)
		resp->status = 503;
}

static void on_debug_vars(const struct http_request *req,
			  struct http_response *resp, void *ud)
{
	struct daemon *d = ud;
	struct daemon_status st = snapshot(d);
	struct proc_stats ps;
	uint64_t store_bytes;
	struct buf *b = &resp->body;

	(void)req;
	scrape_figures(d, &ps, &store_bytes);
	buf_printf(b,
		   "{\"version\":\"%s\",\"pid\":%d,\"uptime_seconds\":%lld,"
		   "\"memory\":{\"rss_bytes\":%llu,\"rss_anon_bytes\":%llu,"
		   "\"rss_file_bytes\":%llu,\"malloc_in_use_bytes\":%llu,"
		   "\"malloc_free_bytes\":%llu},\"threads\":%u,"
		   "\"open_fds\":%u,\"cpu_seconds\":%.3f,",
		   ELAVA_VERSION, (int)getpid(),
		   (long long)((time_now_ns() - st.started_ns) / 1000000000LL),
		   (unsigned long long)ps.rss_bytes,
		   (unsigned long long)ps.rss_anon_bytes,
		   (unsigned long long)ps.rss_file_bytes,
		   (unsigned long long)ps.malloc_in_use,
		   (unsigned long long)ps.malloc_free, ps.threads, ps.open_fds,
		   ps.cpu_seconds);
	buf_printf(b,
		   "\"iteration\":{\"state\":\"%s\",\"scan\":%llu,"
		   "\"iterations\":%llu,\"errors\":%llu,"
		   "\"last_duration_ms\":%lld,\"last_status\":",
		   phase_names[st.phase], (unsigned long long)st.current_scan,
		   (unsigned long long)st.iterations,
		   (unsigned long long)st.errors,
		   (long long)(st.last_duration_ns / 1000000));
	if (st.last_status)
		buf_printf(b, "\"%s\"", st.last_status);
	else
		buf_puts(b, "null");
	buf_puts(b, ",\"last_error\":");
	buf_append_json_string(b, st.last_error, strlen(st.last_error));
	time_or_null(b, "started", st.iteration_start_ns);
	time_or_null(b, "next", st.phase == DAEMON_SLEEPING ? st.next_ns : 0);
	buf_printf(b, "},\"store\":{\"path\":");
	buf_append_json_string(b, d->storage_path, strlen(d->storage_path));
	buf_printf(b, ",\"revision\":%llu,\"file_bytes\":%llu}}\n",
		   (unsigned long long)st.revision,
		   (unsigned long long)store_bytes);
}

static void on_api(const struct http_request *req, struct http_response *resp,
		   void *ud)
{
	struct daemon *d = ud;
	const char *p = req->target->path;

	if (!strcmp(p, "/api/v1/resources") ||
	    !strncmp(p, "/api/v1/resources/", 18))
		api_resources(req, resp, d->store);
	else if (!strcmp(p, "/api/v1/changes"))
		api_changes(req, resp, d->store);
	else if (!strcmp(p, "/api/v1/scans"))
		api_scans(req, resp, d->store);
	else
		http_error(
		    resp, 404,
		    "no such endpoint '%s' (the API has "
		    "/api/v1/resources, /api/v1/resources/{key}/history, "
		    "/api/v1/changes and /api/v1/scans)",
		    p);
}

const struct http_route daemon_routes[] = {
    {"/metrics", on_metrics, false}, {"/health", on_health, false},
    {"/ready", on_ready, false},     {"/debug/vars", on_debug_vars, false},
    {"/api/", on_api, true},
};
const size_t daemon_nroutes = ARRAY_SIZE(daemon_routes);
