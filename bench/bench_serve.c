/*
 * elava-bench serve: the daemon's figures, measured on the real `elava
 * serve` binary run as a child process against the generated account of
 * awsfake_account (six EC2 types on a local fake AWS, in a process of its
 * own), with a fresh store in a scratch directory. The daemon is watched
 * from outside only: its /metrics (daemon_reconciliation_total says when
 * an iteration finished, daemon_reconciliation_duration_ms_sum/_count how
 * long it took, by the daemon's own clock) and /proc/<pid>/status
 * (RssAnon: private memory; the store's map is page cache, RssFile).
 *
 *   first  the first iteration with N resources (100,000): RssAnon sampled
 *          every 20 ms while it runs (the peak), and once it is over and
 *          the daemon has had a second to settle (it calls malloc_trim
 *          after each iteration); then, for comparison with the load
 *          part, wrk on /metrics and /health with no iteration running,
 *          and RssAnon after that;
 *   load   interval 1s, so that iterations of 100,000 resources run back
 *          to back: first with no load, then while wrk (-t1 -c8 --latency)
 * hammers /metrics, then /health, for long enough to cover a whole iteration:
 * requests a second, p99 latency, and the iterations' average duration idle and
 * loaded. Once at --page-ms (250 ms a Describe call: DescribeInstances of 1000
 * items takes 0.5-2 s on AWS), once with an instant server (the _0ms figures),
 * where the iteration is CPU-bound and shares the machine's cores with wrk;
 *   flat   a smaller account (2,000 resources) with 1% churn after every
 *          iteration, for --iterations iterations at the config's
 *          shortest interval (1s): RssAnon after the 10th and the last,
 *          each read 300 ms after the iteration ended, and the changes the
 *          daemon stored against the churn introduced.
 *
 * The daemon's cloud rate limit is lifted (ELAVA_CLOUD_REQUESTS_PER_SECOND)
 * so that the fake server's latency alone sets the pace, and its
 * iteration timeout and the time without a success after which /health
 * says unhealthy (503) are 30m (ELAVA_RECONCILIATION_TIMEOUT,
 * ELAVA_UNHEALTHY_AFTER: by default the interval and three intervals,
 * which back-to-back iterations outlast). Figures are printed, never
 * judged.
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <math.h>
#include <netinet/in.h>
#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/time.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "awsfake_account.h"

#define RESOURCES_MAX	  1000000
#define ITERATIONS_MAX	  1000000
#define PAGE_MS_MAX	  60000
#define LOAD_S_MAX	  3600
#define POLL_NS		  (20 * 1000000LL) /* /proc and /metrics */
#define FIRST_SETTLE_NS	  (1000 * 1000000LL)
#define SETTLE_NS	  (300 * 1000000LL)
#define START_NS	  (120 * 1000000000LL) /* until /health answers */
#define ITERATION_NS	  (1800 * 1000000000LL)
#define STOP_NS		  (60 * 1000000000LL)
#define HTTP_MAX	  ((size_t)4 << 20) /* one answer of the daemon's */
#define HTTP_TIMEOUT_S	  10
#define WRK_OUT_MAX	  ((size_t)64 << 10)
#define LOG_TAIL	  3000 /* bytes of the daemon's log shown on failure */
#define IDLE_ITERATIONS	  3
#define QUIET_LOAD_S	  5  /* wrk with no iteration running */
#define FLAT_FIRST	  10 /* the iteration flatness is measured from */
#define FLAT_CHURN_PCT	  1.0
#define NO_RATE_LIMIT	  "100000" /* requests a second: none in effect */
#define ITERATION_TIMEOUT "30m"

#define PART_FIRST 1u
#define PART_LOAD  2u
#define PART_FLAT  4u

struct opts {
	size_t resources, iterations, flat_resources, load_s;
	long page_ms;
	const char *elava, *wrk, *store_base, *flat_interval;
	unsigned parts;
	bool json;
};

/* --------------------------------------------------------- the daemon */

/* One run: the fake AWS, one `elava serve`, their scratch directory. */
struct run {
	struct awsfake_account aws;
	pid_t pid; /* elava serve, 0 when not running */
	unsigned short port;
	char *dir;
	char store[PATH_MAX], log[PATH_MAX];
	int exit_status; /* of the last daemon stopped */
};

/* What the atexit handler cleans up when the bench dies half-way, and
 * the process it does that in (not a forked server that exits). */
static struct run *current;
static pid_t cleanup_pid;

static void cleanup(void)
{
	struct run *r = current;

	if (!r || getpid() != cleanup_pid)
		return;
	current = NULL;
	if (r->pid > 0) {
		kill(r->pid, SIGKILL);
		waitpid(r->pid, NULL, 0);
	}
	awsfake_account_stop(&r->aws);
	if (r->dir)
		bench_rmtree(r->dir);
}

/* SIGINT or SIGTERM: the loops that wait notice, and the bench dies
 * through bench_die, so that cleanup() stops the daemon and removes the
 * scratch directory. */
static volatile sig_atomic_t interrupted;

static void on_signal(int sig)
{
	interrupted = sig;
}

static void check_interrupted(void)
{
	if (interrupted)
		bench_die("interrupted by %s", strsignal(interrupted));
}

/* Print the end of the daemon's log, then die. */
static void run_fail(struct run *r, const char *fmt, ...)
    __attribute__((format(printf, 2, 3), noreturn));

static void run_fail(struct run *r, const char *fmt, ...)
{
	char msg[1024], tail[LOG_TAIL + 1];
	va_list ap;
	int fd = open(r->log, O_RDONLY | O_CLOEXEC);

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (fd >= 0) {
		off_t end = lseek(fd, 0, SEEK_END);
		off_t from = end > LOG_TAIL ? end - LOG_TAIL : 0;
		ssize_t n = pread(fd, tail, LOG_TAIL, from);
		close(fd);
		if (n > 0) {
			tail[n] = '\0';
			fprintf(stderr,
				"--- the end of the daemon's log (%s):\n%s"
				"---\n",
				r->log, tail);
		}
	}
	bench_die("%s", msg);
}

static long status_kb(pid_t pid, const char *name)
{
	char path[64], b[4096], key[32];
	const char *p;
	ssize_t n;
	int fd;

	snprintf(path, sizeof(path), "/proc/%d/status", (int)pid);
	if ((fd = open(path, O_RDONLY | O_CLOEXEC)) < 0)
		return 0;
	n = read(fd, b, sizeof(b) - 1);
	close(fd);
	if (n <= 0)
		return 0;
	b[n] = '\0';
	snprintf(key, sizeof(key), "\n%s:", name);
	p = strstr(b, key);
	return p ? strtol(p + strlen(key), NULL, 10) : 0;
}

static double kb_mb(long kb)
{
	return (double)kb / 1024.0;
}

/* A loopback port nobody listens on now. */
static unsigned short free_port(void)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0);

	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (fd < 0 || bind(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen))
		bench_die("no free loopback port: %s", strerror(errno));
	close(fd);
	return ntohs(a.sin_port);
}

/*
 * GET path from the daemon, HTTP/1.0 (no chunks), the body into out
 * (capped at HTTP_MAX). Returns the status, or -1 when the daemon does
 * not answer.
 */
static int http_get(unsigned short port, const char *path, struct buf *out)
{
	struct sockaddr_in a;
	struct timeval tv = {HTTP_TIMEOUT_S, 0};
	struct buf in = BUF_INIT;
	char req[256], chunk[16384];
	const char *body;
	int fd, status = -1;

	buf_reset(out);
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_port = htons(port);
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if ((fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0)) < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_RCVTIMEO, &tv, sizeof(tv));
	setsockopt(fd, SOL_SOCKET, SO_SNDTIMEO, &tv, sizeof(tv));
	snprintf(req, sizeof(req), "GET %s HTTP/1.0\r\nHost: 127.0.0.1\r\n\r\n",
		 path);
	buf_init(&in, HTTP_MAX);
	if (connect(fd, (struct sockaddr *)&a, sizeof(a)) ||
	    !bench_write_all(fd, req, strlen(req)))
		goto out;
	for (;;) {
		ssize_t n = recv(fd, chunk, sizeof(chunk), 0);
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n < 0)
			goto out;
		if (n == 0)
			break;
		if (buf_append(&in, chunk, (size_t)n))
			goto out; /* over HTTP_MAX */
	}
	if (!in.data || sscanf(in.data, "HTTP/1.%*c %d", &status) != 1) {
		status = -1;
		goto out;
	}
	body = strstr(in.data, "\r\n\r\n");
	if (body)
		buf_append(out, body + 4,
			   in.len - (size_t)(body + 4 - in.data));
	else
		status = -1;
out:
	close(fd);
	buf_release(&in);
	return status;
}

/* What /metrics says of the iterations so far. */
struct snap {
	double iterations, dur_ms_sum, errors, partials, resources, events;
};

/* The value of an unlabelled sample, or -1 when it is not there. */
static double sample(const char *text, const char *name)
{
	size_t n = strlen(name);

	for (const char *p = text; p && *p; p = strchr(p, '\n')) {
		if (*p == '\n')
			p++;
		if (!strncmp(p, name, n) && p[n] == ' ')
			return strtod(p + n + 1, NULL);
	}
	return -1;
}

static void metrics_read(struct run *r, struct snap *s)
{
	struct buf b = BUF_INIT;
	int st;

	buf_init(&b, HTTP_MAX);
	if ((st = http_get(r->port, "/metrics", &b)) != 200 || !b.data)
		run_fail(r, "GET /metrics: %s",
			 st < 0 ? "no answer" : "not 200");
	s->iterations = sample(b.data, "daemon_reconciliation_total");
	s->dur_ms_sum = sample(b.data, "daemon_reconciliation_duration_ms_sum");
	s->errors = sample(b.data, "daemon_reconciliation_errors_total");
	s->partials = sample(b.data, "daemon_reconciliation_partial_total");
	s->resources = sample(b.data, "daemon_resources_current");
	s->events = sample(b.data, "elava_change_events_stored_total");
	buf_release(&b);
	if (s->iterations < 0 || s->dur_ms_sum < 0 || s->errors < 0 ||
	    s->events < 0)
		run_fail(r, "/metrics lacks the daemon_reconciliation_* "
			    "samples");
}

static void sleep_ns(int64_t ns)
{
	struct timespec ts = {(time_t)(ns / 1000000000LL),
			      (long)(ns % 1000000000LL)};

	check_interrupted();
	while (ns > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		check_interrupted();
}

/* Die if the daemon has exited. */
static void check_alive(struct run *r)
{
	int st;

	if (waitpid(r->pid, &st, WNOHANG) == r->pid) {
		r->pid = 0;
		run_fail(r, "elava serve exited (%s %d)",
			 WIFEXITED(st) ? "status" : "signal",
			 WIFEXITED(st) ? WEXITSTATUS(st) : WTERMSIG(st));
	}
}

/* RssAnon now, and the peak so far in *peak (NULL: none kept). */
static long rss_sample(struct run *r, long *peak)
{
	long kb = status_kb(r->pid, "RssAnon");

	if (peak && kb > *peak)
		*peak = kb;
	return kb;
}

/*
 * Poll until the daemon has finished `count` iterations, sampling RssAnon
 * into *peak every POLL_NS; *s is /metrics at that point. Dies when an
 * iteration fails or none ends within ITERATION_NS.
 */
static void wait_iterations(struct run *r, double count, struct snap *s,
			    long *peak)
{
	int64_t t0 = time_mono_ns();

	for (;;) {
		check_alive(r);
		rss_sample(r, peak);
		metrics_read(r, s);
		if (s->errors > 0)
			run_fail(r, "an iteration failed (see the log)");
		if (s->iterations >= count)
			return;
		if (time_mono_ns() - t0 > ITERATION_NS)
			run_fail(r, "iteration %.0f did not end in time",
				 count);
		sleep_ns(POLL_NS);
	}
}

static const char *types_flag(void)
{
	static char t[256];

	t[0] = '\0';
	for (size_t k = 0; k < AWSFAKE_NKINDS; k++) {
		if (k)
			strcat(t, ",");
		strcat(t, awsfake_kinds[k].type);
	}
	return t;
}

/*
 * Start the fake AWS with n resources, then `elava serve` on a fresh store
 * with the given interval, and wait until /health answers (sampling
 * RssAnon into *peak from the start). Dies on failure.
 */
static void run_start(struct run *r, const struct opts *o, size_t n,
		      long page_ms, double churn_pct, const char *interval,
		      long *peak)
{
	struct awsfake_account_options ao;
	char port[16];
	struct buf b = BUF_INIT;
	int64_t t0;
	pid_t parent = getpid();

	memset(r, 0, sizeof(*r));
	memset(&ao, 0, sizeof(ao));
	awsfake_account_split(n, ao.n);
	ao.latency_ms = page_ms;
	ao.churn_pct = churn_pct;
	current = r;
	awsfake_account_start(&r->aws, &ao);
	awsfake_env(r->aws.ready.port);
	setenv("ELAVA_CLOUD_REQUESTS_PER_SECOND", NO_RATE_LIMIT, 1);
	/* Back to back, an iteration outlasts the interval: its timeout
	 * (the interval by default) must not cancel it. */
	setenv("ELAVA_RECONCILIATION_TIMEOUT", ITERATION_TIMEOUT, 1);
	/* Nor may /health call it unhealthy (503) for want of a success
	 * within three intervals. */
	setenv("ELAVA_UNHEALTHY_AFTER", ITERATION_TIMEOUT, 1);
	r->dir = bench_tmpdir_in(o->store_base, "serve");
	snprintf(r->store, sizeof(r->store), "%s/store", r->dir);
	snprintf(r->log, sizeof(r->log), "%s/daemon.log", r->dir);
	r->port = free_port();
	snprintf(port, sizeof(port), "%u", r->port);
	const char *argv[] = {o->elava,	  "serve",	"--store",
			      r->store,	  "--interval", interval,
			      "--listen", "127.0.0.1",	"--metrics-port",
			      port,	  "--region",	AWSFAKE_REGION,
			      "--types",  types_flag(), "--log-level",
			      "info",	  NULL};
	fflush(NULL);
	r->pid = fork();
	if (r->pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (r->pid == 0) {
		int fd = open(r->log, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC,
			      0600);
		int null = open("/dev/null", O_RDONLY | O_CLOEXEC);
		/* The bench dying takes the daemon with it. */
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent || fd < 0 || null < 0 ||
		    dup2(null, 0) < 0 || dup2(fd, 1) < 0 || dup2(fd, 2) < 0)
			_exit(127);
		execv(o->elava, (char *const *)argv);
		dprintf(2, "cannot run '%s': %s\n", o->elava, strerror(errno));
		_exit(127);
	}
	buf_init(&b, HTTP_MAX);
	t0 = time_mono_ns();
	for (;;) {
		check_alive(r);
		rss_sample(r, peak);
		if (http_get(r->port, "/health", &b) > 0)
			break;
		if (time_mono_ns() - t0 > START_NS)
			run_fail(r, "elava serve did not answer /health");
		sleep_ns(POLL_NS);
	}
	buf_release(&b);
}

/* SIGTERM the daemon, wait for it (its exit status in r->exit_status), end
 * the fake AWS, remove the scratch directory. */
static void run_stop(struct run *r)
{
	int64_t t0 = time_mono_ns();
	int st = 0;

	if (r->pid > 0) {
		kill(r->pid, SIGTERM);
		while (waitpid(r->pid, &st, WNOHANG) == 0) {
			if (time_mono_ns() - t0 > STOP_NS)
				run_fail(r,
					 "elava serve did not stop within "
					 "%lld s of SIGTERM",
					 (long long)(STOP_NS / 1000000000LL));
			sleep_ns(POLL_NS);
		}
		r->pid = 0;
		r->exit_status = WIFEXITED(st) ? WEXITSTATUS(st) : 128;
	}
	awsfake_account_stop(&r->aws);
	bench_rmtree(r->dir);
	free(r->dir);
	r->dir = NULL;
	current = NULL;
}

/* ---------------------------------------------------------------- wrk */

struct wrk_result {
	double rps, p99_ms;
	size_t requests, errors; /* socket errors and non-2xx answers */
};

/* "1.23ms" → milliseconds; -1 when it is not a wrk time. */
static double wrk_time_ms(const char *s)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s)
		return -1;
	if (!strncmp(end, "us", 2))
		return v / 1000.0;
	if (!strncmp(end, "ms", 2))
		return v;
	if (*end == 's')
		return v * 1000.0;
	if (*end == 'm')
		return v * 60000.0;
	return -1;
}

static size_t after_num(const char *text, const char *key)
{
	const char *p = strstr(text, key);

	return p ? (size_t)strtoull(p + strlen(key), NULL, 10) : 0;
}

/* Run wrk against path for secs seconds; dies when it fails. */
static void wrk_run(struct run *r, const struct opts *o, const char *path,
		    size_t secs, struct wrk_result *w)
{
	char url[128], dur[32], chunk[4096];
	struct buf out = BUF_INIT;
	const char *p = NULL;
	pid_t pid, parent = getpid();
	int fds[2], st;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u%s", r->port, path);
	snprintf(dur, sizeof(dur), "%zus", secs);
	const char *argv[] = {o->wrk, "-t1",	   "-c8", "-d",
			      dur,    "--latency", url,	  NULL};
	if (pipe2(fds, O_CLOEXEC))
		bench_die("pipe: %s", strerror(errno));
	fflush(NULL);
	if ((pid = fork()) < 0)
		bench_die("fork: %s", strerror(errno));
	if (pid == 0) {
		prctl(PR_SET_PDEATHSIG, SIGTERM);
		if (getppid() != parent || dup2(fds[1], 1) < 0 ||
		    dup2(fds[1], 2) < 0)
			_exit(127);
		execv(o->wrk, (char *const *)argv);
		dprintf(2, "cannot run '%s': %s\n", o->wrk, strerror(errno));
		_exit(127);
	}
	close(fds[1]);
	buf_init(&out, WRK_OUT_MAX);
	for (;;) {
		ssize_t n = read(fds[0], chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR && !interrupted)
			continue;
		if (n <= 0)
			break;
		buf_append(&out, chunk, (size_t)n); /* past the cap: cut */
	}
	close(fds[0]);
	if (interrupted)
		kill(pid, SIGTERM);
	waitpid(pid, &st, 0);
	check_interrupted();
	memset(w, 0, sizeof(*w));
	w->p99_ms = -1;
	if (out.data && (p = strstr(out.data, "Latency Distribution")) &&
	    (p = strstr(p, " 99%")))
		w->p99_ms = wrk_time_ms(p + 4 + strspn(p + 4, " \t"));
	if (out.data && (p = strstr(out.data, "Requests/sec:")))
		w->rps = strtod(p + 13, NULL);
	if (out.data && (p = strstr(out.data, " requests in ")))
		while (p > out.data && p[-1] >= '0' && p[-1] <= '9')
			p--;
	w->requests = out.data && p ? (size_t)strtoull(p, NULL, 10) : 0;
	if (out.data)
		w->errors = after_num(out.data, "Socket errors: connect ") +
			    after_num(out.data, ", read ") +
			    after_num(out.data, ", write ") +
			    after_num(out.data, ", timeout ") +
			    after_num(out.data, "Non-2xx or 3xx responses: ");
	if (!WIFEXITED(st) || WEXITSTATUS(st) || w->p99_ms < 0 || w->rps <= 0)
		run_fail(r, "wrk %s failed:\n%s", url,
			 out.data ? out.data : "(no output)");
	buf_release(&out);
}

/* ------------------------------------------------------------- parts */

struct first_figures {
	double iteration_s, elapsed_s, store_mb, malloc_in_use_mb,
	    malloc_free_mb;
	long peak_kb, after_kb, file_kb;
	/* wrk with no iteration running, for comparison; RssAnon after. */
	bool quiet_load;
	size_t quiet_s;
	struct wrk_result quiet_metrics, quiet_health;
	long after_load_kb;
	int exit_status;
};

/* A number after "key": in a JSON text; -1 when it is not there. */
static double json_num(const char *text, const char *key)
{
	char k[64];
	const char *p;

	snprintf(k, sizeof(k), "\"%s\":", key);
	p = text ? strstr(text, k) : NULL;
	return p ? strtod(p + strlen(k), NULL) : -1;
}

/* What the daemon's allocator holds (/debug/vars), MB; -1 unknown. */
static void malloc_mb(struct run *r, double *in_use, double *free_mb)
{
	struct buf b = BUF_INIT;

	*in_use = *free_mb = -1;
	buf_init(&b, HTTP_MAX);
	if (http_get(r->port, "/debug/vars", &b) == 200) {
		*in_use = json_num(b.data, "malloc_in_use_bytes") / 1048576.0;
		*free_mb = json_num(b.data, "malloc_free_bytes") / 1048576.0;
	}
	buf_release(&b);
}

static double store_mb(const struct run *r)
{
	char path[PATH_MAX + 16];
	struct stat sb;

	snprintf(path, sizeof(path), "%s/data.mdb", r->store);
	/* Allocated blocks: a writer sizes the file to its map. */
	return stat(path, &sb) ? 0 : (double)sb.st_blocks * 512 / 1e6;
}

static void part_first(const struct opts *o, struct first_figures *f)
{
	struct run r;
	struct snap s;
	int64_t t0 = time_mono_ns();

	memset(f, 0, sizeof(*f));
	/* An interval of an hour: nothing but the first iteration runs. */
	run_start(&r, o, o->resources, o->page_ms, 0, "1h", &f->peak_kb);
	wait_iterations(&r, 1, &s, &f->peak_kb);
	if (s.resources != (double)o->resources)
		run_fail(&r, "the first iteration saw %.0f resources, not %zu",
			 s.resources, o->resources);
	f->iteration_s = s.dur_ms_sum / 1000.0;
	/* The iteration's end is counted before its malloc_trim. */
	for (int64_t t = time_mono_ns();
	     time_mono_ns() - t < FIRST_SETTLE_NS;) {
		sleep_ns(POLL_NS);
		rss_sample(&r, &f->peak_kb);
	}
	f->after_kb = rss_sample(&r, &f->peak_kb);
	f->file_kb = status_kb(r.pid, "RssFile");
	malloc_mb(&r, &f->malloc_in_use_mb, &f->malloc_free_mb);
	f->store_mb = store_mb(&r);
	/* The same load as the load part's, with the daemon idle: what the
	 * endpoints do with no iteration competing for the cores. */
	if (!access(o->wrk, X_OK)) {
		f->quiet_load = true;
		f->quiet_s = o->load_s ? o->load_s : QUIET_LOAD_S;
		wrk_run(&r, o, "/metrics", f->quiet_s, &f->quiet_metrics);
		wrk_run(&r, o, "/health", f->quiet_s, &f->quiet_health);
		sleep_ns(FIRST_SETTLE_NS);
		f->after_load_kb = rss_sample(&r, NULL);
	}
	run_stop(&r);
	f->exit_status = r.exit_status;
	f->elapsed_s = bench_secs_since(t0);
}

struct load_figures {
	long page_ms;
	size_t load_s;
	double idle_s, loaded_s, change_pct;
	double loaded_metrics_s, loaded_health_s;
	struct wrk_result metrics, health;
	bool covered; /* every wrk run outlasted an iteration */
};

/* The average iteration between two snapshots, seconds. */
static double avg_s(const struct snap *a, const struct snap *b)
{
	return (b->dur_ms_sum - a->dur_ms_sum) /
	       (b->iterations - a->iterations) / 1000.0;
}

/* wrk on path for secs from an iteration's end (*from); *to is /metrics
 * once it is over, at least one iteration later (waited for if need be:
 * then *covered is false). */
static void load_one(struct run *r, const struct opts *o, const char *path,
		     size_t secs, struct wrk_result *w, struct snap *from,
		     struct snap *to, bool *covered)
{
	wrk_run(r, o, path, secs, w);
	metrics_read(r, to);
	if (to->iterations == from->iterations) {
		*covered = false;
		wait_iterations(r, from->iterations + 1, to, NULL);
	}
}

static void measure_load(struct run *r, const struct opts *o, long page_ms,
			 struct load_figures *f)
{
	struct snap a, b, c, c2, d;

	memset(f, 0, sizeof(*f));
	f->page_ms = page_ms;
	f->covered = true;
	/* From the next iteration's end: the one running now may have
	 * started under other conditions. */
	metrics_read(r, &a);
	wait_iterations(r, a.iterations + 1, &a, NULL);
	wait_iterations(r, a.iterations + IDLE_ITERATIONS, &b, NULL);
	f->idle_s = avg_s(&a, &b);
	f->load_s = o->load_s ? o->load_s : (size_t)ceil(f->idle_s * 1.5) + 2;
	load_one(r, o, "/metrics", f->load_s, &f->metrics, &b, &c, &f->covered);
	f->loaded_metrics_s = avg_s(&b, &c);
	/* The iteration running when wrk stopped was loaded in part: the
	 * next window starts after it. */
	wait_iterations(r, c.iterations + 1, &c2, NULL);
	load_one(r, o, "/health", f->load_s, &f->health, &c2, &d, &f->covered);
	f->loaded_health_s = avg_s(&c2, &d);
	f->loaded_s =
	    ((c.dur_ms_sum - b.dur_ms_sum) + (d.dur_ms_sum - c2.dur_ms_sum)) /
	    1000.0 /
	    ((c.iterations - b.iterations) + (d.iterations - c2.iterations));
	f->change_pct = 100.0 * (f->loaded_s - f->idle_s) / f->idle_s;
}

/* The load part: one daemon, iterations back to back, measured at
 * --page-ms and then (when that is not 0) with an instant server. */
static void part_load(const struct opts *o, struct load_figures *slow,
		      struct load_figures *fast, double *elapsed_s)
{
	struct run r;
	struct snap s;
	int64_t t0 = time_mono_ns();

	if (access(o->wrk, X_OK))
		bench_die("wrk not found at '%s' (apt-get install wrk, or "
			  "--wrk PATH)",
			  o->wrk);
	/* Iterations back to back: each one is longer than the interval. */
	run_start(&r, o, o->resources, o->page_ms, 0, "1s", NULL);
	wait_iterations(&r, 1, &s, NULL); /* the baseline */
	measure_load(&r, o, o->page_ms, slow);
	if (o->page_ms) {
		awsfake_account_set_latency(&r.aws, 0);
		measure_load(&r, o, 0, fast);
	}
	run_stop(&r);
	*elapsed_s = bench_secs_since(t0);
}

struct flat_figures {
	size_t resources, iterations;
	double iteration_s, elapsed_s;
	long after_first_kb, after_kb, after_100_kb, last_kb, min_kb, max_kb;
	/* The allocator's figures after the 10th and the last. */
	double in_use_mb, free_mb, last_in_use_mb, last_free_mb;
	double growth_pct;
	size_t changes_introduced;
	double changes_stored, partials;
	int exit_status;
};

static void part_flat(const struct opts *o, struct flat_figures *f)
{
	struct run r;
	struct snap s, first;
	int64_t t0 = time_mono_ns();

	memset(f, 0, sizeof(*f));
	f->resources = o->flat_resources;
	f->iterations = o->iterations;
	f->min_kb = LONG_MAX;
	run_start(&r, o, o->flat_resources, 0, FLAT_CHURN_PCT, o->flat_interval,
		  NULL);
	wait_iterations(&r, 1, &first, NULL);
	for (size_t i = 1; i <= o->iterations; i++) {
		struct awsfake_churn cr;
		long kb;

		if (i > 1)
			wait_iterations(&r, (double)i, &s, NULL);
		if (i < o->iterations) {
			awsfake_account_churn(&r.aws, &cr);
			f->changes_introduced +=
			    cr.created + cr.modified + cr.deleted;
		}
		sleep_ns(SETTLE_NS); /* past the iteration's malloc_trim */
		kb = rss_sample(&r, NULL);
		if (i == 1)
			f->after_first_kb = kb;
		if (i == FLAT_FIRST) {
			f->after_kb = kb;
			malloc_mb(&r, &f->in_use_mb, &f->free_mb);
		}
		if (i == o->iterations)
			malloc_mb(&r, &f->last_in_use_mb, &f->last_free_mb);
		if (i == 100)
			f->after_100_kb = kb;
		if (i >= FLAT_FIRST) {
			f->min_kb = kb < f->min_kb ? kb : f->min_kb;
			f->max_kb = kb > f->max_kb ? kb : f->max_kb;
		}
		f->last_kb = kb;
	}
	metrics_read(&r, &s);
	f->iteration_s = s.dur_ms_sum / s.iterations / 1000.0;
	f->changes_stored = s.events - first.events;
	f->partials = s.partials;
	f->growth_pct =
	    100.0 * (double)(f->last_kb - f->after_kb) / (double)f->after_kb;
	run_stop(&r);
	f->exit_status = r.exit_status;
	f->elapsed_s = bench_secs_since(t0);
}

/* ------------------------------------------------------------ output */

struct figures {
	struct first_figures first;
	struct load_figures slow, fast;
	double load_elapsed_s;
	struct flat_figures flat;
	double elapsed_s;
	/* The machine's 1-minute load average: other work skews timings. */
	double loadavg_start, loadavg_end;
};

static void json_load(const struct load_figures *l, const char *sfx)
{
	printf(",\"iteration_s_idle%s\":%.3f,\"iteration_s_loaded%s\":%.3f,"
	       "\"iteration_change_pct%s\":%.1f,"
	       "\"iteration_s_loaded_metrics%s\":%.3f,"
	       "\"iteration_s_loaded_health%s\":%.3f,"
	       "\"metrics_rps%s\":%.0f,\"metrics_p99_ms%s\":%.3f,"
	       "\"metrics_requests%s\":%zu,\"metrics_errors%s\":%zu,"
	       "\"health_rps%s\":%.0f,\"health_p99_ms%s\":%.3f,"
	       "\"health_requests%s\":%zu,\"health_errors%s\":%zu,"
	       "\"load_seconds%s\":%zu,\"load_covered%s\":%s",
	       sfx, l->idle_s, sfx, l->loaded_s, sfx, l->change_pct, sfx,
	       l->loaded_metrics_s, sfx, l->loaded_health_s, sfx,
	       l->metrics.rps, sfx, l->metrics.p99_ms, sfx, l->metrics.requests,
	       sfx, l->metrics.errors, sfx, l->health.rps, sfx,
	       l->health.p99_ms, sfx, l->health.requests, sfx, l->health.errors,
	       sfx, l->load_s, sfx, l->covered ? "true" : "false");
}

static void print_json(const struct opts *o, const struct figures *f)
{
	printf("{\"resources\":%zu,\"page_ms\":%ld,\"cpus\":%ld", o->resources,
	       o->page_ms, sysconf(_SC_NPROCESSORS_ONLN));
	if (o->parts & PART_FIRST) {
		const struct first_figures *a = &f->first;
		printf(",\"first_iteration_s\":%.3f,"
		       "\"rss_anon_after_first_mb\":%.1f,"
		       "\"peak_rss_anon_mb\":%.1f,\"rss_file_mb\":%.1f,"
		       "\"malloc_in_use_mb\":%.1f,\"malloc_free_mb\":%.1f,"
		       "\"store_mb\":%.1f,\"first_elapsed_s\":%.1f,"
		       "\"first_exit_status\":%d",
		       a->iteration_s, kb_mb(a->after_kb), kb_mb(a->peak_kb),
		       kb_mb(a->file_kb), a->malloc_in_use_mb,
		       a->malloc_free_mb, a->store_mb, a->elapsed_s,
		       a->exit_status);
		if (a->quiet_load)
			printf(",\"metrics_rps_no_iteration\":%.0f,"
			       "\"metrics_p99_ms_no_iteration\":%.3f,"
			       "\"health_rps_no_iteration\":%.0f,"
			       "\"health_p99_ms_no_iteration\":%.3f,"
			       "\"rss_anon_after_load_mb\":%.1f",
			       a->quiet_metrics.rps, a->quiet_metrics.p99_ms,
			       a->quiet_health.rps, a->quiet_health.p99_ms,
			       kb_mb(a->after_load_kb));
	}
	if (o->parts & PART_LOAD) {
		json_load(&f->slow, "");
		if (o->page_ms)
			json_load(&f->fast, "_0ms");
		printf(",\"load_elapsed_s\":%.1f", f->load_elapsed_s);
	}
	if (o->parts & PART_FLAT) {
		const struct flat_figures *c = &f->flat;
		printf(",\"flat_resources\":%zu,\"flat_iterations\":%zu,"
		       "\"flat_interval\":\"%s\",\"flat_iteration_s\":%.3f,"
		       "\"rss_anon_after_1_mb\":%.1f,"
		       "\"rss_anon_after_%d_mb\":%.1f",
		       c->resources, c->iterations, o->flat_interval,
		       c->iteration_s, kb_mb(c->after_first_kb), FLAT_FIRST,
		       kb_mb(c->after_kb));
		if (c->iterations > 100)
			printf(",\"rss_anon_after_100_mb\":%.1f",
			       kb_mb(c->after_100_kb));
		if (c->iterations > FLAT_FIRST)
			printf(",\"rss_anon_after_%zu_mb\":%.1f", c->iterations,
			       kb_mb(c->last_kb));
		printf(",\"rss_anon_min_mb\":%.1f,\"rss_anon_max_mb\":%.1f,"
		       "\"rss_growth_pct\":%.2f,"
		       "\"malloc_in_use_after_%d_mb\":%.2f,"
		       "\"malloc_free_after_%d_mb\":%.2f",
		       kb_mb(c->min_kb), kb_mb(c->max_kb), c->growth_pct,
		       FLAT_FIRST, c->in_use_mb, FLAT_FIRST, c->free_mb);
		if (c->iterations > FLAT_FIRST)
			printf(",\"malloc_in_use_after_%zu_mb\":%.2f,"
			       "\"malloc_free_after_%zu_mb\":%.2f",
			       c->iterations, c->last_in_use_mb, c->iterations,
			       c->last_free_mb);
		printf(",\"changes_introduced\":%zu,\"changes_stored\":%.0f,"
		       "\"changes_match\":%s,\"flat_partials\":%.0f,"
		       "\"flat_elapsed_s\":%.1f,\"flat_exit_status\":%d",
		       c->changes_introduced, c->changes_stored,
		       c->changes_stored == (double)c->changes_introduced
			   ? "true"
			   : "false",
		       c->partials, c->elapsed_s, c->exit_status);
	}
	printf(",\"loadavg_start\":%.2f,\"loadavg_end\":%.2f,"
	       "\"elapsed_s\":%.1f}\n",
	       f->loadavg_start, f->loadavg_end, f->elapsed_s);
}

static void text_load(const struct load_figures *l)
{
	printf("  at %ld ms a Describe call (wrk -t1 -c8, %zu s a run%s):\n",
	       l->page_ms, l->load_s,
	       l->covered ? "" : "; a run ended before an iteration did");
	printf("    /metrics          %8.0f req/s  p99 %.3f ms  (%zu "
	       "requests, %zu errors; target >= 5000, <= 10 ms)\n",
	       l->metrics.rps, l->metrics.p99_ms, l->metrics.requests,
	       l->metrics.errors);
	printf("    /health           %8.0f req/s  p99 %.3f ms  (%zu "
	       "requests, %zu errors)\n",
	       l->health.rps, l->health.p99_ms, l->health.requests,
	       l->health.errors);
	printf("    iteration         %8.3f s idle, %.3f s loaded (%.3f "
	       "/metrics, %.3f /health): %+.1f%% (target <= 10%%)\n",
	       l->idle_s, l->loaded_s, l->loaded_metrics_s, l->loaded_health_s,
	       l->change_pct);
}

static void print_text(const struct opts *o, const struct figures *f)
{
	printf("serve: elava serve against %zu resources of %d EC2 types, "
	       "%ld cores\n",
	       o->resources, AWSFAKE_NKINDS, sysconf(_SC_NPROCESSORS_ONLN));
	if (o->parts & PART_FIRST) {
		const struct first_figures *a = &f->first;
		printf("  first iteration   %8.3f s at %ld ms a Describe "
		       "call\n",
		       a->iteration_s, o->page_ms);
		printf("  RssAnon after     %8.1f MB  (target <= 24; peak "
		       "during it %.1f MB)\n",
		       kb_mb(a->after_kb), kb_mb(a->peak_kb));
		printf("  RssFile after     %8.1f MB  (the store's map and "
		       "the binaries)\n",
		       kb_mb(a->file_kb));
		printf("  malloc            %8.1f MB in use, %.1f MB free in "
		       "the arenas\n",
		       a->malloc_in_use_mb, a->malloc_free_mb);
		if (a->quiet_load)
			printf(
			    "  no iteration:     /metrics %.0f req/s p99 %.3f "
			    "ms, /health %.0f req/s p99 %.3f ms; RssAnon "
			    "after %.1f MB\n",
			    a->quiet_metrics.rps, a->quiet_metrics.p99_ms,
			    a->quiet_health.rps, a->quiet_health.p99_ms,
			    kb_mb(a->after_load_kb));
	}
	if (o->parts & PART_LOAD) {
		text_load(&f->slow);
		if (o->page_ms)
			text_load(&f->fast);
	}
	if (o->parts & PART_FLAT) {
		const struct flat_figures *c = &f->flat;
		printf("  flat: %zu iterations of %zu resources, %g%% churn "
		       "each, interval %s (%.3f s an iteration, %.0f s in "
		       "all)\n",
		       c->iterations, c->resources, FLAT_CHURN_PCT,
		       o->flat_interval, c->iteration_s, c->elapsed_s);
		printf("    RssAnon         %8.1f MB after %d, %.1f MB after "
		       "%zu: %+.2f%% (target within 5%%)\n",
		       kb_mb(c->after_kb), FLAT_FIRST, kb_mb(c->last_kb),
		       c->iterations, c->growth_pct);
		printf("    RssAnon range   %8.1f - %.1f MB from the %dth on\n",
		       kb_mb(c->min_kb), kb_mb(c->max_kb), FLAT_FIRST);
		printf("    changes         %8.0f stored, %zu introduced\n",
		       c->changes_stored, c->changes_introduced);
	}
	printf("  elapsed           %8.1f s   (load average %.2f at the start, "
	       "%.2f at the end)\n",
	       f->elapsed_s, f->loadavg_start, f->loadavg_end);
}

/* ------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(
	    out,
	    "usage: elava-bench serve [--resources N] [--iterations N] "
	    "[--flat-resources N]\n"
	    "         [--flat-interval D] [--load-seconds S] [--page-ms L] "
	    "[--parts first,load,flat]\n"
	    "         [--elava PATH] [--wrk PATH] [--store DIR] [--json]\n");
}

static bool parse_parts(const char *s, unsigned *out)
{
	char b[64], *save = NULL;

	if (strlen(s) >= sizeof(b))
		return false;
	strcpy(b, s);
	*out = 0;
	for (char *t = strtok_r(b, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (!strcmp(t, "first"))
			*out |= PART_FIRST;
		else if (!strcmp(t, "load"))
			*out |= PART_LOAD;
		else if (!strcmp(t, "flat"))
			*out |= PART_FLAT;
		else
			return false;
	}
	return *out != 0;
}

/* The elava binary beside this one (both land in the build directory). */
static char *elava_beside(void)
{
	char self[PATH_MAX], *slash, *path;
	ssize_t n = readlink("/proc/self/exe", self, sizeof(self) - 1);

	if (n <= 0)
		return xstrdup("elava");
	self[n] = '\0';
	slash = strrchr(self, '/');
	*slash = '\0';
	path = xmalloc(strlen(self) + sizeof("/elava"));
	sprintf(path, "%s/elava", self);
	return path;
}

/* The daemon reads ELAVA_*: only what the bench sets may reach it. */
static void clear_elava_env(void)
{
	extern char **environ;

	for (bool again = true; again;) {
		again = false;
		for (char **e = environ; *e; e++) {
			char name[256];
			size_t n = strcspn(*e, "=");
			if (strncmp(*e, "ELAVA_", 6) || n >= sizeof(name))
				continue;
			memcpy(name, *e, n);
			name[n] = '\0';
			unsetenv(name);
			again = true;
			break;
		}
	}
}

int bench_serve(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'n'},
	    {"iterations", required_argument, NULL, 'i'},
	    {"flat-resources", required_argument, NULL, 'f'},
	    {"flat-interval", required_argument, NULL, 'v'},
	    {"load-seconds", required_argument, NULL, 'd'},
	    {"page-ms", required_argument, NULL, 'l'},
	    {"parts", required_argument, NULL, 'p'},
	    {"elava", required_argument, NULL, 'e'},
	    {"wrk", required_argument, NULL, 'w'},
	    {"store", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct opts o = {.resources = 100000,
			 .iterations = 1000,
			 .flat_resources = 2000,
			 .page_ms = 250,
			 .wrk = "/usr/bin/wrk",
			 .flat_interval = "1s",
			 .parts = PART_FIRST | PART_LOAD | PART_FLAT};
	struct figures f;
	struct sigaction sa;
	char *elava = NULL;
	size_t page_ms = 250;
	int64_t interval, t0 = time_mono_ns();
	bool ok = true;
	int c;

	memset(&f, 0, sizeof(f));
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			ok = ok && bench_parse_size(optarg, &o.resources);
			break;
		case 'i':
			ok = ok && bench_parse_size(optarg, &o.iterations);
			break;
		case 'f':
			ok = ok && bench_parse_size(optarg, &o.flat_resources);
			break;
		case 'v': o.flat_interval = optarg; break;
		case 'd': ok = ok && bench_parse_size(optarg, &o.load_s); break;
		case 'l': ok = ok && bench_parse_size(optarg, &page_ms); break;
		case 'p': ok = ok && parse_parts(optarg, &o.parts); break;
		case 'e': o.elava = optarg; break;
		case 'w': o.wrk = optarg; break;
		case 's': o.store_base = optarg; break;
		case 'j': o.json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!ok || optind < argc || !o.resources ||
	    o.resources > RESOURCES_MAX || !o.flat_resources ||
	    o.flat_resources > RESOURCES_MAX || !o.iterations ||
	    o.iterations > ITERATIONS_MAX ||

	    page_ms > PAGE_MS_MAX || o.load_s > LOAD_S_MAX ||
	    duration_parse(o.flat_interval, &interval) || interval <= 0) {
		fprintf(stderr, "elava-bench serve: invalid arguments\n");
		usage(stderr);
		return 2;
	}
	if ((o.parts & PART_FLAT) && o.iterations < FLAT_FIRST) {
		fprintf(stderr,
			"elava-bench serve: --iterations must be at least %d "
			"(flatness is measured from the %dth)\n",
			FLAT_FIRST, FLAT_FIRST);
		return 2;
	}
	o.page_ms = (long)page_ms;
	if (!o.elava)
		o.elava = elava = elava_beside();
	if (access(o.elava, X_OK))
		bench_die("no elava binary at '%s' (--elava PATH)", o.elava);
	clear_elava_env();
	signal(SIGPIPE, SIG_IGN);
	cleanup_pid = getpid();
	atexit(cleanup);
	memset(&sa, 0, sizeof(sa));
	sa.sa_handler = on_signal; /* no SA_RESTART: waits see EINTR */
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);

	getloadavg(&f.loadavg_start, 1);
	if (o.parts & PART_FIRST)
		part_first(&o, &f.first);
	if (o.parts & PART_LOAD)
		part_load(&o, &f.slow, &f.fast, &f.load_elapsed_s);
	if (o.parts & PART_FLAT)
		part_flat(&o, &f.flat);
	f.elapsed_s = bench_secs_since(t0);
	getloadavg(&f.loadavg_end, 1);
	if (o.json)
		print_json(&o, &f);
	else
		print_text(&o, &f);
	free(elava);
	return 0;
}
