/*
 * test_mdq_update.c: updates: each operator with MongoDB's examples (new
 * fields' order, dotted paths that create documents, array positions,
 * $inc's types, $push $each, $pull by value and by condition), _id's
 * immutability, the errors, upserts, and random $inc and $set checked
 * against arithmetic and against the filter engine.
 */
#include "test_mdq.h"
#include "check_run.h"

static bool same(const bson_t *a, const bson_t *b)
{
	return a->len == b->len && !memcmp(bson_get_data(a), bson_get_data(b),
	                                   a->len);
}

/* upd applied to doc gives want, changed or not as said. */
static void upd(const char *update, const char *doc, const char *want,
                bool changed)
{
	struct mdq_error err = { 0 };
	mdq_update_t *u = mdq_update_parse(J(update), &err);
	ck_assert_msg(u != NULL, "%s: %d %s", update, err.code, err.msg);
	bson_t out = BSON_INITIALIZER;
	bool ch = !changed;
	int rc = mdq_update_apply(u, J(doc), &out, &ch, &err);
	ck_assert_msg(rc == 0, "%s on %s: %d %s", update, doc, err.code, err.msg);
	bson_t *w = J(want);
	ck_assert_msg(same(&out, w), "%s on %s: %s, want %s", update, doc,
	              S(&out), S(w));
	ck_assert_msg(ch == changed, "%s on %s: changed %d", update, doc, ch);
	bson_destroy(&out);
	mdq_update_free(u);
}

static void upd_fails(const char *update, const char *doc, int code)
{
	struct mdq_error err = { 0 };
	mdq_update_t *u = mdq_update_parse(J(update), &err);
	if (u) {
		bson_t out = BSON_INITIALIZER;
		bool ch;
		ck_assert_msg(mdq_update_apply(u, J(doc), &out, &ch, &err) == -1,
		              "%s on %s: %s", update, doc, S(&out));
		bson_destroy(&out);
		mdq_update_free(u);
	}
	ck_assert_msg(err.code == code, "%s on %s: code %d (%s)", update, doc,
	              err.code, err.msg);
}

START_TEST(set_unset)
{
	upd("{'$set': {'a': 2}}", "{'_id': 1, 'a': 1, 'b': 1}",
	    "{'_id': 1, 'a': 2, 'b': 1}", true);
	upd("{'$set': {'a': 1}}", "{'_id': 1, 'a': 1}", "{'_id': 1, 'a': 1}", false);
	upd("{'$set': {'a': 1.0}}", "{'_id': 1, 'a': 1}", "{'_id': 1, 'a': 1.0}",
	    true);
	/* new fields after the old ones, by name, numeric names by number */
	upd("{'$set': {'z': 1, 'c': 2, 'a': 0}}", "{'_id': 1, 'a': 1}",
	    "{'_id': 1, 'a': 0, 'c': 2, 'z': 1}", true);
	upd("{'$set': {'10': 1, '9': 2, 'b': 3}}", "{'_id': 1}",
	    "{'_id': 1, '9': 2, '10': 1, 'b': 3}", true);
	upd("{'$set': {'a.b.c': 1}}", "{'_id': 1}",
	    "{'_id': 1, 'a': {'b': {'c': 1}}}", true);
	upd("{'$set': {'a.c': 1, 'a.b': 2}}", "{'_id': 1, 'a': {'x': 0}}",
	    "{'_id': 1, 'a': {'x': 0, 'b': 2, 'c': 1}}", true);
	upd("{'$set': {'a.1': 9}}", "{'_id': 1, 'a': [1, 2, 3]}",
	    "{'_id': 1, 'a': [1, 9, 3]}", true);
	upd("{'$set': {'a.4': 9}}", "{'_id': 1, 'a': [1]}",
	    "{'_id': 1, 'a': [1, null, null, null, 9]}", true);
	upd("{'$set': {'a.0.b': 9}}", "{'_id': 1, 'a': [{'b': 1, 'c': 1}]}",
	    "{'_id': 1, 'a': [{'b': 9, 'c': 1}]}", true);
	upd("{'$unset': {'a': 1}}", "{'_id': 1, 'a': 1, 'b': 2}",
	    "{'_id': 1, 'b': 2}", true);
	upd("{'$unset': {'x': ''}}", "{'_id': 1, 'a': 1}", "{'_id': 1, 'a': 1}",
	    false);
	upd("{'$unset': {'a.b': 1}}", "{'_id': 1, 'a': {'b': 1, 'c': 1}}",
	    "{'_id': 1, 'a': {'c': 1}}", true);
	upd("{'$unset': {'a.b': 1}}", "{'_id': 1, 'a': 5}", "{'_id': 1, 'a': 5}",
	    false);
	upd("{'$unset': {'x.y': 1}}", "{'_id': 1}", "{'_id': 1}", false);
	upd("{'$unset': {'a.1': 1}}", "{'_id': 1, 'a': [1, 2, 3]}",
	    "{'_id': 1, 'a': [1, null, 3]}", true);
	upd("{'$set': {}}", "{'_id': 1}", "{'_id': 1}", false);
	pool_free();
}
END_TEST

START_TEST(inc)
{
	upd("{'$inc': {'a': 1}}", "{'_id': 1, 'a': 1}", "{'_id': 1, 'a': 2}", true);
	upd("{'$inc': {'a': -2, 'b': 5}}", "{'_id': 1, 'a': 1}",
	    "{'_id': 1, 'a': -1, 'b': 5}", true);
	upd("{'$inc': {'a': 1}}", "{'_id': 1, 'a': 2147483647}",
	    "{'_id': 1, 'a': {'$numberLong': '2147483648'}}", true);
	upd("{'$inc': {'a': -1}}", "{'_id': 1, 'a': -2147483648}",
	    "{'_id': 1, 'a': {'$numberLong': '-2147483649'}}", true);
	upd("{'$inc': {'a': {'$numberLong': '1'}}}", "{'_id': 1, 'a': 1}",
	    "{'_id': 1, 'a': {'$numberLong': '2'}}", true);
	upd("{'$inc': {'a': 0.5}}", "{'_id': 1, 'a': 1}", "{'_id': 1, 'a': 1.5}",
	    true);
	upd("{'$inc': {'a': 1}}", "{'_id': 1, 'a': 1.5}", "{'_id': 1, 'a': 2.5}",
	    true);
	upd("{'$inc': {'a': 0}}", "{'_id': 1, 'a': 1}", "{'_id': 1, 'a': 1}", false);
	upd("{'$inc': {'a.b': 2}}", "{'_id': 1}", "{'_id': 1, 'a': {'b': 2}}", true);
	upd_fails("{'$inc': {'a': 1}}", "{'_id': 1, 'a': 'x'}", MDQ_TYPE_MISMATCH);
	upd_fails("{'$inc': {'a': 1}}", "{'_id': 1, 'a': null}", MDQ_TYPE_MISMATCH);
	upd_fails("{'$inc': {'a': 'x'}}", "{'_id': 1}", MDQ_TYPE_MISMATCH);
	upd_fails("{'$inc': {'a': null}}", "{'_id': 1}", MDQ_TYPE_MISMATCH);
	pool_free();
}
END_TEST

START_TEST(push_pull)
{
	upd("{'$push': {'a': 3}}", "{'_id': 1, 'a': [1, 2]}",
	    "{'_id': 1, 'a': [1, 2, 3]}", true);
	upd("{'$push': {'a': [3]}}", "{'_id': 1, 'a': []}",
	    "{'_id': 1, 'a': [[3]]}", true);
	upd("{'$push': {'a': 1}}", "{'_id': 1}", "{'_id': 1, 'a': [1]}", true);
	upd("{'$push': {'a': {'$each': [3, 4]}}}", "{'_id': 1, 'a': [1]}",
	    "{'_id': 1, 'a': [1, 3, 4]}", true);
	upd("{'$push': {'a': {'$each': []}}}", "{'_id': 1, 'a': [1]}",
	    "{'_id': 1, 'a': [1]}", false);
	upd("{'$push': {'a.b': 1}}", "{'_id': 1, 'a': {}}",
	    "{'_id': 1, 'a': {'b': [1]}}", true);
	upd("{'$pull': {'a': 2}}", "{'_id': 1, 'a': [1, 2, 3, 2.0]}",
	    "{'_id': 1, 'a': [1, 3]}", true);
	upd("{'$pull': {'a': 9}}", "{'_id': 1, 'a': [1]}", "{'_id': 1, 'a': [1]}",
	    false);
	upd("{'$pull': {'a': {'$gte': 6}}}", "{'_id': 1, 'a': [5, 6, 7, 'x']}",
	    "{'_id': 1, 'a': [5, 'x']}", true);
	upd("{'$pull': {'a': {'$in': ['x', 5]}}}", "{'_id': 1, 'a': [5, 6, 'x']}",
	    "{'_id': 1, 'a': [6]}", true);
	upd("{'$pull': {'r': {'score': 8, 'item': 'B'}}}",
	    "{'_id': 1, 'r': [{'item': 'A', 'score': 5}, "
	    "{'item': 'B', 'score': 8, 'c': 'x'}, 8]}",
	    "{'_id': 1, 'r': [{'item': 'A', 'score': 5}, 8]}", true);
	upd("{'$pull': {'a': [1, 2]}}", "{'_id': 1, 'a': [[1, 2], [2, 1]]}",
	    "{'_id': 1, 'a': [[2, 1]]}", true);
	upd("{'$pull': {'x': 1}}", "{'_id': 1}", "{'_id': 1}", false);
	upd_fails("{'$push': {'a': 1}}", "{'_id': 1, 'a': 5}", MDQ_BAD_VALUE);
	upd_fails("{'$pull': {'a': 1}}", "{'_id': 1, 'a': 5}", MDQ_BAD_VALUE);
	upd_fails("{'$push': {'a': {'$each': 1}}}", "{'_id': 1}", MDQ_BAD_VALUE);
	upd_fails("{'$push': {'a': {'$each': [1], '$slice': 2}}}", "{'_id': 1}",
	          MDQ_BAD_VALUE);
	upd_fails("{'$pull': {'a': {'$bad': 1}}}", "{'_id': 1}", MDQ_BAD_VALUE);
	pool_free();
}
END_TEST

START_TEST(replacement_and_id)
{
	struct mdq_error err;
	mdq_update_t *u = mdq_update_parse(J("{'b': 2}"), &err);
	ck_assert(u && mdq_update_is_replacement(u));
	mdq_update_free(u);
	upd("{'b': 2, 'c': 3}", "{'_id': 7, 'a': 1}", "{'_id': 7, 'b': 2, 'c': 3}",
	    true);
	upd("{'b': 2, '_id': 7}", "{'_id': 7, 'a': 1}", "{'_id': 7, 'b': 2}", true);
	upd("{'a': 1}", "{'_id': 7, 'a': 1}", "{'_id': 7, 'a': 1}", false);
	upd("{}", "{'_id': 7, 'a': 1}", "{'_id': 7}", true);
	upd_fails("{'_id': 8, 'b': 2}", "{'_id': 7}", MDQ_IMMUTABLE_FIELD);
	upd_fails("{'$set': {'_id': 8}}", "{'_id': 7}", MDQ_IMMUTABLE_FIELD);
	upd_fails("{'$set': {'_id': 7.0}}", "{'_id': 7}", MDQ_IMMUTABLE_FIELD);
	upd_fails("{'$unset': {'_id': 1}}", "{'_id': 7}", MDQ_IMMUTABLE_FIELD);
	upd_fails("{'$inc': {'_id': 1}}", "{'_id': 7}", MDQ_IMMUTABLE_FIELD);
	upd_fails("{'$set': {'_id.x': 1}}", "{'_id': {'y': 1}}",
	          MDQ_IMMUTABLE_FIELD);
	upd("{'$set': {'_id': 7, 'a': 2}}", "{'_id': 7}", "{'_id': 7, 'a': 2}",
	    true);
	pool_free();
}
END_TEST

START_TEST(malformed)
{
	upd_fails("{'$set': {'a': 1}, 'b': 2}", "{}", MDQ_FAILED_TO_PARSE);
	upd_fails("{'b': 2, '$set': {'a': 1}}", "{}", MDQ_FAILED_TO_PARSE);
	upd_fails("{'$foo': {'a': 1}}", "{}", MDQ_FAILED_TO_PARSE);
	upd_fails("{'$set': 5}", "{}", MDQ_FAILED_TO_PARSE);
	upd_fails("{'$set': {'a': 1}, '$inc': {'a': 1}}", "{}",
	          MDQ_CONFLICTING_UPDATE_OPERATORS);
	upd_fails("{'$set': {'a.b': 1}, '$unset': {'a': 1}}", "{}",
	          MDQ_CONFLICTING_UPDATE_OPERATORS);
	upd_fails("{'$set': {'a': 1}, '$push': {'a.b': 1}}", "{}",
	          MDQ_CONFLICTING_UPDATE_OPERATORS);
	upd_fails("{'$set': {'a..b': 1}}", "{}", MDQ_BAD_VALUE);
	upd_fails("{'$set': {'$a': 1}}", "{}", MDQ_BAD_VALUE);
	upd_fails("{'$set': {'a.x': 1}}", "{'_id': 1, 'a': null}",
	          MDQ_PATH_NOT_VIABLE);
	upd_fails("{'$set': {'a.b': 1}}", "{'_id': 1, 'a': 5}",
	          MDQ_PATH_NOT_VIABLE);
	upd_fails("{'$set': {'a.x': 1}}", "{'_id': 1, 'a': [1]}",
	          MDQ_PATH_NOT_VIABLE);
	upd_fails("{'$set': {'a.999999999': 1}}", "{'_id': 1, 'a': []}",
	          MDQ_BAD_VALUE);
	pool_free();
}
END_TEST

static void ups(const char *update, const char *filter, const char *want)
{
	struct mdq_error err = { 0 };
	mdq_update_t *u = mdq_update_parse(J(update), &err);
	ck_assert_ptr_nonnull(u);
	bson_t out = BSON_INITIALIZER;
	int rc = mdq_update_upsert(u, J(filter), &out, &err);
	ck_assert_msg(rc == 0, "%s %s: %s", update, filter, err.msg);
	bson_t *w = J(want);
	ck_assert_msg(same(&out, w), "%s with %s: %s, want %s", update, filter,
	              S(&out), S(w));
	bson_destroy(&out);
	mdq_update_free(u);
}

START_TEST(upsert)
{
	ups("{'$set': {'b': 2}}", "{'a': 1}", "{'a': 1, 'b': 2}");
	ups("{'$set': {'b': 2}}", "{'a': 1, '_id': 5}", "{'_id': 5, 'a': 1, 'b': 2}");
	ups("{'$inc': {'n': 1}}", "{'a': {'$gt': 1}, 'k': {'$eq': 'x'}}",
	    "{'k': 'x', 'n': 1}");
	ups("{'$set': {'c': 1}}", "{'a.b': 1, '$and': [{'d': 2}], '$or': [{'e': 1}]}",
	    "{'a': {'b': 1}, 'd': 2, 'c': 1}");
	ups("{'$push': {'l': 1}}", "{}", "{'l': [1]}");
	ups("{'x': 1}", "{'_id': 3, 'a': 1}", "{'_id': 3, 'x': 1}");
	ups("{'x': 1, '_id': 4}", "{'a': 1}", "{'_id': 4, 'x': 1}");
	ups("{'x': 1}", "{'a': 1}", "{'x': 1}");
	struct mdq_error err = { 0 };
	mdq_update_t *u = mdq_update_parse(J("{'$set': {'_id': 2}}"), &err);
	bson_t out = BSON_INITIALIZER;
	ck_assert_int_eq(mdq_update_upsert(u, J("{'_id': 1}"), &out, &err), -1);
	ck_assert_int_eq(err.code, MDQ_IMMUTABLE_FIELD);
	bson_destroy(&out);
	mdq_update_free(u);
	u = mdq_update_parse(J("{'_id': 2}"), &err);
	bson_init(&out);
	ck_assert_int_eq(mdq_update_upsert(u, J("{'_id': 1}"), &out, &err), -1);
	ck_assert_int_eq(err.code, MDQ_IMMUTABLE_FIELD);
	bson_destroy(&out);
	mdq_update_free(u);
	pool_free();
}
END_TEST

/* $inc of random int32/int64/double pairs against exact arithmetic. */
START_TEST(inc_random)
{
	static const int64_t edge[] = { 0, 1, -1, INT32_MAX, INT32_MIN,
	                                INT64_MAX, INT64_MIN, 1ll << 40 };
	seed(51);
	for (int t = 0; t < 20000; t++) {
		bson_t doc = BSON_INITIALIZER, upd = BSON_INITIALIZER, set, out;
		/* wrapping on purpose: INT64_MAX + 1 is INT64_MIN */
		int64_t x = (int64_t)((uint64_t)edge[rnd() % 8] + rnd() % 3 - 1);
		int64_t y = (int64_t)((uint64_t)edge[rnd() % 8] + rnd() % 3 - 1);
		int tx = (int)(rnd() % 3), ty = (int)(rnd() % 3);
		if (tx == 0) x = (int32_t)x;
		if (ty == 0) y = (int32_t)y;
		bson_append_int32(&doc, "_id", 3, 1);
		bson_append_document_begin(&upd, "$inc", 4, &set);
		if (tx == 0) bson_append_int32(&doc, "a", 1, (int32_t)x);
		else if (tx == 1) bson_append_int64(&doc, "a", 1, x);
		else bson_append_double(&doc, "a", 1, (double)x);
		if (ty == 0) bson_append_int32(&set, "a", 1, (int32_t)y);
		else if (ty == 1) bson_append_int64(&set, "a", 1, y);
		else bson_append_double(&set, "a", 1, (double)y);
		bson_append_document_end(&upd, &set);
		mdq_update_t *u = mdq_update_parse(&upd, NULL);
		ck_assert_ptr_nonnull(u);
		bson_init(&out);
		ck_assert_int_eq(mdq_update_apply(u, &doc, &out, NULL, NULL), 0);
		bson_value_t r = V(&out, "a");
		__int128 exact = (__int128)x + y;
		if (tx == 2 || ty == 2 || exact > INT64_MAX || exact < INT64_MIN) {
			ck_assert_int_eq(r.value_type, BSON_TYPE_DOUBLE);
			ck_assert(r.value.v_double == (double)x + (double)y);
		} else if (tx == 0 && ty == 0 && exact >= INT32_MIN &&
		           exact <= INT32_MAX) {
			ck_assert_int_eq(r.value_type, BSON_TYPE_INT32);
			ck_assert(r.value.v_int32 == exact);
		} else {
			ck_assert_int_eq(r.value_type, BSON_TYPE_INT64);
			ck_assert(r.value.v_int64 == exact);
		}
		mdq_update_free(u);
		bson_destroy(&out);
		bson_destroy(&doc);
		bson_destroy(&upd);
	}
}
END_TEST

/* $set of a random value at a random path: the filter engine finds it,
 * the fields it did not name are kept, and the update is idempotent. */
START_TEST(set_random)
{
	static const char *paths[] = { "a", "b", "a.b", "a.c", "c.d.e", "a.0",
	                               "b.1.x" };
	seed(61 + (uint64_t)_i);
	int applied = 0;
	for (int t = 0; t < 3000; t++) {
		bson_t *doc = bson_new(), upd = BSON_INITIALIZER, set, out, again;
		bson_append_int32(doc, "_id", 3, 7);
		const char *names[] = { "a", "b", "c" };
		for (int i = 0; i < 3; i++)
			if (rnd() % 2)
				rand_value(doc, names[i], 0);
		const char *path = paths[rnd() % 7];
		bson_append_document_begin(&upd, "$set", 4, &set);
		rand_value(&set, path, 1);
		bson_append_document_end(&upd, &set);
		bson_value_t x = V(&set, path);
		mdq_update_t *u = mdq_update_parse(&upd, NULL);
		ck_assert_ptr_nonnull(u);
		bson_init(&out);
		struct mdq_error err = { 0 };
		bool ch;
		if (mdq_update_apply(u, doc, &out, &ch, &err)) {
			ck_assert_msg(err.code == MDQ_PATH_NOT_VIABLE, "%s on %s: %s",
			              S(&upd), S(doc), err.msg);
		} else {
			applied++;
			bson_t fd = BSON_INITIALIZER, op;
			bson_append_document_begin(&fd, path, -1, &op);
			bson_append_value(&op, "$eq", 3, &x);
			bson_append_document_end(&fd, &op);
			mdq_filter_t *f = mdq_filter_parse(&fd, NULL);
			if (x.value_type != BSON_TYPE_REGEX && f)
				ck_assert_msg(mdq_filter_match(f, &out), "%s on %s: %s",
				              S(&upd), S(doc), S(&out));
			mdq_filter_free(f);
			bson_destroy(&fd);
			bson_init(&again);
			ck_assert_int_eq(mdq_update_apply(u, &out, &again, &ch, NULL), 0);
			ck_assert(!ch && same(&again, &out));
			bson_destroy(&again);
			/* the first field, _id, is where it was */
			bson_iter_t it;
			bson_iter_init(&it, &out);
			ck_assert(bson_iter_next(&it) && !strcmp(bson_iter_key(&it), "_id"));
		}
		mdq_update_free(u);
		bson_destroy(&out);
		bson_destroy(&upd);
		bson_destroy(doc);
	}
	ck_assert_int_gt(applied, 1000);
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_update");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, set_unset);
	tcase_add_test(tc, inc);
	tcase_add_test(tc, push_pull);
	tcase_add_test(tc, replacement_and_id);
	tcase_add_test(tc, malformed);
	tcase_add_test(tc, upsert);
	tcase_add_test(tc, inc_random);
	tcase_add_loop_test(tc, set_random, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
