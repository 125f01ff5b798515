/*
 * The YAML reader (the one place <yaml.h> is included): reads the file
 * with a cap, walks libyaml's event stream along the key table (sections,
 * then keys, then values) and stops at the first problem with
 * "<file>:<line>: ..." naming the key. Values go into a copy of the
 * configuration that replaces the caller's only when the whole file is
 * good. Anchors, aliases and tags are refused: nothing here needs them,
 * and refusing them keeps a hostile file from multiplying itself.
 */
#include "config/config.h"
#include "config/config_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include <yaml.h>

struct loader {
	yaml_parser_t parser;
	struct config *c;
	const char *name; /* for messages */
	const char *data;
	size_t len;
	struct elava_error *err;
	/* Line where each key (by table index) was set; 0: not yet. */
	unsigned key_line[CONFIG_MAX_KEYS];
	/* Line of each section, by the table index of its first key. */
	unsigned section_line[CONFIG_MAX_KEYS];
};

__attribute__((format(printf, 4, 5))) static int
fail(struct loader *L, int code, unsigned line, const char *fmt, ...)
{
	char msg[sizeof(L->err->msg)];
	va_list ap;

	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	return elava_error_set(L->err, code, "%s:%u: %s", L->name, line, msg);
}

static unsigned line_of(const yaml_event_t *ev)
{
	size_t line = ev->start_mark.line + 1;

	return line > UINT32_MAX ? UINT32_MAX : (unsigned)line;
}

static bool is_null(const yaml_event_t *ev)
{
	const char *v = (const char *)ev->data.scalar.value;
	size_t n = ev->data.scalar.length;

	if (ev->type != YAML_SCALAR_EVENT ||
	    ev->data.scalar.style != YAML_PLAIN_SCALAR_STYLE)
		return false;
	return n == 0 || (n == 1 && v[0] == '~') ||
	       (n == 4 && (!memcmp(v, "null", 4) || !memcmp(v, "Null", 4) ||
			   !memcmp(v, "NULL", 4)));
}

static const char *got(const yaml_event_t *ev)
{
	switch (ev->type) {
	case YAML_MAPPING_START_EVENT: return "a mapping";
	case YAML_SEQUENCE_START_EVENT: return "a sequence";
	case YAML_SCALAR_EVENT:
		return is_null(ev) ? "an empty value" : "a string";
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_ALIAS_EVENT:
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: break;
	}
	return "something else";
}

/* Line (1-based) and column of byte offset off, for reader errors. */
static void offset_pos(const struct loader *L, size_t off, unsigned *line,
		       unsigned *col)
{
	size_t l = 1, c = 1;

	if (off > L->len)
		off = L->len;
	for (size_t i = 0; i < off; i++) {
		if (L->data[i] == '\n') {
			l++;
			c = 1;
		} else {
			c++;
		}
	}
	*line = l > UINT32_MAX ? UINT32_MAX : (unsigned)l;
	*col = c > UINT32_MAX ? UINT32_MAX : (unsigned)c;
}

/* libyaml's error, translated: ELAVA_E_PARSE with file:line:column. */
static int syntax_error(struct loader *L)
{
	const yaml_parser_t *p = &L->parser;
	const char *problem = p->problem ? p->problem : "syntax error";
	unsigned line, col;

	switch (p->error) {
	case YAML_MEMORY_ERROR:
		return elava_error_set(L->err, ELAVA_E_NOSPACE,
				       "%s: out of memory reading YAML",
				       L->name);
	case YAML_READER_ERROR:
		offset_pos(L, p->problem_offset, &line, &col);
		return elava_error_set(L->err, ELAVA_E_PARSE,
				       "%s:%u:%u: not valid YAML: %s", L->name,
				       line, col, problem);
	case YAML_SCANNER_ERROR:
	case YAML_PARSER_ERROR:
		line = (unsigned)p->problem_mark.line + 1;
		col = (unsigned)p->problem_mark.column + 1;
		if (p->context)
			return elava_error_set(
			    L->err, ELAVA_E_PARSE,
			    "%s:%u:%u: not valid YAML: %s (%s at line %u)",
			    L->name, line, col, problem, p->context,
			    (unsigned)p->context_mark.line + 1);
		return elava_error_set(L->err, ELAVA_E_PARSE,
				       "%s:%u:%u: not valid YAML: %s", L->name,
				       line, col, problem);
	case YAML_NO_ERROR:
	case YAML_COMPOSER_ERROR:
	case YAML_WRITER_ERROR:
	case YAML_EMITTER_ERROR: break;
	}
	return elava_error_set(L->err, ELAVA_E_PARSE, "%s: not valid YAML: %s",
			       L->name, problem);
}

/*
 * The next event, refusing aliases, anchors and tags. On success the
 * caller owns *ev (yaml_event_delete); on error there is nothing to free.
 */
static int next(struct loader *L, yaml_event_t *ev)
{
	const yaml_char_t *anchor = NULL, *tag = NULL;
	char shown[96];

	if (!yaml_parser_parse(&L->parser, ev))
		return syntax_error(L);
	switch (ev->type) {
	case YAML_ALIAS_EVENT: anchor = ev->data.alias.anchor; break;
	case YAML_SCALAR_EVENT:
		anchor = ev->data.scalar.anchor;
		tag = ev->data.scalar.tag;
		break;
	case YAML_SEQUENCE_START_EVENT:
		anchor = ev->data.sequence_start.anchor;
		tag = ev->data.sequence_start.tag;
		break;
	case YAML_MAPPING_START_EVENT:
		anchor = ev->data.mapping_start.anchor;
		tag = ev->data.mapping_start.tag;
		break;
	case YAML_NO_EVENT:
	case YAML_STREAM_START_EVENT:
	case YAML_STREAM_END_EVENT:
	case YAML_DOCUMENT_START_EVENT:
	case YAML_DOCUMENT_END_EVENT:
	case YAML_SEQUENCE_END_EVENT:
	case YAML_MAPPING_END_EVENT: return 0;
	}
	if (!anchor && !tag)
		return 0;
	unsigned line = line_of(ev);
	char mark[80];
	snprintf(mark, sizeof(mark), "%s%s",
		 ev->type == YAML_ALIAS_EVENT ? "*"
		 : anchor		      ? "&"
					      : "",
		 (const char *)(anchor ? anchor : tag));
	config__show(mark, strlen(mark), shown, sizeof(shown));
	int rc;
	if (ev->type == YAML_ALIAS_EVENT)
		rc = fail(L, ELAVA_E_INVAL, line,
			  "aliases are not supported (%s): write the value "
			  "out",
			  shown);
	else if (anchor)
		rc = fail(L, ELAVA_E_INVAL, line,
			  "anchors are not supported (%s): write the value "
			  "out",
			  shown);
	else
		rc = fail(L, ELAVA_E_INVAL, line,
			  "tags are not supported (%s): remove the tag", shown);
	yaml_event_delete(ev);
	return rc;
}

static const char *scalar(const yaml_event_t *ev)
{
	return (const char *)ev->data.scalar.value;
}

static size_t slen(const yaml_event_t *ev)
{
	return ev->data.scalar.length;
}

/* A list key: one string, or a sequence of strings; null empties it. */
static int load_list(struct loader *L, const struct config__key *k,
		     struct config_list *l, const char *type, size_t tlen,
		     const yaml_event_t *ev)
{
	char why[400], what[160];
	yaml_event_t item;
	int rc;

	config__what(k, what, sizeof(what));
	if (ev->type == YAML_SCALAR_EVENT) {
		if (is_null(ev))
			return 0;
		rc = config__list_add(l, type, tlen, scalar(ev), slen(ev),
				      line_of(ev), why, sizeof(why));
		return rc ? fail(L, rc, line_of(ev), "%s: %s", k->path, why)
			  : 0;
	}
	if (ev->type != YAML_SEQUENCE_START_EVENT)
		return fail(L, ELAVA_E_INVAL, line_of(ev),
			    "%s: expected %s, got %s", k->path, what, got(ev));
	for (;;) {
		if ((rc = next(L, &item)))
			return rc;
		if (item.type == YAML_SEQUENCE_END_EVENT) {
			yaml_event_delete(&item);
			return 0;
		}
		if (item.type != YAML_SCALAR_EVENT || is_null(&item))
			rc = fail(L, ELAVA_E_INVAL, line_of(&item),
				  "%s: expected a string in the sequence, got "
				  "%s",
				  k->path, got(&item));
		else if ((rc = config__list_add(l, type, tlen, scalar(&item),
						slen(&item), line_of(&item),
						why, sizeof(why))))
			rc =
			    fail(L, rc, line_of(&item), "%s: %s", k->path, why);
		yaml_event_delete(&item);
		if (rc)
			return rc;
	}
}

/* scan.ignore: a mapping of type (or "*") to one path or a sequence. */
static int load_ignore(struct loader *L, const struct config__key *k,
		       const yaml_event_t *ev)
{
	struct config_list *l =
	    (struct config_list *)((char *)L->c + k->offset);
	struct seen {
		char *type;
		size_t len;
		unsigned line;
	} *seen = NULL;
	size_t nseen = 0;
	char why[400], shown[96];
	yaml_event_t key, val;
	int rc = 0;

	if (is_null(ev))
		return 0;
	if (ev->type != YAML_MAPPING_START_EVENT)
		return fail(L, ELAVA_E_INVAL, line_of(ev),
			    "%s: expected %s, got %s", k->path, k->what,
			    got(ev));
	for (;;) {
		if ((rc = next(L, &key)))
			goto out;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			goto out;
		}
		unsigned line = line_of(&key);
		if (key.type != YAML_SCALAR_EVENT || is_null(&key)) {
			rc = fail(L, ELAVA_E_INVAL, line,
				  "%s: expected a resource type (or \"*\") as "
				  "the key, got %s",
				  k->path, got(&key));
			yaml_event_delete(&key);
			goto out;
		}
		if ((rc = config__check_string(scalar(&key), slen(&key), why,
					       sizeof(why)))) {
			rc = fail(L, rc, line, "%s: %s", k->path, why);
			yaml_event_delete(&key);
			goto out;
		}
		for (size_t i = 0; i < nseen; i++) {
			if (seen[i].len == slen(&key) &&
			    !memcmp(seen[i].type, scalar(&key), slen(&key))) {
				config__show(scalar(&key), slen(&key), shown,
					     sizeof(shown));
				rc = fail(L, ELAVA_E_INVAL, line,
					  "duplicate key %s in %s (first on "
					  "line %u)",
					  shown, k->path, seen[i].line);
				yaml_event_delete(&key);
				goto out;
			}
		}
		if (nseen >= CONFIG_LIST_MAX) {
			rc = fail(L, ELAVA_E_TOOBIG, line,
				  "%s: more than %d resource types", k->path,
				  CONFIG_LIST_MAX);
			yaml_event_delete(&key);
			goto out;
		}
		if (!(nseen & (nseen - 1)))
			seen = xrealloc(seen, st_mult(nseen ? nseen * 2 : 1,
						      sizeof(*seen)));
		seen[nseen].type = xstrndup(scalar(&key), slen(&key));
		seen[nseen].len = slen(&key);
		seen[nseen].line = line;
		nseen++;
		yaml_event_delete(&key);

		if ((rc = next(L, &val)))
			goto out;
		if (val.type == YAML_MAPPING_START_EVENT) {
			rc = fail(L, ELAVA_E_INVAL, line_of(&val),
				  "%s: expected a field path or a sequence of "
				  "them, got %s",
				  k->path, got(&val));
		} else {
			struct seen *s = &seen[nseen - 1];
			rc = load_list(L, k, l, s->type, s->len, &val);
		}
		yaml_event_delete(&val);
		if (rc)
			goto out;
	}
out:
	for (size_t i = 0; i < nseen; i++)
		xfree(seen[i].type);
	xfree(seen);
	return rc;
}

/* The value of key k (the key was on line keyline), event ev. */
static int load_value(struct loader *L, const struct config__key *k,
		      unsigned keyline, const yaml_event_t *ev)
{
	size_t idx = (size_t)(k - config__keys);
	char why[400], what[160];
	int rc;

	switch (k->type) {
	case CONFIG_T_LIST:
	case CONFIG_T_IGNORE: {
		struct config_list *l =
		    (struct config_list *)((char *)L->c + k->offset);
		config__list_clear(l);
		rc = k->type == CONFIG_T_LIST ? load_list(L, k, l, NULL, 0, ev)
					      : load_ignore(L, k, ev);
		if (rc)
			return rc;
		L->c->origin[idx] = CONFIG_SRC_FILE;
		L->c->origin_line[idx] = keyline;
		return 0;
	}
	case CONFIG_T_DURATION:
	case CONFIG_T_INT:
	case CONFIG_T_FLOAT:
	case CONFIG_T_BOOL:
	case CONFIG_T_STRING:
	case CONFIG_T_ENUM: break;
	}
	config__what(k, what, sizeof(what));
	if (ev->type != YAML_SCALAR_EVENT ||
	    (is_null(ev) && (k->type != CONFIG_T_STRING || k->def)))
		return fail(L, ELAVA_E_INVAL, line_of(ev),
			    "%s: expected %s, got %s", k->path, what, got(ev));
	if (is_null(ev)) {
		/* A string that may be unset: null unsets it. */
		config__reset(L->c, k);
		L->c->origin[idx] = CONFIG_SRC_FILE;
		L->c->origin_line[idx] = keyline;
		return 0;
	}
	rc = config__set_scalar(L->c, k, scalar(ev), slen(ev), CONFIG_SRC_FILE,
				keyline, why, sizeof(why));
	if (rc)
		return fail(L, rc, line_of(ev), "%s: %s", k->path, why);
	return 0;
}

/* A key event of a mapping must be a plain or quoted string. */
static int key_scalar(struct loader *L, const yaml_event_t *key,
		      const char *where)
{
	if (key->type == YAML_SCALAR_EVENT && !is_null(key))
		return 0;
	return fail(L, ELAVA_E_INVAL, line_of(key),
		    "%s: expected a key name, got %s", where, got(key));
}

/* One section (daemon, cloud...): a mapping of keys; null is empty. */
static int load_section(struct loader *L, size_t first, const yaml_event_t *ev)
{
	const char *sec = config__keys[first].path;
	size_t seclen = (size_t)(strchr(sec, '.') - sec);
	yaml_event_t key, val;
	char why[400];
	int rc;

	if (is_null(ev))
		return 0;
	if (ev->type != YAML_MAPPING_START_EVENT)
		return fail(L, ELAVA_E_INVAL, line_of(ev),
			    "%.*s: expected a mapping of keys, got %s",
			    (int)seclen, sec, got(ev));
	for (;;) {
		if ((rc = next(L, &key)))
			return rc;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return 0;
		}
		char where[64];
		snprintf(where, sizeof(where), "%.*s", (int)seclen, sec);
		if ((rc = key_scalar(L, &key, where))) {
			yaml_event_delete(&key);
			return rc;
		}
		unsigned line = line_of(&key);
		size_t plen = st_add(st_add(seclen, 1), slen(&key));
		char *path = xmalloc(st_add(plen, 1));
		memcpy(path, sec, seclen);
		path[seclen] = '.';
		memcpy(path + seclen + 1, scalar(&key), slen(&key));
		path[plen] = '\0';
		yaml_event_delete(&key);

		int i = config__key_index(path, plen);
		if (i < 0) {
			config__unknown_key(path, plen, why, sizeof(why));
			xfree(path);
			return fail(L, ELAVA_E_INVAL, line, "%s", why);
		}
		xfree(path);
		const struct config__key *k = &config__keys[i];
		if (L->key_line[i])
			return fail(L, ELAVA_E_INVAL, line,
				    "duplicate key '%s' (first on line %u)",
				    k->path, L->key_line[i]);
		L->key_line[i] = line;
		if ((rc = next(L, &val)))
			return rc;
		rc = load_value(L, k, line, &val);
		yaml_event_delete(&val);
		if (rc)
			return rc;
	}
}

/* The document's root: a mapping of sections; null (empty) is fine. */
static int load_root(struct loader *L, const yaml_event_t *ev)
{
	yaml_event_t key, val;
	char why[400];
	int rc;

	if (is_null(ev))
		return 0;
	if (ev->type != YAML_MAPPING_START_EVENT) {
		config__unknown_key("", 0, why, sizeof(why));
		/* why: "unknown key '' (valid sections: a, b)"; keep the
		 * list. */
		const char *list = strstr(why, "(valid sections: ");
		return fail(L, ELAVA_E_INVAL, line_of(ev),
			    "the top level must be a mapping of sections %s, "
			    "got %s",
			    list ? list : "", got(ev));
	}
	for (;;) {
		if ((rc = next(L, &key)))
			return rc;
		if (key.type == YAML_MAPPING_END_EVENT) {
			yaml_event_delete(&key);
			return 0;
		}
		if ((rc = key_scalar(L, &key, "top level"))) {
			yaml_event_delete(&key);
			return rc;
		}
		unsigned line = line_of(&key);
		int first = -1;
		for (size_t i = 0; i < config__nkeys && first < 0; i++) {
			const char *p = config__keys[i].path;
			size_t pl = (size_t)(strchr(p, '.') - p);
			if (pl == slen(&key) && !memcmp(p, scalar(&key), pl))
				first = (int)i;
		}
		if (first < 0 && memchr(scalar(&key), '.', slen(&key)) &&
		    config__key_index(scalar(&key), slen(&key)) >= 0) {
			const char *dot = strchr(scalar(&key), '.');
			rc = fail(L, ELAVA_E_INVAL, line,
				  "unknown key '%s' (write it nested: '%.*s:' "
				  "and under it '%s:')",
				  scalar(&key), (int)(dot - scalar(&key)),
				  scalar(&key), dot + 1);
			yaml_event_delete(&key);
			return rc;
		}
		if (first < 0) {
			config__unknown_key(scalar(&key), slen(&key), why,
					    sizeof(why));
			yaml_event_delete(&key);
			return fail(L, ELAVA_E_INVAL, line, "%s", why);
		}
		if (L->section_line[first]) {
			rc = fail(L, ELAVA_E_INVAL, line,
				  "duplicate key '%.*s' (first on line %u)",
				  (int)slen(&key), scalar(&key),
				  L->section_line[first]);
			yaml_event_delete(&key);
			return rc;
		}
		L->section_line[first] = line;
		yaml_event_delete(&key);
		if ((rc = next(L, &val)))
			return rc;
		rc = load_section(L, (size_t)first, &val);
		yaml_event_delete(&val);
		if (rc)
			return rc;
	}
}

/* The stream: nothing at all, or exactly one document. */
static int load_stream(struct loader *L)
{
	yaml_event_t ev;
	int rc;

	if ((rc = next(L, &ev))) /* stream start */
		return rc;
	yaml_event_delete(&ev);
	if ((rc = next(L, &ev)))
		return rc;
	if (ev.type == YAML_STREAM_END_EVENT) {
		yaml_event_delete(&ev);
		return 0;
	}
	yaml_event_delete(&ev); /* document start */
	if ((rc = next(L, &ev)))
		return rc;
	rc = load_root(L, &ev);
	yaml_event_delete(&ev);
	if (rc)
		return rc;
	if ((rc = next(L, &ev))) /* document end */
		return rc;
	yaml_event_delete(&ev);
	if ((rc = next(L, &ev)))
		return rc;
	if (ev.type == YAML_DOCUMENT_START_EVENT) {
		rc = fail(L, ELAVA_E_INVAL, line_of(&ev),
			  "a second YAML document: the file must hold one");
	}
	yaml_event_delete(&ev);
	return rc;
}

int config__load_buffer(struct config *c, const char *data, size_t len,
			const char *name, struct elava_error *err)
{
	struct loader L;
	struct config tmp;
	int rc;

	if (len > CONFIG_FILE_MAX)
		return elava_error_set(err, ELAVA_E_TOOBIG,
				       "config file '%s' is larger than %zu "
				       "MiB",
				       name, CONFIG_FILE_MAX >> 20);
	memset(&L, 0, sizeof(L));
	config__copy(&tmp, c);
	L.c = &tmp;
	L.name = name;
	L.data = data;
	L.len = len;
	L.err = err;
	if (!yaml_parser_initialize(&L.parser)) {
		config_release(&tmp);
		return elava_error_set(err, ELAVA_E_NOSPACE,
				       "%s: out of memory reading YAML", name);
	}
	yaml_parser_set_input_string(&L.parser, (const unsigned char *)data,
				     len);
	rc = load_stream(&L);
	yaml_parser_delete(&L.parser);
	if (rc) {
		config_release(&tmp);
		return rc;
	}
	xfree(tmp.file);
	tmp.file = xstrdup(name);
	config_release(c);
	*c = tmp;
	return 0;
}

int config_load_file(struct config *c, const char *path,
		     struct elava_error *err)
{
	struct buf b;
	struct stat st;
	char chunk[16384];
	int fd, rc = 0;

	fd = open(path, O_RDONLY | O_CLOEXEC);
	if (fd < 0)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot open config file '%s': %s", path,
				       strerror(errno));
	if (fstat(fd, &st) == 0 && S_ISDIR(st.st_mode)) {
		close(fd);
		return elava_error_set(err, ELAVA_E_INVAL,
				       "config file '%s' is a directory", path);
	}
	buf_init(&b, CONFIG_FILE_MAX);
	for (;;) {
		ssize_t n = read(fd, chunk, sizeof(chunk));
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0) {
			rc = elava_error_set(err, elava_errno_code(errno),
					     "cannot read config file '%s': %s",
					     path, strerror(errno));
			break;
		}
		if (n == 0)
			break;
		if (buf_append(&b, chunk, (size_t)n)) {
			rc = elava_error_set(err, ELAVA_E_TOOBIG,
					     "config file '%s' is larger than "
					     "%zu MiB",
					     path, CONFIG_FILE_MAX >> 20);
			break;
		}
	}
	close(fd);
	if (!rc)
		rc = config__load_buffer(c, b.data ? b.data : "", b.len, path,
					 err);
	buf_release(&b);
	return rc;
}
