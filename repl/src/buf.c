/*
 * buf.c: a growable buffer of encoded records (pending namespace changes),
 * and the allocation every growable list of libmojim goes through, where
 * the tests inject failures (SQLite's way: a fault is a first-class test).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

atomic_int mj_fault_alloc;

void *mj_grow(void *p, size_t size)
{
	int n = atomic_load(&mj_fault_alloc);
	while (n > 0 && !atomic_compare_exchange_weak(&mj_fault_alloc, &n, n - 1))
		;
	if (n == 1)
		return NULL;
	return realloc(p, size);
}

int mj_buf_reserve(struct mj_buf *b, uint64_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	uint64_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	unsigned char *p = mj_grow(b->p, (size_t)cap);
	if (!p)
		return -ENOMEM;
	b->p = p;
	b->cap = cap;
	return 0;
}

void mj_buf_free(struct mj_buf *b)
{
	free(b->p);
	memset(b, 0, sizeof(*b));
}

int mj_buf_add_rec(struct mj_buf *b, enum mjw_rec_type type, const char *name,
                   const char *name2, uint64_t off, uint64_t len)
{
	uint64_t size = mjw_rec_size(strlen(name), name2 ? strlen(name2) : 0, 0);
	int rc = mj_buf_reserve(b, size);
	if (rc)
		return rc;
	b->len += mjw_put_rec(b->p + b->len, type, name, name2, off, len, NULL, 0);
	b->nrec++;
	return 0;
}
