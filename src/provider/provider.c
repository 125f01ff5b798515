/*
 * The provider interface: dispatch to the implementation's vtable.
 */
#include "provider/provider_int.h"

int provider_check(struct provider *p, const struct provider_scope *scope,
		   struct elava_error *err)
{
	return p->ops->check(p, scope, err);
}

int provider_list(struct provider *p, const struct provider_scope *scope,
		  const struct provider_callbacks *cb, struct elava_error *err)
{
	return p->ops->list(p, scope, cb, err);
}

const char *const *provider_types(const struct provider *p)
{
	return p->ops->types(p);
}

int provider_create(struct provider *p, const struct resource *desired,
		    const char *token, char **id_out, struct elava_error *err)
{
	*id_out = NULL;
	if (!p->ops->create)
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "this provider cannot create resources");
	return p->ops->create(p, desired, token, id_out, err);
}

int provider_update(struct provider *p, const struct resource *current,
		    const struct resource *desired, struct elava_error *err)
{
	if (!p->ops->update)
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "this provider cannot update resources");
	return p->ops->update(p, current, desired, err);
}

int provider_delete(struct provider *p, const struct resource *r,
		    struct elava_error *err)
{
	if (!p->ops->remove)
		return elava_error_set(err, ELAVA_E_UNSUPPORTED,
				       "this provider cannot delete resources");
	return p->ops->remove(p, r, err);
}

void provider_cancel(struct provider *p)
{
	p->ops->cancel(p);
}

size_t provider_api_stats(struct provider *p, struct provider_api_stats *out,
			  size_t cap)
{
	if (!p->ops->api_stats)
		return 0;
	return p->ops->api_stats(p, out, cap);
}

void provider_free(struct provider **pp)
{
	if (!pp || !*pp)
		return;
	(*pp)->ops->destroy(*pp);
	*pp = NULL;
}
