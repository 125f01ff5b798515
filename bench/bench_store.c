/* placeholder: the store benchmark lands with the store */
#include "bench.h"
#include <stdio.h>
int bench_store(int argc, char **argv) { (void)argc; (void)argv; fprintf(stderr, "not yet\n"); return 1; }
