/*
 * mirror_proc.h: a real mojim-mirror for the unit tests that need one
 * (test_split, test_held_mt, test_nsfault, test_close_resync_mt,
 * test_empty_catchup), and their scratch directory.
 */
#ifndef MOJIM_TEST_MIRROR_PROC_H
#define MOJIM_TEST_MIRROR_PROC_H

#include <signal.h>
#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/types.h>
#include <sys/wait.h>
#include <unistd.h>

/*
 * Starts MOJIM_MIRROR_BIN --listen listen --dir mdir and the options that
 * follow (a NULL ends them), waits until it listens and puts the address
 * it bound into addr. Returns its pid; aborts if it cannot start.
 */
static inline pid_t test_mirror_start(const char *listen, const char *mdir,
                                      char *addr, size_t addrlen, ...)
{
	const char *argv[24] = {"mojim-mirror", "--listen", listen, "--dir", mdir};
	int argc = 5;
	va_list ap;
	va_start(ap, addrlen);
	const char *a;
	while ((a = va_arg(ap, const char *)) != NULL && argc < 22)
		argv[argc++] = a;
	va_end(ap);
	argv[argc] = NULL;
	int pipefd[2];
	pid_t pid;
	if (pipe(pipefd) || (pid = fork()) < 0)
		abort();
	if (pid == 0) {
		dup2(pipefd[1], 2);
		execv(MOJIM_MIRROR_BIN, (char *const *)argv);
		_exit(127);
	}
	close(pipefd[1]);
	FILE *err = fdopen(pipefd[0], "r");
	char line[512], fmt[16];
	snprintf(fmt, sizeof(fmt), "%%%zus", addrlen - 1);
	addr[0] = '\0';
	while (!addr[0] && fgets(line, sizeof(line), err)) {
		char *p = strstr(line, "listening on ");
		if (p && sscanf(p + 13, fmt, addr) != 1)
			addr[0] = '\0';
	}
	fclose(err); /* the mirror's later messages go to a closed pipe */
	if (!addr[0])
		abort();
	return pid;
}

static inline void test_mirror_stop(pid_t pid, int sig)
{
	kill(pid, sig);
	waitpid(pid, NULL, 0);
}

/*
 * A case's body runs in a child of Check's; an unchecked teardown, in the
 * parent, finds a mirror the body left running (a failed assertion)
 * through DIR/mirror.pid: noted when it starts, removed once it is reaped
 * (so the teardown never signals a pid reused by someone else).
 */
static inline void test_mirror_note(const char *dir, pid_t pid)
{
	char path[256];
	snprintf(path, sizeof(path), "%s/mirror.pid", dir);
	FILE *f = fopen(path, "w");
	if (!f)
		abort();
	fprintf(f, "%d\n", (int)pid);
	fclose(f);
}

/* test_mirror_stop, then the pid file goes. */
static inline void test_mirror_stop_noted(const char *dir, pid_t pid, int sig)
{
	char path[256];
	test_mirror_stop(pid, sig);
	snprintf(path, sizeof(path), "%s/mirror.pid", dir);
	unlink(path);
}

/* mkdtemp of tmpl (".../name.XXXXXX"), aborting on failure. */
static inline void test_dir_make(char *tmpl)
{
	if (!mkdtemp(tmpl))
		abort();
}

static inline void test_dir_remove(const char *dir)
{
	char cmd[256];
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
}

/* Kills a noted mirror still running (continuing it first, in case the
 * case had stopped it), then removes dir. */
static inline void test_mirror_teardown(const char *dir)
{
	char cmd[320];
	snprintf(cmd, sizeof(cmd), "p=$(cat %s/mirror.pid 2>/dev/null) && "
	         "kill -CONT $p && kill -9 $p", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "no mirror left to stop\n");
	test_dir_remove(dir);
}

#endif
