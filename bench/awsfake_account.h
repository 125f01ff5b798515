/*
 * awsfake_account — a generated AWS account served by awsfake: N resources
 * of six EC2 types (30% instances, 30% volumes, 15% network interfaces,
 * 10% snapshots, 10% security groups, 5% subnets), each type answered by
 * its Describe* call, paged at the MaxResults the request asks for (capped
 * at what the API allows) with nextToken, plus STS GetCallerIdentity and
 * EC2 DescribeRegions, over HTTP/1.1 keep-alive on loopback. The server
 * runs in a process of its own, forked while the caller is small; the
 * caller changes the account (churn) and the server's per-call latency
 * over a control pipe. The scan and serve benchmarks both use it.
 */
#ifndef ELAVA_BENCH_AWSFAKE_ACCOUNT_H
#define ELAVA_BENCH_AWSFAKE_ACCOUNT_H

#include <stdatomic.h>
#include <stddef.h>

#include "awsfake.h"
#include "bench.h"

/* One type of the account. */
struct awsfake_kind {
	const char *type;   /* Elava's */
	const char *action; /* its Describe* call */
	/* A parameter the lister must send, and its value (or NULL). */
	const char *param, *value;
	const char *set;    /* the element the records are in */
	size_t max_page;    /* the largest page the API returns */
	unsigned per_mille; /* of the account's resources */
	void (*gen)(struct xw *w, size_t i, unsigned rev);
};

#define AWSFAKE_NKINDS 6
extern const struct awsfake_kind awsfake_kinds[AWSFAKE_NKINDS];

/* Split n resources over the types by their share (the rounding goes to
 * instances). */
void awsfake_account_split(size_t n, size_t out[AWSFAKE_NKINDS]);
/* The fewest requests that list n[k] resources of each type, STS and
 * DescribeRegions included. */
size_t awsfake_account_calls_min(const size_t n[AWSFAKE_NKINDS]);

/* What the server counts, in memory shared with the caller. */
struct awsfake_account_stats {
	atomic_size_t requests; /* every request answered */
	atomic_size_t errors;	/* of which with an error */
};

/* What the server says once it listens. */
struct awsfake_account_ready {
	int ok;
	unsigned short port;
	size_t n[AWSFAKE_NKINDS];
	size_t bytes; /* of generated XML */
	double gen_s; /* generating it took */
};

/* What the server is to build. */
struct awsfake_account_options {
	size_t n[AWSFAKE_NKINDS]; /* resources of each type */
	long latency_ms;	  /* before answering each Describe* call */
	double churn_pct;	  /* of the resources, at each churn */
};

/* A churn's changes, and the resources of each type after it. */
struct awsfake_churn {
	size_t created, modified, deleted;
	size_t n[AWSFAKE_NKINDS];
};

struct awsfake_account {
	struct bench_proc proc;
	struct awsfake_account_ready ready;
	struct awsfake_account_stats *stats; /* shared with the server */
};

/* Fork the server, wait until it listens. Dies on failure. */
void awsfake_account_start(struct awsfake_account *a,
			   const struct awsfake_account_options *o);
/*
 * Change churn_pct% of the resources: 60% modified (an instance stopped or
 * started, a record of another type retagged), 20% deleted, 20% created.
 * Returns when the new listings are served. Dies if the server is gone.
 */
void awsfake_account_churn(struct awsfake_account *a, struct awsfake_churn *c);
/* The server's CPU time so far, seconds. */
double awsfake_account_cpu_s(struct awsfake_account *a);
/* Wait ms before answering each Describe* call from now on. */
void awsfake_account_set_latency(struct awsfake_account *a, long ms);
/* End the server and free the shared counters. */
void awsfake_account_stop(struct awsfake_account *a);

#endif
