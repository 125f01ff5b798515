/*
 * The AWS provider against the AWS API emulator (ELAVA_TEST_MOTO_URL, set
 * by run_aws_tests.sh): instances created with RunInstances are listed
 * with the fields that matter, and the listing reports itself complete.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdlib.h>
#include <string.h>

#include "provider/aws/aws_int.h"
#include "provider/provider.h"

struct seen {
	struct buf keys;
	int listings;
	int status;
	size_t resources;
	char web_type[32];
	char web_state[32];
	char web_env[32];
	bool web_has_vpc_rel;
};

static int on_resource(const struct resource *r, void *ud)
{
	struct seen *s = ud;
	const char *env = resource_tag_get(r, "Env");

	buf_puts(&s->keys, r->id);
	buf_putc(&s->keys, '\n');
	if (r->name && !strcmp(r->name, "web-1")) {
		const char *t = ejson_string_value(
		    ejson_object_get(r->attributes, "instance_type"));
		snprintf(s->web_type, sizeof(s->web_type), "%s", t ? t : "");
		snprintf(s->web_state, sizeof(s->web_state), "%s",
			 r->status ? r->status : "");
		snprintf(s->web_env, sizeof(s->web_env), "%s", env ? env : "");
		for (size_t i = 0; i < r->nrels; i++)
			if (!strcmp(r->rels[i].type, "in_vpc"))
				s->web_has_vpc_rel = true;
	}
	return 0;
}

static void on_done(const struct provider_listing *l, void *ud)
{
	struct seen *s = ud;

	s->listings++;
	s->status = l->status;
	s->resources = l->resources;
}

static void run_instances(struct aws_client *c, const char *name,
			  const char *type, int count)
{
	struct aws_request r = {0};
	struct aws_response resp;
	struct elava_error err = {0};
	char body[512];

	snprintf(body, sizeof(body),
		 "Action=RunInstances&Version=2016-11-15&ImageId=ami-12c6146b"
		 "&InstanceType=%s&MinCount=%d&MaxCount=%d"
		 "&TagSpecification.1.ResourceType=instance"
		 "&TagSpecification.1.Tag.1.Key=Name"
		 "&TagSpecification.1.Tag.1.Value=%s"
		 "&TagSpecification.1.Tag.2.Key=Env"
		 "&TagSpecification.1.Tag.2.Value=prod",
		 type, count, count, name);
	aws_response_init(&resp);
	r.operation = "RunInstances";
	r.service = "ec2";
	r.env_id = "EC2";
	r.region = "us-east-1";
	r.method = "POST";
	r.body = body;
	r.body_len = strlen(body);
	r.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	if (aws_client_send(c, &r, &resp, &err))
		fail_msg("RunInstances: %s", err.msg);
	aws_response_release(&resp);
}

static void test_list_instances(void **state)
{
	const char *url = getenv("ELAVA_TEST_MOTO_URL");
	struct provider_aws_options o = {0};
	struct provider_callbacks cb = {on_resource, on_done, NULL};
	struct provider_scope scope = {0};
	const char *types[] = {"ec2_instance"};
	struct elava_error err = {0};
	struct provider *p = NULL;
	struct aws_creds creds = {0};
	struct aws_client *c = NULL;
	struct seen s;
	(void)state;

	if (!url || !*url)
		skip();
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "testing", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
	assert_int_equal(aws_creds_from_env(&creds, NULL), 0);
	assert_int_equal(aws_client_new(NULL, &creds, &c, NULL), 0);
	aws_creds_clear(&creds);
	run_instances(c, "web-1", "t3.micro", 1);
	run_instances(c, "batch", "m5.large", 2);
	aws_client_free(&c);

	memset(&s, 0, sizeof(s));
	buf_init(&s.keys, 0);
	cb.ud = &s;
	scope.types = types;
	scope.ntypes = 1;
	o.region = "us-east-1";
	if (provider_aws_new(&o, &p, &err))
		fail_msg("provider: %s", err.msg);
	assert_int_equal(provider_list(p, &scope, &cb, &err), 0);
	assert_int_equal(s.listings, 1);
	assert_int_equal(s.status, 0);
	assert_true(s.resources >= 3);
	assert_string_equal(s.web_type, "t3.micro");
	assert_string_equal(s.web_state, "running");
	assert_string_equal(s.web_env, "prod");
	assert_true(s.web_has_vpc_rel);
	provider_free(&p);
	assert_null(p);
	buf_release(&s.keys);
	unsetenv("AWS_ENDPOINT_URL");
}

/* No credentials: a clear error before any listing. */
static void test_no_credentials(void **state)
{
	struct elava_error err = {0};
	struct provider *p = NULL;
	(void)state;

	/* Nothing in the chain: no keys, no profile files, no metadata. */
	unsetenv("AWS_ACCESS_KEY_ID");
	unsetenv("AWS_SECRET_ACCESS_KEY");
	unsetenv("AWS_PROFILE");
	setenv("HOME", "/nonexistent-elava-test-home", 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	assert_int_equal(provider_aws_new(NULL, &p, &err), ELAVA_E_AUTH);
	assert_non_null(strstr(err.msg, "no AWS credentials"));
	assert_null(p);
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_instances),
	    cmocka_unit_test(test_no_credentials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
