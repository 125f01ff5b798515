/*
 * Reading AWS error bodies. The XML protocols put the code in <Code> (EC2:
 * Response/Errors/Error; query: ErrorResponse/Error; S3: Error), the JSON
 * protocols in "__type" (possibly "prefix#Code") or "code". Bodies are
 * outside input: libxml2 reads them with network access and entity
 * expansion off, and every copy is bounded.
 */
#include "aws_int.h"

#include <libxml/xmlreader.h>
#include <string.h>

static void copy_field(char *dst, size_t cap, const char *src)
{
	size_t n = strnlen(src, cap - 1);

	memcpy(dst, src, n);
	dst[n] = '\0';
}

static void parse_xml(const char *body, size_t len, struct aws_response *r)
{
	xmlTextReaderPtr rd;

	aws_xml_global_init();
	rd = xmlReaderForMemory(body, (int)len, NULL, NULL,
				XML_PARSE_NONET | XML_PARSE_NOERROR |
				    XML_PARSE_NOWARNING);
	if (!rd)
		return;
	while (xmlTextReaderRead(rd) == 1) {
		if (xmlTextReaderNodeType(rd) != XML_READER_TYPE_ELEMENT)
			continue;
		const char *name =
		    (const char *)xmlTextReaderConstLocalName(rd);
		char *dst = NULL;
		size_t cap = 0;
		if (!strcmp(name, "Code") && !r->error_code[0]) {
			dst = r->error_code;
			cap = sizeof(r->error_code);
		} else if (!strcmp(name, "Message") && !r->error_message[0]) {
			dst = r->error_message;
			cap = sizeof(r->error_message);
		} else if ((!strcmp(name, "RequestId") ||
			    !strcmp(name, "RequestID")) &&
			   !r->request_id[0]) {
			dst = r->request_id;
			cap = sizeof(r->request_id);
		}
		if (!dst)
			continue;
		xmlChar *text = xmlTextReaderReadString(rd);
		if (text) {
			copy_field(dst, cap, (const char *)text);
			xmlFree(text);
		}
	}
	xmlFreeTextReader(rd);
}

static void parse_json(const char *body, size_t len, struct aws_response *r)
{
	struct ejson *v = NULL;
	const char *code, *msg;

	if (ejson_parse(body, len, &v, NULL) ||
	    ejson_typeof(v) != EJSON_OBJECT) {
		ejson_free(&v);
		return;
	}
	code = ejson_string_value(ejson_object_get(v, "__type"));
	if (!code)
		code = ejson_string_value(ejson_object_get(v, "code"));
	msg = ejson_string_value(ejson_object_get(v, "message"));
	if (!msg)
		msg = ejson_string_value(ejson_object_get(v, "Message"));
	if (code) {
		const char *hash = strrchr(code, '#');
		copy_field(r->error_code, sizeof(r->error_code),
			   hash ? hash + 1 : code);
	}
	if (msg)
		copy_field(r->error_message, sizeof(r->error_message), msg);
	ejson_free(&v);
}

void aws_error_parse(const char *body, size_t len, struct aws_response *r)
{
	size_t i = 0;

	while (i < len && (body[i] == ' ' || body[i] == '\n' ||
			   body[i] == '\r' || body[i] == '\t'))
		i++;
	if (i == len || len > ((size_t)1 << 20))
		return;
	if (body[i] == '<')
		parse_xml(body + i, len - i, r);
	else if (body[i] == '{')
		parse_json(body + i, len - i, r);
}
