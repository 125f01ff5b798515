/*
 * Field-level diff of two versions of a resource: what a change event
 * lists ("tags.Env: dev -> prod"). Walks both versions in the canonical
 * order, so the same pair of records always yields the same list, and
 * skips what the ignore rules call noise.
 */
#include "resource/resource_int.h"

#include <string.h>

struct differ {
	struct resource_diff *out;
	size_t cap;
	const struct resource__rule **rules; /* those of the record's type */
	size_t nrules;
	struct buf path;
	int rc; /* first path-building error; paths are capped like any buf */
};

static bool skipped(const struct differ *d)
{
	return d->nrules && resource__rules_match(d->rules, d->nrules,
						  d->path.data, d->path.len);
}

/* Record a change; takes both references. */
static void add(struct differ *d, struct ejson *old_value,
		struct ejson *new_value)
{
	struct resource_field_change *c;

	if (d->out->n == d->cap) {
		d->cap = d->cap ? st_mult(d->cap, 2) : 8;
		d->out->fields =
		    xrealloc(d->out->fields, st_mult(d->cap, sizeof(*c)));
	}
	c = &d->out->fields[d->out->n++];
	c->path = xstrndup(d->path.data, d->path.len);
	c->old_value = old_value;
	c->new_value = new_value;
}

/* Copies, so a change outlives and never aliases the records it came from. */
static struct ejson *copy(const struct ejson *v)
{
	return v ? ejson_copy(v) : NULL;
}

/* Numbers compare by value whatever their JSON spelling (1 and 1.0). */
static int kind(const struct ejson *v)
{
	enum ejson_type t = ejson_typeof(v);

	return t == EJSON_REAL ? EJSON_INT : (int)t;
}

static bool scalar_equal(const struct ejson *a, const struct ejson *b)
{
	switch (ejson_typeof(a)) {
	case EJSON_NULL: return true;
	case EJSON_BOOL: return ejson_bool_value(a) == ejson_bool_value(b);
	case EJSON_STRING:
		return ejson_string_length(a) == ejson_string_length(b) &&
		       !memcmp(ejson_string_value(a), ejson_string_value(b),
			       ejson_string_length(a));
	case EJSON_INT:
		if (ejson_typeof(b) == EJSON_INT)
			return ejson_int_value(a) == ejson_int_value(b);
		return ejson_equal(a, b);
	case EJSON_REAL:
	case EJSON_ARRAY:
	case EJSON_OBJECT: break;
	}
	return ejson_equal(a, b);
}

static void diff_values(struct differ *d, const struct ejson *a,
			const struct ejson *b);

static void diff_objects(struct differ *d, const struct ejson *a,
			 const struct ejson *b)
{
	size_t na, nb, i = 0, j = 0, mark = d->path.len;
	const char **ka = ejson_object_sorted_keys(a, &na);
	const char **kb = ejson_object_sorted_keys(b, &nb);

	/* Merge the two sorted key lists: the union, in canonical order. */
	while ((i < na || j < nb) && !d->rc) {
		const char *key = NULL;
		const struct ejson *va = NULL, *vb = NULL;
		int c = i == na ? 1 : j == nb ? -1 : strcmp(ka[i], kb[j]);

		if (c <= 0) {
			key = ka[i];
			va = ejson_object_get(a, ka[i++]);
		}
		if (c >= 0) {
			key = kb[j];
			vb = ejson_object_get(b, kb[j++]);
		}
		d->rc = resource__path_key(&d->path, key, strlen(key));
		if (!d->rc)
			diff_values(d, va, vb);
		d->path.len = mark;
		d->path.data[mark] = '\0';
	}
	xfree(ka);
	xfree(kb);
}

static void diff_arrays(struct differ *d, const struct ejson *a,
			const struct ejson *b)
{
	size_t na = ejson_array_size(a), nb = ejson_array_size(b);
	size_t mark = d->path.len;

	for (size_t i = 0; i < na || i < nb; i++) {
		if (d->rc)
			break;
		d->rc = resource__path_index(&d->path, i);
		if (!d->rc)
			diff_values(d, i < na ? ejson_array_get(a, i) : NULL,
				    i < nb ? ejson_array_get(b, i) : NULL);
		d->path.len = mark;
		d->path.data[mark] = '\0';
	}
}

/* a, b: the values at d->path before and after; NULL when absent. */
static void diff_values(struct differ *d, const struct ejson *a,
			const struct ejson *b)
{
	if ((!a && !b) || skipped(d))
		return;
	if (!a || !b || kind(a) != kind(b)) {
		/* Appeared, vanished or changed type: report it whole. */
		add(d, copy(a), copy(b));
		return;
	}
	switch (ejson_typeof(a)) {
	case EJSON_OBJECT: diff_objects(d, a, b); return;
	case EJSON_ARRAY: diff_arrays(d, a, b); return;
	case EJSON_NULL:
	case EJSON_BOOL:
	case EJSON_INT:
	case EJSON_REAL:
	case EJSON_STRING: break;
	}
	if (!scalar_equal(a, b))
		add(d, copy(a), copy(b));
}

static void set_path(struct differ *d, const char *field)
{
	buf_reset(&d->path);
	d->rc = buf_puts(&d->path, field);
}

/*
 * A string field as a JSON value; NULL for unset. A record that skipped
 * validation may hold invalid UTF-8, which JSON cannot carry: null then.
 */
static struct ejson *string_value(const char *s)
{
	struct ejson *v;

	if (!s)
		return NULL;
	v = ejson_string(s, strlen(s));
	return v ? v : ejson_null();
}

static void diff_strings(struct differ *d, const char *field, const char *a,
			 const char *b)
{
	if ((!a && !b) || (a && b && !strcmp(a, b)))
		return;
	set_path(d, field);
	if (!d->rc && !skipped(d))
		add(d, string_value(a), string_value(b));
}

static void diff_created_at(struct differ *d, int64_t a, int64_t b)
{
	char ta[TIME_RFC3339_LEN], tb[TIME_RFC3339_LEN];

	/* As the canonical form spells them: milliseconds, 0 is unknown. */
	if (a)
		time_format_rfc3339(a, ta);
	if (b)
		time_format_rfc3339(b, tb);
	diff_strings(d, "created_at", a ? ta : NULL, b ? tb : NULL);
}

static void diff_tags(struct differ *d, const struct resource *a,
		      const struct resource *b)
{
	size_t i = 0, j = 0, mark;

	set_path(d, "tags");
	if (d->rc || skipped(d))
		return;
	mark = d->path.len;
	while ((i < a->ntags || j < b->ntags) && !d->rc) {
		const struct resource_tag *ta = NULL, *tb = NULL;
		int c = i == a->ntags ? 1
			: j == b->ntags
			    ? -1
			    : strcmp(a->tags[i].key, b->tags[j].key);
		const char *key;

		if (c <= 0)
			ta = &a->tags[i++];
		if (c >= 0)
			tb = &b->tags[j++];
		if (ta && tb && !strcmp(ta->value, tb->value))
			continue;
		key = ta ? ta->key : tb->key;
		d->rc = resource__path_key(&d->path, key, strlen(key));
		if (!d->rc && !skipped(d))
			add(d, string_value(ta ? ta->value : NULL),
			    string_value(tb ? tb->value : NULL));
		d->path.len = mark;
		d->path.data[mark] = '\0';
	}
}

static bool rels_equal(const struct resource *a, const struct resource *b)
{
	if (a->nrels != b->nrels)
		return false;
	for (size_t i = 0; i < a->nrels; i++)
		if (strcmp(a->rels[i].type, b->rels[i].type) ||
		    strcmp(a->rels[i].target, b->rels[i].target))
			return false;
	return true;
}

static struct ejson *rels_value(const struct resource *r)
{
	struct ejson *arr = ejson_array();

	for (size_t i = 0; i < r->nrels; i++) {
		struct ejson *o = ejson_object();
		struct ejson *t = string_value(r->rels[i].target);
		struct ejson *y = string_value(r->rels[i].type);

		ejson_object_set_take(o, "target", t ? t : ejson_null());
		ejson_object_set_take(o, "type", y ? y : ejson_null());
		ejson_array_append_take(arr, o);
	}
	return arr;
}

static void diff_rels(struct differ *d, const struct resource *a,
		      const struct resource *b)
{
	struct ejson *va, *vb;

	if (rels_equal(a, b))
		return;
	/* Rare, and small: reuse the generic walk on JSON arrays. */
	va = rels_value(a);
	vb = rels_value(b);
	set_path(d, "relationships");
	if (!d->rc)
		diff_values(d, va, vb);
	ejson_decref(va);
	ejson_decref(vb);
}

int resource_diff(const struct resource *a, const struct resource *b,
		  const struct resource_ignore *ign, struct resource_diff *out)
{
	struct differ d = {out, 0, NULL, 0, BUF_INIT, 0};

	out->fields = NULL;
	out->n = 0;
	buf_init(&d.path, 0);
	d.nrules = resource__ignore_select(ign, a->type, &d.rules);
	/* Fields in alphabetical order, as the canonical form has them. */
	if (a->attributes && b->attributes) {
		set_path(&d, "attributes");
		if (!d.rc)
			diff_values(&d, a->attributes, b->attributes);
	}
	diff_created_at(&d, a->created_at_ns, b->created_at_ns);
	diff_strings(&d, "name", a->name, b->name);
	diff_rels(&d, a, b);
	diff_strings(&d, "status", a->status, b->status);
	diff_tags(&d, a, b);
	xfree(d.rules);
	buf_release(&d.path);
	return d.rc;
}

void resource_diff_release(struct resource_diff *d)
{
	if (!d)
		return;
	for (size_t i = 0; i < d->n; i++) {
		xfree(d->fields[i].path);
		ejson_free(&d->fields[i].old_value);
		ejson_free(&d->fields[i].new_value);
	}
	xfree(d->fields);
	d->fields = NULL;
	d->n = 0;
}

static int dump_or_null(const struct ejson *v, struct buf *out)
{
	return v ? ejson_dump_canonical(v, out) : buf_puts(out, "null");
}

int resource_diff_to_json(const struct resource_diff *d, struct buf *out)
{
	size_t start = out->len;
	int rc;

	if ((rc = buf_putc(out, '[')))
		goto out;
	for (size_t i = 0; i < d->n; i++) {
		const struct resource_field_change *c = &d->fields[i];

		if ((rc = buf_puts(out, i ? ",{\"new\":" : "{\"new\":")) ||
		    (rc = dump_or_null(c->new_value, out)) ||
		    (rc = buf_puts(out, ",\"old\":")) ||
		    (rc = dump_or_null(c->old_value, out)) ||
		    (rc = buf_puts(out, ",\"path\":")) ||
		    (rc = buf_append_json_string(out, c->path,
						 strlen(c->path))) ||
		    (rc = buf_putc(out, '}')))
			goto out;
	}
	rc = buf_putc(out, ']');
out:
	if (rc) {
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return rc;
}
