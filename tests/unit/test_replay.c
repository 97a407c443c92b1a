/*
 * test_replay.c: replay at start applies exactly the complete batches, in
 * sequence order across rings, and nothing torn, corrupt or incomplete.
 *
 * Rings are built with the ring API from real frames (mjw_put_hdr,
 * mjw_put_rec, mjw_seal), then a mirror is opened on the directory and
 * replayed, and the replica directory is compared byte for byte.
 */
#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#include "mirror.h"
#include "mojim_wire.h"
#include "ring.h"

static char tmpdir[256];
static struct ring rings[2];

static int rm_one(const char *p, const struct stat *st, int flag, struct FTW *f)
{
	(void)st; (void)flag; (void)f;
	return remove(p);
}

static void open_rings(void)
{
	char path[512];
	const char *why = NULL;
	for (int k = 0; k < 2; k++) {
		snprintf(path, sizeof(path), "%s/log/ring-%d", tmpdir, k);
		ck_assert_int_eq(ring_open(&rings[k], path, k, 1 << 20, &why), 0);
		struct ring_scan_info info;
		ck_assert_int_eq(ring_scan(&rings[k], &info), 0);
	}
}

static void close_rings(void)
{
	for (int k = 0; k < 2; k++)
		ring_close(&rings[k]);
}

/*
 * Each test's directory lives in one per-run directory that the parent
 * process (an unchecked fixture) removes, so a failed check, which ends
 * the forked test before its teardown, leaves nothing behind.
 */
static char basedir[128];

static void make_base(void)
{
	snprintf(basedir, sizeof(basedir), "/dev/shm/mojim-test-replay-XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(basedir));
}

static void remove_base(void)
{
	nftw(basedir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

static void setup(void)
{
	char path[512];
	snprintf(tmpdir, sizeof(tmpdir), "%s/t-XXXXXX", basedir);
	ck_assert_ptr_nonnull(mkdtemp(tmpdir));
	snprintf(path, sizeof(path), "%s/log", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	open_rings();
}

static void teardown(void)
{
	nftw(tmpdir, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

struct rec {
	enum mjw_rec_type type;
	const char *name, *name2;
	uint64_t off, len;
	const char *data; /* WRITE: len bytes */
};

/* Builds one BATCH fragment from recs into buf; returns its length. */
static uint64_t build(unsigned char *buf, uint64_t seq, uint32_t frag,
                      int last, const struct rec *recs, int n)
{
	uint64_t pos = MJW_HDR_SIZE;
	for (int i = 0; i < n; i++) {
		const struct rec *r = &recs[i];
		uint64_t dlen = r->type == MJW_REC_WRITE ? r->len : 0;
		pos += mjw_put_rec(buf + pos, r->type, r->name, r->name2, r->off,
		                   r->len, r->data, dlen);
	}
	uint64_t len = pos + MJW_TRAILER_SIZE;
	mjw_put_hdr(buf, MJW_BATCH, last ? MJW_F_LAST : 0, (uint32_t)n, frag, 1,
	            seq, len, pos - MJW_HDR_SIZE);
	mjw_seal(buf);
	const char *why;
	ck_assert_int_eq(mjw_check_frame(buf, len, &why), 0);
	return len;
}

/* Appends one fragment to ring k; returns the entry's position. */
static uint64_t put(int k, uint64_t seq, uint32_t frag, int last,
                    const struct rec *recs, int n)
{
	unsigned char buf[8192];
	uint64_t len = build(buf, seq, frag, last, recs, n), pos;
	ck_assert_int_eq(ring_append(&rings[k], buf, len, &pos), 0);
	return pos;
}

#define W(n, o, s) {MJW_REC_WRITE, n, NULL, o, sizeof(s) - 1, s}
#define C(n) {MJW_REC_CREATE, n, NULL, 0, 0, NULL}
#define SZ(n, l) {MJW_REC_SETSIZE, n, NULL, 0, l, NULL}
#define MV(a, b) {MJW_REC_RENAME, a, b, 0, 0, NULL}
#define RM(n) {MJW_REC_REMOVE, n, NULL, 0, 0, NULL}
#define MD(n) {MJW_REC_MKDIR, n, NULL, 0, 0, NULL}

/* Batches 1..5 over two rings, some in several fragments. */
static void put_good_batches(void)
{
	struct rec b1[] = {C("a"), W("a", 0, "hello")};
	struct rec b2a[] = {MD("d"), W("d/x", 0, "AAAA")};
	struct rec b2b[] = {W("d/x", 2, "BB")};
	struct rec b3a[] = {W("b", 0, "one")};
	struct rec b3b[] = {W("b", 3, "two")};
	struct rec b3c[] = {MV("b", "c")};
	struct rec b4[] = {W("a", 5, " world"), RM("gone")};
	struct rec b5[] = {SZ("a", 8), C("empty")};
	put(0, 1, 0, 1, b1, 2);
	put(1, 2, 0, 0, b2a, 2);
	put(1, 2, 1, 1, b2b, 1);
	put(0, 3, 0, 0, b3a, 1);
	put(0, 3, 1, 0, b3b, 1);
	put(0, 3, 2, 1, b3c, 1);
	put(1, 4, 0, 1, b4, 2);
	put(0, 5, 0, 1, b5, 2);
}

/* Batch seq on ring k that must never show up in the replica. */
static uint64_t put_poison(int k, uint64_t seq)
{
	struct rec r[] = {W("a", 0, "POISONED"), C("poison")};
	return put(k, seq, 0, 1, r, 2);
}

static void open_mirror(struct mirror *m);

static uint64_t replay(void)
{
	static struct mirror m;
	const char *why = "";
	open_mirror(&m);
	ck_assert_msg(mirror_replay(&m, &why) == 0, "replay: %s", why);
	uint64_t applied = m.applied_seq;
	ck_assert_uint_eq(m.state.d->applied_seq, applied);
	mirror_close(&m);
	open_rings();
	return applied;
}

/* Asserts that data/name holds exactly len bytes equal to want. */
static void expect_file(const char *name, const char *want, size_t len)
{
	char path[512], got[256];
	snprintf(path, sizeof(path), "%s/data/%s", tmpdir, name);
	int fd = open(path, O_RDONLY);
	ck_assert_msg(fd >= 0, "%s missing", name);
	ssize_t n = read(fd, got, sizeof(got));
	close(fd);
	ck_assert_int_eq(n, (ssize_t)len);
	ck_assert_msg(memcmp(got, want, len) == 0, "%s: wrong bytes", name);
}

static void expect_missing(const char *name)
{
	char path[512];
	struct stat st;
	snprintf(path, sizeof(path), "%s/data/%s", tmpdir, name);
	ck_assert_msg(lstat(path, &st) != 0 && errno == ENOENT,
	              "%s should not exist", name);
}

/* The replica after batches 1..5 and nothing else. */
static void expect_state5(void)
{
	expect_file("a", "hello wo", 8);
	expect_file("d/x", "AABB", 4);
	expect_file("c", "onetwo", 6);
	expect_file("empty", "", 0);
	expect_missing("b");
	expect_missing("poison");
}

START_TEST(test_complete_batches)
{
	put_good_batches();
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
	/* A second replay finds nothing new and changes nothing. */
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
}
END_TEST

/* Rewinds the persisted applied_seq, as a crash before it was stored. */
static void rewind_applied(uint64_t seq)
{
	char path[512];
	struct state st;
	const char *why;
	snprintf(path, sizeof(path), "%s/state", tmpdir);
	ck_assert_int_eq(state_open(&st, path, &why), 0);
	state_set_applied(&st, seq);
	state_close(&st);
}

/*
 * A batch that renames a file away and reuses its name, re-run after a
 * crash that came after it was applied but before applied_seq was stored:
 * replaying the rename would move the new file over the renamed one.
 */
START_TEST(test_rename_then_reuse_replays_once)
{
	struct rec b1[] = {C("a"), W("a", 0, "old")};
	struct rec b2[] = {MV("a", "b"), C("a"), W("a", 0, "new")};
	put(0, 1, 0, 1, b1, 2);
	put(0, 2, 0, 1, b2, 3);
	ck_assert_uint_eq(replay(), 2);
	expect_file("b", "old", 3);
	expect_file("a", "new", 3);
	/* The crash: applied_seq back to 1 and batch 2 still in the log (the
	 * ring head moved on, so log it again, as a resend would). */
	rewind_applied(1);
	put(0, 2, 0, 1, b2, 3);
	ck_assert_uint_eq(replay(), 2);
	expect_file("b", "old", 3);
	expect_file("a", "new", 3);
}
END_TEST

START_TEST(test_missing_last_fragment)
{
	put_good_batches();
	struct rec r[] = {W("a", 0, "POISONED"), C("poison")};
	put(1, 6, 0, 0, r, 2); /* no LAST */
	put_poison(0, 7);      /* complete, but after the gap at 6 */
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
	/* The primary resends 6 on ring 1: the dropped fragment is gone, 6
	 * and then 7 apply. */
	struct rec six[] = {C("six")};
	put(1, 6, 0, 1, six, 1);
	ck_assert_uint_eq(replay(), 7);
	expect_file("six", "", 0);
	expect_file("a", "POISONED", 8);
	expect_file("poison", "", 0);
}
END_TEST

START_TEST(test_flipped_bit)
{
	put_good_batches();
	uint64_t pos = put_poison(1, 6);
	put_poison(0, 7);
	/* One bit of the data of a committed entry. */
	ring_frame_ptr(&rings[1], pos)[MJW_HDR_SIZE + MJW_REC_SIZE + 3] ^= 4;
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
}
END_TEST

START_TEST(test_missing_end_mark)
{
	put_good_batches();
	unsigned char buf[8192];
	struct rec r[] = {W("a", 0, "POISONED"), C("poison")};
	uint64_t len = build(buf, 6, 0, 1, r, 2);
	memset(buf + len - 8, 0, 8); /* the end mark, CRC left intact */
	ck_assert_int_eq(ring_append(&rings[0], buf, len, NULL), 0);
	put_poison(1, 7);
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
}
END_TEST

START_TEST(test_truncated_entry)
{
	put_good_batches();
	unsigned char buf[8192];
	struct rec r[] = {W("a", 0, "POISONED"), C("poison")};
	uint64_t len = build(buf, 6, 0, 1, r, 2);
	/* The entry holds only the first len - 24 bytes of the frame. */
	ck_assert_int_eq(ring_append(&rings[1], buf, len - 24, NULL), 0);
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
}
END_TEST

START_TEST(test_uncommitted_entry)
{
	put_good_batches();
	unsigned char buf[8192];
	struct rec r[] = {W("a", 0, "POISONED"), C("poison")};
	uint64_t len = build(buf, 6, 0, 1, r, 2);
	memcpy(ring_reserve(&rings[0], len), buf, len); /* never committed */
	ck_assert_uint_eq(replay(), 5);
	expect_state5();
}
END_TEST

START_TEST(test_gap_stops)
{
	struct rec one[] = {W("g", 0, "1111")};
	struct rec two[] = {W("g", 0, "2222")};
	struct rec four[] = {W("g", 0, "4444")};
	put(0, 1, 0, 1, one, 1);
	put(1, 2, 0, 1, two, 1);
	put(0, 4, 0, 1, four, 1);
	ck_assert_uint_eq(replay(), 2);
	expect_file("g", "2222", 4);
	/* 3 arrives: 3 and 4 apply, in order. */
	struct rec three[] = {W("g", 0, "3333"), C("three")};
	put(1, 3, 0, 1, three, 2);
	ck_assert_uint_eq(replay(), 4);
	expect_file("g", "4444", 4);
	expect_file("three", "", 0);
}
END_TEST

START_TEST(test_resends_out_of_order)
{
	/* Ring 0 holds 3 then a resent 2; ring 1 holds 1 and a duplicate 3. */
	struct rec r1[] = {W("s", 0, "1")};
	struct rec r2[] = {W("s", 1, "2")};
	struct rec r3[] = {W("s", 2, "3")};
	struct rec dup[] = {W("s", 0, "X")};
	put(0, 3, 0, 1, r3, 1);
	put(0, 2, 0, 1, r2, 1);
	put(1, 1, 0, 1, r1, 1);
	put(1, 3, 0, 1, dup, 1);
	ck_assert_uint_eq(replay(), 3);
	expect_file("s", "123", 3);
	/* Everything was released: the heads reached the tails. */
	ck_assert_uint_eq(rings[0].hdr->head, rings[0].cur.tail);
	ck_assert_uint_eq(rings[1].hdr->head, rings[1].cur.tail);
}
END_TEST

START_TEST(test_names_stay_inside)
{
	/* A symlink planted in the replica must not be followed. */
	char path[512], target[512];
	snprintf(path, sizeof(path), "%s/data", tmpdir);
	mkdir(path, 0755);
	snprintf(target, sizeof(target), "%s/outside", tmpdir);
	snprintf(path, sizeof(path), "%s/data/link", tmpdir);
	ck_assert_int_eq(symlink(target, path), 0);
	struct rec r1[] = {W("link", 0, "evil")};
	struct rec r2[] = {W("ok", 0, "fine")};
	put(0, 1, 0, 1, r1, 1);
	put(0, 2, 0, 1, r2, 1);
	/* The record contradicts the replica: it fails, is reported (not
	 * retried, no disk space would change it), and batch 2 applies. */
	ck_assert_uint_eq(replay(), 2);
	struct stat st;
	ck_assert_int_ne(lstat(target, &st), 0);
	expect_file("ok", "fine", 4);
}
END_TEST

static const struct mirror_cfg test_cfg = {
	.log_size = 1 << 20, .slot_size = 64 << 10, .ckpt_thresh = 1,
	.ckpt_idle_ms = 10, .hb_timeout_ms = 1000, .quiet = 1,
};

/* Opens the mirror on tmpdir with the test rings closed. */
static void open_mirror(struct mirror *m)
{
	struct mirror_cfg cfg = test_cfg;
	const char *why = "";
	cfg.dir = tmpdir;
	close_rings();
	ck_assert_msg(mirror_open(m, &cfg, &why) == 0, "mirror_open: %s", why);
}

/* Progress inside a batch of the replica a copy replaces: batch 2 of the
 * old numbering was 2 records in when the copy came. */
static void old_partial(struct mirror *m)
{
	ck_assert_int_eq(state_set_partial(&m->state, 2, 2), 0);
}

/* Batch 2 of the primary after a full copy at seq 1: all three records
 * must apply, none taken for the old batch 2's progress. */
static void expect_batch2_whole(void)
{
	open_rings();
	struct rec b2[] = {C("a"), W("a", 0, "xy"), C("b")};
	put(0, 2, 0, 1, b2, 3);
	ck_assert_uint_eq(replay(), 2);
	expect_file("a", "xy", 2);
	expect_file("b", "", 0);
}

START_TEST(test_copy_resets_partial)
{
	static struct mirror m;
	const char *why = "";
	open_mirror(&m);
	old_partial(&m);
	ck_assert_int_eq(copy_begin(&m, 0, &why), 0);
	ck_assert_msg(copy_done(&m, 1, &why) == 0, "copy_done: %s", why);
	mirror_close(&m);
	expect_batch2_whole();
}
END_TEST

START_TEST(test_copy_recover_resets_partial)
{
	/* A crash inside the swap: the state says COPY_SWITCH at seq 1, the
	 * staged copy is complete; the next open finishes it. */
	static struct mirror m;
	char path[512];
	open_mirror(&m);
	old_partial(&m);
	ck_assert_int_eq(state_set(&m.state, &m.state.d->copy_seq, 1), 0);
	ck_assert_int_eq(state_set(&m.state, &m.state.d->copy_state,
	                           COPY_SWITCH), 0);
	mirror_close(&m);
	snprintf(path, sizeof(path), "%s/data.stage", tmpdir);
	ck_assert_int_eq(mkdir(path, 0755), 0);
	open_mirror(&m);
	ck_assert_uint_eq(m.state.d->copy_state, COPY_NONE);
	ck_assert_uint_eq(m.applied_seq, 1);
	mirror_close(&m);
	expect_batch2_whole();
}
END_TEST

/* Logs a one-fragment batch on ring k of a live mirror and runs the
 * checkpointer, as a receiver would. */
static void log_and_apply(struct mirror *m, int k, uint64_t seq,
                          const struct rec *recs, int n)
{
	unsigned char buf[8192];
	const char *why = "";
	uint64_t len = build(buf, seq, 0, 1, recs, n);
	struct ring *r = mirror_ring(m, k, &why);
	ck_assert_msg(r != NULL, "ring %d: %s", k, why);
	pthread_mutex_lock(&m->lock);
	ck_assert_int_eq(ring_append(r, buf, len, NULL), 0);
	mirror_batch_logged(m, seq);
	ckpt_run(m);
	pthread_mutex_unlock(&m->lock);
}

/*
 * A full copy may land below what was applied (a primary numbering behind
 * the mirror): the checkpointer's cursor goes back with applied_seq, or
 * the first batch applied after the copy frees log space up to the old
 * cursor, batches not applied yet among it (found by review: the cursor
 * only moved forward, batch 5 below was dropped and applying stopped at 4).
 */
START_TEST(test_copy_below_applied_keeps_later_batches)
{
	static struct mirror m;
	const char *why = "";
	put_good_batches();
	open_mirror(&m);
	ck_assert_msg(mirror_replay(&m, &why) == 0, "replay: %s", why);
	ck_assert_uint_eq(m.applied_seq, 5);
	ck_assert_int_eq(copy_begin(&m, 0, &why), 0);
	ck_assert_msg(copy_done(&m, 2, &why) == 0, "copy_done: %s", why);
	ck_assert_uint_eq(m.applied_seq, 2);
	struct rec b3[] = {C("n"), W("n", 0, "three")};
	struct rec b4[] = {W("n", 5, "four")};
	struct rec b5[] = {W("n", 9, "five")};
	log_and_apply(&m, 0, 3, b3, 2);
	log_and_apply(&m, 1, 5, b5, 1); /* behind a gap: waits for 4 */
	ck_assert_uint_eq(m.applied_seq, 3);
	log_and_apply(&m, 0, 4, b4, 1);
	ck_assert_uint_eq(m.applied_seq, 5);
	mirror_close(&m);
	expect_file("n", "threefourfive", 13);
}
END_TEST

/*
 * A promotion whose connections do not close (a receiver stuck in a
 * kernel call) fails with EBUSY: nothing may be left promoted, in memory
 * or on media, so primaries are still served. The stuck connection is a
 * count nobody gives back.
 */
START_TEST(test_failed_promote_changes_nothing)
{
	static struct mirror m;
	char msg[1024];
	open_mirror(&m);
	uint64_t epoch = m.epoch;
	pthread_mutex_lock(&m.lock);
	m.nconns = 1;
	pthread_mutex_unlock(&m.lock);
	ck_assert_int_eq(mirror_promote(&m, 1, 0, msg, sizeof(msg)), -EBUSY);
	ck_assert_msg(strstr(msg, "did not close"), "message: %s", msg);
	ck_assert_int_eq(m.promoted, 0);
	ck_assert_uint_eq(m.state.d->promoted, 0);
	ck_assert_uint_eq(m.epoch, epoch);
	ck_assert_uint_eq(m.state.d->epoch, epoch);
	m.nconns = 0;
	mirror_close(&m);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("replay");
	TCase *tc = tcase_create("replay");
	tcase_add_unchecked_fixture(tc, make_base, remove_base);
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, test_complete_batches);
	tcase_add_test(tc, test_rename_then_reuse_replays_once);
	tcase_add_test(tc, test_missing_last_fragment);
	tcase_add_test(tc, test_flipped_bit);
	tcase_add_test(tc, test_missing_end_mark);
	tcase_add_test(tc, test_truncated_entry);
	tcase_add_test(tc, test_uncommitted_entry);
	tcase_add_test(tc, test_gap_stops);
	tcase_add_test(tc, test_resends_out_of_order);
	tcase_add_test(tc, test_names_stay_inside);
	tcase_add_test(tc, test_copy_resets_partial);
	tcase_add_test(tc, test_copy_recover_resets_partial);
	tcase_add_test(tc, test_copy_below_applied_keeps_later_batches);
	tcase_add_test(tc, test_failed_promote_changes_nothing);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
