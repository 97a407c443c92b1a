/*
 * fuzz_wire.c: libFuzzer target. Any bytes go to mdw_header_parse and
 * mdw_parse; a message that parses must have every view inside the input
 * (views_inside.h), must merge or be refused cleanly, and, rebuilt by
 * mdw_build_msg, must parse again to the same body and sequences. The
 * merged command then goes to the command layer's parsers (mdb_query.h):
 * each filter, update, sort, projection and pipeline it holds is parsed
 * and, when it parses, applied to a few documents.
 */
#include "mdb_query.h"
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

/* Documents the parsed specs are applied to. */
static void sample_docs(bson_t d[3])
{
	bson_init(&d[0]);
	BSON_APPEND_INT32(&d[0], "_id", 1);
	BSON_APPEND_UTF8(&d[0], "a", "x");
	bson_init(&d[1]);
	BSON_APPEND_INT32(&d[1], "_id", 2);
	bson_t arr;
	BSON_APPEND_ARRAY_BEGIN(&d[1], "a", &arr);
	BSON_APPEND_INT32(&arr, "0", 5);
	BSON_APPEND_DOUBLE(&arr, "1", 2.5);
	bson_append_array_end(&d[1], &arr);
	bson_init(&d[2]);
}

struct src {
	bson_t *d;
	int i;
};

static int src_next(void *ctx, const bson_t **doc, struct mdq_error *e)
{
	struct src *s = ctx;
	if (s->i >= 3)
		return 0;
	*doc = &s->d[s->i++];
	return 1;
}

static int sink(void *ctx, const bson_t *doc, struct mdq_error *e)
{
	return 0;
}

/* One field's value of cmd as a document (or array) in out. */
static int field_doc(const bson_t *cmd, const char *name, bson_t *out)
{
	bson_iter_t it;
	const uint8_t *data;
	uint32_t len;
	if (!bson_iter_init_find(&it, cmd, name) ||
	    !(BSON_ITER_HOLDS_DOCUMENT(&it) || BSON_ITER_HOLDS_ARRAY(&it)))
		return 0;
	if (BSON_ITER_HOLDS_DOCUMENT(&it))
		bson_iter_document(&it, &len, &data);
	else
		bson_iter_array(&it, &len, &data);
	return bson_init_static(out, data, len);
}

static void command_layer(const bson_t *cmd)
{
	static const char *const filters[] = {"filter", "q", "query"};
	struct mdq_error e;
	bson_t spec, d[3];
	sample_docs(d);
	for (int i = 0; i < 3; i++) {
		mdq_filter_t *f;
		if (field_doc(cmd, filters[i], &spec) &&
		    (f = mdq_filter_parse(&spec, &e))) {
			struct mdq_bounds b;
			for (int k = 0; k < 3; k++)
				(void)mdq_filter_match(f, &d[k]);
			(void)mdq_filter_bounds(f, "a", true, &b);
			mdq_filter_free(f);
		}
	}
	mdq_update_t *u;
	if ((field_doc(cmd, "u", &spec) || field_doc(cmd, "update", &spec)) &&
	    (u = mdq_update_parse(&spec, &e))) {
		for (int k = 0; k < 3; k++) {
			bson_t out = BSON_INITIALIZER;
			bool ch;
			(void)mdq_update_apply(u, &d[k], &out, &ch, &e);
			bson_destroy(&out);
		}
		bson_t up = BSON_INITIALIZER;
		(void)mdq_update_upsert(u, &d[1], &up, &e);
		bson_destroy(&up);
		mdq_update_free(u);
	}
	mdq_sort_t *s;
	if (field_doc(cmd, "sort", &spec) && (s = mdq_sort_parse(&spec, &e))) {
		(void)mdq_sort_compare(s, &d[0], &d[1]);
		mdq_sort_free(s);
	}
	mdq_projection_t *p;
	if (field_doc(cmd, "projection", &spec) &&
	    (p = mdq_projection_parse(&spec, &e))) {
		bson_t out = BSON_INITIALIZER;
		mdq_projection_apply(p, &d[1], &out);
		bson_destroy(&out);
		mdq_projection_free(p);
	}
	mdq_pipeline_t *pl;
	if (field_doc(cmd, "pipeline", &spec) &&
	    (pl = mdq_pipeline_parse(&spec, 1 << 20, &e))) {
		struct src from = {.d = d};
		(void)mdq_pipeline_run(pl, src_next, &from, sink, NULL, &e);
		mdq_pipeline_free(pl);
	}
	for (int k = 0; k < 3; k++)
		bson_destroy(&d[k]);
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
				command_layer(&merged);
				bson_destroy(&merged);
			}
			rebuild(r);
		}
	}
	free(r);
	return 0;
}
