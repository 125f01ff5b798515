/*
 * elava-bench entry point and shared measurement helpers.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/wait.h>
#include <unistd.h>

#include "core/core.h"

/* The benchmark running, for bench_die's messages. */
static const char *bench_name = "";

void bench_die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fprintf(stderr, "elava-bench %s: ", bench_name);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

double bench_secs_since(int64_t t0_ns)
{
	return (double)(time_mono_ns() - t0_ns) / 1e9;
}

bool bench_parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = (size_t)v;
	return true;
}

bool bench_write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

bool bench_read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		c += r;
		n -= (size_t)r;
	}
	return true;
}

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

void bench_proc_start(struct bench_proc *p,
		      void (*main)(int ctl, int reply, void *arg), void *arg)
{
	int ctl[2], rep[2];

	if (pipe2(ctl, O_CLOEXEC) || pipe2(rep, O_CLOEXEC))
		bench_die("pipe: %s", strerror(errno));
	fflush(NULL);
	p->pid = fork();
	if (p->pid < 0)
		bench_die("fork: %s", strerror(errno));
	if (p->pid == 0) {
		close(ctl[1]);
		close(rep[0]);
		main(ctl[0], rep[1], arg);
		_exit(1);
	}
	close(ctl[0]);
	close(rep[1]);
	p->ctl = ctl[1];
	p->reply = rep[0];
}

void bench_proc_stop(struct bench_proc *p)
{
	close(p->ctl);
	close(p->reply);
	waitpid(p->pid, NULL, 0);
}

void *bench_shared_new(size_t n)
{
	void *p = mmap(NULL, n, PROT_READ | PROT_WRITE,
		       MAP_SHARED | MAP_ANONYMOUS, -1, 0);

	if (p == MAP_FAILED)
		bench_die("mmap: %s", strerror(errno));
	return p; /* anonymous pages start zeroed */
}

void bench_shared_free(void *p, size_t n)
{
	munmap(p, n);
}

char *bench_tmpdir(const char *tag)
{
	return bench_tmpdir_in(NULL, tag);
}

char *bench_tmpdir_in(const char *base, const char *tag)
{
	char *path;
	size_t n;

	if (!base || !*base)
		base = getenv("TMPDIR");
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
	fprintf(out,
		"usage: elava-bench store [--resources N] [--churn-pct P] "
		"[--scans K] [--json]\n"
		"       elava-bench wal [--entries N] [--json]\n"
		"       elava-bench list [--instances N] [--per-page P] "
		"[--awscli-instances M] [--json]\n"
		"       elava-bench scan [--resources N] [--churn-pct P] "
		"[--latency-ms L] [--store DIR] [--json]\n"
		"       elava-bench serve [--resources N] [--iterations N] "
		"[--page-ms L] [--load-seconds S]\n"
		"                         [--parts first,load,flat] "
		"[--elava PATH] [--json]\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return 2;
	}
	bench_name = argv[1];
	if (!strcmp(argv[1], "store"))
		return bench_store(argc - 1, argv + 1);
	if (!strcmp(argv[1], "wal"))
		return bench_wal(argc - 1, argv + 1);
	if (!strcmp(argv[1], "list"))
		return bench_list(argc - 1, argv + 1);
	if (!strcmp(argv[1], "scan"))
		return bench_scan(argc - 1, argv + 1);
	if (!strcmp(argv[1], "serve"))
		return bench_serve(argc - 1, argv + 1);
	if (!strcmp(argv[1], "--help")) {
		usage(stdout);
		return 0;
	}
	fprintf(stderr, "elava-bench: unknown benchmark '%s'\n", argv[1]);
	usage(stderr);
	return 2;
}
