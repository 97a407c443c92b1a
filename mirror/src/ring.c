/*
 * ring.c: the per-connection log rings (layout and invariants in ring.h).
 */
#include "ring.h"
#include "util.h"

#include <errno.h>
#include <libpmem.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>

#define RING_COMMIT_MAGIC 0x544d4d434a4d4d4dull /* "MMMJCMMT" */
#define RING_WRAP_MAGIC 0x50415257424a4d4dull   /* "MMJBWRAP" */
#define RING_PAD_MAGIC 0x4441505f424a4d4dull    /* "MMJB_PAD" */
#define GOLDEN 0x9e3779b97f4a7c15ull

/* Commit mark of a frame entry for batch seq at logical position pos. */
static uint64_t entry_mark(uint64_t seq, uint64_t pos)
{
	uint64_t m = RING_COMMIT_MAGIC ^ seq ^ (pos * GOLDEN);
	return m ? m : 1; /* 0 means "no entry" */
}

static uint64_t wrap_mark(uint64_t pos)
{
	uint64_t m = RING_WRAP_MAGIC ^ (pos * GOLDEN);
	return m ? m : 1;
}

static uint64_t pad_mark(uint64_t pos)
{
	uint64_t m = RING_PAD_MAGIC ^ (pos * GOLDEN);
	return m ? m : 1;
}

static struct ring_ehdr *ehdr_at(const struct ring *r, uint64_t pos)
{
	return (struct ring_ehdr *)(r->data + pos % r->dsize);
}

static int persist(const struct ring *r, const void *p, size_t len)
{
	return pm_persist(p, len, r->is_pmem);
}

/* Zeroes the entry header at pos on media: "no entry here". */
static int clear_at(struct ring *r, uint64_t pos)
{
	struct ring_ehdr *e = ehdr_at(r, pos);
	e->commit = 0;
	e->len = 0;
	return persist(r, e, sizeof(*e));
}

static int init_hdr(struct ring *r)
{
	struct ring_disk_hdr *h = r->hdr;
	if (r->mapped_len <= RING_HDR_SIZE + 4 * RING_ALIGN)
		return -EINVAL;
	memset(r->base, 0, RING_HDR_SIZE);
	h->version = RING_VERSION;
	h->hdr_size = RING_HDR_SIZE;
	h->size = r->mapped_len;
	h->data_size = (r->mapped_len - RING_HDR_SIZE) & ~(uint64_t)(RING_ALIGN - 1);
	h->head = 0;
	/* The first entry header must read "no entry" before the magic
	 * makes the ring valid. A new file is zeros; be sure anyway. */
	memset(r->base + RING_HDR_SIZE, 0, RING_EHDR_SIZE);
	int rc = persist(r, r->base, RING_HDR_SIZE + RING_EHDR_SIZE);
	if (rc)
		return rc;
	h->magic = RING_MAGIC;
	return persist(r, &h->magic, 8);
}

static int check_hdr(const struct ring *r, const char **why)
{
	const struct ring_disk_hdr *h = r->hdr;
	if (h->magic != RING_MAGIC)
		return *why = "bad magic", -EINVAL;
	if (h->version != RING_VERSION)
		return *why = "unsupported version", -EINVAL;
	if (h->hdr_size != RING_HDR_SIZE || h->size != r->mapped_len)
		return *why = "header does not match the file size", -EINVAL;
	if (h->data_size > h->size - RING_HDR_SIZE ||
	    h->data_size % RING_ALIGN || h->data_size < 4 * RING_ALIGN)
		return *why = "bad data size", -EINVAL;
	if (h->head % RING_ALIGN)
		return *why = "head not aligned", -EINVAL;
	return 0;
}

int ring_open(struct ring *r, const char *path, int index, uint64_t size,
              const char **why)
{
	struct stat st;
	memset(r, 0, sizeof(*r));
	r->index = index;
	int exists = stat(path, &st) == 0;
	void *p;
	if (exists || size == 0)
		p = pmem_map_file(path, 0, 0, 0, &r->mapped_len, &r->is_pmem);
	else
		p = pmem_map_file(path, size, PMEM_FILE_CREATE | PMEM_FILE_EXCL,
		                  0600, &r->mapped_len, &r->is_pmem);
	if (!p) {
		*why = "cannot map the ring file";
		return -errno;
	}
	r->base = p;
	r->hdr = p;
	int rc = 0;
	if (r->mapped_len < RING_HDR_SIZE + 4 * RING_ALIGN) {
		*why = "ring file too small";
		rc = -EINVAL;
	} else if (r->hdr->magic == 0) {
		/* New, or a creation interrupted before the magic. */
		rc = init_hdr(r);
		if (rc)
			*why = rc == -EINVAL ? "ring file too small" :
			       "cannot persist a new ring header";
	}
	if (!rc)
		rc = check_hdr(r, why);
	if (rc) {
		pmem_unmap(p, r->mapped_len);
		r->base = NULL;
		return rc;
	}
	r->data = r->base + RING_HDR_SIZE;
	r->dsize = r->hdr->data_size;
	r->cur.head = r->cur.tail = r->cur.open = r->cur.wpos = r->hdr->head;
	r->hdr->credit = r->hdr->head;
	return 0;
}

void ring_close(struct ring *r)
{
	if (r->base)
		pmem_unmap(r->base, r->mapped_len);
	free(r->q);
	memset(r, 0, sizeof(*r));
}

int ring_queue_reserve(struct ring *r)
{
	if (r->q_len < r->q_cap)
		return 0;
	size_t cap = r->q_cap ? r->q_cap * 2 : 64;
	struct ring_batch *q = malloc(cap * sizeof(*q));
	if (!q)
		return -ENOMEM;
	for (size_t i = 0; i < r->q_len; i++)
		q[i] = *ring_batch_at(r, i);
	free(r->q);
	r->q = q;
	r->q_cap = cap;
	r->q_first = 0;
	return 0;
}

static void queue_push(struct ring *r, const struct ring_batch *b)
{
	if (r->q_len && b->seq <= r->last_seq)
		r->disorder = 1;
	r->last_seq = b->seq;
	r->q[(r->q_first + r->q_len) % r->q_cap] = *b;
	r->q_len++;
}

int ring_fits(const struct ring *r, uint64_t frame_len)
{
	return mjw_log_fits(r->cur.wpos, r->cur.head, r->dsize, frame_len);
}

void *ring_reserve(struct ring *r, uint64_t frame_len)
{
	uint64_t p = r->cur.wpos % r->dsize;
	if (mjw_log_place(r->cur.wpos, r->dsize, frame_len) != r->cur.wpos) {
		/* The start of the area must read "no entry" before the WRAP
		 * entry points the scan there. */
		if (clear_at(r, r->cur.wpos + (r->dsize - p)))
			return NULL;
		struct ring_ehdr *w = ehdr_at(r, r->cur.wpos);
		w->len = 0;
		w->commit = wrap_mark(r->cur.wpos);
		if (persist(r, w, sizeof(*w))) {
			w->commit = 0; /* never followed: the tail stays here */
			return NULL;
		}
		r->cur.wpos += r->dsize - p;
	}
	struct ring_ehdr *e = ehdr_at(r, r->cur.wpos);
	e->len = frame_len; /* commit stays 0 until ring_persist */
	r->pending = r->cur.wpos;
	return (unsigned char *)e + RING_EHDR_SIZE;
}

/*
 * Writes the entry's mark once what it covers is durable (rc 0), and moves
 * the writer to next. Otherwise the entry must not read as committed,
 * whatever reaches media later, and the writer's position stays on it.
 */
static int commit_entry(struct ring *r, struct ring_ehdr *e, int rc,
                        uint64_t mark, uint64_t next)
{
	if (!rc) {
		e->commit = mark;
		rc = persist(r, &e->commit, 8);
	}
	if (rc) {
		e->commit = 0;
		(void)persist(r, &e->commit, 8);
		return rc;
	}
	r->cur.wpos = next;
	return 0;
}

int ring_persist(struct ring *r, const struct mjw_hdr *h)
{
	uint64_t pos = r->pending;
	uint64_t next = pos + ring_entry_size(h->len);
	struct ring_ehdr *e = ehdr_at(r, pos);
	struct ring_ehdr *n = ehdr_at(r, next);
	int rc = 0;
	n->commit = 0;
	n->len = 0;
	if (r->is_pmem) {
		pmem_flush(e, RING_EHDR_SIZE + h->len);
		pmem_flush(n, sizeof(*n));
		pmem_drain();
	} else if (!(rc = persist(r, e, RING_EHDR_SIZE + h->len))) {
		rc = persist(r, n, sizeof(*n));
	}
	return commit_entry(r, e, rc, entry_mark(h->seq, pos), next);
}

int ring_pad(struct ring *r, uint64_t frame_len)
{
	uint64_t pos = r->pending;
	uint64_t next = pos + ring_entry_size(frame_len);
	struct ring_ehdr *e = ehdr_at(r, pos);
	int rc = clear_at(r, next);
	if (!rc) {
		e->len = frame_len;
		rc = persist(r, &e->len, 8);
	}
	return commit_entry(r, e, rc, pad_mark(pos), next);
}

void ring_publish_pad(struct ring *r, uint64_t frame_len)
{
	r->cur.tail = r->pending + ring_entry_size(frame_len);
	r->cur.open = r->cur.tail;
}

int ring_publish(struct ring *r, const struct mjw_hdr *h)
{
	uint64_t pos = r->pending;
	uint64_t end = pos + ring_entry_size(h->len);
	if (h->frag == 0)
		r->cur.open = pos;
	r->cur.tail = end;
	if (!(h->flags & MJW_F_LAST))
		return 0;
	struct ring_batch b = {.seq = h->seq, .start = r->cur.open, .end = end};
	queue_push(r, &b);
	r->cur.open = end;
	return 1;
}

void ring_rewind(struct ring *r)
{
	if (r->cur.wpos == r->cur.open)
		return;
	/* A failure here is harmless: the entries past open never had a
	 * LAST fragment, and a replay scan drops such a batch. */
	(void)clear_at(r, r->cur.open);
	r->cur.wpos = r->cur.tail = r->cur.open;
}

int ring_release(struct ring *r, uint64_t applied)
{
	while (r->q_len && ring_batch_at(r, 0)->seq <= applied) {
		r->q_first = (r->q_first + 1) % r->q_cap;
		r->q_len--;
	}
	if (r->q_len == 0)
		r->disorder = 0;
	uint64_t head = r->q_len ? ring_batch_at(r, 0)->start : r->cur.open;
	if (head == r->cur.head)
		return 0;
	r->cur.head = head;
	r->hdr->head = head;
	if (persist(r, &r->hdr->head, 8) < 0)
		return -EIO;
	/* Only now may a remote writer (RDMA credits) overwrite what lies
	 * before it: a crash leaves the persisted head, never a newer one. */
	__atomic_store_n(&r->hdr->credit, head, __ATOMIC_RELEASE);
	return 1;
}

int ring_step(const struct ring *r, uint64_t *pos, uint64_t end,
              const void **frame, uint64_t *len)
{
	while (*pos < end) {
		const struct ring_ehdr *e = ehdr_at(r, *pos);
		uint64_t p = *pos % r->dsize;
		/* Each field is read once: a remote writer (RDMA) can reach
		 * the ring's bytes, so a second read may not see the first's
		 * value. What the frame holds is the caller's to check
		 * (logcopy.h). */
		uint64_t commit = __atomic_load_n(&e->commit, __ATOMIC_RELAXED);
		uint64_t elen = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
		if (commit == wrap_mark(*pos)) {
			*pos += r->dsize - p;
			continue;
		}
		if (elen < MJW_OVERHEAD || elen > r->dsize - p - RING_EHDR_SIZE)
			return -EBADMSG;
		uint64_t at = *pos;
		*pos += ring_entry_size(elen);
		if (commit == pad_mark(at))
			continue;
		*len = elen;
		*frame = (const unsigned char *)e + RING_EHDR_SIZE;
		return 1;
	}
	return 0;
}

int ring_step_batch(const struct ring *r, uint64_t *pos, uint64_t end,
                    uint64_t seq, const void **frame, uint64_t *len)
{
	while (*pos < end) {
		const struct ring_ehdr *e = ehdr_at(r, *pos);
		uint64_t p = *pos % r->dsize, at = *pos;
		uint64_t commit = __atomic_load_n(&e->commit, __ATOMIC_RELAXED);
		uint64_t elen = __atomic_load_n(&e->len, __ATOMIC_RELAXED);
		if (commit == wrap_mark(at)) {
			*pos += r->dsize - p;
			continue;
		}
		/* Inside a batch only its own frames: no PAD (those lie between
		 * batches), no mark of another seq or place. */
		if (commit != entry_mark(seq, at) || elen < MJW_OVERHEAD ||
		    elen > r->dsize - p - RING_EHDR_SIZE)
			return -EBADMSG;
		*pos += ring_entry_size(elen);
		if (*pos > end)
			return -EBADMSG;
		*len = elen;
		*frame = (const unsigned char *)e + RING_EHDR_SIZE;
		return 1;
	}
	return 0;
}

const void *ring_next_frame(const struct ring *r, uint64_t *pos, uint64_t end,
                            uint64_t *len)
{
	const void *f = NULL;
	return ring_step(r, pos, end, &f, len) == 1 ? f : NULL;
}

/*
 * Checks the entry at pos during a scan. Returns 1 for a valid frame entry
 * (header copied to *h), 2 for a WRAP entry, 3 for a PAD entry (its
 * length in h->len), 0 for the end of the log.
 */
static int scan_entry(const struct ring *r, uint64_t pos, struct mjw_hdr *h,
                      const char **why)
{
	const struct ring_ehdr *e = ehdr_at(r, pos);
	uint64_t p = pos % r->dsize;
	if (e->commit == 0)
		return *why = "end of log", 0;
	if (e->commit == wrap_mark(pos))
		return p ? 2 : (*why = "wrap entry at the start", 0);
	uint64_t len = e->len;
	if (len < MJW_OVERHEAD || len % 8 || len > r->dsize - p - RING_EHDR_SIZE)
		return *why = "torn entry: bad length", 0;
	if (e->commit == pad_mark(pos))
		return h->len = len, 3;
	const unsigned char *f = (const unsigned char *)e + RING_EHDR_SIZE;
	if (mjw_check_frame(f, len, why))
		return 0;
	memcpy(h, f, sizeof(*h));
	if (h->type != MJW_BATCH)
		return *why = "not a batch frame", 0;
	if (e->commit != entry_mark(h->seq, pos))
		return *why = "commit mark does not match", 0;
	return 1;
}

int ring_scan(struct ring *r, struct ring_scan_info *info)
{
	uint64_t pos = r->cur.head, open = pos, cur_seq = 0;
	uint32_t next_frag = 0;
	int in_batch = 0, clean = 0;
	memset(info, 0, sizeof(*info));
	r->q_len = 0;
	r->q_first = 0;
	r->disorder = 0;
	while (pos - r->cur.head < r->dsize) {
		struct mjw_hdr h;
		int k = scan_entry(r, pos, &h, &info->stop);
		if (k == 2) {
			pos += r->dsize - pos % r->dsize;
			if (!in_batch)
				open = pos;
			continue;
		}
		if (k == 3 && !in_batch) {
			pos += ring_entry_size(h.len);
			open = pos;
			continue;
		}
		if (k == 3)
			info->stop = "pad entry inside a batch";
		if (k == 0 || k == 3) {
			clean = ehdr_at(r, pos)->commit == 0;
			break;
		}
		if (in_batch ? (h.seq != cur_seq || h.frag != next_frag)
		             : h.frag != 0) {
			info->stop = "fragments do not follow on";
			break;
		}
		if (ring_queue_reserve(r))
			return -ENOMEM;
		if (h.frag == 0)
			open = pos;
		pos += ring_entry_size(h.len);
		info->entries++;
		if (h.flags & MJW_F_LAST) {
			struct ring_batch b = {.seq = h.seq, .start = open, .end = pos};
			queue_push(r, &b);
			info->batches++;
			in_batch = 0;
			open = pos;
		} else {
			in_batch = 1;
			cur_seq = h.seq;
			next_frag = h.frag + 1;
		}
	}
	if (in_batch) {
		/* Entries of a batch that never got its LAST fragment. */
		uint64_t p = open;
		while (p < pos) {
			uint64_t len;
			if (!ring_next_frame(r, &p, pos, &len))
				break;
			info->discarded++;
		}
		info->entries -= info->discarded;
	}
	int rc = in_batch || !clean ? clear_at(r, open) : 0;
	r->cur.tail = r->cur.open = r->cur.wpos = open;
	return rc;
}

int ring_append(struct ring *r, const void *frame, uint64_t len, uint64_t *pos)
{
	struct mjw_hdr h;
	if (len < sizeof(h))
		return -EINVAL;
	memcpy(&h, frame, sizeof(h));
	if (!ring_fits(r, len))
		return -ENOSPC;
	if (ring_queue_reserve(r))
		return -ENOMEM;
	void *dst = ring_reserve(r, len);
	if (!dst)
		return -EIO;
	memcpy(dst, frame, len);
	/* The entry length is what we were given, whatever the header says,
	 * so tests can store frames that lie about their length. */
	h.len = len;
	if (pos)
		*pos = r->pending;
	int rc = ring_persist(r, &h);
	if (!rc)
		ring_publish(r, &h);
	return rc;
}
