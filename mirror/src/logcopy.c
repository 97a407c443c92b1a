/*
 * logcopy.c: checked private copies of logged frames (logcopy.h).
 */
#include "logcopy.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

void log_copy_free(struct log_copy *c)
{
	free(c->buf);
	*c = (struct log_copy){0};
}

static int reserve(struct log_copy *c, size_t len)
{
	if (len <= c->cap)
		return 0;
	size_t cap = c->cap ? c->cap : 64u << 10;
	while (cap < len)
		cap *= 2;
	unsigned char *p = realloc(c->buf, cap);
	if (!p)
		return -ENOMEM;
	c->buf = p;
	c->cap = cap;
	return 0;
}

int log_copy_next(struct log_copy *c, const struct ring *r,
                  const struct ring_batch *b, uint64_t *pos,
                  const void **frame, uint64_t *len, const char **why)
{
	const void *in_place;
	uint64_t n;
	int rc = ring_step(r, pos, b->end, &in_place, &n);
	if (rc <= 0) {
		if (rc)
			*why = "an entry's length no longer fits the log";
		return rc;
	}
	if (n > MJW_FRAME_MAX)
		return *why = "an entry is longer than any frame", -EBADMSG;
	if ((rc = reserve(c, (size_t)n)))
		return *why = "no memory for a copy of the frame", rc;
	memcpy(c->buf, in_place, (size_t)n);
	if (mjw_check_frame(c->buf, n, why))
		return -EBADMSG;
	struct mjw_hdr h;
	memcpy(&h, c->buf, sizeof(h));
	if (h.type != MJW_BATCH || h.seq != b->seq)
		return *why = "a frame of another batch", -EBADMSG;
	*frame = c->buf;
	*len = n;
	return 1;
}
