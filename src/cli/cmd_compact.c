/*
 * elava compact — forget old history: keep the newest N revisions fully
 * answerable (--keep), or everything younger than an age (--older-than).
 * The current version of every live resource is always kept.
 */
#include "cli/cli.h"
#include "config/config.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <stdlib.h>

#define COMPACT_USAGE                                                          \
	"elava compact --keep REVS | --older-than DURATION [--store DIR]\n"    \
	"                     [--config FILE] [--output table|json]"

enum { O_KEEP = 1, O_OLDER };

struct compact_args {
	uint64_t keep;
	int64_t age;
};

static int compact_option(int c, const char *arg, void *ud)
{
	struct compact_args *a = ud;
	char *end;

	if (c == O_KEEP) {
		long long n = strtoll(arg, &end, 10);
		if (*end || n < 1)
			return cli_usage(COMPACT_USAGE,
					 "--keep takes a number of revisions "
					 ">= 1, not '%s'",
					 arg);
		a->keep = (uint64_t)n;
		return 0;
	}
	if (c == O_OLDER) {
		if (duration_parse(arg, &a->age) || a->age <= 0)
			return cli_usage(COMPACT_USAGE,
					 "--older-than takes a duration like "
					 "30d or 12h, not '%s'",
					 arg);
		return 0;
	}
	return cli_usage(COMPACT_USAGE, "unknown option");
}

int cmd_compact(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"keep", required_argument, NULL, O_KEEP},
	    {"older-than", required_argument, NULL, O_OLDER},
	    CLI_COMMON_OPTIONS,
	    {NULL, 0, NULL, 0},
	};
	struct cli_common cm = {0};
	struct elava_error err = {0};
	struct store_options so = {0};
	struct store_compact_result res = {0};
	struct config cfg;
	struct store *s = NULL;
	struct compact_args args = {0, -1};
	uint64_t cur, from = 0;
	int rc = cli_parse(argc, argv, opts, COMPACT_USAGE, &cm, compact_option,
			   &args, 0, NULL);

	if (rc)
		return rc < 0 ? CLI_EXIT_OK : rc;
	if (!args.keep == (args.age < 0))
		return cli_usage(COMPACT_USAGE,
				 "give one of --keep or --older-than");
	if ((rc = cli_config_load(cm.config, &cfg)))
		return rc;
	/* Never create a store just to compact it: it must exist. */
	if ((rc = cli_store_open_read(cm.store, &cfg, &s))) {
		config_release(&cfg);
		return rc;
	}
	store_close(&s);
	so.path = cli_storage_path_cfg(cm.store, cfg.storage_path);
	if ((rc = store_open(&so, &s, &err)) ||
	    (rc = store_current_revision(s, &cur, &err)))
		goto fail;
	if (args.keep)
		from = cur > args.keep ? cur - args.keep + 1 : 0;
	else if ((rc = store_compact_revision_for_age(s, time_now_ns(),
						      args.age, &from, &err)))
		goto fail;
	if (from > 1 && (rc = store_compact(s, from, &res, &err)))
		goto fail;
	if (cm.output == CLI_OUTPUT_JSON)
		printf("{\"compacted_revision\":%llu,\"changes_removed\":%llu,"
		       "\"keys_removed\":%llu,\"revision\":%llu,"
		       "\"versions_removed\":%llu}\n",
		       (unsigned long long)res.compacted_revision,
		       (unsigned long long)res.changes_removed,
		       (unsigned long long)res.keys_removed,
		       (unsigned long long)cur,
		       (unsigned long long)res.versions_removed);
	else if (from <= 1)
		printf("Nothing to compact: every revision (1-%llu) is within "
		       "what is kept.\n",
		       (unsigned long long)cur);
	else
		printf("Compacted: revisions before %llu are gone (%llu-%llu "
		       "remain answerable).\nRemoved %llu versions and %llu "
		       "change events; %llu disappeared resources are "
		       "forgotten.\n",
		       (unsigned long long)res.compacted_revision,
		       (unsigned long long)res.compacted_revision,
		       (unsigned long long)cur,
		       (unsigned long long)res.versions_removed,
		       (unsigned long long)res.changes_removed,
		       (unsigned long long)res.keys_removed);
	store_close(&s);
	config_release(&cfg);
	return CLI_EXIT_OK;
fail:
	store_close(&s);
	config_release(&cfg);
	return cli_fail(&err);
}
