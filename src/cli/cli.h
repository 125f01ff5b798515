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

#include <getopt.h>
#include <stdio.h>

#define CLI_EXIT_OK	 0
#define CLI_EXIT_FAIL	 1
#define CLI_EXIT_USAGE	 2
#define CLI_EXIT_PARTIAL 3 /* a scan or listing that left scopes out */

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
int cmd_scan(int argc, char **argv);
int cmd_resources(int argc, char **argv);
int cmd_history(int argc, char **argv);
int cmd_changes(int argc, char **argv);
int cmd_diff(int argc, char **argv);
int cmd_scans(int argc, char **argv);
int cmd_why(int argc, char **argv);
int cmd_compact(int argc, char **argv);
int cmd_serve(int argc, char **argv);
int cmd_config(int argc, char **argv);

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
 * The storage directory: the flag value when given, else `configured` (the
 * config's storage.path, which already holds $ELAVA_STORAGE_PATH) when not
 * NULL, else $ELAVA_STORAGE_PATH, else $XDG_DATA_HOME/elava, else
 * ~/.local/share/elava. Returns a static buffer or one of its arguments.
 */
const char *cli_storage_path_cfg(const char *flag, const char *configured);
/* cli_storage_path_cfg(flag, NULL). */
const char *cli_storage_path(const char *flag);

/* The WAL directory: the flag value when given, else <storage path>/wal. */
const char *cli_wal_dir(const char *flag, const char *storage_flag);

/*
 * Names given as repeated flags and comma lists ("--types a,b --type c"),
 * at most CLI_LIST_MAX. cli_list_add returns 0 or ELAVA_E_TOOBIG.
 */
#define CLI_LIST_MAX 256
struct cli_list {
	const char *v[CLI_LIST_MAX];
	size_t n;
	char *owned[CLI_LIST_MAX]; /* the split copies */
	size_t nowned;
};
int cli_list_add(struct cli_list *l, const char *arg);
void cli_list_release(struct cli_list *l);

/* ---------------------------------------------------------------- output */

enum cli_output { CLI_OUTPUT_TABLE, CLI_OUTPUT_JSON };

/* "table" or "json"; otherwise a usage error (returns CLI_EXIT_USAGE). */
int cli_output_parse(const char *usage, const char *v, enum cli_output *out);

enum cli_color { CLI_PLAIN, CLI_GREEN, CLI_YELLOW, CLI_RED, CLI_BOLD, CLI_DIM };

/* Colour only on a terminal, and never with NO_COLOR set or TERM=dumb. */
bool cli_use_color(FILE *f);
/* Escape sequences to start and end a colour ("" when not enabled). */
const char *cli_color_on(bool enabled, enum cli_color c);
const char *cli_color_off(bool enabled, enum cli_color c);

/* $COLUMNS, else the terminal's width, else 80. */
size_t cli_term_width(FILE *f);

/*
 * A table, buffered and then printed to fit the width: columns with a
 * `shrink` rank give up width (down to `min`), the highest rank first, and
 * their cells are cut with '~' (in the middle for ids, whose both ends
 * matter). Control characters in cells print as '?'.
 */
struct cli_column {
	const char *header;
	size_t min, max; /* max 0: no cap */
	int shrink;	 /* 0: never; else a rank, higher shrinks first */
	bool middle;	 /* cut in the middle instead of at the end */
	bool right;	 /* right-aligned (numbers) */
};
struct cli_table;
struct cli_table *cli_table_new(const struct cli_column *cols, size_t ncols);
/* cells: ncols strings (copied); colors may be NULL. */
void cli_table_add(struct cli_table *t, const char *const *cells,
		   const enum cli_color *colors);
size_t cli_table_rows(const struct cli_table *t);
void cli_table_print(struct cli_table *t, FILE *f);
void cli_table_free(struct cli_table **tp);

/* A JSON array printed one element per line as they come. */
struct cli_json_array {
	FILE *f;
	size_t n;
};
void cli_json_begin(struct cli_json_array *a, FILE *f);
void cli_json_item(struct cli_json_array *a, const char *json, size_t len);
void cli_json_end(struct cli_json_array *a);

/* Text word-wrapped to the width, each line after `indent`. */
void cli_print_wrapped(FILE *f, const char *indent, const char *text);

/* "2026-11-21 10:00:00" (UTC), for tables. */
#define CLI_TIME_LEN 20
void cli_time_short(int64_t ns, char out[CLI_TIME_LEN]);
/* "850 ms", "3.2 s", "4m05s", "2.5 h". */
void cli_duration(int64_t ns, char *out, size_t n);

/* ----------------------------------------------------------- the store */

struct store;
struct config;

/*
 * Defaults, then the file (when given), then ELAVA_* variables. Prints the
 * error and returns CLI_EXIT_FAIL on a bad file or variable.
 */
int cli_config_load(const char *file, struct config *cfg);

/*
 * Open the store for reading (path: flag > cfg's storage.path, which
 * already holds ELAVA_STORAGE_PATH > default). Prints the error ("no store
 * at ...: run 'elava scan' first") and returns CLI_EXIT_FAIL.
 */
int cli_store_open_read(const char *flag, const struct config *cfg,
			struct store **out);

/*
 * The options every query command takes: --store DIR, --config FILE,
 * --output table|json, --help. Put CLI_COMMON_OPTIONS in the getopt_long
 * table and pass each option to cli_common_option first.
 */
struct cli_common {
	const char *store, *config;
	enum cli_output output;
	char **args; /* the positional arguments, after cli_parse */
	int nargs;
};
#define CLI_OPT_STORE  0x1001
#define CLI_OPT_CONFIG 0x1002
#define CLI_OPT_OUTPUT 0x1003
#define CLI_OPT_HELP   0x1004
#define CLI_COMMON_OPTIONS                                                     \
	{"store", required_argument, NULL, CLI_OPT_STORE},                     \
	    {"config", required_argument, NULL, CLI_OPT_CONFIG},               \
	    {"output", required_argument, NULL, CLI_OPT_OUTPUT},               \
	{                                                                      \
		"help", no_argument, NULL, CLI_OPT_HELP                        \
	}
/*
 * Returns 1 when c is not a common option, 0 when it was handled, -1 after
 * printing the usage for --help, or CLI_EXIT_USAGE.
 */
int cli_common_option(int c, const char *optarg_, struct cli_common *cm,
		      const char *usage);
/* A usage error for an unknown option or a missing argument. */
int cli_bad_option(int argc, char **argv, const char *usage);

/*
 * Parse a query command's argv: the common options go to cm, the others
 * to on_option (NULL: there are none), which returns 0 or an exit code.
 * Exactly `nargs` positional arguments must follow (`missing` says what
 * is missing when there are fewer); they are left in cm->args. Returns 0
 * to go on, -1 after --help (exit 0), or an exit code.
 */
typedef int (*cli_option_fn)(int c, const char *arg, void *ud);
int cli_parse(int argc, char **argv, const struct option *opts,
	      const char *usage, struct cli_common *cm, cli_option_fn on_option,
	      void *ud, int nargs, const char *missing);

/*
 * Load the config (cm->config, then the environment) and open the store it
 * names for reading. Returns 0 or an exit code (the error printed).
 */
int cli_common_open(const struct cli_common *cm, struct config *cfg,
		    struct store **out);

/*
 * Revisions of the baseline scans (a store's first, or the first after it
 * held nothing): their "created" events are everything they found, not
 * news. *revs is xfree'd by the caller.
 */
int cli_baselines(struct store *s, uint64_t **revs, size_t *n,
		  struct elava_error *err);
bool cli_rev_in(const uint64_t *revs, size_t n, uint64_t rev);

/* A resource type the provider knows. */
bool cli_known_type(const char *name);

/* ---------------------------------------------------------- change tables */

struct store_change;

/*
 * A table of change events: [REV TIME] CHANGE TYPE ID FIELDS, the change
 * coloured (created green, modified yellow, disappeared red) and FIELDS the
 * changed paths.
 */
struct cli_table *cli_change_table(bool with_revision);
/* Created green, modified yellow, disappeared red. */
enum cli_color cli_change_color(int kind);
/* A scan's status: success green, partial yellow, failed red. */
enum cli_color cli_status_color(const char *status);
/* "status, tags.Env" from a change's fields JSON, appended to out. */
void cli_change_paths(const char *fields_json, struct buf *out);
void cli_change_row(struct cli_table *t, const struct store_change *c,
		    bool with_revision);

/* --------------------------------------------------------- settings.c */

struct config_list;
struct resource_ignore;
struct provider_scope;
struct provider_aws_options;

/*
 * Check a loaded configuration against the provider's types and the
 * resource module's field paths; on success *ignore holds scan.ignore
 * compiled. ELAVA_E_INVAL naming where the value came from:
 * "elava.yaml:12: scan.types: unknown resource type 'x' ...", or the flag.
 */
int cli_config_check(const struct config *cfg, struct resource_ignore **ignore,
		     struct elava_error *err);
int cli_types_check(const struct config *cfg, const char *key, const char *flag,
		    const struct config_list *l, struct elava_error *err);
int cli_ignore_build(const struct config *cfg, struct resource_ignore **out,
		     struct elava_error *err);
/*
 * Flags that set config keys (after the file and the environment: flags >
 * env > file > defaults). A list flag given twice adds to the list; a
 * scalar one given twice keeps the last. cli_flags_apply names the flag in
 * its errors: "--metrics-port: daemon.metrics_port: 'x' is not a port".
 */
struct cli_flag {
	const char *flag, *key;
	struct buf value;
};
struct cli_flags {
	struct cli_flag v[16];
	size_t n;
};
int cli_flags_add(struct cli_flags *f, const char *flag, const char *key,
		  const char *value, bool list);
/* A command's flags as a table: getopt value → flag → config key. */
struct cli_flag_key {
	int opt;
	const char *flag, *key;
	bool list; /* given twice adds to the list */
};
/* The flags that name what to scan, shared by scan and serve: put
 * CLI_SCOPE_OPTIONS in the getopt table and CLI_SCOPE_FLAG_KEYS in the
 * cli_flag_key table. */
#define CLI_OPT_REGION	      0x1101
#define CLI_OPT_ALL_REGIONS   0x1102
#define CLI_OPT_TYPES	      0x1103
#define CLI_OPT_EXCLUDE_TYPES 0x1104
#define CLI_OPT_PROFILE	      0x1105
#define CLI_SCOPE_OPTIONS                                                      \
	{"region", required_argument, NULL, CLI_OPT_REGION},                   \
	    {"all-regions", no_argument, NULL, CLI_OPT_ALL_REGIONS},           \
	    {"types", required_argument, NULL, CLI_OPT_TYPES},                 \
	    {"type", required_argument, NULL, CLI_OPT_TYPES},                  \
	    {"exclude-types", required_argument, NULL, CLI_OPT_EXCLUDE_TYPES}, \
	{                                                                      \
		"profile", required_argument, NULL, CLI_OPT_PROFILE            \
	}
#define CLI_SCOPE_FLAG_KEYS                                                    \
	{CLI_OPT_REGION, "--region", "cloud.region", true},                    \
	    {CLI_OPT_ALL_REGIONS, "--all-regions", "cloud.all_regions",        \
	     false},                                                           \
	    {CLI_OPT_TYPES, "--types", "scan.types", true},                    \
	    {CLI_OPT_EXCLUDE_TYPES, "--exclude-types", "scan.exclude_types",   \
	     true},                                                            \
	{                                                                      \
		CLI_OPT_PROFILE, "--profile", "cloud.profile", false           \
	}
/* For cli_parse's on_option: record option c (arg NULL: "true"); a usage
 * error for an option not in the table. */
int cli_flags_option(struct cli_flags *f, const struct cli_flag_key *keys,
		     size_t n, int c, const char *arg, const char *usage);
int cli_flags_apply(const struct cli_flags *f, struct config *cfg,
		    struct elava_error *err);
void cli_flags_release(struct cli_flags *f);

/* The scope and provider options a configuration names; the scope's arrays
 * are allocated (cli_scope_release), the strings are cfg's. */
void cli_scope_from_config(const struct config *cfg,
			   struct provider_scope *scope);
void cli_scope_release(struct provider_scope *scope);
void cli_provider_options(const struct config *cfg,
			  struct provider_aws_options *po);

#endif /* ELAVA_CLI_H */
