/*
 * What the query commands share: loading the config, opening the store
 * for reading, turning "42" / "2h" / an RFC 3339 time into a revision and
 * an id into a resource key.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "provider/provider.h"
#include "resource/resource.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int cli_config_load(const char *file, struct config *cfg)
{
	struct elava_error err = {0};

	config_init(cfg);
	if ((file && config_load_file(cfg, file, &err)) ||
	    config_load_env(cfg, &err)) {
		config_release(cfg);
		config_init(cfg);
		return cli_fail(&err);
	}
	return 0;
}

int cli_store_open_read(const char *flag, const struct config *cfg,
			struct store **out)
{
	struct store_options so = {0};
	struct elava_error err = {0};
	int rc;

	so.path = cli_storage_path_cfg(flag, cfg ? cfg->storage_path : NULL);
	so.read_only = true;
	rc = store_open(&so, out, &err);
	if (rc == ELAVA_E_NOTFOUND) {
		fprintf(stderr,
			"elava: no store at '%s': run 'elava scan' first, or "
			"give its directory with --store or "
			"ELAVA_STORAGE_PATH\n",
			so.path);
		return CLI_EXIT_FAIL;
	}
	return rc ? cli_fail(&err) : 0;
}

int cli_common_option(int c, const char *optarg_, struct cli_common *cm,
		      const char *usage)
{
	switch (c) {
	case CLI_OPT_STORE: cm->store = optarg_; return 0;
	case CLI_OPT_CONFIG: cm->config = optarg_; return 0;
	case CLI_OPT_OUTPUT:
		return cli_output_parse(usage, optarg_, &cm->output);
	case CLI_OPT_HELP: printf("usage: %s\n", usage); return -1;
	default: return 1;
	}
}

int cli_bad_option(int argc, char **argv, const char *usage)
{
	const char *arg = optind - 1 < argc ? argv[optind - 1] : "?";

	return cli_usage(usage, "unknown or incomplete option '%s'", arg);
}

int cli_common_open(const struct cli_common *cm, struct config *cfg,
		    struct store **out)
{
	int rc = cli_config_load(cm->config, cfg);

	return rc ? rc : cli_store_open_read(cm->store, cfg, out);
}

bool cli_known_type(const char *name)
{
	for (const char *const *t = provider_aws_type_names(); *t; t++)
		if (!strcmp(*t, name))
			return true;
	return false;
}

int cli_baselines(struct store *s, uint64_t **revs, size_t *n,
		  struct elava_error *err)
{
	return store_baselines(s, revs, n, err);
}

bool cli_rev_in(const uint64_t *revs, size_t n, uint64_t rev)
{
	for (size_t i = 0; i < n; i++)
		if (revs[i] == rev)
			return true;
	return false;
}

int cli_parse(int argc, char **argv, const struct option *opts,
	      const char *usage, struct cli_common *cm, cli_option_fn on_option,
	      void *ud, int nargs, const char *missing)
{
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		rc = cli_common_option(c, optarg, cm, usage);
		if (rc == 1)
			rc = c != '?' && c != ':' && on_option
				 ? on_option(c, optarg, ud)
				 : cli_bad_option(argc, argv, usage);
		if (rc)
			return rc;
	}
	if (argc - optind < nargs)
		return cli_usage(usage, "%s",
				 missing ? missing : "missing argument");
	if (argc - optind > nargs)
		return cli_usage(usage, "unexpected argument '%s'",
				 argv[optind + nargs]);
	cm->args = argv + optind;
	cm->nargs = nargs;
	return 0;
}
