/*
 * elava — entry point: a table of commands (git's git.c). Each command is a
 * cmd_<name>() in src/cli/cmd_<name>.c.
 */
#include "cli/cli.h"

#include <stdio.h>
#include <string.h>

const struct cli_command cli_commands[] = {
    {"scan", cmd_scan,
     "observe the cloud once: record a revision, show "
     "what changed"},
    {"serve", cmd_serve,
     "run the loop forever, with metrics, health and an API"},
    {"resources", cmd_resources, "the inventory, now or at a past point"},
    {"history", cmd_history, "every version of one resource"},
    {"changes", cmd_changes, "the change timeline"},
    {"diff", cmd_diff, "how the inventory differs between two points"},
    {"scans", cmd_scans, "the scans recorded, newest first"},
    {"why", cmd_why, "the audit trail (WAL entries) of one resource"},
    {"compact", cmd_compact, "forget history older than a point"},
    {"store", cmd_store, "inspect the MVCC store (stat)"},
    {"wal", cmd_wal, "inspect the audit WAL (verify, tail)"},
    {"debug", cmd_debug, "run the provider alone (list, types)"},
    {"config", cmd_config, "validate a configuration file (check)"},
    {"version", cmd_version, "print the version and build information"},
    {NULL, NULL, NULL},
};

static void usage(FILE *out)
{
	fprintf(out, "usage: elava <command> [options]\n\ncommands:\n");
	for (const struct cli_command *c = cli_commands; c->name; c++)
		fprintf(out, "  %-10s %s\n", c->name, c->summary);
	fprintf(out,
		"\nRun 'elava <command> --help' for a command's options.\n");
}

int main(int argc, char **argv)
{
	if (argc < 2) {
		usage(stderr);
		return CLI_EXIT_USAGE;
	}
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h") ||
	    !strcmp(argv[1], "help")) {
		usage(stdout);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "--version"))
		return cmd_version(1, argv + 1);
	for (const struct cli_command *c = cli_commands; c->name; c++)
		if (!strcmp(argv[1], c->name))
			return c->run(argc - 1, argv + 1);
	fprintf(stderr, "elava: unknown command '%s'\n\n", argv[1]);
	usage(stderr);
	return CLI_EXIT_USAGE;
}
