/*
 * elava-bench — the benchmark program. Each subcommand measures one
 * subsystem and prints one JSON object (with --json) or a readable table.
 * Figures are measured, never asserted: tests do not time things.
 */
#ifndef ELAVA_BENCH_H
#define ELAVA_BENCH_H

#include <stddef.h>
#include <stdint.h>

int bench_store(int argc, char **argv);
int bench_wal(int argc, char **argv);
int bench_list(int argc, char **argv);

/* Sort a[0..n) and return the p-th percentile (0..100). */
double bench_percentile(double *a, size_t n, double p);
/* A fresh scratch directory under $TMPDIR (or /tmp); caller frees. */
char *bench_tmpdir(const char *tag);
/* Remove a directory tree (best effort). */
void bench_rmtree(const char *path);
/* Peak resident set size of this process, bytes. */
size_t bench_peak_rss(void);

#endif
