/*
 * The types listed through the query protocols (form POST with Action and
 * Version, XML answers in <Op>Response/<Op>Result, lists as <member> or a
 * named element): Elastic Load Balancing v2, Auto Scaling, RDS, IAM, SNS,
 * ElastiCache and CloudFormation. The hooks below add what the list calls
 * do not return: tags from a second call (elbv2, SNS, ElastiCache), IAM
 * roles and users read whole by GetRole/GetUser, SNS topic attributes, and
 * values the tables cannot derive by a path (comma-separated subnet lists,
 * ids inside ARNs, an IAM trust policy's principals).
 */
#include "list_int.h"

#include <stdlib.h>
#include <string.h>

/* ---------------------------------------------------------------- helpers */

#define MEMBER_TAGS                                                            \
	{                                                                      \
		"Tags/member[]", "Key", "Value"                                \
	}

static void rel_add(struct aws_list_ctx *lc, const char *rel, const char *type,
		    const char *id)
{
	if (id && *id)
		resource_rel_add(&lc->r, rel, aws_related_key(lc, type, id));
}

/* The part of s after its last sep (all of s when it has none). */
static const char *after_last(const char *s, char sep)
{
	const char *p = strrchr(s, sep);

	return p ? p + 1 : s;
}

/*
 * A KMS key's id from what APIs write in KmsKeyId: a key ARN
 * ("arn:aws:kms:<region>:<account>:key/<id>") or a bare key id. NULL for an
 * alias or an alias ARN, which name no key by themselves.
 */
static const char *kms_key_id(const char *s)
{
	const char *k = strstr(s, ":key/");

	if (k)
		return k[5] ? k + 5 : NULL;
	if (!*s || !strncmp(s, "arn:", 4) || !strncmp(s, "alias/", 6))
		return NULL;
	return s;
}

/* A uses_key relationship from the key id or ARN at path, when any. */
static void key_rel(struct aws_list_ctx *lc, const struct aws_node *n,
		    const char *path)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	if (aws_node_text(n, path, &b) && b.len)
		rel_add(lc, "uses_key", "kms_key", kms_key_id(b.data));
	buf_release(&b);
}

/* A uses_role relationship to the role an IAM role ARN at path names. */
static void role_rel(struct aws_list_ctx *lc, const struct aws_node *n,
		     const char *path)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	if (aws_node_text(n, path, &b) && strstr(b.data, ":role/"))
		rel_add(lc, "uses_role", "iam_role", after_last(b.data, '/'));
	buf_release(&b);
}

static int add_tag(const struct aws_node *n, void *ud)
{
	struct aws_list_ctx *lc = ud;
	struct buf k = BUF_INIT, v = BUF_INIT;

	buf_init(&k, 0);
	buf_init(&v, 0);
	if (aws_node_text(n, "Key", &k) && k.len)
		resource_tag_set(&lc->r, k.data,
				 aws_node_text(n, "Value", &v) ? v.data : "");
	buf_release(&k);
	buf_release(&v);
	return 0;
}

/*
 * Tags from one call of the type's service whose answer lists Key/Value
 * elements at path. A resource deleted meanwhile gives ELAVA_E_NOTFOUND
 * (the engine skips it).
 */
static int call_tags(struct aws_list_ctx *lc, const char *operation,
		     const char *param, const char *value, const char *path,
		     struct elava_error *err)
{
	struct buf p = BUF_INIT;
	struct aws_doc doc;
	int rc;

	buf_init(&p, 0);
	aws_query_param(&p, param, value);
	rc = aws_call(lc, lc->t->svc, NULL, NULL, operation, p.data, &doc, err);
	if (!rc)
		aws_node_each(&doc.root, path, add_tag, lc);
	aws_doc_release(&doc);
	buf_release(&p);
	return rc;
}

/* ------------------------------------------------------------- elbv2 */

/*
 * elbv2 DescribeTags, one resource per call. It takes up to 20 ARNs, but
 * the engine hands hooks one record at a time (pages are streamed), so
 * batching would need a page hook in the engine.
 */
static int elbv2_tags(struct aws_list_ctx *lc, struct elava_error *err)
{
	return call_tags(lc, "DescribeTags", "ResourceArns.member.1", lc->r.id,
			 "DescribeTagsResult/TagDescriptions/member/Tags/"
			 "member[]",
			 err);
}

static int load_balancer_enrich(struct aws_list_ctx *lc,
				const struct aws_node *item,
				struct elava_error *err)
{
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	aws_node_text(item, "Scheme", &b);
	ejson_object_set_take(
	    lc->r.attributes, "public",
	    ejson_bool(!strcmp(b.data ? b.data : "", "internet-facing")));
	buf_release(&b);
	return elbv2_tags(lc, err);
}

static int target_group_enrich(struct aws_list_ctx *lc,
			       const struct aws_node *item,
			       struct elava_error *err)
{
	return elbv2_tags(lc, err);
}

static const struct aws_field load_balancer_fields[] = {
    {"arn", "LoadBalancerArn", AWS_STR},
    {"type", "Type", AWS_STR},
    {"scheme", "Scheme", AWS_STR},
    {"dns_name", "DNSName", AWS_STR},
    {"ip_address_type", "IpAddressType", AWS_STR},
    {"vpc_id", "VpcId", AWS_STR},
    {"subnet_ids", "AvailabilityZones/member[]/SubnetId", AWS_STRS},
    {"availability_zones", "AvailabilityZones/member[]/ZoneName", AWS_STRS},
    {"security_groups", "SecurityGroups/member[]", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel load_balancer_rels[] = {
    {"in_vpc", "VpcId", "vpc"},
    {"in_subnet", "AvailabilityZones/member[]/SubnetId", "subnet"},
    {"uses_security_group", "SecurityGroups/member[]", "security_group"},
    {NULL, NULL, NULL},
};

static const struct aws_field target_group_fields[] = {
    {"arn", "TargetGroupArn", AWS_STR},
    {"protocol", "Protocol", AWS_STR},
    {"port", "Port", AWS_INT},
    {"target_type", "TargetType", AWS_STR},
    {"vpc_id", "VpcId", AWS_STR},
    {"health_check_path", "HealthCheckPath", AWS_STR},
    {"load_balancer_arns", "LoadBalancerArns/member[]", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel target_group_rels[] = {
    {"in_vpc", "VpcId", "vpc"},
    {NULL, NULL, NULL},
};

/* ------------------------------------------------------- autoscaling */

/* Subnets are one comma-separated string; the launch template may be in
 * the mixed instances policy instead. */
static int autoscaling_group_enrich(struct aws_list_ctx *lc,
				    const struct aws_node *item,
				    struct elava_error *err)
{
	static const char *const lt[][2] = {
	    {"launch_template_id", "LaunchTemplateId"},
	    {"launch_template_name", "LaunchTemplateName"},
	    {"launch_template_version", "Version"},
	};
	struct ejson *ids = ejson_array(), *v;
	struct aws_node mixed;
	struct buf b = BUF_INIT;

	buf_init(&b, 0);
	if (aws_node_text(item, "VPCZoneIdentifier", &b)) {
		for (char *s = b.data, *end; s && *s; s = end) {
			end = strchr(s, ',');
			if (end)
				*end++ = '\0';
			s += strspn(s, " ");
			s[strcspn(s, " ")] = '\0';
			if (!*s)
				continue;
			rel_add(lc, "in_subnet", "subnet", s);
			if ((v = ejson_string(s, strlen(s))))
				ejson_array_append_take(ids, v);
		}
	}
	ejson_object_set_take(lc->r.attributes, "subnet_ids", ids);
	if (!ejson_object_get(lc->r.attributes, "launch_template_id") &&
	    aws_node_get(item,
			 "MixedInstancesPolicy/LaunchTemplate/"
			 "LaunchTemplateSpecification",
			 &mixed))
		for (size_t i = 0; i < ARRAY_SIZE(lt); i++)
			if (aws_node_text(&mixed, lt[i][1], &b) && b.len)
				aws_attr_str(lc, lt[i][0], b.data);
	buf_release(&b);
	return 0;
}

static const struct aws_field autoscaling_group_fields[] = {
    {"arn", "AutoScalingGroupARN", AWS_STR},
    {"min_size", "MinSize", AWS_INT},
    {"max_size", "MaxSize", AWS_INT},
    {"desired_capacity", "DesiredCapacity", AWS_INT},
    {"launch_template_id", "LaunchTemplate/LaunchTemplateId", AWS_STR},
    {"launch_template_name", "LaunchTemplate/LaunchTemplateName", AWS_STR},
    {"launch_template_version", "LaunchTemplate/Version", AWS_STR},
    {"launch_configuration", "LaunchConfigurationName", AWS_STR},
    {"health_check_type", "HealthCheckType", AWS_STR},
    {"availability_zones", "AvailabilityZones/member[]", AWS_STRS},
    {"instance_ids", "Instances/member[]/InstanceId", AWS_STRS},
    {"target_group_arns", "TargetGroupARNs/member[]", AWS_STRS},
    {"load_balancer_names", "LoadBalancerNames/member[]", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

/* --------------------------------------------------------------- RDS */

static int rds_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct elava_error *err)
{
	key_rel(lc, item, "KmsKeyId");
	return 0;
}

#define RDS_TAGS                                                               \
	{                                                                      \
		"TagList/Tag[]", "Key", "Value"                                \
	}
#define RDS_SG                                                                 \
	"VpcSecurityGroups/VpcSecurityGroupMembership[]/VpcSecurityGroupId"

static const struct aws_field rds_instance_fields[] = {
    {"arn", "DBInstanceArn", AWS_STR},
    {"engine", "Engine", AWS_STR},
    {"engine_version", "EngineVersion", AWS_STR},
    {"instance_class", "DBInstanceClass", AWS_STR},
    {"allocated_storage", "AllocatedStorage", AWS_INT},
    {"storage_type", "StorageType", AWS_STR},
    {"encrypted", "StorageEncrypted", AWS_BOOL},
    {"kms_key_id", "KmsKeyId", AWS_STR},
    {"multi_az", "MultiAZ", AWS_BOOL},
    {"public", "PubliclyAccessible", AWS_BOOL},
    {"endpoint_address", "Endpoint/Address", AWS_STR},
    {"endpoint_port", "Endpoint/Port", AWS_INT},
    {"availability_zone", "AvailabilityZone", AWS_STR},
    {"vpc_id", "DBSubnetGroup/VpcId", AWS_STR},
    {"db_subnet_group", "DBSubnetGroup/DBSubnetGroupName", AWS_STR},
    {"subnet_ids", "DBSubnetGroup/Subnets/Subnet[]/SubnetIdentifier", AWS_STRS},
    {"security_groups", RDS_SG, AWS_STRS},
    {"cluster_id", "DBClusterIdentifier", AWS_STR},
    {"deletion_protection", "DeletionProtection", AWS_BOOL},
    {"backup_retention_period", "BackupRetentionPeriod", AWS_INT},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel rds_instance_rels[] = {
    {"in_vpc", "DBSubnetGroup/VpcId", "vpc"},
    {"uses_subnet", "DBSubnetGroup/Subnets/Subnet[]/SubnetIdentifier",
     "subnet"},
    {"uses_security_group", RDS_SG, "security_group"},
    {"member_of", "DBClusterIdentifier", "rds_cluster"},
    {NULL, NULL, NULL},
};

static const struct aws_field rds_cluster_fields[] = {
    {"arn", "DBClusterArn", AWS_STR},
    {"engine", "Engine", AWS_STR},
    {"engine_version", "EngineVersion", AWS_STR},
    {"engine_mode", "EngineMode", AWS_STR},
    {"encrypted", "StorageEncrypted", AWS_BOOL},
    {"kms_key_id", "KmsKeyId", AWS_STR},
    {"multi_az", "MultiAZ", AWS_BOOL},
    {"public", "PubliclyAccessible", AWS_BOOL},
    {"endpoint", "Endpoint", AWS_STR},
    {"reader_endpoint", "ReaderEndpoint", AWS_STR},
    {"port", "Port", AWS_INT},
    {"db_subnet_group", "DBSubnetGroup", AWS_STR},
    {"security_groups", RDS_SG, AWS_STRS},
    {"members", "DBClusterMembers/DBClusterMember[]/DBInstanceIdentifier",
     AWS_STRS},
    {"deletion_protection", "DeletionProtection", AWS_BOOL},
    {"backup_retention_period", "BackupRetentionPeriod", AWS_INT},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel rds_cluster_rels[] = {
    {"uses_security_group", RDS_SG, "security_group"},
    {NULL, NULL, NULL},
};

static const struct aws_field rds_snapshot_fields[] = {
    {"arn", "DBSnapshotArn", AWS_STR},
    {"instance_id", "DBInstanceIdentifier", AWS_STR},
    {"snapshot_type", "SnapshotType", AWS_STR},
    {"engine", "Engine", AWS_STR},
    {"engine_version", "EngineVersion", AWS_STR},
    {"allocated_storage", "AllocatedStorage", AWS_INT},
    {"storage_type", "StorageType", AWS_STR},
    {"encrypted", "Encrypted", AWS_BOOL},
    {"kms_key_id", "KmsKeyId", AWS_STR},
    {"vpc_id", "VpcId", AWS_STR},
    {"availability_zone", "AvailabilityZone", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel rds_snapshot_rels[] = {
    {"from_instance", "DBInstanceIdentifier", "rds_instance"},
    {"in_vpc", "VpcId", "vpc"},
    {NULL, NULL, NULL},
};

/* --------------------------------------------------------------- IAM */

/* Undo the percent-encoding (RFC 3986) IAM puts on policy documents. */
static void percent_decode(const char *s, struct buf *out)
{
	buf_reset(out);
	for (; *s; s++) {
		int hi, lo;
		if (*s == '%' && (hi = hex_digit(s[1])) >= 0 &&
		    (lo = hex_digit(s[2])) >= 0) {
			buf_putc(out, (char)(hi << 4 | lo));
			s += 2;
		} else {
			buf_putc(out, *s);
		}
	}
}

static void principal_add(struct ejson *arr, const char *kind,
			  const struct ejson *v)
{
	struct buf b = BUF_INIT;
	struct ejson *s;

	if (ejson_typeof(v) == EJSON_ARRAY) {
		for (size_t i = 0; i < ejson_array_size(v); i++)
			principal_add(arr, kind, ejson_array_get(v, i));
		return;
	}
	if (!ejson_string_value(v))
		return;
	buf_init(&b, 0);
	if (kind)
		buf_printf(&b, "%s:%s", kind, ejson_string_value(v));
	else
		buf_puts(&b, ejson_string_value(v));
	if ((s = ejson_string(b.data, b.len)))
		ejson_array_append_take(arr, s);
	buf_release(&b);
}

static void statement_principals(struct ejson *arr, const struct ejson *st)
{
	const struct ejson *p = ejson_object_get(st, "Principal");
	const char *effect = ejson_string_value(ejson_object_get(st, "Effect"));
	const char **keys;
	size_t n;

	if (!p || !effect || strcmp(effect, "Allow"))
		return;
	if (ejson_typeof(p) != EJSON_OBJECT) {
		principal_add(arr, NULL, p); /* "*" */
		return;
	}
	keys = ejson_object_sorted_keys(p, &n);
	for (size_t i = 0; i < n; i++)
		principal_add(arr, keys[i], ejson_object_get(p, keys[i]));
	xfree(keys);
}

/*
 * Who may assume the role: the principals of the trust policy's Allow
 * statements, as "Service:lambda.amazonaws.com", "AWS:arn:aws:iam::1:root",
 * "Federated:..." or "*". IAM answers the policy percent-encoded.
 */
static void role_principals(struct aws_list_ctx *lc,
			    const struct aws_node *item)
{
	struct buf raw = BUF_INIT, doc = BUF_INIT;
	struct ejson *pol = NULL, *arr;
	const struct ejson *st;

	buf_init(&raw, 0);
	buf_init(&doc, 0);
	if (!aws_node_text(item, "AssumeRolePolicyDocument", &raw) || !raw.len)
		goto out;
	if (raw.data[strspn(raw.data, " \t\r\n")] == '{')
		buf_puts(&doc, raw.data);
	else
		percent_decode(raw.data, &doc);
	if (ejson_parse(doc.data, doc.len, &pol, NULL) ||
	    ejson_typeof(pol) != EJSON_OBJECT)
		goto out;
	arr = ejson_array();
	st = ejson_object_get(pol, "Statement");
	if (ejson_typeof(st) == EJSON_ARRAY) {
		for (size_t i = 0; i < ejson_array_size(st); i++)
			statement_principals(arr, ejson_array_get(st, i));
	} else if (ejson_typeof(st) == EJSON_OBJECT) {
		statement_principals(arr, st);
	}
	ejson_object_set_take(lc->r.attributes, "assume_role_principals", arr);
out:
	ejson_free(&pol);
	buf_release(&raw);
	buf_release(&doc);
}

/*
 * ListRoles and ListUsers leave out tags and permissions boundaries: GetRole
 * and GetUser have them (and every other field), for one call per record
 * as ListRoleTags / ListUserTags would cost.
 */
static int iam_get(struct aws_list_ctx *lc, const struct aws_node *item,
		   struct aws_doc *doc, struct aws_node *full, const char *op,
		   const char *name, const char *result,
		   struct elava_error *err)
{
	struct buf p = BUF_INIT;
	int rc;

	buf_init(&p, 0);
	if (!aws_node_text(item, name, &lc->text) || !lc->text.len) {
		buf_release(&p);
		return 0; /* no name: the engine skips the record */
	}
	aws_query_param(&p, name, lc->text.data);
	rc = aws_call(lc, lc->t->svc, NULL, NULL, op, p.data, doc, err);
	if (!rc && !aws_node_get(&doc->root, result, full))
		*full = *item;
	buf_release(&p);
	return rc;
}

static int iam_role_expand(struct aws_list_ctx *lc, const struct aws_node *item,
			   struct aws_doc *doc, struct aws_node *full,
			   struct elava_error *err)
{
	return iam_get(lc, item, doc, full, "GetRole", "RoleName",
		       "GetRoleResult/Role", err);
}

static int iam_user_expand(struct aws_list_ctx *lc, const struct aws_node *item,
			   struct aws_doc *doc, struct aws_node *full,
			   struct elava_error *err)
{
	return iam_get(lc, item, doc, full, "GetUser", "UserName",
		       "GetUserResult/User", err);
}

static int iam_role_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
			   struct elava_error *err)
{
	role_principals(lc, item);
	return 0;
}

static const struct aws_field iam_role_fields[] = {
    {"arn", "Arn", AWS_STR},
    {"path", "Path", AWS_STR},
    {"role_id", "RoleId", AWS_STR},
    {"description", "Description", AWS_STR},
    {"max_session_duration", "MaxSessionDuration", AWS_INT},
    {"permissions_boundary", "PermissionsBoundary/PermissionsBoundaryArn",
     AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field iam_user_fields[] = {
    {"arn", "Arn", AWS_STR},
    {"path", "Path", AWS_STR},
    {"user_id", "UserId", AWS_STR},
    {"password_last_used", "PasswordLastUsed", AWS_TIME},
    {"permissions_boundary", "PermissionsBoundary/PermissionsBoundaryArn",
     AWS_STR},
    {NULL, NULL, AWS_STR},
};

/* --------------------------------------------------------------- SNS */

struct map_find {
	const char *key;
	struct buf *out;
	bool found;
};

static int map_entry(const struct aws_node *n, void *ud)
{
	struct map_find *f = ud;

	if (!aws_node_text(n, "key", f->out) || strcmp(f->out->data, f->key))
		return 0;
	f->found = aws_node_text(n, "value", f->out);
	return 1;
}

/* The value of key in an <entry><key/><value/></entry> map. */
static bool map_get(const struct aws_node *map, const char *key,
		    struct buf *out)
{
	struct map_find f = {key, out, false};

	aws_node_each(map, "entry[]", map_entry, &f);
	if (!f.found)
		buf_reset(out);
	return f.found;
}

/* ListTopics gives the ARN alone: GetTopicAttributes and the tags. */
static int sns_topic_enrich(struct aws_list_ctx *lc,
			    const struct aws_node *item,
			    struct elava_error *err)
{
	static const char *const ints[][2] = {
	    {"subscriptions_confirmed", "SubscriptionsConfirmed"},
	    {"subscriptions_pending", "SubscriptionsPending"},
	};
	struct buf p = BUF_INIT, v = BUF_INIT;
	struct aws_node map;
	struct aws_doc doc;
	const char *key;
	int rc;

	resource_set(&lc->r.name, after_last(lc->r.id, ':'));
	aws_attr_str(lc, "arn", lc->r.id);
	buf_init(&p, 0);
	buf_init(&v, 0);
	aws_query_param(&p, "TopicArn", lc->r.id);
	rc = aws_call(lc, lc->t->svc, NULL, NULL, "GetTopicAttributes", p.data,
		      &doc, err);
	if (!rc && aws_node_get(&doc.root,
				"GetTopicAttributesResult/Attributes", &map)) {
		if (map_get(&map, "DisplayName", &v) && v.len)
			aws_attr_str(lc, "display_name", v.data);
		for (size_t i = 0; i < ARRAY_SIZE(ints); i++)
			if (map_get(&map, ints[i][1], &v) && v.len)
				ejson_object_set_take(
				    lc->r.attributes, ints[i][0],
				    ejson_int(strtoll(v.data, NULL, 10)));
		map_get(&map, "FifoTopic", &v);
		ejson_object_set_take(
		    lc->r.attributes, "fifo",
		    ejson_bool(!strcmp(v.data ? v.data : "", "true")));
		map_get(&map, "KmsMasterKeyId", &v);
		ejson_object_set_take(lc->r.attributes, "encrypted",
				      ejson_bool(v.len > 0));
		if (v.len) {
			aws_attr_str(lc, "kms_key_id", v.data);
			key = kms_key_id(v.data);
			rel_add(lc, "uses_key", "kms_key", key);
		}
	}
	aws_doc_release(&doc);
	buf_release(&p);
	buf_release(&v);
	if (!rc)
		rc = call_tags(lc, "ListTagsForResource", "ResourceArn",
			       lc->r.id,
			       "ListTagsForResourceResult/Tags/member[]", err);
	return rc;
}

/* -------------------------------------------------------- ElastiCache */

static int elasticache_cluster_enrich(struct aws_list_ctx *lc,
				      const struct aws_node *item,
				      struct elava_error *err)
{
	struct buf arn = BUF_INIT;
	int rc = 0;

	buf_init(&arn, 0);
	if (aws_node_text(item, "ARN", &arn) && arn.len)
		rc = call_tags(lc, "ListTagsForResource", "ResourceName",
			       arn.data,
			       "ListTagsForResourceResult/TagList/Tag[]", err);
	buf_release(&arn);
	return rc;
}

static const struct aws_field elasticache_cluster_fields[] = {
    {"arn", "ARN", AWS_STR},
    {"engine", "Engine", AWS_STR},
    {"engine_version", "EngineVersion", AWS_STR},
    {"node_type", "CacheNodeType", AWS_STR},
    {"num_nodes", "NumCacheNodes", AWS_INT},
    {"availability_zone", "PreferredAvailabilityZone", AWS_STR},
    {"replication_group_id", "ReplicationGroupId", AWS_STR},
    {"subnet_group", "CacheSubnetGroupName", AWS_STR},
    {"encrypted", "AtRestEncryptionEnabled", AWS_BOOL},
    {"transit_encryption", "TransitEncryptionEnabled", AWS_BOOL},
    {"security_groups", "SecurityGroups/member[]/SecurityGroupId", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel elasticache_cluster_rels[] = {
    {"uses_security_group", "SecurityGroups/member[]/SecurityGroupId",
     "security_group"},
    {NULL, NULL, NULL},
};

/* ----------------------------------------------------- CloudFormation */

static int count_node(const struct aws_node *n, void *ud)
{
	(*(int64_t *)ud)++;
	return 0;
}

static int cloudformation_stack_enrich(struct aws_list_ctx *lc,
				       const struct aws_node *item,
				       struct elava_error *err)
{
	int64_t n = 0;

	aws_node_each(item, "Outputs/member[]", count_node, &n);
	ejson_object_set_take(lc->r.attributes, "outputs", ejson_int(n));
	role_rel(lc, item, "RoleARN");
	return 0;
}

static const struct aws_field cloudformation_stack_fields[] = {
    {"arn", "StackId", AWS_STR},
    {"description", "Description", AWS_STR},
    {"status_reason", "StackStatusReason", AWS_STR},
    {"drift_status", "DriftInformation/StackDriftStatus", AWS_STR},
    {"termination_protection", "EnableTerminationProtection", AWS_BOOL},
    {"role_arn", "RoleARN", AWS_STR},
    {"parent_id", "ParentId", AWS_STR},
    {"updated_at", "LastUpdatedTime", AWS_TIME},
    {NULL, NULL, AWS_STR},
};

/* ------------------------------------------------------------- table */

const struct aws_type aws_types_query[] = {
    {
	.type = "load_balancer",
	.svc = &aws_svc_elbv2,
	.operation = "DescribeLoadBalancers",
	.page_param = "PageSize",
	.page_size = "400",
	.token_in = "Marker",
	.token_out = "NextMarker",
	.items = "LoadBalancers/member",
	.id = "LoadBalancerArn",
	.name = "LoadBalancerName",
	.status = "State/Code",
	.created = "CreatedTime",
	.fields = load_balancer_fields,
	.rels = load_balancer_rels,
	.enrich = load_balancer_enrich,
    },
    {
	.type = "target_group",
	.svc = &aws_svc_elbv2,
	.operation = "DescribeTargetGroups",
	.page_param = "PageSize",
	.page_size = "400",
	.token_in = "Marker",
	.token_out = "NextMarker",
	.items = "TargetGroups/member",
	.id = "TargetGroupArn",
	.name = "TargetGroupName",
	.fields = target_group_fields,
	.rels = target_group_rels,
	.enrich = target_group_enrich,
    },
    {
	.type = "autoscaling_group",
	.svc = &aws_svc_autoscaling,
	.operation = "DescribeAutoScalingGroups",
	.page_param = "MaxRecords",
	.page_size = "100",
	.token_in = "NextToken",
	.token_out = "NextToken",
	.items = "AutoScalingGroups/member",
	.id = "AutoScalingGroupName",
	.name = "AutoScalingGroupName",
	.status = "Status",
	.created = "CreatedTime",
	.tags = MEMBER_TAGS,
	.fields = autoscaling_group_fields,
	.enrich = autoscaling_group_enrich,
    },
    {
	.type = "rds_instance",
	.svc = &aws_svc_rds,
	.operation = "DescribeDBInstances",
	.page_param = "MaxRecords",
	.page_size = "100",
	.token_in = "Marker",
	.token_out = "Marker",
	.items = "DBInstances/DBInstance",
	.id = "DBInstanceIdentifier",
	.name = "DBInstanceIdentifier",
	.status = "DBInstanceStatus",
	.created = "InstanceCreateTime",
	.tags = RDS_TAGS,
	.fields = rds_instance_fields,
	.rels = rds_instance_rels,
	.enrich = rds_enrich,
    },
    {
	.type = "rds_cluster",
	.svc = &aws_svc_rds,
	.operation = "DescribeDBClusters",
	.page_param = "MaxRecords",
	.page_size = "100",
	.token_in = "Marker",
	.token_out = "Marker",
	.items = "DBClusters/DBCluster",
	.id = "DBClusterIdentifier",
	.name = "DBClusterIdentifier",
	.status = "Status",
	.created = "ClusterCreateTime",
	.tags = RDS_TAGS,
	.fields = rds_cluster_fields,
	.rels = rds_cluster_rels,
	.enrich = rds_enrich,
    },
    {
	.type = "rds_snapshot",
	.svc = &aws_svc_rds,
	.operation = "DescribeDBSnapshots",
	.page_param = "MaxRecords",
	.page_size = "100",
	.token_in = "Marker",
	.token_out = "Marker",
	.items = "DBSnapshots/DBSnapshot",
	.id = "DBSnapshotIdentifier",
	.name = "DBSnapshotIdentifier",
	.status = "Status",
	.created = "SnapshotCreateTime",
	.tags = RDS_TAGS,
	.fields = rds_snapshot_fields,
	.rels = rds_snapshot_rels,
	.enrich = rds_enrich,
    },
    {
	.type = "iam_role",
	.svc = &aws_svc_iam,
	.flags = AWS_GLOBAL,
	.operation = "ListRoles",
	.page_param = "MaxItems",
	.page_size = "1000",
	.token_in = "Marker",
	.token_out = "Marker",
	.items = "Roles/member",
	.id = "RoleName",
	.name = "RoleName",
	.created = "CreateDate",
	.tags = MEMBER_TAGS,
	.fields = iam_role_fields,
	.expand = iam_role_expand,
	.enrich = iam_role_enrich,
    },
    {
	.type = "iam_user",
	.svc = &aws_svc_iam,
	.flags = AWS_GLOBAL,
	.operation = "ListUsers",
	.page_param = "MaxItems",
	.page_size = "1000",
	.token_in = "Marker",
	.token_out = "Marker",
	.items = "Users/member",
	.id = "UserName",
	.name = "UserName",
	.created = "CreateDate",
	.tags = MEMBER_TAGS,
	.fields = iam_user_fields,
	.expand = iam_user_expand,
    },
    {
	.type = "sns_topic",
	.svc = &aws_svc_sns,
	.operation = "ListTopics",
	.token_in = "NextToken",
	.token_out = "NextToken",
	.items = "Topics/member",
	.id = "TopicArn",
	.enrich = sns_topic_enrich,
    },
    {
	.type = "elasticache_cluster",
	.svc = &aws_svc_elasticache,
	.operation = "DescribeCacheClusters",
	.page_param = "MaxRecords",
	.page_size = "100",
	.token_in = "Marker",
	.token_out = "Marker",
	.items = "CacheClusters/CacheCluster",
	.id = "CacheClusterId",
	.name = "CacheClusterId",
	.status = "CacheClusterStatus",
	.created = "CacheClusterCreateTime",
	.fields = elasticache_cluster_fields,
	.rels = elasticache_cluster_rels,
	.enrich = elasticache_cluster_enrich,
    },
    {
	.type = "cloudformation_stack",
	.svc = &aws_svc_cloudformation,
	.operation = "DescribeStacks",
	.token_in = "NextToken",
	.token_out = "NextToken",
	.items = "Stacks/member",
	.id = "StackName",
	.name = "StackName",
	.status = "StackStatus",
	.created = "CreationTime",
	.tags = MEMBER_TAGS,
	.fields = cloudformation_stack_fields,
	.enrich = cloudformation_stack_enrich,
    },
    {0},
};
