/*
 * header.c: the standard message header, opcodes, and the dispatch of a
 * whole message to its parser.
 */
#include "wire_int.h"

static const char *const err_names[] = {
	[MDW_OK] = "MDW_OK",
	[MDW_E_SHORT] = "MDW_E_SHORT",
	[MDW_E_LENGTH] = "MDW_E_LENGTH",
	[MDW_E_OPCODE] = "MDW_E_OPCODE",
	[MDW_E_UNSUPPORTED] = "MDW_E_UNSUPPORTED",
	[MDW_E_FLAGS] = "MDW_E_FLAGS",
	[MDW_E_FORMAT] = "MDW_E_FORMAT",
	[MDW_E_BSON] = "MDW_E_BSON",
	[MDW_E_CHECKSUM] = "MDW_E_CHECKSUM",
	[MDW_E_DUPLICATE] = "MDW_E_DUPLICATE",
	[MDW_E_TOOBIG] = "MDW_E_TOOBIG",
	[MDW_E_NOMEM] = "MDW_E_NOMEM",
	[MDW_E_ARG] = "MDW_E_ARG",
};

const char *mdw_err_name(int err)
{
	if (err < 0 || err >= (int)(sizeof(err_names) / sizeof(err_names[0])))
		return "MDW_E_?";
	return err_names[err];
}

/* Every opcode MongoDB has defined, with the sentence that refuses the
 * ones not served (the framing stays intact, so the daemon can answer). */
static const struct opinfo {
	int32_t op;
	const char *name;
	const char *refusal;
} ops[] = {
	{MDW_OP_REPLY, "OP_REPLY", "OP_REPLY (1) is a reply, not a request"},
	{1000, "OP_MSG_LEGACY", "the legacy OP_MSG (1000) is not supported"},
	{MDW_OP_UPDATE, "OP_UPDATE", "OP_UPDATE (2001) is not supported: use OP_MSG"},
	{MDW_OP_INSERT, "OP_INSERT", "OP_INSERT (2002) is not supported: use OP_MSG"},
	{2003, "OP_RESERVED", "opcode 2003 is reserved and not supported"},
	{MDW_OP_QUERY, "OP_QUERY", NULL},
	{MDW_OP_GET_MORE, "OP_GET_MORE", "OP_GET_MORE (2005) is not supported: use OP_MSG"},
	{MDW_OP_DELETE, "OP_DELETE", "OP_DELETE (2006) is not supported: use OP_MSG"},
	{MDW_OP_KILL_CURSORS, "OP_KILL_CURSORS", "OP_KILL_CURSORS (2007) is not supported: use OP_MSG"},
	{2010, "OP_COMMAND", "OP_COMMAND (2010) is not supported: use OP_MSG"},
	{2011, "OP_COMMANDREPLY", "OP_COMMANDREPLY (2011) is a reply, not a request"},
	{MDW_OP_COMPRESSED, "OP_COMPRESSED", "OP_COMPRESSED (2012) is not supported: no compressor was negotiated"},
	{MDW_OP_MSG, "OP_MSG", NULL},
};

static const struct opinfo *op_find(int32_t op)
{
	for (size_t i = 0; i < sizeof(ops) / sizeof(ops[0]); i++)
		if (ops[i].op == op)
			return &ops[i];
	return NULL;
}

const char *mdw_opcode_name(int32_t opcode)
{
	const struct opinfo *o = op_find(opcode);
	return o ? o->name : NULL;
}

/* The smallest message of each opcode parsed here: OP_MSG is flags, a
 * kind byte and an empty document; OP_QUERY is flags, a 1-byte cstring,
 * skip, return and an empty document. */
static int32_t min_length(int32_t op)
{
	if (op == MDW_OP_MSG)
		return MDW_HEADER_SIZE + 4 + 1 + 5;
	if (op == MDW_OP_QUERY)
		return MDW_HEADER_SIZE + 4 + 1 + 4 + 4 + 5;
	return MDW_HEADER_SIZE;
}

int mdw_header_parse(const void *buf, size_t avail, struct mdw_header *hdr,
                     const char **why)
{
	if (!buf || !hdr)
		return mdw_fail(why, MDW_E_ARG, "mdw_header_parse: NULL argument");
	if (avail < MDW_HEADER_SIZE)
		return mdw_fail(why, MDW_E_SHORT, "message header: fewer than 16 bytes");
	const uint8_t *p = buf;
	struct mdw_header h = {
		.length = (int32_t)mdw_rd32(p),
		.request_id = (int32_t)mdw_rd32(p + 4),
		.response_to = (int32_t)mdw_rd32(p + 8),
		.opcode = (int32_t)mdw_rd32(p + 12),
	};
	if (h.length > MDW_MAX_MESSAGE)
		return mdw_fail(why, MDW_E_LENGTH, "messageLength above maxMessageSizeBytes (48000000)");
	if (h.length < min_length(h.opcode))
		return mdw_fail(why, MDW_E_LENGTH, "messageLength below the smallest message of its opcode");
	*hdr = h;
	return MDW_OK;
}

int mdw_parse(const void *msg, size_t len, struct mdw_request *req,
              const char **why)
{
	if (!msg || !req)
		return mdw_fail(why, MDW_E_ARG, "mdw_parse: NULL argument");
	struct mdw_header h;
	int rc = mdw_header_parse(msg, len, &h, why);
	if (rc)
		return rc;
	if ((size_t)h.length != len)
		return mdw_fail(why, MDW_E_LENGTH, "messageLength is not the size of the message given");
	memset(req, 0, sizeof(*req));
	req->hdr = h;
	if (h.opcode == MDW_OP_MSG)
		return mdw_msg_parse(msg, len, &req->msg, why);
	if (h.opcode == MDW_OP_QUERY)
		return mdw_query_parse(msg, len, &req->query, why);
	const struct opinfo *o = op_find(h.opcode);
	if (o)
		return mdw_fail(why, MDW_E_UNSUPPORTED, o->refusal);
	return mdw_fail(why, MDW_E_OPCODE, "unknown opcode");
}
