/*
 * STS AssumeRole and AssumeRoleWithWebIdentity for the credential chain,
 * sent through the AWS transport (aws_client_send: endpoint resolution
 * including AWS_ENDPOINT_URL_STS, retries, timeouts, cancellation). The
 * response's Credentials are read with libxml2's reader, network access
 * and entity expansion off. Neither the web identity token nor the
 * returned secrets ever reach a message.
 *
 * AssumeRoleWithWebIdentity is an unsigned call in AWS. The transport
 * always signs, so it is signed here with dummy keys: the AWS emulator
 * accepts that; real STS is expected to ignore or refuse the signature
 * (an unsigned mode in the transport would be the proper fix).
 */
#include "aws_int.h"

#include <libxml/xmlreader.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

#define TOKEN_MAX ((size_t)16 << 10)

/* application/x-www-form-urlencoded value (RFC 3986 unreserved kept). */
static int form_escape(struct buf *b, const char *s)
{
	static const char hex[] = "0123456789ABCDEF";

	for (; *s; s++) {
		unsigned char ch = (unsigned char)*s;
		if ((ch >= 'A' && ch <= 'Z') || (ch >= 'a' && ch <= 'z') ||
		    (ch >= '0' && ch <= '9') || ch == '-' || ch == '_' ||
		    ch == '.' || ch == '~') {
			if (buf_putc(b, (char)ch))
				return ELAVA_E_TOOBIG;
		} else if (buf_putc(b, '%') || buf_putc(b, hex[ch >> 4]) ||
			   buf_putc(b, hex[ch & 15])) {
			return ELAVA_E_TOOBIG;
		}
	}
	return 0;
}

/* Credentials from an AssumeRole*Response body. */
static int parse_credentials(const char *body, size_t len, const char *op,
			     struct aws_creds *c, struct elava_error *err)
{
	static const char *const names[] = {"AccessKeyId", "SecretAccessKey",
					    "SessionToken", "Expiration"};
	char *vals[4] = {NULL, NULL, NULL, NULL};
	xmlTextReaderPtr rd = NULL;
	int in_creds = 0, rc = 0;

	memset(c, 0, sizeof(*c));
	if (len > INT32_MAX)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "sts %s: response too large", op);
	aws_xml_global_init();
	rd = xmlReaderForMemory(body, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	while (rd && xmlTextReaderRead(rd) == 1) {
		int type = xmlTextReaderNodeType(rd);
		const char *name =
		    (const char *)xmlTextReaderConstLocalName(rd);
		if (!name)
			continue;
		if (!strcmp(name, "Credentials")) {
			if (type == XML_READER_TYPE_ELEMENT &&
			    !xmlTextReaderIsEmptyElement(rd))
				in_creds = 1;
			else if (type == XML_READER_TYPE_END_ELEMENT)
				in_creds = 0;
			continue;
		}
		if (!in_creds || type != XML_READER_TYPE_ELEMENT)
			continue;
		for (size_t i = 0; i < ARRAY_SIZE(names); i++) {
			if (strcmp(name, names[i]) || vals[i])
				continue;
			xmlChar *t = xmlTextReaderReadString(rd);
			if (t) {
				vals[i] = xstrdup((const char *)t);
				memset(t, 0, strlen((const char *)t));
				xmlFree(t);
			}
		}
	}
	if (rd)
		xmlFreeTextReader(rd);
	if (!vals[0] || !vals[1] || !vals[2]) {
		rc =
		    elava_error_set(err, ELAVA_E_PARSE,
				    "sts %s: response without credentials", op);
		goto out;
	}
	if (vals[3] && time_parse_rfc3339(vals[3], &c->expires_ns)) {
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "sts %s: Expiration is not an RFC 3339 "
				     "time",
				     op);
		goto out;
	}
	c->access_key = vals[0];
	c->secret_key = vals[1];
	c->session_token = vals[2];
	vals[0] = vals[1] = vals[2] = NULL;
out:
	for (size_t i = 0; i < ARRAY_SIZE(vals); i++) {
		if (vals[i])
			memset(vals[i], 0, strlen(vals[i]));
		xfree(vals[i]);
	}
	if (rc)
		c->expires_ns = 0;
	return rc;
}

static int sts_call(const struct aws_creds *signer, const char *op,
		    const char *region, const struct buf *body,
		    const atomic_bool *cancel, struct aws_stats *stats,
		    struct aws_creds *c, struct elava_error *err)
{
	struct aws_client_options co = {0};
	struct aws_client *cl = NULL;
	struct aws_request r = {0};
	struct aws_response resp;
	int rc;

	co.max_attempts = 3;
	co.request_timeout_ms = 10000;
	co.max_body = (size_t)1 << 20;
	co.cancel = cancel;
	co.stats = stats;
	aws_response_init(&resp);
	rc = aws_client_new(&co, signer, &cl, err);
	if (rc)
		goto out;
	r.operation = op;
	r.service = "sts";
	r.env_id = "STS";
	r.region = region;
	r.method = "POST";
	r.path = "/";
	r.body = body->data;
	r.body_len = body->len;
	r.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	rc = aws_client_send(cl, &r, &resp, err);
	if (!rc)
		rc = parse_credentials(resp.body.data ? resp.body.data : "",
				       resp.body.len, op, c, err);
out:
	if (resp.body.data)
		memset(resp.body.data, 0, resp.body.len);
	aws_response_release(&resp);
	aws_client_free(&cl);
	return rc;
}

static int start_body(struct buf *b, const char *action, const char *role_arn,
		      const char *session)
{
	char def[64];

	if (!session || !*session) {
		snprintf(def, sizeof(def), "elava-%ld", (long)getpid());
		session = def;
	}
	if (buf_printf(b, "Action=%s&Version=2011-06-15&RoleArn=", action) ||
	    form_escape(b, role_arn) || buf_puts(b, "&RoleSessionName=") ||
	    form_escape(b, session))
		return ELAVA_E_TOOBIG;
	return 0;
}

int aws_sts_assume_role(const struct aws_creds *src, const char *role_arn,
			const char *session, const char *region,
			const atomic_bool *cancel, struct aws_stats *stats,
			struct aws_creds *c, struct elava_error *err)
{
	struct buf body;
	int rc;

	memset(c, 0, sizeof(*c));
	buf_init(&body, (size_t)64 << 10);
	if (start_body(&body, "AssumeRole", role_arn, session))
		rc = elava_error_set(err, ELAVA_E_TOOBIG,
				     "sts AssumeRole: request too large");
	else
		rc = sts_call(src, "AssumeRole", region, &body, cancel, stats,
			      c, err);
	if (rc)
		elava_error_prefix(err, "cannot assume role '%s'", role_arn);
	else
		c->source = "assume-role";
	buf_release(&body);
	return rc;
}

static int read_token(const char *path, struct buf *tok,
		      struct elava_error *err)
{
	FILE *f = fopen(path, "rb");
	char chunk[1024];
	size_t n;
	int rc = 0;

	if (!f)
		return elava_error_set(err, ELAVA_E_IO,
				       "cannot open web identity token file "
				       "'%s'",
				       path);
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0)
		if (buf_append(tok, chunk, n)) {
			rc = elava_error_set(
			    err, ELAVA_E_TOOBIG,
			    "web identity token file '%s' is larger than %zu "
			    "bytes",
			    path, TOKEN_MAX);
			break;
		}
	memset(chunk, 0, sizeof(chunk));
	fclose(f);
	while (!rc && tok->len &&
	       (tok->data[tok->len - 1] == '\n' ||
		tok->data[tok->len - 1] == '\r' ||
		tok->data[tok->len - 1] == ' '))
		tok->data[--tok->len] = '\0';
	if (!rc && !tok->len)
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "web identity token file '%s' is empty",
				     path);
	return rc;
}

int aws_sts_assume_role_web_identity(
    const char *token_file, const char *role_arn, const char *session,
    const char *region, const atomic_bool *cancel, struct aws_stats *stats,
    struct aws_creds *c, struct elava_error *err)
{
	/* See the file comment: AWS does not check this signature. */
	struct aws_creds dummy = {(char *)"ELAVAUNSIGNED", (char *)"unsigned",
				  NULL, 0, NULL};
	struct buf tok, body;
	int rc;

	memset(c, 0, sizeof(*c));
	buf_init(&tok, TOKEN_MAX);
	buf_init(&body, TOKEN_MAX * 4);
	rc = read_token(token_file, &tok, err);
	if (rc)
		goto out;
	if (start_body(&body, "AssumeRoleWithWebIdentity", role_arn, session) ||
	    buf_puts(&body, "&WebIdentityToken=") ||
	    form_escape(&body, tok.data)) {
		rc = elava_error_set(
		    err, ELAVA_E_TOOBIG,
		    "sts AssumeRoleWithWebIdentity: request too large");
		goto out;
	}
	rc = sts_call(&dummy, "AssumeRoleWithWebIdentity", region, &body,
		      cancel, stats, c, err);
	if (!rc)
		c->source = "web-identity";
out:
	if (rc)
		elava_error_prefix(err,
				   "cannot assume role '%s' with web "
				   "identity",
				   role_arn);
	if (tok.data)
		memset(tok.data, 0, tok.len);
	if (body.data)
		memset(body.data, 0, body.len);
	buf_release(&tok);
	buf_release(&body);
	return rc;
}
