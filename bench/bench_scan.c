/*
 * elava-bench scan: a complete `elava scan` of a generated account, twice,
 * with churn between. A server process (awsfake_account.h) holds N
 * resources of six EC2 types (30% instances, 30% volumes, 15% network
 * interfaces, 10% snapshots, 10% security groups, 5% subnets), every record
 * with the elements the lister reads and a tagSet, and answers over
 * HTTP/1.1 keep-alive on loopback: STS GetCallerIdentity, EC2
 * DescribeRegions and each type's Describe* call, paged at the MaxResults
 * the request asks for (capped at what the API allows) with nextToken. The
 * serve benchmark uses the same account. A child forked while this
 * process is still small (the server generates the records, not this
 * process) runs what `elava scan` runs — provider, store, engine_scan
 * (list, store, commit, WAL entry), close — against a fresh store with its
 * WAL in <store>/wal, scoped to exactly those six types in us-east-1:
 *
 *   1. the first scan, the baseline;
 *   2. the server changes P% of the resources: 60% modified (an instance
 *      stopped or started, a record of another type retagged), 20%
 *      created, 20% deleted;
 *   3. the second scan, which must report exactly those changes.
 *
 * Measured: each scan's wall time; the scanning process's own CPU during
 * the second scan (getrusage deltas, less the RssAnon sampler thread's
 * CPU) and the server's; the peak RssAnon of the scanning process (a
 * thread reads /proc/self/status every 5 ms: the store's map is page
 * cache, not counted) and, for reference, its peak RSS from wait4, which
 * includes the LMDB map's resident pages; the requests the server
 * answered in each scan next to the fewest the APIs allow (each type's
 * pages at the largest MaxResults, plus STS and DescribeRegions).
 *
 * --latency-ms L makes the server wait L ms before answering each
 * Describe* call. The default, 0, is the fast local server; real AWS takes
 * 0.5-2 s a page of 1000 records, so against AWS the API sets the pace.
 * Figures are printed, never judged.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <limits.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include "awsfake_account.h"
#include "engine/engine.h"
#include "provider/provider.h"
#include "store/store.h"
#include "wal/wal.h"

#define RESOURCES_MAX 1000000
#define LATENCY_MAX   60000
#define SAMPLE_NS     5000000

/* This process's CPU so far, seconds. */
static double process_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* --------------------------------------------------- the scanning child */

/* Peak RssAnon, read from /proc/self/status every SAMPLE_NS. */
struct sampler {
	pthread_t tid;
	int fd;
	atomic_bool stop;
	atomic_long peak_kb;
};

static long rss_anon_kb(int fd)
{
	char b[4096];
	ssize_t n = pread(fd, b, sizeof(b) - 1, 0);
	const char *p;

	if (n <= 0)
		return 0;
	b[n] = '\0';
	p = strstr(b, "\nRssAnon:");
	return p ? strtol(p + 9, NULL, 10) : 0;
}

static void sampler_take(struct sampler *sm)
{
	long kb = rss_anon_kb(sm->fd), peak = atomic_load(&sm->peak_kb);

	while (kb > peak &&
	       !atomic_compare_exchange_weak(&sm->peak_kb, &peak, kb))
		;
}

static void *sampler_main(void *arg)
{
	struct sampler *sm = arg;

	while (!atomic_load(&sm->stop)) {
		struct timespec ts = {0, SAMPLE_NS};
		sampler_take(sm);
		nanosleep(&ts, NULL);
	}
	return NULL;
}

/* The sampler thread's CPU so far, to leave out of Elava's. */
static double sampler_cpu_s(struct sampler *sm)
{
	struct timespec ts;
	clockid_t cid;

	if (pthread_getcpuclockid(sm->tid, &cid) || clock_gettime(cid, &ts))
		return 0;
	return (double)ts.tv_sec + (double)ts.tv_nsec / 1e9;
}

/* What the scanning child reports after each scan. */
struct scan_out {
	int rc; /* 0, or what failed (msg says) */
	char msg[1024];
	double wall_s, cpu_s;
	long rss_anon_kb; /* peak during the scan */
	size_t resources, created, modified, disappeared;
	bool baseline;
	char status[16];
};

/* One `elava scan`: provider, store, WAL, engine_scan, close. */
static int scan_once(const char *dir, struct scan_out *o)
{
	static const char *const regions[] = {AWSFAKE_REGION};
	const char *types[AWSFAKE_NKINDS];
	struct provider_scope scope = {.regions = regions,
				       .nregions = 1,
				       .types = types,
				       .ntypes = AWSFAKE_NKINDS};
	struct provider_aws_options po = {.region = AWSFAKE_REGION,
					  .requests_per_second = -1};
	struct store_options so = {.path = dir};
	struct wal_options wo = {0};
	struct engine_scan_options eo = {.scope = &scope};
	struct engine_scan_report rep;
	struct elava_error err = {0};
	struct provider *p = NULL;
	struct store *s = NULL;
	struct wal *w = NULL;
	char waldir[PATH_MAX];
	int rc;

	memset(&rep, 0, sizeof(rep));
	for (size_t k = 0; k < AWSFAKE_NKINDS; k++)
		types[k] = awsfake_kinds[k].type;
	snprintf(waldir, sizeof(waldir), "%s/wal", dir);
	wo.dir = waldir;
	if ((rc = provider_aws_new(&po, &p, &err)) ||
	    (rc = store_open(&so, &s, &err)) ||
	    (rc = wal_open(&wo, &w, &err)) ||
	    (rc = engine_scan(p, s, w, &eo, &rep, &err))) {
		snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
		goto out;
	}
	o->resources = rep.result.resource_count;
	o->created = rep.result.created;
	o->modified = rep.result.modified;
	o->disappeared = rep.result.disappeared;
	o->baseline = rep.result.baseline;
	snprintf(o->status, sizeof(o->status), "%s", rep.result.status);
	if (rep.nfailures)
		snprintf(o->msg, sizeof(o->msg), "listing '%s' failed: %s",
			 rep.failures[0].scope, rep.failures[0].reason);
out:
	engine_scan_report_release(&rep);
	if (w && wal_close(&w, &err) && !rc) {
		rc = err.code ? err.code : ELAVA_E_IO;
		snprintf(o->msg, sizeof(o->msg), "%s", err.msg);
	}
	store_close(&s);
	provider_free(&p);
	return rc;
}

/* The child: scan, report, wait for the churn, scan, report. */
static void scan_child(const char *dir, int out, int go)
{
	struct sampler sm;

	memset(&sm, 0, sizeof(sm));
	log_configure(LOG_WARN, LOG_FORMAT_TEXT);
	sm.fd = open("/proc/self/status", O_RDONLY | O_CLOEXEC);
	atomic_init(&sm.stop, false);
	atomic_init(&sm.peak_kb, 0);
	if (sm.fd < 0 || pthread_create(&sm.tid, NULL, sampler_main, &sm))
		_exit(1);
	for (int scan = 0; scan < 2; scan++) {
		struct scan_out o;
		char c;

		memset(&o, 0, sizeof(o));
		if (scan && !bench_read_all(go, &c, 1))
			break;
		atomic_store(&sm.peak_kb, 0);
		sampler_take(&sm);
		double cpu0 = process_cpu_s() - sampler_cpu_s(&sm);
		int64_t t0 = time_mono_ns();
		o.rc = scan_once(dir, &o);
		o.wall_s = bench_secs_since(t0);
		o.cpu_s = process_cpu_s() - sampler_cpu_s(&sm) - cpu0;
		sampler_take(&sm);
		o.rss_anon_kb = atomic_load(&sm.peak_kb);
		if (!bench_write_all(out, &o, sizeof(o)) || o.rc)
			break;
	}
	atomic_store(&sm.stop, true);
	pthread_join(sm.tid, NULL);
	_exit(0);
}

/* --------------------------------------------------------------- main */

struct run {
	struct awsfake_account aws;
	char *dir;
	/* The scanning process: ctl its go-ahead, reply its reports. */
	struct bench_proc scanner;
};

/* Stop everything started, remove the store, then die. */
static void run_abort(struct run *r, const char *what, const char *msg)
{
	if (r->scanner.pid > 0)
		bench_proc_stop(&r->scanner);
	awsfake_account_stop(&r->aws);
	bench_rmtree(r->dir);
	bench_die("%s: %s", what, msg);
}

static void read_scan(struct run *r, int scan, struct scan_out *o)
{
	const char *what = scan ? "second scan" : "first scan";

	if (!bench_read_all(r->scanner.reply, o, sizeof(*o)))
		run_abort(r, what, "the scanning process died");
	if (o->rc || strcmp(o->status, "success"))
		run_abort(r, what, o->msg[0] ? o->msg : o->status);
}

static void scanner_main(int go, int out, void *arg)
{
	struct run *r = arg;

	/* The server's pipes are this process's parent's. */
	close(r->aws.proc.ctl);
	close(r->aws.proc.reply);
	scan_child(r->dir, out, go);
}

struct figures {
	size_t n, n2[AWSFAKE_NKINDS];
	double churn_pct;
	long latency_ms;
	struct scan_out s1, s2;
	struct awsfake_churn cr;
	size_t calls1, calls2, errors;
	double server_cpu_s;
	long maxrss_kb;
	double store_mb;
};

static void print_json(const struct figures *f,
		       const struct awsfake_account_ready *rd)
{
	size_t introduced = f->cr.created + f->cr.modified + f->cr.deleted;
	size_t detected = f->s2.created + f->s2.modified + f->s2.disappeared;

	printf("{\"resources\":%zu,\"types\":{", f->n);
	for (size_t k = 0; k < AWSFAKE_NKINDS; k++)
		printf("%s\"%s\":%zu", k ? "," : "", awsfake_kinds[k].type,
		       rd->n[k]);
	printf("},\"region\":\"" AWSFAKE_REGION "\",\"churn_pct\":%g,"
	       "\"latency_ms\":%ld,\"records_mb\":%.1f,\"records_gen_s\":%.3f,"
	       "\"first_scan_s\":%.3f,\"second_scan_s\":%.3f,"
	       "\"first_scan_cpu_s\":%.3f,\"second_scan_cpu_s\":%.3f,"
	       "\"cpu_share\":%.3f,\"server_cpu_s\":%.3f,"
	       "\"peak_rss_anon_mb\":%.1f,\"peak_rss_anon_first_mb\":%.1f,"
	       "\"peak_rss_anon_second_mb\":%.1f,\"peak_rss_mb\":%.1f,"
	       "\"store_mb\":%.1f,",
	       f->churn_pct, f->latency_ms, (double)rd->bytes / 1e6, rd->gen_s,
	       f->s1.wall_s, f->s2.wall_s, f->s1.cpu_s, f->s2.cpu_s,
	       f->s2.cpu_s / f->s2.wall_s, f->server_cpu_s,
	       (double)(f->s1.rss_anon_kb > f->s2.rss_anon_kb
			    ? f->s1.rss_anon_kb
			    : f->s2.rss_anon_kb) /
		   1024.0,
	       (double)f->s1.rss_anon_kb / 1024.0,
	       (double)f->s2.rss_anon_kb / 1024.0,
	       (double)f->maxrss_kb / 1024.0, f->store_mb);
	printf("\"api_calls\":%zu,\"api_calls_first\":%zu,"
	       "\"api_calls_second\":%zu,\"api_calls_min\":%zu,"
	       "\"api_calls_min_first\":%zu,\"api_errors\":%zu,",
	       f->calls2, f->calls1, f->calls2,
	       awsfake_account_calls_min(f->n2),
	       awsfake_account_calls_min(rd->n), f->errors);
	printf("\"churn_introduced\":%zu,\"churn_created\":%zu,"
	       "\"churn_modified\":%zu,\"churn_deleted\":%zu,"
	       "\"changes_detected\":%zu,\"detected_created\":%zu,"
	       "\"detected_modified\":%zu,\"detected_disappeared\":%zu,"
	       "\"changes_match\":%s}\n",
	       introduced, f->cr.created, f->cr.modified, f->cr.deleted,
	       detected, f->s2.created, f->s2.modified, f->s2.disappeared,
	       detected == introduced ? "true" : "false");
}

static void print_text(const struct figures *f,
		       const struct awsfake_account_ready *rd)
{
	size_t introduced = f->cr.created + f->cr.modified + f->cr.deleted;
	size_t detected = f->s2.created + f->s2.modified + f->s2.disappeared;
	long anon = f->s1.rss_anon_kb > f->s2.rss_anon_kb ? f->s1.rss_anon_kb
							  : f->s2.rss_anon_kb;

	printf("scan: %zu resources of %zu EC2 types in " AWSFAKE_REGION
	       " (%.1f MB of XML), %g%% churn, %ld ms a Describe call\n",
	       f->n, (size_t)AWSFAKE_NKINDS, (double)rd->bytes / 1e6,
	       f->churn_pct, f->latency_ms);
	printf("  first scan        %8.3f s   baseline; %zu API calls "
	       "(fewest possible %zu)\n",
	       f->s1.wall_s, f->calls1, awsfake_account_calls_min(rd->n));
	printf("  second scan       %8.3f s   %zu API calls (fewest possible "
	       "%zu)\n",
	       f->s2.wall_s, f->calls2, awsfake_account_calls_min(f->n2));
	printf("  elava CPU, 2nd    %8.3f s   %.0f%% of the second scan "
	       "(target <= 20%% against the API's time)\n",
	       f->s2.cpu_s, 100.0 * f->s2.cpu_s / f->s2.wall_s);
	printf("  server CPU, 2nd   %8.3f s\n", f->server_cpu_s);
	printf("  peak RssAnon      %8.1f MB  scanning process (first %.1f, "
	       "second %.1f; target <= 96)\n",
	       (double)anon / 1024.0, (double)f->s1.rss_anon_kb / 1024.0,
	       (double)f->s2.rss_anon_kb / 1024.0);
	printf("  peak RSS          %8.1f MB  wait4; includes the LMDB map's "
	       "resident pages\n",
	       (double)f->maxrss_kb / 1024.0);
	printf("  store             %8.1f MB  data.mdb after two scans\n",
	       f->store_mb);
	printf("  churn introduced  %8zu     %zu created, %zu modified, %zu "
	       "deleted\n",
	       introduced, f->cr.created, f->cr.modified, f->cr.deleted);
	printf("  changes detected  %8zu     %zu created, %zu modified, %zu "
	       "disappeared (%s)\n",
	       detected, f->s2.created, f->s2.modified, f->s2.disappeared,
	       detected == introduced ? "match" : "DIFFERENT");
	if (f->errors)
		printf("  API errors        %8zu     requests the server "
		       "refused\n",
		       f->errors);
}

static void usage(FILE *out)
{
	fprintf(out, "usage: elava-bench scan [--resources N] [--churn-pct P] "
		     "[--latency-ms L] [--store DIR] [--json]\n");
}

static bool parse_pct(const char *s, double *out)
{
	char *end;

	errno = 0;
	*out = strtod(s, &end);
	return !errno && end != s && !*end && *out >= 0 && *out <= 100;
}

int bench_scan(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'n'},
	    {"churn-pct", required_argument, NULL, 'c'},
	    {"latency-ms", required_argument, NULL, 'l'},
	    {"store", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct figures f;
	struct run r;
	const char *store_base = NULL;
	struct awsfake_account_options ao;
	size_t latency = 0;
	double cpu0, cpu1;
	bool json = false, ok = true;
	struct rusage ru;
	struct stat sb;
	char path[PATH_MAX];
	int c, st;

	memset(&f, 0, sizeof(f));
	memset(&r, 0, sizeof(r));
	memset(&ao, 0, sizeof(ao));
	f.n = 100000;
	f.churn_pct = 1;
	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': ok = ok && bench_parse_size(optarg, &f.n); break;
		case 'c': ok = ok && parse_pct(optarg, &f.churn_pct); break;
		case 'l': ok = ok && bench_parse_size(optarg, &latency); break;
		case 's': store_base = optarg; break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (!ok || optind < argc || f.n == 0 || f.n > RESOURCES_MAX ||
	    latency > LATENCY_MAX) {
		fprintf(stderr, "elava-bench scan: invalid arguments\n");
		usage(stderr);
		return 2;
	}
	f.latency_ms = (long)latency;
	awsfake_account_split(f.n, ao.n);
	ao.latency_ms = f.latency_ms;
	ao.churn_pct = f.churn_pct;

	/* The server process generates the records: this one stays small, so
	 * the scanning child forked from it starts small too. */
	awsfake_account_start(&r.aws, &ao);
	awsfake_env(r.aws.ready.port);
	r.dir = bench_tmpdir_in(store_base, "scan");
	bench_proc_start(&r.scanner, scanner_main, &r);

	read_scan(&r, 0, &f.s1);
	f.calls1 = atomic_load(&r.aws.stats->requests);
	if (!f.s1.baseline || f.s1.resources != f.n)
		run_abort(&r, "first scan", "not a baseline of every resource");
	awsfake_account_churn(&r.aws, &f.cr);
	memcpy(f.n2, f.cr.n, sizeof(f.n2));
	cpu0 = awsfake_account_cpu_s(&r.aws);
	size_t before = atomic_load(&r.aws.stats->requests);
	if (!bench_write_all(r.scanner.ctl, "g", 1))
		run_abort(&r, "second scan", "the scanning process is gone");
	read_scan(&r, 1, &f.s2);
	f.calls2 = atomic_load(&r.aws.stats->requests) - before;
	cpu1 = awsfake_account_cpu_s(&r.aws);
	f.server_cpu_s = cpu1 - cpu0;
	f.errors = atomic_load(&r.aws.stats->errors);
	close(r.scanner.ctl);
	close(r.scanner.reply);
	if (wait4(r.scanner.pid, &st, 0, &ru) != r.scanner.pid)
		bench_die("wait4: %s", strerror(errno));
	r.scanner.pid = 0;
	f.maxrss_kb = ru.ru_maxrss;
	snprintf(path, sizeof(path), "%s/data.mdb", r.dir);
	/* Allocated blocks: a writer sizes the file to its map. */
	if (!stat(path, &sb))
		f.store_mb = (double)sb.st_blocks * 512 / 1e6;
	if (f.s2.resources != f.n + f.cr.created - f.cr.deleted)
		run_abort(&r, "second scan",
			  "resource count differs from the "
			  "server's");
	awsfake_account_stop(&r.aws);
	bench_rmtree(r.dir);
	free(r.dir);
	if (json)
		print_json(&f, &r.aws.ready);
	else
		print_text(&f, &r.aws.ready);
	return 0;
}
