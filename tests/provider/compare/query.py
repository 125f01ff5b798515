"""The query-protocol types (types_query.c) against awscli, field by field.

Each check takes awscli's items (fixtures.sh: Tags as {key: value}, the
tags of the types that need a second call merged in) and Elava's records
of that type, and returns the mismatches.

Where moto 5.2 differs from AWS, the check compares with what awscli says
(so it holds on both) and the comment says how moto differs:
- elbv2: a load balancer created without --scheme has no Scheme in moto's
  DescribeLoadBalancers (AWS always answers "internet-facing" or
  "internal"), so moto's default load balancer lists as not public.
- RDS: KmsKeyId is "default_kms_key_id" in moto, a key ARN in AWS (the
  uses_key relationship takes the id after "key/"); instances created
  without a DB subnet group have no DBSubnetGroup (no VPC, no subnets) in
  moto, while AWS always puts them in one. moto makes an automated
  snapshot ("rds:<instance>-<date>") for every instance, as AWS does.
- IAM: ListRoles/ListUsers carry no tags nor permissions boundary in AWS
  (nor in moto); Elava reads each role/user with GetRole/GetUser (one call
  each, as ListRoleTags would cost), the fixture with list-role-tags. moto
  answers AssumeRolePolicyDocument as plain JSON in ListRoles but
  percent-encoded (as AWS does, RFC 3986) in GetRole; Elava takes both.
- ElastiCache: moto answers no EngineVersion, PreferredAvailabilityZone,
  CacheSubnetGroupName nor encryption flags for cache clusters; its
  ListTagsForResource works.
- CloudFormation: moto has no DriftInformation in DescribeStacks (AWS
  always answers StackDriftStatus, "NOT_CHECKED" at least).
"""
from common import Checker, get, key_rel, norm_time, rels, strs, want_name






def attrs(c, a, r, pairs):
    """Scalar attributes: (awscli path, attribute) pairs."""
    for path, attr in pairs:
        c.eq(r, "attributes." + attr, get(a, path), r["attributes"].get(attr))



def check_common(c, a, r, own_name, status=None, created=None):
    c.common(a, r, status=status, created=created)
    c.eq(r, "name", want_name(a, own_name), r.get("name"))
    if not status:
        c.eq(r, "status", None, r.get("status"))




# ------------------------------------------------------------------ elbv2

def load_balancer(aws, res):
    c = Checker(aws, res, "LoadBalancerArn")
    for a, r in c.pairs():
        check_common(c, a, r, a["LoadBalancerName"], status="State.Code",
                     created="CreatedTime")
        attrs(c, a, r, [("LoadBalancerArn", "arn"), ("Type", "type"),
                        ("Scheme", "scheme"), ("DNSName", "dns_name"),
                        ("IpAddressType", "ip_address_type"),
                        ("VpcId", "vpc_id")])
        azs = a.get("AvailabilityZones") or []
        subnets = [z["SubnetId"] for z in azs if z.get("SubnetId")]
        strs(c, r, "subnet_ids", subnets)
        strs(c, r, "availability_zones", [z["ZoneName"] for z in azs])
        strs(c, r, "security_groups", a.get("SecurityGroups"))
        # moto: no Scheme when the default (internet-facing) was not asked
        # for explicitly; AWS always answers it.
        c.eq(r, "attributes.public", a.get("Scheme") == "internet-facing",
             r["attributes"].get("public"))
        rels(c, r, "in_vpc", "vpc", [a.get("VpcId")])
        rels(c, r, "in_subnet", "subnet", subnets)
        rels(c, r, "uses_security_group", "security_group",
             a.get("SecurityGroups") or [])
    return c.errs


def target_group(aws, res):
    c = Checker(aws, res, "TargetGroupArn")
    for a, r in c.pairs():
        check_common(c, a, r, a["TargetGroupName"])
        c.eq(r, "created_at", None, r.get("created_at"))
        attrs(c, a, r, [("TargetGroupArn", "arn"), ("Protocol", "protocol"),
                        ("Port", "port"), ("TargetType", "target_type"),
                        ("VpcId", "vpc_id"),
                        ("HealthCheckPath", "health_check_path")])
        strs(c, r, "load_balancer_arns", a.get("LoadBalancerArns"))
        rels(c, r, "in_vpc", "vpc", [a.get("VpcId")])
    return c.errs


# ------------------------------------------------------------ autoscaling

def autoscaling_group(aws, res):
    c = Checker(aws, res, "AutoScalingGroupName")
    for a, r in c.pairs():
        # Status is only there while the group is being deleted.
        check_common(c, a, r, a["AutoScalingGroupName"], status="Status",
                     created="CreatedTime")
        attrs(c, a, r, [("AutoScalingGroupARN", "arn"),
                        ("MinSize", "min_size"), ("MaxSize", "max_size"),
                        ("DesiredCapacity", "desired_capacity"),
                        ("LaunchConfigurationName", "launch_configuration"),
                        ("HealthCheckType", "health_check_type")])
        lt = a.get("LaunchTemplate") or get(
            a, "MixedInstancesPolicy.LaunchTemplate."
            "LaunchTemplateSpecification") or {}
        for k, attr in (("LaunchTemplateId", "launch_template_id"),
                        ("LaunchTemplateName", "launch_template_name"),
                        ("Version", "launch_template_version")):
            c.eq(r, "attributes." + attr, lt.get(k),
                 r["attributes"].get(attr))
        subnets = [s.strip() for s in
                   (a.get("VPCZoneIdentifier") or "").split(",") if s.strip()]
        strs(c, r, "subnet_ids", subnets)
        strs(c, r, "availability_zones", a.get("AvailabilityZones"))
        strs(c, r, "instance_ids",
             [i["InstanceId"] for i in a.get("Instances") or []])
        strs(c, r, "target_group_arns", a.get("TargetGroupARNs"))
        strs(c, r, "load_balancer_names", a.get("LoadBalancerNames"))
        rels(c, r, "in_subnet", "subnet", subnets)
    return c.errs


# -------------------------------------------------------------------- RDS

def rds_instance(aws, res):
    c = Checker(aws, res, "DBInstanceIdentifier")
    for a, r in c.pairs():
        check_common(c, a, r, a["DBInstanceIdentifier"],
                     status="DBInstanceStatus", created="InstanceCreateTime")
        attrs(c, a, r, [
            ("DBInstanceArn", "arn"), ("Engine", "engine"),
            ("EngineVersion", "engine_version"),
            ("DBInstanceClass", "instance_class"),
            ("AllocatedStorage", "allocated_storage"),
            ("StorageType", "storage_type"),
            ("StorageEncrypted", "encrypted"), ("KmsKeyId", "kms_key_id"),
            ("MultiAZ", "multi_az"), ("PubliclyAccessible", "public"),
            ("Endpoint.Address", "endpoint_address"),
            ("Endpoint.Port", "endpoint_port"),
            ("AvailabilityZone", "availability_zone"),
            ("DBSubnetGroup.VpcId", "vpc_id"),
            ("DBSubnetGroup.DBSubnetGroupName", "db_subnet_group"),
            ("DBClusterIdentifier", "cluster_id"),
            ("DeletionProtection", "deletion_protection"),
            ("BackupRetentionPeriod", "backup_retention_period")])
        subnets = [s["SubnetIdentifier"] for s in
                   get(a, "DBSubnetGroup.Subnets") or []]
        sgs = [g["VpcSecurityGroupId"] for g in a.get("VpcSecurityGroups") or []]
        strs(c, r, "subnet_ids", subnets)
        strs(c, r, "security_groups", sgs)
        # moto: no DBSubnetGroup unless one was given (AWS: always one).
        rels(c, r, "in_vpc", "vpc", [get(a, "DBSubnetGroup.VpcId")])
        rels(c, r, "uses_subnet", "subnet", subnets)
        rels(c, r, "uses_security_group", "security_group", sgs)
        rels(c, r, "member_of", "rds_cluster", [a.get("DBClusterIdentifier")])
        key_rel(c, r, a.get("KmsKeyId"))
    return c.errs


def rds_cluster(aws, res):
    c = Checker(aws, res, "DBClusterIdentifier")
    for a, r in c.pairs():
        check_common(c, a, r, a["DBClusterIdentifier"], status="Status",
                     created="ClusterCreateTime")
        attrs(c, a, r, [
            ("DBClusterArn", "arn"), ("Engine", "engine"),
            ("EngineVersion", "engine_version"),
            ("EngineMode", "engine_mode"),
            ("StorageEncrypted", "encrypted"), ("KmsKeyId", "kms_key_id"),
            ("MultiAZ", "multi_az"), ("PubliclyAccessible", "public"),
            ("Endpoint", "endpoint"), ("ReaderEndpoint", "reader_endpoint"),
            ("Port", "port"), ("DBSubnetGroup", "db_subnet_group"),
            ("DeletionProtection", "deletion_protection"),
            ("BackupRetentionPeriod", "backup_retention_period")])
        sgs = [g["VpcSecurityGroupId"] for g in a.get("VpcSecurityGroups") or []]
        strs(c, r, "security_groups", sgs)
        strs(c, r, "members", [m["DBInstanceIdentifier"]
                               for m in a.get("DBClusterMembers") or []])
        rels(c, r, "uses_security_group", "security_group", sgs)
        key_rel(c, r, a.get("KmsKeyId"))
    return c.errs


def rds_snapshot(aws, res):
    c = Checker(aws, res, "DBSnapshotIdentifier")
    for a, r in c.pairs():
        check_common(c, a, r, a["DBSnapshotIdentifier"], status="Status",
                     created="SnapshotCreateTime")
        attrs(c, a, r, [
            ("DBSnapshotArn", "arn"), ("DBInstanceIdentifier", "instance_id"),
            ("SnapshotType", "snapshot_type"), ("Engine", "engine"),
            ("EngineVersion", "engine_version"),
            ("AllocatedStorage", "allocated_storage"),
            ("StorageType", "storage_type"), ("Encrypted", "encrypted"),
            ("KmsKeyId", "kms_key_id"), ("VpcId", "vpc_id"),
            ("AvailabilityZone", "availability_zone")])
        rels(c, r, "from_instance", "rds_instance",
             [a.get("DBInstanceIdentifier")])
        rels(c, r, "in_vpc", "vpc", [a.get("VpcId")])
        key_rel(c, r, a.get("KmsKeyId"))
    return c.errs


# -------------------------------------------------------------------- IAM

def principals(doc):
    """The Allow statements' principals as Elava writes them."""
    out = []
    st = (doc or {}).get("Statement") or []
    for s in st if isinstance(st, list) else [st]:
        if s.get("Effect") != "Allow" or "Principal" not in s:
            continue
        p = s["Principal"]
        if not isinstance(p, dict):
            out.append(p)
            continue
        for kind in sorted(p):
            vs = p[kind] if isinstance(p[kind], list) else [p[kind]]
            out += [f"{kind}:{v}" for v in vs]
    return out


def boundary(c, a, r):
    """Elava reads GetRole/GetUser, which have the permissions boundary;
    list-roles/list-users (the fixture) never show it, in AWS as in moto:
    compared only when awscli has it."""
    if "PermissionsBoundary" in a:
        c.eq(r, "attributes.permissions_boundary",
             get(a, "PermissionsBoundary.PermissionsBoundaryArn"),
             r["attributes"].get("permissions_boundary"))


def iam_role(aws, res):
    c = Checker(aws, res, "RoleName")
    for a, r in c.pairs():
        c.eq(r, "region", "global", r.get("region"))
        check_common(c, a, r, a["RoleName"], created="CreateDate")
        attrs(c, a, r, [("Arn", "arn"), ("Path", "path"),
                        ("RoleId", "role_id"), ("Description", "description"),
                        ("MaxSessionDuration", "max_session_duration")])
        boundary(c, a, r)
        # awscli decodes the percent-encoded document (moto sends it plain).
        c.eq(r, "attributes.assume_role_principals",
             principals(a.get("AssumeRolePolicyDocument")),
             r["attributes"].get("assume_role_principals"))
    return c.errs


def iam_user(aws, res):
    c = Checker(aws, res, "UserName")
    for a, r in c.pairs():
        c.eq(r, "region", "global", r.get("region"))
        check_common(c, a, r, a["UserName"], created="CreateDate")
        attrs(c, a, r, [("Arn", "arn"), ("Path", "path"),
                        ("UserId", "user_id")])
        boundary(c, a, r)
        c.eq(r, "attributes.password_last_used",
             norm_time(a.get("PasswordLastUsed")),
             r["attributes"].get("password_last_used"))
    return c.errs


# -------------------------------------------------------------------- SNS

def sns_topic(aws, res):
    c = Checker(aws, res, "TopicArn")
    for a, r in c.pairs():
        at = a.get("Attributes") or {}
        check_common(c, a, r, a["TopicArn"].rsplit(":", 1)[1])
        c.eq(r, "attributes.arn", a["TopicArn"], r["attributes"].get("arn"))
        c.eq(r, "attributes.display_name", at.get("DisplayName") or None,
             r["attributes"].get("display_name"))
        for k, attr in (("SubscriptionsConfirmed", "subscriptions_confirmed"),
                        ("SubscriptionsPending", "subscriptions_pending")):
            c.eq(r, "attributes." + attr,
                 int(at[k]) if at.get(k) else None, r["attributes"].get(attr))
        c.eq(r, "attributes.fifo", at.get("FifoTopic") == "true",
             r["attributes"].get("fifo"))
        key = at.get("KmsMasterKeyId") or None
        c.eq(r, "attributes.encrypted", key is not None,
             r["attributes"].get("encrypted"))
        c.eq(r, "attributes.kms_key_id", key, r["attributes"].get("kms_key_id"))
        key_rel(c, r, key)
    return c.errs


# ------------------------------------------------------------ ElastiCache

def elasticache_cluster(aws, res):
    c = Checker(aws, res, "CacheClusterId")
    for a, r in c.pairs():
        check_common(c, a, r, a["CacheClusterId"], status="CacheClusterStatus",
                     created="CacheClusterCreateTime")
        attrs(c, a, r, [
            ("ARN", "arn"), ("Engine", "engine"),
            ("EngineVersion", "engine_version"),
            ("CacheNodeType", "node_type"), ("NumCacheNodes", "num_nodes"),
            ("PreferredAvailabilityZone", "availability_zone"),
            ("ReplicationGroupId", "replication_group_id"),
            ("CacheSubnetGroupName", "subnet_group"),
            ("AtRestEncryptionEnabled", "encrypted"),
            ("TransitEncryptionEnabled", "transit_encryption")])
        sgs = [g["SecurityGroupId"] for g in a.get("SecurityGroups") or []]
        strs(c, r, "security_groups", sgs)
        rels(c, r, "uses_security_group", "security_group", sgs)
    return c.errs


# --------------------------------------------------------- CloudFormation

def cloudformation_stack(aws, res):
    c = Checker(aws, res, "StackName")
    for a, r in c.pairs():
        check_common(c, a, r, a["StackName"], status="StackStatus",
                     created="CreationTime")
        attrs(c, a, r, [
            ("StackId", "arn"), ("Description", "description"),
            ("StackStatusReason", "status_reason"),
            ("DriftInformation.StackDriftStatus", "drift_status"),
            ("EnableTerminationProtection", "termination_protection"),
            ("RoleARN", "role_arn"), ("ParentId", "parent_id")])
        c.eq(r, "attributes.updated_at", norm_time(a.get("LastUpdatedTime")),
             r["attributes"].get("updated_at"))
        c.eq(r, "attributes.outputs", len(a.get("Outputs") or []),
             r["attributes"].get("outputs"))
        role = a.get("RoleARN")
        rels(c, r, "uses_role", "iam_role",
             [role.rsplit("/", 1)[1]] if role and ":role/" in role else [])
    return c.errs


TYPES = {
    "load_balancer": load_balancer,
    "target_group": target_group,
    "autoscaling_group": autoscaling_group,
    "rds_instance": rds_instance,
    "rds_cluster": rds_cluster,
    "rds_snapshot": rds_snapshot,
    "iam_role": iam_role,
    "iam_user": iam_user,
    "sns_topic": sns_topic,
    "elasticache_cluster": elasticache_cluster,
    "cloudformation_stack": cloudformation_stack,
}
