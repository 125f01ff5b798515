/*
 * elava-bench store: measures the MVCC store on realistic resources (about
 * 1 KB of canonical JSON, 5-15 tags, nested attributes): the first full
 * scan, steady-state scans with P% churn, the growth of a scan where
 * nothing changed, time travel, history, compaction, and plain LMDB puts
 * of the same bytes as the physical limit.
 */
#include "bench.h"

#include <getopt.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"

static const char *const types[] = {
    "ec2_instance", "ebs_volume", "ebs_snapshot", "security_group",
    "subnet",	    "s3_bucket",  "rds_instance", "lambda_function",
    "iam_role",	    "sqs_queue",
};
static const char *const regions[] = {"us-east-1", "eu-west-1"};
static const char *const tag_names[] = {
    "Name",    "Env",	  "Team",      "CostCenter", "Owner",
    "Service", "Project", "ManagedBy", "Backup",     "Component",
    "Version", "Tier",	  "DataClass", "Compliance", "Schedule",
};

#define ACCOUNT "123456789012"

/* Resource i at version ver (ver changes a tag and an attribute). */
static void gen(size_t i, unsigned ver, struct resource *r)
{
	const char *type = types[i % ARRAY_SIZE(types)];
	char id[64], val[160], attrs[1400];
	size_t ntags = 5 + (i * 7919) % 11;

	resource_release(r);
	resource_init(r);
	snprintf(id, sizeof(id), "%.3s-%017zx", type, i * 2654435761u);
	resource_set(&r->provider, "aws");
	resource_set(&r->account, ACCOUNT);
	resource_set(&r->region, regions[(i / ARRAY_SIZE(types)) % 2]);
	resource_set(&r->type, type);
	resource_set(&r->id, id);
	snprintf(val, sizeof(val), "%s-web-%zu", type, i % 5000);
	resource_set(&r->name, val);
	resource_set(&r->status, ver % 2 ? "stopped" : "running");
	r->created_at_ns = 1700000000000000000LL + (int64_t)i * 1000000000LL;
	for (size_t t = 0; t < ntags; t++) {
		snprintf(val, sizeof(val), "%s-value-%zu-%s", tag_names[t],
			 (i + t) % 97, t == 1 ? "production" : "platform-team");
		resource_tag_set(r, tag_names[t], val);
	}
	snprintf(val, sizeof(val), "2026-11-%02u", 1 + ver % 28);
	resource_tag_set(r, "LastChange", val);
	snprintf(attrs, sizeof(attrs),
		 "{\"instance_type\":\"m5.%s\",\"image_id\":\"ami-%08zx\","
		 "\"vpc_id\":\"vpc-%06zx\",\"subnet_id\":\"subnet-%08zx\","
		 "\"private_ip\":\"10.%zu.%zu.%zu\",\"monitoring\":%s,"
		 "\"ebs_optimized\":true,\"architecture\":\"x86_64\","
		 "\"security_groups\":[\"sg-%06zx\",\"sg-%06zx\"],"
		 "\"block_devices\":[{\"device\":\"/dev/xvda\",\"volume_id\":"
		 "\"vol-%010zx\",\"size_gb\":%zu,\"encrypted\":true,"
		 "\"delete_on_termination\":true},{\"device\":\"/dev/xvdb\","
		 "\"volume_id\":\"vol-%010zx\",\"size_gb\":%zu,\"encrypted\":"
		 "false,\"delete_on_termination\":false}],"
		 "\"placement\":{\"availability_zone\":\"%s%c\",\"tenancy\":"
		 "\"default\"},\"revision\":%u,\"public_exposure\":%s}",
		 ver % 3 ? "large" : "xlarge", i, i % 50, i % 400, i % 250,
		 (i / 250) % 250, i % 7 + 4, i % 2 ? "true" : "false", i % 900,
		 i % 901, i, 8 + i % 100, i + 1, 100 + i % 400,
		 regions[(i / ARRAY_SIZE(types)) % 2], (char)('a' + i % 3), ver,
		 i % 13 ? "false" : "true");
	ejson_free(&r->attributes);
	if (ejson_parse(attrs, strlen(attrs), &r->attributes, NULL)) {
		fprintf(stderr, "bench: bad generated attributes\n");
		exit(1);
	}
}

struct bench_state {
	size_t n; /* resource slots (created ones are appended) */
	size_t cap;
	struct resource_encoded *enc;
	unsigned *ver;
	bool *alive;
	struct resource scratch;
};

/* Build resource i at its current version into enc[i], via scratch. */
static void encode_with(struct bench_state *b, size_t i,
			struct resource *scratch)
{
	struct elava_error err = {0};

	gen(i, b->ver[i], scratch);
	if (resource_encode(scratch, NULL, &b->enc[i], &err)) {
		fprintf(stderr, "bench: encode: %s\n", err.msg);
		exit(1);
	}
}

static void encode(struct bench_state *b, size_t i)
{
	encode_with(b, i, &b->scratch);
}

struct encode_job {
	struct bench_state *b;
	size_t from, to;
};

/* Encoding a million records is the slow part of setting up: use both
 * cores. Each thread has its own scratch record. */
static void *encode_range(void *arg)
{
	struct encode_job *j = arg;
	struct resource r;

	resource_init(&r);
	for (size_t i = j->from; i < j->to; i++)
		encode_with(j->b, i, &r);
	resource_release(&r);
	return NULL;
}

static void die(const char *what, const struct elava_error *err)
{
	fprintf(stderr, "elava-bench store: %s: %s\n", what, err->msg);
	exit(1);
}

struct scan_timing {
	double begin_ms, add_ms, commit_ms, total_ms;
	struct store_scan_result res;
	size_t index_bytes;
};

static double ms_since(int64_t t0)
{
	return (double)(time_mono_ns() - t0) / 1e6;
}

/* One scan of every alive resource; all scopes listed completely. */
static struct scan_timing run_scan(struct store *s, struct bench_state *b)
{
	struct scan_timing t;
	struct elava_error err = {0};
	struct store_scan *sc = NULL;
	int64_t t0 = time_mono_ns(), t1;

	memset(&t, 0, sizeof(t));
	if (store_scan_begin(s, &sc, &err))
		die("scan begin", &err);
	t.begin_ms = ms_since(t0);
	t1 = time_mono_ns();
	for (size_t i = 0; i < b->n; i++)
		if (b->alive[i] && store_scan_add_encoded(sc, &b->enc[i], &err))
			die("scan add", &err);
	for (size_t r = 0; r < ARRAY_SIZE(regions); r++)
		for (size_t k = 0; k < ARRAY_SIZE(types); k++) {
			char scope[128];
			snprintf(scope, sizeof(scope), "aws:%s:%s:%s", ACCOUNT,
				 regions[r], types[k]);
			store_scan_scope_complete(sc, scope);
		}
	t.add_ms = ms_since(t1);
	t.index_bytes = store_scan_index_bytes(sc);
	t1 = time_mono_ns();
	if (store_scan_commit(sc, &t.res, &err))
		die("scan commit", &err);
	t.commit_ms = ms_since(t1);
	t.total_ms = ms_since(t0);
	store_scan_free(&sc);
	return t;
}

static int count_item(const struct store_item *it, void *ud)
{
	(void)it;
	(*(size_t *)ud)++;
	return 0;
}

static int count_change(const struct store_change *c, void *ud)
{
	(void)c;
	(*(size_t *)ud)++;
	return 0;
}

static uint64_t rng_state = 88172645463325252ULL;
static uint64_t rnd(void)
{
	rng_state ^= rng_state << 13;
	rng_state ^= rng_state >> 7;
	rng_state ^= rng_state << 17;
	return rng_state;
}

int bench_store(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"resources", required_argument, NULL, 'n'},
	    {"churn-pct", required_argument, NULL, 'p'},
	    {"scans", required_argument, NULL, 'k'},
	    {"json", no_argument, NULL, 'j'},
	    {"verbose", no_argument, NULL, 'v'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	size_t n = 100000, scans = 10;
	double churn = 1.0;
	bool json = false;
	struct bench_state b;
	struct elava_error err = {0};
	struct store_options so = {0};
	struct store *s = NULL;
	struct store_stat st0, st1;
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n': n = strtoull(optarg, NULL, 10); break;
		case 'p': churn = strtod(optarg, NULL); break;
		case 'k': scans = strtoull(optarg, NULL, 10); break;
		case 'j': json = true; break;
		case 'v': log_configure(LOG_DEBUG, LOG_FORMAT_TEXT); break;
		case 'h':
			printf("usage: elava-bench store [--resources N] "
			       "[--churn-pct P] [--scans K] [--json]\n");
			return 0;
		default: return 2;
		}
	}
	if (n == 0 || scans == 0 || churn < 0 || churn > 100) {
		fprintf(stderr, "elava-bench store: invalid arguments\n");
		return 2;
	}
	size_t per_scan = (size_t)((double)n * churn / 100.0);
	size_t births = per_scan / 5 + 1, deaths = per_scan / 5 + 1;

	/* Build and fingerprint everything up front (not measured as the
	 * store's work; reported separately). */
	memset(&b, 0, sizeof(b));
	b.n = n;
	b.cap = n + births * (scans + 4);
	b.enc = xcalloc(b.cap, sizeof(*b.enc));
	b.ver = xcalloc(b.cap, sizeof(*b.ver));
	b.alive = xcalloc(b.cap, sizeof(*b.alive));
	resource_init(&b.scratch);
	int64_t t0 = time_mono_ns();
	for (size_t i = 0; i < b.cap; i++)
		resource_encoded_init(&b.enc[i]);
	size_t json_bytes = 0;
	struct encode_job jobs[2] = {{&b, 0, n / 2}, {&b, n / 2, n}};
	pthread_t th;
	if (pthread_create(&th, NULL, encode_range, &jobs[1])) {
		encode_range(&jobs[0]);
		encode_range(&jobs[1]);
	} else {
		encode_range(&jobs[0]);
		pthread_join(th, NULL);
	}
	for (size_t i = 0; i < n; i++) {
		json_bytes += b.enc[i].json.len;
		b.alive[i] = true;
	}
	double encode_per_s = (double)n / ((double)(time_mono_ns() - t0) / 1e9);

	char *dir = bench_tmpdir("store");
	char raw_dir[4200], store_dir[4200];
	snprintf(raw_dir, sizeof(raw_dir), "%s/raw", dir);
	snprintf(store_dir, sizeof(store_dir), "%s/store", dir);
	/* The sorted pass runs on a fresh directory too. The sort itself is
	 * outside the measurement. */
	double raw_per_s, raw_random_per_s;
	if (store_calibrate_raw_puts(raw_dir, b.enc, n, false,
				     &raw_random_per_s, &err))
		die("raw puts", &err);
	bench_rmtree(raw_dir);
	if (store_calibrate_raw_puts(raw_dir, b.enc, n, true, &raw_per_s, &err))
		die("raw puts", &err);
	bench_rmtree(raw_dir);

	so.path = store_dir;
	if (store_open(&so, &s, &err))
		die("open", &err);
	struct scan_timing ingest = run_scan(s, &b);
	double ingest_per_s = (double)n / (ingest.total_ms / 1000.0);

	/* Steady state: modify per_scan, create births, delete deaths. */
	double *commit_ms = xcalloc(scans, sizeof(double));
	struct scan_timing last = {0};
	size_t changes_seen = 0;
	for (size_t k = 0; k < scans; k++) {
		for (size_t m = 0; m < per_scan; m++) {
			size_t i = rnd() % b.n;
			if (!b.alive[i])
				continue;
			b.ver[i]++;
			encode(&b, i);
		}
		for (size_t m = 0; m < births && b.n < b.cap; m++) {
			encode(&b, b.n);
			b.alive[b.n++] = true;
		}
		for (size_t m = 0; m < deaths; m++)
			b.alive[rnd() % b.n] = false;
		last = run_scan(s, &b);
		commit_ms[k] = last.total_ms;
		changes_seen +=
		    last.res.created + last.res.modified + last.res.disappeared;
	}
	double p50 = bench_percentile(commit_ms, scans, 50);
	double pmax = commit_ms[scans - 1];

	/*
	 * Scans where nothing changed: growth of the pages in use (LMDB's
	 * high-water mark minus its free list), averaged over ten such scans
	 * since the small metadata records fill a page now and then.
	 */
	uint64_t unchanged_bytes = 0, unchanged_max = 0;
	const int unchanged_runs = 10;
	if (store_stat(s, &st0, &err))
		die("stat", &err);
	uint64_t live_start = st0.used_bytes - st0.free_bytes;
	for (int r = 0; r < unchanged_runs; r++) {
		if (store_stat(s, &st0, &err))
			die("stat", &err);
		run_scan(s, &b);
		if (store_stat(s, &st1, &err))
			die("stat", &err);
		uint64_t live0 = st0.used_bytes - st0.free_bytes;
		uint64_t live1 = st1.used_bytes - st1.free_bytes;
		uint64_t grew = live1 > live0 ? live1 - live0 : 0;
		if (grew > unchanged_max)
			unchanged_max = grew;
	}
	uint64_t live_end = st1.used_bytes - st1.free_bytes;
	if (live_end > live_start)
		unchanged_bytes = (live_end - live_start) / unchanged_runs;

	/* Time travel to the oldest revision. */
	size_t count = 0;
	t0 = time_mono_ns();
	if (store_inventory(s, 1, NULL, count_item, &count, &err))
		die("inventory", &err);
	double at_rev_ms = ms_since(t0);

	/* History of random resources. */
	size_t hsamples = 1000;
	double *hist_us = xcalloc(hsamples, sizeof(double));
	for (size_t h = 0; h < hsamples; h++) {
		size_t i = rnd() % n, nver = 0;
		t0 = time_mono_ns();
		if (store_history(s, b.enc[i].key.data, count_change, &nver,
				  &err))
			die("history", &err);
		hist_us[h] = (double)(time_mono_ns() - t0) / 1e3;
	}
	double hist_p50 = bench_percentile(hist_us, hsamples, 50);

	/* Compact away all but the last half of the history. */
	uint64_t cur;
	store_current_revision(s, &cur, &err);
	struct store_compact_result cr;
	t0 = time_mono_ns();
	if (store_compact(s, cur - scans / 2, &cr, &err))
		die("compact", &err);
	double compact_ms = ms_since(t0);
	if (store_stat(s, &st1, &err))
		die("stat", &err);

	double idx_per_res = (double)ingest.index_bytes / (double)n;
	if (json) {
		printf(
		    "{\"resources\":%zu,\"churn_pct\":%g,\"scans\":%zu,"
		    "\"avg_json_bytes\":%.0f,\"encode_per_s\":%.0f,"
		    "\"ingest_per_s\":%.0f,\"ingest_begin_ms\":%.1f,"
		    "\"ingest_add_ms\":%.1f,\"ingest_commit_ms\":%.1f,"
		    "\"raw_lmdb_put_per_s\":%.0f,\"raw_lmdb_put_random_per_s\":%.0f,"
		    "\"scan_commit_ms_p50\":%.1f,\"scan_commit_ms_max\":%.1f,"
		    "\"last_scan_begin_ms\":%.1f,\"last_scan_add_ms\":%.1f,"
		    "\"last_scan_commit_ms\":%.1f,\"changes_per_scan\":%.0f,"
		    "\"unchanged_scan_bytes\":%llu,\"unchanged_scan_bytes_max\":%llu,"
		    "\"at_revision_ms\":%.1f,"
		    "\"at_revision_resources\":%zu,\"history_us_p50\":%.1f,"
		    "\"compact_ms\":%.1f,\"compact_versions_removed\":%llu,"
		    "\"db_bytes\":%llu,\"db_used_bytes\":%llu,"
		    "\"index_bytes_per_resource\":%.1f,"
		    "\"peak_rss_bytes\":%zu}\n",
		    n, churn, scans, (double)json_bytes / (double)n,
		    encode_per_s, ingest_per_s, ingest.begin_ms, ingest.add_ms,
		    ingest.commit_ms, raw_per_s, raw_random_per_s, p50, pmax,
		    last.begin_ms, last.add_ms, last.commit_ms,
		    (double)changes_seen / (double)scans,
		    (unsigned long long)unchanged_bytes,
		    (unsigned long long)unchanged_max, at_rev_ms, count,
		    hist_p50, compact_ms,
		    (unsigned long long)cr.versions_removed,
		    (unsigned long long)st1.file_bytes,
		    (unsigned long long)st1.used_bytes, idx_per_res,
		    bench_peak_rss());
	} else {
		printf("resources            %zu (avg %.0f bytes JSON)\n", n,
		       (double)json_bytes / (double)n);
		printf("encode               %.0f /s (not store work)\n",
		       encode_per_s);
		printf("ingest               %.0f /s (begin %.1f, add %.1f, "
		       "commit %.1f ms)\n",
		       ingest_per_s, ingest.begin_ms, ingest.add_ms,
		       ingest.commit_ms);
		printf(
		    "raw lmdb puts        %.0f /s sorted, %.0f /s as given\n",
		    raw_per_s, raw_random_per_s);
		printf("scan (churn %.2g%%)   p50 %.1f ms, max %.1f ms\n",
		       churn, p50, pmax);
		printf("unchanged scan       %llu bytes\n",
		       (unsigned long long)unchanged_bytes);
		printf("inventory at rev 1   %.1f ms (%zu resources)\n",
		       at_rev_ms, count);
		printf("history p50          %.1f us\n", hist_p50);
		printf("compact              %.1f ms (%llu versions removed)\n",
		       compact_ms, (unsigned long long)cr.versions_removed);
		printf("db                   %llu bytes\n",
		       (unsigned long long)st1.file_bytes);
		printf("index                %.1f bytes/resource\n",
		       idx_per_res);
	}

	store_close(&s);
	bench_rmtree(dir);
	free(dir);
	for (size_t i = 0; i < b.cap; i++)
		resource_encoded_release(&b.enc[i]);
	resource_release(&b.scratch);
	xfree(b.enc);
	xfree(b.ver);
	xfree(b.alive);
	xfree(commit_ms);
	xfree(hist_us);
	return 0;
}
