/*
 * query.c: OP_QUERY (2004), the legacy message every driver's first
 * handshake still uses; served only for commands on "<db>.$cmd".
 *
 * Layout after the header: int32 flags, cstring fullCollectionName,
 * int32 numberToSkip, int32 numberToReturn, the query document, and an
 * optional returnFieldsSelector document ending the message.
 */
#include "wire_int.h"

int mdw_db_name_check(const char *db, size_t len, const char **why)
{
	if (!db || len == 0)
		return mdw_fail(why, MDW_E_FORMAT, "database name: empty");
	if (len > 63)
		return mdw_fail(why, MDW_E_FORMAT, "database name: longer than 63 bytes");
	for (size_t i = 0; i < len; i++)
		if (db[i] == '\0' || strchr("/\\. \"$", db[i]))
			return mdw_fail(why, MDW_E_FORMAT, "database name: contains one of / \\ . \" $ space NUL");
	return MDW_OK;
}

/* fullCollectionName at p + pos: at most MDW_MAX_NS bytes, its NUL inside
 * the message; then "<db>.$cmd". */
static int parse_ns(const uint8_t *p, size_t pos, size_t len,
                    struct mdw_query *q, const char **why)
{
	size_t room = len - pos;
	size_t look = room < MDW_MAX_NS + 1 ? room : MDW_MAX_NS + 1;
	const uint8_t *nul = memchr(p + pos, 0, look);
	if (!nul)
		return mdw_fail(why, MDW_E_FORMAT, look == room
		                ? "OP_QUERY fullCollectionName: not NUL-terminated inside the message"
		                : "OP_QUERY fullCollectionName: longer than 255 bytes");
	q->ns = (const char *)(p + pos);
	q->ns_len = (size_t)(nul - (p + pos));
	const char *dot = memchr(q->ns, '.', q->ns_len);
	if (!dot)
		return mdw_fail(why, MDW_E_FORMAT, "OP_QUERY fullCollectionName: no '.' between database and collection");
	q->db = q->ns;
	q->db_len = (size_t)(dot - q->ns);
	int rc = mdw_db_name_check(q->db, q->db_len, why);
	if (rc)
		return rc;
	if (q->ns_len - q->db_len - 1 != 4 || memcmp(dot + 1, "$cmd", 4))
		return mdw_fail(why, MDW_E_UNSUPPORTED, "OP_QUERY is supported only for commands on <db>.$cmd: use OP_MSG");
	return MDW_OK;
}

/* Drivers may send {$query: {...}, $readPreference: ...}. */
static void unwrap(struct mdw_query *q)
{
	bson_t b;
	bson_iter_t it;
	q->cmd = q->query;
	if (!mdw_doc_bson(&q->query, &b) || !bson_iter_init(&it, &b) ||
	    !bson_iter_next(&it) || !BSON_ITER_HOLDS_DOCUMENT(&it))
		return;
	const char *k = bson_iter_key(&it);
	if (strcmp(k, "$query") && strcmp(k, "query"))
		return;
	uint32_t l;
	const uint8_t *d;
	bson_iter_document(&it, &l, &d);
	q->cmd = (struct mdw_doc){.data = d, .len = l};
}

int mdw_query_parse(const uint8_t *p, size_t len, struct mdw_query *q,
                    const char **why)
{
	memset(q, 0, sizeof(*q));
	size_t pos = MDW_HEADER_SIZE;
	if (len - pos < 4)
		return mdw_fail(why, MDW_E_LENGTH, "OP_QUERY: no room for flags");
	q->flags = (int32_t)mdw_rd32(p + pos);
	pos += 4;
	int rc = parse_ns(p, pos, len, q, why);
	if (rc)
		goto out;
	pos += q->ns_len + 1;
	if (len - pos < 8) {
		rc = mdw_fail(why, MDW_E_FORMAT, "OP_QUERY: no room for numberToSkip and numberToReturn");
		goto out;
	}
	q->skip = (int32_t)mdw_rd32(p + pos);
	q->nreturn = (int32_t)mdw_rd32(p + pos + 4);
	pos += 8;
	if ((rc = mdw_doc_check(p + pos, len - pos, MDW_MAX_BSON_CMD,
	                        &q->query.len, why)))
		goto out;
	q->query.data = p + pos;
	pos += q->query.len;
	if (pos < len) {
		if ((rc = mdw_doc_check(p + pos, len - pos, MDW_MAX_BSON,
		                        &q->fields.len, why)))
			goto out;
		q->fields.data = p + pos;
		pos += q->fields.len;
	}
	rc = MDW_OK;
	if (pos != len)
		rc = mdw_fail(why, MDW_E_FORMAT, "OP_QUERY: bytes after returnFieldsSelector");
	else
		unwrap(q);
out:
	if (rc)
		memset(q, 0, sizeof(*q));
	return rc;
}
