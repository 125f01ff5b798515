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

/* A JSON value's text, from its first to its last byte; JSCAN_* flags. */
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
 * Values are scanned by core's jscan: a text is refused when it holds what
 * the canonical writer would not write (JSCAN_NONCANONICAL), keys not
 * strictly increasing (sorted and unique), or nesting deeper than
 * ejson_parse accepts (the record is level 1, as it counts depth).
 */

/* Byte-wise order of the unescaped strings, as strcmp orders keys. */
static int str_cmp(const struct str *a, const struct str *b)
{
	return jscan_str_cmp(a->p, a->n, a->esc, b->p, b->n, b->esc);
}

/* Scan the value at *pp into v, leaving *pp just past it. */
static int take_value(const char **pp, const char *end, unsigned level,
		      struct slice *v)
{
	const char *start = *pp;
	int rc;

	v->flags = 0;
	if ((rc = jscan_value(
		 pp, end,
		 level <= EJSON_MAX_DEPTH ? EJSON_MAX_DEPTH + 1 - level : 0,
		 &v->flags)))
		return rc;
	if (v->flags & (JSCAN_NONCANONICAL | JSCAN_UNSORTED | JSCAN_DEEP))
		return ELAVA_E_PARSE;
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
	const char *p = *pp, *key;
	unsigned flags = 0;
	int err;

	jscan_ws(&p, end, NULL);
	if (p < end && *p == ',') {
		p++;
		jscan_ws(&p, end, NULL);
	}
	if (p == end || *p != '"')
		return false; /* '}' */
	key = p;
	if ((err = jscan_string(&p, end, &flags, NULL)))
		goto fail;
	m->key.p = key + 1;
	m->key.n = (size_t)(p - key - 2);
	m->key.esc = flags & JSCAN_ESCAPE;
	jscan_ws(&p, end, NULL);
	p++; /* ':' */
	jscan_ws(&p, end, NULL);
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
	int err;

	jscan_ws(&p, end, NULL);
	if (p < end && *p == ',') {
		p++;
		jscan_ws(&p, end, NULL);
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
	const char *p = k->p - 1; /* the opening quote */
	unsigned flags = 0;

	if (!k->esc) {
		w->rc = resource__path_key(&w->path, k->p, k->n);
		return;
	}
	buf_reset(&w->key);
	w->rc = jscan_string(&p, k->p + k->n + 1, &flags, &w->key);
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
	if (!(v->flags & (JSCAN_WS | JSCAN_REAL)))
		return buf_append(out, v->p, v->n);
	p = run = v->p;
	end = v->p + v->n;
	while (p < end) {
		const char *q = p;

		jscan_ws(&q, end, NULL);
		if (q != p) {
			if ((rc = buf_append(out, run, (size_t)(p - run))))
				return rc;
			p = run = q;
		} else if (*p == '"') {
			for (p++; p < end && *p != '"'; p++)
				if (*p == '\\')
					p++;
			p++;
		} else if (memchr("-0123456789", *p, 11)) {
			bool real = false;

			while (q < end && memchr("0123456789+-.eE", *q, 15)) {
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
	    (w->rc = put_value(o, b)) || (w->rc = buf_puts(o, ",\"old\":")) ||
	    (w->rc = put_value(o, a)) || (w->rc = buf_puts(o, ",\"path\":")) ||
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
	case K_OBJECT: diff_objects(w, a, b, level); return;
	case K_ARRAY: diff_arrays(w, a, b, level); return;
	case K_NUMBER:
		/* Two spellings of one number cannot both be canonical. */
		if (((a->flags & JSCAN_REAL) && !real_canonical(a->p, a->n)) ||
		    ((b->flags & JSCAN_REAL) && !real_canonical(b->p, b->n))) {
			w->rc = ELAVA_E_PARSE;
			return;
		}
		break;
	case K_STRING:
	case K_BOOL:
	case K_NULL: break;
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
    {"account", IDENTITY},	{"attributes", ATTRIBUTES},
    {"created_at", CREATED_AT}, {"id", IDENTITY},
    {"name", OPTIONAL},		{"provider", IDENTITY},
    {"region", IDENTITY},	{"relationships", RELS},
    {"status", OPTIONAL},	{"tags", TAGS},
    {"type", IDENTITY},
};

static bool shape_ok(enum field_shape shape, const struct slice *v)
{
	switch (shape) {
	case IDENTITY: return kind_of(v) == K_STRING;
	case ATTRIBUTES: return kind_of(v) == K_OBJECT;
	case CREATED_AT: return created_at_ok(v);
	case OPTIONAL: return kind_of(v) == K_STRING || kind_of(v) == K_NULL;
	case RELS: return rels_ok(v);
	case TAGS: return tags_ok(v);
	}
	return false;
}

/* Expect punctuation c (after optional whitespace), then whitespace. */
static int expect(const char **pp, const char *end, char c)
{
	jscan_ws(pp, end, NULL);
	if (*pp == end || **pp != c)
		return ELAVA_E_PARSE;
	(*pp)++;
	jscan_ws(pp, end, NULL);
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
	jscan_ws(&pa, ea, NULL);
	jscan_ws(&pb, eb, NULL);
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
