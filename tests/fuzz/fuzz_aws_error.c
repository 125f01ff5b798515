/*
 * Fuzz target: the AWS error body reader (XML and JSON protocols). Any
 * bytes must leave NUL-terminated, bounded fields and never crash.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct aws_response r;

	aws_response_init(&r);
	aws_error_parse((const char *)data, size, &r);
	if (strnlen(r.error_code, sizeof(r.error_code)) ==
		sizeof(r.error_code) ||
	    strnlen(r.error_message, sizeof(r.error_message)) ==
		sizeof(r.error_message) ||
	    strnlen(r.request_id, sizeof(r.request_id)) == sizeof(r.request_id))
		abort();
	aws_response_release(&r);
	return 0;
}
