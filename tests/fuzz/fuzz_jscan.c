/*
 * Fuzz target: core's JSON text scanner (jscan), which the WAL and the
 * canonical record diff run on bytes from disk. Its verdict on the input
 * (one value, whitespace around it allowed as ejson_parse allows it) is
 * checked against ejson_parse on the same bytes. The two differ only
 * where they should, and those cases are what the flags are for:
 *
 *   - ejson_parse accepts ⇒ jscan accepts, without JSCAN_DEEP at
 *     EJSON_MAX_DEPTH (jscan counts container levels and flags a scalar
 *     past them; ejson counts that scalar as a level);
 *   - jscan accepts (no JSCAN_DEEP) but ejson_parse refuses ⇒ jscan
 *     flagged the reason: JSCAN_UNSORTED (ejson refuses duplicate keys),
 *     JSCAN_NONCANONICAL (an integer outside int64) or JSCAN_REAL (a real
 *     that overflows a double).
 *
 * Inputs with a NUL byte get no comparison (ejson_parse refuses them
 * outright; jscan must refuse any value containing one). On every value
 * ejson accepts, its canonical dump scans with no flag beyond
 * JSCAN_ESCAPE/JSCAN_REAL, and a string input decodes to ejson's bytes
 * and compares equal to the dump's spelling of it.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* jscan's verdict on text[0..n): 0 when it holds one value and whitespace. */
static int scan_whole(const char *text, size_t n, unsigned *flags,
		      const char **value)
{
	const char *p = text, *end = text + n, *start;
	int rc;

	jscan_ws(&p, end, flags);
	start = p;
	if ((rc = jscan_value(&p, end, EJSON_MAX_DEPTH, flags))) {
		if (p != start)
			abort(); /* *pp moved on failure */
		return rc;
	}
	if (p <= start || p > end)
		abort();
	*value = start;
	jscan_ws(&p, end, flags);
	return p == end ? 0 : ELAVA_E_PARSE;
}

static void check_string(const char *value, const char *end,
			 const struct ejson *v, const struct buf *dump)
{
	const char *p = value, *q = dump->data;
	struct buf dec;
	unsigned flags = 0;

	buf_init(&dec, 0);
	if (jscan_string(&p, end, &flags, &dec) ||
	    dec.len != ejson_string_length(v) ||
	    (dec.len && memcmp(dec.data, ejson_string_value(v), dec.len)))
		abort();
	if (jscan_str_cmp(value + 1, (size_t)(p - value - 2),
			  flags & JSCAN_ESCAPE, q + 1, dump->len - 2,
			  memchr(q, '\\', dump->len) != NULL))
		abort();
	buf_release(&dec);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data, *value = NULL;
	struct ejson *v = NULL;
	unsigned flags = 0, dflags = 0;
	struct buf dump;
	int rc = scan_whole(text, size, &flags, &value);

	if (memchr(text, '\0', size)) {
		if (!rc) /* a NUL is never JSON, nor whitespace */
			abort();
		return 0;
	}
	if (ejson_parse(text, size, &v, NULL)) {
		if (!rc && !(flags & JSCAN_DEEP) &&
		    !(flags &
		      (JSCAN_UNSORTED | JSCAN_NONCANONICAL | JSCAN_REAL)))
			abort();
		return 0;
	}
	if (rc || (flags & JSCAN_DEEP))
		abort();
	/* The canonical dump is canonical by jscan's account too. */
	buf_init(&dump, 0);
	if (ejson_dump_canonical(v, &dump) ||
	    scan_whole(dump.data, dump.len, &dflags, &value) ||
	    (dflags & ~(JSCAN_ESCAPE | JSCAN_REAL)))
		abort();
	if (ejson_typeof(v) == EJSON_STRING) {
		const char *p = text;

		jscan_ws(&p, text + size, NULL);
		check_string(p, text + size, v, &dump);
	}
	buf_release(&dump);
	ejson_free(&v);
	return 0;
}
