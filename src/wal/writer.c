/*
 * The WAL writer: one handle per directory (an flock keeps out a second
 * writer), entries chained and buffered in memory under one mutex, and
 * group commit — wal_sync writes the whole batch and fdatasyncs once.
 * Rotation, torn-tail trimming on open and retention live here because they
 * all change which files exist. Rules and reasons: docs/wal-format.md.
 */
#include "wal/wal_int.h"

#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <stdio.h>
#include <string.h>
#include <sys/file.h>
#include <sys/stat.h>
#include <unistd.h>

/* A batch this large is written out (not synced) to bound memory. */
#define BATCH_WRITE_AT ((size_t)4 << 20)
#define BATCH_MAX      (BATCH_WRITE_AT + WAL_LINE_MAX + 4096)
#define INSTANCE_MAX   256
#define RESOURCE_MAX   4096

/* Where the batch crosses into a new segment. */
struct cut {
	size_t off;   /* offset in batch of the first line of the new segment */
	uint64_t seq; /* its seq: the new segment's name */
};

struct wal {
	pthread_mutex_t mu;
	char *dir;
	int dir_fd; /* holds the flock; fsync'd after creating a segment */
	size_t seg_max;
	int64_t retention_ns;
	int64_t (*clock_ns)(void);
	char *instance_json; /* the instance as a JSON string, escaped once */
	size_t instance_json_len;
	struct sha256_ctx *sha;

	int fd;		    /* active segment; -1 until the first write */
	uint64_t seg_first; /* its first seq (its name) */
	uint64_t seg_bytes; /* bytes in it on disk */
	uint64_t
	    proj_bytes; /* bytes the segment taking the batch end will hold */

	uint64_t next_seq;
	char head[WAL_HASH_HEX_SIZE]; /* hash of next_seq - 1 */
	uint64_t durable_seq;

	struct buf batch;   /* complete lines not yet written */
	uint64_t batch_seq; /* seq of its first line */
	struct cut *cuts;
	size_t ncuts, cuts_cap;
	bool unsynced; /* written since the last fdatasync */
	struct buf line;

	int poison; /* 0, or the code of the write/fsync that failed */
	char poison_msg[sizeof(((struct elava_error *)0)->msg)];
};

static int64_t clock_now(struct wal *w)
{
	return w->clock_ns ? w->clock_ns() : time_now_ns();
}

static int write_all(int fd, const char *p, size_t n)
{
	while (n > 0) {
		ssize_t r = write(fd, p, n);
		if (r < 0) {
			if (errno == EINTR)
				continue;
			return -1;
		}
		p += r;
		n -= (size_t)r;
	}
	return 0;
}

static int errno_fail(struct elava_error *err, const char *what,
		      const char *path)
{
	int e = errno;

	return elava_error_set(err, elava_errno_code(e), "cannot %s '%s': %s",
			       what, path, strerror(e));
}

/* ------------------------------------------------------------- segments */

static int segment_create(struct wal *w, uint64_t first_seq,
			  struct elava_error *err)
{
	char name[WAL__SEG_NAME_SIZE];
	char *path;
	int rc = 0;

	wal__segment_name(first_seq, name);
	path = wal__path_join(w->dir, name);
	w->fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_APPEND | O_CLOEXEC,
		     0600);
	if (w->fd < 0) {
		rc = errno_fail(err, "create WAL segment", path);
		goto out;
	}
	/* The new name must survive a crash before anything relies on it. */
	if (fsync(w->dir_fd) < 0) {
		rc = errno_fail(err, "fsync WAL directory", w->dir);
		goto out;
	}
	w->seg_first = first_seq;
	w->seg_bytes = 0;
	log_debug(WAL__LOG, "started segment '%s'", path);
out:
	xfree(path);
	return rc;
}

static int segment_write(struct wal *w, uint64_t seq_at, const char *p,
			 size_t n, struct elava_error *err)
{
	int rc;

	if (n == 0)
		return 0;
	if (w->fd < 0 && (rc = segment_create(w, seq_at, err)))
		return rc;
	if (write_all(w->fd, p, n) < 0) {
		int e = errno;
		char name[WAL__SEG_NAME_SIZE];
		wal__segment_name(w->seg_first, name);
		return elava_error_set(err, elava_errno_code(e),
				       "cannot write WAL segment '%s/%s': %s",
				       w->dir, name, strerror(e));
	}
	w->seg_bytes += n;
	w->unsynced = true;
	return 0;
}

static int segment_sync(struct wal *w, struct elava_error *err)
{
	if (w->fd < 0 || !w->unsynced)
		return 0;
	if (fdatasync(w->fd) < 0) {
		int e = errno;
		char name[WAL__SEG_NAME_SIZE];
		wal__segment_name(w->seg_first, name);
		return elava_error_set(err, elava_errno_code(e),
				       "cannot fsync WAL segment '%s/%s': %s",
				       w->dir, name, strerror(e));
	}
	w->unsynced = false;
	return 0;
}

static int retention_locked(struct wal *w, int64_t now_ns, size_t *removed,
			    struct elava_error *err);

/*
 * Write the batch, rotating where append() placed cuts; with `durable`,
 * fdatasync the active segment. Any failure poisons the handle: the kernel
 * may have dropped pages we can no longer name, so nothing written after
 * could be trusted to chain to what is on disk.
 */
static int flush_locked(struct wal *w, bool durable, struct elava_error *err)
{
	struct elava_error e = {0};
	size_t start = 0;
	uint64_t seq_at = w->batch_seq;
	bool rotated = false;
	int rc = 0;

	for (size_t i = 0; i < w->ncuts; i++) {
		const struct cut *c = &w->cuts[i];
		if ((rc = segment_write(w, seq_at, w->batch.data + start,
					c->off - start, &e)) ||
		    (rc = segment_sync(w, &e)))
			goto out;
		if (w->fd >= 0)
			close(w->fd);
		w->fd = -1;
		if ((rc = segment_create(w, c->seq, &e)))
			goto out;
		start = c->off;
		seq_at = c->seq;
		rotated = true;
	}
	if ((rc = segment_write(w, seq_at, w->batch.data + start,
				w->batch.len - start, &e)))
		goto out;
	if (durable) {
		if ((rc = segment_sync(w, &e)))
			goto out;
		w->durable_seq = w->next_seq - 1;
	}
	buf_reset(&w->batch);
	w->ncuts = 0;
	w->batch_seq = w->next_seq;
	w->proj_bytes = w->seg_bytes;
	if (rotated && w->retention_ns > 0) {
		struct elava_error re = {0};
		if (retention_locked(w, clock_now(w), NULL, &re))
			log_warn(WAL__LOG, "retention skipped: %s", re.msg);
	}
out:
	if (rc) {
		w->poison = rc;
		snprintf(w->poison_msg, sizeof(w->poison_msg), "%s", e.msg);
		log_error(WAL__LOG, "%s; the WAL handle is now unusable",
			  e.msg);
		if (err)
			*err = e;
	}
	return rc;
}

static int poisoned(struct wal *w, struct elava_error *err)
{
	return elava_error_set(err, ELAVA_E_STATE,
			       "WAL '%s' is unusable after an earlier failure "
			       "(%s); reopen it",
			       w->dir, w->poison_msg);
}

/* ----------------------------------------------------------------- append */

static int append_canonical(struct wal *w, enum wal_type type,
			    uint64_t revision, const char *resource,
			    const char *data, size_t data_len,
			    uint64_t *seq_out, struct elava_error *err)
{
	struct wal__line_fields f;
	char hash[WAL_HASH_HEX_SIZE];
	size_t old_len;
	int rc = 0;

	pthread_mutex_lock(&w->mu);
	if (w->poison) {
		rc = poisoned(w, err);
		goto out;
	}
	f.seq = w->next_seq;
	f.ts_ns = clock_now(w);
	f.type = type;
	f.instance_json = w->instance_json;
	f.instance_json_len = w->instance_json_len;
	f.revision = revision;
	f.resource = resource;
	f.data = data;
	f.data_len = data_len;
	f.prev = w->head;
	buf_reset(&w->line);
	if ((rc = wal__line_format_prefix(&w->line, &f)) ||
	    (rc = wal__line_finish(&w->line, 0, w->sha, hash)) ||
	    (rc = buf_putc(&w->line, '\n')) || w->line.len - 1 > WAL_LINE_MAX) {
		rc = elava_error_set(err, ELAVA_E_TOOBIG,
				     "WAL entry is longer than %zu bytes",
				     WAL_LINE_MAX);
		goto out;
	}
	old_len = w->batch.len;
	if ((rc = buf_append(&w->batch, w->line.data, w->line.len))) {
		rc = elava_error_set(err, rc, "WAL batch is full");
		goto out;
	}
	/* Cut before a line that would take a non-empty segment past max. */
	if (w->proj_bytes > 0 && w->proj_bytes + w->line.len > w->seg_max) {
		if (w->ncuts == w->cuts_cap) {
			w->cuts_cap = w->cuts_cap ? w->cuts_cap * 2 : 4;
			w->cuts = xrealloc(
			    w->cuts, st_mult(w->cuts_cap, sizeof(*w->cuts)));
		}
		w->cuts[w->ncuts].off = old_len;
		w->cuts[w->ncuts].seq = f.seq;
		w->ncuts++;
		w->proj_bytes = 0;
	}
	w->proj_bytes += w->line.len;
	memcpy(w->head, hash, sizeof(w->head));
	w->next_seq++;
	if (seq_out)
		*seq_out = f.seq;
	if (w->batch.len >= BATCH_WRITE_AT)
		rc = flush_locked(w, false, err);
out:
	pthread_mutex_unlock(&w->mu);
	return rc;
}

static int check_args(enum wal_type type, const char *resource,
		      struct elava_error *err)
{
	size_t n;

	if (!wal_type_name(type))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "unknown WAL entry type %d", (int)type);
	if (!resource)
		return 0;
	n = strlen(resource);
	if (n == 0 || n > RESOURCE_MAX || !utf8_valid(resource, n))
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "invalid WAL resource key (empty, longer "
		    "than %d bytes or not UTF-8)",
		    RESOURCE_MAX);
	return 0;
}

int wal_append_value(struct wal *w, enum wal_type type, uint64_t revision,
		     const char *resource, const struct ejson *data,
		     uint64_t *seq_out, struct elava_error *err)
{
	struct buf canon;
	int rc;

	if (!w)
		return elava_error_set(err, ELAVA_E_INVAL, "no WAL handle");
	if ((rc = check_args(type, resource, err)))
		return rc;
	if (!data)
		return append_canonical(w, type, revision, resource, "{}", 2,
					seq_out, err);
	if (ejson_typeof(data) != EJSON_OBJECT)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "WAL entry data must be a JSON object");
	/* Canonical form outside the lock: it is the costly part. */
	buf_init(&canon, WAL_LINE_MAX);
	if ((rc = ejson_dump_canonical(data, &canon))) {
		rc = elava_error_set(err, rc,
				     "WAL entry data is longer than "
				     "%zu bytes",
				     WAL_LINE_MAX);
		goto out;
	}
	rc = append_canonical(w, type, revision, resource, canon.data,
			      canon.len, seq_out, err);
out:
	buf_release(&canon);
	return rc;
}

int wal_append(struct wal *w, enum wal_type type, uint64_t revision,
	       const char *resource, const char *data_json, uint64_t *seq_out,
	       struct elava_error *err)
{
	struct ejson *v = NULL;
	size_t n;
	int rc;

	if (!w)
		return elava_error_set(err, ELAVA_E_INVAL, "no WAL handle");
	if (!data_json)
		return wal_append_value(w, type, revision, resource, NULL,
					seq_out, err);
	n = strlen(data_json);
	if (n > WAL_LINE_MAX)
		return elava_error_set(
		    err, ELAVA_E_TOOBIG,
		    "WAL entry data is longer than %zu bytes", WAL_LINE_MAX);
	if ((rc = ejson_parse(data_json, n, &v, err))) {
		elava_error_prefix(err, "invalid WAL entry data");
		return rc;
	}
	rc = wal_append_value(w, type, revision, resource, v, seq_out, err);
	ejson_free(&v);
	return rc;
}

int wal_sync(struct wal *w, struct elava_error *err)
{
	int rc = 0;

	if (!w)
		return elava_error_set(err, ELAVA_E_INVAL, "no WAL handle");
	pthread_mutex_lock(&w->mu);
	if (w->poison)
		rc = poisoned(w, err);
	else if (w->batch.len || w->unsynced)
		rc = flush_locked(w, true, err);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

void wal_head_get(struct wal *w, struct wal_head *out)
{
	pthread_mutex_lock(&w->mu);
	out->seq = w->next_seq - 1;
	out->durable_seq = w->durable_seq;
	memcpy(out->hash, w->head, sizeof(out->hash));
	pthread_mutex_unlock(&w->mu);
}

/* -------------------------------------------------------------- retention */

/* ts of the newest entry of a closed segment. */
static int segment_newest_ts(const char *path, int64_t *ts,
			     struct elava_error *err)
{
	struct buf win, scratch;
	struct wal_entry e;
	uint64_t size, end;
	size_t first;
	int fd = -1;
	int rc;

	buf_init(&win, 0);
	buf_init(&scratch, 0);
	if ((rc = wal__segment_open_end(path, &fd, &size, &end, err)) ||
	    (rc = wal__file_last_lines(fd, path, end, 1, &win, &first, err)))
		goto out;
	if (win.len == 0) {
		rc = elava_error_set(err, ELAVA_E_CORRUPT,
				     "WAL segment '%s' has no entries", path);
		goto out;
	}
	if ((rc = wal_line_parse(win.data + first, win.len - first - 1, &e,
				 &scratch, err))) {
		elava_error_prefix(err, "last entry of '%s'", path);
		rc = ELAVA_E_CORRUPT;
		goto out;
	}
	*ts = e.ts_ns;
out:
	if (fd >= 0)
		close(fd);
	buf_release(&win);
	buf_release(&scratch);
	return rc;
}

static int retention_locked(struct wal *w, int64_t now_ns, size_t *removed,
			    struct elava_error *err)
{
	struct wal__seglist segs = {0};
	size_t n = 0;
	int64_t cutoff;
	int rc;

	if (removed)
		*removed = 0;
	if (w->retention_ns <= 0 || w->fd < 0)
		return 0;
	cutoff = now_ns - w->retention_ns;
	if ((rc = wal__segments_list(w->dir, &segs, err)))
		return rc;
	/* Oldest first, and stop at the first kept: no holes in the range. */
	for (size_t i = 0; i < segs.n; i++) {
		int64_t ts;
		if (segs.v[i].first_seq >= w->seg_first)
			break;
		if ((rc = segment_newest_ts(segs.v[i].path, &ts, err)))
			break;
		if (ts >= cutoff)
			break;
		if (unlink(segs.v[i].path) < 0) {
			rc = errno_fail(err, "remove WAL segment",
					segs.v[i].path);
			break;
		}
		log_info(WAL__LOG, "removed WAL segment '%s': past retention",
			 segs.v[i].path);
		n++;
	}
	if (n)
		fsync(w->dir_fd);
	if (removed)
		*removed = n;
	wal__segments_release(&segs);
	return rc;
}

int wal_retention_apply(struct wal *w, int64_t now_ns, size_t *removed,
			struct elava_error *err)
{
	int rc;

	if (!w)
		return elava_error_set(err, ELAVA_E_INVAL, "no WAL handle");
	pthread_mutex_lock(&w->mu);
	rc = retention_locked(w, now_ns, removed, err);
	pthread_mutex_unlock(&w->mu);
	return rc;
}

/* ------------------------------------------------------------ open/close */

/*
 * Find the head in the newest segment, trimming a torn tail first. A
 * newest segment with no complete line is removed and the one before it
 * becomes the newest.
 */
static int open_head(struct wal *w, struct elava_error *err)
{
	struct wal__seglist segs = {0};
	struct buf win, scratch;
	int rc = 0;

	buf_init(&win, 0);
	buf_init(&scratch, 0);
	if ((rc = wal__segments_list(w->dir, &segs, err)))
		goto out;
	while (segs.n > 0) {
		const struct wal__segment *s = &segs.v[segs.n - 1];
		struct wal_entry e;
		struct stat st;
		uint64_t size, end;
		bool nul_only;
		size_t first;

		w->fd = open(s->path, O_RDWR | O_APPEND | O_CLOEXEC);
		if (w->fd < 0) {
			rc = errno_fail(err, "open WAL segment", s->path);
			goto out;
		}
		if (fstat(w->fd, &st) < 0) {
			rc = errno_fail(err, "stat WAL segment", s->path);
			goto out;
		}
		size = (uint64_t)st.st_size;
		if ((rc = wal__file_data_end(w->fd, s->path, size, &end,
					     &nul_only, err)))
			goto out;
		if (end == 0) {
			if (size)
				log_warn(WAL__LOG,
					 "removed WAL segment '%s': its %llu "
					 "bytes held no complete entry (torn "
					 "write)",
					 s->path, (unsigned long long)size);
			close(w->fd);
			w->fd = -1;
			if (unlink(s->path) < 0) {
				rc = errno_fail(err, "remove WAL segment",
						s->path);
				goto out;
			}
			fsync(w->dir_fd);
			xfree(segs.v[segs.n - 1].path);
			segs.n--;
			continue;
		}
		if ((rc = wal__file_last_lines(w->fd, s->path, end, 1, &win,
					       &first, err)))
			goto out;
		if ((rc = wal_line_parse(win.data + first, win.len - first - 1,
					 &e, &scratch, err))) {
			elava_error_prefix(err,
					   "last entry of '%s' is corrupt "
					   "(run 'elava wal verify')",
					   s->path);
			rc = ELAVA_E_CORRUPT;
			goto out;
		}
		char want[WAL_HASH_HEX_SIZE];
		if (!wal_line_hash(win.data + first, win.len - first - 1,
				   want) ||
		    e.seq < s->first_seq) {
			rc = elava_error_set(err, ELAVA_E_CORRUPT,
					     "last entry of '%s' (seq %llu) is "
					     "corrupt: %s (run 'elava wal "
					     "verify')",
					     s->path, (unsigned long long)e.seq,
					     e.seq < s->first_seq
						 ? "seq below the file name"
						 : "hash mismatch");
			goto out;
		}
		if (end < size) {
			/* Only bytes after the last newline: never a line. */
			if (ftruncate(w->fd, (off_t)end) < 0) {
				rc = errno_fail(err, "trim WAL segment",
						s->path);
				goto out;
			}
			if (fdatasync(w->fd) < 0) {
				rc = errno_fail(err, "fsync WAL segment",
						s->path);
				goto out;
			}
			log_warn(WAL__LOG,
				 "trimmed torn tail of '%s': %llu bytes after "
				 "seq %llu (%s)",
				 s->path, (unsigned long long)(size - end),
				 (unsigned long long)e.seq,
				 nul_only ? "NUL bytes"
					  : "an incomplete final line");
		}
		w->seg_first = s->first_seq;
		w->seg_bytes = end;
		w->next_seq = e.seq + 1;
		memcpy(w->head, e.hash, sizeof(w->head));
		break;
	}
out:
	wal__segments_release(&segs);
	buf_release(&win);
	buf_release(&scratch);
	return rc;
}

static int instance_set(struct wal *w, const char *inst,
			struct elava_error *err)
{
	char host[INSTANCE_MAX + 1];
	struct buf b;
	size_t n;

	if (!inst) {
		if (gethostname(host, sizeof(host)) < 0 || !host[0])
			snprintf(host, sizeof(host), "unknown");
		host[INSTANCE_MAX] = '\0';
		inst = host;
	}
	n = strlen(inst);
	if (n == 0 || n > INSTANCE_MAX || !utf8_valid(inst, n))
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "invalid WAL instance name (empty, longer "
		    "than %d bytes or not UTF-8)",
		    INSTANCE_MAX);
	buf_init(&b, 0);
	buf_append_json_string(&b, inst, n);
	w->instance_json = buf_detach(&b, &w->instance_json_len);
	return 0;
}

int wal_open(const struct wal_options *opts, struct wal **out,
	     struct elava_error *err)
{
	struct wal *w = NULL;
	int rc = 0;

	*out = NULL;
	if (!opts || !opts->dir || !opts->dir[0])
		return elava_error_set(err, ELAVA_E_INVAL,
				       "no WAL directory given");
	w = xcalloc(1, sizeof(*w));
	pthread_mutex_init(&w->mu, NULL);
	w->fd = -1;
	w->dir_fd = -1;
	w->dir = xstrdup(opts->dir);
	w->seg_max = opts->segment_max_bytes ? opts->segment_max_bytes
					     : WAL_SEGMENT_MAX_DEFAULT;
	w->retention_ns = opts->retention_ns;
	w->clock_ns = opts->clock_ns;
	w->next_seq = 1;
	memcpy(w->head, wal__genesis, sizeof(w->head));
	buf_init(&w->batch, BATCH_MAX);
	buf_init(&w->line, WAL_LINE_MAX + 1024);
	w->sha = sha256_new();
	if ((rc = instance_set(w, opts->instance, err)))
		goto out;
	if ((rc = dir_ensure(w->dir, 0700, err)))
		goto out;
	w->dir_fd = open(w->dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (w->dir_fd < 0) {
		rc = errno_fail(err, "open WAL directory", w->dir);
		goto out;
	}
	if (flock(w->dir_fd, LOCK_EX | LOCK_NB) < 0) {
		if (errno == EWOULDBLOCK)
			rc = elava_error_set(err, ELAVA_E_BUSY,
					     "WAL '%s' is open for writing by "
					     "another process",
					     w->dir);
		else
			rc = errno_fail(err, "lock WAL directory", w->dir);
		goto out;
	}
	if ((rc = open_head(w, err)))
		goto out;
	w->durable_seq = w->next_seq - 1;
	w->batch_seq = w->next_seq;
	w->proj_bytes = w->seg_bytes;
	log_debug(WAL__LOG, "opened WAL '%s' at seq %llu", w->dir,
		  (unsigned long long)(w->next_seq - 1));
	*out = w;
	w = NULL;
out:
	if (w) {
		/* Nothing was appended, so there is nothing to lose. */
		w->poison = ELAVA_E_STATE;
		wal_close(&w, NULL);
	}
	return rc;
}

int wal_close(struct wal **wp, struct elava_error *err)
{
	struct wal *w;
	int rc = 0;

	if (!wp || !*wp)
		return 0;
	w = *wp;
	*wp = NULL;
	pthread_mutex_lock(&w->mu);
	if (w->poison) {
		if (w->batch.len || w->unsynced)
			rc = poisoned(w, err);
	} else if (w->batch.len || w->unsynced) {
		rc = flush_locked(w, true, err);
	}
	pthread_mutex_unlock(&w->mu);
	if (w->fd >= 0)
		close(w->fd);
	if (w->dir_fd >= 0)
		close(w->dir_fd); /* releases the flock */
	pthread_mutex_destroy(&w->mu);
	sha256_free(&w->sha);
	buf_release(&w->batch);
	buf_release(&w->line);
	xfree(w->cuts);
	xfree(w->instance_json);
	xfree(w->dir);
	xfree(w);
	return rc;
}
