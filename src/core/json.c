/*
 * JSON values for the whole program, backed by jansson (whose header stays
 * in this file), plus the canonical writer that fingerprints and the store
 * rely on: same value, same bytes, always.
 */
#include "core.h"

#include <jansson.h>
#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define J(v)  ((json_t *)(v))
#define CJ(v) ((const json_t *)(v))
#define E(v)  ((struct ejson *)(v))

/* Route jansson's allocations through ours so they are counted. */
static void *json_alloc(size_t n)
{
	return xmalloc(n);
}
__attribute__((constructor)) static void json_setup(void)
{
	json_set_alloc_funcs(json_alloc, xfree);
}

static size_t depth_of(const json_t *v, size_t limit)
{
	size_t max = 0;

	if (limit == 0)
		return 1;
	if (json_is_object(v)) {
		const char *k;
		json_t *child;
		json_object_foreach((json_t *)v, k, child)
		{
			size_t d = depth_of(child, limit - 1);
			if (d > max)
				max = d;
			if (max >= limit)
				break;
		}
		return max + 1;
	}
	if (json_is_array(v)) {
		size_t i;
		json_t *child;
		json_array_foreach(v, i, child)
		{
			size_t d = depth_of(child, limit - 1);
			if (d > max)
				max = d;
			if (max >= limit)
				break;
		}
		return max + 1;
	}
	return 1;
}

int ejson_parse(const char *buf, size_t len, struct ejson **out,
		struct elava_error *err)
{
	json_error_t jerr;
	json_t *v;

	*out = NULL;
	/* jansson would skip a raw NUL between tokens; JSON has none. */
	const char *nul = memchr(buf, '\0', len);
	if (nul)
		return elava_error_set(err, ELAVA_E_PARSE,
				       "invalid JSON: NUL byte at offset %zu",
				       (size_t)(nul - buf));
	v = json_loadb(buf, len, JSON_DECODE_ANY | JSON_REJECT_DUPLICATES,
		       &jerr);
	if (!v)
		return elava_error_set(err, ELAVA_E_PARSE,
				       "invalid JSON at line %d column %d: %s",
				       jerr.line, jerr.column, jerr.text);
	if (depth_of(v, EJSON_MAX_DEPTH + 1) > EJSON_MAX_DEPTH) {
		json_decref(v);
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "JSON nested deeper than %d levels",
				       EJSON_MAX_DEPTH);
	}
	*out = E(v);
	return 0;
}

struct ejson *ejson_incref(struct ejson *v)
{
	return E(json_incref(J(v)));
}

void ejson_decref(struct ejson *v)
{
	json_decref(J(v));
}

void ejson_free(struct ejson **vp)
{
	if (vp && *vp) {
		json_decref(J(*vp));
		*vp = NULL;
	}
}

enum ejson_type ejson_typeof(const struct ejson *v)
{
	switch (json_typeof(CJ(v))) {
	case JSON_OBJECT: return EJSON_OBJECT;
	case JSON_ARRAY: return EJSON_ARRAY;
	case JSON_STRING: return EJSON_STRING;
	case JSON_INTEGER: return EJSON_INT;
	case JSON_REAL: return EJSON_REAL;
	case JSON_TRUE:
	case JSON_FALSE: return EJSON_BOOL;
	case JSON_NULL: return EJSON_NULL;
	}
	return EJSON_NULL;
}

static struct ejson *must(json_t *v)
{
	if (!v) {
		fprintf(stderr, "elava: out of memory (JSON)\n");
		abort();
	}
	return E(v);
}

struct ejson *ejson_null(void)
{
	return must(json_null());
}
struct ejson *ejson_bool(bool b)
{
	return must(json_boolean(b));
}
struct ejson *ejson_int(int64_t i)
{
	return must(json_integer((json_int_t)i));
}
struct ejson *ejson_object(void)
{
	return must(json_object());
}
struct ejson *ejson_array(void)
{
	return must(json_array());
}

struct ejson *ejson_real(double d)
{
	/* jansson refuses NaN and infinities; JSON cannot carry them. */
	if (!isfinite(d))
		return ejson_null();
	return must(json_real(d));
}

struct ejson *ejson_string(const char *s, size_t n)
{
	if (memchr(s, '\0', n) || !utf8_valid(s, n))
		return NULL;
	return must(json_stringn_nocheck(s, n));
}

struct ejson *ejson_copy(const struct ejson *v)
{
	return must(json_deep_copy(CJ(v)));
}

bool ejson_bool_value(const struct ejson *v)
{
	return json_is_true(CJ(v));
}

int64_t ejson_int_value(const struct ejson *v)
{
	return (int64_t)json_integer_value(CJ(v));
}

double ejson_number_value(const struct ejson *v)
{
	return json_number_value(CJ(v));
}

const char *ejson_string_value(const struct ejson *v)
{
	return json_string_value(CJ(v));
}

size_t ejson_string_length(const struct ejson *v)
{
	return json_string_length(CJ(v));
}

size_t ejson_array_size(const struct ejson *v)
{
	return json_array_size(CJ(v));
}

struct ejson *ejson_array_get(const struct ejson *v, size_t i)
{
	return E(json_array_get(CJ(v), i));
}

int ejson_array_append_take(struct ejson *v, struct ejson *item)
{
	return json_array_append_new(J(v), J(item)) ? ELAVA_E_INVAL : 0;
}

size_t ejson_object_size(const struct ejson *v)
{
	return json_object_size(CJ(v));
}

struct ejson *ejson_object_get(const struct ejson *v, const char *key)
{
	return E(json_object_get(CJ(v), key));
}

int ejson_object_set_take(struct ejson *v, const char *key, struct ejson *item)
{
	if (!utf8_valid(key, strlen(key))) {
		json_decref(J(item));
		return ELAVA_E_INVAL;
	}
	return json_object_set_new_nocheck(J(v), key, J(item)) ? ELAVA_E_INVAL
							       : 0;
}

int ejson_object_del(struct ejson *v, const char *key)
{
	return json_object_del(J(v), key) ? ELAVA_E_NOTFOUND : 0;
}

static int cmp_keys(const void *a, const void *b)
{
	return strcmp(*(const char *const *)a, *(const char *const *)b);
}

const char **ejson_object_sorted_keys(const struct ejson *v, size_t *n_out)
{
	size_t n = json_object_size(CJ(v));
	const char **keys = xmalloc(st_mult(n + 1, sizeof(*keys)));
	const char *k;
	json_t *child;
	size_t i = 0;

	json_object_foreach(J(v), k, child)
	{
		(void)child;
		keys[i++] = k;
	}
	keys[i] = NULL;
	qsort(keys, i, sizeof(*keys), cmp_keys);
	*n_out = i;
	return keys;
}

/* Shortest "%.Ng" that reads back as the same double. */
static int dump_real(double d, struct buf *out)
{
	char tmp[40];

	if (d == 0)
		return buf_putc(out, '0'); /* also -0 */
	if (d == floor(d) && fabs(d) < 9007199254740992.0)
		return buf_printf(out, "%lld", (long long)d);
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(tmp, sizeof(tmp), "%.*g", prec, d);
		if (strtod(tmp, NULL) == d)
			break;
	}
	return buf_puts(out, tmp);
}

static int dump(const json_t *v, struct buf *out)
{
	int rc = 0;

	switch (json_typeof(v)) {
	case JSON_NULL: return buf_puts(out, "null");
	case JSON_TRUE: return buf_puts(out, "true");
	case JSON_FALSE: return buf_puts(out, "false");
	case JSON_INTEGER:
		return buf_printf(out, "%lld",
				  (long long)json_integer_value(v));
	case JSON_REAL: return dump_real(json_real_value(v), out);
	case JSON_STRING:
		return buf_append_json_string(out, json_string_value(v),
					      json_string_length(v));
	case JSON_ARRAY: {
		size_t i;
		json_t *child;
		if ((rc = buf_putc(out, '[')))
			return rc;
		json_array_foreach(v, i, child)
		{
			if (i && (rc = buf_putc(out, ',')))
				return rc;
			if ((rc = dump(child, out)))
				return rc;
		}
		return buf_putc(out, ']');
	}
	case JSON_OBJECT: {
		size_t n;
		const char **keys =
		    ejson_object_sorted_keys((const struct ejson *)v, &n);
		rc = buf_putc(out, '{');
		for (size_t i = 0; i < n && !rc; i++) {
			if (i)
				rc = buf_putc(out, ',');
			if (!rc)
				rc = buf_append_json_string(out, keys[i],
							    strlen(keys[i]));
			if (!rc)
				rc = buf_putc(out, ':');
			if (!rc)
				rc = dump(json_object_get(v, keys[i]), out);
		}
		xfree(keys);
		return rc ? rc : buf_putc(out, '}');
	}
	}
	return ELAVA_E_INVAL;
}

int ejson_dump_canonical(const struct ejson *v, struct buf *out)
{
	return dump(CJ(v), out);
}

bool ejson_equal(const struct ejson *a, const struct ejson *b)
{
	struct buf ba, bb;
	bool eq;

	if (!a || !b)
		return a == b;
	buf_init(&ba, 0);
	buf_init(&bb, 0);
	eq = !dump(CJ(a), &ba) && !dump(CJ(b), &bb) && ba.len == bb.len &&
	     !memcmp(ba.data, bb.data, ba.len);
	buf_release(&ba);
	buf_release(&bb);
	return eq;
}
