/*
 * test_wire.c: the batch format as the mirror's only defence (DESIGN.md
 * invariants 2 and 5). A frame that is damaged in any way must fail
 * mjw_check_frame, and a frame that passes must never lead mjw_rec_next
 * outside its bytes.
 *
 * Every frame handed to mjw_check_frame is first copied into a heap block
 * of exactly its length, so that under ASan a read one byte past the end
 * is a crash, not a silent pass.
 */
#include "mojim_wire.h"

#include <check.h>
#include "check_run.h"
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define BUF_MAX 8192

/* ---- helpers --------------------------------------------------------- */

/* Bitwise CRC32C, independent of isa-l, to compare against. */
static uint32_t ref_crc32c(uint32_t crc, const void *buf, size_t len)
{
	const unsigned char *p = buf;
	crc = ~crc;
	while (len--) {
		crc ^= *p++;
		for (int k = 0; k < 8; k++)
			crc = (crc >> 1) ^ (0x82F63B78u & (0u - (crc & 1)));
	}
	return ~crc;
}

/* xorshift64*: a fixed seed makes every failure reproducible. */
static uint64_t rng_state;

static uint64_t rnd(void)
{
	uint64_t x = rng_state;
	x ^= x >> 12;
	x ^= x << 25;
	x ^= x >> 27;
	rng_state = x;
	return x * 0x2545F4914F6CDD1Dull;
}

static uint64_t rnd_below(uint64_t n)
{
	return n ? rnd() % n : 0;
}

/* mjw_check_frame on an exact-size heap copy (see the top comment). */
static int check_copy(const void *frame, uint64_t len, const char **why)
{
	void *copy = malloc(len ? (size_t)len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, frame, (size_t)len);
	*why = NULL;
	int rc = mjw_check_frame(copy, len, why);
	free(copy);
	if (rc == 0)
		ck_assert_ptr_null(*why);
	else
		ck_assert_msg(*why && **why, "rejected without a reason");
	return rc;
}

/* Rejected, and not merely because the CRC no longer matches. */
static void assert_rejected_semantically(const void *frame, uint64_t len,
                                         const char *what)
{
	const char *why;
	ck_assert_msg(check_copy(frame, len, &why) != 0, "%s accepted", what);
	ck_assert_msg(!strstr(why, "CRC") && !strstr(why, "end mark"),
	              "%s rejected only by CRC/end mark (%s): validation "
	              "itself missed it", what, why);
}

static void assert_rejected(const void *frame, uint64_t len, const char *what)
{
	const char *why;
	ck_assert_msg(check_copy(frame, len, &why) != 0, "%s accepted", what);
}

static void assert_accepted(const void *frame, uint64_t len, const char *what)
{
	const char *why;
	ck_assert_msg(check_copy(frame, len, &why) == 0, "%s rejected: %s",
	              what, why);
}

static struct mjw_hdr get_hdr(const void *frame)
{
	struct mjw_hdr h;
	memcpy(&h, frame, sizeof(h));
	return h;
}

static void set_hdr(void *frame, const struct mjw_hdr *h)
{
	memcpy(frame, h, sizeof(*h));
}

/* Record header at body offset pos. */
static struct mjw_rec get_rec(const void *frame, uint64_t pos)
{
	struct mjw_rec r;
	memcpy(&r, (const unsigned char *)frame + MJW_HDR_SIZE + pos, sizeof(r));
	return r;
}

static void set_rec(void *frame, uint64_t pos, const struct mjw_rec *r)
{
	memcpy((unsigned char *)frame + MJW_HDR_SIZE + pos, r, sizeof(*r));
}

/* One record as the tests describe it. */
struct rec_spec {
	enum mjw_rec_type type;
	const char *name;
	const char *name2;
	uint64_t off;
	uint64_t len;
	const char *data; /* WRITE: len bytes */
};

/* The sample batch: every record type once, data that needs padding. */
static const char sample_data[] = "hello, mirror";
static const struct rec_spec sample[] = {
	{MJW_REC_MKDIR, "dir", NULL, 0, 0, NULL},
	{MJW_REC_CREATE, "dir/file.wt", NULL, 0, 0, NULL},
	{MJW_REC_WRITE, "dir/file.wt", NULL, 4096, sizeof(sample_data) - 1,
	 sample_data},
	{MJW_REC_SETSIZE, "journal/WiredTigerLog.0000000001", NULL, 0,
	 1 << 20, NULL},
	{MJW_REC_RENAME, "dir/file.wt", "a", 0, 0, NULL},
	{MJW_REC_REMOVE, "a", NULL, 0, 0, NULL},
};
#define NSAMPLE (sizeof(sample) / sizeof(sample[0]))

/* Builds and seals a BATCH of the given records; returns its length. */
static uint64_t build(void *buf, const struct rec_spec *recs, size_t n,
                      uint64_t seq)
{
	unsigned char *p = (unsigned char *)buf + MJW_HDR_SIZE;
	uint64_t body = 0;
	for (size_t i = 0; i < n; i++) {
		const struct rec_spec *s = &recs[i];
		uint64_t dlen = s->type == MJW_REC_WRITE ? s->len : 0;
		body += mjw_put_rec(p + body, s->type, s->name, s->name2,
		                    s->off, s->len, s->data, dlen);
	}
	uint64_t len = MJW_OVERHEAD + body;
	ck_assert_uint_le(len, BUF_MAX);
	mjw_put_hdr(buf, MJW_BATCH, MJW_F_LAST, (uint32_t)n, 0, 1, seq, len,
	            body);
	mjw_seal(buf);
	return len;
}

static uint64_t build_sample(void *buf)
{
	return build(buf, sample, NSAMPLE, 7);
}

/* A one-record WRITE batch; the tests below then damage it. */
static uint64_t build_write(void *buf, const char *name, uint64_t off)
{
	struct rec_spec r = {MJW_REC_WRITE, name, NULL, off,
	                     sizeof(sample_data) - 1, sample_data};
	return build(buf, &r, 1, 1);
}

/*
 * Walks a frame that passed the check and asserts every view lies inside
 * the body and the records cover it exactly. Returns the record count.
 */
static uint32_t walk_inside(const unsigned char *f, uint64_t len)
{
	const unsigned char *lo = f + MJW_HDR_SIZE;
	const unsigned char *hi = f + len - MJW_TRAILER_SIZE;
	struct mjw_hdr h = get_hdr(f);
	struct mjw_rec_view v;
	uint64_t pos = 0;
	uint32_t n = 0;
	while (mjw_rec_next(f, &pos, &v)) {
		ck_assert_uint_lt(n, h.nrec);
		ck_assert(v.name >= (const char *)lo);
		ck_assert(v.name + v.name_len <= (const char *)hi);
		ck_assert(v.name2 + v.name2_len <= (const char *)hi);
		ck_assert_int_eq(mjw_check_name(v.name, v.name_len, NULL), 0);
		if (v.type == MJW_REC_WRITE) {
			const unsigned char *d = v.data;
			ck_assert(d >= lo && d <= hi);
			ck_assert_uint_le(v.len, (uint64_t)(hi - d));
			ck_assert_uint_le(v.off, MJW_FILE_MAX);
			ck_assert_uint_le(v.len, MJW_FILE_MAX - v.off);
		} else {
			ck_assert_ptr_null(v.data);
		}
		ck_assert_uint_le(pos, len - MJW_OVERHEAD);
		n++;
	}
	ck_assert_uint_eq(pos, len - MJW_OVERHEAD);
	ck_assert_uint_eq(n, h.nrec);
	return n;
}

/* ---- CRC32C ---------------------------------------------------------- */

START_TEST(crc_known_vectors)
{
	const char *s = "123456789";
	ck_assert_uint_eq(mjw_crc32c(0, s, 9), 0xE3069283u);
	/* Chaining over two halves gives the same value. */
	ck_assert_uint_eq(mjw_crc32c(mjw_crc32c(0, s, 4), s + 4, 5),
	                  0xE3069283u);
	ck_assert_uint_eq(mjw_crc32c(0, s, 0), 0);
	ck_assert_uint_eq(mjw_crc32c(0x1234u, s, 0), 0x1234u);
	/* RFC 3720 B.4: 32 bytes of zeros, of 0xff, ascending. */
	unsigned char b[32];
	memset(b, 0, sizeof(b));
	ck_assert_uint_eq(mjw_crc32c(0, b, 32), 0x8A9136AAu);
	memset(b, 0xff, sizeof(b));
	ck_assert_uint_eq(mjw_crc32c(0, b, 32), 0x62A8AB43u);
	for (int i = 0; i < 32; i++)
		b[i] = (unsigned char)i;
	ck_assert_uint_eq(mjw_crc32c(0, b, 32), 0x46DD794Eu);
}
END_TEST

/* isa-l takes SIMD paths by length and alignment: cover many of both. */
START_TEST(crc_matches_reference)
{
	static unsigned char buf[4096 + 16];
	rng_state = 0x9E3779B97F4A7C15ull;
	for (size_t i = 0; i < sizeof(buf); i++)
		buf[i] = (unsigned char)rnd();
	for (size_t len = 0; len <= 1100; len++) {
		size_t start = len % 16;
		uint32_t want = ref_crc32c(0, buf + start, len);
		ck_assert_uint_eq(mjw_crc32c(0, buf + start, len), want);
		size_t cut = rnd_below(len + 1);
		uint32_t c = mjw_crc32c(0, buf + start, cut);
		c = mjw_crc32c(c, buf + start + cut, len - cut);
		ck_assert_uint_eq(c, want);
	}
	ck_assert_uint_eq(mjw_crc32c(0, buf, 4096), ref_crc32c(0, buf, 4096));
}
END_TEST

/* ---- names ----------------------------------------------------------- */

static int name_ok(const char *s)
{
	const char *why = NULL;
	int rc = mjw_check_name(s, strlen(s), &why);
	if (rc)
		ck_assert_msg(why && *why, "no reason for '%s'", s);
	return rc == 0;
}

START_TEST(names_accepted)
{
	ck_assert(name_ok("a"));
	ck_assert(name_ok("dir/file.wt"));
	ck_assert(name_ok("journal/WiredTigerLog.0000000001"));
	ck_assert(name_ok("...")); /* not a dot component */
	ck_assert(name_ok(".hidden"));
	ck_assert(name_ok("a/..b/c."));
	char longest[MJW_NAME_MAX];
	memset(longest, 'x', sizeof(longest));
	ck_assert_int_eq(mjw_check_name(longest, MJW_NAME_MAX, NULL), 0);
}
END_TEST

START_TEST(names_rejected)
{
	static const char *const bad[] = {
		"", "/abs", "/", "..", ".", "a/../b", "a//b", "a/", "./a",
		"a/.", "a/..", "../escape", "/tmp/escape", "a/../../b", "//",
	};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++)
		ck_assert_msg(!name_ok(bad[i]), "'%s' accepted", bad[i]);
	const char *why;
	ck_assert_int_ne(mjw_check_name("ab\0c", 4, &why), 0);
	ck_assert_int_ne(mjw_check_name("\0", 1, &why), 0);
	ck_assert_int_ne(mjw_check_name("abc\0", 4, &why), 0);
	char *toolong = malloc(MJW_NAME_MAX + 1);
	ck_assert_ptr_nonnull(toolong);
	memset(toolong, 'x', MJW_NAME_MAX + 1);
	ck_assert_int_ne(mjw_check_name(toolong, MJW_NAME_MAX + 1, &why), 0);
	ck_assert_int_ne(mjw_check_name(toolong, UINT64_MAX, &why), 0);
	free(toolong);
}
END_TEST

/* ---- a good frame ---------------------------------------------------- */

START_TEST(roundtrip_all_record_types)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	uint64_t len = build_sample(f);
	assert_accepted(f, len, "sample batch");
	ck_assert_uint_eq(len % 8, 0);
	struct mjw_rec_view v;
	uint64_t pos = 0;
	for (size_t i = 0; i < NSAMPLE; i++) {
		const struct rec_spec *s = &sample[i];
		ck_assert_int_eq(mjw_rec_next(f, &pos, &v), 1);
		ck_assert_int_eq(v.type, s->type);
		ck_assert_uint_eq(v.name_len, strlen(s->name));
		ck_assert_int_eq(memcmp(v.name, s->name, v.name_len), 0);
		ck_assert_uint_eq(v.name2_len, s->name2 ? strlen(s->name2) : 0);
		if (s->name2)
			ck_assert_int_eq(memcmp(v.name2, s->name2,
			                        v.name2_len), 0);
		ck_assert_uint_eq(v.off, s->off);
		ck_assert_uint_eq(v.len, s->len);
		if (s->type == MJW_REC_WRITE)
			ck_assert_int_eq(memcmp(v.data, s->data, s->len), 0);
		else
			ck_assert_ptr_null(v.data);
	}
	ck_assert_int_eq(mjw_rec_next(f, &pos, &v), 0);
	ck_assert_uint_eq(pos, len - MJW_OVERHEAD);
	ck_assert_uint_eq(walk_inside(f, len), NSAMPLE);
}
END_TEST

/* A HELLO built the way netio.c sends it passes; batch fields do not. */
START_TEST(control_frames)
{
	_Alignas(8) unsigned char f[MJW_OVERHEAD + MJW_CTRL_BODY_MAX + 8];
	struct mjw_hello hello = {.conn_index = 3, .nconns = 4};
	uint64_t len = MJW_OVERHEAD + sizeof(hello);
	memset(f, 0, sizeof(f));
	mjw_put_hdr(f, MJW_HELLO, 0, 0, 0, 1, 0, len, 0);
	memcpy(f + MJW_HDR_SIZE, &hello, sizeof(hello));
	mjw_seal(f);
	assert_accepted(f, len, "HELLO");

	struct mjw_hdr h = get_hdr(f);
	h.nrec = 1;
	set_hdr(f, &h);
	mjw_seal(f);
	assert_rejected_semantically(f, len, "HELLO with nrec");

	/* A control body one word over the limit. */
	len = MJW_OVERHEAD + MJW_CTRL_BODY_MAX + 8;
	memset(f, 0, sizeof(f));
	mjw_put_hdr(f, MJW_PING, 0, 0, 0, 1, 0, len, 0);
	mjw_seal(f);
	assert_rejected_semantically(f, len, "oversized PING");
	len -= 8;
	mjw_put_hdr(f, MJW_PING, 0, 0, 0, 1, 0, len, 0);
	mjw_seal(f);
	assert_accepted(f, len, "PING at the body limit");
}
END_TEST

/* ---- damage caught by CRC / framing ---------------------------------- */

START_TEST(every_bit_flip_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	uint64_t len = build_sample(f);
	for (uint64_t bit = 0; bit < len * 8; bit++) {
		f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
		const char *why;
		ck_assert_msg(check_copy(f, len, &why) != 0,
		              "flip of bit %llu (byte %llu) accepted",
		              (unsigned long long)bit,
		              (unsigned long long)(bit / 8));
		f[bit / 8] ^= (unsigned char)(1u << (bit % 8));
	}
	assert_accepted(f, len, "restored frame");
}
END_TEST

/* Any one byte replaced by any other value is a burst CRC32C catches. */
START_TEST(every_byte_value_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	uint64_t len = build_write(f, "victim", 0);
	for (uint64_t i = 0; i < len; i++) {
		unsigned char keep = f[i];
		for (unsigned v = 0; v < 256; v++) {
			if (v == keep)
				continue;
			f[i] = (unsigned char)v;
			const char *why;
			ck_assert_msg(check_copy(f, len, &why) != 0,
			              "byte %llu = 0x%02x accepted",
			              (unsigned long long)i, v);
		}
		f[i] = keep;
	}
}
END_TEST

START_TEST(every_truncation_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	uint64_t len = build_sample(f);
	for (uint64_t cut = 0; cut < len; cut++)
		assert_rejected(f, cut, "truncated frame");
	/* The header claiming the short length, re-sealed, is also caught:
	 * the records no longer fit. */
	for (uint64_t cut = MJW_OVERHEAD; cut < len; cut += 8) {
		_Alignas(8) unsigned char g[BUF_MAX];
		memcpy(g, f, (size_t)len);
		struct mjw_hdr h = get_hdr(g);
		h.len = cut;
		set_hdr(g, &h);
		mjw_seal(g);
		assert_rejected_semantically(g, cut, "re-sealed short frame");
	}
	/* Longer than the header says. */
	_Alignas(8) unsigned char g[BUF_MAX];
	memcpy(g, f, (size_t)len);
	memset(g + len, 0, 8);
	assert_rejected(g, len + 8, "frame with trailing bytes");
}
END_TEST

START_TEST(end_mark_damage_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	uint64_t len = build_sample(f);
	struct mjw_trailer t;
	unsigned char *tp = f + len - MJW_TRAILER_SIZE;
	memcpy(&t, tp, sizeof(t));
	ck_assert_uint_eq(t.end, MJW_END_MARK);

	/* Zeroed end mark, CRC still right: only the mark can catch it. */
	struct mjw_trailer z = t;
	z.end = 0;
	memcpy(tp, &z, sizeof(z));
	assert_rejected(f, len, "zeroed end mark");
	for (int byte = 0; byte < 8; byte++) {
		z = t;
		((unsigned char *)&z.end)[byte] ^= 0x5a;
		memcpy(tp, &z, sizeof(z));
		assert_rejected(f, len, "garbled end mark");
	}
	z = t;
	z.zero = 1;
	memcpy(tp, &z, sizeof(z));
	assert_rejected(f, len, "trailer padding");
	memcpy(tp, &t, sizeof(t));
	assert_accepted(f, len, "restored trailer");
}
END_TEST

/* ---- damage only validation can catch (CRC recomputed) --------------- */

START_TEST(nrec_wrong_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	static const uint32_t bad[] = {0, 1, NSAMPLE - 1, NSAMPLE + 1,
	                               NSAMPLE * 2, UINT32_MAX};
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t len = build_sample(f);
		struct mjw_hdr h = get_hdr(f);
		h.nrec = bad[i];
		set_hdr(f, &h);
		mjw_seal(f);
		assert_rejected_semantically(f, len, "wrong nrec");
	}
}
END_TEST

START_TEST(record_lengths_past_frame_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	static const uint64_t lens[] = {
		/* 6 + 19 = 25 bytes needs 32, one word more than the 24
		 * there (one or two bytes more would fit in the padding and
		 * legitimately read it as data). */
		sizeof(sample_data) + 5,
		64, 4096, 1ull << 40, MJW_FILE_MAX, UINT64_MAX - 7, UINT64_MAX,
	};
	for (size_t i = 0; i < sizeof(lens) / sizeof(lens[0]); i++) {
		uint64_t len = build_write(f, "victim", 0);
		struct mjw_rec r = get_rec(f, 0);
		r.len = lens[i];
		set_rec(f, 0, &r);
		mjw_seal(f);
		assert_rejected_semantically(f, len, "WRITE len past frame");
	}
	static const uint16_t names[] = {12, 64, 200, 0xffff}; /* 12 + 13 > 24 */
	for (size_t i = 0; i < sizeof(names) / sizeof(names[0]); i++) {
		uint64_t len = build_write(f, "victim", 0);
		struct mjw_rec r = get_rec(f, 0);
		r.name_len = names[i];
		set_rec(f, 0, &r);
		mjw_seal(f);
		assert_rejected_semantically(f, len, "name_len past frame");
	}
	/* name2 on a RENAME (last record of the sample). */
	uint64_t len = build_sample(f), pos = 0;
	struct mjw_rec_view v;
	uint64_t rename_pos = 0;
	while (mjw_rec_next(f, &pos, &v))
		if (v.type == MJW_REC_RENAME)
			rename_pos = (uint64_t)((const unsigned char *)v.name -
			                        f) - MJW_HDR_SIZE - MJW_REC_SIZE;
	struct mjw_rec r = get_rec(f, rename_pos);
	ck_assert_uint_eq(r.type, MJW_REC_RENAME);
	r.name2_len = 0xffff;
	set_rec(f, rename_pos, &r);
	mjw_seal(f);
	assert_rejected_semantically(f, len, "name2_len past frame");
}
END_TEST

START_TEST(write_past_file_max_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	uint64_t dlen = sizeof(sample_data) - 1;
	static const uint64_t offs[] = {
		MJW_FILE_MAX - 1, MJW_FILE_MAX, MJW_FILE_MAX + 1,
		UINT64_MAX - 3, UINT64_MAX,
	};
	for (size_t i = 0; i < sizeof(offs) / sizeof(offs[0]); i++) {
		uint64_t len = build_write(f, "victim", offs[i]);
		assert_rejected_semantically(f, len, "WRITE past MJW_FILE_MAX");
	}
	/* The last byte of the largest file is still allowed. */
	uint64_t len = build_write(f, "victim", MJW_FILE_MAX - dlen);
	assert_accepted(f, len, "WRITE ending at MJW_FILE_MAX");

	struct rec_spec s = {MJW_REC_SETSIZE, "victim", NULL, 0,
	                     MJW_FILE_MAX + 1, NULL};
	len = build(f, &s, 1, 1);
	assert_rejected_semantically(f, len, "SETSIZE past MJW_FILE_MAX");
	s.len = MJW_FILE_MAX;
	len = build(f, &s, 1, 1);
	assert_accepted(f, len, "SETSIZE to MJW_FILE_MAX");
	s.off = 8;
	len = build(f, &s, 1, 1);
	assert_rejected_semantically(f, len, "SETSIZE with an offset");
	/* Namespace records carry no offset or length. */
	static const enum mjw_rec_type ns[] = {MJW_REC_CREATE, MJW_REC_REMOVE,
	                                       MJW_REC_MKDIR};
	for (size_t i = 0; i < 3; i++) {
		struct rec_spec n = {ns[i], "victim", NULL, 0, 8, NULL};
		len = build(f, &n, 1, 1);
		assert_rejected_semantically(f, len, "namespace record len");
		n.len = 0;
		n.off = 8;
		len = build(f, &n, 1, 1);
		assert_rejected_semantically(f, len, "namespace record off");
	}
}
END_TEST

START_TEST(bad_names_in_records_rejected)
{
	static const char *const bad[] = {
		"..", "../escape", "/tmp/escape", "/abs", "a/../../b", "a//b",
		"a/", "./a", ".",
	};
	_Alignas(8) unsigned char f[BUF_MAX];
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		uint64_t len = build_write(f, bad[i], 0);
		assert_rejected_semantically(f, len, bad[i]);
		struct rec_spec r = {MJW_REC_RENAME, "ok", bad[i], 0, 0, NULL};
		len = build(f, &r, 1, 1);
		assert_rejected_semantically(f, len, "RENAME to a bad name");
		r.name = bad[i];
		r.name2 = "ok";
		len = build(f, &r, 1, 1);
		assert_rejected_semantically(f, len, "RENAME of a bad name");
	}
	/* Empty name: put_rec writes name_len 0. */
	uint64_t len = build_write(f, "", 0);
	assert_rejected_semantically(f, len, "empty name");
	/* An embedded NUL: "vic\0tim" as 7 name bytes. */
	len = build_write(f, "victimX", 0);
	f[MJW_HDR_SIZE + MJW_REC_SIZE + 3] = '\0';
	mjw_seal(f);
	assert_rejected_semantically(f, len, "name with NUL");
	/* A second name on a record that takes one. */
	struct rec_spec c = {MJW_REC_CREATE, "a", "b", 0, 0, NULL};
	len = build(f, &c, 1, 1);
	assert_rejected_semantically(f, len, "CREATE with name2");
	/* Longest legal name passes, one more byte does not. */
	char *name = malloc(MJW_NAME_MAX + 2);
	ck_assert_ptr_nonnull(name);
	memset(name, 'n', MJW_NAME_MAX + 1);
	name[MJW_NAME_MAX + 1] = '\0';
	len = build_write(f, name, 0);
	assert_rejected_semantically(f, len, "name over MJW_NAME_MAX");
	name[MJW_NAME_MAX] = '\0';
	len = build_write(f, name, 0);
	assert_accepted(f, len, "name of MJW_NAME_MAX");
	free(name);
}
END_TEST

START_TEST(unknown_record_type_rejected)
{
	static const uint16_t types[] = {0, 7, 8, 0x100, 0xffff};
	_Alignas(8) unsigned char f[BUF_MAX];
	for (size_t i = 0; i < sizeof(types) / sizeof(types[0]); i++) {
		struct rec_spec s = {MJW_REC_CREATE, "victim", NULL, 0, 0,
		                     NULL};
		uint64_t len = build(f, &s, 1, 1);
		struct mjw_rec r = get_rec(f, 0);
		r.type = types[i];
		set_rec(f, 0, &r);
		mjw_seal(f);
		assert_rejected_semantically(f, len, "unknown record type");
	}
}
END_TEST

START_TEST(nonzero_padding_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	/* The record's zero field. */
	uint64_t len = build_write(f, "victim", 0);
	struct mjw_rec r = get_rec(f, 0);
	r.zero = 1;
	set_rec(f, 0, &r);
	mjw_seal(f);
	assert_rejected_semantically(f, len, "record zero field");
	/* Each pad byte after name + data ("victim" + 13 bytes = 19 -> 24). */
	uint64_t used = MJW_REC_SIZE + 6 + sizeof(sample_data) - 1;
	uint64_t end = MJW_REC_SIZE + mjw_pad8(6 + sizeof(sample_data) - 1);
	ck_assert_uint_lt(used, end);
	for (uint64_t i = used; i < end; i++) {
		len = build_write(f, "victim", 0);
		f[MJW_HDR_SIZE + i] = 0x80;
		mjw_seal(f);
		assert_rejected_semantically(f, len, "record pad byte");
	}
	/* The reserved header word. */
	len = build_write(f, "victim", 0);
	struct mjw_hdr h = get_hdr(f);
	h.reserved = 1ull << 63;
	set_hdr(f, &h);
	mjw_seal(f);
	assert_rejected_semantically(f, len, "reserved header field");
}
END_TEST

/* One bad header field per case, the CRC recomputed each time. */
static const char *poke_hdr(struct mjw_hdr *h, int i)
{
	switch (i) {
	case 0: h->magic ^= 1; return "magic";
	case 1: h->version = 0; return "version 0";
	case 2: h->version = 2; return "version 2";
	case 3: h->type = 0; return "type 0";
	case 4: h->type = 10; return "type 10";
	case 5: h->type = 255; return "type 255";
	case 6: h->flags |= 0x04; return "flag 0x04";
	case 7: h->flags = 0xff; return "flags 0xff";
	case 8: h->total = MJW_FILE_MAX + 1; return "total past FILE_MAX";
	default: return NULL;
	}
}

START_TEST(header_fields_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	for (int i = 0;; i++) {
		uint64_t len = build_sample(f);
		struct mjw_hdr h = get_hdr(f);
		const char *what = poke_hdr(&h, i);
		if (!what)
			break;
		set_hdr(f, &h);
		mjw_seal(f);
		assert_rejected_semantically(f, len, what);
	}
}
END_TEST

START_TEST(frame_len_rejected)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	const char *why;
	uint64_t len = build_sample(f);
	struct mjw_hdr h = get_hdr(f);
	/* Not a multiple of 8: the body is cut 4 bytes short. */
	h.len = len - 4;
	ck_assert_int_ne(mjw_check_hdr(&h, UINT64_MAX, &why), 0);
	set_hdr(f, &h);
	mjw_seal(f);
	assert_rejected_semantically(f, len - 4, "len not a multiple of 8");
	/* Shorter than header + trailer. */
	h.len = MJW_OVERHEAD - 8;
	ck_assert_int_ne(mjw_check_hdr(&h, UINT64_MAX, &why), 0);
	h.len = 0;
	ck_assert_int_ne(mjw_check_hdr(&h, UINT64_MAX, &why), 0);
	/* Over the caller's limit and over the hard limit. */
	h.len = len;
	ck_assert_int_eq(mjw_check_hdr(&h, len, &why), 0);
	ck_assert_int_ne(mjw_check_hdr(&h, len - 8, &why), 0);
	h.len = MJW_FRAME_MAX;
	ck_assert_int_eq(mjw_check_hdr(&h, UINT64_MAX, &why), 0);
	h.len = MJW_FRAME_MAX + 8;
	ck_assert_int_ne(mjw_check_hdr(&h, UINT64_MAX, &why), 0);
	h.len = UINT64_MAX - 7;
	ck_assert_int_ne(mjw_check_hdr(&h, UINT64_MAX, &why), 0);
	/* A header that does not match the length handed in. */
	len = build_sample(f);
	h = get_hdr(f);
	h.len = len + 8;
	set_hdr(f, &h);
	assert_rejected(f, len, "header len longer than frame");
}
END_TEST

/* ---- randomized ------------------------------------------------------ */

/* Random valid names: 1..3 components of [a-z0-9._-], never "." or "..". */
static void rnd_name(char *out, size_t cap)
{
	static const char cs[] = "abcdefghijklmnopqrstuvwxyz0123456789._-";
	size_t n = 0, comps = 1 + rnd_below(3);
	for (size_t c = 0; c < comps; c++) {
		if (c)
			out[n++] = '/';
		size_t clen = 1 + rnd_below(12);
		for (size_t i = 0; i < clen && n + 2 < cap; i++)
			out[n++] = cs[rnd_below(sizeof(cs) - 1)];
		out[n++] = 'z'; /* ends every component: never "." or ".." */
	}
	out[n] = '\0';
}

/* A random valid batch of 1..8 records into f; returns its length. */
static uint64_t rnd_frame(unsigned char *f)
{
	static char names[8][2][64];
	static unsigned char data[8][256];
	struct rec_spec recs[8];
	size_t n = 1 + rnd_below(8);
	for (size_t i = 0; i < n; i++) {
		struct rec_spec *s = &recs[i];
		memset(s, 0, sizeof(*s));
		s->type = (enum mjw_rec_type)(1 + rnd_below(6));
		rnd_name(names[i][0], sizeof(names[i][0]));
		s->name = names[i][0];
		if (s->type == MJW_REC_RENAME) {
			rnd_name(names[i][1], sizeof(names[i][1]));
			s->name2 = names[i][1];
		}
		if (s->type == MJW_REC_WRITE) {
			s->len = rnd_below(sizeof(data[i]) + 1);
			s->off = rnd_below(MJW_FILE_MAX - s->len + 1);
			for (uint64_t k = 0; k < s->len; k++)
				data[i][k] = (unsigned char)rnd();
			s->data = (const char *)data[i];
		} else if (s->type == MJW_REC_SETSIZE) {
			s->len = rnd_below(MJW_FILE_MAX + 1);
		}
	}
	return build(f, recs, n, rnd());
}

START_TEST(random_valid_frames_roundtrip)
{
	_Alignas(8) unsigned char f[BUF_MAX];
	rng_state = 0xC0FFEE12345ull;
	for (int it = 0; it < 20000; it++) {
		uint64_t len = rnd_frame(f);
		assert_accepted(f, len, "random valid frame");
		walk_inside(f, len);
	}
}
END_TEST

/* Overwrites one field of header or first record with a nasty value. */
static void poke_field(unsigned char *f, uint64_t len)
{
	static const uint64_t nasty[] = {
		0, 1, 7, 8, 0xff, 0xffff, 0x10000, 0xffffffffull,
		MJW_FILE_MAX, MJW_FILE_MAX + 1, MJW_FRAME_MAX, UINT64_MAX,
		UINT64_MAX - 7,
	};
	uint64_t v = rnd_below(4) ? nasty[rnd_below(sizeof(nasty) / 8)] : rnd();
	struct mjw_hdr h = get_hdr(f);
	struct mjw_rec r = get_rec(f, 0);
	switch (rnd_below(12)) {
	case 0: h.len = v; break;
	case 1: h.nrec = (uint32_t)v; break;
	case 2: h.frag = (uint32_t)v; break;
	case 3: h.flags = (uint8_t)v; break;
	case 4: h.total = v; break;
	case 5: h.type = (uint8_t)v; break;
	case 6: r.type = (uint16_t)v; break;
	case 7: r.name_len = (uint16_t)v; break;
	case 8: r.name2_len = (uint16_t)v; break;
	case 9: r.off = v; break;
	case 10: r.len = v; break;
	default: h.len = len + 8 * (rnd_below(5) - 2); break;
	}
	set_hdr(f, &h);
	set_rec(f, 0, &r);
}

/* Checks a frame; if it passes, walks it. Never trusts anything else. */
static int check_and_walk(const unsigned char *f, uint64_t len)
{
	unsigned char *copy = malloc(len ? (size_t)len : 1);
	ck_assert_ptr_nonnull(copy);
	memcpy(copy, f, (size_t)len);
	const char *why = NULL;
	int ok = mjw_check_frame(copy, len, &why) == 0;
	if (ok) {
		struct mjw_hdr h = get_hdr(copy);
		ck_assert_uint_eq(h.len, len);
		if (h.type == MJW_BATCH)
			walk_inside(copy, len);
	} else {
		ck_assert_ptr_nonnull(why);
	}
	free(copy);
	return ok;
}

START_TEST(random_garbage_never_crashes)
{
	static unsigned char f[BUF_MAX + 64];
	uint64_t passed = 0, mutated_passed = 0;
	rng_state = 0x5EED0000ull + 1;
	for (int it = 0; it < 200000; it++) {
		uint64_t len;
		if (it % 2 == 0) {
			/* Random bytes, sometimes behind a plausible header. */
			len = rnd_below(600);
			for (uint64_t i = 0; i < len; i++)
				f[i] = (unsigned char)rnd();
			if (len >= MJW_OVERHEAD && rnd_below(2)) {
				len &= ~(uint64_t)7;
				mjw_put_hdr(f, (enum mjw_type)(1 + rnd_below(7)),
				            (uint8_t)rnd_below(2),
				            (uint32_t)rnd_below(4), 0, 1, 1, len,
				            rnd_below(len));
				mjw_seal(f);
			}
			passed += check_and_walk(f, len);
			continue;
		}
		/* A valid frame, mutated, then re-sealed if it can be. */
		len = rnd_frame(f);
		int muts = 1 + (int)rnd_below(3);
		for (int m = 0; m < muts; m++) {
			if (rnd_below(2))
				f[rnd_below(len)] ^= (unsigned char)(1u << rnd_below(8));
			else
				poke_field(f, len);
		}
		struct mjw_hdr h = get_hdr(f);
		if (h.len >= MJW_OVERHEAD && h.len <= BUF_MAX && h.len % 8 == 0) {
			if (h.len > len)
				memset(f + len, 0, (size_t)(h.len - len));
			len = h.len;
			mjw_seal(f);
		}
		if (check_and_walk(f, len))
			mutated_passed++;
	}
	/* The mutations must sometimes survive, or the walk is untested. */
	ck_assert_uint_gt(mutated_passed, 100);
	printf("random: %llu garbage frames passed, %llu mutated passed\n",
	       (unsigned long long)passed, (unsigned long long)mutated_passed);
}
END_TEST

static Suite *wire_suite(void)
{
	Suite *s = suite_create("wire");
	TCase *tc = tcase_create("format");
	tcase_set_timeout(tc, 240);
	tcase_add_test(tc, crc_known_vectors);
	tcase_add_test(tc, crc_matches_reference);
	tcase_add_test(tc, names_accepted);
	tcase_add_test(tc, names_rejected);
	tcase_add_test(tc, roundtrip_all_record_types);
	tcase_add_test(tc, control_frames);
	tcase_add_test(tc, every_bit_flip_rejected);
	tcase_add_test(tc, every_byte_value_rejected);
	tcase_add_test(tc, every_truncation_rejected);
	tcase_add_test(tc, end_mark_damage_rejected);
	tcase_add_test(tc, nrec_wrong_rejected);
	tcase_add_test(tc, record_lengths_past_frame_rejected);
	tcase_add_test(tc, write_past_file_max_rejected);
	tcase_add_test(tc, bad_names_in_records_rejected);
	tcase_add_test(tc, unknown_record_type_rejected);
	tcase_add_test(tc, nonzero_padding_rejected);
	tcase_add_test(tc, header_fields_rejected);
	tcase_add_test(tc, frame_len_rejected);
	tcase_add_test(tc, random_valid_frames_roundtrip);
	tcase_add_test(tc, random_garbage_never_crashes);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(wire_suite());
}
