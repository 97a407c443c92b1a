/*
 * build.c: OP_MSG, OP_REPLY and OP_QUERY messages appended to a
 * struct mdw_buf. Sizes are added up in uint64_t and bounded by
 * MDW_MAX_MESSAGE before a byte is written.
 */
#include "wire_int.h"

#define BUILD_FLAGS (MDW_MSG_CHECKSUM | MDW_MSG_MORE_TO_COME | MDW_MSG_EXHAUST)

static void put(struct mdw_buf *b, const void *p, size_t n)
{
	memcpy(b->data + b->len, p, n);
	b->len += n;
}

static void put32(struct mdw_buf *b, uint32_t v)
{
	put(b, &v, 4);
}

static int msg_size(const bson_t *body, const struct mdw_seq_out *seqs,
                    size_t nseq, uint32_t flags, uint64_t *size,
                    const char **why)
{
	uint64_t n = MDW_HEADER_SIZE + 4 + 1 + (uint64_t)body->len;
	for (size_t s = 0; s < nseq; s++) {
		if (!seqs[s].id || (!seqs[s].docs && seqs[s].ndocs))
			return mdw_fail(why, MDW_E_ARG, "build OP_MSG: a sequence without identifier or documents");
		n += 1 + 4 + strlen(seqs[s].id) + 1;
		for (size_t i = 0; i < seqs[s].ndocs && n <= MDW_MAX_MESSAGE; i++) {
			if (!seqs[s].docs[i])
				return mdw_fail(why, MDW_E_ARG, "build OP_MSG: a NULL document in a sequence");
			n += seqs[s].docs[i]->len;
		}
	}
	if (flags & MDW_MSG_CHECKSUM)
		n += 4;
	if (n > MDW_MAX_MESSAGE)
		return mdw_fail(why, MDW_E_TOOBIG, "build OP_MSG: larger than maxMessageSizeBytes");
	*size = n;
	return MDW_OK;
}

int mdw_build_msg(struct mdw_buf *out, int32_t request_id,
                  int32_t response_to, uint32_t flags, const bson_t *body,
                  const struct mdw_seq_out *seqs, size_t nseq,
                  const char **why)
{
	uint64_t n;
	if (!out || !body || (nseq && !seqs))
		return mdw_fail(why, MDW_E_ARG, "build OP_MSG: NULL argument");
	if (flags & ~BUILD_FLAGS)
		return mdw_fail(why, MDW_E_ARG, "build OP_MSG: a flag bit this library does not define");
	int rc = msg_size(body, seqs, nseq, flags, &n, why);
	if (rc || (rc = mdw_buf_reserve(out, n, why)))
		return rc;
	size_t start = out->len;
	mdw_put_header(out->data + start, (uint32_t)n, request_id, response_to,
	               MDW_OP_MSG);
	out->len += MDW_HEADER_SIZE;
	put32(out, flags);
	put(out, "", 1);
	put(out, bson_get_data(body), body->len);
	for (size_t s = 0; s < nseq; s++) {
		size_t il = strlen(seqs[s].id) + 1;
		size_t sstart = out->len;
		put(out, "\1\0\0\0\0", 5);
		put(out, seqs[s].id, il);
		for (size_t i = 0; i < seqs[s].ndocs; i++)
			put(out, bson_get_data(seqs[s].docs[i]), seqs[s].docs[i]->len);
		mdw_wr32(out->data + sstart + 1, (uint32_t)(out->len - sstart - 1));
	}
	if (flags & MDW_MSG_CHECKSUM)
		put32(out, mdw_crc32c(out->data + start, out->len - start));
	return MDW_OK;
}

int mdw_build_reply(struct mdw_buf *out, int32_t request_id,
                    int32_t response_to, int32_t response_flags,
                    const bson_t *doc, const char **why)
{
	if (!out || !doc)
		return mdw_fail(why, MDW_E_ARG, "build OP_REPLY: NULL argument");
	uint64_t n = MDW_HEADER_SIZE + 4 + 8 + 4 + 4 + (uint64_t)doc->len;
	if (n > MDW_MAX_MESSAGE)
		return mdw_fail(why, MDW_E_TOOBIG, "build OP_REPLY: larger than maxMessageSizeBytes");
	int rc = mdw_buf_reserve(out, n, why);
	if (rc)
		return rc;
	mdw_put_header(out->data + out->len, (uint32_t)n, request_id,
	               response_to, MDW_OP_REPLY);
	out->len += MDW_HEADER_SIZE;
	put32(out, (uint32_t)response_flags);
	put(out, "\0\0\0\0\0\0\0\0", 8);  /* cursorID */
	put32(out, 0);                     /* startingFrom */
	put32(out, 1);                     /* numberReturned */
	put(out, bson_get_data(doc), doc->len);
	return MDW_OK;
}

int mdw_build_query(struct mdw_buf *out, int32_t request_id, int32_t flags,
                    const char *ns, int32_t skip, int32_t nreturn,
                    const bson_t *query, const bson_t *fields,
                    const char **why)
{
	if (!out || !ns || !query)
		return mdw_fail(why, MDW_E_ARG, "build OP_QUERY: NULL argument");
	size_t nl = strnlen(ns, MDW_MAX_NS + 1);
	if (nl > MDW_MAX_NS)
		return mdw_fail(why, MDW_E_ARG, "build OP_QUERY: fullCollectionName longer than 255 bytes");
	uint64_t n = MDW_HEADER_SIZE + 4 + nl + 1 + 8 + (uint64_t)query->len +
	             (fields ? fields->len : 0);
	if (n > MDW_MAX_MESSAGE)
		return mdw_fail(why, MDW_E_TOOBIG, "build OP_QUERY: larger than maxMessageSizeBytes");
	int rc = mdw_buf_reserve(out, n, why);
	if (rc)
		return rc;
	mdw_put_header(out->data + out->len, (uint32_t)n, request_id, 0,
	               MDW_OP_QUERY);
	out->len += MDW_HEADER_SIZE;
	put32(out, (uint32_t)flags);
	put(out, ns, nl + 1);
	put32(out, (uint32_t)skip);
	put32(out, (uint32_t)nreturn);
	put(out, bson_get_data(query), query->len);
	if (fields)
		put(out, bson_get_data(fields), fields->len);
	return MDW_OK;
}
