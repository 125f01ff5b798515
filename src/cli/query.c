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

#include <ctype.h>
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

static bool all_digits(const char *s)
{
	if (!*s)
		return false;
	for (; *s; s++)
		if (!isdigit((unsigned char)*s))
			return false;
	return true;
}

/* The revision current at t; 0 before the first scan when allowed. */
static int revision_at(struct store *s, int64_t t, bool before_first,
		       uint64_t *rev, struct elava_error *err)
{
	int rc = store_revision_at_time(s, t, rev, err);

	if (rc == ELAVA_E_NOTFOUND && before_first) {
		*rev = 0;
		return 0;
	}
	return rc;
}

int cli_point_parse(struct store *s, const char *arg, bool before_first,
		    uint64_t *rev, struct elava_error *err)
{
	int64_t t, age;

	if (all_digits(arg)) {
		char *end;
		unsigned long long v = strtoull(arg, &end, 10);
		uint64_t cur;
		int rc;
		if (v == 0 || *end)
			return elava_error_set(err, ELAVA_E_INVAL,
					       "revision '%s': revisions start "
					       "at 1",
					       arg);
		if ((rc = store_current_revision(s, &cur, err)))
			return rc;
		if (v > cur)
			return elava_error_set(
			    err, ELAVA_E_NOTFOUND,
			    "revision %llu does not exist yet (the newest is "
			    "%llu)",
			    v, (unsigned long long)cur);
		*rev = v;
		return 0;
	}
	if (!time_parse_rfc3339(arg, &t))
		return revision_at(s, t, before_first, rev, err);
	if (!duration_parse(arg, &age) && age >= 0)
		return revision_at(s, time_now_ns() - age, before_first, rev,
				   err);
	return elava_error_set(err, ELAVA_E_INVAL,
			       "'%s' is not a revision (42), a time "
			       "(2026-11-21T10:00:00Z) or an age (90m, 2h, 7d)",
			       arg);
}

struct id_matches {
	char *keys[5];
	size_t n;
};

static int collect_key(const char *key, bool live, void *ud)
{
	struct id_matches *m = ud;

	(void)live;
	if (m->n < ARRAY_SIZE(m->keys))
		m->keys[m->n] = xstrdup(key);
	m->n++;
	return 0;
}

int cli_resolve_key(struct store *s, const char *arg, char **key,
		    struct elava_error *err)
{
	struct id_matches m = {0};
	int rc;

	*key = NULL;
	if (resource_key_scope_len(arg, strlen(arg))) {
		*key = xstrdup(arg);
		return 0;
	}
	if ((rc = store_find_id(s, arg, collect_key, &m, err)))
		goto out;
	if (m.n == 0) {
		rc = elava_error_set(err, ELAVA_E_NOTFOUND,
				     "no resource with id '%s' in store '%s'",
				     arg, store_path(s));
	} else if (m.n == 1) {
		*key = m.keys[0];
		m.keys[0] = NULL;
	} else {
		struct buf list;
		buf_init(&list, 0);
		for (size_t i = 0; i < m.n && i < ARRAY_SIZE(m.keys); i++)
			buf_printf(&list, "\n  %s", m.keys[i]);
		if (m.n > ARRAY_SIZE(m.keys))
			buf_printf(&list, "\n  ... and %zu more",
				   m.n - ARRAY_SIZE(m.keys));
		rc = elava_error_set(err, ELAVA_E_INVAL,
				     "id '%s' matches %zu resources; give the "
				     "whole key:%s",
				     arg, m.n, list.data ? list.data : "");
		buf_release(&list);
	}
out:
	for (size_t i = 0; i < m.n && i < ARRAY_SIZE(m.keys); i++)
		xfree(m.keys[i]);
	return rc;
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

struct rev_list {
	uint64_t *v;
	size_t n;
};

static int note_baseline(const struct store_scan_meta *m, void *ud)
{
	struct rev_list *l = ud;

	if (m->baseline) {
		l->v = xrealloc(l->v, (l->n + 1) * sizeof(*l->v));
		l->v[l->n++] = m->revision;
	}
	return 0;
}

int cli_baselines(struct store *s, uint64_t **revs, size_t *n,
		  struct elava_error *err)
{
	struct rev_list l = {0};
	int rc = store_scans(s, 0, note_baseline, &l, err);

	*revs = l.v;
	*n = l.n;
	return rc;
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
