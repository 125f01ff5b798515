/*
 * elava-bench list: how fast Elava lists EC2 instances, next to the floors
 * of the same work on the same bytes. A server process generates realistic
 * DescribeInstances pages (about 5.6 KB an instance, 1000 a page, nextToken
 * on all but the last), keeps them in memory and serves them over HTTP/1.1
 * on loopback; it answers STS GetCallerIdentity too, since the provider
 * asks for the account first. Then, in this order:
 *
 *   list_s        Elava's listing through the public provider API, run in
 *                 a child forked while this process is still small, so its
 *                 peak RSS (wait4) is the listing's own;
 *   download_s    the same pages fetched with plain libcurl (one handle,
 *                 keep-alive, bytes discarded): the transport floor;
 *   null_parse_s  the same bytes, in memory, through libxml2's SAX2 push
 *                 parser with empty callbacks: the parsing floor;
 *   awscli_s      `aws ec2 describe-instances` over a second, smaller page
 *                 set on its own port (skipped when aws is not on PATH).
 *
 * Figures are printed, never judged. The server process ends when this
 * one closes its control pipe (or dies).
 */
#include "bench.h"

#include <arpa/inet.h>
#include <errno.h>
#include <fcntl.h>
#include <getopt.h>
#include <inttypes.h>
#include <netinet/in.h>
#include <netinet/tcp.h>
#include <poll.h>
#include <pthread.h>
#include <signal.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <time.h>
#include <unistd.h>

#include <curl/curl.h>
#include <libxml/parser.h>

#include "provider/provider.h"

#define ACCOUNT	    "123456789012"
#define REGION	    "us-east-1"
#define EC2_NS	    "http://ec2.amazonaws.com/doc/2016-11-15/"
#define STS_NS	    "https://sts.amazonaws.com/doc/2011-06-15/"
#define PAGE_MAX    ((size_t)1 << 30)  /* one generated or fetched page */
#define REQ_MAX	    ((size_t)64 << 10) /* one request, headers + body */
#define PARSE_CHUNK ((size_t)64 << 10)
#define INDENT	    1 /* a space a level: about 5.6 KB an instance */

/* The two page sets the server holds: Elava's, and awscli's. */
enum { SET_LIST, SET_AWSCLI, NSETS };

static void die(const char *fmt, ...) __attribute__((format(printf, 1, 2)));
static void die(const char *fmt, ...)
{
	va_list ap;

	fflush(stdout);
	fputs("elava-bench list: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fputc('\n', stderr);
	exit(1);
}

static double secs_since(int64_t t0)
{
	return (double)(time_mono_ns() - t0) / 1e9;
}

/* splitmix64's finaliser: a bijection, so ids derived from it are unique. */
static uint64_t mix64(uint64_t x)
{
	x += 0x9e3779b97f4a7c15ULL;
	x = (x ^ (x >> 30)) * 0xbf58476d1ce4e5b9ULL;
	x = (x ^ (x >> 27)) * 0x94d049bb133111ebULL;
	return x ^ (x >> 31);
}

/* ------------------------------------------------------------ the pages */

/* An indenting XML writer; the first failed append sticks in rc. */
struct xw {
	struct buf *b;
	int depth;
	int rc;
};

static void xw_put(struct xw *w, const char *p, size_t n)
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

static void xw_open(struct xw *w, const char *tag)
{
	xw_indent(w);
	xw_tag(w, "<", tag, ">\n");
	w->depth++;
}

static void xw_close(struct xw *w, const char *tag)
{
	w->depth--;
	xw_indent(w);
	xw_tag(w, "</", tag, ">\n");
}

/* <tag>val</tag>, or <tag/> for an empty value. Values need no escaping:
 * the generator writes none of & < > " '. */
static void xw_leaf(struct xw *w, const char *tag, const char *val)
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

static void xw_leaff(struct xw *w, const char *tag, const char *fmt, ...)
    __attribute__((format(printf, 3, 4)));
static void xw_leaff(struct xw *w, const char *tag, const char *fmt, ...)
{
	char val[512];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(val, sizeof(val), fmt, ap);
	va_end(ap);
	xw_leaf(w, tag, val);
}

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

/* launchTime and friends: EC2 writes milliseconds, always .000. */
static void ts(int64_t s, char out[TIME_RFC3339_LEN])
{
	time_format_rfc3339(s * 1000000000LL, out);
}

static void sg_item(struct xw *w, unsigned vpc, unsigned k, const char *team)
{
	xw_open(w, "item");
	xw_leaff(w, "groupId", "sg-0%016" PRIx64, mix64(5000 + vpc * 100u + k));
	if (k == 0)
		xw_leaff(w, "groupName", "%s-service-sg", team);
	else
		xw_leaf(w, "groupName", "default");
	xw_close(w, "item");
}

static void tag_item(struct xw *w, const char *k, const char *v)
{
	xw_open(w, "item");
	xw_leaf(w, "key", k);
	xw_leaf(w, "value", v);
	xw_close(w, "item");
}

/* One <instancesSet><item>, as DescribeInstances returns it in 2026. */
static void gen_instance(struct xw *w, size_t i)
{
	uint64_t h = mix64(i), h2 = mix64(h ^ 0x5a5a5a5aULL);
	const struct itype *t = &itypes[h % ARRAY_SIZE(itypes)];
	const char *team = teams[(h >> 8) % ARRAY_SIZE(teams)];
	const char *env = envs[(h >> 16) % ARRAY_SIZE(envs)];
	bool stopped = (h >> 20) % 12 == 0;
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
		 mix64(1000 + sub));
	snprintf(vpcid, sizeof(vpcid), "vpc-0%016" PRIx64, mix64(2000 + vpc));
	snprintf(eni, sizeof(eni), "eni-0%016" PRIx64, mix64(i ^ 0xe1e1e1ULL));

	xw_open(w, "item");
	xw_leaff(w, "instanceId", "i-0%016" PRIx64, h);
	xw_leaff(w, "imageId", "ami-0%016" PRIx64,
		 mix64(3000 + (h >> 8) % ARRAY_SIZE(teams)));
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
	xw_leaff(w, "availabilityZone", REGION "%c", "abcdef"[sub % 6]);
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
			 mix64((uint64_t)i * 2 + v + 0x10000000000ULL));
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
			 mix64(h2) >> 16);
	else
		xw_leaff(w, "clientToken", "terraform-%016" PRIx64 "%08x", h2,
			 (unsigned)(h >> 32));
	xw_open(w, "tagSet");
	snprintf(val, sizeof(val), "%s-%s-%zu", team,
		 (h >> 44) % 2 ? "api" : "worker", i % 997);
	tag_item(w, "Name", val);
	tag_item(w, "Environment", env);
	tag_item(w, "Team", team);
	if (ntags > 3) {
		if (asg) {
			snprintf(val, sizeof(val), "%s-%s-asg-%u", team, env,
				 (unsigned)(h >> 46) % 16);
			tag_item(w, "aws:autoscaling:groupName", val);
		} else {
			tag_item(w, "ManagedBy", "terraform");
		}
	}
	if (ntags > 4) {
		snprintf(val, sizeof(val), "cc-%04u",
			 (unsigned)((h >> 8) % ARRAY_SIZE(teams)) * 100 + 4100);
		tag_item(w, "CostCenter", val);
	}
	xw_close(w, "tagSet");
	xw_leaf(w, "hypervisor", "xen");
	xw_open(w, "networkInterfaceSet");
	xw_open(w, "item");
	xw_leaf(w, "networkInterfaceId", eni);
	xw_leaf(w, "subnetId", subnet);
	xw_leaf(w, "vpcId", vpcid);
	xw_leaf(w, "description", "");
	xw_leaf(w, "ownerId", ACCOUNT);
	xw_leaf(w, "status", "in-use");
	xw_leaff(w, "macAddress", "0e:%02x:%02x:%02x:%02x:%02x",
		 (unsigned)(h2 >> 40) & 255, (unsigned)(h2 >> 48) & 255,
		 (unsigned)(i >> 16) & 255, (unsigned)(i >> 8) & 255,
		 (unsigned)i & 255);
	xw_leaf(w, "privateIpAddress", ip);
	xw_leaf(w, "privateDnsName", pdns);
	xw_leaf(w, "sourceDestCheck", "true");
	xw_open(w, "groupSet");
	sg_item(w, vpc, 0, team);
	if (twogroups)
		sg_item(w, vpc, 1, team);
	xw_close(w, "groupSet");
	xw_open(w, "attachment");
	xw_leaff(w, "attachmentId", "eni-attach-0%016" PRIx64,
		 mix64(i ^ 0xa77ac4ULL));
	xw_leaf(w, "deviceIndex", "0");
	xw_leaf(w, "status", "attached");
	xw_leaf(w, "attachTime", launch);
	xw_leaf(w, "deleteOnTermination", "true");
	xw_leaf(w, "networkCardIndex", "0");
	xw_close(w, "attachment");
	if (pub) {
		xw_open(w, "association");
		xw_leaf(w, "publicIp", pubip);
		xw_leaf(w, "publicDnsName", pubdns);
		xw_leaf(w, "ipOwnerId", "amazon");
		xw_close(w, "association");
	}
	xw_open(w, "privateIpAddressesSet");
	xw_open(w, "item");
	xw_leaf(w, "privateIpAddress", ip);
	xw_leaf(w, "privateDnsName", pdns);
	xw_leaf(w, "primary", "true");
	if (pub) {
		xw_open(w, "association");
		xw_leaf(w, "publicIp", pubip);
		xw_leaf(w, "publicDnsName", pubdns);
		xw_leaf(w, "ipOwnerId", "amazon");
		xw_close(w, "association");
	}
	xw_close(w, "item");
	xw_close(w, "privateIpAddressesSet");
	xw_leaf(w, "ipv6AddressesSet", "");
	xw_leaf(w, "interfaceType", "interface");
	xw_close(w, "item");
	xw_close(w, "networkInterfaceSet");
	if (profile) {
		xw_open(w, "iamInstanceProfile");
		xw_leaff(w, "arn",
			 "arn:aws:iam::" ACCOUNT
			 ":instance-profile/%s-%s-instance",
			 team, env);
		xw_leaff(w, "id", "AIPA%016" PRIX64, mix64((h >> 8) % 64));
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

/* The continuation token naming page `page` (>= 1): opaque-looking, about
 * the length EC2's are, only [A-Za-z0-9=]. */
#define TOKEN_PREFIX "eyJ2IjoiMiIsImMiOiJCZW5jaExpc3QiLCJzIjoiMSIsImUiOiJ"
#define TOKEN_LEN    (sizeof(TOKEN_PREFIX) - 1 + 8 + 32 + 24 + 2)

static void page_token(size_t page, char out[TOKEN_LEN + 1])
{
	uint64_t h = mix64(page ^ 0x70c3e5ULL);

	snprintf(out, TOKEN_LEN + 1,
		 TOKEN_PREFIX "%08zx%016" PRIx64 "%016" PRIx64
			      "QUFBQUFBQUFBQUFBQUFBQUFB==",
		 page, h, mix64(h));
}

/* The page a token names, or false for a token this server never gave. */
static bool page_token_parse(const char *tok, size_t *page)
{
	char want[TOKEN_LEN + 1], hex[9];
	size_t pre = sizeof(TOKEN_PREFIX) - 1;

	if (strlen(tok) != TOKEN_LEN || memcmp(tok, TOKEN_PREFIX, pre))
		return false;
	memcpy(hex, tok + pre, 8);
	hex[8] = '\0';
	*page = (size_t)strtoull(hex, NULL, 16);
	page_token(*page, want);
	return !strcmp(tok, want);
}

struct page_set {
	struct buf *pages;
	size_t npages, instances, bytes;
};

static void page_set_build(struct page_set *s, size_t n, size_t per_page)
{
	static const char head[] =
	    "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
	    "<DescribeInstancesResponse xmlns=\"" EC2_NS "\">\n";
	static const char tail[] = "</DescribeInstancesResponse>\n";

	memset(s, 0, sizeof(*s));
	s->instances = n;
	s->npages = (n + per_page - 1) / per_page;
	s->pages = xcalloc(s->npages, sizeof(*s->pages));
	for (size_t p = 0; p < s->npages; p++) {
		size_t first = p * per_page;
		size_t last = first + per_page < n ? first + per_page : n;
		uint64_t rq = mix64(p ^ 0x4e0e57ULL);
		struct xw w = {&s->pages[p], 0, 0};

		buf_init(&s->pages[p], PAGE_MAX);
		xw_put(&w, head, sizeof(head) - 1);
		w.depth = 1;
		xw_leaff(&w, "requestId", "%08x-%04x-%04x-%04x-%012" PRIx64,
			 (unsigned)(rq >> 32), (unsigned)(rq >> 16) & 0xffff,
			 (unsigned)rq & 0xffff, (unsigned)(p & 0xffff),
			 mix64(rq) >> 16);
		xw_open(&w, "reservationSet");
		/* Mostly one instance a reservation; now and then two. */
		for (size_t i = first; i < last;) {
			size_t k = mix64(i ^ 0x7e5ULL) % 5 == 0 && i + 1 < last
				       ? 2
				       : 1;
			xw_open(&w, "item");
			xw_leaff(&w, "reservationId", "r-0%016" PRIx64,
				 mix64(i ^ 0x7e5e7ULL));
			xw_leaf(&w, "ownerId", ACCOUNT);
			xw_leaf(&w, "groupSet", "");
			xw_open(&w, "instancesSet");
			for (size_t j = 0; j < k; j++)
				gen_instance(&w, i + j);
			xw_close(&w, "instancesSet");
			xw_close(&w, "item");
			i += k;
		}
		xw_close(&w, "reservationSet");
		if (p + 1 < s->npages) {
			char tok[TOKEN_LEN + 1];
			page_token(p + 1, tok);
			xw_leaf(&w, "nextToken", tok);
		}
		xw_put(&w, tail, sizeof(tail) - 1);
		if (w.rc)
			die("page %zu: %s", p, elava_strerror(w.rc));
		s->bytes += s->pages[p].len;
	}
}

/* ----------------------------------------------------------- the server */

/* What the server counts, in memory shared with this process. */
struct server_stats {
	atomic_size_t requests[NSETS];
	atomic_size_t last_page_served[NSETS]; /* times the last page went */
};

/* What the server tells this process once it listens. */
struct server_ready {
	int ok;
	unsigned short port[NSETS];
	size_t bytes[NSETS], npages[NSETS];
	double gen_s;
};

struct server {
	pid_t pid;
	int ctl; /* closing it ends the server */
	struct server_ready ready;
	struct server_stats *stats;
};

struct conn {
	int fd;
	int set;
	const struct page_set *pages;
	struct server_stats *stats;
};

static atomic_uint request_seq;

static bool write_all(int fd, const void *p, size_t n)
{
	const char *c = p;

	while (n) {
		ssize_t w = write(fd, c, n);
		if (w < 0 && errno == EINTR)
			continue;
		if (w <= 0)
			return false;
		c += w;
		n -= (size_t)w;
	}
	return true;
}

static bool read_all(int fd, void *p, size_t n)
{
	char *c = p;

	while (n) {
		ssize_t r = read(fd, c, n);
		if (r < 0 && errno == EINTR)
			continue;
		if (r <= 0)
			return false;
		c += r;
		n -= (size_t)r;
	}
	return true;
}

/* Send header then body, whatever the socket takes at a time. */
static bool send_response(int fd, const char *hdr, size_t hlen,
			  const char *body, size_t blen)
{
	struct iovec iov[2] = {{(void *)hdr, hlen}, {(void *)body, blen}};
	struct msghdr m;
	int i = 0;

	while (i < 2) {
		memset(&m, 0, sizeof(m));
		m.msg_iov = iov + i;
		m.msg_iovlen = (size_t)(2 - i);
		ssize_t w = sendmsg(fd, &m, MSG_NOSIGNAL);
		if (w < 0 && errno == EINTR)
			continue;
		if (w < 0)
			return false;
		size_t left = (size_t)w;
		while (i < 2 && left >= iov[i].iov_len) {
			left -= iov[i].iov_len;
			i++;
		}
		if (i < 2) {
			iov[i].iov_base = (char *)iov[i].iov_base + left;
			iov[i].iov_len -= left;
		}
	}
	return true;
}

static bool reply(int fd, int status, const char *server, const char *body,
		  size_t blen, bool close_after)
{
	char hdr[512], rid[64];
	unsigned seq = atomic_fetch_add(&request_seq, 1);
	const char *reason = status == 200   ? "OK"
			     : status == 400 ? "Bad Request"
			     : status == 413 ? "Payload Too Large"
					     : "Not Implemented";

	snprintf(rid, sizeof(rid), "%08x-be9c-4c1e-9d5a-%012x", seq,
		 seq * 2654435761u);
	int n = snprintf(hdr, sizeof(hdr),
			 "HTTP/1.1 %d %s\r\n"
			 "x-amzn-RequestId: %s\r\n"
			 "Cache-Control: no-cache, no-store\r\n"
			 "Content-Type: text/xml;charset=UTF-8\r\n"
			 "Content-Length: %zu\r\n"
			 "Server: %s\r\n"
			 "%s\r\n",
			 status, reason, rid, blen, server,
			 close_after ? "Connection: close\r\n" : "");
	return send_response(fd, hdr, (size_t)n, body, blen);
}

/* The value of key in an x-www-form-urlencoded string, decoded. */
static bool form_get(const char *s, size_t n, const char *key, struct buf *out)
{
	size_t klen = strlen(key);
	const char *p = s, *end = s + n;

	while (p < end) {
		const char *amp = memchr(p, '&', (size_t)(end - p));
		const char *e = amp ? amp : end;
		if ((size_t)(e - p) > klen && !memcmp(p, key, klen) &&
		    p[klen] == '=') {
			buf_reset(out);
			for (const char *v = p + klen + 1; v < e; v++) {
				if (*v == '%' && e - v >= 3 &&
				    hex_digit(v[1]) >= 0 &&
				    hex_digit(v[2]) >= 0) {
					buf_putc(out,
						 (char)(hex_digit(v[1]) * 16 +
							hex_digit(v[2])));
					v += 2;
				} else {
					buf_putc(out, *v == '+' ? ' ' : *v);
				}
			}
			return true;
		}
		if (!amp)
			break;
		p = amp + 1;
	}
	return false;
}

static bool ec2_error(int fd, const char *code, const char *msg, bool closing)
{
	struct buf b = BUF_INIT;
	bool ok;

	buf_init(&b, 0);
	buf_printf(&b,
		   "<?xml version=\"1.0\" encoding=\"UTF-8\"?>\n"
		   "<Response><Errors><Error><Code>%s</Code><Message>%s"
		   "</Message></Error></Errors><RequestID>bench</RequestID>"
		   "</Response>",
		   code, msg);
	ok = reply(fd, 400, "AmazonEC2", b.data, b.len, closing);
	buf_release(&b);
	return ok;
}

/* Answer one request; false when the connection should close. */
static bool handle(struct conn *c, const char *target, const char *body,
		   size_t blen, bool closing)
{
	static const char sts[] =
	    "<GetCallerIdentityResponse xmlns=\"" STS_NS "\">\n"
	    "  <GetCallerIdentityResult>\n"
	    "    <Arn>arn:aws:iam::" ACCOUNT ":user/bench</Arn>\n"
	    "    <UserId>AIDAQBENCHBENCHBENCH1</UserId>\n"
	    "    <Account>" ACCOUNT "</Account>\n"
	    "  </GetCallerIdentityResult>\n"
	    "  <ResponseMetadata>\n"
	    "    <RequestId>01234567-89ab-cdef-0123-456789abcdef</RequestId>\n"
	    "  </ResponseMetadata>\n"
	    "</GetCallerIdentityResponse>\n";
	const char *q = strchr(target, '?');
	struct buf action = BUF_INIT, tok = BUF_INIT;
	size_t page = 0;
	bool ok;

	buf_init(&action, 0);
	buf_init(&tok, 0);
	if (!form_get(body, blen, "Action", &action) && q)
		form_get(q + 1, strlen(q + 1), "Action", &action);
	if (!form_get(body, blen, "NextToken", &tok) && q)
		form_get(q + 1, strlen(q + 1), "NextToken", &tok);
	if (action.len && !strcmp(action.data, "GetCallerIdentity")) {
		ok = reply(c->fd, 200, "AmazonSTS", sts, sizeof(sts) - 1,
			   closing);
	} else if (action.len && !strcmp(action.data, "DescribeInstances")) {
		if ((tok.len &&
		     (!page_token_parse(tok.data, &page) || page == 0)) ||
		    page >= c->pages->npages) {
			ok = ec2_error(c->fd, "InvalidParameterValue",
				       "Invalid value for nextToken", closing);
		} else {
			const struct buf *pg = &c->pages->pages[page];
			atomic_fetch_add(&c->stats->requests[c->set], 1);
			if (page + 1 == c->pages->npages)
				atomic_fetch_add(
				    &c->stats->last_page_served[c->set], 1);
			ok = reply(c->fd, 200, "AmazonEC2", pg->data, pg->len,
				   closing);
		}
	} else {
		ok = ec2_error(c->fd, "InvalidAction",
			       "The action is not valid for this web service",
			       closing);
	}
	buf_release(&action);
	buf_release(&tok);
	return ok && !closing;
}

/* Header value of name (case-insensitive) in the header block, or NULL. */
static const char *header(const char *hdrs, const char *name, size_t *vlen)
{
	size_t nl = strlen(name);

	for (const char *l = strstr(hdrs, "\r\n"); l; l = strstr(l, "\r\n")) {
		l += 2;
		if (!strncasecmp(l, name, nl) && l[nl] == ':') {
			const char *v = l + nl + 1, *e;
			while (*v == ' ' || *v == '\t')
				v++;
			e = strstr(v, "\r\n");
			*vlen = e ? (size_t)(e - v) : strlen(v);
			return v;
		}
	}
	return NULL;
}

/* One connection: keep-alive, Content-Length bodies, no chunked uploads. */
static void *conn_main(void *arg)
{
	struct conn *c = arg;
	char *in = xmalloc(REQ_MAX + 1);
	size_t have = 0;

	for (;;) {
		char *end, target[2048];
		const char *v;
		size_t hlen, clen = 0, vlen;
		bool closing;

		while (!(end = memmem(in, have, "\r\n\r\n", 4))) {
			if (have == REQ_MAX)
				goto out;
			ssize_t r = recv(c->fd, in + have, REQ_MAX - have, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		hlen = (size_t)(end - in) + 4;
		*end = '\0';
		if (sscanf(in, "%*s %2047s HTTP/1.%*c", target) != 1)
			goto out;
		if ((v = header(in, "Transfer-Encoding", &vlen))) {
			reply(c->fd, 501, "AmazonEC2", "", 0, true);
			goto out;
		}
		if ((v = header(in, "Content-Length", &vlen)))
			clen = (size_t)strtoull(v, NULL, 10);
		v = header(in, "Connection", &vlen);
		closing = v && !strncasecmp(v, "close", 5);
		if (clen > REQ_MAX - hlen) {
			reply(c->fd, 413, "AmazonEC2", "", 0, true);
			goto out;
		}
		v = header(in, "Expect", &vlen);
		if (v && !strncasecmp(v, "100-continue", 12) &&
		    have < hlen + clen &&
		    !send_response(c->fd, "HTTP/1.1 100 Continue\r\n\r\n", 25,
				   "", 0))
			goto out;
		while (have < hlen + clen) {
			ssize_t r = recv(c->fd, in + have, REQ_MAX - have, 0);
			if (r < 0 && errno == EINTR)
				continue;
			if (r <= 0)
				goto out;
			have += (size_t)r;
		}
		if (!handle(c, target, in + hlen, clen, closing))
			goto out;
		memmove(in, in + hlen + clen, have - hlen - clen);
		have -= hlen + clen;
	}
out:
	close(c->fd);
	xfree(in);
	xfree(c);
	return NULL;
}

static int listen_loopback(unsigned short *port)
{
	struct sockaddr_in a;
	socklen_t alen = sizeof(a);
	int fd = socket(AF_INET, SOCK_STREAM | SOCK_CLOEXEC, 0), one = 1;

	if (fd < 0)
		return -1;
	setsockopt(fd, SOL_SOCKET, SO_REUSEADDR, &one, sizeof(one));
	memset(&a, 0, sizeof(a));
	a.sin_family = AF_INET;
	a.sin_addr.s_addr = htonl(INADDR_LOOPBACK);
	if (bind(fd, (struct sockaddr *)&a, sizeof(a)) || listen(fd, 64) ||
	    getsockname(fd, (struct sockaddr *)&a, &alen)) {
		close(fd);
		return -1;
	}
	*port = ntohs(a.sin_port);
	return fd;
}

/* The server process: build the pages, listen, report, serve until the
 * control pipe closes. Never returns. */
static void server_main(int ctl, int ready_fd, struct server_stats *stats,
			const size_t counts[NSETS], size_t per_page)
{
	struct page_set sets[NSETS];
	struct server_ready rd;
	struct pollfd pf[NSETS + 1];
	int64_t t0 = time_mono_ns();

	memset(&rd, 0, sizeof(rd));
	signal(SIGPIPE, SIG_IGN);
	memset(sets, 0, sizeof(sets));
	for (int s = 0; s < NSETS; s++) {
		if (counts[s])
			page_set_build(&sets[s], counts[s], per_page);
		rd.bytes[s] = sets[s].bytes;
		rd.npages[s] = sets[s].npages;
	}
	rd.gen_s = secs_since(t0);
	rd.ok = 1;
	for (int s = 0; s < NSETS; s++) {
		pf[s].fd = listen_loopback(&rd.port[s]);
		pf[s].events = POLLIN;
		if (pf[s].fd < 0)
			rd.ok = 0;
	}
	pf[NSETS].fd = ctl;
	pf[NSETS].events = POLLIN;
	if (!write_all(ready_fd, &rd, sizeof(rd)) || !rd.ok)
		_exit(1);
	close(ready_fd);
	for (;;) {
		if (poll(pf, NSETS + 1, -1) < 0) {
			if (errno == EINTR)
				continue;
			_exit(1);
		}
		if (pf[NSETS].revents)
			_exit(0); /* EOF: the bench is done (or gone) */
		for (int s = 0; s < NSETS; s++) {
			if (!(pf[s].revents & POLLIN))
				continue;
			int fd = accept4(pf[s].fd, NULL, NULL, SOCK_CLOEXEC);
			if (fd < 0)
				continue;
			int one = 1;
			setsockopt(fd, IPPROTO_TCP, TCP_NODELAY, &one,
				   sizeof(one));
			struct conn *c = xcalloc(1, sizeof(*c));
			c->fd = fd;
			c->set = s;
			c->pages = &sets[s];
			c->stats = stats;
			pthread_t th;
			pthread_attr_t at;
			pthread_attr_init(&at);
			pthread_attr_setdetachstate(&at,
						    PTHREAD_CREATE_DETACHED);
			if (pthread_create(&th, &at, conn_main, c)) {
				close(fd);
				xfree(c);
			}
			pthread_attr_destroy(&at);
		}
	}
}

static void server_start(struct server *srv, const size_t counts[NSETS],
			 size_t per_page)
{
	int ctl[2], rdy[2];

	memset(srv, 0, sizeof(*srv));
	srv->stats = mmap(NULL, sizeof(*srv->stats), PROT_READ | PROT_WRITE,
			  MAP_SHARED | MAP_ANONYMOUS, -1, 0);
	if (srv->stats == MAP_FAILED)
		die("mmap: %s", strerror(errno));
	memset(srv->stats, 0, sizeof(*srv->stats));
	if (pipe2(ctl, O_CLOEXEC) || pipe2(rdy, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	srv->pid = fork();
	if (srv->pid < 0)
		die("fork: %s", strerror(errno));
	if (srv->pid == 0) {
		close(ctl[1]);
		close(rdy[0]);
		server_main(ctl[0], rdy[1], srv->stats, counts, per_page);
	}
	close(ctl[0]);
	close(rdy[1]);
	srv->ctl = ctl[1];
	if (!read_all(rdy[0], &srv->ready, sizeof(srv->ready)) ||
	    !srv->ready.ok)
		die("the page server did not start");
	close(rdy[0]);
}

static void server_stop(struct server *srv)
{
	close(srv->ctl);
	waitpid(srv->pid, NULL, 0);
	munmap(srv->stats, sizeof(*srv->stats));
}

/* ---------------------------------------------------- Elava's listing */

/* What the listing child reports back through its pipe. */
struct list_result {
	int rc;		      /* 0, or what failed (msg says) */
	double new_s, list_s; /* provider_aws_new, provider_list */
	size_t seen;	      /* resources delivered to the callback */
	size_t bad;	      /* of which not ec2_instance/i-... */
	size_t listings;      /* listing_done calls */
	size_t resources;     /* as listing_done counted them */
	size_t pages;
	int status;
	long rss_before_kb; /* peak RSS before provider_list */
	char msg[1024];
};

static int on_resource(const struct resource *r, void *ud)
{
	struct list_result *lr = ud;

	lr->seen++;
	if (!r->id || strncmp(r->id, "i-", 2) || !r->type ||
	    strcmp(r->type, "ec2_instance"))
		lr->bad++;
	return 0;
}

static void on_listing(const struct provider_listing *l, void *ud)
{
	struct list_result *lr = ud;

	lr->listings++;
	lr->status = l->status;
	lr->resources = l->resources;
	lr->pages = l->pages;
	if (l->status)
		snprintf(lr->msg, sizeof(lr->msg), "listing '%s': %s", l->scope,
			 l->err ? l->err->msg : elava_strerror(l->status));
}

/* The child: a provider, one listing, the figures down the pipe. */
static void list_child(int out)
{
	static const char *const types[] = {"ec2_instance"};
	static const char *const regions[] = {REGION};
	struct provider_aws_options o = {0};
	struct provider_scope scope = {
	    .regions = regions, .nregions = 1, .types = types, .ntypes = 1};
	struct provider_callbacks cb = {.resource = on_resource,
					.listing_done = on_listing};
	struct elava_error err = {0};
	struct provider *p = NULL;
	struct list_result lr;
	struct rusage ru;
	int64_t t0;

	memset(&lr, 0, sizeof(lr));
	cb.ud = &lr;
	log_configure(LOG_WARN, LOG_FORMAT_TEXT);
	o.region = REGION;
	t0 = time_mono_ns();
	lr.rc = provider_aws_new(&o, &p, &err);
	lr.new_s = secs_since(t0);
	if (lr.rc) {
		snprintf(lr.msg, sizeof(lr.msg), "provider_aws_new: %s",
			 err.msg);
		goto out;
	}
	getrusage(RUSAGE_SELF, &ru);
	lr.rss_before_kb = ru.ru_maxrss;
	t0 = time_mono_ns();
	lr.rc = provider_list(p, &scope, &cb, &err);
	lr.list_s = secs_since(t0);
	if (lr.rc)
		snprintf(lr.msg, sizeof(lr.msg), "provider_list: %s", err.msg);
	provider_free(&p);
out:
	_exit(write_all(out, &lr, sizeof(lr)) ? 0 : 1);
}

/* Run the listing in a fresh child; its peak RSS comes from wait4. */
static void run_listing(size_t n, size_t npages, struct list_result *lr,
			long *maxrss_kb)
{
	struct rusage ru;
	int fds[2], st;
	pid_t pid;

	if (pipe2(fds, O_CLOEXEC))
		die("pipe: %s", strerror(errno));
	fflush(NULL);
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		close(fds[0]);
		list_child(fds[1]);
	}
	close(fds[1]);
	memset(lr, 0, sizeof(*lr));
	bool got = read_all(fds[0], lr, sizeof(*lr));
	close(fds[0]);
	if (wait4(pid, &st, 0, &ru) != pid)
		die("wait4: %s", strerror(errno));
	*maxrss_kb = ru.ru_maxrss;
	if (!got || !WIFEXITED(st) || WEXITSTATUS(st))
		die("the listing process failed (%s %d)",
		    WIFSIGNALED(st) ? "signal" : "exit status",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	if (lr->rc)
		die("%s", lr->msg);
	if (lr->listings != 1)
		die("expected one listing, got %zu", lr->listings);
	if (lr->status)
		die("%s", lr->msg);
	if (lr->resources != n || lr->seen != n)
		die("listed %zu instances (%zu through the callback), "
		    "expected %zu",
		    lr->resources, lr->seen, n);
	if (lr->bad)
		die("%zu resources are not ec2_instance i-...", lr->bad);
	if (lr->pages != npages)
		die("the listing read %zu pages, expected %zu", lr->pages,
		    npages);
}

/* ------------------------------------------------------- the floors */

struct fetch {
	CURL *h;
	struct curl_slist *hdrs;
	struct buf req;
	struct buf *sink; /* NULL: discard */
	size_t bytes;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct fetch *f = ud;
	size_t len = size * n;

	f->bytes += len;
	if (f->sink && buf_append(f->sink, p, len)) {
		f->too_big = true;
		return 0;
	}
	return len;
}

static void fetch_init(struct fetch *f, unsigned short port)
{
	char url[64];

	memset(f, 0, sizeof(*f));
	buf_init(&f->req, 0);
	snprintf(url, sizeof(url), "http://127.0.0.1:%u/", port);
	f->h = curl_easy_init();
	if (!f->h)
		die("curl_easy_init failed");
	f->hdrs = curl_slist_append(
	    NULL, "Content-Type: application/x-www-form-urlencoded; "
		  "charset=utf-8");
	f->hdrs = curl_slist_append(f->hdrs, "Expect:");
	curl_easy_setopt(f->h, CURLOPT_URL, url);
	curl_easy_setopt(f->h, CURLOPT_HTTPHEADER, f->hdrs);
	curl_easy_setopt(f->h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(f->h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(f->h, CURLOPT_WRITEDATA, f);
	curl_easy_setopt(f->h, CURLOPT_POST, 1L);
}

static void fetch_release(struct fetch *f)
{
	curl_easy_cleanup(f->h);
	curl_slist_free_all(f->hdrs);
	buf_release(&f->req);
}

/* POST DescribeInstances for one page, as the provider asks for it. */
static void fetch_page(struct fetch *f, size_t page)
{
	long status = 0;
	CURLcode cc;

	buf_reset(&f->req);
	buf_puts(&f->req, "Action=DescribeInstances&Version=2016-11-15"
			  "&MaxResults=1000");
	if (page) {
		char tok[TOKEN_LEN + 1];
		page_token(page, tok);
		buf_puts(&f->req, "&NextToken=");
		for (const char *t = tok; *t; t++)
			if (*t == '=')
				buf_puts(&f->req, "%3D");
			else
				buf_putc(&f->req, *t);
	}
	curl_easy_setopt(f->h, CURLOPT_POSTFIELDS, f->req.data);
	curl_easy_setopt(f->h, CURLOPT_POSTFIELDSIZE_LARGE,
			 (curl_off_t)f->req.len);
	cc = curl_easy_perform(f->h);
	curl_easy_getinfo(f->h, CURLINFO_RESPONSE_CODE, &status);
	if (cc != CURLE_OK || status != 200 || f->too_big)
		die("download of page %zu: %s (HTTP %ld)", page,
		    f->too_big ? "page too large" : curl_easy_strerror(cc),
		    status);
}

/* Every page with one reused handle; kept in pages[] when non-NULL. */
static double download(unsigned short port, size_t npages, struct buf *pages,
		       size_t *bytes)
{
	struct fetch f;
	int64_t t0;
	double s;

	fetch_init(&f, port);
	t0 = time_mono_ns();
	for (size_t p = 0; p < npages; p++) {
		if (pages) {
			buf_init(&pages[p], PAGE_MAX);
			f.sink = &pages[p];
		}
		fetch_page(&f, p);
	}
	s = secs_since(t0);
	*bytes = f.bytes;
	fetch_release(&f);
	return s;
}

static void sax_start(void *ctx, const xmlChar *localname,
		      const xmlChar *prefix, const xmlChar *uri, int nns,
		      const xmlChar **ns, int nattrs, int ndefaulted,
		      const xmlChar **attrs)
{
}

static void sax_end(void *ctx, const xmlChar *localname, const xmlChar *prefix,
		    const xmlChar *uri)
{
}

static void sax_chars(void *ctx, const xmlChar *ch, int len)
{
}

/* Every page through libxml2's SAX2 push parser, callbacks doing nothing. */
static double null_parse(const struct buf *pages, size_t npages)
{
	xmlSAXHandler sax;
	int64_t t0;

	memset(&sax, 0, sizeof(sax));
	sax.initialized = XML_SAX2_MAGIC;
	sax.startElementNs = sax_start;
	sax.endElementNs = sax_end;
	sax.characters = sax_chars;
	sax.ignorableWhitespace = sax_chars;
	t0 = time_mono_ns();
	for (size_t p = 0; p < npages; p++) {
		xmlParserCtxtPtr ctx =
		    xmlCreatePushParserCtxt(&sax, NULL, NULL, 0, NULL);
		const char *d = pages[p].data;
		size_t left = pages[p].len;
		int rc = 0;

		if (!ctx)
			die("xmlCreatePushParserCtxt failed");
		xmlCtxtUseOptions(ctx, XML_PARSE_NONET | XML_PARSE_NOERROR |
					   XML_PARSE_NOWARNING);
		while (left && !rc) {
			size_t k = left < PARSE_CHUNK ? left : PARSE_CHUNK;
			rc = xmlParseChunk(ctx, d, (int)k, 0);
			d += k;
			left -= k;
		}
		if (!rc)
			rc = xmlParseChunk(ctx, NULL, 0, 1);
		if (rc || !ctx->wellFormed)
			die("page %zu is not well-formed XML (libxml2 error "
			    "%d)",
			    p, rc);
		xmlFreeParserCtxt(ctx);
	}
	return secs_since(t0);
}

/* ------------------------------------------------------------- awscli */

static bool on_path(const char *prog)
{
	const char *path = getenv("PATH");
	char full[4096];

	while (path && *path) {
		const char *colon = strchr(path, ':');
		size_t n = colon ? (size_t)(colon - path) : strlen(path);
		snprintf(full, sizeof(full), "%.*s/%s", (int)n, path, prog);
		if (n && !access(full, X_OK))
			return true;
		path = colon ? colon + 1 : NULL;
	}
	return false;
}

static double run_awscli(unsigned short port)
{
	char url[64];
	char *const argv[] = {
	    (char *)"aws",
	    (char *)"ec2",
	    (char *)"describe-instances",
	    (char *)"--endpoint-url",
	    url,
	    (char *)"--region",
	    (char *)REGION,
	    (char *)"--output",
	    (char *)"json",
	    NULL,
	};
	int64_t t0;
	int st;
	pid_t pid;

	snprintf(url, sizeof(url), "http://127.0.0.1:%u", port);
	fflush(NULL);
	t0 = time_mono_ns();
	pid = fork();
	if (pid < 0)
		die("fork: %s", strerror(errno));
	if (pid == 0) {
		int null = open("/dev/null", O_RDWR);
		if (null >= 0) {
			dup2(null, 0);
			dup2(null, 1);
		}
		execvp("aws", argv);
		_exit(127);
	}
	if (waitpid(pid, &st, 0) != pid)
		die("waitpid: %s", strerror(errno));
	double s = secs_since(t0);
	if (!WIFEXITED(st) || WEXITSTATUS(st))
		die("aws ec2 describe-instances failed (%s %d)",
		    WIFSIGNALED(st) ? "signal" : "exit status",
		    WIFSIGNALED(st) ? WTERMSIG(st) : WEXITSTATUS(st));
	return s;
}

/* --------------------------------------------------------------- main */

static void usage(FILE *out)
{
	fprintf(out, "usage: elava-bench list [--instances N] [--per-page P] "
		     "[--awscli-instances M (0: skip)] [--json]\n");
}

static bool parse_size(const char *s, size_t *out)
{
	char *end;
	unsigned long long v;

	errno = 0;
	v = strtoull(s, &end, 10);
	if (errno || end == s || *end || *s == '-')
		return false;
	*out = (size_t)v;
	return true;
}

int bench_list(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"instances", required_argument, NULL, 'n'},
	    {"per-page", required_argument, NULL, 'p'},
	    {"awscli-instances", required_argument, NULL, 'a'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	size_t n = 100000, per_page = 1000, awscli_n = 10000;
	size_t counts[NSETS], bytes = 0;
	bool json = false, awscli;
	struct server srv;
	struct list_result lr;
	struct buf *pages;
	long maxrss_kb = 0;
	char url[64];
	int c;

	optind = 1;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 'n':
			if (!parse_size(optarg, &n))
				n = 0;
			break;
		case 'p':
			if (!parse_size(optarg, &per_page))
				per_page = 0;
			break;
		case 'a':
			if (!parse_size(optarg, &awscli_n)) {
				usage(stderr);
				return 2;
			}
			break;
		case 'j': json = true; break;
		case 'h': usage(stdout); return 0;
		default: usage(stderr); return 2;
		}
	}
	if (optind < argc || n == 0 || per_page == 0 || n > 100000000 ||
	    per_page > 100000 || awscli_n > 100000000) {
		fprintf(stderr, "elava-bench list: invalid arguments\n");
		usage(stderr);
		return 2;
	}
	awscli = awscli_n > 0 && on_path("aws");
	counts[SET_LIST] = n;
	counts[SET_AWSCLI] = awscli ? awscli_n : 0;

	/* The server process builds the pages: this one stays small, so the
	 * listing child forked from it starts small too. */
	server_start(&srv, counts, per_page);
	const struct server_ready *rd = &srv.ready;
	snprintf(url, sizeof(url), "http://127.0.0.1:%u", rd->port[SET_LIST]);
	setenv("AWS_ENDPOINT_URL", url, 1);
	setenv("AWS_ACCESS_KEY_ID", "bench", 1);
	setenv("AWS_SECRET_ACCESS_KEY", "bench", 1);
	setenv("AWS_REGION", REGION, 1);
	setenv("AWS_DEFAULT_REGION", REGION, 1);
	setenv("AWS_EC2_METADATA_DISABLED", "true", 1);
	unsetenv("AWS_SESSION_TOKEN");
	unsetenv("AWS_PROFILE");
	unsetenv("AWS_ENDPOINT_URL_EC2");
	unsetenv("AWS_ENDPOINT_URL_STS");

	/* (c) + (e): Elava's listing, in a child of its own. */
	run_listing(n, rd->npages[SET_LIST], &lr, &maxrss_kb);
	size_t requests = atomic_load(&srv.stats->requests[SET_LIST]);
	if (requests != rd->npages[SET_LIST])
		fprintf(stderr,
			"elava-bench list: warning: the listing made %zu "
			"DescribeInstances requests for %zu pages\n",
			requests, rd->npages[SET_LIST]);

	/* (a) the transport floor: every page, bytes discarded. */
	curl_global_init(CURL_GLOBAL_DEFAULT);
	double download_s =
	    download(rd->port[SET_LIST], rd->npages[SET_LIST], NULL, &bytes);
	if (bytes != rd->bytes[SET_LIST])
		die("downloaded %zu bytes, the server holds %zu", bytes,
		    rd->bytes[SET_LIST]);

	/* (b) the parsing floor, on the same bytes fetched again (untimed). */
	pages = xcalloc(rd->npages[SET_LIST], sizeof(*pages));
	download(rd->port[SET_LIST], rd->npages[SET_LIST], pages, &bytes);
	if (bytes != rd->bytes[SET_LIST])
		die("fetched %zu bytes, the server holds %zu", bytes,
		    rd->bytes[SET_LIST]);
	double null_parse_s = null_parse(pages, rd->npages[SET_LIST]);
	for (size_t p = 0; p < rd->npages[SET_LIST]; p++)
		buf_release(&pages[p]);
	xfree(pages);
	curl_global_cleanup();

	/* (d) the AWS CLI on its own, smaller page set. */
	double awscli_s = 0;
	if (awscli) {
		size_t before =
		    atomic_load(&srv.stats->last_page_served[SET_AWSCLI]);
		awscli_s = run_awscli(rd->port[SET_AWSCLI]);
		if (atomic_load(&srv.stats->last_page_served[SET_AWSCLI]) ==
		    before)
			die("aws ec2 describe-instances did not read the last "
			    "page");
	}
	server_stop(&srv);

	double floor_s = download_s > null_parse_s ? download_s : null_parse_s;
	double mb = (double)rd->bytes[SET_LIST] / 1e6;
	double peak_mb = (double)maxrss_kb / 1024.0;
	double list_per_s = (double)n / lr.list_s;
	if (json) {
		printf("{\"instances\":%zu,\"per_page\":%zu,\"pages\":%zu,"
		       "\"bytes\":%zu,\"bytes_per_instance\":%.0f,"
		       "\"list_s\":%.3f,\"list_per_s\":%.0f,"
		       "\"list_mb_per_s\":%.1f,\"provider_new_s\":%.3f,"
		       "\"download_s\":%.3f,\"download_mb_per_s\":%.1f,"
		       "\"null_parse_s\":%.3f,\"null_parse_mb_per_s\":%.1f,"
		       "\"list_vs_floor\":%.2f,",
		       n, per_page, rd->npages[SET_LIST], rd->bytes[SET_LIST],
		       (double)rd->bytes[SET_LIST] / (double)n, lr.list_s,
		       list_per_s, mb / lr.list_s, lr.new_s, download_s,
		       mb / download_s, null_parse_s, mb / null_parse_s,
		       lr.list_s / floor_s);
		if (awscli)
			printf("\"awscli_s\":%.3f,\"awscli_instances\":%zu,"
			       "\"awscli_per_s\":%.0f,"
			       "\"speedup_vs_awscli\":%.1f,",
			       awscli_s, awscli_n, (double)awscli_n / awscli_s,
			       list_per_s / ((double)awscli_n / awscli_s));
		else
			printf("\"awscli_s\":null,\"awscli_instances\":%zu,"
			       "\"awscli_per_s\":null,"
			       "\"speedup_vs_awscli\":null,",
			       awscli_n);
		printf("\"peak_rss_mb\":%.1f,\"rss_before_list_mb\":%.1f,"
		       "\"pages_gen_s\":%.3f}\n",
		       peak_mb, (double)lr.rss_before_kb / 1024.0, rd->gen_s);
	} else {
		printf("list: %zu EC2 instances, %zu pages of %zu, %.1f MB "
		       "(%.0f bytes an instance)\n",
		       n, rd->npages[SET_LIST], per_page, mb,
		       (double)rd->bytes[SET_LIST] / (double)n);
		printf("  elava listing     %8.3f s  %9.0f instances/s  "
		       "%7.1f MB/s\n",
		       lr.list_s, list_per_s, mb / lr.list_s);
		printf("  download floor    %8.3f s  %9.0f instances/s  "
		       "%7.1f MB/s\n",
		       download_s, (double)n / download_s, mb / download_s);
		printf("  null parse floor  %8.3f s  %9.0f instances/s  "
		       "%7.1f MB/s\n",
		       null_parse_s, (double)n / null_parse_s,
		       mb / null_parse_s);
		printf("  list / floor      %8.2f x  (target <= 2)\n",
		       lr.list_s / floor_s);
		if (awscli)
			printf(
			    "  aws cli           %8.3f s  %9.0f instances/s  "
			    "(%zu instances); elava is %.1fx faster "
			    "(target >= 20)\n",
			    awscli_s, (double)awscli_n / awscli_s, awscli_n,
			    list_per_s / ((double)awscli_n / awscli_s));
		else
			printf("  aws cli           skipped (%s)\n",
			       awscli_n ? "aws not on PATH"
					: "--awscli-instances 0");
		printf("  peak RSS          %8.1f MB  (listing process; %.1f "
		       "MB before listing; target <= 64)\n",
		       peak_mb, (double)lr.rss_before_kb / 1024.0);
	}
	return 0;
}
