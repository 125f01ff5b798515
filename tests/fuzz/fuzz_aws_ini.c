/*
 * Fuzz target: the AWS shared config/credentials reader. Any bytes, read
 * with either file's section syntax, must parse or fail with a message
 * that names file:line, and never crash or leak.
 */
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "provider/aws/aws_int.h"

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	for (int config = 0; config < 2; config++) {
		struct aws_ini *ini = NULL;
		struct elava_error err = {0};
		int rc = aws_ini_parse((const char *)data, size, "fuzz",
				       config != 0, &ini, &err);
		if (rc) {
			if (ini || !strstr(err.msg, "fuzz"))
				abort();
			continue;
		}
		const char *v = aws_ini_get(ini, "default", "region");
		if (v && strlen(v) > AWS_INI_MAX_LINE)
			abort();
		(void)aws_ini_has_profile(ini, "default");
		(void)aws_ini_get(ini, "x", "aws_access_key_id");
		aws_ini_free(&ini);
		if (ini)
			abort();
	}
	return 0;
}
