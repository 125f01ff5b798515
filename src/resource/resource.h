/*
 * resource — the record Elava keeps for every cloud resource: identity,
 * descriptive fields, tags, type-specific attributes and relationships; its
 * canonical JSON form (same resource, same bytes), its fingerprint (SHA-256
 * of the canonical form minus volatile fields), and the field-level diff of
 * two versions. Pure data: no I/O.
 *
 * Identity: "<provider>:<account>:<region>:<type>:<id>", e.g.
 * "aws:123456789012:us-east-1:ec2_instance:i-0abc". provider, account,
 * region and type never contain ':'; id may (ARNs). region is "global" for
 * global services. The prefix up to the fourth ':' is the resource's
 * *scope* (provider:account:region:type), the unit of listing completeness.
 */
#ifndef ELAVA_RESOURCE_H
#define ELAVA_RESOURCE_H

#include "core/core.h"

/* Caps on outside input (a record is built from cloud API responses). */
#define RESOURCE_MAX_FIELD     2048 /* identity fields, name, status */
#define RESOURCE_MAX_TAGS      256  /* AWS allows 50; leave headroom */
#define RESOURCE_MAX_TAG_KEY   512
#define RESOURCE_MAX_TAG_VALUE 4096
#define RESOURCE_MAX_RELS      1024
#define RESOURCE_MAX_JSON      ((size_t)1 << 20) /* canonical form, bytes */
/* A whole key: five fields and four ':' (relationship targets are keys). */
#define RESOURCE_MAX_KEY (5 * RESOURCE_MAX_FIELD + 4)

struct resource_tag {
	char *key;
	char *value;
};

/* A directed edge to another resource, e.g. {"attached_to", "aws:...:i-1"}. */
struct resource_rel {
	char *type;
	char *target;
};

struct resource {
	char *provider; /* "aws" */
	char *account;
	char *region;
	char *type; /* "ec2_instance", "ebs_volume", ... */
	char *id;
	char *name;		   /* may be NULL: no name */
	char *status;		   /* may be NULL */
	int64_t created_at_ns;	   /* 0: unknown */
	struct resource_tag *tags; /* sorted by key, unique keys */
	size_t ntags;
	struct ejson *attributes;  /* always an object once initialised */
	struct resource_rel *rels; /* sorted by (type, target), unique */
	size_t nrels;
};

/* Zero the record and give it an empty attributes object. */
void resource_init(struct resource *r);
/* Free everything the record owns; it can be re-initialised. */
void resource_release(struct resource *r);

/* Replace one owned string field (*field) with a copy of v (NULL clears). */
void resource_set(char **field, const char *v);

/*
 * Set (insert or replace) a tag, keeping tags sorted by key (strcmp).
 * Copies both strings. Returns 0, or ELAVA_E_INVAL when key or value is
 * NULL. Caps are not checked here; resource_validate checks them.
 */
int resource_tag_set(struct resource *r, const char *key, const char *value);
/* Tag value or NULL (binary search: tags must be sorted). */
const char *resource_tag_get(const struct resource *r, const char *key);
/*
 * Add a relationship, keeping rels sorted by (type, target) and unique (an
 * edge already present is not added twice). Copies both strings. Returns
 * 0, or ELAVA_E_INVAL when type or target is NULL.
 */
int resource_rel_add(struct resource *r, const char *type, const char *target);

/*
 * Check a record is storable: provider/account/region/type/id non-empty and
 * without ':' (id may contain ':'), every string valid UTF-8 without control
 * characters (bytes < 0x20 and 0x7f) in identity fields, caps respected,
 * attributes an object. Tags must be sorted by key and unique, with
 * non-empty keys; relationships sorted and unique, type and target
 * non-empty without control characters (target capped at
 * RESOURCE_MAX_KEY). resource_tag_set and resource_rel_add keep that
 * order; arrays filled by hand must too, or the canonical form would not be
 * canonical.
 * Returns 0 or ELAVA_E_INVAL / ELAVA_E_TOOBIG with err naming the field:
 * "resource has an empty id", "resource region 'us:east-1' contains ':'"
 * while the identity is invalid, then "resource '<key>': tag 'Env' value
 * is not valid UTF-8". Quoted values are cut short and control characters
 * shown as '?'.
 */
int resource_validate(const struct resource *r, struct elava_error *err);

/*
 * Append the identity key "provider:account:region:type:id" to out.
 * Returns 0, ELAVA_E_INVAL when an identity field is NULL, or
 * ELAVA_E_TOOBIG from out's cap (out is then unchanged).
 */
int resource_key(const struct resource *r, struct buf *out);

/*
 * Length of the scope prefix "provider:account:region:type" of a key, or 0
 * when the key does not have four ':'-separated fields before a non-empty
 * id.
 */
size_t resource_key_scope_len(const char *key, size_t keylen);

/*
 * Canonical JSON of the record, appended to out. Keys sorted:
 * {"account","attributes","created_at","id","name","provider","region",
 *  "relationships","status","tags","type"}; created_at as RFC 3339 UTC
 * with millisecond precision ("2026-11-21T10:00:00.123Z", nanoseconds
 * below the millisecond are dropped) or null when 0, name/status null when
 * unset, tags an object, relationships an array of {"target","type"},
 * attributes as ejson_dump_canonical writes them. No whitespace, strings
 * escaped as ejson_dump_canonical does, so the whole is canonical JSON.
 * The key is not part of it (it is derived).
 * Does not validate (resource_encode does): an unsorted tag array gives
 * non-canonical output. Returns 0, ELAVA_E_INVAL when an identity field or
 * attributes is NULL, or ELAVA_E_TOOBIG from out's cap; on error out is
 * left as it was.
 */
int resource_to_json(const struct resource *r, struct buf *out);

/*
 * Parse a canonical (or any equivalent) JSON form back into r (which must
 * be initialised; on success its previous contents are released, on error
 * it is left unchanged). Validates like resource_validate.
 * Accepted: exactly the members resource_to_json writes, in any order and
 * spacing; provider/account/region/type/id are required, the others may
 * be missing (meaning null, {} or []). created_at may carry any RFC 3339
 * offset and precision; it is kept to the millisecond (rounded down), so
 * resource_to_json(resource_from_json(j)) is stable and from_json of
 * to_json(r) gives r back except for sub-millisecond created_at.
 * Duplicate relationships collapse into one.
 * Errors: ELAVA_E_PARSE (not JSON), ELAVA_E_INVAL (unknown member, wrong
 * type, bad created_at, resource_validate failures; err names the member),
 * ELAVA_E_TOOBIG (len > RESOURCE_MAX_JSON, too many tags or relationships,
 * nesting deeper than EJSON_MAX_DEPTH).
 */
int resource_from_json(const char *json, size_t len, struct resource *r,
		       struct elava_error *err);

/* ------------------------------------------------------- volatile fields */

/*
 * Fields to leave out of the fingerprint and the diff ("noise control").
 * A rule is a path as produced by the diff ("status", "tags.LastScan",
 * "attributes.launch_time", "attributes.state.code",
 * "attributes.volumes[0]", 'tags["k8s.io/name"]') for one type or, with
 * type NULL or "*", for every type. A rule also covers everything below
 * its path. An ignored array element is dropped from the fingerprint's
 * input (later elements move up), matching what the diff skips.
 * A set is built once and then only read: sharing it between threads that
 * encode or diff is safe.
 */
struct resource_ignore;

/* An empty set; never NULL (aborts on OOM). */
struct resource_ignore *resource_ignore_new(void);
/* NULL-safe; clears *ip. */
void resource_ignore_free(struct resource_ignore **ip);
/*
 * Add a rule; path is copied and stored in the diff's canonical spelling
 * (so 'attributes["x"][01]' matches "attributes.x[1]"). It must name
 * something the diff can report: "name", "status", "created_at", "tags",
 * "tags.<key>", "attributes[...]" at any depth, "relationships",
 * "relationships[i]", "relationships[i].<member>". Identity fields cannot
 * be ignored. Returns 0 or ELAVA_E_INVAL when the path is empty, malformed
 * or names nothing, or type is "".
 */
int resource_ignore_add(struct resource_ignore *ign, const char *type,
			const char *path);
/*
 * True when `path` (or a parent of it) is ignored for `type`: a rule's path
 * equals it or is followed in it by '.' or '['. type NULL matches only the
 * rules for every type; ign NULL matches nothing.
 */
bool resource_ignore_match(const struct resource_ignore *ign, const char *type,
			   const char *path);

/* ------------------------------------------------------------- encoding */

#define RESOURCE_FP_LEN SHA256_LEN

/*
 * A record ready for the store: key, canonical JSON, fingerprint. The
 * fingerprint is SHA-256 of the canonical JSON with the ignored fields of
 * the record's type removed (equal to SHA-256 of `json` when none apply).
 */
struct resource_encoded {
	struct buf key;
	struct buf json;
	uint8_t fingerprint[RESOURCE_FP_LEN];
};

void resource_encoded_init(struct resource_encoded *e);
void resource_encoded_release(struct resource_encoded *e);
/*
 * Validate and encode r (ign may be NULL). Reuses e's buffers (e must have
 * been through resource_encoded_init). Returns 0, the resource_validate
 * errors, or ELAVA_E_TOOBIG when the canonical form exceeds
 * RESOURCE_MAX_JSON; on error e's contents are unspecified.
 */
int resource_encode(const struct resource *r, const struct resource_ignore *ign,
		    struct resource_encoded *e, struct elava_error *err);

/* ------------------------------------------------------------------ diff */

struct resource_field_change {
	char *path;		 /* "tags.Env", "attributes.volumes[0].size" */
	struct ejson *old_value; /* NULL: field absent before */
	struct ejson *new_value; /* NULL: field absent after */
};

struct resource_diff {
	struct resource_field_change *fields;
	size_t n;
};

/*
 * Field-level diff of two versions of one resource (identity fields are
 * assumed equal; the ignore rules of a->type apply). Compares name,
 * status, created_at, tags (per key), attributes (recursively: object
 * members by key, arrays by index) and relationships (by index, each an
 * object {"target","type"}). Ignored paths (ign may be NULL) are skipped
 * with everything below them.
 * Paths come out in a deterministic order: fields alphabetically, object
 * keys sorted byte-wise, array elements by index. Path syntax: members
 * joined by '.', array indexes as "[i]"; a key that is empty or contains
 * '.', '[', ']', '"' or '\\' is written as ["<JSON-escaped key>"].
 * Values: a member or element present on one side only is reported whole
 * with NULL on the other side (so are unset name/status and a created_at
 * of 0); a value whose JSON type changed (numbers count as one type, 1
 * equals 1.0) is reported whole; created_at as its RFC 3339 string. The
 * values are deep copies owned by the diff.
 * out must be zeroed or released; it is overwritten. Returns 0 (or
 * ELAVA_E_TOOBIG should a path outgrow BUF_DEFAULT_MAX, which records
 * within RESOURCE_MAX_JSON cannot).
 */
int resource_diff(const struct resource *a, const struct resource *b,
		  const struct resource_ignore *ign, struct resource_diff *out);
void resource_diff_release(struct resource_diff *d);
/*
 * Append the diff as a JSON array [{"new","old","path"}...] (absent values
 * as null), canonical. Returns 0 or ELAVA_E_TOOBIG (out then unchanged).
 */
int resource_diff_to_json(const struct resource_diff *d, struct buf *out);

/*
 * The field diff of two canonical resource JSON texts (as resource_to_json
 * writes them), appended to out exactly as
 * resource_diff_to_json(resource_diff(from_json(a), from_json(b), ign)) would
 * append it — same paths, same order, same values, byte for byte — but
 * computed by walking the two texts in step, without parsing them into
 * values (no allocation beyond out, a path buffer, a key scratch buffer
 * and the rule selection). Unchanged parts are skipped by comparing bytes,
 * a changed value is reported as its own text. `type` selects the ignore
 * rules (the record's type; NULL: only the rules for every type); ign may
 * be NULL.
 * Returns 0, ELAVA_E_PARSE when either text is NULL, not well-formed JSON
 * (nesting capped at EJSON_MAX_DEPTH) or not in the canonical form, or
 * ELAVA_E_TOOBIG (a text longer than RESOURCE_MAX_JSON, or out's cap);
 * on error out is left as it was. Callers fall back to the parsing path on
 * ELAVA_E_PARSE. The canonical form, as checked: an object with exactly
 * the eleven members resource_to_json writes, in its order; object keys
 * strictly increasing byte-wise (unescaped); strings valid UTF-8 escaped
 * only as the canonical writer does; integers without "-0", within int64;
 * created_at null or as resource_to_json prints a non-zero time; name and
 * status strings or null; tags an object of strings; relationships sorted
 * unique {"target","type"} string pairs. Reals must be spelled as
 * ejson_dump_canonical spells them where they are compared or reported (a
 * part equal byte for byte in both texts cannot change the result, and
 * is not re-read). Whitespace between tokens is tolerated (and left out
 * of reported values). What resource_validate checks beyond that (caps,
 * identity spelling) is not re-checked. Thread-safe for distinct out
 * buffers (ign is only read).
 */
int resource_diff_canonical(const char *a, size_t alen, const char *b,
			    size_t blen, const struct resource_ignore *ign,
			    const char *type, struct buf *out);

#endif /* ELAVA_RESOURCE_H */
