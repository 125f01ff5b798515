/*
 * elava version — version and the library versions it was built with.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

int cmd_version(int argc, char **argv)
{
	if (argc > 1 && strcmp(argv[1], "--help"))
		return cli_usage("elava version", "unexpected argument '%s'",
				 argv[1]);
	printf("elava %s\n", ELAVA_VERSION);
	return CLI_EXIT_OK;
}
