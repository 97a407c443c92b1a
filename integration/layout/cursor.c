/*
 * cursor.c: scans. A record store in RecordId order, or an index over a
 * range [L, H) of its keys' bytes made from bounds on the leading
 * field's values. That works because a leading field's encoding P is
 * prefix-free and whatever follows it in a key (another field's type
 * byte, possibly inverted, or the RecordId mark) is below 0xFF: the
 * keys starting with P are exactly those in [P, P 0xFF).
 *
 * A document with an array in a multikey index has an entry per
 * element: the scan gives it once, at its first entry, remembering the
 * RecordIds of such documents only (memory: 16 bytes per one given).
 */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

struct mdl_cursor {
	mdl_coll *c;
	WT_CURSOR *rs, *ix;      /* our own, so c may write meanwhile */
	int reverse, started, done;
	size_t nlo, nhi;
	int has_lo, has_hi;
	const struct ixdef *x;
	int64_t *seen;           /* open addressing, 0 free */
	size_t nseen, cap;
	uint8_t lo[MDL_KEY_MAX + 1], hi[MDL_KEY_MAX + 1];
};

static size_t slot(const int64_t *t, size_t cap, int64_t rid)
{
	size_t i = (size_t)((uint64_t)rid * 0x9E3779B97F4A7C15ull) & (cap - 1);
	while (t[i] && t[i] != rid)
		i = (i + 1) & (cap - 1);
	return i;
}

/* 1 if rid was given already, else remembers it; -1: no memory. */
static int seen_before(mdl_cursor *k, int64_t rid)
{
	if (2 * (k->nseen + 1) > k->cap) {
		size_t cap = k->cap ? 2 * k->cap : 64;
		int64_t *t = calloc(cap, sizeof(*t));
		if (!t)
			return -1;
		for (size_t i = 0; i < k->cap; i++)
			if (k->seen[i])
				t[slot(t, cap, k->seen[i])] = k->seen[i];
		free(k->seen);
		k->seen = t;
		k->cap = cap;
	}
	size_t i = slot(k->seen, k->cap, rid);
	if (k->seen[i])
		return 1;
	k->seen[i] = rid;
	k->nseen++;
	return 0;
}

static int cursor_new(mdl_coll *c, mdl_cursor **out, mdl_err *err)
{
	mdl_cursor *k = calloc(1, sizeof(*k));
	if (!k)
		return mdl_fail(err, MDL_ENO_MEMORY, "no memory");
	k->c = c;
	int rc = c->s->open_cursor(c->s, c->rs->uri, NULL, NULL, &k->rs);
	if (rc) {
		free(k);
		return mdl_wt(err, rc, "open a scan");
	}
	*out = k;
	return 0;
}

int mdl_scan_open(mdl_coll *c, mdl_cursor **out, mdl_err *err)
{
	return cursor_new(c, out, err);
}

/* One bound's bytes: the value's encoding, plus 0xFF to pass all the
 * keys that start with it. */
static int bound(const bson_value_t *v, int desc, int past, uint8_t *buf,
                 size_t *n, mdl_err *err)
{
	int rc = mdl_key_encode(v, desc, buf, MDL_KEY_MAX, n, err);
	if (!rc && past)
		buf[(*n)++] = 0xFF;
	return rc;
}

static int set_bounds(mdl_cursor *k, const struct ixdef *x,
                      const struct mdl_bounds *b, mdl_err *err)
{
	bson_iter_t it;
	bson_iter_init(&it, &x->key);
	bson_iter_next(&it);
	int desc = bson_iter_as_double(&it) < 0, rc = 0;
	/* in key order, a descending field's high value comes first */
	const bson_value_t *first = desc ? b->hi : b->lo;
	const bson_value_t *last = desc ? b->lo : b->hi;
	int first_incl = desc ? b->hi_incl : b->lo_incl;
	int last_incl = desc ? b->lo_incl : b->hi_incl;
	if ((k->has_lo = first != NULL))
		rc = bound(first, desc, !first_incl, k->lo, &k->nlo, err);
	if (!rc && (k->has_hi = last != NULL))
		rc = bound(last, desc, last_incl, k->hi, &k->nhi, err);
	k->reverse = b->reverse;
	return rc;
}

int mdl_index_scan_open(mdl_coll *c, const char *index,
                        const struct mdl_bounds *b, mdl_cursor **out,
                        mdl_err *err)
{
	const struct ixdef *x = NULL;
	for (int i = 0; i < c->nix && !x; i++)
		if (index && !strcmp(c->ix[i].name, index))
			x = &c->ix[i];
	if (!x)
		return mdl_fail(err, MDL_EINDEX_NOT_FOUND, "no index %.128s on %s",
		                index ? index : "", c->ns);
	mdl_cursor *k;
	struct mdl_bounds all = {0};
	int rc = cursor_new(c, &k, err);
	if (rc)
		return rc;
	k->x = x;
	if ((rc = set_bounds(k, x, b ? b : &all, err)) == 0 &&
	    (rc = c->s->open_cursor(c->s, x->c->uri, NULL, NULL, &k->ix)) != 0)
		rc = mdl_wt(err, rc, "open an index scan");
	if (rc) {
		mdl_cursor_close(k);
		return rc;
	}
	*out = k;
	return 0;
}

static int bytes_cmp(const WT_ITEM *a, const uint8_t *b, size_t n)
{
	int r = memcmp(a->data, b, a->size < n ? a->size : n);
	return r ? r : (a->size > n) - (a->size < n);
}

/* The first position: at L going forward, below H going back. */
static int seek(mdl_cursor *k)
{
	WT_CURSOR *x = k->ix;
	int exact, rc;
	const uint8_t *at = k->reverse ? k->hi : k->lo;
	if (!(k->reverse ? k->has_hi : k->has_lo))
		return k->reverse ? x->prev(x) : x->next(x);
	WT_ITEM key = {.data = at, .size = k->reverse ? k->nhi : k->nlo};
	x->set_key(x, &key);
	if ((rc = x->search_near(x, &exact)) != 0)
		return rc;
	if (!k->reverse && exact < 0)
		return x->next(x);
	if (k->reverse && exact >= 0)
		return x->prev(x);
	return 0;
}

/* The next index entry in range, or WT_NOTFOUND. */
static int ix_step(mdl_cursor *k, int64_t *rid)
{
	WT_CURSOR *x = k->ix;
	WT_ITEM key;
	int rc = !k->started ? seek(k) : k->reverse ? x->prev(x) : x->next(x);
	k->started = 1;
	if (rc || (rc = x->get_key(x, &key)))
		return rc;
	if (k->reverse ? k->has_lo && bytes_cmp(&key, k->lo, k->nlo) < 0
	               : k->has_hi && bytes_cmp(&key, k->hi, k->nhi) >= 0)
		return WT_NOTFOUND;
	return x->get_value(x, rid);
}

int mdl_cursor_next(mdl_cursor *k, int64_t *rid, bson_t *doc, mdl_err *err)
{
	int rc, found;
	bson_t tmp;
	*rid = 0;
	if (k->done)
		return 0;
	if (!k->ix) {
		WT_ITEM v;
		if ((rc = k->rs->next(k->rs)) == 0 &&
		    (rc = k->rs->get_key(k->rs, rid)) == 0 &&
		    (rc = k->rs->get_value(k->rs, &v)) == 0 && doc &&
		    !bson_init_static(doc, v.data, v.size))
			return mdl_fail(err, MDL_EINTERNAL, "bad BSON record");
	} else {
		bson_t *d = doc ? doc : &tmp;
		int again = 1;
		while (again && (rc = ix_step(k, rid)) == 0) {
			if ((rc = read_doc(k->rs, *rid, d, &found, err)))
				return rc;
			if (!found)
				return mdl_fail(err, MDL_EINTERNAL, "an index names "
				                "RecordId %lld, which does not exist",
				                (long long)*rid);
			again = ix_is_multikey_doc(k->x, d) ? seen_before(k, *rid) : 0;
			if (again < 0)
				return mdl_fail(err, MDL_ENO_MEMORY, "no memory");
		}
	}
	if (rc == WT_NOTFOUND) {
		k->done = 1;
		*rid = 0;
		if (doc)
			bson_init(doc);
		return 0;
	}
	return rc ? mdl_wt(err, rc, "scan") : 0;
}

void mdl_cursor_close(mdl_cursor *k)
{
	if (!k)
		return;
	if (k->ix)
		k->ix->close(k->ix);
	k->rs->close(k->rs);
	free(k->seen);
	free(k);
}
