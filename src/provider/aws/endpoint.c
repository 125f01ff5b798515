/*
 * Where a service lives: the endpoint override variables first (that is
 * how tests reach the emulator, and how users reach VPC endpoints or
 * LocalStack-like tools), then AWS's public endpoints.
 */
#include "aws_int.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

/* Services with one global endpoint. */
static const struct {
	const char *service;
	const char *host;
} globals[] = {
    {"iam", "iam.amazonaws.com"},
    {"route53", "route53.amazonaws.com"},
};

int aws_endpoint(const char *service, const char *env_id, const char *region,
		 struct buf *out)
{
	char var[128];
	const char *url = NULL;

	if (env_id && *env_id &&
	    snprintf(var, sizeof(var), "AWS_ENDPOINT_URL_%s", env_id) <
		(int)sizeof(var))
		url = getenv(var);
	if (!url || !*url)
		url = getenv("AWS_ENDPOINT_URL");
	if (url && *url) {
		size_t n = strlen(url);
		while (n > 0 && url[n - 1] == '/')
			n--;
		return buf_append(out, url, n);
	}
	for (size_t i = 0; i < ARRAY_SIZE(globals); i++)
		if (!strcmp(service, globals[i].service))
			return buf_printf(out, "https://%s", globals[i].host);
	return buf_printf(out, "https://%s.%s.amazonaws.com", service, region);
}
