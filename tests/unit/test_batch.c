/*
 * test_batch.c: libmojim's batch builder and region bookkeeping, without a
 * mirror (unreplicated mode on a real libpmem mapping under /dev/shm).
 */
#include "internal.h"

#include <check.h>
#include "check_run.h"
#include <errno.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static char dir[64];

static void setup(void)
{
	strcpy(dir, "/dev/shm/mojim-test-batch.XXXXXX");
	ck_assert_ptr_nonnull(mkdtemp(dir));
}

static void teardown(void)
{
	char cmd[128];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	ck_assert_int_eq(system(cmd), 0);
}

/* Walks the frames of a sealed batch, checking each, and rebuilds the
 * data of its WRITE records into out (indexed by file offset). */
static uint32_t walk_frames(struct mj_batch *b, unsigned char *out,
                            uint64_t out_len, uint32_t *nrec_out)
{
	uint64_t pos = 0;
	uint32_t frames = 0, nrec = 0;
	while (pos < b->buf.len) {
		const char *why = NULL;
		struct mjw_hdr h;
		memcpy(&h, b->buf.p + pos, sizeof(h));
		ck_assert_uint_le(h.len, b->slot);
		ck_assert_msg(mjw_check_frame(b->buf.p + pos, h.len, &why) == 0,
		              "frame %u: %s", frames, why);
		ck_assert_uint_eq(h.frag, frames);
		ck_assert_uint_eq(h.seq, b->seq);
		ck_assert_uint_eq(h.total, b->payload);
		int last = pos + h.len == b->buf.len;
		ck_assert_uint_eq(h.flags, last ? MJW_F_LAST : 0);
		uint64_t rp = 0;
		struct mjw_rec_view v;
		while (mjw_rec_next(b->buf.p + pos, &rp, &v)) {
			nrec++;
			if (v.type == MJW_REC_WRITE) {
				ck_assert_uint_le(v.off + v.len, out_len);
				memcpy(out + v.off, v.data, v.len);
			}
		}
		pos += h.len;
		frames++;
	}
	*nrec_out = nrec;
	return frames;
}

START_TEST(big_write_is_cut_into_fragments)
{
	uint64_t len = 200 * 1024 + 13;
	unsigned char *src = malloc(len), *out = calloc(1, len + 100);
	for (uint64_t i = 0; i < len; i++)
		src[i] = (unsigned char)(i * 31 + 7);
	struct mj_batch *b = mj_batch_new(42, MJW_FRAME_MIN_SLOT);
	struct mj_buf ns = {0};
	ck_assert_int_eq(mj_buf_add_rec(&ns, MJW_REC_CREATE, "f", NULL, 0, 0), 0);
	ck_assert_int_eq(mj_buf_add_rec(&ns, MJW_REC_SETSIZE, "f", NULL, 0, len + 100), 0);
	ck_assert_int_eq(mj_batch_add_records(b, &ns), 0);
	ck_assert_int_eq(mj_batch_add_write(b, "f", 0, src, len), 0);
	ck_assert_int_eq(mj_batch_add_write(b, "f", len + 1, "xy", 2), 0);
	ck_assert_int_eq(mj_batch_seal(b, 1, 7, 0), 0);
	uint32_t nrec;
	uint32_t frames = walk_frames(b, out, len + 100, &nrec);
	ck_assert_uint_ge(frames, 4); /* 200 KiB over 64 KiB slots */
	ck_assert_uint_ge(nrec, 2 + 4);
	ck_assert_mem_eq(out, src, len);
	ck_assert_mem_eq(out + len + 1, "xy", 2);
	mj_batch_free(b);
	mj_buf_free(&ns);
	free(src);
	free(out);
}
END_TEST

START_TEST(small_batch_is_one_frame)
{
	struct mj_batch *b = mj_batch_new(7, MJW_FRAME_MIN_SLOT);
	unsigned char out[64] = {0};
	ck_assert_int_eq(mj_batch_add_write(b, "a/b", 3, "hello", 5), 0);
	ck_assert_int_eq(mj_batch_seal(b, 1, 7, 0), 0);
	uint32_t nrec;
	ck_assert_uint_eq(walk_frames(b, out, sizeof(out), &nrec), 1);
	ck_assert_uint_eq(nrec, 1);
	ck_assert_mem_eq(out + 3, "hello", 5);
	mj_batch_free(b);
}
END_TEST

static mj_region *open_unreplicated(void)
{
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	cfg.mode = MJ_MODE_UNREPLICATED;
	mj_region *r = NULL;
	ck_assert_int_eq(mj_region_open(dir, &cfg, &r), 0);
	return r;
}

/* The record types queued in pending_ns, in order, as a string. */
static void pending_types(mj_region *r, char *out)
{
	uint64_t pos = 0;
	struct mjw_rec rec;
	while (pos < r->pending_ns.len) {
		memcpy(&rec, r->pending_ns.p + pos, sizeof(rec));
		*out++ = "?WCSRDM"[rec.type];
		pos += mjw_rec_size(rec.name_len, rec.name2_len, 0);
	}
	*out = '\0';
}

START_TEST(namespace_changes_queue_in_order)
{
	mj_region *r = open_unreplicated();
	mj_file *f;
	char types[32];
	ck_assert_int_eq(mj_mkdir(r, "d"), 0);
	ck_assert_int_eq(mj_file_open(r, "d/x", MJ_O_CREATE, &f), 0);
	ck_assert_int_eq(mj_file_resize(f, 10000), 0);
	ck_assert_int_eq(mj_rename(r, "d/x", "d/y"), 0);
	ck_assert_str_eq(mj_file_name(f), "d/y");
	ck_assert_int_eq(mj_file_resize(f, 100), 0);
	pending_types(r, types);
	ck_assert_str_eq(types, "MCSRS"); /* mkdir create setsize rename setsize */
	ck_assert_int_eq(mj_gmsync(r, NULL, 0, 0), 0);
	ck_assert_uint_eq(r->pending_ns.len, 0);
	ck_assert_int_eq(mj_file_close(f), 0);
	ck_assert_int_eq(mj_remove(r, "d/y"), 0);
	pending_types(r, types);
	ck_assert_str_eq(types, "D");
	ck_assert_int_eq(mj_region_close(r), 0);
}
END_TEST

START_TEST(bad_names_and_ranges_are_refused)
{
	mj_region *r = open_unreplicated();
	mj_file *f;
	ck_assert_int_eq(mj_file_open(r, "../x", MJ_O_CREATE, &f), -EINVAL);
	ck_assert_int_eq(mj_file_open(r, "/etc/passwd", 0, &f), -EINVAL);
	ck_assert_int_eq(mj_file_open(r, "nope", 0, &f), -ENOENT);
	ck_assert_int_eq(mj_file_open(r, "f", MJ_O_CREATE, &f), 0);
	ck_assert_int_eq(mj_file_resize(f, 4096), 0);
	ck_assert_int_eq(mj_msync(r, f, 4000, 97, 0), -EINVAL);
	ck_assert_int_eq(mj_msync(r, f, UINT64_MAX, 2, 0), -EINVAL);
	ck_assert_int_eq(mj_msync(r, f, 4000, 96, 0), 0);
	mj_file *g;
	ck_assert_int_eq(mj_file_open(r, "f", MJ_O_CREATE | MJ_O_EXCL, &g), -EEXIST);
	ck_assert_int_eq(mj_file_open(r, "f", 0, &g), 0);
	ck_assert_ptr_eq(g, f); /* one mapping per file */
	ck_assert_int_eq(mj_file_close(g), 0);
	ck_assert_int_eq(mj_file_close(f), 0);
	ck_assert_int_eq(mj_region_close(r), 0);
}
END_TEST

START_TEST(grow_keeps_old_mapping_readable)
{
	mj_region *r = open_unreplicated();
	mj_file *f;
	ck_assert_int_eq(mj_file_open(r, "g", MJ_O_CREATE, &f), 0);
	ck_assert_int_eq(mj_file_resize(f, 4096), 0);
	char *old = mj_file_base(f);
	memcpy(old, "persist", 7);
	ck_assert_int_eq(mj_file_resize(f, 8 << 20), 0);
	char *now = mj_file_base(f);
	ck_assert_uint_eq(mj_file_size(f), 8 << 20);
	ck_assert_mem_eq(now, "persist", 7);
	now[1] = 'E'; /* the same pages under both mappings */
	ck_assert_int_eq(old[1], 'E');
	ck_assert_int_eq(mj_msync(r, f, 0, 8 << 20, 0), 0);
	ck_assert_int_eq(mj_file_close(f), 0);
	ck_assert_int_eq(mj_region_close(r), 0);
}
END_TEST

START_TEST(replicated_mode_without_mirror)
{
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	mj_region *r = NULL;
	/* No address: refused. A closed port under block: refused at open. */
	ck_assert_int_eq(mj_region_open(dir, &cfg, &r), -EINVAL);
	cfg.mirror = "127.0.0.1:1";
	cfg.connect_timeout_ms = 500;
	ck_assert_int_lt(mj_region_open(dir, &cfg, &r), 0);
	/* Under degrade it opens, degraded, and sync points flush locally. */
	cfg.policy = MJ_POLICY_DEGRADE;
	ck_assert_int_eq(mj_region_open(dir, &cfg, &r), 0);
	struct mj_status st;
	mj_region_status(r, &st);
	ck_assert_int_eq(st.degraded, 1);
	ck_assert_int_eq(mj_gmsync(r, NULL, 0, 0), 0);
	ck_assert_int_eq(mj_region_close(r), 0);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("batch");
	TCase *tc = tcase_create("core");
	tcase_add_checked_fixture(tc, setup, teardown);
	tcase_add_test(tc, big_write_is_cut_into_fragments);
	tcase_add_test(tc, small_batch_is_one_frame);
	tcase_add_test(tc, namespace_changes_queue_in_order);
	tcase_add_test(tc, bad_names_and_ranges_are_refused);
	tcase_add_test(tc, grow_keeps_old_mapping_readable);
	tcase_add_test(tc, replicated_mode_without_mirror);
	suite_add_tcase(s, tc);
	return check_run(s);
}
