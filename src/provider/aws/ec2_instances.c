/*
 * ec2_instance: DescribeInstances, 1000 per page, following nextToken.
 * Each <instancesSet><item> becomes one record: identity, state, launch
 * time, tags, the attributes an operator asks about (type, image, network
 * placement, addresses, security groups, volumes, public exposure) and
 * relationships to its subnet, VPC, security groups and volumes.
 */
#include "list_int.h"

#include <string.h>

static void attr_text(struct aws_list_ctx *lc, xmlNodePtr n, const char *path,
		      const char *name)
{
	if (aws_xml_text(n, path, &lc->text) && lc->text.len) {
		struct ejson *v = ejson_string(lc->text.data, lc->text.len);
		if (v)
			ejson_object_set_take(lc->r.attributes, name, v);
	}
}

static void attr_bool(struct aws_list_ctx *lc, xmlNodePtr n, const char *path,
		      const char *name)
{
	if (aws_xml_text(n, path, &lc->text) && lc->text.len)
		ejson_object_set_take(
		    lc->r.attributes, name,
		    ejson_bool(!strcmp(lc->text.data, "true")));
}

static void tags(struct aws_list_ctx *lc, xmlNodePtr n)
{
	struct buf k = BUF_INIT;

	buf_init(&k, 0);
	for (xmlNodePtr t = aws_xml_child(aws_xml_child(n, "tagSet"), "item");
	     t; t = t->next) {
		if (t->type != XML_ELEMENT_NODE ||
		    strcmp((const char *)t->name, "item"))
			continue;
		if (aws_xml_text(t, "key", &k) &&
		    aws_xml_text(t, "value", &lc->text))
			resource_tag_set(&lc->r, k.data, lc->text.data);
	}
	buf_release(&k);
}

static int on_instance(xmlNodePtr n, void *ud)
{
	struct aws_list_ctx *lc = ud;
	struct ejson *groups = ejson_array(), *vols = ejson_array();
	int64_t t;

	if (!aws_xml_text(n, "instanceId", &lc->text) || !lc->text.len) {
		ejson_free(&groups);
		ejson_free(&vols);
		return 0; /* not an instance record */
	}
	aws_record_begin(lc, lc->text.data);
	if (aws_xml_text(n, "instanceState/name", &lc->text))
		resource_set(&lc->r.status, lc->text.data);
	if (aws_xml_text(n, "launchTime", &lc->text) &&
	    !time_parse_rfc3339(lc->text.data, &t))
		lc->r.created_at_ns = t;
	tags(lc, n);
	attr_text(lc, n, "instanceType", "instance_type");
	attr_text(lc, n, "imageId", "image_id");
	attr_text(lc, n, "keyName", "key_name");
	attr_text(lc, n, "architecture", "architecture");
	attr_text(lc, n, "placement/availabilityZone", "availability_zone");
	attr_text(lc, n, "privateIpAddress", "private_ip");
	attr_text(lc, n, "ipAddress", "public_ip");
	attr_text(lc, n, "privateDnsName", "private_dns_name");
	attr_text(lc, n, "platformDetails", "platform");
	attr_text(lc, n, "iamInstanceProfile/arn", "instance_profile_arn");
	attr_bool(lc, n, "ebsOptimized", "ebs_optimized");
	attr_text(lc, n, "monitoring/state", "monitoring");
	ejson_object_set_take(
	    lc->r.attributes, "public_exposure",
	    ejson_bool(aws_xml_text(n, "ipAddress", &lc->text) &&
		       lc->text.len));
	if (aws_xml_text(n, "subnetId", &lc->text) && lc->text.len) {
		ejson_object_set_take(
		    lc->r.attributes, "subnet_id",
		    ejson_string(lc->text.data, lc->text.len));
		resource_rel_add(&lc->r, "in_subnet",
				 aws_related_key(lc, "subnet", lc->text.data));
	}
	if (aws_xml_text(n, "vpcId", &lc->text) && lc->text.len) {
		ejson_object_set_take(
		    lc->r.attributes, "vpc_id",
		    ejson_string(lc->text.data, lc->text.len));
		resource_rel_add(&lc->r, "in_vpc",
				 aws_related_key(lc, "vpc", lc->text.data));
	}
	for (xmlNodePtr g = aws_xml_child(aws_xml_child(n, "groupSet"), "item");
	     g; g = g->next) {
		if (g->type != XML_ELEMENT_NODE ||
		    !aws_xml_text(g, "groupId", &lc->text) || !lc->text.len)
			continue;
		ejson_array_append_take(
		    groups, ejson_string(lc->text.data, lc->text.len));
		resource_rel_add(
		    &lc->r, "uses_security_group",
		    aws_related_key(lc, "security_group", lc->text.data));
	}
	for (xmlNodePtr b =
		 aws_xml_child(aws_xml_child(n, "blockDeviceMapping"), "item");
	     b; b = b->next) {
		struct buf dev = BUF_INIT;
		if (b->type != XML_ELEMENT_NODE ||
		    !aws_xml_text(b, "ebs/volumeId", &lc->text))
			continue;
		struct ejson *o = ejson_object();
		buf_init(&dev, 0);
		ejson_object_set_take(
		    o, "volume_id", ejson_string(lc->text.data, lc->text.len));
		resource_rel_add(
		    &lc->r, "has_volume",
		    aws_related_key(lc, "ebs_volume", lc->text.data));
		if (aws_xml_text(b, "deviceName", &dev))
			ejson_object_set_take(o, "device",
					      ejson_string(dev.data, dev.len));
		if (aws_xml_text(b, "ebs/deleteOnTermination", &dev))
			ejson_object_set_take(
			    o, "delete_on_termination",
			    ejson_bool(!strcmp(dev.data, "true")));
		buf_release(&dev);
		ejson_array_append_take(vols, o);
	}
	ejson_object_set_take(lc->r.attributes, "security_groups", groups);
	ejson_object_set_take(lc->r.attributes, "block_devices", vols);
	return aws_record_emit(lc);
}

int aws_list_ec2_instances(struct aws_list_ctx *lc, struct elava_error *err)
{
	struct aws_page_guard guard = {0};
	struct aws_response resp;
	struct buf body, token;
	int rc = 0;

	aws_response_init(&resp);
	buf_init(&body, 0);
	buf_init(&token, 0);
	do {
		struct aws_request r = {0};

		buf_reset(&body);
		aws_query_param(&body, "Action", "DescribeInstances");
		aws_query_param(&body, "Version", "2016-11-15");
		aws_query_param(&body, "MaxResults", "1000");
		if (token.len)
			aws_query_param(&body, "NextToken", token.data);
		r.operation = "DescribeInstances";
		r.service = "ec2";
		r.env_id = "EC2";
		r.region = lc->region;
		r.method = "POST";
		r.body = body.data;
		r.body_len = body.len;
		r.content_type =
		    "application/x-www-form-urlencoded; charset=utf-8";
		if ((rc = aws_client_send(lc->client, &r, &resp, err)))
			break;
		lc->pages++;
		rc = aws_xml_walk(resp.body.data, resp.body.len, "instancesSet",
				  "item", on_instance, lc, &token, "nextToken",
				  err);
		if (rc < 0)
			elava_error_prefix(err,
					   "ec2 DescribeInstances in %s "
					   "(page %zu)",
					   lc->region, lc->pages);
		if (rc)
			break;
		if (token.len &&
		    (rc = aws_page_guard_check(&guard, token.data, lc, err)))
			break;
	} while (token.len);
	aws_page_guard_release(&guard);
	aws_response_release(&resp);
	buf_release(&body);
	buf_release(&token);
	return rc;
}
