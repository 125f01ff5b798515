/*
 * The AWS shared credentials and config files: a small INI reader with the
 * AWS section conventions ("[name]" in credentials, "[profile name]" and
 * "[default]" in config). The files can hold secrets, so a syntax error
 * names file:line and what was expected, never the line itself.
 */
#include "aws_int.h"

#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <strings.h>
#include <sys/stat.h>

struct ini_entry {
	char *section; /* profile name */
	char *key;     /* lower case */
	char *value;
};

struct aws_ini {
	struct ini_entry *v;
	size_t n, cap;
	char **sections;
	size_t nsec, seccap;
};

static bool is_space(char c)
{
	return c == ' ' || c == '\t' || c == '\r' || c == '\f' || c == '\v';
}

static void trim(const char **s, const char **e)
{
	while (*s < *e && is_space(**s))
		(*s)++;
	while (*e > *s && is_space((*e)[-1]))
		(*e)--;
}

static void add_section(struct aws_ini *ini, const char *s, size_t n)
{
	for (size_t i = 0; i < ini->nsec; i++)
		if (strlen(ini->sections[i]) == n &&
		    !memcmp(ini->sections[i], s, n))
			return;
	if (ini->nsec == ini->seccap) {
		ini->seccap = ini->seccap ? ini->seccap * 2 : 8;
		ini->sections = xrealloc(ini->sections,
					 st_mult(ini->seccap, sizeof(char *)));
	}
	ini->sections[ini->nsec++] = xstrndup(s, n);
}

static void add_entry(struct aws_ini *ini, const char *section, const char *k,
		      size_t kn, const char *v, size_t vn)
{
	struct ini_entry *e;

	if (ini->n == ini->cap) {
		ini->cap = ini->cap ? ini->cap * 2 : 16;
		ini->v = xrealloc(ini->v, st_mult(ini->cap, sizeof(*ini->v)));
	}
	e = &ini->v[ini->n++];
	e->section = xstrdup(section);
	e->key = xstrndup(k, kn);
	for (char *p = e->key; *p; p++)
		if (*p >= 'A' && *p <= 'Z')
			*p = (char)(*p - 'A' + 'a');
	e->value = xstrndup(v, vn);
}

void aws_ini_free(struct aws_ini **ip)
{
	struct aws_ini *ini;

	if (!ip || !*ip)
		return;
	ini = *ip;
	for (size_t i = 0; i < ini->n; i++) {
		xfree(ini->v[i].section);
		xfree(ini->v[i].key);
		/* values may be secret keys */
		memset(ini->v[i].value, 0, strlen(ini->v[i].value));
		xfree(ini->v[i].value);
	}
	for (size_t i = 0; i < ini->nsec; i++)
		xfree(ini->sections[i]);
	xfree(ini->sections);
	xfree(ini->v);
	xfree(ini);
	*ip = NULL;
}

/*
 * The profile name a section header "[...]" (inner text s..e) stands for,
 * or false for a section that is not a profile (skipped).
 */
static bool section_profile(const char *s, const char *e, bool config,
			    const char **ns, const char **ne)
{
	trim(&s, &e);
	if (config && e - s > 8 && !memcmp(s, "profile", 7) && is_space(s[7])) {
		s += 8;
		trim(&s, &e);
	} else if (config && !(e - s == 7 && !memcmp(s, "default", 7))) {
		return false;
	}
	*ns = s;
	*ne = e;
	return true;
}

int aws_ini_parse(const char *text, size_t len, const char *file, bool config,
		  struct aws_ini **out, struct elava_error *err)
{
	struct aws_ini *ini = xcalloc(1, sizeof(*ini));
	char *section = NULL;	/* current profile; NULL before any section */
	bool skipping = false;	/* inside a non-profile section */
	bool after_key = false; /* indented lines may follow a key */
	size_t lineno = 0;
	const char *p = text, *end = text + len;
	int rc = 0;

	*out = NULL;
	if (len > AWS_INI_MAX_FILE) {
		rc = elava_error_set(err, ELAVA_E_TOOBIG,
				     "'%s' is larger than %zu bytes", file,
				     AWS_INI_MAX_FILE);
		goto out;
	}
	while (p < end) {
		const char *nl = memchr(p, '\n', (size_t)(end - p));
		const char *le = nl ? nl : end;
		const char *s = p, *e = le;
		bool indented = p < le && is_space(*p) && *p != '\r';

		lineno++;
		p = nl ? nl + 1 : end;
		if ((size_t)(le - s) > AWS_INI_MAX_LINE) {
			rc =
			    elava_error_set(err, ELAVA_E_TOOBIG,
					    "%s:%zu: line longer than %d bytes",
					    file, lineno, AWS_INI_MAX_LINE);
			goto out;
		}
		if (memchr(s, '\0', (size_t)(le - s))) {
			rc = elava_error_set(err, ELAVA_E_PARSE,
					     "%s:%zu: NUL byte in line", file,
					     lineno);
			goto out;
		}
		trim(&s, &e);
		if (s == e || *s == '#' || *s == ';')
			continue;
		if (indented && after_key)
			continue; /* sub-property or continuation */
		if (*s == '[') {
			const char *close = memchr(s, ']', (size_t)(e - s));
			const char *rest, *ns, *ne;
			if (!close) {
				rc = elava_error_set(
				    err, ELAVA_E_PARSE,
				    "%s:%zu: section header without ']'", file,
				    lineno);
				goto out;
			}
			rest = close + 1;
			while (rest < e && is_space(*rest))
				rest++;
			if (rest < e && *rest != '#' && *rest != ';') {
				rc = elava_error_set(
				    err, ELAVA_E_PARSE,
				    "%s:%zu: text after section header", file,
				    lineno);
				goto out;
			}
			xfree(section);
			section = NULL;
			after_key = false;
			skipping =
			    !section_profile(s + 1, close, config, &ns, &ne);
			if (skipping)
				continue;
			if (ns == ne) {
				rc = elava_error_set(
				    err, ELAVA_E_PARSE,
				    "%s:%zu: empty profile name", file, lineno);
				goto out;
			}
			section = xstrndup(ns, (size_t)(ne - ns));
			add_section(ini, ns, (size_t)(ne - ns));
			continue;
		}
		const char *eq = memchr(s, '=', (size_t)(e - s));
		if (!eq) {
			rc = elava_error_set(err, ELAVA_E_PARSE,
					     "%s:%zu: expected 'key = value'",
					     file, lineno);
			goto out;
		}
		const char *ks = s, *ke = eq, *vs = eq + 1, *ve = e;
		trim(&ks, &ke);
		trim(&vs, &ve);
		if (ks == ke) {
			rc = elava_error_set(err, ELAVA_E_PARSE,
					     "%s:%zu: missing key before '='",
					     file, lineno);
			goto out;
		}
		if (!section && !skipping) {
			rc = elava_error_set(
			    err, ELAVA_E_PARSE,
			    "%s:%zu: setting outside of a section", file,
			    lineno);
			goto out;
		}
		after_key = true;
		if (section)
			add_entry(ini, section, ks, (size_t)(ke - ks), vs,
				  (size_t)(ve - vs));
	}
	*out = ini;
	ini = NULL;
out:
	xfree(section);
	aws_ini_free(&ini);
	return rc;
}

int aws_ini_load(const char *path, bool config, struct aws_ini **out,
		 struct elava_error *err)
{
	FILE *f = NULL;
	struct buf b;
	struct stat st;
	char chunk[4096];
	size_t n;
	int rc = 0;

	*out = NULL;
	buf_init(&b, AWS_INI_MAX_FILE + 1);
	f = fopen(path, "rb");
	if (!f) {
		int e = errno;
		if (e == ENOENT || e == ENOTDIR)
			return elava_error_set(err, ELAVA_E_NOTFOUND,
					       "no file '%s'", path);
		return elava_error_set(err, elava_errno_code(e),
				       "cannot open '%s': %s", path,
				       strerror(e));
	}
	if (fstat(fileno(f), &st) == 0 && !S_ISREG(st.st_mode)) {
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "'%s' is not a regular file", path);
		goto out;
	}
	while ((n = fread(chunk, 1, sizeof(chunk), f)) > 0) {
		if (buf_append(&b, chunk, n)) {
			rc = elava_error_set(err, ELAVA_E_TOOBIG,
					     "'%s' is larger than %zu bytes",
					     path, AWS_INI_MAX_FILE);
			goto out;
		}
	}
	if (ferror(f)) {
		rc = elava_error_set(err, ELAVA_E_IO, "cannot read '%s'", path);
		goto out;
	}
	rc = aws_ini_parse(b.data ? b.data : "", b.len, path, config, out, err);
out:
	if (b.data)
		memset(b.data, 0, b.len);
	buf_release(&b);
	fclose(f);
	return rc;
}

bool aws_ini_has_profile(const struct aws_ini *ini, const char *profile)
{
	for (size_t i = 0; ini && i < ini->nsec; i++)
		if (!strcmp(ini->sections[i], profile))
			return true;
	return false;
}

const char *aws_ini_get(const struct aws_ini *ini, const char *profile,
			const char *key)
{
	for (size_t i = ini ? ini->n : 0; i-- > 0;)
		if (!strcmp(ini->v[i].section, profile) &&
		    !strcasecmp(ini->v[i].key, key))
			return ini->v[i].value;
	return NULL;
}
