/*
 * test_mdq_sort.c: sort orders: the spec's errors, MongoDB's array rule
 * (ascending by the smallest element, descending by the largest), missing
 * as null, and over random documents agreement with mdq_compare.
 */
#include "test_mdq.h"
#include "check_run.h"

static int sc(const char *spec, const char *a, const char *b)
{
	struct mdq_error err = { 0 };
	mdq_sort_t *s = mdq_sort_parse(J(spec), &err);
	ck_assert_msg(s != NULL, "%s: %s", spec, err.msg);
	int c = mdq_sort_compare(s, J(a), J(b));
	mdq_sort_free(s);
	return (c > 0) - (c < 0);
}

START_TEST(documented)
{
	ck_assert_int_eq(sc("{'a': 1}", "{'a': 1}", "{'a': 2}"), -1);
	ck_assert_int_eq(sc("{'a': -1}", "{'a': 1}", "{'a': 2}"), 1);
	ck_assert_int_eq(sc("{'a': 1}", "{'a': 1}", "{'a': 1.0}"), 0);
	ck_assert_int_eq(sc("{'a': 1}", "{}", "{'a': null}"), 0);
	ck_assert_int_eq(sc("{'a': 1}", "{}", "{'a': 0}"), -1);
	ck_assert_int_eq(sc("{'a': 1}", "{'a': 'x'}", "{'a': 5}"), 1);
	/* arrays: the smallest element ascending, the largest descending */
	ck_assert_int_eq(sc("{'a': 1}", "{'a': [1, 10]}", "{'a': 5}"), -1);
	ck_assert_int_eq(sc("{'a': -1}", "{'a': [1, 10]}", "{'a': 5}"), -1);
	ck_assert_int_eq(sc("{'a': 1}", "{'a': [3, 2]}", "{'a': [2, 9]}"), 0);
	ck_assert_int_eq(sc("{'a': 1}", "{'a': []}", "{'a': null}"), -1);
	ck_assert_int_eq(sc("{'a': 1}", "{'a': []}", "{'a': {'$minKey': 1}}"), 1);
	ck_assert_int_eq(sc("{'a': 1}", "{'a': [[1]]}", "{'a': 2}"), 1);
	ck_assert_int_eq(sc("{'a.b': 1}", "{'a': [{'b': 3}, {'b': 1}]}",
	                    "{'a': {'b': 2}}"), -1);
	ck_assert_int_eq(sc("{'a.b': 1}", "{'a': [{'b': 3}, {'c': 1}]}",
	                    "{'a': {'b': 2}}"), -1); /* the missing b: null */
	ck_assert_int_eq(sc("{'a': 1, 'b': -1}", "{'a': 1, 'b': 1}",
	                    "{'a': 1, 'b': 2}"), 1);
	ck_assert_int_eq(sc("{'a': 1, 'b': -1}", "{'a': 0, 'b': 1}",
	                    "{'a': 1, 'b': 2}"), -1);
	ck_assert_int_eq(sc("{}", "{'a': 0}", "{'a': 1}"), 0);
	pool_free();
}
END_TEST

START_TEST(malformed)
{
	const char *bad[] = { "{'a': 2}", "{'a': 0}", "{'a': 'x'}",
	                      "{'a': {'$meta': 'textScore'}}", "{'a': 1.5}",
	                      "{'a': 1, 'a': -1}", "{'a..b': 1}" };
	for (size_t i = 0; i < sizeof(bad) / sizeof(bad[0]); i++) {
		struct mdq_error err = { 0 };
		ck_assert_msg(mdq_sort_parse(J(bad[i]), &err) == NULL, "%s", bad[i]);
		ck_assert_int_eq(err.code, MDQ_BAD_VALUE);
	}
	struct mdq_error err;
	mdq_sort_t *s = mdq_sort_parse(J("{'a': -1.0, 'b': {'$numberLong': '1'}}"),
	                               &err);
	ck_assert(s && mdq_sort_nkeys(s) == 2);
	mdq_sort_free(s);
	pool_free();
}
END_TEST

/* Scalars: the sort is mdq_compare on the values (missing: null). */
START_TEST(agrees_random)
{
	seed(71 + (uint64_t)_i);
	mdq_sort_t *asc = mdq_sort_parse(J("{'a': 1}"), NULL);
	mdq_sort_t *desc = mdq_sort_parse(J("{'a': -1}"), NULL);
	bson_value_t null = { .value_type = BSON_TYPE_NULL };
	for (int t = 0; t < 20000; t++) {
		bson_t *a = bson_new(), *b = bson_new();
		if (rnd() % 5)
			rand_value(a, "a", 2);
		if (rnd() % 5)
			rand_value(b, "a", 2);
		bson_iter_t ia, ib;
		bson_value_t va = bson_iter_init_find(&ia, a, "a") ?
		                  *bson_iter_value(&ia) : null;
		bson_value_t vb = bson_iter_init_find(&ib, b, "a") ?
		                  *bson_iter_value(&ib) : null;
		int want = mdq_compare(&va, &vb);
		want = (want > 0) - (want < 0);
		int c = mdq_sort_compare(asc, a, b), d = mdq_sort_compare(desc, a, b);
		ck_assert_int_eq((c > 0) - (c < 0), want);
		ck_assert_int_eq((d > 0) - (d < 0), -want);
		bson_destroy(a);
		bson_destroy(b);
	}
	mdq_sort_free(asc);
	mdq_sort_free(desc);
	pool_free();
}
END_TEST

/* Arrays: ascending is by the minimum over elements, descending the max. */
START_TEST(arrays_random)
{
	seed(81 + (uint64_t)_i);
	mdq_sort_t *asc = mdq_sort_parse(J("{'a': 1}"), NULL);
	mdq_sort_t *desc = mdq_sort_parse(J("{'a': -1}"), NULL);
	for (int t = 0; t < 5000; t++) {
		bson_t *d[2];
		bson_value_t mn[2], mx[2];
		for (int k = 0; k < 2; k++) {
			bson_t arr;
			d[k] = bson_new();
			bson_append_array_begin(d[k], "a", 1, &arr);
			int n = 1 + (int)(rnd() % 4);
			for (int i = 0; i < n; i++) {
				char key[16];
				snprintf(key, sizeof(key), "%d", i);
				rand_value(&arr, key, 2);
			}
			bson_append_array_end(d[k], &arr);
			bson_iter_t it, el;
			bson_iter_init_find(&it, d[k], "a");
			bson_iter_recurse(&it, &el);
			bool first = true;
			while (bson_iter_next(&el)) {
				const bson_value_t *v = bson_iter_value(&el);
				if (first || mdq_compare(v, &mn[k]) < 0)
					mn[k] = *v;
				if (first || mdq_compare(v, &mx[k]) > 0)
					mx[k] = *v;
				first = false;
			}
		}
		int wa = mdq_compare(&mn[0], &mn[1]), wd = -mdq_compare(&mx[0], &mx[1]);
		int c = mdq_sort_compare(asc, d[0], d[1]);
		int e = mdq_sort_compare(desc, d[0], d[1]);
		ck_assert_int_eq((c > 0) - (c < 0), (wa > 0) - (wa < 0));
		ck_assert_int_eq((e > 0) - (e < 0), (wd > 0) - (wd < 0));
		bson_destroy(d[0]);
		bson_destroy(d[1]);
	}
	mdq_sort_free(asc);
	mdq_sort_free(desc);
	pool_free();
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_sort");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, documented);
	tcase_add_test(tc, malformed);
	tcase_add_loop_test(tc, agrees_random, 0, 4);
	tcase_add_loop_test(tc, arrays_random, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
