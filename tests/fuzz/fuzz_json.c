/*
 * Fuzz target: the JSON parser and the canonical writer. Invariant checked:
 * canonical output parses back and re-serializes to the same bytes.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct ejson *v = NULL, *again = NULL;
	struct buf a, b;

	if (ejson_parse((const char *)data, size, &v, NULL))
		return 0;
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (ejson_dump_canonical(v, &a) == 0) {
		if (ejson_parse(a.data, a.len, &again, NULL))
			abort();
		if (ejson_dump_canonical(again, &b) || a.len != b.len ||
		    memcmp(a.data, b.data, a.len))
			abort();
	}
	ejson_free(&again);
	ejson_free(&v);
	buf_release(&a);
	buf_release(&b);
	return 0;
}
