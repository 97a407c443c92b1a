/*
 * stats.c: clocks, latency percentiles, and where threads ran.
 */
#include "bench.h"
#include <signal.h>
#include <stdatomic.h>
#include <sys/vfs.h>

#include <dirent.h>
#include <sched.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/resource.h>
#include <time.h>
#include <unistd.h>

uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

int lat_init(struct lat *l, size_t cap)
{
	l->n = 0;
	l->cap = cap;
	l->ns = cap ? malloc(cap * sizeof(*l->ns)) : NULL;
	return cap && !l->ns ? -1 : 0;
}

void lat_free(struct lat *l)
{
	free(l->ns);
	l->ns = NULL;
	l->n = l->cap = 0;
}

void lat_add(struct lat *l, uint64_t ns)
{
	if (l->n < l->cap)
		l->ns[l->n++] = ns > UINT32_MAX ? UINT32_MAX : (uint32_t)ns;
}

int lat_merge(struct lat *dst, const struct lat *src)
{
	if (dst->n + src->n > dst->cap) {
		size_t cap = dst->n + src->n;
		uint32_t *p = realloc(dst->ns, cap * sizeof(*p));
		if (!p)
			return -1;
		dst->ns = p;
		dst->cap = cap;
	}
	memcpy(dst->ns + dst->n, src->ns, src->n * sizeof(*src->ns));
	dst->n += src->n;
	return 0;
}

static int cmp_u32(const void *a, const void *b)
{
	uint32_t x = *(const uint32_t *)a, y = *(const uint32_t *)b;
	return x < y ? -1 : x > y;
}

/* The q-quantile of sorted values, nearest rank. */
static double quantile_us(const struct lat *l, double q)
{
	size_t i = (size_t)(q * (double)l->n);
	if (i >= l->n)
		i = l->n - 1;
	return l->ns[i] / 1000.0;
}

struct lat_summary lat_summarise(struct lat *l)
{
	struct lat_summary s = {.n = l->n};
	if (!l->n)
		return s;
	qsort(l->ns, l->n, sizeof(*l->ns), cmp_u32);
	double sum = 0;
	for (size_t i = 0; i < l->n; i++)
		sum += l->ns[i];
	s.mean_us = sum / (double)l->n / 1000.0;
	s.p50_us = quantile_us(l, 0.50);
	s.p99_us = quantile_us(l, 0.99);
	s.min_us = l->ns[0] / 1000.0;
	s.max_us = l->ns[l->n - 1] / 1000.0;
	return s;
}

void cpu_hist_sample(struct cpu_hist *h)
{
	int c = sched_getcpu();
	if (c >= 0 && c < BENCH_MAX_CPUS)
		h->count[c]++;
}

void cpu_hist_merge(struct cpu_hist *dst, const struct cpu_hist *src)
{
	for (int i = 0; i < BENCH_MAX_CPUS; i++)
		dst->count[i] += src->count[i];
}

void cpu_hist_format(const struct cpu_hist *h, char *buf, size_t len)
{
	uint64_t total = 0;
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < BENCH_MAX_CPUS; i++)
		total += h->count[i];
	for (int i = 0; i < BENCH_MAX_CPUS && total && used < len; i++) {
		if (!h->count[i])
			continue;
		int n = snprintf(buf + used, len - used, "%s%d:%.0f%%",
		                 used ? " " : "", i, 100.0 * h->count[i] / total);
		if (n < 0)
			break;
		used += (size_t)n;
	}
	if (!total)
		snprintf(buf, len, "-");
}

/* Reads utime+stime (fields 14, 15) and processor (39) of one stat file. */
static int read_stat(const char *path, uint64_t *ticks, int *cpu)
{
	char buf[1024];
	FILE *f = fopen(path, "r");
	if (!f)
		return -1;
	size_t n = fread(buf, 1, sizeof(buf) - 1, f);
	fclose(f);
	buf[n] = 0;
	char *p = strrchr(buf, ')'); /* the name may hold spaces */
	if (!p)
		return -1;
	unsigned long long ut = 0, st = 0;
	int field = 2, got = 0;
	for (char *tok = strtok(p + 1, " "); tok; tok = strtok(NULL, " ")) {
		field++;
		if (field == 14)
			ut = strtoull(tok, NULL, 10);
		else if (field == 15)
			st = strtoull(tok, NULL, 10);
		else if (field == 39) {
			*cpu = atoi(tok);
			got = 1;
			break;
		}
	}
	*ticks = ut + st;
	return got ? 0 : -1;
}

int proc_snap_take(pid_t pid, struct proc_snap *s)
{
	char path[128];
	s->n = 0;
	snprintf(path, sizeof(path), "/proc/%d/task", (int)pid);
	DIR *d = opendir(path);
	if (!d)
		return -1;
	struct dirent *e;
	while ((e = readdir(d)) && s->n < 64) {
		if (e->d_name[0] == '.')
			continue;
		int tid = atoi(e->d_name);
		snprintf(path, sizeof(path), "/proc/%d/task/%d/stat", (int)pid, tid);
		if (read_stat(path, &s->ticks[s->n], &s->cpu[s->n]) == 0)
			s->tid[s->n++] = tid;
	}
	closedir(d);
	return 0;
}

double proc_snap_diff(const struct proc_snap *a, const struct proc_snap *b,
                      char *buf, size_t len)
{
	uint64_t ticks = 0;
	size_t used = 0;
	buf[0] = 0;
	for (int i = 0; i < b->n; i++) {
		uint64_t before = 0;
		for (int j = 0; j < a->n; j++)
			if (a->tid[j] == b->tid[i])
				before = a->ticks[j];
		if (b->ticks[i] <= before)
			continue; /* idle in the window */
		ticks += b->ticks[i] - before;
		int n = snprintf(buf + used, len - used, "%s%d", used ? "," : "",
		                 b->cpu[i]);
		if (n < 0 || (size_t)n >= len - used)
			break;
		used += (size_t)n;
	}
	if (!used)
		snprintf(buf, len, "-");
	return (double)ticks / (double)sysconf(_SC_CLK_TCK);
}

double self_cpu_seconds(void)
{
	struct rusage ru;
	getrusage(RUSAGE_SELF, &ru);
	return (double)(ru.ru_utime.tv_sec + ru.ru_stime.tv_sec) +
	       (double)(ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

const char *bench_disk_tmp(void)
{
	const char *t = getenv("TMPDIR");
	struct statfs sf;
	if (t && t[0] && statfs(t, &sf) == 0 && sf.f_type != 0x01021994)
		return t;
	return "/var/tmp";
}

int bench_wait_go(_Atomic int *go, int ms)
{
	for (int i = 0; i < ms * 10; i++) {
		int g = atomic_load(go);
		if (g)
			return g > 0;
		usleep(100);
	}
	return 0;
}

static volatile sig_atomic_t *stop_flag;

static void on_stop_signal(int sig)
{
	(void)sig;
	*stop_flag = 1;
}

void bench_stop_on_signals(volatile sig_atomic_t *flag)
{
	struct sigaction sa = {.sa_handler = on_stop_signal};
	stop_flag = flag;
	sigemptyset(&sa.sa_mask);
	sigaction(SIGINT, &sa, NULL);
	sigaction(SIGTERM, &sa, NULL);
	signal(SIGPIPE, SIG_IGN);
}
