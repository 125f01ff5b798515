/*
 * elava config check FILE — validate a configuration file as the daemon
 * would load it (the file, then ELAVA_* variables) and print the effective
 * configuration, each value with where it came from. Exit 0 when valid,
 * 1 with the first error ("elava.yaml:12: daemon.metrics_port: ...").
 */
#include "cli/cli.h"
#include "config/config.h"
#include "resource/resource.h"

#include <stdio.h>
#include <string.h>

#define CONFIG_USAGE "elava config check FILE"

int cmd_config(int argc, char **argv)
{
	struct resource_ignore *ign = NULL;
	struct elava_error err = {0};
	struct config cfg;
	struct buf out;
	int rc;

	if (argc == 2 &&
	    (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h"))) {
		printf("usage: %s\n", CONFIG_USAGE);
		return CLI_EXIT_OK;
	}
	if (argc != 3 || strcmp(argv[1], "check"))
		return cli_usage(CONFIG_USAGE, argc < 2 ? "missing 'check'"
					       : strcmp(argv[1], "check")
						   ? "unknown subcommand"
						   : "expected one FILE");
	config_init(&cfg);
	if ((rc = config_load_file(&cfg, argv[2], &err)) ||
	    (rc = config_load_env(&cfg, &err)) ||
	    (rc = cli_config_check(&cfg, &ign, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	buf_init(&out, 0);
	/* config_dump shows the token file's path, never a token. */
	if (config_dump(&cfg, &out)) {
		rc = CLI_EXIT_FAIL;
	} else {
		printf("# %s: valid\n%s", argv[2], out.data ? out.data : "");
		rc = CLI_EXIT_OK;
	}
	buf_release(&out);
out:
	resource_ignore_free(&ign);
	config_release(&cfg);
	return rc;
}
