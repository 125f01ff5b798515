/*
 * The AWS provider: credentials, the account (STS GetCallerIdentity), and
 * provider_list over (region × type) with one lister per type. Each listing
 * ends with a status, so a failed one never makes its resources look gone.
 */
#include "list_int.h"
#include "provider/provider_int.h"

#include <stdlib.h>
#include <string.h>

struct aws_provider {
	struct provider base;
	struct aws_client *client;
	char *account;
	char *region;
	atomic_bool cancel;
	const char **types; /* NULL-terminated */
};

static int whoami(struct aws_provider *p, struct elava_error *err)
{
	struct aws_request r = {0};
	struct aws_response resp;
	static const char body[] =
	    "Action=GetCallerIdentity&Version=2011-06-15";
	int rc;

	aws_response_init(&resp);
	r.operation = "GetCallerIdentity";
	r.service = "sts";
	r.env_id = "STS";
	r.region = p->region;
	r.method = "POST";
	r.body = body;
	r.body_len = sizeof(body) - 1;
	r.content_type = "application/x-www-form-urlencoded; charset=utf-8";
	rc = aws_client_send(p->client, &r, &resp, err);
	if (!rc) {
		xmlDocPtr doc = xmlReadMemory(
		    resp.body.data, (int)resp.body.len, NULL, NULL,
		    XML_PARSE_NONET | XML_PARSE_NOERROR | XML_PARSE_NOWARNING);
		struct buf acct = BUF_INIT;
		buf_init(&acct, 0);
		if (doc &&
		    aws_xml_text(xmlDocGetRootElement(doc),
				 "GetCallerIdentityResult/Account", &acct) &&
		    acct.len)
			p->account = buf_detach(&acct, NULL);
		else
			rc =
			    elava_error_set(err, ELAVA_E_PARSE,
					    "sts GetCallerIdentity: no account "
					    "in the response");
		buf_release(&acct);
		xmlFreeDoc(doc);
	}
	aws_response_release(&resp);
	return rc;
}

static bool wanted(const struct provider_scope *s, const char *type)
{
	if (!s || !s->ntypes)
		return true;
	for (size_t i = 0; i < s->ntypes; i++)
		if (!strcmp(s->types[i], type))
			return true;
	return false;
}

static int aws_list(struct provider *base, const struct provider_scope *scope,
		    const struct provider_callbacks *cb,
		    struct elava_error *err)
{
	struct aws_provider *p = (struct aws_provider *)base;
	const char *const one[] = {p->region};
	const char *const *regions =
	    scope && scope->nregions ? scope->regions : one;
	size_t nregions = scope && scope->nregions ? scope->nregions : 1;

	atomic_store(&p->cancel, false);
	for (size_t g = 0; g < nregions; g++) {
		for (const struct aws_lister *l = aws_listers; l->type; l++) {
			struct aws_list_ctx lc;
			struct elava_error lerr = {0};
			struct provider_listing done;
			struct buf scope_name = BUF_INIT;
			int rc;

			if (!wanted(scope, l->type))
				continue;
			if (atomic_load(&p->cancel))
				return elava_error_set(err, ELAVA_E_CANCELLED,
						       "listing cancelled");
			memset(&lc, 0, sizeof(lc));
			lc.client = p->client;
			lc.account = p->account;
			lc.region = regions[g];
			lc.type = l->type;
			lc.cb = cb;
			resource_init(&lc.r);
			buf_init(&lc.text, 0);
			buf_init(&lc.key, 0);
			buf_init(&scope_name, 0);
			rc = l->list(&lc, &lerr);
			buf_printf(&scope_name, "aws:%s:%s:%s", p->account,
				   regions[g], l->type);
			memset(&done, 0, sizeof(done));
			done.scope = scope_name.data;
			done.account = p->account;
			done.region = regions[g];
			done.type = l->type;
			done.status = rc < 0 ? rc : 0;
			done.err = rc < 0 ? &lerr : NULL;
			done.resources = lc.resources;
			done.pages = lc.pages;
			if (rc >= 0 && lc.stop == 0 && cb && cb->listing_done)
				cb->listing_done(&done, cb->ud);
			else if (rc < 0 && cb && cb->listing_done)
				cb->listing_done(&done, cb->ud);
			resource_release(&lc.r);
			buf_release(&lc.text);
			buf_release(&lc.key);
			buf_release(&scope_name);
			if (lc.stop)
				return lc.stop;
			if (rc == ELAVA_E_CANCELLED)
				return elava_error_set(err, rc,
						       "listing cancelled");
		}
	}
	return 0;
}

static const char *const *aws_types(const struct provider *base)
{
	return ((const struct aws_provider *)base)->types;
}

static void aws_cancel(struct provider *base)
{
	atomic_store(&((struct aws_provider *)base)->cancel, true);
}

static void aws_destroy(struct provider *base)
{
	struct aws_provider *p = (struct aws_provider *)base;

	aws_client_free(&p->client);
	xfree(p->account);
	xfree(p->region);
	xfree(p->types);
	xfree(p);
}

static const struct provider_ops aws_ops = {
    aws_list,
    aws_types,
    aws_cancel,
    aws_destroy,
};

int provider_aws_new(const struct provider_aws_options *o,
		     struct provider **out, struct elava_error *err)
{
	struct aws_client_options co = {0};
	struct aws_creds creds = {0};
	struct aws_creds_options cro = {0};
	struct aws_provider *p;
	const char *region = o && o->region ? o->region : NULL;
	size_t n = 0;
	int rc;

	*out = NULL;
	if (!region || !*region)
		region = getenv("AWS_REGION");
	if (!region || !*region)
		region = getenv("AWS_DEFAULT_REGION");
	if (!region || !*region)
		region = "us-east-1";
	/* The standard chain: environment, profile, web identity, container,
	 * instance metadata. */
	cro.region = region;
	if ((rc = aws_creds_resolve(&cro, &creds, err)))
		return rc;
	p = xcalloc(1, sizeof(*p));
	p->base.ops = &aws_ops;
	p->region = xstrdup(region);
	atomic_init(&p->cancel, false);
	co.request_timeout_ms = o ? o->request_timeout_ms : 0;
	co.max_attempts = o ? o->max_attempts : 0;
	co.cancel = &p->cancel;
	rc = aws_client_new(&co, &creds, &p->client, err);
	aws_creds_clear(&creds);
	if (!rc)
		rc = whoami(p, err);
	if (rc) {
		aws_destroy(&p->base);
		return rc;
	}
	while (aws_listers[n].type)
		n++;
	p->types = xcalloc(n + 1, sizeof(*p->types));
	for (size_t i = 0; i < n; i++)
		p->types[i] = aws_listers[i].type;
	*out = &p->base;
	return 0;
}
