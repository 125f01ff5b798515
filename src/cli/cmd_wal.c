/*
 * elava wal — maintenance of the audit WAL, on its public API only:
 * `verify` checks the whole hash chain and says where it breaks; `tail`
 * prints the newest entries. Both only read, so they are safe next to a
 * running daemon.
 */
#include "cli/cli.h"
#include "wal/wal.h"

#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define WAL_USAGE                                                              \
	"elava wal verify [--dir DIR | --store DIR]\n"                         \
	"       elava wal tail [-n N] [--json] [--dir DIR | --store DIR]"

struct wal_args {
	const char *dir;
	const char *store;
	size_t n;
	bool json;
};

static int parse_args(int argc, char **argv, bool tail, struct wal_args *a)
{
	a->n = 10;
	for (int i = 1; i < argc; i++) {
		const char *arg = argv[i], *v;

		if (cli_is_flag(arg, "--dir") || cli_is_flag(arg, "--store")) {
			bool dir = cli_is_flag(arg, "--dir");
			v = cli_flag_value(argc, argv, &i,
					   dir ? "--dir" : "--store");
			if (!v || !*v)
				return cli_usage(
				    WAL_USAGE, "option '%s' needs a directory",
				    dir ? "--dir" : "--store");
			if (dir)
				a->dir = v;
			else
				a->store = v;
		} else if (tail && (!strcmp(arg, "-n") ||
				    cli_is_flag(arg, "--lines"))) {
			char *end;
			v = cli_flag_value(argc, argv, &i,
					   arg[1] == 'n' ? "-n" : "--lines");
			if (!v || !*v)
				return cli_usage(WAL_USAGE,
						 "option '%s' needs a number",
						 arg);
			errno = 0;
			unsigned long long n = strtoull(v, &end, 10);
			if (*end || errno || v[0] == '-' || n > SIZE_MAX)
				return cli_usage(WAL_USAGE,
						 "invalid line count '%s'", v);
			a->n = (size_t)n;
		} else if (tail && !strcmp(arg, "--json")) {
			a->json = true;
		} else {
			return cli_usage(WAL_USAGE, "unknown option '%s'", arg);
		}
	}
	return 0;
}

static int run_verify(const char *dir)
{
	struct elava_error err = {0};
	struct wal_verify_report rep;
	int rc = wal_verify(dir, &rep, &err);

	if (rc && rc != ELAVA_E_CORRUPT)
		return cli_fail(&err);
	if (rc) {
		fprintf(stderr,
			"elava: WAL '%s' is broken: first bad seq %llu at "
			"%s:%llu: %s\n",
			dir, (unsigned long long)rep.bad_seq, rep.file,
			(unsigned long long)rep.line, rep.reason);
		printf("verified %llu entries before the break\n",
		       (unsigned long long)rep.entries);
		return CLI_EXIT_FAIL;
	}
	printf("WAL '%s' is intact\n", dir);
	printf("entries:  %llu\n", (unsigned long long)rep.entries);
	printf("segments: %llu (%llu bytes)\n",
	       (unsigned long long)rep.segments, (unsigned long long)rep.bytes);
	if (rep.entries)
		printf("seq:      %llu..%llu\n",
		       (unsigned long long)rep.first_seq,
		       (unsigned long long)rep.last_seq);
	else
		printf("seq:      none\n");
	printf("head:     seq %llu hash %s\n", (unsigned long long)rep.last_seq,
	       rep.head_hash);
	if (rep.anchored)
		printf("anchor:   chain starts at seq %llu, not 1 (older "
		       "segments removed, normally by retention), prev %s\n",
		       (unsigned long long)rep.first_seq, rep.anchor_prev);
	if (rep.torn_bytes)
		printf("torn:     %llu bytes after the last complete entry "
		       "(trimmed when the WAL is next opened for writing)\n",
		       (unsigned long long)rep.torn_bytes);
	return CLI_EXIT_OK;
}

/*
 * Keys and instance names come from the cloud and from config: never let
 * their control characters reach a terminal raw.
 */
static void put_safe(const char *s)
{
	for (; *s; s++) {
		unsigned char c = (unsigned char)*s;
		if (c < 0x20 || c == 0x7f)
			printf("\\x%02x", c);
		else if (c == '\\')
			fputs("\\\\", stdout);
		else
			putchar(c);
	}
}

static int print_entry(const struct wal_entry *e, void *ud)
{
	const bool *json = ud;
	char ts[TIME_RFC3339_LEN];

	if (*json) {
		/* The stored line: JSON escapes every control character. */
		fwrite(e->line, 1, e->line_len, stdout);
		putchar('\n');
		return 0;
	}
	time_format_rfc3339(e->ts_ns, ts);
	printf("%llu %s %s ", (unsigned long long)e->seq, ts,
	       wal_type_name(e->type));
	put_safe(e->resource ? e->resource : "-");
	printf(" rev=%llu by=", (unsigned long long)e->revision);
	put_safe(e->instance);
	printf(" %s\n", e->data);
	return 0;
}

static int run_tail(const char *dir, size_t n, bool json)
{
	struct elava_error err = {0};

	if (wal_tail(dir, n, print_entry, &json, &err))
		return cli_fail(&err);
	return CLI_EXIT_OK;
}

int cmd_wal(int argc, char **argv)
{
	struct wal_args a = {0};
	bool tail;
	int rc;

	if (argc < 2)
		return cli_usage(WAL_USAGE, "missing subcommand");
	if (!strcmp(argv[1], "--help") || !strcmp(argv[1], "-h")) {
		printf("usage: %s\n", WAL_USAGE);
		return CLI_EXIT_OK;
	}
	if (strcmp(argv[1], "verify") && strcmp(argv[1], "tail"))
		return cli_usage(WAL_USAGE, "unknown subcommand '%s'", argv[1]);
	tail = !strcmp(argv[1], "tail");
	for (int i = 2; i < argc; i++) {
		if (!strcmp(argv[i], "--help") || !strcmp(argv[i], "-h")) {
			printf("usage: %s\n", WAL_USAGE);
			return CLI_EXIT_OK;
		}
	}
	if ((rc = parse_args(argc - 1, argv + 1, tail, &a)))
		return rc;
	const char *dir = cli_wal_dir(a.dir, a.store);
	return tail ? run_tail(dir, a.n, a.json) : run_verify(dir);
}
