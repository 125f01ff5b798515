/*
 * Shared plumbing of the AWS listers: building records and related keys,
 * query encoding, the page-loop guard, and the table of listers.
 */
#include "list_int.h"

#include <string.h>

const struct aws_lister aws_listers[] = {
    {"ec2_instance", aws_list_ec2_instances},
    {NULL, NULL},
};

void aws_record_begin(struct aws_list_ctx *lc, const char *id)
{
	resource_release(&lc->r);
	resource_init(&lc->r);
	resource_set(&lc->r.provider, "aws");
	resource_set(&lc->r.account, lc->account);
	resource_set(&lc->r.region, lc->region);
	resource_set(&lc->r.type, lc->type);
	resource_set(&lc->r.id, id);
}

int aws_record_emit(struct aws_list_ctx *lc)
{
	const char *name = resource_tag_get(&lc->r, "Name");

	if (!lc->r.name && name)
		resource_set(&lc->r.name, name);
	lc->resources++;
	if (lc->cb && lc->cb->resource)
		lc->stop = lc->cb->resource(&lc->r, lc->cb->ud);
	return lc->stop;
}

const char *aws_related_key(struct aws_list_ctx *lc, const char *type,
			    const char *id)
{
	buf_reset(&lc->key);
	buf_printf(&lc->key, "aws:%s:%s:%s:%s", lc->account, lc->region, type,
		   id);
	return lc->key.data;
}

int aws_query_param(struct buf *b, const char *key, const char *value)
{
	static const char hexd[] = "0123456789ABCDEF";
	int rc = 0;

	if (b->len)
		rc = buf_putc(b, '&');
	if (!rc)
		rc = buf_puts(b, key);
	if (!rc)
		rc = buf_putc(b, '=');
	for (const unsigned char *p = (const unsigned char *)value; *p && !rc;
	     p++) {
		if ((*p >= 'A' && *p <= 'Z') || (*p >= 'a' && *p <= 'z') ||
		    (*p >= '0' && *p <= '9') || *p == '-' || *p == '_' ||
		    *p == '.' || *p == '~') {
			rc = buf_putc(b, (char)*p);
		} else {
			char esc[3] = {'%', hexd[*p >> 4], hexd[*p & 15]};
			rc = buf_append(b, esc, 3);
		}
	}
	return rc;
}

int aws_page_guard_check(struct aws_page_guard *g, const char *token,
			 struct aws_list_ctx *lc, struct elava_error *err)
{
	uint64_t h[2];

	if (lc->pages >= AWS_MAX_PAGES)
		return elava_error_set(err, ELAVA_E_REMOTE,
				       "%s in %s: more than %d pages; giving "
				       "up",
				       lc->type, lc->region, AWS_MAX_PAGES);
	hash128(token, strlen(token), 0, h);
	for (size_t i = 0; i < g->n; i++)
		if (g->seen[i] == h[0])
			return elava_error_set(
			    err, ELAVA_E_REMOTE,
			    "%s in %s: the service returned a continuation "
			    "token it had already returned (page %zu): the "
			    "listing would never end",
			    lc->type, lc->region, lc->pages);
	if (g->n == g->cap) {
		g->cap = g->cap ? g->cap * 2 : 64;
		g->seen = xrealloc(g->seen, st_mult(g->cap, sizeof(*g->seen)));
	}
	g->seen[g->n++] = h[0];
	return 0;
}

void aws_page_guard_release(struct aws_page_guard *g)
{
	xfree(g->seen);
	memset(g, 0, sizeof(*g));
}
