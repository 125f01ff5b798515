/*
 * The types of the JSON and REST protocols: S3 buckets, Lambda functions,
 * DynamoDB tables, SQS queues, KMS keys, CloudWatch log groups, ECR
 * repositories, EKS and ECS clusters, Secrets Manager secrets and Route 53
 * hosted zones. Most of these APIs list names or summaries and keep the
 * details and the tags behind a second call, so most entries have an
 * expand hook: it makes the calls and builds one JSON document that the
 * table's paths then read (the describe answer with the tags grafted in).
 * The XML ones (S3, Route 53) add to the record in an enrich hook instead.
 *
 * Calls whose path would hold an ARN are avoided: libcurl's SigV4 (7.88)
 * signs the path as it is sent, where AWS (every service but S3) signs it
 * encoded once more, so an escaped ':' never verifies. Lambda's tags are
 * read through GetFunction (by name) rather than ListTags (by ARN).
 *
 * Secrets Manager is listed with ListSecrets only: secret values are never
 * read.
 */
#include "list_int.h"

#include <string.h>

/* Pages of tags one resource may have before it is called a loop. */
#define MAX_TAG_PAGES 100

/* ---------------------------------------------------------------- helpers */

/* The text at path into b (cleared first); false when absent or empty. */
static bool text(const struct aws_node *n, const char *path, struct buf *b)
{
	return aws_node_text(n, path, b) && b->len;
}

/* Append "key": "value" to a JSON object body being built. */
static void json_member(struct buf *b, const char *key, const char *value)
{
	if (b->len > 1)
		buf_putc(b, ',');
	buf_append_json_string(b, key, strlen(key));
	buf_putc(b, ':');
	buf_append_json_string(b, value, strlen(value));
}

/* A request body {"key": "value"}. */
static void json_body1(struct buf *b, const char *key, const char *value)
{
	buf_reset(b);
	buf_putc(b, '{');
	json_member(b, key, value);
	buf_putc(b, '}');
}

/*
 * A call whose "not configured" answer is an error (S3's NoSuchTagSet...):
 * 0 with an empty doc (no root) when the error is `absent`.
 */
static int call_optional(struct aws_list_ctx *lc, const struct aws_service *svc,
			 const char *region, const char *op, const char *params,
			 const char *absent, struct aws_doc *doc,
			 struct elava_error *err)
{
	struct elava_error e = {0};
	int rc = aws_call(lc, svc, region, "GET", op, params, doc, &e);

	if (rc && !strcmp(lc->error_code, absent)) {
		aws_doc_release(doc);
		return 0;
	}
	if (rc && err)
		*err = e;
	return rc;
}

/*
 * Copy the value at path in src into the JSON object dst under key (no-op
 * when either is missing).
 */
static void graft(struct ejson *dst, const char *key,
		  const struct aws_node *src, const char *path)
{
	struct aws_node v;

	if (dst && ejson_typeof(dst) == EJSON_OBJECT &&
	    aws_node_get(src, path, &v) && v.j)
		ejson_object_set_take(dst, key, ejson_copy(v.j));
}

/*
 * Tags from a JSON call that pages them (ListTagsOfResource,
 * ListResourceTags): the elements of every page's `list` array, grafted
 * into dst under `list`. key/value is the resource parameter.
 */
static int json_tags_paged(struct aws_list_ctx *lc,
			   const struct aws_service *svc, const char *op,
			   const char *key, const char *value,
			   const char *token_in, const char *token_out,
			   const char *list, struct ejson *dst,
			   struct elava_error *err)
{
	struct ejson *all = ejson_array();
	struct buf body, token;
	int rc = 0;

	buf_init(&body, 0);
	buf_init(&token, 0);
	for (int page = 0; page < MAX_TAG_PAGES; page++) {
		struct aws_doc doc;
		struct aws_node arr;

		buf_reset(&body);
		buf_putc(&body, '{');
		json_member(&body, key, value);
		if (token.len)
			json_member(&body, token_in, token.data);
		buf_putc(&body, '}');
		if ((rc = aws_call(lc, svc, NULL, NULL, op, body.data, &doc,
				   err)))
			break;
		if (aws_node_get(&doc.root, list, &arr) && arr.j)
			for (size_t i = 0; i < ejson_array_size(arr.j); i++)
				ejson_array_append_take(
				    all, ejson_copy(ejson_array_get(arr.j, i)));
		if (!text(&doc.root, token_out, &token))
			buf_reset(&token);
		aws_doc_release(&doc);
		if (!token.len)
			break;
	}
	if (!rc && token.len)
		rc = elava_error_set(err, ELAVA_E_REMOTE,
				     "%s %s: more than %d pages of tags for "
				     "'%s'; giving up",
				     svc->name, op, MAX_TAG_PAGES, value);
	if (!rc && dst && ejson_typeof(dst) == EJSON_OBJECT)
		ejson_object_set_take(dst, list, all);
	else
		ejson_free(&all);
	buf_release(&body);
	buf_release(&token);
	return rc;
}

/* A private copy of a listed JSON item, to graft more into. */
static void doc_copy(struct aws_doc *doc, const struct aws_node *item,
		     struct aws_node *full)
{
	memset(doc, 0, sizeof(*doc));
	doc->json = ejson_copy(item->j);
	doc->root.j = doc->json;
	*full = doc->root;
}

/* The convention: the Name tag (the engine sets it), else this name. */
static void name_or(struct aws_list_ctx *lc, const struct aws_node *n,
		    const char *path)
{
	if (!resource_tag_get(&lc->r, "Name") && text(n, path, &lc->text))
		resource_set(&lc->r.name, lc->text.data);
}

/* uses_role to the role an ARN names (the last segment, after any path). */
static void rel_role(struct aws_list_ctx *lc, const struct aws_node *n,
		     const char *path)
{
	const char *slash;

	if (!text(n, path, &lc->text) ||
	    !(slash = strrchr(lc->text.data, '/')) || !slash[1])
		return;
	resource_rel_add(&lc->r, "uses_role",
			 aws_related_key(lc, "iam_role", slash + 1));
}

/*
 * uses_key to the KMS key a value names: a key ARN (whose region and
 * account the key is in, which may not be the record's) or a bare key id
 * (in the record's region); an alias names no key without another call.
 */
static void rel_key(struct aws_list_ctx *lc, const struct aws_node *n,
		    const char *path)
{
	const char *v, *k, *f[5] = {0};

	if (!text(n, path, &lc->text))
		return;
	v = lc->text.data;
	if (!(k = strstr(v, ":key/"))) {
		if (strchr(v, ':') || !strncmp(v, "alias/", 6))
			return;
		buf_reset(&lc->key);
		buf_printf(&lc->key, "aws:%s:%s:kms_key:%s", lc->account,
			   lc->r.region, v);
		resource_rel_add(&lc->r, "uses_key", lc->key.data);
		return;
	}
	/* arn:<partition>:kms:<region>:<account>:key/<id>; f[i] starts
	 * field i. */
	f[0] = v;
	for (int i = 1; i < 5 && f[i - 1]; i++)
		if ((f[i] = strchr(f[i - 1], ':')))
			f[i]++;
	if (!f[4] || strncmp(v, "arn:", 4) || strncmp(f[2], "kms:", 4) ||
	    strchr(f[4], ':') != k || !k[5] || f[4] - 1 == f[3] || k == f[4])
		return;
	buf_reset(&lc->key);
	buf_printf(&lc->key, "aws:%.*s:%.*s:kms_key:%s", (int)(k - f[4]), f[4],
		   (int)(f[4] - 1 - f[3]), f[3], k + 5);
	resource_rel_add(&lc->r, "uses_key", lc->key.data);
}

static void attr_bool(struct aws_list_ctx *lc, const char *name, bool v)
{
	ejson_object_set_take(lc->r.attributes, name, ejson_bool(v));
}

struct tag_walk {
	struct aws_list_ctx *lc;
	const char *key, *value;
};

static int tag_one(const struct aws_node *n, void *ud)
{
	struct tag_walk *w = ud;
	struct buf k;

	buf_init(&k, 0);
	if (text(n, w->key, &k) && aws_node_text(n, w->value, &w->lc->text))
		resource_tag_set(&w->lc->r, k.data, w->lc->text.data);
	buf_release(&k);
	return 0;
}

/* Tags from a [{key, value}] list (XML or JSON) at path. */
static void tags_from(struct aws_list_ctx *lc, const struct aws_node *n,
		      const char *path, const char *key, const char *value)
{
	struct tag_walk w = {lc, key, value};

	aws_node_each(n, path, tag_one, &w);
}

/* ---------------------------------------------------------------- S3 */

/*
 * S3 buckets are listed once (ListBuckets lists every region's) and placed
 * in their region: BucketRegion, which AWS gives in a paged ListBuckets
 * (max-buckets set), else GetBucketLocation ("" is us-east-1, "EU" the old
 * name of eu-west-1). The other calls go to the bucket's region, path-style;
 * a subresource is written "?tagging=" as SigV4 canonicalises it.
 */
static int s3_region(struct aws_list_ctx *lc, const struct aws_node *item,
		     const char *bucket, struct buf *region,
		     struct elava_error *err)
{
	struct aws_doc doc;
	struct buf path;
	int rc;

	if (text(item, "BucketRegion", region))
		return 0;
	buf_init(&path, 0);
	buf_printf(&path, "/%s?location=", bucket);
	rc = aws_call(lc, &aws_svc_s3, NULL, "GET", "GetBucketLocation",
		      path.data, &doc, err);
	buf_release(&path);
	if (rc)
		return rc;
	if (!aws_node_text(&doc.root, "", region) || !region->len) {
		buf_reset(region);
		buf_puts(region, "us-east-1");
	} else if (!strcmp(region->data, "EU")) {
		buf_reset(region);
		buf_puts(region, "eu-west-1");
	}
	aws_doc_release(&doc);
	return 0;
}

static int s3_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
		     struct elava_error *err)
{
	struct buf bucket, region, path;
	struct aws_doc doc = {0};
	bool blocked = false;
	int rc;

	buf_init(&bucket, 0);
	buf_init(&region, 0);
	buf_init(&path, 0);
	buf_puts(&bucket, lc->r.id);
	if ((rc = s3_region(lc, item, bucket.data, &region, err)))
		goto out;
	resource_set(&lc->r.region, region.data);

	buf_printf(&path, "/%s?tagging=", bucket.data);
	if ((rc =
		 call_optional(lc, &aws_svc_s3, region.data, "GetBucketTagging",
			       path.data, "NoSuchTagSet", &doc, err)))
		goto out;
	if (doc.xml)
		tags_from(lc, &doc.root, "TagSet/Tag[]", "Key", "Value");
	aws_doc_release(&doc);

	buf_reset(&path);
	buf_printf(&path, "/%s?encryption=", bucket.data);
	if ((rc = call_optional(
		 lc, &aws_svc_s3, region.data, "GetBucketEncryption", path.data,
		 "ServerSideEncryptionConfigurationNotFoundError", &doc, err)))
		goto out;
	{
		struct aws_node rule;
		bool on =
		    doc.xml &&
		    aws_node_get(&doc.root,
				 "Rule/ApplyServerSideEncryptionByDefault",
				 &rule) &&
		    text(&rule, "SSEAlgorithm", &lc->text);
		attr_bool(lc, "encrypted", on);
		if (on) {
			aws_attr_str(lc, "sse_algorithm", lc->text.data);
			if (text(&rule, "KMSMasterKeyID", &lc->text)) {
				aws_attr_str(lc, "kms_key_id", lc->text.data);
				rel_key(lc, &rule, "KMSMasterKeyID");
			}
		}
	}
	aws_doc_release(&doc);

	buf_reset(&path);
	buf_printf(&path, "/%s?versioning=", bucket.data);
	if ((rc = aws_call(lc, &aws_svc_s3, region.data, "GET",
			   "GetBucketVersioning", path.data, &doc, err)))
		goto out;
	/* No Status: versioning was never enabled. */
	aws_attr_str(lc, "versioning",
		     text(&doc.root, "Status", &lc->text) ? lc->text.data
							  : "Disabled");
	aws_doc_release(&doc);

	buf_reset(&path);
	buf_printf(&path, "/%s?publicAccessBlock=", bucket.data);
	if ((rc = call_optional(
		 lc, &aws_svc_s3, region.data, "GetPublicAccessBlock",
		 path.data, "NoSuchPublicAccessBlockConfiguration", &doc, err)))
		goto out;
	if (doc.xml) {
		static const char *const flags[] = {
		    "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
		    "RestrictPublicBuckets"};
		blocked = true;
		for (size_t i = 0; i < ARRAY_SIZE(flags); i++)
			if (!text(&doc.root, flags[i], &lc->text) ||
			    strcmp(lc->text.data, "true"))
				blocked = false;
	}
	aws_doc_release(&doc);
	/* The bucket's own block only; the account-wide one (s3control) is
	 * not read. */
	attr_bool(lc, "public_access_blocked", blocked);
	attr_bool(lc, "public_exposure", !blocked);
	if (!resource_tag_get(&lc->r, "Name"))
		resource_set(&lc->r.name, bucket.data);
out:
	aws_doc_release(&doc);
	buf_release(&bucket);
	buf_release(&region);
	buf_release(&path);
	return rc;
}

/* ------------------------------------------------------------- Lambda */

/*
 * GetFunction by name: the full configuration (State, which ListFunctions
 * leaves out) and the tags (returned when the caller may lambda:ListTags).
 */
static int lambda_expand(struct aws_list_ctx *lc, const struct aws_node *item,
			 struct aws_doc *doc, struct aws_node *full,
			 struct elava_error *err)
{
	struct buf path;
	int rc;

	if (!text(item, "FunctionName", &lc->text))
		return ELAVA_E_NOTFOUND;
	buf_init(&path, 0);
	buf_printf(&path, "/2015-03-31/functions/%s", lc->text.data);
	rc = aws_call(lc, &aws_svc_lambda, NULL, "GET", "GetFunction",
		      path.data, doc, err);
	buf_release(&path);
	if (!rc)
		*full = doc->root;
	return rc;
}

static int lambda_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
			 struct elava_error *err)
{
	(void)err;
	rel_role(lc, full, "Configuration/Role");
	rel_key(lc, full, "Configuration/KMSKeyArn");
	name_or(lc, full, "Configuration/FunctionName");
	return 0;
}

/* ----------------------------------------------------------- DynamoDB */

static int dynamodb_expand(struct aws_list_ctx *lc, const struct aws_node *item,
			   struct aws_doc *doc, struct aws_node *full,
			   struct elava_error *err)
{
	struct buf body, arn;
	int rc;

	buf_init(&body, 0);
	buf_init(&arn, 0);
	if (!text(item, "", &arn)) {
		rc = ELAVA_E_NOTFOUND;
		goto out;
	}
	json_body1(&body, "TableName", arn.data);
	if ((rc = aws_call(lc, &aws_svc_dynamodb, NULL, NULL, "DescribeTable",
			   body.data, doc, err)))
		goto out;
	if (!aws_node_get(&doc->root, "Table", full) ||
	    !text(full, "TableArn", &arn)) {
		rc = ELAVA_E_NOTFOUND;
		goto out;
	}
	rc = json_tags_paged(lc, &aws_svc_dynamodb, "ListTagsOfResource",
			     "ResourceArn", arn.data, "NextToken", "NextToken",
			     "Tags", ejson_object_get(doc->json, "Table"), err);
out:
	buf_release(&body);
	buf_release(&arn);
	return rc;
}

static int dynamodb_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
			   struct elava_error *err)
{
	const char *st;

	(void)err;
	/* Tables made before on-demand existed have no summary. */
	aws_attr_str(lc, "billing_mode",
		     text(full, "BillingModeSummary/BillingMode", &lc->text)
			 ? lc->text.data
			 : "PROVISIONED");
	/* SSEDescription is there for KMS keys (AWS managed or the
	 * customer's); tables encrypted with the AWS owned key have none. */
	st =
	    text(full, "SSEDescription/Status", &lc->text) ? lc->text.data : "";
	attr_bool(lc, "encrypted",
		  !strcmp(st, "ENABLED") || !strcmp(st, "ENABLING") ||
		      !strcmp(st, "UPDATING"));
	rel_key(lc, full, "SSEDescription/KMSMasterKeyArn");
	name_or(lc, full, "TableName");
	return 0;
}

/* ---------------------------------------------------------------- SQS */

/*
 * ListQueues gives URLs; the document read is GetQueueAttributes (All)
 * with "QueueUrl", "QueueName" (the URL's last segment) and the tags
 * added.
 */
static int sqs_expand(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct aws_doc *doc, struct aws_node *full,
		      struct elava_error *err)
{
	struct buf body, url;
	struct aws_doc tags = {0};
	const char *slash;
	int rc;

	buf_init(&body, 0);
	buf_init(&url, 0);
	if (!text(item, "", &url) || !(slash = strrchr(url.data, '/')) ||
	    !slash[1]) {
		rc = ELAVA_E_NOTFOUND;
		goto out;
	}
	buf_puts(&body, "{\"AttributeNames\":[\"All\"],");
	buf_append_json_string(&body, "QueueUrl", 8);
	buf_putc(&body, ':');
	buf_append_json_string(&body, url.data, url.len);
	buf_putc(&body, '}');
	if ((rc = aws_call(lc, &aws_svc_sqs, NULL, NULL, "GetQueueAttributes",
			   body.data, doc, err)))
		goto out;
	json_body1(&body, "QueueUrl", url.data);
	if ((rc = aws_call(lc, &aws_svc_sqs, NULL, NULL, "ListQueueTags",
			   body.data, &tags, err)))
		goto out;
	if (!doc->json || ejson_typeof(doc->json) != EJSON_OBJECT) {
		rc = ELAVA_E_NOTFOUND;
		goto out;
	}
	ejson_object_set_take(doc->json, "QueueUrl",
			      ejson_string(url.data, url.len));
	ejson_object_set_take(doc->json, "QueueName",
			      ejson_string(slash + 1, strlen(slash + 1)));
	graft(doc->json, "Tags", &tags.root, "Tags");
	*full = doc->root;
out:
	/* A queue deleted since the list. */
	if (rc && err &&
	    (!strcmp(lc->error_code, "QueueDoesNotExist") ||
	     !strcmp(lc->error_code, "AWS.SimpleQueueService."
				     "NonExistentQueue")))
		rc = ELAVA_E_NOTFOUND;
	aws_doc_release(&tags);
	buf_release(&body);
	buf_release(&url);
	return rc;
}

static int sqs_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
		      struct elava_error *err)
{
	bool sse;

	(void)err;
	attr_bool(lc, "fifo",
		  text(full, "Attributes/FifoQueue", &lc->text) &&
		      !strcmp(lc->text.data, "true"));
	sse = text(full, "Attributes/SqsManagedSseEnabled", &lc->text) &&
	      !strcmp(lc->text.data, "true");
	attr_bool(lc, "encrypted",
		  sse || text(full, "Attributes/KmsMasterKeyId", &lc->text));
	rel_key(lc, full, "Attributes/KmsMasterKeyId");
	name_or(lc, full, "QueueName");
	return 0;
}

/* ---------------------------------------------------------------- KMS */

/* DescribeKey's KeyMetadata, with the tags of customer managed keys (AWS
 * managed keys cannot have any). */
static int kms_expand(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct aws_doc *doc, struct aws_node *full,
		      struct elava_error *err)
{
	struct buf body, id;
	int rc;

	buf_init(&body, 0);
	buf_init(&id, 0);
	if (!text(item, "KeyId", &id)) {
		rc = ELAVA_E_NOTFOUND;
		goto out;
	}
	json_body1(&body, "KeyId", id.data);
	if ((rc = aws_call(lc, &aws_svc_kms, NULL, NULL, "DescribeKey",
			   body.data, doc, err)))
		goto out;
	if (!aws_node_get(&doc->root, "KeyMetadata", full) || !full->j) {
		rc = ELAVA_E_NOTFOUND;
		goto out;
	}
	if (text(full, "KeyManager", &lc->text) &&
	    !strcmp(lc->text.data, "AWS"))
		goto out;
	rc = json_tags_paged(lc, &aws_svc_kms, "ListResourceTags", "KeyId",
			     id.data, "Marker", "NextMarker", "Tags",
			     ejson_object_get(doc->json, "KeyMetadata"), err);
out:
	buf_release(&body);
	buf_release(&id);
	return rc;
}

/* ---------------------------------------------------------------- Logs */

/*
 * The listed group with "logGroupArn" (the ARN without the ":*" of "arn",
 * which older answers lack) and "tags" from ListTagsForResource.
 */
static int logs_expand(struct aws_list_ctx *lc, const struct aws_node *item,
		       struct aws_doc *doc, struct aws_node *full,
		       struct elava_error *err)
{
	struct aws_doc tags = {0};
	struct buf arn, body;
	int rc = 0;

	buf_init(&arn, 0);
	buf_init(&body, 0);
	doc_copy(doc, item, full);
	if (!text(item, "logGroupArn", &arn)) {
		if (!text(item, "arn", &arn)) {
			rc = ELAVA_E_NOTFOUND;
			goto out;
		}
		if (arn.len > 2 && !strcmp(arn.data + arn.len - 2, ":*"))
			arn.data[arn.len -= 2] = '\0';
		ejson_object_set_take(doc->json, "logGroupArn",
				      ejson_string(arn.data, arn.len));
	}
	json_body1(&body, "resourceArn", arn.data);
	if (!(rc = aws_call(lc, &aws_svc_logs, NULL, NULL,
			    "ListTagsForResource", body.data, &tags, err)))
		graft(doc->json, "tags", &tags.root, "tags");
out:
	aws_doc_release(&tags);
	buf_release(&arn);
	buf_release(&body);
	return rc;
}

static int logs_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
		       struct elava_error *err)
{
	(void)err;
	rel_key(lc, full, "kmsKeyId");
	name_or(lc, full, "logGroupName");
	return 0;
}

/* ---------------------------------------------------------------- ECR */

static int ecr_expand(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct aws_doc *doc, struct aws_node *full,
		      struct elava_error *err)
{
	struct aws_doc tags = {0};
	struct buf body;
	int rc;

	if (!text(item, "repositoryArn", &lc->text))
		return ELAVA_E_NOTFOUND;
	buf_init(&body, 0);
	json_body1(&body, "resourceArn", lc->text.data);
	doc_copy(doc, item, full);
	if (!(rc = aws_call(lc, &aws_svc_ecr, NULL, NULL, "ListTagsForResource",
			    body.data, &tags, err)))
		graft(doc->json, "tags", &tags.root, "tags");
	aws_doc_release(&tags);
	buf_release(&body);
	return rc;
}

static int ecr_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
		      struct elava_error *err)
{
	(void)err;
	rel_key(lc, full, "encryptionConfiguration/kmsKey");
	name_or(lc, full, "repositoryName");
	return 0;
}

/* ---------------------------------------------------------------- EKS */

static int eks_expand(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct aws_doc *doc, struct aws_node *full,
		      struct elava_error *err)
{
	struct buf path;
	int rc;

	if (!text(item, "", &lc->text))
		return ELAVA_E_NOTFOUND;
	buf_init(&path, 0);
	buf_printf(&path, "/clusters/%s", lc->text.data);
	rc = aws_call(lc, &aws_svc_eks, NULL, "GET", "DescribeCluster",
		      path.data, doc, err);
	buf_release(&path);
	if (!rc && !aws_node_get(&doc->root, "cluster", full))
		rc = ELAVA_E_NOTFOUND;
	return rc;
}

static int eks_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
		      struct elava_error *err)
{
	(void)err;
	rel_role(lc, full, "roleArn");
	rel_key(lc, full, "encryptionConfig[]/provider/keyArn");
	name_or(lc, full, "name");
	return 0;
}

/* ---------------------------------------------------------------- ECS */

static int ecs_expand(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct aws_doc *doc, struct aws_node *full,
		      struct elava_error *err)
{
	struct buf body;
	int rc;

	if (!text(item, "", &lc->text))
		return ELAVA_E_NOTFOUND;
	buf_init(&body, 0);
	buf_puts(&body, "{\"clusters\":[");
	buf_append_json_string(&body, lc->text.data, lc->text.len);
	buf_puts(&body, "],\"include\":[\"TAGS\"]}");
	rc = aws_call(lc, &aws_svc_ecs, NULL, NULL, "DescribeClusters",
		      body.data, doc, err);
	buf_release(&body);
	/* A cluster deleted since the list is a "failures" entry. */
	if (!rc && !aws_node_get(&doc->root, "clusters[]", full))
		rc = ELAVA_E_NOTFOUND;
	return rc;
}

static int ecs_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
		      struct elava_error *err)
{
	(void)err;
	name_or(lc, full, "clusterName");
	return 0;
}

/* ----------------------------------------------------- Secrets Manager */

static int secret_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
			 struct elava_error *err)
{
	(void)err;
	rel_key(lc, full, "KmsKeyId");
	name_or(lc, full, "Name");
	return 0;
}

/* ------------------------------------------------------------ Route 53 */

/* The id without "/hostedzone/", and the tags (one call per zone). */
static int route53_enrich(struct aws_list_ctx *lc, const struct aws_node *full,
			  struct elava_error *err)
{
	const char *id = lc->r.id, *slash = strrchr(id, '/');
	struct aws_doc doc;
	struct buf path;
	int rc;

	if (slash && slash[1]) {
		buf_init(&path, 0);
		buf_puts(&path, slash + 1);
		resource_set(&lc->r.id, path.data);
		buf_release(&path);
	}
	buf_init(&path, 0);
	buf_printf(&path, "/2013-04-01/tags/hostedzone/%s", lc->r.id);
	rc = aws_call(lc, &aws_svc_route53, NULL, "GET", "ListTagsForResource",
		      path.data, &doc, err);
	buf_release(&path);
	if (rc)
		return rc;
	tags_from(lc, &doc.root, "ResourceTagSet/Tags/Tag[]", "Key", "Value");
	aws_doc_release(&doc);
	name_or(lc, full, "Name");
	return 0;
}

/* -------------------------------------------------------------- tables */

static const struct aws_field lambda_fields[] = {
    {"arn", "Configuration/FunctionArn", AWS_STR},
    {"runtime", "Configuration/Runtime", AWS_STR},
    {"handler", "Configuration/Handler", AWS_STR},
    {"package_type", "Configuration/PackageType", AWS_STR},
    {"architectures", "Configuration/Architectures[]", AWS_STRS},
    {"memory_size", "Configuration/MemorySize", AWS_INT},
    {"timeout", "Configuration/Timeout", AWS_INT},
    {"code_size", "Configuration/CodeSize", AWS_INT},
    {"last_modified", "Configuration/LastModified", AWS_TIME},
    {"role_arn", "Configuration/Role", AWS_STR},
    {"kms_key_id", "Configuration/KMSKeyArn", AWS_STR},
    {"vpc_id", "Configuration/VpcConfig/VpcId", AWS_STR},
    {"subnet_ids", "Configuration/VpcConfig/SubnetIds[]", AWS_STRS},
    {"security_groups", "Configuration/VpcConfig/SecurityGroupIds[]", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel lambda_rels[] = {
    {"in_vpc", "Configuration/VpcConfig/VpcId", "vpc"},
    {"in_subnet", "Configuration/VpcConfig/SubnetIds[]", "subnet"},
    {"uses_security_group", "Configuration/VpcConfig/SecurityGroupIds[]",
     "security_group"},
    {NULL, NULL, NULL},
};

static const struct aws_field dynamodb_fields[] = {
    {"arn", "TableArn", AWS_STR},
    {"item_count", "ItemCount", AWS_INT},
    {"size_bytes", "TableSizeBytes", AWS_INT},
    {"read_capacity", "ProvisionedThroughput/ReadCapacityUnits", AWS_INT},
    {"write_capacity", "ProvisionedThroughput/WriteCapacityUnits", AWS_INT},
    {"key_schema", "KeySchema[]/AttributeName", AWS_STRS},
    {"table_class", "TableClassSummary/TableClass", AWS_STR},
    {"sse_type", "SSEDescription/SSEType", AWS_STR},
    {"kms_key_id", "SSEDescription/KMSMasterKeyArn", AWS_STR},
    {"deletion_protection", "DeletionProtectionEnabled", AWS_BOOL},
    {"stream_enabled", "StreamSpecification/StreamEnabled", AWS_BOOL},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field sqs_fields[] = {
    {"url", "QueueUrl", AWS_STR},
    {"arn", "Attributes/QueueArn", AWS_STR},
    {"visibility_timeout", "Attributes/VisibilityTimeout", AWS_INT},
    {"message_retention_seconds", "Attributes/MessageRetentionPeriod", AWS_INT},
    {"delay_seconds", "Attributes/DelaySeconds", AWS_INT},
    {"max_message_size", "Attributes/MaximumMessageSize", AWS_INT},
    {"kms_key_id", "Attributes/KmsMasterKeyId", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field kms_fields[] = {
    {"arn", "Arn", AWS_STR},
    {"description", "Description", AWS_STR},
    {"key_manager", "KeyManager", AWS_STR},
    {"key_usage", "KeyUsage", AWS_STR},
    {"key_spec", "KeySpec", AWS_STR},
    {"origin", "Origin", AWS_STR},
    {"enabled", "Enabled", AWS_BOOL},
    {"multi_region", "MultiRegion", AWS_BOOL},
    {"deletion_date", "DeletionDate", AWS_TIME},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field logs_fields[] = {
    {"arn", "logGroupArn", AWS_STR},
    {"retention_days", "retentionInDays", AWS_INT},
    {"stored_bytes", "storedBytes", AWS_INT},
    {"log_group_class", "logGroupClass", AWS_STR},
    {"kms_key_id", "kmsKeyId", AWS_STR},
    {"encrypted", "kmsKeyId", AWS_EXISTS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field ecr_fields[] = {
    {"arn", "repositoryArn", AWS_STR},
    {"uri", "repositoryUri", AWS_STR},
    {"registry_id", "registryId", AWS_STR},
    {"image_tag_mutability", "imageTagMutability", AWS_STR},
    {"scan_on_push", "imageScanningConfiguration/scanOnPush", AWS_BOOL},
    {"encryption_type", "encryptionConfiguration/encryptionType", AWS_STR},
    {"kms_key_id", "encryptionConfiguration/kmsKey", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field eks_fields[] = {
    {"arn", "arn", AWS_STR},
    {"version", "version", AWS_STR},
    {"platform_version", "platformVersion", AWS_STR},
    {"endpoint", "endpoint", AWS_STR},
    {"role_arn", "roleArn", AWS_STR},
    {"vpc_id", "resourcesVpcConfig/vpcId", AWS_STR},
    {"subnet_ids", "resourcesVpcConfig/subnetIds[]", AWS_STRS},
    {"security_groups", "resourcesVpcConfig/securityGroupIds[]", AWS_STRS},
    {"cluster_security_group_id", "resourcesVpcConfig/clusterSecurityGroupId",
     AWS_STR},
    {"public", "resourcesVpcConfig/endpointPublicAccess", AWS_BOOL},
    {"private_access", "resourcesVpcConfig/endpointPrivateAccess", AWS_BOOL},
    {"public_access_cidrs", "resourcesVpcConfig/publicAccessCidrs[]", AWS_STRS},
    {"encrypted", "encryptionConfig[]/provider/keyArn", AWS_EXISTS},
    {"kms_key_id", "encryptionConfig[]/provider/keyArn", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel eks_rels[] = {
    {"in_vpc", "resourcesVpcConfig/vpcId", "vpc"},
    {"in_subnet", "resourcesVpcConfig/subnetIds[]", "subnet"},
    {"uses_security_group", "resourcesVpcConfig/securityGroupIds[]",
     "security_group"},
    {"uses_security_group", "resourcesVpcConfig/clusterSecurityGroupId",
     "security_group"},
    {NULL, NULL, NULL},
};

static const struct aws_field ecs_fields[] = {
    {"arn", "clusterArn", AWS_STR},
    {"running_tasks", "runningTasksCount", AWS_INT},
    {"pending_tasks", "pendingTasksCount", AWS_INT},
    {"active_services", "activeServicesCount", AWS_INT},
    {"container_instances", "registeredContainerInstancesCount", AWS_INT},
    {"capacity_providers", "capacityProviders[]", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field secret_fields[] = {
    {"arn", "ARN", AWS_STR},
    {"secret_name", "Name", AWS_STR},
    {"description", "Description", AWS_STR},
    {"kms_key_id", "KmsKeyId", AWS_STR},
    {"rotation_enabled", "RotationEnabled", AWS_BOOL},
    {"rotation_lambda_arn", "RotationLambdaARN", AWS_STR},
    {"last_changed", "LastChangedDate", AWS_TIME},
    {"last_rotated", "LastRotatedDate", AWS_TIME},
    {"primary_region", "PrimaryRegion", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field route53_fields[] = {
    {"domain_name", "Name", AWS_STR},
    {"private_zone", "Config/PrivateZone", AWS_BOOL},
    {"record_set_count", "ResourceRecordSetCount", AWS_INT},
    {"comment", "Config/Comment", AWS_STR},
    {NULL, NULL, AWS_STR},
};

const struct aws_type aws_types_json[] = {
    {
	.type = "s3_bucket",
	.svc = &aws_svc_s3,
	.flags = AWS_PLACED,
	.operation = "ListBuckets",
	.params = "/",
	/* With max-buckets AWS pages and gives each BucketRegion. */
	.page_param = "max-buckets",
	.page_size = "10000",
	.token_in = "continuation-token",
	.token_out = "ContinuationToken",
	.items = "Buckets/Bucket",
	.id = "Name",
	.created = "CreationDate",
	.enrich = s3_enrich,
    },
    {
	.type = "lambda_function",
	.svc = &aws_svc_lambda,
	.operation = "ListFunctions",
	.params = "/2015-03-31/functions/",
	.page_param = "MaxItems",
	.page_size = "50",
	.token_in = "Marker",
	.token_out = "NextMarker",
	.items = "Functions[]",
	.id = "Configuration/FunctionName",
	.status = "Configuration/State",
	.tags = {"Tags", NULL, NULL},
	.fields = lambda_fields,
	.rels = lambda_rels,
	.expand = lambda_expand,
	.enrich = lambda_enrich,
    },
    {
	.type = "dynamodb_table",
	.svc = &aws_svc_dynamodb,
	.operation = "ListTables",
	.params = "{}",
	.page_param = "Limit",
	.page_size = "100",
	.token_in = "ExclusiveStartTableName",
	.token_out = "LastEvaluatedTableName",
	.items = "TableNames[]",
	.id = "TableName",
	.status = "TableStatus",
	.created = "CreationDateTime",
	.tags = {"Tags[]", "Key", "Value"},
	.fields = dynamodb_fields,
	.expand = dynamodb_expand,
	.enrich = dynamodb_enrich,
    },
    {
	.type = "sqs_queue",
	.svc = &aws_svc_sqs,
	.operation = "ListQueues",
	.params = "{}",
	.page_param = "MaxResults",
	.page_size = "1000",
	.token_in = "NextToken",
	.token_out = "NextToken",
	.items = "QueueUrls[]",
	.id = "QueueName",
	.created = "Attributes/CreatedTimestamp",
	.tags = {"Tags", NULL, NULL},
	.fields = sqs_fields,
	.expand = sqs_expand,
	.enrich = sqs_enrich,
    },
    {
	.type = "kms_key",
	.svc = &aws_svc_kms,
	.operation = "ListKeys",
	.params = "{}",
	.page_param = "Limit",
	.page_size = "1000",
	.token_in = "Marker",
	.token_out = "NextMarker",
	.items = "Keys[]",
	.id = "KeyId",
	.status = "KeyState",
	.created = "CreationDate",
	.tags = {"Tags[]", "TagKey", "TagValue"},
	.fields = kms_fields,
	.expand = kms_expand,
    },
    {
	.type = "log_group",
	.svc = &aws_svc_logs,
	.operation = "DescribeLogGroups",
	.params = "{}",
	.page_param = "limit",
	.page_size = "50",
	.token_in = "nextToken",
	.token_out = "nextToken",
	.items = "logGroups[]",
	.id = "logGroupName",
	.created = "creationTime",
	.tags = {"tags", NULL, NULL},
	.fields = logs_fields,
	.expand = logs_expand,
	.enrich = logs_enrich,
    },
    {
	.type = "ecr_repository",
	.svc = &aws_svc_ecr,
	.operation = "DescribeRepositories",
	.params = "{}",
	.page_param = "maxResults",
	.page_size = "1000",
	.token_in = "nextToken",
	.token_out = "nextToken",
	.items = "repositories[]",
	.id = "repositoryName",
	.created = "createdAt",
	.tags = {"tags[]", "Key", "Value"},
	.fields = ecr_fields,
	.expand = ecr_expand,
	.enrich = ecr_enrich,
    },
    {
	.type = "eks_cluster",
	.svc = &aws_svc_eks,
	.operation = "ListClusters",
	.params = "/clusters",
	.page_param = "maxResults",
	.page_size = "100",
	.token_in = "nextToken",
	.token_out = "nextToken",
	.items = "clusters[]",
	.id = "name",
	.status = "status",
	.created = "createdAt",
	.tags = {"tags", NULL, NULL},
	.fields = eks_fields,
	.rels = eks_rels,
	.expand = eks_expand,
	.enrich = eks_enrich,
    },
    {
	.type = "ecs_cluster",
	.svc = &aws_svc_ecs,
	.operation = "ListClusters",
	.params = "{}",
	.page_param = "maxResults",
	.page_size = "100",
	.token_in = "nextToken",
	.token_out = "nextToken",
	.items = "clusterArns[]",
	.id = "clusterName",
	.status = "status",
	.tags = {"tags[]", "key", "value"},
	.fields = ecs_fields,
	.expand = ecs_expand,
	.enrich = ecs_enrich,
    },
    {
	.type = "secret",
	.svc = &aws_svc_secretsmanager,
	.operation = "ListSecrets",
	.params = "{}",
	.page_param = "MaxResults",
	.page_size = "100",
	.token_in = "NextToken",
	.token_out = "NextToken",
	.items = "SecretList[]",
	.id = "ARN",
	.created = "CreatedDate",
	.tags = {"Tags[]", "Key", "Value"},
	.fields = secret_fields,
	.enrich = secret_enrich,
    },
    {
	.type = "route53_zone",
	.svc = &aws_svc_route53,
	.flags = AWS_GLOBAL,
	.operation = "ListHostedZones",
	.params = "/2013-04-01/hostedzone",
	.page_param = "maxitems",
	.page_size = "100",
	.token_in = "marker",
	.token_out = "NextMarker",
	.items = "HostedZones/HostedZone",
	.id = "Id",
	.fields = route53_fields,
	.enrich = route53_enrich,
    },
    {0},
};
