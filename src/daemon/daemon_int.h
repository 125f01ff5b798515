/*
 * The daemon's parts, private to src/daemon/:
 *   metrics.c  a registry of counters, gauges and histograms, rendered in
 *              Prometheus's text exposition format (written by hand: Debian
 *              has no C client library);
 *   http.c     the HTTP endpoint (the only file that includes
 *              <microhttpd.h>): routing, limits, bearer token, JSON errors;
 *   query.c    the parser of request targets (path and query string),
 *              separate from http.c so it can be fuzzed on its own;
 *   api.c      /api/v1/...: read-only JSON over the store;
 *   loop.c     the reconciliation loop, signals, timeouts, reload;
 *   health.c   /health, /ready, /debug/vars and the metrics read at scrape;
 *   notify.c   sd_notify (the only file that includes <systemd/...>);
 *   proc.c     what /proc says of this process (memory, threads, fds).
 */
#ifndef ELAVA_DAEMON_INT_H
#define ELAVA_DAEMON_INT_H

#include "core/core.h"
#include "daemon/daemon.h"

#include <pthread.h>
#include <stdbool.h>
#include <stdint.h>

/* ============================================================ metrics.c */

/*
 * A registry of metric families. Every family is declared once, with its
 * label names; series (one per distinct label values) appear when first
 * touched. All calls are thread-safe (one mutex): updates come from the
 * loop a few times per iteration, renders from HTTP threads.
 */
struct metrics;
struct metric; /* one family */

/* Series in one family beyond which new label values are dropped (and
 * counted in elava_metrics_series_dropped_total): a bound on memory. */
#define METRICS_MAX_SERIES 4096
#define METRICS_MAX_LABELS 4

struct metrics *metrics_new(void);
void metrics_free(struct metrics **mp);

/*
 * Declare a family. name must match [a-zA-Z_:][a-zA-Z0-9_:]*, labels
 * (NULL-terminated, may be NULL; at most METRICS_MAX_LABELS) match
 * [a-zA-Z_][a-zA-Z0-9_]*; help is one line. A histogram takes its bucket
 * upper bounds, increasing (the +Inf bucket is implied). Programming errors
 * (a bad name, a duplicate) abort: the names are constants.
 */
struct metric *metrics_counter(struct metrics *m, const char *name,
			       const char *help, const char *const *labels);
struct metric *metrics_gauge(struct metrics *m, const char *name,
			     const char *help, const char *const *labels);
struct metric *metrics_histogram(struct metrics *m, const char *name,
				 const char *help, const char *const *labels,
				 const double *bounds, size_t nbounds);

/*
 * Update the series named by `values` (as many as the family has labels,
 * in their order; NULL when it has none). Label values are any bytes of
 * UTF-8 text; they are escaped when rendered. A counter only goes up:
 * metric_add with v < 0 is ignored.
 */
void metric_add(struct metric *f, const char *const *values, double v);
void metric_set(struct metric *f, const char *const *values, double v);
void metric_observe(struct metric *f, const char *const *values, double v);

/*
 * Append the whole registry to out in the text exposition format 0.0.4
 * ("# HELP", "# TYPE", then each series; histograms as _bucket{le=...},
 * _sum, _count), families in the order they were declared, series in the
 * order they appeared. Returns 0 or ELAVA_E_TOOBIG from out.
 */
int metrics_render(struct metrics *m, struct buf *out);

/* ============================================================== query.c */

#define HTTP_TARGET_MAX 2048 /* bytes of path + query accepted */
#define HTTP_PARAMS_MAX 16   /* query parameters accepted */

struct http_param {
	char *name;  /* decoded */
	char *value; /* decoded; "" for "?flag" */
};

/* A request target, decoded. */
struct http_target {
	char *path; /* percent-decoded, starts with '/' */
	struct http_param params[HTTP_PARAMS_MAX];
	size_t nparams;
};

/*
 * Parse "/path?a=1&b=x%2Fy". Percent-escapes are decoded in the path and
 * in names and values ('+' is a space in the query only); a path must start
 * with '/'. Errors (ELAVA_E_INVAL, err says what and where): a target
 * longer than HTTP_TARGET_MAX, more than HTTP_PARAMS_MAX parameters, a bad
 * escape ("%zz", "%" at the end), a decoded NUL, an empty parameter name,
 * a parameter given twice. Release with http_target_release (also after
 * an error).
 */
int http_target_parse(const char *target, struct http_target *t,
		      struct elava_error *err);
void http_target_release(struct http_target *t);
/* The value of a parameter, or NULL. */
const char *http_target_param(const struct http_target *t, const char *name);

/* =============================================================== http.c */

struct http_request {
	const char *method; /* "GET", "HEAD" (others are refused before) */
	const struct http_target *target;
	const char *authorization; /* the header, or NULL */
};

struct http_response {
	int status;		  /* 200 unless set */
	const char *content_type; /* "application/json" unless set */
	struct buf body;
	int retry_after_s; /* > 0: a Retry-After header */
};

/* Fill resp with a JSON error: {"error":"<message>","status":<status>}. */
void http_error(struct http_response *resp, int status, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

typedef void (*http_handler_fn)(const struct http_request *req,
				struct http_response *resp, void *ud);

struct http_route {
	const char *path; /* exact path, or a prefix when it ends with '/' */
	http_handler_fn fn;
	bool api; /* behind the bearer token and the API rate limit */
};

struct http_server_options {
	const char *listen; /* address to bind: "0.0.0.0", "127.0.0.1", "::" */
	int port;	    /* 0: any free port (tests; see http_server_port) */
	const struct http_route *routes;
	size_t nroutes;
	void *ud; /* passed to every handler */
	/* Required on api routes when not NULL ("Authorization: Bearer ...").
	 */
	const char *token;
	double api_requests_per_second; /* 0: 50; a token bucket, burst 2x */
	unsigned max_connections;	/* 0: 256 */
	/* Count each answered request: elava_http_requests_total{handler,
	 * code}. May be NULL. */
	struct metric *requests_total;
};

struct http_server;

/*
 * Bind and start answering (libmicrohttpd's internal polling thread plus a
 * small thread pool). Only GET and HEAD are served (others: 405); request
 * bodies are refused (413); a target over HTTP_TARGET_MAX gets 414, a bad
 * one 400, an unknown path 404, a missing or wrong token on an api route
 * 401 (compared in constant time), an api route over its rate 429 with
 * Retry-After. Every error body is JSON (http_error). Errors:
 * ELAVA_E_BUSY "address 0.0.0.0:2112 is in use", ELAVA_E_INVAL for a
 * listen address that is not an IP address, ELAVA_E_IO otherwise.
 */
int http_server_start(const struct http_server_options *o,
		      struct http_server **out, struct elava_error *err);
int http_server_port(const struct http_server *s); /* the bound port */
/* Stop accepting, finish the requests in flight, free. NULL-safe. */
void http_server_stop(struct http_server **sp);

/* ================================================================ api.c */

struct store;

/*
 * /api/v1/resources[?at=&type=&region=&account=&tag=k=v&limit=&after=]
 * /api/v1/resources/{key or id}/history[?limit=&after=]
 * /api/v1/changes[?since=&until=&type=&change=&include_baseline=&limit=
 *                 &after=]
 * /api/v1/scans[?limit=&after=]
 * The same JSON objects as the CLI's --output json (docs/cli.md), in an
 * envelope with paging: {"items":[...],"next":"<cursor>"|null}, pages of
 * at most 8 MiB. Points in time are parsed like the CLI's
 * (store_point_parse). Bad parameters: 400 with the reason; an unknown
 * resource or revision: 404; a compacted revision: 410.
 */
void api_resources(const struct http_request *req, struct http_response *resp,
		   struct store *s);
void api_changes(const struct http_request *req, struct http_response *resp,
		 struct store *s);
void api_scans(const struct http_request *req, struct http_response *resp,
	       struct store *s);

/* =============================================================== proc.c */

struct proc_stats {
	uint64_t rss_bytes;	 /* VmRSS */
	uint64_t rss_anon_bytes; /* RssAnon: private memory, not the map */
	uint64_t rss_file_bytes; /* RssFile: mostly the store's map */
	unsigned threads;
	unsigned open_fds;
	uint64_t malloc_in_use; /* mallinfo2 uordblks + hblkhd */
	uint64_t malloc_free;	/* held by the allocator, unused */
	double cpu_seconds;	/* user + system */
};

/* Read /proc/self/status, /proc/self/fd and the allocator. 0 or IO. */
int proc_stats_read(struct proc_stats *st);

/* ============================================================= notify.c */

/* sd_notify wrappers: no-ops when NOTIFY_SOCKET is unset. */
void notify_ready(void);
void notify_stopping(void);
void notify_reloading(void);
void notify_status(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
/* The watchdog interval systemd asked for (WATCHDOG_USEC), 0 if none. */
int64_t notify_watchdog_ns(void);
void notify_watchdog(void);

/* ======================================================= loop.c/health.c */

struct provider;
struct wal;

/* What the loop is doing. */
enum daemon_phase {
	DAEMON_STARTING, /* before the first iteration */
	DAEMON_RUNNING,	 /* an iteration is running */
	DAEMON_SLEEPING, /* waiting for the next one */
	DAEMON_STOPPING,
};

/* The loop's state as /health, /ready and /debug/vars see it; guarded by
 * daemon.lock. Times are wall clock (ns since the epoch); 0: never. */
struct daemon_status {
	enum daemon_phase phase;
	int64_t started_ns;
	uint64_t iterations;   /* finished, whatever their outcome */
	uint64_t errors;       /* iterations that failed, timed out or could
				  not store */
	uint64_t current_scan; /* the running or last iteration's number */
	int64_t iteration_start_ns, next_ns;
	int64_t last_finish_ns, last_success_ns;
	int64_t last_duration_ns;
	/* success, partial, failed, timeout, storage_error, error */
	const char *last_status;
	char last_error[512];
	bool storage_ok; /* the last write to the store worked */
	bool ready;	 /* the store is open and one iteration finished */
	uint64_t revision;
	size_t resources;
	/* From the settings, for the health rules. */
	int64_t interval_ns, unhealthy_after_ns;
};

/* The metric families the daemon updates (declared in health.c). */
struct daemon_metrics {
	struct metrics *reg;
	struct metric *reconciliations, *duration_ms, *errors, *timeouts,
	    *partials, *storage_errors, *last_ts, *last_success_ts, *scanned,
	    *resources_now, *uptime, *threads, *memory, *health, *ready,
	    *created, *modified, *disappeared, *events_stored,
	    *resources_by_type, *listing_failures, *api_calls, *api_errors,
	    *api_throttles, *store_bytes, *store_revision, *wal_entries,
	    *http_requests, *build_info;
};

struct daemon {
	pthread_mutex_t lock;
	pthread_cond_t wake; /* CLOCK_MONOTONIC */
	struct daemon_status st;
	struct daemon_metrics m;
	struct store *store;
	char *storage_path;
	/* Only the loop thread touches the rest (and the supervisor's
	 * provider_cancel, which is thread-safe). */
	struct provider *provider;
	struct wal *wal;
	struct daemon_settings *set;
	struct daemon_settings **retired; /* replaced by reloads */
	size_t nretired;
	/* Scrape-time figures, read at most once a second. */
	pthread_mutex_t scrape_lock;
	int64_t scraped_mono;
	struct proc_stats proc;
	uint64_t store_bytes;
	/* The last /metrics page: rendered after each iteration, otherwise
	 * at most once a second. */
	pthread_mutex_t page_lock;
	int64_t page_mono;
	uint64_t page_iterations;
	struct buf page;
};

/* The health rules: "healthy", "degraded" or "unhealthy", with the
 * reasons appended to `reasons` as a JSON array of strings. */
const char *daemon_health(const struct daemon_status *st, int64_t now_ns,
			  struct buf *reasons);

/* Declare the metric families (health.c). */
void daemon_metrics_init(struct daemon_metrics *m);

/* The HTTP routes (health.c): /metrics, /health, /ready, /debug/vars and
 * /api/v1/...; ud is the struct daemon. */
extern const struct http_route daemon_routes[];
extern const size_t daemon_nroutes;

#endif /* ELAVA_DAEMON_INT_H */
