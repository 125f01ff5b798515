/*
 * elava serve — the daemon (src/daemon): the loop forever, with /metrics,
 * /health, /ready, /debug/vars and the JSON API. This file turns the file,
 * the environment and the flags into the daemon's settings, at start and
 * again on every SIGHUP (the same file and flags, the environment as it is
 * then).
 */
#include "cli/cli.h"
#include "config/config.h"
#include "daemon/daemon.h"
#include "resource/resource.h"

#include <errno.h>
#include <limits.h>
#include <fcntl.h>
#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define SERVE_USAGE                                                            \
	"elava serve [--config FILE] [--interval 5m] [--metrics-port 2112]\n"  \
	"                   [--listen ADDR] [--region R]... [--all-regions]\n" \
	"                   [--types T,...] [--exclude-types T,...] "          \
	"[--profile P]\n"                                                      \
	"                   [--store DIR] [--log-level L] [--log-format F]"

#define TOKEN_MAX 4096 /* bytes of an API token file */

struct serve_args {
	struct cli_common cm; /* --config, --store */
	struct cli_flags flags;
};

enum {
	O_INTERVAL = 1,
	O_PORT,
	O_LISTEN,
	O_LEVEL,
	O_FORMAT,
};

/* Each flag is a config key. */
static const struct cli_flag_key flag_keys[] = {
    {O_INTERVAL, "--interval", "daemon.reconciliation_interval", false},
    {O_PORT, "--metrics-port", "daemon.metrics_port", false},
    {O_LISTEN, "--listen", "daemon.listen", false},
    CLI_SCOPE_FLAG_KEYS,
    {O_LEVEL, "--log-level", "logging.level", false},
    {O_FORMAT, "--log-format", "logging.format", false},
};

static int serve_option(int c, const char *arg, void *ud)
{
	struct serve_args *a = ud;

	return cli_flags_option(&a->flags, flag_keys, ARRAY_SIZE(flag_keys), c,
				arg, SERVE_USAGE);
}

static int parse_args(int argc, char **argv, struct serve_args *a)
{
	static const struct option opts[] = {
	    {"interval", required_argument, NULL, O_INTERVAL},
	    {"metrics-port", required_argument, NULL, O_PORT},
	    {"listen", required_argument, NULL, O_LISTEN},
	    CLI_SCOPE_OPTIONS,
	    {"log-level", required_argument, NULL, O_LEVEL},
	    {"log-format", required_argument, NULL, O_FORMAT},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};

	return cli_parse(argc, argv, opts, SERVE_USAGE, &a->cm, serve_option, a,
			 0, NULL);
}

/* ---------------------------------------------------------------- token */

/*
 * The API token: the file's first line, without surrounding blanks. The
 * file should be readable by the daemon's user only; a wider mode is
 * allowed with a warning (a mounted Kubernetes secret is 0644 by default).
 */
static int read_token(const char *path, char **out, struct elava_error *err)
{
	char buf[TOKEN_MAX + 1];
	struct stat st;
	ssize_t n;
	size_t len;
	int fd = open(path, O_RDONLY | O_CLOEXEC);

	*out = NULL;
	if (fd < 0)
		return elava_error_set(err,
				       errno == ENOENT	 ? ELAVA_E_NOTFOUND
				       : errno == EACCES ? ELAVA_E_PERM
							 : ELAVA_E_IO,
				       "daemon.api_token_file '%s': %s", path,
				       strerror(errno));
	if (fstat(fd, &st) || !S_ISREG(st.st_mode)) {
		close(fd);
		return elava_error_set(err, ELAVA_E_INVAL,
				       "daemon.api_token_file '%s': not a "
				       "regular file",
				       path);
	}
	n = read(fd, buf, sizeof(buf));
	close(fd);
	if (n < 0 || n > TOKEN_MAX)
		return elava_error_set(err, n < 0 ? ELAVA_E_IO : ELAVA_E_TOOBIG,
				       "daemon.api_token_file '%s': %s", path,
				       n < 0 ? strerror(errno)
					     : "over 4096 bytes");
	len = (size_t)n;
	buf[len] = '\0';
	buf[strcspn(buf, "\r\n")] = '\0';
	len = strlen(buf);
	while (len && (buf[len - 1] == ' ' || buf[len - 1] == '\t'))
		buf[--len] = '\0';
	char *start = buf + strspn(buf, " \t");
	if (!*start) {
		explicit_bzero(buf, sizeof(buf));
		return elava_error_set(err, ELAVA_E_INVAL,
				       "daemon.api_token_file '%s': empty",
				       path);
	}
	if (st.st_mode & 077)
		log_warn("serve",
			 "daemon.api_token_file '%s' is readable by other "
			 "users (mode %03o); chmod 600 it",
			 path, (unsigned)(st.st_mode & 0777));
	*out = xstrdup(start);
	explicit_bzero(buf, sizeof(buf));
	return 0;
}

static bool loopback(const char *addr)
{
	return !strncmp(addr, "127.", 4) || !strcmp(addr, "::1") ||
	       !strcmp(addr, "localhost");
}

/* ------------------------------------------------------------- settings */

static int load_settings(void *ud, struct daemon_settings **out,
			 struct elava_error *err)
{
	struct serve_args *a = ud;
	struct daemon_settings *s = xcalloc(1, sizeof(*s));
	struct config *c = xcalloc(1, sizeof(*c));
	char wal[PATH_MAX];
	int rc;

	*out = NULL;
	s->cfg = c;
	config_init(c);
	if ((a->cm.config && (rc = config_load_file(c, a->cm.config, err))) ||
	    (rc = config_load_env(c, err)))
		goto fail;
	if ((rc = cli_flags_apply(&a->flags, c, err)) ||
	    (rc = cli_config_check(c, &s->ignore, err)))
		goto fail;
	if (c->api_token_file &&
	    (rc = read_token(c->api_token_file, &s->api_token, err)))
		goto fail;
	s->storage_path =
	    xstrdup(cli_storage_path_cfg(a->cm.store, c->storage_path));
	snprintf(wal, sizeof(wal), "%s/wal", s->storage_path);
	s->wal_dir = xstrdup(wal);
	cli_scope_from_config(c, &s->scope);
	cli_provider_options(c, &s->provider);
	if (!s->api_token && !loopback(c->listen))
		log_warn("serve",
			 "the API (/api/v1) answers anyone who can reach "
			 "%s:%d; set daemon.api_token_file to require a token",
			 c->listen, c->metrics_port);
	*out = s;
	return 0;
fail:
	daemon_settings_free(&s);
	return rc;
}

int cmd_serve(int argc, char **argv)
{
	struct serve_args a = {0};
	struct daemon_options o = {0};
	struct elava_error err = {0};
	int rc = parse_args(argc, argv, &a);

	if (rc) {
		rc = rc < 0 ? CLI_EXIT_OK : rc;
		goto out;
	}
	if ((rc = load_settings(&a, &o.settings, &err))) {
		rc = cli_fail(&err);
		goto out;
	}
	o.reload = load_settings;
	o.reload_ud = &a;
	if ((rc = daemon_run(&o, &err)))
		rc = cli_fail(&err);
out:
	cli_flags_release(&a.flags);
	return rc;
}
