/*
 * test_mdq_project.c: projections: MongoDB's examples (inclusion,
 * exclusion, _id, dotted paths through documents and arrays), the errors,
 * and over random documents: an inclusion of some fields equals the
 * exclusion of all the others.
 */
#include "test_mdq.h"
#include "check_run.h"

static void proj(const char *spec, const char *doc, const char *want)
{
	struct mdq_error err = { 0 };
	mdq_projection_t *p = mdq_projection_parse(J(spec), &err);
	ck_assert_msg(p != NULL, "%s: %s", spec, err.msg);
	bson_t out = BSON_INITIALIZER;
	mdq_projection_apply(p, J(doc), &out);
	bson_t *w = J(want);
	ck_assert_msg(out.len == w->len && !memcmp(bson_get_data(&out),
	              bson_get_data(w), w->len), "%s on %s: %s, want %s", spec,
	              doc, S(&out), S(w));
	bson_destroy(&out);
	mdq_projection_free(p);
}

START_TEST(documented)
{
	const char *d = "{'_id': 1, 'a': 1, 'b': {'c': 2, 'd': 3}, 'e': 4}";
	proj("{}", d, d);
	proj("{'a': 1}", d, "{'_id': 1, 'a': 1}");
	proj("{'a': true, 'e': 1}", d, "{'_id': 1, 'a': 1, 'e': 4}");
	proj("{'e': 1, 'a': 1}", d, "{'_id': 1, 'a': 1, 'e': 4}"); /* doc order */
	proj("{'a': 1, '_id': 0}", d, "{'a': 1}");
	proj("{'_id': 1}", d, "{'_id': 1}");
	proj("{'_id': 0}", d, "{'a': 1, 'b': {'c': 2, 'd': 3}, 'e': 4}");
	proj("{'b.c': 1}", d, "{'_id': 1, 'b': {'c': 2}}");
	proj("{'b.c': 0}", d, "{'_id': 1, 'a': 1, 'b': {'d': 3}, 'e': 4}");
	proj("{'a': 0, 'e': 0}", d, "{'_id': 1, 'b': {'c': 2, 'd': 3}}");
	proj("{'b.x': 1}", d, "{'_id': 1, 'b': {}}");
	proj("{'a.x': 1}", d, "{'_id': 1}");
	proj("{'a.x': 0}", d, d);
	proj("{'zz': 1}", d, "{'_id': 1}");
	/* through arrays: documents projected, scalars dropped on inclusion */
	proj("{'a.b': 1}", "{'_id': 1, 'a': [1, {'b': 2, 'c': 3}, [{'b': 4}]]}",
	     "{'_id': 1, 'a': [{'b': 2}, [{'b': 4}]]}");
	proj("{'a.b': 0}", "{'_id': 1, 'a': [1, {'b': 2, 'c': 3}]}",
	     "{'_id': 1, 'a': [1, {'c': 3}]}");
	proj("{'a': 1}", "{'a': 1}", "{'a': 1}"); /* no _id to keep */
	pool_free();
}
END_TEST

static void refused(const char *spec, int code)
{
	struct mdq_error err = { 0 };
	ck_assert_msg(mdq_projection_parse(J(spec), &err) == NULL, "%s", spec);
	ck_assert_msg(err.code == code, "%s: %d %s", spec, err.code, err.msg);
}

START_TEST(malformed)
{
	refused("{'a': 1, 'b': 0}", MDQ_PROJ_EXCLUSION_IN_INCLUSION);
	refused("{'a': 0, 'b': 1}", MDQ_PROJ_INCLUSION_IN_EXCLUSION);
	refused("{'a': 1, 'a.b': 1}", MDQ_PROJ_PATH_COLLISION);
	refused("{'a.b': 1, 'a': 1}", MDQ_PROJ_PATH_COLLISION);
	refused("{'a': 'x'}", MDQ_BAD_VALUE);
	refused("{'a': {'$slice': 1}}", MDQ_BAD_VALUE);
	refused("{'a..b': 1}", MDQ_BAD_VALUE);
	refused("{'$a': 1}", MDQ_BAD_VALUE);
	/* _id may be excluded in an inclusion and the reverse */
	struct mdq_error err;
	mdq_projection_t *p = mdq_projection_parse(J("{'_id': 0, 'a': 1}"), &err);
	ck_assert_ptr_nonnull(p);
	mdq_projection_free(p);
	p = mdq_projection_parse(J("{'_id': 1, 'a': 0}"), &err);
	ck_assert_ptr_nonnull(p);
	mdq_projection_free(p);
	pool_free();
}
END_TEST

static const char *names[] = { "_id", "a", "b", "c", "d", "e" };

/* Inclusion of a random subset of fields == exclusion of the rest. */
START_TEST(include_is_exclude_random)
{
	seed(41 + (uint64_t)_i);
	for (int t = 0; t < 3000; t++) {
		bson_t *doc = bson_new(), inc = BSON_INITIALIZER,
		       exc = BSON_INITIALIZER;
		unsigned mask = (unsigned)rnd() & 63;
		for (int i = 0; i < 6; i++)
			if (rnd() % 3)
				rand_value(doc, names[i], 0);
		bool any = false;
		for (int i = 1; i < 6; i++) {
			if (mask & (1u << i)) {
				bson_append_int32(&inc, names[i], -1, 1);
				any = true;
			} else {
				bson_append_bool(&exc, names[i], -1, false);
			}
		}
		if (!any)
			bson_append_int32(&inc, "_id", 3, 1);
		if (!(mask & 1)) {
			bson_append_int32(&inc, "_id", 3, 0);
			bson_append_int32(&exc, "_id", 3, 0);
		}
		mdq_projection_t *pi = mdq_projection_parse(&inc, NULL);
		mdq_projection_t *pe = mdq_projection_parse(&exc, NULL);
		ck_assert(pi && pe);
		bson_t oi = BSON_INITIALIZER, oe = BSON_INITIALIZER;
		mdq_projection_apply(pi, doc, &oi);
		mdq_projection_apply(pe, doc, &oe);
		if (!any && !(mask & 1))
			; /* {_id: 0} alone: nothing to include */
		else
			ck_assert_msg(oi.len == oe.len && !memcmp(bson_get_data(&oi),
			              bson_get_data(&oe), oi.len), "%s: %s vs %s",
			              S(doc), S(&oi), S(&oe));
		/* and the projection of the projection is the same */
		bson_t again = BSON_INITIALIZER;
		mdq_projection_apply(pi, &oi, &again);
		ck_assert(again.len == oi.len);
		bson_destroy(&again);
		bson_destroy(&oi);
		bson_destroy(&oe);
		mdq_projection_free(pi);
		mdq_projection_free(pe);
		bson_destroy(&inc);
		bson_destroy(&exc);
		bson_destroy(doc);
	}
}
END_TEST

static Suite *suite(void)
{
	Suite *s = suite_create("mdq_project");
	TCase *tc = tcase_create("core");
	tcase_add_test(tc, documented);
	tcase_add_test(tc, malformed);
	tcase_add_loop_test(tc, include_is_exclude_random, 0, 4);
	suite_add_tcase(s, tc);
	return s;
}

int main(void)
{
	return check_run(suite());
}
