/*
 * Helpers shared by the commands: usage errors, failure messages, default
 * paths.
 */
#include "cli/cli.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_usage(const char *usage, const char *fmt, ...)
{
	va_list ap;

	fputs("elava: ", stderr);
	va_start(ap, fmt);
	vfprintf(stderr, fmt, ap);
	va_end(ap);
	fprintf(stderr, "\nusage: %s\n", usage);
	return CLI_EXIT_USAGE;
}

int cli_fail(const struct elava_error *err)
{
	fprintf(stderr, "elava: %s\n",
		err && err->msg[0]
		    ? err->msg
		    : elava_strerror(err ? err->code : ELAVA_E_IO));
	return CLI_EXIT_FAIL;
}

const char *cli_storage_path(const char *flag)
{
	return cli_storage_path_cfg(flag, NULL);
}

const char *cli_storage_path_cfg(const char *flag, const char *configured)
{
	static char path[PATH_MAX];
	const char *env;

	if (flag && *flag)
		return flag;
	if (configured && *configured)
		return configured;
	env = getenv("ELAVA_STORAGE_PATH");
	if (env && *env)
		return env;
	env = getenv("XDG_DATA_HOME");
	if (env && *env) {
		snprintf(path, sizeof(path), "%s/elava", env);
		return path;
	}
	env = getenv("HOME");
	snprintf(path, sizeof(path), "%s/.local/share/elava",
		 env && *env ? env : ".");
	return path;
}

const char *cli_wal_dir(const char *flag, const char *storage_flag)
{
	static char path[PATH_MAX];

	if (flag && *flag)
		return flag;
	snprintf(path, sizeof(path), "%s/wal", cli_storage_path(storage_flag));
	return path;
}

/* "--flag VALUE" or "--flag=VALUE"; returns the value or NULL. */
const char *cli_flag_value(int argc, char **argv, int *i, const char *name)
{
	size_t n = strlen(name);

	if (!strncmp(argv[*i], name, n) && argv[*i][n] == '=')
		return argv[*i] + n + 1;
	if (strcmp(argv[*i], name))
		return NULL;
	if (*i + 1 >= argc)
		return NULL;
	return argv[++*i];
}

bool cli_is_flag(const char *arg, const char *name)
{
	size_t n = strlen(name);

	return !strncmp(arg, name, n) && (arg[n] == '\0' || arg[n] == '=');
}

int cli_list_add(struct cli_list *l, const char *arg)
{
	char *copy, *save = NULL;

	if (l->nowned == CLI_LIST_MAX)
		return ELAVA_E_TOOBIG;
	copy = xstrdup(arg);
	l->owned[l->nowned++] = copy;
	for (char *t = strtok_r(copy, ",", &save); t;
	     t = strtok_r(NULL, ",", &save)) {
		if (l->n == CLI_LIST_MAX)
			return ELAVA_E_TOOBIG;
		l->v[l->n++] = t;
	}
	return 0;
}

void cli_list_release(struct cli_list *l)
{
	for (size_t i = 0; i < l->nowned; i++)
		xfree(l->owned[i]);
	memset(l, 0, sizeof(*l));
}
