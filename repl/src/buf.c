/*
 * buf.c: a growable buffer of encoded records (pending namespace changes).
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

int mj_buf_reserve(struct mj_buf *b, uint64_t more)
{
	if (b->len + more <= b->cap)
		return 0;
	uint64_t cap = b->cap ? b->cap : 4096;
	while (cap < b->len + more)
		cap *= 2;
	unsigned char *p = realloc(b->p, (size_t)cap);
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
