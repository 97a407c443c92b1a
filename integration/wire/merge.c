/*
 * merge.c: the command document the dispatcher sees for an OP_MSG: the
 * body with each kind-1 sequence appended as an array named by its
 * identifier, as mongod presents {insert: "c", documents: [...]}.
 */
#include "wire_int.h"

/* Decimal digits of an array index. */
static uint64_t digits(uint32_t i)
{
	uint64_t n = 1;
	while (i >= 10) {
		i /= 10;
		n++;
	}
	return n;
}

/* The merged size, computed before anything is built, so that a message
 * of many tiny documents cannot make more than MDW_MAX_MESSAGE. */
static uint64_t merged_size(const struct mdw_msg *m)
{
	uint64_t n = m->body.len;
	for (uint32_t s = 0; s < m->nseq; s++) {
		const struct mdw_seq *q = &m->seq[s];
		n += 1 + q->id_len + 1 + 5; /* type, key, NUL, empty array */
		for (uint32_t i = 0; i < q->ndocs; i++)
			n += 1 + digits(i) + 1;
		n += q->docs_len;
	}
	return n;
}

static int append_seq(bson_t *out, const struct mdw_seq *q, const char **why)
{
	bson_t arr, doc;
	if (!bson_append_array_begin(out, q->id, (int)q->id_len, &arr))
		return mdw_fail(why, MDW_E_TOOBIG, "merge: the command document outgrew BSON");
	size_t off = 0;
	struct mdw_doc d;
	for (uint32_t i = 0; mdw_seq_next(q, &off, &d); i++) {
		char buf[16];
		const char *key;
		size_t kl = bson_uint32_to_string(i, &key, buf, sizeof(buf));
		if (!mdw_doc_bson(&d, &doc) ||
		    !bson_append_document(&arr, key, (int)kl, &doc)) {
			bson_append_array_end(out, &arr);
			return mdw_fail(why, MDW_E_TOOBIG, "merge: the command document outgrew BSON");
		}
	}
	if (!bson_append_array_end(out, &arr))
		return mdw_fail(why, MDW_E_TOOBIG, "merge: the command document outgrew BSON");
	return MDW_OK;
}

int mdw_msg_merge(const struct mdw_msg *m, bson_t *out, const char **why)
{
	bson_t body;
	if (!m || !out || !mdw_doc_bson(&m->body, &body) ||
	    m->nseq > MDW_MAX_SEQUENCES)
		return mdw_fail(why, MDW_E_ARG, "merge: not a parsed OP_MSG");
	for (uint32_t s = 0; s < m->nseq; s++) {
		bson_iter_t it;
		if (bson_iter_init_find_w_len(&it, &body, m->seq[s].id,
		                              (int)m->seq[s].id_len))
			return mdw_fail(why, MDW_E_DUPLICATE, "merge: a kind-1 identifier is also a field of the body");
	}
	if (merged_size(m) > MDW_MAX_MESSAGE)
		return mdw_fail(why, MDW_E_TOOBIG, "merge: the command document would pass 48000000 bytes");
	bson_init(out);
	if (!bson_concat(out, &body)) {
		bson_destroy(out);
		return mdw_fail(why, MDW_E_TOOBIG, "merge: the command document outgrew BSON");
	}
	for (uint32_t s = 0; s < m->nseq; s++) {
		int rc = append_seq(out, &m->seq[s], why);
		if (rc) {
			bson_destroy(out);
			return rc;
		}
	}
	return MDW_OK;
}
