/*
 * wal_int.h — private to src/wal (and the WAL's own tests and fuzz target):
 * the fixed pieces of the line layout, segment naming and listing, and the
 * two ways segments are read — forwards line by line (verify, replay) and
 * backwards from the end (open, tail, retention).
 */
#ifndef ELAVA_WAL_INT_H
#define ELAVA_WAL_INT_H

#include "wal/wal.h"

#define WAL__LOG "wal"

/* `,"hash":"<64 hex>"}` — the bytes after the hashed prefix. */
#define WAL__HASH_SUFFIX_LEN (9 + SHA256_HEX_LEN + 2)
/* `,"prev":"<64 hex>"` + the hash suffix: the bytes after `data`. */
#define WAL__TAIL_LEN (9 + SHA256_HEX_LEN + 1 + WAL__HASH_SUFFIX_LEN)
/* "2026-11-21T10:00:00.123Z" */
#define WAL__TS_LEN TIME_RFC3339_CHARS

/* wal-<20 digits>.jsonl: 20 digits hold any uint64, so names sort by seq. */
#define WAL__SEG_DIGITS	   20
#define WAL__SEG_NAME_SIZE (4 + WAL__SEG_DIGITS + 6 + 1)

extern const char wal__genesis[WAL_HASH_HEX_SIZE];

/* ------------------------------------------------------------- line.c */

/*
 * Everything of a line up to (not including) `,"hash":`: the bytes the hash
 * covers. instance_json is the instance already written as a JSON string
 * (the writer escapes it once); data is canonical JSON text.
 */
struct wal__line_fields {
	uint64_t seq;
	int64_t ts_ns;
	enum wal_type type;
	const char *instance_json;
	size_t instance_json_len;
	uint64_t revision;
	const char *resource; /* NULL = null */
	const char *data;
	size_t data_len;
	const char *prev; /* 64 hex */
};
int wal__line_format_prefix(struct buf *out, const struct wal__line_fields *f);
/* Append `,"hash":"<hex>"}` for the prefix out[start..len). */
int wal__line_finish(struct buf *out, size_t start, struct sha256_ctx *sha,
		     char hash_out[WAL_HASH_HEX_SIZE]);
void wal__ts_format(int64_t ns, char out[WAL__TS_LEN + 1]);
int wal__ts_parse(const char *s, int64_t *ns_out);
/* True when p[0..n) is exactly one JSON object (RFC 8259, depth-capped). */
bool wal__json_object_valid(const char *p, size_t n);
/* SHA-256 of p[0..n) as hex, with a reusable context (NULL = one-shot). */
void wal__hash_hex(struct sha256_ctx *sha, const void *p, size_t n,
		   char out[WAL_HASH_HEX_SIZE]);

/* ---------------------------------------------------------- segment.c */

struct wal__segment {
	uint64_t first_seq; /* from the file name */
	char *path;
	char name[WAL__SEG_NAME_SIZE];
};

struct wal__seglist {
	struct wal__segment *v;
	size_t n;
};

void wal__segment_name(uint64_t first_seq, char out[WAL__SEG_NAME_SIZE]);
char *wal__path_join(const char *dir, const char *name);
/*
 * Segment files of dir, sorted by first seq; other files are ignored.
 * Errors: ELAVA_E_NOTFOUND (no such directory), ELAVA_E_IO.
 */
int wal__segments_list(const char *dir, struct wal__seglist *out,
		       struct elava_error *err);
void wal__segments_release(struct wal__seglist *l);

/*
 * Forward reader: one segment, line by line, in large reads, stopping at
 * `limit` bytes (UINT64_MAX = the whole file). Readers pass the newest
 * segment's wal__file_data_end as the limit, so they ignore exactly the
 * torn tail wal_open would trim, and a line being appended meanwhile.
 */
struct wal__reader {
	int fd;
	const char *path;
	char *buf;
	size_t cap, start, end;
	uint64_t limit, consumed;
	uint64_t lineno; /* of the line last returned */
	bool eof;
};

enum {
	WAL__READ_END = 0,     /* clean end: the data ended with a newline */
	WAL__READ_LINE = 1,    /* *line is a complete line */
	WAL__READ_PARTIAL = 2, /* *len bytes after the last newline */
};

int wal__reader_open(struct wal__reader *r, const char *path, uint64_t limit,
		     struct elava_error *err);
/*
 * Next line. Returns a WAL__READ_* value or a negative code: ELAVA_E_CORRUPT
 * when no newline comes within WAL_LINE_MAX bytes, I/O codes.
 */
int wal__reader_next(struct wal__reader *r, const char **line, size_t *len,
		     struct elava_error *err);
void wal__reader_close(struct wal__reader *r);

/*
 * Offset just past the last newline of the file (0 if none): everything
 * after it is an incomplete write. NUL runs of any length are skipped;
 * other bytes without a newline for more than WAL_LINE_MAX are not a torn
 * write and give ELAVA_E_CORRUPT. *nul_only (may be NULL) tells whether
 * the tail was only NULs.
 */
int wal__file_data_end(int fd, const char *path, uint64_t size,
		       uint64_t *data_end, bool *nul_only,
		       struct elava_error *err);
/*
 * Open a segment read-only and find its size and data end (as above).
 * Returns the fd in *fd_out (caller closes).
 */
int wal__segment_open_end(const char *path, int *fd_out, uint64_t *size,
			  uint64_t *data_end, struct elava_error *err);
/*
 * Read a window of the file ending at data_end (just past a newline) that
 * holds the last `want` complete lines, or all lines if there are fewer.
 * win receives the bytes; *first is where the first complete line starts
 * in win.
 */
int wal__file_last_lines(int fd, const char *path, uint64_t data_end,
			 size_t want, struct buf *win, size_t *first,
			 struct elava_error *err);

#endif /* ELAVA_WAL_INT_H */
