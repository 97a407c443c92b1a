/*
 * logcopy.c: checked private copies of logged batches (logcopy.h).
 */
#include "logcopy.h"

#include <errno.h>
#include <stdio.h>
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

int log_frame_extents(const void *frame, uint64_t max, char *why,
                      size_t why_len)
{
	uint64_t pos = 0;
	struct mjw_rec_view v;
	while (mjw_rec_next(frame, &pos, &v)) {
		int over = v.type == MJW_REC_SETSIZE ? v.len > max :
		           v.type == MJW_REC_WRITE ? v.len > max ||
		                                     v.off > max - v.len : 0;
		if (over) {
			snprintf(why, why_len, "%s %.*s at %llu+%llu: over "
			         "--max-file-size %llu", mjw_rec_type_name(v.type),
			         (int)(v.name_len > 64 ? 64 : v.name_len), v.name,
			         (unsigned long long)v.off, (unsigned long long)v.len,
			         (unsigned long long)max);
			return -1;
		}
	}
	return 0;
}

/* Frame i of batch b as the copy holds it (its header in *h): 0 or why. */
static const char *check_frame(const unsigned char *f, uint64_t len,
                               const struct ring_batch *b, uint32_t i,
                               const struct mjw_hdr *first,
                               struct mjw_hdr *h)
{
	const char *why;
	if (mjw_check_frame(f, len, &why))
		return why;
	memcpy(h, f, sizeof(*h));
	if (h->type != MJW_BATCH || h->seq != b->seq)
		return "a frame of another batch";
	if (h->frag != i)
		return "fragments out of order";
	if (first && (h->epoch != first->epoch || h->cluster != first->cluster))
		return "fragments of different epochs or clusters";
	return NULL;
}

int log_copy_batch(struct log_copy *c, const struct ring *r,
                   const struct ring_batch *b, uint64_t max_extent,
                   const char **why)
{
	static __thread char extent_why[200];
	struct mjw_hdr first, h;
	uint64_t pos = b->start, n;
	const void *in_place;
	uint32_t i = 0;
	int rc, last = 0;
	c->len = 0;
	while ((rc = ring_step_batch(r, &pos, b->end, b->seq, &in_place, &n)) == 1) {
		if (last)
			return *why = "a frame after the batch's LAST", -EBADMSG;
		if (n > MJW_FRAME_MAX || c->len + n > (size_t)r->dsize)
			return *why = "frames longer than the log", -EBADMSG;
		if ((rc = reserve(c, c->len + (size_t)n)))
			return *why = "no memory for a copy of the batch", rc;
		unsigned char *f = c->buf + c->len;
		memcpy(f, in_place, (size_t)n);
		if ((*why = check_frame(f, n, b, i, i ? &first : NULL, &h)))
			return -EBADMSG;
		if (log_frame_extents(f, max_extent, extent_why,
		                      sizeof(extent_why)))
			return *why = extent_why, -EBADMSG;
		if (!i)
			first = h;
		last = h.flags & MJW_F_LAST;
		c->len += (size_t)n;
		i++;
	}
	if (rc < 0)
		return *why = "an entry no longer carries the batch's mark or "
		              "length", -EBADMSG;
	if (!last || pos != b->end)
		return *why = "the batch's frames no longer end at its LAST",
		       -EBADMSG;
	return 0;
}

int log_copy_one(struct log_copy *c, const void *frame, uint64_t len)
{
	int rc = reserve(c, (size_t)len);
	if (rc)
		return rc;
	memcpy(c->buf, frame, (size_t)len);
	c->len = (size_t)len;
	return 0;
}

int log_copy_frame(const struct log_copy *c, size_t *off, const void **frame,
                   uint64_t *len)
{
	if (*off >= c->len)
		return 0;
	struct mjw_hdr h;
	memcpy(&h, c->buf + *off, sizeof(h)); /* checked by log_copy_batch */
	*frame = c->buf + *off;
	*len = h.len;
	*off += (size_t)h.len;
	return 1;
}
