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
#define RESOURCE_MAX_FIELD 2048	       /* identity fields, name, status */
#define RESOURCE_MAX_TAGS 256	       /* AWS allows 50; leave headroom */
#define RESOURCE_MAX_TAG_KEY 512
#define RESOURCE_MAX_TAG_VALUE 4096
#define RESOURCE_MAX_RELS 1024
#define RESOURCE_MAX_JSON ((size_t)1 << 20) /* canonical form, bytes */

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
	char *name;   /* may be NULL: no name */
	char *status; /* may be NULL */
	int64_t created_at_ns; /* 0: unknown */
	struct resource_tag *tags; /* sorted by key, unique keys */
	size_t ntags;
	struct ejson *attributes; /* always an object once initialised */
	struct resource_rel *rels; /* sorted by (type, target), unique */
	size_t nrels;
};

/* Zero the record and give it an empty attributes object. */
void resource_init(struct resource *r);
/* Free everything the record owns; it can be re-initialised. */
void resource_release(struct resource *r);

/* Replace one owned string field (*field) with a copy of v (NULL clears). */
void resource_set(char **field, const char *v);

/* Set (insert or replace) a tag, keeping tags sorted. Returns 0. */
int resource_tag_set(struct resource *r, const char *key, const char *value);
/* Tag value or NULL. */
const char *resource_tag_get(const struct resource *r, const char *key);
/* Add a relationship, keeping rels sorted and unique. Returns 0. */
int resource_rel_add(struct resource *r, const char *type, const char *target);

/*
 * Check a record is storable: provider/account/region/type/id non-empty and
 * without ':' (id may contain ':'), every string valid UTF-8 without control
 * characters in identity fields, caps respected, attributes an object.
 * Returns 0 or ELAVA_E_INVAL / ELAVA_E_TOOBIG with err naming the field
 * ("tag 'Env' value is not valid UTF-8").
 */
int resource_validate(const struct resource *r, struct elava_error *err);

/* Append the identity key "provider:account:region:type:id" to out. */
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
 *  "relationships","status","tags","type"}; created_at as RFC 3339 or null,
 * name/status null when unset, tags an object, relationships an array of
 * {"target","type"}. The key is not part of it (it is derived).
 */
int resource_to_json(const struct resource *r, struct buf *out);

/*
 * Parse a canonical (or any equivalent) JSON form back into r (which must
 * be initialised; previous contents are released). Validates like
 * resource_validate. Errors: ELAVA_E_PARSE, ELAVA_E_INVAL, ELAVA_E_TOOBIG.
 */
int resource_from_json(const char *json, size_t len, struct resource *r,
		       struct elava_error *err);

/* ------------------------------------------------------- volatile fields */

/*
 * Fields to leave out of the fingerprint and the diff ("noise control").
 * A rule is a path as produced by the diff ("status", "tags.LastScan",
 * "attributes.launch_time", "attributes.state.code") for one type or, with
 * type NULL or "*", for every type. A rule also covers everything below
 * its path.
 */
struct resource_ignore;

struct resource_ignore *resource_ignore_new(void);
void resource_ignore_free(struct resource_ignore **ip);
/* Returns 0 or ELAVA_E_INVAL when the path is empty or malformed. */
int resource_ignore_add(struct resource_ignore *ign, const char *type,
			const char *path);
/* True when `path` (or a parent of it) is ignored for `type`. */
bool resource_ignore_match(const struct resource_ignore *ign,
			   const char *type, const char *path);

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
 * Validate and encode r (ign may be NULL). Reuses e's buffers. Returns 0 or
 * the resource_validate errors.
 */
int resource_encode(const struct resource *r,
		    const struct resource_ignore *ign,
		    struct resource_encoded *e, struct elava_error *err);

/* ------------------------------------------------------------------ diff */

struct resource_field_change {
	char *path;	       /* "tags.Env", "attributes.volumes[0].size" */
	struct ejson *old_value; /* NULL: field absent before */
	struct ejson *new_value; /* NULL: field absent after */
};

struct resource_diff {
	struct resource_field_change *fields;
	size_t n;
};

/*
 * Field-level diff of two versions of one resource (identity fields are
 * assumed equal). Compares name, status, created_at, tags (per key),
 * attributes (recursively: object members by key, arrays by index) and
 * relationships (by index). Ignored paths (ign may be NULL) are skipped.
 * Paths come out in a deterministic order: fields alphabetically, object
 * keys sorted byte-wise, array elements by index. Path syntax: members
 * joined by '.', array indexes as "[i]"; a key that is empty or contains
 * '.', '[', ']', '"' or '\\' is written as ["<JSON-escaped key>"].
 * out must be zeroed or released; it is overwritten. Returns 0.
 */
int resource_diff(const struct resource *a, const struct resource *b,
		  const struct resource_ignore *ign, struct resource_diff *out);
void resource_diff_release(struct resource_diff *d);
/*
 * Append the diff as a JSON array [{"path","old","new"}...] (absent values
 * as null), canonical.
 */
int resource_diff_to_json(const struct resource_diff *d, struct buf *out);

#endif /* ELAVA_RESOURCE_H */
