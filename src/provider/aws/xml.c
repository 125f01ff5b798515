/*
 * Reading AWS XML responses fast: libxml2's SAX2 parser (its fastest
 * interface; a tree or a reader costs about three times as much) builds,
 * for each record element, a small tree of element names and texts in an
 * arena that is reused from one record to the next, and hands it to a
 * callback. Memory holds one page and one record, never the inventory.
 * Element names are matched without their namespace (the emulator's
 * namespaces differ between versions); attributes are not kept (AWS puts
 * no data in them). Network access and entity substitution are off:
 * responses are outside input.
 */
#include "aws_int.h"

#include <libxml/dict.h>
#include <libxml/parser.h>
#include <pthread.h>
#include <string.h>

#define MAX_DEPTH   64
#define ARENA_BLOCK (64 * 1024)
#define XML_SLICE   (64 * 1024) /* bytes fed to the parser at a time */

/*
 * libxml2 2.9 initialises its globals lazily and without a lock: two
 * listings parsing their first page at once each create the dictionary
 * mutex and one leaks. Initialise once, before any parser is made.
 */
static pthread_once_t xml_once = PTHREAD_ONCE_INIT;

static void xml_init(void)
{
	xmlInitParser();
}

void aws_xml_global_init(void)
{
	pthread_once(&xml_once, xml_init);
}

/* ----------------------------------------------------------------- arena */

struct block {
	struct block *next;
	size_t size, used;
	char data[];
};

/* Blocks are kept across resets: a page's records reuse the same memory. */
struct aws_xml_arena {
	struct block *first, *cur;
};

static void arena_reset(struct aws_xml_arena *a)
{
	for (struct block *b = a->first; b; b = b->next)
		b->used = 0;
	a->cur = a->first;
}

static void arena_free(struct aws_xml_arena *a)
{
	while (a->first) {
		struct block *b = a->first;
		a->first = b->next;
		xfree(b);
	}
	a->cur = NULL;
}

static void *arena_alloc(struct aws_xml_arena *a, size_t n)
{
	struct block *b = a->cur;
	void *p;

	n = (n + 7) & ~(size_t)7;
	while (b && b->size - b->used < n)
		b = b->next;
	if (!b) {
		size_t size = n > ARENA_BLOCK ? n : ARENA_BLOCK;
		struct block **tail = &a->first;
		while (*tail)
			tail = &(*tail)->next;
		b = xmalloc(sizeof(*b) + size);
		b->size = size;
		b->used = 0;
		b->next = NULL;
		*tail = b;
	}
	a->cur = b;
	p = b->data + b->used;
	b->used += n;
	return p;
}

/* ----------------------------------------------------------------- parse */

struct sax {
	struct aws_xml_arena *arena;
	const char *parent, *item; /* record elements; parent NULL: the root */
	aws_xml_item_fn fn;
	void *ud;
	struct buf *token; /* continuation token, or NULL */
	const char *token_name;
	const xmlChar *names[MAX_DEPTH]; /* interned by the parser */
	int depth;			 /* of the current element */
	struct aws_xel *stack[MAX_DEPTH];
	int rec_depth; /* the record's depth; -1 outside one */
	bool in_token;
	int rc;
	bool too_deep;
	xmlParserCtxtPtr ctxt;
	xmlDictPtr *keep_dict; /* a tree kept after the parse needs its names */
};

static void stop(struct sax *s, int rc)
{
	if (!s->rc)
		s->rc = rc;
	xmlStopParser(s->ctxt);
}

static void on_start(void *ctx, const xmlChar *name, const xmlChar *prefix,
		     const xmlChar *uri, int nns, const xmlChar **ns, int nattr,
		     int ndef, const xmlChar **attrs)
{
	struct sax *s = ctx;
	int d = ++s->depth;

	(void)prefix, (void)uri, (void)nns, (void)ns, (void)nattr, (void)ndef;
	(void)attrs;
	if (s->rc)
		return;
	if (d >= MAX_DEPTH) {
		s->too_deep = true;
		stop(s, ELAVA_E_PARSE);
		return;
	}
	s->names[d] = name;
	if (s->rec_depth >= 0) {
		struct aws_xel *e = arena_alloc(s->arena, sizeof(*e));
		struct aws_xel *up = s->stack[d - 1];
		memset(e, 0, sizeof(*e));
		e->name = (const char *)name;
		e->text = "";
		/* Text before a child element was layout. */
		up->text = "";
		up->text_len = 0;
		if (up->last)
			up->last->next = e;
		else
			up->child = e;
		up->last = e;
		s->stack[d] = e;
		return;
	}
	if (s->parent ? (d > 0 && !strcmp((const char *)name, s->item) &&
			 !strcmp((const char *)s->names[d - 1], s->parent))
		      : d == 0) {
		struct aws_xel *e;
		arena_reset(s->arena);
		e = arena_alloc(s->arena, sizeof(*e));
		memset(e, 0, sizeof(*e));
		e->name = (const char *)name;
		e->text = "";
		s->stack[d] = e;
		s->rec_depth = d;
		return;
	}
	/* The token is a child of the root (EC2, REST) or of the <Op>Result
	 * element (query protocols). */
	s->in_token = s->token && (d == 1 || d == 2) &&
		      !strcmp((const char *)name, s->token_name);
	if (s->in_token)
		buf_reset(s->token);
}

static void on_end(void *ctx, const xmlChar *name, const xmlChar *prefix,
		   const xmlChar *uri)
{
	struct sax *s = ctx;
	int d = s->depth--;

	(void)name, (void)prefix, (void)uri;
	s->in_token = false;
	if (s->rc || d != s->rec_depth)
		return;
	s->rec_depth = -1;
	if (s->fn) {
		int rc = s->fn(s->stack[d], s->ud);
		if (rc)
			stop(s, rc);
	}
}

static void on_text(void *ctx, const xmlChar *ch, int len)
{
	struct sax *s = ctx;
	struct aws_xel *e;
	char *t;

	if (s->rc || len <= 0)
		return;
	if (s->in_token) {
		buf_append(s->token, ch, (size_t)len);
		return;
	}
	if (s->rec_depth < 0 || s->depth < s->rec_depth)
		return;
	e = s->stack[s->depth];
	/* Whitespace between child elements is layout, not text. */
	if (e->child)
		return;
	/* Text may arrive in pieces (around entities): join them. */
	t = arena_alloc(s->arena, e->text_len + (size_t)len + 1);
	memcpy(t, e->text, e->text_len);
	memcpy(t + e->text_len, ch, (size_t)len);
	e->text_len += (size_t)len;
	t[e->text_len] = '\0';
	e->text = t;
}

static void on_error(void *ctx, xmlErrorPtr error)
{
	(void)ctx, (void)error; /* the result says it; never print */
}

static int parse(struct sax *s, const char *body, size_t len,
		 struct elava_error *err)
{
	xmlSAXHandler h;
	int prc;

	if (len > INT32_MAX)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "XML response too large");
	memset(&h, 0, sizeof(h));
	h.initialized = XML_SAX2_MAGIC;
	h.startElementNs = on_start;
	h.endElementNs = on_end;
	h.characters = on_text;
	h.cdataBlock = on_text;
	h.serror = on_error;
	s->depth = -1;
	s->rec_depth = -1;
	aws_xml_global_init();
	s->ctxt = xmlCreatePushParserCtxt(&h, s, NULL, 0, NULL);
	if (!s->ctxt)
		return elava_error_set(err, ELAVA_E_IO,
				       "cannot create an XML parser");
	xmlCtxtUseOptions(s->ctxt, XML_PARSE_NONET | XML_PARSE_NOERROR |
				       XML_PARSE_NOWARNING);
	/*
	 * In slices: given the whole body at once, libxml2 would first copy
	 * it into its own input buffer (megabytes per EC2 page).
	 */
	prc = 0;
	for (size_t off = 0; !prc && !s->rc && off < len;) {
		size_t n = len - off < XML_SLICE ? len - off : XML_SLICE;
		prc = xmlParseChunk(s->ctxt, body + off, (int)n, 0);
		off += n;
	}
	if (!prc && !s->rc)
		prc = xmlParseChunk(s->ctxt, NULL, 0, 1);
	if (!s->rc && (prc || !s->ctxt->wellFormed))
		s->rc = ELAVA_E_PARSE;
	/* Element names point into the parser's dictionary. */
	if (s->keep_dict && s->ctxt->dict && !xmlDictReference(s->ctxt->dict))
		*s->keep_dict = s->ctxt->dict;
	/* A document type declaration makes the parser start a document of
	 * its own even without a startDocument handler. */
	if (s->ctxt->myDoc)
		xmlFreeDoc(s->ctxt->myDoc);
	xmlFreeParserCtxt(s->ctxt);
	if (s->rc == ELAVA_E_PARSE)
		return elava_error_set(err, ELAVA_E_PARSE, "%s",
				       s->too_deep
					   ? "XML response nested too deeply"
					   : "malformed or truncated XML "
					     "response");
	return s->rc;
}

int aws_xml_walk(const char *body, size_t len, const char *parent,
		 const char *item, aws_xml_item_fn fn, void *ud,
		 struct buf *next_token, const char *token_name,
		 struct elava_error *err)
{
	struct aws_xml_arena arena = {0};
	struct sax s;
	int rc;

	memset(&s, 0, sizeof(s));
	s.arena = &arena;
	s.parent = parent;
	s.item = item;
	s.fn = fn;
	s.ud = ud;
	s.token = next_token;
	s.token_name = token_name;
	if (next_token)
		buf_reset(next_token);
	rc = parse(&s, body, len, err);
	arena_free(&arena);
	return rc;
}

struct aws_xml_doc {
	struct aws_xml_arena arena;
	struct aws_xel *root;
	xmlDictPtr dict; /* the names */
};

static int keep_root(const struct aws_xel *root, void *ud)
{
	((struct aws_xml_doc *)ud)->root = (struct aws_xel *)root;
	return 0;
}

int aws_xml_parse(const char *body, size_t len, struct aws_xml_doc **out,
		  struct elava_error *err)
{
	struct aws_xml_doc *d = xcalloc(1, sizeof(*d));
	struct sax s;
	int rc;

	*out = NULL;
	memset(&s, 0, sizeof(s));
	s.arena = &d->arena;
	s.fn = keep_root;
	s.ud = d;
	s.keep_dict = &d->dict;
	rc = parse(&s, body, len, err);
	if (!rc && !d->root)
		rc = elava_error_set(err, ELAVA_E_PARSE, "empty XML response");
	if (rc) {
		aws_xml_free(&d);
		return rc;
	}
	*out = d;
	return 0;
}

const struct aws_xel *aws_xml_root(const struct aws_xml_doc *d)
{
	return d->root;
}

void aws_xml_free(struct aws_xml_doc **dp)
{
	if (!*dp)
		return;
	arena_free(&(*dp)->arena);
	if ((*dp)->dict)
		xmlDictFree((*dp)->dict);
	xfree(*dp);
	*dp = NULL;
}

/* --------------------------------------------------------------- lookups */

const struct aws_xel *aws_xml_child(const struct aws_xel *e, const char *name)
{
	for (const struct aws_xel *c = e ? e->child : NULL; c; c = c->next)
		if (!strcmp(c->name, name))
			return c;
	return NULL;
}

const struct aws_xel *aws_xml_path(const struct aws_xel *e, const char *path)
{
	char step[128];

	while (e && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		if (len >= sizeof(step))
			return NULL;
		memcpy(step, path, len);
		step[len] = '\0';
		e = aws_xml_child(e, step);
		path += len + (slash ? 1 : 0);
	}
	return e;
}

bool aws_xml_text(const struct aws_xel *e, const char *path, struct buf *out)
{
	const struct aws_xel *c = aws_xml_path(e, path);

	buf_reset(out);
	if (!c)
		return false;
	buf_append(out, c->text, c->text_len);
	return true;
}
