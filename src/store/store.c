/*
 * Opening and closing the store, its format marker, LMDB error
 * translation, storage keys, and the write-transaction runner that grows
 * the map instead of failing with "map full".
 */
#include "store_int.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <limits.h>
#include <stdio.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/statvfs.h>
#include <unistd.h>

#define DEFAULT_MAP_SIZE ((size_t)256 << 20)
#define MIN_MAP_GROWTH	 ((size_t)64 << 20)
/* Disk reserved ahead of any write transaction (see reserve_blocks). */
#define WRITE_RESERVE ((uint64_t)512 << 10)

const char *store_path(const struct store *s)
{
	return s->path;
}

static bool disk_nearly_full(const char *path)
{
	struct statvfs vfs;

	return statvfs(path, &vfs) == 0 &&
	       (uint64_t)vfs.f_bavail * vfs.f_bsize < ((uint64_t)16 << 20);
}

int store__mdb_error(struct store *s, int rc, struct elava_error *err,
		     const char *what)
{
	const char *path = s ? s->path : "?";
	int code;

	switch (rc) {
	case MDB_MAP_FULL: return STORE__MAP_FULL;
	case MDB_NOTFOUND: code = ELAVA_E_NOTFOUND; break;
	case MDB_CORRUPTED:
	case MDB_PAGE_NOTFOUND:
	case MDB_INVALID:
	case MDB_BAD_TXN: code = ELAVA_E_CORRUPT; break;
	case MDB_VERSION_MISMATCH: code = ELAVA_E_FORMAT; break;
	case MDB_READERS_FULL:
	case MDB_TXN_FULL:
	case MDB_CURSOR_FULL: code = ELAVA_E_BUSY; break;
	case MDB_BAD_VALSIZE: code = ELAVA_E_TOOBIG; break;
	case EIO:
	case ENOSPC:
		/*
		 * LMDB turns a short write into EIO, which is how a full disk
		 * usually shows up; say so when the filesystem is nearly full.
		 */
		if (s && disk_nearly_full(s->path))
			return elava_error_set(err, ELAVA_E_NOSPACE,
					       "cannot %s store '%s': No space "
					       "left on device",
					       what, path);
		code = elava_errno_code(rc);
		break;
	default: code = rc > 0 ? elava_errno_code(rc) : ELAVA_E_IO; break;
	}
	return elava_error_set(err, code, "cannot %s store '%s': %s", what,
			       path, mdb_strerror(rc));
}

size_t store__skey(const char *key, size_t keylen, char out[STORE_SKEY_MAX])
{
	uint8_t digest[SHA256_LEN];

	if (keylen <= STORE_SKEY_MAX - 1 - SHA256_HEX_LEN &&
	    !memchr(key, STORE_SKEY_MARK, keylen)) {
		memcpy(out, key, keylen);
		return keylen;
	}
	sha256(key, keylen, digest);
	memcpy(out, key, STORE_SKEY_PREFIX);
	out[STORE_SKEY_PREFIX] = STORE_SKEY_MARK;
	char hex[SHA256_HEX_LEN + 1];
	hex_encode(digest, SHA256_LEN, hex);
	memcpy(out + STORE_SKEY_PREFIX + 1, hex, SHA256_HEX_LEN);
	return STORE_SKEY_PREFIX + 1 + SHA256_HEX_LEN;
}

bool store__skey_is_long(const char *skey, size_t len)
{
	return len == STORE_SKEY_PREFIX + 1 + SHA256_HEX_LEN &&
	       skey[STORE_SKEY_PREFIX] == STORE_SKEY_MARK;
}

size_t store__version_key(const char *skey, size_t skeylen, uint64_t rev,
			  uint8_t *out)
{
	memcpy(out, skey, skeylen);
	out[skeylen] = '\0';
	be64_put(out + skeylen + 1, rev);
	return skeylen + 9;
}

int store__real_key(const char *skey, size_t skeylen, const char *json,
		    size_t jsonlen, struct buf *out)
{
	struct resource r;
	int rc;

	buf_reset(out);
	if (!store__skey_is_long(skey, skeylen))
		return buf_append(out, skey, skeylen);
	resource_init(&r);
	rc = resource_from_json(json, jsonlen, &r, NULL);
	if (!rc)
		rc = resource_key(&r, out);
	resource_release(&r);
	return rc;
}

void store__key_type(const char *key, size_t keylen, const char **type,
		     size_t *typelen)
{
	size_t scope = resource_key_scope_len(key, keylen);
	const char *start;

	*type = "";
	*typelen = 0;
	if (!scope)
		return;
	start = key + scope;
	while (start > key && start[-1] != ':')
		start--;
	*type = start;
	*typelen = (size_t)(key + scope - start);
}

int store__meta_get_u64(MDB_txn *txn, struct store *s, const char *name,
			uint64_t *v)
{
	MDB_val k = {strlen(name), (void *)name}, d;
	int rc = mdb_get(txn, s->meta, &k, &d);

	*v = 0;
	if (rc == MDB_NOTFOUND)
		return 0;
	if (rc)
		return rc;
	if (d.mv_size != 8)
		return MDB_CORRUPTED;
	*v = be64_get(d.mv_data);
	return 0;
}

int store__meta_put_u64(MDB_txn *txn, struct store *s, const char *name,
			uint64_t v)
{
	uint8_t buf[8];
	MDB_val k = {strlen(name), (void *)name}, d = {8, buf};

	be64_put(buf, v);
	return mdb_put(txn, s->meta, &k, &d, 0);
}

/* Grow (or adopt another process's growth of) the map; exclusive lock. */
static int map_resize(struct store *s, size_t want, struct elava_error *err)
{
	MDB_envinfo info;
	int rc;

	pthread_rwlock_wrlock(&s->resize_lock);
	rc = mdb_env_set_mapsize(s->env, want);
	if (!rc && !mdb_env_info(s->env, &info))
		s->map_size = info.me_mapsize;
	pthread_rwlock_unlock(&s->resize_lock);
	if (rc)
		return store__mdb_error(s, rc, err, "resize map of");
	return 0;
}

static int grow_map(struct store *s, struct elava_error *err)
{
	size_t want = s->map_size * 2;

	if (want - s->map_size < MIN_MAP_GROWTH)
		want = s->map_size + MIN_MAP_GROWTH;
	if (s->max_map_size) {
		if (s->map_size >= s->max_map_size)
			return elava_error_set(
			    err, ELAVA_E_NOSPACE,
			    "store '%s' is full: its map reached the "
			    "configured maximum of %zu bytes",
			    s->path, s->max_map_size);
		if (want > s->max_map_size)
			want = s->max_map_size;
	}
	log_info("store", "growing map of '%s' from %zu to %zu bytes", s->path,
		 s->map_size, want);
	return map_resize(s, want, err);
}

/* The high-water mark: bytes up to the last page in use. */
static uint64_t used_bytes(struct store *s)
{
	MDB_envinfo info;
	MDB_stat ms;

	if (mdb_env_info(s->env, &info) || mdb_env_stat(s->env, &ms))
		return 0;
	return ((uint64_t)info.me_last_pgno + 1) * ms.ms_psize;
}

/*
 * The store is mapped writable (MDB_WRITEMAP: written pages are the file's
 * page cache, not private memory), so a page past the file's allocated
 * blocks gets its block from the kernel when first written, and a full
 * disk would then kill the process with SIGBUS. Reserving the blocks a
 * transaction may write beforehand turns that into an ordinary ENOSPC,
 * before anything is written. New pages are taken after the high-water
 * mark; freed pages below it already have their blocks.
 */
static int reserve_blocks(struct store *s, uint64_t extra,
			  struct elava_error *err)
{
	uint64_t used = used_bytes(s);
	int fd;

	if (!used || mdb_env_get_fd(s->env, &fd))
		return 0;
	if (used + extra > s->map_size)
		extra = used < s->map_size ? s->map_size - used : 0;
	if (!extra || !fallocate(fd, 0, (off_t)used, (off_t)extra))
		return 0;
	if (errno == EOPNOTSUPP || errno == ENOSYS)
		return 0; /* no reservation on this filesystem: best effort */
	return elava_error_set(err, elava_errno_code(errno),
			       "cannot reserve %llu MB of disk for a commit to "
			       "store '%s': %s",
			       (unsigned long long)(extra >> 20), s->path,
			       strerror(errno));
}

int store__map_reserve(struct store *s, uint64_t extra, struct elava_error *err)
{
	uint64_t want = used_bytes(s) + extra;
	int rc;

	if (s->max_map_size && want > s->max_map_size)
		want = s->max_map_size; /* the commit will say it is full */
	if (want > s->map_size) {
		/* Grow in generous steps: each resize is a remap. */
		if (want < s->map_size * 2)
			want = s->map_size * 2;
		if (s->max_map_size && want > s->max_map_size)
			want = s->max_map_size;
		log_info("store", "growing map of '%s' from %zu to %llu bytes",
			 s->path, s->map_size, (unsigned long long)want);
		if ((rc = map_resize(s, (size_t)want, err)))
			return rc;
	}
	return reserve_blocks(s, extra, err);
}

static int txn_begin(struct store *s, unsigned flags, MDB_txn **txn,
		     struct elava_error *err)
{
	for (;;) {
		int rc;

		pthread_rwlock_rdlock(&s->resize_lock);
		rc = mdb_txn_begin(s->env, NULL, flags, txn);
		if (rc != MDB_MAP_RESIZED) {
			if (rc) {
				pthread_rwlock_unlock(&s->resize_lock);
				return store__mdb_error(s, rc, err,
							"begin transaction on");
			}
			return 0;
		}
		/* Another process grew the map: adopt its size and retry. */
		pthread_rwlock_unlock(&s->resize_lock);
		if ((rc = map_resize(s, 0, err)))
			return rc;
	}
}

int store__read_begin(struct store *s, MDB_txn **txn, struct elava_error *err)
{
	return txn_begin(s, MDB_RDONLY, txn, err);
}

void store__read_end(struct store *s, MDB_txn **txn)
{
	if (!*txn)
		return;
	mdb_txn_abort(*txn);
	*txn = NULL;
	pthread_rwlock_unlock(&s->resize_lock);
}

int store__write(struct store *s, store_write_fn fn, void *ud,
		 struct elava_error *err)
{
	if (s->read_only)
		return elava_error_set(err, ELAVA_E_PERM,
				       "store '%s' is open read-only", s->path);
	for (;;) {
		MDB_txn *txn = NULL;
		/* Every write needs a few new pages (copy on write). */
		int rc = reserve_blocks(s, WRITE_RESERVE, err);

		if (rc || (rc = txn_begin(s, 0, &txn, err)))
			return rc;
		rc = fn(s, txn, ud, err);
		if (rc) {
			mdb_txn_abort(txn);
		} else {
			int64_t t0 = time_mono_ns();
			rc = mdb_txn_commit(txn);
			log_debug("store",
				  "transaction commit (write + sync) "
				  "%.1f ms",
				  (double)(time_mono_ns() - t0) / 1e6);
			if (rc)
				rc = store__mdb_error(s, rc, err, "commit to");
		}
		pthread_rwlock_unlock(&s->resize_lock);
		if (rc != STORE__MAP_FULL)
			return rc;
		if ((rc = grow_map(s, err)))
			return rc;
	}
}

/* A directory we may turn into a store: empty but for our own files. */
static int check_plain_dir(const char *path, struct elava_error *err)
{
	DIR *d = opendir(path);
	struct dirent *e;
	int rc = 0;

	if (!d)
		return elava_error_set(err, elava_errno_code(errno),
				       "cannot open store '%s': %s", path,
				       strerror(errno));
	while ((e = readdir(d))) {
		if (!strcmp(e->d_name, ".") || !strcmp(e->d_name, "..") ||
		    !strcmp(e->d_name, "lock.mdb") || !strcmp(e->d_name, "wal"))
			continue;
		rc =
		    elava_error_set(err, ELAVA_E_INVAL,
				    "'%s' is not an elava store: the directory "
				    "is not empty and has no data.mdb "
				    "(found '%s')",
				    path, e->d_name);
		break;
	}
	closedir(d);
	return rc;
}

static int open_dbis(struct store *s, struct elava_error *err)
{
	static const struct {
		const char *name;
		size_t off;
	} dbs[] = {
	    {"latest", offsetof(struct store, latest)},
	    {"versions", offsetof(struct store, versions)},
	    {"changes", offsetof(struct store, changes)},
	    {"scans", offsetof(struct store, scans)},
	    {"times", offsetof(struct store, times)},
	};
	MDB_txn *txn = NULL;
	MDB_dbi main_dbi;
	MDB_stat st;
	uint64_t format = 0;
	bool fresh = false;
	int rc;

	rc = mdb_txn_begin(s->env, NULL, s->read_only ? MDB_RDONLY : 0, &txn);
	if (rc)
		return store__mdb_error(s, rc, err, "open");
	if ((rc = mdb_dbi_open(txn, NULL, 0, &main_dbi)) ||
	    (rc = mdb_stat(txn, main_dbi, &st))) {
		rc = store__mdb_error(s, rc, err, "open");
		goto out;
	}
	rc = mdb_dbi_open(txn, "meta", 0, &s->meta);
	if (rc == MDB_NOTFOUND && st.ms_entries == 0 && !s->read_only) {
		fresh = true;
		rc = mdb_dbi_open(txn, "meta", MDB_CREATE, &s->meta);
	} else if (rc == MDB_NOTFOUND || rc == MDB_INCOMPATIBLE) {
		rc = elava_error_set(err,
				     s->read_only && !st.ms_entries
					 ? ELAVA_E_NOTFOUND
					 : ELAVA_E_CORRUPT,
				     "'%s' is not an elava store (no format "
				     "marker in its data.mdb)",
				     s->path);
		goto out;
	}
	if (rc) {
		rc = store__mdb_error(s, rc, err, "open");
		goto out;
	}
	if (!fresh) {
		MDB_val k = {strlen(META_FORMAT), (void *)META_FORMAT}, d;
		rc = mdb_get(txn, s->meta, &k, &d);
		if (rc || d.mv_size != 8) {
			rc = elava_error_set(err, ELAVA_E_CORRUPT,
					     "'%s' is not an elava store (no "
					     "format marker in its data.mdb)",
					     s->path);
			goto out;
		}
		format = be64_get(d.mv_data);
		if (format > STORE_FORMAT_VERSION) {
			rc = elava_error_set(
			    err, ELAVA_E_FORMAT,
			    "store '%s' was written by format version %llu; "
			    "this elava reads up to version %d (upgrade "
			    "elava)",
			    s->path, (unsigned long long)format,
			    STORE_FORMAT_VERSION);
			goto out;
		}
	}
	for (size_t i = 0; i < ARRAY_SIZE(dbs); i++) {
		MDB_dbi *dbi = (MDB_dbi *)((char *)s + dbs[i].off);
		rc =
		    mdb_dbi_open(txn, dbs[i].name, fresh ? MDB_CREATE : 0, dbi);
		if (rc) {
			rc = elava_error_set(err, ELAVA_E_CORRUPT,
					     "store '%s' is damaged: database "
					     "'%s' is missing (%s)",
					     s->path, dbs[i].name,
					     mdb_strerror(rc));
			goto out;
		}
	}
	if (fresh && (rc = store__meta_put_u64(txn, s, META_FORMAT,
					       STORE_FORMAT_VERSION))) {
		rc = store__mdb_error(s, rc, err, "initialise");
		goto out;
	}
	/* Commit also for read-only: it keeps the DBI handles valid. */
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		rc = store__mdb_error(s, rc, err, "initialise");
out:
	if (txn)
		mdb_txn_abort(txn);
	return rc;
}

int store_open(const struct store_options *opts, struct store **out,
	       struct elava_error *err)
{
	struct store *s = NULL;
	char datafile[PATH_MAX];
	struct stat st;
	MDB_envinfo info;
	unsigned flags = MDB_NOTLS;
	int rc = 0;

	*out = NULL;
	if (!opts || !opts->path || !*opts->path)
		return elava_error_set(err, ELAVA_E_INVAL,
				       "no store path given");
	if (snprintf(datafile, sizeof(datafile), "%s/data.mdb", opts->path) >=
	    (int)sizeof(datafile))
		return elava_error_set(err, ELAVA_E_INVAL,
				       "store path too long '%s'", opts->path);
	if (stat(opts->path, &st) < 0) {
		if (errno != ENOENT || opts->read_only)
			return elava_error_set(
			    err, elava_errno_code(errno),
			    errno == ENOENT ? "no elava store at '%s'"
					    : "cannot open store '%s': %s",
			    opts->path, strerror(errno));
		if ((rc = dir_ensure(opts->path, 0700, err)))
			return rc;
	} else if (!S_ISDIR(st.st_mode)) {
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "cannot open store '%s': not a directory", opts->path);
	} else if (!opts->read_only && st.st_uid != geteuid()) {
		/*
		 * Files written here would belong to us and could lock out
		 * the owner (a daemon's store scanned with sudo, say). Even
		 * root must not write another user's store.
		 */
		return elava_error_set(
		    err, ELAVA_E_PERM,
		    "store '%s' belongs to uid %u, not to this user (uid %u): "
		    "refusing to write to it (run as its owner)",
		    opts->path, (unsigned)st.st_uid, (unsigned)geteuid());
	}
	if (stat(datafile, &st) < 0) {
		if (errno != ENOENT)
			return elava_error_set(err, elava_errno_code(errno),
					       "cannot open store '%s': %s",
					       datafile, strerror(errno));
		if (opts->read_only)
			return elava_error_set(err, ELAVA_E_NOTFOUND,
					       "no elava store at '%s'",
					       opts->path);
		if ((rc = check_plain_dir(opts->path, err)))
			return rc;
	} else if (!S_ISREG(st.st_mode)) {
		return elava_error_set(
		    err, ELAVA_E_INVAL,
		    "'%s' is not an elava store: data.mdb is "
		    "not a regular file",
		    opts->path);
	}

	s = xcalloc(1, sizeof(*s));
	s->path = xstrdup(opts->path);
	s->read_only = opts->read_only;
	s->max_map_size = opts->max_map_size;
	s->ignore = opts->ignore;
	s->map_size =
	    opts->initial_map_size ? opts->initial_map_size : DEFAULT_MAP_SIZE;
	if (s->max_map_size && s->map_size > s->max_map_size)
		s->map_size = s->max_map_size;
	pthread_rwlock_init(&s->resize_lock, NULL);
	pthread_mutex_init(&s->cache_lock, NULL);

	if ((rc = mdb_env_create(&s->env))) {
		rc = store__mdb_error(s, rc, err, "open");
		goto out;
	}
	mdb_env_set_maxdbs(s->env, 8);
	mdb_env_set_maxreaders(s->env, 256);
	mdb_env_set_mapsize(s->env, s->map_size);
	/* Pages a writer dirties live in the map, not in private memory
	 * (see reserve_blocks for the disk-full side of that). */
	flags |= s->read_only ? MDB_RDONLY : MDB_WRITEMAP;
	rc = mdb_env_open(s->env, s->path, flags, 0600);
	if (rc == MDB_INVALID || rc == MDB_VERSION_MISMATCH) {
		rc = elava_error_set(err, ELAVA_E_CORRUPT,
				     "'%s' is not an elava store: data.mdb is "
				     "not an LMDB database (%s)",
				     s->path, mdb_strerror(rc));
		goto out;
	}
	if (rc) {
		rc = store__mdb_error(s, rc, err, "open");
		goto out;
	}
	/* The file may be larger than what we asked for: adopt its size. */
	if (!mdb_env_info(s->env, &info))
		s->map_size = info.me_mapsize;
	if ((rc = open_dbis(s, err)))
		goto out;
	*out = s;
	s = NULL;
out:
	store_close(&s);
	return rc;
}

void store_close(struct store **sp)
{
	struct store *s;

	if (!sp || !*sp)
		return;
	s = *sp;
	store__scan_cache_free(s);
	if (s->env)
		mdb_env_close(s->env);
	pthread_rwlock_destroy(&s->resize_lock);
	pthread_mutex_destroy(&s->cache_lock);
	xfree(s->path);
	xfree(s);
	*sp = NULL;
}

const char *store_change_kind_name(enum store_change_kind k)
{
	switch (k) {
	case STORE_CHANGE_CREATED: return "created";
	case STORE_CHANGE_MODIFIED: return "modified";
	case STORE_CHANGE_DISAPPEARED: return "disappeared";
	}
	return "unknown";
}

int store_change_kind_parse(const char *name)
{
	for (int k = STORE_CHANGE_CREATED; k <= STORE_CHANGE_DISAPPEARED; k++)
		if (!strcmp(name, store_change_kind_name(k)))
			return k;
	return 0;
}

int store__check_rev(struct store *s, MDB_txn *txn, uint64_t *rev,
		     struct elava_error *err)
{
	uint64_t cur, compacted;
	int rc;

	if ((rc = store__meta_get_u64(txn, s, META_REVISION, &cur)) ||
	    (rc = store__meta_get_u64(txn, s, META_COMPACTED, &compacted)))
		return store__mdb_error(s, rc, err, "read");
	if (cur == 0)
		return elava_error_set(err, ELAVA_E_NOTFOUND,
				       "store '%s' has no scans recorded yet",
				       s->path);
	if (*rev == 0)
		*rev = cur;
	if (*rev > cur)
		return elava_error_set(err, ELAVA_E_NOTFOUND,
				       "revision %llu does not exist in store "
				       "'%s' (current revision is %llu)",
				       (unsigned long long)*rev, s->path,
				       (unsigned long long)cur);
	if (*rev < compacted)
		return elava_error_set(err, ELAVA_E_COMPACTED,
				       "revision %llu has been compacted in "
				       "store '%s' (oldest available is %llu)",
				       (unsigned long long)*rev, s->path,
				       (unsigned long long)compacted);
	return 0;
}
