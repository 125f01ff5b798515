/*
 * provider — the cloud, seen through one small interface: list the
 * resources of a scope, page by page, and report for every (account,
 * region, type) listing whether it completed, so the store can apply its
 * completeness gate. provider/aws implements it over the AWS APIs.
 *
 * Threads: a provider is used by one thread at a time, except
 * provider_cancel() and provider_api_stats(), which any thread may call.
 */
#ifndef ELAVA_PROVIDER_H
#define ELAVA_PROVIDER_H

#include "core/core.h"
#include "resource/resource.h"

#include <stdatomic.h>

struct provider;

struct provider_scope {
	const char *const *regions; /* NULL/0: the provider's default */
	size_t nregions;
	bool all_regions;	  /* every enabled region (overrides regions) */
	const char *const *types; /* NULL/0: every type it knows */
	size_t ntypes;
	const char *const *exclude_types; /* removed from types */
	size_t nexclude;
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

/*
 * Listings run in parallel worker threads; the callbacks are called from
 * them one at a time (never concurrently).
 */
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

/*
 * Check a scope without listing it: every type known, every configured
 * region one the cloud has. provider_list makes the same checks; this lets
 * a caller refuse bad input before it creates anything. Errors:
 * ELAVA_E_INVAL (err names the type or region), ELAVA_E_AUTH.
 */
int provider_check(struct provider *p, const struct provider_scope *scope,
		   struct elava_error *err);

/*
 * Listing scopes outside (account, region, type): a type listed once per
 * account is in region "global"; S3 buckets, listed once, carry their own
 * region and their listing reports a status for every region.
 */

/* The types this provider can list, NULL-terminated. */
const char *const *provider_types(const struct provider *p);

/*
 * Changes, for the reconciler. A resource names its type, region and id;
 * the attributes a create or update reads are the ones the listing writes
 * (see docs/provider-aws.md for each type).
 *
 * provider_create makes a resource like `desired` (its id is ignored) and
 * returns the new id in *id_out (xfree it). token, when the API has one
 * (RunInstances ClientToken, CreateVolume ClientToken), makes a retried
 * create return the first one's resource instead of making a second.
 * provider_update brings `current` to `desired`: tags (added, changed,
 * removed) on every type that has tags, and the type's updatable
 * attributes. provider_delete deletes. ELAVA_E_UNSUPPORTED for a type or
 * an attribute that cannot be changed this way; otherwise errors as AWS
 * answered them (ELAVA_E_AUTH, ELAVA_E_NOTFOUND, ELAVA_E_REMOTE with the
 * AWS error code in the message...).
 */
int provider_create(struct provider *p, const struct resource *desired,
		    const char *token, char **id_out, struct elava_error *err);
int provider_update(struct provider *p, const struct resource *current,
		    const struct resource *desired, struct elava_error *err);
int provider_delete(struct provider *p, const struct resource *r,
		    struct elava_error *err);

/* Ask a running provider_list to stop soon (within about a second). */
void provider_cancel(struct provider *p);

/*
 * Requests made since the provider was created, per AWS service (its
 * signing name: "ec2", "s3", "sts"...). calls: every HTTP request sent,
 * retries included; errors: requests answered with a non-2xx status or
 * failed in transport; throttles: answers that were throttling (also
 * counted in errors).
 *
 * AWS: every request through the AWS transport counts — listings and their
 * per-record calls, the writes, STS GetCallerIdentity, EC2 DescribeRegions,
 * and the STS AssumeRole / AssumeRoleWithWebIdentity calls of the
 * credential chain. Not counted: the container credentials endpoint and
 * IMDS (not AWS APIs), credential_process, a request that could not be
 * built, and a wait for the client-side rate limit. A throttle is HTTP 429
 * or an AWS throttling code (Throttling, RequestLimitExceeded, SlowDown...,
 * whatever the status). A transfer cut short by provider_cancel is a call
 * but not an error; a response larger than the transport's cap is an
 * error. Counters only grow (uint64_t; no reset).
 */
struct provider_api_stats {
	const char *service; /* static string; valid as long as the provider */
	uint64_t calls, errors, throttles;
};

/*
 * Fill up to cap entries, services in a stable order (first use); returns
 * how many services have been used (may exceed cap; out may be NULL when
 * cap is 0). Thread-safe; may be called while a listing runs. A provider
 * that does not count returns 0.
 */
size_t provider_api_stats(struct provider *p, struct provider_api_stats *out,
			  size_t cap);

void provider_free(struct provider **pp);

/* ------------------------------------------------------------------ AWS */

struct provider_aws_options {
	const char *region;  /* default region; NULL: $AWS_REGION, us-east-1 */
	const char *profile; /* NULL: $AWS_PROFILE, "default" */
	long request_timeout_ms; /* 0: 30 s */
	int max_attempts;	 /* 0: 5 */
	int concurrency;	 /* listings at once; 0: 8 */
	/* Requests per second to one service; 0: 20; < 0: unlimited. */
	double requests_per_second;
	/*
	 * The flag provider_cancel sets, owned by the caller, so that it can
	 * also stop provider_aws_new (credential and STS calls) from another
	 * thread. NULL: the provider's own.
	 */
	atomic_bool *cancel;
};

/*
 * An AWS provider: credentials from the standard chain, the account from
 * STS GetCallerIdentity. Errors: ELAVA_E_AUTH (no or bad credentials),
 * ELAVA_E_NETWORK, ...
 */
int provider_aws_new(const struct provider_aws_options *o,
		     struct provider **out, struct elava_error *err);

/* The types the AWS provider lists, NULL-terminated (no provider needed). */
const char *const *provider_aws_type_names(void);

#endif /* ELAVA_PROVIDER_H */
