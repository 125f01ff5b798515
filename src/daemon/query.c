/*
 * The parser of HTTP request targets ("/path?a=1&b=x%2Fy") and the JSON
 * error body every endpoint answers with. Kept apart from http.c so that it
 * has no libmicrohttpd dependency and can be fuzzed on its own: the target
 * is the first thing a stranger controls, so it is bounded (HTTP_TARGET_MAX
 * bytes, HTTP_PARAMS_MAX parameters) and every escape is checked.
 */
#include "daemon/daemon_int.h"

#include <stdio.h>
#include <string.h>

/* Longest parameter name quoted in an error message. */
#define NAME_QUOTE_MAX 64

/*
 * Decode s[0..n) (which starts at offset `at` of the target) into a new
 * NUL-terminated string: %XX escapes, and '+' as a space when `plus`.
 * Errors name the offset of the faulty escape.
 */
static int decode(const char *s, size_t n, size_t at, bool plus, char **out,
		  struct elava_error *err)
{
	char *d = xmalloc(st_add(n, 1));
	size_t j = 0;

	for (size_t i = 0; i < n; i++) {
		char c = s[i];

		if (c == '%') {
			int hi = i + 1 < n ? hex_digit(s[i + 1]) : -1;
			int lo = i + 2 < n ? hex_digit(s[i + 2]) : -1;

			if (hi < 0 || lo < 0) {
				xfree(d);
				return elava_error_set(
				    err, ELAVA_E_INVAL,
				    "bad percent-escape at offset %zu of the "
				    "request target",
				    at + i);
			}
			c = (char)(hi << 4 | lo);
			if (c == '\0') {
				xfree(d);
				return elava_error_set(
				    err, ELAVA_E_INVAL,
				    "escaped NUL at offset %zu of the request "
				    "target",
				    at + i);
			}
			i += 2;
		} else if (c == '+' && plus) {
			c = ' ';
		}
		d[j++] = c;
	}
	d[j] = '\0';
	*out = d;
	return 0;
}

/* Quote a decoded name for a message: printable ASCII, capped. */
static void quote_name(const char *name, char out[NAME_QUOTE_MAX + 4])
{
	size_t i;

	for (i = 0; name[i] && i < NAME_QUOTE_MAX; i++) {
		unsigned char c = (unsigned char)name[i];

		out[i] = c >= 0x20 && c < 0x7f ? (char)c : '?';
	}
	if (name[i]) {
		memcpy(out + i, "...", 3);
		i += 3;
	}
	out[i] = '\0';
}

static int parse_param(const char *s, size_t n, size_t at,
		       struct http_target *t, struct elava_error *err)
{
	const char *eq = memchr(s, '=', n);
	size_t nlen = eq ? (size_t)(eq - s) : n;
	struct http_param *p;
	char quoted[NAME_QUOTE_MAX + 4];
	int rc;

	if (nlen == 0)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "empty parameter name at offset %zu of "
				       "the request target",
				       at);
	if (t->nparams == HTTP_PARAMS_MAX)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "more than %d query parameters (at "
				       "offset %zu of the request target)",
				       HTTP_PARAMS_MAX, at);
	p = &t->params[t->nparams];
	if ((rc = decode(s, nlen, at, true, &p->name, err)))
		return rc;
	if (eq)
		rc = decode(eq + 1, n - nlen - 1, at + nlen + 1, true,
			    &p->value, err);
	else
		p->value = xstrdup("");
	if (rc) {
		xfree(p->name);
		p->name = NULL;
		return rc;
	}
	t->nparams++;
	for (size_t i = 0; i + 1 < t->nparams; i++) {
		if (strcmp(t->params[i].name, p->name) == 0) {
			quote_name(p->name, quoted);
			return elava_error_set(err, ELAVA_E_INVAL,
					       "query parameter '%s' is given "
					       "twice",
					       quoted);
		}
	}
	return 0;
}

int http_target_parse(const char *target, struct http_target *t,
		      struct elava_error *err)
{
	const char *q;
	size_t len, plen;
	int rc;

	if (!t)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "no request target to parse into");
	memset(t, 0, sizeof(*t));
	if (!target)
		return elava_error_set(err, ELAVA_E_INVAL, "no request target");
	len = strnlen(target, HTTP_TARGET_MAX + 1);
	if (len > HTTP_TARGET_MAX)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "request target is longer than %d bytes",
				       HTTP_TARGET_MAX);
	if (target[0] != '/')
		return elava_error_set(err, ELAVA_E_INVAL,
				       "request target does not start with "
				       "'/'");
	q = memchr(target, '?', len);
	plen = q ? (size_t)(q - target) : len;
	if ((rc = decode(target, plen, 0, false, &t->path, err)))
		return rc;
	if (!q)
		return 0;
	for (size_t at = plen + 1; at <= len;) {
		const char *s = target + at;
		const char *amp = memchr(s, '&', len - at);
		size_t n = amp ? (size_t)(amp - s) : len - at;

		/* "a=1&&b=2" and a trailing '&' hold no parameter. */
		if (n > 0 && (rc = parse_param(s, n, at, t, err)))
			return rc;
		at += n + 1;
	}
	return 0;
}

void http_target_release(struct http_target *t)
{
	if (!t)
		return;
	xfree(t->path);
	for (size_t i = 0; i < HTTP_PARAMS_MAX; i++) {
		xfree(t->params[i].name);
		xfree(t->params[i].value);
	}
	memset(t, 0, sizeof(*t));
}

const char *http_target_param(const struct http_target *t, const char *name)
{
	if (!t || !name)
		return NULL;
	for (size_t i = 0; i < t->nparams; i++)
		if (strcmp(t->params[i].name, name) == 0)
			return t->params[i].value;
	return NULL;
}

void http_error(struct http_response *resp, int status, const char *fmt, ...)
{
	char msg[512];
	size_t n;
	va_list ap;
	int rc;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	n = strlen(msg);
	/* The message may quote what the client sent (or be cut in the
	 * middle of a character): JSON text must stay UTF-8. */
	if (!utf8_valid(msg, n))
		for (size_t i = 0; i < n; i++)
			if ((unsigned char)msg[i] >= 0x80)
				msg[i] = '?';
	resp->status = status;
	resp->content_type = "application/json";
	buf_reset(&resp->body);
	rc = buf_puts(&resp->body, "{\"error\":");
	if (!rc)
		rc = buf_append_json_string(&resp->body, msg, n);
	if (!rc)
		rc = buf_printf(&resp->body, ",\"status\":%d}", status);
	if (rc) {
		/* A body capped below a short message: say only the status. */
		buf_reset(&resp->body);
		buf_printf(&resp->body, "{\"status\":%d}", status);
	}
}
