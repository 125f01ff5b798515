/* placeholder until the WAL lands */
#include "cli/cli.h"
int cmd_wal(int argc, char **argv) { (void)argc; (void)argv; return CLI_EXIT_FAIL; }
