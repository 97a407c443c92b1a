/*
 * group.c: $group with _id a field path, a constant or an object of those,
 * and the accumulators $sum, $avg, $min, $max and $count. The groups are
 * kept sorted by key (mdq_compare), so a key is found by bisection and the
 * results come out in key order; their bytes are counted against the
 * stage's memory limit.
 */
#include "agg_int.h"

#include <stdlib.h>
#include <string.h>

enum acc_op { A_SUM, A_AVG, A_MIN, A_MAX };

struct expr {
	const char *path;   /* "$a.b" without the $, or NULL: the constant */
	bson_value_t cst;
};

struct idfield {
	const char *name;
	struct expr e;
};

struct acc {
	const char *name;
	enum acc_op op;
	struct expr e;
};

struct group_spec {
	struct expr id;
	struct idfield *idf; /* an object _id: its fields, or NULL */
	size_t nidf;
	struct acc *accs;
	size_t nacc;
};

struct accst {
	int kind;       /* of a sum: 0 int32, 1 int64, 2 double */
	int64_t isum;
	double dsum;
	int64_t count;  /* numbers seen ($avg) */
	bool has;       /* $min/$max: best is set */
	bson_value_t best;
};

struct group {
	bson_value_t key;
	struct accst a[];
};

struct group_state {
	const struct group_spec *g;
	struct group **groups;
	size_t n, cap;
	size_t mem, limit;
};

static int parse_expr(const bson_value_t *v, struct expr *e,
                      struct mdq_error *err)
{
	e->path = NULL;
	e->cst = *v;
	if (v->value_type != BSON_TYPE_UTF8 || v->value.v_utf8.str[0] != '$')
		return 0;
	const char *p = v->value.v_utf8.str + 1;
	if (p[0] == '$')
		return mdq_fail(err, MDQ_BAD_VALUE, "variables (%.100s) are not "
		                "supported", v->value.v_utf8.str);
	if (strlen(p) != v->value.v_utf8.len - 1 || mdq_check_path(p, err))
		return mdq_fail(err, MDQ_BAD_VALUE, "bad field path %.100s",
		                v->value.v_utf8.str);
	e->path = p;
	return 0;
}

static int parse_id(struct group_spec *g, const bson_value_t *v,
                    struct mdq_error *err)
{
	bson_t d;
	bson_iter_t it;
	if (v->value_type != BSON_TYPE_DOCUMENT)
		return parse_expr(v, &g->id, err);
	if (!mdq_value_doc(v, &d))
		return mdq_fail(err, MDQ_BAD_VALUE, "a bad _id document");
	g->idf = calloc(bson_count_keys(&d) + 1, sizeof(*g->idf));
	if (!g->idf)
		return mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
	bson_iter_init(&it, &d);
	while (bson_iter_next(&it)) {
		struct idfield *f = &g->idf[g->nidf++];
		f->name = bson_iter_key(&it);
		if (f->name[0] == '$')
			return mdq_fail(err, MDQ_BAD_VALUE, "expressions (%.100s) in "
			                "_id are not supported", f->name);
		if (parse_expr(bson_iter_value(&it), &f->e, err))
			return -1;
	}
	return 0;
}

/* {name: {$sum: expr}} and the others. */
static int parse_acc(struct acc *a, bson_iter_t *it, struct mdq_error *err)
{
	static const struct { const char *name; enum acc_op op; } ops[] = {
		{ "$sum", A_SUM }, { "$avg", A_AVG }, { "$min", A_MIN },
		{ "$max", A_MAX }, { "$count", A_SUM },
	};
	bson_iter_t sub;
	a->name = bson_iter_key(it);
	if (strchr(a->name, '.') || a->name[0] == '$')
		return mdq_fail(err, 40236, "The field name '%.100s' cannot "
		                "contain '.' or start with '$'", a->name);
	bson_t d;
	if (!BSON_ITER_HOLDS_DOCUMENT(it) ||
	    !mdq_value_doc(bson_iter_value(it), &d) || bson_count_keys(&d) != 1)
		return mdq_fail(err, 40234, "The field '%.100s' must be an "
		                "accumulator object", a->name);
	bson_iter_recurse(it, &sub);
	bson_iter_next(&sub);
	const char *k = bson_iter_key(&sub);
	const bson_value_t *v = bson_iter_value(&sub);
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++) {
		if (strcmp(k, ops[i].name))
			continue;
		a->op = ops[i].op;
		if (i == 4) { /* $count: {} is $sum: 1 */
			static const bson_value_t one = {
				.value_type = BSON_TYPE_INT32, .value.v_int32 = 1 };
			if (!mdq_value_doc(v, &d) || v->value_type != BSON_TYPE_DOCUMENT ||
			    !bson_empty(&d))
				return mdq_fail(err, MDQ_BAD_VALUE,
				                "$count takes no arguments, i.e. $count:{}");
			a->e = (struct expr){ NULL, one };
			return 0;
		}
		return parse_expr(v, &a->e, err);
	}
	return mdq_fail(err, 15952, "unknown group operator '%.100s'", k);
}

void mdq_group_spec_free(struct group_spec *g)
{
	if (!g)
		return;
	free(g->idf);
	free(g->accs);
	free(g);
}

struct group_spec *mdq_group_parse(const bson_value_t *arg,
                                   struct mdq_error *err)
{
	bson_t d;
	bson_iter_t it;
	bool have_id = false;
	if (arg->value_type != BSON_TYPE_DOCUMENT || !mdq_value_doc(arg, &d)) {
		mdq_fail(err, 15947, "a group's fields must be specified in an "
		         "object");
		return NULL;
	}
	struct group_spec *g = calloc(1, sizeof(*g));
	if (!g || !(g->accs = calloc(bson_count_keys(&d) + 1, sizeof(*g->accs)))) {
		mdq_group_spec_free(g);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	bson_iter_init(&it, &d);
	while (bson_iter_next(&it)) {
		int rc;
		if (!strcmp(bson_iter_key(&it), "_id")) {
			have_id = true;
			rc = parse_id(g, bson_iter_value(&it), err);
		} else {
			rc = parse_acc(&g->accs[g->nacc++], &it, err);
		}
		if (rc) {
			mdq_group_spec_free(g);
			return NULL;
		}
	}
	if (!have_id) {
		mdq_group_spec_free(g);
		mdq_fail(err, 15955, "a group specification must include an _id");
		return NULL;
	}
	return g;
}

/* The value of e on doc; false: missing. */
static bool eval(const struct expr *e, const bson_t *doc, bson_value_t *out)
{
	if (!e->path) {
		*out = e->cst;
		return true;
	}
	return mdq_path_get(doc, e->path, out);
}

/* The group key of doc, copied (the caller frees it). */
static void make_key(const struct group_spec *g, const bson_t *doc,
                     bson_value_t *key)
{
	bson_value_t v;
	if (!g->idf) {
		if (!eval(&g->id, doc, &v))
			v.value_type = BSON_TYPE_NULL;
		bson_value_copy(&v, key);
		return;
	}
	bson_t obj = BSON_INITIALIZER, wrap = BSON_INITIALIZER;
	bson_iter_t it;
	for (size_t i = 0; i < g->nidf; i++)
		if (eval(&g->idf[i].e, doc, &v))
			bson_append_value(&obj, g->idf[i].name, -1, &v);
	bson_append_document(&wrap, "k", 1, &obj);
	bson_iter_init_find(&it, &wrap, "k");
	bson_value_copy(bson_iter_value(&it), key);
	bson_destroy(&obj);
	bson_destroy(&wrap);
}

struct group_state *mdq_group_start(const struct group_spec *g,
                                    size_t mem_limit)
{
	struct group_state *s = calloc(1, sizeof(*s));
	if (s) {
		s->g = g;
		s->limit = mem_limit;
	}
	return s;
}

size_t mdq_group_count(const struct group_state *s)
{
	return s->n;
}

void mdq_group_end(struct group_state *s)
{
	if (!s)
		return;
	for (size_t i = 0; i < s->n; i++) {
		struct group *gr = s->groups[i];
		bson_value_destroy(&gr->key);
		for (size_t j = 0; j < s->g->nacc; j++)
			if (gr->a[j].has)
				bson_value_destroy(&gr->a[j].best);
		free(gr);
	}
	free(s->groups);
	free(s);
}

/* The index of key's group, or where it goes (*found false). */
static size_t bisect(const struct group_state *s, const bson_value_t *key,
                     bool *found)
{
	size_t lo = 0, hi = s->n;
	*found = false;
	while (lo < hi) {
		size_t mid = lo + (hi - lo) / 2;
		int c = mdq_compare(&s->groups[mid]->key, key);
		if (c == 0) {
			*found = true;
			return mid;
		}
		if (c < 0)
			lo = mid + 1;
		else
			hi = mid;
	}
	return lo;
}

static struct group *find_group(struct group_state *s, bson_value_t *key,
                                struct mdq_error *err)
{
	bool found;
	size_t at = bisect(s, key, &found);
	if (found) {
		bson_value_destroy(key);
		return s->groups[at];
	}
	size_t size = sizeof(struct group) + s->g->nacc * sizeof(struct accst);
	s->mem += size + mdq_value_size(key) + sizeof(struct group *);
	if (s->mem > s->limit) {
		bson_value_destroy(key);
		mdq_fail(err, MDQ_MEMORY_LIMIT, "Exceeded memory limit for "
		         "$group, but didn't allow external sort. Pass "
		         "allowDiskUse:true to opt in.");
		return NULL;
	}
	if (s->n == s->cap) {
		size_t cap = s->cap ? 2 * s->cap : 16;
		struct group **ng = realloc(s->groups, cap * sizeof(*ng));
		if (!ng) {
			bson_value_destroy(key);
			mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
			return NULL;
		}
		s->groups = ng;
		s->cap = cap;
	}
	struct group *gr = calloc(1, size);
	if (!gr) {
		bson_value_destroy(key);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	gr->key = *key;
	memmove(&s->groups[at + 1], &s->groups[at],
	        (s->n - at) * sizeof(*s->groups));
	s->groups[at] = gr;
	s->n++;
	return gr;
}

/* A number into a sum: int32 widens to int64 on overflow, int64 to double. */
static void sum_add(struct accst *a, const bson_value_t *v)
{
	int64_t i, r;
	a->count++;
	if (v->value_type == BSON_TYPE_DOUBLE ||
	    v->value_type == BSON_TYPE_DECIMAL128) {
		if (a->kind < 2)
			a->dsum = (double)a->isum;
		a->kind = 2;
		a->dsum += mdq_to_double(v);
		return;
	}
	mdq_to_int64(v, &i);
	if (a->kind == 2) {
		a->dsum += (double)i;
	} else if (__builtin_add_overflow(a->isum, i, &r)) {
		a->dsum = (double)a->isum + (double)i;
		a->kind = 2;
	} else {
		a->isum = r;
		if (v->value_type == BSON_TYPE_INT64 ||
		    r < INT32_MIN || r > INT32_MAX)
			a->kind = 1;
	}
}

static void acc_add(struct group_state *s, const struct acc *spec,
                    struct accst *a, const bson_t *doc)
{
	bson_value_t v;
	if (!eval(&spec->e, doc, &v))
		return;
	if (spec->op == A_SUM || spec->op == A_AVG) {
		if (mdq_is_number(&v))
			sum_add(a, &v);
		return;
	}
	if (mdq_type_rank(v.value_type) == 2)
		return; /* $min/$max skip null and missing */
	int c = a->has ? mdq_compare(&v, &a->best) : 0;
	if (a->has && (spec->op == A_MIN ? c >= 0 : c <= 0))
		return;
	if (a->has) {
		s->mem -= mdq_value_size(&a->best);
		bson_value_destroy(&a->best);
	}
	bson_value_copy(&v, &a->best);
	s->mem += mdq_value_size(&a->best);
	a->has = true;
}

int mdq_group_add(struct group_state *s, const bson_t *doc,
                  struct mdq_error *err)
{
	bson_value_t key;
	make_key(s->g, doc, &key);
	struct group *gr = find_group(s, &key, err);
	if (!gr)
		return -1;
	for (size_t i = 0; i < s->g->nacc; i++)
		acc_add(s, &s->g->accs[i], &gr->a[i], doc);
	if (s->mem > s->limit)
		return mdq_fail(err, MDQ_MEMORY_LIMIT, "Exceeded memory limit for "
		                "$group, but didn't allow external sort. Pass "
		                "allowDiskUse:true to opt in.");
	return 0;
}

static void acc_result(const struct acc *spec, const struct accst *a,
                       bson_t *out)
{
	switch (spec->op) {
	case A_SUM:
		if (a->kind == 2)
			bson_append_double(out, spec->name, -1, a->dsum);
		else if (a->kind == 1)
			bson_append_int64(out, spec->name, -1, a->isum);
		else
			bson_append_int32(out, spec->name, -1, (int32_t)a->isum);
		return;
	case A_AVG:
		if (!a->count)
			bson_append_null(out, spec->name, -1);
		else
			bson_append_double(out, spec->name, -1,
			                   (a->kind == 2 ? a->dsum : (double)a->isum) /
			                   (double)a->count);
		return;
	default:
		if (a->has)
			bson_append_value(out, spec->name, -1, &a->best);
		else
			bson_append_null(out, spec->name, -1);
	}
}

void mdq_group_result(const struct group_state *s, size_t i, bson_t *out)
{
	const struct group *gr = s->groups[i];
	bson_append_value(out, "_id", 3, &gr->key);
	for (size_t j = 0; j < s->g->nacc; j++)
		acc_result(&s->g->accs[j], &gr->a[j], out);
}
