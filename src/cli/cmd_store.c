/* placeholder until the store lands */
#include "cli/cli.h"
int cmd_store(int argc, char **argv) { (void)argc; (void)argv; return CLI_EXIT_FAIL; }
