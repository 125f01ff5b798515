/*
 * awsfake_account: the generated account's server process. It builds each
 * type's records once (as the XML its Describe* call returns, one <item>
 * after another, with offsets), so a page is three iovecs; a churn rebuilds
 * them under a write lock while requests read under a read lock. Control
 * commands arrive on a pipe: 'c' churn (answers a struct awsfake_churn),
 * 'u' CPU used so far (a double), 'l' + a long: the latency from now on.
 */
#include "awsfake_account.h"

#include <errno.h>
#include <limits.h>
#include <math.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

#define RECORDS_MAX  ((size_t)8 << 30) /* one type's generated records */
#define DEFAULT_PAGE 1000	       /* a request without MaxResults */
#define DELETED	     UINT_MAX	       /* a rev marking a record to remove */

/* An instance comes in a reservation of its own. */
static void gen_reservation(struct xw *w, size_t i, unsigned rev)
{
	awsfake_ec2_reservation(w, i, 1, rev);
}

const struct awsfake_kind awsfake_kinds[AWSFAKE_NKINDS] = {
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

void awsfake_account_split(size_t n, size_t out[AWSFAKE_NKINDS])
{
	size_t placed = 0;

	for (size_t k = 0; k < AWSFAKE_NKINDS; k++)
		placed += out[k] = n * awsfake_kinds[k].per_mille / 1000;
	out[0] += n - placed;
}

/* STS GetCallerIdentity and EC2 DescribeRegions: once a scan. */
#define FIXED_CALLS 2

size_t awsfake_account_calls_min(const size_t n[AWSFAKE_NKINDS])
{
	size_t c = FIXED_CALLS;

	for (size_t k = 0; k < AWSFAKE_NKINDS; k++) {
		size_t mp = awsfake_kinds[k].max_page;
		c += n[k] ? (n[k] + mp - 1) / mp : 1; /* empty: one request */
	}
	return c;
}

/* ------------------------------------------------------- the records */

/* The records of one type, in listing order. */
struct record_set {
	const struct awsfake_kind *k;
	size_t *num;   /* each record's number: its ids derive from it */
	unsigned *rev; /* 0 as generated; + 1 for each change */
	size_t n, next;
	struct buf xml; /* the records' <item>s, one after another */
	size_t *off;	/* n + 1 offsets into xml */
};

struct server_state {
	struct record_set sets[AWSFAKE_NKINDS];
	pthread_rwlock_t lock; /* churn writes, requests read */
	struct awsfake_account_stats *stats;
	atomic_long latency_ms;
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

static void set_init(struct record_set *s, const struct awsfake_kind *k,
		     size_t n)
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
static void churn(struct server_state *st, struct awsfake_churn *cr)
{
	size_t total = 0, k, *pos, added[AWSFAKE_NKINDS] = {0};

	memset(cr, 0, sizeof(*cr));
	for (size_t t = 0; t < AWSFAKE_NKINDS; t++)
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
	for (size_t t = 0; t < AWSFAKE_NKINDS; t++) {
		set_compact(&st->sets[t]);
		set_add(&st->sets[t], added[t]);
		set_build(&st->sets[t]);
		cr->n[t] = st->sets[t].n;
	}
}

/* --------------------------------------------------------- requests */

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
	const struct awsfake_kind *k = s->k;
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
		for (size_t k = 0; k < AWSFAKE_NKINDS && !s; k++)
			if (!strcmp(action.data, awsfake_kinds[k].action))
				s = &st->sets[k];
		sleep_ms(atomic_load(&st->latency_ms));
		pthread_rwlock_rdlock(&st->lock);
		if (s)
			ok = describe_page(st, s, rq, &v);
		else if (!strcmp(action.data, "DescribeRegions"))
			ok = awsfake_reply_describe_regions(rq);
		else
			ok = fail(st, rq, "InvalidAction",
				  "This account has no such records");
		pthread_rwlock_unlock(&st->lock);
	} else {
		ok = fail(st, rq, "InvalidAction",
			  "The action is not valid for this web service");
	}
	buf_release(&action);
	buf_release(&v);
	return ok;
}

/* ------------------------------------------------------- the process */

static double process_cpu_s(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (double)ru.ru_utime.tv_sec + (double)ru.ru_utime.tv_usec / 1e6 +
	       (double)ru.ru_stime.tv_sec + (double)ru.ru_stime.tv_usec / 1e6;
}

/* A control command (see the top of the file); EOF ends the server. */
static bool on_ctl(int ctl, void *ud)
{
	struct server_state *st = ud;
	struct awsfake_churn cr;
	double cpu;
	long ms;
	char cmd;

	if (!bench_read_all(ctl, &cmd, 1))
		return false;
	switch (cmd) {
	case 'c':
		pthread_rwlock_wrlock(&st->lock);
		churn(st, &cr);
		pthread_rwlock_unlock(&st->lock);
		return bench_write_all(st->reply, &cr, sizeof(cr));
	case 'u':
		cpu = process_cpu_s();
		return bench_write_all(st->reply, &cpu, sizeof(cpu));
	case 'l':
		if (!bench_read_all(ctl, &ms, sizeof(ms)))
			return false;
		atomic_store(&st->latency_ms, ms);
		return bench_write_all(st->reply, "k", 1);
	default: return false;
	}
}

/* What the forked server is given. */
struct server_args {
	const struct awsfake_account_options *o;
	struct awsfake_account_stats *stats;
};

/* Generate, listen, report, serve until the control pipe closes. */
static void server_main(int ctl, int reply, void *arg)
{
	static struct server_state st;
	const struct server_args *a = arg;
	struct awsfake_listener l;
	struct awsfake_account_ready rd;
	int64_t t0 = time_mono_ns();

	memset(&rd, 0, sizeof(rd));
	st.stats = a->stats;
	atomic_init(&st.latency_ms, a->o->latency_ms);
	st.churn_pct = a->o->churn_pct;
	st.reply = reply;
	pthread_rwlock_init(&st.lock, NULL);
	for (size_t k = 0; k < AWSFAKE_NKINDS; k++) {
		set_init(&st.sets[k], &awsfake_kinds[k], a->o->n[k]);
		rd.n[k] = a->o->n[k];
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

void awsfake_account_start(struct awsfake_account *a,
			   const struct awsfake_account_options *o)
{
	struct server_args sa;

	memset(a, 0, sizeof(*a));
	a->stats = bench_shared_new(sizeof(*a->stats));
	sa.o = o;
	sa.stats = a->stats;
	bench_proc_start(&a->proc, server_main, &sa);
	if (!bench_read_all(a->proc.reply, &a->ready, sizeof(a->ready)) ||
	    !a->ready.ok)
		bench_die("the fake AWS server did not start");
}

/* Send a command (and its argument), read its answer. */
static void ask(struct awsfake_account *a, char cmd, const void *arg,
		size_t argn, void *answer, size_t n)
{
	if (!bench_write_all(a->proc.ctl, &cmd, 1) ||
	    (argn && !bench_write_all(a->proc.ctl, arg, argn)) ||
	    !bench_read_all(a->proc.reply, answer, n))
		bench_die("the fake AWS server did not answer '%c'", cmd);
}

void awsfake_account_churn(struct awsfake_account *a, struct awsfake_churn *c)
{
	ask(a, 'c', NULL, 0, c, sizeof(*c));
}

double awsfake_account_cpu_s(struct awsfake_account *a)
{
	double cpu;

	ask(a, 'u', NULL, 0, &cpu, sizeof(cpu));
	return cpu;
}

void awsfake_account_set_latency(struct awsfake_account *a, long ms)
{
	char ok;

	ask(a, 'l', &ms, sizeof(ms), &ok, 1);
}

void awsfake_account_stop(struct awsfake_account *a)
{
	if (!a->stats)
		return;
	bench_proc_stop(&a->proc);
	bench_shared_free(a->stats, sizeof(*a->stats));
	a->stats = NULL;
}
