/*
 * Field paths: how the diff names a changed field ("tags.Env",
 * "attributes.volumes[0].size", 'attributes["a.b"]') and how an ignore
 * rule's path is read back. Both directions live here so a rule written by
 * copying a path out of a diff always matches that path.
 */
#include "resource/resource_int.h"

#include <ctype.h>
#include <stdint.h>
#include <string.h>

/* Deeper than any attribute can nest (EJSON_MAX_DEPTH) plus the field. */
#define PATH_MAX_SEGS (EJSON_MAX_DEPTH + 2)

static bool needs_quotes(const char *key, size_t n)
{
	if (n == 0)
		return true;
	for (size_t i = 0; i < n; i++) {
		switch (key[i]) {
		case '.':
		case '[':
		case ']':
		case '"':
		case '\\': return true;
		default: break;
		}
	}
	return false;
}

int resource__path_key(struct buf *path, const char *key, size_t n)
{
	int rc;

	if (needs_quotes(key, n)) {
		if ((rc = buf_putc(path, '[')) ||
		    (rc = buf_append_json_string(path, key, n)))
			return rc;
		return buf_putc(path, ']');
	}
	if (path->len && (rc = buf_putc(path, '.')))
		return rc;
	return buf_append(path, key, n);
}

int resource__path_index(struct buf *path, size_t i)
{
	return buf_printf(path, "[%zu]", i);
}

void resource__segs_free(struct resource__seg *segs, size_t n)
{
	for (size_t i = 0; i < n; i++)
		xfree(segs[i].key);
	xfree(segs);
}

/* Read the ["..."] form at p (just past '['); advance *pp past ']'. */
static int parse_quoted(const char **pp, char **key_out)
{
	const char *p = *pp, *q = p + 1;
	struct ejson *v = NULL;

	while (*q && *q != '"') {
		if (*q == '\\' && q[1])
			q++;
		q++;
	}
	if (*q != '"' || q[1] != ']')
		return ELAVA_E_INVAL;
	if (ejson_parse(p, (size_t)(q + 1 - p), &v, NULL))
		return ELAVA_E_INVAL;
	/* A JSON string without NUL (ejson_parse refuses \u0000). */
	*key_out = xstrndup(ejson_string_value(v), ejson_string_length(v));
	ejson_free(&v);
	*pp = q + 2;
	return 0;
}

static int parse_index(const char **pp, size_t *index_out)
{
	const char *p = *pp;
	size_t idx = 0;

	if (!isdigit((unsigned char)*p))
		return ELAVA_E_INVAL;
	while (isdigit((unsigned char)*p)) {
		if (idx > (SIZE_MAX - 9) / 10)
			return ELAVA_E_INVAL;
		idx = idx * 10 + (size_t)(*p - '0');
		p++;
	}
	if (*p != ']')
		return ELAVA_E_INVAL;
	*pp = p + 1;
	*index_out = idx;
	return 0;
}

int resource__path_parse(const char *s, struct resource__seg **segs_out,
			 size_t *nsegs_out, struct buf *canon)
{
	struct resource__seg *segs = NULL;
	struct buf spelled = BUF_INIT;
	const char *p = s;
	size_t n = 0;
	int rc = ELAVA_E_INVAL;

	*segs_out = NULL;
	*nsegs_out = 0;
	if (!s || !*s)
		goto out;
	buf_init(&spelled, 0);
	while (*p) {
		struct resource__seg seg = {NULL, 0};

		if (n == PATH_MAX_SEGS)
			goto out;
		if (*p == '[' && p[1] == '"') {
			p++;
			if (parse_quoted(&p, &seg.key))
				goto out;
		} else if (*p == '[') {
			p++;
			/* A path starts with a field name, never an index. */
			if (n == 0 || parse_index(&p, &seg.index))
				goto out;
		} else {
			size_t len;

			if (n > 0 && *p++ != '.')
				goto out;
			len = strcspn(p, ".[]\"\\");
			if (len == 0)
				goto out;
			seg.key = xstrndup(p, len);
			p += len;
		}
		segs = xrealloc(segs, st_mult(n + 1, sizeof(*segs)));
		segs[n++] = seg;
		if (seg.key)
			rc = resource__path_key(&spelled, seg.key,
						strlen(seg.key));
		else
			rc = resource__path_index(&spelled, seg.index);
		if (rc)
			goto out;
		rc = ELAVA_E_INVAL;
	}
	if ((rc = buf_append(canon, spelled.data, spelled.len)))
		goto out;
	*segs_out = segs;
	*nsegs_out = n;
	segs = NULL;
	n = 0;
out:
	resource__segs_free(segs, n);
	buf_release(&spelled);
	return rc;
}
