/*
 * The WAL readers: verify (the whole chain, stopping at the first break),
 * replay (entries from a seq on, filtered), tail (the last n) and recovery
 * of interrupted `executing` entries. They take a directory, never modify
 * it, and can run beside a live writer: the newest segment is read only up
 * to its last newline, which is exactly what wal_open would keep.
 */
#include "wal/wal_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/*
 * How far to read a segment: the newest one stops at its last newline (a
 * torn or in-progress line is not the log's yet). *torn receives the bytes
 * left out. If the tail is not a torn write at all (a long run without a
 * newline), read everything so the line reader reports it with its number.
 */
static int segment_limit(const struct wal__seglist *segs, size_t i,
			 uint64_t *limit, uint64_t *torn,
			 struct elava_error *err)
{
	uint64_t size, end;
	int fd = -1;
	int rc;

	*limit = UINT64_MAX;
	*torn = 0;
	if (i + 1 != segs->n)
		return 0;
	rc = wal__segment_open_end(segs->v[i].path, &fd, &size, &end, err);
	if (rc == ELAVA_E_CORRUPT)
		return 0;
	if (rc)
		return rc;
	close(fd);
	*limit = end;
	*torn = size - end;
	return 0;
}

/* ----------------------------------------------------------------- verify */

static int report_bad(struct wal_verify_report *rep, struct elava_error *err,
		      uint64_t seq, const char *path, uint64_t line,
		      const char *fmt, ...)
    __attribute__((format(printf, 6, 7)));

static int report_bad(struct wal_verify_report *rep, struct elava_error *err,
		      uint64_t seq, const char *path, uint64_t line,
		      const char *fmt, ...)
{
	va_list ap;

	rep->ok = false;
	rep->bad_seq = seq;
	snprintf(rep->file, sizeof(rep->file), "%s", path);
	rep->line = line;
	va_start(ap, fmt);
	vsnprintf(rep->reason, sizeof(rep->reason), fmt, ap);
	va_end(ap);
	return elava_error_set(err, ELAVA_E_CORRUPT,
			       "WAL chain broken at seq %llu ('%s' line %llu): "
			       "%s",
			       (unsigned long long)seq, path,
			       (unsigned long long)line, rep->reason);
}

struct vstate {
	struct wal_verify_report *rep;
	struct elava_error *err;
	struct sha256_ctx *sha;
	struct buf scratch;
	char last[WAL_HASH_HEX_SIZE];
	uint64_t expect; /* next seq; 0 before the first entry */
};

static int verify_line(struct vstate *v, const struct wal__segment *s,
		       bool first_in_segment, uint64_t lineno, const char *line,
		       size_t len)
{
	struct wal_verify_report *rep = v->rep;
	struct elava_error perr = {0};
	char want[WAL_HASH_HEX_SIZE];
	struct wal_entry e;
	uint64_t guess = v->expect ? v->expect : s->first_seq;

	if (wal_line_parse(line, len, &e, &v->scratch, &perr))
		return report_bad(rep, v->err, guess, s->path, lineno,
				  "unreadable entry: %s", perr.msg);
	wal__hash_hex(v->sha, line, len - WAL__HASH_SUFFIX_LEN, want);
	if (memcmp(want, e.hash, SHA256_HEX_LEN))
		return report_bad(rep, v->err, e.seq, s->path, lineno,
				  "hash mismatch: the entry was changed after "
				  "it was written");
	if (v->expect == 0) {
		rep->first_seq = e.seq;
		if (e.seq == 1 && strcmp(e.prev, wal__genesis))
			return report_bad(rep, v->err, e.seq, s->path, lineno,
					  "seq 1 does not start from the "
					  "genesis hash");
		if (e.seq > 1) {
			rep->anchored = true;
			memcpy(rep->anchor_prev, e.prev, WAL_HASH_HEX_SIZE);
		}
	} else if (e.seq != v->expect) {
		if (first_in_segment && e.seq > v->expect)
			return report_bad(
			    rep, v->err, v->expect, s->path, lineno,
			    "segment starts at seq %llu but the one before "
			    "ends at seq %llu: seqs %llu..%llu are missing "
			    "(segment deleted?)",
			    (unsigned long long)e.seq,
			    (unsigned long long)v->expect - 1,
			    (unsigned long long)v->expect,
			    (unsigned long long)e.seq - 1);
		return report_bad(rep, v->err, v->expect, s->path, lineno,
				  "seq %llu expected, found seq %llu: entries "
				  "deleted, reordered or duplicated",
				  (unsigned long long)v->expect,
				  (unsigned long long)e.seq);
	} else if (strcmp(e.prev, v->last)) {
		return report_bad(rep, v->err, e.seq, s->path, lineno,
				  "prev does not match the hash of seq %llu: "
				  "the entry was replaced",
				  (unsigned long long)e.seq - 1);
	}
	if (first_in_segment && e.seq != s->first_seq)
		return report_bad(rep, v->err, e.seq, s->path, lineno,
				  "file name says the segment starts at seq "
				  "%llu but its first entry is seq %llu",
				  (unsigned long long)s->first_seq,
				  (unsigned long long)e.seq);
	memcpy(v->last, e.hash, WAL_HASH_HEX_SIZE);
	v->expect = e.seq + 1;
	rep->last_seq = e.seq;
	rep->entries++;
	return 0;
}

int wal_verify(const char *dir, struct wal_verify_report *rep,
	       struct elava_error *err)
{
	struct wal__seglist segs = {0};
	struct vstate v = {rep, err, NULL, BUF_INIT, {0}, 0};
	int rc;

	memset(rep, 0, sizeof(*rep));
	memcpy(rep->head_hash, wal__genesis, WAL_HASH_HEX_SIZE);
	memcpy(rep->anchor_prev, wal__genesis, WAL_HASH_HEX_SIZE);
	memcpy(v.last, wal__genesis, WAL_HASH_HEX_SIZE);
	if ((rc = wal__segments_list(dir, &segs, err)))
		return rc;
	rep->segments = segs.n;
	v.sha = sha256_new();
	buf_init(&v.scratch, 0);
	for (size_t i = 0; i < segs.n && !rc; i++) {
		const struct wal__segment *s = &segs.v[i];
		struct wal__reader r;
		uint64_t limit, torn, lines = 0;
		bool last = i + 1 == segs.n;

		if ((rc = segment_limit(&segs, i, &limit, &rep->torn_bytes,
					err)) ||
		    (rc = wal__reader_open(&r, s->path, limit, err)))
			break;
		torn = rep->torn_bytes;
		rep->bytes += torn;
		for (;;) {
			const char *line;
			size_t len;
			struct elava_error rerr = {0};
			int k = wal__reader_next(&r, &line, &len, &rerr);

			if (k == WAL__READ_LINE) {
				rep->bytes += len + 1;
				rc = verify_line(&v, s, lines == 0, r.lineno,
						 line, len);
				lines++;
				if (rc)
					break;
				continue;
			}
			if (k == WAL__READ_END)
				break;
			if (k == WAL__READ_PARTIAL) {
				rep->bytes += len;
				rc = report_bad(
				    rep, err,
				    v.expect ? v.expect : s->first_seq, s->path,
				    r.lineno + 1,
				    "segment ends inside a line "
				    "(%zu bytes without a newline): "
				    "truncated",
				    len);
				break;
			}
			if (k == ELAVA_E_CORRUPT) {
				rc = report_bad(
				    rep, err,
				    v.expect ? v.expect : s->first_seq, s->path,
				    r.lineno + 1, "%s", rerr.msg);
				break;
			}
			rc = k;
			if (err)
				*err = rerr;
			break;
		}
		wal__reader_close(&r);
		if (!rc && lines == 0 && !last)
			rc = report_bad(rep, err, s->first_seq, s->path, 0,
					"segment holds no entries");
	}
	if (!rc) {
		rep->ok = true;
		memcpy(rep->head_hash, v.last, WAL_HASH_HEX_SIZE);
	}
	sha256_free(&v.sha);
	buf_release(&v.scratch);
	wal__segments_release(&segs);
	return rc;
}

/* ----------------------------------------------------------------- replay */

static bool filter_pass(const struct wal_filter *f, const struct wal_entry *e)
{
	if (!f)
		return true;
	if (f->types && !(f->types & WAL_TYPE_BIT(e->type)))
		return false;
	if (f->resource && (!e->resource || strcmp(f->resource, e->resource)))
		return false;
	return true;
}

int wal_replay(const char *dir, uint64_t since_seq,
	       const struct wal_filter *filter, wal_entry_fn fn, void *ud,
	       struct elava_error *err)
{
	struct wal__seglist segs = {0};
	struct buf scratch;
	size_t from = 0;
	int rc;

	if ((rc = wal__segments_list(dir, &segs, err)))
		return rc;
	/* Start in the segment that holds since_seq. */
	for (size_t i = 0; i < segs.n; i++)
		if (segs.v[i].first_seq <= since_seq)
			from = i;
	buf_init(&scratch, 0);
	for (size_t i = from; i < segs.n && !rc; i++) {
		const struct wal__segment *s = &segs.v[i];
		struct wal__reader r;
		uint64_t limit, torn;

		if ((rc = segment_limit(&segs, i, &limit, &torn, err)) ||
		    (rc = wal__reader_open(&r, s->path, limit, err)))
			break;
		for (;;) {
			struct wal_entry e;
			const char *line;
			size_t len;
			int k = wal__reader_next(&r, &line, &len, err);

			if (k == WAL__READ_END)
				break;
			if (k == WAL__READ_PARTIAL) {
				rc = elava_error_set(err, ELAVA_E_CORRUPT,
						     "'%s' ends inside a line "
						     "(truncated segment)",
						     s->path);
				break;
			}
			if (k < 0) {
				rc = k;
				break;
			}
			if (wal_line_parse(line, len, &e, &scratch, err)) {
				elava_error_prefix(
				    err, "'%s' line %llu", s->path,
				    (unsigned long long)r.lineno);
				rc = ELAVA_E_CORRUPT;
				break;
			}
			if (e.seq < since_seq || !filter_pass(filter, &e))
				continue;
			if ((rc = fn(&e, ud)))
				break;
		}
		wal__reader_close(&r);
	}
	buf_release(&scratch);
	wal__segments_release(&segs);
	return rc;
}

/* ------------------------------------------------------------------- tail */

struct chunk {
	char *data; /* lines, each ending in \n */
	size_t len;
	const char *path;
};

int wal_tail(const char *dir, size_t n, wal_entry_fn fn, void *ud,
	     struct elava_error *err)
{
	struct wal__seglist segs = {0};
	struct chunk *chunks = NULL;
	struct buf win, scratch;
	size_t nchunks = 0, remaining = n;
	int rc;

	if ((rc = wal__segments_list(dir, &segs, err)))
		return rc;
	/* A window can hold many lines: bounded by the file, not a line. */
	buf_init(&win, (size_t)1 << 40);
	buf_init(&scratch, 0);
	if (segs.n)
		chunks = xcalloc(segs.n, sizeof(*chunks));
	/* Newest segment first, backwards, until n lines are in hand. */
	for (size_t i = segs.n; i-- > 0 && remaining > 0;) {
		uint64_t size, end;
		size_t first, got = 0, len;
		int fd;
		char *data;

		if ((rc = wal__segment_open_end(segs.v[i].path, &fd, &size,
						&end, err)))
			goto out;
		rc = wal__file_last_lines(fd, segs.v[i].path, end, remaining,
					  &win, &first, err);
		close(fd);
		if (rc)
			goto out;
		data = buf_detach(&win, &len);
		memmove(data, data + first, len - first);
		len -= first;
		for (size_t k = 0; k < len; k++)
			got += data[k] == '\n';
		chunks[nchunks].data = data;
		chunks[nchunks].len = len;
		chunks[nchunks].path = segs.v[i].path;
		nchunks++;
		remaining -= got < remaining ? got : remaining;
	}
	/* Oldest first. */
	for (size_t c = nchunks; c-- > 0 && !rc;) {
		const char *p = chunks[c].data, *end = p + chunks[c].len;
		while (p < end) {
			const char *nl = memchr(p, '\n', (size_t)(end - p));
			struct wal_entry e;

			if (wal_line_parse(p, (size_t)(nl - p), &e, &scratch,
					   err)) {
				elava_error_prefix(err, "'%s'", chunks[c].path);
				rc = ELAVA_E_CORRUPT;
				break;
			}
			if ((rc = fn(&e, ud)))
				break;
			p = nl + 1;
		}
	}
out:
	for (size_t c = 0; c < nchunks; c++)
		xfree(chunks[c].data);
	xfree(chunks);
	buf_release(&win);
	buf_release(&scratch);
	wal__segments_release(&segs);
	return rc;
}

/* --------------------------------------------------------------- recovery */

/*
 * Pending `executing` lines per resource key (a chained hash table; NULL
 * resources share one slot). Lines are kept as raw copies and parsed again
 * when handed out, so nothing but bytes is owned here.
 */
struct pline {
	uint64_t seq;
	char *line;
	size_t len;
};

struct pnode {
	struct pnode *next;
	char *key; /* NULL for entries without a resource */
	struct pline *v;
	size_t n, cap;
};

struct ptable {
	struct pnode **b;
	size_t nb, count;
	struct pnode *null_node;
};

static size_t ptable_slot(const struct ptable *t, const char *key)
{
	uint64_t h[2];

	hash128(key, strlen(key), 0, h);
	return (size_t)(h[0] & (t->nb - 1));
}

static struct pnode *ptable_get(struct ptable *t, const char *key, bool add)
{
	struct pnode *p;
	size_t slot;

	if (!key) {
		if (!t->null_node && add)
			t->null_node = xcalloc(1, sizeof(*t->null_node));
		return t->null_node;
	}
	if (t->nb) {
		for (p = t->b[ptable_slot(t, key)]; p; p = p->next)
			if (!strcmp(p->key, key))
				return p;
	}
	if (!add)
		return NULL;
	if (t->count >= t->nb) {
		size_t nb = t->nb ? t->nb * 2 : 64;
		struct pnode **b = xcalloc(nb, sizeof(*b));
		struct ptable nt = {b, nb, 0, NULL};
		for (size_t i = 0; i < t->nb; i++) {
			while ((p = t->b[i])) {
				t->b[i] = p->next;
				slot = ptable_slot(&nt, p->key);
				p->next = b[slot];
				b[slot] = p;
			}
		}
		xfree(t->b);
		t->b = b;
		t->nb = nb;
	}
	p = xcalloc(1, sizeof(*p));
	p->key = xstrdup(key);
	slot = ptable_slot(t, key);
	p->next = t->b[slot];
	t->b[slot] = p;
	t->count++;
	return p;
}

static void pnode_clear(struct pnode *p)
{
	for (size_t i = 0; i < p->n; i++)
		xfree(p->v[i].line);
	p->n = 0;
}

static void pnode_free(struct pnode *p)
{
	pnode_clear(p);
	xfree(p->v);
	xfree(p->key);
	xfree(p);
}

static void ptable_release(struct ptable *t)
{
	for (size_t i = 0; i < t->nb; i++) {
		struct pnode *p;
		while ((p = t->b[i])) {
			t->b[i] = p->next;
			pnode_free(p);
		}
	}
	if (t->null_node)
		pnode_free(t->null_node);
	xfree(t->b);
	memset(t, 0, sizeof(*t));
}

static int pending_collect(const struct wal_entry *e, void *ud)
{
	struct ptable *t = ud;
	struct pnode *p;

	if (e->type != WAL_EXECUTING) {
		/* executed or failed: settles every earlier executing. */
		p = ptable_get(t, e->resource, false);
		if (p)
			pnode_clear(p);
		return 0;
	}
	p = ptable_get(t, e->resource, true);
	if (p->n == p->cap) {
		p->cap = p->cap ? p->cap * 2 : 2;
		p->v = xrealloc(p->v, st_mult(p->cap, sizeof(*p->v)));
	}
	p->v[p->n].seq = e->seq;
	p->v[p->n].line = xstrndup(e->line, e->line_len);
	p->v[p->n].len = e->line_len;
	p->n++;
	return 0;
}

static int pline_cmp(const void *a, const void *b)
{
	const struct pline *x = a, *y = b;

	return (x->seq > y->seq) - (x->seq < y->seq);
}

static void gather(struct pnode *p, struct pline **all, size_t *n, size_t *cap)
{
	for (size_t i = 0; i < p->n; i++) {
		if (*n == *cap) {
			*cap = *cap ? *cap * 2 : 16;
			*all = xrealloc(*all, st_mult(*cap, sizeof(**all)));
		}
		(*all)[(*n)++] = p->v[i];
	}
}

int wal_recover_pending(const char *dir, wal_entry_fn fn, void *ud,
			struct elava_error *err)
{
	const struct wal_filter f = {NULL, WAL_TYPE_BIT(WAL_EXECUTING) |
					       WAL_TYPE_BIT(WAL_EXECUTED) |
					       WAL_TYPE_BIT(WAL_FAILED)};
	struct ptable t = {0};
	struct pline *all = NULL;
	struct buf scratch;
	size_t n = 0, cap = 0;
	int rc;

	buf_init(&scratch, 0);
	if ((rc = wal_replay(dir, 0, &f, pending_collect, &t, err)))
		goto out;
	for (size_t i = 0; i < t.nb; i++)
		for (struct pnode *p = t.b[i]; p; p = p->next)
			gather(p, &all, &n, &cap);
	if (t.null_node)
		gather(t.null_node, &all, &n, &cap);
	if (n > 1)
		qsort(all, n, sizeof(*all), pline_cmp);
	for (size_t i = 0; i < n && !rc; i++) {
		struct wal_entry e;
		/* Parsed once already; a failure here would be a bug. */
		if ((rc = wal_line_parse(all[i].line, all[i].len, &e, &scratch,
					 err)))
			break;
		rc = fn(&e, ud);
	}
out:
	/* The lines belong to the table's nodes; `all` only borrows them. */
	xfree(all);
	ptable_release(&t);
	buf_release(&scratch);
	return rc;
}
