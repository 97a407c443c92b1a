/*
 * wire.c: building and checking mojim frames (see mojim_wire.h, FORMAT.md).
 *
 * The checks here are the mirror's only defence against its network, so
 * every length is compared against what is left of the frame before it is
 * used, and arithmetic is done in uint64_t on values already bounded.
 */
#include "mojim_wire.h"

#include <isa-l/crc.h>
#include <limits.h>
#include <string.h>

_Static_assert(sizeof(struct mjw_hdr) == 64, "header layout");
_Static_assert(sizeof(struct mjw_trailer) == 16, "trailer layout");
_Static_assert(sizeof(struct mjw_rec) == 24, "record layout");
_Static_assert(sizeof(struct mjw_hello) == 64, "hello layout");
_Static_assert(sizeof(struct mjw_hello_ack) == 80, "hello ack layout");

uint32_t mjw_crc32c(uint32_t crc, const void *buf, size_t len)
{
	/* isa-l's crc32_iscsi is CRC32C without the final inversion and takes
	 * an int length, so invert around it and feed it in chunks. */
	const unsigned char *p = buf;
	uint32_t c = ~crc;
	while (len > 0) {
		size_t n = len > (1u << 30) ? (1u << 30) : len;
		c = crc32_iscsi((unsigned char *)p, (int)n, c);
		p += n;
		len -= n;
	}
	return ~c;
}

uint64_t mjw_rec_size(uint64_t name_len, uint64_t name2_len, uint64_t data_len)
{
	return MJW_REC_SIZE + mjw_pad8(name_len + name2_len + data_len);
}

uint64_t mjw_put_rec(void *dst, enum mjw_rec_type type, const char *name,
                     const char *name2, uint64_t off, uint64_t len,
                     const void *data, uint64_t data_len)
{
	uint64_t n1 = name ? strlen(name) : 0;
	uint64_t n2 = name2 ? strlen(name2) : 0;
	uint64_t size = mjw_rec_size(n1, n2, data_len);
	struct mjw_rec r = {
		.type = (uint16_t)type,
		.name_len = (uint16_t)n1,
		.name2_len = (uint16_t)n2,
		.off = off,
		.len = len,
	};
	unsigned char *p = dst;
	memcpy(p, &r, sizeof(r));
	p += sizeof(r);
	if (n1)
		memcpy(p, name, n1);
	p += n1;
	if (n2)
		memcpy(p, name2, n2);
	p += n2;
	if (data_len && data)
		memcpy(p, data, data_len);
	p += data_len;
	memset(p, 0, (size_t)((unsigned char *)dst + size - p));
	return size;
}

void mjw_put_hdr(void *dst, enum mjw_type type, uint8_t flags, uint32_t nrec,
                 uint32_t frag, uint64_t epoch, uint64_t seq, uint64_t len,
                 uint64_t total)
{
	struct mjw_hdr h = {
		.magic = MJW_MAGIC,
		.version = MJW_VERSION,
		.type = (uint8_t)type,
		.flags = flags,
		.nrec = nrec,
		.frag = frag,
		.epoch = epoch,
		.seq = seq,
		.len = len,
		.total = total,
	};
	memcpy(dst, &h, sizeof(h));
}

void mjw_seal(void *frame)
{
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	uint64_t body_end = h.len - MJW_TRAILER_SIZE;
	struct mjw_trailer t = {
		.crc = mjw_crc32c(0, frame, (size_t)body_end),
		.zero = 0,
		.end = MJW_END_MARK,
	};
	memcpy((unsigned char *)frame + body_end, &t, sizeof(t));
}

static int fail(const char **why, const char *reason)
{
	if (why)
		*why = reason;
	return -1;
}

int mjw_check_hdr(const struct mjw_hdr *h, uint64_t max_len, const char **why)
{
	if (h->magic != MJW_MAGIC)
		return fail(why, "bad magic");
	if (h->version != MJW_VERSION)
		return fail(why, "unsupported version");
	if (h->type < MJW_BATCH || h->type > MJW_TYPE_MAX)
		return fail(why, "unknown frame type");
	uint8_t known = h->type == MJW_BATCH    ? MJW_F_LAST | MJW_F_COPY
	                : h->type == MJW_REFUSE ? MJW_F_MAC
	                                        : 0;
	if (h->flags & ~known)
		return fail(why, "unknown flags");
	if (h->reserved || (h->type != MJW_BATCH && h->cluster))
		return fail(why, "reserved header field not zero");
	if (max_len > MJW_FRAME_MAX)
		max_len = MJW_FRAME_MAX;
	if (h->len < MJW_OVERHEAD || h->len > max_len)
		return fail(why, "frame length out of range");
	if (h->len % 8)
		return fail(why, "frame length not a multiple of 8");
	if (h->type == MJW_BATCH) {
		if (h->nrec == 0)
			return fail(why, "batch fragment without records");
		if (h->total > MJW_FILE_MAX)
			return fail(why, "batch total out of range");
	} else {
		if (h->nrec || h->frag || h->total)
			return fail(why, "control frame with batch fields");
		if (h->len - MJW_OVERHEAD > MJW_CTRL_BODY_MAX)
			return fail(why, "control frame body too long");
	}
	return 0;
}

int mjw_check_name(const char *name, uint64_t len, const char **why)
{
	if (len == 0 || len > MJW_NAME_MAX)
		return fail(why, "file name length out of range");
	if (memchr(name, '\0', (size_t)len))
		return fail(why, "file name contains NUL");
	if (name[0] == '/')
		return fail(why, "absolute file name");
	/* Walk the components: each must be non-empty and not "." or "..". */
	uint64_t start = 0;
	for (uint64_t i = 0; i <= len; i++) {
		if (i < len && name[i] != '/')
			continue;
		uint64_t clen = i - start;
		const char *c = name + start;
		if (clen == 0)
			return fail(why, "empty path component");
		if ((clen == 1 && c[0] == '.') ||
		    (clen == 2 && c[0] == '.' && c[1] == '.'))
			return fail(why, "'.' or '..' in file name");
		start = i + 1;
	}
	return 0;
}

/* Checks one record at body[pos], with left bytes of body remaining. */
static int check_rec(const unsigned char *rec, uint64_t left, uint64_t *size,
                     const char **why)
{
	struct mjw_rec r;
	if (left < MJW_REC_SIZE)
		return fail(why, "record header past end of frame");
	memcpy(&r, rec, sizeof(r));
	if (r.zero)
		return fail(why, "record padding field not zero");
	uint64_t data_len = r.type == MJW_REC_WRITE ? r.len : 0;
	if (data_len > left)
		return fail(why, "record data past end of frame");
	uint64_t sz = mjw_rec_size(r.name_len, r.name2_len, data_len);
	if (sz > left)
		return fail(why, "record past end of frame");
	const char *name = (const char *)rec + MJW_REC_SIZE;
	if (mjw_check_name(name, r.name_len, why))
		return -1;
	int wants_name2 = r.type == MJW_REC_RENAME;
	if (wants_name2) {
		if (mjw_check_name(name + r.name_len, r.name2_len, why))
			return -1;
	} else if (r.name2_len) {
		return fail(why, "second name on a record that takes one");
	}
	switch (r.type) {
	case MJW_REC_WRITE:
		if (r.off > MJW_FILE_MAX || r.len > MJW_FILE_MAX - r.off)
			return fail(why, "write past the largest file size");
		break;
	case MJW_REC_SETSIZE:
		if (r.len > MJW_FILE_MAX)
			return fail(why, "size past the largest file size");
		if (r.off)
			return fail(why, "offset on a setsize record");
		break;
	case MJW_REC_CREATE:
	case MJW_REC_RENAME:
	case MJW_REC_REMOVE:
	case MJW_REC_MKDIR:
		if (r.off || r.len)
			return fail(why, "offset or length on a namespace record");
		break;
	default:
		return fail(why, "unknown record type");
	}
	uint64_t used = MJW_REC_SIZE + r.name_len + r.name2_len + data_len;
	for (uint64_t i = used; i < sz; i++)
		if (rec[i])
			return fail(why, "record padding not zero");
	*size = sz;
	return 0;
}

int mjw_check_frame(const void *frame, uint64_t len, const char **why)
{
	const unsigned char *f = frame;
	struct mjw_hdr h;
	struct mjw_trailer t;
	if (len < MJW_OVERHEAD)
		return fail(why, "frame shorter than header and trailer");
	memcpy(&h, f, sizeof(h));
	if (mjw_check_hdr(&h, MJW_FRAME_MAX, why))
		return -1;
	if (h.len != len)
		return fail(why, "frame length does not match header");
	memcpy(&t, f + len - MJW_TRAILER_SIZE, sizeof(t));
	if (t.end != MJW_END_MARK)
		return fail(why, "missing end mark");
	if (t.zero)
		return fail(why, "trailer padding not zero");
	if (t.crc != mjw_crc32c(0, f, (size_t)(len - MJW_TRAILER_SIZE)))
		return fail(why, "CRC32C mismatch");
	if (h.type != MJW_BATCH)
		return 0;
	uint64_t body = len - MJW_OVERHEAD, pos = 0;
	for (uint32_t i = 0; i < h.nrec; i++) {
		uint64_t sz;
		if (check_rec(f + MJW_HDR_SIZE + pos, body - pos, &sz, why))
			return -1;
		pos += sz;
	}
	if (pos != body)
		return fail(why, "record count does not cover the frame body");
	return 0;
}

int mjw_rec_next(const void *frame, uint64_t *pos, struct mjw_rec_view *out)
{
	const unsigned char *f = frame;
	struct mjw_hdr h;
	struct mjw_rec r;
	memcpy(&h, f, sizeof(h));
	uint64_t body = h.len - MJW_OVERHEAD;
	if (*pos >= body)
		return 0;
	const unsigned char *p = f + MJW_HDR_SIZE + *pos;
	memcpy(&r, p, sizeof(r));
	out->type = (enum mjw_rec_type)r.type;
	out->name = (const char *)p + MJW_REC_SIZE;
	out->name_len = r.name_len;
	out->name2 = out->name + r.name_len;
	out->name2_len = r.name2_len;
	out->off = r.off;
	out->len = r.len;
	out->data = r.type == MJW_REC_WRITE ? out->name2 + r.name2_len : NULL;
	uint64_t data_len = r.type == MJW_REC_WRITE ? r.len : 0;
	*pos += mjw_rec_size(r.name_len, r.name2_len, data_len);
	return 1;
}

const char *mjw_type_name(unsigned type)
{
	static const char *const names[] = {
		"?", "BATCH", "HELLO", "HELLO_ACK", "ACK", "PING", "PONG", "REFUSE",
		"COPY_BEGIN", "COPY_DONE", "CHALLENGE", "AUTH", "HOLD",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}

const char *mjw_rec_type_name(unsigned type)
{
	static const char *const names[] = {
		"?", "WRITE", "CREATE", "SETSIZE", "RENAME", "REMOVE", "MKDIR",
	};
	return type < sizeof(names) / sizeof(names[0]) ? names[type] : "?";
}
