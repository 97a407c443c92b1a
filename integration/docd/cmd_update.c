/*
 * cmd_update.c: update and findAndModify.
 *
 * The RecordIds a statement matches are collected first, then each
 * record is read again by id and rewritten: an index scan must not meet
 * the documents it has just moved (an $inc on the indexed field would
 * otherwise be applied again further on).
 */
#include "docd.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MATCH_MAX 1000000 /* RecordIds one statement may touch */

struct rids {
	int64_t *v;
	size_t n, cap;
};

static int rids_add(struct rids *s, int64_t rid, mdl_err *e)
{
	if (s->n == s->cap) {
		size_t cap = s->cap ? s->cap * 2 : 64;
		int64_t *v = cap <= MATCH_MAX ? realloc(s->v, cap * sizeof(*v)) : NULL;
		if (!v) {
			e->code = 146;
			snprintf(e->msg, sizeof(e->msg), "a statement may change at "
			         "most %d documents", MATCH_MAX);
			return -1;
		}
		s->v = v;
		s->cap = cap;
	}
	s->v[s->n++] = rid;
	return 0;
}

/* The RecordIds of what f matches in c, at most max (0: all). */
static int match(struct docd_req *r, const char *ns, mdl_coll *c,
                 const mdq_filter_t *f, size_t max, struct rids *out,
                 mdl_err *e)
{
	struct plan p;
	int64_t rid;
	bson_t doc;
	int rc = plan_open(r, ns, c, f, 0, &p, e), k = 0;
	out->n = 0;
	while (!rc && (!max || out->n < max) &&
	       (k = plan_next(&p, &rid, &doc, e)) == 1)
		if (rids_add(out, rid, e))
			rc = e->code;
	if (!rc && k < 0)
		rc = -k;
	plan_close(&p);
	return rc;
}

/* Applies u to record rid: *changed if it was rewritten. The new
 * document into after (initialised here) when after is not NULL. */
static int modify(mdl_coll *c, int64_t rid, const mdq_update_t *u,
                  int *changed, bson_t *before, bson_t *after, mdl_err *e)
{
	bson_t doc, out = BSON_INITIALIZER;
	struct mdq_error qe = {0};
	int found;
	bool ch = false;
	int rc = mdl_get(c, rid, &doc, &found, e);
	if (rc || !found)
		return rc; /* gone since the match: nothing to do */
	if (before)
		bson_copy_to(&doc, before);
	if (mdq_update_apply(u, &doc, &out, &ch, &qe)) {
		bson_destroy(&out);
		e->code = qe.code ? qe.code : 2;
		snprintf(e->msg, sizeof(e->msg), "%s", qe.msg);
		return e->code;
	}
	*changed = ch;
	if (ch && out.len > MDW_MAX_BSON) {
		bson_destroy(&out);
		e->code = 17419;
		snprintf(e->msg, sizeof(e->msg), "Resulting document after update "
		         "is larger than %d", MDW_MAX_BSON);
		return e->code;
	}
	if (ch && (rc = mdl_update(c, rid, NULL, &out, e)) != 0) {
		bson_destroy(&out);
		return rc;
	}
	if (after)
		bson_copy_to(&out, after);
	bson_destroy(&out);
	return 0;
}

/* The document an upsert inserts, with an _id; its _id into id. */
static int upsert(mdl_coll *c, const mdq_update_t *u, const bson_t *q,
                  bson_value_t *id, bson_t *inserted, mdl_err *e)
{
	bson_t made = BSON_INITIALIZER, doc;
	struct mdq_error qe = {0};
	bson_iter_t it;
	if (mdq_update_upsert(u, q, &made, &qe)) {
		bson_destroy(&made);
		e->code = qe.code ? qe.code : 2;
		snprintf(e->msg, sizeof(e->msg), "%s", qe.msg);
		return e->code;
	}
	doc_with_id(&made, &doc);
	bson_destroy(&made);
	int rc = doc.len > MDW_MAX_BSON ? (e->code = 17419) : 0;
	if (rc)
		snprintf(e->msg, sizeof(e->msg), "the document to upsert is larger "
		         "than %d", MDW_MAX_BSON);
	else
		rc = mdl_insert(c, &doc, NULL, e);
	if (!rc && bson_iter_init_find(&it, &doc, "_id"))
		bson_value_copy(bson_iter_value(&it), id);
	if (!rc && inserted)
		bson_copy_to(&doc, inserted);
	bson_destroy(&doc);
	return rc;
}

struct update_stmt {
	mdl_coll *c;
	const char *ns;
	const mdq_filter_t *f;
	const bson_t *q;
	bson_t qdoc;              /* the statement's q, a view */
	mdq_update_t *u;
	int multi, upsert;
	int64_t matched, modified;
	int upserted;
	bson_value_t id;
	struct rids rids;
};

static int update_txn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct update_stmt *a = arg;
	a->matched = a->modified = 0;
	if (a->upserted)
		bson_value_destroy(&a->id);
	a->upserted = 0;
	int rc = match(r, a->ns, a->c, a->f, a->multi ? 0 : 1, &a->rids, e);
	for (size_t i = 0; !rc && i < a->rids.n; i++) {
		int changed = 0;
		rc = modify(a->c, a->rids.v[i], a->u, &changed, NULL, NULL, e);
		a->matched++;
		a->modified += changed;
	}
	if (!rc && !a->rids.n && a->upsert &&
	    !(rc = upsert(a->c, a->u, a->q, &a->id, NULL, e)))
		a->upserted = 1;
	return rc;
}

/* Reads statement st into a: 0, or -1 with e set. */
static int update_parse(const bson_t *st, struct update_stmt *a, mdl_err *e)
{
	bson_iter_t it;
	bson_t u;
	struct mdq_error qe = {0};
	const uint8_t *data;
	uint32_t len;
	if (stmt_filter(st, "q", &a->f, e))
		return -1;
	bson_iter_init_find(&it, st, "q");
	bson_iter_document(&it, &len, &data);
	bson_init_static(&a->qdoc, data, len);
	a->q = &a->qdoc;
	if (!bson_iter_init_find(&it, st, "u") || !BSON_ITER_HOLDS_DOCUMENT(&it)) {
		e->code = BSON_ITER_HOLDS_ARRAY(&it) ? 115 : 9;
		snprintf(e->msg, sizeof(e->msg), BSON_ITER_HOLDS_ARRAY(&it) ?
		         "pipeline updates are not supported" :
		         "'u' must be an object");
		return -1;
	}
	bson_iter_document(&it, &len, &data);
	if (!bson_init_static(&u, data, len) ||
	    !(a->u = mdq_update_parse(&u, &qe))) {
		e->code = qe.code ? qe.code : 9;
		snprintf(e->msg, sizeof(e->msg), "%s", qe.msg);
		return -1;
	}
	a->multi = opt_bool(st, "multi", 0);
	a->upsert = opt_bool(st, "upsert", 0);
	if (a->multi && mdq_update_is_replacement(a->u)) {
		e->code = 9;
		snprintf(e->msg, sizeof(e->msg), "multi update is not supported "
		         "for replacement-style update");
		return -1;
	}
	return 0;
}

static void upserted_add(bson_t *arr, int *n, int64_t index,
                         const bson_value_t *id)
{
	bson_t one;
	char key[24];
	snprintf(key, sizeof(key), "%d", (*n)++);
	BSON_APPEND_DOCUMENT_BEGIN(arr, key, &one);
	BSON_APPEND_INT64(&one, "index", index);
	bson_append_value(&one, "_id", 3, id);
	bson_append_document_end(arr, &one);
}

/* {update: coll, updates: [{q, u, upsert, multi}], ordered}:
 * {n, nModified, upserted?, writeErrors?}. */
void cmd_update(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	bson_iter_t stmts;
	mdl_coll *c;
	if (ns_of(r, "update", ns, out) ||
	    array_field(r->cmd, "updates", &stmts, out) ||
	    coll_begin_create(r, ns, &c, out))
		return;
	int ordered = opt_bool(r->cmd, "ordered", 1), nup = 0;
	struct write_errors we = {.ns = ns};
	bson_t ups = BSON_INITIALIZER;
	bson_init(&we.arr);
	int64_t n = 0, nmod = 0;
	for (int64_t i = 0; bson_iter_next(&stmts); i++) {
		mdl_err e = {0};
		bson_t st;
		struct update_stmt a = {.c = c, .ns = ns};
		if (stmt_doc(&stmts, &st, &e) == 0 && update_parse(&st, &a, &e) == 0 &&
		    txn_run(r, update_txn, &a, &e) == 0) {
			n += a.matched + a.upserted;
			nmod += a.modified;
			if (a.upserted)
				upserted_add(&ups, &nup, i, &a.id);
		}
		if (a.upserted)
			bson_value_destroy(&a.id);
		free(a.rids.v);
		mdq_filter_free((mdq_filter_t *)a.f);
		mdq_update_free(a.u);
		if (e.code) {
			write_errors_add(&we, i, &e);
			if (ordered)
				break;
		}
	}
	coll_done(r, c);
	BSON_APPEND_INT32(out, "n", (int32_t)n);
	BSON_APPEND_INT32(out, "nModified", (int32_t)nmod);
	if (nup)
		BSON_APPEND_ARRAY(out, "upserted", &ups);
	bson_destroy(&ups);
	write_errors_finish(r, &we, out);
}

struct fam {
	mdl_coll *c;
	const char *ns;
	const mdq_filter_t *f;
	const mdq_sort_t *sort;
	mdq_update_t *u;          /* NULL: remove */
	const bson_t *q;
	bson_t qdoc;              /* the command's query, a view */
	int want_new, upsert;
	int n, updated, upserted;
	bson_value_t id;
	bson_t value;             /* the document to return; empty: null */
	int has_value;
};

/* The record findAndModify acts on: the first match, or the first in
 * sort order. *rid 0 if none. */
static int fam_pick(struct docd_req *r, struct fam *a, int64_t *rid,
                    mdl_err *e)
{
	struct plan p;
	int64_t id;
	bson_t doc, best = BSON_INITIALIZER;
	int rc = plan_open(r, a->ns, a->c, a->f, 0, &p, e), k = 0;
	*rid = 0;
	while (!rc && (k = plan_next(&p, &id, &doc, e)) == 1) {
		if (*rid && (!a->sort || mdq_sort_compare(a->sort, &doc, &best) >= 0))
			continue;
		*rid = id;
		bson_reinit(&best);
		bson_copy_to_excluding_noinit(&doc, &best, "", NULL);
		if (!a->sort)
			break;
	}
	bson_destroy(&best);
	if (!rc && k < 0)
		rc = -k;
	plan_close(&p);
	return rc;
}

static int fam_txn(struct docd_req *r, void *arg, mdl_err *e)
{
	struct fam *a = arg;
	int64_t rid;
	if (a->has_value)
		bson_destroy(&a->value);
	if (a->upserted)
		bson_value_destroy(&a->id);
	a->has_value = a->n = a->updated = a->upserted = 0;
	int rc = fam_pick(r, a, &rid, e);
	if (rc)
		return rc;
	if (rid && !a->u) { /* remove: the removed document */
		bson_t doc;
		int found;
		if ((rc = mdl_get(a->c, rid, &doc, &found, e)) || !found)
			return rc;
		bson_copy_to(&doc, &a->value);
		a->has_value = 1;
		a->n = 1;
		return mdl_remove(a->c, rid, e);
	}
	if (rid) {
		int changed = 0;
		bson_t before, after;
		rc = modify(a->c, rid, a->u, &changed, &before, &after, e);
		if (rc)
			return rc;
		a->n = a->updated = 1;
		/* bson_steal: a bson_t is never copied by value (a copy of a
		 * heap one points into the struct it was copied from). */
		bson_steal(&a->value, a->want_new ? &after : &before);
		bson_destroy(a->want_new ? &before : &after);
		a->has_value = 1;
		return 0;
	}
	if (!a->u || !a->upsert)
		return 0;
	bson_t ins;
	if ((rc = upsert(a->c, a->u, a->q, &a->id, &ins, e)))
		return rc;
	a->n = a->upserted = 1;
	if (a->want_new) {
		bson_steal(&a->value, &ins);
		a->has_value = 1;
	} else {
		bson_destroy(&ins);
	}
	return 0;
}

/* Reads findAndModify's options into a: 0, or -1 with out set. */
static int fam_parse(struct docd_req *r, struct fam *a, mdq_sort_t **sort,
                     mdq_projection_t **proj, bson_t *out)
{
	bson_t doc;
	int present;
	struct mdq_error qe = {0};
	bson_iter_t it;
	if (opt_doc(r->cmd, "query", &a->qdoc, &present, out))
		return -1;
	if (!present)
		bson_init(&a->qdoc);
	a->q = &a->qdoc;
	if (!(a->f = mdq_filter_parse(a->q, &qe)))
		goto bad;
	if (opt_doc(r->cmd, "sort", &doc, &present, out))
		return -1;
	if (present && !bson_empty(&doc) && !(*sort = mdq_sort_parse(&doc, &qe)))
		goto bad;
	a->sort = *sort;
	if (opt_doc(r->cmd, "fields", &doc, &present, out))
		return -1;
	if (present && !bson_empty(&doc) &&
	    !(*proj = mdq_projection_parse(&doc, &qe)))
		goto bad;
	int remove = opt_bool(r->cmd, "remove", 0);
	if (bson_iter_init_find(&it, r->cmd, "update") && !remove) {
		if (opt_doc(r->cmd, "update", &doc, &present, out))
			return -1;
		if (!(a->u = mdq_update_parse(&doc, &qe)))
			goto bad;
	} else if (!remove) {
		reply_error(out, 9, "Either an update or remove=true must be "
		            "specified");
		return -1;
	}
	a->want_new = opt_bool(r->cmd, "new", 0);
	a->upsert = opt_bool(r->cmd, "upsert", 0);
	return 0;
bad:
	reply_error(out, qe.code ? qe.code : 2, "%s", qe.msg);
	return -1;
}

/* {findAndModify: coll, query, sort, remove | update, new, fields,
 * upsert}: {lastErrorObject: {n, updatedExisting, upserted?}, value}. */
void cmd_findandmodify(struct docd_req *r, bson_t *out)
{
	char ns[MDL_NS_MAX + 1];
	struct fam a = {.ns = ns};
	mdq_sort_t *sort = NULL;
	mdq_projection_t *proj = NULL;
	mdl_err e = {0};
	if (ns_of(r, cmd_name(r->cmd), ns, out))
		return;
	if (fam_parse(r, &a, &sort, &proj, out) == 0 &&
	    coll_begin_create(r, ns, &a.c, out) == 0) {
		int rc = txn_run(r, fam_txn, &a, &e);
		coll_done(r, a.c);
		if (rc) {
			reply_mdl(out, &e);
		} else {
			bson_t le;
			BSON_APPEND_DOCUMENT_BEGIN(out, "lastErrorObject", &le);
			BSON_APPEND_INT32(&le, "n", a.n);
			BSON_APPEND_BOOL(&le, "updatedExisting", a.updated);
			if (a.upserted)
				bson_append_value(&le, "upserted", 8, &a.id);
			bson_append_document_end(out, &le);
			if (a.has_value && proj) {
				bson_t p = BSON_INITIALIZER;
				mdq_projection_apply(proj, &a.value, &p);
				BSON_APPEND_DOCUMENT(out, "value", &p);
				bson_destroy(&p);
			} else if (a.has_value) {
				BSON_APPEND_DOCUMENT(out, "value", &a.value);
			} else {
				BSON_APPEND_NULL(out, "value");
			}
			wc_finish(r, out);
			reply_ok(out);
		}
	}
	if (a.has_value)
		bson_destroy(&a.value);
	if (a.upserted)
		bson_value_destroy(&a.id);
	mdq_filter_free((mdq_filter_t *)a.f);
	mdq_update_free(a.u);
	mdq_sort_free(sort);
	mdq_projection_free(proj);
}
