/*
 * One way to read an AWS response, whatever its protocol: paths over XML
 * elements and JSON objects alike (see list_int.h), whole-document parsing
 * for the calls that are not streamed, and the time formats AWS writes.
 */
#include "list_int.h"

#include <inttypes.h>
#include <stdlib.h>
#include <string.h>

#define MAX_STEP 128

int aws_node_each(const struct aws_node *n, const char *path, aws_node_fn fn,
		  void *ud)
{
	const char *slash, *rest;
	char name[MAX_STEP];
	size_t len;
	bool all;

	if (!path || !*path)
		return fn(n, ud);
	slash = strchr(path, '/');
	len = slash ? (size_t)(slash - path) : strlen(path);
	rest = slash ? slash + 1 : path + len;
	all = len > 2 && path[len - 2] == '[' && path[len - 1] == ']';
	if (all)
		len -= 2;
	if (len >= sizeof(name))
		return 0;
	memcpy(name, path, len);
	name[len] = '\0';
	if (n->x) {
		for (const struct aws_xel *c = n->x->child; c; c = c->next) {
			struct aws_node cn = {c, NULL};
			int rc;
			if (strcmp(c->name, name))
				continue;
			if ((rc = aws_node_each(&cn, rest, fn, ud)) || !all)
				return rc;
		}
		return 0;
	}
	if (n->j && ejson_typeof(n->j) == EJSON_OBJECT) {
		const struct ejson *v = ejson_object_get(n->j, name);
		struct aws_node cn = {NULL, v};
		if (!v)
			return 0;
		if (!all)
			return aws_node_each(&cn, rest, fn, ud);
		for (size_t i = 0; i < ejson_array_size(v); i++) {
			int rc;
			cn.j = ejson_array_get(v, i);
			if ((rc = aws_node_each(&cn, rest, fn, ud)))
				return rc;
		}
	}
	return 0;
}

static int take_first(const struct aws_node *n, void *ud)
{
	*(struct aws_node *)ud = *n;
	return 1;
}

bool aws_node_get(const struct aws_node *n, const char *path,
		  struct aws_node *out)
{
	memset(out, 0, sizeof(*out));
	return aws_node_each(n, path, take_first, out) == 1;
}

bool aws_node_text(const struct aws_node *n, const char *path, struct buf *out)
{
	struct aws_node v;

	buf_reset(out);
	if (!aws_node_get(n, path, &v))
		return false;
	if (v.x) {
		buf_append(out, v.x->text, v.x->text_len);
		return true;
	}
	switch (ejson_typeof(v.j)) {
	case EJSON_STRING:
		buf_append(out, ejson_string_value(v.j),
			   ejson_string_length(v.j));
		return true;
	case EJSON_INT:
		buf_printf(out, "%" PRId64, ejson_int_value(v.j));
		return true;
	case EJSON_REAL:
		buf_printf(out, "%.6f", ejson_number_value(v.j));
		return true;
	case EJSON_BOOL:
		buf_puts(out, ejson_bool_value(v.j) ? "true" : "false");
		return true;
	case EJSON_NULL:
	case EJSON_ARRAY:
	case EJSON_OBJECT: break;
	}
	return false;
}

int aws_doc_parse(const char *body, size_t len, bool xml, struct aws_doc *d,
		  struct elava_error *err)
{
	memset(d, 0, sizeof(*d));
	if (!xml) {
		int rc = ejson_parse(body, len, &d->json, err);
		if (rc)
			return elava_error_prefix(err, "JSON response");
		d->root.j = d->json;
		return 0;
	}
	int rc = aws_xml_parse(body, len, &d->xml, err);
	if (rc)
		return rc;
	d->root.x = aws_xml_root(d->xml);
	return 0;
}

void aws_doc_release(struct aws_doc *d)
{
	aws_xml_free(&d->xml);
	ejson_free(&d->json);
	memset(d, 0, sizeof(*d));
}

/* Seconds (or milliseconds) since the epoch, with an optional fraction. */
static int epoch_parse(const char *s, int64_t *ns)
{
	char *end;
	double v = strtod(s, &end);

	if (end == s || *end || !(v >= 0) || v > 9.2e15)
		return ELAVA_E_PARSE;
	/* 1e11 seconds is the year 5138: larger values are milliseconds. */
	if (v >= 1e11)
		v /= 1000;
	/* Nanoseconds since the epoch end in 2262 (INT64_MAX). */
	if (v >= 9.2e9)
		return ELAVA_E_PARSE;
	*ns = (int64_t)(v * 1e3) * 1000000;
	return 0;
}

int aws_time_parse(const char *text, int64_t *ns)
{
	char fixed[64];
	size_t len = strlen(text);

	if (len && strchr("0123456789", text[0]) && !strchr(text, '-'))
		return epoch_parse(text, ns);
	if (!time_parse_rfc3339(text, ns))
		return 0;
	/* "2026-11-21T10:00:00.000+0000": an offset without its colon. */
	if (len > 5 && len + 2 < sizeof(fixed) &&
	    (text[len - 5] == '+' || text[len - 5] == '-')) {
		memcpy(fixed, text, len - 2);
		fixed[len - 2] = ':';
		memcpy(fixed + len - 1, text + len - 2, 3);
		return time_parse_rfc3339(fixed, ns);
	}
	return ELAVA_E_PARSE;
}
