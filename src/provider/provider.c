/*
 * The provider interface: dispatch to the implementation's vtable.
 */
#include "provider/provider_int.h"

int provider_list(struct provider *p, const struct provider_scope *scope,
		  const struct provider_callbacks *cb, struct elava_error *err)
{
	return p->ops->list(p, scope, cb, err);
}

const char *const *provider_types(const struct provider *p)
{
	return p->ops->types(p);
}

void provider_cancel(struct provider *p)
{
	p->ops->cancel(p);
}

void provider_free(struct provider **pp)
{
	if (!pp || !*pp)
		return;
	(*pp)->ops->destroy(*pp);
	*pp = NULL;
}
