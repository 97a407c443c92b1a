/*
 * extension.c: wiredtiger_extension_init, the extension's configuration,
 * and the region that lives as long as the connection.
 *
 * Load with early_load=true: the file system must be in place before
 * WiredTiger opens its first file.
 *   extensions=[/abs/libmojim_wt.so=(early_load=true,
 *               config={mode=sync,mirror=(host=127.0.0.1,port=7070)})]
 * The address also takes mirror="127.0.0.1:7070" (quoted: WiredTiger's
 * parser reads ':' as '='); the form without quotes survives every tool
 * that wraps the string in quotes of its own (wtperf's -C, mongod's
 * --wiredTigerEngineConfigString).
 */
#include "internal.h"

#include <errno.h>
#include <fcntl.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

static int bad(struct mwt_fs *fs, WT_CONFIG_ITEM *k, WT_CONFIG_ITEM *v,
               const char *why)
{
	fs->bad_key = true;
	return mwt_err(fs, EINVAL,
	               "mojim: extension config: %.*s=%.*s: %s", (int)k->len,
	               k->str, (int)v->len, v->str, why);
}

static bool key_is(WT_CONFIG_ITEM *k, const char *name)
{
	return k->len == strlen(name) && memcmp(k->str, name, k->len) == 0;
}

/* A number within [lo, hi] into *out. */
static int num(struct mwt_fs *fs, WT_CONFIG_ITEM *k, WT_CONFIG_ITEM *v,
               int lo, int hi, int *out)
{
	if (v->type != WT_CONFIG_ITEM_NUM || v->val < lo || v->val > hi) {
		char why[64];
		snprintf(why, sizeof(why), "want a number from %d to %d", lo, hi);
		return bad(fs, k, v, why);
	}
	*out = (int)v->val;
	return 0;
}

/* A value that is a word or a string: copied into a new string. */
static int dup_value(struct mwt_fs *fs, WT_CONFIG_ITEM *k, WT_CONFIG_ITEM *v,
                     char **out)
{
	if ((v->type != WT_CONFIG_ITEM_ID && v->type != WT_CONFIG_ITEM_STRING) ||
	    v->len == 0 || v->len > 4096)
		return bad(fs, k, v, "want a path");
	free(*out);
	*out = strndup(v->str, v->len);
	return *out ? 0 : ENOMEM;
}

/* mirror=(host=H,port=P) as "H:P" ("[H]:P" for an IPv6 host). */
static int mirror_struct(struct mwt_fs *fs, WT_CONFIG_ITEM *k,
                         WT_CONFIG_ITEM *v)
{
	WT_CONFIG_PARSER *p;
	WT_CONFIG_ITEM hk, hv, pk, pv;
	if (fs->api->config_parser_open(fs->api, NULL, v->str, v->len, &p))
		return bad(fs, k, v, "want (host=HOST,port=PORT)");
	int rc = p->get(p, "host", &hv) || p->get(p, "port", &pv);
	int n = 0;
	while (!rc && p->next(p, &hk, &pk) == 0)
		n++;
	(void)p->close(p);
	if (rc || n != 2 || hv.len == 0 || hv.len > 255 ||
	    (hv.type != WT_CONFIG_ITEM_ID && hv.type != WT_CONFIG_ITEM_STRING) ||
	    pv.type != WT_CONFIG_ITEM_NUM || pv.val < 1 || pv.val > 65535)
		return bad(fs, k, v, "want (host=HOST,port=1..65535)");
	int v6 = memchr(hv.str, ':', hv.len) != NULL;
	char addr[300];
	snprintf(addr, sizeof(addr), "%s%.*s%s:%d", v6 ? "[" : "", (int)hv.len,
	         hv.str, v6 ? "]" : "", (int)pv.val);
	free(fs->mirror);
	fs->mirror = strdup(addr);
	return fs->mirror ? 0 : ENOMEM;
}

static int one_key(struct mwt_fs *fs, WT_CONFIG_ITEM *k, WT_CONFIG_ITEM *v)
{
	struct mj_config *c = &fs->cfg;
	char word[64];
	bool is_word = (v->type == WT_CONFIG_ITEM_ID ||
	                v->type == WT_CONFIG_ITEM_STRING) &&
	               v->len < sizeof(word);
	snprintf(word, sizeof(word), "%.*s", is_word ? (int)v->len : 0,
	         v->str);
	if (key_is(k, "mode")) {
		if (!is_word || mj_mode_parse(word, &c->mode))
			return bad(fs, k, v, "want unreplicated, sync, "
			                     "syncflush or async");
	} else if (key_is(k, "policy")) {
		if (!is_word || mj_policy_parse(word, &c->policy))
			return bad(fs, k, v, "want block or degrade");
	} else if (key_is(k, "mirror") && v->type == WT_CONFIG_ITEM_STRUCT) {
		return mirror_struct(fs, k, v);
	} else if (key_is(k, "mirror")) {
		if (v->len == 0 || !memchr(v->str, ':', v->len))
			return bad(fs, k, v, "want (host=HOST,port=PORT) or "
			                     "\"HOST:PORT\"");
		free(fs->mirror);
		fs->mirror = strndup(v->str, v->len);
		if (!fs->mirror)
			return ENOMEM;
	} else if (key_is(k, "transport")) {
		const char *t = is_word ? mj_transport_name(word) : NULL;
		if (!t)
			return bad(fs, k, v, mj_transport_unknown(is_word ? word : NULL));
		c->transport = t;
	} else if (key_is(k, "keyfile")) {
		return dup_value(fs, k, v, &fs->keyfile);
	} else if (key_is(k, "tls")) {
		if (!is_word || (strcmp(word, "on") && strcmp(word, "off")))
			return bad(fs, k, v, "want on or off");
		c->tls = strcmp(word, "on") == 0;
	} else if (key_is(k, "tls_cert")) {
		return dup_value(fs, k, v, &fs->tls_cert);
	} else if (key_is(k, "tls_key")) {
		return dup_value(fs, k, v, &fs->tls_key);
	} else if (key_is(k, "tls_ca")) {
		return dup_value(fs, k, v, &fs->tls_ca);
	} else if (key_is(k, "connections")) {
		return num(fs, k, v, 1, 64, &c->connections);
	} else if (key_is(k, "block_timeout_ms")) {
		return num(fs, k, v, 1, 3600000, &c->block_timeout_ms);
	} else if (key_is(k, "connect_timeout_ms")) {
		return num(fs, k, v, 1, 3600000, &c->connect_timeout_ms);
	} else if (key_is(k, "ack_timeout_ms")) {
		return num(fs, k, v, 1, 3600000, &c->ack_timeout_ms);
	} else if (key_is(k, "heartbeat_ms")) {
		return num(fs, k, v, 1, 3600000, &c->heartbeat_ms);
	} else if (key_is(k, "spin_us")) {
		return num(fs, k, v, 0, 1000000, &c->spin_us);
	} else if (key_is(k, "writeback_ms")) {
		return num(fs, k, v, 0, 3600000, &fs->writeback_ms);
	} else {
		fs->bad_key = true;
		return mwt_err(fs, EINVAL,
		               "mojim: extension config: unknown key \"%.*s\" "
		               "(known: mode, mirror, transport, keyfile, tls, "
		               "tls_cert, tls_key, tls_ca, "
		               "connections, policy, block_timeout_ms, "
		               "connect_timeout_ms, ack_timeout_ms, "
		               "heartbeat_ms, spin_us, "
		               "writeback_ms)",
		               (int)k->len, k->str);
	}
	return 0;
}

/* Every key is checked: a typo must not fall back to a default. */
int mwt_parse_config(WT_EXTENSION_API *api, WT_CONFIG_ARG *config,
                     struct mwt_fs *fs)
{
	WT_CONFIG_PARSER *p;
	WT_CONFIG_ITEM k, v;
	mj_config_defaults(&fs->cfg);
	fs->writeback_ms = MWT_WRITEBACK_MS_DEFAULT;
	fs->test_old_log_sync_delay_ms = 0;
#ifdef MOJIM_FAULT_HOOKS
	/* A test's stand-in for a log-close thread that is not scheduled
	 * (sync.c); only in builds with the tests' hooks. */
	const char *delay = getenv("MOJIM_TEST_OLD_LOG_SYNC_DELAY_MS");
	fs->test_old_log_sync_delay_ms = delay ? atoi(delay) : 0;
#endif
	int rc = api->config_parser_open_arg(api, NULL, config, &p);
	if (rc)
		return mwt_err(fs, rc, "mojim: extension config: %s",
		               api->strerror(api, NULL, rc));
	bool key_ok = true; /* false: the parser failed, not a key */
	while ((rc = p->next(p, &k, &v)) == 0) {
		if ((rc = one_key(fs, &k, &v)) != 0)
			break;
	}
	if (rc != 0 && rc != WT_NOTFOUND && rc != ENOMEM)
		key_ok = rc != EINVAL || fs->bad_key;
	if (rc == WT_NOTFOUND)
		rc = 0;
	else if (rc != EINVAL && rc != ENOMEM)
		rc = mwt_err(fs, rc, "mojim: extension config: %s",
		             api->strerror(api, NULL, rc));
	else if (rc == EINVAL && !key_ok)
		/* WiredTiger's parser reads ':' as '=': a bare HOST:PORT
		 * stops it, and its own message does not say why. */
		mwt_err(fs, rc, "mojim: extension config: cannot parse "
		        "it (give the mirror as mirror=(host=HOST,port=PORT), or "
		        "quote the mirror address: mirror=\"HOST:PORT\")");
	(void)p->close(p);
	if (rc)
		return rc;
	fs->cfg.mirror = fs->mirror;
	fs->cfg.keyfile = fs->keyfile;
	fs->cfg.tls_cert = fs->tls_cert;
	fs->cfg.tls_key = fs->tls_key;
	fs->cfg.tls_ca = fs->tls_ca;
	if (fs->cfg.mode != MJ_MODE_UNREPLICATED && !fs->mirror)
		return mwt_err(fs, EINVAL,
		               "mojim: extension config: mode=%s needs "
		               "mirror=(host=HOST,port=PORT)",
		               mj_mode_name(fs->cfg.mode));
	if (fs->cfg.mode == MJ_MODE_UNREPLICATED)
		fs->cfg.mirror = NULL;
	fs->cfg.log = mwt_log_from_mojim;
	fs->cfg.log_arg = fs;
	return 0;
}

static void fs_free(struct mwt_fs *fs)
{
	pthread_mutex_destroy(&fs->mu);
	pthread_mutex_destroy(&fs->log_sync_mu);
	for (int i = 0; i < fs->ndirs; i++)
		free(fs->dirs[i]);
	free(fs->dirs);
	free(fs->home);
	free(fs->realhome);
	free(fs->mirror);
	free(fs->keyfile);
	free(fs->tls_cert);
	free(fs->tls_key);
	free(fs->tls_ca);
	free(fs);
}

static int region_open(struct mwt_fs *fs)
{
	int rc = -mj_region_open(fs->home, &fs->cfg, &fs->region);
	if (rc)
		return mwt_err(fs, rc,
		               "mojim: cannot open the region %s (mode %s, "
		               "mirror %s): %s",
		               fs->home, mj_mode_name(fs->cfg.mode),
		               fs->mirror ? fs->mirror : "none",
		               mj_strerror(rc));
	return 0;
}

/*
 * Called by WiredTiger's close through WT_FILE_SYSTEM.terminate, after it
 * closed every file handle. What is still unsynced (files WiredTiger left
 * open, namespace changes nobody synced) is shipped before the region
 * goes; the writeback thread is stopped first, as it uses the region.
 */
int mwt_fs_destroy(struct mwt_fs *fs)
{
	mwt_writeback_stop(fs);
	int rc = fs->region ? mwt_sync_at_connection_close(fs) : 0;
	int close_rc = fs->region ? -mj_region_close(fs->region) : 0;
	if (close_rc)
		mwt_err(fs, close_rc, "mojim: closing the region: %s",
		        mj_strerror(close_rc));
	fs_free(fs);
	return rc ? rc : close_rc;
}

static int fs_init(struct mwt_fs *fs, WT_CONNECTION *conn,
                   WT_CONFIG_ARG *config)
{
	const char *home = conn->get_home(conn);
	int rc = mwt_parse_config(fs->api, config, fs);
	if (!rc && (rc = mwt_path_init(fs, home)) != 0)
		mwt_err(fs, rc, "mojim: %s: %s", home, strerror(rc));
	if (!rc)
		rc = region_open(fs);
	if (!rc)
		rc = mwt_writeback_start(fs);
	if (!rc) {
		mwt_fs_setup(fs);
		rc = conn->set_file_system(conn, &fs->iface, NULL);
	}
	if (rc) {
		mwt_writeback_stop(fs);
		if (fs->region)
			mj_region_close(fs->region);
	}
	return rc;
}

MWT_EXPORT int wiredtiger_extension_init(WT_CONNECTION *conn,
                                         WT_CONFIG_ARG *config)
{
	struct mwt_fs *fs = calloc(1, sizeof(*fs));
	if (!fs)
		return ENOMEM;
	fs->api = conn->get_extension_api(conn);
	pthread_mutex_init(&fs->mu, NULL);
	pthread_mutex_init(&fs->log_sync_mu, NULL);
	struct mwt_call call;
	mwt_enter_open(&call, fs);
	int rc = fs_init(fs, conn, config);
	if (rc)
		fs_free(fs);
	return mwt_leave(&call, rc);
}
