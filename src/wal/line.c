/*
 * The WAL line: writing it by hand (no JSON library on the append path) and
 * the one strict parser every reader uses. The envelope must be byte for byte
 * what the writer produces — fixed field order, no whitespace, minimal string
 * escapes, no leading zeros — so a parsed line re-serializes to the same
 * bytes; only `data` may be any valid JSON object. The layout is documented
 * in docs/wal-format.md.
 */
#include "wal/wal_int.h"

#include <string.h>

const char wal__genesis[WAL_HASH_HEX_SIZE] =
    "0000000000000000000000000000000000000000000000000000000000000000";

static const char *const type_names[WAL_TYPE_COUNT] = {
    [WAL_OBSERVED] = "observed",   [WAL_DECIDED] = "decided",
    [WAL_EXECUTING] = "executing", [WAL_EXECUTED] = "executed",
    [WAL_FAILED] = "failed",	   [WAL_SKIPPED] = "skipped",
};

const char *wal_type_name(enum wal_type t)
{
	if ((unsigned)t >= WAL_TYPE_COUNT)
		return NULL;
	return type_names[t];
}

static int type_lookup(const char *s, size_t n, enum wal_type *out)
{
	for (size_t i = 0; i < WAL_TYPE_COUNT; i++) {
		if (strlen(type_names[i]) == n &&
		    !memcmp(type_names[i], s, n)) {
			*out = (enum wal_type)i;
			return 0;
		}
	}
	return ELAVA_E_INVAL;
}

int wal_type_parse(const char *s, enum wal_type *out)
{
	if (!s)
		return ELAVA_E_INVAL;
	return type_lookup(s, strlen(s), out);
}

/* ------------------------------------------------------------------ time */

/*
 * The ts field is exactly what time_format_rfc3339 writes (times before
 * the epoch are written as the epoch: clocks are not that wrong, and the
 * field must stay parseable); on read, anything else is refused.
 */
void wal__ts_format(int64_t ns, char out[WAL__TS_LEN + 1])
{
	char tmp[TIME_RFC3339_LEN];

	time_format_rfc3339(ns < 0 ? 0 : ns, tmp);
	memcpy(out, tmp, WAL__TS_LEN + 1);
}

int wal__ts_parse(const char *s, int64_t *ns_out)
{
	char tmp[WAL__TS_LEN + 1];
	char again[TIME_RFC3339_LEN];

	memcpy(tmp, s, WAL__TS_LEN);
	tmp[WAL__TS_LEN] = '\0';
	if (time_parse_rfc3339(tmp, ns_out) || *ns_out < 0)
		return ELAVA_E_PARSE;
	/* Only the canonical spelling: it must write back the same bytes. */
	time_format_rfc3339(*ns_out, again);
	return memcmp(again, tmp, WAL__TS_LEN + 1) ? ELAVA_E_PARSE : 0;
}

/* ---------------------------------------------------------------- writing */

static int put_u64(struct buf *b, uint64_t v)
{
	char tmp[24];
	size_t i = sizeof(tmp);

	do {
		tmp[--i] = (char)('0' + v % 10);
		v /= 10;
	} while (v);
	return buf_append(b, tmp + i, sizeof(tmp) - i);
}

#define PUT_LIT(b, s) buf_append((b), (s), sizeof(s) - 1)

int wal__line_format_prefix(struct buf *out, const struct wal__line_fields *f)
{
	char ts[WAL__TS_LEN + 1];
	const char *tname = wal_type_name(f->type);
	int rc;

	if (!tname)
		return ELAVA_E_INVAL;
	wal__ts_format(f->ts_ns, ts);
	/* Reserve once so the appends below do not reallocate. */
	if ((rc = buf_grow(out,
			   160 + f->instance_json_len + f->data_len +
			       (f->resource ? strlen(f->resource) * 2 : 0))))
		return rc;
	if ((rc = PUT_LIT(out, "{\"seq\":")) || (rc = put_u64(out, f->seq)) ||
	    (rc = PUT_LIT(out, ",\"ts\":\"")) ||
	    (rc = buf_append(out, ts, WAL__TS_LEN)) ||
	    (rc = PUT_LIT(out, "\",\"type\":\"")) ||
	    (rc = buf_puts(out, tname)) ||
	    (rc = PUT_LIT(out, "\",\"instance\":")) ||
	    (rc = buf_append(out, f->instance_json, f->instance_json_len)) ||
	    (rc = PUT_LIT(out, ",\"revision\":")) ||
	    (rc = put_u64(out, f->revision)) ||
	    (rc = PUT_LIT(out, ",\"resource\":")))
		return rc;
	if (f->resource)
		rc = buf_append_json_string(out, f->resource,
					    strlen(f->resource));
	else
		rc = PUT_LIT(out, "null");
	if (rc || (rc = PUT_LIT(out, ",\"data\":")) ||
	    (rc = buf_append(out, f->data, f->data_len)) ||
	    (rc = PUT_LIT(out, ",\"prev\":\"")) ||
	    (rc = buf_append(out, f->prev, SHA256_HEX_LEN)) ||
	    (rc = buf_putc(out, '"')))
		return rc;
	return 0;
}

void wal__hash_hex(struct sha256_ctx *sha, const void *p, size_t n,
		   char out[WAL_HASH_HEX_SIZE])
{
	uint8_t d[SHA256_LEN];

	if (sha) {
		sha256_update(sha, p, n);
		sha256_final(sha, d);
	} else {
		sha256(p, n, d);
	}
	hex_encode(d, sizeof(d), out);
}

int wal__line_finish(struct buf *out, size_t start, struct sha256_ctx *sha,
		     char hash_out[WAL_HASH_HEX_SIZE])
{
	int rc;

	wal__hash_hex(sha, out->data + start, out->len - start, hash_out);
	if ((rc = PUT_LIT(out, ",\"hash\":\"")) ||
	    (rc = buf_append(out, hash_out, SHA256_HEX_LEN)) ||
	    (rc = PUT_LIT(out, "\"}")))
		return rc;
	return 0;
}

bool wal_line_hash(const char *line, size_t len, char out[WAL_HASH_HEX_SIZE])
{
	if (len < WAL__HASH_SUFFIX_LEN) {
		memcpy(out, wal__genesis, WAL_HASH_HEX_SIZE);
		return false;
	}
	wal__hash_hex(NULL, line, len - WAL__HASH_SUFFIX_LEN, out);
	return !memcmp(out, line + len - WAL__HASH_SUFFIX_LEN + 9,
		       SHA256_HEX_LEN);
}

/* ------------------------------------------------------- JSON validation */

/*
 * `data`: one object, nothing around it, validated by core's scanner
 * without building a tree, so verify and replay do not pay for a JSON tree
 * per line. Containers nest at most EJSON_MAX_DEPTH deep, scalars included
 * in the innermost (JSCAN_DEEP is not refused). It accepts a few things
 * ejson_parse refuses (duplicate keys, integers past 64 bits, that scalar
 * depth); the writer only stores what ejson_parse accepted.
 */
bool wal__json_object_valid(const char *p, size_t n)
{
	const char *q = p;
	unsigned flags = 0;

	if (n < 2 || p[0] != '{')
		return false;
	return !jscan_value(&q, p + n, EJSON_MAX_DEPTH, &flags) && q == p + n;
}

/* ---------------------------------------------------------------- parsing */

struct lp {
	const char *line, *p, *end;
	struct elava_error *err;
};

static int lp_fail(struct lp *l, const char *what)
{
	return elava_error_set(l->err, ELAVA_E_PARSE, "%s at column %zu", what,
			       (size_t)(l->p - l->line) + 1);
}

static bool lp_lit(struct lp *l, const char *lit, size_t n)
{
	if ((size_t)(l->end - l->p) < n || memcmp(l->p, lit, n))
		return false;
	l->p += n;
	return true;
}

#define LP_LIT(l, s) lp_lit((l), (s), sizeof(s) - 1)

/* Decimal without sign or leading zeros, within uint64. */
static bool lp_u64(struct lp *l, uint64_t *out)
{
	uint64_t v = 0;
	const char *start = l->p;

	if (l->p < l->end && *l->p == '0') {
		l->p++;
		*out = 0;
		return l->p >= l->end || *l->p < '0' || *l->p > '9';
	}
	while (l->p < l->end && *l->p >= '0' && *l->p <= '9') {
		unsigned dgt = (unsigned)(*l->p - '0');
		if (v > (UINT64_MAX - dgt) / 10)
			return false;
		v = v * 10 + dgt;
		l->p++;
	}
	*out = v;
	return l->p > start;
}

/*
 * A string exactly as buf_append_json_string writes it: raw UTF-8 except
 * '"', '\\' and control characters, which use the short escapes or \u00xx.
 * Decoded into out, NUL-terminated.
 */
static bool lp_string(struct lp *l, struct buf *out)
{
	unsigned flags = 0;

	return !jscan_string(&l->p, l->end, &flags, out) &&
	       !(flags & JSCAN_NONCANONICAL) && !buf_putc(out, '\0');
}

/* Lower-case hex digits: a table, because verify checks 128 per line. */
static const bool lower_hex[256] = {
    ['0'] = 1, ['1'] = 1, ['2'] = 1, ['3'] = 1, ['4'] = 1, ['5'] = 1,
    ['6'] = 1, ['7'] = 1, ['8'] = 1, ['9'] = 1, ['a'] = 1, ['b'] = 1,
    ['c'] = 1, ['d'] = 1, ['e'] = 1, ['f'] = 1,
};

static bool is_lower_hex(const char *p, size_t n)
{
	unsigned ok = 1;

	/* No early exit: the loop vectorises and bad input is rare. */
	for (size_t i = 0; i < n; i++)
		ok &= lower_hex[(unsigned char)p[i]];
	return ok;
}

int wal_line_parse(const char *line, size_t len, struct wal_entry *e,
		   struct buf *scratch, struct elava_error *err)
{
	struct lp l = {line, line, line + len, err};
	const char *tail, *tname;
	size_t inst_off, res_off = 0, data_off;
	bool has_resource = false;

	if (len > WAL_LINE_MAX)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "line is longer than %zu bytes",
				       WAL_LINE_MAX);
	memset(e, 0, sizeof(*e));
	buf_reset(scratch);
	/*
	 * The fixed tail first: it also tells where `data` ends, so data is
	 * found without a second scan.
	 */
	if (len < WAL__TAIL_LEN + 40)
		return elava_error_set(err, ELAVA_E_PARSE,
				       "line is too short (%zu bytes)", len);
	tail = line + len - WAL__TAIL_LEN;
	if (memcmp(tail, ",\"prev\":\"", 9) ||
	    !is_lower_hex(tail + 9, SHA256_HEX_LEN) ||
	    memcmp(tail + 9 + SHA256_HEX_LEN, "\",\"hash\":\"", 10) ||
	    !is_lower_hex(tail + 19 + SHA256_HEX_LEN, SHA256_HEX_LEN) ||
	    memcmp(tail + 19 + 2 * SHA256_HEX_LEN, "\"}", 2)) {
		l.p = tail;
		return lp_fail(&l, "bad 'prev'/'hash' fields or line end");
	}
	memcpy(e->prev, tail + 9, SHA256_HEX_LEN);
	e->prev[SHA256_HEX_LEN] = '\0';
	memcpy(e->hash, tail + 19 + SHA256_HEX_LEN, SHA256_HEX_LEN);
	e->hash[SHA256_HEX_LEN] = '\0';
	l.end = tail;

	if (!LP_LIT(&l, "{\"seq\":"))
		return lp_fail(&l, "expected '{\"seq\":'");
	if (!lp_u64(&l, &e->seq) || e->seq == 0)
		return lp_fail(&l, "bad 'seq'");
	if (!LP_LIT(&l, ",\"ts\":\""))
		return lp_fail(&l, "expected 'ts'");
	if (l.end - l.p < WAL__TS_LEN + 1 || l.p[WAL__TS_LEN] != '"' ||
	    wal__ts_parse(l.p, &e->ts_ns))
		return lp_fail(&l, "bad 'ts'");
	l.p += WAL__TS_LEN + 1;
	if (!LP_LIT(&l, ",\"type\":\""))
		return lp_fail(&l, "expected 'type'");
	tname = l.p;
	while (l.p < l.end && *l.p != '"')
		l.p++;
	if (l.p >= l.end ||
	    type_lookup(tname, (size_t)(l.p - tname), &e->type)) {
		l.p = tname;
		return lp_fail(&l, "unknown 'type'");
	}
	l.p++;
	if (!LP_LIT(&l, ",\"instance\":"))
		return lp_fail(&l, "expected 'instance'");
	inst_off = scratch->len;
	if (!lp_string(&l, scratch) || scratch->len == inst_off + 1)
		return lp_fail(&l, "bad 'instance'");
	if (!LP_LIT(&l, ",\"revision\":"))
		return lp_fail(&l, "expected 'revision'");
	if (!lp_u64(&l, &e->revision))
		return lp_fail(&l, "bad 'revision'");
	if (!LP_LIT(&l, ",\"resource\":"))
		return lp_fail(&l, "expected 'resource'");
	if (!LP_LIT(&l, "null")) {
		res_off = scratch->len;
		has_resource = true;
		if (!lp_string(&l, scratch) || scratch->len == res_off + 1)
			return lp_fail(&l, "bad 'resource'");
	}
	if (!LP_LIT(&l, ",\"data\":"))
		return lp_fail(&l, "expected 'data'");
	if (!wal__json_object_valid(l.p, (size_t)(l.end - l.p)))
		return lp_fail(&l, "'data' is not a valid JSON object");
	data_off = scratch->len;
	if (buf_append(scratch, l.p, (size_t)(l.end - l.p)))
		return lp_fail(&l, "'data' too large");
	/* Pointers last: the appends above may have moved scratch->data. */
	e->instance = scratch->data + inst_off;
	e->resource = has_resource ? scratch->data + res_off : NULL;
	e->data = scratch->data + data_off;
	e->data_len = (size_t)(l.end - l.p);
	e->line = line;
	e->line_len = len;
	return 0;
}
