/*
 * core — the pieces every other module stands on: one error code space,
 * allocation that aborts on OOM and counts its bytes, capped growable
 * buffers, logging, time, a JSON value type with a canonical writer, and
 * hashing (SHA-256 for fingerprints and the WAL chain, a fast 128-bit hash
 * for in-memory indexes). Third-party headers (jansson, OpenSSL) stay inside
 * this folder; nothing here exits the process except on out-of-memory.
 */
#ifndef ELAVA_CORE_H
#define ELAVA_CORE_H

#include <stdarg.h>
#include <stdbool.h>
#include <stddef.h>
#include <stdint.h>

#define ELAVA_VERSION "0.1.0"

/* ---------------------------------------------------------------- errors */

/*
 * X(NAME, value, message). Codes are negative; 0 is success. Adding a code
 * here adds its message to elava_strerror(), whose switch lists every code so
 * -Wswitch-enum flags a missing one.
 */
#define ELAVA_ERRNO_MAP(X)                                                     \
	X(INVAL, -1, "invalid argument")                                       \
	X(IO, -2, "input/output error")                                        \
	X(NOTFOUND, -3, "not found")                                           \
	X(EXISTS, -4, "already exists")                                        \
	X(CORRUPT, -5, "data is corrupt")                                      \
	X(FORMAT, -6, "unsupported format version")                            \
	X(NOSPACE, -7, "no space left")                                        \
	X(PERM, -8, "permission denied")                                       \
	X(BUSY, -9, "resource busy")                                           \
	X(CONFLICT, -10, "conflicting concurrent change")                      \
	X(TOOBIG, -11, "input exceeds its size limit")                         \
	X(COMPACTED, -12, "revision has been compacted")                       \
	X(CANCELLED, -13, "operation cancelled")                               \
	X(TIMEOUT, -14, "operation timed out")                                 \
	X(UNSUPPORTED, -15, "operation not supported")                         \
	X(STATE, -16, "operation not valid in the current state")              \
	X(PARSE, -17, "cannot parse input")                                    \
	X(AUTH, -18, "not authorized")                                         \
	X(THROTTLED, -19, "throttled by the remote service")                   \
	X(REMOTE, -20, "the remote service reported an error")                 \
	X(NETWORK, -21, "network error")

enum elava_errno {
	ELAVA_OK = 0,
#define ELAVA_ERRNO_ENUM(name, val, msg) ELAVA_E_##name = (val),
	ELAVA_ERRNO_MAP(ELAVA_ERRNO_ENUM)
#undef ELAVA_ERRNO_ENUM
};

/* Message for a code (0 or negative). Never NULL. */
const char *elava_strerror(int code);

/*
 * Optional error detail. Functions that take `struct elava_error *err`
 * accept NULL. The message says what failed first, subject in quotes, no
 * full stop: "cannot open store '/x': Permission denied".
 */
struct elava_error {
	int code;
	char msg[512];
};

/* Record code and formatted message in err (if non-NULL); returns code. */
int elava_error_set(struct elava_error *err, int code, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

/* Prefix an existing message: "what: <old message>". Returns err->code. */
int elava_error_prefix(struct elava_error *err, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));

/* Map an errno value to an elava code (ENOSPC → NOSPACE, EACCES → PERM…). */
int elava_errno_code(int errnum);

/* ------------------------------------------------------------ allocation */

/*
 * Allocation wrappers: abort on OOM (there is no sane recovery for a daemon
 * that cannot allocate 100 bytes), count live bytes for /metrics.
 * xfree(NULL) is fine.
 */
void *xmalloc(size_t n);
void *xcalloc(size_t count, size_t size);
void *xrealloc(void *p, size_t n);
char *xstrdup(const char *s);
char *xstrndup(const char *s, size_t n);
void xfree(void *p);
/* Bytes currently allocated through these wrappers. */
size_t elava_mem_used(void);

/* Overflow-checked size arithmetic; abort on overflow (a bug, not input). */
size_t st_add(size_t a, size_t b);
size_t st_mult(size_t a, size_t b);

/* --------------------------------------------------------------- buffers */

/*
 * Growable byte buffer with a cap. `max` == 0 means the default cap
 * (BUF_DEFAULT_MAX); appends past the cap fail with ELAVA_E_TOOBIG and leave
 * the buffer as it was. data is always NUL-terminated when non-NULL.
 */
#define BUF_DEFAULT_MAX ((size_t)64 << 20)

struct buf {
	char *data;
	size_t len;
	size_t cap;
	size_t max;
};

#define BUF_INIT                                                               \
	{                                                                      \
		NULL, 0, 0, 0                                                  \
	}

void buf_init(struct buf *b, size_t max);
void buf_release(struct buf *b);
void buf_reset(struct buf *b);
/* Ensure room for `extra` more bytes (+NUL). */
int buf_grow(struct buf *b, size_t extra);
int buf_append(struct buf *b, const void *p, size_t n);
int buf_puts(struct buf *b, const char *s);
int buf_putc(struct buf *b, char c);
int buf_printf(struct buf *b, const char *fmt, ...)
    __attribute__((format(printf, 2, 3)));
int buf_vprintf(struct buf *b, const char *fmt, va_list ap);
/* Append s[0..n) as a quoted JSON string (escaping as RFC 8259 requires). */
int buf_append_json_string(struct buf *b, const char *s, size_t n);
/* Hand the data to the caller (never NULL: "" for an empty buffer). */
char *buf_detach(struct buf *b, size_t *len);

/* ------------------------------------------------------------------ text */

/* True when s[0..n) is valid UTF-8 (no overlongs, no surrogates). */
bool utf8_valid(const char *s, size_t n);

/* ---------------------------------------------------------------- logging */

enum log_level { LOG_DEBUG, LOG_INFO, LOG_WARN, LOG_ERROR };
enum log_format { LOG_FORMAT_TEXT, LOG_FORMAT_JSON };

/* Process-wide logger settings; defaults: INFO, TEXT, stderr. */
void log_configure(enum log_level min, enum log_format fmt);
/* Parse "debug|info|warn|error"; returns -1 when unknown. */
int log_level_parse(const char *s);
/* Redirect output (tests); NULL restores stderr. */
typedef void (*log_sink_fn)(enum log_level lvl, const char *line, void *ud);
void log_set_sink(log_sink_fn fn, void *ud);

void log_msg(enum log_level lvl, const char *module, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));

#define log_debug(mod, ...) log_msg(LOG_DEBUG, mod, __VA_ARGS__)
#define log_info(mod, ...)  log_msg(LOG_INFO, mod, __VA_ARGS__)
#define log_warn(mod, ...)  log_msg(LOG_WARN, mod, __VA_ARGS__)
#define log_error(mod, ...) log_msg(LOG_ERROR, mod, __VA_ARGS__)

/* ------------------------------------------------------------------ time */

/* Wall clock, nanoseconds since the Unix epoch. */
int64_t time_now_ns(void);
/* Monotonic clock, nanoseconds; for durations only. */
int64_t time_mono_ns(void);
/*
 * Format as RFC 3339 UTC with millisecond precision:
 * "2026-11-21T10:00:00.123Z" (always TIME_RFC3339_CHARS characters, years
 * clamped to 0000-9999). out must hold TIME_RFC3339_LEN bytes.
 */
#define TIME_RFC3339_LEN   32
#define TIME_RFC3339_CHARS 24
void time_format_rfc3339(int64_t ns, char out[TIME_RFC3339_LEN]);
/*
 * Parse RFC 3339 ("2026-11-21T10:00:00Z", fractional seconds and numeric
 * offsets accepted). Returns 0 or ELAVA_E_PARSE.
 */
int time_parse_rfc3339(const char *s, int64_t *ns_out);

/* ------------------------------------------------------------------ JSON */

/*
 * A JSON value (backed by jansson; its header stays in core). Values are
 * reference counted: *_new returns a reference the caller owns; `_take`
 * setters steal the reference passed in; getters borrow.
 */
struct ejson;

enum ejson_type {
	EJSON_NULL,
	EJSON_BOOL,
	EJSON_INT,
	EJSON_REAL,
	EJSON_STRING,
	EJSON_ARRAY,
	EJSON_OBJECT,
};

/* Largest nesting accepted from outside input. */
#define EJSON_MAX_DEPTH 64

/*
 * Parse exactly one JSON value from buf[0..len). Strings must be UTF-8
 * without NUL. Errors: ELAVA_E_PARSE (err says line:column and why),
 * ELAVA_E_TOOBIG (nesting deeper than EJSON_MAX_DEPTH).
 */
int ejson_parse(const char *buf, size_t len, struct ejson **out,
		struct elava_error *err);

struct ejson *ejson_incref(struct ejson *v);
void ejson_decref(struct ejson *v);
/* Drop a reference and clear the pointer; NULL-safe. */
void ejson_free(struct ejson **vp);

enum ejson_type ejson_typeof(const struct ejson *v);

struct ejson *ejson_null(void);
struct ejson *ejson_bool(bool b);
struct ejson *ejson_int(int64_t i);
struct ejson *ejson_real(double d);
/* NULL when s is not valid UTF-8 or contains NUL. */
struct ejson *ejson_string(const char *s, size_t n);
struct ejson *ejson_object(void);
struct ejson *ejson_array(void);
/* Deep copy. */
struct ejson *ejson_copy(const struct ejson *v);

bool ejson_bool_value(const struct ejson *v);
int64_t ejson_int_value(const struct ejson *v);
/* INT or REAL as double. */
double ejson_number_value(const struct ejson *v);
/* NULL unless v is a string. */
const char *ejson_string_value(const struct ejson *v);
size_t ejson_string_length(const struct ejson *v);

size_t ejson_array_size(const struct ejson *v);
struct ejson *ejson_array_get(const struct ejson *v, size_t i);
/* Steals `item`. Returns 0 or ELAVA_E_INVAL when v is not an array. */
int ejson_array_append_take(struct ejson *v, struct ejson *item);

size_t ejson_object_size(const struct ejson *v);
struct ejson *ejson_object_get(const struct ejson *v, const char *key);
/* Steals `item` (also on error). Key must be valid UTF-8. */
int ejson_object_set_take(struct ejson *v, const char *key, struct ejson *item);
int ejson_object_del(struct ejson *v, const char *key);
/*
 * Keys of an object in byte-wise sorted order (the canonical order).
 * Returns a NULL-terminated array of borrowed key strings that the caller
 * frees with xfree(); *n_out receives the count.
 */
const char **ejson_object_sorted_keys(const struct ejson *v, size_t *n_out);

/*
 * Canonical serialization: object keys sorted byte-wise, no whitespace,
 * numbers normalized (integral reals within ±2^53 print as integers, other
 * reals in the shortest form that round-trips, -0 as 0), strings escaped
 * minimally ("\"", "\\", control characters; nothing else). The same value
 * always yields the same bytes. Appends to out.
 */
int ejson_dump_canonical(const struct ejson *v, struct buf *out);
/* Equality of canonical forms (so 1 equals 1.0). */
bool ejson_equal(const struct ejson *a, const struct ejson *b);

/* ------------------------------------------------------ JSON text scanning */

/*
 * Validating JSON text without building a tree (jscan.c), for hot paths
 * where ejson_parse costs too much: WAL entry data, canonical record diffs.
 * Every function reads no byte at or past `end`, moves *pp only on success
 * and returns 0 or ELAVA_E_PARSE. Flags are only ever added to *flags; they
 * say what the scanned text holds beyond the canonical form
 * ejson_dump_canonical writes:
 */
#define JSCAN_WS     0x01u /* whitespace between tokens */
#define JSCAN_REAL   0x02u /* a number with a fraction or exponent */
#define JSCAN_ESCAPE 0x04u /* a string with a backslash escape */
/* An escape the canonical writer does not use (\/, \u0041, surrogate
 * pairs, upper-case hex), or an integer it would not print back: -0, or
 * outside int64 (which ejson_parse refuses). Reals are only JSCAN_REAL:
 * whether one is spelled canonically takes a strtod, left to the caller. */
#define JSCAN_NONCANONICAL 0x08u
/* An object's keys are not strictly increasing byte-wise once decoded:
 * unsorted or duplicated (ejson_parse refuses duplicates). */
#define JSCAN_UNSORTED 0x10u
/* A scalar at depth_left 0: the containers were within the cap, but
 * ejson_parse counts the scalar as one more level and would refuse it. */
#define JSCAN_DEEP 0x20u

/*
 * Scan one JSON value (no whitespace around it) from *pp, leaving *pp just
 * past it. RFC 8259 grammar; strings valid UTF-8 without raw control
 * characters and without \u0000; lone surrogate escapes refused; numbers of
 * any size. depth_left: how many levels of containers may still open, this
 * value's own included (a container at 0 fails; a scalar at 0 sets
 * JSCAN_DEEP). To accept what ejson_parse accepts up to duplicate keys and
 * number range, pass EJSON_MAX_DEPTH and refuse JSCAN_DEEP.
 */
int jscan_value(const char **pp, const char *end, unsigned depth_left,
		unsigned *flags);

/*
 * Scan one JSON string, *pp at its opening quote, as jscan_value does. When
 * decode is not NULL its content is appended there unescaped (not
 * NUL-terminated); on error decode may hold part of it, and buf errors
 * (ELAVA_E_TOOBIG, ...) are returned as they are.
 */
int jscan_string(const char **pp, const char *end, unsigned *flags,
		 struct buf *decode);

/*
 * Skip JSON whitespace at *pp; sets JSCAN_WS if any. flags may be NULL.
 * Inline: it runs between every two tokens, and canonical text has none.
 */
static inline void jscan_ws(const char **pp, const char *end, unsigned *flags)
{
	const char *p = *pp;

	while (p < end && (*p == ' ' || *p == '\t' || *p == '\n' || *p == '\r'))
		p++;
	if (p != *pp) {
		if (flags)
			*flags |= JSCAN_WS;
		*pp = p;
	}
}

/*
 * strcmp order (-1, 0, 1) of two strings' decoded contents: a[0..an) and
 * b[0..bn) are what lies between the quotes of strings jscan_string
 * accepted, still escaped; a_esc/b_esc say whether each holds a backslash
 * (JSCAN_ESCAPE), which spares decoding when neither does.
 */
int jscan_str_cmp(const char *a, size_t an, bool a_esc, const char *b,
		  size_t bn, bool b_esc);

/* ---------------------------------------------------------------- hashing */

#define SHA256_LEN     32
#define SHA256_HEX_LEN 64

void sha256(const void *data, size_t n, uint8_t out[SHA256_LEN]);

/* HMAC-SHA-256 (for request signing). */
void hmac_sha256(const void *key, size_t klen, const void *data, size_t n,
		 uint8_t out[SHA256_LEN]);

/* Incremental SHA-256. */
struct sha256_ctx;
struct sha256_ctx *sha256_new(void);
void sha256_update(struct sha256_ctx *c, const void *data, size_t n);
/* Writes the digest and resets the context for reuse. */
void sha256_final(struct sha256_ctx *c, uint8_t out[SHA256_LEN]);
void sha256_free(struct sha256_ctx **cp);

/* Value of one hex digit, or -1. */
int hex_digit(char c);
/* Lower-case hex of n bytes; out holds 2n+1 bytes. */
void hex_encode(const uint8_t *in, size_t n, char *out);
/* Returns 0, or ELAVA_E_PARSE when hex is not 2n hex digits. */
int hex_decode(const char *hex, size_t hexlen, uint8_t *out, size_t n);

/*
 * Fast non-cryptographic 128-bit hash (MurmurHash3 x64_128) for in-memory
 * indexes. Not for anything an attacker must not collide.
 */
void hash128(const void *data, size_t n, uint64_t seed, uint64_t out[2]);

/* ------------------------------------------------------------ small utils */

#define ARRAY_SIZE(a) (sizeof(a) / sizeof((a)[0]))

/* Big-endian encode/decode of fixed-width integers (store keys). */
void be64_put(uint8_t *p, uint64_t v);
uint64_t be64_get(const uint8_t *p);
void be32_put(uint8_t *p, uint32_t v);
uint32_t be32_get(const uint8_t *p);

/*
 * Parse a duration: "90s", "5m", "2h", "7d", "500ms", or combinations like
 * "1h30m". Returns 0 with nanoseconds, or ELAVA_E_PARSE.
 */
int duration_parse(const char *s, int64_t *ns_out);
/* The compact form duration_parse reads back: "5m", "1h30m", "0s". */
void duration_format(int64_t ns, char *out, size_t outlen);

/*
 * Write a whole file atomically: temp file (mode), fsync, rename, fsync dir.
 */
int file_write_atomic(const char *path, const void *data, size_t n, int mode,
		      struct elava_error *err);
/* Create a directory (and parents) with the given mode if missing. */
int dir_ensure(const char *path, int mode, struct elava_error *err);
/* fsync a directory so a rename/create in it is durable. */
int dir_fsync(const char *path);

#endif /* ELAVA_CORE_H */
