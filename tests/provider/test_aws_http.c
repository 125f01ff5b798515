/*
 * Tests of the AWS HTTP transport: retry decisions, backoff bounds, error
 * body parsing and endpoint resolution as pure functions; then real
 * requests to the AWS API emulator (ELAVA_TEST_MOTO_URL) and to the
 * project's fault-injecting server (ELAVA_TEST_FAULT_URL), both started by
 * run_aws_tests.sh. No test here sleeps for a fixed time or asserts one.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <pthread.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "provider/aws/aws_int.h"

#define SECRET "s3cr3t-never-in-messages"
#define TOKEN  "t0ken-never-in-messages"

static void test_retry_decisions(void **state)
{
	(void)state;
	assert_true(aws_error_is_throttle("Throttling"));
	assert_true(aws_error_is_throttle("RequestLimitExceeded"));
	assert_true(aws_error_is_throttle("SlowDown"));
	assert_true(aws_error_is_throttle("TooManyRequestsException"));
	assert_false(aws_error_is_throttle("AccessDenied"));
	assert_false(aws_error_is_throttle(NULL));
	assert_true(aws_error_is_retryable(503, ""));
	assert_true(aws_error_is_retryable(429, ""));
	assert_true(aws_error_is_retryable(400, "ThrottlingException"));
	assert_true(aws_error_is_retryable(400, "RequestTimeout"));
	assert_false(aws_error_is_retryable(501, ""));
	assert_false(aws_error_is_retryable(403, "UnauthorizedOperation"));
	assert_false(aws_error_is_retryable(400, "InvalidParameterValue"));
}

static void test_backoff_bounds(void **state)
{
	uint64_t rng = 42;
	int64_t max_seen = 0;
	(void)state;

	for (int attempt = 1; attempt <= 12; attempt++) {
		int64_t ceiling = 100LL << attempt;
		if (ceiling > 20000)
			ceiling = 20000;
		for (int i = 0; i < 200; i++) {
			int64_t d = aws_backoff_ms(attempt, 100, 20000, &rng);
			assert_true(d >= 0 && d <= ceiling);
			if (d > max_seen)
				max_seen = d;
		}
	}
	/* full jitter spreads: some delay near the cap was drawn */
	assert_true(max_seen > 10000);
}

static void test_error_parse(void **state)
{
	struct aws_response r;
	static const char ec2[] =
	    "<?xml version=\"1.0\"?><Response><Errors><Error><Code>"
	    "UnauthorizedOperation</Code><Message>You are not "
	    "authorized</Message></Error></Errors><RequestID>abc-1"
	    "</RequestID></Response>";
	static const char query[] =
	    "<ErrorResponse xmlns=\"https://iam.amazonaws.com/doc/"
	    "2010-05-08/\"><Error><Type>Sender</Type><Code>NoSuchEntity"
	    "</Code><Message>The role cannot be found.</Message></Error>"
	    "<RequestId>r-2</RequestId></ErrorResponse>";
	static const char json[] = "{\"__type\":\"com.amazonaws.dynamodb."
				   "v20120810#ResourceNotFoundException\","
				   "\"message\":\"Requested resource not "
				   "found\"}";
	(void)state;

	aws_response_init(&r);
	aws_error_parse(ec2, sizeof(ec2) - 1, &r);
	assert_string_equal(r.error_code, "UnauthorizedOperation");
	assert_string_equal(r.error_message, "You are not authorized");
	assert_string_equal(r.request_id, "abc-1");
	aws_response_release(&r);

	aws_response_init(&r);
	aws_error_parse(query, sizeof(query) - 1, &r);
	assert_string_equal(r.error_code, "NoSuchEntity");
	assert_string_equal(r.request_id, "r-2");
	aws_response_release(&r);

	aws_response_init(&r);
	aws_error_parse(json, sizeof(json) - 1, &r);
	assert_string_equal(r.error_code, "ResourceNotFoundException");
	assert_string_equal(r.error_message, "Requested resource not found");
	aws_response_release(&r);

	/* garbage and HTML leave the fields empty */
	aws_response_init(&r);
	aws_error_parse("<html><body>500</body>", 22, &r);
	aws_error_parse("{not json", 9, &r);
	aws_error_parse("", 0, &r);
	assert_string_equal(r.error_code, "");
	aws_response_release(&r);
}

static void test_endpoints(void **state)
{
	struct buf b;
	(void)state;

	buf_init(&b, 0);
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	aws_endpoint("ec2", "EC2", "eu-west-1", &b);
	assert_string_equal(b.data, "https://ec2.eu-west-1.amazonaws.com");
	buf_reset(&b);
	aws_endpoint("iam", "IAM", "eu-west-1", &b);
	assert_string_equal(b.data, "https://iam.amazonaws.com");
	setenv("AWS_ENDPOINT_URL", "http://127.0.0.1:5000/", 1);
	buf_reset(&b);
	aws_endpoint("ec2", "EC2", "eu-west-1", &b);
	assert_string_equal(b.data, "http://127.0.0.1:5000");
	setenv("AWS_ENDPOINT_URL_EC2", "http://ec2.local:1", 1);
	buf_reset(&b);
	aws_endpoint("ec2", "EC2", "eu-west-1", &b);
	assert_string_equal(b.data, "http://ec2.local:1");
	buf_reset(&b);
	aws_endpoint("sts", "STS", "eu-west-1", &b);
	assert_string_equal(b.data, "http://127.0.0.1:5000");
	unsetenv("AWS_ENDPOINT_URL");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	buf_release(&b);
}

static void test_creds_from_env(void **state)
{
	struct aws_creds c;
	struct elava_error err = {0};
	(void)state;

	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_SESSION_TOKEN");
	assert_int_equal(aws_creds_from_env(&c, &err), ELAVA_E_NOTFOUND);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	assert_int_equal(aws_creds_from_env(&c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
	assert_null(strstr(err.msg, SECRET));
	setenv("AWS_ACCESS_KEY_ID", "AKIDEXAMPLE", 1);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	assert_int_equal(aws_creds_from_env(&c, &err), 0);
	assert_string_equal(c.access_key, "AKIDEXAMPLE");
	assert_string_equal(c.secret_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_string_equal(c.source, "environment");
	aws_creds_clear(&c);
	assert_null(c.secret_key);
}

/* ------------------------------------------------- against real peers */

static struct aws_client *client(long timeout_ms, int attempts,
				 const atomic_bool *cancel)
{
	struct aws_creds creds = {0};
	struct aws_client_options o = {0};
	struct aws_client *c = NULL;

	creds.access_key = (char *)"AKIDEXAMPLE";
	creds.secret_key = (char *)SECRET;
	creds.session_token = (char *)TOKEN;
	o.request_timeout_ms = timeout_ms;
	o.max_attempts = attempts;
	o.backoff_base_ms = 5;
	o.backoff_cap_ms = 50;
	o.max_body = 1 << 20;
	o.cancel = cancel;
	assert_int_equal(aws_client_new(&o, &creds, &c, NULL), 0);
	return c;
}

static int send_to(struct aws_client *c, const char *base, const char *path,
		   const char *service, const char *body,
		   struct aws_response *resp, struct elava_error *err)
{
	struct aws_request r = {0};
	int rc;

	setenv("AWS_ENDPOINT_URL", base, 1);
	r.operation = "Test";
	r.service = service;
	r.env_id = "TEST";
	r.region = "us-east-1";
	r.method = "POST";
	r.path = path;
	r.body = body;
	r.body_len = body ? strlen(body) : 0;
	r.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	rc = aws_client_send(c, &r, resp, err);
	unsetenv("AWS_ENDPOINT_URL");
	/* whatever happened, no secret reached the message */
	assert_null(strstr(err->msg, SECRET));
	assert_null(strstr(err->msg, TOKEN));
	return rc;
}

static const char *moto(void)
{
	const char *u = getenv("ELAVA_TEST_MOTO_URL");
	if (!u || !*u)
		skip();
	return u;
}

static const char *fault(void)
{
	const char *u = getenv("ELAVA_TEST_FAULT_URL");
	if (!u || !*u)
		skip();
	return u;
}

static void test_moto_sts_and_ec2(void **state)
{
	const char *url = moto();
	struct aws_client *c = client(5000, 3, NULL);
	struct aws_response resp;
	struct elava_error err = {0};
	(void)state;

	aws_response_init(&resp);
	assert_int_equal(send_to(c, url, "/", "sts",
				 "Action=GetCallerIdentity&Version=2011-06-15",
				 &resp, &err),
			 0);
	assert_int_equal(resp.status, 200);
	assert_non_null(
	    strstr(resp.body.data, "<Account>123456789012</Account>"));
	assert_int_equal(resp.attempts, 1);

	/* an AWS error: not retried, code and message in the error */
	assert_int_equal(send_to(c, url, "/", "ec2",
				 "Action=DescribeInstances&Version=2016-11-15"
				 "&InstanceId.1=i-00000000000000000",
				 &resp, &err),
			 ELAVA_E_NOTFOUND);
	assert_int_equal(resp.attempts, 1);
	assert_non_null(strstr(err.msg, "InvalidInstanceID"));
	assert_non_null(strstr(err.msg, "ec2 Test in us-east-1"));
	aws_response_release(&resp);
	aws_client_free(&c);
}

static void test_fault_retries(void **state)
{
	const char *url = fault();
	struct aws_client *c = client(5000, 5, NULL);
	struct aws_response resp;
	struct elava_error err = {0};
	(void)state;

	aws_response_init(&resp);
	assert_int_equal(
	    send_to(c, url, "/throttle2/", "ec2", "x=1", &resp, &err), 0);
	assert_int_equal(resp.attempts, 3);
	assert_int_equal(
	    send_to(c, url, "/err5031/", "ec2", "x=1", &resp, &err), 0);
	assert_int_equal(resp.attempts, 2);

	/* retried to the limit, then a clear error */
	assert_int_equal(
	    send_to(c, url, "/always500/", "ec2", "x=1", &resp, &err),
	    ELAVA_E_REMOTE);
	assert_int_equal(resp.attempts, 5);
	assert_non_null(strstr(err.msg, "InternalError"));
	assert_non_null(strstr(err.msg, "after 5 attempts"));

	assert_int_equal(
	    send_to(c, url, "/json-throttle/", "dynamodb", "{}", &resp, &err),
	    ELAVA_E_THROTTLED);
	assert_non_null(strstr(err.msg, "ThrottlingException"));

	/* not retryable: fails at once */
	assert_int_equal(send_to(c, url, "/denied/", "ec2", "x=1", &resp, &err),
			 ELAVA_E_AUTH);
	assert_int_equal(resp.attempts, 1);
	assert_non_null(strstr(err.msg, "UnauthorizedOperation"));
	assert_non_null(strstr(err.msg, "request id"));

	/* a body over the cap is refused, not buffered */
	assert_int_equal(send_to(c, url, "/big/", "ec2", "x=1", &resp, &err),
			 ELAVA_E_TOOBIG);
	aws_response_release(&resp);
	aws_client_free(&c);
}

static void test_fault_hang_and_refused(void **state)
{
	const char *url = fault();
	struct aws_client *c = client(300, 2, NULL);
	struct aws_response resp;
	struct elava_error err = {0};
	(void)state;

	aws_response_init(&resp);
	assert_int_equal(send_to(c, url, "/hang/", "ec2", "x=1", &resp, &err),
			 ELAVA_E_TIMEOUT);
	assert_int_equal(resp.attempts, 2);
	assert_non_null(strstr(err.msg, "after 2 attempts"));
	/* nothing listens on port 1 */
	assert_int_equal(
	    send_to(c, "http://127.0.0.1:1", "/", "ec2", "x=1", &resp, &err),
	    ELAVA_E_NETWORK);
	aws_response_release(&resp);
	aws_client_free(&c);
}

struct canceller {
	atomic_bool *flag;
};

static void *cancel_soon(void *arg)
{
	struct canceller *k = arg;
	struct timespec ts = {0, 200 * 1000000L};

	nanosleep(&ts, NULL);
	atomic_store(k->flag, true);
	return NULL;
}

/* A request stuck on a hanging server ends when the scan is cancelled. */
static void test_cancel(void **state)
{
	const char *url = fault();
	atomic_bool flag = false;
	struct canceller k = {&flag};
	struct aws_client *c = client(30000, 5, &flag);
	struct aws_response resp;
	struct elava_error err = {0};
	pthread_t th;
	(void)state;

	aws_response_init(&resp);
	assert_int_equal(pthread_create(&th, NULL, cancel_soon, &k), 0);
	assert_int_equal(send_to(c, url, "/hang/", "ec2", "x=1", &resp, &err),
			 ELAVA_E_CANCELLED);
	pthread_join(th, NULL);
	assert_int_equal(resp.attempts, 1);
	aws_response_release(&resp);
	aws_client_free(&c);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_retry_decisions),
	    cmocka_unit_test(test_backoff_bounds),
	    cmocka_unit_test(test_error_parse),
	    cmocka_unit_test(test_endpoints),
	    cmocka_unit_test(test_creds_from_env),
	    cmocka_unit_test(test_moto_sts_and_ec2),
	    cmocka_unit_test(test_fault_retries),
	    cmocka_unit_test(test_fault_hang_and_refused),
	    cmocka_unit_test(test_cancel),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
