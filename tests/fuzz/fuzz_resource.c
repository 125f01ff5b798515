/*
 * Fuzz target: reading a resource record from JSON (records arrive from
 * files, the store and the API). Invariants checked on every input that
 * parses: the canonical form reads back and re-serializes to the same
 * bytes, the encoding agrees with it, and a record differs from neither
 * itself nor its re-read copy.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "core/core.h"
#include "resource/resource.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

static void check_no_diff(const struct resource *a, const struct resource *b)
{
	struct resource_diff d = {0};

	if (resource_diff(a, b, NULL, &d) || d.n != 0)
		abort();
	resource_diff_release(&d);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct resource r, again;
	struct resource_encoded e;
	uint8_t sum[SHA256_LEN];
	struct buf a, b;

	resource_init(&r);
	resource_init(&again);
	resource_encoded_init(&e);
	buf_init(&a, 0);
	buf_init(&b, 0);
	if (resource_from_json((const char *)data, size, &r, NULL))
		goto out;
	if (resource_to_json(&r, &a))
		abort();
	if (resource_from_json(a.data, a.len, &again, NULL))
		abort();
	if (resource_to_json(&again, &b) || a.len != b.len ||
	    memcmp(a.data, b.data, a.len))
		abort();
	/* Canonical output can outgrow the input (1e9 spelled out); the
	 * encoder's cap may refuse it, but when it accepts it must agree. */
	if (resource_encode(&r, NULL, &e, NULL) == 0) {
		sha256(a.data, a.len, sum);
		if (e.json.len != a.len || memcmp(e.json.data, a.data, a.len) ||
		    memcmp(sum, e.fingerprint, SHA256_LEN))
			abort();
	}
	check_no_diff(&r, &r);
	check_no_diff(&r, &again);
out:
	buf_release(&a);
	buf_release(&b);
	resource_encoded_release(&e);
	resource_release(&again);
	resource_release(&r);
	return 0;
}
