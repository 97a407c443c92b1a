/*
 * report.c: result rows, printed as tables while they come, kept for the
 * CSV and the target checks at the end.
 */
#include "bench.h"

#include <stdio.h>
#include <string.h>

#define MAX_ROWS 256

static struct row rows[MAX_ROWS];
static int nrows;

static void fmt_size(uint64_t size, char *buf, size_t len)
{
	if (size >= (1u << 20) && size % (1u << 20) == 0)
		snprintf(buf, len, "%lluM", (unsigned long long)(size >> 20));
	else if (size >= 1024 && size % 1024 == 0)
		snprintf(buf, len, "%lluK", (unsigned long long)(size >> 10));
	else
		snprintf(buf, len, "%lluB", (unsigned long long)size);
}

void report_section(const char *title, const char *section)
{
	printf("\n== %s [%s]\n", title, section);
	printf("%-18s %5s %3s %4s %8s %6s %8s %8s %8s %9s %8s  %-14s %-9s %5s %5s  %s\n",
	       "name", "size", "thr", "conn", "ops", "secs", "p50us", "p99us",
	       "meanus", "ops/s", "MB/s", "bench-cpus", "peer-cpus", "cpuS",
	       "cpuP", "note");
	fflush(stdout);
}

void report_row(const struct row *r)
{
	char size[24];
	if (nrows < MAX_ROWS)
		rows[nrows++] = *r;
	fmt_size(r->size, size, sizeof(size));
	printf("%-18s %5s %3d %4d %8ld %6.2f ", r->name, size, r->threads,
	       r->conns, r->ops, r->secs);
	if (r->lat.n)
		printf("%8.1f %8.1f %8.1f ", r->lat.p50_us, r->lat.p99_us,
		       r->lat.mean_us);
	else
		printf("%8s %8s %8s ", "-", "-", "-");
	printf("%9.0f %8.1f  %-14s %-9s %5.2f %5.2f  %s\n", r->ops_s, r->mb_s,
	       r->cpus, r->peer_cpus, r->cpu_self, r->cpu_peer, r->note);
	fflush(stdout);
}

const struct row *report_find(const char *section, const char *name,
                              uint64_t size, int threads, int conns)
{
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		if (!strcmp(r->section, section) && !strcmp(r->name, name) &&
		    r->size == size && (threads < 0 || r->threads == threads) &&
		    (conns < 0 || r->conns == conns))
			return r;
	}
	return NULL;
}

/* Commas would split a field: the free-text columns use ';' instead. */
static void csv_text(FILE *f, const char *s)
{
	for (; *s; s++)
		fputc(*s == ',' ? ';' : *s, f);
	fputc(',', f);
}

static void csv_write(FILE *f)
{
	fprintf(f, "section,name,size,threads,conns,ops,secs,p50_us,p99_us,"
	        "mean_us,min_us,max_us,ops_s,mb_s,bench_cpus,peer_cpus,"
	        "cpu_self,cpu_peer,note\n");
	for (int i = 0; i < nrows; i++) {
		const struct row *r = &rows[i];
		fprintf(f, "%s,%s,%llu,%d,%d,%ld,%.3f,", r->section, r->name,
		        (unsigned long long)r->size, r->threads, r->conns, r->ops,
		        r->secs);
		if (r->lat.n)
			fprintf(f, "%.2f,%.2f,%.2f,%.2f,%.2f,", r->lat.p50_us,
			        r->lat.p99_us, r->lat.mean_us, r->lat.min_us,
			        r->lat.max_us);
		else
			fprintf(f, ",,,,,");
		fprintf(f, "%.0f,%.2f,", r->ops_s, r->mb_s);
		csv_text(f, r->cpus);
		csv_text(f, r->peer_cpus);
		fprintf(f, "%.3f,%.3f,", r->cpu_self, r->cpu_peer);
		csv_text(f, r->note);
		fputc('\n', f);
	}
}

int report_csv(const char *path)
{
	if (!path) {
		printf("\n== CSV\n");
		csv_write(stdout);
		return 0;
	}
	FILE *f = fopen(path, "w");
	if (!f) {
		perror(path);
		return -1;
	}
	csv_write(f);
	if (fclose(f)) {
		perror(path);
		return -1;
	}
	printf("\nCSV written to %s\n", path);
	return 0;
}

static const char *verdict(int ok)
{
	return ok ? "OK" : "SHORT";
}

/* p50 of mode name at size over the TCP round trip of the same size. */
static void print_ratios(uint64_t size)
{
	const struct row *blk = report_find("tcp", "block", size, -1, -1);
	const struct row *spin = report_find("tcp", "spin-cross", size, -1, -1);
	const struct row *unrep = report_find("modes", "unreplicated", size, -1, -1);
	static const char *const modes[] = {"unreplicated", "sync", "syncflush",
	                                    "async"};
	for (int i = 0; i < 4; i++) {
		const struct row *m = report_find("modes", modes[i], size, -1, -1);
		if (!m || !m->lat.n)
			continue;
		printf("ratio %-12s p50 %7.1f us", modes[i], m->lat.p50_us);
		if (blk && blk->lat.p50_us > 0)
			printf(" | / tcp(block) p50 = %.2fx", m->lat.p50_us / blk->lat.p50_us);
		if (spin && spin->lat.p50_us > 0)
			printf(" | / tcp(spin) p50 = %.2fx", m->lat.p50_us / spin->lat.p50_us);
		if (unrep && unrep->lat.p50_us > 0)
			printf(" | / unreplicated p50 = %.2fx",
			       m->lat.p50_us / unrep->lat.p50_us);
		printf("\n");
	}
}

/* The best bandwidth row (any threads, any connections). */
static const struct row *best_bandwidth(void)
{
	const struct row *best = NULL;
	for (int i = 0; i < nrows; i++)
		if (!strcmp(rows[i].section, "bandwidth") &&
		    (!best || rows[i].mb_s > best->mb_s))
			best = &rows[i];
	return best;
}

/* sync p50 over each TCP variant's p50, at 4 KB. */
static void print_rtt_alternatives(const struct row *sync)
{
	static const char *const vs[] = {"block-same", "block-cross", "spin-cross"};
	printf("  sync 4K p50 / other tcp floors:");
	for (int i = 0; i < 3; i++) {
		const struct row *t = report_find("tcp", vs[i], 4096, -1, -1);
		if (t && t->lat.n && t->lat.p50_us > 0)
			printf(" %s %.1f us -> %.2fx;", vs[i], t->lat.p50_us,
			       sync->lat.p50_us / t->lat.p50_us);
	}
	printf("\n");
}

/*
 * The target's baseline is the plain round trip (both ends block, not
 * pinned). Where the scheduler puts the echo server decides whether that
 * is ~15 us (same vCPU) or ~95 us (a wakeup on the other vCPU), so say
 * which one this run got.
 */
static void report_rtt_target(void)
{
	const struct row *blk = report_find("tcp", "block", 4096, -1, -1);
	const struct row *same = report_find("tcp", "block-same", 4096, -1, -1);
	const struct row *cross = report_find("tcp", "block-cross", 4096, -1, -1);
	const struct row *sync = report_find("modes", "sync", 4096, -1, -1);
	if (!blk || !sync || !blk->lat.n || !sync->lat.n) {
		printf("target sync4k_p50_vs_rtt: not measured (needs tcp and modes)\n");
		return;
	}
	double x = sync->lat.p50_us / blk->lat.p50_us;
	printf("target sync4k_p50_vs_rtt: %.2fx (sync %.1f us / tcp block %.1f us; "
	       "target <= 3x) %s\n", x, sync->lat.p50_us, blk->lat.p50_us,
	       verdict(x <= 3.0));
	if (same && cross && same->lat.n && cross->lat.n &&
	    cross->lat.p50_us > 2 * same->lat.p50_us)
		printf("  note: the unpinned tcp baseline is bimodal here (same vCPU "
		       "%.1f us, other vCPU %.1f us); this run's is %s\n",
		       same->lat.p50_us, cross->lat.p50_us,
		       blk->lat.p50_us > (same->lat.p50_us + cross->lat.p50_us) / 2 ?
		       "the cross-vCPU one" : "the same-vCPU one");
	print_rtt_alternatives(sync);
}

void report_targets(void)
{
	printf("\n== Ratios and targets\n");
	print_ratios(4096);
	report_rtt_target();
	const struct row *t = report_find("threads", "sync", 1024, 4, -1);
	if (t)
		printf("target sync1k_4threads: %.0f ops/s (target >= 100000) %s\n",
		       t->ops_s, verdict(t->ops_s >= 100000));
	else
		printf("target sync1k_4threads: not measured (needs threads)\n");
	const struct row *b = best_bandwidth();
	if (b)
		printf("target mirror_64k: %.2f GB/s (%d threads, %d connections; "
		       "target >= 1) %s\n", b->mb_s / 1000.0, b->threads, b->conns,
		       verdict(b->mb_s >= 1000.0));
	else
		printf("target mirror_64k: not measured (needs bandwidth)\n");
}
