/*
 * cli — the command-line front end. main.c is a table of commands; each
 * command lives in its own cmd_<name>.c and is built only on the public
 * headers of the other modules. Only this layer prints to stdout and decides
 * exit codes.
 *
 * Exit codes: 0 success, 1 failure (the message says what and where),
 * 2 usage error (unknown command or flag, missing argument).
 */
#ifndef ELAVA_CLI_H
#define ELAVA_CLI_H

#include "core/core.h"

#define CLI_EXIT_OK    0
#define CLI_EXIT_FAIL  1
#define CLI_EXIT_USAGE 2

struct cli_command {
	const char *name;
	int (*run)(int argc, char **argv); /* argv[0] is the command name */
	const char *summary;
};

/* Every command; defined in main.c's table. */
extern const struct cli_command cli_commands[];

int cmd_version(int argc, char **argv);
int cmd_store(int argc, char **argv);
int cmd_wal(int argc, char **argv);
int cmd_debug(int argc, char **argv);

/*
 * Options: "--flag VALUE" or "--flag=VALUE". cli_flag_value returns the
 * value (advancing *i past it) or NULL when argv[*i] is not that flag or
 * the value is missing; cli_is_flag says whether arg is the flag.
 */
const char *cli_flag_value(int argc, char **argv, int *i, const char *name);
bool cli_is_flag(const char *arg, const char *name);

/*
 * Print "elava <cmd>: <message>" and the command's usage line to stderr;
 * returns CLI_EXIT_USAGE.
 */
int cli_usage(const char *usage, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Print "elava: <err->msg>" to stderr; returns CLI_EXIT_FAIL. */
int cli_fail(const struct elava_error *err);

/*
 * The storage directory: the flag value when given, else
 * $ELAVA_STORAGE_PATH, else $XDG_DATA_HOME/elava, else ~/.local/share/elava.
 * Returns a static buffer.
 */
const char *cli_storage_path(const char *flag);

/* The WAL directory: the flag value when given, else <storage path>/wal. */
const char *cli_wal_dir(const char *flag, const char *storage_flag);

#endif /* ELAVA_CLI_H */
