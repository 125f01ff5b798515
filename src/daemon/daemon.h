/*
 * daemon — `elava serve`: Elava's loop, run forever. The first iteration
 * starts at once, the next one `interval` after the start of the previous
 * one (an iteration that overruns delays the next; they never stack). One
 * iteration is engine_scan: observe, store, detect, record. An HTTP
 * endpoint serves /metrics (Prometheus), /health, /ready, /debug/vars and a
 * read-only JSON API over the store.
 *
 * Failures never stop the loop: a stuck iteration is cancelled at its
 * timeout; a storage write failure skips the iteration (health "degraded")
 * and the next one tries again; a partial scan keeps what failed to list.
 * SIGTERM or SIGINT stops it gracefully (a second one exits at once);
 * SIGHUP reloads the configuration. Under systemd it speaks sd_notify.
 */
#ifndef ELAVA_DAEMON_H
#define ELAVA_DAEMON_H

#include "core/core.h"
#include "provider/provider.h"

struct config;
struct resource_ignore;

/*
 * What one configuration makes of the daemon. The caller (the cli) builds
 * it from the file, the environment and the flags, and validates it, at
 * start and again on every SIGHUP.
 */
struct daemon_settings {
	struct config *cfg; /* owned; config_release'd and freed */
	/* The store directory, resolved (flag > env > file > default). */
	char *storage_path;
	char *wal_dir; /* the WAL's directory (beside the store) */
	/* cfg's scan.ignore, compiled. Owned. */
	struct resource_ignore *ignore;
	/* The API's bearer token, read from cfg->api_token_file; NULL for
	 * none. Owned; wiped when freed. */
	char *api_token;
	/* What to list and how to reach the cloud, from cfg (the arrays are
	 * owned, the strings are cfg's). */
	struct provider_scope scope;
	struct provider_aws_options provider;
};

void daemon_settings_free(struct daemon_settings **sp);

/*
 * Load the settings again (SIGHUP): the same file, the environment as it
 * is now, the same flags. On error the daemon keeps its settings and logs
 * err's message.
 */
typedef int (*daemon_load_fn)(void *ud, struct daemon_settings **out,
			      struct elava_error *err);

struct daemon_options {
	struct daemon_settings *settings; /* taken: freed by daemon_run */
	daemon_load_fn reload;		  /* NULL: SIGHUP only logs */
	void *reload_ud;
};

/*
 * Run until SIGTERM or SIGINT. Returns 0 after a graceful stop. Errors
 * that stop it from starting: the store cannot be opened (ELAVA_E_PERM,
 * ELAVA_E_IO...), the WAL is held by another process (ELAVA_E_BUSY), the
 * address is in use (ELAVA_E_BUSY), no credentials (ELAVA_E_AUTH), the
 * scope names a region the cloud does not have (ELAVA_E_INVAL). A cloud
 * that does not answer at start does not stop it: iterations fail and
 * /health says so until they pass.
 */
int daemon_run(const struct daemon_options *o, struct elava_error *err);

#endif /* ELAVA_DAEMON_H */
