/* placeholder: the WAL benchmark lands with the WAL */
#include "bench.h"
#include <stdio.h>
int bench_wal(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not yet\n"); return 1; }
