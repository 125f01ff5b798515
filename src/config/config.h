/*
 * config — Elava's settings: defaults, then a YAML file, then ELAVA_*
 * environment variables, then command-line flags (each overrides the one
 * before). Every key is described once in a table (config.c): its YAML path,
 * its environment variable, its type, default and valid values, so the
 * file, the environment, the flags, `elava config check` and the docs
 * (docs/configuration.md) agree. Errors say where: "elava.yaml:12:
 * daemon.metrics_port: '70000' is not a port (1-65535)".
 *
 * This module knows nothing of resource types or ignore-path syntax: it
 * keeps the line each list item came from, so the caller that validates
 * them (the cli, against the provider and resource modules) can point at
 * the line.
 */
#ifndef ELAVA_CONFIG_H
#define ELAVA_CONFIG_H

#include "core/core.h"

/* Limits on what a file (or a variable, or a flag) may hold. */
#define CONFIG_FILE_MAX	  ((size_t)1 << 20) /* bytes of YAML */
#define CONFIG_LIST_MAX	  1024		    /* items in one list */
#define CONFIG_STRING_MAX 4096		    /* bytes in one value */
/* Room for the per-key bookkeeping below; config.c checks its table fits. */
#define CONFIG_MAX_KEYS 64

/* Where a value came from. */
enum config_source {
	CONFIG_SRC_DEFAULT,
	CONFIG_SRC_FILE,
	CONFIG_SRC_ENV,
	CONFIG_SRC_FLAG,
};

/* One item of a list, with where it was set (line 0: not from the file). */
struct config_item {
	char *value;
	char *type; /* scan.ignore only: the resource type, "*" for every one */
	unsigned line;
};

struct config_list {
	struct config_item *v;
	size_t n;
};

struct config {
	/* daemon */
	int64_t reconciliation_interval_ns;   /* 5m */
	int metrics_port;		      /* 2112 */
	char *listen;			      /* address to bind; "0.0.0.0" */
	int64_t graceful_shutdown_timeout_ns; /* 30s */
	int64_t reconciliation_timeout_ns;    /* 0: the interval */
	int64_t unhealthy_after_ns;	      /* 0: 3 intervals */
	char *api_token_file;		      /* NULL: no token */

	/* cloud */
	char *provider;		    /* "aws" (the only one) */
	struct config_list regions; /* cloud.region: one name or a list */
	bool all_regions;	    /* cloud.all_regions */
	char *profile;		    /* cloud.profile; NULL: the default */
	int concurrency;	    /* cloud.concurrency; 8 */
	double requests_per_second; /* cloud.requests_per_second; 20 */

	/* storage */
	char *storage_path; /* NULL: the per-user default (cli decides) */

	/* logging */
	char *log_level;  /* debug, info, warn, error; "info" */
	char *log_format; /* text, json; "text" */

	/* scan */
	struct config_list types;	  /* scan.types; empty: every type */
	struct config_list exclude_types; /* scan.exclude_types */
	/* scan.ignore: a map of type (or "*") to a list of field paths. */
	struct config_list ignore;

	/* The file loaded (NULL: none), for messages: "<file>:<line>". */
	char *file;

	/*
	 * Private to config.c, indexed by its key table: where each value
	 * came from (enum config_source) and, from a file, the key's line.
	 * Read them through config_source_of().
	 */
	unsigned char origin[CONFIG_MAX_KEYS];
	unsigned origin_line[CONFIG_MAX_KEYS];
};

/* Fill with the defaults (no file, no environment). c need not be
 * initialised before; it owns its strings and lists afterwards. */
void config_init(struct config *c);
/* Free everything; the struct can be initialised again. NULL-safe. */
void config_release(struct config *c);

/*
 * Load `path` (YAML) over what c holds (the defaults, normally): each key
 * the file sets replaces the value; a list is replaced, not extended. An
 * empty file (or one with only comments) sets nothing. Unknown keys, wrong
 * types, duplicate keys, bad values, anchors, aliases, tags, a second
 * document: ELAVA_E_INVAL with "<path>:<line>: ..." naming the key and the
 * valid values; a file that is not YAML: ELAVA_E_PARSE with
 * "<path>:<line>:<column>: ..."; a file over CONFIG_FILE_MAX, a list over
 * CONFIG_LIST_MAX items or a value over CONFIG_STRING_MAX bytes:
 * ELAVA_E_TOOBIG; missing or unreadable: ELAVA_E_NOTFOUND / ELAVA_E_PERM /
 * ELAVA_E_IO. On error c is left as it was. Sets c->file to path.
 */
int config_load_file(struct config *c, const char *path,
		     struct elava_error *err);

/*
 * Apply the ELAVA_* environment variables that are set and not empty
 * (getenv). Lists are comma-separated ("us-east-1, eu-west-1"). A bad
 * value: ELAVA_E_INVAL (or ELAVA_E_TOOBIG) with "environment variable
 * ELAVA_METRICS_PORT: 'x' is not a port (1-65535)". On error c is left
 * as it was.
 */
int config_load_env(struct config *c, struct elava_error *err);

/*
 * Set one key from text, as a flag would ("daemon.metrics_port", "2113").
 * Lists take a comma-separated value and replace the list ("" empties
 * it); scan.ignore takes "TYPE=PATH,TYPE=PATH". src is recorded for
 * config_source_of and config_dump (normally CONFIG_SRC_FLAG). Errors as
 * config_load_env, naming the key: "daemon.metrics_port: 'x' is not a
 * port (1-65535)"; an unknown key: ELAVA_E_INVAL with the valid keys. On
 * error c is left as it was.
 */
int config_set(struct config *c, const char *key, const char *value,
	       enum config_source src, struct elava_error *err);

/* Where a key's value came from ("daemon.metrics_port" → FILE);
 * CONFIG_SRC_DEFAULT for a key that does not exist. */
enum config_source config_source_of(const struct config *c, const char *key);

/* The line of the file that set key (0: not set by the file, or no such
 * key), for messages about a value the caller finds wrong:
 * "<c->file>:<line>: storage.path: ...". */
unsigned config_line_of(const struct config *c, const char *key);

/*
 * The effective configuration as YAML (every key), each value followed by
 * a comment saying where it came from: "# default", "# elava.yaml:3",
 * "# env ELAVA_METRICS_PORT", "# flag"; appended to out. The text loads
 * back with config_load_file to the same values. Secrets would be shown
 * as "<redacted>" (no key holds one today; a token is only ever read from
 * a file, whose path is shown). Returns 0 or ELAVA_E_TOOBIG from out.
 */
int config_dump(const struct config *c, struct buf *out);

#endif /* ELAVA_CONFIG_H */
