/*
 * docd.h: mojim-docd, a MongoDB-compatible document server on WiredTiger
 * with the mojim extension (README "Use it from MongoDB clients").
 *
 *   main.c     options, start and stop, signals
 *   engine.c   WiredTiger through libmojim_wt.so; the journal flusher
 *              (group commit: one log_flush(sync=on) for every writer
 *              waiting for j:true) and the checkpointer
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

struct docd {
	struct docd_config cfg;
	WT_CONNECTION *conn;
	uint64_t start_ns;
	/* the journal flusher (engine.c) */
	pthread_t flusher, checkpointer;
	int threads_on;
	pthread_mutex_t flush_lock;
	pthread_cond_t flush_cond;  /* the flusher waits, writers wait */
	uint64_t flush_asked;       /* (F) flushes writers asked for */
	uint64_t flush_started;     /* (F) flushes begun (generation) */
	uint64_t flush_done;        /* (F) flushes completed (generation) */
	uint64_t flush_err_gen;     /* (F) the newest generation that failed */
	int flush_error;            /* (F) the last flush's WiredTiger error */
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
int engine_wait_durable(struct docd *d);

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

#endif
