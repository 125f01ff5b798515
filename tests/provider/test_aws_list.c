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

static void run_instances_in(struct aws_client *c, const char *region,
			     const char *name, const char *type, int count)
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
	r.region = region;
	r.method = "POST";
	r.body = body;
	r.body_len = strlen(body);
	r.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	if (aws_client_send(c, &r, &resp, &err))
		fail_msg("RunInstances: %s", err.msg);
	aws_response_release(&resp);
}

static void run_instances(struct aws_client *c, const char *name,
			  const char *type, int count)
{
	run_instances_in(c, "us-east-1", name, type, count);
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

/* What a scope-level test counts: listings per region, records per
 * region, and a stop after a number of records. */
struct tally {
	char regions[64][32];
	size_t per_region[64];
	size_t nregions;
	size_t listings, failed, resources;
	size_t stop_after;
};

static size_t region_slot(struct tally *t, const char *region)
{
	for (size_t i = 0; i < t->nregions; i++)
		if (!strcmp(t->regions[i], region))
			return i;
	assert_true(t->nregions < 64);
	snprintf(t->regions[t->nregions], sizeof(t->regions[0]), "%s", region);
	return t->nregions++;
}

static int tally_resource(const struct resource *r, void *ud)
{
	struct tally *t = ud;

	t->per_region[region_slot(t, r->region)]++;
	t->resources++;
	return t->stop_after && t->resources >= t->stop_after ? 42 : 0;
}

static void tally_done(const struct provider_listing *l, void *ud)
{
	struct tally *t = ud;

	t->listings++;
	if (l->status)
		t->failed++;
}

static size_t tally_count(struct tally *t, const char *region)
{
	for (size_t i = 0; i < t->nregions; i++)
		if (!strcmp(t->regions[i], region))
			return t->per_region[i];
	return 0;
}

static struct provider *moto_provider(int concurrency)
{
	const char *url = getenv("ELAVA_TEST_MOTO_URL");
	struct provider_aws_options o = {0};
	struct elava_error err = {0};
	struct provider *p = NULL;

	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "testing", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
	o.region = "us-east-1";
	o.concurrency = concurrency;
	if (provider_aws_new(&o, &p, &err))
		fail_msg("provider: %s", err.msg);
	return p;
}

/*
 * Regions and types in the scope: listings run in parallel, one per
 * (region, type), each region's records in that region only; every enabled
 * region with all_regions; excluded types are not listed; unknown types
 * are refused; a callback's non-zero value stops the listing.
 */
static void test_scope(void **state)
{
	const char *url = getenv("ELAVA_TEST_MOTO_URL");
	const char *regions[] = {"eu-west-1", "ap-south-1", "us-west-2"};
	const char *ec2[] = {"ec2_instance"};
	const char *bogus[] = {"ec2_instance", "no_such_type"};
	struct provider_callbacks cb = {tally_resource, tally_done, NULL};
	struct provider_scope scope = {0};
	struct aws_creds creds = {0};
	struct aws_client *c = NULL;
	struct elava_error err = {0};
	struct provider *p;
	struct tally t;
	(void)state;

	if (!url || !*url)
		skip();
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "testing", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
	assert_int_equal(aws_creds_from_env(&creds, NULL), 0);
	assert_int_equal(aws_client_new(NULL, &creds, &c, NULL), 0);
	aws_creds_clear(&creds);
	run_instances_in(c, "eu-west-1", "eu", "t3.nano", 3);
	run_instances_in(c, "ap-south-1", "ap", "t3.nano", 2);
	aws_client_free(&c);

	p = moto_provider(4);
	cb.ud = &t;

	/* Three regions, one type: three listings, each region's own. */
	memset(&t, 0, sizeof(t));
	scope.regions = regions;
	scope.nregions = 3;
	scope.types = ec2;
	scope.ntypes = 1;
	assert_int_equal(provider_list(p, &scope, &cb, &err), 0);
	assert_int_equal(t.listings, 3);
	assert_int_equal(t.failed, 0);
	assert_int_equal(tally_count(&t, "eu-west-1"), 3);
	assert_int_equal(tally_count(&t, "ap-south-1"), 2);
	assert_int_equal(tally_count(&t, "us-west-2"), 0);

	/* Every enabled region: one listing each, the same records. */
	memset(&t, 0, sizeof(t));
	scope.all_regions = true;
	assert_int_equal(provider_list(p, &scope, &cb, &err), 0);
	assert_true(t.listings > 3);
	assert_int_equal(t.failed, 0);
	assert_int_equal(tally_count(&t, "eu-west-1"), 3);
	assert_int_equal(tally_count(&t, "ap-south-1"), 2);
	scope.all_regions = false;

	/* Excluded: nothing listed. */
	memset(&t, 0, sizeof(t));
	scope.exclude_types = ec2;
	scope.nexclude = 1;
	assert_int_equal(provider_list(p, &scope, &cb, &err), 0);
	assert_int_equal(t.listings, 0);
	scope.exclude_types = NULL;
	scope.nexclude = 0;

	/* An unknown type: refused before anything is listed. */
	memset(&t, 0, sizeof(t));
	scope.types = bogus;
	scope.ntypes = 2;
	assert_int_equal(provider_list(p, &scope, &cb, &err), ELAVA_E_INVAL);
	assert_non_null(strstr(err.msg, "no_such_type"));
	assert_int_equal(t.listings, 0);

	/* A callback that says stop: the listing stops with its value and
	 * no listing of the stopped region is reported complete. */
	memset(&t, 0, sizeof(t));
	t.stop_after = 1;
	scope.types = ec2;
	scope.ntypes = 1;
	scope.regions = regions;
	scope.nregions = 1;
	assert_int_equal(provider_list(p, &scope, &cb, &err), 42);
	assert_int_equal(t.resources, 1);
	assert_int_equal(t.listings, 0);
	provider_free(&p);
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

/* ------------------------------------------- per-service request counts */

/* An SQS queue in region, through the JSON protocol. */
static void create_queue(struct aws_client *c, const char *region,
			 const char *name)
{
	struct aws_request r = {0};
	struct aws_response resp;
	struct elava_error err = {0};
	char body[256];

	snprintf(body, sizeof(body), "{\"QueueName\":\"%s\"}", name);
	aws_response_init(&resp);
	r.operation = "CreateQueue";
	r.service = "sqs";
	r.env_id = "SQS";
	r.region = region;
	r.method = "POST";
	r.body = body;
	r.body_len = strlen(body);
	r.content_type = "application/x-amz-json-1.0";
	r.amz_target = "AmazonSQS.CreateQueue";
	if (aws_client_send(c, &r, &resp, &err))
		fail_msg("CreateQueue: %s", err.msg);
	aws_response_release(&resp);
}

struct paged {
	size_t listings, failed;
	size_t ec2_pages, sqs_pages, queues;
};

static int paged_resource(const struct resource *r, void *ud)
{
	(void)r, (void)ud;
	return 0;
}

static void paged_done(const struct provider_listing *l, void *ud)
{
	struct paged *pg = ud;

	pg->listings++;
	if (l->status) {
		pg->failed++;
		return;
	}
	if (!strcmp(l->type, "ec2_instance")) {
		/* fewer reservations than a page holds: one page */
		assert_int_equal(l->pages, 1);
		pg->ec2_pages += l->pages;
	} else if (!strcmp(l->type, "sqs_queue")) {
		assert_int_equal(l->pages, 1);
		pg->sqs_pages += l->pages;
		pg->queues += l->resources;
	}
}

static const struct provider_api_stats *
find_stats(const struct provider_api_stats *v, size_t n, const char *service)
{
	for (size_t i = 0; i < n; i++)
		if (!strcmp(v[i].service, service))
			return &v[i];
	fail_msg("no counts for service '%s'", service);
	return NULL;
}

/*
 * Against the emulator, a new provider's counts: STS GetCallerIdentity
 * when it is made; then a listing of ec2_instance and sqs_queue in two
 * regions is one ec2 DescribeRegions plus one DescribeInstances per page,
 * and one sqs ListQueues per page plus GetQueueAttributes and
 * ListQueueTags per queue — per service, in the order first used, and no
 * errors.
 */
static void test_api_stats(void **state)
{
	const char *url = getenv("ELAVA_TEST_MOTO_URL");
	const char *regions[] = {"us-east-1", "ca-central-1"};
	const char *types[] = {"ec2_instance", "sqs_queue"};
	struct provider_callbacks cb = {paged_resource, paged_done, NULL};
	struct provider_scope scope = {0};
	struct provider_api_stats v[8];
	const struct provider_api_stats *ec2, *sqs;
	struct aws_creds creds = {0};
	struct aws_client *c = NULL;
	struct elava_error err = {0};
	struct provider *p;
	struct paged pg = {0};
	size_t n;
	(void)state;

	if (!url || !*url)
		skip();
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "testing", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
	assert_int_equal(aws_creds_from_env(&creds, NULL), 0);
	assert_int_equal(aws_client_new(NULL, &creds, &c, NULL), 0);
	aws_creds_clear(&creds);
	run_instances_in(c, "ca-central-1", "stats", "t3.nano", 2);
	run_instances_in(c, "ca-central-1", "stats", "t3.nano", 1);
	create_queue(c, "us-east-1", "stats-a");
	create_queue(c, "us-east-1", "stats-b");
	aws_client_free(&c);

	p = moto_provider(4);
	n = provider_api_stats(p, v, ARRAY_SIZE(v));
	assert_int_equal(n, 1);
	assert_string_equal(v[0].service, "sts");
	assert_true(v[0].calls == 1 && v[0].errors == 0 && v[0].throttles == 0);

	cb.ud = &pg;
	scope.regions = regions;
	scope.nregions = 2;
	scope.types = types;
	scope.ntypes = 2;
	assert_int_equal(provider_list(p, &scope, &cb, &err), 0);
	assert_int_equal(pg.listings, 4);
	assert_int_equal(pg.failed, 0);
	assert_int_equal(pg.ec2_pages, 2);
	assert_int_equal(pg.sqs_pages, 2);
	assert_int_equal(pg.queues, 2);

	n = provider_api_stats(p, v, ARRAY_SIZE(v));
	assert_int_equal(n, 3);
	assert_string_equal(v[0].service, "sts");
	assert_string_equal(v[1].service, "ec2"); /* DescribeRegions first */
	assert_string_equal(v[2].service, "sqs");
	assert_true(v[0].calls == 1 && v[0].errors == 0);
	ec2 = find_stats(v, n, "ec2");
	sqs = find_stats(v, n, "sqs");
	assert_int_equal(ec2->calls, 1 + pg.ec2_pages);
	assert_int_equal(ec2->calls, 3);
	assert_int_equal(sqs->calls, pg.sqs_pages + 2 * pg.queues);
	assert_int_equal(sqs->calls, 6);
	for (size_t i = 0; i < n; i++) {
		assert_int_equal(v[i].errors, 0);
		assert_int_equal(v[i].throttles, 0);
	}

	/* cap 1: only the first written, all three counted */
	memset(v, 0, sizeof(v));
	assert_int_equal(provider_api_stats(p, v, 1), 3);
	assert_string_equal(v[0].service, "sts");
	assert_null(v[1].service);
	provider_free(&p);
	unsetenv("AWS_ENDPOINT_URL");
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_list_instances),
	    cmocka_unit_test(test_scope),
	    cmocka_unit_test(test_api_stats),
	    cmocka_unit_test(test_no_credentials),
	};
	return cmocka_run_group_tests(tests, NULL, NULL);
}
