/*
 * Reading AWS XML responses a page at a time: a streaming reader walks the
 * page and hands each record element (an EC2 instance, a volume...) to a
 * callback as a small expanded subtree, so memory holds one page and one
 * record, never the whole inventory. Element names are matched without
 * their namespace (the emulator's namespaces differ between versions).
 * Network access and entity expansion are off: responses are outside input.
 */
#include "aws_int.h"

#include <string.h>

#define MAX_DEPTH 64

int aws_xml_walk(const char *body, size_t len, const char *parent,
		 const char *item, aws_xml_item_fn fn, void *ud,
		 struct buf *next_token, const char *token_name,
		 struct elava_error *err)
{
	char *names[MAX_DEPTH] = {0};
	xmlTextReaderPtr rd;
	int rc = 0, r;

	if (next_token)
		buf_reset(next_token);
	if (len > INT32_MAX)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "XML response too large");
	rd = xmlReaderForMemory(body, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING | XML_PARSE_NOCDATA);
	if (!rd)
		return elava_error_set(err, ELAVA_E_PARSE,
				       "cannot read the XML response");
	r = xmlTextReaderRead(rd);
	while (r == 1 && !rc) {
		int depth = xmlTextReaderDepth(rd);
		const char *name;

		if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT) {
			r = xmlTextReaderRead(rd);
			continue;
		}
		if (depth < 0 || depth >= MAX_DEPTH) {
			rc = elava_error_set(err, ELAVA_E_PARSE,
					     "XML response nested too deeply");
			break;
		}
		name = (const char *)xmlTextReaderConstLocalName(rd);
		xfree(names[depth]);
		names[depth] = xstrdup(name ? name : "");
		/* The token is a child of the root (EC2, REST) or of the
		 * <Op>Result element (query protocols). */
		if (next_token && (depth == 1 || depth == 2) &&
		    !strcmp(names[depth], token_name)) {
			xmlChar *t = xmlTextReaderReadString(rd);
			if (t) {
				buf_puts(next_token, (const char *)t);
				xmlFree(t);
			}
		} else if (depth > 0 && names[depth - 1] &&
			   !strcmp(names[depth], item) &&
			   !strcmp(names[depth - 1], parent)) {
			xmlNodePtr node = xmlTextReaderExpand(rd);
			if (!node) {
				rc = elava_error_set(err, ELAVA_E_PARSE,
						     "malformed XML in a '%s' "
						     "record",
						     item);
				break;
			}
			rc = fn(node, ud);
			/* On to the next sibling, past the record's subtree;
			 * the loop looks at that node before reading on. */
			r = xmlTextReaderNext(rd);
			continue;
		}
		r = xmlTextReaderRead(rd);
	}
	if (!rc && r < 0)
		rc = elava_error_set(err, ELAVA_E_PARSE,
				     "malformed or truncated XML response");
	for (int i = 0; i < MAX_DEPTH; i++)
		xfree(names[i]);
	xmlFreeTextReader(rd);
	return rc;
}

xmlNodePtr aws_xml_child(xmlNodePtr n, const char *name)
{
	for (xmlNodePtr c = n ? n->children : NULL; c; c = c->next)
		if (c->type == XML_ELEMENT_NODE &&
		    !strcmp((const char *)c->name, name))
			return c;
	return NULL;
}

xmlNodePtr aws_xml_path(xmlNodePtr n, const char *path)
{
	char step[128];

	while (n && *path) {
		const char *slash = strchr(path, '/');
		size_t len = slash ? (size_t)(slash - path) : strlen(path);
		if (len >= sizeof(step))
			return NULL;
		memcpy(step, path, len);
		step[len] = '\0';
		n = aws_xml_child(n, step);
		path += len + (slash ? 1 : 0);
	}
	return n;
}

bool aws_xml_text(xmlNodePtr n, const char *path, struct buf *out)
{
	xmlNodePtr c = aws_xml_path(n, path);
	xmlChar *t;

	buf_reset(out);
	if (!c)
		return false;
	t = xmlNodeGetContent(c);
	if (!t)
		return false;
	buf_puts(out, (const char *)t);
	xmlFree(t);
	return true;
}
