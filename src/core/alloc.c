/*
 * Allocation wrappers: abort on OOM, count live bytes (for /metrics and the
 * benchmark's memory figures) with malloc_usable_size, and overflow-checked
 * size arithmetic.
 */
#include "core.h"

#include <malloc.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static atomic_size_t mem_used;

static void oom(size_t n)
{
	fprintf(stderr, "elava: out of memory allocating %zu bytes\n", n);
	abort();
}

static void *account(void *p)
{
	if (p)
		atomic_fetch_add_explicit(&mem_used, malloc_usable_size(p),
					  memory_order_relaxed);
	return p;
}

void *xmalloc(size_t n)
{
	void *p = malloc(n ? n : 1);

	if (!p)
		oom(n);
	return account(p);
}

void *xcalloc(size_t count, size_t size)
{
	void *p = calloc(count ? count : 1, size ? size : 1);

	if (!p)
		oom(st_mult(count, size));
	return account(p);
}

void *xrealloc(void *p, size_t n)
{
	size_t old = p ? malloc_usable_size(p) : 0;
	void *q = realloc(p, n ? n : 1);

	if (!q)
		oom(n);
	atomic_fetch_sub_explicit(&mem_used, old, memory_order_relaxed);
	return account(q);
}

char *xstrdup(const char *s)
{
	return xstrndup(s, strlen(s));
}

char *xstrndup(const char *s, size_t n)
{
	size_t len = strnlen(s, n);
	char *p = xmalloc(st_add(len, 1));

	memcpy(p, s, len);
	p[len] = '\0';
	return p;
}

void xfree(void *p)
{
	if (!p)
		return;
	atomic_fetch_sub_explicit(&mem_used, malloc_usable_size(p),
				  memory_order_relaxed);
	free(p);
}

size_t elava_mem_used(void)
{
	return atomic_load_explicit(&mem_used, memory_order_relaxed);
}

size_t st_add(size_t a, size_t b)
{
	size_t r;

	if (__builtin_add_overflow(a, b, &r)) {
		fprintf(stderr, "elava: size overflow %zu + %zu\n", a, b);
		abort();
	}
	return r;
}

size_t st_mult(size_t a, size_t b)
{
	size_t r;

	if (__builtin_mul_overflow(a, b, &r)) {
		fprintf(stderr, "elava: size overflow %zu * %zu\n", a, b);
		abort();
	}
	return r;
}
