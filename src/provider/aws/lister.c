/*
 * The one engine that lists every type: builds each page's request for
 * the type's protocol, follows the continuation token (refusing a token
 * seen before), walks the records of a page — XML streamed record by
 * record, JSON one page at a time — and turns each record into a struct
 * resource by the type's table of paths.
 */
#include "list_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static const struct aws_type *const tables[] = {
    aws_types_ec2,
    aws_types_query,
    aws_types_json,
};

size_t aws_type_count(void)
{
	size_t n = 0;

	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		for (const struct aws_type *t = tables[i]; t->type; t++)
			n++;
	return n;
}

const struct aws_type *aws_type_at(size_t at)
{
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		for (const struct aws_type *t = tables[i]; t->type; t++)
			if (!at--)
				return t;
	return NULL;
}

const struct aws_type *aws_type_find(const char *type)
{
	for (size_t i = 0; i < ARRAY_SIZE(tables); i++)
		for (const struct aws_type *t = tables[i]; t->type; t++)
			if (!strcmp(t->type, type))
				return t;
	return NULL;
}

/* ---------------------------------------------------------------- records */

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

	/* The Name tag names a resource, over its own name field. */
	if (name && (*name || !lc->r.name))
		resource_set(&lc->r.name, name);
	lc->resources++;
	if (lc->emit)
		lc->stop = lc->emit(lc, &lc->r);
	return lc->stop;
}

const char *aws_related_key(struct aws_list_ctx *lc, const char *type,
			    const char *id)
{
	const struct aws_type *t = aws_type_find(type);
	const char *region =
	    t && (t->flags & AWS_GLOBAL) ? "global" : lc->region;

	buf_reset(&lc->key);
	buf_printf(&lc->key, "aws:%s:%s:%s:%s", lc->account, region, type, id);
	return lc->key.data;
}

void aws_attr_str(struct aws_list_ctx *lc, const char *name, const char *s)
{
	struct ejson *v = ejson_string(s, strlen(s));

	if (v)
		ejson_object_set_take(lc->r.attributes, name, v);
}

struct strs {
	struct aws_list_ctx *lc;
	struct ejson *arr;
	const struct aws_rel *rel;
};

static int collect_str(const struct aws_node *n, void *ud)
{
	struct strs *s = ud;
	struct aws_node self = *n;
	struct ejson *v;

	if (!aws_node_text(&self, "", &s->lc->text) || !s->lc->text.len)
		return 0;
	if (s->rel) {
		resource_rel_add(
		    &s->lc->r, s->rel->rel,
		    aws_related_key(s->lc, s->rel->type, s->lc->text.data));
		return 0;
	}
	v = ejson_string(s->lc->text.data, s->lc->text.len);
	if (v)
		ejson_array_append_take(s->arr, v);
	return 0;
}

static void set_field(struct aws_list_ctx *lc, const struct aws_node *n,
		      const struct aws_field *f)
{
	struct ejson *v = NULL;
	int64_t t;

	if (f->kind == AWS_STRS) {
		struct strs s = {lc, ejson_array(), NULL};
		aws_node_each(n, f->path, collect_str, &s);
		ejson_object_set_take(lc->r.attributes, f->name, s.arr);
		return;
	}
	if (!aws_node_text(n, f->path, &lc->text)) {
		if (f->kind == AWS_EXISTS)
			ejson_object_set_take(lc->r.attributes, f->name,
					      ejson_bool(false));
		return;
	}
	switch (f->kind) {
	case AWS_STR:
		if (lc->text.len)
			v = ejson_string(lc->text.data, lc->text.len);
		break;
	case AWS_BOOL: v = ejson_bool(!strcmp(lc->text.data, "true")); break;
	case AWS_INT: {
		char *end;
		long long i = strtoll(lc->text.data, &end, 10);
		if (lc->text.len && (!*end || *end == '.'))
			v = ejson_int(i);
		break;
	}
	case AWS_TIME:
		if (!aws_time_parse(lc->text.data, &t)) {
			char s[TIME_RFC3339_LEN];
			time_format_rfc3339(t, s);
			v = ejson_string(s, strlen(s));
		}
		break;
	case AWS_EXISTS: v = ejson_bool(lc->text.len > 0); break;
	case AWS_STRS: break;
	}
	if (v)
		ejson_object_set_take(lc->r.attributes, f->name, v);
}

static int tag_item(const struct aws_node *n, void *ud)
{
	struct aws_list_ctx *lc = ud;
	struct buf k = BUF_INIT;

	buf_init(&k, 0);
	if (aws_node_text(n, lc->t->tags.key, &k) && k.len &&
	    aws_node_text(n, lc->t->tags.value, &lc->text))
		resource_tag_set(&lc->r, k.data, lc->text.data);
	buf_release(&k);
	return 0;
}

static void set_tags(struct aws_list_ctx *lc, const struct aws_node *n)
{
	const struct aws_tags *tg = &lc->t->tags;
	struct aws_node map;
	const char **keys;
	size_t nk;

	if (!tg->path)
		return;
	if (tg->key) {
		aws_node_each(n, tg->path, tag_item, lc);
		return;
	}
	if (!aws_node_get(n, tg->path, &map) || !map.j ||
	    ejson_typeof(map.j) != EJSON_OBJECT)
		return;
	keys = ejson_object_sorted_keys(map.j, &nk);
	for (size_t i = 0; i < nk; i++) {
		const char *v =
		    ejson_string_value(ejson_object_get(map.j, keys[i]));
		if (v)
			resource_tag_set(&lc->r, keys[i], v);
	}
	xfree(keys);
}

/* A record of the listing: the table's fields, then the type's hook. */
static int on_record(const struct aws_node *item, void *ud)
{
	struct aws_list_ctx *lc = ud;
	const struct aws_type *t = lc->t;
	struct aws_doc doc = {0};
	struct aws_node full = *item;
	int64_t ns;
	int rc = 0;

	if (t->expand)
		rc = t->expand(lc, item, &doc, &full, lc->err);
	if (rc || !aws_node_text(&full, t->id, &lc->text) || !lc->text.len)
		goto out;
	aws_record_begin(lc, lc->text.data);
	if (t->name && aws_node_text(&full, t->name, &lc->text) && lc->text.len)
		resource_set(&lc->r.name, lc->text.data);
	if (t->status && aws_node_text(&full, t->status, &lc->text) &&
	    lc->text.len)
		resource_set(&lc->r.status, lc->text.data);
	if (t->created && aws_node_text(&full, t->created, &lc->text) &&
	    !aws_time_parse(lc->text.data, &ns))
		lc->r.created_at_ns = ns;
	set_tags(lc, &full);
	for (const struct aws_field *f = t->fields; f && f->name; f++)
		set_field(lc, &full, f);
	for (const struct aws_rel *rl = t->rels; rl && rl->rel; rl++) {
		struct strs s = {lc, NULL, rl};
		aws_node_each(&full, rl->path, collect_str, &s);
	}
	if (t->enrich)
		rc = t->enrich(lc, &full, lc->err);
	if (!rc)
		rc = aws_record_emit(lc);
out:
	/* A record deleted between the list and its describe is gone. */
	if (rc == ELAVA_E_NOTFOUND)
		rc = 0;
	aws_doc_release(&doc);
	return rc;
}

static int on_xml_record(const struct aws_xel *n, void *ud)
{
	struct aws_node item = {n, NULL};

	return on_record(&item, ud);
}

/* --------------------------------------------------------------- requests */

int aws_uri_encode(struct buf *b, const char *s)
{
	static const char hexd[] = "0123456789ABCDEF";
	int rc = buf_grow(b, 0);

	for (const unsigned char *p = (const unsigned char *)s; *p && !rc;
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

int aws_query_param(struct buf *b, const char *key, const char *value)
{
	int rc = 0;

	if (b->len)
		rc = buf_putc(b, '&');
	if (!rc)
		rc = buf_puts(b, key);
	if (!rc)
		rc = buf_putc(b, '=');
	return rc ? rc : aws_uri_encode(b, value);
}

static void base64(const uint8_t *in, size_t n, char *out)
{
	static const char abc[] =
	    "ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789+/";
	size_t o = 0;

	for (size_t i = 0; i < n; i += 3) {
		uint32_t v = (uint32_t)in[i] << 16;
		if (i + 1 < n)
			v |= (uint32_t)in[i + 1] << 8;
		if (i + 2 < n)
			v |= in[i + 2];
		out[o++] = abc[v >> 18 & 63];
		out[o++] = abc[v >> 12 & 63];
		out[o++] = i + 1 < n ? abc[v >> 6 & 63] : '=';
		out[o++] = i + 2 < n ? abc[v & 63] : '=';
	}
	out[o] = '\0';
}

bool aws_protocol_xml(const struct aws_service *svc)
{
	return svc->protocol == AWS_PROTO_EC2 ||
	       svc->protocol == AWS_PROTO_QUERY ||
	       svc->protocol == AWS_PROTO_REST_XML;
}

int aws_send(struct aws_client *client, const struct aws_write *w,
	     struct aws_response *resp, struct elava_error *err)
{
	const struct aws_service *svc = w->svc;
	struct aws_request r = {0};
	struct buf body, target, ctype, sum_hdr;
	const char *headers[3] = {NULL};
	size_t nh = 0;
	int rc = 0;

	buf_init(&body, 0);
	buf_init(&target, 0);
	buf_init(&ctype, 0);
	buf_init(&sum_hdr, 0);
	r.operation = w->operation;
	r.service = svc->name;
	r.env_id = svc->env_id;
	r.region = svc->global ? "us-east-1" : w->region;
	r.method = w->method ? w->method : "POST";
	switch (svc->protocol) {
	case AWS_PROTO_EC2:
	case AWS_PROTO_QUERY:
		rc = aws_query_param(&body, "Action", w->operation);
		if (!rc)
			rc = aws_query_param(&body, "Version", svc->version);
		if (!rc && w->form && *w->form)
			rc = buf_putc(&body, '&') || buf_puts(&body, w->form);
		r.content_type =
		    "application/x-www-form-urlencoded; charset=utf-8";
		break;
	case AWS_PROTO_JSON:
		rc = w->json ? ejson_dump_canonical(w->json, &body)
			     : buf_puts(&body, "{}");
		if (!rc)
			rc = buf_printf(&target, "%s.%s", svc->target,
					w->operation) ||
			     buf_printf(&ctype, "application/x-amz-json-%s",
					svc->json_version);
		r.amz_target = target.data;
		r.content_type = ctype.data;
		break;
	case AWS_PROTO_REST_JSON:
	case AWS_PROTO_REST_XML:
		r.path = w->path ? w->path : "/";
		r.query = w->query;
		if (w->json) {
			rc = ejson_dump_canonical(w->json, &body);
			r.content_type = "application/json";
		} else if (w->body) {
			rc = buf_append(&body, w->body, w->body_len);
			r.content_type = w->content_type;
		}
		r.method = w->method ? w->method : body.len ? "POST" : "GET";
		if (svc == &aws_svc_s3 && w->checksum && !rc) {
			/* The transport adds x-amz-content-sha256; the calls
			 * whose model says requestChecksumRequired want the
			 * body's checksum too. */
			uint8_t h[SHA256_LEN];
			char b64[48];
			sha256(body.len ? body.data : "", body.len, h);
			base64(h, SHA256_LEN, b64);
			rc = buf_printf(&sum_hdr, "x-amz-checksum-sha256: %s",
					b64);
			headers[nh++] = sum_hdr.data;
			headers[nh++] = "x-amz-sdk-checksum-algorithm: SHA256";
		}
		break;
	}
	r.headers = nh ? headers : NULL;
	if (body.len) {
		r.body = body.data;
		r.body_len = body.len;
	}
	if (rc) {
		rc = elava_error_set(err, rc < 0 ? rc : ELAVA_E_TOOBIG,
				     "%s %s: cannot build the request",
				     svc->name, w->operation);
		goto out;
	}
	rc = aws_client_send(client, &r, resp, err);
out:
	buf_release(&body);
	buf_release(&target);
	buf_release(&ctype);
	buf_release(&sum_hdr);
	return rc;
}

/* Paging parameters a request adds to the fixed ones; values may be NULL. */
struct page_args {
	const char *size_param, *size;
	const char *token_param, *token;
};

/* The fixed JSON parameters with the paging ones added. */
static int json_params(const char *params, const struct page_args *pa,
		       struct ejson **out, struct elava_error *err)
{
	struct ejson *o = NULL;

	*out = NULL;
	if (ejson_parse(params ? params : "{}", strlen(params ? params : "{}"),
			&o, err))
		return elava_error_prefix(err, "request parameters");
	if (pa->size_param && pa->size)
		ejson_object_set_take(o, pa->size_param,
				      ejson_int(strtoll(pa->size, NULL, 10)));
	if (pa->token_param && pa->token && *pa->token) {
		struct ejson *v = ejson_string(pa->token, strlen(pa->token));
		if (!v) {
			ejson_free(&o);
			return elava_error_set(err, ELAVA_E_PARSE,
					       "continuation token is not "
					       "UTF-8");
		}
		ejson_object_set_take(o, pa->token_param, v);
	}
	*out = o;
	return 0;
}

/* A list or describe call: the table's fixed parameters plus paging. */
static int send_call(struct aws_list_ctx *lc, const struct aws_service *svc,
		     const char *region, const char *method,
		     const char *operation, const char *params,
		     const struct page_args *pa, struct aws_response *resp,
		     struct elava_error *err)
{
	static const struct page_args none = {0};
	struct aws_write w = {0};
	struct ejson *json = NULL;
	struct buf form, path, query;
	const char *q;
	int rc = 0;

	if (!pa)
		pa = &none;
	buf_init(&form, 0);
	buf_init(&path, 0);
	buf_init(&query, 0);
	w.svc = svc;
	w.region = region;
	w.method = method;
	w.operation = operation;
	switch (svc->protocol) {
	case AWS_PROTO_EC2:
	case AWS_PROTO_QUERY:
		if (params && *params)
			buf_puts(&form, params);
		if (pa->size_param && pa->size)
			aws_query_param(&form, pa->size_param, pa->size);
		if (pa->token_param && pa->token && *pa->token)
			aws_query_param(&form, pa->token_param, pa->token);
		w.form = form.data;
		break;
	case AWS_PROTO_JSON:
		rc = json_params(params, pa, &json, err);
		w.json = json;
		break;
	case AWS_PROTO_REST_JSON:
	case AWS_PROTO_REST_XML:
		q = params ? strchr(params, '?') : NULL;
		buf_append(&path, params ? params : "/",
			   q ? (size_t)(q - params)
			     : strlen(params ? params : "/"));
		if (q)
			buf_puts(&query, q + 1);
		if (pa->size_param && pa->size)
			aws_query_param(&query, pa->size_param, pa->size);
		if (pa->token_param && pa->token && *pa->token)
			aws_query_param(&query, pa->token_param, pa->token);
		w.path = path.data;
		w.query = query.len ? query.data : NULL;
		break;
	}
	if (!rc)
		rc = aws_send(lc->client, &w, resp, err);
	ejson_free(&json);
	buf_release(&form);
	buf_release(&path);
	buf_release(&query);
	return rc;
}

int aws_call(struct aws_list_ctx *lc, const struct aws_service *svc,
	     const char *region, const char *method, const char *operation,
	     const char *params, struct aws_doc *doc, struct elava_error *err)
{
	struct aws_response resp;
	int rc;

	memset(doc, 0, sizeof(*doc));
	lc->error_code[0] = '\0';
	if (!lc->client)
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "%s %s: no client to call with",
				       svc->name, operation);
	aws_response_init(&resp);
	rc = send_call(lc, svc, region ? region : lc->region, method, operation,
		       params, NULL, &resp, err);
	if (rc)
		snprintf(lc->error_code, sizeof(lc->error_code), "%s",
			 resp.error_code);
	if (!rc)
		rc = aws_doc_parse(resp.body.data, resp.body.len,
				   aws_protocol_xml(svc), doc, err);
	if (rc < 0 && rc != ELAVA_E_NOTFOUND)
		elava_error_prefix(err, "%s %s", svc->name, operation);
	aws_response_release(&resp);
	return rc;
}

/* ---------------------------------------------------------------- paging */

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

int aws_list_page(struct aws_list_ctx *lc, const char *body, size_t len,
		  struct buf *token, struct elava_error *err)
{
	const struct aws_type *t = lc->t;
	struct aws_doc doc;
	char parent[128];
	const char *slash;
	int rc;

	if (aws_protocol_xml(t->svc)) {
		slash = strchr(t->items, '/');
		if (!slash || (size_t)(slash - t->items) >= sizeof(parent))
			return elava_error_set(err, ELAVA_E_INVAL,
					       "%s: bad items path", t->type);
		memcpy(parent, t->items, (size_t)(slash - t->items));
		parent[slash - t->items] = '\0';
		return aws_xml_walk(body, len, parent, slash + 1, on_xml_record,
				    lc, t->token_out ? token : NULL,
				    t->token_out, err);
	}
	buf_reset(token);
	if ((rc = aws_doc_parse(body, len, false, &doc, err)))
		return rc;
	if (t->token_out)
		aws_node_text(&doc.root, t->token_out, token);
	rc = aws_node_each(&doc.root, t->items, on_record, lc);
	aws_doc_release(&doc);
	return rc;
}

int aws_list_type(struct aws_list_ctx *lc, struct elava_error *err)
{
	const struct aws_type *t = lc->t;
	struct aws_page_guard guard = {0};
	struct aws_response resp;
	struct buf token;
	int rc = 0;

	lc->err = err;
	aws_response_init(&resp);
	buf_init(&token, 0);
	do {
		struct page_args pa = {t->page_param, t->page_size, t->token_in,
				       token.data};
		if ((rc = send_call(lc, t->svc, lc->region, NULL, t->operation,
				    t->params, &pa, &resp, err)))
			break;
		lc->pages++;
		rc = aws_list_page(lc, resp.body.data, resp.body.len, &token,
				   err);
		if (rc < 0)
			elava_error_prefix(err, "%s %s in %s (page %zu)",
					   t->svc->name, t->operation,
					   lc->region, lc->pages);
		if (rc)
			break;
		if (!t->token_in)
			buf_reset(&token);
		if (token.len &&
		    (rc = aws_page_guard_check(&guard, token.data, lc, err)))
			break;
	} while (token.len);
	aws_page_guard_release(&guard);
	aws_response_release(&resp);
	buf_release(&token);
	return rc;
}

void aws_list_ctx_init(struct aws_list_ctx *lc, struct aws_client *client,
		       const char *account, const char *region)
{
	memset(lc, 0, sizeof(*lc));
	lc->client = client;
	lc->account = account;
	lc->region = region;
	resource_init(&lc->r);
	buf_init(&lc->text, 0);
	buf_init(&lc->key, 0);
}

void aws_list_ctx_release(struct aws_list_ctx *lc)
{
	resource_release(&lc->r);
	buf_release(&lc->text);
	buf_release(&lc->key);
	xfree(lc->counts);
	lc->counts = NULL;
	lc->ncounts = 0;
}
