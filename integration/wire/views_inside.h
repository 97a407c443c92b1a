/*
 * views_inside.h: the invariant the mutation test and the fuzzer check
 * after every successful mdw_parse: each view lies inside the message,
 * and each document in it is one libbson accepts.
 */
#ifndef MDW_VIEWS_INSIDE_H
#define MDW_VIEWS_INSIDE_H

#include "mdb_wire.h"

#include <string.h>

static inline bool mdw_in(const void *p, size_t n, const uint8_t *buf,
                          size_t len)
{
	const uint8_t *q = p;
	return q >= buf && q <= buf + len && n <= (size_t)(buf + len - q);
}

static inline bool mdw_doc_inside(const struct mdw_doc *d, const uint8_t *buf,
                                  size_t len, bool optional)
{
	bson_t b;
	if (optional && d->len == 0)
		return d->data == NULL;
	return mdw_in(d->data, d->len, buf, len) && mdw_doc_bson(d, &b) &&
	       bson_validate(&b, BSON_VALIDATE_NONE, NULL);
}

static inline bool mdw_seq_inside(const struct mdw_seq *s, const uint8_t *buf,
                                  size_t len)
{
	if (!mdw_in(s->id, s->id_len + 1, buf, len) || s->id[s->id_len] ||
	    strlen(s->id) != s->id_len || !mdw_in(s->docs, s->docs_len, buf, len))
		return false;
	size_t off = 0;
	uint32_t n = 0;
	struct mdw_doc d;
	while (mdw_seq_next(s, &off, &d)) {
		if (!mdw_doc_inside(&d, s->docs, s->docs_len, false))
			return false;
		n++;
	}
	return n == s->ndocs && off == s->docs_len;
}

static inline bool mdw_views_inside(const struct mdw_request *r,
                                    const uint8_t *buf, size_t len)
{
	if (r->hdr.opcode == MDW_OP_MSG) {
		if (!mdw_doc_inside(&r->msg.body, buf, len, false) ||
		    r->msg.nseq > MDW_MAX_SEQUENCES)
			return false;
		for (uint32_t i = 0; i < r->msg.nseq; i++)
			if (!mdw_seq_inside(&r->msg.seq[i], buf, len))
				return false;
		return true;
	}
	if (r->hdr.opcode == MDW_OP_QUERY) {
		const struct mdw_query *q = &r->query;
		return mdw_in(q->ns, q->ns_len + 1, buf, len) && !q->ns[q->ns_len] &&
		       q->db == q->ns && q->db_len < q->ns_len &&
		       mdw_doc_inside(&q->query, buf, len, false) &&
		       mdw_doc_inside(&q->fields, buf, len, true) &&
		       mdw_doc_inside(&q->cmd, q->query.data, q->query.len, false);
	}
	return false;
}

#endif
