/*
 * wt_workload: drives WiredTiger, through the extension or stock, for the
 * engine tests.
 *
 *   wt_workload run HOME CONFIG SECONDS   4 threads of transactions
 *                                         (insert, update, delete) on
 *                                         tables t0..t3, log on, fsync
 *                                         per commit, checkpoints every
 *                                         2 s, log archiving on
 *   wt_workload dump HOME CONFIG OUT      verify every table, then write
 *                                         every row of every table to OUT
 *   wt_workload open HOME CONFIG          open and close; exit code is
 *                                         the errno wiredtiger_open gave
 *   wt_workload crash HOME CONFIG SECONDS the run workload with
 *                                         checkpoints every second, made
 *                                         to be SIGKILLed: it prints
 *                                         "ready" once the tables are
 *                                         durable, then for every
 *                                         transaction its operations
 *                                         ("P THREAD TXN TABLE KEY VALUE",
 *                                         VALUE "-" for a delete) before
 *                                         the commit, and "C THREAD TXN"
 *                                         after commit_transaction
 *                                         returned 0
 *
 *   wt_workload nosync HOME CONFIG ROWS   writes that WiredTiger never
 *                                         syncs: log off,
 *                                         checkpoint_sync=false; ROWS
 *                                         rows into each of t0..t3, one
 *                                         checkpoint, then prints
 *                                         "written" and waits (at most 10
 *                                         minutes) to be killed, or for
 *                                         WT_WORKLOAD_STOP_FILE: then it
 *                                         closes and prints "close: "
 *                                         and what close returned
 *   wt_workload twohomes HOME1 HOME2 CONFIG
 *                                         two connections in one process
 *                                         with the same CONFIG: HOME1
 *                                         opens and commits, HOME2's open
 *                                         must fail (it prints "second
 *                                         open: errno N (NAME)"), then
 *                                         HOME1 commits again and closes;
 *                                         exit 0 if all of that held
 *   wt_workload opens HOME                one process, many connections:
 *                                         for each line of stdin (a
 *                                         CONFIG), wiredtiger_open and
 *                                         close HOME, then print "closed"
 *
 * CONFIG is appended to the wiredtiger_open configuration ("" for stock
 * WiredTiger, or the extensions=[...] fragment). WT_WORKLOAD_LOG_PATH in
 * the environment sets log=(path=...) for run and crash.
 * WT_WORKLOAD_STOP_FILE=PATH: run and crash also stop (cleanly: the
 * threads finish their transaction, the connection is closed) once PATH
 * exists, so a test can end a long run when it is done disturbing it.
 * Every command prints on stderr "wt_workload: wiredtiger_open returned
 * in MS ms at REALTIME" (REALTIME: seconds since the epoch, to compare
 * with a moment another process took, e.g. a promotion).
 */
#include <errno.h>
#include <pthread.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>
#include <unistd.h>
#include <wiredtiger.h>

#define NTABLES 4
#define NTHREADS 4
#define NKEYS 2000

static WT_CONNECTION *conn;
static double deadline;
static unsigned long commits[NTHREADS];
static int report; /* crash mode: print each transaction (see above) */
static const char *stop_file; /* WT_WORKLOAD_STOP_FILE */

static double now(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (double)ts.tv_sec + ts.tv_nsec / 1e9;
}

static void die(const char *what, int rc)
{
	fprintf(stderr, "wt_workload: %s: %s\n", what, wiredtiger_strerror(rc));
	exit(1);
}

static int open_conn(const char *home, const char *extra, const char *base)
{
	char cfg[4096];
	snprintf(cfg, sizeof(cfg), "%s%s%s", base, extra[0] ? "," : "", extra);
	double t0 = now();
	int rc = wiredtiger_open(home, NULL, cfg, &conn);
	if (rc == 0) {
		struct timespec rt;
		clock_gettime(CLOCK_REALTIME, &rt);
		fprintf(stderr, "wt_workload: wiredtiger_open returned in %.1f ms "
		        "at %lld.%09ld\n", (now() - t0) * 1e3,
		        (long long)rt.tv_sec, rt.tv_nsec);
	}
	return rc;
}

/* The stop file exists (checked every 32 transactions: a stat is cheap
 * next to a commit, but not free). */
static int stop_requested(unsigned long n)
{
	return stop_file && n % 32 == 0 && access(stop_file, F_OK) == 0;
}

/*
 * Writes the whole buffer with one write(2) per call: the threads share
 * stdout, and a line must not be torn by another thread's (a SIGKILL can
 * still cut the last one; the test drops an unterminated last line).
 */
static void put(const char *buf, size_t len)
{
	while (len > 0) {
		ssize_t n = write(1, buf, len);
		if (n <= 0) {
			perror("wt_workload: report");
			exit(1);
		}
		buf += n;
		len -= (size_t)n;
	}
}

/* One transaction of 1..4 operations on random tables and keys. */
static int one_txn(WT_SESSION *s, WT_CURSOR **c, unsigned *seed, int id)
{
	static _Thread_local unsigned long txn;
	int rc = s->begin_transaction(s, NULL);
	int ops = 1 + rand_r(seed) % 4;
	char key[32], val[160], rep[4 * 256];
	size_t rl = 0;
	txn++;
	for (int i = 0; i < ops && !rc; i++) {
		int t = rand_r(seed) % NTABLES;
		WT_CURSOR *cur = c[t];
		snprintf(key, sizeof(key), "k%d-%05d", id, rand_r(seed) % NKEYS);
		cur->set_key(cur, key);
		if (rand_r(seed) % 5 == 0) {
			rc = cur->remove(cur);
			if (rc == WT_NOTFOUND)
				rc = 0;
			rl += (size_t)snprintf(rep + rl, sizeof(rep) - rl,
			                       "P %d %lu table:t%d %s -\n", id,
			                       txn, t, key);
		} else {
			int n = snprintf(val, sizeof(val), "v%u-", rand_r(seed));
			/* one length for fill and end: no stale bytes (a
			 * newline or tab would break the reports) */
			int fill = 'a' + rand_r(seed) % 26;
			size_t len = (size_t)(rand_r(seed) % 100);
			memset(val + n, fill, len);
			val[n + len] = '\0';
			cur->set_value(cur, val);
			rc = cur->insert(cur); /* overwrite: insert or update */
			rl += (size_t)snprintf(rep + rl, sizeof(rep) - rl,
			                       "P %d %lu table:t%d %s %s\n", id,
			                       txn, t, key, val);
		}
		cur->reset(cur);
	}
	if (rc) {
		s->rollback_transaction(s, NULL);
		return rc == WT_ROLLBACK ? 0 : rc;
	}
	/* Announced before the commit: a kill during it may or may not
	 * leave the transaction durable, and the test accepts both. */
	if (report)
		put(rep, rl);
	if ((rc = s->commit_transaction(s, NULL)) == 0 && report) {
		rl = (size_t)snprintf(rep, sizeof(rep), "C %d %lu\n", id, txn);
		put(rep, rl);
	}
	return rc;
}

static void *worker(void *arg)
{
	int id = (int)(long)arg;
	unsigned seed = (unsigned)id * 7919 + 1;
	WT_SESSION *s;
	WT_CURSOR *c[NTABLES];
	int rc = conn->open_session(conn, NULL, NULL, &s);
	if (rc)
		die("open_session", rc);
	for (int t = 0; t < NTABLES; t++) {
		char uri[32];
		snprintf(uri, sizeof(uri), "table:t%d", t);
		if ((rc = s->open_cursor(s, uri, NULL, NULL, &c[t])) != 0)
			die("open_cursor", rc);
	}
	while (now() < deadline && !stop_requested(commits[id])) {
		if ((rc = one_txn(s, c, &seed, id)) != 0)
			die("transaction", rc);
		commits[id]++;
	}
	s->close(s, NULL);
	return NULL;
}

/* Opens the connection and a session, and creates tables t0..t3. */
static WT_SESSION *open_tables(const char *home, const char *extra,
                               const char *base)
{
	int rc = open_conn(home, extra, base);
	if (rc)
		die("wiredtiger_open", rc);
	WT_SESSION *s;
	if ((rc = conn->open_session(conn, NULL, NULL, &s)) != 0)
		die("open_session", rc);
	for (int t = 0; t < NTABLES; t++) {
		char uri[32];
		snprintf(uri, sizeof(uri), "table:t%d", t);
		rc = s->create(s, uri, "key_format=S,value_format=S");
		if (rc)
			die("create", rc);
	}
	return s;
}

static int cmd_run(const char *home, const char *extra, int seconds)
{
	/* crash mode: more checkpoints and log switches in a short life;
	 * WT_WORKLOAD_LOG_PATH puts the log in a subdirectory, as MongoDB
	 * does (log=(path=journal)) */
	const char *lp = getenv("WT_WORKLOAD_LOG_PATH");
	char base[512];
	snprintf(base, sizeof(base),
	         "create,log=(enabled,archive=true,file_max=%s%s%s),"
	         "transaction_sync=(enabled,method=fsync),checkpoint=(wait=%d)",
	         report ? "1MB" : "4MB", lp ? ",path=" : "", lp ? lp : "",
	         report ? 1 : 2);
	WT_SESSION *s = open_tables(home, extra, base);
	int rc;
	if (report) { /* the tables exist on the mirror before any kill */
		if ((rc = s->checkpoint(s, NULL)) != 0)
			die("checkpoint", rc);
		put("ready\n", 6);
	}
	deadline = now() + seconds;
	pthread_t th[NTHREADS];
	for (long i = 0; i < NTHREADS; i++)
		pthread_create(&th[i], NULL, worker, (void *)i);
	unsigned long total = 0;
	for (int i = 0; i < NTHREADS; i++) {
		pthread_join(th[i], NULL);
		total += commits[i];
	}
	if ((rc = conn->close(conn, NULL)) != 0)
		die("close", rc);
	printf("commits %lu\n", total);
	return total > 0 ? 0 : 1;
}

static int cmd_dump(const char *home, const char *extra, const char *out)
{
	int rc = open_conn(home, extra, "");
	if (rc)
		die("wiredtiger_open", rc);
	WT_SESSION *s;
	if ((rc = conn->open_session(conn, NULL, NULL, &s)) != 0)
		die("open_session", rc);
	FILE *f = fopen(out, "w");
	if (!f)
		die(out, errno);
	unsigned long rows = 0;
	for (int t = 0; t < NTABLES; t++) {
		char uri[32];
		snprintf(uri, sizeof(uri), "table:t%d", t);
		if ((rc = s->verify(s, uri, NULL)) != 0)
			die("verify", rc);
		WT_CURSOR *c;
		if ((rc = s->open_cursor(s, uri, NULL, NULL, &c)) != 0)
			die("open_cursor", rc);
		while ((rc = c->next(c)) == 0) {
			const char *k, *v;
			c->get_key(c, &k);
			c->get_value(c, &v);
			fprintf(f, "%s\t%s\t%s\n", uri, k, v);
			rows++;
		}
		if (rc != WT_NOTFOUND)
			die("cursor next", rc);
		c->close(c);
	}
	fclose(f);
	if ((rc = conn->close(conn, NULL)) != 0)
		die("close", rc);
	printf("rows %lu\n", rows);
	return 0;
}

/* ROWS rows of "k%06d" -> "v%06d" into uri, committed one transaction
 * per 100 rows, keys from first on. */
static int fill(WT_SESSION *s, const char *uri, int first, int rows)
{
	WT_CURSOR *c = NULL;
	int rc = s->open_cursor(s, uri, NULL, NULL, &c);
	for (int i = 0; i < rows && !rc; i += 100) {
		rc = s->begin_transaction(s, NULL);
		for (int j = i; j < i + 100 && j < rows && !rc; j++) {
			char key[32], val[32];
			snprintf(key, sizeof(key), "k%06d", first + j);
			snprintf(val, sizeof(val), "v%06d", first + j);
			c->set_key(c, key);
			c->set_value(c, val);
			rc = c->insert(c);
		}
		if (rc)
			s->rollback_transaction(s, NULL);
		else
			rc = s->commit_transaction(s, NULL);
	}
	if (c)
		c->close(c);
	return rc;
}

static int cmd_nosync(const char *home, const char *extra, int rows)
{
	WT_SESSION *s = open_tables(home, extra, "create,log=(enabled=false),"
	                            "checkpoint_sync=false");
	int rc;
	for (int t = 0; t < NTABLES; t++) {
		char uri[32];
		snprintf(uri, sizeof(uri), "table:t%d", t);
		if ((rc = fill(s, uri, 0, rows)) != 0)
			die(uri, rc);
	}
	if ((rc = s->checkpoint(s, NULL)) != 0)
		die("checkpoint", rc);
	put("written\n", 8);
	for (int i = 0; i < 600 * 20 && !stop_requested(0); i++)
		usleep(50 * 1000);
	rc = conn->close(conn, NULL);
	printf("close: %s\n", wiredtiger_strerror(rc));
	fflush(stdout);
	/* A failed close (WT_PANIC) leaves WiredTiger's memory allocated on
	 * purpose: no leak check then (_exit skips LeakSanitizer's). */
	if (rc)
		_exit(1);
	return 0;
}

/* The second connection of cmd_twohomes: its open must fail. */
static int open_second(const char *home, const char *extra)
{
	char cfg[4096];
	snprintf(cfg, sizeof(cfg), "create,%s", extra);
	WT_CONNECTION *second;
	int rc = wiredtiger_open(home, NULL, cfg, &second);
	if (rc == 0) {
		fprintf(stderr, "wt_workload: the second home opened\n");
		second->close(second, NULL);
		return -1;
	}
	printf("second open: errno %d (%s)\n", rc, wiredtiger_strerror(rc));
	fflush(stdout);
	return rc;
}

static int cmd_twohomes(const char *home1, const char *home2,
                        const char *extra)
{
	int rc = open_conn(home1, extra, "create,log=(enabled),"
	                   "transaction_sync=(enabled,method=fsync)");
	if (rc)
		die("wiredtiger_open of the first home", rc);
	WT_SESSION *s;
	if ((rc = conn->open_session(conn, NULL, NULL, &s)) != 0 ||
	    (rc = s->create(s, "table:t0", "key_format=S,value_format=S")) ||
	    (rc = fill(s, "table:t0", 0, 100)))
		die("the first home", rc);
	int second = open_second(home2, extra);
	if ((rc = fill(s, "table:t0", 100, 100)) != 0)
		die("the first home after the second open", rc);
	if ((rc = conn->close(conn, NULL)) != 0)
		die("close of the first home", rc);
	printf("first home: 200 rows committed\n");
	return second > 0 ? 0 : 1;
}

/* WiredTiger's first open in a process costs ~0.3 s of one-time set-up;
 * later ones cost what an open costs. */
static int cmd_opens(const char *home)
{
	char line[4096];
	while (fgets(line, sizeof(line), stdin)) {
		line[strcspn(line, "\n")] = '\0';
		int rc = open_conn(home, line, "create");
		if (rc)
			die("wiredtiger_open", rc);
		if ((rc = conn->close(conn, NULL)) != 0)
			die("close", rc);
		printf("closed\n");
		fflush(stdout);
	}
	return 0;
}

int main(int argc, char **argv)
{
	stop_file = getenv("WT_WORKLOAD_STOP_FILE");
	if (argc == 5 && strcmp(argv[1], "run") == 0)
		return cmd_run(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "crash") == 0) {
		report = 1;
		return cmd_run(argv[2], argv[3], atoi(argv[4]));
	}
	if (argc == 5 && strcmp(argv[1], "dump") == 0)
		return cmd_dump(argv[2], argv[3], argv[4]);
	if (argc == 3 && strcmp(argv[1], "opens") == 0)
		return cmd_opens(argv[2]);
	if (argc == 5 && strcmp(argv[1], "nosync") == 0)
		return cmd_nosync(argv[2], argv[3], atoi(argv[4]));
	if (argc == 5 && strcmp(argv[1], "twohomes") == 0)
		return cmd_twohomes(argv[2], argv[3], argv[4]);
	if (argc == 4 && strcmp(argv[1], "open") == 0) {
		int rc = open_conn(argv[2], argv[3], "");
		if (rc) {
			fprintf(stderr, "wt_workload: wiredtiger_open: %s\n",
			        wiredtiger_strerror(rc));
			return rc > 0 && rc < 256 ? rc : 255;
		}
		return conn->close(conn, NULL) ? 255 : 0;
	}
	fprintf(stderr, "usage: wt_workload run HOME CONFIG SECONDS | "
	                "crash HOME CONFIG SECONDS | dump HOME CONFIG OUT | "
	                "open HOME CONFIG | nosync HOME CONFIG ROWS | "
	                "twohomes HOME1 HOME2 CONFIG | opens HOME\n");
	return 2;
}
