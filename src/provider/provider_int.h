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
	const char *const *(*types)(const struct provider *p);
	void (*cancel)(struct provider *p);
	void (*destroy)(struct provider *p);
};

struct provider {
	const struct provider_ops *ops;
};

#endif /* ELAVA_PROVIDER_INT_H */
