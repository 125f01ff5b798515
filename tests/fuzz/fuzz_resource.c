/*
 * Fuzz target: reading a resource record from JSON (records arrive from
 * files, the store and the API), and the diff computed on the text
 * (resource_diff_canonical) against the diff computed on parsed records.
 * Invariants checked on every input that parses: the canonical form reads
 * back and re-serializes to the same bytes, the encoding agrees with it,
 * and a record differs from neither itself nor its re-read copy.
 * An input may hold two records, split at its first NUL byte (or else
 * halfway): the text diff of their canonical forms must be byte for byte
 * the parsing path's, with and without ignore rules and both ways round;
 * the raw bytes go to the text diff too, which must not crash and, when it
 * accepts them and both parse, must agree with the parsing path as well.
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

static void check_record(const char *data, size_t size)
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
	if (resource_from_json(data, size, &r, NULL))
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
}

/* Rules at every level the diff reports, for every type and for one. */
static struct resource_ignore *fuzz_rules(void)
{
	static const char *const rules[][2] = {
	    {NULL, "tags.LastScan"},
	    {NULL, "attributes.state.code"},
	    {NULL, "attributes.volumes[0]"},
	    {NULL, "attributes[\"a.b\"].c"},
	    {NULL, "relationships[1].type"},
	    {"ec2_instance", "status"},
	    {"ec2_instance", "attributes.tags[1]"},
	    {"s3_bucket", "tags"},
	    {"rds_instance", "created_at"},
	};
	static struct resource_ignore *ign;

	if (!ign) {
		ign = resource_ignore_new();
		for (size_t i = 0; i < ARRAY_SIZE(rules); i++)
			if (resource_ignore_add(ign, rules[i][0], rules[i][1]))
				abort();
	}
	return ign;
}

/* What the parsing path appends for the diff of a and b (0 or abort). */
static void parsed_diff(const struct resource *a, const struct resource *b,
			const struct resource_ignore *ign, struct buf *out)
{
	struct resource_diff d = {0};

	buf_reset(out);
	if (resource_diff(a, b, ign, &d) || resource_diff_to_json(&d, out))
		abort();
	resource_diff_release(&d);
}

static bool same_bytes(const struct buf *x, const struct buf *y)
{
	return x->len == y->len && !memcmp(x->data, y->data, x->len);
}

/* The text diff of canonical a and b is the parsing path's. */
static void check_canonical(const struct resource *a, const struct buf *ja,
			    const struct resource *b, const struct buf *jb,
			    const struct resource_ignore *ign)
{
	struct buf want, got;
	int rc;

	buf_init(&want, 0);
	buf_init(&got, 0);
	parsed_diff(a, b, ign, &want);
	rc = resource_diff_canonical(ja->data, ja->len, jb->data, jb->len, ign,
				     a->type, &got);
	/* Canonical output may outgrow the input, and a record's cap. */
	if (rc == ELAVA_E_TOOBIG &&
	    (ja->len > RESOURCE_MAX_JSON || jb->len > RESOURCE_MAX_JSON))
		goto out;
	if (rc || !same_bytes(&want, &got))
		abort();
out:
	buf_release(&want);
	buf_release(&got);
}

static void check_pair(const char *a, size_t alen, const char *b, size_t blen)
{
	struct resource ra, rb;
	struct buf ja, jb, raw, want;
	bool parsed;
	int rc;

	resource_init(&ra);
	resource_init(&rb);
	buf_init(&ja, 0);
	buf_init(&jb, 0);
	buf_init(&raw, 0);
	buf_init(&want, 0);
	parsed = !resource_from_json(a, alen, &ra, NULL) &&
		 !resource_from_json(b, blen, &rb, NULL);

	/* Raw bytes, canonical or not, well-formed or not. */
	for (int r = 0; r < 2; r++) {
		const struct resource_ignore *ign = r ? fuzz_rules() : NULL;

		buf_reset(&raw);
		buf_puts(&raw, "x");
		rc = resource_diff_canonical(a, alen, b, blen, ign,
					     parsed ? ra.type : "ec2_instance",
					     &raw);
		if (rc != 0 && rc != ELAVA_E_PARSE && rc != ELAVA_E_TOOBIG)
			abort();
		if (rc != 0 && (raw.len != 1 || raw.data[0] != 'x'))
			abort(); /* out must be left as it was */
		if (rc == 0 && parsed) {
			parsed_diff(&ra, &rb, ign, &want);
			if (raw.len != want.len + 1 ||
			    memcmp(raw.data + 1, want.data, want.len))
				abort();
		}
	}
	if (!parsed)
		goto out;

	if (resource_to_json(&ra, &ja) || resource_to_json(&rb, &jb))
		abort();
	for (int r = 0; r < 2; r++) {
		const struct resource_ignore *ign = r ? fuzz_rules() : NULL;

		check_canonical(&ra, &ja, &rb, &jb, ign);
		check_canonical(&rb, &jb, &ra, &ja, ign);
	}
out:
	buf_release(&ja);
	buf_release(&jb);
	buf_release(&raw);
	buf_release(&want);
	resource_release(&ra);
	resource_release(&rb);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	const char *text = (const char *)data;
	const char *nul = memchr(text, '\0', size);
	size_t alen = nul ? (size_t)(nul - text) : size / 2;
	size_t bstart = nul ? alen + 1 : alen;

	if (!nul) {
		check_record(text, size);
	} else {
		check_record(text, alen);
		check_record(text + bstart, size - bstart);
	}
	check_pair(text, alen, text + bstart, size - bstart);
	return 0;
}
