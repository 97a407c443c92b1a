/*
 * batch.c: building one atomic batch as a run of frames.
 *
 * Records are copied into the batch when a sync point joins it, so the
 * batch is a snapshot: it can be resent after a lost connection with the
 * same bytes, and its CRC cannot be torn by a writer that touches the pages
 * after the sync point returned. A batch larger than the mirror's slot is
 * cut into frames ("fragments", paper section 4.2); a WRITE record too
 * large for one frame is cut into several WRITE records.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

/* Smallest useful piece of data to start in a frame's leftover space. */
#define MIN_WRITE_PIECE 512u

struct mj_batch *mj_batch_new(uint64_t seq, uint64_t slot)
{
	struct mj_batch *b = calloc(1, sizeof(*b));
	if (!b)
		return NULL;
	b->seq = seq;
	b->slot = slot;
	b->needs_send = true;
	return b;
}

void mj_batch_reset(struct mj_batch *b)
{
	struct mj_buf buf = b->buf;
	uint64_t seq = b->seq, slot = b->slot;
	memset(b, 0, sizeof(*b));
	buf.len = 0;
	buf.nrec = 0;
	b->buf = buf;
	b->seq = seq;
	b->slot = slot;
	b->needs_send = true;
}

void mj_batch_free(struct mj_batch *b)
{
	if (!b)
		return;
	mj_buf_free(&b->buf);
	free(b);
}

static uint64_t frame_used(const struct mj_batch *b)
{
	return b->buf.len - b->frame_off;
}

/* Ends the open frame: writes its header (flags and total come at seal). */
static int close_frame(struct mj_batch *b)
{
	int rc = mj_buf_reserve(&b->buf, MJW_TRAILER_SIZE);
	if (rc)
		return rc;
	memset(b->buf.p + b->buf.len, 0, MJW_TRAILER_SIZE);
	b->buf.len += MJW_TRAILER_SIZE;
	uint64_t len = b->buf.len - b->frame_off;
	mjw_put_hdr(b->buf.p + b->frame_off, MJW_BATCH, 0, b->frame_nrec,
	            b->nframes, 0, b->seq, len, 0);
	b->nframes++;
	b->frame_nrec = 0;
	return 0;
}

static int open_frame(struct mj_batch *b)
{
	int rc = mj_buf_reserve(&b->buf, MJW_HDR_SIZE);
	if (rc)
		return rc;
	b->frame_off = b->buf.len;
	memset(b->buf.p + b->buf.len, 0, MJW_HDR_SIZE);
	b->buf.len += MJW_HDR_SIZE;
	return 0;
}

/* Room for `need` more record bytes in the open frame, opening one if
 * needed. The first frame is opened lazily so an empty batch has none. */
static int make_room(struct mj_batch *b, uint64_t need)
{
	int rc;
	if (b->buf.len == 0)
		return open_frame(b);
	if (frame_used(b) + need + MJW_TRAILER_SIZE <= b->slot)
		return 0;
	if (b->frame_nrec == 0)
		return 0; /* a lone record always fits: callers cut to slot */
	if ((rc = close_frame(b)) || (rc = open_frame(b)))
		return rc;
	return 0;
}

/* Appends already encoded records (pending namespace changes). */
int mj_batch_add_records(struct mj_batch *b, const struct mj_buf *recs)
{
	uint64_t pos = 0;
	struct mjw_rec r;
	while (pos < recs->len) {
		memcpy(&r, recs->p + pos, sizeof(r));
		uint64_t size = mjw_rec_size(r.name_len, r.name2_len, 0);
		int rc = make_room(b, size);
		if (rc || (rc = mj_buf_reserve(&b->buf, size)))
			return rc;
		memcpy(b->buf.p + b->buf.len, recs->p + pos, (size_t)size);
		b->buf.len += size;
		b->frame_nrec++;
		b->payload += size;
		pos += size;
	}
	return 0;
}

/* Data bytes a WRITE record for `name` can carry in `space` frame bytes. */
static uint64_t data_fits(uint64_t space, uint64_t name_len)
{
	uint64_t fixed = MJW_REC_SIZE + name_len + 8; /* 8: worst padding */
	return space > fixed ? (space - fixed) & ~(uint64_t)7 : 0;
}

/* Reads len bytes at off of fd into dst; what lies past the end is 0. */
static int read_at(int fd, unsigned char *dst, uint64_t off, uint64_t len)
{
	while (len > 0) {
		ssize_t n = pread(fd, dst, (size_t)len, (off_t)off);
		if (n < 0 && errno == EINTR)
			continue;
		if (n < 0)
			return -errno;
		if (n == 0) {
			memset(dst, 0, (size_t)len);
			return 0;
		}
		dst += n;
		off += (uint64_t)n;
		len -= (uint64_t)n;
	}
	return 0;
}

/* WRITE records of len bytes at off, from data or else read from fd. */
static int add_write(struct mj_batch *b, const char *name, uint64_t off,
                     const unsigned char *data, int fd, uint64_t len)
{
	uint64_t nlen = strlen(name);
	do {
		int rc;
		if (b->buf.len == 0 && (rc = open_frame(b)))
			return rc;
		uint64_t space = b->slot - MJW_TRAILER_SIZE - frame_used(b);
		uint64_t piece = data_fits(space, nlen);
		if (piece < len && piece < MIN_WRITE_PIECE && b->frame_nrec) {
			if ((rc = close_frame(b)) || (rc = open_frame(b)))
				return rc;
			space = b->slot - MJW_TRAILER_SIZE - frame_used(b);
			piece = data_fits(space, nlen);
		}
		if (piece > len)
			piece = len;
		uint64_t size = mjw_rec_size(nlen, 0, piece);
		if ((rc = mj_buf_reserve(&b->buf, size)))
			return rc;
		unsigned char *rec = b->buf.p + b->buf.len;
		mjw_put_rec(rec, MJW_REC_WRITE, name, NULL, off, piece, data, piece);
		if (!data && (rc = read_at(fd, rec + MJW_REC_SIZE + nlen, off, piece)))
			return rc;
		b->buf.len += size;
		b->frame_nrec++;
		b->payload += size;
		if (data)
			data += piece;
		off += piece;
		len -= piece;
	} while (len > 0);
	return 0;
}

int mj_batch_add_write(struct mj_batch *b, const char *name, uint64_t off,
                       const void *data, uint64_t len)
{
	return add_write(b, name, off, data, -1, len);
}

int mj_batch_add_write_fd(struct mj_batch *b, const char *name, uint64_t off,
                          int fd, uint64_t len)
{
	return add_write(b, name, off, NULL, fd, len);
}

/* Closes the last frame, marks it LAST, and seals every frame. */
int mj_batch_seal(struct mj_batch *b, uint64_t epoch, uint64_t cluster,
                  uint8_t flags)
{
	if (b->sealed)
		return 0;
	if (b->frame_nrec) {
		int rc = close_frame(b);
		if (rc)
			return rc;
	}
	uint64_t pos = 0;
	for (uint32_t i = 0; i < b->nframes; i++) {
		struct mjw_hdr h;
		memcpy(&h, b->buf.p + pos, sizeof(h));
		uint8_t f = flags | (i + 1 == b->nframes ? MJW_F_LAST : 0);
		mjw_put_hdr(b->buf.p + pos, MJW_BATCH, f, h.nrec, i, epoch,
		            b->seq, h.len, b->payload);
		((struct mjw_hdr *)(void *)(b->buf.p + pos))->cluster = cluster;
		mjw_seal(b->buf.p + pos);
		pos += h.len;
	}
	b->sealed = true;
	return 0;
}

/* The record bytes of frame at pos of b: [*start, *end). Returns the
 * frame's end. Frames before frame_off are closed (their header holds the
 * length); the one at frame_off of an unsealed batch is still open. */
static uint64_t frame_records(const struct mj_batch *b, uint64_t pos,
                              uint64_t *start, uint64_t *end)
{
	struct mjw_hdr h;
	memcpy(&h, b->buf.p + pos, sizeof(h));
	*start = pos + MJW_HDR_SIZE;
	if (!b->sealed && pos == b->frame_off) {
		*end = b->buf.len;
		return b->buf.len;
	}
	*end = pos + h.len - MJW_TRAILER_SIZE;
	return pos + h.len;
}

/* Appends the one encoded record at rec (size bytes) to nb. */
static int copy_record(struct mj_batch *nb, const unsigned char *rec,
                       uint64_t size)
{
	struct mjw_rec r;
	memcpy(&r, rec, sizeof(r));
	if (r.type != MJW_REC_WRITE) {
		struct mj_buf one = {.p = (unsigned char *)rec, .len = size,
		                     .cap = size, .nrec = 1};
		return mj_batch_add_records(nb, &one);
	}
	char name[MJW_NAME_MAX + 1];
	memcpy(name, rec + MJW_REC_SIZE, r.name_len);
	name[r.name_len] = '\0';
	return mj_batch_add_write(nb, name, r.off,
	                          rec + MJW_REC_SIZE + r.name_len, r.len);
}

int mj_batch_reframe(struct mj_batch *b, uint64_t slot)
{
	if (b->slot <= slot)
		return 0;
	struct mj_batch *nb = mj_batch_new(b->seq, slot);
	if (!nb)
		return -ENOMEM;
	int rc = 0;
	for (uint64_t pos = 0, next; pos < b->buf.len && !rc; pos = next) {
		uint64_t rp, end;
		next = frame_records(b, pos, &rp, &end);
		while (rp < end && !rc) {
			struct mjw_rec r;
			memcpy(&r, b->buf.p + rp, sizeof(r));
			uint64_t size = mjw_rec_size(r.name_len, r.name2_len,
			                             r.type == MJW_REC_WRITE ? r.len : 0);
			rc = copy_record(nb, b->buf.p + rp, size);
			rp += size;
		}
	}
	if (!rc) {
		nb->sync_points = b->sync_points;
		nb->queued = b->queued;
		nb->needs_send = b->needs_send;
		nb->next = b->next;
		struct mj_batch old = *b;
		*b = *nb;
		*nb = old;
	}
	mj_batch_free(nb);
	return rc;
}
