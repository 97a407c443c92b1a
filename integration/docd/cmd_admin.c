/*
 * cmd_admin.c: the handshake and the server's own commands: what drivers
 * and mongosh send before and around any data command. A standalone
 * server (no setName), wire versions 0..DOCD_MAX_WIRE, no compression
 * and no authentication offered.
 */
#include "docd.h"

#include <stdio.h>
#include <string.h>
#include <sys/utsname.h>
#include <time.h>
#include <unistd.h>

static int64_t now_ms(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_REALTIME, &ts);
	return (int64_t)ts.tv_sec * 1000 + ts.tv_nsec / 1000000;
}

static int has_field(const bson_t *cmd, const char *name)
{
	bson_iter_t it;
	return bson_iter_init_find(&it, cmd, name) && bson_iter_as_bool(&it);
}

void cmd_hello(struct docd_req *r, bson_t *out)
{
	/* "hello" answers isWritablePrimary, the legacy names ismaster. */
	const char *name = cmd_name(r->cmd);
	int legacy = strcmp(name, "hello") != 0;
	if (has_field(r->cmd, "helloOk"))
		BSON_APPEND_BOOL(out, "helloOk", true);
	BSON_APPEND_BOOL(out, legacy ? "ismaster" : "isWritablePrimary", true);
	BSON_APPEND_INT32(out, "maxBsonObjectSize", MDW_MAX_BSON);
	BSON_APPEND_INT32(out, "maxMessageSizeBytes", MDW_MAX_MESSAGE);
	BSON_APPEND_INT32(out, "maxWriteBatchSize", 100000);
	BSON_APPEND_DATE_TIME(out, "localTime", now_ms());
	BSON_APPEND_INT32(out, "logicalSessionTimeoutMinutes", 30);
	BSON_APPEND_INT64(out, "connectionId", r->conn_id);
	BSON_APPEND_INT32(out, "minWireVersion", 0);
	BSON_APPEND_INT32(out, "maxWireVersion", DOCD_MAX_WIRE);
	BSON_APPEND_BOOL(out, "readOnly", false);
	reply_ok(out);
}

void cmd_buildinfo(struct docd_req *r, bson_t *out)
{
	bson_t arr;
	BSON_APPEND_UTF8(out, "version", DOCD_VERSION);
	BSON_APPEND_UTF8(out, "gitVersion", "mojim-docd");
	BSON_APPEND_ARRAY_BEGIN(out, "versionArray", &arr);
	BSON_APPEND_INT32(&arr, "0", 4);
	BSON_APPEND_INT32(&arr, "1", 4);
	BSON_APPEND_INT32(&arr, "2", 0);
	BSON_APPEND_INT32(&arr, "3", 0);
	bson_append_array_end(out, &arr);
	BSON_APPEND_INT32(out, "bits", 64);
	BSON_APPEND_BOOL(out, "debug", false);
	BSON_APPEND_INT32(out, "maxBsonObjectSize", MDW_MAX_BSON);
	BSON_APPEND_ARRAY_BEGIN(out, "storageEngines", &arr);
	BSON_APPEND_UTF8(&arr, "0", "wiredTiger");
	bson_append_array_end(out, &arr);
	BSON_APPEND_UTF8(out, "javascriptEngine", "none");
	BSON_APPEND_UTF8(out, "mojim", "mojim-docd on WiredTiger "
	                 WIREDTIGER_VERSION_STRING " with the mojim extension");
	reply_ok(out);
	(void)r;
}

void cmd_ping(struct docd_req *r, bson_t *out)
{
	reply_ok(out);
	(void)r;
}

/* getParameter: featureCompatibilityVersion is what drivers ask for. */
void cmd_getparameter(struct docd_req *r, bson_t *out)
{
	bson_iter_t it;
	int all = bson_iter_init_find(&it, r->cmd, "getParameter") &&
	          BSON_ITER_HOLDS_UTF8(&it) &&
	          !strcmp(bson_iter_utf8(&it, NULL), "*");
	if (!all && !has_field(r->cmd, "featureCompatibilityVersion")) {
		reply_error(out, 72, "no option found to get");
		return;
	}
	bson_t fcv;
	BSON_APPEND_DOCUMENT_BEGIN(out, "featureCompatibilityVersion", &fcv);
	BSON_APPEND_UTF8(&fcv, "version", "4.4");
	bson_append_document_end(out, &fcv);
	reply_ok(out);
}

void cmd_getlog(struct docd_req *r, bson_t *out)
{
	bson_iter_t it;
	const char *which = bson_iter_init_find(&it, r->cmd, "getLog") &&
	                    BSON_ITER_HOLDS_UTF8(&it) ?
	                    bson_iter_utf8(&it, NULL) : NULL;
	bson_t arr;
	if (which && !strcmp(which, "*")) {
		BSON_APPEND_ARRAY_BEGIN(out, "names", &arr);
		BSON_APPEND_UTF8(&arr, "0", "global");
		BSON_APPEND_UTF8(&arr, "1", "startupWarnings");
		bson_append_array_end(out, &arr);
	} else if (which && (!strcmp(which, "global") ||
	                     !strcmp(which, "startupWarnings"))) {
		/* Its log goes to stderr; none is kept to serve. */
		BSON_APPEND_INT32(out, "totalLinesWritten", 0);
		BSON_APPEND_ARRAY_BEGIN(out, "log", &arr);
		bson_append_array_end(out, &arr);
	} else {
		reply_error(out, 72, "no RamLog named: %s", which ? which : "?");
		return;
	}
	reply_ok(out);
}

void cmd_getcmdlineopts(struct docd_req *r, bson_t *out)
{
	const struct docd_config *c = &r->d->cfg;
	bson_t arr, parsed, sub;
	char key[16];
	BSON_APPEND_ARRAY_BEGIN(out, "argv", &arr);
	for (int i = 0; i < c->argc; i++) {
		snprintf(key, sizeof(key), "%d", i);
		BSON_APPEND_UTF8(&arr, key, c->argv[i]);
	}
	bson_append_array_end(out, &arr);
	BSON_APPEND_DOCUMENT_BEGIN(out, "parsed", &parsed);
	BSON_APPEND_DOCUMENT_BEGIN(&parsed, "net", &sub);
	BSON_APPEND_UTF8(&sub, "bindIp", c->bind);
	BSON_APPEND_INT32(&sub, "port", c->port);
	bson_append_document_end(&parsed, &sub);
	BSON_APPEND_DOCUMENT_BEGIN(&parsed, "storage", &sub);
	BSON_APPEND_UTF8(&sub, "dbPath", c->dbpath);
	bson_append_document_end(&parsed, &sub);
	bson_append_document_end(out, &parsed);
	reply_ok(out);
}

void cmd_connectionstatus(struct docd_req *r, bson_t *out)
{
	bson_t info, arr;
	BSON_APPEND_DOCUMENT_BEGIN(out, "authInfo", &info);
	BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUsers", &arr);
	bson_append_array_end(&info, &arr);
	BSON_APPEND_ARRAY_BEGIN(&info, "authenticatedUserRoles", &arr);
	bson_append_array_end(&info, &arr);
	bson_append_document_end(out, &info);
	reply_ok(out);
	(void)r;
}

void cmd_whatsmyuri(struct docd_req *r, bson_t *out)
{
	BSON_APPEND_UTF8(out, "you", r->peer);
	reply_ok(out);
}

void cmd_hostinfo(struct docd_req *r, bson_t *out)
{
	struct utsname u;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	if (uname(&u))
		memset(&u, 0, sizeof(u));
	long pages = sysconf(_SC_PHYS_PAGES), psize = sysconf(_SC_PAGESIZE);
	bson_t sys, os;
	BSON_APPEND_DOCUMENT_BEGIN(out, "system", &sys);
	BSON_APPEND_DATE_TIME(&sys, "currentTime", now_ms());
	BSON_APPEND_UTF8(&sys, "hostname", host);
	BSON_APPEND_INT32(&sys, "cpuAddrSize", 64);
	BSON_APPEND_INT64(&sys, "memSizeMB",
	                  pages > 0 && psize > 0 ?
	                  (int64_t)pages * psize / (1024 * 1024) : 0);
	BSON_APPEND_INT32(&sys, "numCores", (int32_t)sysconf(_SC_NPROCESSORS_ONLN));
	BSON_APPEND_UTF8(&sys, "cpuArch", u.machine);
	bson_append_document_end(out, &sys);
	BSON_APPEND_DOCUMENT_BEGIN(out, "os", &os);
	BSON_APPEND_UTF8(&os, "type", u.sysname);
	BSON_APPEND_UTF8(&os, "version", u.release);
	bson_append_document_end(out, &os);
	reply_ok(out);
	(void)r;
}

void cmd_serverstatus(struct docd_req *r, bson_t *out)
{
	struct docd *d = r->d;
	char host[256] = "";
	gethostname(host, sizeof(host) - 1);
	uint64_t up_ms = (docd_now_ns() - d->start_ns) / 1000000ull;
	BSON_APPEND_UTF8(out, "host", host);
	BSON_APPEND_UTF8(out, "version", DOCD_VERSION);
	BSON_APPEND_UTF8(out, "process", "mojim-docd");
	BSON_APPEND_INT64(out, "pid", (int64_t)getpid());
	BSON_APPEND_INT64(out, "uptime", (int64_t)(up_ms / 1000));
	BSON_APPEND_INT64(out, "uptimeMillis", (int64_t)up_ms);
	BSON_APPEND_DATE_TIME(out, "localTime", now_ms());
	bson_t sub;
	int open = atomic_load(&d->conns_open);
	BSON_APPEND_DOCUMENT_BEGIN(out, "connections", &sub);
	BSON_APPEND_INT32(&sub, "current", open);
	BSON_APPEND_INT32(&sub, "available", d->cfg.max_conns - open);
	BSON_APPEND_INT64(&sub, "totalCreated", atomic_load(&d->conns_total));
	bson_append_document_end(out, &sub);
	BSON_APPEND_DOCUMENT_BEGIN(out, "mojim", &sub);
	BSON_APPEND_UTF8(&sub, "mode", d->cfg.mode);
	BSON_APPEND_UTF8(&sub, "mirror", d->cfg.mirror ? d->cfg.mirror : "");
	BSON_APPEND_INT32(&sub, "journalCommitIntervalMs", d->cfg.journal_ms);
	BSON_APPEND_INT64(&sub, "logFlushes", atomic_load(&d->flushes));
	BSON_APPEND_INT64(&sub, "requests", atomic_load(&d->requests));
	bson_append_document_end(out, &sub);
	reply_ok(out);
}

void cmd_endsessions(struct docd_req *r, bson_t *out)
{
	reply_ok(out); /* sessions are not kept: nothing to end */
	(void)r;
}
