/*
 * docd.h: mojim-docd, a MongoDB-compatible document server on WiredTiger
 * with the mojim extension (README "Use it from MongoDB clients").
 *
 *   main.c     options, start and stop, signals
 *   engine.c   WiredTiger through libmojim_wt.so; group commit (one
 *              log_flush(sync=on) for the writers waiting for j:true),
 *              the periodic journal flusher and the checkpointer
 *   server.c   the listener and one thread per connection (bounded), each
 *              reading whole messages (mdb_wire.h) and writing replies
 *   reply.c    command replies and MongoDB's error shapes
 *   cmd_*.c    the commands, found by name in cmd.c's table
 *
 * Ownership: struct docd is set up by main.c before any thread starts and
 * read-only afterwards, except the fields marked (F) (the flusher's, under
 * flush_lock) and (S) (the server's counters, atomics).
 */
#ifndef DOCD_H
#define DOCD_H

#include <bson/bson.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>
#include <wiredtiger.h>

#include "mdb_layout.h"
#include "mdb_query.h"
#include "mdb_wire.h"

#define DOCD_VERSION "4.4.0"      /* the MongoDB version it answers as */
#define DOCD_MAX_WIRE 9           /* MongoDB 4.4: Node driver 7.x needs 9 */
#define DOCD_CONNS_DEFAULT 64
#define DOCD_CONNS_MAX 1024
#define DOCD_INFLIGHT_MAX (256u << 20) /* bytes of messages being handled */

struct docd_config {
	const char *dbpath;
	const char *bind;          /* 127.0.0.1 unless told */
	int port;                  /* 27017; 0: any (said on stderr) */
	int max_conns;
	const char *engine;        /* libmojim_wt.so */
	const char *mode;          /* mojim mode: unreplicated, sync, ... */
	const char *mirror;        /* HOST:PORT, replicated modes */
	const char *mojim_config;  /* more extension keys, "k=v,k=v" */
	const char *cache;         /* WiredTiger cache_size */
	int journal_ms;            /* --journal-commit-interval, 1..500 */
	int syncdelay_s;           /* --syncdelay: checkpoint period */
	int argc;                  /* for getCmdLineOpts */
	char **argv;
};

struct docd_cursors; /* cursors.c */

struct docd {
	struct docd_config cfg;
	WT_CONNECTION *conn;
	mdl_store *store;           /* the layout (mdb_layout.h) */
	/* Schema changes (create, drop, rename, indexes) hold it for writing,
	 * every other command that touches a collection for reading: an
	 * mdl_coll's snapshot of the catalog stays true while it is used. */
	pthread_rwlock_t schema_lock;
	struct docd_cursors *cursors;
	uint64_t start_ns;
	/* the journal flusher (engine.c) */
	pthread_t flusher, checkpointer;
	WT_SESSION *flush_session;  /* the flusher thread's */
	int threads_on;
	pthread_mutex_t flush_lock;
	pthread_cond_t done_cond[2];/* writers wait for their flush: by the
	                             * parity of its generation */
	pthread_cond_t stop_cond;   /* the two threads sleep their periods */
	uint64_t flush_started;     /* (F) flushes begun (generation) */
	uint64_t flush_done;        /* (F) flushes completed (generation) */
	uint64_t flush_err_gen;     /* (F) the newest generation that failed */
	int flush_error;            /* (F) the last flush's WiredTiger error */
	int flushing;               /* (F) a flush is running */
	int stopping;               /* (F) */
	/* counters (server.c) */
	atomic_int conns_open;      /* (S) */
	atomic_llong conns_total;   /* (S) */
	atomic_llong inflight;      /* (S) bytes of messages held */
	atomic_llong requests;      /* (S) */
	atomic_llong flushes;       /* (F) log flushes done */
};

/* A command's context: its connection and the parsed request. */
struct docd_req {
	struct docd *d;
	long long conn_id;
	const char *peer;           /* "127.0.0.1:53422" */
	const bson_t *cmd;          /* the command, sequences merged in */
	char db[64];                /* $db, checked */
	WT_SESSION *session;        /* the connection's own */
};

/* engine.c */
int engine_open(struct docd *d, char *err, size_t len);
void engine_close(struct docd *d);
/* Waits until the log holds everything committed before the call, made
 * durable (through mojim: acknowledged by the mirror in sync modes).
 * Concurrent callers share one flush. 0 or a WiredTiger error. */
int engine_wait_durable(struct docd *d, WT_SESSION *s);

/* server.c */
int server_run(struct docd *d, volatile int *stop, char *err, size_t len);

/* reply.c: errors as drivers read them ({ok: 0, errmsg, code, codeName}) */
void reply_ok(bson_t *out);
void reply_error(bson_t *out, int code, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
const char *reply_code_name(int code);

/* cmd.c: runs one command into out (initialized, empty). */
void cmd_run(struct docd_req *r, bson_t *out);
/* The command's name (its first field), or NULL. */
const char *cmd_name(const bson_t *cmd);

/* cmd_admin.c: the handshake and server commands (cmd.c's table). */
void cmd_hello(struct docd_req *r, bson_t *out);
void cmd_buildinfo(struct docd_req *r, bson_t *out);
void cmd_ping(struct docd_req *r, bson_t *out);
void cmd_getparameter(struct docd_req *r, bson_t *out);
void cmd_getlog(struct docd_req *r, bson_t *out);
void cmd_getcmdlineopts(struct docd_req *r, bson_t *out);
void cmd_connectionstatus(struct docd_req *r, bson_t *out);
void cmd_whatsmyuri(struct docd_req *r, bson_t *out);
void cmd_hostinfo(struct docd_req *r, bson_t *out);
void cmd_serverstatus(struct docd_req *r, bson_t *out);
void cmd_endsessions(struct docd_req *r, bson_t *out);

uint64_t docd_now_ns(void);

/* ns.c: names, write concerns, transactions */
/* The collection named by the command's first field, as "db.coll" in ns
 * (at least MDL_NS_MAX + 1 bytes): 0, or -1 with the error in out. */
int ns_of(struct docd_req *r, const char *field, char *ns, bson_t *out);
/* The write concern asks for durability (j:true, w:"majority", w>=2). */
int wc_durable(const bson_t *cmd);
/* After the writes of a command: waits for durability when asked and
 * adds writeConcernError to out if it could not be had. */
void wc_finish(struct docd_req *r, bson_t *out);
/* Runs fn in a transaction on r->session, retrying write conflicts;
 * returns fn's MDL code or the commit's (MDL_EINTERNAL). */
typedef int (*txn_fn)(struct docd_req *r, void *arg, mdl_err *err);
int txn_run(struct docd_req *r, txn_fn fn, void *arg, mdl_err *err);
/* An mdl error as a command error in out. */
void reply_mdl(bson_t *out, const mdl_err *e);
/* A document's _id made first (an ObjectId added if it has none). */
void doc_with_id(const bson_t *in, bson_t *out);
/* The optional document/int/bool field of a command (NULL/def if absent),
 * -1 and an error in out if it has the wrong type. */
int opt_doc(const bson_t *cmd, const char *name, bson_t *doc, int *present,
            bson_t *out);
int opt_int64(const bson_t *cmd, const char *name, int64_t def,
              int64_t *v, bson_t *out);
int opt_bool(const bson_t *cmd, const char *name, int def);

/* plan.c: how a filter's documents are read */
struct plan {
	mdl_coll *coll;
	mdl_cursor *cur;
	const mdq_filter_t *filter; /* NULL: every document */
	char index[MDL_NAME_MAX + 1]; /* the index read, "" for a scan */
	int empty;                  /* the bounds hold no key */
};
/* Opens a read of the documents of c (namespace ns) that may match f;
 * by_id 1 or -1: in ascending or descending _id order (through _id_). */
int plan_open(struct docd_req *r, const char *ns, mdl_coll *c,
              const mdq_filter_t *f, int by_id, struct plan *p,
              mdl_err *err);
/* The next matching document: 1 (rid, doc valid until the next call),
 * 0 at the end, or minus an MDL code. */
int plan_next(struct plan *p, int64_t *rid, bson_t *doc, mdl_err *err);
void plan_close(struct plan *p);

/* Opens collection ns for a command under the schema lock (read): 0, 1 if
 * it does not exist (nothing held), or -1 with the error in out. Close
 * with coll_done, which releases the lock. */
int coll_begin(struct docd_req *r, const char *ns, mdl_coll **c, bson_t *out);
void coll_done(struct docd_req *r, mdl_coll *c);

/* cursors.c: results kept for getMore (as materialized batches) */
struct docd_results;                 /* documents in order, owned copies */
struct docd_results *results_new(void);
/* Appends a copy; -1 when the cursor memory limit is passed. */
int results_add(struct docd_results *rs, const bson_t *doc);
size_t results_count(const struct docd_results *rs);
const bson_t *results_at(const struct docd_results *rs, size_t i);
/* Sorted by s (MongoDB's sort order). */
void results_sort(struct docd_results *rs, const mdq_sort_t *s);
void results_free(struct docd_results *rs);
int cursors_init(struct docd *d);
void cursors_free(struct docd *d);
/* The reply of a find/aggregate/listX: firstBatch of up to batch docs
 * (0: 101) and, if more remain, a cursor that keeps them (rs is taken). */
void cursor_reply(struct docd_req *r, const char *ns,
                  struct docd_results *rs, int64_t batch, int single,
                  bson_t *out);
/* Forget the cursors of collection ns ("db.coll"), or of every
 * collection of database db: a getMore after a drop or rename finds no cursor
 * (43), as MongoDB kills them, instead of the gone collection's documents.
 * A find that read before the change and registers its cursor after it
 * keeps it: its documents are that read's. */
void cursors_kill_ns(struct docd *d, const char *ns);
void cursors_kill_db(struct docd *d, const char *db);
void cmd_getmore(struct docd_req *r, bson_t *out);
void cmd_killcursors(struct docd_req *r, bson_t *out);

/* cmd_write.c: what the write commands share */
struct write_errors {
	bson_t arr;     /* writeErrors, as an array document */
	int n;
	const char *ns;
};
void write_errors_add(struct write_errors *we, int64_t index,
                      const mdl_err *e);
/* writeErrors if any, the write concern, ok. */
void write_errors_finish(struct docd_req *r, struct write_errors *we,
                         bson_t *out);
/* coll_begin, creating ns first if it does not exist. */
int coll_begin_create(struct docd_req *r, const char *ns, mdl_coll **c,
                      bson_t *out);
int array_field(const bson_t *cmd, const char *name, bson_iter_t *arr,
                bson_t *out);
/* A statement of an update or delete (it at it), its filter field, a
 * bounded integer field: 0, or -1 with e set. */
int stmt_doc(const bson_iter_t *it, bson_t *st, mdl_err *e);
int stmt_filter(const bson_t *st, const char *field, const mdq_filter_t **f,
                mdl_err *e);
int stmt_int(const bson_t *st, const char *field, int64_t lo, int64_t hi,
             int64_t *v, mdl_err *e);
void cmd_insert(struct docd_req *r, bson_t *out);
void cmd_update(struct docd_req *r, bson_t *out);
void cmd_delete(struct docd_req *r, bson_t *out);
void cmd_findandmodify(struct docd_req *r, bson_t *out);
/* cmd_read.c */
void cmd_find(struct docd_req *r, bson_t *out);
void cmd_count(struct docd_req *r, bson_t *out);
void cmd_distinct(struct docd_req *r, bson_t *out);
void cmd_aggregate(struct docd_req *r, bson_t *out);
/* cmd_catalog.c */
/* Runs fn under the schema lock (write) in one transaction, then drops
 * the tables nothing names any more: 0 or fn's (or the commit's) code. */
typedef int (*schema_fn)(struct docd_req *r, void *arg, mdl_err *e);
int schema_change(struct docd_req *r, schema_fn fn, void *arg, mdl_err *e);
void cmd_create(struct docd_req *r, bson_t *out);
void cmd_drop(struct docd_req *r, bson_t *out);
void cmd_dropdatabase(struct docd_req *r, bson_t *out);
void cmd_listdatabases(struct docd_req *r, bson_t *out);
void cmd_listcollections(struct docd_req *r, bson_t *out);
void cmd_renamecollection(struct docd_req *r, bson_t *out);
void cmd_createindexes(struct docd_req *r, bson_t *out);
void cmd_listindexes(struct docd_req *r, bson_t *out);
void cmd_dropindexes(struct docd_req *r, bson_t *out);
void cmd_collstats(struct docd_req *r, bson_t *out);
void cmd_dbstats(struct docd_req *r, bson_t *out);
/* Creates ns if it does not exist (an insert's or an upsert's implicit
 * create), under the schema lock for writing: 0 or an MDL code. */
int coll_ensure(struct docd_req *r, const char *ns, mdl_err *err);

#endif
