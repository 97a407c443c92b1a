/*
 * update.c: parsing an update: a replacement, or operators whose target
 * paths form one tree. Two operators on one path, or on a path and its
 * prefix, conflict (MongoDB's ConflictingUpdateOperators).
 */
#include "update_int.h"

#include <stdlib.h>
#include <string.h>

static void unode_free(struct unode *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		unode_free(&n->kids[i]);
	mdq_filter_free(n->cond);
	free(n->kids);
}

void mdq_update_free(mdq_update_t *u)
{
	if (!u)
		return;
	unode_free(&u->root);
	bson_destroy(u->copy);
	free(u);
}

bool mdq_update_is_replacement(const mdq_update_t *u)
{
	return u->replacement;
}

/* The leaf for path, made; a conflict if the path or a prefix is taken. */
static struct unode *insert(struct unode *root, const char *path,
                            struct mdq_error *err)
{
	struct unode *n = root;
	const char *c = path;
	for (;;) {
		const char *dot = strchr(c, '.');
		size_t len = dot ? (size_t)(dot - c) : strlen(c);
		struct unode *k = NULL;
		for (size_t i = 0; i < n->nkids && !k; i++)
			if (n->kids[i].len == len && !memcmp(n->kids[i].name, c, len))
				k = &n->kids[i];
		if (k && (k->op != U_NONE || !dot)) {
			mdq_fail(err, MDQ_CONFLICTING_UPDATE_OPERATORS,
			         "Updating the path '%.100s' would create a conflict "
			         "at '%.*s'", path, (int)(c - path + len), path);
			return NULL;
		}
		if (!k) {
			struct unode *nk = realloc(n->kids,
			                           (n->nkids + 1) * sizeof(*nk));
			if (!nk) {
				mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
				return NULL;
			}
			n->kids = nk;
			k = &n->kids[n->nkids++];
			*k = (struct unode){ .name = c, .len = len };
		}
		if (!dot)
			return k;
		n = k;
		c = dot + 1;
	}
}

static int parse_push(struct unode *k, const bson_value_t *v,
                      struct mdq_error *err)
{
	bson_t d;
	bson_iter_t it;
	k->arg = *v;
	if (v->value_type != BSON_TYPE_DOCUMENT || !mdq_value_doc(v, &d) ||
	    !bson_iter_init(&it, &d) || !bson_iter_next(&it) ||
	    strcmp(bson_iter_key(&it), "$each"))
		return 0;
	if (!BSON_ITER_HOLDS_ARRAY(&it))
		return mdq_fail(err, MDQ_BAD_VALUE, "The argument to $each in "
		                "$push must be an array but it was of type: %s",
		                mdq_type_name(bson_iter_type(&it)));
	k->arg = *bson_iter_value(&it);
	k->each = true;
	if (bson_iter_next(&it))
		return mdq_fail(err, MDQ_BAD_VALUE, "$push modifier %.100s is "
		                "not supported (only $each)", bson_iter_key(&it));
	return 0;
}

/* $pull: {$gte: 6} applies to the element, {a: 1} to element documents. */
static int parse_pull(struct unode *k, const bson_value_t *v,
                      struct mdq_error *err)
{
	bson_t d, w = BSON_INITIALIZER;
	bson_iter_t it;
	k->arg = *v;
	if (v->value_type != BSON_TYPE_DOCUMENT || !mdq_value_doc(v, &d))
		return 0;
	bool ops = bson_iter_init(&it, &d) && bson_iter_next(&it) &&
	           bson_iter_key(&it)[0] == '$';
	if (ops) {
		bson_append_document(&w, "v", 1, &d);
		k->cond = mdq_filter_parse(&w, err);
		k->cond_wrapped = true;
	} else {
		k->cond = mdq_filter_parse(&d, err);
	}
	bson_destroy(&w);
	return k->cond ? 0 : -1;
}

static int parse_arg(enum uop op, struct unode *k, const bson_value_t *v,
                     const char *path, struct mdq_error *err)
{
	k->op = op;
	k->arg = *v;
	switch (op) {
	case U_INC:
		if (!mdq_is_number(v))
			return mdq_fail(err, MDQ_TYPE_MISMATCH, "Cannot increment "
			                "with non-numeric argument: {%.200s: %s}",
			                path, mdq_type_name(v->value_type));
		if (v->value_type == BSON_TYPE_DECIMAL128)
			return mdq_fail(err, MDQ_BAD_VALUE,
			                "$inc with decimal128 is not supported");
		return 0;
	case U_PUSH: return parse_push(k, v, err);
	case U_PULL: return parse_pull(k, v, err);
	default: return 0;
	}
}

static int parse_operator(mdq_update_t *u, bson_iter_t *it,
                          struct mdq_error *err)
{
	static const struct { const char *name; enum uop op; } ops[] = {
		{ "$set", U_SET }, { "$unset", U_UNSET }, { "$inc", U_INC },
		{ "$push", U_PUSH }, { "$pull", U_PULL },
	};
	const char *k = bson_iter_key(it);
	enum uop op = U_NONE;
	bson_iter_t f;
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (!strcmp(k, ops[i].name))
			op = ops[i].op;
	if (k[0] != '$')
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "Unknown modifier: "
		                "%.100s: an update mixes operators and fields", k);
	if (op == U_NONE)
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "Unknown modifier: "
		                "%.100s. Expected a valid update modifier", k);
	if (!BSON_ITER_HOLDS_DOCUMENT(it) || !bson_iter_recurse(it, &f))
		return mdq_fail(err, MDQ_FAILED_TO_PARSE, "Modifiers operate on "
		                "fields but we found type %s instead",
		                mdq_type_name(bson_iter_type(it)));
	while (bson_iter_next(&f)) {
		const char *path = bson_iter_key(&f);
		struct unode *n;
		if (mdq_check_path(path, err) || !(n = insert(&u->root, path, err)) ||
		    parse_arg(op, n, bson_iter_value(&f), path, err))
			return -1;
	}
	return 0;
}

/* MongoDB's order of new fields: numeric names by number, then bytewise. */
bool mdq_name_is_index(const char *name, size_t len, uint32_t *idx)
{
	uint64_t v = 0;
	if (len == 0 || len > 9 || (len > 1 && name[0] == '0'))
		return false;
	for (size_t i = 0; i < len; i++) {
		if (name[i] < '0' || name[i] > '9')
			return false;
		v = v * 10 + (uint64_t)(name[i] - '0');
	}
	if (idx)
		*idx = (uint32_t)v;
	return true;
}

static int kid_cmp(const void *pa, const void *pb)
{
	const struct unode *a = pa, *b = pb;
	uint32_t ia, ib;
	bool na = mdq_name_is_index(a->name, a->len, &ia);
	bool nb = mdq_name_is_index(b->name, b->len, &ib);
	if (na != nb)
		return na ? -1 : 1;
	if (na)
		return (ia > ib) - (ia < ib);
	int c = memcmp(a->name, b->name, a->len < b->len ? a->len : b->len);
	return c ? c : (a->len > b->len) - (a->len < b->len);
}

/* Sorts the kids and marks the subtrees that create fields. */
static bool finish(struct unode *n)
{
	if (n->op != U_NONE)
		return n->creates = n->op == U_SET || n->op == U_INC ||
		                    n->op == U_PUSH;
	if (n->nkids > 1)
		qsort(n->kids, n->nkids, sizeof(*n->kids), kid_cmp);
	for (size_t i = 0; i < n->nkids; i++)
		n->creates |= finish(&n->kids[i]);
	return n->creates;
}

static int check_replacement(const bson_t *r, struct mdq_error *err)
{
	bson_iter_t it;
	bson_iter_init(&it, r);
	while (bson_iter_next(&it))
		if (bson_iter_key(&it)[0] == '$')
			return mdq_fail(err, MDQ_FAILED_TO_PARSE, "Unknown modifier: "
			                "%.100s: an update mixes fields and operators",
			                bson_iter_key(&it));
	return 0;
}

mdq_update_t *mdq_update_parse(const bson_t *update, struct mdq_error *err)
{
	bson_iter_t it;
	if (mdq_check_bson(update, "update", err))
		return NULL;
	mdq_update_t *u = calloc(1, sizeof(*u));
	if (!u || !(u->copy = bson_copy(update))) {
		free(u);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	bson_iter_init(&it, u->copy);
	u->replacement = !bson_iter_next(&it) || bson_iter_key(&it)[0] != '$';
	int rc = 0;
	if (u->replacement)
		rc = check_replacement(u->copy, err);
	else
		do
			rc = parse_operator(u, &it, err);
		while (!rc && bson_iter_next(&it));
	if (rc) {
		mdq_update_free(u);
		return NULL;
	}
	finish(&u->root);
	return u;
}
