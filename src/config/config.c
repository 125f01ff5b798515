/*
 * config — the key table and everything but the YAML reader (load.c):
 * defaults, the value parsers and checks every source shares, the
 * environment, flags (config_set), where each value came from, and the
 * dump. Each key is one row of config__keys; the loaders, the dump and
 * docs/configuration.md follow that table, so adding a key is one row
 * (and a field in struct config).
 */
#include "config/config.h"
#include "config/config_int.h"

#include <math.h>
#include <stddef.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define NS_PER_SEC 1000000000LL

#define OFF(field) offsetof(struct config, field)

static const char *const providers[] = {"aws", NULL};
static const char *const log_levels[] = {"debug", "info", "warn", "error",
					 NULL};
static const char *const log_formats[] = {"text", "json", NULL};

/*
 * The keys, grouped by section in the order the dump and the docs show
 * them. `def` is parsed at config_init like any other value, so a default
 * is written the way a user would write it.
 */
const struct config__key config__keys[] = {
    {.path = "daemon.reconciliation_interval",
     .env = "ELAVA_RECONCILIATION_INTERVAL",
     .type = CONFIG_T_DURATION,
     .offset = OFF(reconciliation_interval_ns),
     .def = "5m",
     /* Short intervals are for tests (memory over 1,000 iterations). */
     .min = NS_PER_SEC / 10,
     .what = "a duration like 5m"},
    {.path = "daemon.metrics_port",
     .env = "ELAVA_METRICS_PORT",
     .type = CONFIG_T_INT,
     .offset = OFF(metrics_port),
     .def = "2112",
     .min = 1,
     .max = 65535,
     .what = "a port (1-65535)"},
    {.path = "daemon.listen",
     .env = "ELAVA_LISTEN",
     .type = CONFIG_T_STRING,
     .offset = OFF(listen),
     .def = "0.0.0.0",
     .what = "an address"},
    {.path = "daemon.graceful_shutdown_timeout",
     .env = "ELAVA_GRACEFUL_SHUTDOWN_TIMEOUT",
     .type = CONFIG_T_DURATION,
     .offset = OFF(graceful_shutdown_timeout_ns),
     .def = "30s",
     .what = "a duration like 30s"},
    {.path = "daemon.reconciliation_timeout",
     .env = "ELAVA_RECONCILIATION_TIMEOUT",
     .type = CONFIG_T_DURATION,
     .offset = OFF(reconciliation_timeout_ns),
     .def = "0",
     .what = "a duration like 4m (0: the interval)"},
    {.path = "daemon.unhealthy_after",
     .env = "ELAVA_UNHEALTHY_AFTER",
     .type = CONFIG_T_DURATION,
     .offset = OFF(unhealthy_after_ns),
     .def = "0",
     .what = "a duration like 15m (0: three intervals)"},
    {.path = "daemon.api_token_file",
     .env = "ELAVA_API_TOKEN_FILE",
     .type = CONFIG_T_STRING,
     .offset = OFF(api_token_file),
     .what = "a file path"},
    {.path = "cloud.provider",
     .env = "ELAVA_CLOUD_PROVIDER",
     .type = CONFIG_T_ENUM,
     .offset = OFF(provider),
     .def = "aws",
     .choices = providers},
    {.path = "cloud.region",
     .env = "ELAVA_CLOUD_REGION",
     .type = CONFIG_T_LIST,
     .offset = OFF(regions),
     .what = "a region or a sequence of regions"},
    {.path = "cloud.all_regions",
     .env = "ELAVA_CLOUD_ALL_REGIONS",
     .type = CONFIG_T_BOOL,
     .offset = OFF(all_regions),
     .def = "false",
     .what = "true or false"},
    {.path = "cloud.profile",
     .env = "ELAVA_CLOUD_PROFILE",
     .type = CONFIG_T_STRING,
     .offset = OFF(profile),
     .what = "a profile name"},
    {.path = "cloud.concurrency",
     .env = "ELAVA_CLOUD_CONCURRENCY",
     .type = CONFIG_T_INT,
     .offset = OFF(concurrency),
     .def = "8",
     .min = 1,
     .max = 64,
     .what = "an integer from 1 to 64"},
    {.path = "cloud.requests_per_second",
     .env = "ELAVA_CLOUD_REQUESTS_PER_SECOND",
     .type = CONFIG_T_FLOAT,
     .offset = OFF(requests_per_second),
     .def = "20",
     .what = "a number greater than 0"},
    {.path = "storage.path",
     .env = "ELAVA_STORAGE_PATH",
     .type = CONFIG_T_STRING,
     .offset = OFF(storage_path),
     .what = "a directory path"},
    {.path = "logging.level",
     .env = "ELAVA_LOG_LEVEL",
     .type = CONFIG_T_ENUM,
     .offset = OFF(log_level),
     .def = "info",
     .choices = log_levels},
    {.path = "logging.format",
     .env = "ELAVA_LOG_FORMAT",
     .type = CONFIG_T_ENUM,
     .offset = OFF(log_format),
     .def = "text",
     .choices = log_formats},
    {.path = "scan.types",
     .env = "ELAVA_SCAN_TYPES",
     .type = CONFIG_T_LIST,
     .offset = OFF(types),
     .what = "a resource type or a sequence of them"},
    {.path = "scan.exclude_types",
     .env = "ELAVA_SCAN_EXCLUDE_TYPES",
     .type = CONFIG_T_LIST,
     .offset = OFF(exclude_types),
     .what = "a resource type or a sequence of them"},
    {.path = "scan.ignore",
     .type = CONFIG_T_IGNORE,
     .offset = OFF(ignore),
     .what = "a mapping of resource type to a sequence of field paths"},
};

const size_t config__nkeys = ARRAY_SIZE(config__keys);

_Static_assert(ARRAY_SIZE(config__keys) <= CONFIG_MAX_KEYS,
	       "raise CONFIG_MAX_KEYS in config.h");

/* ------------------------------------------------------------ the table */

static void *field(struct config *c, const struct config__key *k)
{
	return (char *)c + k->offset;
}

static const void *cfield(const struct config *c, const struct config__key *k)
{
	return (const char *)c + k->offset;
}

static size_t key_idx(const struct config__key *k)
{
	return (size_t)(k - config__keys);
}

/* Length of the section part of a path ("daemon" of "daemon.listen"). */
static size_t section_len(const char *path)
{
	const char *dot = strchr(path, '.');

	return dot ? (size_t)(dot - path) : strlen(path);
}

int config__key_index(const char *path, size_t len)
{
	for (size_t i = 0; i < config__nkeys; i++) {
		if (strlen(config__keys[i].path) == len &&
		    !memcmp(config__keys[i].path, path, len))
			return (int)i;
	}
	return -1;
}

void config__what(const struct config__key *k, char *out, size_t outlen)
{
	size_t n;

	if (k->type != CONFIG_T_ENUM) {
		snprintf(out, outlen, "%s", k->what);
		return;
	}
	n = (size_t)snprintf(out, outlen, "one of");
	for (size_t i = 0; k->choices[i] && n < outlen; i++)
		n += (size_t)snprintf(out + n, outlen - n, "%s %s",
				      i ? "," : "", k->choices[i]);
}

void config__unknown_key(const char *path, size_t len, char *why, size_t whylen)
{
	const char *dot = memchr(path, '.', len);
	size_t slen = dot ? (size_t)(dot - path) : len;
	char shown[96];
	int sec = -1;
	size_t n;

	config__show(path, len, shown, sizeof(shown));
	for (size_t i = 0; i < config__nkeys && sec < 0; i++) {
		const char *p = config__keys[i].path;
		if (section_len(p) == slen && !memcmp(p, path, slen))
			sec = (int)i;
	}
	if (sec >= 0) {
		n = (size_t)snprintf(why, whylen,
				     "unknown key %s (valid keys under '%.*s':",
				     shown, (int)slen, path);
		for (size_t i = (size_t)sec; i < config__nkeys && n < whylen;
		     i++) {
			const char *p = config__keys[i].path;
			if (section_len(p) != slen || memcmp(p, path, slen))
				break;
			n += (size_t)snprintf(why + n, whylen - n, "%s %s",
					      i > (size_t)sec ? "," : "",
					      p + slen + 1);
		}
	} else {
		n = (size_t)snprintf(why, whylen,
				     "unknown key %s (valid sections:", shown);
		for (size_t i = 0; i < config__nkeys && n < whylen; i++) {
			const char *p = config__keys[i].path;
			size_t pl = section_len(p);
			if (i && section_len(config__keys[i - 1].path) == pl &&
			    !memcmp(config__keys[i - 1].path, p, pl))
				continue;
			n += (size_t)snprintf(why + n, whylen - n, "%s %.*s",
					      i ? "," : "", (int)pl, p);
		}
	}
	if (n < whylen)
		snprintf(why + n, whylen - n, ")");
}

/* -------------------------------------------------------- value parsing */

void config__show(const char *text, size_t len, char *out, size_t outlen)
{
	static const size_t max_shown = 64;
	bool utf8 = utf8_valid(text, len);
	size_t o = 0;

	if (outlen < 8) {
		if (outlen)
			out[0] = '\0';
		return;
	}
	out[o++] = '\'';
	for (size_t i = 0; i < len; i++) {
		unsigned char ch = (unsigned char)text[i];
		if (i >= max_shown || o + 8 >= outlen) {
			memcpy(out + o, "...", 3);
			o += 3;
			break;
		}
		if ((ch >= 0x20 && ch < 0x7f) || (ch >= 0x80 && utf8))
			out[o++] = (char)ch;
		else
			o += (size_t)snprintf(out + o, outlen - o, "\\x%02x",
					      ch);
	}
	out[o++] = '\'';
	out[o] = '\0';
}

int config__check_string(const char *text, size_t len, char *why, size_t whylen)
{
	if (len == 0) {
		snprintf(why, whylen, "the value is empty");
		return ELAVA_E_INVAL;
	}
	if (len > CONFIG_STRING_MAX) {
		snprintf(why, whylen, "the value is longer than %d bytes",
			 CONFIG_STRING_MAX);
		return ELAVA_E_TOOBIG;
	}
	if (memchr(text, '\0', len)) {
		snprintf(why, whylen, "the value contains a NUL byte");
		return ELAVA_E_INVAL;
	}
	if (!utf8_valid(text, len)) {
		snprintf(why, whylen, "the value is not valid UTF-8");
		return ELAVA_E_INVAL;
	}
	return 0;
}

static int duration_value(const char *s, int64_t *ns)
{
	if (!strcmp(s, "0")) {
		*ns = 0;
		return 0;
	}
	return duration_parse(s, ns);
}

/* Shortest %g that reads back as the same double. */
static void float_format(double d, char *out, size_t outlen)
{
	for (int prec = 15; prec <= 17; prec++) {
		snprintf(out, outlen, "%.*g", prec, d);
		if (strtod(out, NULL) == d)
			return;
	}
}

union value {
	int64_t i;
	double f;
	bool b;
	char *s;
};

/* Parse text as key k's type; *v owns a string for STRING/ENUM. */
static int parse_scalar(const struct config__key *k, const char *text,
			size_t len, union value *v, char *why, size_t whylen)
{
	char s[64], shown[96], what[160];
	char *end;
	int rc;

	if ((rc = config__check_string(text, len, why, whylen)))
		return rc;
	config__show(text, len, shown, sizeof(shown));
	config__what(k, what, sizeof(what));
	if (k->type == CONFIG_T_STRING) {
		v->s = xstrndup(text, len);
		return 0;
	}
	if (k->type == CONFIG_T_ENUM) {
		for (size_t i = 0; k->choices[i]; i++) {
			if (strlen(k->choices[i]) == len &&
			    !strncasecmp(k->choices[i], text, len)) {
				v->s = xstrdup(k->choices[i]);
				return 0;
			}
		}
		goto bad;
	}
	if (len >= sizeof(s))
		goto bad;
	memcpy(s, text, len);
	s[len] = '\0';
	switch (k->type) {
	case CONFIG_T_DURATION:
		if (duration_value(s, &v->i))
			goto bad;
		if (v->i < k->min) {
			char min[64];
			duration_format(k->min, min, sizeof(min));
			snprintf(why, whylen, "%s is below the minimum of %s",
				 shown, min);
			return ELAVA_E_INVAL;
		}
		return 0;
	case CONFIG_T_INT: {
		long long i;
		if (!((s[0] >= '0' && s[0] <= '9') ||
		      ((s[0] == '-' || s[0] == '+') && s[1] >= '0' &&
		       s[1] <= '9')))
			goto bad;
		i = strtoll(s, &end, 10);
		if (*end || i < k->min || i > k->max)
			goto bad;
		v->i = i;
		return 0;
	}
	case CONFIG_T_FLOAT:
		/* Decimal only: no hex floats, inf or nan. */
		if (strspn(s, "0123456789.eE+-") != len)
			goto bad;
		v->f = strtod(s, &end);
		if (*end || !isfinite(v->f) || !(v->f > 0))
			goto bad;
		return 0;
	case CONFIG_T_BOOL:
		if (!strcasecmp(s, "true") || !strcasecmp(s, "yes") ||
		    !strcasecmp(s, "on") || !strcmp(s, "1"))
			v->b = true;
		else if (!strcasecmp(s, "false") || !strcasecmp(s, "no") ||
			 !strcasecmp(s, "off") || !strcmp(s, "0"))
			v->b = false;
		else
			goto bad;
		return 0;
	case CONFIG_T_STRING:
	case CONFIG_T_ENUM:
	case CONFIG_T_LIST:
	case CONFIG_T_IGNORE: break;
	}
bad:
	snprintf(why, whylen, "%s is not %s", shown, what);
	return ELAVA_E_INVAL;
}

static void set_origin(struct config *c, const struct config__key *k,
		       enum config_source src, unsigned line)
{
	c->origin[key_idx(k)] = (unsigned char)src;
	c->origin_line[key_idx(k)] = line;
}

int config__set_scalar(struct config *c, const struct config__key *k,
		       const char *text, size_t len, enum config_source src,
		       unsigned line, char *why, size_t whylen)
{
	union value v;
	int rc;

	if ((rc = parse_scalar(k, text, len, &v, why, whylen)))
		return rc;
	switch (k->type) {
	case CONFIG_T_DURATION: *(int64_t *)field(c, k) = v.i; break;
	case CONFIG_T_INT: *(int *)field(c, k) = (int)v.i; break;
	case CONFIG_T_FLOAT: *(double *)field(c, k) = v.f; break;
	case CONFIG_T_BOOL: *(bool *)field(c, k) = v.b; break;
	case CONFIG_T_STRING:
	case CONFIG_T_ENUM:
		xfree(*(char **)field(c, k));
		*(char **)field(c, k) = v.s;
		break;
	case CONFIG_T_LIST:
	case CONFIG_T_IGNORE: abort(); /* not scalars: a bug */
	}
	set_origin(c, k, src, line);
	return 0;
}

/* ----------------------------------------------------------------- lists */

/* Capacity for n items: 0, then powers of two from 4. */
static size_t list_cap(size_t n)
{
	size_t cap = 4;

	if (!n)
		return 0;
	while (cap < n)
		cap *= 2;
	return cap;
}

void config__list_clear(struct config_list *l)
{
	for (size_t i = 0; i < l->n; i++) {
		xfree(l->v[i].value);
		xfree(l->v[i].type);
	}
	xfree(l->v);
	l->v = NULL;
	l->n = 0;
}

int config__list_add(struct config_list *l, const char *type, size_t tlen,
		     const char *text, size_t len, unsigned line, char *why,
		     size_t whylen)
{
	struct config_item *it;
	int rc;

	if (l->n >= CONFIG_LIST_MAX) {
		snprintf(why, whylen, "more than %d items", CONFIG_LIST_MAX);
		return ELAVA_E_TOOBIG;
	}
	if ((rc = config__check_string(text, len, why, whylen)))
		return rc;
	if (type && (rc = config__check_string(type, tlen, why, whylen)))
		return rc;
	if (list_cap(l->n + 1) != list_cap(l->n))
		l->v = xrealloc(l->v, st_mult(list_cap(l->n + 1), sizeof(*it)));
	it = &l->v[l->n++];
	it->value = xstrndup(text, len);
	it->type = type ? xstrndup(type, tlen) : NULL;
	it->line = line;
	return 0;
}

static void list_copy(struct config_list *dst, const struct config_list *src)
{
	dst->n = src->n;
	dst->v = NULL;
	if (!src->n)
		return;
	dst->v = xmalloc(st_mult(list_cap(src->n), sizeof(*dst->v)));
	for (size_t i = 0; i < src->n; i++) {
		dst->v[i].value = xstrdup(src->v[i].value);
		dst->v[i].type =
		    src->v[i].type ? xstrdup(src->v[i].type) : NULL;
		dst->v[i].line = src->v[i].line;
	}
}

static bool str_eq(const char *a, const char *b)
{
	return a == b || (a && b && !strcmp(a, b));
}

static bool list_equal(const struct config_list *a, const struct config_list *b)
{
	if (a->n != b->n)
		return false;
	for (size_t i = 0; i < a->n; i++) {
		if (!str_eq(a->v[i].value, b->v[i].value) ||
		    !str_eq(a->v[i].type, b->v[i].type))
			return false;
	}
	return true;
}

/* Reorder so the items of one type are together, in first-seen order. */
static void ignore_group(struct config_list *l)
{
	struct config_item *v;
	bool *done;
	size_t o = 0;

	if (l->n < 2)
		return;
	v = xmalloc(st_mult(list_cap(l->n), sizeof(*v)));
	done = xcalloc(l->n, sizeof(*done));
	for (size_t i = 0; i < l->n; i++) {
		if (done[i])
			continue;
		for (size_t j = i; j < l->n; j++) {
			if (!done[j] && !strcmp(l->v[j].type, l->v[i].type)) {
				v[o++] = l->v[j];
				done[j] = true;
			}
		}
	}
	xfree(done);
	xfree(l->v);
	l->v = v;
}

static void trim(const char **p, const char **end)
{
	while (*p < *end && (**p == ' ' || **p == '\t'))
		(*p)++;
	while (*end > *p && ((*end)[-1] == ' ' || (*end)[-1] == '\t'))
		(*end)--;
}

/*
 * A list from comma-separated text (environment, flags): items trimmed
 * of blanks; scan.ignore items are TYPE=PATH. Replaces the list of key k.
 */
static int list_from_text(struct config *c, const struct config__key *k,
			  const char *text, char *why, size_t whylen)
{
	struct config_list l = {0};
	const char *p = text;
	char shown[96];
	int rc = 0;

	config__show(text, strlen(text), shown, sizeof(shown));
	/* "" is the empty list; otherwise one item per comma-separated part,
	 * up to the last. */
	while (*text) {
		const char *end = strchr(p, ',');
		const char *eq, *tb = NULL, *te = NULL;

		if (!end)
			end = p + strlen(p);
		trim(&p, &end);
		if (p == end) {
			snprintf(why, whylen, "%s has an empty item", shown);
			rc = ELAVA_E_INVAL;
			goto out;
		}
		if (k->type == CONFIG_T_IGNORE) {
			eq = memchr(p, '=', (size_t)(end - p));
			if (!eq) {
				snprintf(why, whylen,
					 "%s: an item is not TYPE=PATH", shown);
				rc = ELAVA_E_INVAL;
				goto out;
			}
			tb = p;
			te = eq;
			p = eq + 1;
			trim(&tb, &te);
			trim(&p, &end);
		}
		rc = config__list_add(&l, tb, tb ? (size_t)(te - tb) : 0, p,
				      (size_t)(end - p), 0, why, whylen);
		if (rc)
			goto out;
		end += strcspn(end, ",");
		if (!*end)
			break;
		p = end + 1;
	}
	if (k->type == CONFIG_T_IGNORE)
		ignore_group(&l);
	config__list_clear(field(c, k));
	*(struct config_list *)field(c, k) = l;
	return 0;
out:
	config__list_clear(&l);
	return rc;
}

/* ------------------------------------------------------------ lifecycle */

void config__reset(struct config *c, const struct config__key *k)
{
	char why[256];

	switch (k->type) {
	case CONFIG_T_LIST:
	case CONFIG_T_IGNORE: config__list_clear(field(c, k)); return;
	case CONFIG_T_STRING:
	case CONFIG_T_ENUM:
		xfree(*(char **)field(c, k));
		*(char **)field(c, k) = NULL;
		break;
	case CONFIG_T_DURATION:
	case CONFIG_T_INT:
	case CONFIG_T_FLOAT:
	case CONFIG_T_BOOL: break;
	}
	if (k->def &&
	    config__set_scalar(c, k, k->def, strlen(k->def), CONFIG_SRC_DEFAULT,
			       0, why, sizeof(why))) {
		/* A default the table cannot parse: a bug. */
		log_error("config", "default of '%s': %s", k->path, why);
		abort();
	}
}

void config_init(struct config *c)
{
	memset(c, 0, sizeof(*c));
	for (size_t i = 0; i < config__nkeys; i++)
		config__reset(c, &config__keys[i]);
	memset(c->origin, CONFIG_SRC_DEFAULT, sizeof(c->origin));
}

void config_release(struct config *c)
{
	if (!c)
		return;
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config__key *k = &config__keys[i];
		switch (k->type) {
		case CONFIG_T_STRING:
		case CONFIG_T_ENUM: xfree(*(char **)field(c, k)); break;
		case CONFIG_T_LIST:
		case CONFIG_T_IGNORE: config__list_clear(field(c, k)); break;
		case CONFIG_T_DURATION:
		case CONFIG_T_INT:
		case CONFIG_T_FLOAT:
		case CONFIG_T_BOOL: break;
		}
	}
	xfree(c->file);
	memset(c, 0, sizeof(*c));
}

void config__copy(struct config *dst, const struct config *src)
{
	memcpy(dst, src, sizeof(*dst));
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config__key *k = &config__keys[i];
		char **s = field(dst, k);
		switch (k->type) {
		case CONFIG_T_STRING:
		case CONFIG_T_ENUM: *s = *s ? xstrdup(*s) : NULL; break;
		case CONFIG_T_LIST:
		case CONFIG_T_IGNORE:
			list_copy(field(dst, k), cfield(src, k));
			break;
		case CONFIG_T_DURATION:
		case CONFIG_T_INT:
		case CONFIG_T_FLOAT:
		case CONFIG_T_BOOL: break;
		}
	}
	dst->file = src->file ? xstrdup(src->file) : NULL;
}

bool config__equal(const struct config *a, const struct config *b)
{
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config__key *k = &config__keys[i];
		const void *fa = cfield(a, k), *fb = cfield(b, k);
		bool eq = false;
		switch (k->type) {
		case CONFIG_T_DURATION:
			eq = *(const int64_t *)fa == *(const int64_t *)fb;
			break;
		case CONFIG_T_INT:
			eq = *(const int *)fa == *(const int *)fb;
			break;
		case CONFIG_T_FLOAT:
			eq = *(const double *)fa == *(const double *)fb;
			break;
		case CONFIG_T_BOOL:
			eq = *(const bool *)fa == *(const bool *)fb;
			break;
		case CONFIG_T_STRING:
		case CONFIG_T_ENUM:
			eq = str_eq(*(char *const *)fa, *(char *const *)fb);
			break;
		case CONFIG_T_LIST:
		case CONFIG_T_IGNORE: eq = list_equal(fa, fb); break;
		}
		if (!eq)
			return false;
	}
	return true;
}

/* --------------------------------------------------- environment, flags */

/* Set key k from text as the environment or a flag gives it. */
static int set_text(struct config *c, const struct config__key *k,
		    const char *text, enum config_source src, char *why,
		    size_t whylen)
{
	int rc;

	if (k->type != CONFIG_T_LIST && k->type != CONFIG_T_IGNORE)
		return config__set_scalar(c, k, text, strlen(text), src, 0, why,
					  whylen);
	if ((rc = list_from_text(c, k, text, why, whylen)))
		return rc;
	set_origin(c, k, src, 0);
	return 0;
}

int config_load_env(struct config *c, struct elava_error *err)
{
	struct config tmp;
	char why[400];
	int rc;

	config__copy(&tmp, c);
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config__key *k = &config__keys[i];
		const char *v = k->env ? getenv(k->env) : NULL;
		if (!v || !*v)
			continue;
		rc = set_text(&tmp, k, v, CONFIG_SRC_ENV, why, sizeof(why));
		if (rc) {
			config_release(&tmp);
			return elava_error_set(err, rc,
					       "environment variable %s: %s",
					       k->env, why);
		}
	}
	config_release(c);
	*c = tmp;
	return 0;
}

int config_set(struct config *c, const char *key, const char *value,
	       enum config_source src, struct elava_error *err)
{
	int i = config__key_index(key, strlen(key));
	struct config tmp;
	char why[400];
	int rc;

	if (i < 0) {
		config__unknown_key(key, strlen(key), why, sizeof(why));
		return elava_error_set(err, ELAVA_E_INVAL, "%s", why);
	}
	config__copy(&tmp, c);
	rc = set_text(&tmp, &config__keys[i], value, src, why, sizeof(why));
	if (rc) {
		config_release(&tmp);
		return elava_error_set(err, rc, "%s: %s", key, why);
	}
	config_release(c);
	*c = tmp;
	return 0;
}

enum config_source config_source_of(const struct config *c, const char *key)
{
	int i = config__key_index(key, strlen(key));

	return i < 0 ? CONFIG_SRC_DEFAULT : (enum config_source)c->origin[i];
}

unsigned config_line_of(const struct config *c, const char *key)
{
	int i = config__key_index(key, strlen(key));

	if (i < 0 || c->origin[i] != CONFIG_SRC_FILE)
		return 0;
	return c->origin_line[i];
}

/* ------------------------------------------------------------------ dump */

/* The dump's output, with the first error kept (later writes skipped). */
struct out {
	struct buf *b;
	int rc;
};

static void put(struct out *o, const char *s, size_t n)
{
	if (!o->rc)
		o->rc = buf_append(o->b, s, n);
}

static void puts_(struct out *o, const char *s)
{
	put(o, s, strlen(s));
}

static bool plain_safe(const char *s)
{
	static const char *const nulls[] = {"null", "Null", "NULL"};

	if (!*s ||
	    !((*s >= 'a' && *s <= 'z') || (*s >= 'A' && *s <= 'Z') ||
	      (*s >= '0' && *s <= '9') || *s == '/' || *s == '_' || *s == '.'))
		return false;
	for (size_t i = 0; i < ARRAY_SIZE(nulls); i++)
		if (!strcmp(s, nulls[i]))
			return false;
	for (const char *p = s; *p; p++) {
		char ch = *p;
		if (!((ch >= 'a' && ch <= 'z') || (ch >= 'A' && ch <= 'Z') ||
		      (ch >= '0' && ch <= '9') || ch == '/' || ch == '_' ||
		      ch == '.' || ch == '-'))
			return false;
	}
	return true;
}

/* Decode one UTF-8 sequence (the text was checked valid). */
static unsigned utf8_next(const unsigned char **pp)
{
	const unsigned char *p = *pp;
	unsigned cp;
	int n;

	if (p[0] < 0x80)
		cp = p[0], n = 1;
	else if (p[0] < 0xe0)
		cp = p[0] & 0x1fu, n = 2;
	else if (p[0] < 0xf0)
		cp = p[0] & 0x0fu, n = 3;
	else
		cp = p[0] & 0x07u, n = 4;
	for (int i = 1; i < n; i++)
		cp = (cp << 6) | (p[i] & 0x3fu);
	*pp = p + n;
	return cp;
}

/*
 * A string as a YAML scalar: plain when that cannot be misread, else
 * double-quoted with every character YAML would not keep as it is
 * (controls, line separators, BOM, non-characters) escaped.
 */
static void put_scalar(struct out *o, const char *s)
{
	const unsigned char *p = (const unsigned char *)s;

	if (!s) {
		puts_(o, "null");
		return;
	}
	if (plain_safe(s)) {
		puts_(o, s);
		return;
	}
	puts_(o, "\"");
	while (*p) {
		const unsigned char *start = p;
		unsigned cp = utf8_next(&p);
		char esc[16];

		if (cp == '"' || cp == '\\') {
			esc[0] = '\\';
			esc[1] = (char)cp;
			put(o, esc, 2);
		} else if (cp < 0x20 || (cp >= 0x7f && cp <= 0x9f)) {
			snprintf(esc, sizeof(esc), "\\x%02x", cp);
			puts_(o, esc);
		} else if (cp == 0x2028 || cp == 0x2029 || cp == 0xfeff ||
			   cp == 0xfffe || cp == 0xffff) {
			snprintf(esc, sizeof(esc), "\\u%04x", cp);
			puts_(o, esc);
		} else {
			put(o, (const char *)start, (size_t)(p - start));
		}
	}
	puts_(o, "\"");
}

/* "  # <where>\n": printable ASCII only, so a file name cannot break it. */
static void put_comment(struct out *o, const struct config *c,
			const struct config__key *k, unsigned line)
{
	char text[600];
	enum config_source src = (enum config_source)c->origin[key_idx(k)];

	switch (src) {
	case CONFIG_SRC_DEFAULT: snprintf(text, sizeof(text), "default"); break;
	case CONFIG_SRC_FILE:
		if (c->file && line)
			snprintf(text, sizeof(text), "%s:%u", c->file, line);
		else
			snprintf(text, sizeof(text), "file");
		break;
	case CONFIG_SRC_ENV:
		snprintf(text, sizeof(text), "env%s%s", k->env ? " " : "",
			 k->env ? k->env : "");
		break;
	case CONFIG_SRC_FLAG: snprintf(text, sizeof(text), "flag"); break;
	default: snprintf(text, sizeof(text), "unknown"); break;
	}
	for (char *p = text; *p; p++)
		if ((unsigned char)*p < 0x20 || (unsigned char)*p >= 0x7f)
			*p = '?';
	puts_(o, "  # ");
	puts_(o, text);
	puts_(o, "\n");
}

static void put_list(struct out *o, const struct config_list *l, size_t from,
		     size_t to)
{
	puts_(o, "[");
	for (size_t i = from; i < to; i++) {
		if (i > from)
			puts_(o, ", ");
		put_scalar(o, l->v[i].value);
	}
	puts_(o, "]");
}

static void put_ignore(struct out *o, const struct config *c,
		       const struct config__key *k)
{
	const struct config_list *l = cfield(c, k);
	unsigned line = c->origin_line[key_idx(k)];
	size_t i = 0;

	if (!l->n) {
		puts_(o, " {}");
		put_comment(o, c, k, line);
		return;
	}
	put_comment(o, c, k, line);
	/* One line per type; the items of a type are together (loading
	 * and list_from_text keep them so). */
	while (i < l->n) {
		size_t j = i + 1;
		while (j < l->n && !strcmp(l->v[j].type, l->v[i].type))
			j++;
		/* YAML caps an implicit key at 1024 characters; a longer
		 * one is written as an explicit "? key" / ": value". */
		struct buf key = BUF_INIT;
		struct out ko = {&key, 0};
		put_scalar(&ko, l->v[i].type);
		if (ko.rc && !o->rc)
			o->rc = ko.rc;
		bool explicit = key.len > 512;
		puts_(o, explicit ? "    ? " : "    ");
		put(o, key.data ? key.data : "", key.len);
		puts_(o, explicit ? "\n    : " : ": ");
		buf_release(&key);
		put_list(o, l, i, j);
		put_comment(o, c, k, l->v[i].line ? l->v[i].line : line);
		i = j;
	}
}

int config_dump(const struct config *c, struct buf *out)
{
	struct out o = {out, 0};
	size_t start = out->len;
	const char *section = NULL;
	size_t slen = 0;

	puts_(&o, "# Elava configuration in effect; each value says where it "
		  "came from:\n# default, <file>:<line>, env <VARIABLE> or "
		  "flag.\n");
	for (size_t i = 0; i < config__nkeys; i++) {
		const struct config__key *k = &config__keys[i];
		const void *f = cfield(c, k);
		size_t sl = section_len(k->path);
		char text[64];

		if (!section || sl != slen || memcmp(section, k->path, sl)) {
			section = k->path;
			slen = sl;
			puts_(&o, "\n");
			put(&o, section, slen);
			puts_(&o, ":\n");
		}
		puts_(&o, "  ");
		puts_(&o, k->path + sl + 1);
		puts_(&o, ":");
		text[0] = '\0';
		switch (k->type) {
		case CONFIG_T_DURATION:
			duration_format(*(const int64_t *)f, text,
					sizeof(text));
			break;
		case CONFIG_T_INT:
			snprintf(text, sizeof(text), "%d", *(const int *)f);
			break;
		case CONFIG_T_FLOAT:
			float_format(*(const double *)f, text, sizeof(text));
			break;
		case CONFIG_T_BOOL:
			snprintf(text, sizeof(text), "%s",
				 *(const bool *)f ? "true" : "false");
			break;
		case CONFIG_T_STRING:
		case CONFIG_T_ENUM:
			puts_(&o, " ");
			put_scalar(&o, *(char *const *)f);
			break;
		case CONFIG_T_LIST:
			puts_(&o, " ");
			put_list(&o, f, 0, ((const struct config_list *)f)->n);
			break;
		case CONFIG_T_IGNORE: put_ignore(&o, c, k); continue;
		}
		if (text[0]) {
			puts_(&o, " ");
			puts_(&o, text);
		}
		put_comment(&o, c, k, c->origin_line[i]);
	}
	if (o.rc && out->data) {
		out->len = start;
		out->data[start] = '\0';
	}
	return o.rc;
}
