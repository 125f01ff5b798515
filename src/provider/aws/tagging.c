/*
 * Tag changes, for every type that has tags: the difference between two
 * versions of a record's tags (AWS's own "aws:" tags left alone), made
 * with the calls of the type's service — EC2 CreateTags/DeleteTags, the
 * query protocols' add/remove calls, the JSON protocols' TagResource/
 * UntagResource, S3's whole-set PutBucketTagging, and the REST calls of
 * Lambda, EKS and Route 53. Each service names the resource its own way
 * (id, name, ARN, queue URL); ARNs come from the record's "arn" attribute,
 * or are built where AWS's format is fixed.
 */
#include "list_int.h"

#include <stdlib.h>
#include <string.h>

enum family {
	F_EC2,
	F_ELBV2,
	F_ASG,
	F_RDS,
	F_ELASTICACHE,
	F_S3,
	F_LAMBDA,
	F_DYNAMODB,
	F_SQS,
	F_SNS,
	F_IAM_ROLE,
	F_IAM_USER,
	F_KMS,
	F_ROUTE53,
	F_LOGS,
	F_ECR,
	F_EKS,
	F_ECS,
	F_SECRETS,
	F_CFN,
};

struct tagged {
	const char *type;
	enum family f;
	/* The ARN built when the record has no "arn" attribute:
	 * arn:<partition>:<svc>:<region>:<account>:<res><id>. */
	const char *arn_svc, *arn_res;
};

static const struct tagged tagged[] = {
    {"vpc", F_EC2, NULL, NULL},
    {"subnet", F_EC2, NULL, NULL},
    {"security_group", F_EC2, NULL, NULL},
    {"internet_gateway", F_EC2, NULL, NULL},
    {"route_table", F_EC2, NULL, NULL},
    {"network_interface", F_EC2, NULL, NULL},
    {"vpc_endpoint", F_EC2, NULL, NULL},
    {"key_pair", F_EC2, NULL, NULL},
    {"ami", F_EC2, NULL, NULL},
    {"launch_template", F_EC2, NULL, NULL},
    {"ec2_instance", F_EC2, NULL, NULL},
    {"ebs_volume", F_EC2, NULL, NULL},
    {"ebs_snapshot", F_EC2, NULL, NULL},
    {"elastic_ip", F_EC2, NULL, NULL},
    {"nat_gateway", F_EC2, NULL, NULL},
    {"load_balancer", F_ELBV2, NULL, NULL},
    {"target_group", F_ELBV2, NULL, NULL},
    {"autoscaling_group", F_ASG, NULL, NULL},
    {"rds_instance", F_RDS, "rds", "db:"},
    {"rds_cluster", F_RDS, "rds", "cluster:"},
    {"rds_snapshot", F_RDS, "rds", "snapshot:"},
    {"elasticache_cluster", F_ELASTICACHE, "elasticache", "cluster:"},
    {"s3_bucket", F_S3, NULL, NULL},
    {"lambda_function", F_LAMBDA, "lambda", "function:"},
    {"dynamodb_table", F_DYNAMODB, "dynamodb", "table/"},
    {"sqs_queue", F_SQS, NULL, NULL},
    {"sns_topic", F_SNS, NULL, NULL},
    {"iam_role", F_IAM_ROLE, NULL, NULL},
    {"iam_user", F_IAM_USER, NULL, NULL},
    {"kms_key", F_KMS, NULL, NULL},
    {"route53_zone", F_ROUTE53, NULL, NULL},
    {"log_group", F_LOGS, "logs", "log-group:"},
    {"ecr_repository", F_ECR, "ecr", "repository/"},
    {"eks_cluster", F_EKS, "eks", "cluster/"},
    {"ecs_cluster", F_ECS, "ecs", "cluster/"},
    {"secret", F_SECRETS, NULL, NULL},
    {"cloudformation_stack", F_CFN, NULL, NULL},
};

/* Any other type the EC2 table lists is tagged by id like these. */
static const struct tagged ec2_other = {NULL, F_EC2, NULL, NULL};

static const struct tagged *find(const char *type)
{
	const struct aws_type *t;

	for (size_t i = 0; i < ARRAY_SIZE(tagged); i++)
		if (!strcmp(tagged[i].type, type))
			return &tagged[i];
	t = aws_type_find(type);
	return t && t->svc == &aws_svc_ec2 ? &ec2_other : NULL;
}

/* ------------------------------------------------------------------ diff */

static bool reserved(const char *key)
{
	return !strncmp(key, "aws:", 4);
}

/* What to set (new or changed values) and what to remove. */
struct tag_diff {
	const struct resource_tag **set;
	size_t nset;
	const char **del;
	size_t ndel;
	/* desired's tags but the reserved ones: S3 writes them all */
	const struct resource_tag **all;
	size_t nall;
};

static void diff_init(struct tag_diff *d, const struct resource *cur,
		      const struct resource *want)
{
	memset(d, 0, sizeof(*d));
	d->set = xcalloc(want->ntags + 1, sizeof(*d->set));
	d->all = xcalloc(want->ntags + 1, sizeof(*d->all));
	d->del = xcalloc(cur->ntags + 1, sizeof(*d->del));
	for (size_t i = 0; i < want->ntags; i++) {
		const struct resource_tag *t = &want->tags[i];
		const char *old;
		if (reserved(t->key))
			continue;
		d->all[d->nall++] = t;
		old = resource_tag_get(cur, t->key);
		if (!old || strcmp(old, t->value))
			d->set[d->nset++] = t;
	}
	for (size_t i = 0; i < cur->ntags; i++) {
		const char *k = cur->tags[i].key;
		if (!reserved(k) && !resource_tag_get(want, k))
			d->del[d->ndel++] = k;
	}
}

static void diff_release(struct tag_diff *d)
{
	xfree(d->set);
	xfree(d->del);
	xfree(d->all);
	memset(d, 0, sizeof(*d));
}

/* --------------------------------------------------------------- targets */

static const char *partition(const char *region)
{
	if (!strncmp(region, "cn-", 3))
		return "aws-cn";
	if (!strncmp(region, "us-gov-", 7))
		return "aws-us-gov";
	if (!strncmp(region, "us-isob-", 8))
		return "aws-iso-b";
	if (!strncmp(region, "us-iso-", 7))
		return "aws-iso";
	return "aws";
}

static const char *attr_str(const struct resource *r, const char *name)
{
	const char *s =
	    ejson_string_value(ejson_object_get(r->attributes, name));

	return s && *s ? s : NULL;
}

static bool is_arn(const char *s)
{
	return s && !strncmp(s, "arn:", 4);
}

static bool zone_id_ok(const char *id)
{
	if (!*id)
		return false;
	for (const char *c = id; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9')))
			return false;
	return true;
}

/* What the service's tag calls name r by, into out. */
static int target(struct aws_provider *p, const struct resource *r,
		  const struct tagged *t, struct buf *out,
		  struct elava_error *err)
{
	const char *region = aws_write_region(p, r);
	const char *arn = attr_str(r, "arn");
	const char *id = r->id;

	buf_reset(out);
	switch (t->f) {
	case F_ELBV2:
	case F_SNS:
	case F_SECRETS:
		/* Their id is the ARN. */
		if (is_arn(id) || is_arn(arn))
			return buf_puts(out, is_arn(id) ? id : arn);
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "%s '%s': no ARN to tag it by (the id is "
		    "not one and there is no \"arn\" "
		    "attribute)",
		    r->type, id);
	case F_RDS:
	case F_ELASTICACHE:
	case F_LAMBDA:
	case F_DYNAMODB:
	case F_LOGS:
	case F_ECR:
	case F_EKS:
	case F_ECS:
		if (is_arn(arn)) {
			size_t n = strlen(arn);
			/* DescribeLogGroups' "arn" ends in ":*"; the tag
			 * calls want the group's ARN without it. */
			if (t->f == F_LOGS && n > 2 &&
			    !strcmp(arn + n - 2, ":*"))
				n -= 2;
			return buf_append(out, arn, n);
		}
		return buf_printf(out, "arn:%s:%s:%s:%s:%s%s",
				  partition(region), t->arn_svc, region,
				  aws_write_account(p, r), t->arn_res, id);
	case F_SQS: {
		const char *url = attr_str(r, "url");
		int rc;
		if (url)
			return buf_puts(out, url);
		/* The queue URL's fixed form: <endpoint>/<account>/<name>. */
		if ((rc = aws_endpoint(aws_svc_sqs.name, aws_svc_sqs.env_id,
				       region, out)))
			return rc;
		return buf_printf(out, "/%s/%s", aws_write_account(p, r), id);
	}
	case F_ROUTE53:
		if (!strncmp(id, "/hostedzone/", 12))
			id += 12;
		if (!zone_id_ok(id))
			return elava_error_set(
			    err, ELAVA_E_INVAL,
			    "route53_zone '%s': not a hosted "
			    "zone id",
			    r->id);
		return buf_puts(out, id);
	case F_S3:
		if (!aws_s3_bucket_ok(id))
			return elava_error_set(err, ELAVA_E_INVAL,
					       "s3_bucket '%s': not a bucket "
					       "name",
					       id);
		return buf_puts(out, id);
	case F_EC2:
	case F_ASG:
	case F_IAM_ROLE:
	case F_IAM_USER:
	case F_KMS:
	case F_CFN: return buf_puts(out, id);
	}
	return ELAVA_E_INVAL;
}

/* ------------------------------------------------------ query protocols */

struct qtag {
	enum family f;
	const struct aws_service *svc;
	const char *tag_op, *untag_op;
	const char *id_param;
	/* Tags as <tag_prefix>.<n>.Key and .Value; removed keys as
	 * <key_prefix>.<n><key_suffix>. */
	const char *tag_prefix;
	const char *key_prefix, *key_suffix;
};

static const struct qtag qtags[] = {
    {F_EC2, &aws_svc_ec2, "CreateTags", "DeleteTags", "ResourceId.1", "Tag",
     "Tag", ".Key"},
    {F_ELBV2, &aws_svc_elbv2, "AddTags", "RemoveTags", "ResourceArns.member.1",
     "Tags.member", "TagKeys.member", ""},
    {F_RDS, &aws_svc_rds, "AddTagsToResource", "RemoveTagsFromResource",
     "ResourceName", "Tags.Tag", "TagKeys.member", ""},
    {F_ELASTICACHE, &aws_svc_elasticache, "AddTagsToResource",
     "RemoveTagsFromResource", "ResourceName", "Tags.Tag", "TagKeys.member",
     ""},
    {F_SNS, &aws_svc_sns, "TagResource", "UntagResource", "ResourceArn",
     "Tags.member", "TagKeys.member", ""},
    {F_IAM_ROLE, &aws_svc_iam, "TagRole", "UntagRole", "RoleName",
     "Tags.member", "TagKeys.member", ""},
    {F_IAM_USER, &aws_svc_iam, "TagUser", "UntagUser", "UserName",
     "Tags.member", "TagKeys.member", ""},
};

static int query_tags(struct aws_provider *p, const struct qtag *q,
		      const char *region, const char *id,
		      const struct tag_diff *d, struct elava_error *err)
{
	struct aws_form f;
	int rc = 0;

	if (d->nset) {
		aws_form_init(&f);
		aws_form_add(&f, id, "%s", q->id_param);
		for (size_t i = 0; i < d->nset; i++) {
			aws_form_add(&f, d->set[i]->key, "%s.%zu.Key",
				     q->tag_prefix, i + 1);
			aws_form_add(&f, d->set[i]->value, "%s.%zu.Value",
				     q->tag_prefix, i + 1);
		}
		rc = aws_write_form(p, q->svc, region, q->tag_op, &f, NULL,
				    NULL, err);
		aws_form_release(&f);
	}
	if (!rc && d->ndel) {
		aws_form_init(&f);
		aws_form_add(&f, id, "%s", q->id_param);
		for (size_t i = 0; i < d->ndel; i++)
			aws_form_add(&f, d->del[i], "%s.%zu%s", q->key_prefix,
				     i + 1, q->key_suffix);
		rc = aws_write_form(p, q->svc, region, q->untag_op, &f, NULL,
				    NULL, err);
		aws_form_release(&f);
	}
	return rc;
}

/* Auto Scaling: each tag names its group, and says whether instances
 * launched in the group get it. A changed tag keeps its PropagateAtLaunch;
 * a new one does not propagate. */
struct propagating {
	char **keys;
	size_t n;
	struct buf text;
};

static int note_propagating(const struct aws_node *n, void *ud)
{
	struct propagating *pr = ud;

	if (aws_node_text(n, "PropagateAtLaunch", &pr->text) &&
	    !strcmp(pr->text.data, "true") &&
	    aws_node_text(n, "Key", &pr->text)) {
		pr->keys =
		    xrealloc(pr->keys, st_mult(pr->n + 1, sizeof(*pr->keys)));
		pr->keys[pr->n++] = xstrdup(pr->text.data);
	}
	return 0;
}

static bool propagates(const struct propagating *pr, const char *key)
{
	for (size_t i = 0; i < pr->n; i++)
		if (!strcmp(pr->keys[i], key))
			return true;
	return false;
}

static int asg_tags(struct aws_provider *p, const struct resource *cur,
		    const char *region, const char *name,
		    const struct tag_diff *d, struct elava_error *err)
{
	struct propagating pr = {NULL, 0, BUF_INIT};
	struct aws_form f;
	bool changed = false;
	int rc = 0;

	buf_init(&pr.text, 0);
	for (size_t i = 0; i < d->nset; i++)
		changed |= resource_tag_get(cur, d->set[i]->key) != NULL;
	if (changed) {
		struct aws_doc doc;
		aws_form_init(&f);
		aws_form_add(&f, "auto-scaling-group", "Filters.member.1.Name");
		aws_form_add(&f, name, "Filters.member.1.Values.member.1");
		aws_form_add(&f, "100", "MaxRecords");
		rc = aws_write_form(p, &aws_svc_autoscaling, region,
				    "DescribeTags", &f, &doc, NULL, err);
		if (!rc)
			aws_node_each(&doc.root,
				      "DescribeTagsResult/Tags/member[]",
				      note_propagating, &pr);
		aws_doc_release(&doc);
		aws_form_release(&f);
	}
	if (!rc && d->nset) {
		aws_form_init(&f);
		for (size_t i = 0; i < d->nset; i++) {
			size_t n = i + 1;
			aws_form_add(&f, name, "Tags.member.%zu.ResourceId", n);
			aws_form_add(&f, "auto-scaling-group",
				     "Tags.member.%zu.ResourceType", n);
			aws_form_add(&f, d->set[i]->key, "Tags.member.%zu.Key",
				     n);
			aws_form_add(&f, d->set[i]->value,
				     "Tags.member.%zu.Value", n);
			aws_form_add(&f,
				     propagates(&pr, d->set[i]->key) ? "true"
								     : "false",
				     "Tags.member.%zu.PropagateAtLaunch", n);
		}
		rc = aws_write_form(p, &aws_svc_autoscaling, region,
				    "CreateOrUpdateTags", &f, NULL, NULL, err);
		aws_form_release(&f);
	}
	if (!rc && d->ndel) {
		aws_form_init(&f);
		for (size_t i = 0; i < d->ndel; i++) {
			aws_form_add(&f, name, "Tags.member.%zu.ResourceId",
				     i + 1);
			aws_form_add(&f, "auto-scaling-group",
				     "Tags.member.%zu.ResourceType", i + 1);
			aws_form_add(&f, d->del[i], "Tags.member.%zu.Key",
				     i + 1);
		}
		rc = aws_write_form(p, &aws_svc_autoscaling, region,
				    "DeleteTags", &f, NULL, NULL, err);
		aws_form_release(&f);
	}
	for (size_t i = 0; i < pr.n; i++)
		xfree(pr.keys[i]);
	xfree(pr.keys);
	buf_release(&pr.text);
	return rc;
}

/* -------------------------------------------------------- JSON bodies */

/* Set o[key] to the string s; ELAVA_E_INVAL when s is not UTF-8. */
static int json_set(struct ejson *o, const char *key, const char *s)
{
	struct ejson *v = ejson_string(s, strlen(s));

	if (!v || ejson_object_set_take(o, key, v))
		return ELAVA_E_INVAL;
	return 0;
}

/* The tags to set: a {key: value} object (item_key NULL), or a list of
 * {item_key: key, item_value: value}. */
static int json_tag_set(const struct tag_diff *d, const char *item_key,
			const char *item_value, struct ejson **out)
{
	struct ejson *tags = item_key ? ejson_array() : ejson_object();
	int rc = 0;

	for (size_t i = 0; i < d->nset && !rc; i++) {
		const struct resource_tag *t = d->set[i];
		if (!item_key) {
			rc = json_set(tags, t->key, t->value);
			continue;
		}
		struct ejson *item = ejson_object();
		rc = json_set(item, item_key, t->key);
		if (!rc)
			rc = json_set(item, item_value, t->value);
		if (rc)
			ejson_free(&item);
		else
			ejson_array_append_take(tags, item);
	}
	if (rc)
		ejson_free(&tags);
	*out = tags;
	return rc;
}

static int json_key_list(const struct tag_diff *d, struct ejson **out)
{
	struct ejson *keys = ejson_array();

	for (size_t i = 0; i < d->ndel; i++) {
		struct ejson *v = ejson_string(d->del[i], strlen(d->del[i]));
		if (!v) {
			ejson_free(&keys);
			*out = NULL;
			return ELAVA_E_INVAL;
		}
		ejson_array_append_take(keys, v);
	}
	*out = keys;
	return 0;
}

struct jtag {
	enum family f;
	const struct aws_service *svc;
	const char *tag_op, *untag_op;
	const char *id_member;
	const char *tags_member;
	const char *item_key, *item_value; /* NULL: a {key: value} map */
	const char *keys_member;
};

static const struct jtag jtags[] = {
    {F_DYNAMODB, &aws_svc_dynamodb, "TagResource", "UntagResource",
     "ResourceArn", "Tags", "Key", "Value", "TagKeys"},
    {F_SQS, &aws_svc_sqs, "TagQueue", "UntagQueue", "QueueUrl", "Tags", NULL,
     NULL, "TagKeys"},
    {F_KMS, &aws_svc_kms, "TagResource", "UntagResource", "KeyId", "Tags",
     "TagKey", "TagValue", "TagKeys"},
    {F_LOGS, &aws_svc_logs, "TagResource", "UntagResource", "resourceArn",
     "tags", NULL, NULL, "tagKeys"},
    {F_ECR, &aws_svc_ecr, "TagResource", "UntagResource", "resourceArn", "tags",
     "Key", "Value", "tagKeys"},
    {F_ECS, &aws_svc_ecs, "TagResource", "UntagResource", "resourceArn", "tags",
     "key", "value", "tagKeys"},
    {F_SECRETS, &aws_svc_secretsmanager, "TagResource", "UntagResource",
     "SecretId", "Tags", "Key", "Value", "TagKeys"},
};

static int bad_utf8(const struct resource *r, struct elava_error *err)
{
	return elava_error_set(err, ELAVA_E_INVAL,
			       "%s '%s': a tag key or value is not UTF-8",
			       r->type, r->id);
}

static int json_tags(struct aws_provider *p, const struct jtag *j,
		     const struct resource *r, const char *region,
		     const char *id, const struct tag_diff *d,
		     struct elava_error *err)
{
	struct aws_write w = {0};
	struct ejson *o, *v;
	int rc = 0;

	w.svc = j->svc;
	w.region = region;
	if (d->nset) {
		o = ejson_object();
		rc = json_set(o, j->id_member, id);
		if (!rc &&
		    !(rc = json_tag_set(d, j->item_key, j->item_value, &v)))
			ejson_object_set_take(o, j->tags_member, v);
		w.operation = j->tag_op;
		w.json = o;
		rc = rc ? bad_utf8(r, err)
			: aws_write_send(p, &w, NULL, NULL, err);
		ejson_free(&o);
	}
	if (!rc && d->ndel) {
		o = ejson_object();
		rc = json_set(o, j->id_member, id);
		if (!rc && !(rc = json_key_list(d, &v)))
			ejson_object_set_take(o, j->keys_member, v);
		w.operation = j->untag_op;
		w.json = o;
		rc = rc ? bad_utf8(r, err)
			: aws_write_send(p, &w, NULL, NULL, err);
		ejson_free(&o);
	}
	return rc;
}

/* ----------------------------------------------------------------- REST */

static int cmp_str(const void *a, const void *b)
{
	return strcmp(*(char *const *)a, *(char *const *)b);
}

/* "name=<k1>&name=<k2>..." with the keys percent-encoded and in SigV4's
 * canonical order (sorted as encoded). */
static int key_query(const struct tag_diff *d, const char *name,
		     struct buf *out)
{
	char **enc = xcalloc(d->ndel + 1, sizeof(*enc));
	struct buf b;
	int rc = 0;

	buf_init(&b, 0);
	for (size_t i = 0; i < d->ndel && !rc; i++) {
		buf_reset(&b);
		rc = aws_uri_encode(&b, d->del[i]);
		enc[i] = xstrdup(b.data ? b.data : "");
	}
	qsort(enc, d->ndel, sizeof(*enc), cmp_str);
	for (size_t i = 0; i < d->ndel && !rc; i++)
		rc = buf_printf(out, "%s%s=%s", i ? "&" : "", name, enc[i]);
	for (size_t i = 0; i < d->ndel; i++)
		xfree(enc[i]);
	xfree(enc);
	buf_release(&b);
	return rc;
}

/*
 * Lambda and EKS: POST <prefix><ARN> {tags_member: {k: v}}, DELETE
 * <prefix><ARN>?tagKeys=k... The ARN is percent-encoded in the path, as
 * the SDKs send it. AWS services but S3 sign that path encoded once more;
 * a libcurl that signs the path as it is sent (7.88 does) makes a
 * signature real AWS refuses here (SignatureDoesNotMatch), which the
 * emulator, checking no signatures, cannot show.
 */
static int rest_json_tags(struct aws_provider *p, const struct aws_service *svc,
			  const char *prefix, const char *tags_member,
			  const struct resource *r, const char *region,
			  const char *arn, const struct tag_diff *d,
			  struct elava_error *err)
{
	struct aws_write w = {0};
	struct buf path, query;
	struct ejson *o = NULL, *v;
	int rc;

	buf_init(&path, 0);
	buf_init(&query, 0);
	w.svc = svc;
	w.region = region;
	if (!(rc = buf_puts(&path, prefix)))
		rc = aws_uri_encode(&path, arn);
	w.path = path.data;
	if (!rc && d->nset) {
		o = ejson_object();
		if ((rc = json_tag_set(d, NULL, NULL, &v))) {
			rc = bad_utf8(r, err);
		} else {
			ejson_object_set_take(o, tags_member, v);
			w.operation = "TagResource";
			w.method = "POST";
			w.json = o;
			rc = aws_write_send(p, &w, NULL, NULL, err);
		}
		ejson_free(&o);
	}
	if (!rc && d->ndel && !(rc = key_query(d, "tagKeys", &query))) {
		w.operation = "UntagResource";
		w.method = "DELETE";
		w.json = NULL;
		w.query = query.data;
		rc = aws_write_send(p, &w, NULL, NULL, err);
	}
	buf_release(&path);
	buf_release(&query);
	return rc;
}

/* An XML document with one root element in a namespace. */
static xmlNodePtr xml_new(xmlDocPtr *doc, const char *root, const char *ns)
{
	xmlNodePtr n;

	*doc = xmlNewDoc(BAD_CAST "1.0");
	n = xmlNewNode(NULL, BAD_CAST root);
	xmlSetNs(n, xmlNewNs(n, BAD_CAST ns, NULL));
	xmlDocSetRootElement(*doc, n);
	return n;
}

static void xml_tag(xmlNodePtr parent, const struct resource_tag *t)
{
	xmlNodePtr tag = xmlNewChild(parent, NULL, BAD_CAST "Tag", NULL);

	xmlNewTextChild(tag, NULL, BAD_CAST "Key", BAD_CAST t->key);
	xmlNewTextChild(tag, NULL, BAD_CAST "Value", BAD_CAST t->value);
}

/* Serialise and free doc; the text into out. */
static int xml_dump(xmlDocPtr doc, struct buf *out)
{
	xmlChar *mem = NULL;
	int len = 0, rc;

	xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
	xmlFreeDoc(doc);
	rc = mem && len > 0 ? buf_append(out, mem, (size_t)len) : ELAVA_E_IO;
	xmlFree(mem);
	return rc;
}

/* Route 53: one ChangeTagsForResource per ten adds and ten removes. */
#define ROUTE53_TAGS_PER_CALL 10

static int route53_tags(struct aws_provider *p, const char *zone,
			const struct tag_diff *d, struct elava_error *err)
{
	struct aws_write w = {0};
	struct buf path, body;
	size_t i = 0, k = 0;
	int rc;

	buf_init(&path, 0);
	buf_init(&body, 0);
	rc = buf_printf(&path, "/2013-04-01/tags/hostedzone/%s", zone);
	w.svc = &aws_svc_route53;
	w.region = "us-east-1";
	w.operation = "ChangeTagsForResource";
	w.method = "POST";
	w.path = path.data;
	w.content_type = "application/xml";
	while (!rc && (i < d->nset || k < d->ndel)) {
		xmlDocPtr doc;
		xmlNodePtr root =
		    xml_new(&doc, "ChangeTagsForResourceRequest",
			    "https://route53.amazonaws.com/doc/2013-04-01/");
		if (i < d->nset) {
			xmlNodePtr add =
			    xmlNewChild(root, NULL, BAD_CAST "AddTags", NULL);
			for (size_t n = 0;
			     n < ROUTE53_TAGS_PER_CALL && i < d->nset; n++)
				xml_tag(add, d->set[i++]);
		}
		if (k < d->ndel) {
			xmlNodePtr rm = xmlNewChild(
			    root, NULL, BAD_CAST "RemoveTagKeys", NULL);
			for (size_t n = 0;
			     n < ROUTE53_TAGS_PER_CALL && k < d->ndel; n++)
				xmlNewTextChild(rm, NULL, BAD_CAST "Key",
						BAD_CAST d->del[k++]);
		}
		buf_reset(&body);
		if (!(rc = xml_dump(doc, &body))) {
			w.body = body.data;
			w.body_len = body.len;
			rc = aws_write_send(p, &w, NULL, NULL, err);
		}
	}
	buf_release(&path);
	buf_release(&body);
	return rc;
}

/* S3 replaces a bucket's whole tag set; an empty set is a delete. */
static int s3_tags(struct aws_provider *p, const char *region,
		   const char *bucket, const struct tag_diff *d,
		   struct elava_error *err)
{
	struct aws_write w = {0};
	struct buf path, body;
	int rc;

	buf_init(&path, 0);
	buf_init(&body, 0);
	rc = buf_printf(&path, "/%s", bucket);
	w.svc = &aws_svc_s3;
	w.region = region;
	w.path = path.data;
	w.query = "tagging=";
	if (!rc && !d->nall) {
		w.operation = "DeleteBucketTagging";
		w.method = "DELETE";
	} else if (!rc) {
		xmlDocPtr doc;
		xmlNodePtr set = xmlNewChild(
		    xml_new(&doc, "Tagging",
			    "http://s3.amazonaws.com/doc/2006-03-01/"),
		    NULL, BAD_CAST "TagSet", NULL);
		for (size_t i = 0; i < d->nall; i++)
			xml_tag(set, d->all[i]);
		rc = xml_dump(doc, &body);
		w.operation = "PutBucketTagging";
		w.method = "PUT";
		w.body = body.data;
		w.body_len = body.len;
		w.content_type = "application/xml";
		w.checksum = true;
	}
	if (!rc)
		rc = aws_write_send(p, &w, NULL, NULL, err);
	buf_release(&path);
	buf_release(&body);
	return rc;
}

/* ------------------------------------------------------------ interface */

static int unsupported(const struct resource *r, const struct tagged *t,
		       struct elava_error *err)
{
	if (!t)
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "%s '%s': Elava cannot change the tags "
				       "of this type",
				       r->type, r->id);
	return elava_error_set(err, ELAVA_E_UNSUPPORTED,
			       "cloudformation_stack '%s': a stack's tags "
			       "change only through UpdateStack with its "
			       "template, which Elava does not call",
			       r->id);
}

int aws_tags_check(struct aws_provider *p, const struct resource *current,
		   const struct resource *desired, struct elava_error *err)
{
	const struct tagged *t = find(current->type);
	struct tag_diff d;
	struct buf b;
	int rc = 0;

	diff_init(&d, current, desired);
	buf_init(&b, 0);
	if (d.nset || d.ndel) {
		if (!t || t->f == F_CFN)
			rc = unsupported(current, t, err);
		else
			rc = target(p, current, t, &b, err);
	}
	buf_release(&b);
	diff_release(&d);
	return rc;
}

int aws_tags_apply(struct aws_provider *p, const struct resource *current,
		   const struct resource *desired, struct elava_error *err)
{
	const struct tagged *t = find(current->type);
	const char *region = aws_write_region(p, current);
	struct tag_diff d;
	struct buf id;
	int rc = 0;

	diff_init(&d, current, desired);
	buf_init(&id, 0);
	if (!d.nset && !d.ndel)
		goto out;
	if (!t || t->f == F_CFN) {
		rc = unsupported(current, t, err);
		goto out;
	}
	if ((rc = target(p, current, t, &id, err)))
		goto out;
	for (size_t i = 0; i < ARRAY_SIZE(qtags); i++)
		if (qtags[i].f == t->f) {
			rc = query_tags(p, &qtags[i], region, id.data, &d, err);
			goto out;
		}
	for (size_t i = 0; i < ARRAY_SIZE(jtags); i++)
		if (jtags[i].f == t->f) {
			rc = json_tags(p, &jtags[i], current, region, id.data,
				       &d, err);
			goto out;
		}
	switch (t->f) {
	case F_ASG: rc = asg_tags(p, current, region, id.data, &d, err); break;
	case F_S3: rc = s3_tags(p, region, id.data, &d, err); break;
	case F_ROUTE53: rc = route53_tags(p, id.data, &d, err); break;
	case F_LAMBDA:
		rc = rest_json_tags(p, &aws_svc_lambda, "/2017-03-31/tags/",
				    "Tags", current, region, id.data, &d, err);
		break;
	case F_EKS:
		rc = rest_json_tags(p, &aws_svc_eks, "/tags/", "tags", current,
				    region, id.data, &d, err);
		break;
	case F_EC2:
	case F_ELBV2:
	case F_RDS:
	case F_ELASTICACHE:
	case F_DYNAMODB:
	case F_SQS:
	case F_SNS:
	case F_IAM_ROLE:
	case F_IAM_USER:
	case F_KMS:
	case F_LOGS:
	case F_ECR:
	case F_ECS:
	case F_SECRETS:
	case F_CFN: rc = unsupported(current, t, err); break;
	}
out:
	buf_release(&id);
	diff_release(&d);
	return rc;
}

void aws_tags_spec(struct aws_form *f, const char *rtype,
		   const struct resource *r)
{
	size_t n = 0;

	for (size_t i = 0; i < r->ntags; i++) {
		if (reserved(r->tags[i].key))
			continue;
		if (!n++)
			aws_form_add(f, rtype,
				     "TagSpecification.1.ResourceType");
		aws_form_add(f, r->tags[i].key,
			     "TagSpecification.1.Tag.%zu.Key", n);
		aws_form_add(f, r->tags[i].value,
			     "TagSpecification.1.Tag.%zu.Value", n);
	}
}
