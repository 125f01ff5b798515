/*
 * What the query commands and the HTTP API share: turning "42", "2h" or an
 * RFC 3339 time into a revision, a bare id into a resource key, and a
 * stored version into the JSON object both print.
 */
#include "resource/resource.h"
#include "store/store.h"
#include "store_int.h"

#include <ctype.h>
#include <stdlib.h>
#include <string.h>

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The revision current at t; 0 before the first scan when allowed. */
static int revision_at(struct store *s, int64_t t, bool before_first,
		       uint64_t *rev, struct elava_error *err)
{
	int rc = store_revision_at_time(s, t, rev, err);

	if (rc == ELAVA_E_NOTFOUND && before_first) {
		*rev = 0;
		return 0;
	}
	return rc;
}

int store_point_parse(struct store *s, const char *arg, bool before_first,
		      uint64_t *rev, struct elava_error *err)
{
	int64_t t, age;

	if (all_digits(arg)) {
		char *end;
		unsigned long long v = strtoull(arg, &end, 10);
		uint64_t cur;
		int rc;
		if (v == 0 || *end)
			return elava_error_set(err, ELAVA_E_INVAL,
					       "revision '%s': revisions start "
					       "at 1",
					       arg);
		if ((rc = store_current_revision(s, &cur, err)))
			return rc;
		if (v > cur)
			return elava_error_set(
			    err, ELAVA_E_NOTFOUND,
			    "revision %llu does not exist yet (the newest is "
			    "%llu)",
			    v, (unsigned long long)cur);
		*rev = v;
		return 0;
	}
	if (!time_parse_rfc3339(arg, &t))
		return revision_at(s, t, before_first, rev, err);
	if (!duration_parse(arg, &age) && age >= 0)
		return revision_at(s, time_now_ns() - age, before_first, rev,
				   err);
	return elava_error_set(err, ELAVA_E_INVAL,
			       "'%s' is not a revision (42), a time "
			       "(2026-11-21T10:00:00Z) or an age (90m, 2h, 7d)",
			       arg);
}

struct id_matches {
	char *keys[5];
	size_t n;
};

static int collect_key(const char *key, bool live, void *ud)
{
	struct id_matches *m = ud;

	(void)live;
	if (m->n < ARRAY_SIZE(m->keys))
		m->keys[m->n] = xstrdup(key);
	m->n++;
	return 0;
}

int store_resolve_key(struct store *s, const char *arg, char **key,
		      struct elava_error *err)
{
	struct id_matches m = {0};
	int rc;

	*key = NULL;
	if (resource_key_scope_len(arg, strlen(arg))) {
		*key = xstrdup(arg);
		return 0;
	}
	if ((rc = store_find_id(s, arg, collect_key, &m, err)))
		goto out;
	if (m.n == 0) {
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "no resource with id '%s' in store '%s'",
				     arg, store_path(s));
	} else if (m.n == 1) {
		*key = m.keys[0];
		m.keys[0] = NULL;
	} else {
		struct buf list;
		buf_init(&list, 0);
		for (size_t i = 0; i < m.n && i < ARRAY_SIZE(m.keys); i++)
			buf_printf(&list, "\n  %s", m.keys[i]);
		if (m.n > ARRAY_SIZE(m.keys))
			buf_printf(&list, "\n  ... and %zu more",
				   m.n - ARRAY_SIZE(m.keys));
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "id '%s' matches %zu resources; give the "
				     "whole key:%s",
				     arg, m.n, list.data ? list.data : "");
		buf_release(&list);
	}
out:
	for (size_t i = 0; i < m.n && i < ARRAY_SIZE(m.keys); i++)
		xfree(m.keys[i]);
	return rc;
}

int store_item_json(const struct store_item *it, struct buf *out)
{
	char ts[TIME_RFC3339_LEN];

	buf_reset(out);
	time_format_rfc3339(it->time_ns, ts);
	if (it->json_len < 2 || it->json[0] != '{')
		return ELAVA_E_PARSE;
	return buf_puts(out, "{\"key\":") ||
		       buf_append_json_string(out, it->key, strlen(it->key)) ||
		       buf_printf(out, ",\"revision\":%llu,\"time\":\"%s\",",
				  (unsigned long long)it->revision, ts) ||
		       buf_append(out, it->json + 1, it->json_len - 1)
		   ? ELAVA_E_TOOBIG
		   : 0;
}

void store_set_ignore(struct store *s, const struct resource_ignore *ignore)
{
	s->ignore = ignore;
}
