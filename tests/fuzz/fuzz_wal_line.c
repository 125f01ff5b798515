/*
 * Fuzz target: the WAL line parser, which every reader (verify, replay,
 * tail, recovery, wal_open) runs on bytes from disk. Invariants checked:
 * a line that parses re-serializes to exactly the same bytes before
 * `,"hash":` (the envelope has one spelling), its hash check agrees with a
 * recomputation, and its data is JSON that ejson accepts wherever ejson is
 * not stricter by design (duplicate keys, huge numbers). The input is also
 * fed to the data validator alone, which must accept every object ejson
 * accepts.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "wal/wal_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_line(const char *line, size_t size)
{
	struct wal__line_fields f;
	struct wal_entry e;
	struct buf scratch, again, inst;
	char hash[WAL_HASH_HEX_SIZE];
	size_t prefix;

	buf_init(&scratch, 0);
	if (wal_line_parse(line, size, &e, &scratch, NULL)) {
		buf_release(&scratch);
		return;
	}
	if (!e.instance || !e.data || e.data_len < 2 || e.data[0] != '{' ||
	    strlen(e.data) != e.data_len || e.line != line ||
	    e.line_len != size || strlen(e.prev) != 64 ||
	    strlen(e.hash) != 64 || !wal_type_name(e.type))
		abort();
	buf_init(&inst, 0);
	buf_init(&again, 0);
	buf_append_json_string(&inst, e.instance, strlen(e.instance));
	f.seq = e.seq;
	f.ts_ns = e.ts_ns;
	f.type = e.type;
	f.instance_json = inst.data;
	f.instance_json_len = inst.len;
	f.revision = e.revision;
	f.resource = e.resource;
	f.data = e.data;
	f.data_len = e.data_len;
	f.prev = e.prev;
	if (wal__line_format_prefix(&again, &f))
		abort();
	prefix = size - WAL__HASH_SUFFIX_LEN;
	if (again.len != prefix || memcmp(again.data, line, prefix))
		abort();
	/* wal_line_hash agrees with hashing the re-serialized prefix */
	bool same = wal_line_hash(line, size, hash);
	char h2[WAL_HASH_HEX_SIZE];
	wal__hash_hex(NULL, again.data, again.len, h2);
	if (strcmp(hash, h2) || same != !strcmp(h2, e.hash))
		abort();
	buf_release(&inst);
	buf_release(&again);
	buf_release(&scratch);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *p = (const char *)data;
	struct ejson *v = NULL;

	if (size > WAL_LINE_MAX + 16)
		return 0;
	check_line(p, size);
	/*
	 * ejson accepts an object ⇒ the validator accepts it too. Inputs
	 * with a NUL byte are left out: jansson skips a raw NUL between
	 * tokens, which is not JSON (the WAL only hands it C strings).
	 */
	if (size >= 2 && p[0] == '{' && p[size - 1] == '}' &&
	    !memchr(p, '\0', size) && ejson_parse(p, size, &v, NULL) == 0) {
		if (ejson_typeof(v) == EJSON_OBJECT &&
		    !wal__json_object_valid(p, size))
			abort();
		ejson_free(&v);
	}
	return 0;
}
