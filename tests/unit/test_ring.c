/*
 * test_ring.c: the log ring on its own: append, wrap, full, free, rewind,
 * and scans that stop at the true tail after many laps; then several rings
 * read as one log (logread.c): readers' cursors and the pick by seq.
 */
#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include "mojim_wire.h"
#include "logcopy.h"
#include "logread.h"
#include "ring.h"

static char tmpdir[256];
static char path[512];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

/*
 * Each test's directory lives in one per-run directory that the parent
 * process (an unchecked fixture) removes, so a failed check, which ends
 * the forked test before its teardown, leaves nothing behind.
 */
static char basedir[128];

static void make_base(void)
{
	snprintf(basedir, sizeof(basedir), "/dev/shm/mojim-test-ring-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(basedir));
}

static void remove_base(void)
{
	nftw(basedir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	snprintf(tmpdir, sizeof(tmpdir), "%s/t-XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/ring-0", tmpdir);
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/*
 * A one-record batch frame into buf: WRITE "f" with dlen bytes of fill.
 * Returns the frame length.
 */
static uint64_t frame(unsigned char *buf, uint64_t seq, uint32_t frag,
                      int last, uint64_t dlen, unsigned char fill)
{
	unsigned char data[8192];
	ck_assert_uint_le(dlen, sizeof(data));
	memset(data, fill, dlen);
	uint64_t pos = MJW_HDR_SIZE;
	pos += mjw_put_rec(buf + pos, MJW_REC_WRITE, "f", NULL, 0, dlen, data,
	                   dlen);
	uint64_t len = pos + MJW_TRAILER_SIZE;
	mjw_put_hdr(buf, MJW_BATCH, last ? MJW_F_LAST : 0, 1, frag, 1, seq,
	            len, pos - MJW_HDR_SIZE);
	mjw_seal(buf);
	const char *why;
	ck_assert_int_eq(mjw_check_frame(buf, len, &why), 0);
	return len;
}

static void open_ring(struct ring *r, uint64_t size)
{
	const char *why = NULL;
	ck_assert_int_eq(ring_open(r, path, 0, size, &why), 0);
}

static void reopen(struct ring *r, struct ring_scan_info *info)
{
	ring_close(r);
	open_ring(r, 0);
	ck_assert_int_eq(ring_scan(r, info), 0);
}

START_TEST(test_append_and_scan)
{
	struct ring r;
	struct ring_scan_info info;
	unsigned char buf[16384];
	open_ring(&r, 64 << 10);
	ck_assert_uint_eq(r.dsize, (64 << 10) - RING_HDR_SIZE);
	for (uint64_t s = 1; s <= 5; s++) {
		uint64_t len = frame(buf, s, 0, 1, 100 * s, (unsigned char)s);
		uint64_t pos;
		ck_assert_int_eq(ring_append(&r, buf, len, &pos), 0);
		ck_assert_uint_eq(pos % RING_ALIGN, 0);
	}
	ck_assert_uint_eq(r.q_len, 5);
	uint64_t used = ring_used(&r);
	reopen(&r, &info);
	ck_assert_uint_eq(info.batches, 5);
	ck_assert_uint_eq(info.entries, 5);
	ck_assert_str_eq(info.stop, "end of log");
	ck_assert_uint_eq(ring_used(&r), used);
	/* Each frame reads back byte for byte. */
	for (size_t i = 0; i < 5; i++) {
		const struct ring_batch *b = ring_batch_at(&r, i);
		uint64_t pos = b->start, flen;
		const unsigned char *f = ring_next_frame(&r, &pos, b->end, &flen);
		ck_assert_ptr_nonnull(f);
		uint64_t want = frame(buf, i + 1, 0, 1, 100 * (i + 1),
		                      (unsigned char)(i + 1));
		ck_assert_uint_eq(flen, want);
		ck_assert_int_eq(memcmp(f, buf, want), 0);
		ck_assert_uint_eq(b->seq, i + 1);
		ck_assert_ptr_null(ring_next_frame(&r, &pos, b->end, &flen));
	}
	ring_close(&r);
}
END_TEST

START_TEST(test_full_and_free)
{
	struct ring r;
	unsigned char buf[16384];
	open_ring(&r, RING_HDR_SIZE + 16384);
	uint64_t len = frame(buf, 1, 0, 1, 3000, 0xaa);
	uint64_t s = 0;
	while (ring_fits(&r, len)) {
		frame(buf, ++s, 0, 1, 3000, 0xaa);
		ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	}
	/* 16 KiB holds five 3 KiB entries, the 64-byte guard stays free. */
	ck_assert_uint_eq(s, 5);
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), -ENOSPC);
	ck_assert_uint_le(ring_used(&r) + RING_ALIGN, r.dsize);
	/* Releasing nothing frees nothing. */
	ck_assert_int_eq(ring_release(&r, 0), 0);
	ck_assert(!ring_fits(&r, len));
	/* Releasing the first two frees their space, persisted in the head. */
	ck_assert_int_eq(ring_release(&r, 2), 1);
	ck_assert_uint_eq(r.q_len, 3);
	ck_assert_uint_eq(r.hdr->head, ring_batch_at(&r, 0)->start);
	ck_assert(ring_fits(&r, len));
	ring_release(&r, 5);
	ck_assert_uint_eq(ring_used(&r), 0);
	ck_assert_uint_eq(r.q_len, 0);
	ring_close(&r);
}
END_TEST

START_TEST(test_wrap_many_laps)
{
	struct ring r;
	struct ring_scan_info info;
	unsigned char buf[16384];
	open_ring(&r, RING_HDR_SIZE + 16384);
	uint64_t seq = 0, wraps_seen = 0;
	/* Odd sizes so entries land everywhere; keep two batches live. */
	for (int i = 0; i < 200; i++) {
		seq++;
		uint64_t len = frame(buf, seq, 0, 1, 500 + (uint64_t)(i * 397) % 4000,
		                     (unsigned char)seq);
		while (!ring_fits(&r, len))
			ck_assert_int_eq(ring_release(&r, r.q_len ?
			                 ring_batch_at(&r, 0)->seq : 0), 1);
		uint64_t before = r.cur.wpos;
		ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
		if ((before % r.dsize) + ring_entry_size(len) > r.dsize)
			wraps_seen++;
	}
	ck_assert_uint_gt(wraps_seen, 10);
	ck_assert_uint_gt(r.cur.tail, 10 * r.dsize);
	/* Reopen: the scan finds exactly the live batches, in order, and
	 * stops at the tail although older laps left entries behind it. */
	size_t live = r.q_len;
	uint64_t first = ring_batch_at(&r, 0)->seq, tail = r.cur.tail;
	reopen(&r, &info);
	ck_assert_uint_eq(r.q_len, live);
	ck_assert_uint_eq(ring_batch_at(&r, 0)->seq, first);
	ck_assert_uint_eq(ring_batch_at(&r, r.q_len - 1)->seq, 200);
	ck_assert_uint_eq(r.cur.tail, tail);
	for (size_t i = 0; i < r.q_len; i++) {
		const struct ring_batch *b = ring_batch_at(&r, i);
		uint64_t pos = b->start, flen;
		const unsigned char *f = ring_next_frame(&r, &pos, b->end, &flen);
		ck_assert_ptr_nonnull(f);
		const char *why;
		ck_assert_int_eq(mjw_check_frame(f, flen, &why), 0);
		ck_assert_uint_eq(((const struct mjw_hdr *)f)->seq, b->seq);
		/* the data bytes are the seq */
		ck_assert_uint_eq(f[MJW_HDR_SIZE + MJW_REC_SIZE + 8],
		                  (unsigned char)b->seq);
	}
	ring_close(&r);
}
END_TEST

/*
 * PAD entries (a resent batch that an RDMA primary placed in the ring, not
 * logged) among batches, over many laps: every entry lands where
 * mojim_wire.h's rule (the remote writer's) says, a reopened ring finds
 * exactly the live batches and stops at the tail, and the head moves over
 * pads as over batches.
 */
START_TEST(test_pads_follow_the_placement_rule)
{
	struct ring r;
	struct ring_scan_info info;
	unsigned char buf[16384];
	open_ring(&r, RING_HDR_SIZE + 16384);
	uint64_t seq = 0, pads = 0;
	for (int i = 0; i < 300; i++) {
		int pad = i % 3 == 1;
		uint64_t len = frame(buf, pad ? 1 : ++seq, 0, 1,
		                     300 + (uint64_t)(i * 211) % 3000, (unsigned char)i);
		while (!ring_fits(&r, len))
			ck_assert_int_eq(ring_release(&r, r.q_len ?
			                 ring_batch_at(&r, 0)->seq : seq), 1);
		ck_assert(mjw_log_fits(r.cur.wpos, r.cur.head, r.dsize, len));
		uint64_t want = mjw_log_place(r.cur.wpos, r.dsize, len);
		ck_assert_int_eq(ring_queue_reserve(&r), 0);
		unsigned char *dst = ring_reserve(&r, len);
		ck_assert_ptr_eq(dst, r.data + want % r.dsize + MJW_LOG_EHDR);
		memcpy(dst, buf, len);
		struct mjw_hdr h;
		memcpy(&h, buf, sizeof(h));
		if (pad) {
			ck_assert_int_eq(ring_pad(&r, len), 0);
			ring_publish_pad(&r, len);
			pads++;
		} else {
			ck_assert_int_eq(ring_persist(&r, &h), 0);
			ck_assert_int_eq(ring_publish(&r, &h), 1);
		}
		ck_assert_uint_eq(r.cur.wpos, want + mjw_log_entry_size(len));
		ck_assert_uint_eq(r.cur.tail, r.cur.wpos);
	}
	ck_assert_uint_eq(pads, 100);
	ck_assert_uint_gt(r.cur.tail, 10 * r.dsize);
	size_t live = r.q_len;
	uint64_t first = ring_batch_at(&r, 0)->seq, tail = r.cur.tail;
	reopen(&r, &info);
	ck_assert_uint_eq(r.q_len, live);
	ck_assert_uint_eq(info.batches, live);
	ck_assert_uint_eq(ring_batch_at(&r, 0)->seq, first);
	ck_assert_uint_eq(ring_batch_at(&r, r.q_len - 1)->seq, seq);
	ck_assert_uint_eq(r.cur.tail, tail);
	ck_assert_str_eq(info.stop, "end of log");
	/* Everything released: the head reaches the tail, past the last pad. */
	ck_assert_int_eq(ring_release(&r, seq), 1);
	ck_assert_uint_eq(r.cur.head, tail);
	ring_close(&r);
}
END_TEST

START_TEST(test_rewind_partial_batch)
{
	struct ring r;
	struct ring_scan_info info;
	unsigned char buf[16384];
	open_ring(&r, 64 << 10);
	uint64_t len = frame(buf, 1, 0, 1, 200, 1);
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	uint64_t end1 = r.cur.tail;
	len = frame(buf, 2, 0, 0, 200, 2);
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	len = frame(buf, 2, 1, 0, 200, 2);
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	ck_assert_uint_eq(r.q_len, 1);
	ck_assert_uint_eq(r.cur.open, end1);
	/* A scan drops the batch without its LAST fragment... */
	reopen(&r, &info);
	ck_assert_uint_eq(info.batches, 1);
	ck_assert_uint_eq(info.discarded, 2);
	ck_assert_uint_eq(r.cur.tail, end1);
	/* ...and so does a rewind when the connection is lost. */
	len = frame(buf, 2, 0, 0, 200, 2);
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	ring_rewind(&r);
	ck_assert_uint_eq(r.cur.wpos, end1);
	len = frame(buf, 3, 0, 1, 100, 3);
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	reopen(&r, &info);
	ck_assert_uint_eq(info.batches, 2);
	ck_assert_uint_eq(ring_batch_at(&r, 1)->seq, 3);
	ck_assert_uint_eq(ring_batch_at(&r, 1)->start, end1);
	ring_close(&r);
}
END_TEST

START_TEST(test_uncommitted_and_corrupt)
{
	struct ring r;
	struct ring_scan_info info;
	unsigned char buf[16384];
	open_ring(&r, 64 << 10);
	uint64_t len = frame(buf, 1, 0, 1, 200, 1), pos;
	ck_assert_int_eq(ring_append(&r, buf, len, NULL), 0);
	len = frame(buf, 2, 0, 1, 200, 2);
	ck_assert_int_eq(ring_append(&r, buf, len, &pos), 0);
	/* An uncommitted entry: reserved and filled, never persisted. */
	len = frame(buf, 3, 0, 1, 200, 3);
	memcpy(ring_reserve(&r, len), buf, len);
	reopen(&r, &info);
	ck_assert_uint_eq(info.batches, 2);
	ck_assert_str_eq(info.stop, "end of log");
	/* One flipped bit in batch 2: the scan stops before it. */
	ring_frame_ptr(&r, pos)[MJW_HDR_SIZE + MJW_REC_SIZE + 20] ^= 0x10;
	reopen(&r, &info);
	ck_assert_uint_eq(info.batches, 1);
	ck_assert_str_eq(info.stop, "CRC32C mismatch");
	ck_assert_uint_eq(r.cur.tail, pos);
	ring_close(&r);
}
END_TEST

/*
 * A remote writer (an RDMA primary) rewrites entries the mirror already
 * committed: a reader's checked copy (logcopy.c) refuses each kind of
 * change, never reads past the entry, and still reads untouched batches.
 * The rewrites are made after the batches were queued, as a hostile
 * primary would make them after its ack.
 */
START_TEST(test_rewritten_entries_are_refused)
{
	struct ring r;
	unsigned char buf[16384], orig[16384];
	uint64_t pos[9], len = 0, flen;
	const void *f;
	const char *why;
	struct log_copy c = {0};
	open_ring(&r, 64 << 10);
	for (uint64_t s = 1; s <= 8; s++) {
		len = frame(buf, s, 0, 1, 300, (unsigned char)s);
		ck_assert_int_eq(ring_append(&r, buf, len, &pos[s - 1]), 0);
	}
	/* 9: three fragments, the middle one rewritten below. */
	uint64_t fl[3];
	for (uint32_t k = 0; k < 3; k++) {
		fl[k] = frame(buf, 9, k, k == 2, 200, 9);
		ck_assert_int_eq(ring_append(&r, buf, fl[k], k == 1 ? &pos[8] : NULL),
		                 0);
	}
	len = frame(orig, 8, 0, 1, 300, 8); /* batch 8's frame */
	/* 1: one data byte changed. */
	ring_frame_ptr(&r, pos[0])[MJW_HDR_SIZE + MJW_REC_SIZE + 40] ^= 1;
	/* 2: the entry's length made to run past the log's end. */
	((struct ring_ehdr *)(ring_frame_ptr(&r, pos[1]) - RING_EHDR_SIZE))
		->len = r.dsize;
	/* 3: a record's length made huge, the frame resealed (its CRC good). */
	unsigned char *f3 = ring_frame_ptr(&r, pos[2]);
	struct mjw_rec rec;
	memcpy(&rec, f3 + MJW_HDR_SIZE, sizeof(rec));
	rec.len = 1ull << 40;
	memcpy(f3 + MJW_HDR_SIZE, &rec, sizeof(rec));
	mjw_seal(f3);
	/* 4: replaced by batch 8's frame, valid but of another batch. */
	memcpy(ring_frame_ptr(&r, pos[3]), orig, len);
	/* 5: its end mark gone. */
	ring_frame_ptr(&r, pos[4])[len - 8] ^= 0xff; /* in the end mark */
	/* 6: its commit mark replaced by another entry's (here: batch 7's). */
	((struct ring_ehdr *)(ring_frame_ptr(&r, pos[5]) - RING_EHDR_SIZE))
		->commit = ((struct ring_ehdr *)(ring_frame_ptr(&r, pos[6]) -
		                                 RING_EHDR_SIZE))->commit;
	/* 7: an extent past the reader's bound, the frame resealed. */
	unsigned char *f7 = ring_frame_ptr(&r, pos[6]);
	memcpy(&rec, f7 + MJW_HDR_SIZE, sizeof(rec));
	rec.off = 1ull << 30; /* + len: past the bound the reader gives */
	memcpy(f7 + MJW_HDR_SIZE, &rec, sizeof(rec));
	mjw_seal(f7);
	/* 9: its middle fragment's data changed: the whole batch goes. */
	ring_frame_ptr(&r, pos[8])[MJW_HDR_SIZE + MJW_REC_SIZE + 8] ^= 4;
	static const char *const want[] = {
		"CRC32C mismatch",
		"an entry no longer carries the batch's mark or length",
		NULL, "a frame of another batch", "missing end mark",
		"an entry no longer carries the batch's mark or length",
		NULL, NULL, "CRC32C mismatch",
	};
	ck_assert_uint_eq(r.q_len, 9);
	for (size_t i = 0; i < 9; i++) {
		const struct ring_batch *b = ring_batch_at(&r, i);
		why = NULL;
		int rc = log_copy_batch(&c, &r, b, 1ull << 30, &why);
		if (i == 7) { /* untouched: the same bytes, then the end */
			size_t off = 0;
			ck_assert_int_eq(rc, 0);
			ck_assert_int_eq(log_copy_frame(&c, &off, &f, &flen), 1);
			ck_assert_uint_eq(flen, len);
			ck_assert_int_eq(memcmp(f, orig, len), 0);
			ck_assert_ptr_ne(f, ring_frame_ptr(&r, pos[7]));
			ck_assert_int_eq(log_copy_frame(&c, &off, &f, &flen), 0);
			continue;
		}
		ck_assert_msg(rc == -EBADMSG, "batch %zu: %d", i + 1, rc);
		ck_assert_ptr_nonnull(why);
		if (want[i])
			ck_assert_str_eq(why, want[i]);
		if (i == 6)
			ck_assert_msg(strstr(why, "over --max-file-size") != NULL,
			              "batch 7: %s", why);
	}
	log_copy_free(&c);
	ring_close(&r);
}
END_TEST

/* Two rings of 16 KiB: batches 1..6 alternate between them, one-frame
 * batches of 1000 bytes, except that ring 1 gets 6 before 4 (a resend
 * behind a later batch). */
static void two_rings(struct ring *r0, struct ring *r1)
{
	char path1[600];
	const char *why = NULL;
	unsigned char buf[4096];
	snprintf(path1, sizeof(path1), "%s/ring-1", tmpdir);
	open_ring(r0, RING_HDR_SIZE + 16384);
	ck_assert_int_eq(ring_open(r1, path1, 1, RING_HDR_SIZE + 16384, &why), 0);
	static const uint64_t order[] = {1, 2, 3, 6, 5, 4};
	for (int i = 0; i < 6; i++) {
		uint64_t seq = order[i];
		uint64_t len = frame(buf, seq, 0, 1, 1000, (unsigned char)seq);
		ck_assert_int_eq(ring_append(seq % 2 ? r0 : r1, buf, len, NULL), 0);
	}
	ck_assert_uint_eq(r0->q_len, 3); /* 1 3 5 */
	ck_assert_uint_eq(r1->q_len, 3); /* 2 6 4 */
}

/* Every reader finds 1..6 in order with the same function, from its own
 * cursor, whatever the others did. */
START_TEST(test_pick_across_rings)
{
	struct ring r0, r1;
	two_rings(&r0, &r1);
	struct ring *rings[3] = {&r0, NULL, &r1};
	struct ring_batch b;
	for (uint64_t seq = 1; seq <= 6; seq++) {
		struct ring *r = log_pick(rings, 3, seq, &b);
		ck_assert_ptr_eq(r, seq % 2 ? &r0 : &r1);
		ck_assert_uint_eq(b.seq, seq);
		uint64_t pos = b.start, len;
		const unsigned char *f = ring_next_frame(r, &pos, b.end, &len);
		ck_assert_ptr_nonnull(f);
		ck_assert_uint_eq(((const struct mjw_hdr *)f)->seq, seq);
	}
	ck_assert_ptr_null(log_pick(rings, 3, 7, &b));
	ck_assert_ptr_null(log_pick(rings, 3, 0, &b));
	ring_close(&r0);
	ring_close(&r1);
}
END_TEST

/* The heads move to the slowest live reader's cursor: a reader that lags
 * keeps its batches in the log, however far the checkpointer went. */
START_TEST(test_readers_hold_the_head)
{
	struct ring r0, r1;
	two_rings(&r0, &r1);
	struct ring *rings[2] = {&r0, &r1};
	struct log_readers rs;
	log_readers_init(&rs, 0);
	int backup = log_reader_add(&rs, 0);
	ck_assert_int_gt(backup, LOG_READER_CKPT);
	uint64_t used0 = ring_used(&r0), used1 = ring_used(&r1);

	/* The checkpointer applied everything: the backup holds it all. */
	log_reader_advance(&rs, LOG_READER_CKPT, 6);
	ck_assert_uint_eq(log_readers_min(&rs), 0);
	ck_assert_int_eq(log_release(rings, 2, &rs), 0);
	ck_assert_uint_eq(ring_used(&r0), used0);
	ck_assert_uint_eq(ring_used(&r1), used1);

	/* The backup is done up to 3: 1, 2 and 3 go, 6 4 stays behind... */
	log_reader_advance(&rs, backup, 3);
	ck_assert_int_eq(log_release(rings, 2, &rs), 1);
	ck_assert_uint_eq(r0.q_len, 1); /* 5 */
	ck_assert_uint_eq(r1.q_len, 2); /* 6 4 */
	ck_assert_uint_eq(r0.hdr->head, ring_batch_at(&r0, 0)->start);
	ck_assert_uint_eq(r1.hdr->head, ring_batch_at(&r1, 0)->start);
	/* ...and the backup still finds 4 and 5 with the pick. */
	struct ring_batch b;
	ck_assert_ptr_eq(log_pick(rings, 2, 4, &b), &r1);
	ck_assert_ptr_eq(log_pick(rings, 2, 5, &b), &r0);

	/* A cursor never moves back. */
	log_reader_advance(&rs, backup, 1);
	ck_assert_uint_eq(log_reader_done(&rs, backup), 3);

	/* A second reader registered now holds from where it starts. */
	int late = log_reader_add(&rs, 4);
	ck_assert_int_ge(late, 0);
	log_reader_advance(&rs, backup, 6);
	ck_assert_uint_eq(log_readers_min(&rs), 4);
	/* 4 is done by all, but it lies behind 6, which is not: a head
	 * only moves over a ring's front. */
	ck_assert_int_eq(log_release(rings, 2, &rs), 0);
	ck_assert_uint_eq(r0.q_len, 1); /* 5 */
	ck_assert_uint_eq(r1.q_len, 2); /* 6 4 */

	/* The other readers go: the checkpointer alone, the log is empty. */
	log_reader_remove(&rs, late);
	log_reader_remove(&rs, backup);
	log_reader_remove(&rs, LOG_READER_CKPT); /* stays registered */
	ck_assert_uint_eq(log_readers_min(&rs), 6);
	ck_assert_int_eq(log_release(rings, 2, &rs), 1);
	ck_assert_uint_eq(ring_used(&r0), 0);
	ck_assert_uint_eq(ring_used(&r1), 0);

	/* At most LOG_READERS_MAX readers. */
	int n = 1;
	while (log_reader_add(&rs, 6) >= 0)
		n++;
	ck_assert_int_eq(n, LOG_READERS_MAX);
	ck_assert_int_eq(log_reader_add(&rs, 6), -ENOSPC);
	ring_close(&r0);
	ring_close(&r1);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("ring");
	TCase *tc = tcase_create("ring");
	tcase_add_unchecked_fixture(tc, make_base, remove_base);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_append_and_scan);
	tcase_add_test(tc, test_full_and_free);
	tcase_add_test(tc, test_wrap_many_laps);
	tcase_add_test(tc, test_rewind_partial_batch);
	tcase_add_test(tc, test_pads_follow_the_placement_rule);
	tcase_add_test(tc, test_uncommitted_and_corrupt);
	tcase_add_test(tc, test_rewritten_entries_are_refused);
	tcase_add_test(tc, test_pick_across_rings);
	tcase_add_test(tc, test_readers_hold_the_head);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
