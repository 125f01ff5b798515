/*
 * provider — the cloud, seen through one small interface: list the
 * resources of a scope, page by page, and report for every (account,
 * region, type) listing whether it completed, so the store can apply its
 * completeness gate. provider/aws implements it over the AWS APIs.
 *
 * Threads: a provider is used by one thread at a time, except
 * provider_cancel(), which any thread may call.
 */
#ifndef ELAVA_PROVIDER_H
#define ELAVA_PROVIDER_H

#include "core/core.h"
#include "resource/resource.h"

struct provider;

struct provider_scope {
	const char *const *regions; /* NULL/0: the provider's default */
	size_t nregions;
	const char *const *types; /* NULL/0: every type it knows */
	size_t ntypes;
};

/* The outcome of listing one (account, region, type). */
struct provider_listing {
	const char *scope; /* "aws:<account>:<region>:<type>" */
	const char *account;
	const char *region;
	const char *type;
	int status;		       /* 0: complete; else ELAVA_E_* */
	const struct elava_error *err; /* why it failed (status != 0) */
	size_t resources;	       /* resources delivered */
	size_t pages;
};

struct provider_callbacks {
	/* Each resource as it is read; borrowed. Non-zero stops the list. */
	int (*resource)(const struct resource *r, void *ud);
	/* Once per listing, after its last resource. */
	void (*listing_done)(const struct provider_listing *l, void *ud);
	void *ud;
};

/*
 * List a scope. Listings that fail are reported through listing_done with
 * their error and do not stop the others; the return value is 0, the
 * non-zero value a callback returned, ELAVA_E_CANCELLED, or an error that
 * prevented listing anything (no credentials, unknown account).
 */
int provider_list(struct provider *p, const struct provider_scope *scope,
		  const struct provider_callbacks *cb, struct elava_error *err);

/* The types this provider can list, NULL-terminated. */
const char *const *provider_types(const struct provider *p);

/* Ask a running provider_list to stop soon (within about a second). */
void provider_cancel(struct provider *p);

void provider_free(struct provider **pp);

/* ------------------------------------------------------------------ AWS */

struct provider_aws_options {
	const char *region; /* default region; NULL: $AWS_REGION, us-east-1 */
	long request_timeout_ms; /* 0: 30 s */
	int max_attempts;	 /* 0: 5 */
};

/*
 * An AWS provider: credentials from the standard chain, the account from
 * STS GetCallerIdentity. Errors: ELAVA_E_AUTH (no or bad credentials),
 * ELAVA_E_NETWORK, ...
 */
int provider_aws_new(const struct provider_aws_options *o,
		     struct provider **out, struct elava_error *err);

#endif /* ELAVA_PROVIDER_H */
