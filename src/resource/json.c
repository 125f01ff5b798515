/*
 * The record's canonical JSON (written straight into a buffer, because a
 * scan encodes up to a million records), reading it back, and the
 * store-ready encoding with the fingerprint. The same writer produces the
 * fingerprint's input with the ignored fields left out, so "what is hashed"
 * and "what is stored" cannot drift apart.
 */
#include "resource/resource_int.h"

#include <string.h>

/* ----------------------------------------------------------------- write */

/* Appends stop at the first error; the caller checks rc once at the end. */
struct writer {
	struct buf *b;
	int rc;
	bool first; /* no member written yet in the current object */
};

static void w_raw(struct writer *w, const char *s, size_t n)
{
	if (!w->rc)
		w->rc = buf_append(w->b, s, n);
}

/* Literals only: "" s refuses to compile for a pointer (sizeof trap). */
#define w_lit(w, s) w_raw((w), "" s, sizeof(s) - 1)

static void w_str(struct writer *w, const char *s)
{
	if (w->rc)
		return;
	if (!s)
		w->rc = buf_append(w->b, "null", 4);
	else
		w->rc = buf_append_json_string(w->b, s, strlen(s));
}

/* `name` is the quoted key with its colon: "\"tags\":". */
static void w_member(struct writer *w, const char *name, size_t n)
{
	if (!w->first)
		w_raw(w, ",", 1);
	w->first = false;
	w_raw(w, name, n);
}

#define w_mem(w, s) w_member((w), "" s, sizeof(s) - 1)

static void w_value(struct writer *w, const struct ejson *v)
{
	if (!w->rc)
		w->rc = ejson_dump_canonical(v, w->b);
}

/* The ignore rules of the record's type, while writing the hashed form. */
struct filter {
	const struct resource__rule *const *rules;
	size_t n;
	const struct resource__rule **sub; /* scratch, n entries */
};

/* True when a rule drops the whole top-level field. */
static bool field_ignored(const struct filter *f, const char *field)
{
	for (size_t i = 0; f && i < f->n; i++)
		if (f->rules[i]->nsegs == 1 &&
		    !strcmp(f->rules[i]->segs[0].key, field))
			return true;
	return false;
}

/* Rules reaching inside the field, gathered into f->sub; returns count. */
static size_t field_rules(struct filter *f, const char *field)
{
	size_t n = 0;

	for (size_t i = 0; f && i < f->n; i++)
		if (f->rules[i]->nsegs > 1 &&
		    !strcmp(f->rules[i]->segs[0].key, field))
			f->sub[n++] = f->rules[i];
	return n;
}

static bool tag_ignored(const struct filter *f, const char *key)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct resource__rule *rule = f->rules[i];

		if (rule->nsegs == 2 && !strcmp(rule->segs[0].key, "tags") &&
		    !strcmp(rule->segs[1].key, key))
			return true;
	}
	return false;
}

static struct ejson *json_string_or_null(const char *s)
{
	struct ejson *v = s ? ejson_string(s, strlen(s)) : NULL;

	return v ? v : ejson_null();
}

static struct ejson *rels_to_ejson(const struct resource *r)
{
	struct ejson *arr = ejson_array();

	for (size_t i = 0; i < r->nrels; i++) {
		struct ejson *o = ejson_object();

		ejson_object_set_take(o, "target",
				      json_string_or_null(r->rels[i].target));
		ejson_object_set_take(o, "type",
				      json_string_or_null(r->rels[i].type));
		ejson_array_append_take(arr, o);
	}
	return arr;
}

static void write_attributes(struct writer *w, const struct resource *r,
			     struct filter *f)
{
	size_t n = field_rules(f, "attributes");

	if (n) {
		struct ejson *v = resource__strip(r->attributes, f->sub, n, 1);
		w_value(w, v);
		ejson_decref(v);
	} else {
		w_value(w, r->attributes);
	}
}

static void write_rels(struct writer *w, const struct resource *r,
		       struct filter *f)
{
	size_t n = field_rules(f, "relationships");

	if (n) {
		struct ejson *all = rels_to_ejson(r);
		struct ejson *v = resource__strip(all, f->sub, n, 1);
		w_value(w, v);
		ejson_decref(v);
		ejson_decref(all);
		return;
	}
	w_raw(w, "[", 1);
	for (size_t i = 0; i < r->nrels; i++) {
		if (i)
			w_raw(w, ",", 1);
		w_lit(w, "{\"target\":");
		w_str(w, r->rels[i].target);
		w_lit(w, ",\"type\":");
		w_str(w, r->rels[i].type);
		w_raw(w, "}", 1);
	}
	w_raw(w, "]", 1);
}

static void write_tags(struct writer *w, const struct resource *r,
		       const struct filter *f)
{
	bool first = true;

	w_raw(w, "{", 1);
	for (size_t i = 0; i < r->ntags; i++) {
		if (f && tag_ignored(f, r->tags[i].key))
			continue;
		if (!first)
			w_raw(w, ",", 1);
		first = false;
		w_str(w, r->tags[i].key);
		w_raw(w, ":", 1);
		w_str(w, r->tags[i].value);
	}
	w_raw(w, "}", 1);
}

/*
 * The canonical form, members in byte-wise key order. With a filter, the
 * fields it names are left out (the fingerprint's input); without, this is
 * exactly what resource_to_json documents.
 */
static int write_record(const struct resource *r, struct filter *f,
			struct buf *out)
{
	struct writer w = {out, 0, true};
	size_t start = out->len;

	if (!r->provider || !r->account || !r->region || !r->type || !r->id ||
	    !r->attributes)
		return ELAVA_E_INVAL;
	w_raw(&w, "{", 1);
	w_mem(&w, "\"account\":");
	w_str(&w, r->account);
	if (!field_ignored(f, "attributes")) {
		w_mem(&w, "\"attributes\":");
		write_attributes(&w, r, f);
	}
	if (!field_ignored(f, "created_at")) {
		w_mem(&w, "\"created_at\":");
		if (r->created_at_ns) {
			char ts[TIME_RFC3339_LEN];

			time_format_rfc3339(r->created_at_ns, ts);
			w_str(&w, ts);
		} else {
			w_lit(&w, "null");
		}
	}
	w_mem(&w, "\"id\":");
	w_str(&w, r->id);
	if (!field_ignored(f, "name")) {
		w_mem(&w, "\"name\":");
		w_str(&w, r->name);
	}
	w_mem(&w, "\"provider\":");
	w_str(&w, r->provider);
	w_mem(&w, "\"region\":");
	w_str(&w, r->region);
	if (!field_ignored(f, "relationships")) {
		w_mem(&w, "\"relationships\":");
		write_rels(&w, r, f);
	}
	if (!field_ignored(f, "status")) {
		w_mem(&w, "\"status\":");
		w_str(&w, r->status);
	}
	if (!field_ignored(f, "tags")) {
		w_mem(&w, "\"tags\":");
		write_tags(&w, r, f);
	}
	w_mem(&w, "\"type\":");
	w_str(&w, r->type);
	w_raw(&w, "}", 1);
	if (w.rc) {
		/* Leave out as it was: no half record. */
		out->len = start;
		if (out->data)
			out->data[start] = '\0';
	}
	return w.rc;
}

int resource_to_json(const struct resource *r, struct buf *out)
{
	return write_record(r, NULL, out);
}

/* ------------------------------------------------------------------ read */

/* Every member resource_to_json writes, sorted. */
static const char *const known_fields[] = {
    "account", "attributes",	"created_at", "id",   "name", "provider",
    "region",  "relationships", "status",     "tags", "type",
};

static bool known_field(const char *k)
{
	for (size_t i = 0; i < ARRAY_SIZE(known_fields); i++)
		if (!strcmp(k, known_fields[i]))
			return true;
	return false;
}

static int read_string(const struct ejson *root, const char *field,
		       bool nullable, char **dst, struct elava_error *err)
{
	const struct ejson *v = ejson_object_get(root, field);

	if (!v && !nullable)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource JSON lacks field '%s'", field);
	if (!v || (nullable && ejson_typeof(v) == EJSON_NULL))
		return 0;
	if (ejson_typeof(v) != EJSON_STRING)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource JSON field '%s' must be a "
				       "string%s",
				       field, nullable ? " or null" : "");
	*dst = xstrndup(ejson_string_value(v), ejson_string_length(v));
	return 0;
}

/* Round ns down to a whole millisecond; false on overflow. */
static bool floor_ms(int64_t *ns)
{
	int64_t rem = *ns % 1000000;

	if (rem < 0)
		rem += 1000000;
	return !__builtin_sub_overflow(*ns, rem, ns);
}

static int read_created_at(const struct ejson *root, struct resource *r,
			   struct elava_error *err)
{
	const struct ejson *v = ejson_object_get(root, "created_at");
	int64_t ns;

	if (!v || ejson_typeof(v) == EJSON_NULL)
		return 0;
	if (ejson_typeof(v) != EJSON_STRING)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource JSON field 'created_at' must "
				       "be a string or null");
	/*
	 * The canonical form keeps milliseconds; drop the rest here too, so
	 * reading then writing is stable (and an instant that rounds down
	 * to the epoch reads as "unknown", which is what it would write).
	 */
	if (time_parse_rfc3339(ejson_string_value(v), &ns) || !floor_ms(&ns))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource JSON field 'created_at' is "
				       "not an RFC 3339 time in range");
	r->created_at_ns = ns;
	return 0;
}

static int read_tags(const struct ejson *root, struct resource *r,
		     struct elava_error *err)
{
	const struct ejson *v = ejson_object_get(root, "tags");
	char shown[RESOURCE__SHOW_LEN];
	const char **keys;
	size_t n;
	int rc = 0;

	if (!v || ejson_typeof(v) == EJSON_NULL)
		return 0;
	if (ejson_typeof(v) != EJSON_OBJECT)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource JSON field 'tags' must be an "
				       "object");
	if (ejson_object_size(v) > RESOURCE_MAX_TAGS)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "resource JSON has %zu tags, more than "
				       "%d",
				       ejson_object_size(v), RESOURCE_MAX_TAGS);
	/* Sorted keys fill the array in order: no insertion work. */
	keys = ejson_object_sorted_keys(v, &n);
	r->tags = xcalloc(n ? n : 1, sizeof(*r->tags));
	for (size_t i = 0; i < n; i++) {
		const struct ejson *val = ejson_object_get(v, keys[i]);

		if (ejson_typeof(val) != EJSON_STRING) {
			rc = elava_error_set(
			    err, ELAVA_E_INVAL,
			    "resource JSON tag '%s' value must be a string",
			    resource__show(keys[i], strlen(keys[i]), shown));
			break;
		}
		r->tags[i].key = xstrdup(keys[i]);
		r->tags[i].value =
		    xstrndup(ejson_string_value(val), ejson_string_length(val));
		r->ntags = i + 1;
	}
	xfree(keys);
	return rc;
}

static const char *rel_part(const struct ejson *o, const char *name)
{
	const struct ejson *v = ejson_object_get(o, name);

	return v ? ejson_string_value(v) : NULL;
}

static int read_rels(const struct ejson *root, struct resource *r,
		     struct elava_error *err)
{
	const struct ejson *v = ejson_object_get(root, "relationships");
	size_t n;

	if (!v || ejson_typeof(v) == EJSON_NULL)
		return 0;
	if (ejson_typeof(v) != EJSON_ARRAY)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource JSON field 'relationships' "
				       "must be an array");
	n = ejson_array_size(v);
	if (n > RESOURCE_MAX_RELS)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "resource JSON has %zu relationships, "
				       "more than %d",
				       n, RESOURCE_MAX_RELS);
	for (size_t i = 0; i < n; i++) {
		const struct ejson *o = ejson_array_get(v, i);
		const char *type = NULL, *target = NULL;

		if (ejson_typeof(o) == EJSON_OBJECT &&
		    ejson_object_size(o) == 2) {
			type = rel_part(o, "type");
			target = rel_part(o, "target");
		}
		if (!type || !target)
			return elava_error_set(
			    err, ELAVA_E_INVAL,
			    "resource JSON relationship %zu must be an "
			    "object with string 'type' and 'target' only",
			    i);
		/* A duplicate is the same edge twice: the set keeps one. */
		resource_rel_add(r, type, target);
	}
	return 0;
}

int resource_from_json(const char *json, size_t len, struct resource *r,
		       struct elava_error *err)
{
	char shown[RESOURCE__SHOW_LEN];
	struct ejson *root = NULL;
	const struct ejson *attrs;
	struct resource tmp;
	const char **keys = NULL;
	size_t nkeys;
	int rc;

	resource_init(&tmp);
	if (len > RESOURCE_MAX_JSON) {
		rc = elava_error_set(err, ELAVA_E_TOOBIG,
				     "resource JSON is larger than %zu bytes",
				     RESOURCE_MAX_JSON);
		goto out;
	}
	if ((rc = ejson_parse(json, len, &root, err))) {
		if (err)
			elava_error_prefix(err, "resource JSON");
		goto out;
	}
	if (ejson_typeof(root) != EJSON_OBJECT) {
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "resource JSON is not an object");
		goto out;
	}
	keys = ejson_object_sorted_keys(root, &nkeys);
	for (size_t i = 0; i < nkeys; i++) {
		if (!known_field(keys[i])) {
			rc = elava_error_set(
			    err, ELAVA_E_INVAL,
			    "resource JSON has unknown field '%s'",
			    resource__show(keys[i], strlen(keys[i]), shown));
			goto out;
		}
	}
	if ((rc = read_string(root, "provider", false, &tmp.provider, err)) ||
	    (rc = read_string(root, "account", false, &tmp.account, err)) ||
	    (rc = read_string(root, "region", false, &tmp.region, err)) ||
	    (rc = read_string(root, "type", false, &tmp.type, err)) ||
	    (rc = read_string(root, "id", false, &tmp.id, err)) ||
	    (rc = read_string(root, "name", true, &tmp.name, err)) ||
	    (rc = read_string(root, "status", true, &tmp.status, err)) ||
	    (rc = read_created_at(root, &tmp, err)) ||
	    (rc = read_tags(root, &tmp, err)) ||
	    (rc = read_rels(root, &tmp, err)))
		goto out;
	attrs = ejson_object_get(root, "attributes");
	if (attrs && ejson_typeof(attrs) != EJSON_OBJECT) {
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "resource JSON field 'attributes' must be "
				     "an object");
		goto out;
	}
	if (attrs) {
		/* Keep the parsed subtree; it outlives root by its own ref. */
		ejson_free(&tmp.attributes);
		tmp.attributes = ejson_incref((struct ejson *)attrs);
	}
	if ((rc = resource_validate(&tmp, err)))
		goto out;
	resource_release(r);
	*r = tmp;
	resource_init(&tmp);
out:
	xfree(keys);
	ejson_free(&root);
	resource_release(&tmp);
	return rc;
}

/* ------------------------------------------------------------- encoding */

void resource_encoded_init(struct resource_encoded *e)
{
	buf_init(&e->key, 0);
	buf_init(&e->json, RESOURCE_MAX_JSON);
	memset(e->fingerprint, 0, sizeof(e->fingerprint));
}

void resource_encoded_release(struct resource_encoded *e)
{
	if (!e)
		return;
	buf_release(&e->key);
	buf_release(&e->json);
}

int resource_encode(const struct resource *r, const struct resource_ignore *ign,
		    struct resource_encoded *e, struct elava_error *err)
{
	const struct resource__rule **sel = NULL;
	struct buf stripped = BUF_INIT;
	char shown[RESOURCE__SHOW_LEN];
	struct filter f = {NULL, 0, NULL};
	int rc;

	if ((rc = resource_validate(r, err)))
		return rc;
	buf_reset(&e->key);
	buf_reset(&e->json);
	e->json.max = RESOURCE_MAX_JSON;
	if ((rc = resource_key(r, &e->key)))
		goto out;
	if ((rc = write_record(r, NULL, &e->json))) {
		elava_error_set(err, rc,
				"resource '%s': canonical form is larger than "
				"%zu bytes",
				resource__show(e->key.data, e->key.len, shown),
				RESOURCE_MAX_JSON);
		goto out;
	}
	f.n = resource__ignore_select(ign, r->type, &sel);
	if (f.n == 0) {
		/* The common case: what is stored is what is hashed. */
		sha256(e->json.data, e->json.len, e->fingerprint);
		goto out;
	}
	f.rules = sel;
	f.sub = xmalloc(st_mult(f.n, sizeof(*f.sub)));
	buf_init(&stripped, RESOURCE_MAX_JSON);
	/* Never larger than e->json: it only leaves things out. */
	if ((rc = write_record(r, &f, &stripped)))
		goto out;
	sha256(stripped.data, stripped.len, e->fingerprint);
out:
	xfree(f.sub);
	xfree(sel);
	buf_release(&stripped);
	return rc;
}
