/*
 * keys.c: an index's keys for a document: each field of the key pattern
 * found by its dotted path (missing: null), encoded (keyenc.c), inverted
 * where descending, concatenated. An array as the value of a
 * single-field index's path makes it multikey, as in MongoDB: one key
 * per distinct element (an empty array: one undefined, which orders as
 * null). Arrays anywhere else on a path (a.b through an array of a), or
 * in a compound index, are refused (MDL_ECANNOT_INDEX) rather than
 * indexed wrongly.
 */
#include "layout.h"

#include <stdlib.h>
#include <string.h>

enum { FOUND, MISSING, ARRAY, ARRAY_END };

/* The value at path in doc; *v valid while doc is. */
static int find_path(const bson_t *doc, const char *path, bson_value_t *v)
{
	bson_iter_t it, child;
	if (!bson_iter_init(&it, doc))
		return MISSING;
	for (const char *p = path;;) {
		const char *dot = strchr(p, '.');
		size_t n = dot ? (size_t)(dot - p) : strlen(p);
		if (!bson_iter_find_w_len(&it, p, (int)n))
			return MISSING;
		if (BSON_ITER_HOLDS_ARRAY(&it)) {
			*v = *bson_iter_value(&it);
			return dot ? ARRAY : ARRAY_END;
		}
		if (!dot) {
			*v = *bson_iter_value(&it); /* points into doc */
			return FOUND;
		}
		if (!BSON_ITER_HOLDS_DOCUMENT(&it) || !bson_iter_recurse(&it, &child))
			return MISSING;
		it = child;
		p = dot + 1;
	}
}

/* One field's value: found, or null when missing. */
static int field_value(const bson_t *doc, const char *path, bson_value_t *v,
                       mdl_err *err)
{
	int r = find_path(doc, path, v);
	if (r == ARRAY || r == ARRAY_END)
		return mdl_fail(err, MDL_ECANNOT_INDEX, "field '%s' is or is in an "
		                "array: multikey indexes are not supported", path);
	if (r == MISSING)
		v->value_type = BSON_TYPE_NULL;
	return 0;
}

int ix_key(const struct ixdef *ix, const bson_t *doc, uint8_t *out,
           size_t *len, mdl_err *err)
{
	struct kbuf b = {.p = out, .cap = MDL_KEY_MAX};
	bson_iter_t it;
	int rc = 0;
	bson_iter_init(&it, &ix->key);
	while (!rc && bson_iter_next(&it)) {
		bson_value_t v;
		size_t from = b.n;
		if ((rc = field_value(doc, bson_iter_key(&it), &v, err)) != 0)
			break;
		kb_value(&b, &v, 0);
		if (bson_iter_as_double(&it) < 0)
			kb_invert(&b, from);
		if (b.deep)
			rc = mdl_fail(err, MDL_EBAD_VALUE, "index %s: value of '%s' "
			              "nested deeper than %d", ix->name,
			              bson_iter_key(&it), MDL_DEPTH_MAX);
		else if (b.over)
			rc = mdl_fail(err, MDL_EKEY_TOO_LONG, "index %s: key over %d "
			              "bytes", ix->name, MDL_KEY_MAX);
	}
	*len = b.n;
	return rc;
}

void ix_dupkey(const struct ixdef *ix, const bson_t *doc,
               const bson_value_t *elem, mdl_err *err)
{
	bson_t k = BSON_INITIALIZER;
	bson_iter_t it;
	bson_iter_init(&it, &ix->key);
	while (bson_iter_next(&it)) {
		bson_value_t v;
		if (elem) { /* the element of a multikey index's array */
			bson_append_value(&k, bson_iter_key(&it), -1, elem);
		} else if (find_path(doc, bson_iter_key(&it), &v) == FOUND) {
			bson_append_value(&k, bson_iter_key(&it), -1, &v);
		} else {
			bson_append_null(&k, bson_iter_key(&it), -1);
		}
	}
	if (k.len > sizeof(err->dupkey)) {
		bson_reinit(&k);
		bson_append_utf8(&k, "", 0, "<key too large>", -1);
	}
	memcpy(err->dupkey, bson_get_data(&k), k.len);
	err->dupkey_len = k.len;
	snprintf(err->index, sizeof(err->index), "%s", ix->name);
	bson_destroy(&k);
}

static int check_path(const char *p, mdl_err *err)
{
	size_t n = strlen(p);
	if (n == 0 || n > MDL_NS_MAX || p[0] == '$' || p[0] == '.' ||
	    p[n - 1] == '.' || strstr(p, ".."))
		return mdl_fail(err, MDL_EBAD_VALUE, "bad index key field '%.64s'",
		                p);
	return 0;
}

int ix_check_pattern(const bson_t *key, mdl_err *err)
{
	bson_iter_t it, it2;
	int n = 0;
	if (!bson_validate(key, BSON_VALIDATE_NONE, NULL) ||
	    !bson_iter_init(&it, key))
		return mdl_fail(err, MDL_EBAD_VALUE, "bad index key pattern");
	while (bson_iter_next(&it)) {
		int rc = check_path(bson_iter_key(&it), err);
		if (rc)
			return rc;
		if (!BSON_ITER_HOLDS_NUMBER(&it) || bson_iter_as_double(&it) == 0 ||
		    bson_iter_as_double(&it) != bson_iter_as_double(&it))
			return mdl_fail(err, MDL_EBAD_VALUE, "index key '%.64s': only "
			                "1 or -1 (ascending, descending) are "
			                "supported", bson_iter_key(&it));
		if (++n > MDL_FIELDS_MAX)
			return mdl_fail(err, MDL_EBAD_VALUE, "more than %d fields in an "
			                "index key pattern", MDL_FIELDS_MAX);
		it2 = it;
		while (bson_iter_next(&it2))
			if (!strcmp(bson_iter_key(&it), bson_iter_key(&it2)))
				return mdl_fail(err, MDL_EBAD_VALUE, "field '%.64s' twice "
				                "in an index key", bson_iter_key(&it));
	}
	if (!n)
		return mdl_fail(err, MDL_EBAD_VALUE, "empty index key pattern");
	return 0;
}

size_t ix_rid_suffix(uint8_t *p, int64_t rid)
{
	uint64_t u = (uint64_t)rid ^ (1ull << 63);
	p[0] = RID_MARK;
	for (int i = 0; i < 8; i++)
		p[1 + i] = (uint8_t)(u >> (56 - 8 * i));
	return 9;
}

/* Room for one more key of up to MDL_KEY_MAX + 16 bytes. */
static int ks_room(struct keyset *ks, mdl_err *err)
{
	if (ks->nk == ks->kcap) {
		size_t cap = ks->kcap ? 2 * ks->kcap : 8;
		void *p = realloc(ks->k, cap * sizeof(*ks->k));
		if (!p)
			return mdl_fail(err, MDL_ENO_MEMORY, "no memory for keys");
		ks->k = p;
		ks->kcap = cap;
	}
	if (ks->cap - ks->len < MDL_KEY_MAX + 16) {
		size_t cap = ks->cap ? 2 * ks->cap : 4 * MDL_KEY_MAX;
		void *p = cap <= KEYSET_MAX ? realloc(ks->buf, cap) : NULL;
		if (!p)
			return mdl_fail(err, MDL_ENO_MEMORY, "a document's keys over "
			                "%d bytes", KEYSET_MAX);
		ks->buf = p;
		ks->cap = cap;
	}
	return 0;
}

static int ks_cmp(const void *pa, const void *pb, void *arg)
{
	const struct kref *a = pa, *b = pb;
	const uint8_t *buf = arg;
	int r = memcmp(buf + a->off, buf + b->off, a->n < b->n ? a->n : b->n);
	return r ? r : (a->n > b->n) - (a->n < b->n);
}

/* One element's key; too deep or too long is an error. */
static int ks_add(struct keyset *ks, const struct ixdef *ix,
                  const bson_value_t *v, int desc, mdl_err *err)
{
	int rc = ks_room(ks, err);
	if (rc)
		return rc;
	struct kbuf b = {.p = ks->buf + ks->len, .cap = MDL_KEY_MAX};
	kb_value(&b, v, 0);
	if (b.deep)
		return mdl_fail(err, MDL_EBAD_VALUE, "index %s: an element nested "
		                "deeper than %d", ix->name, MDL_DEPTH_MAX);
	if (b.over)
		return mdl_fail(err, MDL_EKEY_TOO_LONG, "index %s: key over %d "
		                "bytes", ix->name, MDL_KEY_MAX);
	if (desc)
		kb_invert(&b, 0);
	ks->k[ks->nk++] = (struct kref){ks->len, b.n, *v};
	ks->len += b.n;
	return 0;
}

/* The elements' keys, sorted, each once. */
static int ks_array(struct keyset *ks, const struct ixdef *ix,
                    const bson_value_t *arr, int desc, mdl_err *err)
{
	bson_iter_t it;
	int rc = 0;
	if (bson_iter_init_from_data(&it, arr->value.v_doc.data,
	                             arr->value.v_doc.data_len))
		while (!rc && bson_iter_next(&it))
			rc = ks_add(ks, ix, bson_iter_value(&it), desc, err);
	if (!rc && ks->nk == 0) {
		bson_value_t u = {.value_type = BSON_TYPE_UNDEFINED};
		rc = ks_add(ks, ix, &u, desc, err);
	}
	if (rc)
		return rc;
	qsort_r(ks->k, ks->nk, sizeof(*ks->k), ks_cmp, ks->buf);
	size_t n = 1;
	for (size_t i = 1; i < ks->nk; i++)
		if (ks_cmp(&ks->k[n - 1], &ks->k[i], ks->buf))
			ks->k[n++] = ks->k[i];
	ks->nk = n;
	ks->multi = 1;
	return 0;
}

int ix_keys(const struct ixdef *ix, const bson_t *doc, struct keyset *ks,
            mdl_err *err)
{
	bson_iter_t it;
	bson_value_t v;
	ks->len = ks->nk = 0;
	ks->multi = 0;
	bson_iter_init(&it, &ix->key);
	if (bson_iter_next(&it) && !bson_iter_next(&it)) {
		bson_iter_init(&it, &ix->key);
		bson_iter_next(&it);
		if (find_path(doc, bson_iter_key(&it), &v) == ARRAY_END)
			return ks_array(ks, ix, &v, bson_iter_as_double(&it) < 0, err);
	}
	int rc = ks_room(ks, err);
	size_t n;
	if (rc || (rc = ix_key(ix, doc, ks->buf, &n, err)))
		return rc;
	ks->k[0] = (struct kref){0, n, {.value_type = BSON_TYPE_EOD}};
	ks->nk = 1;
	ks->len = n;
	return 0;
}

int ix_is_multikey_doc(const struct ixdef *ix, const bson_t *doc)
{
	bson_iter_t it;
	bson_value_t v;
	bson_iter_init(&it, &ix->key);
	return bson_iter_next(&it) && !bson_iter_next(&it) &&
	       bson_iter_init(&it, &ix->key) && bson_iter_next(&it) &&
	       find_path(doc, bson_iter_key(&it), &v) == ARRAY_END;
}
