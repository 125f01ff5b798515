/*
 * The resource record itself: lifecycle, owned string fields, the sorted
 * tag and relationship arrays, validation of everything that came from a
 * cloud API before it is stored, and the identity key with its scope.
 */
#include "resource/resource_int.h"

#include <stdio.h>
#include <string.h>

void resource_init(struct resource *r)
{
	memset(r, 0, sizeof(*r));
	r->attributes = ejson_object();
}

void resource_release(struct resource *r)
{
	if (!r)
		return;
	xfree(r->provider);
	xfree(r->account);
	xfree(r->region);
	xfree(r->type);
	xfree(r->id);
	xfree(r->name);
	xfree(r->status);
	for (size_t i = 0; i < r->ntags; i++) {
		xfree(r->tags[i].key);
		xfree(r->tags[i].value);
	}
	xfree(r->tags);
	for (size_t i = 0; i < r->nrels; i++) {
		xfree(r->rels[i].type);
		xfree(r->rels[i].target);
	}
	xfree(r->rels);
	ejson_free(&r->attributes);
	memset(r, 0, sizeof(*r));
}

void resource_set(char **field, const char *v)
{
	/* Copy first: v may be the string being replaced. */
	char *copy = v ? xstrdup(v) : NULL;

	xfree(*field);
	*field = copy;
}

/* Index of key in the sorted tags, or where it would be inserted. */
static size_t tag_find(const struct resource *r, const char *key, bool *found)
{
	size_t lo = 0, hi = r->ntags;

	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = strcmp(r->tags[mid].key, key);

		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

int resource_tag_set(struct resource *r, const char *key, const char *value)
{
	bool found;
	size_t at;

	if (!key || !value)
		return ELAVA_E_INVAL;
	at = tag_find(r, key, &found);
	if (found) {
		resource_set(&r->tags[at].value, value);
		return 0;
	}
	r->tags = xrealloc(r->tags, st_mult(r->ntags + 1, sizeof(*r->tags)));
	memmove(r->tags + at + 1, r->tags + at,
		(r->ntags - at) * sizeof(*r->tags));
	r->tags[at].key = xstrdup(key);
	r->tags[at].value = xstrdup(value);
	r->ntags++;
	return 0;
}

const char *resource_tag_get(const struct resource *r, const char *key)
{
	bool found;
	size_t at = tag_find(r, key, &found);

	return found ? r->tags[at].value : NULL;
}

static int rel_cmp(const char *atype, const char *atarget, const char *btype,
		   const char *btarget)
{
	int c = strcmp(atype, btype);

	return c ? c : strcmp(atarget, btarget);
}

int resource_rel_add(struct resource *r, const char *type, const char *target)
{
	size_t lo = 0, hi = r->nrels;

	if (!type || !target)
		return ELAVA_E_INVAL;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = rel_cmp(r->rels[mid].type, r->rels[mid].target, type,
				target);

		if (c == 0)
			return 0; /* already there: relationships are a set */
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	r->rels = xrealloc(r->rels, st_mult(r->nrels + 1, sizeof(*r->rels)));
	memmove(r->rels + lo + 1, r->rels + lo,
		(r->nrels - lo) * sizeof(*r->rels));
	r->rels[lo].type = xstrdup(type);
	r->rels[lo].target = xstrdup(target);
	r->nrels++;
	return 0;
}

/* ------------------------------------------------------------ validation */

const char *resource__show(const char *s, size_t n,
			   char out[RESOURCE__SHOW_LEN])
{
	const size_t max = RESOURCE__SHOW_LEN - 4; /* room for "..." + NUL */
	size_t i = 0, o = 0;
	bool valid;

	if (!s) {
		memcpy(out, "(null)", 7);
		return out;
	}
	valid = utf8_valid(s, n);
	while (i < n && o < max) {
		unsigned char c = (unsigned char)s[i];
		size_t len;

		if (c < 0x20 || c == 0x7f || (c >= 0x80 && !valid)) {
			out[o++] = '?';
			i++;
			continue;
		}
		len = c < 0x80 ? 1 : c >= 0xf0 ? 4 : c >= 0xe0 ? 3 : 2;
		if (o + len > max)
			break;
		memcpy(out + o, s + i, len);
		o += len;
		i += len;
	}
	if (i < n) {
		memcpy(out + o, "...", 3);
		o += 3;
	}
	out[o] = '\0';
	return out;
}

/* C0 controls and DEL: they would corrupt keys, logs and terminals. */
static bool has_control(const char *s, size_t n)
{
	for (size_t i = 0; i < n; i++) {
		unsigned char c = (unsigned char)s[i];

		if (c < 0x20 || c == 0x7f)
			return true;
	}
	return false;
}

/* Identity fields come first: until they are valid there is no key to name. */
static int check_identity(const char *field, const char *v, bool colon_ok,
			  struct elava_error *err)
{
	char shown[RESOURCE__SHOW_LEN];
	size_t n;

	if (!v || !*v)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource has an empty %s", field);
	n = strnlen(v, RESOURCE_MAX_FIELD + 1);
	if (n > RESOURCE_MAX_FIELD)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "resource %s is longer than %d bytes",
				       field, RESOURCE_MAX_FIELD);
	if (!utf8_valid(v, n))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource %s is not valid UTF-8", field);
	if (has_control(v, n))
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "resource %s '%s' contains a control character", field,
		    resource__show(v, n, shown));
	if (!colon_ok && memchr(v, ':', n))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "resource %s '%s' contains ':'", field,
				       resource__show(v, n, shown));
	return 0;
}

/* Set err to "resource '<key>': <fmt...>" once the identity is known good. */
__attribute__((format(printf, 4, 5))) static int fail(const struct resource *r,
						      struct elava_error *err,
						      int code, const char *fmt,
						      ...)
{
	char shown[RESOURCE__SHOW_LEN];
	char what[sizeof(err->msg)];
	struct buf key;
	va_list ap;

	if (!err)
		return code;
	va_start(ap, fmt);
	vsnprintf(what, sizeof(what), fmt, ap);
	va_end(ap);
	buf_init(&key, 0);
	resource_key(r, &key);
	elava_error_set(err, code, "resource '%s': %s",
			resource__show(key.data, key.len, shown), what);
	buf_release(&key);
	return code;
}

/* name, status: optional free text. */
static int check_text(const struct resource *r, const char *field,
		      const char *v, struct elava_error *err)
{
	size_t n;

	if (!v)
		return 0;
	n = strnlen(v, RESOURCE_MAX_FIELD + 1);
	if (n > RESOURCE_MAX_FIELD)
		return fail(r, err, ELAVA_E_TOOBIG,
			    "%s is longer than %d bytes", field,
			    RESOURCE_MAX_FIELD);
	if (!utf8_valid(v, n))
		return fail(r, err, ELAVA_E_INVAL, "%s is not valid UTF-8",
			    field);
	return 0;
}

static int check_tag(const struct resource *r, size_t i,
		     struct elava_error *err)
{
	const struct resource_tag *t = &r->tags[i];
	char shown[RESOURCE__SHOW_LEN];
	size_t kn, vn;

	if (!t->key || !*t->key)
		return fail(r, err, ELAVA_E_INVAL, "tag %zu has an empty key",
			    i);
	kn = strnlen(t->key, RESOURCE_MAX_TAG_KEY + 1);
	if (kn > RESOURCE_MAX_TAG_KEY)
		return fail(r, err, ELAVA_E_TOOBIG,
			    "tag '%s' key is longer than %d bytes",
			    resource__show(t->key, kn, shown),
			    RESOURCE_MAX_TAG_KEY);
	if (!utf8_valid(t->key, kn))
		return fail(r, err, ELAVA_E_INVAL,
			    "tag %zu key is not valid UTF-8", i);
	if (i > 0 && strcmp(r->tags[i - 1].key, t->key) >= 0)
		return fail(r, err, ELAVA_E_INVAL,
			    "tag '%s' is duplicated or out of order",
			    resource__show(t->key, kn, shown));
	if (!t->value)
		return fail(r, err, ELAVA_E_INVAL, "tag '%s' has no value",
			    resource__show(t->key, kn, shown));
	vn = strnlen(t->value, RESOURCE_MAX_TAG_VALUE + 1);
	if (vn > RESOURCE_MAX_TAG_VALUE)
		return fail(r, err, ELAVA_E_TOOBIG,
			    "tag '%s' value is longer than %d bytes",
			    resource__show(t->key, kn, shown),
			    RESOURCE_MAX_TAG_VALUE);
	if (!utf8_valid(t->value, vn))
		return fail(r, err, ELAVA_E_INVAL,
			    "tag '%s' value is not valid UTF-8",
			    resource__show(t->key, kn, shown));
	return 0;
}

static int check_rel_part(const struct resource *r, size_t i, const char *part,
			  const char *v, size_t max, struct elava_error *err)
{
	size_t n;

	if (!v || !*v)
		return fail(r, err, ELAVA_E_INVAL,
			    "relationship %zu has an empty %s", i, part);
	n = strnlen(v, max + 1);
	if (n > max)
		return fail(r, err, ELAVA_E_TOOBIG,
			    "relationship %zu %s is longer than %zu bytes", i,
			    part, max);
	if (!utf8_valid(v, n))
		return fail(r, err, ELAVA_E_INVAL,
			    "relationship %zu %s is not valid UTF-8", i, part);
	if (has_control(v, n))
		return fail(r, err, ELAVA_E_INVAL,
			    "relationship %zu %s contains a control character",
			    i, part);
	return 0;
}

static int check_rel(const struct resource *r, size_t i,
		     struct elava_error *err)
{
	const struct resource_rel *l = &r->rels[i];
	char st[RESOURCE__SHOW_LEN], sg[RESOURCE__SHOW_LEN];
	int rc;

	if ((rc = check_rel_part(r, i, "type", l->type, RESOURCE_MAX_FIELD,
				 err)))
		return rc;
	if ((rc = check_rel_part(r, i, "target", l->target, RESOURCE_MAX_KEY,
				 err)))
		return rc;
	if (i > 0 && rel_cmp(r->rels[i - 1].type, r->rels[i - 1].target,
			     l->type, l->target) >= 0)
		return fail(r, err, ELAVA_E_INVAL,
			    "relationship '%s' -> '%s' is duplicated or out "
			    "of order",
			    resource__show(l->type, strlen(l->type), st),
			    resource__show(l->target, strlen(l->target), sg));
	return 0;
}

int resource_validate(const struct resource *r, struct elava_error *err)
{
	int rc;

	if ((rc = check_identity("provider", r->provider, false, err)) ||
	    (rc = check_identity("account", r->account, false, err)) ||
	    (rc = check_identity("region", r->region, false, err)) ||
	    (rc = check_identity("type", r->type, false, err)) ||
	    (rc = check_identity("id", r->id, true, err)))
		return rc;
	if ((rc = check_text(r, "name", r->name, err)) ||
	    (rc = check_text(r, "status", r->status, err)))
		return rc;
	if (r->ntags > RESOURCE_MAX_TAGS)
		return fail(r, err, ELAVA_E_TOOBIG,
			    "has %zu tags, more than %d", r->ntags,
			    RESOURCE_MAX_TAGS);
	for (size_t i = 0; i < r->ntags; i++)
		if ((rc = check_tag(r, i, err)))
			return rc;
	if (r->nrels > RESOURCE_MAX_RELS)
		return fail(r, err, ELAVA_E_TOOBIG,
			    "has %zu relationships, more than %d", r->nrels,
			    RESOURCE_MAX_RELS);
	for (size_t i = 0; i < r->nrels; i++)
		if ((rc = check_rel(r, i, err)))
			return rc;
	if (!r->attributes || ejson_typeof(r->attributes) != EJSON_OBJECT)
		return fail(r, err, ELAVA_E_INVAL,
			    "attributes is not a JSON object");
	return 0;
}

/* ------------------------------------------------------------------ keys */

int resource_key(const struct resource *r, struct buf *out)
{
	const char *parts[] = {r->provider, r->account, r->region, r->type,
			       r->id};
	size_t lens[ARRAY_SIZE(parts)];
	size_t total = ARRAY_SIZE(parts) - 1;
	int rc;

	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (!parts[i])
			return ELAVA_E_INVAL;
		lens[i] = strlen(parts[i]);
		total = st_add(total, lens[i]);
	}
	if ((rc = buf_grow(out, total)))
		return rc;
	for (size_t i = 0; i < ARRAY_SIZE(parts); i++) {
		if (i)
			out->data[out->len++] = ':';
		memcpy(out->data + out->len, parts[i], lens[i]);
		out->len += lens[i];
	}
	out->data[out->len] = '\0';
	return 0;
}

size_t resource_key_scope_len(const char *key, size_t keylen)
{
	const char *p = key, *end = key + keylen;

	if (!key)
		return 0;
	/* provider, account, region, type: non-empty, no ':' inside. */
	for (int i = 0; i < 4; i++) {
		const char *c = memchr(p, ':', (size_t)(end - p));

		if (!c || c == p)
			return 0;
		p = c + 1;
	}
	if (p == end)
		return 0; /* empty id */
	return (size_t)(p - 1 - key);
}
