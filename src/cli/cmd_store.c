/*
 * elava store — maintenance of the MVCC store: `stat` prints what the store
 * holds (revision, resources, versions, sizes, compaction). It opens the
 * store read-only, so it is safe next to a running daemon.
 */
#include "cli/cli.h"
#include "store/store.h"

#include <getopt.h>
#include <stdio.h>
#include <string.h>

#define STORE_USAGE "elava store stat [--store DIR] [--json]"

static int store_stat_cmd(int argc, char **argv)
{
	static const struct option opts[] = {
	    {"store", required_argument, NULL, 's'},
	    {"json", no_argument, NULL, 'j'},
	    {"help", no_argument, NULL, 'h'},
	    {NULL, 0, NULL, 0},
	};
	struct store_options so = {0};
	struct elava_error err = {0};
	struct store_stat st;
	struct store *s = NULL;
	const char *path = NULL;
	bool json = false;
	int c, rc;

	optind = 1;
	opterr = 0;
	while ((c = getopt_long(argc, argv, "", opts, NULL)) != -1) {
		switch (c) {
		case 's': path = optarg; break;
		case 'j': json = true; break;
		case 'h': printf("usage: %s\n", STORE_USAGE); return 0;
		default:
			return cli_usage(STORE_USAGE,
					 "unknown or incomplete "
					 "option '%s'",
					 argv[optind - 1]);
		}
	}
	if (optind < argc)
		return cli_usage(STORE_USAGE, "unexpected argument '%s'",
				 argv[optind]);
	so.path = cli_storage_path(path);
	so.read_only = true;
	if ((rc = store_open(&so, &s, &err)) ||
	    (rc = store_stat(s, &st, &err))) {
		store_close(&s);
		return cli_fail(&err);
	}
	if (json) {
		struct buf b;
		buf_init(&b, 0);
		buf_append_json_string(&b, so.path, strlen(so.path));
		printf("{\"path\":%s,\"format_version\":%u,\"revision\":%llu,"
		       "\"compacted_revision\":%llu,\"resources\":%llu,"
		       "\"keys\":%llu,\"versions\":%llu,\"changes\":%llu,"
		       "\"scans\":%llu,\"file_bytes\":%llu,\"used_bytes\":%llu,"
		       "\"free_bytes\":%llu,\"map_bytes\":%llu}\n",
		       b.data, st.format_version,
		       (unsigned long long)st.revision,
		       (unsigned long long)st.compacted_revision,
		       (unsigned long long)st.resources,
		       (unsigned long long)st.keys,
		       (unsigned long long)st.versions,
		       (unsigned long long)st.changes,
		       (unsigned long long)st.scans,
		       (unsigned long long)st.file_bytes,
		       (unsigned long long)st.used_bytes,
		       (unsigned long long)st.free_bytes,
		       (unsigned long long)st.map_bytes);
		buf_release(&b);
	} else {
		printf("store               %s\n", so.path);
		printf("format version      %u\n", st.format_version);
		printf("revision            %llu\n",
		       (unsigned long long)st.revision);
		printf("compacted revision  %llu%s\n",
		       (unsigned long long)st.compacted_revision,
		       st.compacted_revision ? "" : " (never compacted)");
		printf("resources           %llu live, %llu known\n",
		       (unsigned long long)st.resources,
		       (unsigned long long)st.keys);
		printf("versions            %llu\n",
		       (unsigned long long)st.versions);
		printf("change events       %llu\n",
		       (unsigned long long)st.changes);
		printf("scans               %llu\n",
		       (unsigned long long)st.scans);
		printf("size                %llu bytes on disk, %llu in use, "
		       "%llu free for reuse\n",
		       (unsigned long long)st.file_bytes,
		       (unsigned long long)(st.used_bytes - st.free_bytes),
		       (unsigned long long)st.free_bytes);
	}
	store_close(&s);
	return CLI_EXIT_OK;
}

int cmd_store(int argc, char **argv)
{
	if (argc < 2)
		return cli_usage(STORE_USAGE, "missing subcommand");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: %s\n", STORE_USAGE);
		return CLI_EXIT_OK;
	}
	if (!strcmp(argv[1], "stat"))
		return store_stat_cmd(argc - 1, argv + 1);
	return cli_usage(STORE_USAGE, "unknown subcommand 'store %s'", argv[1]);
}
