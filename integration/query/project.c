/*
 * project.c: find's projection, {a: 1, "b.c": 1} or {a: 0}, as a tree of
 * path components. Inclusion keeps the document's own field order and
 * drops what it does not name; through arrays it keeps the documents
 * (projected) and drops the scalars, as MongoDB does.
 */
#include "mdq_int.h"

#include <stdlib.h>
#include <string.h>

struct pnode {
	const char *name; /* into the spec copy, not NUL-ended */
	size_t len;
	bool leaf;
	struct pnode *kids;
	size_t nkids;
};

struct mdq_projection {
	bson_t *copy;
	bool identity;  /* {} */
	bool inclusion;
	bool id;        /* _id kept */
	struct pnode root;
};

static void pnode_free(struct pnode *n)
{
	for (size_t i = 0; i < n->nkids; i++)
		pnode_free(&n->kids[i]);
	free(n->kids);
}

static struct pnode *kid(const struct pnode *n, const char *name, size_t len)
{
	for (size_t i = 0; i < n->nkids; i++)
		if (n->kids[i].len == len && !memcmp(n->kids[i].name, name, len))
			return &n->kids[i];
	return NULL;
}

/* Adds path under root; a path inside or over another one collides. */
static int insert(struct pnode *root, const char *path, struct mdq_error *err)
{
	struct pnode *n = root;
	const char *c = path;
	for (;;) {
		const char *dot = strchr(c, '.');
		size_t len = dot ? (size_t)(dot - c) : strlen(c);
		struct pnode *k = kid(n, c, len);
		if (k && (k->leaf || !dot))
			return mdq_fail(err, MDQ_PROJ_PATH_COLLISION,
			                "Path collision at %.200s", path);
		if (!k) {
			struct pnode *nk = realloc(n->kids,
			                           (n->nkids + 1) * sizeof(*nk));
			if (!nk)
				return mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
			n->kids = nk;
			k = &n->kids[n->nkids++];
			*k = (struct pnode){ .name = c, .len = len };
		}
		if (!dot) {
			k->leaf = true;
			return 0;
		}
		n = k;
		c = dot + 1;
	}
}

static int parse_field(mdq_projection_t *p, bson_iter_t *it, int *mode,
                       bool *id_set, struct mdq_error *err)
{
	const char *k = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	if (!mdq_is_number(v) && v->value_type != BSON_TYPE_BOOL)
		return mdq_fail(err, MDQ_BAD_VALUE,
		                "unsupported projection value for field '%.200s' "
		                "(only 0/1 and true/false)", k);
	bool inc = v->value_type == BSON_TYPE_BOOL ? v->value.v_bool :
	           mdq_to_double(v) != 0;
	if (!strcmp(k, "_id")) {
		p->id = inc;
		*id_set = true;
		return 0;
	}
	if (*mode == 0)
		*mode = inc ? 1 : -1;
	else if ((*mode == 1) != inc)
		return mdq_fail(err, inc ? MDQ_PROJ_INCLUSION_IN_EXCLUSION :
		                MDQ_PROJ_EXCLUSION_IN_INCLUSION,
		                inc ? "Cannot do inclusion on field %.200s in "
		                "exclusion projection" : "Cannot do exclusion on "
		                "field %.200s in inclusion projection", k);
	if (mdq_check_path(k, err))
		return -1;
	return insert(&p->root, k, err);
}

mdq_projection_t *mdq_projection_parse(const bson_t *spec,
                                       struct mdq_error *err)
{
	bson_iter_t it;
	int mode = 0;
	bool id_set = false;
	if (mdq_check_bson(spec, "projection", err))
		return NULL;
	mdq_projection_t *p = calloc(1, sizeof(*p));
	if (!p || !(p->copy = bson_copy(spec))) {
		free(p);
		mdq_fail(err, MDQ_BAD_VALUE, "out of memory");
		return NULL;
	}
	p->id = true;
	bson_iter_init(&it, p->copy);
	while (bson_iter_next(&it)) {
		if (parse_field(p, &it, &mode, &id_set, err)) {
			mdq_projection_free(p);
			return NULL;
		}
	}
	/* {_id: 1} alone includes only _id; {_id: 0} alone excludes it. */
	p->inclusion = mode == 1 || (mode == 0 && id_set && p->id);
	p->identity = mode == 0 && !id_set;
	return p;
}

void mdq_projection_free(mdq_projection_t *p)
{
	if (!p)
		return;
	pnode_free(&p->root);
	bson_destroy(p->copy);
	free(p);
}

static void apply_doc(const struct pnode *n, bool inc, const bson_t *doc,
                      bson_t *out, const mdq_projection_t *top);

/* An array under a path that goes on: its documents (and arrays, nested
 * up to MDQ_MAX_DEPTH, past which they are dropped or kept whole). */
static void apply_array(const struct pnode *n, bool inc, const bson_t *arr,
                        bson_t *out, int depth)
{
	bson_iter_t it;
	uint32_t i = 0;
	if (!bson_iter_init(&it, arr))
		return;
	while (bson_iter_next(&it)) {
		const bson_value_t *v = bson_iter_value(&it);
		const char *key;
		char buf[16];
		bson_t sub, child;
		bool is_doc = v->value_type == BSON_TYPE_DOCUMENT;
		if (!mdq_value_doc(v, &sub) || (!is_doc && depth > MDQ_MAX_DEPTH)) {
			if (!inc) {
				bson_uint32_to_string(i++, &key, buf, sizeof(buf));
				bson_append_value(out, key, -1, v);
			}
			continue;
		}
		bson_uint32_to_string(i++, &key, buf, sizeof(buf));
		if (is_doc) {
			bson_append_document_begin(out, key, -1, &child);
			apply_doc(n, inc, &sub, &child, NULL);
			bson_append_document_end(out, &child);
		} else {
			bson_append_array_begin(out, key, -1, &child);
			apply_array(n, inc, &sub, &child, depth + 1);
			bson_append_array_end(out, &child);
		}
	}
}

/* One field of doc under n: copied, dropped or projected further. */
static void apply_field(const struct pnode *n, bool inc, bson_iter_t *it,
                        bson_t *out)
{
	const char *key = bson_iter_key(it);
	const bson_value_t *v = bson_iter_value(it);
	const struct pnode *k = kid(n, key, bson_iter_key_len(it));
	bson_t sub, child;
	if (!k) {
		if (!inc)
			bson_append_value(out, key, -1, v);
		return;
	}
	if (k->leaf) {
		if (inc)
			bson_append_value(out, key, -1, v);
		return;
	}
	if (!mdq_value_doc(v, &sub)) {
		if (!inc)
			bson_append_value(out, key, -1, v);
		return;
	}
	if (v->value_type == BSON_TYPE_DOCUMENT) {
		bson_append_document_begin(out, key, -1, &child);
		apply_doc(k, inc, &sub, &child, NULL);
		bson_append_document_end(out, &child);
	} else {
		bson_append_array_begin(out, key, -1, &child);
		apply_array(k, inc, &sub, &child, 1);
		bson_append_array_end(out, &child);
	}
}

static void apply_doc(const struct pnode *n, bool inc, const bson_t *doc,
                      bson_t *out, const mdq_projection_t *top)
{
	bson_iter_t it;
	if (!bson_iter_init(&it, doc))
		return;
	while (bson_iter_next(&it)) {
		if (top && !strcmp(bson_iter_key(&it), "_id")) {
			if (top->id)
				bson_append_value(out, "_id", 3, bson_iter_value(&it));
			continue;
		}
		apply_field(n, inc, &it, out);
	}
}

void mdq_projection_apply(const mdq_projection_t *p, const bson_t *doc,
                          bson_t *out)
{
	if (p->identity) {
		bson_concat(out, doc);
		return;
	}
	apply_doc(&p->root, p->inclusion, doc, out, p);
}
