/*
 * doc.c: one BSON document from the wire, checked before anyone reads it:
 * its length against its section, its size, its depth, its structure.
 */
#include "wire_int.h"

/*
 * libbson's bson_validate recurses once per nested document, so a 16 MiB
 * document nested a few million deep would overflow the stack. This walk
 * bounds the depth first, with an explicit stack of iterators; it follows
 * the same elements bson_validate does (documents, arrays, and the scope
 * of code-with-scope). What it cannot enter, bson_validate then refuses.
 */
static bool depth_ok(const bson_t *b)
{
	/* bson_iter_t is over-aligned: a struct pads each to its alignment */
	struct level {
		bson_iter_t it;
	} lv[MDW_MAX_DEPTH + 1];
	int d = 0;
#define st(i) (&lv[i].it)
	if (!bson_iter_init(st(0), b))
		return true;
	for (;;) {
		if (!bson_iter_next(st(d))) {
			if (d == 0)
				return true;
			d--;
			continue;
		}
		bson_type_t t = bson_iter_type(st(d));
		if (t != BSON_TYPE_DOCUMENT && t != BSON_TYPE_ARRAY &&
		    t != BSON_TYPE_CODEWSCOPE)
			continue;
		if (d == MDW_MAX_DEPTH)
			return false;
		bool in;
		if (t == BSON_TYPE_CODEWSCOPE) {
			uint32_t clen, slen;
			const uint8_t *scope;
			bson_iter_codewscope(st(d), &clen, &slen, &scope);
			in = scope && bson_iter_init_from_data(st(d + 1), scope, slen);
		} else {
			in = bson_iter_recurse(st(d), st(d + 1));
		}
		if (in)
			d++;
	}
#undef st
}

int mdw_doc_check(const uint8_t *p, size_t avail, uint32_t max,
                  uint32_t *len, const char **why)
{
	if (avail < 4)
		return mdw_fail(why, MDW_E_BSON, "document: its length runs past the end of its section");
	int32_t l = (int32_t)mdw_rd32(p);
	if (l < 5)
		return mdw_fail(why, MDW_E_BSON, "document: length below 5");
	if ((size_t)l > avail)
		return mdw_fail(why, MDW_E_BSON, "document: length larger than what remains of its section");
	if ((uint32_t)l > max)
		return mdw_fail(why, MDW_E_BSON, "document: larger than the maximum BSON size");
	bson_t b;
	if (!bson_init_static(&b, p, (size_t)l))
		return mdw_fail(why, MDW_E_BSON, "document: does not end with a NUL byte");
	if (!depth_ok(&b))
		return mdw_fail(why, MDW_E_BSON, "document: nested deeper than 200 levels");
	size_t off;
	if (!bson_validate(&b, BSON_VALIDATE_NONE, &off))
		return mdw_fail(why, MDW_E_BSON, "document: invalid BSON");
	*len = (uint32_t)l;
	return MDW_OK;
}

bool mdw_doc_bson(const struct mdw_doc *d, bson_t *out)
{
	return d && d->data && d->len >= 5 && bson_init_static(out, d->data, d->len);
}
