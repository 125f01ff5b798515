/*
 * The /api/v1 endpoints: the store, read-only, as JSON over HTTP. Every
 * item is the object the CLI prints with --output json (docs/cli.md): a
 * resource as store_item_json writes it, a change event or a version of a
 * resource's history as the store gives it, a scan's metadata. A page of
 * items comes in an envelope, {"items":[...],"next":"<cursor>"|null}: it
 * ends after `limit` items (1000 unless asked, at most 10000) or before
 * PAGE_BYTES of JSON, and `next` is then what to pass back as `after` for
 * the rest (null: nothing follows). Cursors are opaque to clients; they
 * are "<revision>:<key>" for resources and changes and "<revision>" for
 * history and scans, and resume with a seek in the store, never by
 * skipping what came before. A resource cursor carries the revision its
 * first page was read at, so that a walk through the inventory sees one
 * snapshot even while scans commit (`at`, still checked, is then unused).
 *
 * Statuses: a bad parameter 400, naming it; something the store does not
 * hold (a revision not there yet, a time before the first scan, a
 * resource) 404; a revision compacted away 410; a full LMDB reader table
 * 503; any other store failure 500 with the store's message. A store with
 * no scan yet has an empty inventory (where the CLI says so and fails).
 *
 * Threads: handlers run on the HTTP server's threads while the loop's
 * scans commit on another, all on one store handle. Each store call below
 * runs in its own LMDB read transaction (a consistent snapshot that never
 * blocks the writer) and nothing here is kept between calls.
 */
#include "daemon/daemon_int.h"
#include "provider/provider.h"
#include "store/store.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define RESOURCES_PATH "/api/v1/resources"
#define HISTORY_SUFFIX "/history"
#define CHANGES_PATH   "/api/v1/changes"
#define SCANS_PATH     "/api/v1/scans"

#define LIMIT_DEFAULT 1000
#define LIMIT_MAX     10000
/* JSON in one page: the page ends before it would pass this. */
#define PAGE_BYTES ((size_t)8 << 20)
/* The envelope's tail but for the cursor: `],"next":""}`, with room. */
#define TAIL_BYTES 32
/* Characters of a client's text quoted back in an error message. */
#define QUOTE_MAX 80

/* A callback's "stop": the page is full (or could not take the item). */
#define PAGE_STOP 1
/* A changes callback's "go on after this revision" (a baseline's). */
#define SKIP_REVISION 2

/* ------------------------------------------------------------- helpers */

/* Client text for a message: cut to QUOTE_MAX characters. */
static const char *quote(const char *s, char out[QUOTE_MAX + 4])
{
	size_t n = strnlen(s, QUOTE_MAX + 1);

	if (n <= QUOTE_MAX)
		return s;
	memcpy(out, s, QUOTE_MAX);
	memcpy(out + QUOTE_MAX, "...", 4);
	return out;
}

/*
 * Answer a failed store call: the store's message, with the status its
 * code calls for. A bad value is the client's (400), something the store
 * does not hold is 404, history compacted away is 410 (gone for good), a
 * full reader table 503; anything else is the server's (500, logged).
 */
static void store_fail(struct http_response *resp, int rc,
		       const struct elava_error *err)
{
	const char *msg = err->msg[0] ? err->msg : elava_strerror(rc);

	switch (rc) {
	case ELAVA_E_INVAL: http_error(resp, 400, "%s", msg); return;
	case ELAVA_E_NOTFOUND: http_error(resp, 404, "%s", msg); return;
	case ELAVA_E_COMPACTED: http_error(resp, 410, "%s", msg); return;
	case ELAVA_E_BUSY:
		http_error(resp, 503, "%s", msg);
		resp->retry_after_s = 1;
		return;
	default:
		log_warn("api", "%s", msg);
		http_error(resp, 500, "%s", msg);
		return;
	}
}

/* Refuse a parameter not in `valid` (NULL-terminated), naming them all. */
static bool params_check(const struct http_request *req,
			 const char *const *valid, struct http_response *resp)
{
	const struct http_target *t = req->target;

	for (size_t i = 0; i < t->nparams; i++) {
		const char *name = t->params[i].name;
		size_t j;
		char q[QUOTE_MAX + 4];
		struct buf list;

		for (j = 0; valid[j] && strcmp(valid[j], name); j++)
			;
		if (valid[j])
			continue;
		buf_init(&list, 0);
		for (j = 0; valid[j]; j++)
			buf_printf(&list, "%s%s", j ? ", " : "", valid[j]);
		http_error(resp, 400,
			   "unknown query parameter '%s' (valid: %s)",
			   quote(name, q), list.data ? list.data : "none");
		buf_release(&list);
		return false;
	}
	return true;
}

/* `limit`: 1 to LIMIT_MAX, LIMIT_DEFAULT when absent. */
static bool limit_parse(const struct http_request *req, size_t *limit,
			struct http_response *resp)
{
	const char *v = http_target_param(req->target, "limit");
	size_t n = 0, i;
	char q[QUOTE_MAX + 4];

	*limit = LIMIT_DEFAULT;
	if (!v)
		return true;
	for (i = 0; v[i] >= '0' && v[i] <= '9' && n <= LIMIT_MAX; i++)
		n = n * 10 + (size_t)(v[i] - '0');
	if (!i || v[i] || n < 1 || n > LIMIT_MAX) {
		http_error(resp, 400,
			   "limit takes a number from 1 to %d, not '%s'",
			   LIMIT_MAX, quote(v, q));
		return false;
	}
	*limit = n;
	return true;
}

/*
 * An `after` cursor as this API writes them: a revision, then (with_key)
 * ':' and a key. *key points into s.
 */
static bool cursor_parse(const char *s, bool with_key, uint64_t *rev,
			 const char **key, struct http_response *resp)
{
	uint64_t r = 0;
	size_t i;
	char q[QUOTE_MAX + 4];

	for (i = 0; s[i] >= '0' && s[i] <= '9'; i++) {
		unsigned d = (unsigned)(s[i] - '0');
		if (r > (UINT64_MAX - d) / 10)
			break;
		r = r * 10 + d;
	}
	if (i && r && (with_key ? s[i] == ':' && s[i + 1] : !s[i])) {
		*rev = r;
		if (key)
			*key = with_key ? s + i + 1 : NULL;
		return true;
	}
	http_error(resp, 400,
		   "after: '%s' is not a cursor this API returned (pass the "
		   "\"next\" of the previous page)",
		   quote(s, q));
	return false;
}

static bool type_check(const char *type, struct http_response *resp)
{
	char q[QUOTE_MAX + 4];

	for (const char *const *t = provider_aws_type_names(); *t; t++)
		if (!strcmp(*t, type))
			return true;
	http_error(resp, 400, "type: unknown resource type '%s'",
		   quote(type, q));
	return false;
}

/* ---------------------------------------------------------------- pages */

struct page {
	struct http_response *resp;
	size_t limit;
	size_t max_bytes; /* of the whole body */
	size_t n;	  /* items written */
	bool more;	  /* stopped before the end: `next` is set */
	struct buf next;  /* cursor of the last item written */
	int rc;		  /* a failure to write the page */
};

static void page_begin(struct page *pg, struct http_response *resp,
		       size_t limit)
{
	size_t max = resp->body.max ? resp->body.max : BUF_DEFAULT_MAX;

	memset(pg, 0, sizeof(*pg));
	pg->resp = resp;
	pg->limit = limit;
	pg->max_bytes = max < PAGE_BYTES ? max : PAGE_BYTES;
	buf_init(&pg->next, 0);
	buf_reset(&resp->body);
	pg->rc = buf_puts(&resp->body, "{\"items\":[");
}

/*
 * Whether an item of `len` bytes, whose cursor would be `cursor_len`
 * bytes, goes on this page: not when the page has its `limit` items, nor
 * when the item and the tail that would follow it (the cursor, every
 * byte escaped at worst) would take the body past max_bytes; then `more`:
 * the item starts the next page. The first item always goes.
 */
static bool page_room(struct page *pg, size_t len, size_t cursor_len)
{
	size_t used = pg->resp->body.len;
	size_t need = 1 + len + TAIL_BYTES + 6 * cursor_len;

	if (pg->n >= pg->limit ||
	    (pg->n && (used >= pg->max_bytes || need > pg->max_bytes - used))) {
		pg->more = true;
		return false;
	}
	return true;
}

/* Append one item; PAGE_STOP when it does not fit. */
static int page_add(struct page *pg, const char *json, size_t len)
{
	struct buf *b = &pg->resp->body;
	size_t mark = b->len;
	int rc = pg->n ? buf_putc(b, ',') : 0;

	if (!rc)
		rc = buf_append(b, json, len);
	if (rc) {
		b->len = mark;
		if (b->data)
			b->data[mark] = '\0';
		if (pg->n)
			pg->more = true; /* the body's own cap */
		else
			pg->rc = rc;
		return PAGE_STOP;
	}
	pg->n++;
	return 0;
}

/* Close the envelope and answer 200, or 500 if it could not be written. */
static void page_end(struct page *pg)
{
	struct http_response *resp = pg->resp;
	struct buf *b = &resp->body;
	int rc = pg->rc;

	if (!rc)
		rc = buf_puts(b, "],\"next\":");
	if (!rc)
		rc = pg->more ? buf_append_json_string(b, pg->next.data,
						       pg->next.len)
			      : buf_puts(b, "null");
	if (!rc)
		rc = buf_putc(b, '}');
	buf_release(&pg->next);
	if (rc) {
		log_warn("api", "cannot write a page of %zu items: %s", pg->n,
			 elava_strerror(rc));
		http_error(resp, 500, "cannot write the response: %s",
			   elava_strerror(rc));
		return;
	}
	resp->status = 200;
	resp->content_type = "application/json";
}

/* ------------------------------------------------------------ resources */

struct resources_ctx {
	struct page pg;
	uint64_t rev; /* the inventory's revision, for the cursor */
	struct buf item;
};

static int resource_item(const struct store_item *it, void *ud)
{
	struct resources_ctx *c = ud;
	int rc;

	if ((rc = store_item_json(it, &c->item))) {
		c->pg.rc = rc;
		return PAGE_STOP;
	}
	if (!page_room(&c->pg, c->item.len, 21 + strlen(it->key)))
		return PAGE_STOP;
	if ((rc = page_add(&c->pg, c->item.data, c->item.len)))
		return rc;
	buf_reset(&c->pg.next);
	if ((rc = buf_printf(&c->pg.next, "%llu:%s", (unsigned long long)c->rev,
			     it->key))) {
		c->pg.rc = rc;
		return PAGE_STOP;
	}
	return 0;
}

static void resources_list(const struct http_request *req,
			   struct http_response *resp, struct store *s)
{
	static const char *const valid[] = {"at",  "type",  "region", "account",
					    "tag", "limit", "after",  NULL};
	const struct http_target *t = req->target;
	const char *at = http_target_param(t, "at");
	const char *tag = http_target_param(t, "tag");
	const char *after = http_target_param(t, "after");
	struct store_filter f = {0};
	struct resources_ctx c;
	struct elava_error err = {0};
	char *tagbuf = NULL;
	uint64_t rev = 0, crev = 0;
	size_t limit;
	int rc;

	if (!params_check(req, valid, resp) || !limit_parse(req, &limit, resp))
		return;
	f.type = http_target_param(t, "type");
	f.region = http_target_param(t, "region");
	f.account = http_target_param(t, "account");
	if (f.type && !type_check(f.type, resp))
		return;
	if (tag) {
		char *eq;
		if (!*tag || *tag == '=') {
			http_error(resp, 400, "tag takes KEY or KEY=VALUE");
			return;
		}
		tagbuf = xstrdup(tag);
		if ((eq = strchr(tagbuf, '='))) {
			*eq = '\0';
			f.tag_value = eq + 1;
		}
		f.tag_key = tagbuf;
	}
	if (after && !cursor_parse(after, true, &crev, &f.after, resp))
		goto out;
	/* at is checked even with a cursor, whose revision stands for it. */
	if (at && (rc = store_point_parse(s, at, false, &rev, &err))) {
		store_fail(resp, rc, &err);
		goto out;
	}
	if (after) {
		rev = crev;
	} else if (!at) {
		if ((rc = store_current_revision(s, &rev, &err))) {
			store_fail(resp, rc, &err);
			goto out;
		}
	}
	memset(&c, 0, sizeof(c));
	page_begin(&c.pg, resp, limit);
	c.rev = rev;
	buf_init(&c.item, 0);
	/* Revision 0 here: no scan yet, an empty inventory. */
	rc = rev ? store_inventory(s, rev, &f, resource_item, &c, &err) : 0;
	buf_release(&c.item);
	if (rc < 0) {
		buf_release(&c.pg.next);
		store_fail(resp, rc, &err);
		goto out;
	}
	page_end(&c.pg);
out:
	xfree(tagbuf);
}

struct history_ctx {
	struct page pg;
};

static int history_item(const struct store_change *ch, void *ud)
{
	struct history_ctx *c = ud;
	int rc;

	if (!page_room(&c->pg, ch->event_len, 20))
		return PAGE_STOP;
	if ((rc = page_add(&c->pg, ch->event_json, ch->event_len)))
		return rc;
	buf_reset(&c->pg.next);
	if ((rc = buf_printf(&c->pg.next, "%llu",
			     (unsigned long long)ch->revision))) {
		c->pg.rc = rc;
		return PAGE_STOP;
	}
	return 0;
}

/* /api/v1/resources/{key or id}/history: `arg` is the decoded middle. */
static void resources_history(const struct http_request *req,
			      struct http_response *resp, struct store *s,
			      const char *arg)
{
	static const char *const valid[] = {"limit", "after", NULL};
	const char *after = http_target_param(req->target, "after");
	struct history_ctx c;
	struct elava_error err = {0};
	uint64_t from = 0;
	char *key = NULL;
	size_t limit;
	int rc;

	if (!params_check(req, valid, resp) ||
	    !limit_parse(req, &limit, resp) ||
	    (after && !cursor_parse(after, false, &from, NULL, resp)))
		return;
	if ((rc = store_resolve_key(s, arg, &key, &err))) {
		store_fail(resp, rc, &err);
		return;
	}
	memset(&c, 0, sizeof(c));
	page_begin(&c.pg, resp, limit);
	rc = store_history_after(s, key, from, history_item, &c, &err);
	if (rc < 0) {
		buf_release(&c.pg.next);
		store_fail(resp, rc, &err);
	} else {
		page_end(&c.pg);
	}
	xfree(key);
}

void api_resources(const struct http_request *req, struct http_response *resp,
		   struct store *s)
{
	const char *path = req->target->path;
	size_t plen = strlen(path);
	const size_t pre = strlen(RESOURCES_PATH "/");
	const size_t suf = strlen(HISTORY_SUFFIX);
	char q[QUOTE_MAX + 4];

	if (!strcmp(path, RESOURCES_PATH)) {
		resources_list(req, resp, s);
		return;
	}
	if (plen > pre + suf && !strncmp(path, RESOURCES_PATH "/", pre) &&
	    !strcmp(path + plen - suf, HISTORY_SUFFIX)) {
		/* The key may hold '/': it is everything in between. */
		char *arg = xstrndup(path + pre, plen - pre - suf);
		resources_history(req, resp, s, arg);
		xfree(arg);
		return;
	}
	http_error(resp, 404,
		   "no API endpoint at '%s' (try " RESOURCES_PATH
		   " or " RESOURCES_PATH "/KEY/history)",
		   quote(path, q));
}

/* -------------------------------------------------------------- changes */

struct changes_ctx {
	struct page pg;
	const char *type;
	int kind;
	/* Baseline revisions, ascending; NULL with include_baseline. */
	uint64_t *baselines;
	size_t nbaselines;
	uint64_t skip; /* the baseline revision to go on after */
};

static int rev_cmp(const void *a, const void *b)
{
	uint64_t x = *(const uint64_t *)a, y = *(const uint64_t *)b;

	return (x > y) - (x < y);
}

static int change_item(const struct store_change *ch, void *ud)
{
	struct changes_ctx *c = ud;
	int rc;

	/*
	 * A baseline's "created" events are left out, as the CLI leaves
	 * them out. A baseline revision holds nothing else (the store was
	 * empty before it), so the walk jumps past the whole revision.
	 */
	if (ch->kind == STORE_CHANGE_CREATED && c->nbaselines &&
	    bsearch(&ch->revision, c->baselines, c->nbaselines,
		    sizeof(*c->baselines), rev_cmp)) {
		c->skip = ch->revision;
		return SKIP_REVISION;
	}
	if (c->type && strcmp(ch->type, c->type))
		return 0;
	if (c->kind && (int)ch->kind != c->kind)
		return 0;
	if (!page_room(&c->pg, ch->event_len, 21 + strlen(ch->key)))
		return PAGE_STOP;
	if ((rc = page_add(&c->pg, ch->event_json, ch->event_len)))
		return rc;
	buf_reset(&c->pg.next);
	if ((rc = buf_printf(&c->pg.next, "%llu:%s",
			     (unsigned long long)ch->revision, ch->key))) {
		c->pg.rc = rc;
		return PAGE_STOP;
	}
	return 0;
}

/* include_baseline: true (also "1" or a bare flag) or false ("0"). */
static bool bool_parse(const char *name, const char *v, bool *out,
		       struct http_response *resp)
{
	char q[QUOTE_MAX + 4];

	if (!*v || !strcmp(v, "true") || !strcmp(v, "1")) {
		*out = true;
		return true;
	}
	if (!strcmp(v, "false") || !strcmp(v, "0")) {
		*out = false;
		return true;
	}
	http_error(resp, 400, "%s takes true or false, not '%s'", name,
		   quote(v, q));
	return false;
}

void api_changes(const struct http_request *req, struct http_response *resp,
		 struct store *s)
{
	static const char *const valid[] = {
	    "since", "until", "type", "change", "include_baseline",
	    "limit", "after", NULL};
	const struct http_target *t = req->target;
	const char *since = http_target_param(t, "since");
	const char *until = http_target_param(t, "until");
	const char *change = http_target_param(t, "change");
	const char *incl = http_target_param(t, "include_baseline");
	const char *after = http_target_param(t, "after");
	const char *akey = NULL;
	struct changes_ctx c;
	struct elava_error err = {0};
	uint64_t from = 0, to = 0, crev = 0;
	bool baseline = false;
	char q[QUOTE_MAX + 4];
	size_t limit;
	int rc;

	memset(&c, 0, sizeof(c));
	if (strcmp(t->path, CHANGES_PATH)) {
		http_error(resp, 404, "no API endpoint at '%s'",
			   quote(t->path, q));
		return;
	}
	if (!params_check(req, valid, resp) ||
	    !limit_parse(req, &limit, resp) ||
	    (incl && !bool_parse("include_baseline", incl, &baseline, resp)) ||
	    (after && !cursor_parse(after, true, &crev, &akey, resp)))
		return;
	c.type = http_target_param(t, "type");
	if (c.type && !type_check(c.type, resp))
		return;
	if (change && !(c.kind = store_change_kind_parse(change))) {
		http_error(resp, 400,
			   "change is created, modified or disappeared, not "
			   "'%s'",
			   quote(change, q));
		return;
	}
	/* A since before the first scan means "from the beginning". */
	if ((since && (rc = store_point_parse(s, since, true, &from, &err))) ||
	    (until && (rc = store_point_parse(s, until, false, &to, &err)))) {
		store_fail(resp, rc, &err);
		return;
	}
	if (to && from >= to) {
		http_error(resp, 400,
			   "since (revision %llu) must be before until "
			   "(revision %llu)",
			   (unsigned long long)from, (unsigned long long)to);
		return;
	}
	if (!baseline &&
	    (rc = store_baselines(s, &c.baselines, &c.nbaselines, &err))) {
		store_fail(resp, rc, &err);
		return;
	}
	if (c.nbaselines > 1)
		qsort(c.baselines, c.nbaselines, sizeof(*c.baselines), rev_cmp);
	/* Resume after the cursor, unless since starts later. */
	if (!akey || crev < from)
		akey = NULL;
	else
		from = crev;
	page_begin(&c.pg, resp, limit);
	while ((rc = store_changes_after(s, from, akey, to, change_item, &c,
					 &err)) == SKIP_REVISION) {
		/* Each jump lands past a later revision: the loop ends. */
		from = c.skip;
		akey = NULL;
	}
	xfree(c.baselines);
	if (rc < 0) {
		buf_release(&c.pg.next);
		store_fail(resp, rc, &err);
		return;
	}
	page_end(&c.pg);
}

/* ---------------------------------------------------------------- scans */

struct scans_ctx {
	struct page pg;
};

static int scan_item(const struct store_scan_meta *m, void *ud)
{
	struct scans_ctx *c = ud;
	int rc;

	if (!page_room(&c->pg, m->json_len, 20))
		return PAGE_STOP;
	if ((rc = page_add(&c->pg, m->json, m->json_len)))
		return rc;
	buf_reset(&c->pg.next);
	if ((rc = buf_printf(&c->pg.next, "%llu",
			     (unsigned long long)m->revision))) {
		c->pg.rc = rc;
		return PAGE_STOP;
	}
	return 0;
}

void api_scans(const struct http_request *req, struct http_response *resp,
	       struct store *s)
{
	static const char *const valid[] = {"limit", "after", NULL};
	const char *after = http_target_param(req->target, "after");
	struct scans_ctx c;
	struct elava_error err = {0};
	uint64_t before = 0;
	char q[QUOTE_MAX + 4];
	size_t limit;
	int rc;

	if (strcmp(req->target->path, SCANS_PATH)) {
		http_error(resp, 404, "no API endpoint at '%s'",
			   quote(req->target->path, q));
		return;
	}
	if (!params_check(req, valid, resp) ||
	    !limit_parse(req, &limit, resp) ||
	    (after && !cursor_parse(after, false, &before, NULL, resp)))
		return;
	memset(&c, 0, sizeof(c));
	page_begin(&c.pg, resp, limit);
	/* One more than the page: whether another page follows. */
	rc = store_scans_before(s, before, limit + 1, scan_item, &c, &err);
	if (rc < 0) {
		buf_release(&c.pg.next);
		store_fail(resp, rc, &err);
		return;
	}
	page_end(&c.pg);
}
