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
