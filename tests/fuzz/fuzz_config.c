/*
 * Fuzz target: the configuration reader. Any bytes, read as a YAML config
 * file, must load or fail with a message that names the file and leave
 * the configuration untouched; what loads must dump to YAML that loads
 * back to the same values. The same bytes, given as a flag's value to a
 * key the first byte picks, must be taken or refused the same way, and
 * what is taken must survive the dump too (flags reach the dump's quoting
 * with bytes YAML would never hand over).
 */
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "config/config_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Dump c, load the dump into defaults, and insist on the same values. */
static void round_trip(const struct config *c)
{
	struct buf out = BUF_INIT;
	struct config back;
	struct elava_error err = {0};

	if (config_dump(c, &out))
		abort();
	config_init(&back);
	if (config__load_buffer(&back, out.data, out.len, "dump.yaml", &err)) {
		fprintf(stderr, "dump does not load: %s\n%s\n", err.msg,
			out.data);
		abort();
	}
	if (!config__equal(c, &back)) {
		fprintf(stderr, "dump loads to other values:\n%s\n", out.data);
		abort();
	}
	config_release(&back);
	buf_release(&out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct config c, fresh;
	struct elava_error err = {0};
	int rc;

	config_init(&c);
	config_init(&fresh);
	rc = config__load_buffer(&c, (const char *)data, size, "fuzz.yaml",
				 &err);
	if (rc) {
		if (strncmp(err.msg, "fuzz.yaml", 9) &&
		    strncmp(err.msg, "config file 'fuzz.yaml'", 23))
			abort();
		if (!config__equal(&c, &fresh) || c.file)
			abort();
	} else {
		round_trip(&c);
	}
	config_release(&c);

	/* The bytes as a flag's value. */
	if (size > 0) {
		const char *key = config__keys[data[0] % config__nkeys].path;
		char *text = malloc(size);
		memcpy(text, data + 1, size - 1);
		text[size - 1] = '\0';
		config_init(&c);
		err.msg[0] = '\0';
		rc = config_set(&c, key, text, CONFIG_SRC_FLAG, &err);
		if (rc) {
			if (strncmp(err.msg, key, strlen(key)) ||
			    !config__equal(&c, &fresh))
				abort();
		} else {
			if (config_source_of(&c, key) != CONFIG_SRC_FLAG)
				abort();
			round_trip(&c);
		}
		config_release(&c);
		free(text);
	}
	config_release(&fresh);
	return 0;
}
