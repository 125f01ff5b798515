/*
 * The benchmark's yardstick: how fast plain LMDB puts the same bytes on
 * this machine, with none of the store's bookkeeping. Lives here because
 * <lmdb.h> belongs to this module alone.
 */
#include "store_int.h"

#include <stdlib.h>
#include <string.h>

static int cmp_item_key(const void *a, const void *b)
{
	const struct resource_encoded *x =
	    *(const struct resource_encoded *const *)a;
	const struct resource_encoded *y =
	    *(const struct resource_encoded *const *)b;
	size_t n = x->key.len < y->key.len ? x->key.len : y->key.len;
	int c = memcmp(x->key.data, y->key.data, n);

	return c ? c : (x->key.len > y->key.len) - (x->key.len < y->key.len);
}

int store_calibrate_raw_puts(const char *dir,
			     const struct resource_encoded *items, size_t n,
			     bool sorted, double *puts_per_s,
			     struct elava_error *err)
{
	const struct resource_encoded **order =
	    xmalloc(st_mult(n + 1, sizeof(*order)));
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_cursor *cur = NULL;
	MDB_dbi dbi;
	size_t bytes = 0;
	int64_t t0;
	int rc;

	*puts_per_s = 0;
	for (size_t i = 0; i < n; i++) {
		bytes += items[i].key.len + items[i].json.len + 64;
		order[i] = &items[i];
	}
	if (sorted)
		qsort(order, n, sizeof(*order), cmp_item_key);
	if ((rc = dir_ensure(dir, 0700, err)))
		return rc;
	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_mapsize(env, bytes * 3 + ((size_t)64 << 20))) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)))
		goto out;
	t0 = time_mono_ns();
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)) ||
	    (rc = mdb_cursor_open(txn, dbi, &cur)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		MDB_val k = {order[i]->key.len, order[i]->key.data};
		MDB_val v = {order[i]->json.len, order[i]->json.data};
		if ((rc = mdb_cursor_put(cur, &k, &v, sorted ? MDB_APPEND : 0)))
			goto out;
	}
	mdb_cursor_close(cur);
	cur = NULL;
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto out;
	*puts_per_s = (double)n / ((double)(time_mono_ns() - t0) / 1e9);
out:
	xfree(order);
	if (cur)
		mdb_cursor_close(cur);
	if (txn)
		mdb_txn_abort(txn);
	if (env)
		mdb_env_close(env);
	if (rc)
		return elava_error_set(err, ELAVA_E_IO,
				       "raw LMDB calibration in '%s': %s", dir,
				       mdb_strerror(rc));
	return 0;
}
