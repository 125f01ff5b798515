/*
 * The write side of the AWS provider: create, update and delete for the
 * types Elava makes (ec2_instance, ebs_volume, s3_bucket, security_group)
 * and tag changes on every type that has tags (tagging.c). An update is
 * checked whole before its first call — an attribute Elava cannot change,
 * a type whose tags it cannot change, an instance that must be stopped
 * first — so what Elava refuses is refused with nothing done; the rest is
 * up to AWS, whose errors come back with their codes. Requests are built
 * here for every protocol (aws_write_send) and go through the caller's
 * client.
 */
#include "list_int.h"

#include <inttypes.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* ------------------------------------------------------------- requests */

void aws_form_init(struct aws_form *f)
{
	buf_init(&f->b, 0);
	f->rc = 0;
}

void aws_form_release(struct aws_form *f)
{
	buf_release(&f->b);
}

void aws_form_add(struct aws_form *f, const char *value, const char *keyfmt,
		  ...)
{
	char key[256];
	va_list ap;
	int n;

	if (f->rc)
		return;
	va_start(ap, keyfmt);
	n = vsnprintf(key, sizeof(key), keyfmt, ap);
	va_end(ap);
	if (n < 0 || (size_t)n >= sizeof(key))
		f->rc = ELAVA_E_TOOBIG;
	else
		f->rc = aws_query_param(&f->b, key, value);
}

int aws_write_send(struct aws_provider *p, const struct aws_write *w,
		   struct aws_doc *doc, char *code, struct elava_error *err)
{
	struct aws_response resp;
	int rc;

	if (doc)
		memset(doc, 0, sizeof(*doc));
	if (code)
		code[0] = '\0';
	aws_response_init(&resp);
	rc = aws_send(p->client, w, &resp, err);
	if (rc && code)
		snprintf(code, 128, "%s", resp.error_code);
	if (!rc && doc && resp.body.len &&
	    (rc = aws_doc_parse(resp.body.data, resp.body.len,
				aws_protocol_xml(w->svc), doc, err)))
		elava_error_prefix(err, "%s %s", w->svc->name, w->operation);
	aws_response_release(&resp);
	return rc;
}

int aws_write_form(struct aws_provider *p, const struct aws_service *svc,
		   const char *region, const char *op, struct aws_form *f,
		   struct aws_doc *doc, char *code, struct elava_error *err)
{
	struct aws_write w = {0};

	if (f->rc)
		return elava_error_set(err, f->rc, "%s %s: request too large",
				       svc->name, op);
	w.svc = svc;
	w.region = region;
	w.operation = op;
	w.form = f->b.data;
	return aws_write_send(p, &w, doc, code, err);
}

/* ------------------------------------------------------------- records */

const char *aws_write_region(const struct aws_provider *p,
			     const struct resource *r)
{
	if (r->region && *r->region && strcmp(r->region, "global"))
		return r->region;
	return p->region;
}

const char *aws_write_account(const struct aws_provider *p,
			      const struct resource *r)
{
	return r->account && *r->account ? r->account : p->account;
}

bool aws_s3_bucket_ok(const char *name)
{
	size_t n = strlen(name);

	/* AWS's rules are stricter for new buckets (AWS checks them); this
	 * keeps the name safe in a path, old us-east-1 names included. */
	if (n < 1 || n > 255)
		return false;
	for (const char *c = name; *c; c++)
		if (!((*c >= 'A' && *c <= 'Z') || (*c >= 'a' && *c <= 'z') ||
		      (*c >= '0' && *c <= '9') || *c == '-' || *c == '_' ||
		      *c == '.'))
			return false;
	return true;
}

/* An attribute; NULL when absent or null. */
static const struct ejson *attr(const struct resource *r, const char *name)
{
	const struct ejson *v = ejson_object_get(r->attributes, name);

	return v && ejson_typeof(v) != EJSON_NULL ? v : NULL;
}

/* A string attribute; NULL when absent; ELAVA_E_INVAL for another type. */
static int attr_str(const struct resource *r, const char *name,
		    const char **out, struct elava_error *err)
{
	const struct ejson *v = attr(r, name);

	*out = NULL;
	if (!v)
		return 0;
	if (ejson_typeof(v) != EJSON_STRING)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "%s: attribute '%s' must be a string",
				       r->type, name);
	*out = *ejson_string_value(v) ? ejson_string_value(v) : NULL;
	return 0;
}

/* An integer attribute as its decimal text in out ("" when absent). */
static int attr_int(const struct resource *r, const char *name, char out[24],
		    int64_t *value, struct elava_error *err)
{
	const struct ejson *v = attr(r, name);
	double d;

	out[0] = '\0';
	if (!v)
		return 0;
	d = ejson_number_value(v);
	if ((ejson_typeof(v) != EJSON_INT && ejson_typeof(v) != EJSON_REAL) ||
	    d != (double)(int64_t)d || d < 0)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "%s: attribute '%s' must be a "
				       "non-negative integer",
				       r->type, name);
	*value = (int64_t)d;
	snprintf(out, 24, "%" PRId64, *value);
	return 0;
}

/* A boolean attribute as "true"/"false" (NULL when absent). */
static int attr_bool(const struct resource *r, const char *name,
		     const char **out, struct elava_error *err)
{
	const struct ejson *v = attr(r, name);

	*out = NULL;
	if (!v)
		return 0;
	if (ejson_typeof(v) != EJSON_BOOL)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "%s: attribute '%s' must be true or "
				       "false",
				       r->type, name);
	*out = ejson_bool_value(v) ? "true" : "false";
	return 0;
}

/* A volume's size in GiB: "size" as the listing writes it, or
 * "size_gb". */
static const char *size_attr(const struct resource *r)
{
	return attr(r, "size") ? "size" : "size_gb";
}

/* The id a create answered with, at path in doc. */
static int new_id(struct aws_doc *doc, const char *path, const char *op,
		  char **id_out, struct elava_error *err)
{
	struct buf b;
	int rc = 0;

	buf_init(&b, 0);
	if (aws_node_text(&doc->root, path, &b) && b.len)
		*id_out = buf_detach(&b, NULL);
	else
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "ec2 %s: no id in the response", op);
	buf_release(&b);
	return rc;
}

/* Give err the code `code` (the message stays): for AWS errors that mean
 * the same as one of Elava's. */
static int recode(struct elava_error *err, int code)
{
	if (err)
		err->code = code;
	return code;
}

/* -------------------------------------------------------------- creates */

static int create_instance(struct aws_provider *p, const struct resource *d,
			   const char *token, char **id_out,
			   struct elava_error *err)
{
	const char *image, *itype, *subnet, *key;
	const struct ejson *sgs = attr(d, "security_groups");
	struct aws_form f;
	struct aws_doc doc = {0};
	int rc;

	if ((rc = attr_str(d, "image_id", &image, err)) ||
	    (rc = attr_str(d, "instance_type", &itype, err)) ||
	    (rc = attr_str(d, "subnet_id", &subnet, err)) ||
	    (rc = attr_str(d, "key_name", &key, err)))
		return rc;
	if (!image)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "ec2_instance: attribute 'image_id' is "
				       "required to create an instance");
	if (sgs && ejson_typeof(sgs) != EJSON_ARRAY)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "ec2_instance: attribute "
				       "'security_groups' must be an array of "
				       "group ids");
	aws_form_init(&f);
	aws_form_add(&f, image, "ImageId");
	if (itype)
		aws_form_add(&f, itype, "InstanceType");
	aws_form_add(&f, "1", "MinCount");
	aws_form_add(&f, "1", "MaxCount");
	if (subnet)
		aws_form_add(&f, subnet, "SubnetId");
	if (key)
		aws_form_add(&f, key, "KeyName");
	for (size_t i = 0; sgs && i < ejson_array_size(sgs); i++) {
		const char *sg = ejson_string_value(ejson_array_get(sgs, i));
		if (!sg) {
			aws_form_release(&f);
			return elava_error_set(err, ELAVA_E_INVAL,
					       "ec2_instance: attribute "
					       "'security_groups' must be an "
					       "array of group ids");
		}
		aws_form_add(&f, sg, "SecurityGroupId.%zu", i + 1);
	}
	if (token && *token)
		aws_form_add(&f, token, "ClientToken");
	aws_tags_spec(&f, "instance", d);
	rc = aws_write_form(p, &aws_svc_ec2, aws_write_region(p, d),
			    "RunInstances", &f, &doc, NULL, err);
	if (!rc)
		rc = new_id(&doc, "instancesSet/item/instanceId",
			    "RunInstances", id_out, err);
	aws_doc_release(&doc);
	aws_form_release(&f);
	return rc;
}

static int create_volume(struct aws_provider *p, const struct resource *d,
			 const char *token, char **id_out,
			 struct elava_error *err)
{
	const char *az, *vtype, *kms, *encrypted;
	char size[24], iops[24], tput[24];
	int64_t v;
	struct aws_form f;
	struct aws_doc doc = {0};
	int rc;

	if ((rc = attr_str(d, "availability_zone", &az, err)) ||
	    (rc = attr_str(d, "volume_type", &vtype, err)) ||
	    (rc = attr_str(d, "kms_key_id", &kms, err)) ||
	    (rc = attr_bool(d, "encrypted", &encrypted, err)) ||
	    (rc = attr_int(d, size_attr(d), size, &v, err)) ||
	    (rc = attr_int(d, "iops", iops, &v, err)) ||
	    (rc = attr_int(d, "throughput", tput, &v, err)))
		return rc;
	if (!az)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "ebs_volume: attribute "
				       "'availability_zone' is required to "
				       "create a volume");
	aws_form_init(&f);
	aws_form_add(&f, az, "AvailabilityZone");
	if (*size)
		aws_form_add(&f, size, "Size");
	if (vtype)
		aws_form_add(&f, vtype, "VolumeType");
	if (*iops)
		aws_form_add(&f, iops, "Iops");
	if (*tput)
		aws_form_add(&f, tput, "Throughput");
	if (encrypted)
		aws_form_add(&f, encrypted, "Encrypted");
	if (kms)
		aws_form_add(&f, kms, "KmsKeyId");
	if (token && *token)
		aws_form_add(&f, token, "ClientToken");
	aws_tags_spec(&f, "volume", d);
	rc = aws_write_form(p, &aws_svc_ec2, aws_write_region(p, d),
			    "CreateVolume", &f, &doc, NULL, err);
	if (!rc)
		rc = new_id(&doc, "volumeId", "CreateVolume", id_out, err);
	aws_doc_release(&doc);
	aws_form_release(&f);
	return rc;
}

static int create_security_group(struct aws_provider *p,
				 const struct resource *d, char **id_out,
				 struct elava_error *err)
{
	const char *name, *descr, *vpc;
	struct aws_form f;
	struct aws_doc doc = {0};
	char code[128];
	int rc;

	if ((rc = attr_str(d, "group_name", &name, err)) ||
	    (rc = attr_str(d, "description", &descr, err)) ||
	    (rc = attr_str(d, "vpc_id", &vpc, err)))
		return rc;
	if (!name)
		name = d->name && *d->name ? d->name : NULL;
	if (!name || !descr)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "security_group: a name (attribute "
				       "'group_name' or the record's name) and "
				       "attribute 'description' are required "
				       "to create a group");
	aws_form_init(&f);
	aws_form_add(&f, name, "GroupName");
	aws_form_add(&f, descr, "GroupDescription");
	if (vpc)
		aws_form_add(&f, vpc, "VpcId");
	aws_tags_spec(&f, "security-group", d);
	rc = aws_write_form(p, &aws_svc_ec2, aws_write_region(p, d),
			    "CreateSecurityGroup", &f, &doc, code, err);
	if (rc && !strcmp(code, "InvalidGroup.Duplicate"))
		rc = recode(err, ELAVA_E_EXISTS);
	if (!rc)
		rc =
		    new_id(&doc, "groupId", "CreateSecurityGroup", id_out, err);
	aws_doc_release(&doc);
	aws_form_release(&f);
	return rc;
}

/* S3 bodies: one element in S3's namespace holding one text element. */
static int s3_body(const char *root, const char *child, const char *text,
		   struct buf *out)
{
	xmlDocPtr doc = xmlNewDoc(BAD_CAST "1.0");
	xmlNodePtr n = xmlNewNode(NULL, BAD_CAST root);
	xmlChar *mem = NULL;
	int len = 0, rc;

	xmlSetNs(n,
		 xmlNewNs(n, BAD_CAST "http://s3.amazonaws.com/doc/2006-03-01/",
			  NULL));
	xmlDocSetRootElement(doc, n);
	xmlNewTextChild(n, NULL, BAD_CAST child, BAD_CAST text);
	xmlDocDumpMemoryEnc(doc, &mem, &len, "UTF-8");
	xmlFreeDoc(doc);
	rc = mem && len > 0 ? buf_append(out, mem, (size_t)len) : ELAVA_E_IO;
	xmlFree(mem);
	return rc;
}

static int bucket_versioning_value(const struct resource *r, const char **out,
				   struct elava_error *err)
{
	int rc = attr_str(r, "versioning", out, err);

	/* "Disabled": never enabled, as the listing writes it. */
	if (!rc && *out && strcmp(*out, "Enabled") &&
	    strcmp(*out, "Suspended") && strcmp(*out, "Disabled"))
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "s3_bucket '%s': attribute 'versioning' "
				     "is \"Enabled\" or \"Suspended\"",
				     r->id);
	return rc;
}

static int put_versioning(struct aws_provider *p, const char *region,
			  const char *bucket, const char *status,
			  struct elava_error *err)
{
	struct aws_write w = {0};
	struct buf path, body;
	int rc;

	buf_init(&path, 0);
	buf_init(&body, 0);
	rc = buf_printf(&path, "/%s", bucket);
	if (!rc)
		rc =
		    s3_body("VersioningConfiguration", "Status", status, &body);
	w.svc = &aws_svc_s3;
	w.region = region;
	w.method = "PUT";
	w.operation = "PutBucketVersioning";
	w.path = path.data;
	w.query = "versioning=";
	w.body = body.data;
	w.body_len = body.len;
	w.content_type = "application/xml";
	w.checksum = true;
	if (!rc)
		rc = aws_write_send(p, &w, NULL, NULL, err);
	buf_release(&path);
	buf_release(&body);
	return rc;
}

static int create_bucket(struct aws_provider *p, const struct resource *d,
			 char **id_out, struct elava_error *err)
{
	const char *name = d->id && *d->id ? d->id : d->name;
	const char *region = aws_write_region(p, d);
	const char *versioning;
	struct aws_write w = {0};
	struct resource made;
	struct buf path, body;
	char code[128];
	int rc;

	if (!name || !aws_s3_bucket_ok(name))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "s3_bucket '%s': not a bucket name "
				       "(the record's id, or its name)",
				       name ? name : "");
	if ((rc = bucket_versioning_value(d, &versioning, err)))
		return rc;
	buf_init(&path, 0);
	buf_init(&body, 0);
	resource_init(&made);
	rc = buf_printf(&path, "/%s", name);
	/* us-east-1 is the default location and may not be named. */
	if (!rc && strcmp(region, "us-east-1"))
		rc = s3_body("CreateBucketConfiguration", "LocationConstraint",
			     region, &body);
	w.svc = &aws_svc_s3;
	w.region = region;
	w.method = "PUT";
	w.operation = "CreateBucket";
	w.path = path.data;
	w.body = body.len ? body.data : NULL;
	w.body_len = body.len;
	w.content_type = body.len ? "application/xml" : NULL;
	if (!rc)
		rc = aws_write_send(p, &w, NULL, code, err);
	if (rc && (!strcmp(code, "BucketAlreadyOwnedByYou") ||
		   !strcmp(code, "BucketAlreadyExists")))
		rc = recode(err, ELAVA_E_EXISTS);
	if (rc)
		goto out;
	/* The bucket exists from here: a later failure says so. */
	resource_set(&made.provider, "aws");
	resource_set(&made.account, aws_write_account(p, d));
	resource_set(&made.region, region);
	resource_set(&made.type, "s3_bucket");
	resource_set(&made.id, name);
	if (versioning && !strcmp(versioning, "Enabled"))
		rc = put_versioning(p, region, name, versioning, err);
	if (!rc)
		rc = aws_tags_apply(p, &made, d, err);
	if (rc)
		elava_error_prefix(err, "bucket '%s' was created, but", name);
	else
		*id_out = xstrdup(name);
out:
	resource_release(&made);
	buf_release(&path);
	buf_release(&body);
	return rc;
}

int aws_write_create(struct provider *base, const struct resource *desired,
		     const char *token, char **id_out, struct elava_error *err)
{
	struct aws_provider *p = (struct aws_provider *)base;
	const char *type = desired->type ? desired->type : "";
	int rc;

	*id_out = NULL;
	if (strcmp(type, "ec2_instance") && strcmp(type, "ebs_volume") &&
	    strcmp(type, "s3_bucket") && strcmp(type, "security_group"))
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "creating a %s is not supported (Elava "
				       "creates ec2_instance, ebs_volume, "
				       "s3_bucket and security_group)",
				       *type ? type
					     : "resource without a type");
	atomic_store(&p->cancel, false);
	if ((rc = aws_provider_creds(p, p->client, &p->client_gen, err)))
		return rc;
	if (!strcmp(type, "ec2_instance"))
		rc = create_instance(p, desired, token, id_out, err);
	else if (!strcmp(type, "ebs_volume"))
		rc = create_volume(p, desired, token, id_out, err);
	else if (!strcmp(type, "s3_bucket"))
		rc = create_bucket(p, desired, id_out, err);
	else
		rc = create_security_group(p, desired, id_out, err);
	if (rc)
		elava_error_prefix(err, "creating a %s", type);
	return rc;
}

/* -------------------------------------------------------------- updates */

/* The attributes an update changes, per type; tags on every type. */
static const char *const instance_attrs[] = {"instance_type", NULL};
static const char *const volume_attrs[] = {"size", "size_gb",	 "volume_type",
					   "iops", "throughput", NULL};
static const char *const bucket_attrs[] = {"versioning", NULL};
static const char *const no_attrs[] = {NULL};

static const char *const *updatable(const char *type)
{
	if (!strcmp(type, "ec2_instance"))
		return instance_attrs;
	if (!strcmp(type, "ebs_volume"))
		return volume_attrs;
	if (!strcmp(type, "s3_bucket"))
		return bucket_attrs;
	return no_attrs;
}

/* True when desired asks for attribute name to change. */
static bool changes(const struct resource *cur, const struct resource *want,
		    const char *name)
{
	const struct ejson *w = attr(want, name);
	const struct ejson *c = attr(cur, name);

	return w && (!c || !ejson_equal(c, w));
}

/* Every attribute desired changes must be one the type's update changes. */
static int check_attrs(const struct resource *cur, const struct resource *want,
		       struct elava_error *err)
{
	const char *const *ok = updatable(cur->type);
	const char **keys;
	size_t n;
	int rc = 0;

	keys = ejson_object_sorted_keys(want->attributes, &n);
	for (size_t i = 0; i < n && !rc; i++) {
		bool allowed = false;
		if (!changes(cur, want, keys[i]))
			continue;
		for (const char *const *a = ok; *a; a++)
			allowed |= !strcmp(*a, keys[i]);
		if (!allowed)
			rc = elava_error_set(err, ELAVA_E_UNSUPPORTED,
					     "%s '%s': attribute '%s' cannot "
					     "be changed by Elava",
					     cur->type, cur->id, keys[i]);
	}
	xfree(keys);
	return rc;
}

/* AWS changes the type of a stopped instance only. */
static int instance_stopped(struct aws_provider *p, const struct resource *r,
			    struct elava_error *err)
{
	struct aws_form f;
	struct aws_doc doc = {0};
	struct buf state;
	int rc;

	aws_form_init(&f);
	buf_init(&state, 0);
	aws_form_add(&f, r->id, "InstanceId.1");
	rc = aws_write_form(p, &aws_svc_ec2, aws_write_region(p, r),
			    "DescribeInstances", &f, &doc, NULL, err);
	if (!rc && !aws_node_text(&doc.root,
				  "reservationSet/item/instancesSet/item/"
				  "instanceState/name",
				  &state))
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "ec2 DescribeInstances: no instance '%s'",
				     r->id);
	if (!rc && strcmp(state.data, "stopped"))
		rc = elava_error_set(err, ELAVA_E_STATE,
				     "ec2_instance '%s' is %s: AWS changes the "
				     "instance type of a stopped instance only "
				     "(stop it first)",
				     r->id, state.data);
	buf_release(&state);
	aws_doc_release(&doc);
	aws_form_release(&f);
	return rc;
}

static int update_instance(struct aws_provider *p, const struct resource *cur,
			   const struct resource *want, bool check,
			   struct elava_error *err)
{
	const char *itype;
	struct aws_form f;
	int rc;

	if (!changes(cur, want, "instance_type"))
		return 0;
	if ((rc = attr_str(want, "instance_type", &itype, err)))
		return rc;
	if (!itype)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "ec2_instance: attribute "
				       "'instance_type' is empty");
	if (check)
		return instance_stopped(p, cur, err);
	aws_form_init(&f);
	aws_form_add(&f, cur->id, "InstanceId");
	aws_form_add(&f, itype, "InstanceType.Value");
	rc = aws_write_form(p, &aws_svc_ec2, aws_write_region(p, cur),
			    "ModifyInstanceAttribute", &f, NULL, NULL, err);
	aws_form_release(&f);
	return rc;
}

static int update_volume(struct aws_provider *p, const struct resource *cur,
			 const struct resource *want, bool check,
			 struct elava_error *err)
{
	static const struct {
		const char *attr, *param;
		bool number;
	} params[] = {
	    {"size", "Size", true},
	    {"volume_type", "VolumeType", false},
	    {"iops", "Iops", true},
	    {"throughput", "Throughput", true},
	};
	struct aws_form f;
	bool any = false;
	int rc = 0;

	aws_form_init(&f);
	aws_form_add(&f, cur->id, "VolumeId");
	for (size_t i = 0; i < ARRAY_SIZE(params) && !rc; i++) {
		char num[24], was[24];
		int64_t v = 0, old = 0;
		const char *s;
		const char *name = params[i].attr;
		if (!strcmp(name, "size")) {
			/* Either spelling on either side. */
			const struct ejson *w, *c;
			name = size_attr(want);
			w = attr(want, name);
			c = attr(cur, size_attr(cur));
			if (!w || (c && ejson_equal(c, w)))
				continue;
		} else if (!changes(cur, want, name)) {
			continue;
		}
		any = true;
		if (!params[i].number) {
			if (!(rc = attr_str(want, name, &s, err)) && s)
				aws_form_add(&f, s, "%s", params[i].param);
			continue;
		}
		if ((rc = attr_int(want, name, num, &v, err)))
			break;
		aws_form_add(&f, num, "%s", params[i].param);
		if (strcmp(params[i].param, "Size") ||
		    attr_int(cur, size_attr(cur), was, &old, NULL) || !*was ||
		    v >= old)
			continue;
		rc = elava_error_set(err, ELAVA_E_UNSUPPORTED,
				     "ebs_volume '%s': a volume cannot shrink "
				     "(%" PRId64 " GiB to %" PRId64 " GiB)",
				     cur->id, old, v);
	}
	if (!rc && any && !check)
		rc = aws_write_form(p, &aws_svc_ec2, aws_write_region(p, cur),
				    "ModifyVolume", &f, NULL, NULL, err);
	aws_form_release(&f);
	return rc;
}

static int update_bucket(struct aws_provider *p, const struct resource *cur,
			 const struct resource *want, bool check,
			 struct elava_error *err)
{
	const char *status;
	int rc;

	if (!changes(cur, want, "versioning"))
		return 0;
	if ((rc = bucket_versioning_value(want, &status, err)))
		return rc;
	if (!status || !strcmp(status, "Disabled"))
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "s3_bucket '%s': versioning once "
				       "enabled cannot be disabled, only "
				       "\"Suspended\"",
				       cur->id);
	if (check)
		return 0;
	if (!aws_s3_bucket_ok(cur->id))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "s3_bucket '%s': not a bucket name",
				       cur->id);
	return put_versioning(p, aws_write_region(p, cur), cur->id, status,
			      err);
}

/* The type's own attributes: checked only (check), or changed. */
static int update_attrs(struct aws_provider *p, const struct resource *cur,
			const struct resource *want, bool check,
			struct elava_error *err)
{
	if (!strcmp(cur->type, "ec2_instance"))
		return update_instance(p, cur, want, check, err);
	if (!strcmp(cur->type, "ebs_volume"))
		return update_volume(p, cur, want, check, err);
	if (!strcmp(cur->type, "s3_bucket"))
		return update_bucket(p, cur, want, check, err);
	return 0;
}

static bool same(const char *a, const char *b)
{
	return a && b && !strcmp(a, b);
}

int aws_write_update(struct provider *base, const struct resource *current,
		     const struct resource *desired, struct elava_error *err)
{
	struct aws_provider *p = (struct aws_provider *)base;
	int rc;

	if (!current->type || !current->id ||
	    !same(current->type, desired->type))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "update: the current and desired "
				       "records are not of one type");
	if (!same(current->id, desired->id))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "%s '%s': the desired record has "
				       "another id",
				       current->type, current->id);
	atomic_store(&p->cancel, false);
	/* Everything Elava would refuse, refused before the first change. */
	if ((rc = check_attrs(current, desired, err)) ||
	    (rc = aws_tags_check(p, current, desired, err)) ||
	    (rc = aws_provider_creds(p, p->client, &p->client_gen, err)) ||
	    (rc = update_attrs(p, current, desired, true, err)))
		return rc;
	if ((rc = update_attrs(p, current, desired, false, err)) ||
	    (rc = aws_tags_apply(p, current, desired, err)))
		elava_error_prefix(err, "updating %s '%s'", current->type,
				   current->id);
	return rc;
}

/* -------------------------------------------------------------- deletes */

int aws_write_remove(struct provider *base, const struct resource *r,
		     struct elava_error *err)
{
	struct aws_provider *p = (struct aws_provider *)base;
	const char *type = r->type ? r->type : "";
	const char *region = aws_write_region(p, r);
	struct aws_form f;
	int rc;

	if (!r->id || !*r->id)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "delete: the record has no id");
	if (strcmp(type, "ec2_instance") && strcmp(type, "ebs_volume") &&
	    strcmp(type, "s3_bucket") && strcmp(type, "security_group"))
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "deleting a %s is not supported (Elava "
				       "deletes ec2_instance, ebs_volume, "
				       "s3_bucket and security_group)",
				       *type ? type
					     : "resource without a type");
	if (!strcmp(type, "s3_bucket") && !aws_s3_bucket_ok(r->id))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "s3_bucket '%s': not a bucket name",
				       r->id);
	atomic_store(&p->cancel, false);
	if ((rc = aws_provider_creds(p, p->client, &p->client_gen, err)))
		return rc;
	if (!strcmp(type, "s3_bucket")) {
		/* Never emptied first: a bucket with objects stays, and AWS
		 * says BucketNotEmpty. */
		struct aws_write w = {0};
		struct buf path;
		buf_init(&path, 0);
		rc = buf_printf(&path, "/%s", r->id);
		w.svc = &aws_svc_s3;
		w.region = region;
		w.method = "DELETE";
		w.operation = "DeleteBucket";
		w.path = path.data;
		if (!rc)
			rc = aws_write_send(p, &w, NULL, NULL, err);
		buf_release(&path);
	} else {
		const char *op = "DeleteSecurityGroup", *param = "GroupId";
		if (!strcmp(type, "ec2_instance"))
			op = "TerminateInstances", param = "InstanceId.1";
		else if (!strcmp(type, "ebs_volume"))
			op = "DeleteVolume", param = "VolumeId";
		aws_form_init(&f);
		aws_form_add(&f, r->id, "%s", param);
		rc = aws_write_form(p, &aws_svc_ec2, region, op, &f, NULL, NULL,
				    err);
		aws_form_release(&f);
	}
	if (rc)
		elava_error_prefix(err, "deleting %s '%s'", type, r->id);
	return rc;
}
