#!/usr/bin/env python3
"""Builds $FIXTURE_OUT/<type>.json from the raw awscli answers of one dump.

usage: fixtures_norm.py OUTDIR TYPE=DIR...

Each DIR holds list.json (the list call, all pages merged by awscli) and, for
types that need more calls per record, <what>.<n>.json with the record's
id in <what>.<n>.id (see fixtures_lib.sh). OUTDIR/TYPE.json gets

  {"type": TYPE, "region": "us-east-1" | "global",
   "items": [ <the awscli record, merged with the per-record answers> ]}

"Tags", when the type has tags, is always a {key: value} object, whatever
shape the API uses ([{Key,Value}], [{key,value}], [{TagKey,TagValue}], a
map). Items are sorted by their id so two dumps diff cleanly.
"""
import glob
import json
import os
import sys

REGION = "us-east-1"


def load(path):
    with open(path) as f:
        return json.load(f)


def per(d, what):
    """{id: answer} of the per-record calls named `what`."""
    out = {}
    for p in glob.glob(os.path.join(d, what + ".*.json")):
        with open(p[: -len(".json")] + ".id") as f:
            out[f.read()] = load(p)
    return out


def tags(v):
    """Any AWS tag shape -> {key: value}."""
    if v is None:
        return {}
    if isinstance(v, dict):
        return {str(k): str(x) for k, x in v.items()}
    out = {}
    for t in v:
        for k, x in (("Key", "Value"), ("key", "value"), ("TagKey", "TagValue")):
            if k in t:
                out[t[k]] = t.get(x, "")
                break
        else:
            raise ValueError(f"unknown tag shape {t!r}")
    return out


def ec2(key, idf, flatten=None, tagkey="Tags"):
    def f(d):
        items = load(os.path.join(d, "list.json")).get(key, [])
        if flatten:  # instances: keep their reservation's id and owner
            items = [dict(i, ReservationId=r.get("ReservationId"),
                          OwnerId=r.get("OwnerId"))
                     for r in items for i in r.get(flatten, [])]
        for i in items:
            i["Tags"] = tags(i.pop(tagkey, None))
        return items, idf
    return f


def plain(key, idf, tagkey=None):
    def f(d):
        items = load(os.path.join(d, "list.json")).get(key, [])
        for i in items:
            if tagkey is not None:
                i["Tags"] = tags(i.pop(tagkey, None))
        return items, idf
    return f


def elbv2(key, idf):
    def f(d):
        items = load(os.path.join(d, "list.json")).get(key, [])
        by_arn = {}
        for a in per(d, "tags").values():
            for td in a.get("TagDescriptions", []):
                by_arn[td["ResourceArn"]] = td.get("Tags", [])
        for i in items:
            i["Tags"] = tags(by_arn.get(i[idf]))
        return items, idf
    return f


def asg(d):
    items = load(os.path.join(d, "list.json")).get("AutoScalingGroups", [])
    for i in items:
        i["TagsRaw"] = i.get("Tags", [])  # keeps PropagateAtLaunch
        i["Tags"] = tags(i.get("Tags"))
    return items, "AutoScalingGroupName"


def s3(d):
    items = load(os.path.join(d, "list.json")).get("Buckets", [])
    loc = per(d, "location")
    tg = per(d, "tagging")
    for i in items:
        c = loc[i["Name"]].get("LocationConstraint")
        # None/"" means us-east-1, "EU" is the old name of eu-west-1.
        i["LocationConstraint"] = c
        i["Region"] = {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(c, c)
        i["Tags"] = tags(tg[i["Name"]].get("TagSet"))
    return items, "Name"


def lambda_(d):
    items = load(os.path.join(d, "list.json")).get("Functions", [])
    tg = per(d, "tags")
    for i in items:
        i["Tags"] = tags(tg[i["FunctionArn"]].get("Tags"))
    return items, "FunctionArn"


def dynamodb(d):
    desc, tg = per(d, "describe"), per(d, "tags")
    items = []
    for name in load(os.path.join(d, "list.json")).get("TableNames", []):
        i = desc[name]["Table"]
        i["Tags"] = tags(tg[name].get("Tags"))
        items.append(i)
    return items, "TableName"


def sqs(d):
    at, tg = per(d, "attrs"), per(d, "tags")
    items = []
    for url in load(os.path.join(d, "list.json")).get("QueueUrls", []):
        items.append({"QueueUrl": url,
                      "Attributes": at[url].get("Attributes", {}),
                      "Tags": tags(tg[url].get("Tags"))})
    return items, "QueueUrl"


def sns(d):
    at, tg = per(d, "attrs"), per(d, "tags")
    items = []
    for t in load(os.path.join(d, "list.json")).get("Topics", []):
        arn = t["TopicArn"]
        items.append({"TopicArn": arn,
                      "Attributes": at[arn].get("Attributes", {}),
                      "Tags": tags(tg[arn].get("Tags"))})
    return items, "TopicArn"


def iam(key, idf):
    def f(d):
        tg = per(d, "tags")
        items = load(os.path.join(d, "list.json")).get(key, [])
        for i in items:
            i["Tags"] = tags(tg[i[idf]].get("Tags"))
        return items, idf
    return f


def kms(d):
    desc, tg = per(d, "describe"), per(d, "tags")
    items = []
    for k in load(os.path.join(d, "list.json")).get("Keys", []):
        i = desc[k["KeyId"]]["KeyMetadata"]
        i["Tags"] = tags(tg[k["KeyId"]].get("Tags"))
        items.append(i)
    return items, "KeyId"


def route53(d):
    tg = per(d, "tags")
    items = load(os.path.join(d, "list.json")).get("HostedZones", [])
    for i in items:
        i["Tags"] = tags(tg[i["Id"]].get("ResourceTagSet", {}).get("Tags"))
    return items, "Id"


def logs(d):
    tg = per(d, "tags")
    items = load(os.path.join(d, "list.json")).get("logGroups", [])
    for i in items:
        i["Tags"] = tags(tg[i["logGroupName"]].get("tags"))
    return items, "logGroupName"


def ecr(d):
    tg = per(d, "tags")
    items = load(os.path.join(d, "list.json")).get("repositories", [])
    for i in items:
        i["Tags"] = tags(tg[i["repositoryArn"]].get("tags"))
    return items, "repositoryArn"


def eks(d):
    desc = per(d, "describe")
    items = []
    for name in load(os.path.join(d, "list.json")).get("clusters", []):
        i = desc[name]["cluster"]
        i["Tags"] = tags(i.pop("tags", None))
        items.append(i)
    return items, "name"


def ecs(d):
    items = []
    for a in per(d, "describe").values():
        for i in a.get("clusters", []):
            i["Tags"] = tags(i.pop("tags", None))
            items.append(i)
    return items, "clusterArn"


def elasticache(d):
    tg = per(d, "tags")
    items = load(os.path.join(d, "list.json")).get("CacheClusters", [])
    for i in items:
        i["Tags"] = tags(tg[i["ARN"]].get("TagList"))
    return items, "CacheClusterId"


TYPES = {
    "vpc": ec2("Vpcs", "VpcId"),
    "subnet": ec2("Subnets", "SubnetId"),
    "security_group": ec2("SecurityGroups", "GroupId"),
    "internet_gateway": ec2("InternetGateways", "InternetGatewayId"),
    "route_table": ec2("RouteTables", "RouteTableId"),
    "network_interface": ec2("NetworkInterfaces", "NetworkInterfaceId",
                             tagkey="TagSet"),
    "vpc_endpoint": ec2("VpcEndpoints", "VpcEndpointId"),
    "elastic_ip": ec2("Addresses", "AllocationId"),
    "nat_gateway": ec2("NatGateways", "NatGatewayId"),
    "key_pair": ec2("KeyPairs", "KeyPairId"),
    "launch_template": ec2("LaunchTemplates", "LaunchTemplateId"),
    "ec2_instance": ec2("Reservations", "InstanceId", flatten="Instances"),
    "ebs_volume": ec2("Volumes", "VolumeId"),
    "ebs_snapshot": ec2("Snapshots", "SnapshotId"),
    "ami": ec2("Images", "ImageId"),
    "load_balancer": elbv2("LoadBalancers", "LoadBalancerArn"),
    "target_group": elbv2("TargetGroups", "TargetGroupArn"),
    "autoscaling_group": asg,
    "rds_instance": plain("DBInstances", "DBInstanceIdentifier", "TagList"),
    "rds_cluster": plain("DBClusters", "DBClusterIdentifier", "TagList"),
    "rds_snapshot": plain("DBSnapshots", "DBSnapshotIdentifier", "TagList"),
    "s3_bucket": s3,
    "lambda_function": lambda_,
    "dynamodb_table": dynamodb,
    "sqs_queue": sqs,
    "sns_topic": sns,
    "iam_role": iam("Roles", "RoleName"),
    "iam_user": iam("Users", "UserName"),
    "kms_key": kms,
    "route53_zone": route53,
    "log_group": logs,
    "ecr_repository": ecr,
    "eks_cluster": eks,
    "ecs_cluster": ecs,
    "elasticache_cluster": elasticache,
    "secret": plain("SecretList", "ARN", "Tags"),
    "cloudformation_stack": plain("Stacks", "StackId", "Tags"),
}
GLOBAL = {"s3_bucket", "iam_role", "iam_user", "route53_zone"}


def main():
    outdir = sys.argv[1]
    for arg in sys.argv[2:]:
        t, d = arg.split("=", 1)
        try:
            items, idf = TYPES[t](d)
        except Exception as e:
            sys.exit(f"fixtures: FAILED [{t}]: cannot normalise the dump "
                     f"in {d}: {type(e).__name__}: {e}")
        items.sort(key=lambda i: str(i.get(idf)))
        doc = {"type": t, "region": "global" if t in GLOBAL else REGION,
               "id_field": idf, "items": items}
        out = os.path.join(outdir, t + ".json")
        with open(out + ".tmp", "w") as f:
            json.dump(doc, f, indent=1, sort_keys=True)
            f.write("\n")
        os.replace(out + ".tmp", out)


if __name__ == "__main__":
    main()
