/*
 * elava-bench — the benchmark program. Each subcommand measures one
 * subsystem and prints one JSON object (with --json) or a readable table.
 * Figures are measured, never asserted: tests do not time things.
 */
#ifndef ELAVA_BENCH_H
#define ELAVA_BENCH_H

#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>
#include <sys/types.h>

int bench_store(int argc, char **argv);
int bench_wal(int argc, char **argv);
int bench_list(int argc, char **argv);
int bench_scan(int argc, char **argv);
int bench_serve(int argc, char **argv);

/* Print "elava-bench <benchmark>: <message>" to stderr and exit 1. */
void bench_die(const char *fmt, ...)
    __attribute__((format(printf, 1, 2), noreturn));
/* Seconds since t0_ns (time_mono_ns). */
double bench_secs_since(int64_t t0_ns);
/* A decimal count (no sign, no junk); false when s is not one. */
bool bench_parse_size(const char *s, size_t *out);
/* Write or read exactly n bytes (retrying EINTR); false on error or EOF. */
bool bench_write_all(int fd, const void *p, size_t n);
bool bench_read_all(int fd, void *p, size_t n);

/* Sort a[0..n) and return the p-th percentile (0..100). */
double bench_percentile(double *a, size_t n, double p);
/* A forked process and the two pipes to it. */
struct bench_proc {
	pid_t pid;
	int ctl;   /* to the process; closing it tells it to end */
	int reply; /* from the process */
};

/*
 * Fork a process that runs main(ctl, reply, arg), which must not return
 * (it _exits). Dies on failure. A process forked while the caller is small
 * starts small: fork servers before anything that grows the caller.
 */
void bench_proc_start(struct bench_proc *p,
		      void (*main)(int ctl, int reply, void *arg), void *arg);
/* Close both pipes and wait for the process to end. */
void bench_proc_stop(struct bench_proc *p);

/* n zeroed bytes shared with the processes forked afterwards; dies on
 * failure. */
void *bench_shared_new(size_t n);
void bench_shared_free(void *p, size_t n);

/* A fresh scratch directory under $TMPDIR (or /tmp); caller frees. */
char *bench_tmpdir(const char *tag);
/* The same under base (NULL or "": $TMPDIR, or /tmp); caller frees. */
char *bench_tmpdir_in(const char *base, const char *tag);
/* Remove a directory tree (best effort). */
void bench_rmtree(const char *path);
/* Peak resident set size of this process, bytes. */
size_t bench_peak_rss(void);

#endif
