/*
 * cmd.c: the command table. A command is found by its first field's name,
 * as mongod does (case-sensitive; isMaster also as ismaster). Anything
 * else is CommandNotFound (59) with the name in the message.
 */
#include "docd.h"

#include <string.h>

typedef void (*cmd_fn)(struct docd_req *, bson_t *);

static const struct {
	const char *name;
	cmd_fn fn;
} commands[] = {
	{"hello", cmd_hello},
	{"isMaster", cmd_hello},
	{"ismaster", cmd_hello},
	{"buildInfo", cmd_buildinfo},
	{"buildinfo", cmd_buildinfo},
	{"ping", cmd_ping},
	{"getParameter", cmd_getparameter},
	{"getLog", cmd_getlog},
	{"getCmdLineOpts", cmd_getcmdlineopts},
	{"connectionStatus", cmd_connectionstatus},
	{"whatsmyuri", cmd_whatsmyuri},
	{"hostInfo", cmd_hostinfo},
	{"serverStatus", cmd_serverstatus},
	{"endSessions", cmd_endsessions},
	{"insert", cmd_insert},
	{"find", cmd_find},
	{"getMore", cmd_getmore},
	{"killCursors", cmd_killcursors},
	{"update", cmd_update},
	{"delete", cmd_delete},
	{"findAndModify", cmd_findandmodify},
	{"findandmodify", cmd_findandmodify},
	{"count", cmd_count},
	{"distinct", cmd_distinct},
	{"aggregate", cmd_aggregate},
	{"create", cmd_create},
	{"drop", cmd_drop},
	{"dropDatabase", cmd_dropdatabase},
	{"listDatabases", cmd_listdatabases},
	{"listCollections", cmd_listcollections},
	{"renameCollection", cmd_renamecollection},
	{"createIndexes", cmd_createindexes},
	{"listIndexes", cmd_listindexes},
	{"dropIndexes", cmd_dropindexes},
	{"deleteIndexes", cmd_dropindexes},
	{"collStats", cmd_collstats},
	{"dbStats", cmd_dbstats},
};

const char *cmd_name(const bson_t *cmd)
{
	bson_iter_t it;
	if (!bson_iter_init(&it, cmd) || !bson_iter_next(&it))
		return NULL;
	return bson_iter_key(&it);
}

void cmd_run(struct docd_req *r, bson_t *out)
{
	const char *name = cmd_name(r->cmd);
	if (!name) {
		reply_error(out, 9, "an empty command document");
		return;
	}
	for (size_t i = 0; i < sizeof(commands) / sizeof(commands[0]); i++) {
		if (!strcmp(commands[i].name, name)) {
			commands[i].fn(r, out);
			return;
		}
	}
	reply_error(out, 59, "no such command: '%s'", name);
}
