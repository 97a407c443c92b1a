/*
 * test_mdq_compare.c: mdq_compare is MongoDB's order: the documented
 * cases one by one, then random values of every type checked for the
 * properties of a total order (reflexive, antisymmetric, transitive) and
 * sorted with it.
 */
#include "test_mdq.h"
#include "check_run.h"

static int sign(int c)
{
	return (c > 0) - (c < 0);
}

/* Field a of each JSON document compared. */
static int cmp_json(const char *a, const char *b)
{
	bson_value_t va = V(J(a), "a"), vb = V(J(b), "a");
	return sign(mdq_compare(&va, &vb));
}

START_TEST(numbers)
{
	ck_assert_int_eq(cmp_json("{'a': 1}", "{'a': {'$numberLong': '1'}}"), 0);
	ck_assert_int_eq(cmp_json("{'a': 1}", "{'a': 1.0}"), 0);
	ck_assert_int_eq(cmp_json("{'a': 1}", "{'a': {'$numberDecimal': '1'}}"), 0);
	ck_assert_int_eq(cmp_json("{'a': -0.0}", "{'a': 0}"), 0);
	ck_assert_int_eq(cmp_json("{'a': {'$numberDouble': 'NaN'}}",
	                          "{'a': {'$numberDouble': 'NaN'}}"), 0);
	ck_assert_int_eq(cmp_json("{'a': {'$numberDouble': 'NaN'}}",
	                          "{'a': {'$numberDouble': '-Infinity'}}"), -1);
	ck_assert_int_eq(cmp_json("{'a': {'$numberDouble': 'NaN'}}",
	                          "{'a': {'$numberLong': '-9223372036854775808'}}"),
	                 -1);
	/* 2^53 + 1 as a long is above 2^53 as a double */
	ck_assert_int_eq(cmp_json("{'a': {'$numberLong': '9007199254740993'}}",
	                          "{'a': 9007199254740992.0}"), 1);
	ck_assert_int_eq(cmp_json("{'a': {'$numberLong': '9223372036854775807'}}",
	                          "{'a': 9223372036854775808.0}"), -1);
	ck_assert_int_eq(cmp_json("{'a': 2}", "{'a': 2.5}"), -1);
	ck_assert_int_eq(cmp_json("{'a': -2}", "{'a': -2.5}"), 1);
	ck_assert_int_eq(cmp_json("{'a': {'$numberDecimal': '2.5'}}",
	                          "{'a': 2}"), 1);
	pool_free();
}
END_TEST

START_TEST(type_ranks)
{
	const char *asc[] = {
		"{'a': {'$minKey': 1}}", "{'a': null}", "{'a': -1e300}",
		"{'a': 5}", "{'a': ''}", "{'a': 'a'}", "{'a': {}}",
		"{'a': {'x': 1}}", "{'a': []}", "{'a': [1]}",
		"{'a': {'$binary': {'base64': 'AA==', 'subType': '00'}}}",
		"{'a': {'$oid': '000000000000000000000000'}}", "{'a': false}",
		"{'a': true}", "{'a': {'$date': {'$numberLong': '-1'}}}",
		"{'a': {'$timestamp': {'t': 1, 'i': 2}}}",
		"{'a': {'$regularExpression': {'pattern': 'a', 'options': ''}}}",
		"{'a': {'$maxKey': 1}}",
	};
	size_t n = sizeof(asc) / sizeof(asc[0]);
	for (size_t i = 0; i < n; i++)
		for (size_t j = 0; j < n; j++)
			ck_assert_msg(cmp_json(asc[i], asc[j]) ==
			              (i < j ? -1 : i > j), "%s vs %s", asc[i], asc[j]);
	ck_assert_int_eq(cmp_json("{'a': null}", "{'a': {'$undefined': true}}"), 0);
	ck_assert_int_eq(cmp_json("{'a': 'b'}", "{'a': {'$symbol': 'b'}}"), 0);
	pool_free();
}
END_TEST

START_TEST(strings_and_containers)
{
	bson_t a = BSON_INITIALIZER, b = BSON_INITIALIZER;
	bson_append_utf8(&a, "a", 1, "a\0b", 3);
	bson_append_utf8(&b, "a", 1, "a", 1);
	bson_value_t va = V(&a, "a"), vb = V(&b, "a");
	ck_assert_int_gt(mdq_compare(&va, &vb), 0); /* all the bytes count */
	bson_destroy(&a);
	bson_destroy(&b);
	ck_assert_int_eq(cmp_json("{'a': 'B'}", "{'a': 'a'}"), -1); /* no collation */
	ck_assert_int_eq(cmp_json("{'a': {'x': 1}}", "{'a': {'x': 1, 'y': 0}}"), -1);
	/* the rank of the values first, then the names */
	ck_assert_int_eq(cmp_json("{'a': {'b': 1}}", "{'a': {'a': 'x'}}"), -1);
	ck_assert_int_eq(cmp_json("{'a': {'a': 1}}", "{'a': {'b': 1}}"), -1);
	ck_assert_int_eq(cmp_json("{'a': {'a': 2}}", "{'a': {'a': 1.0, 'b': 1}}"), 1);
	ck_assert_int_eq(cmp_json("{'a': [1, 2]}", "{'a': [1, 2.0]}"), 0);
	ck_assert_int_eq(cmp_json("{'a': [1, 2]}", "{'a': [1, 'a']}"), -1);
	ck_assert_int_eq(cmp_json("{'a': [2]}", "{'a': [1, 5]}"), 1);
	/* BinData: the length before the subtype and the bytes */
	ck_assert_int_eq(cmp_json(
		"{'a': {'$binary': {'base64': 'AAAA', 'subType': '00'}}}",
		"{'a': {'$binary': {'base64': 'AA==', 'subType': '05'}}}"), 1);
	ck_assert_int_eq(cmp_json("{'a': {'$timestamp': {'t': 4294967295, 'i': 0}}}",
	                          "{'a': {'$timestamp': {'t': 1, 'i': 9}}}"), 1);
	ck_assert_int_eq(mdq_compare_docs(J("{'a': 1, 'b': 2}"),
	                                  J("{'a': 1.0, 'b': 2}")), 0);
	ck_assert_int_lt(mdq_compare_docs(J("{'a': 1}"), J("{'a': 1, 'b': 2}")), 0);
	pool_free();
}
END_TEST

/* n random values of every type in an array document. */
static bson_t *rand_values(int n, bson_value_t *v)
{
	bson_t *doc = bson_new();
	char key[16];
	bson_iter_t it;
	for (int i = 0; i < n; i++) {
		snprintf(key, sizeof(key), "%d", i);
		rand_value(doc, key, 0);
	}
	bson_iter_init(&it, doc);
	for (int i = 0; bson_iter_next(&it); i++)
		v[i] = *bson_iter_value(&it);
	return doc;
}

START_TEST(total_order_random)
{
	enum { N = 400 };
	bson_value_t v[N];
	seed(1 + (uint64_t)_i);
	bson_t *doc = rand_values(N, v);
	for (int i = 0; i < N; i++) {
		ck_assert_int_eq(mdq_compare(&v[i], &v[i]), 0);
		for (int j = 0; j < N; j++)
			ck_assert_int_eq(sign(mdq_compare(&v[i], &v[j])),
			                 -sign(mdq_compare(&v[j], &v[i])));
	}
	for (int t = 0; t < 200000; t++) {
		bson_value_t *a = &v[rnd() % N], *b = &v[rnd() % N], *c = &v[rnd() % N];
		int ab = sign(mdq_compare(a, b)), bc = sign(mdq_compare(b, c));
		int ac = sign(mdq_compare(a, c));
		if (ab <= 0 && bc <= 0)
			ck_assert_int_le(ac, 0);
		if (ab == 0 && bc == 0)
			ck_assert_int_eq(ac, 0);
		if (ab < 0 && bc <= 0)
			ck_assert_int_lt(ac, 0);
	}
	bson_destroy(doc);
}
END_TEST

static int qcmp(const void *a, const void *b)
{
	return mdq_compare(a, b);
}

START_TEST(sorted_random)
{
	enum { N = 300 };
	bson_value_t v[N];
	seed(100 + (uint64_t)_i);
	bson_t *doc = rand_values(N, v);
	qsort(v, N, sizeof(v[0]), qcmp);
	for (int i = 0; i < N; i++)
		for (int j = i + 1; j < N; j++)
			ck_assert_int_le(mdq_compare(&v[i], &v[j]), 0);
	/* ranks never decrease along the sorted values */
	for (int i = 1; i < N; i++)
		ck_assert_int_le(mdq_type_rank(v[i - 1].value_type),
		                 mdq_type_rank(v[i].value_type));
	bson_destroy(doc);
}
END_TEST

/* Numbers only, against exact arithmetic in long double where it is. */
START_TEST(mixed_numbers_random)
{
	seed(7);
	for (int t = 0; t < 100000; t++) {
		int64_t i = (int64_t)(rnd() % 2001) - 1000 +
		            (rnd() % 2 ? 9007199254740992ll : 0);
		double d = (double)((int64_t)(rnd() % 2001) - 1000 +
		                    (rnd() % 2 ? 9007199254740992ll : 0)) +
		           (rnd() % 2 ? 0.5 : 0);
		bson_value_t a = { .value_type = BSON_TYPE_INT64 };
		bson_value_t b = { .value_type = BSON_TYPE_DOUBLE };
		a.value.v_int64 = i;
		b.value.v_double = d;
		long double li = (long double)i, ld = (long double)d;
		int want = (li > ld) - (li < ld);
		ck_assert_int_eq(sign(mdq_compare(&a, &b)), want);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_compare");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, numbers);
	tcase_add_test(tc, type_ranks);
	tcase_add_test(tc, strings_and_containers);
	tcase_add_loop_test(tc, total_order_random, 0, 4);
	tcase_add_loop_test(tc, sorted_random, 0, 4);
	tcase_add_test(tc, mixed_numbers_random);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
