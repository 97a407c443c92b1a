/*
 * mirror_proc.c: scratch directories, and a mojim-mirror child process per
 * replicated measurement: fork/exec on HOST:0 (--host, 127.0.0.1), wait
 * for its "listening on HOST:PORT" line, SIGTERM at the end.
 */
#include "bench.h"

#include <errno.h>
#include <fcntl.h>
#include <ftw.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/prctl.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

#define READY_TIMEOUT_MS 15000
#define STOP_TIMEOUT_MS 10000

int scratch_make(const struct bench_opts *o, char *path, size_t len)
{
	int n = snprintf(path, len, "%s/mjb-XXXXXX", o->scratch);
	if (n < 0 || (size_t)n >= len || !mkdtemp(path)) {
		fprintf(stderr, "mojim-bench: cannot make a scratch dir in %s: %s\n",
		        o->scratch, strerror(errno));
		return -1;
	}
	return 0;
}

static int rm_one(const char *path, const struct stat *st, int flag,
                  struct FTW *ftw)
{
	if (remove(path))
		fprintf(stderr, "mojim-bench: remove %s: %s\n", path, strerror(errno));
	return 0;
}

void scratch_remove(const char *path)
{
	if (path[0])
		nftw(path, rm_one, 16, FTW_DEPTH | FTW_PHYS);
}

/* Where mirrors listen: --host, or loopback for callers that leave it
 * unset (the YCSB benchmark, the failover benchmark). */
static const char *host_of(const struct bench_opts *o)
{
	return o->host ? o->host : "127.0.0.1";
}

/* The child: stderr to errlog, then exec the mirror. Never returns. */
static void exec_mirror(const struct bench_opts *o, const struct mirror_proc *m)
{
	char spin[32], ckpt[32];
	const char *argv[48];
	char args[sizeof(m->args)];
	int a = 0;
	int fd = open(m->errlog, O_WRONLY | O_CREAT | O_TRUNC | O_CLOEXEC, 0644);
	if (fd < 0 || dup2(fd, 2) < 0)
		_exit(126);
	prctl(PR_SET_PDEATHSIG, SIGTERM); /* no orphan if the benchmark dies */
	if (getppid() == 1)
		_exit(125);
	argv[a++] = o->mirror_bin;
	argv[a++] = "--listen";
	char any[80];
	snprintf(any, sizeof(any), "%s:0", host_of(o));
	argv[a++] = m->addr[0] ? m->addr : any;
	argv[a++] = "--dir";
	argv[a++] = m->dir;
	if (o->spin_us >= 0) {
		snprintf(spin, sizeof(spin), "%d", o->spin_us);
		argv[a++] = "--spin-us";
		argv[a++] = spin;
	}
	if (o->ckpt_thresh >= 0) {
		snprintf(ckpt, sizeof(ckpt), "%d", o->ckpt_thresh);
		argv[a++] = "--checkpoint-thresh";
		argv[a++] = ckpt;
	}
	if (m->keyfile[0]) {
		argv[a++] = "--keyfile";
		argv[a++] = m->keyfile;
	}
	char cert[300], key[300], ca[300];
	if (m->pki[0]) {
		snprintf(cert, sizeof(cert), "%s/mirror.pem", m->pki);
		snprintf(key, sizeof(key), "%s/mirror.key", m->pki);
		snprintf(ca, sizeof(ca), "%s/ca.pem", m->pki);
		const char *tls[] = {"--tls", "--tls-cert", cert, "--tls-key", key,
		                     "--tls-ca", ca};
		for (size_t i = 0; i < sizeof(tls) / sizeof(tls[0]); i++)
			argv[a++] = tls[i];
	}
	snprintf(args, sizeof(args), "%s", m->args);
	for (char *save = NULL, *w = strtok_r(args, " ", &save);
	     w && a < 47; w = strtok_r(NULL, " ", &save))
		argv[a++] = w;
	argv[a] = NULL;
	execv(o->mirror_bin, (char *const *)argv);
	fprintf(stderr, "exec %s: %s\n", o->mirror_bin, strerror(errno));
	_exit(127);
}

/* Looks for the ready line in the mirror's stderr; 1 found, 0 not yet. */
static int find_ready(const struct bench_opts *o, struct mirror_proc *m)
{
	char line[512], want[96];
	FILE *f = fopen(m->errlog, "r");
	int found = 0;
	snprintf(want, sizeof(want), "listening on %s:", host_of(o));
	while (f && !found && fgets(line, sizeof(line), f)) {
		const char *p = strstr(line, want);
		if (p) {
			int port = atoi(p + strlen(want));
			snprintf(m->addr, sizeof(m->addr), "%s:%d", host_of(o), port);
			found = port > 0;
		}
	}
	if (f)
		fclose(f);
	return found;
}

static void print_errlog(const struct mirror_proc *m)
{
	char line[512];
	FILE *f = fopen(m->errlog, "r");
	for (int i = 0; f && i < 40 && fgets(line, sizeof(line), f); i++)
		fprintf(stderr, "  mirror: %s", line);
	if (f)
		fclose(f);
}

static int wait_ready(const struct bench_opts *o, struct mirror_proc *m)
{
	uint64_t deadline = now_ns() + READY_TIMEOUT_MS * 1000000ull;
	while (now_ns() < deadline) {
		if (find_ready(o, m))
			return 0;
		int st;
		if (waitpid(m->pid, &st, WNOHANG) == m->pid) {
			fprintf(stderr, "mojim-bench: the mirror exited (status %d) "
			        "before listening:\n", st);
			print_errlog(m);
			m->pid = 0;
			return -1;
		}
		usleep(2000);
	}
	fprintf(stderr, "mojim-bench: the mirror did not say it listens within "
	        "%d ms:\n", READY_TIMEOUT_MS);
	print_errlog(m);
	mirror_stop(m);
	return -1;
}

int mirror_start(const struct bench_opts *o, const char *scratch,
                 struct mirror_proc *m)
{
	return mirror_start_in(o, scratch, "m", m);
}

int mirror_start_in(const struct bench_opts *o, const char *scratch,
                    const char *name, struct mirror_proc *m)
{
	return mirror_start_keyed(o, scratch, name, NULL, m);
}

int mirror_start_keyed(const struct bench_opts *o, const char *scratch,
                       const char *name, const struct bench_link *link,
                       struct mirror_proc *m)
{
	memset(m, 0, sizeof(*m));
	snprintf(m->dir, sizeof(m->dir), "%s/%s", scratch, name);
	snprintf(m->errlog, sizeof(m->errlog), "%s/%s.stderr", scratch, name);
	snprintf(m->keyfile, sizeof(m->keyfile), "%s",
	         link && link->keyfile ? link->keyfile : "");
	snprintf(m->pki, sizeof(m->pki), "%s", link && link->pki ? link->pki : "");
	snprintf(m->args, sizeof(m->args), "%s",
	         link && link->args ? link->args : "");
	return mirror_restart(o, m);
}

int mirror_restart(const struct bench_opts *o, struct mirror_proc *m)
{
	fflush(NULL);
	m->pid = fork();
	if (m->pid < 0) {
		perror("mojim-bench: fork");
		m->pid = 0;
		return -1;
	}
	if (m->pid == 0)
		exec_mirror(o, m);
	return wait_ready(o, m);
}

void mirror_kill(struct mirror_proc *m)
{
	if (m->pid <= 0)
		return;
	kill(m->pid, SIGKILL);
	waitpid(m->pid, NULL, 0);
	m->pid = 0;
}

void mirror_stop(struct mirror_proc *m)
{
	if (m->pid <= 0)
		return;
	kill(m->pid, SIGTERM);
	int st = 0;
	uint64_t deadline = now_ns() + STOP_TIMEOUT_MS * 1000000ull;
	pid_t got = 0;
	while (got != m->pid && now_ns() < deadline) {
		got = waitpid(m->pid, &st, WNOHANG);
		if (got != m->pid)
			usleep(2000);
	}
	if (got != m->pid) {
		fprintf(stderr, "mojim-bench: the mirror ignored SIGTERM for %d ms; "
		        "killing it\n", STOP_TIMEOUT_MS);
		kill(m->pid, SIGKILL);
		waitpid(m->pid, &st, 0);
	} else if (!WIFEXITED(st) || WEXITSTATUS(st) != 0) {
		fprintf(stderr, "mojim-bench: the mirror ended with status 0x%x:\n", st);
		print_errlog(m);
	}
	m->pid = 0;
}
