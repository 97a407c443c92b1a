/*
 * test_mdw_mutate.c: valid messages from the builders, mutated at random
 * (bytes flipped, int32s overwritten with edge values, cut, extended;
 * messageLength and the CRC-32C sometimes repaired so that mutations
 * reach past those checks), each parsed from an exact-size heap copy.
 * Under ASan: no crash, no read outside; every parse fails with a code
 * and a reason, or yields views inside the buffer that merge cleanly or
 * are refused cleanly. Seeded (MDW_SEED overrides), bounded in time.
 */
#include "check_run.h"
#include "test_mdw.h"
#include "views_inside.h"

#include <stdio.h>
#include <time.h>

#define CASES 40000
#define MAX_SECONDS 60

static uint64_t rng;

static uint32_t rnd(uint32_t n)
{
	rng ^= rng << 13;
	rng ^= rng >> 7;
	rng ^= rng << 17;
	return n ? (uint32_t)(rng % n) : 0;
}

/* The base messages, all valid. */
static struct mdw_buf base[32];
static size_t nbase;

static void add_base(struct mdw_buf *b)
{
	struct mdw_request r;
	ck_assert_int_eq(mdw_parse(b->data, b->len, &r, NULL), MDW_OK);
	nbase++;
}

static void make_bases(void)
{
	bson_t *body = BCON_NEW("insert", "c", "ordered", BCON_BOOL(false),
	                        "$db", "test", "w", "{", "w", BCON_INT32(1), "}");
	static const bson_oid_t oid = {{1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11, 12}};
	bson_t *d[3] = {
		BCON_NEW("_id", BCON_INT32(1), "a", "[", BCON_INT32(1), BCON_UTF8("x"), "]"),
		BCON_NEW("_id", BCON_OID(&oid), "b", BCON_BIN(0, (const uint8_t *)"xyz", 3)),
		BCON_NEW("n", "{", "m", "{", "o", BCON_DOUBLE(1.5), "}", "}"),
	};
	const bson_t *docs[] = {d[0], d[1], d[2]};
	struct mdw_seq_out seqs[] = {{"documents", docs, 3}, {"u", docs + 1, 2}};
	const uint32_t flags[] = {0, MDW_MSG_CHECKSUM, MDW_MSG_EXHAUST,
	                          MDW_MSG_CHECKSUM | MDW_MSG_MORE_TO_COME};
	for (int f = 0; f < 4; f++)
		for (size_t ns = 0; ns <= 2; ns++) {
			mdw_buf_init(&base[nbase], 0);
			ck_assert_int_eq(mdw_build_msg(&base[nbase], 5, 0, flags[f], body,
			                               seqs, ns, NULL), MDW_OK);
			add_base(&base[nbase]);
		}
	bson_t *q = BCON_NEW("$query", "{", "isMaster", BCON_INT32(1), "}",
	                     "$readPreference", "{", "mode", "primary", "}");
	mdw_buf_init(&base[nbase], 0);
	ck_assert_int_eq(mdw_build_query(&base[nbase], 6, 0, "admin.$cmd", 0, -1,
	                                 q, d[0], NULL), MDW_OK);
	add_base(&base[nbase]);
	mdw_buf_init(&base[nbase], 0);
	ck_assert_int_eq(mdw_build_query(&base[nbase], 6, 0, "admin.$cmd", 0, 1,
	                                 d[2], NULL, NULL), MDW_OK);
	add_base(&base[nbase]);
	bson_destroy(q);
	bson_destroy(body);
	for (int i = 0; i < 3; i++)
		bson_destroy(d[i]);
}

static void wr32(struct raw *m, size_t at, uint32_t v)
{
	if (at + 4 <= m->n)
		memcpy(m->b + at, &v, 4);
}

/* One to three mutations of m. */
static void mutate(struct raw *m)
{
	static const uint32_t edge[] = {0, 1, 4, 5, 6, 0x7fffffff, 0x80000000u,
	                                0xffffffffu, 16 * 1024 * 1024 + 1, 47999999};
	int k = 1 + (int)rnd(3);
	while (k--) {
		size_t at = rnd((uint32_t)m->n);
		switch (rnd(6)) {
		case 0:
			m->b[at] ^= (uint8_t)(1u << rnd(8));
			break;
		case 1:
			m->b[at] = (uint8_t)rnd(256);
			break;
		case 2:
			wr32(m, at, edge[rnd(10)]);
			break;
		case 3: /* an int32 a little off what it was */
			if (at + 4 <= m->n) {
				uint32_t v;
				memcpy(&v, m->b + at, 4);
				wr32(m, at, v + rnd(9) - 4);
			}
			break;
		case 4:
			m->n = rnd((uint32_t)m->n + 1);
			break;
		default: {
			size_t n = rnd(16);
			for (size_t i = 0; i < n; i++)
				raw_u8(m, (uint8_t)rnd(256));
		}
		}
	}
}

/* Repairs that let a mutation get past the first checks. */
static void repair(struct raw *m)
{
	if (m->n >= 4 && rnd(2))
		raw_end(m);
	uint32_t op, flags;
	if (m->n >= 24 && rnd(4)) {
		memcpy(&op, m->b + 12, 4);
		memcpy(&flags, m->b + 16, 4);
		if (op == MDW_OP_MSG && (flags & MDW_MSG_CHECKSUM))
			raw_crc(m, false);
	}
}

static int seen[MDW_E_ARG + 1];

static void one_case(void)
{
	struct mdw_buf *b = &base[rnd((uint32_t)nbase)];
	struct raw m = {0};
	raw_put(&m, b->data, b->len);
	mutate(&m);
	repair(&m);
	struct mdw_request r;
	const char *why;
	uint8_t *copy;
	int rc = raw_parse(m.b, m.n, &r, &why, &copy);
	ck_assert(rc >= MDW_OK && rc <= MDW_E_ARG);
	ck_assert_msg(rc == MDW_OK || (why && *why), "code %d without a reason", rc);
	seen[rc]++;
	if (rc == MDW_OK) {
		ck_assert(mdw_views_inside(&r, copy, m.n));
		if (r.hdr.opcode == MDW_OP_MSG) {
			bson_t merged;
			why = NULL;
			int mr = mdw_msg_merge(&r.msg, &merged, &why);
			ck_assert(mr == MDW_OK || why);
			if (mr == MDW_OK) {
				ck_assert(bson_validate(&merged, BSON_VALIDATE_NONE, NULL));
				bson_destroy(&merged);
			}
		}
	}
	free(copy);
	free(m.b);
}

START_TEST(mutations)
{
	const char *env = getenv("MDW_SEED");
	uint64_t seed = env ? strtoull(env, NULL, 0) : 20261204;
	rng = seed | 1;
	printf("test_mdw_mutate: seed %llu (MDW_SEED=... to replay)\n",
	       (unsigned long long)seed);
	make_bases();
	time_t t0 = time(NULL);
	int n = 0;
	while (n < CASES && time(NULL) - t0 < MAX_SECONDS) {
		one_case();
		n++;
	}
	printf("test_mdw_mutate: %d cases:", n);
	for (int e = 0; e <= MDW_E_ARG; e++)
		if (seen[e])
			printf(" %s %d", mdw_err_name(e), seen[e]);
	printf("\n");
	/* the mutations reached every check a message can fail */
	const int must[] = {MDW_OK, MDW_E_SHORT, MDW_E_LENGTH, MDW_E_OPCODE,
	                    MDW_E_UNSUPPORTED, MDW_E_FLAGS, MDW_E_FORMAT,
	                    MDW_E_BSON, MDW_E_CHECKSUM};
	for (size_t i = 0; i < sizeof(must) / sizeof(must[0]); i++)
		ck_assert_msg(seen[must[i]] > 0, "%s never seen", mdw_err_name(must[i]));
	for (size_t i = 0; i < nbase; i++)
		mdw_buf_free(&base[i]);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdw_mutate");
	TCase *tc = tcase_create("mutate");
	tcase_set_timeout(tc, MAX_SECONDS + 60);
	tcase_add_test(tc, mutations);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	setvbuf(stdout, NULL, _IOLBF, 0);
	return check_run(suite());
}
