/*
 * config.c: defaults, names of modes and policies, error strings.
 */
#include "internal.h"

#include <errno.h>
#include <string.h>

void mj_config_defaults(struct mj_config *cfg)
{
	memset(cfg, 0, sizeof(*cfg));
	cfg->mode = MJ_MODE_SYNC;
	cfg->connections = 2;
	cfg->policy = MJ_POLICY_BLOCK;
	cfg->block_timeout_ms = 10000;
	cfg->ack_timeout_ms = 3000;
	cfg->heartbeat_ms = 500;
	cfg->connect_timeout_ms = 2000;
	cfg->spin_us = 0;
	cfg->async_max_bytes = 64ull << 20;
	cfg->epoch = 1;
}

static const char *const mode_names[] = {"unreplicated", "sync", "syncflush",
                                         "async"};
static const char *const policy_names[] = {"block", "degrade"};

static int parse_name(const char *const *names, int n, const char *s)
{
	for (int i = 0; i < n; i++)
		if (s && strcmp(s, names[i]) == 0)
			return i;
	return -1;
}

const char *mj_mode_name(enum mj_mode mode)
{
	return (unsigned)mode < 4 ? mode_names[mode] : "?";
}

int mj_mode_parse(const char *name, enum mj_mode *out)
{
	int i = parse_name(mode_names, 4, name);
	if (i < 0)
		return -EINVAL;
	*out = (enum mj_mode)i;
	return 0;
}

const char *mj_policy_name(enum mj_policy policy)
{
	return (unsigned)policy < 2 ? policy_names[policy] : "?";
}

int mj_policy_parse(const char *name, enum mj_policy *out)
{
	int i = parse_name(policy_names, 2, name);
	if (i < 0)
		return -EINVAL;
	*out = (enum mj_policy)i;
	return 0;
}

const char *mj_transport_name(const char *name)
{
	const struct mjl_transport *t = name ? mjl_transport_find(name) : NULL;
	return t ? t->name : NULL;
}

const char *mj_transport_unknown(const char *name)
{
	return mjl_transport_unknown(name);
}

const char *mj_strerror(int err)
{
	if (err < 0)
		err = -err;
	switch (err) {
	case 0:
		return "success";
	case MJ_EFENCED:
		return "fenced: the mirror has seen a newer epoch";
	case MJ_EDEGRADED:
		return "degraded: mirror lost, replication stopped";
	case MJ_ECLUSTER:
		return "refused: the mirror serves another cluster (one mirror "
		       "serves one primary's database)";
	case MJ_EAUTH:
		return "refused: the mirror and this primary do not hold the same "
		       "cluster key (keyfile)";
	case MJ_EPROTO:
		return "the mirror answered with an invalid frame";
	case ETIMEDOUT:
		return "timed out waiting for the mirror";
	default:
		return strerror(err);
	}
}

/* Checks the numbers of a config; returns 0 or -EINVAL with a message. */
int mj_config_check(const struct mj_config *c, const char **why)
{
	if ((unsigned)c->mode > MJ_MODE_ASYNC)
		return *why = "unknown mode", -EINVAL;
	if ((unsigned)c->policy > MJ_POLICY_DEGRADE)
		return *why = "unknown policy", -EINVAL;
	if (c->mode != MJ_MODE_UNREPLICATED && (!c->mirror || !*c->mirror))
		return *why = "a replicated mode needs a mirror address", -EINVAL;
	if (c->connections < 1 || c->connections > MJ_MAX_CONNS)
		return *why = "connections must be 1..64", -EINVAL;
	if (c->block_timeout_ms < 0 || c->ack_timeout_ms <= 0 ||
	    c->heartbeat_ms <= 0 || c->connect_timeout_ms <= 0 || c->spin_us < 0)
		return *why = "timeouts must be positive", -EINVAL;
	if (c->async_max_bytes < (1u << 20))
		return *why = "async_max_bytes must be at least 1 MiB", -EINVAL;
	if (c->epoch == 0)
		return *why = "epoch must be at least 1", -EINVAL;
	if (!mjl_transport_find(c->transport))
		return *why = mjl_transport_unknown(c->transport), -EINVAL;
	if (c->tls && c->transport && strcmp(c->transport, "tcp"))
		return *why = "tls=on runs over TCP only, not transport=rdma",
		       -EINVAL;
	if (c->tls && (!c->tls_cert || !c->tls_key || !c->tls_ca))
		return *why = "tls=on needs tls_cert, tls_key and tls_ca", -EINVAL;
	if (!c->tls && (c->tls_cert || c->tls_key || c->tls_ca))
		return *why = "tls_cert, tls_key and tls_ca need tls=on", -EINVAL;
	return 0;
}
