/*
 * Volatile-field rules ("noise control"): which paths to leave out of the
 * fingerprint and the diff, per resource type or for every type. Rules are
 * kept parsed (segments) and in canonical spelling, so the fingerprint can
 * strip members without building path strings and the diff can match the
 * strings it builds anyway.
 */
#include "resource/resource_int.h"

#include <string.h>

struct resource_ignore *resource_ignore_new(void)
{
	return xcalloc(1, sizeof(struct resource_ignore));
}

void resource_ignore_free(struct resource_ignore **ip)
{
	struct resource_ignore *ign;

	if (!ip || !*ip)
		return;
	ign = *ip;
	for (size_t i = 0; i < ign->n; i++) {
		xfree(ign->rules[i].type);
		xfree(ign->rules[i].path);
		resource__segs_free(ign->rules[i].segs, ign->rules[i].nsegs);
	}
	xfree(ign->rules);
	xfree(ign);
	*ip = NULL;
}

/*
 * A rule must name something resource_diff can report, otherwise it is a
 * typo that would silently ignore nothing: name, status and created_at
 * have no parts; tags has one level of keys; a relationship is an element
 * with "type" and "target"; attributes go as deep as they like.
 */
static bool rule_shape_ok(const struct resource__seg *segs, size_t n)
{
	const char *field = segs[0].key;

	if (!strcmp(field, "name") || !strcmp(field, "status") ||
	    !strcmp(field, "created_at"))
		return n == 1;
	if (!strcmp(field, "tags"))
		return n == 1 || (n == 2 && segs[1].key);
	if (!strcmp(field, "relationships"))
		return n == 1 || (n == 2 && !segs[1].key) ||
		       (n == 3 && !segs[1].key && segs[2].key);
	return !strcmp(field, "attributes");
}

int resource_ignore_add(struct resource_ignore *ign, const char *type,
			const char *path)
{
	struct resource__rule rule = {0};
	struct buf canon = BUF_INIT;
	int rc;

	if (!ign || !path || (type && !*type))
		return ELAVA_E_INVAL;
	buf_init(&canon, 0);
	if ((rc = resource__path_parse(path, &rule.segs, &rule.nsegs, &canon)))
		goto out;
	if (!rule_shape_ok(rule.segs, rule.nsegs)) {
		rc = ELAVA_E_INVAL;
		goto out;
	}
	if (ign->n == ign->cap) {
		ign->cap = ign->cap ? st_mult(ign->cap, 2) : 8;
		ign->rules =
		    xrealloc(ign->rules, st_mult(ign->cap, sizeof(rule)));
	}
	rule.type = type && strcmp(type, "*") ? xstrdup(type) : NULL;
	rule.path = buf_detach(&canon, &rule.pathlen);
	ign->rules[ign->n++] = rule;
	rule.segs = NULL;
	rule.nsegs = 0;
out:
	resource__segs_free(rule.segs, rule.nsegs);
	buf_release(&canon);
	return rc;
}

static bool applies(const struct resource__rule *rule, const char *type)
{
	return !rule->type || (type && !strcmp(rule->type, type));
}

static bool path_match(const struct resource__rule *rule, const char *path,
		       size_t len)
{
	size_t rl = rule->pathlen;

	return rl <= len && !memcmp(path, rule->path, rl) &&
	       (rl == len || path[rl] == '.' || path[rl] == '[');
}

bool resource_ignore_match(const struct resource_ignore *ign, const char *type,
			   const char *path)
{
	size_t len;

	if (!ign || !path)
		return false;
	len = strlen(path);
	for (size_t i = 0; i < ign->n; i++)
		if (applies(&ign->rules[i], type) &&
		    path_match(&ign->rules[i], path, len))
			return true;
	return false;
}

bool resource__ignore_any(const struct resource_ignore *ign, const char *type)
{
	if (!ign)
		return false;
	for (size_t i = 0; i < ign->n; i++)
		if (applies(&ign->rules[i], type))
			return true;
	return false;
}

size_t resource__ignore_select(const struct resource_ignore *ign,
			       const char *type,
			       const struct resource__rule ***out)
{
	const struct resource__rule **sel;
	size_t n = 0;

	*out = NULL;
	if (!resource__ignore_any(ign, type))
		return 0;
	sel = xmalloc(st_mult(ign->n, sizeof(*sel)));
	for (size_t i = 0; i < ign->n; i++)
		if (applies(&ign->rules[i], type))
			sel[n++] = &ign->rules[i];
	*out = sel;
	return n;
}

bool resource__rules_match(const struct resource__rule *const *rules, size_t n,
			   const char *path, size_t len)
{
	for (size_t i = 0; i < n; i++)
		if (path_match(rules[i], path, len))
			return true;
	return false;
}

/*
 * Collect into sub the rules whose segment at `depth` names this member
 * (key) or element (key NULL, index). Returns true when one of them ends
 * here, i.e. the whole member is ignored.
 */
static bool select_child(const struct resource__rule *const *rules, size_t n,
			 size_t depth, const char *key, size_t index,
			 const struct resource__rule **sub, size_t *nsub)
{
	*nsub = 0;
	for (size_t i = 0; i < n; i++) {
		const struct resource__seg *s = &rules[i]->segs[depth];

		if (key ? !s->key || strcmp(s->key, key)
			: s->key || s->index != index)
			continue;
		if (rules[i]->nsegs == depth + 1)
			return true;
		sub[(*nsub)++] = rules[i];
	}
	return false;
}

struct ejson *resource__strip(const struct ejson *v,
			      const struct resource__rule *const *rules,
			      size_t n, size_t depth)
{
	const struct resource__rule **sub = NULL;
	struct ejson *res = NULL;
	enum ejson_type t = ejson_typeof(v);
	size_t nsub;

	if (n == 0 || (t != EJSON_OBJECT && t != EJSON_ARRAY))
		return ejson_incref((struct ejson *)v);
	sub = xmalloc(st_mult(n, sizeof(*sub)));
	if (t == EJSON_OBJECT) {
		size_t nkeys;
		const char **keys = ejson_object_sorted_keys(v, &nkeys);

		res = ejson_object();
		for (size_t i = 0; i < nkeys; i++) {
			if (select_child(rules, n, depth, keys[i], 0, sub,
					 &nsub))
				continue;
			ejson_object_set_take(
			    res, keys[i],
			    resource__strip(ejson_object_get(v, keys[i]), sub,
					    nsub, depth + 1));
		}
		xfree(keys);
	} else {
		size_t len = ejson_array_size(v);

		res = ejson_array();
		for (size_t i = 0; i < len; i++) {
			if (select_child(rules, n, depth, NULL, i, sub, &nsub))
				continue;
			ejson_array_append_take(
			    res, resource__strip(ejson_array_get(v, i), sub,
						 nsub, depth + 1));
		}
	}
	xfree(sub);
	return res;
}
