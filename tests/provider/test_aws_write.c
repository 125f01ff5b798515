/*
 * The AWS provider's write side against the AWS API emulator
 * (ELAVA_TEST_MOTO_URL, set by run_aws_tests.sh): provider_create,
 * provider_update and provider_delete for the four types Elava makes
 * (ec2_instance, ebs_volume, s3_bucket, security_group), each checked
 * with the service's own Describe (or Elava's listing), their error paths,
 * and tag changes on one resource of every other service family, checked
 * with the service's list-tags call. Resources are made, and results
 * read, with signed requests through aws_client_send, not through the
 * code under test.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <cmocka.h>

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "provider/aws/list_int.h"
#include "provider/provider.h"

#define ACCOUNT "123456789012" /* moto's */
#define REGION	"us-east-1"

static struct provider *P;
static struct aws_client *C;

/* ------------------------------------------------------------ raw calls */

struct rq {
	const struct aws_service *svc;
	const char *region; /* NULL: REGION */
	const char *method; /* NULL: POST */
	const char *path, *query;
	const char *body;
	const char *ctype;
	const char *target;
	bool xml;
};

/* One signed request; the answer parsed into doc (may be NULL). */
static int try_raw(const char *op, const struct rq *q, struct aws_doc *doc,
		   struct elava_error *err)
{
	struct aws_request r = {0};
	struct aws_response resp;
	int rc;

	if (doc)
		memset(doc, 0, sizeof(*doc));
	aws_response_init(&resp);
	r.operation = op;
	r.service = q->svc->name;
	r.env_id = q->svc->env_id;
	r.region = q->region ? q->region : REGION;
	r.method = q->method ? q->method : "POST";
	r.path = q->path;
	r.query = q->query;
	r.body = q->body;
	r.body_len = q->body ? strlen(q->body) : 0;
	r.content_type = q->ctype;
	r.amz_target = q->target;
	rc = aws_client_send(C, &r, &resp, err);
	if (!rc && doc && resp.body.len)
		rc = aws_doc_parse(resp.body.data, resp.body.len, q->xml, doc,
				   err);
	aws_response_release(&resp);
	return rc;
}

static void raw(const char *op, const struct rq *q, struct aws_doc *doc)
{
	struct elava_error err = {0};

	if (try_raw(op, q, doc, &err))
		fail_msg("%s: %s", op, err.msg);
}

/* Query protocols (EC2 included): params after Action and Version. */
static void query_in(const struct aws_service *svc, const char *region,
		     const char *op, const char *params, struct aws_doc *doc)
{
	char body[4096];
	struct rq q = {0};

	snprintf(body, sizeof(body), "Action=%s&Version=%s%s%s", op,
		 svc->version, params && *params ? "&" : "",
		 params ? params : "");
	q.svc = svc;
	q.region = region;
	q.body = body;
	q.ctype = "application/x-www-form-urlencoded; charset=utf-8";
	q.xml = true;
	raw(op, &q, doc);
}

static void query(const struct aws_service *svc, const char *op,
		  const char *params, struct aws_doc *doc)
{
	query_in(svc, NULL, op, params, doc);
}

static void json(const struct aws_service *svc, const char *op,
		 const char *body, struct aws_doc *doc)
{
	char target[256], ctype[64];
	struct rq q = {0};

	snprintf(target, sizeof(target), "%s.%s", svc->target, op);
	snprintf(ctype, sizeof(ctype), "application/x-amz-json-%s",
		 svc->json_version);
	q.svc = svc;
	q.body = body;
	q.ctype = ctype;
	q.target = target;
	raw(op, &q, doc);
}

static void rest(const struct aws_service *svc, const char *region,
		 const char *method, const char *op, const char *path,
		 const char *qs, const char *body, struct aws_doc *doc)
{
	struct rq q = {0};

	q.svc = svc;
	q.region = region;
	q.method = method;
	q.path = path;
	q.query = qs;
	q.body = body;
	q.ctype =
	    body ? (svc->protocol == AWS_PROTO_REST_XML ? "application/xml"
							: "application/json")
		 : NULL;
	q.xml = svc->protocol == AWS_PROTO_REST_XML;
	raw(op, &q, doc);
}

/* Text at path in doc into out ("" when absent). */
static const char *text(const struct aws_doc *doc, const char *path, char *out,
			size_t n)
{
	struct buf b;

	buf_init(&b, 0);
	snprintf(out, n, "%s",
		 aws_node_text(&doc->root, path, &b) && b.data ? b.data : "");
	buf_release(&b);
	return out;
}

/* ---------------------------------------------------------------- tags */

struct tagread {
	const char *k, *v;
	struct resource r;
	struct buf a, b;
};

static int tag_item(const struct aws_node *n, void *ud)
{
	struct tagread *t = ud;

	if (aws_node_text(n, t->k, &t->a) && aws_node_text(n, t->v, &t->b))
		resource_tag_set(&t->r, t->a.data, t->b.data ? t->b.data : "");
	return 0;
}

/* The tags at path ({key: value} when k is NULL, else a list of {k, v})
 * as "k=v,k=v" in key order. */
static void tags_text(const struct aws_node *root, const char *path,
		      const char *k, const char *v, char *out, size_t n)
{
	struct tagread t = {k, v, {0}, BUF_INIT, BUF_INIT};
	size_t o = 0;

	resource_init(&t.r);
	buf_init(&t.a, 0);
	buf_init(&t.b, 0);
	if (k) {
		aws_node_each(root, path, tag_item, &t);
	} else {
		struct aws_node m;
		if (aws_node_get(root, path, &m) && m.j) {
			size_t nk;
			const char **keys = ejson_object_sorted_keys(m.j, &nk);
			for (size_t i = 0; i < nk; i++)
				resource_tag_set(
				    &t.r, keys[i],
				    ejson_string_value(
					ejson_object_get(m.j, keys[i])));
			xfree(keys);
		}
	}
	out[0] = '\0';
	for (size_t i = 0; i < t.r.ntags && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s=%s", i ? "," : "",
				      t.r.tags[i].key, t.r.tags[i].value);
	resource_release(&t.r);
	buf_release(&t.a);
	buf_release(&t.b);
}

static void doc_tags(const struct aws_doc *doc, const char *path, const char *k,
		     const char *v, char *out, size_t n)
{
	tags_text(&doc->root, path, k, v, out, n);
}

/* ------------------------------------------------------------- records */

static void rec_init(struct resource *r, const char *type, const char *region,
		     const char *id)
{
	resource_init(r);
	resource_set(&r->provider, "aws");
	resource_set(&r->account, ACCOUNT);
	resource_set(&r->region, region);
	resource_set(&r->type, type);
	resource_set(&r->id, id);
}

static void rec_copy(struct resource *dst, const struct resource *src)
{
	struct buf b;
	struct elava_error err = {0};

	buf_init(&b, 0);
	resource_init(dst);
	assert_int_equal(resource_to_json(src, &b), 0);
	if (resource_from_json(b.data, b.len, dst, &err))
		fail_msg("copy: %s", err.msg);
	buf_release(&b);
}

static void set_str(struct resource *r, const char *k, const char *v)
{
	ejson_object_set_take(r->attributes, k, ejson_string(v, strlen(v)));
}

static void set_int(struct resource *r, const char *k, int64_t v)
{
	ejson_object_set_take(r->attributes, k, ejson_int(v));
}

static void set_bool(struct resource *r, const char *k, bool v)
{
	ejson_object_set_take(r->attributes, k, ejson_bool(v));
}

static const char *get_str(const struct resource *r, const char *k)
{
	const char *s = ejson_string_value(ejson_object_get(r->attributes, k));

	return s ? s : "";
}

/* Replace all tags with "k=v,k=v". */
static void set_tags(struct resource *r, const char *spec)
{
	char copy[512], *save = NULL;

	for (size_t i = 0; i < r->ntags; i++) {
		xfree(r->tags[i].key);
		xfree(r->tags[i].value);
	}
	xfree(r->tags);
	r->tags = NULL;
	r->ntags = 0;
	snprintf(copy, sizeof(copy), "%s", spec);
	for (char *kv = strtok_r(copy, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		assert_non_null(eq);
		*eq = '\0';
		resource_tag_set(r, kv, eq + 1);
	}
}

static void rec_tags(const struct resource *r, char *out, size_t n)
{
	size_t o = 0;

	out[0] = '\0';
	for (size_t i = 0; i < r->ntags && o < n; i++)
		o += (size_t)snprintf(out + o, n - o, "%s%s=%s", i ? "," : "",
				      r->tags[i].key, r->tags[i].value);
}

/* A record as Elava lists it (ELAVA_E_NOTFOUND when not listed). */
struct fetch {
	const char *id;
	struct resource *out;
	bool found;
};

static int on_fetch(const struct resource *r, void *ud)
{
	struct fetch *f = ud;

	if (!strcmp(r->id, f->id)) {
		rec_copy(f->out, r);
		f->found = true;
	}
	return 0;
}

static void fetch(const char *type, const char *id, struct resource *out)
{
	const char *types[] = {type};
	const char *regions[] = {REGION};
	struct provider_scope scope = {regions, 1, false, types, 1, NULL, 0};
	struct fetch f = {id, out, false};
	struct provider_callbacks cb = {on_fetch, NULL, &f};
	struct elava_error err = {0};

	if (provider_list(P, &scope, &cb, &err))
		fail_msg("listing %s: %s", type, err.msg);
	if (!f.found)
		fail_msg("%s '%s' not listed", type, id);
}

/* ------------------------------------------------------------- helpers */

static void expect_err(int rc, int code, const struct elava_error *err,
		       const char *needle)
{
	if (rc != code || !strstr(err->msg, needle))
		fail_msg("expected %s with '%s', got %d (%s): %s",
			 elava_strerror(code), needle, rc, elava_strerror(rc),
			 err->msg);
}

static void ok(int rc, const struct elava_error *err)
{
	if (rc)
		fail_msg("%s: %s", elava_strerror(rc), err->msg);
}

static void first_of(const char *op, const char *params, const char *path,
		     char *out, size_t n)
{
	struct aws_doc doc;

	query(&aws_svc_ec2, op, params, &doc);
	text(&doc, path, out, n);
	aws_doc_release(&doc);
	assert_true(out[0]);
}

static const char *instance_state(const char *id, char *out, size_t n)
{
	char params[128];
	struct aws_doc doc;

	snprintf(params, sizeof(params), "InstanceId.1=%s", id);
	query(&aws_svc_ec2, "DescribeInstances", params, &doc);
	text(&doc, "reservationSet/item/instancesSet/item/instanceState/name",
	     out, n);
	aws_doc_release(&doc);
	return out;
}

/* ------------------------------------------------------------ instances */

static void test_instance(void **state)
{
	struct resource d, cur, want;
	struct elava_error err = {0};
	struct aws_doc doc;
	char ami[64], subnet[64], sg[64], params[256], got[512], s[64];
	char *id = NULL, *id2 = NULL;
	(void)state;

	if (!P)
		skip();
	first_of("DescribeImages", "Owner.1=amazon", "imagesSet/item/imageId",
		 ami, sizeof(ami));
	first_of("DescribeSubnets", NULL, "subnetSet/item/subnetId", subnet,
		 sizeof(subnet));
	first_of("CreateSecurityGroup", "GroupName=web-w&GroupDescription=web",
		 "groupId", sg, sizeof(sg));
	query(&aws_svc_ec2, "CreateKeyPair", "KeyName=web-key-w", NULL);

	rec_init(&d, "ec2_instance", REGION, "");
	set_str(&d, "image_id", ami);
	set_str(&d, "instance_type", "t3.micro");
	set_str(&d, "subnet_id", subnet);
	set_str(&d, "key_name", "web-key-w");
	ejson_object_set_take(d.attributes, "security_groups", ejson_array());
	ejson_array_append_take(
	    ejson_object_get(d.attributes, "security_groups"),
	    ejson_string(sg, strlen(sg)));
	set_tags(&d, "Env=test,Name=web-w,Old=x");
	ok(provider_create(P, &d, "tok-web-w", &id, &err), &err);
	assert_non_null(id);
	assert_true(!strncmp(id, "i-", 2));

	/* Listed by Elava with what was asked for. */
	fetch("ec2_instance", id, &cur);
	assert_string_equal(get_str(&cur, "instance_type"), "t3.micro");
	assert_string_equal(get_str(&cur, "image_id"), ami);
	assert_string_equal(get_str(&cur, "subnet_id"), subnet);
	assert_string_equal(get_str(&cur, "key_name"), "web-key-w");
	assert_string_equal(
	    ejson_string_value(ejson_array_get(
		ejson_object_get(cur.attributes, "security_groups"), 0)),
	    sg);
	rec_tags(&cur, got, sizeof(got));
	assert_string_equal(got, "Env=test,Name=web-w,Old=x");

	/* The token reached EC2 as the ClientToken. */
	snprintf(params, sizeof(params), "InstanceId.1=%s", id);
	query(&aws_svc_ec2, "DescribeInstances", params, &doc);
	assert_string_equal(text(&doc,
				 "reservationSet/item/instancesSet/item/"
				 "clientToken",
				 s, sizeof(s)),
			    "tok-web-w");
	aws_doc_release(&doc);
	/*
	 * The same token again: EC2 answers with the first instance. moto
	 * 5.2.1 records the ClientToken but does not honour it (it makes a
	 * second instance), so only real AWS can show the same id here.
	 */
	ok(provider_create(P, &d, "tok-web-w", &id2, &err), &err);
	if (strcmp(id, id2)) {
		struct resource extra;
		rec_init(&extra, "ec2_instance", REGION, id2);
		ok(provider_delete(P, &extra, &err), &err);
		resource_release(&extra);
	}
	xfree(id2);

	/* Tags: one changed, one added, one removed; "aws:" left alone. */
	resource_tag_set(&cur, "aws:elava:test", "kept");
	rec_copy(&want, &cur);
	set_tags(&want, "Env=prod,Name=web-w,Team=web");
	ok(provider_update(P, &cur, &want, &err), &err);
	resource_release(&cur);
	fetch("ec2_instance", id, &cur);
	rec_tags(&cur, got, sizeof(got));
	assert_string_equal(got, "Env=prod,Name=web-w,Team=web");
	resource_release(&want);

	/* The instance type: refused while the instance runs. */
	rec_copy(&want, &cur);
	set_str(&want, "instance_type", "t3.large");
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_STATE, &err,
		   "stop it first");
	/* An attribute Elava cannot change: refused, nothing done. */
	set_str(&want, "image_id", "ami-00000000");
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "'image_id'");
	set_str(&want, "image_id", ami);
	snprintf(params, sizeof(params), "InstanceId.1=%s", id);
	query(&aws_svc_ec2, "StopInstances", params, NULL);
	assert_string_equal(instance_state(id, s, sizeof(s)), "stopped");
	ok(provider_update(P, &cur, &want, &err), &err);
	resource_release(&cur);
	fetch("ec2_instance", id, &cur);
	assert_string_equal(get_str(&cur, "instance_type"), "t3.large");

	/* Delete, and delete what is not there. */
	ok(provider_delete(P, &cur, &err), &err);
	instance_state(id, s, sizeof(s));
	assert_true(!strcmp(s, "shutting-down") || !strcmp(s, "terminated"));
	resource_set(&cur.id, "i-0123456789abcdef0");
	expect_err(provider_delete(P, &cur, &err), ELAVA_E_NOTFOUND, &err,
		   "InvalidInstanceID.NotFound");

	/* A create without an image. */
	ejson_object_del(d.attributes, "image_id");
	expect_err(provider_create(P, &d, NULL, &id2, &err), ELAVA_E_INVAL,
		   &err, "'image_id'");
	assert_null(id2);

	resource_release(&want);
	resource_release(&cur);
	resource_release(&d);
	xfree(id);
}

/* -------------------------------------------------------------- volumes */

struct volume_seen {
	char size[16], type[16], iops[16], encrypted[8], tags[256];
};

static void describe_volume(const char *id, struct volume_seen *v)
{
	char params[128];
	struct aws_doc doc;

	snprintf(params, sizeof(params), "VolumeId.1=%s", id);
	query(&aws_svc_ec2, "DescribeVolumes", params, &doc);
	text(&doc, "volumeSet/item/size", v->size, sizeof(v->size));
	text(&doc, "volumeSet/item/volumeType", v->type, sizeof(v->type));
	text(&doc, "volumeSet/item/iops", v->iops, sizeof(v->iops));
	text(&doc, "volumeSet/item/encrypted", v->encrypted,
	     sizeof(v->encrypted));
	doc_tags(&doc, "volumeSet/item/tagSet/item[]", "key", "value", v->tags,
		 sizeof(v->tags));
	aws_doc_release(&doc);
}

static void test_volume(void **state)
{
	struct resource d, cur, want;
	struct elava_error err = {0};
	struct volume_seen v;
	char ami[64], inst[64], params[256];
	char *id = NULL, *id2 = NULL;
	(void)state;

	if (!P)
		skip();
	rec_init(&d, "ebs_volume", REGION, "");
	set_str(&d, "availability_zone", "us-east-1a");
	set_int(&d, "size", 8);
	set_str(&d, "volume_type", "gp3");
	set_int(&d, "iops", 3000);
	set_int(&d, "throughput", 125);
	set_bool(&d, "encrypted", true);
	set_tags(&d, "Env=test,Name=data-w,Old=x");
	ok(provider_create(P, &d, "tok-vol-w", &id, &err), &err);
	assert_true(!strncmp(id, "vol-", 4));
	describe_volume(id, &v);
	assert_string_equal(v.size, "8");
	assert_string_equal(v.type, "gp3");
	assert_string_equal(v.iops, "3000");
	assert_string_equal(v.encrypted, "true");
	assert_string_equal(v.tags, "Env=test,Name=data-w,Old=x");
	/* The same token again: EC2 returns the first volume; moto 5.2.1
	 * ignores CreateVolume's ClientToken and makes another. */
	ok(provider_create(P, &d, "tok-vol-w", &id2, &err), &err);
	if (strcmp(id, id2)) {
		struct resource extra;
		rec_init(&extra, "ebs_volume", REGION, id2);
		ok(provider_delete(P, &extra, &err), &err);
		resource_release(&extra);
	}
	xfree(id2);

	/* Size, type and IOPS, and the tags. */
	resource_set(&d.id, id);
	rec_copy(&cur, &d);
	rec_copy(&want, &cur);
	set_int(&want, "size", 16);
	set_str(&want, "volume_type", "io1");
	set_int(&want, "iops", 4000);
	set_tags(&want, "Env=prod,Name=data-w,Team=data");
	ok(provider_update(P, &cur, &want, &err), &err);
	describe_volume(id, &v);
	assert_string_equal(v.size, "16");
	assert_string_equal(v.type, "io1");
	assert_string_equal(v.iops, "4000");
	assert_string_equal(v.tags, "Env=prod,Name=data-w,Team=data");
	resource_release(&cur);
	rec_copy(&cur, &want);

	/* Refused: shrinking, moving, a size that is not a number. */
	set_int(&want, "size", 4);
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "cannot shrink");
	set_int(&want, "size", 16);
	set_str(&want, "availability_zone", "us-east-1b");
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "'availability_zone'");
	set_str(&want, "availability_zone", "us-east-1a");
	set_str(&want, "size", "big");
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_INVAL, &err,
		   "'size'");
	describe_volume(id, &v);
	assert_string_equal(v.size, "16");

	/* In use: AWS's VolumeInUse, with its code. */
	snprintf(params, sizeof(params), "Owner.1=amazon");
	first_of("DescribeImages", params, "imagesSet/item/imageId", ami,
		 sizeof(ami));
	snprintf(params, sizeof(params),
		 "ImageId=%s&MinCount=1&MaxCount=1&Placement.AvailabilityZone="
		 "us-east-1a",
		 ami);
	first_of("RunInstances", params, "instancesSet/item/instanceId", inst,
		 sizeof(inst));
	snprintf(params, sizeof(params),
		 "VolumeId=%s&InstanceId=%s&Device=/dev/sdf", id, inst);
	query(&aws_svc_ec2, "AttachVolume", params, NULL);
	expect_err(provider_delete(P, &cur, &err), ELAVA_E_REMOTE, &err,
		   "VolumeInUse");
	/* moto 5.2.1 answers 500 to a DetachVolume without InstanceId. */
	snprintf(params, sizeof(params), "VolumeId=%s&InstanceId=%s", id, inst);
	query(&aws_svc_ec2, "DetachVolume", params, NULL);
	ok(provider_delete(P, &cur, &err), &err);
	expect_err(provider_delete(P, &cur, &err), ELAVA_E_NOTFOUND, &err,
		   "InvalidVolume.NotFound");

	resource_release(&want);
	resource_release(&cur);
	resource_release(&d);
	xfree(id);
}

/* -------------------------------------------------------------- buckets */

static void bucket_get(const char *bucket, const char *region, const char *what,
		       struct aws_doc *doc)
{
	char path[128], qs[32];

	snprintf(path, sizeof(path), "/%s", bucket);
	snprintf(qs, sizeof(qs), "%s=", what);
	rest(&aws_svc_s3, region, "GET", "GetBucket", path, qs, NULL, doc);
}

static void bucket_tags(const char *bucket, const char *region, char *out,
			size_t n)
{
	char path[128];
	struct aws_doc doc;
	struct elava_error err = {0};
	struct rq q = {&aws_svc_s3, region, "GET", path, "tagging=",
		       NULL,	    NULL,   NULL,  true};
	int rc;

	snprintf(path, sizeof(path), "/%s", bucket);
	rc = try_raw("GetBucketTagging", &q, &doc, &err);
	out[0] = '\0';
	if (rc == ELAVA_E_NOTFOUND && strstr(err.msg, "NoSuchTagSet"))
		return;
	ok(rc, &err);
	doc_tags(&doc, "TagSet/Tag[]", "Key", "Value", out, n);
	aws_doc_release(&doc);
}

static void test_bucket(void **state)
{
	struct resource d, eu, cur, want;
	struct elava_error err = {0};
	struct aws_doc doc;
	char got[256];
	char *id = NULL;
	(void)state;

	if (!P)
		skip();
	/* us-east-1: no LocationConstraint; tags and versioning after. */
	rec_init(&d, "s3_bucket", REGION, "elava-w-1");
	set_str(&d, "versioning", "Enabled");
	set_tags(&d, "Env=test,Old=x");
	ok(provider_create(P, &d, NULL, &id, &err), &err);
	assert_string_equal(id, "elava-w-1");
	xfree(id);
	bucket_get("elava-w-1", REGION, "location", &doc);
	assert_string_equal(text(&doc, "", got, sizeof(got)), "");
	aws_doc_release(&doc);
	bucket_get("elava-w-1", REGION, "versioning", &doc);
	assert_string_equal(text(&doc, "Status", got, sizeof(got)), "Enabled");
	aws_doc_release(&doc);
	bucket_tags("elava-w-1", REGION, got, sizeof(got));
	assert_string_equal(got, "Env=test,Old=x");

	/* Elsewhere: LocationConstraint; a second create is EXISTS. */
	rec_init(&eu, "s3_bucket", "eu-west-1", "elava-w-eu");
	ok(provider_create(P, &eu, NULL, &id, &err), &err);
	xfree(id);
	bucket_get("elava-w-eu", "eu-west-1", "location", &doc);
	assert_string_equal(text(&doc, "", got, sizeof(got)), "eu-west-1");
	aws_doc_release(&doc);
	expect_err(provider_create(P, &eu, NULL, &id, &err), ELAVA_E_EXISTS,
		   &err, "BucketAlreadyOwnedByYou");
	assert_null(id);

	/* Tags (the whole set is written) and versioning. */
	rec_copy(&cur, &d);
	resource_tag_set(&cur, "aws:elava:test", "kept");
	rec_copy(&want, &cur);
	set_tags(&want, "Env=prod,Team=data");
	set_str(&want, "versioning", "Suspended");
	ok(provider_update(P, &cur, &want, &err), &err);
	bucket_tags("elava-w-1", REGION, got, sizeof(got));
	assert_string_equal(got, "Env=prod,Team=data");
	bucket_get("elava-w-1", REGION, "versioning", &doc);
	assert_string_equal(text(&doc, "Status", got, sizeof(got)),
			    "Suspended");
	aws_doc_release(&doc);
	resource_release(&cur);
	rec_copy(&cur, &want);
	/* No tags left: DeleteBucketTagging. */
	set_tags(&want, "");
	ok(provider_update(P, &cur, &want, &err), &err);
	bucket_tags("elava-w-1", REGION, got, sizeof(got));
	assert_string_equal(got, "");
	/* Versioning cannot go back to never-enabled. */
	set_str(&want, "versioning", "Disabled");
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "Suspended");

	/* Never emptied: a bucket with an object stays. */
	rest(&aws_svc_s3, "eu-west-1", "PUT", "PutObject", "/elava-w-eu/obj",
	     NULL, "hello", NULL);
	expect_err(provider_delete(P, &eu, &err), ELAVA_E_REMOTE, &err,
		   "BucketNotEmpty");
	rest(&aws_svc_s3, "eu-west-1", "DELETE", "DeleteObject",
	     "/elava-w-eu/obj", NULL, NULL, NULL);
	ok(provider_delete(P, &eu, &err), &err);
	expect_err(provider_delete(P, &eu, &err), ELAVA_E_NOTFOUND, &err,
		   "NoSuchBucket");
	ok(provider_delete(P, &cur, &err), &err);

	/* A name that cannot be one. */
	resource_set(&eu.id, "no/such?bucket");
	expect_err(provider_create(P, &eu, NULL, &id, &err), ELAVA_E_INVAL,
		   &err, "not a bucket name");

	resource_release(&want);
	resource_release(&cur);
	resource_release(&eu);
	resource_release(&d);
}

/* ------------------------------------------------------ security groups */

static void test_security_group(void **state)
{
	struct resource d, cur, want;
	struct elava_error err = {0};
	struct aws_doc doc;
	char vpc[64], params[128], got[256], s[128];
	char *id = NULL;
	(void)state;

	if (!P)
		skip();
	first_of("DescribeVpcs", NULL, "vpcSet/item/vpcId", vpc, sizeof(vpc));
	rec_init(&d, "security_group", REGION, "");
	set_str(&d, "group_name", "app-w");
	set_str(&d, "description", "app servers");
	set_str(&d, "vpc_id", vpc);
	set_tags(&d, "Env=test,Name=app,Old=x");
	ok(provider_create(P, &d, NULL, &id, &err), &err);
	assert_true(!strncmp(id, "sg-", 3));
	snprintf(params, sizeof(params), "GroupId.1=%s", id);
	query(&aws_svc_ec2, "DescribeSecurityGroups", params, &doc);
	assert_string_equal(
	    text(&doc, "securityGroupInfo/item/groupName", s, sizeof(s)),
	    "app-w");
	assert_string_equal(
	    text(&doc, "securityGroupInfo/item/groupDescription", s, sizeof(s)),
	    "app servers");
	assert_string_equal(
	    text(&doc, "securityGroupInfo/item/vpcId", s, sizeof(s)), vpc);
	doc_tags(&doc, "securityGroupInfo/item/tagSet/item[]", "key", "value",
		 got, sizeof(got));
	assert_string_equal(got, "Env=test,Name=app,Old=x");
	aws_doc_release(&doc);
	/* No token in this API: a second create is the group's name taken. */
	{
		char *again = NULL;
		expect_err(provider_create(P, &d, NULL, &again, &err),
			   ELAVA_E_EXISTS, &err, "InvalidGroup.Duplicate");
		assert_null(again);
	}

	resource_set(&d.id, id);
	rec_copy(&cur, &d);
	rec_copy(&want, &cur);
	set_tags(&want, "Env=prod,Name=app,Team=app");
	ok(provider_update(P, &cur, &want, &err), &err);
	query(&aws_svc_ec2, "DescribeSecurityGroups", params, &doc);
	doc_tags(&doc, "securityGroupInfo/item/tagSet/item[]", "key", "value",
		 got, sizeof(got));
	assert_string_equal(got, "Env=prod,Name=app,Team=app");
	aws_doc_release(&doc);
	resource_release(&cur);
	rec_copy(&cur, &want);
	set_str(&want, "description", "other");
	expect_err(provider_update(P, &cur, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "'description'");

	ok(provider_delete(P, &cur, &err), &err);
	expect_err(provider_delete(P, &cur, &err), ELAVA_E_NOTFOUND, &err,
		   "InvalidGroup.NotFound");

	ejson_object_del(d.attributes, "description");
	{
		char *none = NULL;
		expect_err(provider_create(P, &d, NULL, &none, &err),
			   ELAVA_E_INVAL, &err, "'description'");
		assert_null(none);
	}

	resource_release(&want);
	resource_release(&cur);
	resource_release(&d);
	xfree(id);
}

/* ---------------------------------------------------------- unsupported */

static void test_unsupported(void **state)
{
	struct resource r, want;
	struct elava_error err = {0};
	char *id = NULL;
	(void)state;

	if (!P)
		skip();
	rec_init(&r, "rds_instance", REGION, "db-x");
	expect_err(provider_create(P, &r, NULL, &id, &err), ELAVA_E_UNSUPPORTED,
		   &err, "rds_instance");
	assert_null(id);
	expect_err(provider_delete(P, &r, &err), ELAVA_E_UNSUPPORTED, &err,
		   "rds_instance");
	resource_release(&r);

	/* A type Elava does not know. */
	rec_init(&r, "no_such_type", REGION, "x-1");
	rec_copy(&want, &r);
	set_tags(&want, "Env=prod");
	expect_err(provider_update(P, &r, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "no_such_type");
	resource_release(&want);
	resource_release(&r);

	/* Stacks: tags change with the template only. Nothing to change is
	 * no call at all. */
	rec_init(&r, "cloudformation_stack", REGION, "stack-x");
	set_tags(&r, "Env=test");
	rec_copy(&want, &r);
	ok(provider_update(P, &r, &want, &err), &err);
	set_tags(&want, "Env=prod");
	expect_err(provider_update(P, &r, &want, &err), ELAVA_E_UNSUPPORTED,
		   &err, "UpdateStack");
	resource_release(&want);
	resource_release(&r);

	/* No ARN to tag by. */
	rec_init(&r, "sns_topic", REGION, "just-a-name");
	rec_copy(&want, &r);
	set_tags(&want, "Env=prod");
	expect_err(provider_update(P, &r, &want, &err), ELAVA_E_INVAL, &err,
		   "\"arn\"");
	resource_release(&want);

	/* Not one resource. */
	rec_init(&want, "sqs_queue", REGION, "just-a-name");
	expect_err(provider_update(P, &r, &want, &err), ELAVA_E_INVAL, &err,
		   "one type");
	resource_release(&want);
	resource_release(&r);
}

/* --------------------------------------------------- tag families */

typedef void (*read_tags_fn)(const struct resource *r, char *out, size_t n);

/*
 * r exists without tags: add two, then change one, add one, remove one
 * (with an "aws:" tag on the current side that must be left alone), each
 * time checked with the service's own list-tags call.
 */
static void tag_family(const struct resource *r, read_tags_fn read)
{
	struct resource cur, want;
	struct elava_error err = {0};
	char got[512];

	rec_copy(&want, r);
	set_tags(&want, "Env=test,Old=x");
	if (provider_update(P, r, &want, &err))
		fail_msg("%s: adding tags: %s", r->type, err.msg);
	read(r, got, sizeof(got));
	if (strcmp(got, "Env=test,Old=x"))
		fail_msg("%s: tags after adding: '%s'", r->type, got);
	rec_copy(&cur, &want);
	resource_tag_set(&cur, "aws:elava:test", "kept");
	resource_release(&want);
	rec_copy(&want, &cur);
	set_tags(&want, "Env=prod,Team=a b/c");
	if (provider_update(P, &cur, &want, &err))
		fail_msg("%s: changing tags: %s", r->type, err.msg);
	read(r, got, sizeof(got));
	if (strcmp(got, "Env=prod,Team=a b/c"))
		fail_msg("%s: tags after changing: '%s'", r->type, got);
	resource_release(&want);
	resource_release(&cur);
}

static char elb_arn[256];

static void read_elb(const struct resource *r, char *out, size_t n)
{
	char params[512];
	struct aws_form f;
	struct aws_doc doc;

	(void)r;
	aws_form_init(&f);
	aws_form_add(&f, elb_arn, "ResourceArns.member.1");
	snprintf(params, sizeof(params), "%s", f.b.data);
	aws_form_release(&f);
	query(&aws_svc_elbv2, "DescribeTags", params, &doc);
	doc_tags(&doc,
		 "DescribeTagsResult/TagDescriptions/member/Tags/member[]",
		 "Key", "Value", out, n);
	aws_doc_release(&doc);
}

static void read_rds(const struct resource *r, char *out, size_t n)
{
	char params[256];
	struct aws_doc doc;

	snprintf(params, sizeof(params),
		 "ResourceName=arn%%3Aaws%%3Ards%%3A" REGION "%%3A" ACCOUNT
		 "%%3Adb%%3A%s",
		 r->id);
	query(&aws_svc_rds, "ListTagsForResource", params, &doc);
	doc_tags(&doc, "ListTagsForResourceResult/TagList/Tag[]", "Key",
		 "Value", out, n);
	aws_doc_release(&doc);
}

static void read_role(const struct resource *r, char *out, size_t n)
{
	char params[256];
	struct aws_doc doc;

	snprintf(params, sizeof(params), "RoleName=%s", r->id);
	query(&aws_svc_iam, "ListRoleTags", params, &doc);
	doc_tags(&doc, "ListRoleTagsResult/Tags/member[]", "Key", "Value", out,
		 n);
	aws_doc_release(&doc);
}

static void read_user(const struct resource *r, char *out, size_t n)
{
	char params[256];
	struct aws_doc doc;

	snprintf(params, sizeof(params), "UserName=%s", r->id);
	query(&aws_svc_iam, "ListUserTags", params, &doc);
	doc_tags(&doc, "ListUserTagsResult/Tags/member[]", "Key", "Value", out,
		 n);
	aws_doc_release(&doc);
}

static char queue_url[256];

static void read_queue(const struct resource *r, char *out, size_t n)
{
	char body[512];
	struct aws_doc doc;

	(void)r;
	snprintf(body, sizeof(body), "{\"QueueUrl\":\"%s\"}", queue_url);
	json(&aws_svc_sqs, "ListQueueTags", body, &doc);
	doc_tags(&doc, "Tags", NULL, NULL, out, n);
	aws_doc_release(&doc);
}

static void read_lambda(const struct resource *r, char *out, size_t n)
{
	char path[256];
	struct aws_doc doc;

	snprintf(path, sizeof(path),
		 "/2017-03-31/tags/arn%%3Aaws%%3Alambda%%3A" REGION
		 "%%3A" ACCOUNT "%%3Afunction%%3A%s",
		 r->id);
	rest(&aws_svc_lambda, NULL, "GET", "ListTags", path, NULL, NULL, &doc);
	doc_tags(&doc, "Tags", NULL, NULL, out, n);
	aws_doc_release(&doc);
}

static void read_dynamodb(const struct resource *r, char *out, size_t n)
{
	char body[256];
	struct aws_doc doc;

	snprintf(body, sizeof(body),
		 "{\"ResourceArn\":\"arn:aws:dynamodb:" REGION ":" ACCOUNT
		 ":table/%s\"}",
		 r->id);
	json(&aws_svc_dynamodb, "ListTagsOfResource", body, &doc);
	doc_tags(&doc, "Tags[]", "Key", "Value", out, n);
	aws_doc_release(&doc);
}

static void read_kms(const struct resource *r, char *out, size_t n)
{
	char body[256];
	struct aws_doc doc;

	snprintf(body, sizeof(body), "{\"KeyId\":\"%s\"}", r->id);
	json(&aws_svc_kms, "ListResourceTags", body, &doc);
	doc_tags(&doc, "Tags[]", "TagKey", "TagValue", out, n);
	aws_doc_release(&doc);
}

static void read_zone(const struct resource *r, char *out, size_t n)
{
	char path[256];
	struct aws_doc doc;

	snprintf(path, sizeof(path), "/2013-04-01/tags/hostedzone/%s", r->id);
	rest(&aws_svc_route53, NULL, "GET", "ListTagsForResource", path, NULL,
	     NULL, &doc);
	doc_tags(&doc, "ResourceTagSet/Tags/Tag[]", "Key", "Value", out, n);
	aws_doc_release(&doc);
}

static void read_logs(const struct resource *r, char *out, size_t n)
{
	char body[256];
	struct aws_doc doc;

	snprintf(body, sizeof(body), "{\"logGroupName\":\"%s\"}", r->id);
	json(&aws_svc_logs, "ListTagsLogGroup", body, &doc);
	doc_tags(&doc, "tags", NULL, NULL, out, n);
	aws_doc_release(&doc);
}

static void read_ecr(const struct resource *r, char *out, size_t n)
{
	char body[256];
	struct aws_doc doc;

	snprintf(body, sizeof(body),
		 "{\"resourceArn\":\"arn:aws:ecr:" REGION ":" ACCOUNT
		 ":repository/%s\"}",
		 r->id);
	json(&aws_svc_ecr, "ListTagsForResource", body, &doc);
	doc_tags(&doc, "tags[]", "Key", "Value", out, n);
	aws_doc_release(&doc);
}

static void read_secret(const struct resource *r, char *out, size_t n)
{
	char body[512];
	struct aws_doc doc;

	snprintf(body, sizeof(body), "{\"SecretId\":\"%s\"}", r->id);
	json(&aws_svc_secretsmanager, "DescribeSecret", body, &doc);
	doc_tags(&doc, "Tags[]", "Key", "Value", out, n);
	aws_doc_release(&doc);
}

static void read_sns(const struct resource *r, char *out, size_t n)
{
	char params[512];
	struct aws_form f;
	struct aws_doc doc;

	aws_form_init(&f);
	aws_form_add(&f, r->id, "ResourceArn");
	snprintf(params, sizeof(params), "%s", f.b.data);
	aws_form_release(&f);
	query(&aws_svc_sns, "ListTagsForResource", params, &doc);
	doc_tags(&doc, "ListTagsForResourceResult/Tags/member[]", "Key",
		 "Value", out, n);
	aws_doc_release(&doc);
}

static void read_ecs(const struct resource *r, char *out, size_t n)
{
	char body[256];
	struct aws_doc doc;

	snprintf(body, sizeof(body),
		 "{\"resourceArn\":\"arn:aws:ecs:" REGION ":" ACCOUNT
		 ":cluster/%s\"}",
		 r->id);
	json(&aws_svc_ecs, "ListTagsForResource", body, &doc);
	doc_tags(&doc, "tags[]", "key", "value", out, n);
	aws_doc_release(&doc);
}

static void read_eks(const struct resource *r, char *out, size_t n)
{
	char path[256];
	struct aws_doc doc;

	snprintf(path, sizeof(path),
		 "/tags/arn%%3Aaws%%3Aeks%%3A" REGION "%%3A" ACCOUNT
		 "%%3Acluster%%2F%s",
		 r->id);
	rest(&aws_svc_eks, NULL, "GET", "ListTagsForResource", path, NULL, NULL,
	     &doc);
	doc_tags(&doc, "tags", NULL, NULL, out, n);
	aws_doc_release(&doc);
}

static void read_cache(const struct resource *r, char *out, size_t n)
{
	char params[256];
	struct aws_doc doc;

	snprintf(params, sizeof(params),
		 "ResourceName=arn%%3Aaws%%3Aelasticache%%3A" REGION
		 "%%3A" ACCOUNT "%%3Acluster%%3A%s",
		 r->id);
	query(&aws_svc_elasticache, "ListTagsForResource", params, &doc);
	doc_tags(&doc, "ListTagsForResourceResult/TagList/Tag[]", "Key",
		 "Value", out, n);
	aws_doc_release(&doc);
}

static void read_asg(const struct resource *r, char *out, size_t n)
{
	char params[256];
	struct aws_doc doc;

	snprintf(params, sizeof(params),
		 "Filters.member.1.Name=auto-scaling-group"
		 "&Filters.member.1.Values.member.1=%s",
		 r->id);
	query(&aws_svc_autoscaling, "DescribeTags", params, &doc);
	doc_tags(&doc, "DescribeTagsResult/Tags/member[]", "Key", "Value", out,
		 n);
	aws_doc_release(&doc);
}

struct propagate {
	const char *key;
	char value[8];
	struct buf b;
};

static int on_asg_tag(const struct aws_node *n, void *ud)
{
	struct propagate *pr = ud;

	if (aws_node_text(n, "Key", &pr->b) && !strcmp(pr->b.data, pr->key) &&
	    aws_node_text(n, "PropagateAtLaunch", &pr->b))
		snprintf(pr->value, sizeof(pr->value), "%s", pr->b.data);
	return 0;
}

/* PropagateAtLaunch of asg-w's tag key, as DescribeTags says it. */
static const char *asg_propagates(const char *key)
{
	static struct propagate pr;
	struct aws_doc doc;

	query(&aws_svc_autoscaling, "DescribeTags",
	      "Filters.member.1.Name=auto-scaling-group"
	      "&Filters.member.1.Values.member.1=asg-w",
	      &doc);
	pr.key = key;
	pr.value[0] = '\0';
	buf_init(&pr.b, 0);
	aws_node_each(&doc.root, "DescribeTagsResult/Tags/member[]", on_asg_tag,
		      &pr);
	buf_release(&pr.b);
	aws_doc_release(&doc);
	return pr.value;
}

#define ZIP                                                                    \
	"UEsDBBQAAAAAAAe6dV3HAbXuIAAAACAAAAAIAAAAaW5kZXgucHlkZWYgaGFuZGxlcihl" \
	"LCBjKToKICAgIHJldHVybiAxClBLAQIUAxQAAAAAAAe6dV3HAbXuIAAAACAAAAAIAAAA" \
	"AAAAAAAAAACAAQAAAABpbmRleC5weVBLBQYAAAAAAQABADYAAABGAAAAAAA="

static void test_tag_families(void **state)
{
	struct resource r;
	struct aws_doc doc;
	char sub1[64], sub2[64], s[512], params[512];
	(void)state;

	if (!P)
		skip();
	first_of("DescribeSubnets",
		 "Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1a",
		 "subnetSet/item/subnetId", sub1, sizeof(sub1));
	first_of("DescribeSubnets",
		 "Filter.1.Name=availability-zone&Filter.1.Value.1=us-east-1b",
		 "subnetSet/item/subnetId", sub2, sizeof(sub2));

	/* Elastic Load Balancing: by ARN, the id. */
	snprintf(params, sizeof(params),
		 "Name=lb-w&Subnets.member.1=%s&Subnets.member.2=%s", sub1,
		 sub2);
	query(&aws_svc_elbv2, "CreateLoadBalancer", params, &doc);
	text(&doc,
	     "CreateLoadBalancerResult/LoadBalancers/member/LoadBalancerArn",
	     elb_arn, sizeof(elb_arn));
	aws_doc_release(&doc);
	rec_init(&r, "load_balancer", REGION, elb_arn);
	tag_family(&r, read_elb);
	resource_release(&r);

	/* RDS: by ARN, built from the identifier (no "arn" attribute). */
	query(&aws_svc_rds, "CreateDBInstance",
	      "DBInstanceIdentifier=db-w&DBInstanceClass=db.t3.micro"
	      "&Engine=postgres&MasterUsername=admin1"
	      "&MasterUserPassword=password1&AllocatedStorage=20",
	      NULL);
	rec_init(&r, "rds_instance", REGION, "db-w");
	tag_family(&r, read_rds);
	resource_release(&r);

	/* IAM: by name; global records. */
	query(&aws_svc_iam, "CreateRole",
	      "RoleName=role-w&AssumeRolePolicyDocument=%7B%22Version%22%3A"
	      "%222012-10-17%22%2C%22Statement%22%3A%5B%5D%7D",
	      NULL);
	rec_init(&r, "iam_role", "global", "role-w");
	tag_family(&r, read_role);
	resource_release(&r);
	query(&aws_svc_iam, "CreateUser", "UserName=user-w", NULL);
	rec_init(&r, "iam_user", "global", "user-w");
	tag_family(&r, read_user);
	resource_release(&r);

	/* SQS: by queue URL ("url" attribute). */
	json(&aws_svc_sqs, "CreateQueue", "{\"QueueName\":\"q-w\"}", &doc);
	text(&doc, "QueueUrl", queue_url, sizeof(queue_url));
	aws_doc_release(&doc);
	rec_init(&r, "sqs_queue", REGION, "q-w");
	set_str(&r, "url", queue_url);
	tag_family(&r, read_queue);
	resource_release(&r);
	/* Without "url": the URL's fixed form. */
	json(&aws_svc_sqs, "CreateQueue", "{\"QueueName\":\"q-w2\"}", &doc);
	text(&doc, "QueueUrl", queue_url, sizeof(queue_url));
	aws_doc_release(&doc);
	rec_init(&r, "sqs_queue", REGION, "q-w2");
	tag_family(&r, read_queue);
	resource_release(&r);

	/* Lambda: REST, the ARN (built) in the path. */
	rest(&aws_svc_lambda, NULL, "POST", "CreateFunction",
	     "/2015-03-31/functions", NULL,
	     "{\"FunctionName\":\"fn-w\",\"Runtime\":\"python3.12\","
	     "\"Role\":\"arn:aws:iam::" ACCOUNT ":role/role-w\","
	     "\"Handler\":\"index.handler\",\"Code\":{\"ZipFile\":\"" ZIP
	     "\"}}",
	     NULL);
	rec_init(&r, "lambda_function", REGION, "fn-w");
	tag_family(&r, read_lambda);
	resource_release(&r);

	/* DynamoDB: by ARN ("arn" attribute). */
	json(&aws_svc_dynamodb, "CreateTable",
	     "{\"TableName\":\"t-w\",\"BillingMode\":\"PAY_PER_REQUEST\","
	     "\"AttributeDefinitions\":[{\"AttributeName\":\"pk\","
	     "\"AttributeType\":\"S\"}],\"KeySchema\":[{\"AttributeName\":"
	     "\"pk\",\"KeyType\":\"HASH\"}]}",
	     &doc);
	rec_init(&r, "dynamodb_table", REGION, "t-w");
	set_str(&r, "arn",
		text(&doc, "TableDescription/TableArn", s, sizeof(s)));
	aws_doc_release(&doc);
	tag_family(&r, read_dynamodb);
	resource_release(&r);

	/* KMS: by key id. */
	json(&aws_svc_kms, "CreateKey", "{}", &doc);
	text(&doc, "KeyMetadata/KeyId", s, sizeof(s));
	aws_doc_release(&doc);
	rec_init(&r, "kms_key", REGION, s);
	tag_family(&r, read_kms);
	resource_release(&r);

	/* Route 53: REST XML, the zone id without "/hostedzone/". */
	rest(&aws_svc_route53, NULL, "POST", "CreateHostedZone",
	     "/2013-04-01/hostedzone", NULL,
	     "<CreateHostedZoneRequest xmlns=\"https://route53.amazonaws.com/"
	     "doc/2013-04-01/\"><Name>w.example.com</Name><CallerReference>"
	     "ref-w</CallerReference></CreateHostedZoneRequest>",
	     &doc);
	text(&doc, "HostedZone/Id", s, sizeof(s));
	aws_doc_release(&doc);
	assert_true(!strncmp(s, "/hostedzone/", 12));
	rec_init(&r, "route53_zone", "global", s + 12);
	tag_family(&r, read_zone);
	resource_release(&r);

	/* CloudWatch Logs: the "arn" attribute as listed, ":*" and all. */
	json(&aws_svc_logs, "CreateLogGroup", "{\"logGroupName\":\"/w/lg\"}",
	     NULL);
	rec_init(&r, "log_group", REGION, "/w/lg");
	set_str(&r, "arn",
		"arn:aws:logs:" REGION ":" ACCOUNT ":log-group:/w/lg:*");
	tag_family(&r, read_logs);
	resource_release(&r);

	/* ECR: by ARN, built. */
	json(&aws_svc_ecr, "CreateRepository",
	     "{\"repositoryName\":\"repo-w\"}", NULL);
	rec_init(&r, "ecr_repository", REGION, "repo-w");
	tag_family(&r, read_ecr);
	resource_release(&r);

	/* Secrets Manager: by ARN, the id. */
	json(&aws_svc_secretsmanager, "CreateSecret",
	     "{\"Name\":\"sec-w\",\"SecretString\":\"x\"}", &doc);
	text(&doc, "ARN", s, sizeof(s));
	aws_doc_release(&doc);
	rec_init(&r, "secret", REGION, s);
	tag_family(&r, read_secret);
	resource_release(&r);

	/* SNS: by ARN, the id. */
	query(&aws_svc_sns, "CreateTopic", "Name=topic-w", &doc);
	text(&doc, "CreateTopicResult/TopicArn", s, sizeof(s));
	aws_doc_release(&doc);
	rec_init(&r, "sns_topic", REGION, s);
	tag_family(&r, read_sns);
	resource_release(&r);

	/* ECS: by ARN, built. */
	json(&aws_svc_ecs, "CreateCluster", "{\"clusterName\":\"ecs-w\"}",
	     NULL);
	rec_init(&r, "ecs_cluster", REGION, "ecs-w");
	tag_family(&r, read_ecs);
	resource_release(&r);

	/* EKS: REST, the ARN (built) in the path. */
	snprintf(params, sizeof(params),
		 "{\"name\":\"eks-w\",\"roleArn\":\"arn:aws:iam::" ACCOUNT
		 ":role/role-w\",\"resourcesVpcConfig\":{\"subnetIds\":"
		 "[\"%s\",\"%s\"]}}",
		 sub1, sub2);
	rest(&aws_svc_eks, NULL, "POST", "CreateCluster", "/clusters", NULL,
	     params, NULL);
	rec_init(&r, "eks_cluster", REGION, "eks-w");
	tag_family(&r, read_eks);
	resource_release(&r);

	/* ElastiCache: by ARN, built. */
	query(&aws_svc_elasticache, "CreateCacheCluster",
	      "CacheClusterId=cache-w&Engine=redis&CacheNodeType=cache.t3.micro"
	      "&NumCacheNodes=1",
	      NULL);
	rec_init(&r, "elasticache_cluster", REGION, "cache-w");
	tag_family(&r, read_cache);
	resource_release(&r);

	/* Auto Scaling: by group name. */
	query(&aws_svc_ec2, "CreateLaunchTemplate",
	      "LaunchTemplateName=lt-w&LaunchTemplateData.ImageId=ami-12c6146b"
	      "&LaunchTemplateData.InstanceType=t3.micro",
	      NULL);
	snprintf(params, sizeof(params),
		 "AutoScalingGroupName=asg-w&LaunchTemplate.LaunchTemplateName="
		 "lt-w&MinSize=0&MaxSize=1&DesiredCapacity=0"
		 "&VPCZoneIdentifier=%s",
		 sub1);
	query(&aws_svc_autoscaling, "CreateAutoScalingGroup", params, NULL);
	rec_init(&r, "autoscaling_group", REGION, "asg-w");
	tag_family(&r, read_asg);
	/* A changed tag keeps its PropagateAtLaunch; a new one does not
	 * propagate. */
	query(&aws_svc_autoscaling, "CreateOrUpdateTags",
	      "Tags.member.1.ResourceId=asg-w"
	      "&Tags.member.1.ResourceType=auto-scaling-group"
	      "&Tags.member.1.Key=Role&Tags.member.1.Value=web"
	      "&Tags.member.1.PropagateAtLaunch=true",
	      NULL);
	{
		struct resource cur, want;
		struct elava_error err = {0};
		rec_copy(&cur, &r);
		set_tags(&cur, "Env=prod,Role=web,Team=a b/c");
		rec_copy(&want, &cur);
		set_tags(&want, "Env=prod,Role=api,Team=a b/c,Tier=1");
		ok(provider_update(P, &cur, &want, &err), &err);
		read_asg(&r, s, sizeof(s));
		assert_string_equal(s, "Env=prod,Role=api,Team=a b/c,Tier=1");
		assert_string_equal(asg_propagates("Role"), "true");
		assert_string_equal(asg_propagates("Tier"), "false");
		resource_release(&want);
		resource_release(&cur);
	}
	resource_release(&r);
}

/* -------------------------------------------------------------- setup */

static int setup(void **state)
{
	const char *url = getenv("ELAVA_TEST_MOTO_URL");
	struct provider_aws_options o = {0};
	struct aws_creds creds = {0};
	struct elava_error err = {0};
	(void)state;

	if (!url || !*url)
		return 0; /* every test skips */
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "testing", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "testing", 1);
	o.region = REGION;
	if (provider_aws_new(&o, &P, &err)) {
		fprintf(stderr, "provider: %s\n", err.msg);
		return -1;
	}
	if (aws_creds_from_env(&creds, &err) ||
	    aws_client_new(NULL, &creds, &C, &err)) {
		fprintf(stderr, "client: %s\n", err.msg);
		aws_creds_clear(&creds);
		return -1;
	}
	aws_creds_clear(&creds);
	return 0;
}

static int teardown(void **state)
{
	(void)state;
	provider_free(&P);
	aws_client_free(&C);
	return 0;
}

int main(void)
{
	const struct CMUnitTest tests[] = {
	    cmocka_unit_test(test_instance),
	    cmocka_unit_test(test_volume),
	    cmocka_unit_test(test_bucket),
	    cmocka_unit_test(test_security_group),
	    cmocka_unit_test(test_unsupported),
	    cmocka_unit_test(test_tag_families),
	};
	return cmocka_run_group_tests(tests, setup, teardown);
}
