/*
 * link.c: the region's connections to its mirror, each one link of
 * libmojim_link (mojim_link.h) over the configured transport. These run
 * without the region lock, by the thread that owns the connection. A
 * whole batch (all its fragments, back to back) leaves in one send.
 */
#include "internal.h"

#include <errno.h>
#include <stdlib.h>
#include <string.h>

struct mj_link {
	struct mjl_link *l;
};

/* A refusal as the region's error. Final refusals are believed only when
 * authenticated: anyone can write to an unkeyed primary's socket anyway,
 * but a keyed primary must not be fenced for good by a stranger. A mirror
 * that was promoted or took a newer primary will never take this one
 * back; one that serves another cluster neither, but that is not a newer
 * primary, and says so. */
static int refusal_err(const struct mjl_refusal *f)
{
	if (f->code == MJW_REFUSE_AUTH)
		return -MJ_EAUTH;
	if (!f->authentic)
		return -ECONNREFUSED;
	if (f->code == MJW_REFUSE_FENCED || f->code == MJW_REFUSE_PROMOTED ||
	    f->code == MJW_REFUSE_REPLACED)
		return -MJ_EFENCED;
	if (f->code == MJW_REFUSE_CLUSTER)
		return -MJ_ECLUSTER;
	return -ECONNREFUSED;
}

/* The link's error as the region's, its message logged once. */
static int region_err(mj_region *r, int rc, const struct mjl_refusal *f,
                      const char *msg)
{
	if (msg[0])
		mj_log(r, MJ_LOG_ERROR, "%s", msg);
	if (rc == -MJL_EAUTH)
		return -MJ_EAUTH;
	if (rc == -MJL_EPROTO)
		return -MJ_EPROTO;
	if (rc == -MJL_EREFUSED)
		return refusal_err(f);
	return rc;
}

/* The error of a call on an established link. */
static int link_err(mj_region *r, struct mj_link *l, int rc, const char *msg)
{
	struct mjl_refusal f = {0};
	if (rc == -MJL_EREFUSED)
		mjl_last_refusal(l->l, &f);
	return rc ? region_err(r, rc, &f, msg) : 0;
}

static int link_open(mj_region *r, int index, struct mj_link **out,
                     struct mjw_hello_ack *ack_out)
{
	char msg[512];
	struct mjl_refusal f = {0};
	struct mjl_config cfg = {.addr = r->cfg.mirror,
	                         .transport = r->transport,
	                         .transport_ctx = r->tls,
	                         .connect_timeout_ms = r->cfg.connect_timeout_ms,
	                         .io_timeout_ms = r->cfg.ack_timeout_ms,
	                         .spin_us = r->cfg.spin_us,
	                         .epoch = r->cfg.epoch,
	                         .key = r->key.len ? &r->key : NULL};
	struct mjw_hello hello = {.cluster_id = r->cluster,
	                          .conn_index = (uint32_t)index,
	                          .nconns = (uint32_t)r->cfg.connections,
	                          .incarnation = r->incarnation};
	struct mj_link *link = malloc(sizeof(*link));
	if (!link)
		return -ENOMEM;
	int rc = mjl_dial(&cfg, &hello, &link->l, ack_out, &f, msg, sizeof(msg));
	if (rc) {
		free(link);
		return region_err(r, rc, &f, msg);
	}
	*out = link;
	return 0;
}

static int link_send_batch(mj_region *r, struct mj_link *l, struct mj_batch *b)
{
	return mjl_send(l->l, b->buf.p, (size_t)b->buf.len);
}

static int link_wait_ack(mj_region *r, struct mj_link *l, uint64_t seq)
{
	char msg[512] = "";
	return link_err(r, l, mjl_wait_ack(l->l, seq, msg, sizeof(msg)), msg);
}

static int link_ping(mj_region *r, struct mj_link *l, uint64_t nonce)
{
	char msg[512] = "";
	return link_err(r, l, mjl_ping(l->l, nonce, msg, sizeof(msg)), msg);
}

/* COPY_BEGIN, COPY_DONE: a control frame without a body. */
static int link_send_ctrl(mj_region *r, struct mj_link *l, enum mjw_type type,
                          uint64_t seq)
{
	return mjl_send_ctrl_link(l->l, type, seq);
}

static void link_close(struct mj_link *l)
{
	mjl_close(l->l);
	free(l);
}

const struct mj_transport mj_link_transport = {
	.name = "link",
	.open = link_open,
	.send_batch = link_send_batch,
	.wait_ack = link_wait_ack,
	.ping = link_ping,
	.send_ctrl = link_send_ctrl,
	.close = link_close,
};
