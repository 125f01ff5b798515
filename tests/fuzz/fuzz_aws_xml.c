/*
 * Fuzz target: the readers under every AWS response — the streamed XML
 * walk (aws_xml_walk) and the element helpers (aws_xml_text, _path,
 * _child), whole-document parsing as XML and as JSON (aws_doc_parse), the
 * paths over both (aws_node_each, _get, _text) and AWS times
 * (aws_time_parse) — with the names and paths coming from the input too.
 *
 * Input: a first line "parent/item token path path..." (words separated by
 * spaces; missing ones take EC2 defaults), then the body. Whatever the
 * bytes, nothing may crash, and text found is a NUL-terminated string.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/aws/list_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

#define MAX_WORDS 6

struct spec {
	char line[256];
	const char *walk;  /* "parent/item" */
	const char *token; /* token element name */
	const char *paths[MAX_WORDS];
	size_t npaths;
	struct buf text;
	size_t visits;
};

static void check_text(const struct buf *b)
{
	int64_t ns;

	if (!b->data || b->data[b->len] != '\0')
		abort();
	aws_time_parse(b->data, &ns);
}

static int visit(const struct aws_node *n, void *ud)
{
	struct spec *s = ud;
	struct aws_node got;

	/* Bounded: a path with [] may reach every node of a big page. */
	if (++s->visits > 10000)
		return 1;
	if (aws_node_text(n, "", &s->text))
		check_text(&s->text);
	if (aws_node_get(n, "", &got) && (got.x != n->x || got.j != n->j))
		abort();
	return 0;
}

static void walk_paths(struct spec *s, const struct aws_node *n)
{
	for (size_t i = 0; i < s->npaths; i++) {
		struct aws_node got;
		if (aws_node_text(n, s->paths[i], &s->text))
			check_text(&s->text);
		if (aws_node_get(n, s->paths[i], &got) && !got.x && !got.j)
			abort();
		aws_node_each(n, s->paths[i], visit, s);
	}
}

static int on_item(const struct aws_xel *item, void *ud)
{
	struct spec *s = ud;
	struct aws_node n = {item, NULL};

	for (size_t i = 0; i < s->npaths; i++) {
		if (aws_xml_text(item, s->paths[i], &s->text))
			check_text(&s->text);
		aws_xml_child(item, s->paths[i]);
		aws_xml_path(item, s->paths[i]);
	}
	walk_paths(s, &n);
	return 0;
}

static void parse_spec(struct spec *s, const uint8_t **data, size_t *size)
{
	static const char *const defaults[] = {
	    "instanceId",
	    "tagSet/item[]/key",
	    "instanceState/name",
	    "launchTime",
	    "",
	    "groupSet/item[]/groupId",
	};
	const uint8_t *nl = memchr(*data, '\n', *size);
	size_t len = nl ? (size_t)(nl - *data) : 0;
	char *w, *save = NULL;
	size_t nwords = 0;

	s->walk = "instancesSet/item";
	s->token = "nextToken";
	if (len >= sizeof(s->line))
		len = sizeof(s->line) - 1;
	memcpy(s->line, *data, len);
	s->line[len] = '\0';
	if (nl) {
		*size -= (size_t)(nl - *data) + 1;
		*data = nl + 1;
	}
	for (w = strtok_r(s->line, " ", &save); w && nwords < 2 + MAX_WORDS;
	     w = strtok_r(NULL, " ", &save), nwords++) {
		if (nwords == 0)
			s->walk = w;
		else if (nwords == 1)
			s->token = w;
		else
			s->paths[s->npaths++] = w;
	}
	for (size_t i = 0; !s->npaths && i < ARRAY_SIZE(defaults); i++)
		s->paths[i] = defaults[i];
	if (!s->npaths)
		s->npaths = ARRAY_SIZE(defaults);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct spec s;
	struct buf token;
	struct aws_doc doc;
	char parent[128];
	const char *slash;
	int64_t ns;

	memset(&s, 0, sizeof(s));
	parse_spec(&s, &data, &size);
	buf_init(&s.text, 0);
	buf_init(&token, 0);
	for (size_t i = 0; i < s.npaths; i++)
		aws_time_parse(s.paths[i], &ns);

	/* streamed, record by record */
	slash = strchr(s.walk, '/');
	if (slash && (size_t)(slash - s.walk) < sizeof(parent)) {
		memcpy(parent, s.walk, (size_t)(slash - s.walk));
		parent[slash - s.walk] = '\0';
		if (!aws_xml_walk((const char *)data, size, parent, slash + 1,
				  on_item, &s, &token, s.token, NULL) &&
		    token.data)
			check_text(&token);
	}
	/* whole documents, XML then JSON */
	if (!aws_doc_parse((const char *)data, size, true, &doc, NULL)) {
		walk_paths(&s, &doc.root);
		aws_doc_release(&doc);
	}
	if (!aws_doc_parse((const char *)data, size, false, &doc, NULL)) {
		walk_paths(&s, &doc.root);
		aws_doc_release(&doc);
	}
	buf_release(&token);
	buf_release(&s.text);
	return 0;
}
