/*
 * Private to src/provider: the vtable behind struct provider, which each
 * implementation embeds as its first member.
 */
#ifndef ELAVA_PROVIDER_INT_H
#define ELAVA_PROVIDER_INT_H

#include "provider/provider.h"

struct provider_ops {
	int (*list)(struct provider *p, const struct provider_scope *scope,
		    const struct provider_callbacks *cb,
		    struct elava_error *err);
	int (*check)(struct provider *p, const struct provider_scope *scope,
		     struct elava_error *err);
	const char *const *(*types)(const struct provider *p);
	int (*create)(struct provider *p, const struct resource *desired,
		      const char *token, char **id_out,
		      struct elava_error *err);
	int (*update)(struct provider *p, const struct resource *current,
		      const struct resource *desired, struct elava_error *err);
	int (*remove)(struct provider *p, const struct resource *r,
		      struct elava_error *err);
	void (*cancel)(struct provider *p);
	void (*destroy)(struct provider *p);
	/* May be NULL: the provider does not count its requests. Called from
	 * any thread, also while a listing runs. */
	size_t (*api_stats)(struct provider *p, struct provider_api_stats *out,
			    size_t cap);
};

struct provider {
	const struct provider_ops *ops;
};

#endif /* ELAVA_PROVIDER_INT_H */
