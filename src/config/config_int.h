/*
 * Private to src/config: the key table that config.c defines and load.c
 * (the YAML reader) walks, the value parsers both share, and two entry
 * points for tests and the fuzz target (loading from memory, comparing
 * two configurations).
 */
#ifndef ELAVA_CONFIG_INT_H
#define ELAVA_CONFIG_INT_H

#include "config/config.h"

enum config__type {
	CONFIG_T_DURATION, /* int64_t ns; "5m", "1h30m", "0" */
	CONFIG_T_INT,	   /* int, within [min, max] */
	CONFIG_T_FLOAT,	   /* double, finite and > 0 */
	CONFIG_T_BOOL,	   /* bool */
	CONFIG_T_STRING,   /* char *; NULL when the default is unset */
	CONFIG_T_ENUM,	 /* char *, one of choices (stored as written there) */
	CONFIG_T_LIST,	 /* struct config_list of strings */
	CONFIG_T_IGNORE, /* struct config_list: type → field paths */
};

/* One row of the table: everything the loaders, dump and docs need. */
struct config__key {
	const char *path; /* "daemon.metrics_port" */
	const char *env;  /* "ELAVA_METRICS_PORT"; NULL: none */
	enum config__type type;
	size_t offset;	  /* of the field in struct config */
	const char *def;  /* default as a user would write it; NULL: unset */
	int64_t min, max; /* INT: range; DURATION: min (ns) */
	const char *const *choices; /* ENUM: NULL-terminated */
	const char *what;	    /* for messages: "a port (1-65535)" */
};

extern const struct config__key config__keys[];
extern const size_t config__nkeys;

/* Table index of the key with this full path, or -1. */
int config__key_index(const char *path, size_t len);
/*
 * Unknown key path[0..len) (full path, "daemon.metric_port" or
 * "demon"): writes "unknown key '...' (valid keys under 'daemon': ...)"
 * to why.
 */
void config__unknown_key(const char *path, size_t len, char *why,
			 size_t whylen);
/* Writes "<what>" of key k (for ENUM: "one of a, b, c") to out. */
void config__what(const struct config__key *k, char *out, size_t outlen);

/*
 * Set a scalar key (not LIST/IGNORE) from text[0..len) in c, recording
 * src and line. On a bad value: ELAVA_E_INVAL or ELAVA_E_TOOBIG, with
 * the reason written to why ("'x' is not a port (1-65535)"), c unchanged.
 */
int config__set_scalar(struct config *c, const struct config__key *k,
		       const char *text, size_t len, enum config_source src,
		       unsigned line, char *why, size_t whylen);
/* Reset key k of c to its default value (origin left to the caller). */
void config__reset(struct config *c, const struct config__key *k);
/*
 * Append one item to a list: checks text as a string value and the
 * CONFIG_LIST_MAX cap. type may be NULL (not scan.ignore).
 */
int config__list_add(struct config_list *l, const char *type, size_t tlen,
		     const char *text, size_t len, unsigned line, char *why,
		     size_t whylen);
/* Check text[0..len) as a string value (not empty, capped, no NUL,
 * UTF-8); 0 or ELAVA_E_INVAL / ELAVA_E_TOOBIG with the reason in why. */
int config__check_string(const char *text, size_t len, char *why,
			 size_t whylen);
void config__list_clear(struct config_list *l);
/* Quote text for a message: 'abc', control bytes as \xNN, long ones cut. */
void config__show(const char *text, size_t len, char *out, size_t outlen);

/* Deep copy of src into dst (dst is not released first). */
void config__copy(struct config *dst, const struct config *src);
/* Same values for every key (sources, lines and file not compared). */
bool config__equal(const struct config *a, const struct config *b);

/*
 * config_load_file on bytes in memory: `name` stands for the file in
 * messages and in c->file. For tests and the fuzz target.
 */
int config__load_buffer(struct config *c, const char *data, size_t len,
			const char *name, struct elava_error *err);

#endif /* ELAVA_CONFIG_INT_H */
