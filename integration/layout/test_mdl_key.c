/*
 * test_mdl_key.c: the key encoding against the plain comparison of
 * refcmp.h, over random values of every type (seeded; MDL_SEED=N to
 * replay): sign(memcmp) == sign(compare), ascending and descending, in
 * compound keys, and no encoding a prefix of another.
 */
#include <check.h>
#include "check_run.h"
#include <stdio.h>

#include "mdb_layout.h"
#include "mdb_query.h"
#include "refcmp.h"

#define ROUNDS 200000

struct enc {
	uint8_t b[MDL_KEY_MAX];
	size_t n;
};

static uint64_t seed(void)
{
	const char *s = getenv("MDL_SEED");
	uint64_t v = s ? strtoull(s, NULL, 10) : 20261204;
	fprintf(stderr, "test_mdl_key: seed %llu\n", (unsigned long long)v);
	return v;
}

/* A random value, as a one-field document holding it. */
static void pick(bson_t *d, bson_value_t *v)
{
	bson_iter_t it;
	bson_init(d);
	gen_value(d, "v", 0);
	ck_assert(bson_iter_init_find(&it, d, "v"));
	*v = *bson_iter_value(&it);
}

static void enc(const bson_value_t *v, int desc, struct enc *e)
{
	mdl_err err;
	ck_assert_int_eq(mdl_key_encode(v, desc, e->b, sizeof(e->b), &e->n,
	                                &err), 0);
}

static int enc_cmp(const struct enc *a, const struct enc *b)
{
	return ref_bytes(a->b, a->n, b->b, b->n);
}

static int is_prefix(const struct enc *a, const struct enc *b)
{
	return a->n < b->n && !memcmp(a->b, b->b, a->n);
}

START_TEST(order_matches)
{
	rs_state = seed();
	int kinds[3] = {0};
	for (int i = 0; i < ROUNDS; i++) {
		bson_t da, db;
		bson_value_t a, b;
		struct enc ea, eb;
		pick(&da, &a);
		pick(&db, &b);
		int want = ref_cmp(&a, &b), desc = i & 1;
		enc(&a, desc, &ea);
		enc(&b, desc, &eb);
		int got = enc_cmp(&ea, &eb);
		if (got != (desc ? -want : want)) {
			char *ja = bson_as_canonical_extended_json(&da, NULL);
			char *jb = bson_as_canonical_extended_json(&db, NULL);
			ck_abort_msg("round %d desc %d: %s vs %s: ref %d, keys %d", i,
			             desc, ja, jb, want, got);
		}
		ck_assert_msg(!is_prefix(&ea, &eb) && !is_prefix(&eb, &ea),
		              "round %d: one key a prefix of the other", i);
		/* The query library orders values by the same spec: the two
		 * must agree, or an index scan and a filter would disagree. */
		int q = mdq_compare(&a, &b);
		q = q < 0 ? -1 : q > 0;
		if (q != want) {
			char *ja = bson_as_canonical_extended_json(&da, NULL);
			char *jb = bson_as_canonical_extended_json(&db, NULL);
			ck_abort_msg("round %d: %s vs %s: layout's order %d, "
			             "mdq_compare %d", i, ja, jb, want, q);
		}
		kinds[want + 1]++;
		bson_destroy(&da);
		bson_destroy(&db);
	}
	/* the generator must make equal pairs too, not only unequal ones */
	ck_assert_int_gt(kinds[1], ROUNDS / 100);
	ck_assert_int_gt(kinds[0], ROUNDS / 10);
	ck_assert_int_gt(kinds[2], ROUNDS / 10);
}
END_TEST

/* Two fields, each ascending or descending: lexicographic in the
 * fields, as MongoDB orders a compound index. */
START_TEST(compound_keys)
{
	rs_state = seed() + 1;
	for (int i = 0; i < ROUNDS / 4; i++) {
		bson_t d[4];
		bson_value_t v[4];
		struct enc e[4], ka, kb;
		int dir[2] = {rnd_n(2), rnd_n(2)};
		for (int j = 0; j < 4; j++) {
			pick(&d[j], &v[j]);
			enc(&v[j], dir[j & 1], &e[j]);
		}
		if (rnd_n(2)) /* often equal leading fields */
			e[2] = e[0], v[2] = v[0];
		ka.n = e[0].n + e[1].n;
		memcpy(ka.b, e[0].b, e[0].n);
		memcpy(ka.b + e[0].n, e[1].b, e[1].n);
		kb.n = e[2].n + e[3].n;
		memcpy(kb.b, e[2].b, e[2].n);
		memcpy(kb.b + e[2].n, e[3].b, e[3].n);
		int want = ref_cmp(&v[0], &v[2]);
		want = dir[0] ? -want : want;
		if (!want)
			want = dir[1] ? -ref_cmp(&v[1], &v[3]) : ref_cmp(&v[1], &v[3]);
		ck_assert_int_eq(enc_cmp(&ka, &kb), want);
		for (int j = 0; j < 4; j++)
			bson_destroy(&d[j]);
	}
}
END_TEST

static void num(bson_value_t *v, int type, int64_t i, double d)
{
	v->value_type = type;
	if (type == BSON_TYPE_INT64)
		v->value.v_int64 = i;
	else if (type == BSON_TYPE_INT32)
		v->value.v_int32 = (int32_t)i;
	else
		v->value.v_double = d;
}

/* Every int64 around the edges against every double near it. */
START_TEST(numbers_exact)
{
	static const int64_t centres[] = {1ll << 53, -(1ll << 53), 1ll << 62,
	                                  INT64_MAX, INT64_MIN + 2000, 0};
	for (size_t c = 0; c < sizeof(centres) / sizeof(*centres); c++)
		for (int di = -1500; di <= 1500; di += 7) {
			int64_t i = (int64_t)((uint64_t)centres[c] + (uint64_t)(int64_t)di);
			double d = (double)i;
			double near[3] = {nextafter(d, -INFINITY), d,
			                  nextafter(d, INFINITY)};
			bson_value_t a, b;
			struct enc ea, eb;
			num(&a, BSON_TYPE_INT64, i, 0);
			enc(&a, 0, &ea);
			for (int k = 0; k < 3; k++) {
				num(&b, BSON_TYPE_DOUBLE, 0, near[k]);
				enc(&b, 0, &eb);
				ck_assert_int_eq(enc_cmp(&ea, &eb), ref_cmp(&a, &b));
			}
		}
	bson_value_t a, b;
	struct enc ea, eb;
	num(&a, BSON_TYPE_INT64, (1ll << 53) + 1, 0); /* the spec's example */
	num(&b, BSON_TYPE_DOUBLE, 0, 9007199254740992.0);
	enc(&a, 0, &ea);
	enc(&b, 0, &eb);
	ck_assert_int_gt(enc_cmp(&ea, &eb), 0);
	num(&a, BSON_TYPE_INT32, 1, 0); /* 1 == 1L == 1.0, -0.0 == 0 */
	num(&b, BSON_TYPE_DOUBLE, 0, 1.0);
	enc(&a, 0, &ea);
	enc(&b, 0, &eb);
	ck_assert_int_eq(enc_cmp(&ea, &eb), 0);
	num(&a, BSON_TYPE_INT64, 0, 0);
	num(&b, BSON_TYPE_DOUBLE, 0, -0.0);
	enc(&a, 0, &ea);
	enc(&b, 0, &eb);
	ck_assert_int_eq(enc_cmp(&ea, &eb), 0);
	num(&a, BSON_TYPE_DOUBLE, 0, NAN); /* NaN below -inf */
	num(&b, BSON_TYPE_DOUBLE, 0, -INFINITY);
	enc(&a, 0, &ea);
	enc(&b, 0, &eb);
	ck_assert_int_lt(enc_cmp(&ea, &eb), 0);
}
END_TEST

/* Too deep or too long: errors, not crashes. */
START_TEST(limits)
{
	bson_t d = BSON_INITIALIZER, *cur = &d;
	bson_t kids[MDL_DEPTH_MAX + 2];
	for (int i = 0; i < MDL_DEPTH_MAX + 2; i++) {
		bson_append_document_begin(cur, "a", 1, &kids[i]);
		cur = &kids[i];
	}
	for (int i = MDL_DEPTH_MAX + 1; i >= 0; i--)
		bson_append_document_end(i ? &kids[i - 1] : &d, &kids[i]);
	bson_iter_t it;
	bson_iter_init_find(&it, &d, "a");
	uint8_t buf[MDL_KEY_MAX];
	size_t n;
	mdl_err err;
	ck_assert_int_eq(mdl_key_encode(bson_iter_value(&it), 0, buf, sizeof(buf),
	                                &n, &err), MDL_EBAD_VALUE);
	ck_assert_int_eq(err.code, MDL_EBAD_VALUE);
	bson_value_t s = {.value_type = BSON_TYPE_UTF8};
	s.value.v_utf8.str = "0123456789";
	s.value.v_utf8.len = 10;
	ck_assert_int_eq(mdl_key_encode(&s, 0, buf, 8, &n, &err),
	                 MDL_EKEY_TOO_LONG);
	ck_assert_int_eq(mdl_key_encode(&s, 0, buf, 13, &n, NULL), 0);
	ck_assert_uint_eq(n, 13);
	bson_destroy(&d);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdl_key");
	TCase *t = tcase_create("key");
	tcase_add_test(t, order_matches);
	tcase_add_test(t, compound_keys);
	tcase_add_test(t, numbers_exact);
	tcase_add_test(t, limits);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return check_run(suite());
}
