/*
 * doc.c: one BSON document from the wire, checked before anyone reads it:
 * its length against its section, its size, its depth, its structure.
 */
#include "wire_int.h"

/*
 * Two holes in libbson 1.23's bson_validate, closed by this walk before it
 * runs: it recurses once per nested document, so a 16 MiB document nested
 * a few million deep would overflow the stack; and it skips, as valid, a
 * nested document whose last byte is not NUL (bson_iter_visit_all passes
 * over a child that bson_init_static refuses). The walk keeps its own
 * stack of iterators, at most MDW_MAX_DEPTH deep, and enters every nested
 * document, array and code-with-scope's scope with
 * bson_iter_init_from_data, which checks the child's length and final NUL.
 */
static const char *nested_bad(const bson_t *b)
{
	/* bson_iter_t is over-aligned: a struct pads each to its alignment */
	struct level {
		bson_iter_t it;
	} lv[MDW_MAX_DEPTH + 1];
	int d = 0;
	if (!bson_iter_init(&lv[0].it, b))
		return "document: invalid BSON";
	for (;;) {
		bson_iter_t *it = &lv[d].it;
		if (!bson_iter_next(it)) {
			if (it->err_off)
				return "document: invalid BSON";
			if (d-- == 0)
				return NULL;
			continue;
		}
		uint32_t len = 0, clen;
		const uint8_t *data = NULL;
		switch (bson_iter_type(it)) {
		case BSON_TYPE_DOCUMENT:
			bson_iter_document(it, &len, &data);
			break;
		case BSON_TYPE_ARRAY:
			bson_iter_array(it, &len, &data);
			break;
		case BSON_TYPE_CODEWSCOPE:
			bson_iter_codewscope(it, &clen, &len, &data);
			break;
		default:
			continue;
		}
		if (d == MDW_MAX_DEPTH)
			return "document: nested deeper than 200 levels";
		if (!data || !bson_iter_init_from_data(&lv[d + 1].it, data, len))
			return "document: a nested document is invalid BSON";
		d++;
	}
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
	const char *bad = nested_bad(&b);
	if (bad)
		return mdw_fail(why, MDW_E_BSON, bad);
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
