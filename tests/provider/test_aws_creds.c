/*
 * Tests of the AWS credential chain: the shared-file reader as a pure
 * function, then aws_creds_resolve over each source with the environment
 * and temporary files set up per test; STS against the AWS API emulator
 * (ELAVA_TEST_MOTO_URL) and the container endpoint and IMDSv2 against the
 * project's fault server (ELAVA_TEST_FAULT_URL), both started by
 * run_creds_tests.sh. Every test checks that no secret reached err.msg.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "provider/aws/aws_int.h"

#define SECRET	     "s3cr3t-never-in-messages"
#define TOKEN	     "t0ken-never-in-messages"
#define FAULT_SECRET "fault-secret-never-in-messages"
#define FAULT_TOKEN  "fault-token-never-in-messages"
#define IMDS_TOKEN   "imds-session-token-never-in-messages"
#define WEB_TOKEN    "web-identity-jwt-never-in-messages"

static char tmpdir[256];

static void no_secrets(const struct elava_error *err)
{
	static const char *const secrets[] = {
	    SECRET, TOKEN, FAULT_SECRET, FAULT_TOKEN, IMDS_TOKEN, WEB_TOKEN};

	for (size_t i = 0; i < ARRAY_SIZE(secrets); i++)
		assert_null(strstr(err->msg, secrets[i]));
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

static void write_file(const char *name, const char *text, int mode)
{
	char path[512];
	FILE *f;

	snprintf(path, sizeof(path), "%s/%s", tmpdir, name);
	f = fopen(path, "w");
	assert_non_null(f);
	fputs(text, f);
	fclose(f);
	chmod(path, (mode_t)mode);
}

static const char *tpath(const char *name)
{
	static char path[4][512];
	static int i;

	i = (i + 1) % 4;
	snprintf(path[i], sizeof(path[i]), "%s/%s", tmpdir, name);
	return path[i];
}

/* A clean slate before each test: no AWS variables, HOME a fresh temp dir,
 * IMDS pointed at a port nothing listens on (fails fast). */
static int setup(void **state)
{
	static const char *const vars[] = {
	    "AWS_ACCESS_KEY_ID",
	    "AWS_SECRET_ACCESS_KEY",
	    "AWS_SESSION_TOKEN",
	    "AWS_PROFILE",
	    "AWS_SHARED_CREDENTIALS_FILE",
	    "AWS_CONFIG_FILE",
	    "AWS_WEB_IDENTITY_TOKEN_FILE",
	    "AWS_ROLE_ARN",
	    "AWS_ROLE_SESSION_NAME",
	    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI",
	    "AWS_CONTAINER_CREDENTIALS_FULL_URI",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN",
	    "AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE",
	    "ELAVA_TEST_CONTAINER_HOST",
	    "AWS_EC2_METADATA_DISABLED",
	    "AWS_REGION",
	    "AWS_DEFAULT_REGION",
	    "AWS_ENDPOINT_URL",
	    "AWS_ENDPOINT_URL_STS",
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(vars); i++)
		unsetenv(vars[i]);
	snprintf(tmpdir, sizeof(tmpdir), "/tmp/elava-creds-XXXXXX");
	assert_non_null(mkdtemp(tmpdir));
	setenv("HOME", tmpdir, 1);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", "http://127.0.0.1:1", 1);
	return 0;
}

static int teardown(void **state)
{
	char cmd[600];
	(void)state;

	snprintf(cmd, sizeof(cmd), "rm -rf '%s'", tmpdir);
	return system(cmd) == 0 ? 0 : -1;
}

/* ------------------------------------------------------------ pure parts */

static void test_ini_parse(void **state)
{
	static const char cred[] = "# comment\n"
				   "; another\n"
				   "[default]\n"
				   "aws_access_key_id = AKIDDEFAULT\n"
				   "AWS_Secret_Access_Key=" SECRET "\r\n"
				   "\n"
				   "[dev] ; trailing comment\n"
				   "  aws_access_key_id  =  AKIDDEV  \n";
	static const char conf[] = "[default]\n"
				   "region = eu-west-1\n"
				   "s3 =\n"
				   "    max_concurrent_requests = 10\n"
				   "[profile dev]\n"
				   "region = us-west-2\n"
				   "[sso-session corp]\n"
				   "sso_region = us-east-1\n"
				   "[dev]\n"
				   "region = nowhere\n";
	struct aws_ini *ini = NULL;
	struct elava_error err = {0};
	(void)state;

	assert_int_equal(
	    aws_ini_parse(cred, sizeof(cred) - 1, "cred", false, &ini, &err),
	    0);
	assert_true(aws_ini_has_profile(ini, "default"));
	assert_true(aws_ini_has_profile(ini, "dev"));
	assert_false(aws_ini_has_profile(ini, "prod"));
	assert_string_equal(aws_ini_get(ini, "default", "aws_access_key_id"),
			    "AKIDDEFAULT");
	assert_string_equal(
	    aws_ini_get(ini, "default", "aws_secret_access_key"), SECRET);
	assert_string_equal(aws_ini_get(ini, "dev", "aws_access_key_id"),
			    "AKIDDEV");
	assert_null(aws_ini_get(ini, "dev", "aws_secret_access_key"));
	aws_ini_free(&ini);
	assert_null(ini);

	assert_int_equal(
	    aws_ini_parse(conf, sizeof(conf) - 1, "conf", true, &ini, &err), 0);
	assert_string_equal(aws_ini_get(ini, "default", "region"), "eu-west-1");
	/* the sub-property is not a key of the profile */
	assert_null(aws_ini_get(ini, "default", "max_concurrent_requests"));
	assert_null(aws_ini_get(ini, "dev", "s3"));
	assert_string_equal(aws_ini_get(ini, "default", "s3"), "");
	/* "[dev]" is not a profile section in the config file */
	assert_string_equal(aws_ini_get(ini, "dev", "region"), "us-west-2");
	assert_false(aws_ini_has_profile(ini, "corp"));
	aws_ini_free(&ini);
	no_secrets(&err);
}

static void check_bad(const char *text, const char *where, int code)
{
	struct aws_ini *ini = NULL;
	struct elava_error err = {0};

	assert_int_equal(
	    aws_ini_parse(text, strlen(text), "f.ini", false, &ini, &err),
	    code);
	assert_null(ini);
	assert_non_null(strstr(err.msg, where));
	no_secrets(&err);
}

static void test_ini_errors(void **state)
{
	char *long_line;
	(void)state;

	check_bad("[default]\naws_secret_access_key " SECRET "\n",
		  "f.ini:2:", ELAVA_E_PARSE);
	check_bad("[default\nk = v\n", "f.ini:1:", ELAVA_E_PARSE);
	check_bad("k = " SECRET "\n", "f.ini:1:", ELAVA_E_PARSE);
	check_bad("[a]\n= " SECRET "\n", "f.ini:2:", ELAVA_E_PARSE);
	check_bad("[a] b\n", "f.ini:1:", ELAVA_E_PARSE);
	check_bad("[ ]\n", "f.ini:1:", ELAVA_E_PARSE);
	long_line = xmalloc(AWS_INI_MAX_LINE + 20);
	memset(long_line, 'x', AWS_INI_MAX_LINE + 10);
	memcpy(long_line, "[a]\nk=", 6);
	long_line[AWS_INI_MAX_LINE + 10] = '\0';
	check_bad(long_line, "f.ini:2:", ELAVA_E_TOOBIG);
	xfree(long_line);
}

static void test_expiring(void **state)
{
	struct aws_creds c = {0};
	const int64_t min = (int64_t)60 * 1000000000;
	(void)state;

	assert_false(aws_creds_expiring(&c, time_now_ns()));
	c.expires_ns = 1000 * min;
	assert_false(aws_creds_expiring(&c, 994 * min));
	assert_true(aws_creds_expiring(&c, 995 * min));
	assert_true(aws_creds_expiring(&c, 1001 * min));
}

/* ------------------------------------------------------------- the chain */

static void test_env(void **state)
{
	struct aws_creds c;
	struct elava_error err = {0};
	(void)state;

	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	setenv("AWS_SESSION_TOKEN", TOKEN, 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.access_key, "AKIDENV");
	assert_string_equal(c.secret_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_string_equal(c.source, "environment");
	assert_int_equal(c.expires_ns, 0);
	aws_creds_clear(&c);

	/* half-configured: an error at once, naming the variable */
	unsetenv("AWS_ACCESS_KEY_ID");
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "AWS_ACCESS_KEY_ID"));
	no_secrets(&err);
}

static const char cred_file[] = "[default]\n"
				"aws_access_key_id = AKIDDEFAULT\n"
				"aws_secret_access_key = " SECRET "\n"
				"[dev]\n"
				"aws_access_key_id = AKIDDEV\n"
				"aws_secret_access_key = " SECRET "\n"
				"aws_session_token = " TOKEN "\n";

static void test_profile(void **state)
{
	struct aws_creds_options o = {0};
	struct aws_creds c;
	struct elava_error err = {0};
	(void)state;

	/* found through HOME */
	assert_int_equal(mkdir(tpath(".aws"), 0700), 0);
	write_file(".aws/credentials", cred_file, 0600);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.access_key, "AKIDDEFAULT");
	assert_string_equal(c.source, "profile");
	assert_null(c.session_token);
	aws_creds_clear(&c);

	/* AWS_PROFILE and a config-only profile through AWS_CONFIG_FILE */
	write_file("config",
		   "[profile cfg]\n"
		   "aws_access_key_id = AKIDCFG\n"
		   "aws_secret_access_key = " SECRET "\n",
		   0600);
	setenv("AWS_CONFIG_FILE", tpath("config"), 1);
	setenv("AWS_PROFILE", "dev", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.access_key, "AKIDDEV");
	assert_string_equal(c.session_token, TOKEN);
	aws_creds_clear(&c);
	o.profile = "cfg";
	assert_int_equal(aws_creds_resolve(&o, &c, &err), 0);
	assert_string_equal(c.access_key, "AKIDCFG");
	aws_creds_clear(&c);

	/* a named profile that does not exist is an error, not a fallthrough */
	o.profile = "nope";
	assert_int_equal(aws_creds_resolve(&o, &c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "no profile 'nope'"));
	no_secrets(&err);

	/* half a key pair */
	write_file("half", "[default]\naws_access_key_id = AKIDHALF\n", 0600);
	setenv("AWS_SHARED_CREDENTIALS_FILE", tpath("half"), 1);
	unsetenv("AWS_PROFILE");
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "aws_secret_access_key"));
	no_secrets(&err);
}

static void test_precedence(void **state)
{
	struct aws_creds_options o = {0};
	struct aws_creds c;
	struct elava_error err = {0};
	(void)state;

	write_file("credentials", cred_file, 0600);
	setenv("AWS_SHARED_CREDENTIALS_FILE", tpath("credentials"), 1);
	setenv("AWS_PROFILE", "dev", 1);
	setenv("AWS_ACCESS_KEY_ID", "AKIDENV", 1);
	setenv("AWS_SECRET_ACCESS_KEY", SECRET, 1);
	/* env beats the profile, even one named by AWS_PROFILE */
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.access_key, "AKIDENV");
	assert_string_equal(c.source, "environment");
	aws_creds_clear(&c);
	/* a profile chosen by the caller (--profile) beats env, as botocore */
	o.profile = "default";
	assert_int_equal(aws_creds_resolve(&o, &c, &err), 0);
	assert_string_equal(c.access_key, "AKIDDEFAULT");
	aws_creds_clear(&c);
	no_secrets(&err);
}

static void test_bad_ini(void **state)
{
	struct aws_creds c;
	struct elava_error err = {0};
	char where[600];
	(void)state;

	write_file("credentials",
		   "[default]\n"
		   "aws_access_key_id = AKID\n"
		   "aws_secret_access_key " SECRET "\n",
		   0600);
	setenv("AWS_SHARED_CREDENTIALS_FILE", tpath("credentials"), 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_PARSE);
	snprintf(where, sizeof(where), "%s:3:", tpath("credentials"));
	assert_non_null(strstr(err.msg, where));
	no_secrets(&err);

	/* a broken config file stops the chain too */
	write_file("credentials", "", 0600);
	write_file("config", "[profile x\n", 0600);
	setenv("AWS_CONFIG_FILE", tpath("config"), 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_PARSE);
	snprintf(where, sizeof(where), "%s:1:", tpath("config"));
	assert_non_null(strstr(err.msg, where));
	no_secrets(&err);
}

static int resolve_process(const char *script, struct aws_creds *c,
			   struct elava_error *err)
{
	struct aws_creds_options o = {0};
	char conf[1200];

	write_file("proc.sh", script, 0700);
	snprintf(conf, sizeof(conf),
		 "[default]\ncredential_process = %s --flag\n",
		 tpath("proc.sh"));
	write_file("config", conf, 0600);
	setenv("AWS_CONFIG_FILE", tpath("config"), 1);
	o.process_timeout_ms = 500;
	return aws_creds_resolve(&o, c, err);
}

static void test_process(void **state)
{
	struct aws_creds c;
	struct elava_error err = {0};
	(void)state;

	assert_int_equal(
	    resolve_process("#!/bin/sh\n"
			    "echo 'chatter " SECRET "' >&2\n"
			    "cat <<EOF\n"
			    "{\"Version\": 1, \"AccessKeyId\": \"ASIAPROC\",\n"
			    " \"SecretAccessKey\": \"" SECRET "\",\n"
			    " \"SessionToken\": \"" TOKEN "\",\n"
			    " \"Expiration\": \"2030-01-02T03:04:05Z\"}\n"
			    "EOF\n",
			    &c, &err),
	    0);
	assert_string_equal(c.access_key, "ASIAPROC");
	assert_string_equal(c.secret_key, SECRET);
	assert_string_equal(c.session_token, TOKEN);
	assert_string_equal(c.source, "process");
	assert_true(c.expires_ns > 0);
	aws_creds_clear(&c);

	/* failing: the exit status, not its stderr */
	assert_int_equal(resolve_process("#!/bin/sh\n"
					 "echo 'denied " SECRET "' >&2\n"
					 "exit 3\n",
					 &c, &err),
			 ELAVA_E_REMOTE);
	assert_non_null(strstr(err.msg, "status 3"));
	assert_non_null(strstr(err.msg, "credential_process"));
	assert_null(strstr(err.msg, "--flag")); /* command not quoted */
	no_secrets(&err);

	/* garbage on stdout: not quoted either */
	assert_int_equal(resolve_process("#!/bin/sh\n"
					 "echo 'not json " SECRET "'\n",
					 &c, &err),
			 ELAVA_E_PARSE);
	no_secrets(&err);
	assert_int_equal(resolve_process("#!/bin/sh\n"
					 "echo '{\"Version\": 2, "
					 "\"AccessKeyId\": \"A\", "
					 "\"SecretAccessKey\": \"" SECRET
					 "\"}'\n",
					 &c, &err),
			 ELAVA_E_PARSE);
	assert_non_null(strstr(err.msg, "Version"));
	no_secrets(&err);

	/* never ends: killed at the timeout */
	int64_t t0 = time_mono_ns();
	assert_int_equal(resolve_process("#!/bin/sh\nsleep 30\n", &c, &err),
			 ELAVA_E_TIMEOUT);
	assert_true(time_mono_ns() - t0 < (int64_t)10 * 1000000000);
	no_secrets(&err);
}

static void test_assume_role(void **state)
{
	const char *url = moto();
	struct aws_creds c;
	struct elava_error err = {0};
	int64_t now = time_now_ns();
	(void)state;

	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	write_file("credentials",
		   "[base]\n"
		   "aws_access_key_id = AKIDBASE\n"
		   "aws_secret_access_key = " SECRET "\n",
		   0600);
	write_file("config",
		   "[profile deploy]\n"
		   "role_arn = arn:aws:iam::123456789012:role/deploy\n"
		   "source_profile = base\n"
		   "region = eu-west-1\n"
		   "[profile chained]\n"
		   "role_arn = arn:aws:iam::123456789012:role/second\n"
		   "source_profile = deploy\n"
		   "role_session_name = my-session\n"
		   "[profile orphan]\n"
		   "role_arn = arn:aws:iam::123456789012:role/x\n"
		   "source_profile = missing\n"
		   "[profile loop]\n"
		   "role_arn = arn:aws:iam::123456789012:role/x\n"
		   "source_profile = loop2\n"
		   "[profile loop2]\n"
		   "role_arn = arn:aws:iam::123456789012:role/x\n"
		   "source_profile = loop\n",
		   0600);
	setenv("AWS_SHARED_CREDENTIALS_FILE", tpath("credentials"), 1);
	setenv("AWS_CONFIG_FILE", tpath("config"), 1);

	/*
	 * moto returns credentials for any role ARN and any caller, without
	 * checking the trust policy or the source keys (AWS would refuse
	 * AKIDBASE); the shape of the answer is what is checked here.
	 */
	setenv("AWS_PROFILE", "deploy", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.source, "assume-role");
	assert_memory_equal(c.access_key, "ASIA", 4);
	assert_non_null(c.session_token);
	assert_true(strlen(c.session_token) > 0);
	assert_true(c.expires_ns > now);
	assert_false(aws_creds_expiring(&c, now));
	aws_creds_clear(&c);

	setenv("AWS_PROFILE", "chained", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_memory_equal(c.access_key, "ASIA", 4);
	aws_creds_clear(&c);

	setenv("AWS_PROFILE", "orphan", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "source_profile 'missing'"));
	no_secrets(&err);

	setenv("AWS_PROFILE", "loop", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "circular"));
	no_secrets(&err);
}

static void test_assume_role_denied(void **state)
{
	const char *url = fault();
	struct aws_creds c;
	struct elava_error err = {0};
	char base[300];
	(void)state;

	/* the fault server's /denied/ answers 403 AccessDenied-style */
	snprintf(base, sizeof(base), "%s/denied", url);
	setenv("AWS_ENDPOINT_URL_STS", base, 1);
	write_file("credentials",
		   "[default]\n"
		   "role_arn = arn:aws:iam::123456789012:role/deploy\n"
		   "source_profile = default\n"
		   "aws_access_key_id = AKIDBASE\n"
		   "aws_secret_access_key = " SECRET "\n",
		   0600);
	setenv("AWS_SHARED_CREDENTIALS_FILE", tpath("credentials"), 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_AUTH);
	assert_non_null(strstr(err.msg, "cannot assume role"));
	assert_non_null(strstr(err.msg, "role/deploy"));
	no_secrets(&err);
}

static void test_web_identity(void **state)
{
	const char *url = moto();
	struct aws_creds c;
	struct elava_error err = {0};
	char conf[1200];
	(void)state;

	setenv("AWS_ENDPOINT_URL_STS", url, 1);
	write_file("token", WEB_TOKEN "\n", 0600);
	/* moto, like AWS, needs no keys; the transport signs with dummies */
	setenv("AWS_WEB_IDENTITY_TOKEN_FILE", tpath("token"), 1);
	setenv("AWS_ROLE_ARN", "arn:aws:iam::123456789012:role/web", 1);
	setenv("AWS_ROLE_SESSION_NAME", "pod-1", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.source, "web-identity");
	assert_memory_equal(c.access_key, "ASIA", 4);
	assert_non_null(c.session_token);
	assert_true(c.expires_ns > 0);
	aws_creds_clear(&c);

	/* half-configured */
	unsetenv("AWS_ROLE_ARN");
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "AWS_ROLE_ARN"));
	no_secrets(&err);
	unsetenv("AWS_WEB_IDENTITY_TOKEN_FILE");

	/* the same from a profile */
	snprintf(conf, sizeof(conf),
		 "[default]\n"
		 "role_arn = arn:aws:iam::123456789012:role/web\n"
		 "web_identity_token_file = %s\n",
		 tpath("token"));
	write_file("config", conf, 0600);
	setenv("AWS_CONFIG_FILE", tpath("config"), 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.source, "web-identity");
	aws_creds_clear(&c);

	/* unreadable token file */
	unlink(tpath("token"));
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_IO);
	no_secrets(&err);
}

static void test_container(void **state)
{
	const char *url = fault();
	struct aws_creds c;
	struct elava_error err = {0};
	char full[300];
	(void)state;

	snprintf(full, sizeof(full), "%s/creds/container", url);
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", full, 1);
	/* without the authorization token: refused */
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_AUTH);
	assert_non_null(strstr(err.msg, "401"));
	no_secrets(&err);

	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN", "container-auth-token", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.source, "container");
	assert_string_equal(c.access_key, "ASIAFAULTSERVER");
	assert_string_equal(c.secret_key, FAULT_SECRET);
	assert_string_equal(c.session_token, FAULT_TOKEN);
	assert_true(c.expires_ns > time_now_ns());
	aws_creds_clear(&c);

	/* the token file wins over the variable */
	unsetenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");
	write_file("auth", "container-auth-token\n", 0600);
	setenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE", tpath("auth"), 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	aws_creds_clear(&c);

	/* relative URI on the (test-only) overridden host */
	unsetenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	setenv("ELAVA_TEST_CONTAINER_HOST", url, 1);
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds/container", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.source, "container");
	aws_creds_clear(&c);

	/* a broken answer is an error, and is not quoted */
	setenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI", "/creds/container-bad",
	       1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_PARSE);
	no_secrets(&err);
	unsetenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");

	/* plain http to a remote host is refused */
	setenv("AWS_CONTAINER_CREDENTIALS_FULL_URI", "http://example.com/c", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_INVAL);
	no_secrets(&err);
}

static void test_imds(void **state)
{
	const char *url = fault();
	struct aws_creds c;
	struct elava_error err = {0};
	char ep[300];
	(void)state;

	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), 0);
	assert_string_equal(c.source, "imds");
	assert_string_equal(c.access_key, "ASIAFAULTSERVER");
	assert_string_equal(c.secret_key, FAULT_SECRET);
	assert_string_equal(c.session_token, FAULT_TOKEN);
	assert_false(aws_creds_expiring(&c, time_now_ns()));
	assert_true(aws_creds_expiring(&c, c.expires_ns - 60 * 1000000000LL));
	aws_creds_clear(&c);

	/* an instance without a role: nothing found, said in the message */
	snprintf(ep, sizeof(ep), "%s/imds-norole/", url);
	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", ep, 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_AUTH);
	assert_non_null(strstr(err.msg, "no IAM role attached"));
	no_secrets(&err);
}

static void test_imds_disabled(void **state)
{
	const char *url = fault();
	struct aws_creds c;
	struct elava_error err = {0};
	(void)state;

	setenv("AWS_EC2_METADATA_SERVICE_ENDPOINT", url, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_AUTH);
	assert_non_null(strstr(err.msg, "instance metadata disabled"));
	no_secrets(&err);
}

static void test_nothing(void **state)
{
	struct aws_creds c;
	struct elava_error err = {0};
	int64_t t0 = time_mono_ns();
	(void)state;

	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_AUTH);
	assert_string_equal(
	    err.msg, "no AWS credentials: not in the environment, no profile "
		     "'default' in ~/.aws/credentials or ~/.aws/config, no "
		     "web identity token, no container endpoint, instance "
		     "metadata unreachable");
	assert_null(c.access_key);
	/* a refused IMDS connection fails fast */
	assert_true(time_mono_ns() - t0 < (int64_t)3 * 1000000000);
	no_secrets(&err);

	/* a default profile with only a region is not credentials */
	assert_int_equal(mkdir(tpath(".aws"), 0700), 0);
	write_file(".aws/config", "[default]\nregion = eu-west-1\n", 0600);
	assert_int_equal(aws_creds_resolve(NULL, &c, &err), ELAVA_E_AUTH);
	assert_non_null(strstr(err.msg, "no credentials in profile 'default'"));
	no_secrets(&err);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test_setup_teardown(test_ini_parse, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_ini_errors, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_expiring, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_env, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_profile, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_precedence, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_bad_ini, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_process, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_assume_role, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_assume_role_denied, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_web_identity, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_container, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_imds, setup, teardown),
	    cmocka_unit_test_setup_teardown(test_imds_disabled, setup,
					    teardown),
	    cmocka_unit_test_setup_teardown(test_nothing, setup, teardown),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
