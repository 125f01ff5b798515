/*
 * The field diff of two stored versions computed on their canonical JSON
 * text, without parsing either into values: the store diffs every modified
 * resource of a scan commit, and building two jansson trees per pair costs
 * far more than the diff itself. Canonical form makes this possible: equal
 * values are equal bytes (keys sorted, numbers normalized, strings
 * minimally escaped), so unchanged subtrees are skipped with one memcmp and
 * a changed value is reported as its own text. Anything that is not in that
 * form, or not well-formed, is refused with ELAVA_E_PARSE so the caller can
 * take the parsing path (resource_from_json + resource_diff), whose output
 * this one reproduces byte for byte.
 */
#include "resource/resource_int.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* What a value's text holds beyond canonical bytes (see put_value). */
#define F_WS 1u	  /* whitespace between tokens */
#define F_REAL 2u /* a number with a fraction or exponent */

/* A JSON value's text, from its first to its last byte; flags F_*. */
struct slice {
	const char *p;
	size_t n;
	unsigned flags;
};

/* A string's content between the quotes, still escaped. */
struct str {
	const char *p;
	size_t n;
	bool esc; /* holds a backslash escape */
};

struct member {
	struct str key;
	struct slice val;
};

enum kind { K_OBJECT, K_ARRAY, K_STRING, K_NUMBER, K_BOOL, K_NULL };

/* ------------------------------------------------------------- scanning */

/*
 * A validating scanner over one text: RFC 8259 syntax, strings valid UTF-8
 * with only the escapes the canonical writer uses, integers as jansson
 * reads them back unchanged, object keys strictly increasing (sorted and
 * unique), nesting at most EJSON_MAX_DEPTH as ejson_parse counts it. Every
 * read is checked against `end`: texts come from disk.
 */

static bool is_ws(char c)
{
	return c == ' ' || c == '\t' || c == '\n' || c == '\r';
}

static bool is_digit(char c)
{
	return c >= '0' && c <= '9';
}

/* Canonical text has no whitespace: one test, usually. */
static inline void skip_ws(const char **pp, const char *end, unsigned *flags)
{
	const char *p = *pp;

	if (p == end || !is_ws(*p))
		return;
	while (p < end && is_ws(*p))
		p++;
	*flags |= F_WS;
	*pp = p;
}

static int hex_lower(char c)
{
	if (is_digit(c))
		return c - '0';
	if (c >= 'a' && c <= 'f')
		return c - 'a' + 10;
	return -1;
}

/*
 * The \u escapes buf_append_json_string writes: control characters other
 * than NUL (which JSON input may not carry here) and those with a short
 * form, as \u00xx in lower case.
 */
static bool canonical_u(const char *h)
{
	int lo = hex_lower(h[3]);

	if (h[0] != '0' || h[1] != '0' || (h[2] != '0' && h[2] != '1') ||
	    lo < 0)
		return false;
	switch ((h[2] - '0') * 16 + lo) {
	case 0x00:
	case '\b':
	case '\t':
	case '\n':
	case '\f':
	case '\r':
		return false;
	default:
		return true;
	}
}

/* Bytes that end a run of plain string content: " \\ controls, non-ASCII. */
#define R16(v) v, v, v, v, v, v, v, v, v, v, v, v, v, v, v, v
static const unsigned char str_stop[256] = {
	R16(1), R16(1), /* 0x00-0x1f */
	0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, /* '"' */
	R16(0), R16(0),
	0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 1, 0, 0, 0, /* '\\' */
	R16(0), R16(0),
	R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1), R16(1),
};
#undef R16

/* *pp at the opening quote; on success past the closing one. */
static int scan_string(const char **pp, const char *end, struct str *s)
{
	const char *start = *pp + 1, *p = start;
	bool high = false, esc = false;

	for (;;) {
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
		esc = true;
		if (end - p < 2)
			return ELAVA_E_PARSE;
		switch (p[1]) {
		case '"':
		case '\\':
		case 'b':
		case 'f':
		case 'n':
		case 'r':
		case 't':
			p += 2;
			break;
		case 'u':
			if (end - p < 6 || !canonical_u(p + 2))
				return ELAVA_E_PARSE;
			p += 6;
			break;
		default: /* "\/" and the rest are not canonical */
			return ELAVA_E_PARSE;
		}
	}
	/* Escapes are ASCII, so the raw content is UTF-8 iff the string is. */
	if (high && !utf8_valid(start, (size_t)(p - start)))
		return ELAVA_E_PARSE;
	s->p = start;
	s->n = (size_t)(p - start);
	s->esc = esc;
	*pp = p + 1;
	return 0;
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
	/* Reals are checked where it matters (real_canonical): it costs. */
	if (real)
		*flags |= F_REAL;
	else if (!integer_canonical(start, (size_t)(p - start)))
		return ELAVA_E_PARSE;
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

/* One byte of a validated string's content, unescaped; -1 at its end. */
static int next_byte(const char **pp, const char *end)
{
	const char *p = *pp;
	int c;

	if (p == end)
		return -1;
	c = (unsigned char)*p++;
	if (c == '\\') {
		c = (unsigned char)*p++;
		switch (c) {
		case 'b': c = '\b'; break;
		case 'f': c = '\f'; break;
		case 'n': c = '\n'; break;
		case 'r': c = '\r'; break;
		case 't': c = '\t'; break;
		case 'u': /* \u00xx: scan_string let no other through */
			c = hex_lower(p[2]) * 16 + hex_lower(p[3]);
			p += 4;
			break;
		default: /* '"' or '\\' */
			break;
		}
	}
	*pp = p;
	return c;
}

/* Byte-wise order of the unescaped strings, as strcmp orders keys. */
static int str_cmp(const struct str *a, const struct str *b)
{
	const char *pa = a->p, *pb = b->p;
	const char *ea = a->p + a->n, *eb = b->p + b->n;

	if (!a->esc && !b->esc) {
		int c;

		/* Neighbouring keys mostly differ at once. */
		if (a->n && b->n && a->p[0] != b->p[0])
			return (unsigned char)a->p[0] < (unsigned char)b->p[0]
				       ? -1
				       : 1;
		c = memcmp(a->p, b->p, a->n < b->n ? a->n : b->n);

		if (c)
			return c;
		return a->n < b->n ? -1 : a->n > b->n;
	}
	for (;;) {
		int ca = next_byte(&pa, ea), cb = next_byte(&pb, eb);

		if (ca != cb)
			return ca < cb ? -1 : 1;
		if (ca < 0)
			return 0;
	}
}

static int scan_value(const char **pp, const char *end, unsigned level,
		      unsigned *flags);

/* *pp at '{'. */
static int scan_object(const char **pp, const char *end, unsigned level,
		       unsigned *flags)
{
	const char *p = *pp + 1;
	struct str prev = {NULL, 0, false}, key;
	bool first = true;
	int rc;

	skip_ws(&p, end, flags);
	if (p < end && *p == '}') {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if (p == end || *p != '"')
			return ELAVA_E_PARSE;
		if ((rc = scan_string(&p, end, &key)))
			return rc;
		if (!first && str_cmp(&prev, &key) >= 0)
			return ELAVA_E_PARSE; /* unsorted or duplicated */
		first = false;
		prev = key;
		skip_ws(&p, end, flags);
		if (p == end || *p++ != ':')
			return ELAVA_E_PARSE;
		skip_ws(&p, end, flags);
		if ((rc = scan_value(&p, end, level + 1, flags)))
			return rc;
		skip_ws(&p, end, flags);
		if (p == end)
			return ELAVA_E_PARSE;
		if (*p == '}')
			break;
		if (*p++ != ',')
			return ELAVA_E_PARSE;
		skip_ws(&p, end, flags);
	}
	*pp = p + 1;
	return 0;
}

/* *pp at '['. */
static int scan_array(const char **pp, const char *end, unsigned level,
		      unsigned *flags)
{
	const char *p = *pp + 1;
	int rc;

	skip_ws(&p, end, flags);
	if (p < end && *p == ']') {
		*pp = p + 1;
		return 0;
	}
	for (;;) {
		if ((rc = scan_value(&p, end, level + 1, flags)))
			return rc;
		skip_ws(&p, end, flags);
		if (p == end)
			return ELAVA_E_PARSE;
		if (*p == ']')
			break;
		if (*p++ != ',')
			return ELAVA_E_PARSE;
		skip_ws(&p, end, flags);
	}
	*pp = p + 1;
	return 0;
}

/*
 * *pp at a value's first byte, at nesting `level` (the record is level 1,
 * as ejson_parse counts depth). Adds to *flags what the value holds.
 */
static int scan_value(const char **pp, const char *end, unsigned level,
		      unsigned *flags)
{
	struct str s;

	if (level > EJSON_MAX_DEPTH || *pp == end)
		return ELAVA_E_PARSE;
	switch (**pp) {
	case '{':
		return scan_object(pp, end, level, flags);
	case '[':
		return scan_array(pp, end, level, flags);
	case '"':
		return scan_string(pp, end, &s);
	case 't':
		return scan_literal(pp, end, "true", 4);
	case 'f':
		return scan_literal(pp, end, "false", 5);
	case 'n':
		return scan_literal(pp, end, "null", 4);
	default:
		return scan_number(pp, end, flags);
	}
}

/* Scan the value at *pp into v, leaving *pp just past it. */
static int take_value(const char **pp, const char *end, unsigned level,
		      struct slice *v)
{
	const char *start = *pp;
	int rc;

	v->flags = 0;
	if ((rc = scan_value(pp, end, level, &v->flags)))
		return rc;
	v->p = start;
	v->n = (size_t)(*pp - start);
	return 0;
}

/*
 * Like take_value for the value at *pp in the other text, when it may well
 * be byte-equal to `like`: then it is that value, unscanned. Only for
 * values that end with a delimiter (a number's end depends on what follows).
 */
static int take_value_like(const char **pp, const char *end, unsigned level,
			   const struct slice *like, struct slice *v)
{
	char c = like->p[0];

	if ((c == '{' || c == '[' || c == '"') &&
	    (size_t)(end - *pp) >= like->n && !memcmp(*pp, like->p, like->n)) {
		*v = *like;
		v->p = *pp;
		*pp += like->n;
		return 0;
	}
	return take_value(pp, end, level, v);
}

/*
 * The next member of a validated object whose members start at *pp (just
 * past '{' or past the previous member); false at the closing brace.
 */
static bool next_member(const char **pp, const char *end, unsigned level,
			struct member *m, int *rc)
{
	const char *p = *pp;
	unsigned flags = 0;
	int err;

	skip_ws(&p, end, &flags);
	if (p < end && *p == ',') {
		p++;
		skip_ws(&p, end, &flags);
	}
	if (p == end || *p != '"')
		return false; /* '}' */
	if ((err = scan_string(&p, end, &m->key)))
		goto fail;
	skip_ws(&p, end, &flags);
	p++; /* ':' */
	skip_ws(&p, end, &flags);
	if ((err = take_value(&p, end, level, &m->val)))
		goto fail;
	*pp = p;
	return true;
fail:
	*rc = err; /* only ever set: *rc may hold an earlier error */
	return false;
}

/* The same for the elements of a validated array. */
static bool next_element(const char **pp, const char *end, unsigned level,
			 struct slice *v, int *rc)
{
	const char *p = *pp;
	unsigned flags = 0;
	int err;

	skip_ws(&p, end, &flags);
	if (p < end && *p == ',') {
		p++;
		skip_ws(&p, end, &flags);
	}
	if (p == end || *p == ']')
		return false;
	if ((err = take_value(&p, end, level, v))) {
		*rc = err;
		return false;
	}
	*pp = p;
	return true;
}

static enum kind kind_of(const struct slice *v)
{
	switch (v->p[0]) {
	case '{': return K_OBJECT;
	case '[': return K_ARRAY;
	case '"': return K_STRING;
	case 't':
	case 'f': return K_BOOL;
	case 'n': return K_NULL;
	default: return K_NUMBER;
	}
}

static bool same(const struct slice *a, const struct slice *b)
{
	return a->n == b->n && !memcmp(a->p, b->p, a->n);
}

/*
 * True when the real p[0..n) is spelled as ejson_dump_canonical spells its
 * value (core's dump_real: integral values within 2^53 as integers, the
 * rest in the shortest "%.Ng" that reads back), i.e. when it is what the
 * parsing path would print for it.
 */
static bool real_canonical(const char *p, size_t n)
{
	char num[40], tmp[40];
	double d;

	if (n >= sizeof(num))
		return false;
	memcpy(num, p, n);
	num[n] = '\0';
	d = strtod(num, NULL);
	if (!isfinite(d) || d == 0 ||
	    (d == floor(d) && fabs(d) < 9007199254740992.0))
		return false;
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return strlen(tmp) == n && !memcmp(tmp, num, n);
}

/* --------------------------------------------------------------- shape */

/* A string value's content (v validated, K_STRING). */
static struct str str_of(const struct slice *v)
{
	struct str s = {v->p + 1, v->n - 2, false};

	s.esc = memchr(s.p, '\\', s.n) != NULL;
	return s;
}

/* created_at: null, or a time as time_format_rfc3339 writes a non-zero one. */
static bool created_at_ok(const struct slice *v)
{
	char in[TIME_RFC3339_LEN], back[TIME_RFC3339_LEN];
	int64_t ns;

	if (kind_of(v) == K_NULL)
		return true;
	if (kind_of(v) != K_STRING || v->n - 2 >= sizeof(in))
		return false;
	memcpy(in, v->p + 1, v->n - 2);
	in[v->n - 2] = '\0';
	if (time_parse_rfc3339(in, &ns) || ns == 0)
		return false;
	time_format_rfc3339(ns, back);
	return !strcmp(in, back);
}

/* tags: an object of strings. */
static bool tags_ok(const struct slice *v)
{
	const char *p = v->p + 1, *end = v->p + v->n;
	struct member m;
	int rc = 0;

	if (kind_of(v) != K_OBJECT)
		return false;
	while (next_member(&p, end, 3, &m, &rc))
		if (kind_of(&m.val) != K_STRING)
			return false;
	return !rc;
}

/*
 * relationships: an array of {"target":<string>,"type":<string>}, sorted
 * by (type, target) and unique, as resource_rel_add keeps them (the parsing
 * path would reorder them otherwise).
 */
static bool rels_ok(const struct slice *v)
{
	const char *p = v->p + 1, *end = v->p + v->n;
	struct str prev_type = {NULL, 0, false}, prev_target = prev_type;
	struct slice e;
	bool first = true;
	int rc = 0;

	if (kind_of(v) != K_ARRAY)
		return false;
	while (next_element(&p, end, 3, &e, &rc)) {
		const char *q = e.p + 1, *qend = e.p + e.n;
		struct member target, type, extra;
		struct str ty, ta;
		int c;

		if (kind_of(&e) != K_OBJECT ||
		    !next_member(&q, qend, 4, &target, &rc) ||
		    !next_member(&q, qend, 4, &type, &rc) ||
		    next_member(&q, qend, 4, &extra, &rc) || target.key.esc ||
		    target.key.n != 6 || memcmp(target.key.p, "target", 6) ||
		    type.key.esc || type.key.n != 4 ||
		    memcmp(type.key.p, "type", 4) ||
		    kind_of(&target.val) != K_STRING ||
		    kind_of(&type.val) != K_STRING)
			return false;
		ty = str_of(&type.val);
		ta = str_of(&target.val);
		if (!first) {
			c = str_cmp(&prev_type, &ty);
			if (c == 0)
				c = str_cmp(&prev_target, &ta);
			if (c >= 0)
				return false;
		}
		first = false;
		prev_type = ty;
		prev_target = ta;
	}
	return !rc;
}

/* ------------------------------------------------------------------ diff */

struct walk {
	const struct resource__rule **rules; /* those of the record's type */
	size_t nrules;
	struct buf path;
	struct buf key; /* scratch: an escaped key, unescaped */
	struct buf *out;
	size_t nchanges;
	int rc; /* first error */
};

static bool skipped(const struct walk *w)
{
	return w->nrules && resource__rules_match(w->rules, w->nrules,
						  w->path.data, w->path.len);
}

static void path_key(struct walk *w, const struct str *k)
{
	const char *p = k->p, *end = k->p + k->n;
	int c;

	if (!k->esc) {
		w->rc = resource__path_key(&w->path, k->p, k->n);
		return;
	}
	buf_reset(&w->key);
	while ((c = next_byte(&p, end)) >= 0 && !w->rc)
		w->rc = buf_putc(&w->key, (char)c);
	if (!w->rc)
		w->rc = resource__path_key(&w->path, w->key.data, w->key.len);
}

static void path_cut(struct walk *w, size_t mark)
{
	w->path.len = mark;
	w->path.data[mark] = '\0';
}

/*
 * Append v as ejson_dump_canonical would print its value: its own bytes,
 * less any whitespace between tokens; a real in a spelling of its own
 * means the text is not canonical (ELAVA_E_PARSE).
 */
static int put_value(struct buf *out, const struct slice *v)
{
	const char *p, *end, *run;
	int rc;

	if (!v)
		return buf_append(out, "null", 4);
	if (!v->flags)
		return buf_append(out, v->p, v->n);
	p = run = v->p;
	end = v->p + v->n;
	while (p < end) {
		if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (is_ws(*p)) {
			if ((rc = buf_append(out, run, (size_t)(p - run))))
				return rc;
			while (p < end && is_ws(*p))
				p++;
			run = p;
		} else if (*p == '-' || is_digit(*p)) {
			const char *q = p;
			bool real = false;

			while (q < end && (is_digit(*q) || *q == '-' ||
					   *q == '+' || *q == '.' ||
					   *q == 'e' || *q == 'E')) {
				real |= *q == '.' || *q == 'e' || *q == 'E';
				q++;
			}
			if (real && !real_canonical(p, (size_t)(q - p)))
				return ELAVA_E_PARSE;
			p = q;
		} else {
			p++;
		}
	}
	return buf_append(out, run, (size_t)(end - run));
}

/* Report the values at w->path (NULL: absent), as resource_diff_to_json. */
static void add(struct walk *w, const struct slice *a, const struct slice *b)
{
	struct buf *o = w->out;

	if ((w->rc = buf_puts(o, w->nchanges ? ",{\"new\":" : "{\"new\":")) ||
	    (w->rc = put_value(o, b)) ||
	    (w->rc = buf_puts(o, ",\"old\":")) || (w->rc = put_value(o, a)) ||
	    (w->rc = buf_puts(o, ",\"path\":")) ||
	    (w->rc = buf_append_json_string(o, w->path.data, w->path.len)) ||
	    (w->rc = buf_putc(o, '}')))
		return;
	w->nchanges++;
}

static void diff_values(struct walk *w, const struct slice *a,
			const struct slice *b, unsigned level);

/* Members merged by key in canonical order, as resource_diff does. */
static void diff_objects(struct walk *w, const struct slice *a,
			 const struct slice *b, unsigned level)
{
	const char *pa = a->p + 1, *pb = b->p + 1;
	const char *ea = a->p + a->n, *eb = b->p + b->n;
	size_t mark = w->path.len;
	struct member ma, mb;
	bool ha = next_member(&pa, ea, level + 1, &ma, &w->rc);
	bool hb = next_member(&pb, eb, level + 1, &mb, &w->rc);

	while ((ha || hb) && !w->rc) {
		int c = !ha ? 1 : !hb ? -1 : str_cmp(&ma.key, &mb.key);
		const struct slice *va = c <= 0 ? &ma.val : NULL;
		const struct slice *vb = c >= 0 ? &mb.val : NULL;

		if (!va || !vb || !same(va, vb)) {
			path_key(w, c <= 0 ? &ma.key : &mb.key);
			if (!w->rc)
				diff_values(w, va, vb, level + 1);
			path_cut(w, mark);
		}
		if (c <= 0)
			ha = next_member(&pa, ea, level + 1, &ma, &w->rc);
		if (c >= 0)
			hb = next_member(&pb, eb, level + 1, &mb, &w->rc);
	}
}

/* Elements by index, as resource_diff does. */
static void diff_arrays(struct walk *w, const struct slice *a,
			const struct slice *b, unsigned level)
{
	const char *pa = a->p + 1, *pb = b->p + 1;
	const char *ea = a->p + a->n, *eb = b->p + b->n;
	size_t mark = w->path.len;
	struct slice va, vb;
	bool ha = next_element(&pa, ea, level + 1, &va, &w->rc);
	bool hb = next_element(&pb, eb, level + 1, &vb, &w->rc);

	for (size_t i = 0; (ha || hb) && !w->rc; i++) {
		if (!ha || !hb || !same(&va, &vb)) {
			w->rc = resource__path_index(&w->path, i);
			if (!w->rc)
				diff_values(w, ha ? &va : NULL, hb ? &vb : NULL,
					    level + 1);
			path_cut(w, mark);
		}
		if (ha)
			ha = next_element(&pa, ea, level + 1, &va, &w->rc);
		if (hb)
			hb = next_element(&pb, eb, level + 1, &vb, &w->rc);
	}
}

/*
 * a, b: the values at w->path before and after (NULL: absent), not both
 * absent and not byte-equal. resource_diff's diff_values on text.
 */
static void diff_values(struct walk *w, const struct slice *a,
			const struct slice *b, unsigned level)
{
	if (skipped(w))
		return;
	if (!a || !b || kind_of(a) != kind_of(b)) {
		/* Appeared, vanished or changed type: report it whole. */
		add(w, a, b);
		return;
	}
	switch (kind_of(a)) {
	case K_OBJECT:
		diff_objects(w, a, b, level);
		return;
	case K_ARRAY:
		diff_arrays(w, a, b, level);
		return;
	case K_NUMBER:
		/* Two spellings of one number cannot both be canonical. */
		if (((a->flags & F_REAL) && !real_canonical(a->p, a->n)) ||
		    ((b->flags & F_REAL) && !real_canonical(b->p, b->n))) {
			w->rc = ELAVA_E_PARSE;
			return;
		}
		break;
	case K_STRING:
	case K_BOOL:
	case K_NULL:
		break;
	}
	/* Canonical scalars: different bytes are different values. */
	add(w, a, b);
}

/* ----------------------------------------------------------- the record */

enum field_shape { IDENTITY, ATTRIBUTES, CREATED_AT, OPTIONAL, RELS, TAGS };

/* Every member resource_to_json writes, in its order. */
static const struct {
	const char *name;
	enum field_shape shape;
} fields[] = {
	{"account", IDENTITY},	    {"attributes", ATTRIBUTES},
	{"created_at", CREATED_AT}, {"id", IDENTITY},
	{"name", OPTIONAL},	    {"provider", IDENTITY},
	{"region", IDENTITY},	    {"relationships", RELS},
	{"status", OPTIONAL},	    {"tags", TAGS},
	{"type", IDENTITY},
};

static bool shape_ok(enum field_shape shape, const struct slice *v)
{
	switch (shape) {
	case IDENTITY:
		return kind_of(v) == K_STRING;
	case ATTRIBUTES:
		return kind_of(v) == K_OBJECT;
	case CREATED_AT:
		return created_at_ok(v);
	case OPTIONAL:
		return kind_of(v) == K_STRING || kind_of(v) == K_NULL;
	case RELS:
		return rels_ok(v);
	case TAGS:
		return tags_ok(v);
	}
	return false;
}

/* Expect punctuation c (after optional whitespace), then whitespace. */
static int expect(const char **pp, const char *end, char c)
{
	unsigned flags = 0;

	skip_ws(pp, end, &flags);
	if (*pp == end || **pp != c)
		return ELAVA_E_PARSE;
	(*pp)++;
	skip_ws(pp, end, &flags);
	return 0;
}

/* Expect the member name "<name>": at *pp, then ':'. */
static int expect_name(const char **pp, const char *end, const char *name)
{
	size_t n = strlen(name);

	if ((size_t)(end - *pp) < n + 2 || (*pp)[0] != '"' ||
	    memcmp(*pp + 1, name, n) || (*pp)[n + 1] != '"')
		return ELAVA_E_PARSE;
	*pp += n + 2;
	return expect(pp, end, ':');
}

/*
 * The record's members, both texts in step: the same eleven in the same
 * order, or the texts are not canonical records.
 */
static int diff_records(struct walk *w, const char *a, size_t alen,
			const char *b, size_t blen)
{
	const char *pa = a, *ea = a + alen, *pb = b, *eb = b + blen;
	unsigned flags = 0;
	int rc;

	if ((rc = expect(&pa, ea, '{')) || (rc = expect(&pb, eb, '{')))
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(fields); i++) {
		struct slice va, vb;

		if (i && ((rc = expect(&pa, ea, ',')) ||
			  (rc = expect(&pb, eb, ','))))
			return rc;
		if ((rc = expect_name(&pa, ea, fields[i].name)) ||
		    (rc = expect_name(&pb, eb, fields[i].name)) ||
		    (rc = take_value(&pa, ea, 2, &va)) ||
		    (rc = take_value_like(&pb, eb, 2, &va, &vb)))
			return rc;
		if (!shape_ok(fields[i].shape, &va) ||
		    (!same(&va, &vb) && !shape_ok(fields[i].shape, &vb)))
			return ELAVA_E_PARSE;
		/* Identity fields are equal by construction: never diffed. */
		if (fields[i].shape == IDENTITY || same(&va, &vb))
			continue;
		buf_reset(&w->path);
		if ((rc = buf_puts(&w->path, fields[i].name)))
			return rc;
		diff_values(w, &va, &vb, 2);
		if (w->rc)
			return w->rc;
	}
	if ((rc = expect(&pa, ea, '}')) || (rc = expect(&pb, eb, '}')))
		return rc;
	skip_ws(&pa, ea, &flags);
	skip_ws(&pb, eb, &flags);
	return pa == ea && pb == eb ? 0 : ELAVA_E_PARSE;
}

int resource_diff_canonical(const char *a, size_t alen, const char *b,
			    size_t blen, const struct resource_ignore *ign,
			    const char *type, struct buf *out)
{
	struct walk w = {NULL, 0, BUF_INIT, BUF_INIT, out, 0, 0};
	size_t start = out->len;
	int rc;

	if (!a || !b)
		return ELAVA_E_PARSE;
	if (alen > RESOURCE_MAX_JSON || blen > RESOURCE_MAX_JSON)
		return ELAVA_E_TOOBIG;
	buf_init(&w.path, 0);
	buf_init(&w.key, 0);
	w.nrules = resource__ignore_select(ign, type, &w.rules);
	if (!(rc = buf_putc(out, '[')) &&
	    !(rc = diff_records(&w, a, alen, b, blen)))
		rc = buf_putc(out, ']');
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	xfree(w.rules);
	buf_release(&w.path);
	buf_release(&w.key);
	return rc;
}
