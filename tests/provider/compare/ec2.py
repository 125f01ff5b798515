"""The EC2 types: Elava's records against awscli's describe-* items.

Each check compares, field by field, what awscli reports (an item of
describe-*, Tags normalised to {key: value} by fixtures_norm.py) with the
record Elava lists: id, name, status, created_at, tags, every attribute the
type defines (and no other) and every relationship (and no other).

Conventions checked (src/provider/aws/types_ec2.c):
- name is the Name tag when there is one, else the resource's own name
  field (AMI name, group name, key name, launch template name);
- an attribute whose value is absent or "" in awscli is absent in Elava;
  list attributes are always there ([] when empty);
- relationship targets are keyed in the record's account and region,
  except uses_key, keyed where the KMS key of the ARN lives.

Where moto (5.2) differs from real AWS, the code does what real AWS needs
and the check compares with what moto says; the differences:
- DescribeSnapshots ignores Owner.1=self: every snapshot of moto's AMI
  catalogue is listed too (about 1,200, other owners'), by awscli as well.
- A snapshot of an encrypted volume has encrypted=true but no kmsKeyId
  (real AWS gives the key's ARN), so it gets no uses_key relationship.
- DescribeImages gives no platformDetails (real AWS always does; Elava's
  "platform" reads it) and puts "Linux/UNIX" in platform, which real AWS
  only sets to "windows"; so "platform" is absent in moto's records. The
  same for DescribeInstances.
- DescribeVolumes gives no throughput for a gp3 volume created without one
  (real AWS: 125) and multiAttachEnabled only when it is true (real AWS:
  always).
- DescribeKeyPairs gives no keyType for RSA keys (real AWS: "rsa").
- DescribeVpcEndpoints gives no vpcEndpointType for Gateway endpoints
  (real AWS: "Gateway").
- DescribeNatGateways gives no connectivityType for public gateways (real
  AWS: "public").
- Elastic IPs without an association have empty <instanceId/> and
  <networkInterfaceId/> elements: read as absent, as real AWS omits them.
- An internet gateway's attachment state is "available" in moto as in
  real AWS (the "attached" of the API reference is a VPN gateway's).
- Only DescribeInstances pages; the other Describe calls return everything
  whatever MaxResults is. Paging of every type over several pages (and the
  MaxResults each sends against the API's range) was checked through a
  proxy in front of moto that cuts the answers into pages of 1 and of 5.

awscli (not moto) detail: a network interface's tags are in "TagSet", not
"Tags", and fixtures_norm.py leaves them there: tags_of reads both.
"""
from common import Checker, get, norm_time

SKIP = object()



def text(v):
    """A string attribute as Elava stores it: "" is absent."""
    return v if v not in ("", None) else None


def tags_of(a):
    """awscli's tags as {key: value}. A network interface has them in
    "TagSet" ([{Key, Value}]), which fixtures_norm.py leaves as it is."""
    if a.get("Tags"):
        return a["Tags"]
    return {t["Key"]: t.get("Value", "") for t in a.get("TagSet") or []}


def name_of(a, own=None):
    """The Name tag, else the own name field (an empty Name tag only names
    a resource without one)."""
    n = tags_of(a).get("Name")
    own_name = text(a.get(own)) if own else None
    if n or (n is not None and own_name is None):
        return n
    return own_name


def key(r, typ, ident):
    return f"aws:{r['account']}:{r['region']}:{typ}:{ident}"


def kms_key(r, kms):
    """The uses_key target of a kmsKeyId (a key ARN, or a bare key id)."""
    if not kms:
        return None
    if kms.startswith("arn:"):
        f = kms.split(":", 5)
        if len(f) < 6 or not f[5].startswith("key/") or len(f[5]) == 4:
            return None
        return f"aws:{f[4]}:{f[3]}:kms_key:{f[5][4:]}"
    if kms.startswith("alias/"):
        return None
    return key(r, "kms_key", kms)


class EC2Checker(Checker):
    def record(self, a, r, name, status, created, attrs, rels):
        """Everything about one record: name/status/created_at (SKIP for a
        type without one), tags, attributes (exactly `attrs`, None for
        absent) and relationships (exactly `rels`, (type, target))."""
        self.eq(r, "tags", tags_of(a), r.get("tags") or {})
        self.eq(r, "name", name, r.get("name"))
        self.eq(r, "status", None if status is SKIP else text(status),
                r.get("status"))
        self.eq(r, "created_at",
                None if created is SKIP else norm_time(created),
                r.get("created_at"))
        got = r.get("attributes") or {}
        for k, want in attrs.items():
            self.eq(r, "attributes." + k, want, got.get(k))
        extra = sorted(set(got) - set(attrs))
        if extra:
            self.errs.append(f"{r['id']}: attributes not checked: {extra}")
        want_rels = sorted({(t, k) for t, k in rels if k})
        got_rels = sorted((x["type"], x["target"])
                          for x in r.get("relationships") or [])
        self.eq(r, "relationships", want_rels, got_rels)


def check(aws_items, resources, aws_id, one):
    c = EC2Checker(aws_items, resources, aws_id)
    for a, r in c.pairs():
        one(c, a, r)
    return c.errs


# ------------------------------------------------------------------ types

def ec2_instance(aws_items, resources):
    def one(c, a, r):
        sgs = [g["GroupId"] for g in a.get("SecurityGroups") or []]
        vols = [m["Ebs"]["VolumeId"] for m in a.get("BlockDeviceMappings") or []
                if m.get("Ebs", {}).get("VolumeId")]
        c.record(a, r, name_of(a), get(a, "State.Name"), a.get("LaunchTime"), {
            "instance_type": text(a.get("InstanceType")),
            "image_id": text(a.get("ImageId")),
            "key_name": text(a.get("KeyName")),
            "architecture": text(a.get("Architecture")),
            "availability_zone": text(get(a, "Placement.AvailabilityZone")),
            "private_ip": text(a.get("PrivateIpAddress")),
            "public_ip": text(a.get("PublicIpAddress")),
            "private_dns_name": text(a.get("PrivateDnsName")),
            "platform": text(a.get("PlatformDetails")),
            "instance_profile_arn": text(get(a, "IamInstanceProfile.Arn")),
            "ebs_optimized": a.get("EbsOptimized"),
            "monitoring": text(get(a, "Monitoring.State")),
            "public_exposure": bool(a.get("PublicIpAddress")),
            "subnet_id": text(a.get("SubnetId")),
            "vpc_id": text(a.get("VpcId")),
            "root_device_name": text(a.get("RootDeviceName")),
            "security_groups": sgs,
            "volume_ids": vols,
        }, [("in_subnet", a.get("SubnetId") and key(r, "subnet", a["SubnetId"])),
            ("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"]))]
           + [("uses_security_group", key(r, "security_group", g)) for g in sgs]
           + [("has_volume", key(r, "ebs_volume", v)) for v in vols])
    return check(aws_items, resources, "InstanceId", one)


def ebs_volume(aws_items, resources):
    def one(c, a, r):
        inst = [x["InstanceId"] for x in a.get("Attachments") or []
                if x.get("InstanceId")]
        c.record(a, r, name_of(a), a.get("State"), a.get("CreateTime"), {
            "size": a.get("Size"),
            "volume_type": text(a.get("VolumeType")),
            "iops": a.get("Iops"),
            "throughput": a.get("Throughput"),
            "encrypted": a.get("Encrypted"),
            "kms_key_id": text(a.get("KmsKeyId")),
            "availability_zone": text(a.get("AvailabilityZone")),
            "snapshot_id": text(a.get("SnapshotId")),
            "attached_instance_ids": inst,
            "multi_attach": a.get("MultiAttachEnabled"),
        }, [("attached_to", key(r, "ec2_instance", i)) for i in inst]
           + [("from_snapshot", text(a.get("SnapshotId")) and
               key(r, "ebs_snapshot", a["SnapshotId"])),
              ("uses_key", kms_key(r, a.get("KmsKeyId")))])
    return check(aws_items, resources, "VolumeId", one)


def ebs_snapshot(aws_items, resources):
    def one(c, a, r):
        vol = text(a.get("VolumeId"))
        c.record(a, r, name_of(a), a.get("State"), a.get("StartTime"), {
            "volume_id": vol,
            "volume_size": a.get("VolumeSize"),
            "encrypted": a.get("Encrypted"),
            "kms_key_id": text(a.get("KmsKeyId")),
            "progress": text(a.get("Progress")),
            "description": text(a.get("Description")),
            "storage_tier": text(a.get("StorageTier")),
        }, [("from_volume", vol and vol != "vol-ffffffff" and
             key(r, "ebs_volume", vol)),
            ("uses_key", kms_key(r, a.get("KmsKeyId")))])
    return check(aws_items, resources, "SnapshotId", one)


def ami(aws_items, resources):
    def one(c, a, r):
        snaps = [m["Ebs"]["SnapshotId"] for m in a.get("BlockDeviceMappings") or []
                 if m.get("Ebs", {}).get("SnapshotId")]
        c.record(a, r, name_of(a, "Name"), a.get("State"), a.get("CreationDate"), {
            "image_name": text(a.get("Name")),
            "description": text(a.get("Description")),
            "architecture": text(a.get("Architecture")),
            "platform": text(a.get("PlatformDetails")),
            "root_device_type": text(a.get("RootDeviceType")),
            "root_device_name": text(a.get("RootDeviceName")),
            "virtualization_type": text(a.get("VirtualizationType")),
            "public": a.get("Public"),
            "snapshot_ids": snaps,
        }, [("from_snapshot", key(r, "ebs_snapshot", s)) for s in snaps])
    return check(aws_items, resources, "ImageId", one)


def elastic_ip(aws_items, resources):
    def one(c, a, r):
        inst, eni = text(a.get("InstanceId")), text(a.get("NetworkInterfaceId"))
        c.record(a, r, name_of(a), SKIP, SKIP, {
            "public_ip": text(a.get("PublicIp")),
            "domain": text(a.get("Domain")),
            "associated": bool(a.get("AssociationId")),
            "association_id": text(a.get("AssociationId")),
            "instance_id": inst,
            "network_interface_id": eni,
            "private_ip": text(a.get("PrivateIpAddress")),
        }, [("attached_to", inst and key(r, "ec2_instance", inst)),
            ("attached_to", eni and key(r, "network_interface", eni))])
    return check(aws_items, resources, "AllocationId", one)


def nat_gateway(aws_items, resources):
    def one(c, a, r):
        addrs = a.get("NatGatewayAddresses") or []
        c.record(a, r, name_of(a), a.get("State"), a.get("CreateTime"), {
            "connectivity_type": text(a.get("ConnectivityType")),
            "vpc_id": text(a.get("VpcId")),
            "subnet_id": text(a.get("SubnetId")),
            "public_ips": [x["PublicIp"] for x in addrs if x.get("PublicIp")],
            "private_ips": [x["PrivateIp"] for x in addrs if x.get("PrivateIp")],
        }, [("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"])),
            ("in_subnet", a.get("SubnetId") and key(r, "subnet", a["SubnetId"]))])
    return check(aws_items, resources, "NatGatewayId", one)


def vpc(aws_items, resources):
    def one(c, a, r):
        c.record(a, r, name_of(a), a.get("State"), SKIP, {
            "cidr_block": text(a.get("CidrBlock")),
            "is_default": a.get("IsDefault"),
            "dhcp_options_id": text(a.get("DhcpOptionsId")),
            "instance_tenancy": text(a.get("InstanceTenancy")),
        }, [])
    return check(aws_items, resources, "VpcId", one)


def subnet(aws_items, resources):
    def one(c, a, r):
        c.record(a, r, name_of(a), a.get("State"), SKIP, {
            "cidr_block": text(a.get("CidrBlock")),
            "availability_zone": text(a.get("AvailabilityZone")),
            "vpc_id": text(a.get("VpcId")),
            "map_public_ip_on_launch": a.get("MapPublicIpOnLaunch"),
            "public_exposure": a.get("MapPublicIpOnLaunch"),
            "available_ip_address_count": a.get("AvailableIpAddressCount"),
            "default_for_az": a.get("DefaultForAz"),
            "arn": text(a.get("SubnetArn")),
        }, [("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"]))])
    return check(aws_items, resources, "SubnetId", one)


def sg_rules(perms):
    """Rules of a permission list: one per CIDR, IPv6 CIDR, group and
    prefix list (as the console and the rules quota count them)."""
    return sum(len(p.get("IpRanges") or []) + len(p.get("Ipv6Ranges") or [])
               + len(p.get("UserIdGroupPairs") or [])
               + len(p.get("PrefixListIds") or []) for p in perms)


def sg_world_ports(perms):
    out = []
    for p in perms:
        world = any(x.get("CidrIp") == "0.0.0.0/0" for x in p.get("IpRanges") or []) \
            or any(x.get("CidrIpv6") == "::/0" for x in p.get("Ipv6Ranges") or [])
        if not world:
            continue
        proto = p.get("IpProtocol", "")
        if proto == "-1":
            s = "all"
        elif proto in ("tcp", "udp") and p.get("FromPort") is not None \
                and p.get("ToPort") is not None:
            f, t = p["FromPort"], p["ToPort"]
            s = f"{proto}/{f}" if f == t else f"{proto}/{f}-{t}"
        else:
            s = proto
        if s not in out:
            out.append(s)
    return out


def security_group(aws_items, resources):
    def one(c, a, r):
        ports = sg_world_ports(a.get("IpPermissions") or [])
        c.record(a, r, name_of(a, "GroupName"), SKIP, SKIP, {
            "group_name": text(a.get("GroupName")),
            "description": text(a.get("Description")),
            "vpc_id": text(a.get("VpcId")),
            "arn": text(a.get("SecurityGroupArn")),
            "ingress_rules": sg_rules(a.get("IpPermissions") or []),
            "egress_rules": sg_rules(a.get("IpPermissionsEgress") or []),
            "open_to_world": bool(ports),
            "open_to_world_ports": ports,
        }, [("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"]))])
    return check(aws_items, resources, "GroupId", one)


def network_interface(aws_items, resources):
    def one(c, a, r):
        sgs = [g["GroupId"] for g in a.get("Groups") or []]
        inst = text(get(a, "Attachment.InstanceId"))
        c.record(a, r, name_of(a), a.get("Status"), SKIP, {
            "interface_type": text(a.get("InterfaceType")),
            "description": text(a.get("Description")),
            "private_ip": text(a.get("PrivateIpAddress")),
            "public_ip": text(get(a, "Association.PublicIp")),
            "public_exposure": bool(get(a, "Association.PublicIp")),
            "availability_zone": text(a.get("AvailabilityZone")),
            "subnet_id": text(a.get("SubnetId")),
            "vpc_id": text(a.get("VpcId")),
            "instance_id": inst,
            "requester_managed": a.get("RequesterManaged"),
            "security_groups": sgs,
        }, [("in_subnet", a.get("SubnetId") and key(r, "subnet", a["SubnetId"])),
            ("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"])),
            ("attached_to", inst and key(r, "ec2_instance", inst))]
           + [("uses_security_group", key(r, "security_group", g)) for g in sgs])
    return check(aws_items, resources, "NetworkInterfaceId", one)


def internet_gateway(aws_items, resources):
    def one(c, a, r):
        att = a.get("Attachments") or []
        first = att[0] if att else {}
        c.record(a, r, name_of(a), SKIP, SKIP, {
            "attached": bool(first.get("VpcId")),
            "attachment_state": text(first.get("State")),
            "vpc_id": text(first.get("VpcId")),
        }, [("in_vpc", x.get("VpcId") and key(r, "vpc", x["VpcId"])) for x in att])
    return check(aws_items, resources, "InternetGatewayId", one)


def route_table(aws_items, resources):
    def one(c, a, r):
        assoc = a.get("Associations") or []
        routes = a.get("Routes") or []
        via = [("routes_via", key(r, "internet_gateway", x["GatewayId"]))
               for x in routes if (x.get("GatewayId") or "").startswith("igw-")]
        via += [("routes_via", key(r, "nat_gateway", x["NatGatewayId"]))
                for x in routes if x.get("NatGatewayId")]
        c.record(a, r, name_of(a), SKIP, SKIP, {
            "vpc_id": text(a.get("VpcId")),
            "subnet_ids": [x["SubnetId"] for x in assoc if x.get("SubnetId")],
            "main": any(x.get("Main") for x in assoc),
            "routes": len(routes),
        }, [("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"]))] + via)
    return check(aws_items, resources, "RouteTableId", one)


def vpc_endpoint(aws_items, resources):
    def one(c, a, r):
        subnets = a.get("SubnetIds") or []
        sgs = [g["GroupId"] for g in a.get("Groups") or []]
        c.record(a, r, name_of(a), a.get("State"), a.get("CreationTimestamp"), {
            "service_name": text(a.get("ServiceName")),
            "vpc_endpoint_type": text(a.get("VpcEndpointType")),
            "vpc_id": text(a.get("VpcId")),
            "subnet_ids": subnets,
            "route_table_ids": a.get("RouteTableIds") or [],
            "security_groups": sgs,
            "private_dns_enabled": a.get("PrivateDnsEnabled"),
        }, [("in_vpc", a.get("VpcId") and key(r, "vpc", a["VpcId"]))]
           + [("in_subnet", key(r, "subnet", s)) for s in subnets]
           + [("uses_security_group", key(r, "security_group", g)) for g in sgs])
    return check(aws_items, resources, "VpcEndpointId", one)


def key_pair(aws_items, resources):
    def one(c, a, r):
        c.record(a, r, name_of(a, "KeyName"), SKIP, a.get("CreateTime"), {
            "key_name": text(a.get("KeyName")),
            "fingerprint": text(a.get("KeyFingerprint")),
            "key_type": text(a.get("KeyType")),
        }, [])
    return check(aws_items, resources, "KeyPairId", one)


def launch_template(aws_items, resources):
    def one(c, a, r):
        c.record(a, r, name_of(a, "LaunchTemplateName"), SKIP, a.get("CreateTime"), {
            "template_name": text(a.get("LaunchTemplateName")),
            "default_version": a.get("DefaultVersionNumber"),
            "latest_version": a.get("LatestVersionNumber"),
            "created_by": text(a.get("CreatedBy")),
        }, [])
    return check(aws_items, resources, "LaunchTemplateId", one)


TYPES = {
    "ec2_instance": ec2_instance,
    "ebs_volume": ebs_volume,
    "ebs_snapshot": ebs_snapshot,
    "ami": ami,
    "elastic_ip": elastic_ip,
    "nat_gateway": nat_gateway,
    "vpc": vpc,
    "subnet": subnet,
    "security_group": security_group,
    "network_interface": network_interface,
    "internet_gateway": internet_gateway,
    "route_table": route_table,
    "vpc_endpoint": vpc_endpoint,
    "key_pair": key_pair,
    "launch_template": launch_template,
}
