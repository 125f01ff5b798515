"""The JSON- and REST-protocol types (types_json.c) against awscli, field
by field.

Each check takes awscli's items (fixtures.sh: Tags as {key: value}, the
tags and describe answers of the types that need more calls merged in) and
Elava's records of that type, and returns the mismatches. Checks compare
with what awscli says, so they hold on moto and on AWS; where moto 5.2
differs from AWS the comment says how:

- S3: moto ignores max-buckets' paging (it truncates the page and returns
  no ContinuationToken; Elava asks for 10,000 a page, AWS's maximum) and
  gives no BucketRegion in ListBuckets (AWS does when max-buckets is set;
  Elava then skips GetBucketLocation). moto has no default encryption
  (GetBucketEncryption: ServerSideEncryptionConfigurationNotFoundError);
  AWS encrypts every bucket with SSE-S3 since 2023, so "encrypted" is true
  for all of them there. New AWS buckets also have a full public access
  block by default; moto's have none.
- Lambda: moto ignores MaxItems (one page). Its ListFunctions answers State
  and LastUpdateStatus, which AWS's leaves out (Elava reads State from
  GetFunction, which AWS and moto both answer). moto's VpcConfig has a
  made-up VpcId "vpc-123abc". GetFunction's Tags need lambda:ListTags in
  AWS.
- DynamoDB: tables with the AWS owned key have no SSEDescription (AWS and
  moto); "encrypted" means a KMS key (AWS managed or the customer's).
- SQS: moto ignores MaxResults and never pages.
- KMS: moto ignores Limit; keys created with the default usage have no
  KeyUsage nor MultiRegion in moto's DescribeKey (AWS always answers
  both); the keys moto makes for DynamoDB and EBS are KeyManager
  "CUSTOMER" (AWS managed, "AWS", in AWS, whose tags Elava does not ask
  for).
- CloudWatch Logs: moto answers both ListTagsForResource and
  ListTagsLogGroup; Elava uses ListTagsForResource with logGroupArn (the
  ARN without ":*"), as AWS wants.
- EKS: moto's resourcesVpcConfig has no vpcId, endpointPublicAccess,
  endpointPrivateAccess nor clusterSecurityGroupId (AWS always answers
  them), so "public" is absent in moto.
- ECS: ClusterSummaries carry no creation time (AWS neither).
- Secrets Manager: moto has no RotationEnabled for secrets never rotated
  (AWS answers false). Secret values are never read.
- Route 53: the fixture's Id has the "/hostedzone/" prefix; Elava's id has
  not.
"""
from common import Checker, get, key_rel, norm_time, rels, strs, want_name






def attrs(c, a, r, pairs, conv=None):
    """Scalar attributes: (awscli path, attribute) pairs. An empty string
    is no value (Elava writes none)."""
    for path, attr in pairs:
        v = get(a, path)
        if v == "":
            v = None
        if conv and v is not None:
            v = conv(v)
        c.eq(r, "attributes." + attr, v, r["attributes"].get(attr))



def check_common(c, a, r, own_name, status=None, created=None):
    """Tags, name, status and created_at; created may be a path or an
    already normalised time (a callable's result)."""
    c.common(a, r, status=status,
             created=created if isinstance(created, str) else None)
    c.eq(r, "name", want_name(a, own_name), r.get("name"))
    if not status:
        c.eq(r, "status", None, r.get("status"))
    if callable(created):
        c.eq(r, "created_at", created(a), r.get("created_at"))
    elif not created:
        c.eq(r, "created_at", None, r.get("created_at"))




def role_rel(c, r, arn):
    rels(c, r, "uses_role", "iam_role", [arn.rsplit("/", 1)[1]] if arn else [])


def attr(c, r, name, want):
    c.eq(r, "attributes." + name, want, r["attributes"].get(name))


# --------------------------------------------------------------------- S3

def s3_bucket(aws, res):
    c = Checker(aws, res, "Name")
    for a, r in c.pairs():
        check_common(c, a, r, a["Name"], created="CreationDate")
        # Placed in its own region: "" is us-east-1, "EU" eu-west-1.
        c.eq(r, "region", a["Region"], r["region"])
        # The fixture may carry the per-bucket settings (awscli
        # get-bucket-encryption / -versioning / get-public-access-block);
        # when it does not, only their shape is checked.
        rule = get(a, "ServerSideEncryption.Rules") or []
        sse = (rule[0].get("ApplyServerSideEncryptionByDefault") or {}) \
            if rule else {}
        if "ServerSideEncryption" in a:
            attr(c, r, "encrypted", bool(sse.get("SSEAlgorithm")))
            attr(c, r, "sse_algorithm", sse.get("SSEAlgorithm"))
            attr(c, r, "kms_key_id", sse.get("KMSMasterKeyID"))
            key_rel(c, r, sse.get("KMSMasterKeyID"))
        else:
            c.eq(r, "attributes.encrypted is a bool", True,
                 isinstance(r["attributes"].get("encrypted"), bool))
        if "Versioning" in a:
            attr(c, r, "versioning",
                 get(a, "Versioning.Status") or "Disabled")
        else:
            c.eq(r, "attributes.versioning in the API's values", True,
                 r["attributes"].get("versioning")
                 in ("Enabled", "Suspended", "Disabled"))
        if "PublicAccessBlock" in a:
            pab = a["PublicAccessBlock"] or {}
            blocked = all(pab.get(k) for k in (
                "BlockPublicAcls", "IgnorePublicAcls", "BlockPublicPolicy",
                "RestrictPublicBuckets"))
        else:
            blocked = r["attributes"].get("public_access_blocked")
            c.eq(r, "attributes.public_access_blocked is a bool", True,
                 isinstance(blocked, bool))
        attr(c, r, "public_access_blocked", blocked)
        attr(c, r, "public_exposure", not blocked)
    return c.errs


# ----------------------------------------------------------------- Lambda

def lambda_function(aws, res):
    c = Checker(aws, res, "FunctionName")
    for a, r in c.pairs():
        # No creation time in the API; LastModified is an attribute.
        # ListFunctions has no State in AWS (moto has): compared when there.
        check_common(c, a, r, a["FunctionName"], status="State")
        attrs(c, a, r, [("FunctionArn", "arn"), ("Runtime", "runtime"),
                        ("Handler", "handler"),
                        ("PackageType", "package_type"),
                        ("MemorySize", "memory_size"), ("Timeout", "timeout"),
                        ("CodeSize", "code_size"), ("Role", "role_arn"),
                        ("KMSKeyArn", "kms_key_id")])
        attrs(c, a, r, [("VpcConfig.VpcId", "vpc_id")])
        attrs(c, a, r, [("LastModified", "last_modified")], conv=norm_time)
        strs(c, r, "architectures", a.get("Architectures"))
        subnets = get(a, "VpcConfig.SubnetIds") or []
        sgs = get(a, "VpcConfig.SecurityGroupIds") or []
        strs(c, r, "subnet_ids", subnets)
        strs(c, r, "security_groups", sgs)
        rels(c, r, "in_vpc", "vpc", [get(a, "VpcConfig.VpcId")])
        rels(c, r, "in_subnet", "subnet", subnets)
        rels(c, r, "uses_security_group", "security_group", sgs)
        role_rel(c, r, a.get("Role"))
        key_rel(c, r, a.get("KMSKeyArn"))
    return c.errs


# --------------------------------------------------------------- DynamoDB

def dynamodb_table(aws, res):
    c = Checker(aws, res, "TableName")
    for a, r in c.pairs():
        check_common(c, a, r, a["TableName"], status="TableStatus",
                     created="CreationDateTime")
        attrs(c, a, r, [("TableArn", "arn"), ("ItemCount", "item_count"),
                        ("TableSizeBytes", "size_bytes"),
                        ("ProvisionedThroughput.ReadCapacityUnits",
                         "read_capacity"),
                        ("ProvisionedThroughput.WriteCapacityUnits",
                         "write_capacity"),
                        ("TableClassSummary.TableClass", "table_class"),
                        ("SSEDescription.SSEType", "sse_type"),
                        ("SSEDescription.KMSMasterKeyArn", "kms_key_id"),
                        ("DeletionProtectionEnabled", "deletion_protection"),
                        ("StreamSpecification.StreamEnabled",
                         "stream_enabled")])
        attr(c, r, "billing_mode",
             get(a, "BillingModeSummary.BillingMode") or "PROVISIONED")
        attr(c, r, "encrypted", get(a, "SSEDescription.Status")
             in ("ENABLED", "ENABLING", "UPDATING"))
        strs(c, r, "key_schema",
             [k["AttributeName"] for k in a.get("KeySchema") or []])
        key_rel(c, r, get(a, "SSEDescription.KMSMasterKeyArn"))
    return c.errs


# -------------------------------------------------------------------- SQS

def sqs_queue(aws, res):
    c = Checker(aws, res, lambda a: a["QueueUrl"].rsplit("/", 1)[1])
    for a, r in c.pairs():
        at = a.get("Attributes") or {}
        name = a["QueueUrl"].rsplit("/", 1)[1]
        # CreatedTimestamp: epoch seconds as a string.
        check_common(c, a, r, name, created=lambda a: norm_time(
            float(a["Attributes"]["CreatedTimestamp"])))
        attr(c, r, "url", a["QueueUrl"])
        attrs(c, a, r, [("Attributes.QueueArn", "arn"),
                        ("Attributes.KmsMasterKeyId", "kms_key_id")])
        attrs(c, a, r, [("Attributes.VisibilityTimeout", "visibility_timeout"),
                        ("Attributes.MessageRetentionPeriod",
                         "message_retention_seconds"),
                        ("Attributes.DelaySeconds", "delay_seconds"),
                        ("Attributes.MaximumMessageSize",
                         "max_message_size")], conv=int)
        attr(c, r, "fifo", at.get("FifoQueue") == "true")
        attr(c, r, "encrypted", at.get("SqsManagedSseEnabled") == "true"
             or bool(at.get("KmsMasterKeyId")))
        key_rel(c, r, at.get("KmsMasterKeyId"))
    return c.errs


# -------------------------------------------------------------------- KMS

def kms_key(aws, res):
    c = Checker(aws, res, "KeyId")
    for a, r in c.pairs():
        # Keys have no name of their own (aliases are separate).
        check_common(c, a, r, None, status="KeyState",
                     created="CreationDate")
        attrs(c, a, r, [("Arn", "arn"), ("Description", "description"),
                        ("KeyManager", "key_manager"),
                        ("KeyUsage", "key_usage"), ("KeySpec", "key_spec"),
                        ("Origin", "origin"), ("Enabled", "enabled"),
                        ("MultiRegion", "multi_region")])
        attrs(c, a, r, [("DeletionDate", "deletion_date")], conv=norm_time)
    return c.errs


# ------------------------------------------------------------------- Logs

def log_group(aws, res):
    c = Checker(aws, res, "logGroupName")
    for a, r in c.pairs():
        check_common(c, a, r, a["logGroupName"], created="creationTime")
        arn = a.get("logGroupArn") or a["arn"].removesuffix(":*")
        attr(c, r, "arn", arn)
        attrs(c, a, r, [("retentionInDays", "retention_days"),
                        ("storedBytes", "stored_bytes"),
                        ("logGroupClass", "log_group_class"),
                        ("kmsKeyId", "kms_key_id")])
        attr(c, r, "encrypted", bool(a.get("kmsKeyId")))
        key_rel(c, r, a.get("kmsKeyId"))
    return c.errs


# -------------------------------------------------------------------- ECR

def ecr_repository(aws, res):
    c = Checker(aws, res, "repositoryName")
    for a, r in c.pairs():
        check_common(c, a, r, a["repositoryName"], created="createdAt")
        attrs(c, a, r, [("repositoryArn", "arn"), ("repositoryUri", "uri"),
                        ("registryId", "registry_id"),
                        ("imageTagMutability", "image_tag_mutability"),
                        ("imageScanningConfiguration.scanOnPush",
                         "scan_on_push"),
                        ("encryptionConfiguration.encryptionType",
                         "encryption_type"),
                        ("encryptionConfiguration.kmsKey", "kms_key_id")])
        key_rel(c, r, get(a, "encryptionConfiguration.kmsKey"))
    return c.errs


# -------------------------------------------------------------------- EKS

def eks_cluster(aws, res):
    c = Checker(aws, res, "name")
    for a, r in c.pairs():
        check_common(c, a, r, a["name"], status="status",
                     created="createdAt")
        attrs(c, a, r, [("arn", "arn"), ("version", "version"),
                        ("platformVersion", "platform_version"),
                        ("endpoint", "endpoint"), ("roleArn", "role_arn"),
                        ("resourcesVpcConfig.vpcId", "vpc_id"),
                        ("resourcesVpcConfig.clusterSecurityGroupId",
                         "cluster_security_group_id"),
                        ("resourcesVpcConfig.endpointPublicAccess", "public"),
                        ("resourcesVpcConfig.endpointPrivateAccess",
                         "private_access")])
        vpc = a.get("resourcesVpcConfig") or {}
        strs(c, r, "subnet_ids", vpc.get("subnetIds"))
        strs(c, r, "security_groups", vpc.get("securityGroupIds"))
        strs(c, r, "public_access_cidrs", vpc.get("publicAccessCidrs"))
        keys = [get(e, "provider.keyArn") for e in a.get("encryptionConfig")
                or []]
        keys = [k for k in keys if k]
        attr(c, r, "encrypted", bool(keys))
        attr(c, r, "kms_key_id", keys[0] if keys else None)
        rels(c, r, "in_vpc", "vpc", [vpc.get("vpcId")])
        rels(c, r, "in_subnet", "subnet", vpc.get("subnetIds") or [])
        rels(c, r, "uses_security_group", "security_group",
             (vpc.get("securityGroupIds") or [])
             + [vpc.get("clusterSecurityGroupId")])
        role_rel(c, r, a.get("roleArn"))
        for k in keys:
            key_rel(c, r, k)
    return c.errs


# -------------------------------------------------------------------- ECS

def ecs_cluster(aws, res):
    c = Checker(aws, res, "clusterName")
    for a, r in c.pairs():
        check_common(c, a, r, a["clusterName"], status="status")
        attrs(c, a, r, [("clusterArn", "arn"),
                        ("runningTasksCount", "running_tasks"),
                        ("pendingTasksCount", "pending_tasks"),
                        ("activeServicesCount", "active_services"),
                        ("registeredContainerInstancesCount",
                         "container_instances")])
        strs(c, r, "capacity_providers", a.get("capacityProviders"))
    return c.errs


# -------------------------------------------------------- Secrets Manager

def secret(aws, res):
    c = Checker(aws, res, "ARN")
    for a, r in c.pairs():
        check_common(c, a, r, a["Name"], created="CreatedDate")
        attrs(c, a, r, [("ARN", "arn"), ("Name", "secret_name"),
                        ("Description", "description"),
                        ("KmsKeyId", "kms_key_id"),
                        ("RotationEnabled", "rotation_enabled"),
                        ("RotationLambdaARN", "rotation_lambda_arn"),
                        ("PrimaryRegion", "primary_region")])
        attrs(c, a, r, [("LastChangedDate", "last_changed"),
                        ("LastRotatedDate", "last_rotated")], conv=norm_time)
        key_rel(c, r, a.get("KmsKeyId"))
        # Nothing of the secret's value may reach the record.
        for k in r["attributes"]:
            if "value" in k.lower() or "string" in k.lower():
                c.errs.append(f"{r['id']}: attribute {k} looks like a value")
    return c.errs


# --------------------------------------------------------------- Route 53

def route53_zone(aws, res):
    c = Checker(aws, res, lambda a: a["Id"].rsplit("/", 1)[1])
    for a, r in c.pairs():
        check_common(c, a, r, a["Name"])
        c.eq(r, "region", "global", r["region"])
        attrs(c, a, r, [("Name", "domain_name"),
                        ("Config.PrivateZone", "private_zone"),
                        ("ResourceRecordSetCount", "record_set_count"),
                        ("Config.Comment", "comment")])
    return c.errs


TYPES = {
    "s3_bucket": s3_bucket,
    "lambda_function": lambda_function,
    "dynamodb_table": dynamodb_table,
    "sqs_queue": sqs_queue,
    "kms_key": kms_key,
    "log_group": log_group,
    "ecr_repository": ecr_repository,
    "eks_cluster": eks_cluster,
    "ecs_cluster": ecs_cluster,
    "secret": secret,
    "route53_zone": route53_zone,
}
