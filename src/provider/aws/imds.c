/*
 * Credentials from metadata endpoints: the container endpoint (ECS, EKS Pod
 * Identity: AWS_CONTAINER_CREDENTIALS_RELATIVE_URI / _FULL_URI with an
 * optional authorization token) and the EC2 instance metadata service,
 * IMDSv2 only (a session token from PUT /latest/api/token on every read).
 * Both are plain HTTP on a link-local address, so requests have short
 * timeouts (1 s to connect) and no retries: a laptop without IMDS must fail
 * fast. Tokens and credentials never reach a message.
 *
 * ELAVA_TEST_CONTAINER_HOST replaces http://169.254.170.2 for the relative
 * URI. It exists for tests only.
 */
#include "aws_int.h"

#include <curl/curl.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define META_MAX_BODY  ((size_t)64 << 10)
#define META_TOKEN_TTL "21600"

struct meta_xfer {
	struct buf *body;
	const atomic_bool *cancel;
	bool too_big;
};

static size_t on_body(char *p, size_t size, size_t n, void *ud)
{
	struct meta_xfer *x = ud;

	if (buf_append(x->body, p, size * n)) {
		x->too_big = true;
		return 0;
	}
	return size * n;
}

static int on_progress(void *ud, curl_off_t dt, curl_off_t dn, curl_off_t ut,
		       curl_off_t un)
{
	struct meta_xfer *x = ud;

	(void)dt, (void)dn, (void)ut, (void)un;
	return x->cancel && atomic_load(x->cancel) ? 1 : 0;
}

enum meta_result {
	META_OK,	  /* an HTTP answer; status set */
	META_UNREACHABLE, /* could not connect / resolve / timed out */
	META_FAILED,	  /* err set */
};

/*
 * One request. header (may be NULL) is a full "Name: value" line and may be
 * secret. Returns a meta_result; body is reset first.
 */
static enum meta_result meta_request(const char *method, const char *url,
				     const char *header, long timeout_ms,
				     const atomic_bool *cancel,
				     struct buf *body, long *status,
				     const char *what, struct elava_error *err)
{
	struct meta_xfer x = {body, cancel, false};
	struct curl_slist *hdrs = NULL;
	CURL *h;
	CURLcode cc;
	enum meta_result res = META_OK;

	aws_curl_global_init();
	buf_reset(body);
	*status = 0;
	h = curl_easy_init();
	if (!h) {
		elava_error_set(err, ELAVA_E_IO, "cannot initialise libcurl");
		return META_FAILED;
	}
	curl_easy_setopt(h, CURLOPT_URL, url);
	curl_easy_setopt(h, CURLOPT_NOSIGNAL, 1L);
	curl_easy_setopt(h, CURLOPT_CONNECTTIMEOUT_MS,
			 timeout_ms < 1000 ? timeout_ms : 1000L);
	curl_easy_setopt(h, CURLOPT_TIMEOUT_MS, timeout_ms);
	curl_easy_setopt(h, CURLOPT_WRITEFUNCTION, on_body);
	curl_easy_setopt(h, CURLOPT_WRITEDATA, &x);
	curl_easy_setopt(h, CURLOPT_XFERINFOFUNCTION, on_progress);
	curl_easy_setopt(h, CURLOPT_XFERINFODATA, &x);
	curl_easy_setopt(h, CURLOPT_NOPROGRESS, 0L);
	curl_easy_setopt(h, CURLOPT_USERAGENT, "elava/" ELAVA_VERSION);
	curl_easy_setopt(h, CURLOPT_PROTOCOLS_STR, "http,https");
	curl_easy_setopt(h, CURLOPT_NOPROXY, "*");
	if (header)
		hdrs = curl_slist_append(hdrs, header);
	if (!strcmp(method, "PUT")) {
		curl_easy_setopt(h, CURLOPT_CUSTOMREQUEST, "PUT");
		curl_easy_setopt(h, CURLOPT_POSTFIELDS, "");
		curl_easy_setopt(h, CURLOPT_POSTFIELDSIZE, 0L);
		hdrs = curl_slist_append(hdrs, "Expect:");
	}
	curl_easy_setopt(h, CURLOPT_HTTPHEADER, hdrs);
	cc = curl_easy_perform(h);
	curl_easy_getinfo(h, CURLINFO_RESPONSE_CODE, status);
	curl_easy_cleanup(h);
	curl_slist_free_all(hdrs);
	if (cc == CURLE_OK)
		return META_OK;
	if (x.too_big) {
		elava_error_set(err, ELAVA_E_TOOBIG,
				"%s: response larger than %zu bytes", what,
				body->max);
		res = META_FAILED;
	} else if (cc == CURLE_ABORTED_BY_CALLBACK) {
		elava_error_set(err, ELAVA_E_CANCELLED, "%s: cancelled", what);
		res = META_FAILED;
	} else {
		elava_error_set(err,
				cc == CURLE_OPERATION_TIMEDOUT
				    ? ELAVA_E_TIMEOUT
				    : ELAVA_E_NETWORK,
				"%s: %s", what, curl_easy_strerror(cc));
		res = META_UNREACHABLE;
	}
	return res;
}

static void wipe_buf(struct buf *b)
{
	if (b->data)
		memset(b->data, 0, b->len);
}

/* ------------------------------------------------------------ container */

/* http:// is only allowed to loopback and the ECS/EKS link-local hosts. */
static bool full_uri_allowed(const char *uri)
{
	static const char *const hosts[] = {"127.0.0.1",      "localhost",
					    "[::1]",	      "169.254.170.2",
					    "169.254.170.23", "[fd00:ec2::23]"};
	const char *h, *e;

	if (!strncasecmp(uri, "https://", 8))
		return true;
	if (strncasecmp(uri, "http://", 7))
		return false;
	h = uri + 7;
	if (*h == '[')
		e = strchr(h, ']') ? strchr(h, ']') + 1 : h;
	else
		e = h + strcspn(h, ":/?#");
	for (size_t i = 0; i < ARRAY_SIZE(hosts); i++)
		if (strlen(hosts[i]) == (size_t)(e - h) &&
		    !strncasecmp(h, hosts[i], (size_t)(e - h)))
			return true;
	return false;
}

static int container_auth(struct buf *hdr, struct elava_error *err)
{
	const char *file = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN_FILE");
	const char *tok = getenv("AWS_CONTAINER_AUTHORIZATION_TOKEN");

	if (file && *file) {
		FILE *f = fopen(file, "rb");
		char chunk[1024];
		size_t n;
		if (!f)
			return elava_error_set(err, ELAVA_E_IO,
					       "cannot open container "
					       "authorization token file '%s'",
					       file);
		buf_puts(hdr, "Authorization: ");
		while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
			if (buf_append(hdr, chunk, n)) {
				fclose(f);
				return elava_error_set(
				    err, ELAVA_E_TOOBIG,
				    "container authorization token file '%s' "
				    "too large",
				    file);
			}
		memset(chunk, 0, sizeof(chunk));
		fclose(f);
		while (hdr->len && (hdr->data[hdr->len - 1] == '\n' ||
				    hdr->data[hdr->len - 1] == '\r'))
			hdr->data[--hdr->len] = '\0';
	} else if (tok && *tok) {
		if (buf_printf(hdr, "Authorization: %s", tok))
			return elava_error_set(
			    err, ELAVA_E_TOOBIG,
			    "AWS_CONTAINER_AUTHORIZATION_TOKEN too large");
	}
	/* a token with a line break would inject headers */
	if (hdr->data && strpbrk(hdr->data, "\r\n"))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "container authorization token holds a "
				       "line break");
	return 0;
}

int aws_creds_from_container(long timeout_ms, const atomic_bool *cancel,
			     struct aws_creds *c, struct elava_error *err)
{
	const char *rel = getenv("AWS_CONTAINER_CREDENTIALS_RELATIVE_URI");
	const char *full = getenv("AWS_CONTAINER_CREDENTIALS_FULL_URI");
	const char *host = getenv("ELAVA_TEST_CONTAINER_HOST");
	struct buf url, hdr, body;
	long status = 0;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if ((!rel || !*rel) && (!full || !*full))
		return elava_error_set(err, ELAVA_E_NOTFOUND,
				       "no container endpoint");
	if (timeout_ms <= 0)
		timeout_ms = 2000;
	buf_init(&url, 8192);
	buf_init(&hdr, (size_t)16 << 10);
	buf_init(&body, META_MAX_BODY);
	if (rel && *rel) {
		if (buf_printf(&url, "%s%s",
			       host && *host ? host : "http://169.254.170.2",
			       rel)) {
			rc = elava_error_set(
			    err, ELAVA_E_TOOBIG,
			    "AWS_CONTAINER_CREDENTIALS_RELATIVE_URI too long");
			goto out;
		}
	} else if (!full_uri_allowed(full)) {
		rc = elava_error_set(
		    err, ELAVA_E_INVAL,
		    "AWS_CONTAINER_CREDENTIALS_FULL_URI must be https or a "
		    "loopback or container host address");
		goto out;
	} else if (buf_puts(&url, full)) {
		rc = elava_error_set(err, ELAVA_E_TOOBIG,
				     "AWS_CONTAINER_CREDENTIALS_FULL_URI too "
				     "long");
		goto out;
	}
	rc = container_auth(&hdr, err);
	if (rc)
		goto out;
	switch (meta_request("GET", url.data, hdr.data, timeout_ms, cancel,
			     &body, &status, "container credentials endpoint",
			     err)) {
	case META_OK: break;
	case META_UNREACHABLE:
	case META_FAILED: rc = err ? err->code : ELAVA_E_NETWORK; goto out;
	}
	if (status != 200) {
		rc = elava_error_set(
		    err,
		    status == 401 || status == 403 ? ELAVA_E_AUTH
						   : ELAVA_E_REMOTE,
		    "container credentials endpoint: HTTP %ld", status);
		goto out;
	}
	rc = aws_creds_from_json(body.data ? body.data : "", body.len, "Token",
				 "container credentials endpoint", c, err);
	if (!rc)
		c->source = "container";
out:
	wipe_buf(&hdr);
	wipe_buf(&body);
	buf_release(&url);
	buf_release(&hdr);
	buf_release(&body);
	return rc;
}

/* ------------------------------------------------------------------ IMDS */

static bool role_name_ok(const char *s, size_t n)
{
	if (!n || n > 128)
		return false;
	for (size_t i = 0; i < n; i++) {
		char ch = s[i];
		if (!((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		      (ch >= '0' && ch <= '9') || strchr("+=,.@_-", ch)))
			return false;
	}
	return true;
}

int aws_creds_from_imds(long timeout_ms, const atomic_bool *cancel,
			struct aws_creds *c, struct elava_error *err)
{
	const char *dis = getenv("AWS_EC2_METADATA_DISABLED");
	const char *ep = getenv("AWS_EC2_METADATA_SERVICE_ENDPOINT");
	struct buf base, url, hdr, body;
	long status = 0;
	char role[130];
	size_t n;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	if (dis && !strcasecmp(dis, "true"))
		return elava_error_set(err, ELAVA_E_NOTFOUND,
				       "instance metadata disabled");
	if (timeout_ms <= 0)
		timeout_ms = 2000;
	buf_init(&base, 4096);
	buf_init(&url, 8192);
	buf_init(&hdr, 8192);
	buf_init(&body, META_MAX_BODY);
	if (buf_puts(&base, ep && *ep ? ep : "http://169.254.169.254")) {
		rc = elava_error_set(err, ELAVA_E_TOOBIG,
				     "AWS_EC2_METADATA_SERVICE_ENDPOINT too "
				     "long");
		goto out;
	}
	while (base.len && base.data[base.len - 1] == '/')
		base.data[--base.len] = '\0';

	buf_printf(&url, "%s/latest/api/token", base.data);
	switch (meta_request(
	    "PUT", url.data,
	    "X-aws-ec2-metadata-token-ttl-seconds: " META_TOKEN_TTL, timeout_ms,
	    cancel, &body, &status, "instance metadata", err)) {
	case META_OK: break;
	case META_UNREACHABLE:
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "instance metadata unreachable");
		goto out;
	case META_FAILED: rc = err ? err->code : ELAVA_E_IO; goto out;
	}
	if (status != 200 || !body.len || strpbrk(body.data, "\r\n")) {
		/* not an IMDSv2 service (or v2 turned off): not usable */
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "instance metadata unreachable (token "
				     "request answered HTTP %ld)",
				     status);
		goto out;
	}
	buf_printf(&hdr, "X-aws-ec2-metadata-token: %s", body.data);

	buf_reset(&url);
	buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/",
		   base.data);
	if (meta_request("GET", url.data, hdr.data, timeout_ms, cancel, &body,
			 &status, "instance metadata", err) != META_OK) {
		rc = err ? err->code : ELAVA_E_NETWORK;
		goto out;
	}
	if (status == 404) {
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "no IAM role attached to the instance");
		goto out;
	}
	if (status != 200) {
		rc = elava_error_set(err,
				     status == 401 || status == 403
					 ? ELAVA_E_AUTH
					 : ELAVA_E_REMOTE,
				     "instance metadata: role list answered "
				     "HTTP %ld",
				     status);
		goto out;
	}
	n = body.data ? strcspn(body.data, "\r\n") : 0;
	if (!role_name_ok(body.data, n)) {
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "instance metadata: bad role name");
		goto out;
	}
	memcpy(role, body.data, n);
	role[n] = '\0';

	buf_reset(&url);
	buf_printf(&url, "%s/latest/meta-data/iam/security-credentials/%s",
		   base.data, role);
	if (meta_request("GET", url.data, hdr.data, timeout_ms, cancel, &body,
			 &status, "instance metadata", err) != META_OK) {
		rc = err ? err->code : ELAVA_E_NETWORK;
		goto out;
	}
	if (status != 200) {
		rc = elava_error_set(err,
				     status == 401 || status == 403
					 ? ELAVA_E_AUTH
					 : ELAVA_E_REMOTE,
				     "instance metadata: credentials of role "
				     "'%s' answered HTTP %ld",
				     role, status);
		goto out;
	}
	rc = aws_creds_from_json(body.data ? body.data : "", body.len, "Token",
				 "instance metadata", c, err);
	if (!rc)
		c->source = "imds";
out:
	wipe_buf(&hdr);
	wipe_buf(&body);
	buf_release(&base);
	buf_release(&url);
	buf_release(&hdr);
	buf_release(&body);
	return rc;
}
