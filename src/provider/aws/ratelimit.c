/*
 * A client-side request rate per service, shared by every worker of a
 * provider: a token bucket per service name (burst of one second's worth),
 * so a large account is not throttled by AWS in the first place. Waiting
 * is done in short slices so a cancelled scan stops at once.
 */
#include "aws_int.h"

#include <pthread.h>
#include <string.h>
#include <time.h>

#define MAX_SERVICES 32

struct bucket {
	char service[32];
	double tokens;
	int64_t last_ns;
};

struct aws_ratelimit {
	pthread_mutex_t mu;
	double rate; /* requests per second per service */
	struct bucket b[MAX_SERVICES];
	size_t n;
};

struct aws_ratelimit *aws_ratelimit_new(double per_second)
{
	struct aws_ratelimit *rl = xcalloc(1, sizeof(*rl));

	pthread_mutex_init(&rl->mu, NULL);
	rl->rate = per_second;
	return rl;
}

void aws_ratelimit_free(struct aws_ratelimit **rlp)
{
	if (!*rlp)
		return;
	pthread_mutex_destroy(&(*rlp)->mu);
	xfree(*rlp);
	*rlp = NULL;
}

static struct bucket *find(struct aws_ratelimit *rl, const char *service,
			   int64_t now)
{
	for (size_t i = 0; i < rl->n; i++)
		if (!strcmp(rl->b[i].service, service))
			return &rl->b[i];
	if (rl->n == MAX_SERVICES)
		return NULL; /* more services than we know: not limited */
	struct bucket *b = &rl->b[rl->n++];
	snprintf(b->service, sizeof(b->service), "%s", service);
	b->tokens = rl->rate;
	b->last_ns = now;
	return b;
}

/* Nanoseconds to wait before a request may go (0: take it now). */
static int64_t take(struct aws_ratelimit *rl, const char *service)
{
	int64_t now = time_mono_ns(), wait = 0;
	struct bucket *b;

	pthread_mutex_lock(&rl->mu);
	if ((b = find(rl, service, now))) {
		b->tokens += (double)(now - b->last_ns) / 1e9 * rl->rate;
		if (b->tokens > rl->rate)
			b->tokens = rl->rate;
		b->last_ns = now;
		if (b->tokens >= 1)
			b->tokens -= 1;
		else
			wait = (int64_t)((1 - b->tokens) / rl->rate * 1e9) + 1;
	}
	pthread_mutex_unlock(&rl->mu);
	return wait;
}

bool aws_ratelimit_wait(struct aws_ratelimit *rl, const char *service,
			const atomic_bool *cancel)
{
	int64_t wait;

	if (!rl || rl->rate <= 0)
		return true;
	while ((wait = take(rl, service)) > 0) {
		int64_t step = wait < 50000000 ? wait : 50000000;
		struct timespec ts = {0, (long)step};
		if (cancel && atomic_load(cancel))
			return false;
		nanosleep(&ts, NULL);
	}
	return !(cancel && atomic_load(cancel));
}
