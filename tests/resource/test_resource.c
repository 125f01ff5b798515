/*
 * Unit tests for resource: canonical form, round trip, fingerprint and
 * ignore rules, validation messages, keys and scopes; and the diff, driven
 * by data: every folder under the directory named on the command line
 * (tests/resource/data/diff) holds old.json, new.json, expected.json and
 * optionally ignore.txt ("<type> <path>" or "* <path>" per line), and
 * becomes one test case.
 */
#include <setjmp.h>
#include <stdarg.h>
#include <stddef.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <cmocka.h>

#include <dirent.h>

#include "core/core.h"
#include "resource/resource.h"

/* ---------------------------------------------------------------- helpers */

static void set_attrs(struct resource *r, const char *json)
{
	struct ejson *v = NULL;

	assert_int_equal(ejson_parse(json, strlen(json), &v, NULL), 0);
	ejson_free(&r->attributes);
	r->attributes = v;
}

static void make_instance(struct resource *r)
{
	resource_init(r);
	resource_set(&r->provider, "aws");
	resource_set(&r->account, "123456789012");
	resource_set(&r->region, "us-east-1");
	resource_set(&r->type, "ec2_instance");
	resource_set(&r->id, "i-0abc");
	resource_set(&r->name, "web-1");
	resource_set(&r->status, "running");
	r->created_at_ns = INT64_C(1700000000123000000);
	resource_tag_set(r, "Env", "prod");
	resource_tag_set(r, "Team", "core");
	resource_tag_set(r, "LastScan", "2026-01-01");
	set_attrs(r, "{\"instance_type\":\"t3.micro\","
		     "\"launch_time\":\"2026-01-01T00:00:00Z\","
		     "\"state\":{\"code\":16,\"name\":\"running\"},"
		     "\"volumes\":[{\"id\":\"vol-1\",\"size\":8}]}");
	resource_rel_add(r, "attached",
			 "aws:123456789012:us-east-1:ebs_volume:"
			 "vol-1");
}

static char *to_json(const struct resource *r)
{
	struct buf b;

	buf_init(&b, 0);
	assert_int_equal(resource_to_json(r, &b), 0);
	return buf_detach(&b, NULL);
}

static void fingerprint(const struct resource *r,
			const struct resource_ignore *ign,
			uint8_t fp[RESOURCE_FP_LEN])
{
	struct resource_encoded e;
	struct elava_error err = {0};

	resource_encoded_init(&e);
	assert_int_equal(resource_encode(r, ign, &e, &err), 0);
	memcpy(fp, e.fingerprint, RESOURCE_FP_LEN);
	resource_encoded_release(&e);
}

static char *canon(const char *json, size_t len)
{
	struct ejson *v = NULL;
	struct buf b;

	if (ejson_parse(json, len, &v, NULL))
		return NULL;
	buf_init(&b, 0);
	assert_int_equal(ejson_dump_canonical(v, &b), 0);
	ejson_free(&v);
	return buf_detach(&b, NULL);
}

static char *read_file(const char *path, size_t *len)
{
	FILE *f = fopen(path, "rb");
	struct buf b;
	char chunk[4096];
	size_t n;

	if (!f)
		return NULL;
	buf_init(&b, 0);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		assert_int_equal(buf_append(&b, chunk, n), 0);
	fclose(f);
	return buf_detach(&b, len);
}

/* ------------------------------------------------------- canonical form */

static void test_canonical_exact(void **state)
{
	struct resource r;
	char *got;
	(void)state;

	resource_init(&r);
	resource_set(&r.provider, "aws");
	resource_set(&r.account, "123456789012");
	resource_set(&r.region, "us-east-1");
	resource_set(&r.type, "ec2_instance");
	resource_set(&r.id, "i-0abc");
	r.created_at_ns = INT64_C(1700000000123456789); /* ms survive */
	resource_tag_set(&r, "b", "2");
	resource_tag_set(&r, "A", "1\"q\"");
	set_attrs(&r, "{ \"z\": 1.0, \"a\": [true, null] }");
	resource_rel_add(&r, "attached",
			 "aws:123456789012:us-east-1:"
			 "ebs_volume:vol-1");
	got = to_json(&r);
	assert_string_equal(
	    got,
	    "{\"account\":\"123456789012\",\"attributes\":{\"a\":[true,"
	    "null],\"z\":1},\"created_at\":\"2023-11-14T22:13:20.123Z\","
	    "\"id\":\"i-0abc\",\"name\":null,\"provider\":\"aws\","
	    "\"region\":\"us-east-1\",\"relationships\":[{\"target\":"
	    "\"aws:123456789012:us-east-1:ebs_volume:vol-1\",\"type\":"
	    "\"attached\"}],\"status\":null,\"tags\":{\"A\":\"1\\\"q\\\"\","
	    "\"b\":\"2\"},\"type\":\"ec2_instance\"}");
	/* It is canonical JSON: the core canonicalizer agrees byte for byte. */
	char *again = canon(got, strlen(got));
	assert_string_equal(again, got);
	xfree(again);
	xfree(got);
	resource_release(&r);
}

static void test_canonical_order_independent(void **state)
{
	struct resource a, b;
	struct ejson *v;
	char *ja, *jb;
	(void)state;

	make_instance(&a);
	make_instance(&b);
	/* b: the same content, every collection filled in reverse order. */
	for (size_t i = 0; i < b.ntags; i++) {
		xfree(b.tags[i].key);
		xfree(b.tags[i].value);
	}
	xfree(b.tags);
	b.tags = NULL;
	b.ntags = 0;
	resource_tag_set(&b, "Team", "core");
	resource_tag_set(&b, "LastScan", "2026-01-01");
	resource_tag_set(&b, "Env", "prod");
	resource_rel_add(&a, "uses", "aws:123456789012:us-east-1:sg:sg-1");
	resource_rel_add(&b, "uses", "aws:123456789012:us-east-1:sg:sg-1");
	resource_rel_add(&b, "attached",
			 "aws:123456789012:us-east-1:"
			 "ebs_volume:vol-1"); /* duplicate */
	ejson_free(&b.attributes);
	b.attributes = ejson_object();
	v = ejson_array();
	{
		struct ejson *vol = ejson_object();
		ejson_object_set_take(vol, "size", ejson_real(8.0));
		ejson_object_set_take(vol, "id", ejson_string("vol-1", 5));
		ejson_array_append_take(v, vol);
	}
	ejson_object_set_take(b.attributes, "volumes", v);
	v = ejson_object();
	ejson_object_set_take(v, "name", ejson_string("running", 7));
	ejson_object_set_take(v, "code", ejson_int(16));
	ejson_object_set_take(b.attributes, "state", v);
	ejson_object_set_take(b.attributes, "launch_time",
			      ejson_string("2026-01-01T00:00:00Z", 20));
	ejson_object_set_take(b.attributes, "instance_type",
			      ejson_string("t3.micro", 8));

	ja = to_json(&a);
	jb = to_json(&b);
	assert_string_equal(ja, jb);
	assert_int_equal(b.nrels, 2);
	assert_string_equal(b.tags[0].key, "Env");
	xfree(ja);
	xfree(jb);
	resource_release(&a);
	resource_release(&b);
}

static void test_round_trip(void **state)
{
	struct resource a, b;
	struct elava_error err = {0};
	char *ja, *jb;
	(void)state;

	make_instance(&a);
	a.created_at_ns += 456789; /* below a millisecond: not kept */
	resource_set(&a.name, NULL);
	resource_tag_set(&a, "w\xc3\xa9ird \"key\"\n", "\x01value");
	ja = to_json(&a);
	resource_init(&b);
	assert_int_equal(resource_from_json(ja, strlen(ja), &b, &err), 0);
	assert_null(b.name);
	assert_string_equal(b.status, "running");
	assert_true(b.created_at_ns == INT64_C(1700000000123000000));
	assert_string_equal(resource_tag_get(&b, "w\xc3\xa9ird \"key\"\n"),
			    "\x01value");
	jb = to_json(&b);
	assert_string_equal(ja, jb);
	xfree(jb);

	/* Reading into a used record replaces what it held. */
	assert_int_equal(resource_from_json(ja, strlen(ja), &b, &err), 0);
	jb = to_json(&b);
	assert_string_equal(ja, jb);
	xfree(ja);
	xfree(jb);
	resource_release(&a);
	resource_release(&b);
}

static void test_from_json_optional_fields(void **state)
{
	static const char in[] =
	    "{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"global\","
	    "\"type\":\"iam_role\",\"id\":\"arn:aws:iam::1:role/x\","
	    "\"created_at\":\"2026-11-21T12:00:00.5+02:00\"}";
	struct resource r;
	char *got;
	(void)state;

	resource_init(&r);
	assert_int_equal(resource_from_json(in, strlen(in), &r, NULL), 0);
	got = to_json(&r);
	assert_string_equal(
	    got, "{\"account\":\"1\",\"attributes\":{},\"created_at\":"
		 "\"2026-11-21T10:00:00.500Z\",\"id\":\"arn:aws:iam::1:"
		 "role/x\",\"name\":null,\"provider\":\"aws\",\"region\":"
		 "\"global\",\"relationships\":[],\"status\":null,"
		 "\"tags\":{},\"type\":\"iam_role\"}");
	xfree(got);
	resource_release(&r);
}

static void test_from_json_errors(void **state)
{
	static const struct {
		const char *in;
		int code;
		const char *msg;
	} cases[] = {
	    {"[1]", ELAVA_E_INVAL, "resource JSON is not an object"},
	    {"{\"id\":", ELAVA_E_PARSE, "resource JSON: invalid JSON"},
	    {"{\"provider\":\"aws\",\"foo\":1}", ELAVA_E_INVAL,
	     "resource JSON has unknown field 'foo'"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\"}",
	     ELAVA_E_INVAL, "resource JSON lacks field 'id'"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":null}",
	     ELAVA_E_INVAL, "resource JSON field 'id' must be a string"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"name\":42}",
	     ELAVA_E_INVAL,
	     "resource JSON field 'name' must be a string or null"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"created_at\":\"yesterday\"}",
	     ELAVA_E_INVAL,
	     "resource JSON field 'created_at' is not an RFC 3339 time"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"created_at\":"
	     "\"9999-12-31T23:59:59Z\"}",
	     ELAVA_E_INVAL,
	     "resource JSON field 'created_at' is not an RFC 3339 time"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"tags\":{\"Env\":1}}",
	     ELAVA_E_INVAL, "resource JSON tag 'Env' value must be a string"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"tags\":[]}",
	     ELAVA_E_INVAL, "resource JSON field 'tags' must be an object"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"relationships\":[{\"type\":"
	     "\"a\",\"target\":\"b\",\"extra\":1}]}",
	     ELAVA_E_INVAL, "resource JSON relationship 0 must be an object"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","
	     "\"type\":\"t\",\"id\":\"x\",\"attributes\":[]}",
	     ELAVA_E_INVAL,
	     "resource JSON field 'attributes' must be an object"},
	    {"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r:s\","
	     "\"type\":\"t\",\"id\":\"x\"}",
	     ELAVA_E_INVAL, "resource region 'r:s' contains ':'"},
	};
	struct resource r;
	(void)state;

	make_instance(&r);
	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct elava_error err = {0};
		int rc = resource_from_json(cases[i].in, strlen(cases[i].in),
					    &r, &err);
		if (rc != cases[i].code ||
		    strncmp(err.msg, cases[i].msg, strlen(cases[i].msg)))
			fail_msg("case %zu: got %d '%s'", i, rc, err.msg);
	}
	/* A failed read leaves the record as it was. */
	assert_string_equal(r.id, "i-0abc");
	assert_int_equal(r.ntags, 3);

	{
		size_t big = RESOURCE_MAX_JSON + 1;
		char *huge = xmalloc(big);
		struct elava_error err = {0};

		memset(huge, ' ', big);
		assert_int_equal(resource_from_json(huge, big, &r, &err),
				 ELAVA_E_TOOBIG);
		xfree(huge);
	}
	resource_release(&r);
}

/* ----------------------------------------------------------- fingerprint */

static void test_fingerprint_changes(void **state)
{
	uint8_t base[RESOURCE_FP_LEN], fp[RESOURCE_FP_LEN];
	struct resource r;
	(void)state;

	make_instance(&r);
	fingerprint(&r, NULL, base);

	resource_set(&r.status, "stopped");
	fingerprint(&r, NULL, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	resource_set(&r.status, "running");
	fingerprint(&r, NULL, fp);
	assert_memory_equal(base, fp, RESOURCE_FP_LEN);

	resource_tag_set(&r, "Env", "dev");
	fingerprint(&r, NULL, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	resource_tag_set(&r, "Env", "prod");

	ejson_object_set_take(ejson_object_get(r.attributes, "state"), "code",
			      ejson_int(80));
	fingerprint(&r, NULL, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	ejson_object_set_take(ejson_object_get(r.attributes, "state"), "code",
			      ejson_int(16));

	r.created_at_ns += 1000000;
	fingerprint(&r, NULL, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	r.created_at_ns -= 1000000;

	resource_rel_add(&r, "uses", "aws:123456789012:us-east-1:sg:sg-1");
	fingerprint(&r, NULL, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	resource_release(&r);
}

static void test_fingerprint_is_sha_of_json(void **state)
{
	struct resource_ignore *ign = resource_ignore_new();
	struct resource_encoded e;
	uint8_t sum[SHA256_LEN];
	struct resource r;
	(void)state;

	make_instance(&r);
	resource_encoded_init(&e);
	assert_int_equal(resource_encode(&r, NULL, &e, NULL), 0);
	assert_string_equal(e.key.data,
			    "aws:123456789012:us-east-1:ec2_instance:i-0abc");
	sha256(e.json.data, e.json.len, sum);
	assert_memory_equal(sum, e.fingerprint, SHA256_LEN);

	/* Rules for this type that match nothing here: still the same. */
	assert_int_equal(
	    resource_ignore_add(ign, "ec2_instance", "attributes.nothing.here"),
	    0);
	assert_int_equal(resource_ignore_add(ign, NULL, "tags.Nope"), 0);
	assert_int_equal(resource_encode(&r, ign, &e, NULL), 0);
	assert_memory_equal(sum, e.fingerprint, SHA256_LEN);

	/* A rule that does match: the stored JSON keeps everything. */
	assert_int_equal(resource_ignore_add(ign, "ec2_instance", "status"), 0);
	assert_int_equal(resource_encode(&r, ign, &e, NULL), 0);
	assert_memory_not_equal(sum, e.fingerprint, SHA256_LEN);
	assert_non_null(strstr(e.json.data, "\"status\":\"running\""));

	resource_encoded_release(&e);
	resource_ignore_free(&ign);
	assert_null(ign);
	resource_release(&r);
}

static void test_fingerprint_ignored(void **state)
{
	uint8_t base[RESOURCE_FP_LEN], fp[RESOURCE_FP_LEN];
	struct resource_ignore *ign = resource_ignore_new();
	struct resource r;
	(void)state;

	assert_int_equal(
	    resource_ignore_add(ign, "ec2_instance", "attributes.launch_time"),
	    0);
	assert_int_equal(
	    resource_ignore_add(ign, "ec2_instance", "attributes.state.code"),
	    0);
	assert_int_equal(resource_ignore_add(ign, "ec2_instance",
					     "attributes.volumes[0].size"),
			 0);
	assert_int_equal(resource_ignore_add(ign, "*", "tags.LastScan"), 0);
	assert_int_equal(resource_ignore_add(ign, "ebs_volume", "status"), 0);

	make_instance(&r);
	fingerprint(&r, ign, base);

	/* Per-type rules. */
	ejson_object_set_take(r.attributes, "launch_time",
			      ejson_string("2027-01-01T00:00:00Z", 20));
	ejson_object_set_take(ejson_object_get(r.attributes, "state"), "code",
			      ejson_int(80));
	ejson_object_set_take(
	    ejson_array_get(ejson_object_get(r.attributes, "volumes"), 0),
	    "size", ejson_int(100));
	fingerprint(&r, ign, fp);
	assert_memory_equal(base, fp, RESOURCE_FP_LEN);
	/* A sibling of an ignored member still counts. */
	ejson_object_set_take(ejson_object_get(r.attributes, "state"), "name",
			      ejson_string("stopped", 7));
	fingerprint(&r, ign, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	ejson_object_set_take(ejson_object_get(r.attributes, "state"), "name",
			      ejson_string("running", 7));

	/* The global rule: a changed and even a removed tag. */
	resource_tag_set(&r, "LastScan", "2026-06-06");
	fingerprint(&r, ign, fp);
	assert_memory_equal(base, fp, RESOURCE_FP_LEN);

	/* Rules of other types do not apply. */
	resource_set(&r.status, "stopping");
	fingerprint(&r, ign, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	resource_release(&r);

	/* The same edits on a volume: only the global rule applies. */
	make_instance(&r);
	resource_set(&r.type, "ebs_volume");
	fingerprint(&r, ign, base);
	resource_tag_set(&r, "LastScan", "2026-06-06");
	resource_set(&r.status, "in-use");
	fingerprint(&r, ign, fp);
	assert_memory_equal(base, fp, RESOURCE_FP_LEN);
	ejson_object_set_take(r.attributes, "launch_time",
			      ejson_string("2027-01-01T00:00:00Z", 20));
	fingerprint(&r, ign, fp);
	assert_memory_not_equal(base, fp, RESOURCE_FP_LEN);
	resource_release(&r);
	resource_ignore_free(&ign);
}

static void test_encode_too_big(void **state)
{
	struct resource_encoded e;
	struct elava_error err = {0};
	struct resource r;
	size_t n = RESOURCE_MAX_JSON;
	char *big = xmalloc(n);
	(void)state;

	memset(big, 'x', n);
	make_instance(&r);
	ejson_object_set_take(r.attributes, "blob", ejson_string(big, n));
	resource_encoded_init(&e);
	assert_int_equal(resource_encode(&r, NULL, &e, &err), ELAVA_E_TOOBIG);
	assert_string_equal(err.msg,
			    "resource 'aws:123456789012:us-east-1:ec2_instance:"
			    "i-0abc': canonical form is larger than 1048576 "
			    "bytes");
	assert_int_equal(e.json.len, 0);
	resource_encoded_release(&e);
	resource_release(&r);
	xfree(big);
}

/* ------------------------------------------------------------ validation */

static void expect_invalid(struct resource *r, int code, const char *msg)
{
	struct elava_error err = {0};
	struct resource_encoded e;

	assert_int_equal(resource_validate(r, &err), code);
	assert_int_equal(err.code, code);
	assert_string_equal(err.msg, msg);
	/* encode refuses the same record with the same words */
	memset(&err, 0, sizeof(err));
	resource_encoded_init(&e);
	assert_int_equal(resource_encode(r, NULL, &e, &err), code);
	assert_string_equal(err.msg, msg);
	resource_encoded_release(&e);
}

static void test_validate_errors(void **state)
{
	struct resource r;
	(void)state;

	resource_init(&r);
	resource_set(&r.provider, "aws");
	resource_set(&r.account, "1");
	resource_set(&r.region, "us-east-1");
	resource_set(&r.type, "ec2_instance");
	resource_set(&r.id, "i-1");
	assert_int_equal(resource_validate(&r, NULL), 0);

	resource_set(&r.id, "");
	expect_invalid(&r, ELAVA_E_INVAL, "resource has an empty id");
	resource_set(&r.id, NULL);
	expect_invalid(&r, ELAVA_E_INVAL, "resource has an empty id");
	resource_set(&r.id, "i-\x01");
	expect_invalid(&r, ELAVA_E_INVAL,
		       "resource id 'i-?' contains a control character");
	resource_set(&r.id, "i-\xff");
	expect_invalid(&r, ELAVA_E_INVAL, "resource id is not valid UTF-8");
	resource_set(&r.id, "arn:aws:ec2:us-east-1:1:instance/i-1");
	assert_int_equal(resource_validate(&r, NULL), 0); /* ':' fine in id */
	resource_set(&r.id, "i-1");

	resource_set(&r.region, "us:east-1");
	expect_invalid(&r, ELAVA_E_INVAL,
		       "resource region 'us:east-1' contains ':'");
	resource_set(&r.region, "us-east-1");

	resource_tag_set(&r, "Env", "pr\xc3od");
	expect_invalid(&r, ELAVA_E_INVAL,
		       "resource 'aws:1:us-east-1:ec2_instance:i-1': tag 'Env' "
		       "value is not valid UTF-8");
	resource_tag_set(&r, "Env", "prod");
	assert_int_equal(resource_validate(&r, NULL), 0);

	for (int i = 0; r.ntags <= RESOURCE_MAX_TAGS; i++) {
		char key[16];
		snprintf(key, sizeof(key), "k%03d", i);
		resource_tag_set(&r, key, "v");
	}
	expect_invalid(&r, ELAVA_E_TOOBIG,
		       "resource 'aws:1:us-east-1:ec2_instance:i-1': has 257 "
		       "tags, more than 256");
	while (r.ntags > 1) {
		r.ntags--;
		xfree(r.tags[r.ntags].key);
		xfree(r.tags[r.ntags].value);
	}
	assert_int_equal(resource_validate(&r, NULL), 0);

	/* Tags filled in by hand must still be sorted and unique. */
	resource_tag_set(&r, "Team", "a");
	{
		struct resource_tag t = r.tags[0];
		r.tags[0] = r.tags[1];
		r.tags[1] = t;
	}
	expect_invalid(&r, ELAVA_E_INVAL,
		       "resource 'aws:1:us-east-1:ec2_instance:i-1': tag 'Env' "
		       "is duplicated or out of order");
	{
		struct resource_tag t = r.tags[0];
		r.tags[0] = r.tags[1];
		r.tags[1] = t;
	}

	resource_set(&r.name, "caf\xc3");
	expect_invalid(&r, ELAVA_E_INVAL,
		       "resource 'aws:1:us-east-1:ec2_instance:i-1': name is "
		       "not valid UTF-8");
	resource_set(&r.name, NULL);

	{
		char *longid = xmalloc(RESOURCE_MAX_FIELD + 2);
		memset(longid, 'i', RESOURCE_MAX_FIELD + 1);
		longid[RESOURCE_MAX_FIELD + 1] = '\0';
		resource_set(&r.id, longid);
		xfree(longid);
	}
	expect_invalid(&r, ELAVA_E_TOOBIG,
		       "resource id is longer than 2048 bytes");
	resource_set(&r.id, "i-1");

	resource_rel_add(&r, "attached", "");
	expect_invalid(&r, ELAVA_E_INVAL,
		       "resource 'aws:1:us-east-1:ec2_instance:i-1': "
		       "relationship 0 has an empty target");
	resource_release(&r);
}

static void test_tags_and_rels(void **state)
{
	struct resource r;
	(void)state;

	resource_init(&r);
	assert_int_equal(resource_tag_set(&r, "b", "1"), 0);
	assert_int_equal(resource_tag_set(&r, "a", "2"), 0);
	assert_int_equal(resource_tag_set(&r, "c", "3"), 0);
	assert_int_equal(resource_tag_set(&r, "b", "4"), 0);
	assert_int_equal(resource_tag_set(&r, NULL, "4"), ELAVA_E_INVAL);
	assert_int_equal(r.ntags, 3);
	assert_string_equal(r.tags[0].key, "a");
	assert_string_equal(r.tags[1].key, "b");
	assert_string_equal(resource_tag_get(&r, "b"), "4");
	assert_null(resource_tag_get(&r, "z"));

	assert_int_equal(resource_rel_add(&r, "uses", "x"), 0);
	assert_int_equal(resource_rel_add(&r, "attached", "y"), 0);
	assert_int_equal(resource_rel_add(&r, "uses", "a"), 0);
	assert_int_equal(resource_rel_add(&r, "uses", "x"), 0);
	assert_int_equal(r.nrels, 3);
	assert_string_equal(r.rels[0].type, "attached");
	assert_string_equal(r.rels[1].target, "a");
	assert_string_equal(r.rels[2].target, "x");

	/* resource_set copes with its own value */
	resource_set(&r.name, "n");
	resource_set(&r.name, r.name);
	assert_string_equal(r.name, "n");
	resource_release(&r);
	resource_release(&r); /* released twice: harmless */
	assert_null(r.attributes);
}

/* ------------------------------------------------------------------ keys */

static void test_key_and_scope(void **state)
{
	static const struct {
		const char *key;
		size_t scope;
	} cases[] = {
	    {"aws:1:us-east-1:ec2_instance:i-1", 28},
	    {"aws:1:global:iam_role:arn:aws:iam::1:role/x", 21},
	    {"aws:1:us-east-1:s3_bucket::", 25}, /* id ":" */
	    {"aws:1:us-east-1:ec2_instance:", 0},
	    {"aws:1:us-east-1:ec2_instance", 0},
	    {"aws::us-east-1:ec2_instance:i-1", 0},
	    {":1:us-east-1:ec2_instance:i-1", 0},
	    {"", 0},
	};
	struct resource r;
	struct buf b;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++)
		assert_int_equal(
		    resource_key_scope_len(cases[i].key, strlen(cases[i].key)),
		    cases[i].scope);
	/* The length bounds the key, not a NUL. */
	assert_int_equal(resource_key_scope_len("aws:1:r:t:i-1", 10), 0);
	assert_int_equal(resource_key_scope_len("aws:1:r:t:i-1", 11), 9);

	make_instance(&r);
	resource_set(&r.id, "arn:aws:ec2:us-east-1:1:instance/i-1");
	buf_init(&b, 0);
	buf_puts(&b, ">");
	assert_int_equal(resource_key(&r, &b), 0);
	assert_string_equal(b.data, ">aws:123456789012:us-east-1:ec2_instance:"
				    "arn:aws:ec2:us-east-1:1:instance/i-1");
	assert_int_equal(resource_key_scope_len(b.data + 1, b.len - 1),
			 strlen("aws:123456789012:us-east-1:ec2_instance"));
	buf_release(&b);
	resource_release(&r);
}

/* ---------------------------------------------------------------- ignore */

static void test_ignore_rules(void **state)
{
	static const char *const bad[] = {
	    "",
	    "foo",
	    "name.x",
	    "tags[0]",
	    "tags.a.b",
	    "attributes..a",
	    "attributes[",
	    "attributes[x]",
	    "[0]",
	    "attributes.a]",
	    "attributes.",
	    "relationships.x",
	    "id",
	    "attributes[\"a",
	    "status[0]",
	    ".attributes",
	};
	struct resource_ignore *ign = resource_ignore_new();
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		if (resource_ignore_add(ign, NULL, bad[i]) != ELAVA_E_INVAL)
			fail_msg("rule '%s' accepted", bad[i]);
	assert_int_equal(resource_ignore_add(ign, NULL, NULL), ELAVA_E_INVAL);
	assert_int_equal(resource_ignore_add(ign, "", "name"), ELAVA_E_INVAL);

	assert_int_equal(resource_ignore_add(ign, "ec2_instance", "tags.Env"),
			 0);
	assert_int_equal(
	    resource_ignore_add(ign, "ec2_instance", "attributes.a"), 0);
	/* Spelled differently, stored canonically. */
	assert_int_equal(resource_ignore_add(ign, "*", "attributes[\"b\"][01]"),
			 0);
	assert_int_equal(
	    resource_ignore_add(ign, NULL, "attributes.x[\"a.b\"]"), 0);
	assert_int_equal(resource_ignore_add(ign, "vpc", "relationships[0]"),
			 0);

	assert_true(resource_ignore_match(ign, "ec2_instance", "tags.Env"));
	assert_false(resource_ignore_match(ign, "ec2_instance", "tags.Env2"));
	assert_false(resource_ignore_match(ign, "ebs_volume", "tags.Env"));
	assert_false(resource_ignore_match(ign, NULL, "tags.Env"));
	assert_true(resource_ignore_match(ign, "ec2_instance", "attributes.a"));
	assert_true(
	    resource_ignore_match(ign, "ec2_instance", "attributes.a.b"));
	assert_true(
	    resource_ignore_match(ign, "ec2_instance", "attributes.a[3]"));
	assert_false(
	    resource_ignore_match(ign, "ec2_instance", "attributes.ab"));
	assert_false(resource_ignore_match(ign, "ec2_instance", "attributes"));
	assert_true(resource_ignore_match(ign, "anything", "attributes.b[1]"));
	assert_true(resource_ignore_match(ign, NULL, "attributes.b[1].c"));
	assert_false(resource_ignore_match(ign, NULL, "attributes.b[10]"));
	assert_true(resource_ignore_match(ign, "s3", "attributes.x[\"a.b\"]"));
	assert_true(
	    resource_ignore_match(ign, "vpc", "relationships[0].target"));
	assert_false(resource_ignore_match(NULL, "vpc", "relationships"));
	resource_ignore_free(&ign);
	resource_ignore_free(&ign); /* NULL-safe */
}

/* ------------------------------------------------------------------ diff */

static void test_diff_self_and_copies(void **state)
{
	struct resource a, b;
	struct resource_diff d = {0};
	struct buf out;
	(void)state;

	make_instance(&a);
	make_instance(&b);
	assert_int_equal(resource_diff(&a, &a, NULL, &d), 0);
	assert_int_equal(d.n, 0);
	resource_diff_release(&d);

	ejson_object_set_take(ejson_object_get(b.attributes, "state"), "code",
			      ejson_int(80));
	assert_int_equal(resource_diff(&a, &b, NULL, &d), 0);
	assert_int_equal(d.n, 1);
	assert_string_equal(d.fields[0].path, "attributes.state.code");
	/* The change owns its values: the records can go first. */
	resource_release(&a);
	resource_release(&b);
	assert_int_equal(ejson_int_value(d.fields[0].old_value), 16);
	assert_int_equal(ejson_int_value(d.fields[0].new_value), 80);
	buf_init(&out, 0);
	assert_int_equal(resource_diff_to_json(&d, &out), 0);
	assert_string_equal(out.data, "[{\"new\":80,\"old\":16,\"path\":"
				      "\"attributes.state.code\"}]");
	buf_release(&out);
	resource_diff_release(&d);
	resource_diff_release(&d);
	assert_null(d.fields);
}

/* --------------------------------------------------------- diff on text */

/*
 * s with whitespace after every structural character outside strings (and
 * before the first): the same JSON, no longer byte for byte canonical.
 */
static char *spaced(const char *s)
{
	struct buf b;
	bool in = false;

	buf_init(&b, 0);
	buf_puts(&b, " ");
	for (const char *p = s; *p; p++) {
		buf_putc(&b, *p);
		if (in) {
			if (*p == '\\')
				buf_putc(&b, *++p);
			else if (*p == '"')
				in = false;
		} else if (*p == '"') {
			in = true;
		} else if (strchr("{}[],:", *p)) {
			buf_puts(&b, " \n\t\r");
		}
	}
	return buf_detach(&b, NULL);
}

/* resource_diff_canonical of two texts, appended after a marker. */
static int text_diff(const char *a, const char *b,
		     const struct resource_ignore *ign, const char *type,
		     struct buf *out)
{
	buf_reset(out);
	buf_puts(out, "keep");
	return resource_diff_canonical(a, strlen(a), b, strlen(b), ign, type,
				       out);
}

/*
 * The diff of a and b by the parsing path, after checking that
 * resource_diff_canonical on their canonical texts (and on a spaced-out
 * spelling of them) appends exactly the same bytes. xfree the result.
 */
static char *diff_both_ways(const struct resource *a, const struct resource *b,
			    const struct resource_ignore *ign)
{
	struct resource_diff d = {0};
	char *ja = to_json(a), *jb = to_json(b);
	char *sa = spaced(ja), *sb = spaced(jb);
	struct buf want, got;
	int rc;

	buf_init(&want, 0);
	buf_init(&got, 0);
	assert_int_equal(resource_diff(a, b, ign, &d), 0);
	assert_int_equal(resource_diff_to_json(&d, &want), 0);
	rc = text_diff(ja, jb, ign, a->type, &got);
	if (rc || strncmp(got.data, "keep", 4) ||
	    strcmp(got.data + 4, want.data))
		fail_msg("text diff: rc %d\n  old  %s\n  new  %s\n  want %s\n"
			 "  got  %s",
			 rc, ja, jb, want.data, got.data);
	rc = text_diff(sa, sb, ign, a->type, &got);
	if (rc || strcmp(got.data + 4, want.data))
		fail_msg("spaced text diff: rc %d\n  want %s\n  got  %s", rc,
			 want.data, got.data);
	/* Identical texts: no change, whatever the rules. */
	rc = text_diff(ja, ja, ign, a->type, &got);
	assert_int_equal(rc, 0);
	assert_string_equal(got.data, "keep[]");
	resource_diff_release(&d);
	buf_release(&got);
	xfree(ja);
	xfree(jb);
	xfree(sa);
	xfree(sb);
	return buf_detach(&want, NULL);
}

struct diff_case {
	char *dir;
	char *name;
};

static void load_record(const char *dir, const char *file, struct resource *r)
{
	struct elava_error err = {0};
	char path[4096];
	size_t len;
	char *json;

	snprintf(path, sizeof(path), "%s/%s", dir, file);
	json = read_file(path, &len);
	if (!json)
		fail_msg("cannot read '%s'", path);
	resource_init(r);
	if (resource_from_json(json, len, r, &err))
		fail_msg("%s: %s", path, err.msg);
	xfree(json);
}

static struct resource_ignore *load_ignore(const char *dir)
{
	struct resource_ignore *ign;
	char path[4096];
	char *text, *line, *save = NULL;

	snprintf(path, sizeof(path), "%s/ignore.txt", dir);
	text = read_file(path, NULL);
	if (!text)
		return NULL;
	ign = resource_ignore_new();
	for (line = strtok_r(text, "\n", &save); line;
	     line = strtok_r(NULL, "\n", &save)) {
		char *sp;

		if (!*line || *line == '#')
			continue;
		sp = strchr(line, ' ');
		if (!sp)
			fail_msg("%s: line '%s' is not '<type> <path>'", path,
				 line);
		*sp = '\0';
		if (resource_ignore_add(ign, line, sp + 1))
			fail_msg("%s: bad rule '%s'", path, sp + 1);
	}
	xfree(text);
	return ign;
}

static void test_diff_case(void **state)
{
	const struct diff_case *c = *state;
	uint8_t fa[RESOURCE_FP_LEN], fb[RESOURCE_FP_LEN];
	struct resource_diff d = {0}, back = {0};
	struct resource_ignore *ign;
	struct resource a, b;
	char path[4096];
	char *expected_raw, *expected;
	size_t len;
	struct buf got;

	load_record(c->dir, "old.json", &a);
	load_record(c->dir, "new.json", &b);
	ign = load_ignore(c->dir);
	snprintf(path, sizeof(path), "%s/expected.json", c->dir);
	expected_raw = read_file(path, &len);
	if (!expected_raw)
		fail_msg("cannot read '%s'", path);
	expected = canon(expected_raw, len);
	if (!expected)
		fail_msg("%s is not JSON", path);

	assert_int_equal(resource_diff(&a, &b, ign, &d), 0);
	buf_init(&got, 0);
	assert_int_equal(resource_diff_to_json(&d, &got), 0);
	if (strcmp(got.data, expected))
		fail_msg("%s:\n  expected %s\n  got      %s", c->name, expected,
			 got.data);

	/* The other way round: the same paths, old and new swapped. */
	assert_int_equal(resource_diff(&b, &a, ign, &back), 0);
	assert_int_equal(back.n, d.n);
	for (size_t i = 0; i < d.n; i++) {
		assert_string_equal(back.fields[i].path, d.fields[i].path);
		assert_true(ejson_equal(back.fields[i].old_value,
					d.fields[i].new_value));
		assert_true(ejson_equal(back.fields[i].new_value,
					d.fields[i].old_value));
	}

	/* The text walk says the same, both ways round. */
	xfree(diff_both_ways(&a, &b, ign));
	xfree(diff_both_ways(&b, &a, ign));

	/* "Modified" (fingerprint) and "has changes" (diff) agree. */
	fingerprint(&a, ign, fa);
	fingerprint(&b, ign, fb);
	if ((d.n == 0) != (memcmp(fa, fb, RESOURCE_FP_LEN) == 0))
		fail_msg("%s: diff has %zu changes but fingerprints %s",
			 c->name, d.n, d.n ? "are equal" : "differ");

	buf_release(&got);
	xfree(expected);
	xfree(expected_raw);
	resource_diff_release(&d);
	resource_diff_release(&back);
	resource_ignore_free(&ign);
	resource_release(&a);
	resource_release(&b);
}

/* ------------------------------------------------ diff on text: targeted */

/* A record with the given members besides the identity ("" for none). */
#define REC(members)                                                           \
	"{\"provider\":\"aws\",\"account\":\"1\",\"region\":\"r\","            \
	"\"type\":\"vm\",\"id\":\"x\"" members "}"

static void parse_rec(const char *json, struct resource *r)
{
	struct elava_error err = {0};

	resource_init(r);
	if (resource_from_json(json, strlen(json), r, &err))
		fail_msg("'%s': %s", json, err.msg);
}

static struct resource_ignore *rules_of(const char *const *rules)
{
	struct resource_ignore *ign = resource_ignore_new();

	for (size_t i = 0; rules && rules[i]; i += 2)
		if (resource_ignore_add(ign, rules[i], rules[i + 1]))
			fail_msg("bad rule '%s'", rules[i + 1]);
	return ign;
}

static void test_diff_text_cases(void **state)
{
	/* Ignore rules: (type, path) pairs. */
	static const char *const deep_rules[] = {
	    "vm",    "attributes.a.b",
	    "*",     "attributes.arr[1]",
	    "vm",    "attributes.arr[2].x",
	    "vm",    "attributes[\"q\\\"k\"]",
	    "vm",    "attributes[\"d.e\"].f[0]",
	    "vm",    "tags.Env",
	    "other", "attributes.c",
	    "other", "status",
	    "vm",    "relationships[0].target",
	    "*",     "created_at",
	    NULL,
	};
	static const char *const top_rules[] = {
	    "*",  "attributes", "vm", "tags",	"vm", "relationships",
	    "vm", "name",	"*",  "status", NULL,
	};
	static const char *const rel_rules[] = {"vm", "relationships[1]", NULL};
	static const struct {
		const char *name, *old, *new;
		const char *const *rules;
		const char *expected; /* NULL: only compared with the parser */
	} cases[] = {
	    {"escaped keys",
	     REC(",\"attributes\":{\"q\\\"uote\":1,\"back\\\\slash\":2,"
		 "\"ctl\\u0001\":3,\"\\u00e9t\\u00e9\":4,\"a\\\"\":5,"
		 "\"a\\n\":7,\"a\\/b\":9},\"tags\":{\"t\\\"ag\":\"v\","
		 "\"\\t\":\"1\"}"),
	     REC(",\"attributes\":{\"q\\\"uote\":10,\"back\\\\slash\":20,"
		 "\"ctl\\u0001\":30,\"\xc3\xa9t\xc3\xa9\":40,\"a#\":6,"
		 "\"a!\":8,\"a/b\":9},\"tags\":{\"t\\\"ag\":\"w\","
		 "\"\\t\":\"2\"}"),
	     NULL,
	     /* Unescaped order: a\n < a! < a" < a# (escaped, a\" and
	      * a\n would sort after a# and a!). */
	     "[{\"new\":null,\"old\":7,\"path\":\"attributes.a\\n\"},"
	     "{\"new\":8,\"old\":null,\"path\":\"attributes.a!\"},"
	     "{\"new\":null,\"old\":5,\"path\":"
	     "\"attributes[\\\"a\\\\\\\"\\\"]\"},"
	     "{\"new\":6,\"old\":null,\"path\":\"attributes.a#\"},"
	     "{\"new\":20,\"old\":2,\"path\":"
	     "\"attributes[\\\"back\\\\\\\\slash\\\"]\"},"
	     "{\"new\":30,\"old\":3,\"path\":\"attributes.ctl\\u0001\"},"
	     "{\"new\":10,\"old\":1,\"path\":"
	     "\"attributes[\\\"q\\\\\\\"uote\\\"]\"},"
	     "{\"new\":40,\"old\":4,\"path\":"
	     "\"attributes.\xc3\xa9t\xc3\xa9\"},"
	     "{\"new\":\"2\",\"old\":\"1\",\"path\":\"tags.\\t\"},"
	     "{\"new\":\"w\",\"old\":\"v\",\"path\":"
	     "\"tags[\\\"t\\\\\\\"ag\\\"]\"}]"},
	    {"arrays of different lengths",
	     REC(",\"attributes\":{\"l\":[1,2,3],\"m\":[],"
		 "\"n\":[[1],[2,3]],"
		 "\"o\":[{\"a\":1},{\"b\":[true]}]}"),
	     REC(",\"attributes\":{\"l\":[1],\"m\":[{\"a\":1}],"
		 "\"n\":[[1,4],[2]],\"o\":[{\"a\":1}]}"),
	     NULL, NULL},
	    {"nested kind changes",
	     REC(",\"attributes\":{\"k\":{\"a\":{\"b\":1},\"c\":[1],"
		 "\"d\":\"s\",\"e\":true,\"f\":null,\"g\":1.5,\"h\":{},"
		 "\"i\":[]}}"),
	     REC(",\"attributes\":{\"k\":{\"a\":[1],\"c\":{\"x\":1},"
		 "\"d\":1,\"e\":null,\"f\":false,\"g\":\"1.5\",\"h\":[],"
		 "\"i\":{}}}"),
	     NULL, NULL},
	    {"numbers",
	     REC(",\"attributes\":{\"n\":[1,1.5,1e300,-2,0.1,"
		 "123456789012345678,-9223372036854775808,2.5e-320,"
		 "4.35],\"x\":{\"r\":[0.1,-7.25e-10]}}"),
	     REC(",\"attributes\":{\"n\":[1.0,2.5,1e301,-2.0,"
		 "0.30000000000000004,9007199254740993,"
		 "9223372036854775807,2.5e-320,4.3500000000000005],"
		 "\"y\":{\"r\":[1e22,123.456]}}"),
	     NULL, NULL},
	    {"ignore rules at several depths",
	     REC(",\"status\":\"a\","
		 "\"created_at\":\"2026-01-01T00:00:00Z\","
		 "\"tags\":{\"Env\":\"prod\",\"Team\":\"x\"},"
		 "\"relationships\":[{\"type\":\"t\",\"target\":\"a\"},"
		 "{\"type\":\"u\",\"target\":\"b\"}],"
		 "\"attributes\":{\"a\":{\"b\":1,\"c\":2},"
		 "\"arr\":[1,2,{\"x\":1,\"y\":1},4],\"q\\\"k\":1,"
		 "\"d.e\":{\"f\":[1,2]},\"c\":1}"),
	     REC(",\"status\":\"b\","
		 "\"created_at\":\"2026-01-02T00:00:00Z\","
		 "\"tags\":{\"Env\":\"dev\",\"Team\":\"y\"},"
		 "\"relationships\":[{\"type\":\"t\",\"target\":\"c\"},"
		 "{\"type\":\"u\",\"target\":\"d\"}],"
		 "\"attributes\":{\"a\":{\"b\":[2],\"c\":3},"
		 "\"arr\":[1,3,{\"x\":2,\"y\":2}],\"q\\\"k\":2,"
		 "\"d.e\":{\"f\":[3,4]},\"c\":2}"),
	     deep_rules,
	     "[{\"new\":3,\"old\":2,\"path\":\"attributes.a.c\"},"
	     "{\"new\":2,\"old\":1,\"path\":\"attributes.arr[2].y\"},"
	     "{\"new\":null,\"old\":4,\"path\":\"attributes.arr[3]\"},"
	     "{\"new\":2,\"old\":1,\"path\":\"attributes.c\"},"
	     "{\"new\":4,\"old\":2,\"path\":"
	     "\"attributes[\\\"d.e\\\"].f[1]\"},"
	     "{\"new\":\"d\",\"old\":\"b\",\"path\":"
	     "\"relationships[1].target\"},"
	     "{\"new\":\"b\",\"old\":\"a\",\"path\":\"status\"},"
	     "{\"new\":\"y\",\"old\":\"x\",\"path\":\"tags.Team\"}]"},
	    {"top-level fields ignored",
	     REC(",\"name\":\"n\",\"status\":\"a\",\"tags\":{\"a\":\"1\"},"
		 "\"relationships\":[{\"type\":\"t\",\"target\":\"a\"}],"
		 "\"attributes\":{\"a\":1},"
		 "\"created_at\":\"2026-01-01T00:00:00Z\""),
	     REC(",\"status\":\"b\",\"tags\":{\"b\":\"1\"},"
		 "\"attributes\":{\"a\":[1]}"),
	     top_rules,
	     "[{\"new\":null,\"old\":\"2026-01-01T00:00:00.000Z\","
	     "\"path\":\"created_at\"}]"},
	    {"relationships",
	     REC(",\"relationships\":[{\"type\":\"attached\",\"target\":"
		 "\"aws:1:r:disk:d-1\"},{\"type\":\"uses\",\"target\":"
		 "\"aws:1:r:sg:sg-1\"}]"),
	     REC(",\"relationships\":[{\"type\":\"attached\",\"target\":"
		 "\"aws:1:r:disk:d-2\"},{\"type\":\"uses\",\"target\":"
		 "\"aws:1:r:sg:sg-1\"},{\"type\":\"uses\",\"target\":"
		 "\"aws:1:r:sg:sg-\\\"2\"}]"),
	     NULL, NULL},
	    {"relationships all gone",
	     REC(",\"relationships\":[{\"type\":\"a\",\"target\":\"b\"},"
		 "{\"type\":\"a\",\"target\":\"c\"}]"),
	     REC(""), NULL, NULL},
	    {"relationships, one ignored",
	     REC(",\"relationships\":[{\"type\":\"a\",\"target\":\"b\"},"
		 "{\"type\":\"a\",\"target\":\"c\"}]"),
	     REC(",\"relationships\":[{\"type\":\"a\",\"target\":\"b\"}]"),
	     rel_rules, "[]"},
	    {"created_at, name, status set and unset",
	     REC(",\"created_at\":\"2026-01-01T00:00:00.5+02:00\","
		 "\"name\":\"n\",\"status\":null"),
	     REC(",\"created_at\":null,\"status\":\"s\""), NULL,
	     "[{\"new\":null,\"old\":\"2025-12-31T22:00:00.500Z\","
	     "\"path\":\"created_at\"},"
	     "{\"new\":null,\"old\":\"n\",\"path\":\"name\"},"
	     "{\"new\":\"s\",\"old\":null,\"path\":\"status\"}]"},
	    {"empty containers",
	     REC(",\"attributes\":{\"a\":{},\"b\":[],\"c\":{\"d\":[]}}"),
	     REC(",\"attributes\":{\"a\":{\"x\":{}},\"b\":[[]],"
		 "\"c\":{\"d\":{}},\"e\":\"\"}"),
	     NULL, NULL},
	    {"tags",
	     REC(",\"tags\":{\"Env\":\"prod\",\"gone\":\"x\",\"a.b\":\"1\","
		 "\"same\":\"\\u0007\"}"),
	     REC(",\"tags\":{\"Env\":\"dev\",\"new\":\"y\\ny\","
		 "\"a.b\":\"2\",\"same\":\"\\u0007\"}"),
	     NULL, NULL},
	};
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(cases); i++) {
		struct resource_ignore *ign = rules_of(cases[i].rules);
		struct resource ra, rb;
		char *got;

		parse_rec(cases[i].old, &ra);
		parse_rec(cases[i].new, &rb);
		got = diff_both_ways(&ra, &rb, ign);
		xfree(diff_both_ways(&rb, &ra, ign));
		if (cases[i].expected && strcmp(got, cases[i].expected))
			fail_msg("%s:\n  expected %s\n  got      %s",
				 cases[i].name, cases[i].expected, got);
		if (!cases[i].expected && !strcmp(got, "[]"))
			fail_msg("%s: no change found", cases[i].name);
		xfree(got);
		resource_release(&ra);
		resource_release(&rb);
		resource_ignore_free(&ign);
	}
}

/* A canonical record whose attributes are `attrs` (and identity). */
#define CANON(attrs)                                                           \
	"{\"account\":\"1\",\"attributes\":" attrs ",\"created_at\":null,"     \
	"\"id\":\"x\",\"name\":null,\"provider\":\"aws\",\"region\":\"r\","    \
	"\"relationships\":[],\"status\":null,\"tags\":{},\"type\":\"vm\"}"
/* The same with the other members after attributes given whole. */
#define CANON2(attrs, rest)                                                    \
	"{\"account\":\"1\",\"attributes\":" attrs rest ",\"type\":\"vm\"}"
#define REST(created, name, rels, status, tags)                                \
	",\"created_at\":" created ",\"id\":\"x\",\"name\":" name              \
	",\"provider\":\"aws\",\"region\":\"r\",\"relationships\":" rels       \
	",\"status\":" status ",\"tags\":" tags

/* Refused, both ways round, leaving out as it was. */
static void expect_refused(const char *bad, size_t badlen, const char *good,
			   int code)
{
	struct buf out;
	int rc;

	buf_init(&out, 0);
	buf_puts(&out, "keep");
	rc = resource_diff_canonical(bad, badlen, good, strlen(good), NULL,
				     "vm", &out);
	if (rc != code || out.len != 4 || strcmp(out.data, "keep"))
		fail_msg("'%.*s' as old: rc %d, out '%s'", (int)badlen, bad, rc,
			 out.data);
	rc = resource_diff_canonical(good, strlen(good), bad, badlen, NULL,
				     "vm", &out);
	if (rc != code || out.len != 4 || strcmp(out.data, "keep"))
		fail_msg("'%.*s' as new: rc %d, out '%s'", (int)badlen, bad, rc,
			 out.data);
	buf_release(&out);
}

static void test_diff_text_refused(void **state)
{
	/* Each differs from `good` at attributes.a, so values are compared. */
	static const char good[] = CANON("{\"a\":2}");
	static const char *const bad[] = {
	    /* not well-formed */
	    "",
	    "   ",
	    "[]",
	    "{",
	    CANON("{\"a\":}"),
	    CANON("{\"a\":[1,]}"),
	    CANON("{\"a\":{\"b\":1,}}"),
	    CANON("{\"a\":[1}"),
	    CANON("{\"a\":{\"b\":1]}"),
	    CANON("{\"a\" 1}"),
	    CANON("{\"a\":1}}"),
	    CANON("{\"a\":tru}"),
	    CANON("{\"a\":nul}"),
	    CANON("{\"a\":01}"),
	    CANON("{\"a\":1.}"),
	    CANON("{\"a\":.5}"),
	    CANON("{\"a\":1e}"),
	    CANON("{\"a\":-}"),
	    CANON("{\"a\":+1}"),
	    CANON("{\"a\":\"\\x\"}"),
	    CANON("{\"a\":\"\\u00\"}"),
	    CANON("{\"a\":\"\\u12G4\"}"),
	    CANON("{\"a\":\"\x01\"}"),
	    CANON("{\"a\":\"\xff\"}"),
	    CANON("{\"a\":\"\xc3\"}"),
	    CANON("{\"a\":\"\xed\xa0\x80\"}"), /* a surrogate in UTF-8 */
	    CANON("{\"a\":\"unterminated}"),
	    CANON("{\"a\":1}") "x",
	    CANON("{\"a\":1}") CANON("{\"a\":1}"),
	    /* well-formed, not canonical */
	    CANON("{\"b\":1,\"a\":1}"),
	    CANON("{\"a\":1,\"a\":1}"),
	    CANON("{\"a\":\"\\/\"}"),
	    CANON("{\"a\":\"\\u0041\"}"),
	    CANON("{\"a\":\"\\u001F\"}"),
	    CANON("{\"a\":\"\\u000a\"}"),
	    CANON("{\"a\":\"\\u0000\"}"),
	    CANON("{\"a\":\"\\ud83d\\ude00\"}"),
	    CANON("{\"a\":1.0}"),
	    CANON("{\"a\":1e2}"),
	    CANON("{\"a\":1E+300}"),
	    CANON("{\"a\":0.10}"),
	    CANON("{\"a\":1e999}"),
	    CANON("{\"a\":-0}"),
	    CANON("{\"a\":-0.0}"),
	    CANON("{\"a\":9223372036854775808}"),
	    CANON("{\"a\":-9223372036854775809}"),
	    CANON("{\"a\":123456789012345678901}"),
	    CANON("{\"a\":{\"b\":1.50}}"), /* emitted whole */
	    CANON("{\"a\":[0.30000000000000000]}"),
	    /* not the record's shape */
	    "{\"account\":\"1\",\"attributes\":{\"a\":1}}",
	    CANON2("{\"a\":1}", ",\"created_at\":null,\"id\":\"x\","
				"\"name\":null,\"provider\":\"aws\","
				"\"region\":\"r\",\"relationships\":[],"
				"\"tags\":{}"), /* no status */
	    CANON2("{\"a\":1}",
		   ",\"color\":1" REST("null", "null", "[]", "null", "{}")),
	    "{\"attributes\":{\"a\":1},\"account\":\"1\"" REST(
		"null", "null", "[]", "null", "{}") ",\"type\":\"vm\"}",
	    CANON2("{\"a\":1}", REST("null", "null", "[]", "null",
				     "{}")) ",\"type\":\"vm\"}",
	    CANON2("[]", REST("null", "null", "[]", "null", "{}")),
	    CANON2("null", REST("null", "null", "[]", "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null", "[]", "null", "null")),
	    CANON2("{\"a\":1}",
		   REST("null", "null", "[]", "null", "{\"k\":1}")),
	    CANON2("{\"a\":1}",
		   REST("null", "null", "[]", "null", "{\"k\":null}")),
	    CANON2("{\"a\":1}", REST("null", "null", "null", "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null", "{}", "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null", "[1]", "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null", "[{}]", "null", "{}")),
	    CANON2("{\"a\":1}",
		   REST("null", "null", "[{\"target\":\"a\"}]", "null", "{}")),
	    CANON2("{\"a\":1}",
		   REST("null", "null",
			"[{\"target\":\"a\",\"type\":\"t\",\"z\":1}]", "null",
			"{}")),
	    CANON2("{\"a\":1}",
		   REST("null", "null", "[{\"target\":1,\"type\":\"t\"}]",
			"null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null",
				     "[{\"target\":\"b\",\"type\":\"t\"},"
				     "{\"target\":\"a\",\"type\":\"t\"}]",
				     "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null",
				     "[{\"target\":\"a\",\"type\":\"u\"},"
				     "{\"target\":\"b\",\"type\":\"t\"}]",
				     "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null",
				     "[{\"target\":\"a\",\"type\":\"t\"},"
				     "{\"target\":\"a\",\"type\":\"t\"}]",
				     "null", "{}")),
	    CANON2("{\"a\":1}", REST("\"2026-01-01T00:00:00Z\"", "null", "[]",
				     "null", "{}")),
	    CANON2("{\"a\":1}", REST("\"2026-01-01T00:00:00.000+00:00\"",
				     "null", "[]", "null", "{}")),
	    CANON2("{\"a\":1}", REST("\"1970-01-01T00:00:00.000Z\"", "null",
				     "[]", "null", "{}")),
	    CANON2("{\"a\":1}",
		   REST("\"yesterday\"", "null", "[]", "null", "{}")),
	    CANON2("{\"a\":1}", REST("0", "null", "[]", "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "1", "[]", "null", "{}")),
	    CANON2("{\"a\":1}", REST("null", "null", "[]", "false", "{}")),
	    "{\"account\":1,\"attributes\":{\"a\":1}" REST(
		"null", "null", "[]", "null", "{}") ",\"type\":\"vm\"}",
	};
	struct buf out;
	(void)state;

	for (size_t i = 0; i < ARRAY_SIZE(bad); i++)
		expect_refused(bad[i], strlen(bad[i]), good, ELAVA_E_PARSE);
	expect_refused(NULL, 0, good, ELAVA_E_PARSE);

	/* Every truncation of a real record. */
	{
		struct resource r;
		char *j;
		size_t n;

		make_instance(&r);
		resource_tag_set(&r, "q\"k\x01", "\xc3\xa9");
		j = to_json(&r);
		n = strlen(j);
		for (size_t len = 0; len < n; len++)
			expect_refused(j, len, good, ELAVA_E_PARSE);
		xfree(j);
		resource_release(&r);
	}

	/* Too long for a record, and too much for out's cap. */
	{
		size_t big = RESOURCE_MAX_JSON + 1;
		char *huge = xmalloc(big);

		memset(huge, ' ', big);
		memcpy(huge, good, strlen(good));
		expect_refused(huge, big, good, ELAVA_E_TOOBIG);
		xfree(huge);
	}
	buf_init(&out, 8);
	buf_puts(&out, "keep");
	assert_int_equal(resource_diff_canonical(
			     good, strlen(good), CANON("{\"a\":3}"),
			     strlen(CANON("{\"a\":3}")), NULL, "vm", &out),
			 ELAVA_E_TOOBIG);
	assert_string_equal(out.data, "keep");
	buf_release(&out);
}

/*
 * Nesting: the text walk accepts exactly what resource_from_json accepts
 * (EJSON_MAX_DEPTH as ejson_parse counts it) and refuses a depth bomb.
 */
static void test_diff_text_depth(void **state)
{
	(void)state;

	for (size_t k = 55; k <= 70; k++) {
		struct buf a, b, out;
		struct resource ra;
		int parsed, rc;

		buf_init(&a, 0);
		buf_init(&b, 0);
		buf_init(&out, 0);
		for (int side = 0; side < 2; side++) {
			struct buf *t = side ? &b : &a;

			buf_puts(t, "{\"account\":\"1\","
				    "\"attributes\":{\"a\":");
			for (size_t i = 0; i < k; i++)
				buf_puts(t, "[");
			buf_puts(t, side ? "2" : "1");
			for (size_t i = 0; i < k; i++)
				buf_puts(t, "]");
			buf_puts(t, "}" REST("null", "null", "[]", "null",
					     "{}") ",\"type\":\"vm\"}");
		}
		resource_init(&ra);
		parsed = resource_from_json(a.data, a.len, &ra, NULL);
		rc = resource_diff_canonical(a.data, a.len, b.data, b.len, NULL,
					     "vm", &out);
		if (parsed == 0) {
			struct resource rb;
			char *want;

			assert_int_equal(rc, 0);
			parse_rec(b.data, &rb);
			want = diff_both_ways(&ra, &rb, NULL);
			assert_string_equal(out.data, want);
			xfree(want);
			resource_release(&rb);
		} else {
			assert_int_equal(parsed, ELAVA_E_TOOBIG);
			assert_int_equal(rc, ELAVA_E_PARSE);
			assert_int_equal(out.len, 0);
		}
		resource_release(&ra);
		buf_release(&a);
		buf_release(&b);
		buf_release(&out);
	}

	/* A bomb: deep enough to overflow a stack that recursed blindly. */
	{
		size_t n = 1000000;
		struct buf bomb;

		buf_init(&bomb, 0);
		buf_puts(&bomb, "{\"account\":\"1\",\"attributes\":{\"a\":");
		for (size_t i = 0; i < n; i++)
			buf_putc(&bomb, '[');
		expect_refused(bomb.data, bomb.len, CANON("{}"), ELAVA_E_PARSE);
		buf_release(&bomb);
	}
}

static int cmp_names(const void *a, const void *b)
{
	return strcmp(((const struct diff_case *)a)->name,
		      ((const struct diff_case *)b)->name);
}

static size_t load_cases(const char *root, struct diff_case **out)
{
	struct diff_case *cases = NULL;
	DIR *dir = opendir(root);
	struct dirent *e;
	size_t n = 0;

	if (!dir) {
		fprintf(stderr, "cannot open diff cases '%s'\n", root);
		exit(1);
	}
	while ((e = readdir(dir))) {
		struct buf p;

		if (e->d_name[0] == '.')
			continue;
		buf_init(&p, 0);
		buf_printf(&p, "%s/%s", root, e->d_name);
		cases = xrealloc(cases, st_mult(n + 1, sizeof(*cases)));
		cases[n].dir = buf_detach(&p, NULL);
		cases[n].name = xstrdup(e->d_name);
		n++;
	}
	closedir(dir);
	qsort(cases, n, sizeof(*cases), cmp_names);
	*out = cases;
	return n;
}

int main(int argc, char **argv)
{
	static const struct CMUnitTest fixed[] = {
	    cmocka_unit_test(test_canonical_exact),
	    cmocka_unit_test(test_canonical_order_independent),
	    cmocka_unit_test(test_round_trip),
	    cmocka_unit_test(test_from_json_optional_fields),
	    cmocka_unit_test(test_from_json_errors),
	    cmocka_unit_test(test_fingerprint_changes),
	    cmocka_unit_test(test_fingerprint_is_sha_of_json),
	    cmocka_unit_test(test_fingerprint_ignored),
	    cmocka_unit_test(test_encode_too_big),
	    cmocka_unit_test(test_validate_errors),
	    cmocka_unit_test(test_tags_and_rels),
	    cmocka_unit_test(test_key_and_scope),
	    cmocka_unit_test(test_ignore_rules),
	    cmocka_unit_test(test_diff_self_and_copies),
	    cmocka_unit_test(test_diff_text_cases),
	    cmocka_unit_test(test_diff_text_refused),
	    cmocka_unit_test(test_diff_text_depth),
	};
	struct diff_case *cases = NULL;
	struct CMUnitTest *tests;
	size_t ncases = 0, n = ARRAY_SIZE(fixed);
	int rc;

	if (argc != 2) {
		fprintf(stderr, "usage: %s <diff-cases-dir>\n", argv[0]);
		return 2;
	}
	ncases = load_cases(argv[1], &cases);
	if (ncases == 0) {
		fprintf(stderr, "no diff cases in '%s'\n", argv[1]);
		return 1;
	}
	tests = xcalloc(n + ncases, sizeof(*tests));
	memcpy(tests, fixed, sizeof(fixed));
	for (size_t i = 0; i < ncases; i++) {
		tests[n + i].name = cases[i].name;
		tests[n + i].test_func = test_diff_case;
		tests[n + i].initial_state = &cases[i];
	}
	rc = _cmocka_run_group_tests("resource", tests, n + ncases, NULL, NULL);
	for (size_t i = 0; i < ncases; i++) {
		xfree(cases[i].dir);
		xfree(cases[i].name);
	}
	xfree(cases);
	xfree(tests);
	return rc;
}
