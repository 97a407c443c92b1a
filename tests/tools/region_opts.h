/*
 * region_opts.h: the libmojim options that every test tool driving a
 * region takes, spelled and checked in one place.
 *
 *   --mirror HOST:PORT  --mode M  --policy P  --connections N
 *   --block-timeout-ms N  --connect-timeout-ms N  --ack-timeout-ms N
 *   --keyfile FILE
 *   --transport tcp|rdma
 *   --tls-cert FILE  --tls-key FILE  --tls-ca FILE  (any of them: tls on)
 *
 * A tool puts REGION_LONG_OPTS in its getopt_long table and hands each
 * option to region_opt() before its own switch; region_opts_init() first,
 * after the library's defaults: MOJIM_TRANSPORT and MOJIM_CONNECT_TIMEOUT_MS
 * in the environment are the defaults of transport and connect_timeout_ms,
 * so that the process-level tests run unchanged over RDMA in the soft-RoCE
 * guest (tests/rdma).
 */
#ifndef MOJIM_TESTS_REGION_OPTS_H
#define MOJIM_TESTS_REGION_OPTS_H

#include "mojim.h"

#include <stdlib.h>

#define REGION_LONG_OPTS                                                    \
	{"mirror", 1, 0, 'm'}, {"mode", 1, 0, 'M'}, {"policy", 1, 0, 'P'},    \
	    {"connections", 1, 0, 'c'}, {"block-timeout-ms", 1, 0, 'b'},      \
	    {"keyfile", 1, 0, 0x1001}, {"transport", 1, 0, 0x1002},           \
	    {"tls-cert", 1, 0, 0x1003}, {"tls-key", 1, 0, 0x1004},            \
	    {"tls-ca", 1, 0, 0x1005}, {"connect-timeout-ms", 1, 0, 0x1006},   \
	    {"ack-timeout-ms", 1, 0, 0x1007}

static inline void region_opts_init(struct mj_config *cfg)
{
	const char *t = getenv("MOJIM_TRANSPORT");
	const char *ms = getenv("MOJIM_CONNECT_TIMEOUT_MS");
	if (t && *t)
		cfg->transport = t;
	/* An emulated RDMA device sets a connection up in seconds. */
	if (ms && atoi(ms) > 0)
		cfg->connect_timeout_ms = atoi(ms);
}

/* 1: c was a region option, stored in cfg; 0: it was not; -1: its value
 * is bad, *why says so. */
static inline int region_opt(int c, const char *arg, struct mj_config *cfg,
                             const char **why)
{
	switch (c) {
	case 'm': cfg->mirror = arg; return 1;
	case 'M':
		if (mj_mode_parse(arg, &cfg->mode) == 0)
			return 1;
		*why = "--mode: unreplicated|sync|syncflush|async";
		return -1;
	case 'P':
		if (mj_policy_parse(arg, &cfg->policy) == 0)
			return 1;
		*why = "--policy: block|degrade";
		return -1;
	case 'c': cfg->connections = atoi(arg); return 1;
	case 'b': cfg->block_timeout_ms = atoi(arg); return 1;
	case 0x1001: cfg->keyfile = arg; return 1;
	case 0x1002: cfg->transport = arg; return 1;
	case 0x1003: cfg->tls = 1; cfg->tls_cert = arg; return 1;
	case 0x1004: cfg->tls = 1; cfg->tls_key = arg; return 1;
	case 0x1005: cfg->tls = 1; cfg->tls_ca = arg; return 1;
	case 0x1006: cfg->connect_timeout_ms = atoi(arg); return 1;
	case 0x1007: cfg->ack_timeout_ms = atoi(arg); return 1;
	default: return 0;
	}
}

#endif
