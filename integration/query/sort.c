/*
 * sort.c: sort orders. A document's key on a path is, of the values the
 * path reaches (array elements, not the arrays), the smallest for an
 * ascending key and the largest for a descending one; a missing field is
 * null, and a path that reaches only empty arrays sorts after MinKey and
 * before null (MongoDB keys it as undefined).
 */
#include "mdq_int.h"

#include <stdlib.h>
#include <string.h>

struct skey {
	const char *path;
	int dir;
};

struct mdq_sort {
	bson_t *copy;
	struct skey *keys;
	size_t n;
};

void mdq_sort_free(mdq_sort_t *s)
{
	if (!s)
		return;
	free(s->keys);
	bson_destroy(s->copy);
	free(s);
}

size_t mdq_sort_nkeys(const mdq_sort_t *s)
{
	return s->n;
}

static int parse_key(mdq_sort_t *s, bson_iter_t *it, struct mdq_error *err)
{
	const char *k = bson_iter_key(it);
	int64_t d;
	if (!mdq_to_int64(bson_iter_value(it), &d) || (d != 1 && d != -1))
		return mdq_fail(err, MDQ_BAD_VALUE, "$sort key ordering must be 1 "
		                "(for ascending) or -1 (for descending): %.200s", k);
	if (mdq_check_path(k, err))
		return -1;
	for (size_t i = 0; i < s->n; i++)
		if (!strcmp(s->keys[i].path, k))
			return mdq_fail(err, MDQ_BAD_VALUE,
			                "duplicate sort key %.200s", k);
	s->keys[s->n++] = (struct skey){ k, (int)d };
	return 0;
}

mdq_sort_t *mdq_sort_parse(const bson_t *spec, struct mdq_error *err)
{
	bson_iter_t it;
	if (mdq_check_bson(spec, "sort", err))
		return NULL;
	mdq_sort_t *s = calloc(1, sizeof(*s));
	uint32_t n = bson_count_keys(spec);
	if (!s || !(s->copy = bson_copy(spec)) ||
	    !(s->keys = calloc(n ? n : 1, sizeof(*s->keys)))) {
		mdq_sort_free(s);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	bson_iter_init(&it, s->copy);
	while (bson_iter_next(&it)) {
		if (parse_key(s, &it, err)) {
			mdq_sort_free(s);
			return NULL;
		}
	}
	return s;
}

struct pick {
	int dir;
	bool any;
	bson_value_t best;
};

static bool pick_one(const bson_value_t *v, void *ctx)
{
	static const bson_value_t null = { .value_type = BSON_TYPE_NULL };
	struct pick *p = ctx;
	if (!v)
		v = &null;
	if (!p->any || mdq_compare(v, &p->best) * p->dir < 0)
		p->best = *v;
	p->any = true;
	return false;
}

/* An empty array's key (MongoDB's undefined) against a value v. */
static int empty_vs(const bson_value_t *v)
{
	return v->value_type == BSON_TYPE_MINKEY ? 1 : -1;
}

int mdq_sort_compare(const mdq_sort_t *s, const bson_t *a, const bson_t *b)
{
	for (size_t i = 0; i < s->n; i++) {
		struct pick pa = { s->keys[i].dir, false, { 0 } };
		struct pick pb = pa;
		mdq_path_visit(a, s->keys[i].path, MDQ_VISIT_ELEMENTS, pick_one, &pa);
		mdq_path_visit(b, s->keys[i].path, MDQ_VISIT_ELEMENTS, pick_one, &pb);
		int c;
		if (!pa.any && !pb.any)
			c = 0;
		else if (!pa.any)
			c = empty_vs(&pb.best);
		else if (!pb.any)
			c = -empty_vs(&pa.best);
		else
			c = mdq_compare(&pa.best, &pb.best);
		if (c)
			return c * s->keys[i].dir;
	}
	return 0;
}
