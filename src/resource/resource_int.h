/*
 * Private to src/resource: the parsed form of field paths shared by the
 * ignore rules (ignore.c), the fingerprint's stripped canonical form
 * (json.c) and the diff (diff.c), so the three agree on what a path means;
 * plus a helper to quote outside strings safely in error messages.
 */
#ifndef ELAVA_RESOURCE_INT_H
#define ELAVA_RESOURCE_INT_H

#include "resource/resource.h"

/* One step of a path: an object member (key != NULL) or an array index. */
struct resource__seg {
	char *key;
	size_t index;
};

struct resource__rule {
	char *type; /* NULL: every type */
	char *path; /* canonical spelling, as resource_diff writes paths */
	size_t pathlen;
	struct resource__seg *segs; /* segs[0] is a top-level field name */
	size_t nsegs;
};

struct resource_ignore {
	struct resource__rule *rules;
	size_t n;
	size_t cap;
};

/* ----------------------------------------------------------------- paths */

/*
 * Append one member to a path: ".key" (or "key" when the path is empty),
 * or ["<JSON-escaped key>"] when the key is empty or holds one of . [ ] " \.
 */
int resource__path_key(struct buf *path, const char *key, size_t n);
/* Append "[i]". */
int resource__path_index(struct buf *path, size_t i);
/*
 * Parse a path ("attributes.volumes[0].size", 'tags["a.b"]') into
 * segments and append its canonical spelling to canon. Returns 0 or
 * ELAVA_E_INVAL; the segments are the caller's (resource__segs_free).
 */
int resource__path_parse(const char *s, struct resource__seg **segs_out,
			 size_t *nsegs_out, struct buf *canon);
void resource__segs_free(struct resource__seg *segs, size_t n);

/* ----------------------------------------------------------------- rules */

/* True when some rule of ign applies to records of `type`. */
bool resource__ignore_any(const struct resource_ignore *ign, const char *type);
/*
 * The rules of ign that apply to `type`, as an array of borrowed pointers
 * in *out (xfree it; NULL when there are none). Returns the count.
 */
size_t resource__ignore_select(const struct resource_ignore *ign,
			       const char *type,
			       const struct resource__rule ***out);
/* True when path[0..len) is, or lies below, the path of one of the rules. */
bool resource__rules_match(const struct resource__rule *const *rules, size_t n,
			   const char *path, size_t len);
/*
 * A new reference to v minus every member or element named by the rules,
 * all of which have matched segments [0, depth) on the way to v and have
 * more than `depth` segments. Parts no rule reaches are shared, not copied.
 */
struct ejson *resource__strip(const struct ejson *v,
			      const struct resource__rule *const *rules,
			      size_t n, size_t depth);

/* ------------------------------------------------------------- messages */

#define RESOURCE__SHOW_LEN 96

/*
 * A printable excerpt of s[0..n) for an error message (a record comes from
 * outside and may hold anything): cut at a character boundary with "..."
 * when long, control characters and bytes of invalid UTF-8 shown as '?'.
 * Returns out.
 */
const char *resource__show(const char *s, size_t n,
			   char out[RESOURCE__SHOW_LEN]);

#endif /* ELAVA_RESOURCE_INT_H */
