/*
 * catalog.c: the catalog table ("db.coll" -> entry, mdb_layout.h) and
 * the schema operations on it. Tables are created at once on the
 * store's own session (WiredTiger's create is not transactional) and
 * named in the catalog in the caller's transaction; dropping only
 * removes names, mdl_reap drops what nothing names.
 */
#include "layout.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

int mdl_check_ns(const char *ns, mdl_err *err)
{
	size_t n = ns ? strnlen(ns, MDL_NS_MAX + 1) : 0;
	const char *dot = n ? memchr(ns, '.', n) : NULL;
	if (!dot || n > MDL_NS_MAX || dot == ns || dot - ns > MDL_DB_MAX ||
	    dot[1] == '\0' || dot[1] == '.')
		return mdl_fail(err, MDL_EINVALID_NS, "invalid namespace '%.64s'",
		                ns ? ns : "");
	for (const char *p = ns; p < dot; p++)
		if (strchr("/\\ \"$*<>:|?", *p))
			return mdl_fail(err, MDL_EINVALID_NS, "invalid database name "
			                "'%.*s'", (int)(dot - ns), ns);
	if (strchr(dot, '$'))
		return mdl_fail(err, MDL_EINVALID_NS, "invalid collection name "
		                "'%.64s'", dot + 1);
	return 0;
}

static int cat_cursor(WT_SESSION *s, const char *cfg, WT_CURSOR **c,
                      mdl_err *err)
{
	int rc = s->open_cursor(s, CATALOG_URI, NULL, cfg, c);
	return rc ? mdl_wt(err, rc, "open the catalog") : 0;
}

int cat_get(WT_SESSION *s, const char *ns, bson_t *out, mdl_err *err)
{
	WT_CURSOR *c;
	WT_ITEM v;
	bson_t b;
	int rc = cat_cursor(s, NULL, &c, err);
	if (rc)
		return rc;
	c->set_key(c, ns);
	if ((rc = c->search(c)) == 0 && (rc = c->get_value(c, &v)) == 0) {
		if (bson_init_static(&b, v.data, v.size))
			bson_copy_to(&b, out);
		else
			rc = mdl_fail(err, MDL_EINTERNAL, "%s: bad catalog entry", ns);
	} else if (rc == WT_NOTFOUND) {
		rc = mdl_fail(err, MDL_ENS_NOT_FOUND, "ns %s does not exist", ns);
	} else {
		rc = mdl_wt(err, rc, "read the catalog");
	}
	c->close(c);
	return rc;
}

int cat_put(WT_SESSION *s, const char *ns, const bson_t *entry,
            int must_be_new, mdl_err *err)
{
	WT_CURSOR *c;
	int rc = cat_cursor(s, must_be_new ? "overwrite=false" : NULL, &c, err);
	if (rc)
		return rc;
	WT_ITEM v = {.data = bson_get_data(entry), .size = entry->len};
	c->set_key(c, ns);
	c->set_value(c, &v);
	if ((rc = c->insert(c)) == WT_DUPLICATE_KEY)
		rc = mdl_fail(err, MDL_ENS_EXISTS, "collection %s already exists",
		              ns);
	else if (rc)
		rc = mdl_wt(err, rc, "write the catalog");
	c->close(c);
	return rc;
}

int cat_del(WT_SESSION *s, const char *ns, mdl_err *err)
{
	WT_CURSOR *c;
	int rc = cat_cursor(s, "overwrite=false", &c, err); /* else remove finds all */
	if (rc)
		return rc;
	c->set_key(c, ns);
	if ((rc = c->remove(c)) == WT_NOTFOUND)
		rc = mdl_fail(err, MDL_ENS_NOT_FOUND, "ns %s does not exist", ns);
	else if (rc)
		rc = mdl_wt(err, rc, "write the catalog");
	c->close(c);
	return rc;
}

static int64_t counter_read(WT_SESSION *s)
{
	bson_t b;
	bson_iter_t it;
	int64_t n = 0;
	if (cat_get(s, COUNTER_KEY, &b, NULL) == 0) {
		if (bson_iter_init_find(&it, &b, "n") && BSON_ITER_HOLDS_INT64(&it))
			n = bson_iter_int64(&it);
		bson_destroy(&b);
	}
	return n;
}

static int counter_write(WT_SESSION *s, int64_t n, mdl_err *err)
{
	bson_t b = BSON_INITIALIZER;
	BSON_APPEND_INT64(&b, "n", n);
	int rc = cat_put(s, COUNTER_KEY, &b, 0, err);
	bson_destroy(&b);
	return rc;
}

/* Creates table:PREFIX-N on the schema session, N from the counter. */
int new_table(mdl_store *st, WT_SESSION *s, const char *prefix,
                     const char *cfg, char ident[IDENT_MAX], mdl_err *err)
{
	int64_t n = counter_read(s);
	int rc = counter_write(s, n + 1, err);
	if (rc)
		return rc;
	char uri[IDENT_MAX + 8];
	snprintf(ident, IDENT_MAX, "%s-%lld", prefix, (long long)n);
	snprintf(uri, sizeof(uri), "table:%s", ident);
	pthread_mutex_lock(&st->lock);
	rc = st->schema->create(st->schema, uri, cfg);
	pthread_mutex_unlock(&st->lock);
	return rc ? mdl_wt(err, rc, uri) : 0;
}

/* "collection-N" or "index-N": N, else -1. */
static int64_t ident_number(const char *uri)
{
	const char *p = NULL;
	if (!strncmp(uri, "table:collection-", 17))
		p = uri + 17;
	else if (!strncmp(uri, "table:index-", 12))
		p = uri + 12;
	char *end;
	long long n = p ? strtoll(p, &end, 10) : -1;
	return p && *p && !*end && n >= 0 ? n : -1;
}

struct names {
	char (*v)[IDENT_MAX + 8];
	size_t n, cap;
};

static int names_add(struct names *a, const char *s)
{
	if (a->n == a->cap) {
		size_t cap = a->cap ? 2 * a->cap : 64;
		void *p = realloc(a->v, cap * sizeof(*a->v));
		if (!p)
			return -1;
		a->v = p;
		a->cap = cap;
	}
	snprintf(a->v[a->n++], sizeof(*a->v), "%s", s);
	return 0;
}

static int names_has(const struct names *a, const char *s)
{
	for (size_t i = 0; i < a->n; i++)
		if (!strcmp(a->v[i], s))
			return 1;
	return 0;
}

/* The tables of WiredTiger's metadata that are ours by name. */
static int list_tables(WT_SESSION *s, struct names *out, int64_t *max)
{
	WT_CURSOR *m;
	const char *k;
	int rc = s->open_cursor(s, "metadata:", NULL, NULL, &m);
	while (!rc && (rc = m->next(m)) == 0 && (rc = m->get_key(m, &k)) == 0) {
		int64_t n = ident_number(k);
		if (n >= 0 && names_add(out, k))
			rc = ENOMEM;
		if (n > *max)
			*max = n;
	}
	if (m)
		m->close(m);
	return rc == WT_NOTFOUND ? 0 : rc;
}

static int add_uri(struct names *a, bson_iter_t *it)
{
	char uri[IDENT_MAX + 8];
	snprintf(uri, sizeof(uri), "table:%s", bson_iter_utf8(it, NULL));
	return names_add(a, uri);
}

/* The idents of one entry. */
static int entry_idents(const bson_t *e, struct names *a)
{
	bson_iter_t it, ix, f;
	if (bson_iter_init_find(&it, e, "ident") && BSON_ITER_HOLDS_UTF8(&it) &&
	    add_uri(a, &it))
		return -1;
	if (!bson_iter_init_find(&it, e, "indexes") || !bson_iter_recurse(&it, &ix))
		return 0;
	while (bson_iter_next(&ix))
		if (bson_iter_recurse(&ix, &f) && bson_iter_find(&f, "ident") &&
		    BSON_ITER_HOLDS_UTF8(&f) && add_uri(a, &f))
			return -1;
	return 0;
}

/* Every ident the committed catalog names. */
static int named_idents(WT_SESSION *s, struct names *a)
{
	WT_CURSOR *c;
	WT_ITEM v;
	bson_t b;
	int rc = s->open_cursor(s, CATALOG_URI, NULL, NULL, &c);
	while (!rc && (rc = c->next(c)) == 0 && (rc = c->get_value(c, &v)) == 0)
		if (bson_init_static(&b, v.data, v.size) && entry_idents(&b, a))
			rc = ENOMEM;
	if (c)
		c->close(c);
	return rc == WT_NOTFOUND ? 0 : rc;
}

int mdl_reap(mdl_store *st, int *dropped, mdl_err *err)
{
	struct names named = {0}, tables = {0};
	int64_t max = -1;
	int n = 0;
	pthread_mutex_lock(&st->lock);
	WT_SESSION *s = st->schema;
	int rc = named_idents(s, &named);
	if (!rc)
		rc = list_tables(s, &tables, &max);
	for (size_t i = 0; !rc && i < tables.n; i++) {
		if (names_has(&named, tables.v[i]))
			continue;
		int r = s->drop(s, tables.v[i], NULL);
		if (r == 0)
			n++;
		else if (r != EBUSY) /* in use: the next reap will do */
			rc = r;
	}
	pthread_mutex_unlock(&st->lock);
	free(named.v);
	free(tables.v);
	if (dropped)
		*dropped = n;
	return rc ? mdl_wt(err, rc, "reap") : 0;
}

/* The ident counter above every table's number, even orphans'. */
static int counter_fix(mdl_store *st, mdl_err *err)
{
	struct names t = {0};
	int64_t max = -1;
	WT_SESSION *s = st->schema;
	int rc = list_tables(s, &t, &max);
	free(t.v);
	if (rc)
		return mdl_wt(err, rc, "list tables");
	if ((rc = s->begin_transaction(s, NULL)) != 0)
		return mdl_wt(err, rc, "begin");
	if (counter_read(s) <= max)
		rc = counter_write(s, max + 1, err);
	if (rc) {
		s->rollback_transaction(s, NULL);
		return rc;
	}
	rc = s->commit_transaction(s, NULL);
	return rc ? mdl_wt(err, rc, "commit") : 0;
}

int mdl_open(WT_CONNECTION *conn, mdl_store **out, mdl_err *err)
{
	mdl_store *st = calloc(1, sizeof(*st));
	if (!st)
		return mdl_fail(err, MDL_ENO_MEMORY, "no memory");
	st->conn = conn;
	pthread_mutex_init(&st->lock, NULL);
	int rc = conn->open_session(conn, NULL, "isolation=snapshot", &st->schema);
	if (rc) {
		free(st);
		return mdl_wt(err, rc, "open a session");
	}
	rc = st->schema->create(st->schema, CATALOG_URI,
	                        "key_format=S,value_format=u");
	rc = rc ? mdl_wt(err, rc, "create the catalog") : counter_fix(st, err);
	if (!rc)
		rc = mdl_reap(st, NULL, err);
	if (rc) {
		mdl_close(st);
		return rc;
	}
	*out = st;
	return 0;
}

void mdl_close(mdl_store *st)
{
	if (!st)
		return;
	st->schema->close(st->schema, NULL);
	for (struct rsctr *c = st->ctrs, *next; c; c = next) {
		next = c->link;
		free(c);
	}
	pthread_mutex_destroy(&st->lock);
	free(st);
}

int rs_counter(mdl_store *st, WT_SESSION *s, const char *uri,
               struct rsctr **out, mdl_err *err)
{
	int rc = 0;
	pthread_mutex_lock(&st->lock);
	struct rsctr *c = st->ctrs;
	while (c && strcmp(c->ident, uri))
		c = c->link;
	if (!c) {
		WT_CURSOR *k;
		int64_t max = 0;
		if ((rc = s->open_cursor(s, uri, NULL, NULL, &k)) == 0) {
			if ((rc = k->prev(k)) == 0)
				rc = k->get_key(k, &max);
			k->close(k);
		}
		if (rc == WT_NOTFOUND)
			rc = 0;
		if (!rc && (c = calloc(1, sizeof(*c))) != NULL) {
			snprintf(c->ident, sizeof(c->ident), "%s", uri);
			atomic_store(&c->next, max + 1);
			c->link = st->ctrs;
			st->ctrs = c;
		}
	}
	pthread_mutex_unlock(&st->lock);
	if (rc)
		return mdl_wt(err, rc, uri);
	if (!c)
		return mdl_fail(err, MDL_ENO_MEMORY, "no memory");
	*out = c;
	return 0;
}
