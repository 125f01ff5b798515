/*
 * A JSON scanner that builds nothing: it validates a value's text (RFC 8259,
 * strings valid UTF-8 without NUL or raw control characters, nesting capped)
 * and reports in JSCAN_* flags what the text holds beyond the canonical form
 * ejson_dump_canonical writes. It serves the paths where a jansson tree per
 * value costs far more than the work itself: the WAL checks every entry's
 * data with it on read, and the store diffs canonical records on their text
 * (resource's diff_text.c). Every read is checked against `end`: texts come
 * from disk.
 */
#include "core.h"

#include <string.h>

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Four hex digits of either case at h (4 bytes readable); -1 if not. */
static long hex4(const char *h)
{
	long v = 0;

	for (int i = 0; i < 4; i++) {
		char c = h[i];
		int d = is_digit(c)	       ? c - '0'
			: c >= 'a' && c <= 'f' ? c - 'a' + 10
			: c >= 'A' && c <= 'F' ? c - 'A' + 10
					       : -1;

		if (d < 0)
			return -1;
		v = v << 4 | d;
	}
	return v;
}

/*
 * The \u escapes buf_append_json_string writes: control characters other
 * than NUL and those with a short form, as \u00xx in lower case.
 */
static bool canonical_u(const char *h, long cp)
{
	if (h[0] != '0' || h[1] != '0' || (h[2] != '0' && h[2] != '1') ||
	    (h[3] >= 'A' && h[3] <= 'F'))
		return false;
	switch (cp) {
	case '\b':
	case '\t':
	case '\n':
	case '\f':
	case '\r': return false;
	default: return true;
	}
}

/* UTF-8 of code point cp (not a surrogate) into out; returns its length. */
static size_t utf8_put(unsigned long cp, char out[4])
{
	if (cp < 0x80) {
		out[0] = (char)cp;
		return 1;
	}
	if (cp < 0x800) {
		out[0] = (char)(0xC0 | cp >> 6);
		out[1] = (char)(0x80 | (cp & 0x3F));
		return 2;
	}
	if (cp < 0x10000) {
		out[0] = (char)(0xE0 | cp >> 12);
		out[1] = (char)(0x80 | (cp >> 6 & 0x3F));
		out[2] = (char)(0x80 | (cp & 0x3F));
		return 3;
	}
	out[0] = (char)(0xF0 | cp >> 18);
	out[1] = (char)(0x80 | (cp >> 12 & 0x3F));
	out[2] = (char)(0x80 | (cp >> 6 & 0x3F));
	out[3] = (char)(0x80 | (cp & 0x3F));
	return 4;
}

/*
 * The escape at p (a backslash, with at least two bytes before end) of a
 * string: its decoded bytes into out, their count into *n_out, and the
 * escape's length returned; 0 if it is not a valid escape. Sets
 * JSCAN_NONCANONICAL for the escapes the canonical writer does not use.
 */
static inline size_t escape(const char *p, const char *end, char out[4],
			    size_t *n_out, unsigned *flags)
{
	long cp, lo;

	*n_out = 1;
	switch (p[1]) {
	case '"': out[0] = '"'; return 2;
	case '\\': out[0] = '\\'; return 2;
	case 'b': out[0] = '\b'; return 2;
	case 'f': out[0] = '\f'; return 2;
	case 'n': out[0] = '\n'; return 2;
	case 'r': out[0] = '\r'; return 2;
	case 't': out[0] = '\t'; return 2;
	case '/':
		*flags |= JSCAN_NONCANONICAL;
		out[0] = '/';
		return 2;
	case 'u': break;
	default: return 0;
	}
	/* No NUL (strings here are C strings), no lone surrogate. */
	if (end - p < 6 || (cp = hex4(p + 2)) <= 0 ||
	    (cp >= 0xDC00 && cp <= 0xDFFF))
		return 0;
	if (cp < 0xD800 || cp > 0xDBFF) {
		if (!canonical_u(p + 2, cp))
			*flags |= JSCAN_NONCANONICAL;
		*n_out = utf8_put((unsigned long)cp, out);
		return 6;
	}
	if (end - p < 12 || p[6] != '\\' || p[7] != 'u' ||
	    (lo = hex4(p + 8)) < 0xDC00 || lo > 0xDFFF)
		return 0;
	*flags |= JSCAN_NONCANONICAL;
	*n_out = utf8_put(0x10000 + ((unsigned long)(cp - 0xD800) << 10) +
			      (unsigned long)(lo - 0xDC00),
			  out);
	return 12;
}

/* Bytes that end a run of plain string content: " \\ controls, non-ASCII. */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char str_stop[256] = {
    R16(1), R16(1), /* 0x00-0x1f */
    0,	    0,	    1,	    0,	    0,	    0,	    0,	    0,
    0,	    0,	    0,	    0,	    0,	    0,	    0,	    0, /* '"' */
    R16(0), R16(0), 0,	    0,	    0,	    0,	    0,	    0,
    0,	    0,	    0,	    0,	    0,	    0,	    1,	    0,
    0,	    0, /* '\\' */
    R16(0), R16(0), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1),
    R16(1), R16(1),
};
#undef R16

/* jscan_string, inlined where jscan_value scans keys and values. */
static inline int scan_string(const char **pp, const char *end, unsigned *flags,
			      struct buf *decode)
{
	const char *start, *p, *run;
	bool high = false;
	int rc;

	if (*pp == end || **pp != '"')
		return ELAVA_E_PARSE;
	start = run = p = *pp + 1;
	for (;;) {
		char dec[4];
		size_t len, n;
		unsigned char c;

		while (end - p >= 4 && !str_stop[(unsigned char)p[0]] &&
		       !str_stop[(unsigned char)p[1]] &&
		       !str_stop[(unsigned char)p[2]] &&
		       !str_stop[(unsigned char)p[3]])
			p += 4;
		while (p < end && !str_stop[(unsigned char)*p])
			p++;
		if (p == end)
			return ELAVA_E_PARSE;
		c = (unsigned char)*p;
		if (c == '"')
			break;
		if (c < 0x20)
			return ELAVA_E_PARSE;
		if (c >= 0x80) {
			high = true;
			p++;
			continue;
		}
		*flags |= JSCAN_ESCAPE;
		if (end - p < 2 || !(len = escape(p, end, dec, &n, flags)))
			return ELAVA_E_PARSE;
		if (decode &&
		    ((rc = buf_append(decode, run, (size_t)(p - run))) ||
		     (rc = buf_append(decode, dec, n))))
			return rc;
		p += len;
		run = p;
	}
	/* Escapes are ASCII, so the raw content is UTF-8 iff the string is. */
	if (high && !utf8_valid(start, (size_t)(p - start)))
		return ELAVA_E_PARSE;
	if (decode && (rc = buf_append(decode, run, (size_t)(p - run))))
		return rc;
	*pp = p + 1;
	return 0;
}

int jscan_string(const char **pp, const char *end, unsigned *flags,
		 struct buf *decode)
{
	return scan_string(pp, end, flags, decode);
}

/* A decoding cursor over a validated string's content. */
struct cursor {
	const char *p, *end;
	char pend[4];
	size_t npend, ipend;
};

/* The next decoded byte, or -1 at the end. */
static int cursor_next(struct cursor *c)
{
	unsigned dummy = 0;
	size_t len;

	if (c->ipend < c->npend)
		return (unsigned char)c->pend[c->ipend++];
	if (c->p == c->end)
		return -1;
	if (*c->p != '\\')
		return (unsigned char)*c->p++;
	len = escape(c->p, c->end, c->pend, &c->npend, &dummy);
	c->p += len ? len : 1; /* not 0: the content was validated */
	c->ipend = 1;
	return (unsigned char)c->pend[0];
}

/* jscan_str_cmp's slow path: at least one side holds an escape. */
static int str_cmp_decoded(const char *a, size_t an, const char *b, size_t bn)
{
	struct cursor ca = {a, a + an, {0}, 0, 0};
	struct cursor cb = {b, b + bn, {0}, 0, 0};

	for (;;) {
		int x = cursor_next(&ca), y = cursor_next(&cb);

		if (x != y)
			return x < y ? -1 : 1;
		if (x < 0)
			return 0;
	}
}

static inline int str_cmp(const char *a, size_t an, bool a_esc, const char *b,
			  size_t bn, bool b_esc)
{
	int c;

	if (a_esc || b_esc)
		return str_cmp_decoded(a, an, b, bn);
	/* Neighbouring keys mostly differ at once. */
	if (an && bn && a[0] != b[0])
		return (unsigned char)a[0] < (unsigned char)b[0] ? -1 : 1;
	c = memcmp(a, b, an < bn ? an : bn);
	if (c)
		return c < 0 ? -1 : 1;
	return an < bn ? -1 : an > bn;
}

int jscan_str_cmp(const char *a, size_t an, bool a_esc, const char *b,
		  size_t bn, bool b_esc)
{
	return str_cmp(a, an, a_esc, b, bn, b_esc);
}

/*
 * An integer jansson reads as such and prints back the same: no "-0" and
 * within int64 (jansson refuses the rest).
 */
static bool integer_canonical(const char *p, size_t n)
{
	static const char max[] = "9223372036854775807";
	static const char min[] = "9223372036854775808";
	bool neg = *p == '-';

	if (neg) {
		p++;
		n--;
	}
	if (neg && n == 1 && *p == '0')
		return false;
	if (n != sizeof(max) - 1)
		return n < sizeof(max) - 1;
	return memcmp(p, neg ? min : max, n) <= 0;
}

static int scan_number(const char **pp, const char *end, unsigned *flags)
{
	const char *start = *pp, *p = start;
	bool real = false;

	if (p < end && *p == '-')
		p++;
	if (p == end || !is_digit(*p))
		return ELAVA_E_PARSE;
	if (*p == '0')
		p++;
	else
		while (p < end && is_digit(*p))
			p++;
	if (p < end && *p == '.') {
		p++;
		if (p == end || !is_digit(*p))
			return ELAVA_E_PARSE;
		while (p < end && is_digit(*p))
			p++;
		real = true;
	}
	if (p < end && (*p == 'e' || *p == 'E')) {
		p++;
		if (p < end && (*p == '+' || *p == '-'))
			p++;
		if (p == end || !is_digit(*p))
			return ELAVA_E_PARSE;
		while (p < end && is_digit(*p))
			p++;
		real = true;
	}
	if (real)
		*flags |= JSCAN_REAL;
	else if (!integer_canonical(start, (size_t)(p - start)))
		*flags |= JSCAN_NONCANONICAL;
	*pp = p;
	return 0;
}

static int scan_literal(const char **pp, const char *end, const char *lit,
			size_t n)
{
	if ((size_t)(end - *pp) < n || memcmp(*pp, lit, n))
		return ELAVA_E_PARSE;
	*pp += n;
	return 0;
}

/* *pp at '{'. Keys must be strictly increasing, or JSCAN_UNSORTED. */
static int scan_object(const char **pp, const char *end, unsigned depth_left,
		       unsigned *flags)
{
	const char *p = *pp + 1, *prev = NULL;
	size_t prev_n = 0;
	bool prev_esc = false, sorted = true;
	int rc;

	jscan_ws(&p, end, flags);
	if (p < end && *p == '}') {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		const char *key = p;
		unsigned kf = 0;
		size_t n;

		if ((rc = scan_string(&p, end, &kf, NULL)))
			return rc;
		n = (size_t)(p - key - 2);
		if (sorted && prev &&
		    str_cmp(prev, prev_n, prev_esc, key + 1, n,
			    kf & JSCAN_ESCAPE) >= 0) {
			*flags |= JSCAN_UNSORTED;
			sorted = false;
		}
		*flags |= kf;
		prev = key + 1;
		prev_n = n;
		prev_esc = kf & JSCAN_ESCAPE;
		jscan_ws(&p, end, flags);
		if (p == end || *p++ != ':')
			return ELAVA_E_PARSE;
		jscan_ws(&p, end, flags);
		if ((rc = jscan_value(&p, end, depth_left - 1, flags)))
			return rc;
		jscan_ws(&p, end, flags);
		if (p == end)
			return ELAVA_E_PARSE;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return ELAVA_E_PARSE;
		jscan_ws(&p, end, flags);
	}
	*pp = p + 1;
	return 0;
}

/* *pp at '['. */
static int scan_array(const char **pp, const char *end, unsigned depth_left,
		      unsigned *flags)
{
	const char *p = *pp + 1;
	int rc;

	jscan_ws(&p, end, flags);
	if (p < end && *p == ']') {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if ((rc = jscan_value(&p, end, depth_left - 1, flags)))
			return rc;
		jscan_ws(&p, end, flags);
		if (p == end)
			return ELAVA_E_PARSE;
		if (*p == ']')
			break;
		if (*p++ != ',')
			return ELAVA_E_PARSE;
		jscan_ws(&p, end, flags);
	}
	*pp = p + 1;
	return 0;
}

/* Every sub-scanner moves *pp only on success. */
int jscan_value(const char **pp, const char *end, unsigned depth_left,
		unsigned *flags)
{
	if (*pp == end)
		return ELAVA_E_PARSE;
	switch (**pp) {
	case '{':
		if (!depth_left)
			return ELAVA_E_PARSE;
		return scan_object(pp, end, depth_left, flags);
	case '[':
		if (!depth_left)
			return ELAVA_E_PARSE;
		return scan_array(pp, end, depth_left, flags);
	default: break;
	}
	if (!depth_left)
		*flags |= JSCAN_DEEP;
	switch (**pp) {
	case '"': return scan_string(pp, end, flags, NULL);
	case 't': return scan_literal(pp, end, "true", 4);
	case 'f': return scan_literal(pp, end, "false", 5);
	case 'n': return scan_literal(pp, end, "null", 4);
	default: return scan_number(pp, end, flags);
	}
}
