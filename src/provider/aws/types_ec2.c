/*
 * The EC2 types: Describe* calls of the EC2 query protocol (lowerCamel
 * XML, records as <item> under a "...Set", tags in tagSet, nextToken).
 */
#include "list_int.h"

#define TAGS                                                                   \
	{                                                                      \
		"tagSet/item[]", "key", "value"                                \
	}

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

const struct aws_type aws_types_ec2[] = {
    {
	.type = "ec2_instance",
	.svc = &aws_svc_ec2,
	.operation = "DescribeInstances",
	.page_param = "MaxResults",
	.page_size = "1000",
	.token_in = "NextToken",
	.token_out = "nextToken",
	.items = "instancesSet/item",
	.id = "instanceId",
	.status = "instanceState/name",
	.created = "launchTime",
	.tags = TAGS,
	.fields = instance_fields,
	.rels = instance_rels,
    },
    {0},
};
