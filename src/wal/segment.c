/*
 * Segment files: naming (wal-<first seq, 20 digits>.jsonl), listing a
 * directory in seq order, and reading a segment forwards in large blocks or
 * backwards from its end. Reading backwards is how the writer finds the head
 * and a torn tail without scanning a 64 MiB segment, and how tail and
 * retention look at the newest entries.
 */
#include "wal/wal_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

/* Forward reads: large enough to hold the longest line plus its newline. */
#define READ_BLOCK ((size_t)4 << 20)

void wal__segment_name(uint64_t first_seq, char out[WAL__SEG_NAME_SIZE])
{
	snprintf(out, WAL__SEG_NAME_SIZE, "wal-%020llu.jsonl",
		 (unsigned long long)first_seq);
}

char *wal__path_join(const char *dir, const char *name)
{
	size_t dl = strlen(dir), nl = strlen(name);
	char *p = xmalloc(st_add(st_add(dl, nl), 2));

	memcpy(p, dir, dl);
	p[dl] = '/';
	memcpy(p + dl + 1, name, nl + 1);
	return p;
}

/* Parse a segment file name; false for anything else in the directory. */
static bool segment_name_parse(const char *name, uint64_t *seq)
{
	uint64_t v = 0;

	if (strncmp(name, "wal-", 4) ||
	    strlen(name) != WAL__SEG_NAME_SIZE - 1 ||
	    strcmp(name + 4 + WAL__SEG_DIGITS, ".jsonl"))
		return false;
	for (int i = 0; i < WAL__SEG_DIGITS; i++) {
		char c = name[4 + i];
		if (c < '0' || c > '9' || v > (UINT64_MAX - 9) / 10)
			return false;
		v = v * 10 + (uint64_t)(c - '0');
	}
	*seq = v;
	return v > 0;
}

static int seg_cmp(const void *a, const void *b)
{
	const struct wal__segment *x = a, *y = b;

	return (x->first_seq > y->first_seq) - (x->first_seq < y->first_seq);
}

int wal__segments_list(const char *dir, struct wal__seglist *out,
		       struct elava_error *err)
{
	DIR *d;
	struct dirent *de;
	size_t cap = 0;

	out->v = NULL;
	out->n = 0;
	d = opendir(dir);
	if (!d)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot open WAL directory '%s': %s",
				       dir, strerror(errno));
	errno = 0;
	while ((de = readdir(d))) {
		uint64_t seq;
		if (!segment_name_parse(de->d_name, &seq))
			continue;
		if (out->n == cap) {
			cap = cap ? cap * 2 : 16;
			out->v =
			    xrealloc(out->v, st_mult(cap, sizeof(*out->v)));
		}
		struct wal__segment *s = &out->v[out->n++];
		s->first_seq = seq;
		memcpy(s->name, de->d_name, WAL__SEG_NAME_SIZE);
		s->path = wal__path_join(dir, de->d_name);
	}
	if (errno) {
		int e = errno;
		closedir(d);
		wal__segments_release(out);
		return elava_error_set(err, elava_errno_code(e),
				       "cannot read WAL directory '%s': %s",
				       dir, strerror(e));
	}
	closedir(d);
	if (out->n > 1)
		qsort(out->v, out->n, sizeof(*out->v), seg_cmp);
	return 0;
}

void wal__segments_release(struct wal__seglist *l)
{
	for (size_t i = 0; i < l->n; i++)
		xfree(l->v[i].path);
	xfree(l->v);
	l->v = NULL;
	l->n = 0;
}

/* ---------------------------------------------------------------- forward */

int wal__reader_open(struct wal__reader *r, const char *path, uint64_t limit,
		     struct elava_error *err)
{
	memset(r, 0, sizeof(*r));
	r->path = path;
	r->limit = limit;
	r->fd = open(path, O_RDONLY | O_CLOEXEC);
	if (r->fd < 0)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot open WAL segment '%s': %s", path,
				       strerror(errno));
	r->cap = READ_BLOCK;
	r->buf = xmalloc(r->cap);
	return 0;
}

void wal__reader_close(struct wal__reader *r)
{
	if (r->fd >= 0)
		close(r->fd);
	r->fd = -1;
	xfree(r->buf);
	r->buf = NULL;
}

/* Move the unread bytes to the front and fill the rest of the buffer. */
static int reader_fill(struct wal__reader *r, struct elava_error *err)
{
	if (r->start > 0) {
		memmove(r->buf, r->buf + r->start, r->end - r->start);
		r->end -= r->start;
		r->start = 0;
	}
	while (r->end < r->cap && r->consumed < r->limit) {
		size_t want = r->cap - r->end;
		ssize_t n;

		if (r->limit - r->consumed < want)
			want = (size_t)(r->limit - r->consumed);
		n = read(r->fd, r->buf + r->end, want);
		if (n < 0) {
			if (errno == EINTR)
				continue;
			return elava_error_set(
			    err, elava_errno_code(errno),
			    "cannot read WAL segment '%s': %s", r->path,
			    strerror(errno));
		}
		if (n == 0)
			break;
		r->end += (size_t)n;
		r->consumed += (uint64_t)n;
	}
	if (r->end < r->cap)
		r->eof = true;
	return 0;
}

int wal__reader_next(struct wal__reader *r, const char **line, size_t *len,
		     struct elava_error *err)
{
	size_t scanned = 0; /* bytes from start already known to hold no \n */
	int rc;

	for (;;) {
		char *nl = memchr(r->buf + r->start + scanned, '\n',
				  r->end - r->start - scanned);
		if (nl) {
			size_t n = (size_t)(nl - (r->buf + r->start));
			*line = r->buf + r->start;
			*len = n;
			r->start += n + 1;
			r->lineno++;
			return WAL__READ_LINE;
		}
		scanned = r->end - r->start;
		if (scanned > WAL_LINE_MAX)
			return elava_error_set(
			    err, ELAVA_E_CORRUPT,
			    "'%s' line %llu: no newline within %zu bytes",
			    r->path, (unsigned long long)r->lineno + 1,
			    WAL_LINE_MAX);
		if (r->eof) {
			*line = r->buf + r->start;
			*len = scanned;
			r->start = r->end;
			return scanned ? WAL__READ_PARTIAL : WAL__READ_END;
		}
		if ((rc = reader_fill(r, err)))
			return rc;
	}
}

/* --------------------------------------------------------------- backward */

static int pread_all(int fd, const char *path, void *buf, size_t n,
		     uint64_t off, struct elava_error *err)
{
	size_t got = 0;

	while (got < n) {
		ssize_t r =
		    pread(fd, (char *)buf + got, n - got, (off_t)(off + got));
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return elava_error_set(
			    err, elava_errno_code(errno),
			    "cannot read WAL segment '%s': %s", path,
			    strerror(errno));
		}
		if (r == 0)
			return elava_error_set(err, ELAVA_E_IO,
					       "WAL segment '%s' shrank while "
					       "being read",
					       path);
		got += (size_t)r;
	}
	return 0;
}

int wal__file_data_end(int fd, const char *path, uint64_t size,
		       uint64_t *data_end, bool *nul_only,
		       struct elava_error *err)
{
	enum { CHUNK = 64 * 1024 };
	char *chunk = xmalloc(CHUNK);
	uint64_t pos = size;
	uint64_t text = 0; /* non-NUL bytes seen after the last newline */
	bool only_nul = true;
	int rc = 0;

	*data_end = 0;
	while (pos > 0) {
		size_t n = pos > CHUNK ? CHUNK : (size_t)pos;
		pos -= n;
		if ((rc = pread_all(fd, path, chunk, n, pos, err)))
			goto out;
		for (size_t i = n; i-- > 0;) {
			if (chunk[i] == '\n') {
				*data_end = pos + i + 1;
				goto out;
			}
			if (chunk[i] || !only_nul) {
				only_nul = false;
				if (++text > WAL_LINE_MAX) {
					rc = elava_error_set(
					    err, ELAVA_E_CORRUPT,
					    "WAL segment '%s' ends with more "
					    "than %zu bytes without a "
					    "newline",
					    path, WAL_LINE_MAX);
					goto out;
				}
			}
		}
	}
out:
	if (nul_only)
		*nul_only = only_nul;
	xfree(chunk);
	return rc;
}

int wal__file_last_lines(int fd, const char *path, uint64_t data_end,
			 size_t want, struct buf *win, size_t *first,
			 struct elava_error *err)
{
	uint64_t w = 64 * 1024;
	int rc;

	buf_reset(win);
	*first = 0;
	if (data_end == 0 || want == 0)
		return 0;
	for (;;) {
		uint64_t start = data_end > w ? data_end - w : 0;
		size_t n = (size_t)(data_end - start);
		size_t lines = 0, pos;

		buf_reset(win);
		if ((rc = buf_grow(win, n)))
			return elava_error_set(err, rc,
					       "cannot read the end of '%s': "
					       "window too large",
					       path);
		if ((rc = pread_all(fd, path, win->data, n, start, err)))
			return rc;
		win->len = n;
		win->data[n] = '\0';
		/* Walk back over newlines; win ends with one. */
		pos = n - 1;
		while (pos > 0) {
			char *nl = memrchr(win->data, '\n', pos);
			if (!nl)
				break;
			lines++;
			pos = (size_t)(nl - win->data);
			if (lines == want) {
				*first = pos + 1;
				return 0;
			}
		}
		if (start == 0) {
			/* The first line of the file has no newline before. */
			*first = 0;
			return 0;
		}
		if (w >= data_end)
			return 0;
		w *= 2;
	}
}

int wal__segment_open_end(const char *path, int *fd_out, uint64_t *size,
			  uint64_t *data_end, struct elava_error *err)
{
	struct stat st;
	int fd = open(path, O_RDONLY | O_CLOEXEC);
	int rc;

	*fd_out = -1;
	if (fd < 0)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot open WAL segment '%s': %s", path,
				       strerror(errno));
	if (fstat(fd, &st) < 0) {
		rc = elava_error_set(err, elava_errno_code(errno),
				     "cannot stat WAL segment '%s': %s", path,
				     strerror(errno));
		close(fd);
		return rc;
	}
	*size = (uint64_t)st.st_size;
	if ((rc = wal__file_data_end(fd, path, *size, data_end, NULL, err))) {
		close(fd);
		return rc;
	}
	*fd_out = fd;
	return 0;
}
