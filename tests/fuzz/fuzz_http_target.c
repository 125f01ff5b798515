/*
 * Fuzz target: the HTTP request target parser (query.c). Any bytes, up to
 * the first NUL, read as a request target, must parse or fail with
 * ELAVA_E_INVAL and a message, and the JSON error made of that message must
 * be valid JSON. What parses must keep the parser's promises (a path that
 * starts with '/', at most HTTP_PARAMS_MAX distinct non-empty names, each
 * found by http_target_param) and, encoded back with every byte escaped,
 * must parse to the same path and parameters.
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "daemon/daemon_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void encode(struct buf *b, const char *s, bool keep_slash)
{
	static const char hexd[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;

		if ((c >= 'a' && c <= 'z') || (c >= 'A' && c <= 'Z') ||
		    (c >= '0' && c <= '9') || c == '-' || c == '.' ||
		    c == '_' || c == '~' || (keep_slash && c == '/')) {
			buf_putc(b, (char)c);
		} else {
			buf_putc(b, '%');
			buf_putc(b, hexd[c >> 4]);
			buf_putc(b, hexd[c & 15]);
		}
	}
}

static void check_error_body(const struct elava_error *err)
{
	struct http_response resp;
	struct ejson *v = NULL;
	struct elava_error perr = {0};

	resp.status = 200;
	resp.content_type = NULL;
	resp.retry_after_s = 0;
	buf_init(&resp.body, 0);
	http_error(&resp, 400, "%s", err->msg);
	if (resp.status != 400 || !resp.content_type ||
	    strcmp(resp.content_type, "application/json") != 0)
		abort();
	if (ejson_parse(resp.body.data, resp.body.len, &v, &perr)) {
		fprintf(stderr, "error body is not JSON: %s\n%s\n", perr.msg,
			resp.body.data);
		abort();
	}
	if (ejson_int_value(ejson_object_get(v, "status")) != 400 ||
	    !ejson_string_value(ejson_object_get(v, "error")))
		abort();
	ejson_free(&v);
	buf_release(&resp.body);
}

static void check_parsed(const struct http_target *t, size_t rawlen)
{
	struct buf b = BUF_INIT;
	struct http_target back;
	struct elava_error err = {0};

	if (!t->path || t->path[0] != '/' || strlen(t->path) > rawlen ||
	    t->nparams > HTTP_PARAMS_MAX)
		abort();
	for (size_t i = 0; i < t->nparams; i++) {
		const struct http_param *p = &t->params[i];

		if (!p->name || !p->value || !p->name[0])
			abort();
		if (http_target_param(t, p->name) != p->value)
			abort(); /* a duplicate name would find an earlier one
				  */
	}
	for (size_t i = t->nparams; i < HTTP_PARAMS_MAX; i++)
		if (t->params[i].name || t->params[i].value)
			abort();

	/* Round trip through the most escaped spelling. */
	encode(&b, t->path, true);
	for (size_t i = 0; i < t->nparams; i++) {
		buf_putc(&b, i ? '&' : '?');
		encode(&b, t->params[i].name, false);
		buf_putc(&b, '=');
		encode(&b, t->params[i].value, false);
	}
	if (http_target_parse(b.data, &back, &err)) {
		if (b.len <= HTTP_TARGET_MAX) {
			fprintf(stderr, "'%s' does not parse back: %s\n",
				b.data, err.msg);
			abort();
		}
	} else {
		if (strcmp(back.path, t->path) != 0 ||
		    back.nparams != t->nparams)
			abort();
		for (size_t i = 0; i < t->nparams; i++)
			if (strcmp(back.params[i].name, t->params[i].name) ||
			    strcmp(back.params[i].value, t->params[i].value))
				abort();
	}
	http_target_release(&back);
	buf_release(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	char *target = malloc(size + 1);
	struct http_target t;
	struct elava_error err = {0};
	size_t len;

	memcpy(target, data, size);
	target[size] = '\0';
	len = strlen(target);
	if (http_target_parse(target, &t, &err)) {
		if (err.code != ELAVA_E_INVAL || !err.msg[0])
			abort();
		check_error_body(&err);
	} else {
		check_parsed(&t, len);
	}
	http_target_release(&t);
	if (t.path || t.nparams)
		abort();
	free(target);
	return 0;
}
