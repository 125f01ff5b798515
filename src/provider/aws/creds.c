/*
 * AWS credentials: the value type and the first link of the standard
 * chain, the environment. Secrets are zeroed before they are freed and are
 * never put in an error message.
 */
#include "aws_int.h"

#include <stdlib.h>
#include <string.h>

static void wipe(char **p)
{
	if (!*p)
		return;
	/* volatile so the compiler cannot drop the wipe before the free */
	for (volatile char *q = *p; *q; q++)
		*q = '\0';
	xfree(*p);
	*p = NULL;
}

void aws_creds_clear(struct aws_creds *c)
{
	xfree(c->access_key);
	c->access_key = NULL;
	wipe(&c->secret_key);
	wipe(&c->session_token);
	c->expires_ns = 0;
	c->source = NULL;
}

void aws_creds_copy(struct aws_creds *dst, const struct aws_creds *src)
{
	dst->access_key = src->access_key ? xstrdup(src->access_key) : NULL;
	dst->secret_key = src->secret_key ? xstrdup(src->secret_key) : NULL;
	dst->session_token =
	    src->session_token ? xstrdup(src->session_token) : NULL;
	dst->expires_ns = src->expires_ns;
	dst->source = src->source;
}

int aws_creds_from_env(struct aws_creds *c, struct elava_error *err)
{
	const char *ak = getenv("AWS_ACCESS_KEY_ID");
	const char *sk = getenv("AWS_SECRET_ACCESS_KEY");
	const char *tok = getenv("AWS_SESSION_TOKEN");

	memset(c, 0, sizeof(*c));
	if ((!ak || !*ak) && (!sk || !*sk))
		return elava_error_set(err, ELAVA_E_NOTFOUND,
				       "no credentials in the environment");
	if (!ak || !*ak || !sk || !*sk)
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "incomplete credentials in the environment: %s is "
		    "set but %s is not",
		    ak && *ak ? "AWS_ACCESS_KEY_ID" : "AWS_SECRET_ACCESS_KEY",
		    ak && *ak ? "AWS_SECRET_ACCESS_KEY" : "AWS_ACCESS_KEY_ID");
	c->access_key = xstrdup(ak);
	c->secret_key = xstrdup(sk);
	c->session_token = tok && *tok ? xstrdup(tok) : NULL;
	c->source = "environment";
	return 0;
}

bool aws_creds_expiring(const struct aws_creds *c, int64_t now_ns)
{
	const int64_t margin = (int64_t)5 * 60 * 1000000000;

	return c->expires_ns != 0 && now_ns >= c->expires_ns - margin;
}

static const char *json_str(const struct ejson *doc, const char *key)
{
	const char *s = ejson_string_value(ejson_object_get(doc, key));

	return s && *s ? s : NULL;
}

int aws_creds_from_json(const char *doc, size_t len, const char *token_key,
			const char *what, struct aws_creds *c,
			struct elava_error *err)
{
	struct ejson *v = NULL;
	const char *ak, *sk, *tok, *exp;
	int64_t exp_ns = 0;
	int rc = 0;

	memset(c, 0, sizeof(*c));
	/* ejson's own message could quote the document: not passed on */
	if (ejson_parse(doc, len, &v, NULL) ||
	    ejson_typeof(v) != EJSON_OBJECT) {
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "%s: credentials are not a JSON object",
				     what);
		goto out;
	}
	ak = json_str(v, "AccessKeyId");
	sk = json_str(v, "SecretAccessKey");
	tok = json_str(v, token_key);
	exp = json_str(v, "Expiration");
	if (!ak || !sk) {
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "%s: credentials without %s", what,
				     ak ? "SecretAccessKey" : "AccessKeyId");
		goto out;
	}
	if (exp && time_parse_rfc3339(exp, &exp_ns)) {
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "%s: Expiration is not an RFC 3339 time",
				     what);
		goto out;
	}
	c->access_key = xstrdup(ak);
	c->secret_key = xstrdup(sk);
	c->session_token = tok ? xstrdup(tok) : NULL;
	c->expires_ns = exp_ns;
out:
	ejson_free(&v);
	return rc;
}
