/*
 * The scan spool: new and changed resources wait here, on disk, until the
 * commit. Records are gathered in a bounded memory buffer, sorted by key
 * and written out as sorted runs to an unlinked temporary file; the commit
 * reads them back through a k-way merge, so it inserts in key order. LMDB
 * is several times faster (and spills far fewer dirty pages) on ordered
 * inserts than on random ones, and memory stays bounded by the buffer, not
 * by the inventory.
 */
#include "store_int.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/mman.h>
#include <unistd.h>

#define RUN_BUF_MIN ((size_t)1 << 20)
#define RUN_BUF_MAX ((size_t)32 << 20)
#define OUT_BUF	    ((size_t)1 << 20)
/* Record: u32 key length, u32 JSON length, fingerprint, key, JSON. */
#define REC_HDR (8 + RESOURCE_FP_LEN)

int store__spool_open(struct store__spool *sp, const char *dir,
		      struct elava_error *err)
{
	memset(sp, 0, sizeof(*sp));
	sp->fd = open(dir, O_TMPFILE | O_RDWR | O_CLOEXEC, 0600);
	if (sp->fd < 0) {
		char path[4096];
		snprintf(path, sizeof(path), "%s/.spool-XXXXXX", dir);
		sp->fd = mkostemp(path, O_CLOEXEC);
		if (sp->fd >= 0)
			unlink(path);
	}
	if (sp->fd < 0)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot create scan spool in '%s': %s",
				       dir, strerror(errno));
	return 0;
}

/*
 * Write at an explicit offset, so a run that failed half-way (disk full)
 * is simply written again at the same place when the commit is retried.
 */
static int write_at(int fd, const void *p, size_t n, uint64_t at,
		    struct elava_error *err)
{
	size_t off = 0;

	while (off < n) {
		ssize_t w = pwrite(fd, (const char *)p + off, n - off,
				   (off_t)(at + off));
		if (w < 0) {
			if (errno == EINTR)
				continue;
			return elava_error_set(err, elava_errno_code(errno),
					       "cannot write scan spool: %s",
					       strerror(errno));
		}
		off += (size_t)w;
	}
	return 0;
}

static int key_cmp(const uint8_t *a, const uint8_t *b)
{
	uint32_t la = be32_get(a), lb = be32_get(b);
	int c = memcmp(a + REC_HDR, b + REC_HDR, la < lb ? la : lb);

	return c ? c : (la > lb) - (la < lb);
}

static int off_cmp(const void *x, const void *y, void *base)
{
	const uint8_t *b = base;
	return key_cmp(b + *(const uint32_t *)x, b + *(const uint32_t *)y);
}

static size_t rec_size(const uint8_t *r)
{
	return REC_HDR + (size_t)be32_get(r) + be32_get(r + 4);
}

/* Sort the buffered records and append them to the file as one run. */
static int flush_run(struct store__spool *sp, struct elava_error *err)
{
	struct buf out;
	uint64_t at = sp->size;
	int rc = 0;

	if (!sp->noffs)
		return 0;
	qsort_r(sp->offs, sp->noffs, sizeof(*sp->offs), off_cmp, sp->buf);
	buf_init(&out,
		 OUT_BUF + RESOURCE_MAX_JSON + RESOURCE_MAX_KEY + REC_HDR);
	for (size_t i = 0; i < sp->noffs && !rc; i++) {
		const uint8_t *r = (const uint8_t *)sp->buf + sp->offs[i];
		rc = buf_append(&out, r, rec_size(r));
		if (!rc && out.len >= OUT_BUF) {
			rc = write_at(sp->fd, out.data, out.len, at, err);
			at += out.len;
			buf_reset(&out);
		}
	}
	if (!rc && out.len)
		rc = write_at(sp->fd, out.data, out.len, at, err);
	buf_release(&out);
	if (rc)
		return rc == ELAVA_E_TOOBIG
			   ? elava_error_set(err, rc, "spool record too big")
			   : rc;
	if (sp->nruns == sp->runcap) {
		sp->runcap = sp->runcap ? sp->runcap * 2 : 8;
		sp->runs =
		    xrealloc(sp->runs, st_mult(sp->runcap, sizeof(*sp->runs)));
	}
	sp->runs[sp->nruns].start = sp->size;
	sp->size += sp->len;
	sp->runs[sp->nruns].end = sp->size;
	sp->nruns++;
	sp->len = 0;
	sp->noffs = 0;
	return 0;
}

int store__spool_add(struct store__spool *sp, const char *key, size_t keylen,
		     const char *json, size_t jsonlen, const uint8_t *fp,
		     struct elava_error *err)
{
	size_t need = REC_HDR + keylen + jsonlen;
	uint8_t *r;
	int rc;

	if (sp->len + need > sp->cap) {
		if (sp->cap < RUN_BUF_MAX && sp->len + need <= RUN_BUF_MAX) {
			size_t ncap = sp->cap ? sp->cap : RUN_BUF_MIN;
			while (ncap < sp->len + need)
				ncap *= 2;
			if (ncap > RUN_BUF_MAX)
				ncap = RUN_BUF_MAX;
			sp->buf = xrealloc(sp->buf, ncap);
			sp->cap = ncap;
		} else if ((rc = flush_run(sp, err))) {
			return rc;
		}
		if (need > sp->cap) {
			sp->buf = xrealloc(sp->buf, need);
			sp->cap = need;
		}
	}
	if (sp->noffs == sp->offcap) {
		sp->offcap = sp->offcap ? sp->offcap * 2 : 1024;
		sp->offs =
		    xrealloc(sp->offs, st_mult(sp->offcap, sizeof(*sp->offs)));
	}
	sp->offs[sp->noffs++] = (uint32_t)sp->len;
	r = (uint8_t *)sp->buf + sp->len;
	be32_put(r, (uint32_t)keylen);
	be32_put(r + 4, (uint32_t)jsonlen);
	memcpy(r + 8, fp, RESOURCE_FP_LEN);
	memcpy(r + REC_HDR, key, keylen);
	memcpy(r + REC_HDR + keylen, json, jsonlen);
	sp->len += need;
	return 0;
}

static bool heap_less(struct store__spool *sp, size_t a, size_t b)
{
	int c = key_cmp(sp->map + sp->runs[a].pos, sp->map + sp->runs[b].pos);
	return c < 0 || (c == 0 && a < b); /* equal keys: earlier run first */
}

static void heap_down(struct store__spool *sp, size_t i)
{
	for (;;) {
		size_t l = 2 * i + 1, r = l + 1, m = i;
		if (l < sp->nheap && heap_less(sp, sp->heap[l], sp->heap[m]))
			m = l;
		if (r < sp->nheap && heap_less(sp, sp->heap[r], sp->heap[m]))
			m = r;
		if (m == i)
			return;
		size_t t = sp->heap[i];
		sp->heap[i] = sp->heap[m];
		sp->heap[m] = t;
		i = m;
	}
}

void store__spool_rewind(struct store__spool *sp)
{
	sp->nheap = 0;
	for (size_t i = 0; i < sp->nruns; i++) {
		sp->runs[i].pos = sp->runs[i].start;
		if (sp->runs[i].start < sp->runs[i].end)
			sp->heap[sp->nheap++] = i;
	}
	for (size_t i = sp->nheap / 2; i-- > 0;)
		heap_down(sp, i);
}

int store__spool_finish(struct store__spool *sp, struct elava_error *err)
{
	int rc = flush_run(sp, err);

	if (rc)
		return rc;
	xfree(sp->buf);
	sp->buf = NULL;
	sp->cap = sp->len = 0;
	if (sp->size) {
		sp->map =
		    mmap(NULL, sp->size, PROT_READ, MAP_PRIVATE, sp->fd, 0);
		if (sp->map == MAP_FAILED) {
			sp->map = NULL;
			return elava_error_set(err, elava_errno_code(errno),
					       "cannot map scan spool: %s",
					       strerror(errno));
		}
		madvise(sp->map, sp->size, MADV_SEQUENTIAL);
	}
	sp->heap = xcalloc(sp->nruns + 1, sizeof(*sp->heap));
	store__spool_rewind(sp);
	return 0;
}

bool store__spool_next(struct store__spool *sp, struct store__spool_rec *rec)
{
	if (!sp->nheap)
		return false;
	size_t run = sp->heap[0];
	const uint8_t *r = sp->map + sp->runs[run].pos;
	rec->keylen = be32_get(r);
	rec->jsonlen = be32_get(r + 4);
	rec->fp = r + 8;
	rec->key = (const char *)r + REC_HDR;
	rec->json = rec->key + rec->keylen;
	sp->runs[run].pos += rec_size(r);
	if (sp->runs[run].pos >= sp->runs[run].end)
		sp->heap[0] = sp->heap[--sp->nheap];
	if (sp->nheap)
		heap_down(sp, 0);
	return true;
}

void store__spool_close(struct store__spool *sp)
{
	if (sp->map)
		munmap(sp->map, sp->size);
	if (sp->fd > 0)
		close(sp->fd);
	xfree(sp->buf);
	xfree(sp->offs);
	xfree(sp->runs);
	xfree(sp->heap);
	memset(sp, 0, sizeof(*sp));
	sp->fd = -1;
}
