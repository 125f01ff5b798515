/*
 * The reconciliation loop and its supervisor.
 *
 * Threads: the caller's thread runs the loop (iterations, reloads, the
 * final flush); a supervisor thread owns the signals (blocked everywhere
 * else, taken with sigtimedwait) and the clocks: it cancels an iteration
 * that outlives its timeout, cancels the running one when a stop is asked,
 * exits at once on a second signal or when the graceful stop outlives its
 * timeout, and pings the systemd watchdog while the loop is alive.
 * libmicrohttpd's threads answer HTTP (health.c, api.c).
 */
#include "daemon_int.h"

#include "config/config.h"
#include "engine/engine.h"
#include "provider/provider.h"
#include "resource/resource.h"
#include "store/store.h"
#include "wal/wal.h"

#include <malloc.h>
#include <signal.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#define MOD		   "daemon"
#define SUPERVISOR_TICK_NS (100 * 1000000LL)
/* A loop stuck this long past its iteration's timeout is not alive: the
 * watchdog stops being fed and systemd restarts the service. */
#define WATCHDOG_GRACE_NS (60 * 1000000000LL)

/* Asked of the loop by the supervisor; guarded by loop.lock. */
struct loop {
	struct daemon *d;
	bool stopping, reload, done;
	int signals;
	int64_t stop_deadline; /* monotonic */
	/* Cancellable work in progress (an iteration, a provider being
	 * made), for its timeout and for a stop. */
	bool running, timed_out;
	int64_t deadline; /* monotonic */
	int64_t timeout_ns, shutdown_ns;
	/* The provider's cancel flag (provider_aws_options.cancel): set by the
	 * supervisor, it stops a listing and a provider being made alike. */
	atomic_bool cancel;
};

static struct loop L;

/* ------------------------------------------------------------ settings */

void daemon_settings_free(struct daemon_settings **sp)
{
	struct daemon_settings *s = *sp;

	if (!s)
		return;
	if (s->cfg) {
		config_release(s->cfg);
		xfree(s->cfg);
	}
	xfree(s->storage_path);
	xfree(s->wal_dir);
	resource_ignore_free(&s->ignore);
	xfree((void *)s->scope.regions);
	xfree((void *)s->scope.types);
	xfree((void *)s->scope.exclude_types);
	if (s->api_token) {
		explicit_bzero(s->api_token, strlen(s->api_token));
		xfree(s->api_token);
	}
	xfree(s);
	*sp = NULL;
}

/*
 * Make the provider and check the scope against the cloud: what can take
 * long at start, at a reload and when an iteration finds no provider.
 * Cancellable through L.cancel. On error *out is NULL.
 */
static int provider_make(const struct daemon_settings *set,
			 struct provider **out, struct elava_error *err)
{
	struct provider_aws_options po = set->provider;
	int rc;

	po.cancel = &L.cancel;
	if (!(rc = provider_aws_new(&po, out, err)) &&
	    (rc = provider_check(*out, &set->scope, err)))
		provider_free(out);
	return rc;
}

/* Errors that are the configuration's (a reload is rejected, a start
 * fails), as opposed to a cloud that does not answer now. */
static bool config_error(int rc)
{
	return rc == ELAVA_E_AUTH || rc == ELAVA_E_INVAL ||
	       rc == ELAVA_E_NOTFOUND || rc == ELAVA_E_PERM;
}

static void apply_logging(const struct config *c)
{
	int lvl = log_level_parse(c->log_level);

	log_configure(lvl < 0 ? LOG_INFO : (enum log_level)lvl,
		      strcmp(c->log_format, "json") ? LOG_FORMAT_TEXT
						    : LOG_FORMAT_JSON);
}

static int64_t timeout_of(const struct config *c)
{
	return c->reconciliation_timeout_ns ? c->reconciliation_timeout_ns
					    : c->reconciliation_interval_ns;
}

static int64_t unhealthy_after_of(const struct config *c)
{
	return c->unhealthy_after_ns ? c->unhealthy_after_ns
				     : 3 * c->reconciliation_interval_ns;
}

/* ---------------------------------------------------------- supervisor */

static void lock(void)
{
	pthread_mutex_lock(&L.d->lock);
}

static void unlock(void)
{
	pthread_mutex_unlock(&L.d->lock);
}

static void on_stop_signal(int sig)
{
	int64_t now = time_mono_ns();

	lock();
	L.signals++;
	if (L.signals > 1) {
		unlock();
		log_error(MOD, "second %s: exiting now", strsignal(sig));
		_exit(1); /* the store and the WAL survive a crash */
	}
	L.stopping = true;
	L.stop_deadline = now + L.shutdown_ns;
	L.d->st.phase = DAEMON_STOPPING;
	pthread_cond_broadcast(&L.d->wake);
	unlock();
	log_info(MOD, "%s: graceful shutdown initiated...", strsignal(sig));
	notify_stopping();
}

static void *supervise(void *arg)
{
	sigset_t set;
	int64_t watchdog = notify_watchdog_ns(), last_ping = 0;
	struct timespec tick = {0, SUPERVISOR_TICK_NS};

	(void)arg;
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	for (;;) {
		int sig = sigtimedwait(&set, NULL, &tick);
		int64_t now = time_mono_ns();
		bool alive;

		if (sig == SIGINT || sig == SIGTERM)
			on_stop_signal(sig);
		else if (sig == SIGHUP) {
			lock();
			L.reload = true;
			pthread_cond_broadcast(&L.d->wake);
			unlock();
		}
		lock();
		if (L.done) {
			unlock();
			return NULL;
		}
		if (L.running && (L.stopping || now > L.deadline)) {
			if (!L.stopping && !L.timed_out)
				log_warn(MOD,
					 "work over its timeout "
					 "(daemon.reconciliation_timeout): "
					 "cancelling it");
			L.timed_out = L.timed_out || !L.stopping;
			/* Again every tick: a listing that starts after
			 * the first cancel clears the flag. */
			atomic_store(&L.cancel, true);
		}
		if (L.stopping && now > L.stop_deadline) {
			unlock();
			log_error(MOD,
				  "graceful shutdown took longer than "
				  "daemon.graceful_shutdown_timeout: exiting "
				  "now");
			_exit(1);
		}
		alive = !L.running || now < L.deadline + WATCHDOG_GRACE_NS;
		unlock();
		if (watchdog && alive && now - last_ping >= watchdog / 2) {
			notify_watchdog();
			last_ping = now;
		}
	}
}

/* ------------------------------------------------------------- metrics */

/* "aws:123456789012:us-east-1:ec2_instance:i-1" → "us-east-1". */
static void key_region(const char *key, char *out, size_t n)
{
	const char *a = strchr(key, ':'), *b = a ? strchr(a + 1, ':') : NULL;
	const char *c = b ? strchr(b + 1, ':') : NULL;
	size_t len = c ? (size_t)(c - b - 1) : 0;

	if (len >= n)
		len = n - 1;
	memcpy(out, b ? b + 1 : "", len);
	out[len] = '\0';
}

static int count_change(const struct store_change *c, void *ud)
{
	struct daemon_metrics *m = ud;
	char region[128];
	struct metric *f = c->kind == STORE_CHANGE_CREATED    ? m->created
			   : c->kind == STORE_CHANGE_MODIFIED ? m->modified
							      : m->disappeared;

	key_region(c->key, region, sizeof(region));
	metric_add(f, (const char *const[]){c->type, region}, 1);
	return 0;
}

/* API calls since the last look, added to the counters. */
struct api_seen {
	struct provider_api_stats v[64];
	size_t n;
};

static struct api_seen api_seen;

static void count_api_calls(struct daemon_metrics *m, struct provider *p)
{
	struct provider_api_stats now[64];
	size_t n = provider_api_stats(p, now, ARRAY_SIZE(now));

	if (n > ARRAY_SIZE(now))
		n = ARRAY_SIZE(now);
	for (size_t i = 0; i < n; i++) {
		struct provider_api_stats before = {0};
		const char *const l[] = {now[i].service, NULL};
		for (size_t k = 0; k < api_seen.n; k++)
			if (!strcmp(api_seen.v[k].service, now[i].service))
				before = api_seen.v[k];
		metric_add(m->api_calls, l,
			   (double)(now[i].calls - before.calls));
		metric_add(m->api_errors, l,
			   (double)(now[i].errors - before.errors));
		metric_add(m->api_throttles, l,
			   (double)(now[i].throttles - before.throttles));
	}
	memcpy(api_seen.v, now, n * sizeof(now[0]));
	api_seen.n = n;
}

static void record_scan(struct daemon *d, const struct engine_scan_report *r)
{
	struct daemon_metrics *m = &d->m;
	const struct store_scan_result *res = &r->result;
	struct elava_error err = {0};

	metric_add(m->scanned, NULL, (double)res->resource_count);
	metric_set(m->resources_now, NULL, (double)res->resource_count);
	metric_add(m->events_stored, NULL,
		   (double)(res->created + res->modified + res->disappeared));
	if (r->wal_seq)
		metric_add(m->wal_entries, NULL, 1);
	metric_set(m->store_revision, NULL, (double)res->revision);
	for (size_t i = 0; i < r->ncounts; i++) {
		const struct engine_count *c = &r->counts[i];
		const char *const l[] = {c->type, c->region};
		if (!c->failed)
			metric_set(m->resources_by_type, l,
				   (double)c->resources);
		if (c->failed)
			metric_add(m->listing_failures, l, (double)c->failed);
	}
	/* A baseline's creations are the inventory, not changes. */
	if (!res->baseline &&
	    (res->created || res->modified || res->disappeared) &&
	    store_changes(d->store, res->revision - 1, res->revision,
			  count_change, m, &err))
		log_warn(MOD, "counting the changes of revision %llu: %s",
			 (unsigned long long)res->revision, err.msg);
}

/* ----------------------------------------------------------- iteration */

static bool is_storage_error(int rc)
{
	switch (rc) {
	case ELAVA_E_NOSPACE:
	case ELAVA_E_IO:
	case ELAVA_E_PERM:
	case ELAVA_E_CONFLICT:
	case ELAVA_E_CORRUPT:
	case ELAVA_E_STATE: return true;
	default: return false;
	}
}

/* The WAL refuses appends after a failed write: open it afresh. */
static int wal_reopen(struct daemon *d, struct elava_error *err)
{
	struct wal_options wo = {0};
	struct elava_error ignored = {0};

	if (d->wal)
		wal_close(&d->wal, &ignored);
	wo.dir = d->set->wal_dir;
	return wal_open(&wo, &d->wal, err);
}

static void finish(struct daemon *d, const char *status, const char *error,
		   int64_t start_ns, int64_t dur_ns, bool ok, bool storage_ok)
{
	struct daemon_metrics *m = &d->m;
	int64_t now = time_now_ns();

	metric_add(m->reconciliations, NULL, 1);
	metric_observe(m->duration_ms, NULL, (double)dur_ns / 1e6);
	metric_set(m->last_ts, NULL, (double)now / 1e9);
	if (ok)
		metric_set(m->last_success_ts, NULL, (double)now / 1e9);
	else
		metric_add(m->errors, NULL, 1);
	lock();
	d->st.iterations++;
	d->st.errors += !ok;
	d->st.iteration_start_ns = start_ns;
	d->st.last_finish_ns = now;
	d->st.last_duration_ns = dur_ns;
	d->st.last_status = status;
	if (ok)
		d->st.last_success_ns = now;
	snprintf(d->st.last_error, sizeof(d->st.last_error), "%s",
		 error ? error : "");
	d->st.storage_ok = storage_ok;
	d->st.ready = true;
	unlock();
	malloc_trim(0); /* give the iteration's memory back */
}

/* Cancellable work (an iteration, making a provider) begins: the
 * supervisor cancels it at its timeout or when a stop is asked. */
static void work_begin(void)
{
	lock();
	L.running = true;
	L.timed_out = false;
	L.deadline = time_mono_ns() + L.timeout_ns;
	atomic_store(&L.cancel, false);
	unlock();
}

/* Returns whether the work timed out. */
static bool work_end(void)
{
	bool timed_out;

	lock();
	L.running = false;
	timed_out = L.timed_out;
	unlock();
	return timed_out;
}

static bool stopping(void)
{
	bool s;

	lock();
	s = L.stopping;
	unlock();
	return s;
}

static void iterate(struct daemon *d)
{
	struct engine_scan_options eo = {0};
	struct engine_scan_report rep = {0};
	struct elava_error err = {0};
	int64_t start_ns = time_now_ns(), t0 = time_mono_ns(), dur;
	bool timed_out, stop, cloud_down = false;
	int rc = 0;

	lock();
	d->st.phase = DAEMON_RUNNING;
	d->st.iteration_start_ns = start_ns;
	unlock();
	work_begin();
	/* No provider: the cloud did not answer when it was made. */
	if (!d->provider &&
	    (cloud_down = (rc = provider_make(d->set, &d->provider, &err))))
		elava_error_prefix(&err, "reaching the cloud");
	if (!rc && !d->wal && (rc = wal_reopen(d, &err)))
		elava_error_prefix(&err, "opening the WAL");
	if (!rc) {
		eo.scope = &d->set->scope;
		rc =
		    engine_scan(d->provider, d->store, d->wal, &eo, &rep, &err);
	}
	dur = time_mono_ns() - t0;
	timed_out = work_end();
	stop = stopping();
	if (!stop) {
		lock();
		d->st.phase = DAEMON_SLEEPING;
		unlock();
	}
	if (d->provider)
		count_api_calls(&d->m, d->provider);

	if (rc == ELAVA_E_CANCELLED && stop && !timed_out) {
		log_info(MOD, "iteration cancelled by the shutdown; nothing "
			      "was stored");
	} else if (rc == ELAVA_E_CANCELLED) {
		char t[32];
		duration_format(L.timeout_ns, t, sizeof(t));
		metric_add(d->m.timeouts, NULL, 1);
		log_error(MOD,
			  "iteration timed out after %s "
			  "(daemon.reconciliation_timeout) and was cancelled; "
			  "nothing was stored",
			  t);
		finish(d, "timeout", "timed out and cancelled", start_ns, dur,
		       false, true);
	} else if (rc && !rep.result.revision) {
		bool storage = !cloud_down && is_storage_error(rc);
		if (storage)
			metric_add(d->m.storage_errors, NULL, 1);
		log_error(MOD, "iteration failed%s: %s",
			  storage ? " to store; skipped" : "", err.msg);
		finish(d, storage ? "storage_error" : "error", err.msg,
		       start_ns, dur, false, !storage);
	} else {
		const struct store_scan_result *r = &rep.result;
		size_t changes =
		    r->baseline ? 0 : r->created + r->modified + r->disappeared;
		bool failed = !strcmp(r->status, "failed");
		record_scan(d, &rep);
		if (!strcmp(r->status, "partial"))
			metric_add(d->m.partials, NULL, 1);
		if (rc) { /* stored, but the WAL entry was not written */
			metric_add(d->m.storage_errors, NULL, 1);
			log_error(MOD, "%s", err.msg);
			wal_close(&d->wal, &err);
		}
		lock();
		d->st.revision = r->revision;
		d->st.resources = r->resource_count;
		d->st.current_scan = r->scan_id;
		unlock();
		log_msg(failed || rc		       ? LOG_ERROR
			: strcmp(r->status, "success") ? LOG_WARN
						       : LOG_INFO,
			MOD,
			"[Scan #%llu] Found %zu resources, %zu change%s%s "
			"(revision %llu, %s, %lld ms%s%s)",
			(unsigned long long)r->scan_id, r->resource_count,
			changes, changes == 1 ? "" : "s",
			r->baseline ? ", baseline" : "",
			(unsigned long long)r->revision, r->status,
			(long long)(dur / 1000000),
			rep.nfailures ? "; first failure: " : "",
			rep.nfailures ? rep.failures[0].reason : "");
		finish(d, r->status,
		       rep.nfailures ? rep.failures[0].reason : NULL, start_ns,
		       dur, !failed && !rc, !rc);
		notify_status("scan #%llu: %zu resources, %zu changes, %s",
			      (unsigned long long)r->scan_id, r->resource_count,
			      changes, r->status);
	}
	engine_scan_report_release(&rep);
}

/* -------------------------------------------------------------- reload */

/* Keys read once at start: a reload says so instead of applying them. */
static void warn_restart_only(const struct daemon_settings *old,
			      const struct daemon_settings *new)
{
	const struct config *a = old->cfg, *b = new->cfg;

	if (strcmp(old->storage_path, new->storage_path))
		log_warn(MOD, "storage.path changed: takes effect at restart");
	if (strcmp(a->listen, b->listen) || a->metrics_port != b->metrics_port)
		log_warn(MOD, "daemon.listen/daemon.metrics_port changed: take "
			      "effect at restart");
	if (!!old->api_token != !!new->api_token ||
	    (old->api_token && strcmp(old->api_token, new->api_token)))
		log_warn(MOD, "daemon.api_token_file changed: takes effect at "
			      "restart");
}

static void reload(struct daemon *d, const struct daemon_options *o)
{
	struct daemon_settings *ns = NULL;
	struct provider *np = NULL;
	struct elava_error err = {0};
	int rc;

	if (!o->reload) {
		log_warn(MOD, "SIGHUP: no configuration to reload");
		return;
	}
	notify_reloading();
	rc = o->reload(o->reload_ud, &ns, &err);
	if (!rc) {
		work_begin();
		rc = provider_make(ns, &np, &err);
		work_end();
		if (rc && !config_error(rc)) {
			/* The cloud, not the configuration: the next
			 * iteration makes the provider again. */
			log_warn(MOD,
				 "reload: %s; the next iteration tries "
				 "again",
				 err.msg);
			rc = 0;
		}
	}
	if (rc && stopping()) {
		log_info(MOD, "reload abandoned: shutting down");
		daemon_settings_free(&ns);
		return;
	}
	if (rc) {
		log_error(MOD,
			  "configuration reload rejected, keeping the running "
			  "one: %s",
			  err.msg);
		provider_free(&np);
		daemon_settings_free(&ns);
		notify_ready();
		return;
	}
	warn_restart_only(d->set, ns);
	/* Restart-only values stay as they were. */
	xfree(ns->storage_path);
	ns->storage_path = xstrdup(d->set->storage_path);
	xfree(ns->wal_dir);
	ns->wal_dir = xstrdup(d->set->wal_dir);
	apply_logging(ns->cfg);
	store_set_ignore(d->store, ns->ignore);
	provider_free(&d->provider);
	memset(&api_seen, 0, sizeof(api_seen));
	lock();
	d->provider = np;
	L.timeout_ns = timeout_of(ns->cfg);
	L.shutdown_ns = ns->cfg->graceful_shutdown_timeout_ns;
	d->st.interval_ns = ns->cfg->reconciliation_interval_ns;
	d->st.unhealthy_after_ns = unhealthy_after_of(ns->cfg);
	unlock();
	/* Kept until the end: HTTP threads may still read the old ignore
	 * rules (through the store) and storage path. Reloads are rare. */
	d->retired =
	    xrealloc(d->retired, (d->nretired + 1) * sizeof(*d->retired));
	d->retired[d->nretired++] = d->set;
	d->set = ns;
	log_info(MOD, "configuration reloaded%s%s",
		 ns->cfg->file ? " from " : "",
		 ns->cfg->file ? ns->cfg->file : "");
	notify_ready();
}

/* ---------------------------------------------------------------- loop */

/* Sleep until `next` (monotonic) or a stop or reload. */
static void wait_until(struct daemon *d, int64_t next)
{
	lock();
	while (!L.stopping && !L.reload) {
		int64_t now = time_mono_ns();
		struct timespec ts;
		if (now >= next)
			break;
		clock_gettime(CLOCK_MONOTONIC, &ts);
		int64_t t = (int64_t)ts.tv_sec * 1000000000LL + ts.tv_nsec +
			    (next - now);
		ts.tv_sec = (time_t)(t / 1000000000LL);
		ts.tv_nsec = (long)(t % 1000000000LL);
		pthread_cond_timedwait(&d->wake, &d->lock, &ts);
	}
	unlock();
}

static void run_loop(struct daemon *d, const struct daemon_options *o)
{
	int64_t next = time_mono_ns();

	for (;;) {
		bool stop, want_reload;
		int64_t start;

		wait_until(d, next);
		lock();
		stop = L.stopping;
		want_reload = L.reload;
		L.reload = false;
		unlock();
		if (stop)
			return;
		if (want_reload) {
			reload(d, o);
			continue;
		}
		if (time_mono_ns() < next)
			continue;
		start = time_mono_ns();
		iterate(d);
		/* From the start of this one; an overrun delays, never
		 * stacks. */
		next = start + d->set->cfg->reconciliation_interval_ns;
		lock();
		d->st.next_ns = time_now_ns() + (next - time_mono_ns());
		unlock();
	}
}

/* ------------------------------------------------------------- startup */

static int open_store(struct daemon *d, struct elava_error *err)
{
	struct store_options so = {0};
	int rc;

	so.path = d->set->storage_path;
	so.ignore = d->set->ignore;
	if ((rc = store_open(&so, &d->store, err)))
		return rc;
	if ((rc = wal_reopen(d, err))) {
		if (rc == ELAVA_E_BUSY)
			elava_error_prefix(err, "another elava process is "
						"recording into this store");
		return rc;
	}
	return 0;
}

/* The store's revision, in /debug/vars and the metrics before the first
 * iteration. */
static void show_revision(struct daemon *d)
{
	struct elava_error ignored = {0};
	uint64_t rev = 0;

	if (store_current_revision(d->store, &rev, &ignored))
		return;
	d->st.revision = rev;
	metric_set(d->m.store_revision, NULL, (double)rev);
}

static int start_http(struct daemon *d, struct http_server **out,
		      struct elava_error *err)
{
	const struct config *c = d->set->cfg;
	struct http_server_options ho = {0};

	ho.listen = c->listen;
	ho.port = c->metrics_port;
	ho.routes = daemon_routes;
	ho.nroutes = daemon_nroutes;
	ho.ud = d;
	ho.token = d->set->api_token;
	ho.requests_total = d->m.http_requests;
	return http_server_start(&ho, out, err);
}

int daemon_run(const struct daemon_options *o, struct elava_error *err)
{
	struct daemon d;
	struct http_server *http = NULL;
	pthread_condattr_t ca;
	pthread_t sup;
	sigset_t set, old;
	char every[32];
	int rc;

	/*
	 * One malloc arena. With glibc's default (8 per core) the listing
	 * threads, made again every iteration, spread over arenas whose free
	 * tops malloc_trim does not return: private memory grew 63% over
	 * 1,000 iterations (elava-bench serve) with none of it in use. One
	 * arena keeps it flat and did not slow a 100k-resource scan.
	 */
	mallopt(M_ARENA_MAX, 1);
	memset(&d, 0, sizeof(d));
	memset(&L, 0, sizeof(L));
	memset(&api_seen, 0, sizeof(api_seen));
	d.set = o->settings;
	pthread_mutex_init(&d.lock, NULL);
	pthread_mutex_init(&d.scrape_lock, NULL);
	pthread_mutex_init(&d.page_lock, NULL);
	buf_init(&d.page, 0);
	pthread_condattr_init(&ca);
	pthread_condattr_setclock(&ca, CLOCK_MONOTONIC);
	pthread_cond_init(&d.wake, &ca);
	pthread_condattr_destroy(&ca);
	L.d = &d;
	L.timeout_ns = timeout_of(d.set->cfg);
	L.shutdown_ns = d.set->cfg->graceful_shutdown_timeout_ns;
	d.st.started_ns = time_now_ns();
	d.st.phase = DAEMON_STARTING;
	d.st.storage_ok = true;
	d.st.interval_ns = d.set->cfg->reconciliation_interval_ns;
	d.st.unhealthy_after_ns = unhealthy_after_of(d.set->cfg);
	d.storage_path = d.set->storage_path;
	apply_logging(d.set->cfg);
	daemon_metrics_init(&d.m);

	/* Every thread made from here on inherits the blocked signals. */
	sigemptyset(&set);
	sigaddset(&set, SIGINT);
	sigaddset(&set, SIGTERM);
	sigaddset(&set, SIGHUP);
	pthread_sigmask(SIG_BLOCK, &set, &old);
	signal(SIGPIPE, SIG_IGN);
	pthread_create(&sup, NULL, supervise, NULL);

	log_info(MOD, "Starting Elava daemon (version %s, store %s)",
		 ELAVA_VERSION, d.set->storage_path);
	if ((rc = open_store(&d, err)))
		goto out;
	work_begin();
	rc = provider_make(d.set, &d.provider, err);
	work_end();
	if (rc && stopping()) {
		rc = 0; /* stopped while waiting for the cloud */
		goto out;
	}
	if (rc && config_error(rc))
		goto out;
	if (rc)
		log_warn(MOD,
			 "the cloud is not answering yet (%s); the loop "
			 "starts anyway",
			 err->msg);
	rc = 0;
	show_revision(&d);
	if ((rc = start_http(&d, &http, err)))
		goto out;
	log_info(MOD, "Metrics server listening on %s:%d", d.set->cfg->listen,
		 http_server_port(http));
	duration_format(d.set->cfg->reconciliation_interval_ns, every,
			sizeof(every));
	log_info(MOD, "Reconciliation loop started (interval: %s)", every);
	notify_ready();
	run_loop(&d, o);
	notify_stopping();
out:
	http_server_stop(&http);
	if (d.wal && wal_close(&d.wal, err) && !rc)
		rc = elava_error_prefix(err, "closing the WAL");
	store_close(&d.store);
	provider_free(&d.provider);
	lock();
	L.done = true;
	unlock();
	pthread_join(sup, NULL);
	/* A signal that came after the supervisor stopped: the stop it asks
	 * for is done. */
	while (sigtimedwait(&set, NULL, &(struct timespec){0, 0}) > 0)
		;
	pthread_sigmask(SIG_SETMASK, &old, NULL);
	if (!rc)
		log_info(MOD, "Daemon stopped");
	metrics_free(&d.m.reg);
	daemon_settings_free(&d.set);
	for (size_t i = 0; i < d.nretired; i++)
		daemon_settings_free(&d.retired[i]);
	xfree(d.retired);
	pthread_cond_destroy(&d.wake);
	pthread_mutex_destroy(&d.lock);
	pthread_mutex_destroy(&d.scrape_lock);
	pthread_mutex_destroy(&d.page_lock);
	buf_release(&d.page);
	return rc;
}
