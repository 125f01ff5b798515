/*
 * elava-bench scan: a complete `elava scan` of a generated account, twice,
 * with churn between. A server process (awsfake) holds N resources of six
 * EC2 types (30% instances, 30% volumes, 15% network interfaces, 10%
 * snapshots, 10% security groups, 5% subnets), every record with the
 * elements the lister reads and a tagSet, and answers over HTTP/1.1
 * keep-alive on loopback: STS GetCallerIdentity, EC2 DescribeRegions and
 * each type's Describe* call, paged at the MaxResults the request asks for
 * (capped at what the API allows) with nextToken. A child forked while this
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
#include <math.h>
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

#include "awsfake.h"
#include "engine/engine.h"
#include "provider/provider.h"
#include "store/store.h"
#include "wal/wal.h"

#define RECORDS_MAX   ((size_t)8 << 30) /* one type's generated records */
#define RESOURCES_MAX 1000000
#define LATENCY_MAX   60000
#define DEFAULT_PAGE  1000 /* a request without MaxResults */
#define SAMPLE_NS     5000000
#define DELETED	      UINT_MAX /* a rev marking a record to remove */

/* ------------------------------------------------------------ the types */

struct kind {
	const char *type;   /* Elava's */
	const char *action; /* its Describe* call */
	/* A parameter the lister must send, and its value (or NULL). */
	const char *param, *value;
	const char *set;    /* the element the records are in */
	size_t max_page;    /* the largest page the API returns */
	unsigned per_mille; /* of the account's resources */
	void (*gen)(struct xw *w, size_t i, unsigned rev);
};

/* An instance comes in a reservation of its own. */
static void gen_reservation(struct xw *w, size_t i, unsigned rev)
{
	awsfake_ec2_reservation(w, i, 1, rev);
}

static const struct kind kinds[] = {
    {"ec2_instance", "DescribeInstances", NULL, NULL, "reservationSet", 1000,
     300, gen_reservation},
    {"ebs_volume", "DescribeVolumes", NULL, NULL, "volumeSet", 500, 300,
     awsfake_ec2_volume},
    {"network_interface", "DescribeNetworkInterfaces", NULL, NULL,
     "networkInterfaceSet", 1000, 150, awsfake_ec2_network_interface},
    {"ebs_snapshot", "DescribeSnapshots", "Owner.1", "self", "snapshotSet",
     1000, 100, awsfake_ec2_snapshot},
    {"security_group", "DescribeSecurityGroups", NULL, NULL,
     "securityGroupInfo", 1000, 100, awsfake_ec2_security_group},
    {"subnet", "DescribeSubnets", NULL, NULL, "subnetSet", 1000, 50,
     awsfake_ec2_subnet},
};
#define NKINDS ARRAY_SIZE(kinds)

/* The calls every scan makes once, whatever the account holds: STS
 * GetCallerIdentity (the account) and EC2 DescribeRegions (what the
 * configured region is checked against). */
#define FIXED_CALLS 2

/* The fewest requests that list n[k] resources of each type. */
static size_t calls_min(const size_t n[NKINDS])
{
	size_t c = FIXED_CALLS;

	for (size_t k = 0; k < NKINDS; k++)
		c += n[k] ? (n[k] + kinds[k].max_page - 1) / kinds[k].max_page
			  : 1; /* an empty listing is a request too */
	return c;
}

/* ----------------------------------------------------------- the server */

/* What the server counts, in memory shared with this process. */
struct server_stats {
	atomic_size_t requests; /* every request answered */
	atomic_size_t errors;	/* of which with an error */
};

/* What the server tells this process once it listens. */
struct server_ready {
	int ok;
	unsigned short port;
	size_t n[NKINDS];
	size_t bytes;
	double gen_s;
};

/* What the server process is to build. */
struct server_args {
	size_t n[NKINDS]; /* resources of each type */
	long latency_ms;
	double churn_pct;
	struct server_stats *stats;
};

struct server {
	struct bench_proc proc;
	struct server_ready ready;
	struct server_stats *stats;
};

/* The server's answer to a churn command. */
struct churn_report {
	size_t created, modified, deleted;
	size_t n[NKINDS]; /* resources of each type now */
};

/* The records of one type, in listing order. */
struct record_set {
	const struct kind *k;
	size_t *num;   /* each record's number: its ids derive from it */
	unsigned *rev; /* 0 as generated; + 1 for each change */
	size_t n, next;
	struct buf xml; /* the records' <item>s, one after another */
	size_t *off;	/* n + 1 offsets into xml */
};

struct server_state {
	struct record_set sets[NKINDS];
	pthread_rwlock_t lock; /* churn writes, requests read */
	struct server_stats *stats;
	long latency_ms;
	double churn_pct;
	int reply; /* answers to control commands */
};

static void set_build(struct record_set *s)
{
	struct xw w = {&s->xml, 2, 0};

	buf_reset(&s->xml);
	s->off = xrealloc(s->off, st_mult(s->n + 1, sizeof(*s->off)));
	for (size_t j = 0; j < s->n; j++) {
		s->off[j] = s->xml.len;
		s->k->gen(&w, s->num[j], s->rev[j]);
	}
	s->off[s->n] = s->xml.len;
	if (w.rc)
		bench_die("%s records: %s", s->k->type, elava_strerror(w.rc));
}

static void set_init(struct record_set *s, const struct kind *k, size_t n)
{
	memset(s, 0, sizeof(*s));
	s->k = k;
	s->n = s->next = n;
	s->num = xcalloc(n ? n : 1, sizeof(*s->num));
	s->rev = xcalloc(n ? n : 1, sizeof(*s->rev));
	for (size_t j = 0; j < n; j++)
		s->num[j] = j;
	buf_init(&s->xml, RECORDS_MAX);
	set_build(s);
}

static void sleep_ms(long ms)
{
	struct timespec ts = {ms / 1000, (ms % 1000) * 1000000L};

	while (ms > 0 && nanosleep(&ts, &ts) && errno == EINTR)
		;
}

static bool fail(struct server_state *st, const struct awsfake_request *rq,
		 const char *code, const char *msg)
{
	atomic_fetch_add(&st->stats->errors, 1);
	return awsfake_reply_ec2_error(rq, code, msg);
}

/* <?xml?><{action}Response><requestId/> */
static int response_head(char *out, size_t n, const char *action)
{
	unsigned seq = (unsigned)awsfake_mix64((uint64_t)time_mono_ns());

	return snprintf(out, n,
			"<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
			"<%sResponse xmlns=\"" AWSFAKE_EC2_NS "\">\n"
			" <requestId>%08x-5ca1-4e1d-b3c4-%012x</requestId>\n",
			action, seq, seq * 2654435761u);
}

/* One page of a type: MaxResults records (at most the API's largest page)
 * from where NextToken says, and a nextToken when more follow. */
static bool describe_page(struct server_state *st, const struct record_set *s,
			  const struct awsfake_request *rq, struct buf *v)
{
	const struct kind *k = s->k;
	size_t first = 0, size = DEFAULT_PAGE, last;
	char head[512], tail[512], tok[AWSFAKE_TOKEN_LEN + 1];
	struct iovec iov[3];
	int hn, tn;

	if (k->param &&
	    (!awsfake_param(rq, k->param, v) || strcmp(v->data, k->value)))
		return fail(st, rq, "InvalidParameterCombination",
			    "The request must ask for the account's own "
			    "records");
	if (awsfake_param(rq, "MaxResults", v)) {
		if (!bench_parse_size(v->data, &size) || size < 5)
			return fail(st, rq, "InvalidParameterValue",
				    "Value for parameter maxResults is "
				    "invalid");
		if (size > k->max_page)
			size = k->max_page;
	}
	if (awsfake_param(rq, "NextToken", v) &&
	    (!awsfake_token_parse(v->data, &first) || first == 0 ||
	     first >= s->n))
		return fail(st, rq, "InvalidParameterValue",
			    "Invalid value for nextToken");
	last = first + size < s->n ? first + size : s->n;
	hn = response_head(head, sizeof(head), k->action);
	hn += snprintf(head + hn, sizeof(head) - (size_t)hn, " <%s>\n", k->set);
	tn = snprintf(tail, sizeof(tail), " </%s>\n", k->set);
	if (last < s->n) {
		awsfake_token(last, tok);
		tn += snprintf(tail + tn, sizeof(tail) - (size_t)tn,
			       " <nextToken>%s</nextToken>\n", tok);
	}
	tn += snprintf(tail + tn, sizeof(tail) - (size_t)tn, "</%sResponse>\n",
		       k->action);
	iov[0] = (struct iovec){head, (size_t)hn};
	iov[1] = (struct iovec){s->xml.data + s->off[first],
				s->off[last] - s->off[first]};
	iov[2] = (struct iovec){tail, (size_t)tn};
	return awsfake_reply_iov(rq, 200, "AmazonEC2", iov, 3);
}

static bool handle(const struct awsfake_request *rq, void *ud)
{
	struct server_state *st = ud;
	struct buf action = BUF_INIT, v = BUF_INIT;
	bool ok;

	buf_init(&action, 0);
	buf_init(&v, 0);
	awsfake_param(rq, "Action", &action);
	atomic_fetch_add(&st->stats->requests, 1);
	if (!action.len) {
		ok = fail(st, rq, "MissingAction", "The request has no Action");
	} else if (!strcmp(action.data, "GetCallerIdentity")) {
		ok = awsfake_reply_caller_identity(rq);
	} else if (!strncmp(action.data, "Describe", 8)) {
		const struct record_set *s = NULL;
		for (size_t k = 0; k < NKINDS && !s; k++)
			if (!strcmp(action.data, kinds[k].action))
				s = &st->sets[k];
		sleep_ms(st->latency_ms);
		pthread_rwlock_rdlock(&st->lock);
		if (s)
			ok = describe_page(st, s, rq, &v);
		else if (!strcmp(action.data, "DescribeRegions"))
			ok = awsfake_reply_describe_regions(rq);
		else
			ok = fail(st, rq, "InvalidAction",
				  "This account's bench has no such records");
		pthread_rwlock_unlock(&st->lock);
	} else {
		ok = fail(st, rq, "InvalidAction",
			  "The action is not valid for this web service");
	}
	buf_release(&action);
	buf_release(&v);
	return ok;
}

/* Drop the records marked DELETED, keeping the order of the rest. */
static void set_compact(struct record_set *s)
{
	size_t o = 0;

	for (size_t j = 0; j < s->n; j++)
		if (s->rev[j] != DELETED) {
			s->num[o] = s->num[j];
			s->rev[o++] = s->rev[j];
		}
	s->n = o;
}

static void set_add(struct record_set *s, size_t count)
{
	s->num = xrealloc(s->num, st_mult(s->n + count, sizeof(*s->num)));
	s->rev = xrealloc(s->rev, st_mult(s->n + count, sizeof(*s->rev)));
	for (size_t j = 0; j < count; j++) {
		s->num[s->n] = s->next++;
		s->rev[s->n++] = 0;
	}
}

/*
 * Change churn_pct% of the resources: 60% modified, 20% deleted, 20%
 * created (of the type of a record picked the same way, so the mix
 * stays). The records are picked by a partial Fisher-Yates shuffle of
 * every position, so none is picked twice.
 */
static void churn(struct server_state *st, struct churn_report *cr)
{
	size_t total = 0, k, *pos, added[NKINDS] = {0};

	memset(cr, 0, sizeof(*cr));
	for (size_t t = 0; t < NKINDS; t++)
		total += st->sets[t].n;
	k = (size_t)llround((double)total * st->churn_pct / 100.0);
	k = k < total ? k : total;
	cr->modified = k * 6 / 10;
	cr->created = k * 2 / 10;
	cr->deleted = k - cr->modified - cr->created;
	pos = xcalloc(total ? total : 1, sizeof(*pos));
	for (size_t i = 0; i < total; i++)
		pos[i] = i;
	for (size_t j = 0; j < k; j++) {
		size_t r = j + awsfake_mix64(0xc4u + j) % (total - j);
		size_t p = pos[r], t = 0;

		pos[r] = pos[j];
		pos[j] = p;
		while (p >= st->sets[t].n) /* position -> (type, record) */
			p -= st->sets[t++].n;
		if (j < cr->modified)
			st->sets[t].rev[p]++;
		else if (j < cr->modified + cr->deleted)
			st->sets[t].rev[p] = DELETED;
		else
			added[t]++;
	}
	xfree(pos);
	for (size_t t = 0; t < NKINDS; t++) {
		set_compact(&st->sets[t]);
		set_add(&st->sets[t], added[t]);
		set_build(&st->sets[t]);
		cr->n[t] = st->sets[t].n;
	}
}

static double rusage_cpu_s(const struct rusage *ru)
{
	return (double)ru->ru_utime.tv_sec +
	       (double)ru->ru_utime.tv_usec / 1e6 +
	       (double)ru->ru_stime.tv_sec + (double)ru->ru_stime.tv_usec / 1e6;
}

static double process_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return rusage_cpu_s(&ru);
}

/* A control command: 'c' churn (answers a churn_report), 'u' the CPU
 * this process has used so far (a double, seconds). EOF ends the server. */
static bool on_ctl(int ctl, void *ud)
{
	struct server_state *st = ud;
	struct churn_report cr;
	double cpu;
	ssize_t r;
	char cmd;

	while ((r = read(ctl, &cmd, 1)) < 0 && errno == EINTR)
		;
	if (r != 1)
		return false;
	if (cmd == 'c') {
		pthread_rwlock_wrlock(&st->lock);
		churn(st, &cr);
		pthread_rwlock_unlock(&st->lock);
		return bench_write_all(st->reply, &cr, sizeof(cr));
	}
	cpu = process_cpu_s();
	return cmd == 'u' && bench_write_all(st->reply, &cpu, sizeof(cpu));
}

/* The server process: generate, listen, report, serve until the control
 * pipe closes. Never returns. */
static void server_main(int ctl, int reply, void *arg)
{
	static struct server_state st;
	const struct server_args *a = arg;
	struct awsfake_listener l;
	struct server_ready rd;
	int64_t t0 = time_mono_ns();

	memset(&rd, 0, sizeof(rd));
	st.stats = a->stats;
	st.latency_ms = a->latency_ms;
	st.churn_pct = a->churn_pct;
	st.reply = reply;
	pthread_rwlock_init(&st.lock, NULL);
	for (size_t k = 0; k < NKINDS; k++) {
		set_init(&st.sets[k], &kinds[k], a->n[k]);
		rd.n[k] = a->n[k];
		rd.bytes += st.sets[k].xml.len;
	}
	rd.gen_s = bench_secs_since(t0);
	l.fd = awsfake_listen(&rd.port);
	l.handle = handle;
	l.ud = &st;
	rd.ok = l.fd >= 0;
	if (!bench_write_all(reply, &rd, sizeof(rd)) || !rd.ok)
		_exit(1);
	awsfake_serve(&l, 1, ctl, on_ctl, &st);
}

static void server_start(struct server *srv, struct server_args *a)
{
	memset(srv, 0, sizeof(*srv));
	srv->stats = a->stats = bench_shared_new(sizeof(*srv->stats));
	bench_proc_start(&srv->proc, server_main, a);
	if (!bench_read_all(srv->proc.reply, &srv->ready, sizeof(srv->ready)) ||
	    !srv->ready.ok)
		bench_die("the server did not start");
}

/* Send a command, read its answer. */
static void server_ask(struct server *srv, char cmd, void *answer, size_t n)
{
	if (!bench_write_all(srv->proc.ctl, &cmd, 1) ||
	    !bench_read_all(srv->proc.reply, answer, n))
		bench_die("the server did not answer '%c'", cmd);
}

static void server_stop(struct server *srv)
{
	bench_proc_stop(&srv->proc);
	bench_shared_free(srv->stats, sizeof(*srv->stats));
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
	const char *types[NKINDS];
	struct provider_scope scope = {.regions = regions,
				       .nregions = 1,
				       .types = types,
				       .ntypes = NKINDS};
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
	for (size_t k = 0; k < NKINDS; k++)
		types[k] = kinds[k].type;
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
	struct server srv;
	char *dir;
	/* The scanning process: ctl its go-ahead, reply its reports. */
	struct bench_proc scanner;
};

/* Stop everything started, remove the store, then die. */
static void run_abort(struct run *r, const char *what, const char *msg)
{
	if (r->scanner.pid > 0)
		bench_proc_stop(&r->scanner);
	server_stop(&r->srv);
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
	close(r->srv.proc.ctl);
	close(r->srv.proc.reply);
	scan_child(r->dir, out, go);
}

struct figures {
	size_t n, n2[NKINDS];
	double churn_pct;
	long latency_ms;
	struct scan_out s1, s2;
	struct churn_report cr;
	size_t calls1, calls2, errors;
	double server_cpu_s;
	long maxrss_kb;
	double store_mb;
};

static void print_json(const struct figures *f, const struct server_ready *rd)
{
	size_t introduced = f->cr.created + f->cr.modified + f->cr.deleted;
	size_t detected = f->s2.created + f->s2.modified + f->s2.disappeared;

	printf("{\"resources\":%zu,\"types\":{", f->n);
	for (size_t k = 0; k < NKINDS; k++)
		printf("%s\"%s\":%zu", k ? "," : "", kinds[k].type, rd->n[k]);
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
	       f->calls2, f->calls1, f->calls2, calls_min(f->n2),
	       calls_min(rd->n), f->errors);
	printf("\"churn_introduced\":%zu,\"churn_created\":%zu,"
	       "\"churn_modified\":%zu,\"churn_deleted\":%zu,"
	       "\"changes_detected\":%zu,\"detected_created\":%zu,"
	       "\"detected_modified\":%zu,\"detected_disappeared\":%zu,"
	       "\"changes_match\":%s}\n",
	       introduced, f->cr.created, f->cr.modified, f->cr.deleted,
	       detected, f->s2.created, f->s2.modified, f->s2.disappeared,
	       detected == introduced ? "true" : "false");
}

static void print_text(const struct figures *f, const struct server_ready *rd)
{
	size_t introduced = f->cr.created + f->cr.modified + f->cr.deleted;
	size_t detected = f->s2.created + f->s2.modified + f->s2.disappeared;
	long anon = f->s1.rss_anon_kb > f->s2.rss_anon_kb ? f->s1.rss_anon_kb
							  : f->s2.rss_anon_kb;

	printf("scan: %zu resources of %zu EC2 types in " AWSFAKE_REGION
	       " (%.1f MB of XML), %g%% churn, %ld ms a Describe call\n",
	       f->n, NKINDS, (double)rd->bytes / 1e6, f->churn_pct,
	       f->latency_ms);
	printf("  first scan        %8.3f s   baseline; %zu API calls "
	       "(fewest possible %zu)\n",
	       f->s1.wall_s, f->calls1, calls_min(rd->n));
	printf("  second scan       %8.3f s   %zu API calls (fewest possible "
	       "%zu)\n",
	       f->s2.wall_s, f->calls2, calls_min(f->n2));
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
	struct server_args sa;
	size_t latency = 0, placed = 0;
	double cpu0, cpu1;
	bool json = false, ok = true;
	struct rusage ru;
	struct stat sb;
	char path[PATH_MAX];
	int c, st;

	memset(&f, 0, sizeof(f));
	memset(&r, 0, sizeof(r));
	memset(&sa, 0, sizeof(sa));
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
	for (size_t k = 0; k < NKINDS; k++)
		placed += sa.n[k] = f.n * kinds[k].per_mille / 1000;
	sa.n[0] += f.n - placed;
	sa.latency_ms = f.latency_ms;
	sa.churn_pct = f.churn_pct;

	/* The server process generates the records: this one stays small, so
	 * the scanning child forked from it starts small too. */
	server_start(&r.srv, &sa);
	awsfake_env(r.srv.ready.port);
	r.dir = bench_tmpdir_in(store_base, "scan");
	bench_proc_start(&r.scanner, scanner_main, &r);

	read_scan(&r, 0, &f.s1);
	f.calls1 = atomic_load(&r.srv.stats->requests);
	if (!f.s1.baseline || f.s1.resources != f.n)
		run_abort(&r, "first scan", "not a baseline of every resource");
	server_ask(&r.srv, 'c', &f.cr, sizeof(f.cr));
	memcpy(f.n2, f.cr.n, sizeof(f.n2));
	server_ask(&r.srv, 'u', &cpu0, sizeof(cpu0));
	size_t before = atomic_load(&r.srv.stats->requests);
	if (!bench_write_all(r.scanner.ctl, "g", 1))
		run_abort(&r, "second scan", "the scanning process is gone");
	read_scan(&r, 1, &f.s2);
	f.calls2 = atomic_load(&r.srv.stats->requests) - before;
	server_ask(&r.srv, 'u', &cpu1, sizeof(cpu1));
	f.server_cpu_s = cpu1 - cpu0;
	f.errors = atomic_load(&r.srv.stats->errors);
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
	server_stop(&r.srv);
	bench_rmtree(r.dir);
	free(r.dir);
	if (json)
		print_json(&f, &r.srv.ready);
	else
		print_text(&f, &r.srv.ready);
	return 0;
}
