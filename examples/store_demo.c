/*
 * elava-demo — a small, self-contained tour of Elava's memory: it records
 * three scans of a made-up AWS account into a store (and the audit WAL),
 * changing the account between them, then asks the store what changed,
 * when, and what the account looked like before. No cloud needed; the real
 * `elava scan` (a later milestone) feeds the same store from AWS.
 *
 *   build/elava-demo [--store DIR]     (default: ./demo-data)
 */
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "store/store.h"
#include "wal/wal.h"

#define ACCOUNT "123456789012"

struct demo_resource {
	const char *region, *type, *id, *name, *status;
	const char *tags;	 /* "k=v,k=v" */
	const char *attrs;	 /* JSON object */
	const char *attached_to; /* id of an ec2_instance in the same region */
};

static const struct demo_resource account_v1[] = {
    {"us-east-1", "ec2_instance", "i-0a1b2c3d4e5f60001", "web-1", "running",
     "Env=prod,Team=web,Service=storefront",
     "{\"instance_type\":\"m5.large\",\"image_id\":\"ami-0c55b159\","
     "\"vpc_id\":\"vpc-1a2b3c\",\"private_ip\":\"10.0.1.10\"}",
     NULL},
    {"us-east-1", "ec2_instance", "i-0a1b2c3d4e5f60002", "web-2", "running",
     "Env=prod,Team=web,Service=storefront",
     "{\"instance_type\":\"m5.large\",\"image_id\":\"ami-0c55b159\","
     "\"vpc_id\":\"vpc-1a2b3c\",\"private_ip\":\"10.0.1.11\"}",
     NULL},
    {"us-east-1", "ebs_volume", "vol-0aa11bb22cc330001", "web-1-data", "in-use",
     "Env=staging,Team=web",
     "{\"size_gb\":100,\"volume_type\":\"gp3\",\"encrypted\":true}",
     "i-0a1b2c3d4e5f60001"},
    {"us-east-1", "security_group", "sg-0123456789abcdef0", "web-sg", NULL,
     "Team=web", "{\"ingress\":[{\"port\":443,\"cidr\":\"0.0.0.0/0\"}]}", NULL},
    {"us-east-1", "rds_instance", "orders-db", "orders-db", "available",
     "Env=prod,Team=payments",
     "{\"engine\":\"postgres\",\"engine_version\":\"15.4\","
     "\"storage_encrypted\":true,\"publicly_accessible\":false}",
     NULL},
    {"eu-west-1", "s3_bucket", "acme-invoices-eu", "acme-invoices-eu", NULL,
     "Team=payments", "{\"versioning\":\"Enabled\"}", NULL},
    {"eu-west-1", "s3_bucket", "acme-tmp-exports", "acme-tmp-exports", NULL,
     "Team=data", "{\"versioning\":\"Suspended\"}", NULL},
};

static const char *const types[] = {"ec2_instance",   "ebs_volume",
				    "security_group", "rds_instance",
				    "s3_bucket",      "sqs_queue"};
static const char *const regions[] = {"us-east-1", "eu-west-1"};

static void die(const char *what, const struct elava_error *err)
{
	fprintf(stderr, "elava-demo: %s: %s\n", what, err->msg);
	exit(1);
}

static void build(const struct demo_resource *d, struct resource *r)
{
	char buf[256];

	resource_init(r);
	resource_set(&r->provider, "aws");
	resource_set(&r->account, ACCOUNT);
	resource_set(&r->region, d->region);
	resource_set(&r->type, d->type);
	resource_set(&r->id, d->id);
	resource_set(&r->name, d->name);
	resource_set(&r->status, d->status);
	r->created_at_ns = 1767225600000000000LL; /* 2026-01-01 */
	snprintf(buf, sizeof(buf), "%s", d->tags);
	for (char *save = NULL, *kv = strtok_r(buf, ",", &save); kv;
	     kv = strtok_r(NULL, ",", &save)) {
		char *eq = strchr(kv, '=');
		*eq = '\0';
		resource_tag_set(r, kv, eq + 1);
	}
	ejson_free(&r->attributes);
	if (ejson_parse(d->attrs, strlen(d->attrs), &r->attributes, NULL))
		abort();
	if (d->attached_to) {
		snprintf(buf, sizeof(buf), "aws:%s:%s:ec2_instance:%s", ACCOUNT,
			 d->region, d->attached_to);
		resource_rel_add(r, "attached_to", buf);
	}
}

/*
 * One scan: add the resources, declare every listing complete except
 * `failed_type` (whose resources are then carried forward), commit, and
 * record an "observed" entry in the WAL.
 */
static void scan(struct store *s, struct wal *w, const struct demo_resource *v,
		 size_t n, const char *failed_type)
{
	struct elava_error err = {0};
	struct store_scan *sc = NULL;
	struct store_scan_result res;
	char scope[128], data[512];

	if (store_scan_begin(s, &sc, &err))
		die("begin scan", &err);
	for (size_t i = 0; i < n; i++) {
		struct resource r;
		if (failed_type && !strcmp(v[i].type, failed_type))
			continue;
		build(&v[i], &r);
		if (store_scan_add(sc, &r, &err))
			die("add resource", &err);
		resource_release(&r);
	}
	for (size_t g = 0; g < 2; g++)
		for (size_t t = 0; t < sizeof(types) / sizeof(*types); t++) {
			snprintf(scope, sizeof(scope), "aws:%s:%s:%s", ACCOUNT,
				 regions[g], types[t]);
			if (failed_type && !strcmp(types[t], failed_type))
				store_scan_scope_failed(
				    sc, scope,
				    "RequestLimitExceeded: Request limit "
				    "exceeded (after 5 retries)");
			else
				store_scan_scope_complete(sc, scope);
		}
	if (store_scan_commit(sc, &res, &err))
		die("commit scan", &err);
	store_scan_free(&sc);
	printf("[Scan #%llu] revision %llu: %zu resources, %zu created, %zu "
	       "modified, %zu disappeared, status %s%s\n",
	       (unsigned long long)res.scan_id,
	       (unsigned long long)res.revision, res.resource_count,
	       res.created, res.modified, res.disappeared, res.status,
	       res.baseline ? " (baseline)" : "");
	if (failed_type)
		printf(
		    "          listing %s failed (RequestLimitExceeded): its "
		    "resources are carried forward, not reported gone\n",
		    failed_type);
	snprintf(data, sizeof(data),
		 "{\"scan_id\":%llu,\"resource_count\":%zu,\"created\":%zu,"
		 "\"modified\":%zu,\"disappeared\":%zu,\"status\":\"%s\"}",
		 (unsigned long long)res.scan_id, res.resource_count,
		 res.created, res.modified, res.disappeared, res.status);
	if (wal_append(w, WAL_OBSERVED, res.revision, NULL, data, NULL, &err) ||
	    wal_sync(w, &err))
		die("write WAL", &err);
}

static int print_change(const struct store_change *c, void *ud)
{
	char ts[TIME_RFC3339_LEN];
	(void)ud;
	time_format_rfc3339(c->time_ns, ts);
	printf("  rev %-3llu %-11s %s\n", (unsigned long long)c->revision,
	       store_change_kind_name(c->kind), c->key);
	if (strcmp(c->fields_json, "[]"))
		printf("           fields: %s\n", c->fields_json);
	return 0;
}

static int print_item(const struct store_item *it, void *ud)
{
	(void)ud;
	printf("  %s\n", it->key);
	return 0;
}

int main(int argc, char **argv)
{
	const char *dir = "demo-data";
	char waldir[4096];
	struct elava_error err = {0};
	struct store_options so = {0};
	struct wal_options wo = {0};
	struct store *s = NULL;
	struct wal *w = NULL;
	uint64_t rev;

	for (int i = 1; i < argc; i++) {
		if (!strcmp(argv[i], "--store") && i + 1 < argc) {
			dir = argv[++i];
		} else {
			fprintf(stderr, "usage: elava-demo [--store DIR]\n");
			return 2;
		}
	}
	so.path = dir;
	if (store_open(&so, &s, &err))
		die("open store", &err);
	if (store_current_revision(s, &rev, &err))
		die("read store", &err);
	if (rev) {
		fprintf(stderr,
			"elava-demo: store '%s' already has %llu revisions; "
			"use an empty directory\n",
			dir, (unsigned long long)rev);
		store_close(&s);
		return 1;
	}
	snprintf(waldir, sizeof(waldir), "%s/wal", dir);
	wo.dir = waldir;
	wo.instance = "elava-demo";
	if (wal_open(&wo, &w, &err))
		die("open WAL", &err);

	printf("== Three scans of account %s\n", ACCOUNT);
	size_t n = sizeof(account_v1) / sizeof(*account_v1);
	scan(s, w, account_v1, n, NULL);

	/* Between scans: web-2 is stopped, the volume is retagged, the temp
	 * bucket is deleted, a queue appears. */
	struct demo_resource v2[16];
	size_t n2 = 0;
	for (size_t i = 0; i < n; i++) {
		if (!strcmp(account_v1[i].id, "acme-tmp-exports"))
			continue;
		v2[n2] = account_v1[i];
		if (!strcmp(v2[n2].id, "i-0a1b2c3d4e5f60002"))
			v2[n2].status = "stopped";
		if (!strcmp(v2[n2].id, "vol-0aa11bb22cc330001"))
			v2[n2].tags = "Env=prod,Team=web";
		n2++;
	}
	v2[n2++] =
	    (struct demo_resource){"us-east-1",
				   "sqs_queue",
				   "orders-events",
				   "orders-events",
				   NULL,
				   "Team=payments",
				   "{\"fifo\":false,\"visibility_timeout\":30}",
				   NULL};
	scan(s, w, v2, n2, NULL);

	/* A third scan whose EC2 listing is throttled: the instances are
	 * carried forward, not reported as gone. */
	scan(s, w, v2, n2, "ec2_instance");

	printf("\n== What changed since the baseline (elava changes)\n");
	if (store_changes(s, 1, 0, print_change, NULL, &err))
		die("changes", &err);

	printf("\n== History of web-2 (elava history)\n");
	if (store_history(s,
			  "aws:" ACCOUNT ":us-east-1:ec2_instance:"
			  "i-0a1b2c3d4e5f60002",
			  print_change, NULL, &err))
		die("history", &err);

	printf("\n== The account at revision 1 (elava resources --at 1)\n");
	if (store_inventory(s, 1, NULL, print_item, NULL, &err))
		die("inventory", &err);
	printf("\n== The account now\n");
	if (store_inventory(s, 0, NULL, print_item, NULL, &err))
		die("inventory", &err);

	if (wal_close(&w, &err))
		die("close WAL", &err);
	store_close(&s);
	printf("\nStore and audit log are in '%s'.\n", dir);
	return 0;
}
