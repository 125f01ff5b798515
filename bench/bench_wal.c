/*
 * elava-bench wal — throughput and latency of the audit WAL on this disk:
 * group-commit appends of realistic ~300-byte entries (one fdatasync per
 * batch), the latency of one entry + one fdatasync (what a lone executor
 * step pays), and the read side: verify (hash chain) and replay. Uses a
 * scratch directory under $TMPDIR and removes it afterwards.
 */
#include "bench.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "wal/wal.h"

#define POOL 1024

struct pool {
	char res[POOL][96];
	char data[POOL][224];
};

/* Entries shaped like what the engine writes: a resource key and a
 * decision/observation record with a fingerprint. */
static void pool_fill(struct pool *p)
{
	static const char *const actions[] = {"tag", "stop", "delete",
					      "update"};
	for (int i = 0; i < POOL; i++) {
		char fp[SHA256_HEX_LEN + 1];
		uint8_t d[SHA256_LEN];
		snprintf(p->res[i], sizeof(p->res[i]),
			 "aws:123456789012:us-east-1:ec2_instance:i-%017x",
			 (unsigned)i * 2654435761u);
		sha256(p->res[i], strlen(p->res[i]), d);
		hex_encode(d, 4, fp);
		snprintf(p->data[i], sizeof(p->data[i]),
			 "{\"action\":\"%s\",\"fp\":\"%s\","
			 "\"tags\":{\"env\":\"prod\"}}",
			 actions[i % 4], fp);
	}
}

static double now_s(void)
{
	return (double)time_mono_ns() / 1e9;
}

struct count {
	uint64_t n;
};

static int count_cb(const struct wal_entry *e, void *ud)
{
	struct count *c = ud;
	(void)e;
	c->n++;
	return 0;
}

static int fail(const char *what, const struct elava_error *err)
{
	fprintf(stderr, "elava-bench wal: %s: %s\n", what, err->msg);
	return 1;
}

int bench_wal(int argc, char **argv)
{
	struct elava_error err = {0};
	struct wal_options opts = {0};
	struct wal_verify_report rep;
	struct wal *w = NULL;
	struct pool *pool;
	struct count cnt = {0};
	char *dir, sub[4096];
	unsigned long entries = 200000, batch = 1000, samples = 1000;
	bool json = false;
	double t, append_s, verify_s, replay_s, *lat;
	int rc = 1;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--entries") && i + 1 < argc)
			entries = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--batch") && i + 1 < argc)
			batch = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--samples") && i + 1 < argc)
			samples = strtoul(argv[++i], NULL, 10);
		else if (!strcmp(argv[i], "--json"))
			json = true;
		else {
			fprintf(stderr, "usage: elava-bench wal [--entries N] "
					"[--batch B] [--samples S] [--json]\n");
			return 2;
		}
	}
	if (entries == 0 || batch == 0 || samples == 0) {
		fprintf(stderr, "elava-bench wal: counts must be positive\n");
		return 2;
	}
	pool = malloc(sizeof(*pool));
	lat = malloc(samples * sizeof(*lat));
	if (!pool || !lat)
		abort();
	pool_fill(pool);
	dir = bench_tmpdir("wal");
	/* Quiet the per-rotation debug/info lines. */
	log_configure(LOG_WARN, LOG_FORMAT_TEXT);

	/*
	 * 1. latency: one entry, one fdatasync. First, on a quiet disk: after
	 * the bulk phase the device is still flushing hundreds of MB and
	 * every flush waits behind that.
	 */
	snprintf(sub, sizeof(sub), "%s/single", dir);
	opts.dir = sub;
	opts.instance = "bench";
	if (wal_open(&opts, &w, &err)) {
		fail("open", &err);
		goto out;
	}
	for (unsigned long i = 0; i < samples; i++) {
		t = now_s();
		if (wal_append(w, WAL_EXECUTING, i + 1, pool->res[i % POOL],
			       pool->data[i % POOL], NULL, &err) ||
		    wal_sync(w, &err)) {
			fail("append+sync", &err);
			goto out;
		}
		lat[i] = (now_s() - t) * 1e6;
	}
	wal_close(&w, NULL);

	/* 2. group commit: `batch` appends, one fdatasync */
	snprintf(sub, sizeof(sub), "%s/bulk", dir);
	if (wal_open(&opts, &w, &err)) {
		fail("open", &err);
		goto out;
	}
	t = now_s();
	for (unsigned long i = 0; i < entries; i++) {
		if (wal_append(w, (enum wal_type)(i % WAL_TYPE_COUNT), i + 1,
			       pool->res[i % POOL], pool->data[i % POOL], NULL,
			       &err)) {
			fail("append", &err);
			goto out;
		}
		if ((i + 1) % batch == 0 && wal_sync(w, &err)) {
			fail("sync", &err);
			goto out;
		}
	}
	if (wal_sync(w, &err)) {
		fail("sync", &err);
		goto out;
	}
	append_s = now_s() - t;
	wal_close(&w, NULL);

	/* 3. read side: verify the chain, replay every entry */
	t = now_s();
	if (wal_verify(sub, &rep, &err)) {
		fail("verify", &err);
		goto out;
	}
	verify_s = now_s() - t;
	t = now_s();
	if (wal_replay(sub, 0, NULL, count_cb, &cnt, &err)) {
		fail("replay", &err);
		goto out;
	}
	replay_s = now_s() - t;
	if (rep.entries != entries || cnt.n != entries) {
		fprintf(stderr,
			"elava-bench wal: wrote %lu, verify saw %llu, "
			"replay %llu\n",
			entries, (unsigned long long)rep.entries,
			(unsigned long long)cnt.n);
		goto out;
	}

	double mb = (double)rep.bytes / 1e6;
	double p50 = bench_percentile(lat, samples, 50);
	double p99 = bench_percentile(lat, samples, 99);
	if (json) {
		printf(
		    "{\"bench\":\"wal\",\"entries\":%lu,\"entry_bytes\":%.0f,"
		    "\"bytes\":%llu,\"segments\":%llu,\"batch\":%lu,"
		    "\"append_s\":%.3f,\"append_per_s\":%.0f,"
		    "\"append_mb_per_s\":%.1f,"
		    "\"append_fsync_samples\":%lu,"
		    "\"append_fsync_us_p50\":%.1f,"
		    "\"append_fsync_us_p99\":%.1f,"
		    "\"verify_s\":%.3f,\"verify_mb_per_s\":%.1f,"
		    "\"verify_entries_per_s\":%.0f,"
		    "\"replay_mb_per_s\":%.1f,\"peak_rss_bytes\":%zu}\n",
		    entries, (double)rep.bytes / (double)entries,
		    (unsigned long long)rep.bytes,
		    (unsigned long long)rep.segments, batch, append_s,
		    (double)entries / append_s, mb / append_s, samples, p50,
		    p99, verify_s, mb / verify_s, (double)entries / verify_s,
		    mb / replay_s, bench_peak_rss());
	} else {
		printf("wal: %lu entries (%.0f bytes each), %llu segments\n",
		       entries, (double)rep.bytes / (double)entries,
		       (unsigned long long)rep.segments);
		printf(
		    "  append (batch %lu/fsync)  %10.0f entries/s  %7.1f MB/s\n",
		    batch, (double)entries / append_s, mb / append_s);
		printf("  append+fsync (1 entry)    p50 %.1f us  p99 %.1f us\n",
		       p50, p99);
		printf(
		    "  verify                    %10.0f entries/s  %7.1f MB/s\n",
		    (double)entries / verify_s, mb / verify_s);
		printf("  replay                    %7.1f MB/s\n",
		       mb / replay_s);
	}
	rc = 0;
out:
	wal_close(&w, NULL);
	bench_rmtree(dir);
	free(dir);
	free(pool);
	free(lat);
	return rc;
}
