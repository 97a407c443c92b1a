/*
 * tier_procs.c: the processes behind one secondary-tier setting, shared by
 * the gmsync benchmark (tier.c) and the WiredTiger one (bench/wt): fresh
 * backups (--role backup) in a scratch directory, the 10 Mbit/s proxy in
 * front of the slow one (mj_cutproxy --rate-kbps: this kernel has no
 * netem), and the mirror arguments that name them. A backup serves one
 * cluster, so every measurement gets new ones.
 */
#include "bench.h"

#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#ifndef MOJIM_PROXY_BIN
#define MOJIM_PROXY_BIN "mj_cutproxy"
#endif

#define ETH_KBPS "10000"
#define PROXY_WAIT_MS 2000

const struct tier_spec tier_specs[] = {
	{"sync", 0, 0, 0},       {"syncsec1", 1, 0, 0},
	{"syncsec2", 2, 0, 0},   {"syncseceth", 1, 1, 0},
	{"chain", 1, 0, 1},
};
const size_t ntier_specs = sizeof(tier_specs) / sizeof(tier_specs[0]);

/* A proxy to addr, rate-limited towards it; its address in out. */
static pid_t proxy_start(const char *scratch, const char *addr, char *out)
{
	char log[300], line[200];
	snprintf(log, sizeof(log), "%s/proxy.out", scratch);
	fflush(NULL);
	pid_t pid = fork();
	if (pid == 0) {
		if (!freopen(log, "w", stdout))
			_exit(127);
		execl(MOJIM_PROXY_BIN, MOJIM_PROXY_BIN, "--listen", "127.0.0.1:0",
		      "--to", addr, "--cuts", "0", "--rate-kbps", ETH_KBPS,
		      (char *)NULL);
		_exit(127);
	}
	for (int i = 0; pid > 0 && i < PROXY_WAIT_MS; i++) {
		FILE *f = fopen(log, "r");
		int found = f && fgets(line, sizeof(line), f) &&
		            sscanf(line, "listening on %63s", out) == 1;
		if (f)
			fclose(f);
		if (found)
			return pid;
		usleep(1000);
	}
	fprintf(stderr, "mojim-bench: the proxy %s did not start\n",
	        MOJIM_PROXY_BIN);
	if (pid > 0) {
		kill(pid, SIGKILL);
		waitpid(pid, NULL, 0);
	}
	return -1;
}

static void args_add(struct tier_procs *p, const char *more)
{
	size_t n = strlen(p->args);
	snprintf(p->args + n, sizeof(p->args) - n, "%s%s", n ? " " : "", more);
}

int tier_procs_start(const struct bench_opts *o, const char *scratch,
                     const struct tier_spec *t, struct tier_procs *p)
{
	const struct bench_link role = {.args = "--role backup"};
	memset(p, 0, sizeof(*p));
	p->proxy = -1;
	for (; p->started < t->backups; p->started++) {
		char name[16], addr[64], arg[96];
		snprintf(name, sizeof(name), "b%d", p->started);
		if (mirror_start_keyed(o, scratch, name, &role, &p->b[p->started]))
			goto fail;
		snprintf(addr, sizeof(addr), "%s", p->b[p->started].addr);
		if (t->slow && (p->proxy = proxy_start(scratch, addr, addr)) < 0)
			goto fail;
		snprintf(arg, sizeof(arg), "--backup %s", addr);
		args_add(p, arg);
	}
	if (t->chain)
		args_add(p, "--chain");
	if (t->slow) /* small, so that the stall shows within a run */
		args_add(p, "--secondary-thresh 4M");
	return 0;
fail:
	tier_procs_stop(p);
	return -1;
}

void tier_procs_stop(struct tier_procs *p)
{
	if (p->proxy > 0) {
		kill(p->proxy, SIGTERM);
		waitpid(p->proxy, NULL, 0);
	}
	p->proxy = -1;
	while (p->started > 0)
		mirror_stop(&p->b[--p->started]);
}
