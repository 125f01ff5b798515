/*
 * Private to src/provider/aws: the AWS HTTP transport every service call
 * goes through — endpoint resolution (AWS_ENDPOINT_URL[_<SERVICE>]),
 * SigV4 signing by libcurl (CURLOPT_AWS_SIGV4), timeouts, cancellation,
 * retries with full-jitter exponential backoff and a retry budget, and the
 * translation of AWS error bodies (XML and JSON protocols) into one error
 * code with the AWS error code and message. <curl/curl.h> and libxml2 stay
 * inside this folder.
 *
 * Secrets (secret key, session token) are never copied into an error, a log
 * line or a response; curl's verbose output is never enabled.
 */
#ifndef ELAVA_AWS_INT_H
#define ELAVA_AWS_INT_H

#include <stdatomic.h>

#include "core/core.h"

/* ------------------------------------------------------------ credentials */

struct aws_creds {
	char *access_key;
	char *secret_key;    /* secret */
	char *session_token; /* secret; NULL for long-term keys */
	int64_t expires_ns;  /* 0: does not expire */
	const char *source;  /* static: "environment", "profile", ... */
};

/* Wipe and free the strings (secrets are zeroed first). */
void aws_creds_clear(struct aws_creds *c);
/* Deep copy. */
void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src);
/*
 * From AWS_ACCESS_KEY_ID / AWS_SECRET_ACCESS_KEY / AWS_SESSION_TOKEN.
 * Returns 0, ELAVA_E_NOTFOUND when not set, ELAVA_E_INVAL when only one of
 * the pair is set (err says which variable, never a value).
 */
int aws_creds_from_env(struct aws_creds *c, struct elava_error *err);

/*
 * True when c expires within 5 minutes of now_ns (or already has): the
 * caller should resolve again. Long-term credentials never expire.
 */
bool aws_creds_expiring(const struct aws_creds *c, int64_t now_ns);

/*
 * Fill c from a JSON credentials document as credential_process, the
 * container endpoint and IMDS write them: "AccessKeyId", "SecretAccessKey",
 * the session token under token_key ("SessionToken" or "Token"), optional
 * "Expiration" (RFC 3339). what names the source for messages. Returns 0 or
 * ELAVA_E_PARSE; the message never quotes the document.
 */
int aws_creds_from_json(const char *doc, size_t len, const char *token_key,
			const char *what, struct aws_creds *c,
			struct elava_error *err);

struct aws_stats;

struct aws_creds_options {
	const char *profile;	   /* NULL: $AWS_PROFILE, else "default" */
	const char *region;	   /* STS region; NULL: the profile's region,
				      $AWS_REGION, $AWS_DEFAULT_REGION, us-east-1 */
	const atomic_bool *cancel; /* may be NULL */
	long process_timeout_ms;   /* credential_process; 0: 60,000 */
	long metadata_timeout_ms;  /* container/IMDS request; 0: 2,000 */
	/* Counts the STS calls (AssumeRole*) the chain makes; may be NULL.
	 * The container endpoint and IMDS are not AWS APIs: not counted. */
	struct aws_stats *stats;
};

/*
 * The standard credential chain, in the SDKs' order: the environment; the
 * profile in the shared files (static keys, credential_process, role_arn
 * with source_profile or web_identity_token_file); web identity from
 * AWS_WEB_IDENTITY_TOKEN_FILE + AWS_ROLE_ARN; the container endpoint;
 * IMDSv2. Returns the first source that yields credentials (c->source says
 * which; expires_ns is set for temporary ones). A source that is configured
 * but broken fails at once: ELAVA_E_PARSE (bad file syntax, bad output),
 * ELAVA_E_INVAL (bad settings), ELAVA_E_AUTH (STS denied), ELAVA_E_TIMEOUT,
 * ELAVA_E_NETWORK, ELAVA_E_CANCELLED. When no source is configured:
 * ELAVA_E_AUTH listing what was tried. Secrets never reach err. o may be
 * NULL. Reads the environment: not to be called while another thread
 * changes it.
 */
int aws_creds_resolve(const struct aws_creds_options *o, struct aws_creds *c,
		      struct elava_error *err);

/* --------------------------------------------- shared config/credentials */

/*
 * The AWS shared files (ini.c): "[name]" sections in the credentials file,
 * "[profile name]" and "[default]" in the config file (other section kinds,
 * such as "[sso-session x]", are skipped); "key = value" lines, keys
 * case-insensitive; full-line comments with '#' or ';'; indented lines
 * after a key (sub-properties, continuations) are ignored. Lines are capped
 * at AWS_INI_MAX_LINE bytes and files at AWS_INI_MAX_FILE. Errors name
 * file:line and never quote the line (it may hold a secret).
 */
#define AWS_INI_MAX_LINE 4096
#define AWS_INI_MAX_FILE ((size_t)1 << 20)

struct aws_ini;

/* Parse text[0..len); config selects the config file's section syntax.
 * file names the source in messages. ELAVA_E_PARSE, ELAVA_E_TOOBIG. */
int aws_ini_parse(const char *text, size_t len, const char *file, bool config,
		  struct aws_ini **out, struct elava_error *err);
/* Read and parse a file: ELAVA_E_NOTFOUND when it does not exist, else as
 * aws_ini_parse or ELAVA_E_IO / ELAVA_E_PERM. */
int aws_ini_load(const char *path, bool config, struct aws_ini **out,
		 struct elava_error *err);
void aws_ini_free(struct aws_ini **ip);
/* True when the profile has a section (ini may be NULL). */
bool aws_ini_has_profile(const struct aws_ini *ini, const char *profile);
/* A value (the last one set), or NULL; borrowed from ini (may be NULL). */
const char *aws_ini_get(const struct aws_ini *ini, const char *profile,
			const char *key);

/* ------------------------------------------------ credential providers */

/*
 * Run a credential_process command with /bin/sh -c (stdin and stderr are
 * /dev/null, stdout capped at 64 KiB) and read its JSON. profile names it
 * in messages; the command itself is never quoted. ELAVA_E_TIMEOUT,
 * ELAVA_E_CANCELLED, ELAVA_E_REMOTE (non-zero exit), ELAVA_E_PARSE,
 * ELAVA_E_TOOBIG, ELAVA_E_IO.
 */
int aws_creds_from_process(const char *command, const char *profile,
			   long timeout_ms, const atomic_bool *cancel,
			   struct aws_creds *c, struct elava_error *err);

/*
 * STS AssumeRole signed with src, or AssumeRoleWithWebIdentity with the
 * token read from token_file (src NULL). session may be NULL
 * ("elava-<pid>"). stats (may be NULL) counts the requests, as
 * aws_client_options.stats. Errors as aws_client_send, ELAVA_E_PARSE for a
 * response without credentials, ELAVA_E_IO for an unreadable token file.
 */
int aws_sts_assume_role(const struct aws_creds *src, const char *role_arn,
			const char *session, const char *region,
			const atomic_bool *cancel, struct aws_stats *stats,
			struct aws_creds *c, struct elava_error *err);
int aws_sts_assume_role_web_identity(
    const char *token_file, const char *role_arn, const char *session,
    const char *region, const atomic_bool *cancel, struct aws_stats *stats,
    struct aws_creds *c, struct elava_error *err);

/*
 * The container credentials endpoint (AWS_CONTAINER_CREDENTIALS_RELATIVE_URI
 * or _FULL_URI) and IMDSv2 (imds.c). ELAVA_E_NOTFOUND when not configured
 * (container), or disabled / unreachable / no role attached (IMDS; err
 * says which); other codes when the endpoint answered wrongly.
 */
int aws_creds_from_container(long timeout_ms, const atomic_bool *cancel,
			     struct aws_creds *c, struct elava_error *err);
int aws_creds_from_imds(long timeout_ms, const atomic_bool *cancel,
			struct aws_creds *c, struct elava_error *err);

/* ------------------------------------------------------------- endpoints */

/*
 * Base URL for a service in a region, without a trailing slash:
 * $AWS_ENDPOINT_URL_<ENV_ID> (e.g. AWS_ENDPOINT_URL_EC2), else
 * $AWS_ENDPOINT_URL, else the public endpoint ("https://ec2.<region>.
 * amazonaws.com"; global services such as iam and route53 have one
 * endpoint). env_id is the service's identifier in upper case with '_'
 * for spaces ("EC2", "STS", "ELASTIC_LOAD_BALANCING_V2").
 */
int aws_endpoint(const char *service, const char *env_id, const char *region,
		 struct buf *out);

/* ------------------------------------------------------------- transport */

/*
 * A request rate per service shared by clients in several threads
 * (ratelimit.c); per_second <= 0 means unlimited.
 */
struct aws_ratelimit;
struct aws_ratelimit *aws_ratelimit_new(double per_second);
void aws_ratelimit_free(struct aws_ratelimit **rlp);
/* Wait for a slot for service; false when cancelled meanwhile. */
bool aws_ratelimit_wait(struct aws_ratelimit *rl, const char *service,
			const atomic_bool *cancel);

/*
 * Request counts per service (http.c), shared by every client of a provider
 * and by its credential chain's STS calls. For each service (the request's
 * signing name), in the order services were first used:
 *   calls     every attempt aws_client_send made (retries included), once
 *             the request was handed to libcurl; a request that could not
 *             be built, or was cancelled waiting for the rate limit, is not
 *             a call;
 *   errors    attempts answered with a status outside 2xx, or that failed
 *             in transport (connection refused, timeout, reset, a body over
 *             max_body); an attempt cut short by cancellation is a call but
 *             not an error;
 *   throttles answers with HTTP 429 or a code aws_error_is_throttle()
 *             knows (each is also an error).
 * Up to AWS_STATS_MAX services; any more (or a name longer than
 * AWS_STATS_NAME - 1 bytes) are counted together as "other".
 * Thread-safe (one mutex).
 */
#define AWS_STATS_MAX  48
#define AWS_STATS_NAME 32

struct aws_stats *aws_stats_new(void);
void aws_stats_free(struct aws_stats **sp);
/* Count one attempt for service (error: it failed; throttle: it was
 * throttled, counted as an error too). s may be NULL: nothing is counted. */
void aws_stats_count(struct aws_stats *s, const char *service, bool error,
		     bool throttle);
/*
 * A consistent copy of up to cap services' counters into out (first use
 * first); returns how many services there are (may exceed cap). Each
 * out[i].service points into s and lives as long as it.
 */
struct provider_api_stats;
size_t aws_stats_read(struct aws_stats *s, struct provider_api_stats *out,
		      size_t cap);

struct aws_client_options {
	long connect_timeout_ms; /* 0: 3,000 */
	long request_timeout_ms; /* 0: 30,000 */
	int max_attempts;	 /* 0: 5 (first try + 4 retries) */
	int64_t backoff_base_ms; /* 0: 100 */
	int64_t backoff_cap_ms;	 /* 0: 20,000 */
	size_t max_body;	 /* 0: 64 MiB; larger responses fail */
	/* Set to true (from any thread) to abort requests and backoffs. */
	const atomic_bool *cancel;
	struct aws_ratelimit *limit; /* may be NULL; shared, not owned */
	struct aws_stats *stats;     /* may be NULL; shared, not owned */
};

struct aws_request {
	const char *operation; /* for messages: "DescribeInstances" */
	const char *service;   /* signing name: "ec2", "sts", "s3" */
	const char *env_id;    /* for AWS_ENDPOINT_URL_<env_id> */
	const char *region;    /* signing region */
	const char *method;    /* "GET" or "POST" */
	const char *path;      /* "/" or "/bucket"; NULL = "/" */
	const char *query;     /* encoded query string, no '?'; may be NULL */
	const char *body;      /* may be NULL */
	size_t body_len;
	const char *content_type; /* for a body */
	const char *amz_target;	  /* X-Amz-Target (JSON protocol) or NULL */
	/* More header lines ("Name: value"), NULL-terminated; may be NULL. */
	const char *const *headers;
};

struct aws_response {
	long status; /* HTTP status of the last attempt; 0: none */
	struct buf body;
	char error_code[128]; /* AWS error code, "" when none */
	char error_message[512];
	char request_id[128];
	int attempts;
};

void aws_response_init(struct aws_response *r);
void aws_response_release(struct aws_response *r);

struct aws_client;

/* libcurl's process-wide initialisation, done once whoever asks first. */
void aws_curl_global_init(void);
/* libxml2's one-time setup; every XML reader calls it first. */
void aws_xml_global_init(void);

/* The client keeps its own copy of the credentials. */
int aws_client_new(const struct aws_client_options *o,
		   const struct aws_creds *creds, struct aws_client **out,
		   struct elava_error *err);
void aws_client_free(struct aws_client **cp);
/* Sign from now on with these (refreshed) credentials. */
void aws_client_set_creds(struct aws_client *c, const struct aws_creds *creds);

/*
 * Send one request, retrying throttling and transient failures. Returns 0
 * for a 2xx answer (body in resp). Otherwise: ELAVA_E_THROTTLED (still
 * throttled when attempts or the retry budget ran out), ELAVA_E_AUTH
 * (AccessDenied, UnauthorizedOperation, invalid or expired credentials),
 * ELAVA_E_NOTFOUND (a 404 or *NotFound code), ELAVA_E_REMOTE (any other
 * AWS error), ELAVA_E_NETWORK (connection failures, after retries),
 * ELAVA_E_TIMEOUT, ELAVA_E_CANCELLED, ELAVA_E_TOOBIG (body over max_body).
 * err says which service and region, the AWS error code and message, and
 * how many attempts were made. Every attempt is counted in the options'
 * stats (see struct aws_stats). Not thread-safe: one client per thread.
 */
int aws_client_send(struct aws_client *c, const struct aws_request *r,
		    struct aws_response *resp, struct elava_error *err);

/* ---------------------------------------------------- retry decisions */

/* True for the AWS error codes that mean "slow down". */
bool aws_error_is_throttle(const char *code);
/* True for HTTP statuses / codes worth retrying (5xx, 429, throttles). */
bool aws_error_is_retryable(long status, const char *code);
/*
 * Full-jitter backoff before retry number `attempt` (1-based):
 * uniform in [0, min(cap, base * 2^attempt)] milliseconds.
 */
int64_t aws_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		       uint64_t *rng);

/*
 * Fill code/message/request id from an AWS error body: XML (<Code>,
 * <Message>, <RequestId>/<RequestID> anywhere, as EC2, the query
 * protocols and S3 write them) or JSON ("__type"/"code", "message").
 * Unknown bodies leave the fields empty. Never fails.
 */
void aws_error_parse(const char *body, size_t len, struct aws_response *r);

/* ------------------------------------------------------------------ XML */

#include <libxml/tree.h>      /* for the XML request bodies of the write side */
#include <libxml/xmlreader.h> /* error.c and creds_sts.c read small bodies */

/*
 * An element of a response (xmltree.c): its local name, its text (for an
 * element with children, ""), its children in order. Built by libxml2's
 * SAX parser into an arena; valid until the walk moves on (records) or the
 * document is freed.
 */
struct aws_xel {
	const char *name;
	const char *text; /* NUL-terminated; text_len bytes */
	size_t text_len;
	struct aws_xel *child, *last, *next;
};

/* Called with one record element. Non-zero stops the walk and is
 * returned. */
typedef int (*aws_xml_item_fn)(const struct aws_xel *item, void *ud);

/*
 * Walk one response page: for every element named `item` whose parent is
 * named `parent` (e.g. "item" under "instancesSet"), call fn with it. When
 * next_token is non-NULL, the text of the element token_name at depth 1 or 2
 * (e.g. "nextToken") is stored there ("" when absent). Errors:
 * ELAVA_E_PARSE for malformed or truncated XML (records before the fault
 * have been delivered), ELAVA_E_TOOBIG.
 */
int aws_xml_walk(const char *body, size_t len, const char *parent,
		 const char *item, aws_xml_item_fn fn, void *ud,
		 struct buf *next_token, const char *token_name,
		 struct elava_error *err);

/* A whole (small) response as one tree. ELAVA_E_PARSE. */
struct aws_xml_doc;
int aws_xml_parse(const char *body, size_t len, struct aws_xml_doc **out,
		  struct elava_error *err);
const struct aws_xel *aws_xml_root(const struct aws_xml_doc *d);
void aws_xml_free(struct aws_xml_doc **dp);

/* First child element named name, or NULL. */
const struct aws_xel *aws_xml_child(const struct aws_xel *e, const char *name);
/* Descend "a/b/c" by child element names. */
const struct aws_xel *aws_xml_path(const struct aws_xel *e, const char *path);
/* Text of the element at path into out; false when absent. */
bool aws_xml_text(const struct aws_xel *e, const char *path, struct buf *out);

#endif /* ELAVA_AWS_INT_H */
