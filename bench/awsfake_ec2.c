/*
 * awsfake's EC2 side: an indenting XML writer, EC2 records as the
 * Describe* calls return them (instances, volumes, snapshots, network
 * interfaces, security groups, subnets; every id and value derived from
 * the record's number, so a page set is reproducible and ids never
 * collide within a type) and the page tokens the server hands out and
 * takes back.
 */
#include "awsfake.h"

#include <inttypes.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define INDENT 1 /* a space a level: about 5.6 KB an instance */

uint64_t awsfake_mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ------------------------------------------------------------ XML writer */

void xw_put(struct xw *w, const char *p, size_t n)
{
	if (!w->rc)
		w->rc = buf_append(w->b, p, n);
}

static void xw_indent(struct xw *w)
{
	static const char sp[] = "                                        "
				 "                                        ";
	size_t n = (size_t)w->depth * INDENT;

	xw_put(w, sp, n < sizeof(sp) - 1 ? n : sizeof(sp) - 1);
}

static void xw_tag(struct xw *w, const char *pre, const char *tag,
		   const char *post)
{
	xw_put(w, pre, strlen(pre));
	xw_put(w, tag, strlen(tag));
	xw_put(w, post, strlen(post));
}

void xw_open(struct xw *w, const char *tag)
{
	xw_indent(w);
	xw_tag(w, "<", tag, ">\n");
	w->depth++;
}

void xw_close(struct xw *w, const char *tag)
{
	w->depth--;
	xw_indent(w);
	xw_tag(w, "</", tag, ">\n");
}

void xw_leaf(struct xw *w, const char *tag, const char *val)
{
	xw_indent(w);
	if (!val || !*val) {
		xw_tag(w, "<", tag, "/>\n");
		return;
	}
	xw_tag(w, "<", tag, ">");
	xw_put(w, val, strlen(val));
	xw_tag(w, "</", tag, ">\n");
}

void xw_leaff(struct xw *w, const char *tag, const char *fmt, ...)
{
	char val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	xw_leaf(w, tag, val);
}

/* launchTime and friends: EC2 writes milliseconds, always .000. */
static void ts(int64_t s, char out[TIME_RFC3339_LEN])
{
	time_format_rfc3339(s * 1000000000LL, out);
}

void xw_time(struct xw *w, const char *tag, int64_t unix_s)
{
	char t[TIME_RFC3339_LEN];

	ts(unix_s, t);
	xw_leaf(w, tag, t);
}

/* ------------------------------------------------------------- instances */

struct itype {
	const char *name, *arch;
	int cores, threads;
};

static const struct itype itypes[] = {
    {"m5.large", "x86_64", 1, 2},   {"m5.xlarge", "x86_64", 2, 2},
    {"c5.2xlarge", "x86_64", 4, 2}, {"t3.medium", "x86_64", 1, 2},
    {"t3.small", "x86_64", 1, 2},   {"r6g.large", "arm64", 2, 1},
    {"m6i.large", "x86_64", 1, 2},  {"c6g.xlarge", "arm64", 4, 1},
    {"m7g.2xlarge", "arm64", 8, 1}, {"r5.4xlarge", "x86_64", 8, 2},
};
static const char *const teams[] = {"payments", "search",   "platform", "data",
				    "identity", "checkout", "ml",	"edge"};
static const char *const envs[] = {"production", "staging", "development"};
static const char *const keys[] = {"prod-ops-2023", "deploy", "bastion-access",
				   "ci-runner"};

static void sg_item(struct xw *w, unsigned vpc, unsigned k, const char *team)
{
	xw_open(w, "item");
	xw_leaff(w, "groupId", "sg-0%016" PRIx64,
		 awsfake_mix64(5000 + vpc * 100u + k));
	if (k == 0)
		xw_leaff(w, "groupName", "%s-service-sg", team);
	else
		xw_leaf(w, "groupName", "default");
	xw_close(w, "item");
}

void xw_tag_item(struct xw *w, const char *k, const char *v)
{
	xw_open(w, "item");
	xw_leaf(w, "key", k);
	xw_leaf(w, "value", v);
	xw_close(w, "item");
}

/*
 * A network interface <item>, as an instance's networkInterfaceSet and
 * DescribeNetworkInterfaces both write it. NULL fields are left out.
 */
struct eni {
	const char *id, *subnet, *vpc, *az, *description;
	const char *requester; /* requesterId of an interface AWS manages */
	const char *status;
	char mac[24];
	const char *ip, *dns;
	unsigned vpcn; /* the VPC's security groups */
	const char *team;
	bool twogroups;
	uint64_t attachment; /* 0: not attached */
	const char *instance, *attach_time;
	const char *pubip, *pubdns; /* pubip NULL: no public address */
	/* tagSet: std_tags(tag_h, name, rev); name NULL: no tagSet */
	const char *name;
	uint64_t tag_h;
	unsigned rev;
};

static void std_tags(struct xw *w, uint64_t h, const char *name, unsigned rev);

static void association(struct xw *w, const struct eni *e)
{
	if (!e->pubip)
		return;
	xw_open(w, "association");
	xw_leaf(w, "publicIp", e->pubip);
	xw_leaf(w, "publicDnsName", e->pubdns);
	xw_leaf(w, "ipOwnerId", "amazon");
	xw_close(w, "association");
}

static void eni_item(struct xw *w, const struct eni *e)
{
	xw_open(w, "item");
	xw_leaf(w, "networkInterfaceId", e->id);
	xw_leaf(w, "subnetId", e->subnet);
	xw_leaf(w, "vpcId", e->vpc);
	if (e->az)
		xw_leaf(w, "availabilityZone", e->az);
	xw_leaf(w, "description", e->description);
	xw_leaf(w, "ownerId", AWSFAKE_ACCOUNT);
	if (e->az) {
		if (e->requester)
			xw_leaf(w, "requesterId", e->requester);
		xw_leaf(w, "requesterManaged", e->requester ? "true" : "false");
	}
	xw_leaf(w, "status", e->status);
	xw_leaf(w, "macAddress", e->mac);
	xw_leaf(w, "privateIpAddress", e->ip);
	xw_leaf(w, "privateDnsName", e->dns);
	xw_leaf(w, "sourceDestCheck", "true");
	xw_open(w, "groupSet");
	sg_item(w, e->vpcn, 0, e->team);
	if (e->twogroups)
		sg_item(w, e->vpcn, 1, e->team);
	xw_close(w, "groupSet");
	if (e->attachment) {
		xw_open(w, "attachment");
		xw_leaff(w, "attachmentId", "eni-attach-0%016" PRIx64,
			 e->attachment);
		if (e->instance) {
			xw_leaf(w, "instanceId", e->instance);
			xw_leaf(w, "instanceOwnerId", AWSFAKE_ACCOUNT);
		}
		xw_leaf(w, "deviceIndex", "0");
		xw_leaf(w, "status", "attached");
		xw_leaf(w, "attachTime", e->attach_time);
		xw_leaf(w, "deleteOnTermination", "true");
		xw_leaf(w, "networkCardIndex", "0");
		xw_close(w, "attachment");
	}
	association(w, e);
	if (e->name)
		std_tags(w, e->tag_h, e->name, e->rev);
	xw_open(w, "privateIpAddressesSet");
	xw_open(w, "item");
	xw_leaf(w, "privateIpAddress", e->ip);
	xw_leaf(w, "privateDnsName", e->dns);
	xw_leaf(w, "primary", "true");
	association(w, e);
	xw_close(w, "item");
	xw_close(w, "privateIpAddressesSet");
	xw_leaf(w, "ipv6AddressesSet", "");
	xw_leaf(w, "interfaceType", "interface");
	xw_close(w, "item");
}

void awsfake_ec2_instance(struct xw *w, size_t i, unsigned rev)
{
	uint64_t h = awsfake_mix64(i), h2 = awsfake_mix64(h ^ 0x5a5a5a5aULL);
	const struct itype *t = &itypes[h % ARRAY_SIZE(itypes)];
	const char *team = teams[(h >> 8) % ARRAY_SIZE(teams)];
	const char *env = envs[(h >> 16) % ARRAY_SIZE(envs)];
	bool stopped = ((h >> 20) % 12 == 0) != (rev % 2 == 1);
	bool pub = !stopped && (h >> 24) % 3 == 0;
	bool asg = (h >> 30) % 2 == 0;
	bool twovols = (h >> 32) % 3 == 0;
	bool profile = (h >> 52) % 2 == 0;
	bool twogroups = (h >> 34) % 4 == 0;
	unsigned sub = (unsigned)((h >> 36) % 48), vpc = sub / 12;
	unsigned ntags = 3 + (unsigned)(h2 % 3);
	int64_t launch_s = 1704067200 + (int64_t)(h2 % (700 * 86400ULL));
	char launch[TIME_RFC3339_LEN], ip[32], pdns[64], pubip[32], pubdns[80],
	    subnet[32], vpcid[32], eni[32], val[128];
	struct eni e = {0};
	unsigned a = (unsigned)(h2 >> 8) & 255, b = (unsigned)(h2 >> 16) & 255,
		 c = (unsigned)(h2 >> 24) & 255;

	ts(launch_s, launch);
	snprintf(ip, sizeof(ip), "10.%zu.%zu.%zu", (i >> 16) & 255,
		 (i >> 8) & 255, i & 255);
	snprintf(pdns, sizeof(pdns), "ip-10-%zu-%zu-%zu.ec2.internal",
		 (i >> 16) & 255, (i >> 8) & 255, i & 255);
	snprintf(pubip, sizeof(pubip), "54.%u.%u.%u", a, b, c);
	snprintf(pubdns, sizeof(pubdns),
		 "ec2-54-%u-%u-%u.compute-1.amazonaws.com", a, b, c);
	snprintf(subnet, sizeof(subnet), "subnet-0%016" PRIx64,
		 awsfake_mix64(1000 + sub));
	snprintf(vpcid, sizeof(vpcid), "vpc-0%016" PRIx64,
		 awsfake_mix64(2000 + vpc));
	snprintf(eni, sizeof(eni), "eni-0%016" PRIx64,
		 awsfake_mix64(i ^ 0xe1e1e1ULL));

	xw_open(w, "item");
	xw_leaff(w, "instanceId", "i-0%016" PRIx64, h);
	xw_leaff(w, "imageId", "ami-0%016" PRIx64,
		 awsfake_mix64(3000 + (h >> 8) % ARRAY_SIZE(teams)));
	xw_open(w, "instanceState");
	xw_leaf(w, "code", stopped ? "80" : "16");
	xw_leaf(w, "name", stopped ? "stopped" : "running");
	xw_close(w, "instanceState");
	xw_leaf(w, "privateDnsName", pdns);
	xw_leaf(w, "dnsName", pub ? pubdns : "");
	if (stopped) {
		char when[TIME_RFC3339_LEN];
		ts(launch_s + 86400 * 3, when);
		xw_leaff(w, "reason", "User initiated (%.10s %.8s GMT)", when,
			 when + 11);
	} else {
		xw_leaf(w, "reason", "");
	}
	xw_leaf(w, "keyName", keys[(h >> 40) % ARRAY_SIZE(keys)]);
	xw_leaf(w, "amiLaunchIndex", "0");
	xw_leaf(w, "productCodes", "");
	xw_leaf(w, "instanceType", t->name);
	xw_leaf(w, "launchTime", launch);
	xw_open(w, "placement");
	xw_leaff(w, "availabilityZone", AWSFAKE_REGION "%c", "abcdef"[sub % 6]);
	xw_leaf(w, "groupName", "");
	xw_leaf(w, "tenancy", "default");
	xw_close(w, "placement");
	xw_open(w, "monitoring");
	xw_leaf(w, "state", (h >> 42) % 4 ? "disabled" : "enabled");
	xw_close(w, "monitoring");
	xw_leaf(w, "subnetId", subnet);
	xw_leaf(w, "vpcId", vpcid);
	xw_leaf(w, "privateIpAddress", ip);
	if (pub)
		xw_leaf(w, "ipAddress", pubip);
	xw_leaf(w, "sourceDestCheck", "true");
	xw_open(w, "groupSet");
	sg_item(w, vpc, 0, team);
	if (twogroups)
		sg_item(w, vpc, 1, team);
	xw_close(w, "groupSet");
	if (stopped) {
		xw_open(w, "stateReason");
		xw_leaf(w, "code", "Client.UserInitiatedShutdown");
		xw_leaf(w, "message",
			"Client.UserInitiatedShutdown: User "
			"initiated shutdown");
		xw_close(w, "stateReason");
	}
	xw_leaf(w, "architecture", t->arch);
	xw_leaf(w, "rootDeviceType", "ebs");
	xw_leaf(w, "rootDeviceName", "/dev/xvda");
	xw_open(w, "blockDeviceMapping");
	for (unsigned v = 0; v < (twovols ? 2u : 1u); v++) {
		xw_open(w, "item");
		xw_leaf(w, "deviceName", v ? "/dev/sdf" : "/dev/xvda");
		xw_open(w, "ebs");
		xw_leaff(w, "volumeId", "vol-0%016" PRIx64,
			 awsfake_mix64((uint64_t)i * 2 + v + 0x10000000000ULL));
		xw_leaf(w, "status", "attached");
		xw_leaf(w, "attachTime", launch);
		xw_leaf(w, "deleteOnTermination", v ? "false" : "true");
		xw_close(w, "ebs");
		xw_close(w, "item");
	}
	xw_close(w, "blockDeviceMapping");
	xw_leaf(w, "virtualizationType", "hvm");
	if (asg)
		xw_leaff(w, "clientToken",
			 "fleet-%08" PRIx64 "-%04x-%04x-%04x-%012" PRIx64,
			 h2 >> 32, (unsigned)(h2 >> 16) & 0xffff,
			 (unsigned)h2 & 0xffff, (unsigned)(h >> 48),
			 awsfake_mix64(h2) >> 16);
	else
		xw_leaff(w, "clientToken", "terraform-%016" PRIx64 "%08x", h2,
			 (unsigned)(h >> 32));
	xw_open(w, "tagSet");
	snprintf(val, sizeof(val), "%s-%s-%zu", team,
		 (h >> 44) % 2 ? "api" : "worker", i % 997);
	xw_tag_item(w, "Name", val);
	xw_tag_item(w, "Environment", env);
	xw_tag_item(w, "Team", team);
	if (ntags > 3) {
		if (asg) {
			snprintf(val, sizeof(val), "%s-%s-asg-%u", team, env,
				 (unsigned)(h >> 46) % 16);
			xw_tag_item(w, "aws:autoscaling:groupName", val);
		} else {
			xw_tag_item(w, "ManagedBy", "terraform");
		}
	}
	if (ntags > 4) {
		snprintf(val, sizeof(val), "cc-%04u",
			 (unsigned)((h >> 8) % ARRAY_SIZE(teams)) * 100 + 4100);
		xw_tag_item(w, "CostCenter", val);
	}
	xw_close(w, "tagSet");
	xw_leaf(w, "hypervisor", "xen");
	xw_open(w, "networkInterfaceSet");
	e.id = eni;
	e.subnet = subnet;
	e.vpc = vpcid;
	e.description = "";
	e.status = "in-use";
	snprintf(e.mac, sizeof(e.mac), "0e:%02x:%02x:%02x:%02x:%02x",
		 (unsigned)(h2 >> 40) & 255, (unsigned)(h2 >> 48) & 255,
		 (unsigned)(i >> 16) & 255, (unsigned)(i >> 8) & 255,
		 (unsigned)i & 255);
	e.ip = ip;
	e.dns = pdns;
	e.vpcn = vpc;
	e.team = team;
	e.twogroups = twogroups;
	e.attachment = awsfake_mix64(i ^ 0xa77ac4ULL);
	e.attach_time = launch;
	e.pubip = pub ? pubip : NULL;
	e.pubdns = pubdns;
	eni_item(w, &e);
	xw_close(w, "networkInterfaceSet");
	if (profile) {
		xw_open(w, "iamInstanceProfile");
		xw_leaff(w, "arn",
			 "arn:aws:iam::" AWSFAKE_ACCOUNT
			 ":instance-profile/%s-%s-instance",
			 team, env);
		xw_leaff(w, "id", "AIPA%016" PRIX64,
			 awsfake_mix64((h >> 8) % 64));
		xw_close(w, "iamInstanceProfile");
	}
	xw_leaf(w, "ebsOptimized", t->name[0] == 't' ? "false" : "true");
	xw_leaf(w, "enaSupport", "true");
	xw_open(w, "cpuOptions");
	xw_leaff(w, "coreCount", "%d", t->cores);
	xw_leaff(w, "threadsPerCore", "%d", t->threads);
	xw_close(w, "cpuOptions");
	xw_open(w, "capacityReservationSpecification");
	xw_leaf(w, "capacityReservationPreference", "open");
	xw_close(w, "capacityReservationSpecification");
	xw_open(w, "hibernationOptions");
	xw_leaf(w, "configured", "false");
	xw_close(w, "hibernationOptions");
	xw_open(w, "enclaveOptions");
	xw_leaf(w, "enabled", "false");
	xw_close(w, "enclaveOptions");
	xw_open(w, "metadataOptions");
	xw_leaf(w, "state", "applied");
	xw_leaf(w, "httpTokens", (h >> 50) % 3 ? "required" : "optional");
	xw_leaf(w, "httpPutResponseHopLimit", "2");
	xw_leaf(w, "httpEndpoint", "enabled");
	xw_leaf(w, "httpProtocolIpv6", "disabled");
	xw_leaf(w, "instanceMetadataTags", "disabled");
	xw_close(w, "metadataOptions");
	xw_leaf(w, "bootMode", t->arch[0] == 'a' ? "uefi" : "legacy-bios");
	xw_leaf(w, "platformDetails", "Linux/UNIX");
	xw_leaf(w, "usageOperation", "RunInstances");
	xw_leaf(w, "usageOperationUpdateTime", launch);
	xw_open(w, "privateDnsNameOptions");
	xw_leaf(w, "hostnameType", "ip-name");
	xw_leaf(w, "enableResourceNameDnsARecord", "false");
	xw_leaf(w, "enableResourceNameDnsAAAARecord", "false");
	xw_close(w, "privateDnsNameOptions");
	xw_open(w, "maintenanceOptions");
	xw_leaf(w, "autoRecovery", "default");
	xw_close(w, "maintenanceOptions");
	xw_leaf(w, "currentInstanceBootMode",
		t->arch[0] == 'a' ? "uefi" : "legacy-bios");
	xw_open(w, "networkPerformanceOptions");
	xw_leaf(w, "bandwidthWeighting", "default");
	xw_close(w, "networkPerformanceOptions");
	xw_open(w, "operator");
	xw_leaf(w, "managed", "false");
	xw_close(w, "operator");
	xw_close(w, "item");
}

/* A reservation <item> holding instances i .. i + k - 1. */
void awsfake_ec2_reservation(struct xw *w, size_t i, size_t k, unsigned rev)
{
	xw_open(w, "item");
	xw_leaff(w, "reservationId", "r-0%016" PRIx64,
		 awsfake_mix64(i ^ 0x7e5e7ULL));
	xw_leaf(w, "ownerId", AWSFAKE_ACCOUNT);
	xw_leaf(w, "groupSet", "");
	xw_open(w, "instancesSet");
	for (size_t j = 0; j < k; j++)
		awsfake_ec2_instance(w, i + j, rev);
	xw_close(w, "instancesSet");
	xw_close(w, "item");
}

/* ----------------------------------------------------- the other records */

/* The hash a record of another type derives its values from: distinct
 * inputs for every (kind, i), so its ids never repeat within the type. */
static uint64_t rec_hash(unsigned kind, size_t i)
{
	return awsfake_mix64(((uint64_t)kind << 40) ^ (uint64_t)i);
}

/* Where a record lives: one of the 48 subnets of 4 VPCs instances use. */
struct place {
	char subnet[32], vpc[32], az[16];
	unsigned sub;
};

static void place_of(uint64_t h, struct place *p)
{
	p->sub = (unsigned)((h >> 36) % 48);
	snprintf(p->subnet, sizeof(p->subnet), "subnet-0%016" PRIx64,
		 awsfake_mix64(1000 + p->sub));
	snprintf(p->vpc, sizeof(p->vpc), "vpc-0%016" PRIx64,
		 awsfake_mix64(2000 + p->sub / 12));
	snprintf(p->az, sizeof(p->az), "%s%c", AWSFAKE_REGION,
		 "abcdef"[p->sub % 6]);
}

/* Name, Environment, Team, and now and then ManagedBy and CostCenter. A
 * new rev moves the record to another team (a retag). */
static void std_tags(struct xw *w, uint64_t h, const char *name, unsigned rev)
{
	size_t team = (size_t)((h >> 8) + rev) % ARRAY_SIZE(teams);

	xw_open(w, "tagSet");
	xw_tag_item(w, "Name", name);
	xw_tag_item(w, "Environment", envs[(h >> 16) % ARRAY_SIZE(envs)]);
	xw_tag_item(w, "Team", teams[team]);
	if ((h >> 30) % 2)
		xw_tag_item(w, "ManagedBy", "terraform");
	if ((h >> 31) % 3 == 0) {
		char cc[16];
		snprintf(cc, sizeof(cc), "cc-%04u",
			 (unsigned)team * 100 + 4100);
		xw_tag_item(w, "CostCenter", cc);
	}
	xw_close(w, "tagSet");
}

static void kms_key(struct xw *w, uint64_t h)
{
	xw_leaff(w, "kmsKeyId",
		 "arn:aws:kms:" AWSFAKE_REGION ":" AWSFAKE_ACCOUNT
		 ":key/%08x-%04x-4%03x-a%03x-%012" PRIx64,
		 (unsigned)(h >> 32), (unsigned)(h >> 16) & 0xffff,
		 (unsigned)(h >> 4) & 0xfff, (unsigned)(h >> 44) & 0xfff,
		 awsfake_mix64(h) >> 16);
}

void awsfake_ec2_volume(struct xw *w, size_t i, unsigned rev)
{
	static const unsigned sizes[] = {8, 20, 30, 50, 100, 200, 500, 1000};
	static const char *const vtypes[] = {"gp3", "gp3", "gp3",
					     "gp2", "io2", "st1"};
	uint64_t h = rec_hash(1, i), h2 = awsfake_mix64(h);
	const char *vt = vtypes[h2 % ARRAY_SIZE(vtypes)];
	unsigned size = sizes[h % ARRAY_SIZE(sizes)];
	bool attached = (h >> 12) % 10 < 7, encrypted = (h >> 16) % 3 != 0;
	int64_t created = 1704067200 + (int64_t)(h2 % (700 * 86400ULL));
	struct place pl;
	char name[64];

	place_of(h, &pl);
	snprintf(name, sizeof(name), "%s-data-%zu",
		 teams[(h >> 8) % ARRAY_SIZE(teams)], i % 997);
	xw_open(w, "item");
	xw_leaff(w, "volumeId", "vol-0%016" PRIx64, h);
	xw_leaff(w, "size", "%u", size);
	if ((h >> 20) % 3 == 0)
		xw_leaff(w, "snapshotId", "snap-0%016" PRIx64, rec_hash(2, i));
	else
		xw_leaf(w, "snapshotId", "");
	xw_leaf(w, "availabilityZone", pl.az);
	xw_leaf(w, "status", attached ? "in-use" : "available");
	xw_time(w, "createTime", created);
	xw_open(w, "attachmentSet");
	if (attached) {
		xw_open(w, "item");
		xw_leaff(w, "volumeId", "vol-0%016" PRIx64, h);
		xw_leaff(w, "instanceId", "i-0%016" PRIx64,
			 awsfake_mix64(i / 2));
		xw_leaf(w, "device", i % 2 ? "/dev/sdf" : "/dev/xvda");
		xw_leaf(w, "status", "attached");
		xw_time(w, "attachTime", created + 60);
		xw_leaf(w, "deleteOnTermination", i % 2 ? "false" : "true");
		xw_close(w, "item");
	}
	xw_close(w, "attachmentSet");
	xw_leaf(w, "volumeType", vt);
	if (!strcmp(vt, "gp3"))
		xw_leaf(w, "iops", "3000");
	else if (!strcmp(vt, "gp2"))
		xw_leaff(w, "iops", "%u", size * 3 < 100 ? 100 : size * 3);
	else if (!strcmp(vt, "io2"))
		xw_leaf(w, "iops", "10000");
	if (!strcmp(vt, "gp3"))
		xw_leaf(w, "throughput", "125");
	xw_leaf(w, "encrypted", encrypted ? "true" : "false");
	if (encrypted)
		kms_key(w, h2 % 4);
	std_tags(w, h, name, rev);
	xw_leaf(w, "multiAttachEnabled", "false");
	xw_close(w, "item");
}

void awsfake_ec2_snapshot(struct xw *w, size_t i, unsigned rev)
{
	uint64_t h = rec_hash(2, i), h2 = awsfake_mix64(h);
	bool copied = (h >> 12) % 10 == 0, encrypted = (h >> 16) % 3 != 0;
	int64_t started = 1704067200 + (int64_t)(h2 % (700 * 86400ULL));
	char name[64];

	snprintf(name, sizeof(name), "%s-backup-%zu",
		 teams[(h >> 8) % ARRAY_SIZE(teams)], i % 997);
	xw_open(w, "item");
	xw_leaff(w, "snapshotId", "snap-0%016" PRIx64, h);
	if (copied)
		xw_leaf(w, "volumeId", "vol-ffffffff");
	else
		xw_leaff(w, "volumeId", "vol-0%016" PRIx64, rec_hash(1, i));
	xw_leaf(w, "status", "completed");
	xw_time(w, "startTime", started);
	xw_leaf(w, "progress", "100%");
	xw_leaf(w, "ownerId", AWSFAKE_ACCOUNT);
	xw_leaff(w, "volumeSize", "%u", 8u << (h % 6));
	if (copied)
		xw_leaff(w, "description",
			 "Copied for DestinationAmi ami-0%016" PRIx64
			 " from SourceAmi ami-0%016" PRIx64,
			 awsfake_mix64(h2), awsfake_mix64(h2 + 1));
	else
		xw_leaff(w, "description", "daily backup of %s", name);
	xw_leaf(w, "encrypted", encrypted ? "true" : "false");
	if (encrypted)
		kms_key(w, h2 % 4);
	std_tags(w, h, name, rev);
	xw_leaf(w, "storageTier", (h >> 20) % 5 ? "standard" : "archive");
	xw_close(w, "item");
}

void awsfake_ec2_network_interface(struct xw *w, size_t i, unsigned rev)
{
	uint64_t h = rec_hash(3, i), h2 = awsfake_mix64(h);
	bool attached = (h >> 12) % 10 < 8, elb = (h >> 20) % 8 == 0;
	const char *team = teams[(h >> 8) % ARRAY_SIZE(teams)];
	unsigned a = (unsigned)(h2 >> 8) & 255, b = (unsigned)(h2 >> 16) & 255,
		 c = (unsigned)(h2 >> 24) & 255;
	char id[32], ip[32], dns[64], pubip[32], pubdns[80], name[64], desc[80],
	    instance[32], at[TIME_RFC3339_LEN];
	struct eni e = {0};
	struct place pl;

	place_of(h, &pl);
	snprintf(id, sizeof(id), "eni-0%016" PRIx64, h);
	snprintf(ip, sizeof(ip), "10.%u.%zu.%zu", 64 + pl.sub, (i >> 8) & 255,
		 i & 255);
	snprintf(dns, sizeof(dns), "ip-10-%u-%zu-%zu.ec2.internal", 64 + pl.sub,
		 (i >> 8) & 255, i & 255);
	snprintf(pubip, sizeof(pubip), "3.%u.%u.%u", a, b, c);
	snprintf(pubdns, sizeof(pubdns),
		 "ec2-3-%u-%u-%u.compute-1.amazonaws.com", a, b, c);
	snprintf(name, sizeof(name), "%s-eni-%zu", team, i % 997);
	snprintf(instance, sizeof(instance), "i-0%016" PRIx64,
		 awsfake_mix64(i));
	ts(1704067200 + (int64_t)(h2 % (700 * 86400ULL)), at);
	if (elb)
		snprintf(desc, sizeof(desc), "ELB app/%s-alb/%012" PRIx64, team,
			 h2 >> 16);
	else
		snprintf(desc, sizeof(desc), "%s",
			 attached ? "Primary network interface" : "");
	e.id = id;
	e.subnet = pl.subnet;
	e.vpc = pl.vpc;
	e.az = pl.az;
	e.description = desc;
	e.requester = elb ? "amazon-elb" : NULL;
	e.status = attached ? "in-use" : "available";
	snprintf(e.mac, sizeof(e.mac), "0a:%02x:%02x:%02x:%02x:%02x",
		 (unsigned)(h2 >> 40) & 255, (unsigned)(h2 >> 48) & 255,
		 (unsigned)(i >> 16) & 255, (unsigned)(i >> 8) & 255,
		 (unsigned)i & 255);
	e.ip = ip;
	e.dns = dns;
	e.vpcn = pl.sub / 12;
	e.team = team;
	e.attachment = attached ? awsfake_mix64(h ^ 0xa77ac4ULL) : 0;
	e.instance = instance;
	e.attach_time = at;
	e.pubip = (h >> 16) % 4 == 0 ? pubip : NULL;
	e.pubdns = pubdns;
	e.name = name;
	e.tag_h = h;
	e.rev = rev;
	eni_item(w, &e);
}

/* One rule: protocol, ports, and either CIDR ranges or another group. */
static void permission(struct xw *w, const char *proto, int from, int to,
		       const char *cidr, uint64_t group)
{
	xw_open(w, "item");
	xw_leaf(w, "ipProtocol", proto);
	if (from >= 0) {
		xw_leaff(w, "fromPort", "%d", from);
		xw_leaff(w, "toPort", "%d", to);
	}
	xw_open(w, "groups");
	if (group) {
		xw_open(w, "item");
		xw_leaf(w, "userId", AWSFAKE_ACCOUNT);
		xw_leaff(w, "groupId", "sg-0%016" PRIx64, group);
		xw_close(w, "item");
	}
	xw_close(w, "groups");
	xw_open(w, "ipRanges");
	if (cidr) {
		xw_open(w, "item");
		xw_leaf(w, "cidrIp", cidr);
		xw_close(w, "item");
	}
	xw_close(w, "ipRanges");
	xw_leaf(w, "ipv6Ranges", "");
	xw_leaf(w, "prefixListIds", "");
	xw_close(w, "item");
}

void awsfake_ec2_security_group(struct xw *w, size_t i, unsigned rev)
{
	uint64_t h = rec_hash(4, i);
	const char *team = teams[(h >> 8) % ARRAY_SIZE(teams)];
	struct place pl;
	char name[64];

	place_of(h, &pl);
	snprintf(name, sizeof(name), "%s-svc-%zu-sg", team, i);
	xw_open(w, "item");
	xw_leaf(w, "ownerId", AWSFAKE_ACCOUNT);
	xw_leaff(w, "groupId", "sg-0%016" PRIx64, h);
	xw_leaf(w, "groupName", name);
	xw_leaff(w, "groupDescription", "%s service %zu", team, i);
	xw_leaf(w, "vpcId", pl.vpc);
	xw_open(w, "ipPermissions");
	if ((h >> 12) % 5 == 0)
		permission(w, "tcp", 443, 443, "0.0.0.0/0", 0);
	permission(w, "tcp", 22, 22, "10.0.0.0/8", 0);
	if ((h >> 16) % 2)
		permission(w, "tcp", 5432, 5432, NULL,
			   awsfake_mix64(5000 + (pl.sub / 12) * 100u));
	xw_close(w, "ipPermissions");
	xw_open(w, "ipPermissionsEgress");
	permission(w, "-1", -1, -1, "0.0.0.0/0", 0);
	xw_close(w, "ipPermissionsEgress");
	std_tags(w, h, name, rev);
	xw_leaff(w, "securityGroupArn",
		 "arn:aws:ec2:" AWSFAKE_REGION ":" AWSFAKE_ACCOUNT
		 ":security-group/sg-0%016" PRIx64,
		 h);
	xw_close(w, "item");
}

void awsfake_ec2_subnet(struct xw *w, size_t i, unsigned rev)
{
	uint64_t h = rec_hash(5, i);
	bool pub = (h >> 12) % 4 == 0;
	struct place pl;
	char name[64];

	place_of(h, &pl);
	snprintf(name, sizeof(name), "%s-%s-%zu",
		 teams[(h >> 8) % ARRAY_SIZE(teams)],
		 pub ? "public" : "private", i);
	xw_open(w, "item");
	xw_leaff(w, "subnetId", "subnet-0%016" PRIx64, h);
	xw_leaff(w, "subnetArn",
		 "arn:aws:ec2:" AWSFAKE_REGION ":" AWSFAKE_ACCOUNT
		 ":subnet/subnet-0%016" PRIx64,
		 h);
	xw_leaf(w, "state", "available");
	xw_leaf(w, "ownerId", AWSFAKE_ACCOUNT);
	xw_leaf(w, "vpcId", pl.vpc);
	xw_leaff(w, "cidrBlock", "10.%zu.%zu.0/24", 128 + (i >> 8) % 128,
		 i & 255);
	xw_leaf(w, "ipv6CidrBlockAssociationSet", "");
	xw_leaff(w, "availableIpAddressCount", "%u",
		 251 - (unsigned)(h >> 20) % 200);
	xw_leaf(w, "availabilityZone", pl.az);
	xw_leaff(w, "availabilityZoneId", "use1-az%u", 1 + pl.sub % 6);
	xw_leaf(w, "defaultForAz", "false");
	xw_leaf(w, "mapPublicIpOnLaunch", pub ? "true" : "false");
	xw_leaf(w, "assignIpv6AddressOnCreation", "false");
	std_tags(w, h, name, rev);
	xw_open(w, "privateDnsNameOptionsOnLaunch");
	xw_leaf(w, "hostnameType", "ip-name");
	xw_leaf(w, "enableResourceNameDnsARecord", "false");
	xw_leaf(w, "enableResourceNameDnsAAAARecord", "false");
	xw_close(w, "privateDnsNameOptionsOnLaunch");
	xw_close(w, "item");
}

/* ---------------------------------------------------------------- tokens */

void awsfake_token(size_t n, char out[AWSFAKE_TOKEN_LEN + 1])
{
	uint64_t h = awsfake_mix64(n ^ 0x70c3e5ULL);

	snprintf(out, AWSFAKE_TOKEN_LEN + 1,
		 AWSFAKE_TOKEN_PREFIX "%08zx%016" PRIx64 "%016" PRIx64
				      "QUFBQUFBQUFBQUFBQUFBQUFB==",
		 n, h, awsfake_mix64(h));
}

bool awsfake_token_parse(const char *tok, size_t *n)
{
	char want[AWSFAKE_TOKEN_LEN + 1], hex[9];
	size_t pre = sizeof(AWSFAKE_TOKEN_PREFIX) - 1;

	if (strlen(tok) != AWSFAKE_TOKEN_LEN ||
	    memcmp(tok, AWSFAKE_TOKEN_PREFIX, pre))
		return false;
	memcpy(hex, tok + pre, 8);
	hex[8] = '\0';
	*n = (size_t)strtoull(hex, NULL, 16);
	awsfake_token(*n, want);
	return !strcmp(tok, want);
}
