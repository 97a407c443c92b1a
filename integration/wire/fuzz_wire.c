/*
 * fuzz_wire.c: libFuzzer target. Any bytes go to mdw_header_parse and
 * mdw_parse; a message that parses must have every view inside the input
 * (views_inside.h), must merge or be refused cleanly, and, rebuilt by
 * mdw_build_msg, must parse again to the same body and sequences.
 */
#include "mdb_wire.h"
#include "views_inside.h"

#include <stdlib.h>

static void rebuild(const struct mdw_request *r)
{
	const struct mdw_msg *m = &r->msg;
	bson_t body, all[64];
	const bson_t *ptrs[64];
	struct mdw_seq_out out[MDW_MAX_SEQUENCES];
	size_t used = 0;
	for (uint32_t s = 0; s < m->nseq; s++) {
		if (m->seq[s].ndocs > 64 - used)
			return; /* a bounded copy only */
		out[s] = (struct mdw_seq_out){m->seq[s].id, ptrs + used, 0};
		size_t off = 0;
		struct mdw_doc d;
		while (mdw_seq_next(&m->seq[s], &off, &d)) {
			mdw_doc_bson(&d, &all[used]);
			ptrs[used] = &all[used];
			used++;
			out[s].ndocs++;
		}
	}
	mdw_doc_bson(&m->body, &body);
	struct mdw_buf b;
	struct mdw_request again;
	mdw_buf_init(&b, 0);
	if (mdw_build_msg(&b, 1, 2, m->flags & (MDW_MSG_CHECKSUM | MDW_MSG_MORE_TO_COME | MDW_MSG_EXHAUST),
	                  &body, out, m->nseq, NULL) ||
	    mdw_parse(b.data, b.len, &again, NULL) ||
	    again.msg.body.len != m->body.len ||
	    memcmp(again.msg.body.data, m->body.data, m->body.len) ||
	    again.msg.nseq != m->nseq)
		abort();
	for (uint32_t s = 0; s < m->nseq; s++)
		if (again.msg.seq[s].docs_len != m->seq[s].docs_len ||
		    memcmp(again.msg.seq[s].docs, m->seq[s].docs, m->seq[s].docs_len))
			abort();
	mdw_buf_free(&b);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct mdw_header h;
	const char *why = NULL;
	if (mdw_header_parse(data, size, &h, &why) && !why)
		abort(); /* an error always says why */
	struct mdw_request *r = malloc(sizeof(*r));
	why = NULL;
	int rc = mdw_parse(data, size, r, &why);
	if (rc && !why)
		abort();
	if (rc == MDW_OK) {
		if (!mdw_views_inside(r, data, size))
			abort();
		if (r->hdr.opcode == MDW_OP_MSG) {
			bson_t merged;
			if (mdw_msg_merge(&r->msg, &merged, NULL) == MDW_OK) {
				if (!bson_validate(&merged, BSON_VALIDATE_NONE, NULL))
					abort();
				bson_destroy(&merged);
			}
			rebuild(r);
		}
	}
	free(r);
	return 0;
}
