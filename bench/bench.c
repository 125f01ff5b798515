/*
 * elava-bench entry point and shared measurement helpers.
 */
#include "bench.h"

#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <unistd.h>

static int cmp_double(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return (x > y) - (x < y);
}

double bench_percentile(double *a, size_t n, double p)
{
	size_t idx;

	if (n == 0)
		return 0;
	qsort(a, n, sizeof(*a), cmp_double);
	idx = (size_t)((p / 100.0) * (double)(n - 1) + 0.5);
	return a[idx < n ? idx : n - 1];
}

char *bench_tmpdir(const char *tag)
{
	const char *base = getenv("TMPDIR");
	char *path;
	size_t n;

	if (!base || !*base)
		base = "/tmp";
	n = strlen(base) + strlen(tag) + 32;
	path = malloc(n);
	if (!path)
		abort();
	snprintf(path, n, "%s/elava-bench-%s-XXXXXX", base, tag);
	if (!mkdtemp(path)) {
		perror(path);
		exit(1);
	}
	return path;
}

static int rm_cb(const char *p, const struct stat *sb, int flag,
		 struct FTW *ftw)
{
	(void)sb;
	(void)flag;
	(void)ftw;
	return remove(p);
}

void bench_rmtree(const char *path)
{
	nftw(path, rm_cb, 16, FTW_DEPTH | FTW_PHYS);
}

size_t bench_peak_rss(void)
{
	struct rusage ru;

	getrusage(RUSAGE_SELF, &ru);
	return (size_t)ru.ru_maxrss * 1024;
}

static void usage(FILE *out)
{
	fprintf(out, "usage: elava-bench store [--resources N] [--churn-pct P] "
		     "[--scans K] [--json]\n"
		     "       elava-bench wal [--entries N] [--json]\n"
		     "       elava-bench list [--instances N] [--per-page P] "
		     "[--awscli-instances M] [--json]\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	if (!strcmp(argv[1], "store"))
		return bench_store(argc - 1, argv + 1);
	if (!strcmp(argv[1], "wal"))
		return bench_wal(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return bench_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "elava-bench: unknown benchmark '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
