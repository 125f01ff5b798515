/*
 * The AWS HTTP client: one libcurl easy handle per client, SigV4 signed by
 * libcurl, with timeouts, cancellation, and retries of throttling and
 * transient failures (full-jitter exponential backoff, as the AWS SDKs'
 * "standard" retry mode, bounded by attempts and by a retry budget so a
 * struggling service is not hammered by every listing at once). Every
 * attempt is counted per service in a table the provider shares between
 * its clients (struct aws_stats).
 */
#include "aws_int.h"
#include "provider/provider.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#define RETRY_BUDGET 500 /* tokens; a retry costs 5, a timeout 10 */
#define RETRY_COST   5
#define TIMEOUT_COST 10

struct aws_client {
	CURL *curl;
	struct aws_client_options o;
	struct aws_creds creds;
	uint64_t rng;
	int budget;
	char *ca_bundle; /* $AWS_CA_BUNDLE at creation, or NULL */
};

/* ------------------------------------------------------------ counts */

struct aws_stats {
	pthread_mutex_t mu;
	size_t n;
	struct {
		char service[AWS_STATS_NAME];
		uint64_t calls, errors, throttles;
	} e[AWS_STATS_MAX];
};

struct aws_stats *aws_stats_new(void)
{
	struct aws_stats *s = xcalloc(1, sizeof(*s));

	pthread_mutex_init(&s->mu, NULL);
	return s;
}

void aws_stats_free(struct aws_stats **sp)
{
	if (!sp || !*sp)
		return;
	pthread_mutex_destroy(&(*sp)->mu);
	xfree(*sp);
	*sp = NULL;
}

/* The slot of service, made on first use; the last one is kept for
 * "other", which takes every service past it. Called locked. */
static size_t stats_slot(struct aws_stats *s, const char *service)
{
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->e[i].service, service))
			return i;
	if (s->n >= AWS_STATS_MAX - 1 && strcmp(service, "other"))
		return stats_slot(s, "other");
	snprintf(s->e[s->n].service, sizeof(s->e[s->n].service), "%s", service);
	return s->n++;
}

void aws_stats_count(struct aws_stats *s, const char *service, bool error,
		     bool throttle)
{
	size_t i;

	if (!s)
		return;
	if (!service || !*service || strlen(service) >= AWS_STATS_NAME)
		service = "other";
	pthread_mutex_lock(&s->mu);
	i = stats_slot(s, service);
	s->e[i].calls++;
	s->e[i].errors += error || throttle;
	s->e[i].throttles += throttle;
	pthread_mutex_unlock(&s->mu);
}

size_t aws_stats_read(struct aws_stats *s, struct provider_api_stats *out,
		      size_t cap)
{
	size_t n;

	if (!s)
		return 0;
	pthread_mutex_lock(&s->mu);
	n = s->n;
	for (size_t i = 0; i < n && i < cap; i++) {
		out[i].service = s->e[i].service;
		out[i].calls = s->e[i].calls;
		out[i].errors = s->e[i].errors;
		out[i].throttles = s->e[i].throttles;
	}
	pthread_mutex_unlock(&s->mu);
	return n;
}

/* --------------------------------------------------------- the client */

static pthread_once_t curl_once = PTHREAD_ONCE_INIT;
static void curl_init(void)
{
	curl_global_init(CURL_GLOBAL_DEFAULT);
}

void aws_curl_global_init(void)
{
	pthread_once(&curl_once, curl_init);
}

void aws_response_init(struct aws_response *r)
{
	memset(r, 0, sizeof(*r));
	buf_init(&r->body, 0);
}

void aws_response_release(struct aws_response *r)
{
	buf_release(&r->body);
}

int aws_client_new(const struct aws_client_options *o,
		   const struct aws_creds *creds, struct aws_client **out,
		   struct elava_error *err)
{
	struct aws_client *c;

	*out = NULL;
	if (!creds || !creds->access_key || !creds->secret_key)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "no AWS credentials to sign with");
	aws_curl_global_init();
	c = xcalloc(1, sizeof(*c));
	if (o)
		c->o = *o;
	if (!c->o.connect_timeout_ms)
		c->o.connect_timeout_ms = 3000;
	if (!c->o.request_timeout_ms)
		c->o.request_timeout_ms = 30000;
	if (!c->o.max_attempts)
		c->o.max_attempts = 5;
	if (!c->o.backoff_base_ms)
		c->o.backoff_base_ms = 100;
	if (!c->o.backoff_cap_ms)
		c->o.backoff_cap_ms = 20000;
	if (!c->o.max_body)
		c->o.max_body = (size_t)64 << 20;
	c->curl = curl_easy_init();
	if (!c->curl) {
		xfree(c);
		return elava_error_set(err, ELAVA_E_IO,
				       "cannot initialise libcurl");
	}
	aws_creds_copy(&c->creds, creds);
	if (getenv("AWS_CA_BUNDLE") && *getenv("AWS_CA_BUNDLE"))
		c->ca_bundle = xstrdup(getenv("AWS_CA_BUNDLE"));
	c->rng = (uint64_t)time_now_ns() ^ (uint64_t)(uintptr_t)c;
	c->budget = RETRY_BUDGET;
	*out = c;
	return 0;
}

void aws_client_set_creds(struct aws_client *c, const struct aws_creds *creds)
{
	aws_creds_clear(&c->creds);
	aws_creds_copy(&c->creds, creds);
}

void aws_client_free(struct aws_client **cp)
{
	if (!cp || !*cp)
		return;
	curl_easy_cleanup((*cp)->curl);
	aws_creds_clear(&(*cp)->creds);
	xfree((*cp)->ca_bundle);
	xfree(*cp);
	*cp = NULL;
}

bool aws_error_is_throttle(const char *code)
{
	static const char *const codes[] = {
	    "Throttling",
	    "ThrottlingException",
	    "ThrottledException",
	    "RequestThrottledException",
	    "RequestThrottled",
	    "RequestLimitExceeded",
	    "TooManyRequestsException",
	    "ProvisionedThroughputExceededException",
	    "TransactionInProgressException",
	    "SlowDown",
	    "BandwidthLimitExceeded",
	    "EC2ThrottledException",
	    "PriorRequestNotComplete",
	};

	for (size_t i = 0; code && i < ARRAY_SIZE(codes); i++)
		if (!strcmp(code, codes[i]))
			return true;
	return false;
}

bool aws_error_is_retryable(long status, const char *code)
{
	static const char *const transient[] = {
	    "RequestTimeout",	  "RequestTimeoutException",
	    "InternalError",	  "InternalFailure",
	    "ServiceUnavailable", "IDPCommunicationError",
	};

	if (aws_error_is_throttle(code) || status == 429 ||
	    (status >= 500 && status != 501))
		return true;
	for (size_t i = 0; code && i < ARRAY_SIZE(transient); i++)
		if (!strcmp(code, transient[i]))
			return true;
	return false;
}

static uint64_t next_rand(uint64_t *s)
{
	/* xorshift64*: jitter needs spread, not secrecy */
	*s ^= *s >> 12;
	*s ^= *s << 25;
	*s ^= *s >> 27;
	return *s * 2685821657736338717ULL;
}

int64_t aws_backoff_ms(int attempt, int64_t base_ms, int64_t cap_ms,
		       uint64_t *rng)
{
	int64_t ceiling = base_ms;

	for (int i = 0; i < attempt && ceiling < cap_ms; i++)
		ceiling *= 2;
	if (ceiling > cap_ms)
		ceiling = cap_ms;
	if (!*rng)
		*rng = 0x9e3779b97f4a7c15ULL;
	return (int64_t)(next_rand(rng) % (uint64_t)(ceiling + 1));
}

static bool cancelled(const struct aws_client *c)
{
	return c->o.cancel && atomic_load(c->o.cancel);
}

/* Sleep in short slices so a shutdown is noticed within ~50 ms. */
static bool sleep_ms(const struct aws_client *c, int64_t ms)
{
	while (ms > 0) {
		int64_t step = ms < 50 ? ms : 50;
		struct timespec ts = {0, (long)step * 1000000L};
		if (cancelled(c))
			return false;
		nanosleep(&ts, NULL);
		ms -= step;
	}
	return !cancelled(c);
}

struct xfer {
	struct aws_client *c;
	struct aws_response *resp;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct xfer *x = ud;
	size_t len = size * n;

	if (x->resp->body.len + len > x->c->o.max_body ||
	    buf_append(&x->resp->body, p, len)) {
		x->too_big = true;
		return 0;
	}
	return len;
}

static size_t on_header(char *p, size_t size, size_t n, void *ud)
{
	static const char *const names[] = {"x-amzn-requestid:",
					    "x-amz-request-id:"};
	struct xfer *x = ud;
	size_t len = size * n;

	for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
		size_t nl = strlen(names[i]);
		if (len <= nl || strncasecmp(p, names[i], nl))
			continue;
		const char *v = p + nl;
		size_t vl = len - nl;
		while (vl && (*v == ' ' || *v == '\t'))
			v++, vl--;
		while (vl && (v[vl - 1] == '\r' || v[vl - 1] == '\n' ||
			      v[vl - 1] == ' '))
			vl--;
		if (vl >= sizeof(x->resp->request_id))
			vl = sizeof(x->resp->request_id) - 1;
		memcpy(x->resp->request_id, v, vl);
		x->resp->request_id[vl] = '\0';
	}
	return len;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct xfer *x = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	return cancelled(x->c) ? 1 : 0;
}

/* One attempt. Returns the CURLcode; the HTTP status is in resp. */
/*
 * libcurl 7.88 signs a request's path as it is sent, but AWS (every service
 * but S3) signs the path URI-encoded once more, so a path holding an
 * escaped byte — an ARN in Lambda's and EKS's tag calls — can never verify.
 * Those requests are signed here, as AWS documents SigV4; all others are
 * signed by libcurl.
 */
static bool curl_signs_wrong(const struct aws_request *r)
{
	return strcmp(r->service, "s3") && r->path && strchr(r->path, '%');
}

struct qparam {
	const char *k, *v;
	size_t klen, vlen;
};

static int cmp_qparam(const void *a, const void *b)
{
	const struct qparam *x = a, *y = b;
	size_t n = x->klen < y->klen ? x->klen : y->klen;
	int c = memcmp(x->k, y->k, n);

	if (c || x->klen != y->klen)
		return c ? c : (x->klen < y->klen ? -1 : 1);
	n = x->vlen < y->vlen ? x->vlen : y->vlen;
	c = memcmp(x->v, y->v, n);
	return c ? c : (x->vlen < y->vlen ? -1 : x->vlen > y->vlen);
}

/* The query's parameters sorted by name then value, as "k=v&...". */
static void canonical_query(const char *q, struct buf *out)
{
	struct qparam *ps = NULL;
	size_t n = 0;

	while (q && *q) {
		const char *end = strchr(q, '&'), *eq;
		size_t len = end ? (size_t)(end - q) : strlen(q);
		ps = xrealloc(ps, st_mult(n + 1, sizeof(*ps)));
		eq = memchr(q, '=', len);
		ps[n].k = q;
		ps[n].klen = eq ? (size_t)(eq - q) : len;
		ps[n].v = eq ? eq + 1 : "";
		ps[n].vlen = eq ? len - ps[n].klen - 1 : 0;
		n++;
		q += len + (end ? 1 : 0);
	}
	if (n)
		qsort(ps, n, sizeof(*ps), cmp_qparam);
	for (size_t i = 0; i < n; i++) {
		if (i)
			buf_putc(out, '&');
		buf_append(out, ps[i].k, ps[i].klen);
		buf_putc(out, '=');
		buf_append(out, ps[i].v, ps[i].vlen);
	}
	xfree(ps);
}

static void hmac_str(const uint8_t *key, size_t klen, const char *s,
		     uint8_t out[SHA256_LEN])
{
	hmac_sha256(key, klen, s, strlen(s), out);
}

/* Add X-Amz-Date and Authorization for r to hdrs. */
static struct curl_slist *sign_here(const struct aws_client *c,
				    const struct aws_request *r,
				    const char *url, struct curl_slist *hdrs)
{
	char stamp[TIME_RFC3339_LEN], amzdate[17], day[9];
	char hex[2 * SHA256_LEN + 1];
	uint8_t md[SHA256_LEN], k[SHA256_LEN];
	const char *host = strstr(url, "://"), *slash;
	struct buf canon, sts, line, secret;
	const char *signed_hdrs;

	host = host ? host + 3 : url;
	slash = strchr(host, '/');
	time_format_rfc3339(time_now_ns(), stamp);
	/* "2026-11-21T10:00:00.123Z" -> "20261121T100000Z" */
	snprintf(amzdate, sizeof(amzdate), "%.4s%.2s%.2sT%.2s%.2s%.2sZ", stamp,
		 stamp + 5, stamp + 8, stamp + 11, stamp + 14, stamp + 17);
	memcpy(day, amzdate, 8);
	day[8] = '\0';
	buf_init(&canon, 0);
	buf_init(&sts, 0);
	buf_init(&line, 0);
	buf_init(&secret, 0);
	buf_printf(&canon, "%s\n", r->method ? r->method : "GET");
	for (const char *p = r->path; *p; p++)
		if (*p == '%')
			buf_puts(&canon, "%25");
		else
			buf_putc(&canon, *p);
	buf_putc(&canon, '\n');
	canonical_query(r->query, &canon);
	buf_putc(&canon, '\n');
	if (r->content_type)
		buf_printf(&canon, "content-type:%s\n", r->content_type);
	buf_printf(&canon, "host:%.*s\n",
		   (int)(slash ? (size_t)(slash - host) : strlen(host)), host);
	buf_printf(&canon, "x-amz-date:%s\n", amzdate);
	if (c->creds.session_token)
		buf_printf(&canon, "x-amz-security-token:%s\n",
			   c->creds.session_token);
	if (r->amz_target)
		buf_printf(&canon, "x-amz-target:%s\n", r->amz_target);
	signed_hdrs =
	    r->content_type
		? (c->creds.session_token ? "content-type;host;x-amz-date;"
					    "x-amz-security-token"
					  : "content-type;host;x-amz-date")
		: (c->creds.session_token
		       ? "host;x-amz-date;x-amz-security-token"
		       : "host;x-amz-date");
	buf_printf(&canon, "\n%s%s\n", signed_hdrs,
		   r->amz_target ? ";x-amz-target" : "");
	sha256(r->body ? r->body : "", r->body ? r->body_len : 0, md);
	hex_encode(md, SHA256_LEN, hex);
	buf_puts(&canon, hex);
	sha256(canon.data, canon.len, md);
	hex_encode(md, SHA256_LEN, hex);
	buf_printf(&sts, "AWS4-HMAC-SHA256\n%s\n%s/%s/%s/aws4_request\n%s",
		   amzdate, day, r->region, r->service, hex);
	buf_printf(&secret, "AWS4%s", c->creds.secret_key);
	hmac_str((const uint8_t *)secret.data, secret.len, day, k);
	hmac_str(k, SHA256_LEN, r->region, k);
	hmac_str(k, SHA256_LEN, r->service, k);
	hmac_str(k, SHA256_LEN, "aws4_request", k);
	hmac_sha256(k, SHA256_LEN, sts.data, sts.len, md);
	hex_encode(md, SHA256_LEN, hex);
	buf_printf(&line, "X-Amz-Date: %s", amzdate);
	hdrs = curl_slist_append(hdrs, line.data);
	buf_reset(&line);
	buf_printf(&line,
		   "Authorization: AWS4-HMAC-SHA256 Credential=%s/%s/%s/%s/"
		   "aws4_request, SignedHeaders=%s%s, Signature=%s",
		   c->creds.access_key, day, r->region, r->service, signed_hdrs,
		   r->amz_target ? ";x-amz-target" : "", hex);
	hdrs = curl_slist_append(hdrs, line.data);
	/* The secret and the keys derived from it do not outlive the call. */
	explicit_bzero(secret.data, secret.len);
	explicit_bzero(k, sizeof(k));
	buf_release(&secret);
	buf_release(&canon);
	buf_release(&sts);
	buf_release(&line);
	return hdrs;
}

static CURLcode attempt(struct aws_client *c, const struct aws_request *r,
			struct aws_response *resp, bool *too_big,
			struct elava_error *err)
{
	struct curl_slist *hdrs = NULL;
	struct buf url, sig, hdr;
	struct xfer x = {c, resp, false};
	CURLcode cc;
	CURL *h = c->curl;

	buf_init(&url, 0);
	buf_init(&sig, 0);
	buf_init(&hdr, 0);
	buf_reset(&resp->body);
	resp->status = 0;
	resp->error_code[0] = resp->error_message[0] = resp->request_id[0] =
	    '\0';
	if (aws_endpoint(r->service, r->env_id, r->region, &url) ||
	    buf_puts(&url, r->path ? r->path : "/") ||
	    (r->query && *r->query &&
	     (buf_putc(&url, '?') || buf_puts(&url, r->query))) ||
	    buf_printf(&sig, "aws:amz:%s:%s", r->region, r->service)) {
		elava_error_set(err, ELAVA_E_TOOBIG, "request URL too long");
		cc = CURLE_URL_MALFORMAT;
		goto out;
	}
	curl_easy_reset(h);
	curl_easy_setopt(h, CURLOPT_URL, url.data);
	if (curl_signs_wrong(r)) {
		hdrs = sign_here(c, r, url.data, hdrs);
	} else {
		curl_easy_setopt(h, CURLOPT_AWS_SIGV4, sig.data);
		curl_easy_setopt(h, CURLOPT_USERNAME, c->creds.access_key);
		curl_easy_setopt(h, CURLOPT_PASSWORD, c->creds.secret_key);
	}
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS, c->o.connect_timeout_ms);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, c->o.request_timeout_ms);
	curl_easy_setopt(h, CURLOPT_ACCEPT_ENCODING, "");
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_HEADERFUNCTION, on_header);
	curl_easy_setopt(h, CURLOPT_HEADERDATA, &x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "elava/" ELAVA_VERSION);
	/* As the SDKs: a CA bundle for TLS to the endpoint (a corporate
	 * proxy's CA, an emulator's certificate). Proxies come from libcurl's
	 * own HTTPS_PROXY / HTTP_PROXY / NO_PROXY. */
	if (c->ca_bundle)
		curl_easy_setopt(h, CURLOPT_CAINFO, c->ca_bundle);
	if (c->creds.session_token) {
		buf_printf(&hdr, "X-Amz-Security-Token: %s",
			   c->creds.session_token);
		hdrs = curl_slist_append(hdrs, hdr.data);
	}
	/* S3 wants the payload's hash in a header, and signs it. */
	if (!strcmp(r->service, "s3")) {
		uint8_t md[SHA256_LEN];
		char hex[2 * SHA256_LEN + 1];
		sha256(r->body ? r->body : "", r->body ? r->body_len : 0, md);
		hex_encode(md, SHA256_LEN, hex);
		buf_reset(&hdr);
		buf_printf(&hdr, "x-amz-content-sha256: %s", hex);
		hdrs = curl_slist_append(hdrs, hdr.data);
	}
	if (r->amz_target) {
		buf_reset(&hdr);
		buf_printf(&hdr, "X-Amz-Target: %s", r->amz_target);
		hdrs = curl_slist_append(hdrs, hdr.data);
	}
	if (r->content_type) {
		buf_reset(&hdr);
		buf_printf(&hdr, "Content-Type: %s", r->content_type);
		hdrs = curl_slist_append(hdrs, hdr.data);
	}
	for (const char *const *more = r->headers; more && *more; more++)
		hdrs = curl_slist_append(hdrs, *more);
	/* No "Expect:" line to turn 100-continue off: libcurl 7.88 would sign
	 * an "expect" header it then does not send, and AWS would refuse the
	 * signature. Bodies here are small; curl only waits for large ones. */
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	/* A body goes with POST, PUT (S3 wants a Content-Length even when
	 * there is none) and any other method given one. */
	if (r->method && (!strcmp(r->method, "POST") ||
			  !strcmp(r->method, "PUT") || r->body)) {
		curl_easy_setopt(h, CURLOPT_POST, 1L);
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, r->body ? r->body : "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE_LARGE,
				 (curl_off_t)(r->body ? r->body_len : 0));
		if (strcmp(r->method, "POST"))
			curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	} else if (r->method && strcmp(r->method, "GET")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, r->method);
	}
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, &resp->status);
	*too_big = x.too_big;
	/* The secret must not outlive the request in curl's handle. */
	curl_easy_setopt(h, CURLOPT_PASSWORD, "");
	if (hdr.data)
		memset(hdr.data, 0, hdr.len);
out:
	curl_slist_free_all(hdrs);
	buf_release(&url);
	buf_release(&sig);
	buf_release(&hdr);
	return cc;
}

/* Failures of the connection itself, worth another try. */
static bool transient_curl(CURLcode cc)
{
	static const CURLcode transient[] = {
	    CURLE_COULDNT_CONNECT,   CURLE_OPERATION_TIMEDOUT,
	    CURLE_SEND_ERROR,	     CURLE_RECV_ERROR,
	    CURLE_GOT_NOTHING,	     CURLE_PARTIAL_FILE,
	    CURLE_SSL_CONNECT_ERROR, CURLE_HTTP2,
	    CURLE_HTTP2_STREAM,
	};

	for (size_t i = 0; i < ARRAY_SIZE(transient); i++)
		if (cc == transient[i])
			return true;
	return false;
}

static int classify(long status, const char *code)
{
	static const char *const auth[] = {
	    "AccessDenied",
	    "AccessDeniedException",
	    "UnauthorizedOperation",
	    "AuthFailure",
	    "InvalidClientTokenId",
	    "SignatureDoesNotMatch",
	    "ExpiredToken",
	    "ExpiredTokenException",
	    "UnrecognizedClientException",
	    "InvalidAccessKeyId",
	    "MissingAuthenticationToken",
	};
	size_t n = strlen(code);

	if (aws_error_is_throttle(code) || status == 429)
		return ELAVA_E_THROTTLED;
	for (size_t i = 0; i < ARRAY_SIZE(auth); i++)
		if (!strcmp(code, auth[i]))
			return ELAVA_E_AUTH;
	if ((n >= 8 && !strcmp(code + n - 8, "NotFound")) ||
	    (n >= 17 && !strcmp(code + n - 17, "NotFoundException")) ||
	    !strncmp(code, "NoSuch", 6) || (!n && status == 404))
		return ELAVA_E_NOTFOUND;
	if (!n && (status == 401 || status == 403))
		return ELAVA_E_AUTH;
	return ELAVA_E_REMOTE;
}

/*
 * Count one attempt in the client's stats; a non-2xx answer's error body
 * is parsed here (the retry decision reads it too). A transfer aborted
 * because the client was cancelled is a call, not an error; any other
 * curl failure (a body over max_body included) is an error.
 */
static void count_attempt(struct aws_client *c, const struct aws_request *r,
			  CURLcode cc, struct aws_response *resp)
{
	bool ok = cc == CURLE_OK && resp->status >= 200 && resp->status < 300;
	bool throttle = false;

	if (cc == CURLE_OK && !ok) {
		aws_error_parse(resp->body.data, resp->body.len, resp);
		throttle = resp->status == 429 ||
			   aws_error_is_throttle(resp->error_code);
	}
	aws_stats_count(c->o.stats, r->service,
			!ok &&
			    !(cc == CURLE_ABORTED_BY_CALLBACK && cancelled(c)),
			throttle);
}

int aws_client_send(struct aws_client *c, const struct aws_request *r,
		    struct aws_response *resp, struct elava_error *err)
{
	const char *op = r->operation ? r->operation : "request";
	CURLcode cc = CURLE_OK;
	bool too_big = false;
	int n;

	for (n = 1;; n++) {
		bool retry;
		int cost = RETRY_COST;

		resp->attempts = n;
		if (!aws_ratelimit_wait(c->o.limit, r->service, c->o.cancel))
			return elava_error_set(err, ELAVA_E_CANCELLED,
					       "%s %s in %s: cancelled",
					       r->service, op, r->region);
		cc = attempt(c, r, resp, &too_big, err);
		if (cc == CURLE_URL_MALFORMAT)
			return ELAVA_E_TOOBIG; /* nothing was sent */
		count_attempt(c, r, cc, resp);
		if (cc == CURLE_ABORTED_BY_CALLBACK && cancelled(c))
			return elava_error_set(err, ELAVA_E_CANCELLED,
					       "%s %s in %s: cancelled",
					       r->service, op, r->region);
		if (too_big)
			return elava_error_set(
			    err, ELAVA_E_TOOBIG,
			    "%s %s in %s: response larger than %zu bytes",
			    r->service, op, r->region, c->o.max_body);
		if (cc == CURLE_OK) {
			if (resp->status >= 200 && resp->status < 300) {
				if (c->budget < RETRY_BUDGET)
					c->budget++;
				return 0;
			}
			retry = aws_error_is_retryable(resp->status,
						       resp->error_code);
		} else {
			retry = transient_curl(cc);
			if (cc == CURLE_OPERATION_TIMEDOUT)
				cost = TIMEOUT_COST;
		}
		if (!retry || n >= c->o.max_attempts || c->budget < cost)
			break;
		c->budget -= cost;
		if (!sleep_ms(c, aws_backoff_ms(n, c->o.backoff_base_ms,
						c->o.backoff_cap_ms, &c->rng)))
			return elava_error_set(err, ELAVA_E_CANCELLED,
					       "%s %s in %s: cancelled",
					       r->service, op, r->region);
	}
	if (cc != CURLE_OK)
		return elava_error_set(
		    err,
		    cc == CURLE_OPERATION_TIMEDOUT ? ELAVA_E_TIMEOUT
						   : ELAVA_E_NETWORK,
		    "%s %s in %s: %s (after %d attempt%s)", r->service, op,
		    r->region, curl_easy_strerror(cc), n, n == 1 ? "" : "s");
	return elava_error_set(
	    err, classify(resp->status, resp->error_code),
	    "%s %s in %s: %s: %s (HTTP %ld%s%s, after %d attempt%s)",
	    r->service, op, r->region,
	    resp->error_code[0] ? resp->error_code : "error",
	    resp->error_message[0] ? resp->error_message
				   : "no message from the service",
	    resp->status, resp->request_id[0] ? ", request id " : "",
	    resp->request_id, n, n == 1 ? "" : "s");
}
