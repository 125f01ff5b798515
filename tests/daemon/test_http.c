/*
 * Tests of the daemon's HTTP endpoint: the request target parser as a pure
 * function, then a real server on 127.0.0.1 (port 0) driven by a real
 * libcurl client: status codes, headers, JSON error bodies, the bearer
 * token, the API rate limit, binding errors, concurrent clients and a stop
 * with requests in flight. No test sleeps for a fixed time to decide an
 * outcome, and none asserts a duration.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <errno.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include <curl/curl.h>

#include "daemon/daemon_int.h"

#define TOKEN "t0ken-for-the-api"

/* ------------------------------------------------------ target parsing */

static void parse_ok(const char *target, struct http_target *t)
{
	struct elava_error err = {0};
	int rc = http_target_parse(target, t, &err);

	if (rc)
		fail_msg("'%s': %s", target, err.msg);
}

/* Parse must fail with ELAVA_E_INVAL and a message holding `what`. */
static void parse_bad(const char *target, const char *what)
{
	struct http_target t;
	struct elava_error err = {0};

	assert_int_equal(http_target_parse(target, &t, &err), ELAVA_E_INVAL);
	assert_int_equal(err.code, ELAVA_E_INVAL);
	if (!strstr(err.msg, what))
		fail_msg("'%s': message '%s' lacks '%s'", target, err.msg,
			 what);
	http_target_release(&t);
}

static void test_parse_decoding(void **state)
{
	struct http_target t;

	(void)state;
	parse_ok("/", &t);
	assert_string_equal(t.path, "/");
	assert_int_equal(t.nparams, 0);
	http_target_release(&t);

	parse_ok("/api/v1/resources?type=ec2%3Ainstance&tag=env%3Dprod&flag",
		 &t);
	assert_string_equal(t.path, "/api/v1/resources");
	assert_int_equal(t.nparams, 3);
	assert_string_equal(http_target_param(&t, "type"), "ec2:instance");
	assert_string_equal(http_target_param(&t, "tag"), "env=prod");
	assert_string_equal(http_target_param(&t, "flag"), "");
	assert_null(http_target_param(&t, "missing"));
	assert_null(http_target_param(&t, "Type"));
	http_target_release(&t);

	/* '+' is a space in the query only; escapes decode everywhere;
	 * a value keeps its own '=' signs. */
	parse_ok("/a+b/c%20d%2Fe?n%61me=x+y%2B1&k=a=b", &t);
	assert_string_equal(t.path, "/a+b/c d/e");
	assert_string_equal(http_target_param(&t, "name"), "x y+1");
	assert_string_equal(http_target_param(&t, "k"), "a=b");
	http_target_release(&t);

	/* Lower- and upper-case hex, bytes beyond ASCII. */
	parse_ok("/%c3%A9?v=%E2%82%ac", &t);
	assert_string_equal(t.path, "/\xc3\xa9");
	assert_string_equal(http_target_param(&t, "v"), "\xe2\x82\xac");
	http_target_release(&t);

	/* Empty pieces hold no parameter; an empty value is fine. */
	parse_ok("/x?&a=&&b=2&", &t);
	assert_int_equal(t.nparams, 2);
	assert_string_equal(http_target_param(&t, "a"), "");
	assert_string_equal(http_target_param(&t, "b"), "2");
	http_target_release(&t);

	parse_ok("/x?", &t);
	assert_int_equal(t.nparams, 0);
	assert_string_equal(t.path, "/x");
	http_target_release(&t);

	/* Release is idempotent and NULL-safe. */
	http_target_release(&t);
	http_target_release(NULL);
	assert_null(http_target_param(NULL, "a"));
}

static void test_parse_errors(void **state)
{
	(void)state;
	parse_bad("", "start with '/'");
	parse_bad("x/y", "start with '/'");
	parse_bad("*", "start with '/'");
	parse_bad("http://h/x", "start with '/'");
	parse_bad(NULL, "no request target");

	parse_bad("/%zz", "bad percent-escape at offset 1");
	parse_bad("/ab%", "bad percent-escape at offset 3");
	parse_bad("/ab%4", "bad percent-escape at offset 3");
	parse_bad("/x?a=%g1", "bad percent-escape at offset 5");
	parse_bad("/x?a=1%", "bad percent-escape at offset 6");
	parse_bad("/x?%=1", "bad percent-escape at offset 3");

	parse_bad("/a%00b", "escaped NUL at offset 2");
	parse_bad("/x?a=%00", "escaped NUL at offset 5");
	parse_bad("/x?%00=1", "escaped NUL at offset 3");

	parse_bad("/x?=1", "empty parameter name at offset 3");
	parse_bad("/x?a=1&=2", "empty parameter name at offset 7");

	parse_bad("/x?a=1&a=2", "query parameter 'a' is given twice");
	/* Names are compared decoded. */
	parse_bad("/x?a=1&%61", "query parameter 'a' is given twice");
	parse_bad("/x?a+b=1&a%20b=2", "query parameter 'a b' is given twice");
	/* A quoted name is printable and capped. */
	parse_bad("/x?%01=1&%01=2", "query parameter '?' is given twice");
}

static void test_parse_limits(void **state)
{
	char target[HTTP_TARGET_MAX + 2];
	struct buf b = BUF_INIT;
	struct http_target t;
	char name[8];

	(void)state;
	/* Exactly HTTP_TARGET_MAX bytes pass; one more does not. */
	target[0] = '/';
	memset(target + 1, 'a', HTTP_TARGET_MAX - 1);
	target[HTTP_TARGET_MAX] = '\0';
	parse_ok(target, &t);
	assert_int_equal(strlen(t.path), HTTP_TARGET_MAX);
	http_target_release(&t);
	target[HTTP_TARGET_MAX] = 'a';
	target[HTTP_TARGET_MAX + 1] = '\0';
	parse_bad(target, "longer than 2048 bytes");

	/* HTTP_PARAMS_MAX parameters pass; one more does not. */
	buf_puts(&b, "/x?");
	for (int i = 0; i < HTTP_PARAMS_MAX; i++)
		buf_printf(&b, "p%d=%d&", i, i);
	parse_ok(b.data, &t);
	assert_int_equal(t.nparams, HTTP_PARAMS_MAX);
	for (int i = 0; i < HTTP_PARAMS_MAX; i++) {
		snprintf(name, sizeof(name), "p%d", i);
		assert_non_null(http_target_param(&t, name));
		assert_int_equal(atoi(http_target_param(&t, name)), i);
	}
	http_target_release(&t);
	buf_puts(&b, "one=more");
	parse_bad(b.data, "more than 16 query parameters");
	buf_release(&b);
}

static void test_http_error(void **state)
{
	struct http_response resp;
	struct ejson *v = NULL;
	struct elava_error err = {0};

	(void)state;
	resp.status = 200;
	resp.content_type = "text/plain";
	resp.retry_after_s = 0;
	buf_init(&resp.body, 0);
	buf_puts(&resp.body, "partial output that must go");
	http_error(&resp, 404, "no resource '%s' (\"quoted\")", "i-1");
	assert_int_equal(resp.status, 404);
	assert_string_equal(resp.content_type, "application/json");
	assert_string_equal(resp.body.data,
			    "{\"error\":\"no resource 'i-1' (\\\"quoted\\\")\","
			    "\"status\":404}");

	/* Bytes that are not UTF-8 (from a decoded target) stay JSON. */
	http_error(&resp, 400, "bad value '%s'", "\xff\xfe\x01");
	assert_int_equal(ejson_parse(resp.body.data, resp.body.len, &v, &err),
			 0);
	assert_string_equal(ejson_string_value(ejson_object_get(v, "error")),
			    "bad value '??\x01'");
	assert_int_equal(ejson_int_value(ejson_object_get(v, "status")), 400);
	ejson_free(&v);
	buf_release(&resp.body);
}

/* ------------------------------------------------------------- server */

static atomic_int slow_entered;
static atomic_int slow_finished;

static void h_hello(const struct http_request *req, struct http_response *resp,
		    void *ud)
{
	(void)req;
	assert_string_equal((const char *)ud, "user-data");
	resp->content_type = "text/plain; charset=utf-8";
	buf_puts(&resp->body, "hello\n");
}

/* Echo the path and the parameter q as JSON. */
static void h_echo(const struct http_request *req, struct http_response *resp,
		   void *ud)
{
	const char *q = http_target_param(req->target, "q");

	(void)ud;
	buf_puts(&resp->body, "{\"path\":");
	buf_append_json_string(&resp->body, req->target->path,
			       strlen(req->target->path));
	buf_puts(&resp->body, ",\"q\":");
	buf_append_json_string(&resp->body, q ? q : "", q ? strlen(q) : 0);
	buf_puts(&resp->body, "}");
}

static void h_teapot(const struct http_request *req, struct http_response *resp,
		     void *ud)
{
	(void)req;
	(void)ud;
	http_error(resp, 418, "short and stout");
}

static void h_slow(const struct http_request *req, struct http_response *resp,
		   void *ud)
{
	struct timespec ts = {0, 200 * 1000 * 1000};

	(void)req;
	(void)ud;
	atomic_fetch_add(&slow_entered, 1);
	nanosleep(&ts, NULL);
	buf_puts(&resp->body, "{\"slow\":true}");
	atomic_fetch_add(&slow_finished, 1);
}

static const struct http_route routes[] = {
    {"/x", h_hello, false},
    {"/api/", h_echo, true},
    {"/teapot", h_teapot, false},
    {"/slow", h_slow, false},
};

struct fixture {
	struct metrics *metrics;
	struct metric *requests_total;
	struct http_server *server;
	int port;
};

static struct http_server *start(const struct http_server_options *o)
{
	struct http_server *s = NULL;
	struct elava_error err = {0};

	if (http_server_start(o, &s, &err))
		fail_msg("http_server_start: %s", err.msg);
	assert_non_null(s);
	assert_true(http_server_port(s) > 0);
	return s;
}

static int setup(void **state)
{
	static const char *const labels[] = {"handler", "code", NULL};
	struct fixture *f = calloc(1, sizeof(*f));
	struct http_server_options o = {0};

	f->metrics = metrics_new();
	f->requests_total = metrics_counter(
	    f->metrics, "elava_http_requests_total",
	    "HTTP requests answered, by handler and status code.", labels);
	o.listen = "127.0.0.1";
	o.port = 0;
	o.routes = routes;
	o.nroutes = ARRAY_SIZE(routes);
	o.ud = (void *)"user-data";
	o.token = TOKEN;
	o.requests_total = f->requests_total;
	o.api_requests_per_second = 10000;
	f->server = start(&o);
	f->port = http_server_port(f->server);
	*state = f;
	return 0;
}

static int teardown(void **state)
{
	struct fixture *f = *state;

	http_server_stop(&f->server);
	assert_null(f->server);
	metrics_free(&f->metrics);
	free(f);
	return 0;
}

/* One exchange, as a client sees it. */
struct reply {
	long status;
	struct buf body;
	struct buf headers;
	CURLcode cc;
};

static size_t on_data(char *p, size_t size, size_t n, void *ud)
{
	struct buf *b = ud;

	if (buf_append(b, p, size * n))
		return 0;
	return size * n;
}

static void reply_release(struct reply *r)
{
	buf_release(&r->body);
	buf_release(&r->headers);
}

/* The value of a header in r (case-insensitive name), or NULL; copied
 * into out. */
static const char *header(const struct reply *r, const char *name, char *out,
			  size_t outsz)
{
	size_t n = strlen(name);
	const char *p = r->headers.data;

	while (p && *p) {
		const char *eol = strstr(p, "\r\n");
		size_t len = eol ? (size_t)(eol - p) : strlen(p);

		if (len > n && strncasecmp(p, name, n) == 0 && p[n] == ':') {
			const char *v = p + n + 1;
			size_t vl;

			while (*v == ' ')
				v++;
			vl = (size_t)(p + len - v);
			if (vl >= outsz)
				vl = outsz - 1;
			memcpy(out, v, vl);
			out[vl] = '\0';
			return out;
		}
		p = eol ? eol + 2 : p + len;
	}
	return NULL;
}

/* Send method to target on handle h (reused for keep-alive); auth is an
 * Authorization header or NULL; body a request body or NULL. */
static void exchange_on(CURL *h, const char *host, int port, const char *method,
			const char *target, const char *auth, const char *body,
			struct reply *r)
{
	char url[HTTP_TARGET_MAX * 2];
	struct curl_slist *hdrs = NULL;
	char hv[256];

	buf_init(&r->body, 0);
	buf_init(&r->headers, 0);
	snprintf(url, sizeof(url), "http://%s:%d%s", host, port, target);
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_PATH_AS_IS, 1L);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT, 30L);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &r->body);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_data);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &r->headers);
	if (strcmp(method, "HEAD") == 0)
		curl_easy_setopt(h, CURLOPT_NOBODY, 1L);
	else if (strcmp(method, "GET") != 0)
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	if (body) {
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, body);
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, method);
	}
	if (auth) {
		snprintf(hv, sizeof(hv), "Authorization: %s", auth);
		hdrs = curl_slist_append(hdrs, hv);
	}
	/* No "Expect: 100-continue" wait on bodies. */
	hdrs = curl_slist_append(hdrs, "Expect:");
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	r->cc = curl_easy_perform(h);
	r->status = 0;
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &r->status);
	curl_slist_free_all(hdrs);
}

static void exchange(int port, const char *method, const char *target,
		     const char *auth, const char *body, struct reply *r)
{
	CURL *h = curl_easy_init();

	assert_non_null(h);
	exchange_on(h, "127.0.0.1", port, method, target, auth, body, r);
	curl_easy_cleanup(h);
	if (r->cc != CURLE_OK)
		fail_msg("%s %s: %s", method, target,
			 curl_easy_strerror(r->cc));
}

/* r's body is {"error":...,"status":status}; returns nothing, checks. */
static void assert_json_error(const struct reply *r, long status,
			      const char *what)
{
	struct ejson *v = NULL;
	struct elava_error err = {0};
	char ct[128];
	const char *msg;

	assert_int_equal(r->status, status);
	assert_non_null(header(r, "Content-Type", ct, sizeof(ct)));
	assert_string_equal(ct, "application/json");
	assert_non_null(header(r, "Cache-Control", ct, sizeof(ct)));
	assert_string_equal(ct, "no-store");
	if (ejson_parse(r->body.data, r->body.len, &v, &err))
		fail_msg("error body '%s' is not JSON: %s", r->body.data,
			 err.msg);
	assert_int_equal(ejson_int_value(ejson_object_get(v, "status")),
			 status);
	msg = ejson_string_value(ejson_object_get(v, "error"));
	assert_non_null(msg);
	if (!strstr(msg, what))
		fail_msg("error '%s' lacks '%s'", msg, what);
	ejson_free(&v);
}

/* The count of requests_total{handler,code}, 0 when absent. */
static double counted(struct fixture *f, const char *handler, const char *code)
{
	struct buf out = BUF_INIT;
	char want[128];
	const char *p;
	double v = 0;

	assert_int_equal(metrics_render(f->metrics, &out), 0);
	snprintf(want, sizeof(want),
		 "elava_http_requests_total{handler=\"%s\",code=\"%s\"} ",
		 handler, code);
	p = out.data ? strstr(out.data, want) : NULL;
	if (p)
		v = strtod(p + strlen(want), NULL);
	buf_release(&out);
	return v;
}

static void test_get_and_head(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char v[128];

	exchange(f->port, "GET", "/x", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "hello\n");
	assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
			    "text/plain; charset=utf-8");
	assert_string_equal(header(&r, "Cache-Control", v, sizeof(v)),
			    "no-store");
	assert_string_equal(header(&r, "Content-Length", v, sizeof(v)), "6");
	assert_null(header(&r, "Retry-After", v, sizeof(v)));
	reply_release(&r);

	/* HEAD: the same headers, no body. */
	exchange(f->port, "HEAD", "/x", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	assert_int_equal(r.body.len, 0);
	assert_string_equal(header(&r, "Content-Length", v, sizeof(v)), "6");
	assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
			    "text/plain; charset=utf-8");
	reply_release(&r);

	/* A handler's own error status and body. */
	exchange(f->port, "GET", "/teapot", NULL, NULL, &r);
	assert_json_error(&r, 418, "short and stout");
	reply_release(&r);

	assert_int_equal(counted(f, "/x", "200"), 2);
	assert_int_equal(counted(f, "/teapot", "418"), 1);
}

static void test_errors(void **state)
{
	struct fixture *f = *state;
	char target[HTTP_TARGET_MAX + 64];
	struct reply r;
	char v[128];

	/* Unknown paths; exact routes do not match as prefixes. */
	exchange(f->port, "GET", "/nope", NULL, NULL, &r);
	assert_json_error(&r, 404, "no such endpoint");
	reply_release(&r);
	exchange(f->port, "GET", "/x/", NULL, NULL, &r);
	assert_json_error(&r, 404, "no such endpoint");
	reply_release(&r);
	exchange(f->port, "GET", "/xy", NULL, NULL, &r);
	assert_json_error(&r, 404, "no such endpoint");
	reply_release(&r);

	/* Methods. */
	exchange(f->port, "DELETE", "/x", NULL, NULL, &r);
	assert_json_error(&r, 405, "method not allowed");
	assert_string_equal(header(&r, "Allow", v, sizeof(v)), "GET, HEAD");
	reply_release(&r);
	exchange(f->port, "POST", "/x", NULL, "a=1", &r);
	assert_json_error(&r, 405, "method not allowed");
	reply_release(&r);

	/* A body on a GET. */
	exchange(f->port, "GET", "/x", NULL, "some body", &r);
	assert_json_error(&r, 413, "request bodies are not accepted");
	/* The body is not read: the connection cannot carry another. */
	assert_string_equal(header(&r, "Connection", v, sizeof(v)), "close");
	reply_release(&r);

	/* A bad target: the parser's message, as JSON. */
	exchange(f->port, "GET", "/x?a=%zz", NULL, NULL, &r);
	assert_json_error(&r, 400, "bad percent-escape at offset 5");
	reply_release(&r);
	exchange(f->port, "GET", "/x?a=1&a=2", NULL, NULL, &r);
	assert_json_error(&r, 400, "given twice");
	reply_release(&r);

	/* Too long: one byte over the limit. */
	strcpy(target, "/x?a=");
	memset(target + 5, 'b', HTTP_TARGET_MAX - 4);
	target[HTTP_TARGET_MAX + 1] = '\0';
	assert_int_equal(strlen(target), HTTP_TARGET_MAX + 1);
	exchange(f->port, "GET", target, NULL, NULL, &r);
	assert_json_error(&r, 414, "longer than 2048 bytes");
	reply_release(&r);
	/* At the limit it is served. */
	target[HTTP_TARGET_MAX] = '\0';
	exchange(f->port, "GET", target, NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_release(&r);

	assert_int_equal(counted(f, "other", "404"), 3);
	assert_int_equal(counted(f, "/x", "405"), 2);
	assert_int_equal(counted(f, "/x", "413"), 1);
	assert_int_equal(counted(f, "other", "400"), 2);
	assert_int_equal(counted(f, "other", "414"), 1);
}

static void test_token(void **state)
{
	struct fixture *f = *state;
	struct reply r;
	char v[128];

	exchange(f->port, "GET", "/api/things?q=a+b%21", NULL, NULL, &r);
	assert_json_error(&r, 401, "a bearer token is required");
	assert_non_null(header(&r, "WWW-Authenticate", v, sizeof(v)));
	assert_memory_equal(v, "Bearer", 6);
	reply_release(&r);

	exchange(f->port, "GET", "/api/things", "Bearer wrong", NULL, &r);
	assert_json_error(&r, 401, "wrong bearer token");
	reply_release(&r);
	/* A prefix of the token, the token with more, another scheme. */
	exchange(f->port, "GET", "/api/things", "Bearer t0ken", NULL, &r);
	assert_int_equal(r.status, 401);
	reply_release(&r);
	exchange(f->port, "GET", "/api/things", "Bearer " TOKEN "x", NULL, &r);
	assert_int_equal(r.status, 401);
	reply_release(&r);
	exchange(f->port, "GET", "/api/things", "Basic " TOKEN, NULL, &r);
	assert_int_equal(r.status, 401);
	reply_release(&r);

	exchange(f->port, "GET", "/api/things?q=a+b%21", "Bearer " TOKEN, NULL,
		 &r);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data,
			    "{\"path\":\"/api/things\",\"q\":\"a b!\"}");
	assert_string_equal(header(&r, "Content-Type", v, sizeof(v)),
			    "application/json");
	reply_release(&r);
	/* The scheme is case-insensitive. */
	exchange(f->port, "GET", "/api/", "bearer " TOKEN, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_release(&r);

	/* Routes outside the API need no token. */
	exchange(f->port, "GET", "/x", NULL, NULL, &r);
	assert_int_equal(r.status, 200);
	reply_release(&r);

	assert_int_equal(counted(f, "/api/", "401"), 5);
	assert_int_equal(counted(f, "/api/", "200"), 2);
}

static void test_rate_limit(void **state)
{
	struct http_server_options o = {0};
	struct http_server *s;
	struct reply r;
	int limited = 0, ok = 0;
	char v[128];

	(void)state;
	o.listen = "127.0.0.1";
	o.routes = routes;
	o.nroutes = ARRAY_SIZE(routes);
	o.ud = (void *)"user-data";
	o.api_requests_per_second = 1;
	s = start(&o);
	for (int i = 0; i < 5; i++) {
		exchange(http_server_port(s), "GET", "/api/a", NULL, NULL, &r);
		if (r.status == 429) {
			assert_json_error(&r, 429, "over the API rate");
			assert_non_null(
			    header(&r, "Retry-After", v, sizeof(v)));
			assert_true(atoi(v) >= 1);
			limited++;
		} else {
			assert_int_equal(r.status, 200);
			ok++;
		}
		reply_release(&r);
	}
	assert_true(limited >= 1);
	assert_true(ok >= 1);
	/* Routes outside the API are not limited. */
	for (int i = 0; i < 5; i++) {
		exchange(http_server_port(s), "GET", "/x", NULL, NULL, &r);
		assert_int_equal(r.status, 200);
		reply_release(&r);
	}
	http_server_stop(&s);
}

static void test_bind_errors(void **state)
{
	struct fixture *f = *state;
	struct http_server_options o = {0};
	struct http_server *s = NULL;
	struct elava_error err = {0};
	char want[64];

	o.listen = "127.0.0.1";
	o.port = f->port;
	o.routes = routes;
	o.nroutes = ARRAY_SIZE(routes);
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_BUSY);
	assert_null(s);
	snprintf(want, sizeof(want), "address 127.0.0.1:%d is in use", f->port);
	assert_string_equal(err.msg, want);

	o.port = 0;
	o.listen = "localhost";
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "'localhost' is not an IPv4 or IPv6"));
	assert_null(s);
	o.listen = "256.1.1.1";
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	o.listen = "[::1]";
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	o.listen = "";
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	o.listen = NULL;
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	o.listen = "127.0.0.1";
	o.port = 65536;
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	o.port = 0;
	o.token = "";
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	o.token = NULL;
	o.api_requests_per_second = -1;
	assert_int_equal(http_server_start(&o, &s, &err), ELAVA_E_INVAL);
	assert_null(s);
}

static void test_ipv6(void **state)
{
	struct http_server_options o = {0};
	struct http_server *s = NULL;
	struct elava_error err = {0};
	struct reply r;
	CURL *h;
	int rc;

	(void)state;
	o.listen = "::1";
	o.routes = routes;
	o.nroutes = ARRAY_SIZE(routes);
	o.ud = (void *)"user-data";
	rc = http_server_start(&o, &s, &err);
	if (rc && strstr(err.msg, strerror(EADDRNOTAVAIL))) {
		skip(); /* no ::1 on this machine */
		return;
	}
	if (rc)
		fail_msg("::1: %s", err.msg);
	h = curl_easy_init();
	exchange_on(h, "[::1]", http_server_port(s), "GET", "/x", NULL, NULL,
		    &r);
	curl_easy_cleanup(h);
	assert_int_equal(r.cc, CURLE_OK);
	assert_int_equal(r.status, 200);
	assert_string_equal(r.body.data, "hello\n");
	reply_release(&r);
	http_server_stop(&s);
}

#define CLIENTS		    4
#define REQUESTS_PER_CLIENT 100

struct client {
	pthread_t th;
	int port;
	const char *target;
	const char *auth;
	int requests;
	int ok;	       /* requests answered as expected */
	long connects; /* connections curl opened for them */
};

/* Keep-alive: one handle, many requests. */
static void *client_main(void *arg)
{
	struct client *c = arg;
	CURL *h = curl_easy_init();

	for (int i = 0; i < c->requests; i++) {
		struct reply r;
		long n = 0;

		exchange_on(h, "127.0.0.1", c->port, "GET", c->target, c->auth,
			    NULL, &r);
		if (r.cc == CURLE_OK && r.status == 200 && r.body.len > 0)
			c->ok++;
		curl_easy_getinfo(h, CURLINFO_NUM_CONNECTS, &n);
		c->connects += n;
		reply_release(&r);
	}
	curl_easy_cleanup(h);
	return NULL;
}

static void test_concurrent(void **state)
{
	struct fixture *f = *state;
	struct client c[CLIENTS];
	double before_x = counted(f, "/x", "200");
	double before_api = counted(f, "/api/", "200");

	for (int i = 0; i < CLIENTS; i++) {
		c[i] = (struct client){.port = f->port,
				       .requests = REQUESTS_PER_CLIENT};
		c[i].target = i % 2 ? "/api/c?q=1" : "/x";
		c[i].auth = i % 2 ? "Bearer " TOKEN : NULL;
		assert_int_equal(
		    pthread_create(&c[i].th, NULL, client_main, &c[i]), 0);
	}
	for (int i = 0; i < CLIENTS; i++) {
		pthread_join(c[i].th, NULL);
		assert_int_equal(c[i].ok, REQUESTS_PER_CLIENT);
		/* Keep-alive: one connection carried all of them. */
		assert_int_equal(c[i].connects, 1);
	}
	assert_int_equal(counted(f, "/x", "200") - before_x,
			 CLIENTS / 2 * REQUESTS_PER_CLIENT);
	assert_int_equal(counted(f, "/api/", "200") - before_api,
			 CLIENTS / 2 * REQUESTS_PER_CLIENT);
}

static void test_stop_in_flight(void **state)
{
	struct http_server_options o = {0};
	struct http_server *s;
	struct client c[2];
	struct timespec tick = {0, 1000 * 1000};
	long waited = 0;

	(void)state;
	o.listen = "127.0.0.1";
	o.routes = routes;
	o.nroutes = ARRAY_SIZE(routes);
	s = start(&o);
	atomic_store(&slow_entered, 0);
	atomic_store(&slow_finished, 0);
	for (int i = 0; i < 2; i++) {
		c[i] = (struct client){.port = http_server_port(s),
				       .target = "/slow",
				       .requests = 1};
		assert_int_equal(
		    pthread_create(&c[i].th, NULL, client_main, &c[i]), 0);
	}
	/* Both requests are in a handler (the second at least still is). */
	while (atomic_load(&slow_entered) < 2 && waited++ < 60000)
		nanosleep(&tick, NULL);
	assert_int_equal(atomic_load(&slow_entered), 2);
	http_server_stop(&s);
	assert_null(s);
	assert_int_equal(atomic_load(&slow_finished), 2);
	for (int i = 0; i < 2; i++) {
		pthread_join(c[i].th, NULL);
		assert_int_equal(c[i].ok, 1);
	}
	/* Stopped means closed: nobody answers on that port now. */
	{
		struct reply r;
		CURL *h = curl_easy_init();

		exchange_on(h, "127.0.0.1", c[0].port, "GET", "/x", NULL, NULL,
			    &r);
		curl_easy_cleanup(h);
		assert_int_equal(r.cc, CURLE_COULDNT_CONNECT);
		reply_release(&r);
	}
	http_server_stop(&s); /* NULL-safe */
	http_server_stop(NULL);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_parse_decoding),
	    cmocka_unit_test(test_parse_errors),
	    cmocka_unit_test(test_parse_limits),
	    cmocka_unit_test(test_http_error),
	    cmocka_unit_test_setup_teardown(test_get_and_head, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_token, setup, teardown),
	    cmocka_unit_test(test_rate_limit),
	    cmocka_unit_test_setup_teardown(test_bind_errors, setup, teardown),
	    cmocka_unit_test(test_ipv6),
	    cmocka_unit_test_setup_teardown(test_concurrent, setup, teardown),
	    cmocka_unit_test(test_stop_in_flight),
	};
	int rc;

	curl_global_init(CURL_GLOBAL_DEFAULT);
	rc = cmocka_run_group_tests(tests, NULL, NULL);
	curl_global_cleanup();
	return rc;
}
