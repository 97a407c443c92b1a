/*
 * promote.c: a WiredTiger database of N MB through the extension in sync
 * mode, loaded by a child process that is SIGKILLed once it is loaded;
 * then `mojimctl promote --force` on the mirror and wiredtiger_open on the
 * promoted copy through the extension (unreplicated: a new mirror would
 * first get a full copy, measured in region.c). The open includes
 * WiredTiger's recovery of the rows committed after the last checkpoint.
 */
#include "failbench.h"

#include <errno.h>
#include <poll.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>
#include <wiredtiger.h>

#define ROW_BYTES 1000
#define TXN_ROWS 1000
#define AFTER_CKPT_ROWS 2000 /* only in the log: recovery replays them */
#define LOAD_WAIT_MS (600 * 1000)

static int ext_config(char *buf, size_t len, const char *mode,
                      const char *addr, int create)
{
	int n = snprintf(buf, len, "%scache_size=512MB,log=(enabled,"
	                 "file_max=100MB),transaction_sync=(enabled,"
	                 "method=fsync),extensions=[%s=(early_load=true,"
	                 "config={mode=%s%s%s%s})]", create ? "create," : "",
	                 MOJIM_WT_EXT, mode, addr ? ",mirror=\"" : "",
	                 addr ? addr : "", addr ? "\"" : "");
	return n < 0 || (size_t)n >= len ? -1 : 0;
}

static int insert_rows(WT_SESSION *s, WT_CURSOR *c, uint64_t from,
                       uint64_t n, const char *value)
{
	for (uint64_t i = from; i < from + n; i += TXN_ROWS) {
		int rc = s->begin_transaction(s, NULL);
		for (uint64_t k = i; k < i + TXN_ROWS && k < from + n && !rc; k++) {
			c->set_key(c, k + 1);
			c->set_value(c, value);
			rc = c->insert(c);
		}
		rc = rc ? rc : s->commit_transaction(s, NULL);
		if (rc)
			return rc;
	}
	return 0;
}

/* The child: load, checkpoint, a few more commits, say so, wait. */
static void child_load(const char *home, const char *addr, int size_mb,
                       int ready_fd)
{
	char cfg[2048], value[ROW_BYTES + 1];
	WT_CONNECTION *conn;
	WT_SESSION *s;
	WT_CURSOR *c;
	memset(value, 'v', ROW_BYTES);
	value[ROW_BYTES] = '\0';
	uint64_t rows = ((uint64_t)size_mb << 20) / ROW_BYTES;
	int rc = ext_config(cfg, sizeof(cfg), "sync", addr, 1) ? EINVAL :
	         wiredtiger_open(home, NULL, cfg, &conn);
	rc = rc ? rc : conn->open_session(conn, NULL, NULL, &s);
	rc = rc ? rc : s->create(s, "table:t", "key_format=Q,value_format=S");
	rc = rc ? rc : s->open_cursor(s, "table:t", NULL, NULL, &c);
	rc = rc ? rc : insert_rows(s, c, 0, rows, value);
	rc = rc ? rc : s->checkpoint(s, NULL);
	rc = rc ? rc : insert_rows(s, c, rows, AFTER_CKPT_ROWS, value);
	if (rc) {
		fprintf(stderr, "mojim-failbench: load: %s\n", wiredtiger_strerror(rc));
		_exit(1);
	}
	if (write(ready_fd, "R", 1) != 1)
		_exit(1);
	for (;;)
		pause(); /* the parent SIGKILLs us: a crash, not a close */
}

/* Forks the loader and SIGKILLs it once it reports ready. */
static int load_and_kill(const char *home, const char *addr, int size_mb)
{
	int p[2];
	if (pipe(p))
		return -errno;
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		close(p[0]);
		child_load(home, addr, size_mb, p[1]);
	}
	close(p[1]);
	struct pollfd pf = {.fd = p[0], .events = POLLIN};
	char ch = 0;
	int ok = poll(&pf, 1, LOAD_WAIT_MS) == 1 && read(p[0], &ch, 1) == 1;
	close(p[0]);
	kill(pid, SIGKILL);
	waitpid(pid, NULL, 0);
	return ok && ch == 'R' ? 0 : -EIO;
}

static int run_promote(const char *mirror_dir)
{
	fflush(NULL);
	pid_t pid = fork();
	if (pid < 0)
		return -errno;
	if (pid == 0) {
		execl(MOJIM_CTL_BIN, MOJIM_CTL_BIN, "--dir", mirror_dir, "promote",
		      "--force", (char *)NULL);
		_exit(127);
	}
	int st = 0;
	waitpid(pid, &st, 0);
	return WIFEXITED(st) && WEXITSTATUS(st) == 0 ? 0 : -EIO;
}

/* Opens the promoted copy and finds the last row committed. */
static int open_copy(const char *home, double *open_ms)
{
	char cfg[2048];
	WT_CONNECTION *conn;
	WT_SESSION *s;
	WT_CURSOR *c;
	uint64_t t0 = now_ns();
	int rc = ext_config(cfg, sizeof(cfg), "unreplicated", NULL, 0) ? EINVAL :
	         wiredtiger_open(home, NULL, cfg, &conn);
	if (rc)
		return rc;
	*open_ms = (double)(now_ns() - t0) / 1e6;
	rc = conn->open_session(conn, NULL, NULL, &s);
	rc = rc ? rc : s->open_cursor(s, "table:t", NULL, NULL, &c);
	if (!rc) {
		rc = c->prev(c); /* the largest key: the last commit */
		uint64_t key = 0;
		if (!rc)
			rc = c->get_key(c, &key);
		printf("promoted copy: last key %llu\n", (unsigned long long)key);
	}
	int crc = conn->close(conn, NULL);
	return rc ? rc : crc;
}

int fb_promote(const struct fb_opts *o, struct fb_result *res)
{
	char scratch[256], home[300], data[300];
	struct mirror_proc m = {0};
	if (scratch_make(&o->bo, scratch, sizeof(scratch)))
		return 1;
	snprintf(home, sizeof(home), "%s/primary", scratch);
	int rc = mkdir(home, 0755) ? -errno : 0;
	if (!rc && mirror_start_in(&o->bo, scratch, "m", &m))
		rc = -EIO;
	if (!rc)
		rc = load_and_kill(home, m.addr, o->size_mb);
	uint64_t t0 = now_ns();
	if (!rc)
		rc = run_promote(m.dir);
	res->promote_ms = (double)(now_ns() - t0) / 1e6;
	snprintf(data, sizeof(data), "%s/data", m.dir);
	if (!rc)
		rc = open_copy(data, &res->open_ms);
	mirror_stop(&m);
	if (o->keep)
		printf("kept: %s (the promoted copy is m/data)\n", scratch);
	else
		scratch_remove(scratch);
	if (rc)
		fprintf(stderr, "mojim-failbench: promote: %s\n",
		        rc < 0 ? strerror(-rc) : wiredtiger_strerror(rc));
	return rc ? 1 : 0;
}
