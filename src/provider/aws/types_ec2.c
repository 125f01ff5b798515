/*
 * The EC2 types: Describe* calls of the EC2 query protocol (lowerCamel
 * XML, records as <item> under a "...Set", tags in tagSet, nextToken).
 * Page sizes are each operation's largest MaxResults (DescribeRouteTables
 * takes 5..100, DescribeLaunchTemplates 1..200, DescribeVolumes returns at
 * most 500); DescribeAddresses and DescribeKeyPairs do not page.
 */
#include "list_int.h"

#include <string.h>

#define TAGS                                                                   \
	{                                                                      \
		"tagSet/item[]", "key", "value"                                \
	}

/* ----------------------------------------------------------------- hooks */

/* A scratch buffer's text ("" when nothing was ever put in it). */
static const char *text_of(const struct buf *b)
{
	return b->data ? b->data : "";
}

static void attr_int(struct aws_list_ctx *lc, const char *name, int64_t v)
{
	ejson_object_set_take(lc->r.attributes, name, ejson_int(v));
}

static void attr_bool(struct aws_list_ctx *lc, const char *name, bool v)
{
	ejson_object_set_take(lc->r.attributes, name, ejson_bool(v));
}

/*
 * uses_key to the KMS key of kmsKeyId. EC2 gives the key's ARN
 * ("arn:aws:kms:<region>:<account>:key/<id>"), and the key may be another
 * account's or region's: the target is keyed where the key lives. An alias
 * is not a key id and gets no relationship.
 */
static void kms_key_rel(struct aws_list_ctx *lc, const struct aws_node *n)
{
	struct buf key = BUF_INIT;
	const char *v, *f[5];
	size_t nf = 0;

	if (!aws_node_text(n, "kmsKeyId", &lc->text) || !lc->text.len)
		return;
	v = lc->text.data;
	if (strncmp(v, "arn:", 4)) {
		if (strncmp(v, "alias/", 6))
			resource_rel_add(&lc->r, "uses_key",
					 aws_related_key(lc, "kms_key", v));
		return;
	}
	/* arn : partition : kms : region : account : key/<id> */
	for (const char *p = v; *p && nf < 5; p++)
		if (*p == ':')
			f[nf++] = p + 1;
	if (nf < 5 || f[3] - f[2] < 2 || f[4] - f[3] < 2 ||
	    strncmp(f[4], "key/", 4) || !f[4][4])
		return;
	buf_init(&key, 0);
	buf_puts(&key, "aws:");
	buf_append(&key, f[3], (size_t)(f[4] - f[3])); /* "<account>:" */
	buf_append(&key, f[2], (size_t)(f[3] - f[2])); /* "<region>:" */
	buf_printf(&key, "kms_key:%s", f[4] + 4);
	resource_rel_add(&lc->r, "uses_key", key.data);
	buf_release(&key);
}

static int volume_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
			 struct elava_error *err)
{
	kms_key_rel(lc, item);
	return 0;
}

static int snapshot_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
			   struct elava_error *err)
{
	kms_key_rel(lc, item);
	/* A copied snapshot names the placeholder volume "vol-ffffffff". */
	if (aws_node_text(item, "volumeId", &lc->text) && lc->text.len &&
	    strcmp(lc->text.data, "vol-ffffffff"))
		resource_rel_add(
		    &lc->r, "from_volume",
		    aws_related_key(lc, "ebs_volume", lc->text.data));
	return 0;
}

static int count_node(const struct aws_node *n, void *ud)
{
	(*(size_t *)ud)++;
	return 0;
}

static size_t count(const struct aws_node *n, const char *path)
{
	size_t c = 0;

	aws_node_each(n, path, count_node, &c);
	return c;
}

struct text_match {
	const char *want;
	struct buf *text;
};

/* 1 (stop) when the node's text is m->want. */
static int match_text(const struct aws_node *n, void *ud)
{
	struct text_match *m = ud;

	return aws_node_text(n, "", m->text) &&
	       !strcmp(text_of(m->text), m->want);
}

static bool any_text(const struct aws_node *n, const char *path,
		     const char *want, struct buf *text)
{
	struct text_match m = {want, text};

	return aws_node_each(n, path, match_text, &m) == 1;
}

struct sg_rules {
	struct aws_list_ctx *lc;
	struct buf text, port;
	size_t rules;
	bool world;
	struct ejson *ports; /* of the rules open to the world */
};

/* A permission's rules: one per CIDR, IPv6 CIDR, group and prefix list. */
static size_t perm_rules(const struct aws_node *perm)
{
	return count(perm, "ipRanges/item[]") +
	       count(perm, "ipv6Ranges/item[]") + count(perm, "groups/item[]") +
	       count(perm, "prefixListIds/item[]");
}

/*
 * How a permission open to the world is shown: "all" (protocol -1),
 * "tcp/443", "udp/1000-2000", or the protocol alone ("icmp", "50").
 */
static void perm_ports(struct sg_rules *s, const struct aws_node *perm)
{
	struct buf from = BUF_INIT, to = BUF_INIT;
	struct ejson *v;

	buf_init(&from, 0);
	buf_init(&to, 0);
	buf_reset(&s->port);
	aws_node_text(perm, "ipProtocol", &s->text);
	if (!strcmp(text_of(&s->text), "-1")) {
		buf_puts(&s->port, "all");
	} else {
		buf_puts(&s->port, text_of(&s->text));
		if ((!strcmp(text_of(&s->port), "tcp") ||
		     !strcmp(text_of(&s->port), "udp")) &&
		    aws_node_text(perm, "fromPort", &from) && from.len &&
		    aws_node_text(perm, "toPort", &to) && to.len) {
			if (!strcmp(from.data, to.data))
				buf_printf(&s->port, "/%s", from.data);
			else
				buf_printf(&s->port, "/%s-%s", from.data,
					   to.data);
		}
	}
	for (size_t i = 0; i < ejson_array_size(s->ports); i++)
		if (!strcmp(ejson_string_value(ejson_array_get(s->ports, i)),
			    text_of(&s->port)))
			goto out;
	v = ejson_string(text_of(&s->port), s->port.len);
	if (v)
		ejson_array_append_take(s->ports, v);
out:
	buf_release(&from);
	buf_release(&to);
}

static int sg_ingress(const struct aws_node *perm, void *ud)
{
	struct sg_rules *s = ud;

	s->rules += perm_rules(perm);
	if (any_text(perm, "ipRanges/item[]/cidrIp", "0.0.0.0/0", &s->text) ||
	    any_text(perm, "ipv6Ranges/item[]/cidrIpv6", "::/0", &s->text)) {
		s->world = true;
		perm_ports(s, perm);
	}
	return 0;
}

static int sg_egress(const struct aws_node *perm, void *ud)
{
	struct sg_rules *s = ud;

	s->rules += perm_rules(perm);
	return 0;
}

/* Rule counts and what the group opens to 0.0.0.0/0 or ::/0. */
static int sg_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
		     struct elava_error *err)
{
	struct sg_rules s = {lc, BUF_INIT, BUF_INIT, 0, false, ejson_array()};

	buf_init(&s.text, 0);
	buf_init(&s.port, 0);
	aws_node_each(item, "ipPermissions/item[]", sg_ingress, &s);
	attr_int(lc, "ingress_rules", (int64_t)s.rules);
	attr_bool(lc, "open_to_world", s.world);
	ejson_object_set_take(lc->r.attributes, "open_to_world_ports", s.ports);
	s.rules = 0;
	aws_node_each(item, "ipPermissionsEgress/item[]", sg_egress, &s);
	attr_int(lc, "egress_rules", (int64_t)s.rules);
	buf_release(&s.text);
	buf_release(&s.port);
	return 0;
}

/* routes_via the internet and NAT gateways a route sends traffic to. */
static int rtb_route(const struct aws_node *route, void *ud)
{
	struct aws_list_ctx *lc = ud;

	/* gatewayId also holds "local", vgw- and vpce- targets. */
	if (aws_node_text(route, "gatewayId", &lc->text) &&
	    !strncmp(text_of(&lc->text), "igw-", 4))
		resource_rel_add(
		    &lc->r, "routes_via",
		    aws_related_key(lc, "internet_gateway", lc->text.data));
	if (aws_node_text(route, "natGatewayId", &lc->text) && lc->text.len)
		resource_rel_add(
		    &lc->r, "routes_via",
		    aws_related_key(lc, "nat_gateway", lc->text.data));
	return 0;
}

static int rtb_enrich(struct aws_list_ctx *lc, const struct aws_node *item,
		      struct elava_error *err)
{
	attr_bool(
	    lc, "main",
	    any_text(item, "associationSet/item[]/main", "true", &lc->text));
	attr_int(lc, "routes", (int64_t)count(item, "routeSet/item[]"));
	aws_node_each(item, "routeSet/item[]", rtb_route, lc);
	return 0;
}

/* ---------------------------------------------------------------- tables */

static const struct aws_field instance_fields[] = {
    {"instance_type", "instanceType", AWS_STR},
    {"image_id", "imageId", AWS_STR},
    {"key_name", "keyName", AWS_STR},
    {"architecture", "architecture", AWS_STR},
    {"availability_zone", "placement/availabilityZone", AWS_STR},
    {"private_ip", "privateIpAddress", AWS_STR},
    {"public_ip", "ipAddress", AWS_STR},
    {"private_dns_name", "privateDnsName", AWS_STR},
    {"platform", "platformDetails", AWS_STR},
    {"instance_profile_arn", "iamInstanceProfile/arn", AWS_STR},
    {"ebs_optimized", "ebsOptimized", AWS_BOOL},
    {"monitoring", "monitoring/state", AWS_STR},
    {"public_exposure", "ipAddress", AWS_EXISTS},
    {"subnet_id", "subnetId", AWS_STR},
    {"vpc_id", "vpcId", AWS_STR},
    {"root_device_name", "rootDeviceName", AWS_STR},
    {"security_groups", "groupSet/item[]/groupId", AWS_STRS},
    {"volume_ids", "blockDeviceMapping/item[]/ebs/volumeId", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel instance_rels[] = {
    {"in_subnet", "subnetId", "subnet"},
    {"in_vpc", "vpcId", "vpc"},
    {"uses_security_group", "groupSet/item[]/groupId", "security_group"},
    {"has_volume", "blockDeviceMapping/item[]/ebs/volumeId", "ebs_volume"},
    {NULL, NULL, NULL},
};

static const struct aws_field volume_fields[] = {
    {"size", "size", AWS_INT},
    {"volume_type", "volumeType", AWS_STR},
    {"iops", "iops", AWS_INT},
    {"throughput", "throughput", AWS_INT},
    {"encrypted", "encrypted", AWS_BOOL},
    {"kms_key_id", "kmsKeyId", AWS_STR},
    {"availability_zone", "availabilityZone", AWS_STR},
    {"snapshot_id", "snapshotId", AWS_STR},
    {"attached_instance_ids", "attachmentSet/item[]/instanceId", AWS_STRS},
    {"multi_attach", "multiAttachEnabled", AWS_BOOL},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel volume_rels[] = {
    {"attached_to", "attachmentSet/item[]/instanceId", "ec2_instance"},
    {"from_snapshot", "snapshotId", "ebs_snapshot"},
    {NULL, NULL, NULL},
};

static const struct aws_field snapshot_fields[] = {
    {"volume_id", "volumeId", AWS_STR},
    {"volume_size", "volumeSize", AWS_INT},
    {"encrypted", "encrypted", AWS_BOOL},
    {"kms_key_id", "kmsKeyId", AWS_STR},
    {"progress", "progress", AWS_STR},
    {"description", "description", AWS_STR},
    {"storage_tier", "storageTier", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field image_fields[] = {
    {"image_name", "name", AWS_STR},
    {"description", "description", AWS_STR},
    {"architecture", "architecture", AWS_STR},
    {"platform", "platformDetails", AWS_STR},
    {"root_device_type", "rootDeviceType", AWS_STR},
    {"root_device_name", "rootDeviceName", AWS_STR},
    {"virtualization_type", "virtualizationType", AWS_STR},
    {"public", "isPublic", AWS_BOOL},
    {"snapshot_ids", "blockDeviceMapping/item[]/ebs/snapshotId", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel image_rels[] = {
    {"from_snapshot", "blockDeviceMapping/item[]/ebs/snapshotId",
     "ebs_snapshot"},
    {NULL, NULL, NULL},
};

static const struct aws_field address_fields[] = {
    {"public_ip", "publicIp", AWS_STR},
    {"domain", "domain", AWS_STR},
    {"associated", "associationId", AWS_EXISTS},
    {"association_id", "associationId", AWS_STR},
    {"instance_id", "instanceId", AWS_STR},
    {"network_interface_id", "networkInterfaceId", AWS_STR},
    {"private_ip", "privateIpAddress", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel address_rels[] = {
    {"attached_to", "instanceId", "ec2_instance"},
    {"attached_to", "networkInterfaceId", "network_interface"},
    {NULL, NULL, NULL},
};

static const struct aws_field nat_fields[] = {
    {"connectivity_type", "connectivityType", AWS_STR},
    {"vpc_id", "vpcId", AWS_STR},
    {"subnet_id", "subnetId", AWS_STR},
    {"public_ips", "natGatewayAddressSet/item[]/publicIp", AWS_STRS},
    {"private_ips", "natGatewayAddressSet/item[]/privateIp", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel in_vpc_subnet_rels[] = {
    {"in_vpc", "vpcId", "vpc"},
    {"in_subnet", "subnetId", "subnet"},
    {NULL, NULL, NULL},
};

static const struct aws_field vpc_fields[] = {
    {"cidr_block", "cidrBlock", AWS_STR},
    {"is_default", "isDefault", AWS_BOOL},
    {"dhcp_options_id", "dhcpOptionsId", AWS_STR},
    {"instance_tenancy", "instanceTenancy", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field subnet_fields[] = {
    {"cidr_block", "cidrBlock", AWS_STR},
    {"availability_zone", "availabilityZone", AWS_STR},
    {"vpc_id", "vpcId", AWS_STR},
    {"map_public_ip_on_launch", "mapPublicIpOnLaunch", AWS_BOOL},
    {"public_exposure", "mapPublicIpOnLaunch", AWS_BOOL},
    {"available_ip_address_count", "availableIpAddressCount", AWS_INT},
    {"default_for_az", "defaultForAz", AWS_BOOL},
    {"arn", "subnetArn", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel in_vpc_rels[] = {
    {"in_vpc", "vpcId", "vpc"},
    {NULL, NULL, NULL},
};

/* Rule counts and what is open to the world: sg_enrich. */
static const struct aws_field sg_fields[] = {
    {"group_name", "groupName", AWS_STR},
    {"description", "groupDescription", AWS_STR},
    {"vpc_id", "vpcId", AWS_STR},
    {"arn", "securityGroupArn", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field eni_fields[] = {
    {"interface_type", "interfaceType", AWS_STR},
    {"description", "description", AWS_STR},
    {"private_ip", "privateIpAddress", AWS_STR},
    {"public_ip", "association/publicIp", AWS_STR},
    {"public_exposure", "association/publicIp", AWS_EXISTS},
    {"availability_zone", "availabilityZone", AWS_STR},
    {"subnet_id", "subnetId", AWS_STR},
    {"vpc_id", "vpcId", AWS_STR},
    {"instance_id", "attachment/instanceId", AWS_STR},
    {"requester_managed", "requesterManaged", AWS_BOOL},
    {"security_groups", "groupSet/item[]/groupId", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel eni_rels[] = {
    {"in_subnet", "subnetId", "subnet"},
    {"in_vpc", "vpcId", "vpc"},
    {"attached_to", "attachment/instanceId", "ec2_instance"},
    {"uses_security_group", "groupSet/item[]/groupId", "security_group"},
    {NULL, NULL, NULL},
};

/* An internet gateway has no state of its own: its attachment's. */
static const struct aws_field igw_fields[] = {
    {"attached", "attachmentSet/item/vpcId", AWS_EXISTS},
    {"attachment_state", "attachmentSet/item/state", AWS_STR},
    {"vpc_id", "attachmentSet/item/vpcId", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel igw_rels[] = {
    {"in_vpc", "attachmentSet/item[]/vpcId", "vpc"},
    {NULL, NULL, NULL},
};

/* main, routes and routes_via: rtb_enrich. */
static const struct aws_field rtb_fields[] = {
    {"vpc_id", "vpcId", AWS_STR},
    {"subnet_ids", "associationSet/item[]/subnetId", AWS_STRS},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field vpce_fields[] = {
    {"service_name", "serviceName", AWS_STR},
    {"vpc_endpoint_type", "vpcEndpointType", AWS_STR},
    {"vpc_id", "vpcId", AWS_STR},
    {"subnet_ids", "subnetIdSet/item[]", AWS_STRS},
    {"route_table_ids", "routeTableIdSet/item[]", AWS_STRS},
    {"security_groups", "groupSet/item[]/groupId", AWS_STRS},
    {"private_dns_enabled", "privateDnsEnabled", AWS_BOOL},
    {NULL, NULL, AWS_STR},
};

static const struct aws_rel vpce_rels[] = {
    {"in_vpc", "vpcId", "vpc"},
    {"in_subnet", "subnetIdSet/item[]", "subnet"},
    {"uses_security_group", "groupSet/item[]/groupId", "security_group"},
    {NULL, NULL, NULL},
};

static const struct aws_field key_pair_fields[] = {
    {"key_name", "keyName", AWS_STR},
    {"fingerprint", "keyFingerprint", AWS_STR},
    {"key_type", "keyType", AWS_STR},
    {NULL, NULL, AWS_STR},
};

static const struct aws_field launch_template_fields[] = {
    {"template_name", "launchTemplateName", AWS_STR},
    {"default_version", "defaultVersionNumber", AWS_INT},
    {"latest_version", "latestVersionNumber", AWS_INT},
    {"created_by", "createdBy", AWS_STR},
    {NULL, NULL, AWS_STR},
};

#define EC2_PAGED(size)                                                        \
	.page_param = "MaxResults", .page_size = size,                         \
	.token_in = "NextToken", .token_out = "nextToken"

const struct aws_type aws_types_ec2[] = {
    {
	.type = "ec2_instance",
	.svc = &aws_svc_ec2,
	.operation = "DescribeInstances",
	EC2_PAGED("1000"),
	.items = "instancesSet/item",
	.id = "instanceId",
	.status = "instanceState/name",
	.created = "launchTime",
	.tags = TAGS,
	.fields = instance_fields,
	.rels = instance_rels,
    },
    {
	.type = "ebs_volume",
	.svc = &aws_svc_ec2,
	.operation = "DescribeVolumes",
	EC2_PAGED("500"),
	.items = "volumeSet/item",
	.id = "volumeId",
	.status = "status",
	.created = "createTime",
	.tags = TAGS,
	.fields = volume_fields,
	.rels = volume_rels,
	.enrich = volume_enrich,
    },
    {
	.type = "ebs_snapshot",
	.svc = &aws_svc_ec2,
	.operation = "DescribeSnapshots",
	.params = "Owner.1=self",
	EC2_PAGED("1000"),
	.items = "snapshotSet/item",
	.id = "snapshotId",
	.status = "status",
	.created = "startTime",
	.tags = TAGS,
	.fields = snapshot_fields,
	.enrich = snapshot_enrich,
    },
    {
	/* Disabled images are still the account's (and keep snapshots). */
	.type = "ami",
	.svc = &aws_svc_ec2,
	.operation = "DescribeImages",
	.params = "Owner.1=self&IncludeDisabled=true",
	EC2_PAGED("1000"),
	.items = "imagesSet/item",
	.id = "imageId",
	.name = "name",
	.status = "imageState",
	.created = "creationDate",
	.tags = TAGS,
	.fields = image_fields,
	.rels = image_rels,
    },
    {
	.type = "elastic_ip",
	.svc = &aws_svc_ec2,
	.operation = "DescribeAddresses",
	.items = "addressesSet/item",
	.id = "allocationId",
	.tags = TAGS,
	.fields = address_fields,
	.rels = address_rels,
    },
    {
	.type = "nat_gateway",
	.svc = &aws_svc_ec2,
	.operation = "DescribeNatGateways",
	EC2_PAGED("1000"),
	.items = "natGatewaySet/item",
	.id = "natGatewayId",
	.status = "state",
	.created = "createTime",
	.tags = TAGS,
	.fields = nat_fields,
	.rels = in_vpc_subnet_rels,
    },
    {
	.type = "vpc",
	.svc = &aws_svc_ec2,
	.operation = "DescribeVpcs",
	EC2_PAGED("1000"),
	.items = "vpcSet/item",
	.id = "vpcId",
	.status = "state",
	.tags = TAGS,
	.fields = vpc_fields,
    },
    {
	.type = "subnet",
	.svc = &aws_svc_ec2,
	.operation = "DescribeSubnets",
	EC2_PAGED("1000"),
	.items = "subnetSet/item",
	.id = "subnetId",
	.status = "state",
	.tags = TAGS,
	.fields = subnet_fields,
	.rels = in_vpc_rels,
    },
    {
	.type = "security_group",
	.svc = &aws_svc_ec2,
	.operation = "DescribeSecurityGroups",
	EC2_PAGED("1000"),
	.items = "securityGroupInfo/item",
	.id = "groupId",
	.name = "groupName",
	.tags = TAGS,
	.fields = sg_fields,
	.rels = in_vpc_rels,
	.enrich = sg_enrich,
    },
    {
	.type = "network_interface",
	.svc = &aws_svc_ec2,
	.operation = "DescribeNetworkInterfaces",
	EC2_PAGED("1000"),
	.items = "networkInterfaceSet/item",
	.id = "networkInterfaceId",
	.status = "status",
	.tags = TAGS,
	.fields = eni_fields,
	.rels = eni_rels,
    },
    {
	.type = "internet_gateway",
	.svc = &aws_svc_ec2,
	.operation = "DescribeInternetGateways",
	EC2_PAGED("1000"),
	.items = "internetGatewaySet/item",
	.id = "internetGatewayId",
	.tags = TAGS,
	.fields = igw_fields,
	.rels = igw_rels,
    },
    {
	.type = "route_table",
	.svc = &aws_svc_ec2,
	.operation = "DescribeRouteTables",
	EC2_PAGED("100"),
	.items = "routeTableSet/item",
	.id = "routeTableId",
	.tags = TAGS,
	.fields = rtb_fields,
	.rels = in_vpc_rels,
	.enrich = rtb_enrich,
    },
    {
	.type = "vpc_endpoint",
	.svc = &aws_svc_ec2,
	.operation = "DescribeVpcEndpoints",
	EC2_PAGED("1000"),
	.items = "vpcEndpointSet/item",
	.id = "vpcEndpointId",
	.status = "state",
	.created = "creationTimestamp",
	.tags = TAGS,
	.fields = vpce_fields,
	.rels = vpce_rels,
    },
    {
	.type = "key_pair",
	.svc = &aws_svc_ec2,
	.operation = "DescribeKeyPairs",
	.items = "keySet/item",
	.id = "keyPairId",
	.name = "keyName",
	.created = "createTime",
	.tags = TAGS,
	.fields = key_pair_fields,
    },
    {
	.type = "launch_template",
	.svc = &aws_svc_ec2,
	.operation = "DescribeLaunchTemplates",
	EC2_PAGED("200"),
	.items = "launchTemplates/item",
	.id = "launchTemplateId",
	.name = "launchTemplateName",
	.created = "createTime",
	.tags = TAGS,
	.fields = launch_template_fields,
    },
    {0},
};
