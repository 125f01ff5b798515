/*
 * Faults at the listing level: the AWS provider lists instances from the
 * project's fault-injecting server (ELAVA_TEST_FAULT_URL, started by
 * run_aws_tests.sh; see the "list" modes in fault_server.py), which serves
 * a five-page DescribeInstances listing and breaks it on demand —
 * throttling and 500s, a hanging page, a truncated or malformed page, a
 * continuation token that never changes, a denied region, a cancelled
 * scan. For each, the listing's outcome is what the store's completeness
 * gate needs: complete with every instance, or failed with the right code
 * and never complete. No test here sleeps for a fixed time or asserts one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <arpa/inet.h>
#include <netinet/in.h>
#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <sys/socket.h>
#include <time.h>
#include <unistd.h>

#include "provider/aws/list_int.h"
#include "provider/provider.h"

/* What fault_server.py serves for a full listing. */
#define PAGES	 5
#define PER_PAGE 3

#define MAX_LISTINGS 512
#define MAX_IDS	     64

struct listing {
	char type[64];
	char region[32];
	int status;
	size_t resources, pages;
	char msg[512];
};

struct seen {
	atomic_size_t resources; /* read by the cancelling thread */
	char ids[MAX_IDS][32];
	size_t nids;
	bool duplicate;
	struct listing l[MAX_LISTINGS];
	size_t n;
};

static int on_resource(const struct resource *r, void *ud)
{
	struct seen *s = ud;

	for (size_t i = 0; i < s->nids; i++)
		if (!strcmp(s->ids[i], r->id))
			s->duplicate = true;
	if (s->nids < MAX_IDS)
		snprintf(s->ids[s->nids++], sizeof(s->ids[0]), "%s", r->id);
	atomic_fetch_add(&s->resources, 1);
	return 0;
}

static void on_done(const struct provider_listing *l, void *ud)
{
	struct seen *s = ud;
	struct listing *o;

	assert_true(s->n < MAX_LISTINGS);
	o = &s->l[s->n++];
	snprintf(o->type, sizeof(o->type), "%s", l->type);
	snprintf(o->region, sizeof(o->region), "%s", l->region);
	o->status = l->status;
	o->resources = l->resources;
	o->pages = l->pages;
	/* A failed listing says why; a complete one has no error. */
	if (l->status) {
		assert_non_null(l->err);
		snprintf(o->msg, sizeof(o->msg), "%s", l->err->msg);
	} else {
		assert_null(l->err);
	}
}

static const struct listing *find(const struct seen *s, const char *type,
				  const char *region)
{
	const struct listing *found = NULL;

	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->l[i].type, type) &&
		    !strcmp(s->l[i].region, region)) {
			/* one status per (region, type) */
			assert_null(found);
			found = &s->l[i];
		}
	if (!found)
		fail_msg("no listing reported for %s in %s", type, region);
	return found;
}

static const char *fault(void)
{
	const char *u = getenv("ELAVA_TEST_FAULT_URL");
	if (!u || !*u)
		skip();
	return u;
}

/* Point the provider's every service at the fault server in this mode. */
static void use_mode(const char *mode)
{
	char url[256];

	snprintf(url, sizeof(url), "%s/list/%s", fault(), mode);
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDFAULTTEST", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "fault-test-secret", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
}

static struct provider *provider(long timeout_ms, int attempts)
{
	struct provider_aws_options o = {0};
	struct elava_error err = {0};
	struct provider *p = NULL;

	o.region = "us-east-1";
	o.request_timeout_ms = timeout_ms;
	o.max_attempts = attempts;
	o.requests_per_second = -1;
	if (provider_aws_new(&o, &p, &err))
		fail_msg("provider: %s", err.msg);
	return p;
}

/* List types (NULL: one, ec2_instance) in regions (NULL: us-east-1). */
static int list(struct provider *p, const char *const *types, size_t ntypes,
		const char *const *regions, size_t nregions, struct seen *s,
		struct elava_error *err)
{
	static const char *const instances[] = {"ec2_instance"};
	struct provider_callbacks cb = {on_resource, on_done, s};
	struct provider_scope scope = {0};

	memset(s, 0, sizeof(*s));
	atomic_init(&s->resources, 0);
	scope.types = types ? types : instances;
	scope.ntypes = types ? ntypes : 1;
	scope.regions = regions;
	scope.nregions = nregions;
	return provider_list(p, &scope, &cb, err);
}

/* A counter of what the fault server served in a mode (-1: none yet). */
static int64_t served(const char *mode, const char *what)
{
	struct aws_creds creds = {0};
	struct aws_client *c = NULL;
	struct aws_request r = {0};
	struct aws_response resp;
	struct elava_error err = {0};
	struct ejson *doc = NULL;
	const struct ejson *v;
	char path[128];
	int64_t n = -1;

	creds.access_key = (char *)"AKIDFAULTTEST";
	creds.secret_key = (char *)"fault-test-secret";
	assert_int_equal(aws_client_new(NULL, &creds, &c, NULL), 0);
	snprintf(path, sizeof(path), "/list-stats/%s", mode);
	setenv("AWS_ENDPOINT_URL", fault(), 1);
	r.operation = "ListStats";
	r.service = "test";
	r.env_id = "TEST";
	r.region = "us-east-1";
	r.method = "GET";
	r.path = path;
	aws_response_init(&resp);
	if (aws_client_send(c, &r, &resp, &err))
		fail_msg("stats: %s", err.msg);
	if (ejson_parse(resp.body.data, resp.body.len, &doc, &err))
		fail_msg("stats: %s", err.msg);
	v = ejson_object_get(doc, what);
	if (v && ejson_typeof(v) == EJSON_INT)
		n = ejson_int_value(v);
	ejson_free(&doc);
	aws_response_release(&resp);
	aws_client_free(&c);
	return n;
}

/* ------------------------------------------------------------- tests */

/* (a) Throttling (RequestLimitExceeded and ThrottlingException 400,
 * SlowDown 503) on every 2nd request and a 500 on every 5th other one:
 * retries carry the listing through, complete, with every instance once. */
static void test_throttled_listing_completes(void **state)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	const struct listing *l;
	(void)state;

	use_mode("flaky");
	p = provider(10000, 0); /* the default 5 attempts */
	assert_int_equal(list(p, NULL, 0, NULL, 0, s, &err), 0);
	assert_int_equal(s->n, 1);
	l = find(s, "ec2_instance", "us-east-1");
	if (l->status)
		fail_msg("listing failed: %s", l->msg);
	assert_int_equal(l->pages, PAGES);
	assert_int_equal(l->resources, PAGES * PER_PAGE);
	assert_int_equal(atomic_load(&s->resources), PAGES * PER_PAGE);
	assert_int_equal(s->nids, PAGES * PER_PAGE);
	assert_false(s->duplicate);
	/* the faults did happen: each of the three throttles, and a 500 */
	assert_true(served("flaky", "throttles") >= 3);
	assert_true(served("flaky", "errors500") >= 1);
	assert_int_equal(served("flaky", "pages"), PAGES);
	provider_free(&p);
	free(s);
}

/* (b) Page 2 never answers: the listing fails with ELAVA_E_TIMEOUT after
 * its attempts, keeps page 1's instances, and is not complete. */
static void test_hanging_page_times_out(void **state)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	const struct listing *l;
	(void)state;

	use_mode("hang2");
	p = provider(1000, 2);
	assert_int_equal(list(p, NULL, 0, NULL, 0, s, &err), 0);
	assert_int_equal(s->n, 1);
	l = find(s, "ec2_instance", "us-east-1");
	assert_int_equal(l->status, ELAVA_E_TIMEOUT);
	assert_int_equal(l->pages, 1);
	assert_int_equal(l->resources, PER_PAGE);
	assert_int_equal(atomic_load(&s->resources), PER_PAGE);
	assert_non_null(strstr(l->msg, "after 2 attempts"));
	assert_int_equal(served("hang2", "hangs"), 2);
	provider_free(&p);
	free(s);
}

/* (c) (d) A page cut inside a record (with a Content-Length that matches
 * the cut body) and a page with badly nested elements: ELAVA_E_PARSE,
 * naming the page; only page 1's instances were delivered (the fault is in
 * page 2's first record). */
static void check_bad_page(const char *mode)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	const struct listing *l;

	use_mode(mode);
	p = provider(5000, 2);
	assert_int_equal(list(p, NULL, 0, NULL, 0, s, &err), 0);
	assert_int_equal(s->n, 1);
	l = find(s, "ec2_instance", "us-east-1");
	if (l->status != ELAVA_E_PARSE)
		fail_msg("%s: status %d: %s", mode, l->status, l->msg);
	assert_int_equal(l->pages, 2);
	assert_int_equal(l->resources, PER_PAGE);
	assert_int_equal(atomic_load(&s->resources), PER_PAGE);
	assert_non_null(strstr(l->msg, "(page 2)"));
	assert_non_null(strstr(l->msg, "XML"));
	provider_free(&p);
	free(s);
}

static void test_truncated_page_fails(void **state)
{
	(void)state;
	check_bad_page("trunc2");
}

static void test_malformed_page_fails(void **state)
{
	(void)state;
	check_bad_page("badxml2");
}

/* (e) The same nextToken forever: the page guard ends the listing at the
 * first repeat, as a failure that says why. */
static void test_page_loop_fails(void **state)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	const struct listing *l;
	(void)state;

	use_mode("loop");
	p = provider(5000, 2);
	assert_int_equal(list(p, NULL, 0, NULL, 0, s, &err), 0);
	assert_int_equal(s->n, 1);
	l = find(s, "ec2_instance", "us-east-1");
	assert_int_equal(l->status, ELAVA_E_REMOTE);
	assert_non_null(strstr(l->msg, "continuation token"));
	assert_non_null(strstr(l->msg, "never end"));
	assert_int_equal(l->pages, 2);
	assert_int_equal(l->resources, 2 * PER_PAGE);
	assert_int_equal(served("loop", "requests"), 2);
	provider_free(&p);
	free(s);
}

/* (f) UnauthorizedOperation in one region: that listing fails at once (one
 * attempt) with the AWS code; every other listing — the same type in the
 * other region, and every other type, each answered with an empty page —
 * completes. */
static void test_denied_listing_fails_alone(void **state)
{
	static const char *const regions[] = {"us-east-1", "us-west-2"};
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	const struct listing *l;
	size_t failed = 0;
	(void)state;

	use_mode("denied");
	p = provider(5000, 3);
	/* NULL types with ntypes 0: every type the provider knows */
	{
		struct provider_callbacks cb = {on_resource, on_done, s};
		struct provider_scope scope = {0};
		atomic_init(&s->resources, 0);
		scope.regions = regions;
		scope.nregions = 2;
		assert_int_equal(provider_list(p, &scope, &cb, &err), 0);
	}
	assert_true(s->n >= 2);
	l = find(s, "ec2_instance", "us-west-2");
	assert_int_equal(l->status, ELAVA_E_AUTH);
	assert_int_equal(l->resources, 0);
	assert_non_null(strstr(l->msg, "UnauthorizedOperation"));
	assert_non_null(strstr(l->msg, "after 1 attempt)"));
	assert_int_equal(served("denied", "denied"), 1);
	l = find(s, "ec2_instance", "us-east-1");
	if (l->status)
		fail_msg("ec2_instance in us-east-1: %s", l->msg);
	assert_int_equal(l->resources, PAGES * PER_PAGE);
	for (size_t i = 0; i < s->n; i++) {
		if (!s->l[i].status)
			continue;
		failed++;
		if (strcmp(s->l[i].type, "ec2_instance") ||
		    strcmp(s->l[i].region, "us-west-2"))
			fail_msg("%s in %s failed: %s", s->l[i].type,
				 s->l[i].region, s->l[i].msg);
	}
	assert_int_equal(failed, 1);
	assert_int_equal(atomic_load(&s->resources), PAGES * PER_PAGE);
	provider_free(&p);
	free(s);
}

/* (g) provider_cancel from another thread while page 2 hangs (with a
 * request timeout far beyond the test's): provider_list returns
 * ELAVA_E_CANCELLED, and the listing, if reported, is not complete. */
struct canceller {
	struct provider *p;
	struct seen *s;
};

static void *cancel_after_page1(void *arg)
{
	struct canceller *k = arg;
	struct timespec ts = {0, 10 * 1000000L};

	/* wait for page 1, then give page 2's request a moment to start */
	while (atomic_load(&k->s->resources) < PER_PAGE)
		nanosleep(&ts, NULL);
	ts.tv_nsec = 200 * 1000000L;
	nanosleep(&ts, NULL);
	provider_cancel(k->p);
	return NULL;
}

static void test_cancel_while_hanging(void **state)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	struct canceller k;
	struct provider_callbacks cb = {on_resource, on_done, s};
	struct provider_scope scope = {0};
	static const char *const instances[] = {"ec2_instance"};
	pthread_t th;
	(void)state;

	use_mode("cancel");
	p = provider(600000, 5);
	atomic_init(&s->resources, 0);
	scope.types = instances;
	scope.ntypes = 1;
	k.p = p;
	k.s = s;
	assert_int_equal(pthread_create(&th, NULL, cancel_after_page1, &k), 0);
	assert_int_equal(provider_list(p, &scope, &cb, &err),
			 ELAVA_E_CANCELLED);
	pthread_join(th, NULL);
	assert_int_equal(err.code, ELAVA_E_CANCELLED);
	assert_true(s->n <= 1);
	if (s->n) {
		assert_int_equal(s->l[0].status, ELAVA_E_CANCELLED);
		assert_int_equal(s->l[0].resources, PER_PAGE);
	}
	assert_int_equal(atomic_load(&s->resources), PER_PAGE);
	provider_free(&p);
	free(s);
}

/* (h) A JSON-protocol page that is not JSON: ELAVA_E_PARSE. Directly on
 * aws_list_page with a JSON type shaped like Secrets Manager's ListSecrets
 * (good page, broken page, truncated page); through the provider below
 * when the tables have a JSON-protocol type. */
static const struct aws_type json_type = {
    .type = "fault_json",
    .svc = &aws_svc_secretsmanager,
    .operation = "ListSecrets",
    .token_in = "NextToken",
    .token_out = "NextToken",
    .items = "SecretList[]",
    .id = "ARN",
    .name = "Name",
    .created = "CreatedDate",
    .tags = {"Tags[]", "Key", "Value"},
};

static int count_emit(struct aws_list_ctx *lc, const struct resource *r)
{
	struct buf j;

	buf_init(&j, 0);
	assert_int_equal(resource_to_json(r, &j), 0);
	buf_release(&j);
	(*(size_t *)lc->emit_ud)++;
	return 0;
}

static int page(const char *body, size_t *n, struct buf *token,
		struct elava_error *err)
{
	struct aws_list_ctx lc;
	int rc;

	aws_list_ctx_init(&lc, NULL, "123456789012", "us-east-1");
	lc.t = &json_type;
	lc.type = json_type.type;
	lc.emit = count_emit;
	lc.emit_ud = n;
	lc.err = err;
	*n = 0;
	rc = aws_list_page(&lc, body, strlen(body), token, err);
	aws_list_ctx_release(&lc);
	return rc;
}

static void test_json_page_parse_errors(void **state)
{
	static const char good[] =
	    "{\"SecretList\": [{\"ARN\": \"arn:aws:secretsmanager:us-east-1:"
	    "123456789012:secret:db-pass-RnqHup\", \"Name\": \"db-pass\", "
	    "\"CreatedDate\": 1795300925.5, \"Tags\": [{\"Key\": \"Env\", "
	    "\"Value\": \"prod\"}]}, {\"ARN\": \"arn:2\", \"Name\": \"b\"}], "
	    "\"NextToken\": \"next-1\"}";
	struct elava_error err = {0};
	struct buf token;
	size_t n;
	(void)state;

	buf_init(&token, 0);
	assert_int_equal(page(good, &n, &token, &err), 0);
	assert_int_equal(n, 2);
	assert_string_equal(token.data, "next-1");
	/* broken JSON: nothing delivered, no token to follow */
	assert_int_equal(
	    page("{\"SecretList\": [{\"ARN\": \"a\"},, ]}", &n, &token, &err),
	    ELAVA_E_PARSE);
	assert_int_equal(n, 0);
	assert_int_equal(token.len, 0);
	assert_int_equal(page("{\"SecretList\": [{\"ARN\": \"a\"}], \"Next", &n,
			      &token, &err),
			 ELAVA_E_PARSE);
	assert_int_equal(n, 0);
	assert_int_equal(page("<html>busy</html>", &n, &token, &err),
			 ELAVA_E_PARSE);
	assert_int_equal(page("", &n, &token, &err), ELAVA_E_PARSE);
	/* not an object, or records of the wrong shape: nothing, no error */
	assert_int_equal(page("[1,2]", &n, &token, &err), 0);
	assert_int_equal(
	    page("{\"SecretList\": {\"ARN\": \"x\"}}", &n, &token, &err), 0);
	assert_int_equal(n, 0);
	buf_release(&token);
}

/* Epoch times as JSON services write them; past 2262 (nanoseconds beyond
 * int64) they are refused, not overflowed (found by fuzz_aws_page). */
static void test_epoch_times(void **state)
{
	int64_t ns = 0;
	(void)state;

	assert_int_equal(aws_time_parse("1795300925", &ns), 0);
	assert_true(ns == INT64_C(1795300925) * 1000000000);
	assert_int_equal(aws_time_parse("1795301101663", &ns), 0);
	assert_true(ns == INT64_C(1795301101663) * 1000000);
	assert_int_equal(aws_time_parse("1795300925.5", &ns), 0);
	assert_true(ns == INT64_C(1795300925500) * 1000000);
	assert_int_equal(aws_time_parse("17965300925", &ns), ELAVA_E_PARSE);
	assert_int_equal(aws_time_parse("99999999999999", &ns), ELAVA_E_PARSE);
	assert_int_equal(aws_time_parse("9200000000000000", &ns),
			 ELAVA_E_PARSE);
}

static void test_json_listing_parse_error(void **state)
{
	const struct aws_type *t = NULL;
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	const struct listing *l;
	const char *types[1];
	(void)state;

	fault();
	for (size_t i = 0; i < aws_type_count() && !t; i++)
		if (aws_type_at(i)->svc->protocol == AWS_PROTO_JSON &&
		    !(aws_type_at(i)->flags & (AWS_GLOBAL | AWS_PLACED)))
			t = aws_type_at(i);
	if (!t) {
		free(s);
		skip(); /* no JSON-protocol type yet */
	}
	types[0] = t->type;
	use_mode("badjson");
	p = provider(5000, 2);
	assert_int_equal(list(p, types, 1, NULL, 0, s, &err), 0);
	assert_int_equal(s->n, 1);
	l = find(s, t->type, "us-east-1");
	if (l->status != ELAVA_E_PARSE)
		fail_msg("%s: status %d: %s", t->type, l->status, l->msg);
	assert_int_equal(l->resources, 0);
	assert_int_equal(atomic_load(&s->resources), 0);
	assert_true(served("badjson", "badjson") >= 1);
	provider_free(&p);
	free(s);
}

/* ------------------------------------------- per-service request counts */

/* The fault server's counters back to zero (paths and list modes). */
static void reset_server(void)
{
	struct aws_creds creds = {0};
	struct aws_client *c = NULL;
	struct aws_request r = {0};
	struct aws_response resp;
	struct elava_error err = {0};

	creds.access_key = (char *)"AKIDFAULTTEST";
	creds.secret_key = (char *)"fault-test-secret";
	assert_int_equal(aws_client_new(NULL, &creds, &c, NULL), 0);
	setenv("AWS_ENDPOINT_URL", fault(), 1);
	r.operation = "Reset";
	r.service = "test";
	r.env_id = "TEST";
	r.region = "us-east-1";
	r.method = "GET";
	r.path = "/reset";
	aws_response_init(&resp);
	if (aws_client_send(c, &r, &resp, &err))
		fail_msg("reset: %s", err.msg);
	aws_response_release(&resp);
	aws_client_free(&c);
}

/*
 * A loopback TCP port that refuses connections: a socket bound to it but
 * not listening (the kernel answers a SYN with a RST). Keep *fd open while
 * the port is used, so nothing else can take it.
 */
static int refused_port(int *fd)
{
	struct sockaddr_in a = {0};
	socklen_t len = sizeof(a);

	*fd = socket(AF_INET, SOCK_STREAM, 0);
	assert_true(*fd >= 0);
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	assert_int_equal(bind(*fd, (struct sockaddr *)&a, sizeof(a)), 0);
	assert_int_equal(getsockname(*fd, (struct sockaddr *)&a, &len), 0);
	return ntohs(a.sin_port);
}

/* One service's counters in a snapshot (all zero when absent). */
static struct provider_api_stats stats_of(const struct provider_api_stats *v,
					  size_t n, const char *service)
{
	struct provider_api_stats none = {service, 0, 0, 0};

	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].service, service))
			return v[i];
	return none;
}

static void assert_stats(struct provider_api_stats st, uint64_t calls,
			 uint64_t errors, uint64_t throttles)
{
	if (st.calls != calls || st.errors != errors ||
	    st.throttles != throttles)
		fail_msg("%s: calls %llu errors %llu throttles %llu, want "
			 "%llu %llu %llu",
			 st.service, (unsigned long long)st.calls,
			 (unsigned long long)st.errors,
			 (unsigned long long)st.throttles,
			 (unsigned long long)calls, (unsigned long long)errors,
			 (unsigned long long)throttles);
}

/* One request of service to path on the fault server (or base), counted
 * in stats; returns aws_client_send's code, *attempts how many it made. */
static int stats_send(struct aws_stats *stats, const char *base,
		      const char *service, const char *path, int max_attempts,
		      int *attempts)
{
	struct aws_client_options o = {0};
	struct aws_creds creds = {0};
	struct aws_client *c = NULL;
	struct aws_request r = {0};
	struct aws_response resp;
	struct elava_error err = {0};
	int rc;

	creds.access_key = (char *)"AKIDFAULTTEST";
	creds.secret_key = (char *)"fault-test-secret";
	o.max_attempts = max_attempts;
	o.backoff_base_ms = 1; /* keep the test short; not asserted */
	o.backoff_cap_ms = 5;
	o.stats = stats;
	assert_int_equal(aws_client_new(&o, &creds, &c, NULL), 0);
	setenv("AWS_ENDPOINT_URL", base, 1);
	r.operation = "Stats";
	r.service = service;
	r.env_id = "STATS_TEST";
	r.region = "us-east-1";
	r.method = "POST";
	r.path = path;
	r.body = "Action=Stats";
	r.body_len = strlen(r.body);
	r.content_type = "application/x-www-form-urlencoded";
	aws_response_init(&resp);
	rc = aws_client_send(c, &r, &resp, &err);
	*attempts = resp.attempts;
	aws_response_release(&resp);
	aws_client_free(&c);
	return rc;
}

/*
 * Every attempt of aws_client_send is counted for its service: throttled
 * twice then OK (3 calls, 2 errors, 2 throttles), a 503 then OK, 500s
 * until the attempts run out, a JSON-protocol throttle every time, a 403
 * (not retried), an OK, and a refused connection (transport errors).
 * Services are reported in the order of first use; cap limits what is
 * written, not what is returned.
 */
static void test_api_stats_per_attempt(void **state)
{
	struct aws_stats *stats = aws_stats_new();
	struct provider_api_stats v[8];
	char refused[64];
	int fd, attempts;
	size_t n;
	(void)state;

	fault();
	reset_server();
	assert_int_equal(
	    stats_send(stats, fault(), "ec2", "/throttle2/", 5, &attempts), 0);
	assert_int_equal(attempts, 3);
	assert_int_equal(
	    stats_send(stats, fault(), "sqs", "/err5031/", 5, &attempts), 0);
	assert_int_equal(attempts, 2);
	assert_int_equal(
	    stats_send(stats, fault(), "s3", "/always500/", 3, &attempts),
	    ELAVA_E_REMOTE);
	assert_int_equal(attempts, 3);
	assert_int_equal(stats_send(stats, fault(), "dynamodb",
				    "/json-throttle/", 2, &attempts),
			 ELAVA_E_THROTTLED);
	assert_int_equal(attempts, 2);
	assert_int_equal(
	    stats_send(stats, fault(), "ec2", "/denied/", 5, &attempts),
	    ELAVA_E_AUTH);
	assert_int_equal(attempts, 1);
	assert_int_equal(
	    stats_send(stats, fault(), "ec2", "/ok/", 5, &attempts), 0);
	assert_int_equal(attempts, 1);
	snprintf(refused, sizeof(refused), "http://127.0.0.1:%d",
		 refused_port(&fd));
	assert_int_equal(stats_send(stats, refused, "kms", "/", 3, &attempts),
			 ELAVA_E_NETWORK);
	assert_int_equal(attempts, 3);
	close(fd);

	n = aws_stats_read(stats, v, ARRAY_SIZE(v));
	assert_int_equal(n, 5);
	assert_string_equal(v[0].service, "ec2");
	assert_string_equal(v[1].service, "sqs");
	assert_string_equal(v[2].service, "s3");
	assert_string_equal(v[3].service, "dynamodb");
	assert_string_equal(v[4].service, "kms");
	/* 2 throttles + OK, then the 403, then the OK */
	assert_stats(v[0], 3 + 1 + 1, 2 + 1, 2);
	assert_stats(v[1], 2, 1, 0);
	assert_stats(v[2], 3, 3, 0);
	assert_stats(v[3], 2, 2, 2);
	assert_stats(v[4], 3, 3, 0);

	/* A smaller cap: the count of services still, only cap written. */
	memset(v, 0, sizeof(v));
	assert_int_equal(aws_stats_read(stats, v, 2), 5);
	assert_string_equal(v[1].service, "sqs");
	assert_null(v[2].service);
	assert_int_equal(aws_stats_read(stats, NULL, 0), 5);
	aws_stats_free(&stats);
	assert_null(stats);
	aws_stats_count(NULL, "ec2", true, true); /* no table: nothing */
}

/* More services than the table holds: the rest are counted as "other". */
static void test_api_stats_overflow(void **state)
{
	struct aws_stats *stats = aws_stats_new();
	struct provider_api_stats v[AWS_STATS_MAX + 1];
	char name[AWS_STATS_NAME];
	char longname[AWS_STATS_NAME + 8];
	(void)state;

	for (int i = 0; i < AWS_STATS_MAX + 10; i++) {
		snprintf(name, sizeof(name), "svc%d", i);
		aws_stats_count(stats, name, i % 2, i % 4 == 1);
	}
	memset(longname, 'x', sizeof(longname) - 1);
	longname[sizeof(longname) - 1] = '\0';
	aws_stats_count(stats, longname, false, false);
	assert_int_equal(aws_stats_read(stats, v, ARRAY_SIZE(v)),
			 AWS_STATS_MAX);
	assert_string_equal(v[0].service, "svc0");
	assert_string_equal(v[AWS_STATS_MAX - 2].service, "svc46");
	assert_stats(v[AWS_STATS_MAX - 2], 1, 0, 0);
	/* svc47 .. svc57 and the name too long for the table */
	assert_string_equal(v[AWS_STATS_MAX - 1].service, "other");
	assert_stats(v[AWS_STATS_MAX - 1], 12, 6, 3);
	aws_stats_free(&stats);
}

/*
 * Through the provider: the flaky DescribeInstances listing (fault_server
 * "flaky": requests 2, 4, 6, 8, 10 throttled — ThrottlingException 400,
 * SlowDown 503, RequestLimitExceeded 400... — and request 5 a 500) is
 * 11 ec2 calls for 5 pages, plus DescribeRegions; STS GetCallerIdentity
 * is the provider's first call.
 */
static void test_api_stats_listing(void **state)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	struct provider_api_stats v[8];
	const struct listing *l;
	int64_t requests, throttles, errors500;
	(void)state;

	fault();
	reset_server();
	use_mode("flaky");
	p = provider(10000, 0);
	/* made: the account from STS, nothing else yet */
	assert_int_equal(provider_api_stats(p, v, ARRAY_SIZE(v)), 1);
	assert_string_equal(v[0].service, "sts");
	assert_stats(v[0], 1, 0, 0);

	assert_int_equal(list(p, NULL, 0, NULL, 0, s, &err), 0);
	l = find(s, "ec2_instance", "us-east-1");
	if (l->status)
		fail_msg("listing failed: %s", l->msg);
	assert_int_equal(l->pages, PAGES);
	requests = served("flaky", "requests");
	throttles = served("flaky", "throttles");
	errors500 = served("flaky", "errors500");
	assert_int_equal(requests, 11);
	assert_int_equal(throttles, 5);
	assert_int_equal(errors500, 1);

	assert_int_equal(provider_api_stats(p, v, ARRAY_SIZE(v)), 2);
	assert_string_equal(v[0].service, "sts");
	assert_string_equal(v[1].service, "ec2");
	assert_stats(v[0], 1, 0, 0);
	/* DescribeRegions once, then every DescribeInstances attempt */
	assert_stats(v[1], (uint64_t)(1 + requests),
		     (uint64_t)(throttles + errors500), (uint64_t)throttles);
	provider_free(&p);
	free(s);
}

/*
 * Known pages, several services: ec2_instance in two regions (the fault
 * server's 5 pages each) and sqs_queue (one empty JSON page each) make
 * 1 + 2 * 5 ec2 calls and 2 sqs calls, no errors.
 */
static void test_api_stats_pages(void **state)
{
	static const char *const types[] = {"ec2_instance", "sqs_queue"};
	static const char *const regions[] = {"us-east-1", "us-west-2"};
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	struct provider_api_stats v[8];
	size_t n, ec2_pages = 0, sqs_pages = 0;
	(void)state;

	fault();
	reset_server();
	use_mode("ok");
	p = provider(10000, 0);
	assert_int_equal(list(p, types, 2, regions, 2, s, &err), 0);
	assert_int_equal(s->n, 4);
	for (size_t i = 0; i < s->n; i++) {
		if (s->l[i].status)
			fail_msg("%s in %s: %s", s->l[i].type, s->l[i].region,
				 s->l[i].msg);
		if (!strcmp(s->l[i].type, "ec2_instance")) {
			assert_int_equal(s->l[i].pages, PAGES);
			ec2_pages += s->l[i].pages;
		} else {
			assert_int_equal(s->l[i].pages, 1);
			sqs_pages += s->l[i].pages;
		}
	}
	n = provider_api_stats(p, v, ARRAY_SIZE(v));
	assert_int_equal(n, 3);
	assert_string_equal(v[0].service, "sts");
	assert_string_equal(v[1].service, "ec2");
	assert_stats(stats_of(v, n, "sts"), 1, 0, 0);
	assert_stats(stats_of(v, n, "ec2"), 1 + ec2_pages, 0, 0);
	assert_int_equal(ec2_pages, 2 * PAGES);
	assert_stats(stats_of(v, n, "sqs"), sqs_pages, 0, 0);
	assert_int_equal(sqs_pages, 2);
	provider_free(&p);
	free(s);
}

/*
 * EC2 refuses connections (STS answers): DescribeRegions and
 * DescribeInstances each make their 2 attempts, every one an error.
 */
static void test_api_stats_refused(void **state)
{
	struct provider *p;
	struct elava_error err = {0};
	struct seen *s = calloc(1, sizeof(*s));
	struct provider_api_stats v[8];
	const struct listing *l;
	char url[64];
	int fd;
	(void)state;

	fault();
	use_mode("ok");
	snprintf(url, sizeof(url), "http://127.0.0.1:%d", refused_port(&fd));
	setenv("AWS_ENDPOINT_URL_EC2", url, 1);
	p = provider(5000, 2);
	assert_int_equal(list(p, NULL, 0, NULL, 0, s, &err), 0);
	unsetenv("AWS_ENDPOINT_URL_EC2");
	close(fd);
	l = find(s, "ec2_instance", "us-east-1");
	assert_int_equal(l->status, ELAVA_E_NETWORK);
	assert_non_null(strstr(l->msg, "after 2 attempts"));
	assert_int_equal(provider_api_stats(p, v, ARRAY_SIZE(v)), 2);
	assert_string_equal(v[0].service, "sts");
	assert_stats(v[0], 1, 0, 0);
	assert_string_equal(v[1].service, "ec2");
	assert_stats(v[1], 2 + 2, 2 + 2, 0);
	provider_free(&p);
	free(s);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_throttled_listing_completes),
	    cmocka_unit_test(test_hanging_page_times_out),
	    cmocka_unit_test(test_truncated_page_fails),
	    cmocka_unit_test(test_malformed_page_fails),
	    cmocka_unit_test(test_page_loop_fails),
	    cmocka_unit_test(test_denied_listing_fails_alone),
	    cmocka_unit_test(test_cancel_while_hanging),
	    cmocka_unit_test(test_json_page_parse_errors),
	    cmocka_unit_test(test_epoch_times),
	    cmocka_unit_test(test_json_listing_parse_error),
	    cmocka_unit_test(test_api_stats_per_attempt),
	    cmocka_unit_test(test_api_stats_overflow),
	    cmocka_unit_test(test_api_stats_listing),
	    cmocka_unit_test(test_api_stats_pages),
	    cmocka_unit_test(test_api_stats_refused),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
