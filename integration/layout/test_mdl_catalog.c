/*
 * test_mdl_catalog.c: the catalog on a real WiredTiger: create, drop,
 * rename, list, stats, index definitions, their errors, a rolled back
 * create, and everything again after close and open.
 */
#include <check.h>
#include "check_run.h"
#include <string.h>

#include "wtfix.h"

static int names(const char *ns, const bson_t *e, void *arg)
{
	(void)e;
	strcat(arg, ns);
	strcat(arg, " ");
	return 0;
}

static void expect_list(const char *db, const char *want)
{
	char got[1024] = "";
	OK(mdl_list_collections(st, ses, db, names, got, &err));
	ck_assert_str_eq(got, want);
}

static void expect_dbs(const char *want)
{
	char got[1024] = "";
	OK(mdl_list_databases(st, ses, names, got, &err));
	ck_assert_str_eq(got, want);
}

static int64_t put(const char *ns, int id, const char *s)
{
	mdl_coll *c;
	int64_t rid;
	bson_t d = BSON_INITIALIZER;
	BSON_APPEND_INT32(&d, "_id", id);
	BSON_APPEND_UTF8(&d, "s", s);
	OK(mdl_coll_open(st, ses, ns, &c, &err));
	OK(TXN(mdl_insert(c, &d, &rid, &err)));
	mdl_coll_close(c);
	bson_destroy(&d);
	return rid;
}

START_TEST(create_drop_rename_list)
{
	OK(TXN(mdl_create_collection(st, ses, "a.x", &err)));
	OK(TXN(mdl_create_collection(st, ses, "a.y", &err)));
	OK(TXN(mdl_create_collection(st, ses, "b.x", &err)));
	OK(TXN(mdl_create_collection(st, ses, "a-b.x", &err)));
	ck_assert_int_eq(TXN(mdl_create_collection(st, ses, "a.x", &err)),
	                 MDL_ENS_EXISTS);
	ck_assert_int_eq(err.code, MDL_ENS_EXISTS);
	const char *bad[] = {"nodot", ".x", "a.", "a$b.x", "a.x$y", "a b.x",
	                     "a..x", ""};
	for (size_t i = 0; i < sizeof(bad) / sizeof(*bad); i++)
		ck_assert_int_eq(TXN(mdl_create_collection(st, ses, bad[i], &err)),
		                 MDL_EINVALID_NS);
	char longns[300];
	memset(longns, 'c', sizeof(longns));
	longns[0] = 'd';
	longns[1] = '.';
	longns[299] = '\0';
	ck_assert_int_eq(TXN(mdl_create_collection(st, ses, longns, &err)),
	                 MDL_EINVALID_NS);
	expect_list(NULL, "a-b.x a.x a.y b.x ");
	expect_list("a", "a.x a.y ");
	expect_dbs("a-b a b ");
	put("a.x", 1, "one");
	OK(TXN(mdl_rename_collection(st, ses, "a.x", "a.z", &err)));
	OK(TXN(mdl_rename_collection(st, ses, "a.z", "c.w", &err)));
	ck_assert_int_eq(TXN(mdl_rename_collection(st, ses, "c.w", "a.y", &err)),
	                 MDL_ENS_EXISTS);
	ck_assert_int_eq(TXN(mdl_rename_collection(st, ses, "q.q", "q.r", &err)),
	                 MDL_ENS_NOT_FOUND);
	expect_list(NULL, "a-b.x a.y b.x c.w ");
	mdl_coll *c;
	int64_t n, size;
	OK(mdl_coll_open(st, ses, "c.w", &c, &err)); /* the data came along */
	OK(mdl_coll_stats(c, &n, &size, &err));
	ck_assert_int_eq(n, 1);
	mdl_coll_close(c);
	OK(TXN(mdl_drop_collection(st, ses, "a.y", &err)));
	ck_assert_int_eq(TXN(mdl_drop_collection(st, ses, "a.y", &err)),
	                 MDL_ENS_NOT_FOUND);
	ck_assert_int_eq(mdl_coll_open(st, ses, "a.y", &c, &err),
	                 MDL_ENS_NOT_FOUND);
	int dropped;
	OK(mdl_reap(st, &dropped, &err));
	ck_assert_int_eq(dropped, 2); /* a.y's collection and _id_ */
	expect_dbs("a-b b c ");
}
END_TEST

START_TEST(survives_reopen)
{
	bson_t key = BSON_INITIALIZER, e;
	BSON_APPEND_INT32(&key, "s", -1);
	OK(TXN(mdl_create_collection(st, ses, "d.c", &err)));
	OK(TXN(mdl_create_index(st, ses, "d.c", "s_-1", &key, 0, &err)));
	int64_t r1 = put("d.c", 1, "one");
	int64_t r2 = put("d.c", 2, "two");
	ck_assert_int_lt(r1, r2);
	wt_down();
	wt_up();
	expect_list(NULL, "d.c ");
	OK(mdl_catalog_entry(st, ses, "d.c", &e, &err));
	char *j = bson_as_relaxed_extended_json(&e, NULL);
	ck_assert_ptr_nonnull(strstr(j, "\"s_-1\""));
	ck_assert_ptr_nonnull(strstr(j, "\"_id_\""));
	bson_free(j);
	bson_destroy(&e);
	mdl_coll *c;
	int64_t n, size, rid;
	bson_t doc;
	OK(mdl_coll_open(st, ses, "d.c", &c, &err));
	OK(mdl_validate(c, &err));
	OK(mdl_coll_stats(c, &n, &size, &err));
	ck_assert_int_eq(n, 2);
	ck_assert_int_gt(size, 20);
	bson_value_t id = {.value_type = BSON_TYPE_INT32, .value.v_int32 = 2};
	OK(mdl_find_id(c, &id, &rid, &doc, &err));
	ck_assert_int_eq(rid, r2);
	mdl_coll_close(c);
	ck_assert_int_gt(put("d.c", 3, "three"), r2); /* the counter goes on */
	bson_destroy(&key);
}
END_TEST

START_TEST(rolled_back_create)
{
	begin();
	OK(mdl_create_collection(st, ses, "e.c", &err));
	rollback();
	expect_list(NULL, "");
	int dropped;
	OK(mdl_reap(st, &dropped, &err));
	ck_assert_int_eq(dropped, 2); /* the orphans it made */
	OK(TXN(mdl_create_collection(st, ses, "e.c", &err)));
	OK(mdl_reap(st, &dropped, &err));
	ck_assert_int_eq(dropped, 0);
	put("e.c", 1, "x");
	/* a crash between the tables and the catalog: mdl_open reaps them */
	begin();
	OK(mdl_create_collection(st, ses, "e.d", &err));
	rollback();
	wt_down();
	wt_up();
	OK(mdl_reap(st, &dropped, &err));
	ck_assert_int_eq(dropped, 0);
	expect_list(NULL, "e.c ");
	mdl_coll *c;
	int64_t n, size;
	OK(mdl_coll_open(st, ses, "e.c", &c, &err));
	OK(mdl_coll_stats(c, &n, &size, &err));
	ck_assert_int_eq(n, 1);
	mdl_coll_close(c);
}
END_TEST

START_TEST(index_definitions)
{
	bson_t k1 = BSON_INITIALIZER, k2 = BSON_INITIALIZER, bad;
	BSON_APPEND_INT32(&k1, "a", 1);
	BSON_APPEND_INT32(&k2, "b.c", -1);
	BSON_APPEND_INT32(&k2, "a", 1);
	OK(TXN(mdl_create_collection(st, ses, "f.c", &err)));
	OK(TXN(mdl_create_index(st, ses, "f.c", "a_1", &k1, 0, &err)));
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, "f.c", "a_1", &k1, 0,
	                                      &err)), MDL_EINDEX_EXISTS);
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, "f.c", "a_1", &k1, 1,
	                                      &err)), MDL_EINDEX_KEYS);
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, "f.c", "a_1", &k2, 0,
	                                      &err)), MDL_EINDEX_KEYS);
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, "f.c", "other", &k1, 0,
	                                      &err)), MDL_EINDEX_OPTS);
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, "g.c", "x", &k1, 0,
	                                      &err)), MDL_ENS_NOT_FOUND);
	OK(TXN(mdl_create_index(st, ses, "f.c", "bc_a", &k2, 1, &err)));
	const char *badkeys[] = {"{}", "{\"a\": \"text\"}", "{\"a\": 0}",
	                         "{\"$a\": 1}", "{\"a..b\": 1}", "{\"a.\": 1}",
	                         "{\"a\": 1, \"a\": -1}"};
	for (size_t i = 0; i < sizeof(badkeys) / sizeof(*badkeys); i++) {
		ck_assert(bson_init_from_json(&bad, badkeys[i], -1, NULL));
		ck_assert_int_eq(TXN(mdl_create_index(st, ses, "f.c", "bad", &bad, 0,
		                                      &err)), MDL_EBAD_VALUE);
		bson_destroy(&bad);
	}
	ck_assert_int_eq(TXN(mdl_create_index(st, ses, "f.c", "", &k1, 0, &err)),
	                 MDL_EBAD_VALUE);
	ck_assert_int_eq(TXN(mdl_drop_index(st, ses, "f.c", "_id_", &err)),
	                 MDL_EILLEGAL);
	ck_assert_int_eq(TXN(mdl_drop_index(st, ses, "f.c", "nope", &err)),
	                 MDL_EINDEX_NOT_FOUND);
	OK(TXN(mdl_drop_index(st, ses, "f.c", "a_1", &err)));
	bson_t e;
	OK(mdl_catalog_entry(st, ses, "f.c", &e, &err));
	char *j = bson_as_relaxed_extended_json(&e, NULL);
	ck_assert_ptr_null(strstr(j, "a_1"));
	ck_assert_ptr_nonnull(strstr(j, "bc_a"));
	bson_free(j);
	bson_destroy(&e);
	int dropped;
	OK(mdl_reap(st, &dropped, &err));
	ck_assert_int_eq(dropped, 1);
	bson_destroy(&k1);
	bson_destroy(&k2);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdl_catalog");
	TCase *t = tcase_create("catalog");
	tcase_add_checked_fixture(t, setup, teardown);
	tcase_add_test(t, create_drop_rename_list);
	tcase_add_test(t, survives_reopen);
	tcase_add_test(t, rolled_back_create);
	tcase_add_test(t, index_definitions);
	suite_add_tcase(s, t);
	return s;
}

int main(void)
{
	return wt_main(suite());
}
