/*
 * wal_gen — test helper: writes COUNT entries into the WAL in DIR through
 * the public API (there is no CLI command that appends), so the shell tests
 * can exercise `elava wal` on a real log. Usage:
 *   wal_gen DIR COUNT [SEGMENT_MAX_BYTES]
 */
#include <stdio.h>
#include <stdlib.h>

#include "wal/wal.h"

int main(int argc, char **argv)
{
	static const enum wal_type cycle[] = {WAL_OBSERVED, WAL_DECIDED,
					      WAL_EXECUTING, WAL_EXECUTED};
	struct wal_options opts = {0};
	struct elava_error err = {0};
	struct wal *w = NULL;
	unsigned long count;

	if (argc < 3 || argc > 4) {
		fprintf(stderr,
			"usage: wal_gen DIR COUNT [SEGMENT_MAX_BYTES]\n");
		return 2;
	}
	opts.dir = argv[1];
	opts.instance = "wal-gen";
	count = strtoul(argv[2], NULL, 10);
	if (argc == 4)
		opts.segment_max_bytes = strtoul(argv[3], NULL, 10);
	if (wal_open(&opts, &w, &err))
		goto fail;
	for (unsigned long i = 0; i < count; i++) {
		char res[96], data[128];
		snprintf(res, sizeof(res),
			 "aws:123456789012:us-east-1:ec2_instance:i-%04lu",
			 i % 50);
		snprintf(
		    data, sizeof(data),
		    "{\"n\":%lu,\"tags\":{\"env\":\"prod\",\"team\":\"sre\"}}",
		    i);
		if (wal_append(w, cycle[i % 4], i / 4 + 1, res, data, NULL,
			       &err))
			goto fail;
		if (i % 100 == 99 && wal_sync(w, &err))
			goto fail;
	}
	if (wal_close(&w, &err))
		goto fail;
	return 0;
fail:
	fprintf(stderr, "wal_gen: %s\n", err.msg);
	wal_close(&w, NULL);
	return 1;
}
