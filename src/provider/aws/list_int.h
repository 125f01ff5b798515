/*
 * Private to src/provider/aws: how resource types are listed.
 *
 * Every type is described by a table entry (struct aws_type): the service
 * and protocol that lists it, the paging tokens, where the records are in a
 * response page, and where each field of the record is. One engine
 * (lister.c) runs every entry; a type whose API needs more than one call
 * per record (a Describe after a List, tags from a second call) adds a
 * small hook. The tables live in types_<service group>.c.
 *
 * Paths walk a response record the same way for XML and JSON: steps
 * separated by '/', each the name of a child element (XML) or an object key
 * (JSON); a step written "name[]" visits every child element with that
 * name (XML) or every element of the array under that key (JSON). The empty
 * path is the record itself (for APIs that list bare names or ARNs).
 */
#ifndef ELAVA_AWS_LIST_INT_H
#define ELAVA_AWS_LIST_INT_H

#include "provider/aws/aws_int.h"
#include "provider/provider.h"

/* Pages one listing may have before it is called a loop. */
#define AWS_MAX_PAGES 100000

/* ------------------------------------------------------------- services */

enum aws_protocol {
	AWS_PROTO_EC2,	     /* form POST, XML, tokens at the top level */
	AWS_PROTO_QUERY,     /* form POST, XML <Op>Response/<Op>Result */
	AWS_PROTO_JSON,	     /* JSON POST with X-Amz-Target */
	AWS_PROTO_REST_JSON, /* GET path?query, JSON */
	AWS_PROTO_REST_XML,  /* GET path?query, XML */
};

struct aws_service {
	const char *name;   /* signing name: "ec2", "elasticloadbalancing" */
	const char *env_id; /* AWS_ENDPOINT_URL_<env_id> */
	enum aws_protocol protocol;
	const char *version; /* query protocols: the Version parameter */
	const char *target;  /* JSON: X-Amz-Target prefix "DynamoDB_20120810" */
	const char *json_version; /* JSON: "1.0" or "1.1" */
	bool global;		  /* one endpoint, signed for us-east-1 */
};

extern const struct aws_service aws_svc_ec2, aws_svc_elbv2, aws_svc_autoscaling,
    aws_svc_rds, aws_svc_s3, aws_svc_lambda, aws_svc_dynamodb, aws_svc_sqs,
    aws_svc_sns, aws_svc_iam, aws_svc_kms, aws_svc_route53, aws_svc_logs,
    aws_svc_ecr, aws_svc_eks, aws_svc_ecs, aws_svc_elasticache,
    aws_svc_secretsmanager, aws_svc_cloudformation, aws_svc_sts;

/* ------------------------------------------------------------ responses */

/* One record, or a part of one, in an XML or a JSON response. */
struct aws_node {
	const struct aws_xel *x;
	const struct ejson *j;
};

typedef int (*aws_node_fn)(const struct aws_node *n, void *ud);

/* Call fn for every node the path reaches; returns fn's first non-zero. */
int aws_node_each(const struct aws_node *n, const char *path, aws_node_fn fn,
		  void *ud);
/* The first node the path reaches; false when none. */
bool aws_node_get(const struct aws_node *n, const char *path,
		  struct aws_node *out);
/*
 * Text of the first node the path reaches (a JSON number or boolean as it
 * prints) into out; false when there is none or it is an object/array.
 */
bool aws_node_text(const struct aws_node *n, const char *path, struct buf *out);

/* A whole response document (one page or one Describe answer). */
struct aws_doc {
	struct aws_xml_doc *xml;
	struct ejson *json;
	struct aws_node root;
};

/* Parse an XML (xml true) or JSON body. ELAVA_E_PARSE. */
int aws_doc_parse(const char *body, size_t len, bool xml, struct aws_doc *d,
		  struct elava_error *err);
void aws_doc_release(struct aws_doc *d);

/*
 * Times as AWS writes them: RFC 3339 (with "+0000" offsets too, as Lambda
 * writes them), or seconds since the epoch as a number — milliseconds when
 * the number is too large to be seconds (CloudWatch Logs). ELAVA_E_PARSE.
 */
int aws_time_parse(const char *text, int64_t *ns);

/* -------------------------------------------------------------- listing */

struct aws_list_ctx {
	struct aws_client *client;
	const struct aws_type *t;
	const char *account;
	const char *region; /* of the listing ("global" for global types) */
	const char *type;
	/* Delivers a record; the provider serialises calls. */
	int (*emit)(struct aws_list_ctx *lc, const struct resource *r);
	void *emit_ud;
	size_t resources, pages;
	int stop;		 /* a callback's non-zero return */
	struct resource r;	 /* scratch record */
	struct buf text;	 /* scratch text */
	struct buf key;		 /* scratch key */
	struct elava_error *err; /* the listing's error, for hooks */
	/* The AWS error code of the last aws_call, "" when it had none. */
	char error_code[128];
	/* AWS_PLACED types: how many records each region got. */
	struct aws_region_count {
		char region[32];
		size_t n;
	} * counts;
	size_t ncounts;
};

/* Set up / tear down a context's scratch space. */
void aws_list_ctx_init(struct aws_list_ctx *lc, struct aws_client *client,
		       const char *account, const char *region);
void aws_list_ctx_release(struct aws_list_ctx *lc);

/*
 * A hook for types that need more calls per record. expand replaces the
 * listed item with a fuller description (DescribeTable after ListTables):
 * it fills doc and points *full into it; ELAVA_E_NOTFOUND skips a record
 * deleted in between. enrich adds to lc->r after the table's fields.
 */
typedef int (*aws_expand_fn)(struct aws_list_ctx *lc,
			     const struct aws_node *item, struct aws_doc *doc,
			     struct aws_node *full, struct elava_error *err);
typedef int (*aws_enrich_fn)(struct aws_list_ctx *lc,
			     const struct aws_node *item,
			     struct elava_error *err);

enum aws_field_kind {
	AWS_STR,    /* text */
	AWS_BOOL,   /* "true"/true */
	AWS_INT,    /* integer */
	AWS_TIME,   /* a time, stored as RFC 3339 UTC */
	AWS_STRS,   /* every value the path reaches, as an array */
	AWS_EXISTS, /* whether the path reaches a non-empty value */
};

struct aws_field {
	const char *name; /* attribute name */
	const char *path;
	enum aws_field_kind kind;
};

struct aws_rel {
	const char *rel;  /* "in_vpc" */
	const char *path; /* ids of the targets */
	const char *type; /* target type: "vpc" */
};

struct aws_tags {
	const char *path; /* the tag list: "tagSet/item[]", "Tags[]" */
	const char *key;  /* "key"/"Key"; NULL: path is a JSON {key: value} */
	const char *value;
};

struct aws_type {
	const char *type;
	const struct aws_service *svc;
	unsigned flags;
	/* The list call. */
	const char *operation;
	/* Fixed parameters: form "k=v&k=v" (query), a JSON object (JSON),
	 * "path" or "path?query" (REST). */
	const char *params;
	const char *page_param, *page_size; /* "MaxResults", "1000" */
	const char *token_in;		    /* request parameter */
	const char *token_out;		    /* response element / key */
	/* XML: "parent/item" element names of a record (matched at any
	 * depth, streamed). JSON: a path to the records. */
	const char *items;
	/* The record. */
	const char *id, *name, *status, *created;
	struct aws_tags tags;
	const struct aws_field *fields; /* {NULL}-terminated */
	const struct aws_rel *rels;	/* {NULL}-terminated */
	aws_expand_fn expand;
	aws_enrich_fn enrich;
};

/* flags */
#define AWS_GLOBAL 1u /* listed once per account, region "global" */
/* Listed once per account but each record carries its own region (S3
 * buckets): completeness is reported for every region. */
#define AWS_PLACED 2u

/* The type tables, each {NULL}-terminated by type. */
extern const struct aws_type aws_types_ec2[], aws_types_query[],
    aws_types_json[];

/* Every type, in a stable order; NULL when unknown. */
const struct aws_type *aws_type_find(const char *type);
size_t aws_type_count(void);
const struct aws_type *aws_type_at(size_t i);

/* List one (account, region, type); lc is filled by the caller. */
int aws_list_type(struct aws_list_ctx *lc, struct elava_error *err);
/*
 * The records of one response page of lc's type, delivered through
 * lc->emit, and the page's continuation token ("" when none). Calls made
 * by a type's hooks fail with ELAVA_E_UNSUPPORTED when lc has no client
 * (fuzzing, benchmarks).
 */
int aws_list_page(struct aws_list_ctx *lc, const char *body, size_t len,
		  struct buf *token, struct elava_error *err);

/* Start a record for lc's account/region/type with this id. */
void aws_record_begin(struct aws_list_ctx *lc, const char *id);
/* Deliver the record; returns the callback's value (non-zero stops). */
int aws_record_emit(struct aws_list_ctx *lc);
/* Key "aws:<account>:<region>:<type>:<id>" of a related resource. */
const char *aws_related_key(struct aws_list_ctx *lc, const char *type,
			    const char *id);
/* Set a string attribute on lc->r (ignored when s is not UTF-8). */
void aws_attr_str(struct aws_list_ctx *lc, const char *name, const char *s);

/*
 * One call of a type's service in lc's region (or the service's global
 * endpoint), parsed whole: for hooks. On failure lc->error_code holds the
 * AWS error code (for answers such as S3's NoSuchTagSet that mean "none").
 * params as in struct aws_type; for REST, params is "path?query" and method
 * "GET" unless given.
 */
int aws_call(struct aws_list_ctx *lc, const struct aws_service *svc,
	     const char *region, const char *method, const char *operation,
	     const char *params, struct aws_doc *doc, struct elava_error *err);

/* Append key=value, percent-encoded as AWS query bodies want it. */
int aws_query_param(struct buf *b, const char *key, const char *value);

/*
 * Guard against a service returning the same continuation token forever:
 * remembers the tokens seen (hashes) and refuses a repeat.
 */
struct aws_page_guard {
	uint64_t *seen;
	size_t n, cap;
};
int aws_page_guard_check(struct aws_page_guard *g, const char *token,
			 struct aws_list_ctx *lc, struct elava_error *err);
void aws_page_guard_release(struct aws_page_guard *g);

/* ------------------------------------------------------------ provider */

#include "provider/provider_int.h"

#include <pthread.h>

struct aws_provider {
	struct provider base;
	struct aws_client *client; /* the calling thread's */
	unsigned client_gen;	   /* its credentials' generation */
	struct aws_client_options co;
	struct aws_creds_options cro;
	char *profile;
	pthread_mutex_t creds_mu;
	struct aws_creds creds; /* what worker clients sign with */
	unsigned creds_gen;	/* bumped on every refresh */
	struct aws_ratelimit *limit;
	struct aws_stats *stats; /* every client's requests, per service */
	char *account;
	char *region; /* default region */
	int concurrency;
	atomic_bool cancel;
	atomic_bool *cancel_flag; /* the caller's (options) or &cancel */
	char **all_regions;	  /* DescribeRegions AllRegions, cached */
	size_t nall_regions;
};

/*
 * Refresh the provider's credentials when they are about to expire and
 * give them to client when they changed since *gen. 0 or the chain's error.
 */
int aws_provider_creds(struct aws_provider *p, struct aws_client *client,
		       unsigned *gen, struct elava_error *err);

/* ------------------------------------------------------------- writing */

/* provider_create / provider_update / provider_delete (write.c). */
int aws_write_create(struct provider *base, const struct resource *desired,
		     const char *token, char **id_out, struct elava_error *err);
int aws_write_update(struct provider *base, const struct resource *current,
		     const struct resource *desired, struct elava_error *err);
int aws_write_remove(struct provider *base, const struct resource *r,
		     struct elava_error *err);

/*
 * Query-protocol parameters being built: each value percent-encoded by
 * aws_query_param under a key formatted from keyfmt ("Tag.%zu.Key"). The
 * first failure is kept in rc and later adds do nothing.
 */
struct aws_form {
	struct buf b;
	int rc;
};
void aws_form_init(struct aws_form *f);
void aws_form_release(struct aws_form *f);
void aws_form_add(struct aws_form *f, const char *value, const char *keyfmt,
		  ...) __attribute__((format(printf, 3, 4)));

/* Append s percent-encoded as a URI path segment or query value
 * (everything but A-Z a-z 0-9 - _ . ~). */
int aws_uri_encode(struct buf *b, const char *s);

/*
 * One call of the write side, in any protocol, with a body. EC2 and query
 * protocols: form is the parameters after Action and Version. JSON
 * protocol: json is the request object. REST: path and query as sent
 * (already percent-encoded; the query in SigV4's canonical order, sorted,
 * "k=" for empty values), and a body: json, or raw bytes with their
 * content type. S3 requests with checksum carry the body's
 * x-amz-checksum-sha256 (the operations whose model says
 * requestChecksumRequired).
 */
struct aws_write {
	const struct aws_service *svc;
	const char *region;
	const char *method; /* NULL: POST; for REST, GET unless a body */
	const char *operation;
	const char *form;
	const struct ejson *json;
	const char *path, *query;
	const char *body;
	size_t body_len;
	const char *content_type;
	bool checksum;
};

/*
 * Build w's request for its protocol and send it with client (lister.c:
 * the list calls go through it too). ELAVA_E_TOOBIG when it cannot be
 * built; otherwise as aws_client_send.
 */
int aws_send(struct aws_client *client, const struct aws_write *w,
	     struct aws_response *resp, struct elava_error *err);
/* True for the protocols that answer in XML. */
bool aws_protocol_xml(const struct aws_service *svc);

/*
 * Send w with p's client (whose credentials the caller has refreshed).
 * doc (may be NULL) gets the answer parsed when it has a body (it is left
 * empty otherwise; release it either way); code (may be NULL, 128 bytes)
 * gets the AWS error code of a failure. Errors as aws_client_send, whose
 * message names the service, operation and AWS error code;
 * ELAVA_E_PARSE for a malformed answer.
 */
int aws_write_send(struct aws_provider *p, const struct aws_write *w,
		   struct aws_doc *doc, char *code, struct elava_error *err);

/* aws_write_send of the form f's parameters (its first failure, if any,
 * is reported instead). */
int aws_write_form(struct aws_provider *p, const struct aws_service *svc,
		   const char *region, const char *op, struct aws_form *f,
		   struct aws_doc *doc, char *code, struct elava_error *err);

/* The region r's calls go to: its own, or the provider's when it has
 * none or is "global" (global services are signed for us-east-1). */
const char *aws_write_region(const struct aws_provider *p,
			     const struct resource *r);
/* The account in r's ARNs: its own, or the provider's. */
const char *aws_write_account(const struct aws_provider *p,
			      const struct resource *r);
/* True for a bucket name that goes into a request path as it is. */
bool aws_s3_bucket_ok(const char *name);

/*
 * Tags (tagging.c), through each service's own tag calls. Keys starting
 * with "aws:" are AWS's and are never set nor removed.
 *
 * aws_tags_check: 0 when current's tags can be brought to desired's
 * (nothing to change counts); ELAVA_E_UNSUPPORTED for a type whose tags
 * Elava cannot change, ELAVA_E_INVAL when a record lacks what the call
 * needs (its "arn" attribute where the ARN cannot be built). Makes no
 * call: the writer checks before it changes anything.
 * aws_tags_apply: the change (added and changed tags, then removed ones),
 * in current's region; current may have no tags (a resource just made).
 */
int aws_tags_check(struct aws_provider *p, const struct resource *current,
		   const struct resource *desired, struct elava_error *err);
int aws_tags_apply(struct aws_provider *p, const struct resource *current,
		   const struct resource *desired, struct elava_error *err);
/* EC2 creates: r's tags as TagSpecification.1 for resource type rtype
 * ("instance", "volume", "security-group"); none when r has none. */
void aws_tags_spec(struct aws_form *f, const char *rtype,
		   const struct resource *r);

#endif /* ELAVA_AWS_LIST_INT_H */
