/*
 * The benchmark's yardstick: how fast plain LMDB puts the same bytes on
 * this machine, with none of the store's bookkeeping. Lives here because
 * <lmdb.h> belongs to this module alone.
 */
#include "store_int.h"

#include <string.h>

int store_calibrate_raw_puts(const char *dir,
			     const struct resource_encoded *items, size_t n,
			     double *puts_per_s, struct elava_error *err)
{
	MDB_env *env = NULL;
	MDB_txn *txn = NULL;
	MDB_dbi dbi;
	size_t bytes = 0;
	int64_t t0;
	int rc;

	*puts_per_s = 0;
	for (size_t i = 0; i < n; i++)
		bytes += items[i].key.len + items[i].json.len + 64;
	if ((rc = dir_ensure(dir, 0700, err)))
		return rc;
	if ((rc = mdb_env_create(&env)) ||
	    (rc = mdb_env_set_mapsize(env, bytes * 3 + ((size_t)64 << 20))) ||
	    (rc = mdb_env_open(env, dir, MDB_NOTLS, 0600)))
		goto out;
	t0 = time_mono_ns();
	if ((rc = mdb_txn_begin(env, NULL, 0, &txn)) ||
	    (rc = mdb_dbi_open(txn, NULL, 0, &dbi)))
		goto out;
	for (size_t i = 0; i < n; i++) {
		MDB_val k = {items[i].key.len, items[i].key.data};
		MDB_val v = {items[i].json.len, items[i].json.data};
		if ((rc = mdb_put(txn, dbi, &k, &v, 0)))
			goto out;
	}
	rc = mdb_txn_commit(txn);
	txn = NULL;
	if (rc)
		goto out;
	*puts_per_s = (double)n / ((double)(time_mono_ns() - t0) / 1e9);
out:
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
