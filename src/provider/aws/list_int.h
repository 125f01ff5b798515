/*
 * Private to src/provider/aws: what a per-type lister gets, and the table
 * of listers. Each lister pages through one API for one (account, region)
 * and hands every record to the callbacks as a struct resource.
 */
#ifndef ELAVA_AWS_LIST_INT_H
#define ELAVA_AWS_LIST_INT_H

#include "provider/aws/aws_int.h"
#include "provider/provider.h"

/* Pages one listing may have before it is called a loop. */
#define AWS_MAX_PAGES 100000

struct aws_list_ctx {
	struct aws_client *client;
	const char *account;
	const char *region;
	const char *type;
	const struct provider_callbacks *cb;
	size_t resources, pages;
	int stop;	   /* a callback's non-zero return */
	struct resource r; /* scratch record */
	struct buf text;   /* scratch text */
	struct buf key;	   /* scratch key */
};

typedef int (*aws_lister_fn)(struct aws_list_ctx *lc, struct elava_error *err);

struct aws_lister {
	const char *type;
	aws_lister_fn list;
};

/* Every type the AWS provider lists, NULL-terminated by type. */
extern const struct aws_lister aws_listers[];

/* Start a record for lc's account/region/type with this id. */
void aws_record_begin(struct aws_list_ctx *lc, const char *id);
/* Deliver the record; returns the callback's value (non-zero stops). */
int aws_record_emit(struct aws_list_ctx *lc);
/* Key "aws:<account>:<region>:<type>:<id>" of a related resource. */
const char *aws_related_key(struct aws_list_ctx *lc, const char *type,
			    const char *id);

/* Append key=value, percent-encoded as AWS query bodies want it. */
int aws_query_param(struct buf *b, const char *key, const char *value);

/*
 * Guard against a service returning the same continuation token forever:
 * remembers the tokens seen (hashes) and refuses a repeat.
 */
struct aws_page_guard {
	uint64_t *seen;
	size_t n, cap;
};
int aws_page_guard_check(struct aws_page_guard *g, const char *token,
			 struct aws_list_ctx *lc, struct elava_error *err);
void aws_page_guard_release(struct aws_page_guard *g);

int aws_list_ec2_instances(struct aws_list_ctx *lc, struct elava_error *err);

#endif /* ELAVA_AWS_LIST_INT_H */
