/*
 * Fuzz target: one listing response page, as the AWS provider reads it
 * (aws_list_page: the streamed XML walk or the JSON parse, then every
 * path of the type's table, tags, times, relationships), with no client —
 * hooks that would call AWS fail cleanly with ELAVA_E_UNSUPPORTED.
 *
 * The first byte picks the type; the rest is the page. Types 0-3 are the
 * fuzz-only entries below, one per protocol shape and every field kind
 * (so the seeds keep their meaning as the provider's tables grow); from 4
 * on, the provider's own types in aws_type_at order (the corpus's
 * table_<type> pages, captured from the emulator, carry the index their
 * type had then). Every record
 * delivered must serialise (resource_to_json), and one that validates must
 * read back from that JSON and serialise to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/aws/list_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* 0: JSON protocol, tags as a Key/Value list (Secrets Manager). */
static const struct aws_field secret_fields[] = {
    {"arn", "ARN", AWS_STR},
    {"kms_key_id", "KmsKeyId", AWS_STR},
    {"rotation_enabled", "RotationEnabled", AWS_BOOL},
    {"rotation_days", "RotationRules/AutomaticallyAfterDays", AWS_INT},
    {"last_changed", "LastChangedDate", AWS_TIME},
    {"deleted", "DeletedDate", AWS_EXISTS},
    {"regions", "ReplicationStatus[]/Region", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel secret_rels[] = {
    {"uses_key", "KmsKeyId", "kms_key"},
    {NULL, NULL, NULL},
};

/* 1: REST JSON, tags as a {key: value} object (Lambda). */
static const struct aws_field function_fields[] = {
    {"arn", "FunctionArn", AWS_STR},
    {"runtime", "Runtime", AWS_STR},
    {"memory_mb", "MemorySize", AWS_INT},
    {"timeout_s", "Timeout", AWS_INT},
    {"vpc_id", "VpcConfig/VpcId", AWS_STR},
    {"subnet_ids", "VpcConfig/SubnetIds[]", AWS_STRS},
    {"architectures", "Architectures[]", AWS_STRS},
    {"layers", "Layers[]/Arn", AWS_STRS},
    {"tracing", "TracingConfig/Mode", AWS_STR},
    {"snap_start", "SnapStart/ApplyOn", AWS_EXISTS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel function_rels[] = {
    {"uses_role", "Role", "iam_role"},
    {"in_subnet", "VpcConfig/SubnetIds[]", "subnet"},
    {"uses_security_group", "VpcConfig/SecurityGroupIds[]", "security_group"},
    {NULL, NULL, NULL},
};

/* 2: query protocol XML, <member> lists (ELBv2). */
static const struct aws_field lb_fields[] = {
    {"arn", "LoadBalancerArn", AWS_STR},
    {"type", "Type", AWS_STR},
    {"scheme", "Scheme", AWS_STR},
    {"dns_name", "DNSName", AWS_STR},
    {"vpc_id", "VpcId", AWS_STR},
    {"public", "Scheme", AWS_EXISTS},
    {"availability_zones", "AvailabilityZones/member[]/ZoneName", AWS_STRS},
    {"created", "CreatedTime", AWS_TIME},
    {"count", "IpAddressType", AWS_INT},
    {"dual", "EnablePrefixForIpv6SourceNat", AWS_BOOL},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel lb_rels[] = {
    {"in_vpc", "VpcId", "vpc"},
    {"in_subnet", "AvailabilityZones/member[]/SubnetId", "subnet"},
    {"uses_security_group", "SecurityGroups/member[]", "security_group"},
    {NULL, NULL, NULL},
};

/* 3: REST XML (S3 ListBuckets). */
static const struct aws_field bucket_fields[] = {
    {"region", "BucketRegion", AWS_STR},
    {"created", "CreationDate", AWS_TIME},
    {NULL, NULL, AWS_STR},
};

static const struct aws_type local_types[] = {
    {
	.type = "fuzz_secret",
	.svc = &aws_svc_secretsmanager,
	.operation = "ListSecrets",
	.token_in = "NextToken",
	.token_out = "NextToken",
	.items = "SecretList[]",
	.id = "ARN",
	.name = "Name",
	.created = "CreatedDate",
	.tags = {"Tags[]", "Key", "Value"},
	.fields = secret_fields,
	.rels = secret_rels,
    },
    {
	.type = "fuzz_function",
	.svc = &aws_svc_lambda,
	.operation = "ListFunctions",
	.params = "/2015-03-31/functions/",
	.token_in = "Marker",
	.token_out = "NextMarker",
	.items = "Functions[]",
	.id = "FunctionName",
	.status = "State",
	.created = "LastModified",
	.tags = {"Tags", NULL, NULL},
	.fields = function_fields,
	.rels = function_rels,
    },
    {
	.type = "fuzz_lb",
	.svc = &aws_svc_elbv2,
	.operation = "DescribeLoadBalancers",
	.token_in = "Marker",
	.token_out = "NextMarker",
	.items = "LoadBalancers/member",
	.id = "LoadBalancerArn",
	.name = "LoadBalancerName",
	.status = "State/Code",
	.created = "CreatedTime",
	.tags = {"Tags/member[]", "Key", "Value"},
	.fields = lb_fields,
	.rels = lb_rels,
    },
    {
	.type = "fuzz_bucket",
	.svc = &aws_svc_s3,
	.operation = "ListBuckets",
	.params = "/",
	.token_in = "continuation-token",
	.token_out = "ContinuationToken",
	.items = "Buckets/Bucket",
	.id = "Name",
	.created = "CreationDate",
	.fields = bucket_fields,
    },
};

static int emit(struct aws_list_ctx *lc, const struct resource *r)
{
	struct buf a, b;
	struct resource again;
	int rc;

	(void)lc;
	buf_init(&a, 0);
	buf_init(&b, 0);
	resource_init(&again);
	rc = resource_to_json(r, &a);
	if (rc && rc != ELAVA_E_TOOBIG)
		abort();
	if (!rc && !resource_validate(r, NULL)) {
		if (resource_from_json(a.data, a.len, &again, NULL) ||
		    resource_to_json(&again, &b) || a.len != b.len ||
		    memcmp(a.data, b.data, a.len))
			abort();
	}
	resource_release(&again);
	buf_release(&a);
	buf_release(&b);
	return 0;
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	size_t nlocal = ARRAY_SIZE(local_types);
	const struct aws_type *t;
	struct aws_list_ctx lc;
	struct elava_error err = {0};
	struct buf token;
	size_t at;
	int rc;

	if (size < 1)
		return 0;
	at = data[0] % (nlocal + aws_type_count());
	t = at < nlocal ? &local_types[at] : aws_type_at(at - nlocal);
	aws_list_ctx_init(&lc, NULL, "123456789012",
			  (t->flags & AWS_GLOBAL) ? "global" : "us-east-1");
	lc.t = t;
	lc.type = t->type;
	lc.emit = emit;
	lc.err = &err;
	buf_init(&token, 0);
	rc = aws_list_page(&lc, (const char *)data + 1, size - 1, &token, &err);
	/* An error says what it is; a token is a string. */
	if (rc < 0 && (!err.msg[0] || err.code != rc))
		abort();
	if (token.data && token.data[token.len] != '\0')
		abort();
	buf_release(&token);
	aws_list_ctx_release(&lc);
	return 0;
}
