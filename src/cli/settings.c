/*
 * A loaded configuration checked against what the provider and the
 * resource module know (the config module knows neither): resource types
 * and ignore rules. Shared by scan, serve and `config check`; every error
 * says where the bad value came from.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "provider/provider.h"
#include "resource/resource.h"

#include <limits.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* "elava.yaml:12: scan.types", "scan.types (environment variable
 * ELAVA_SCAN_TYPES)", "--types". */
static void where(const struct config *cfg, const char *key, const char *flag,
		  unsigned line, char *out, size_t n)
{
	switch (config_source_of(cfg, key)) {
	case CONFIG_SRC_FILE:
		snprintf(out, n, "%s:%u: %s", cfg->file, line, key);
		return;
	case CONFIG_SRC_ENV:
		snprintf(out, n, "%s (from the environment)", key);
		return;
	case CONFIG_SRC_FLAG: snprintf(out, n, "%s", flag); return;
	case CONFIG_SRC_DEFAULT: break;
	}
	snprintf(out, n, "%s", key);
}

int cli_types_check(const struct config *cfg, const char *key, const char *flag,
		    const struct config_list *l, struct elava_error *err)
{
	char at[PATH_MAX + 64];

	for (size_t i = 0; i < l->n; i++) {
		if (cli_known_type(l->v[i].value))
			continue;
		where(cfg, key, flag, l->v[i].line, at, sizeof(at));
		return elava_error_set(err, ELAVA_E_INVAL,
				       "%s: unknown resource type '%s' ('elava "
				       "debug types' lists them)",
				       at, l->v[i].value);
	}
	return 0;
}

int cli_ignore_build(const struct config *cfg, struct resource_ignore **out,
		     struct elava_error *err)
{
	struct resource_ignore *ign = resource_ignore_new();
	char at[PATH_MAX + 64];

	*out = NULL;
	for (size_t i = 0; i < cfg->ignore.n; i++) {
		const struct config_item *it = &cfg->ignore.v[i];
		const char *type = strcmp(it->type, "*") ? it->type : NULL;
		where(cfg, "scan.ignore", "scan.ignore", it->line, at,
		      sizeof(at));
		if (type && !cli_known_type(type)) {
			resource_ignore_free(&ign);
			return elava_error_set(err, ELAVA_E_INVAL,
					       "%s: unknown resource type "
					       "'%s' ('elava debug types' "
					       "lists them)",
					       at, type);
		}
		if (resource_ignore_add(ign, type, it->value)) {
			resource_ignore_free(&ign);
			return elava_error_set(err, ELAVA_E_INVAL,
					       "%s: '%s' is not a field path "
					       "(like status, tags.Name, "
					       "attributes.launch_time)",
					       at, it->value);
		}
	}
	*out = ign;
	return 0;
}

int cli_config_check(const struct config *cfg, struct resource_ignore **ignore,
		     struct elava_error *err)
{
	int rc;

	*ignore = NULL;
	if ((rc = cli_types_check(cfg, "scan.types", "--types", &cfg->types,
				  err)) ||
	    (rc = cli_types_check(cfg, "scan.exclude_types", "--exclude-types",
				  &cfg->exclude_types, err)))
		return rc;
	return cli_ignore_build(cfg, ignore, err);
}

static const char *const *list_values(const struct config_list *l)
{
	const char **v = l->n ? xcalloc(l->n, sizeof(*v)) : NULL;

	for (size_t i = 0; i < l->n; i++)
		v[i] = l->v[i].value;
	return v;
}

void cli_scope_from_config(const struct config *cfg,
			   struct provider_scope *scope)
{
	memset(scope, 0, sizeof(*scope));
	scope->regions = list_values(&cfg->regions);
	scope->nregions = cfg->regions.n;
	scope->all_regions = cfg->all_regions;
	scope->types = list_values(&cfg->types);
	scope->ntypes = cfg->types.n;
	scope->exclude_types = list_values(&cfg->exclude_types);
	scope->nexclude = cfg->exclude_types.n;
}

void cli_scope_release(struct provider_scope *scope)
{
	xfree((void *)scope->regions);
	xfree((void *)scope->types);
	xfree((void *)scope->exclude_types);
	memset(scope, 0, sizeof(*scope));
}

void cli_provider_options(const struct config *cfg,
			  struct provider_aws_options *po)
{
	memset(po, 0, sizeof(*po));
	/*
	 * The home region (STS, DescribeRegions, global services) is the
	 * environment's; the first configured region only when it names none.
	 */
	if (!getenv("AWS_REGION") && !getenv("AWS_DEFAULT_REGION") &&
	    cfg->regions.n)
		po->region = cfg->regions.v[0].value;
	po->profile = cfg->profile;
	po->concurrency = cfg->concurrency;
	po->requests_per_second = cfg->requests_per_second;
}

/* ---------------------------------------------------------------- flags */

int cli_flags_add(struct cli_flags *f, const char *flag, const char *key,
		  const char *value, bool list)
{
	struct cli_flag *e = NULL;

	for (size_t i = 0; i < f->n && !e; i++)
		if (!strcmp(f->v[i].key, key))
			e = &f->v[i];
	if (!e) {
		if (f->n == ARRAY_SIZE(f->v))
			return ELAVA_E_TOOBIG;
		e = &f->v[f->n++];
		e->flag = flag;
		e->key = key;
		buf_init(&e->value, 0);
	} else if (!list) {
		buf_reset(&e->value); /* the last one wins */
	}
	if (list && e->value.len && buf_putc(&e->value, ','))
		return ELAVA_E_TOOBIG;
	return buf_puts(&e->value, value) ? ELAVA_E_TOOBIG : 0;
}

int cli_flags_option(struct cli_flags *f, const struct cli_flag_key *keys,
		     size_t n, int c, const char *arg, const char *usage)
{
	for (size_t i = 0; i < n; i++)
		if (keys[i].opt == c)
			return cli_flags_add(f, keys[i].flag, keys[i].key,
					     arg ? arg : "true", keys[i].list)
				   ? cli_usage(usage, "too many flags")
				   : 0;
	return cli_usage(usage, "unknown option");
}

int cli_flags_apply(const struct cli_flags *f, struct config *cfg,
		    struct elava_error *err)
{
	for (size_t i = 0; i < f->n; i++) {
		const struct cli_flag *e = &f->v[i];
		int rc =
		    config_set(cfg, e->key, e->value.data ? e->value.data : "",
			       CONFIG_SRC_FLAG, err);
		if (rc)
			return elava_error_prefix(err, "%s", e->flag);
	}
	return 0;
}

void cli_flags_release(struct cli_flags *f)
{
	for (size_t i = 0; i < f->n; i++)
		buf_release(&f->v[i].value);
	memset(f, 0, sizeof(*f));
}
