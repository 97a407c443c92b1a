/*
 * mj_workload: a primary that drives libmojim, for the demo and the
 * process-level tests.
 *
 *   mj_workload --dir DIR [--mirror HOST:PORT] [--mode M] [--policy P]
 *               [--threads N] [--ops N] [--files N] [--file-size N]
 *               [--max-range N] [--ranges N] [--connections N] [--seed N]
 *               [--block-timeout-ms N] [--stamp] [--seconds S]
 *               [--stamp-big BYTES] [--interval-us N] [--stamp-ns]
 *               [--stamp-log]
 *   mj_workload --check-stamps DIR [--stamp-ns] [--stamp-log]
 *               [--stamp-big BYTES]
 *                                      (exit 0 iff every stamp slot agrees)
 *
 * SIGTERM or SIGINT ends a run like its --ops or --seconds would: the
 * sync point under way finishes and the region is closed cleanly.
 *
 * Random mode: each thread writes random bytes at random offsets of random
 * files and makes 1..--ranges of them one sync point; a namespace thread
 * meanwhile creates, grows, renames and removes files. At the end the
 * primary drains and prints "seq_sent N" so a test can wait for the
 * mirror to apply N and compare the directories byte for byte.
 *
 * Stamp mode (--stamp): one thread; sync point k writes the 8-byte value k
 * over every byte of STAMP_SLOTS slots spread over three files (one slot
 * larger than a mirror slot, so batches span fragments) in one gmsync and
 * prints "acked k" once it returns. A replica where the slots disagree
 * holds a partly applied batch. Stamps go on from the one the local files
 * hold, so they only grow across restarts of the primary on its
 * directory. --stamp-ns and --stamp-log add a namespace file and a
 * write-once log to every sync point (see run_stamps' helpers);
 * --check-stamps checks them too when given the same flags.
 */
#include "region_opts.h"

#include <errno.h>
#include <getopt.h>
#include <pthread.h>
#include <stdatomic.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <signal.h>
#include <sys/mman.h>
#include <sys/stat.h>
#include <fcntl.h>
#include <time.h>
#include <unistd.h>

#define STAMP_FILES 3
#define STAMP_SLOTS 9
#define STAMP_BIG_DEFAULT (192u << 10) /* spans fragments of a 64 KiB slot */
static uint64_t stamp_big = STAMP_BIG_DEFAULT;
static int stamp_ns;  /* --stamp-ns */
static int stamp_log; /* --stamp-log */

struct opts {
	const char *dir, *mirror, *check_dir;
	struct mj_config cfg;
	int threads, files, ranges;
	long ops;
	double seconds;
	uint64_t file_size, max_range;
	unsigned seed;
	int stamp;
	int interval_us;
};

struct shared {
	struct opts *o;
	mj_region *region;
	mj_file **files;
	atomic_long ops_done;
	atomic_int failed;
	uint64_t deadline_ns;
};

static uint64_t now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

static int usage(const char *why)
{
	fprintf(stderr, "mj_workload: %s\n(see the comment at the top of "
	        "tests/tools/mj_workload.c)\n", why);
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"dir", 1, 0, 'd'}, REGION_LONG_OPTS, {"threads", 1, 0, 't'},
		{"ops", 1, 0, 'n'}, {"files", 1, 0, 'f'}, {"file-size", 1, 0, 'z'},
		{"max-range", 1, 0, 'r'}, {"ranges", 1, 0, 'R'},
		{"seed", 1, 0, 's'}, {"stamp", 0, 0, 'S'},
		{"seconds", 1, 0, 'T'}, {"check-stamps", 1, 0, 'C'},
		{"stamp-big", 1, 0, 'B'}, {"interval-us", 1, 0, 'I'},
		{"stamp-ns", 0, 0, 'N'}, {"stamp-log", 0, 0, 'L'}, {0, 0, 0, 0}};
	mj_config_defaults(&o->cfg);
	region_opts_init(&o->cfg);
	o->threads = 4;
	o->ops = 2000;
	o->files = 4;
	o->file_size = 1 << 20;
	o->max_range = 16384;
	o->ranges = 4;
	o->seed = 1;
	const char *why = NULL;
	int c;
	while ((c = getopt_long(argc, argv, "", lo, NULL)) != -1) {
		int r = region_opt(c, optarg, &o->cfg, &why);
		if (r < 0)
			return usage(why);
		if (r > 0)
			continue;
		switch (c) {
		case 'd': o->dir = optarg; break;
		case 't': o->threads = atoi(optarg); break;
		case 'n': o->ops = atol(optarg); break;
		case 'f': o->files = atoi(optarg); break;
		case 'z': o->file_size = strtoull(optarg, NULL, 0); break;
		case 'r': o->max_range = strtoull(optarg, NULL, 0); break;
		case 'R': o->ranges = atoi(optarg); break;
		case 's': o->seed = (unsigned)atoi(optarg); break;
		case 'S': o->stamp = 1; break;
		case 'T': o->seconds = atof(optarg); break;
		case 'C': o->check_dir = optarg; break;
		case 'B': stamp_big = strtoull(optarg, NULL, 0) & ~7ull; break;
		case 'I': o->interval_us = atoi(optarg); break;
		case 'N': stamp_ns = 1; break;
		case 'L': stamp_log = 1; break;
		default: return usage("unknown option");
		}
	}
	if (stamp_big < 8 || stamp_big > (1 << 20))
		return usage("--stamp-big must be 8..1M");
	if (o->check_dir)
		return 0;
	if (!o->dir)
		return usage("--dir is required");
	if (o->threads < 1 || o->threads > 64 || o->files < 1 || o->files > 64 ||
	    o->ranges < 1 || o->ranges > 64 || o->max_range < 1 ||
	    o->max_range > o->file_size)
		return usage("a number is out of range");
	return 0;
}

static uint64_t rnd(unsigned *s, uint64_t n)
{
	uint64_t v = ((uint64_t)rand_r(s) << 31) ^ (uint64_t)rand_r(s);
	return n ? v % n : 0;
}

/*
 * One random sync point: up to --ranges random writes, one gmsync. Thread
 * t writes only inside its stripe of each file, so no two threads race on
 * the same bytes (the test is about the library, not about torn writes).
 */
static int random_sync_point(struct shared *sh, unsigned *seed, int t)
{
	struct opts *o = sh->o;
	struct mj_range rg[64];
	int n = 1 + (int)rnd(seed, (uint64_t)o->ranges);
	for (int i = 0; i < n; i++) {
		mj_file *f = sh->files[rnd(seed, (uint64_t)o->files)];
		uint64_t stripe = mj_file_size(f) / (uint64_t)o->threads;
		uint64_t len = 1 + rnd(seed, o->max_range < stripe ? o->max_range : stripe);
		uint64_t off = stripe * (uint64_t)t + rnd(seed, stripe - len + 1);
		unsigned char *p = (unsigned char *)mj_file_base(f) + off;
		for (uint64_t k = 0; k < len; k++)
			p[k] = (unsigned char)rand_r(seed);
		rg[i] = (struct mj_range){.file = f, .off = off, .len = len};
	}
	return mj_gmsync(sh->region, rg, n, 0);
}

/* SIGTERM or SIGINT: finish the sync point under way, then close the
 * region cleanly (a test's way to end a run that has no end). */
static volatile sig_atomic_t term_requested;
static void on_term(int sig)
{
	(void)sig;
	term_requested = 1;
}

static int should_stop(struct shared *sh, long done)
{
	if (atomic_load(&sh->failed) || term_requested)
		return 1;
	if (sh->deadline_ns)
		return now_ns() >= sh->deadline_ns;
	return done >= sh->o->ops;
}

struct writer {
	struct shared *sh;
	int index;
};

static void *writer_main(void *arg)
{
	struct shared *sh = ((struct writer *)arg)->sh;
	int t = ((struct writer *)arg)->index;
	unsigned seed = sh->o->seed * 7919u + (unsigned)t * 104729u;
	for (;;) {
		long done = atomic_fetch_add(&sh->ops_done, 1);
		if (should_stop(sh, done))
			break;
		int rc = random_sync_point(sh, &seed, t);
		if (rc) {
			fprintf(stderr, "mj_workload: gmsync: %s\n", mj_strerror(rc));
			atomic_store(&sh->failed, rc);
		}
	}
	return NULL;
}

/* Namespace churn: create, grow, write, sync, rename, sync, remove. */
static int namespace_round(struct shared *sh, unsigned *seed, int i)
{
	char a[64], b[64];
	mj_file *f;
	snprintf(a, sizeof(a), "sub/tmp-%d", i);
	snprintf(b, sizeof(b), "sub/kept-%d", i % 5);
	int rc = mj_file_open(sh->region, a, MJ_O_CREATE, &f);
	if (!rc)
		rc = mj_file_resize(f, 4096 + rnd(seed, 60000));
	if (!rc) {
		uint64_t len = 1 + rnd(seed, mj_file_size(f));
		memset(mj_file_base(f), 'a' + i % 26, len);
		rc = mj_msync(sh->region, f, 0, len, 0);
	}
	if (!rc && rnd(seed, 2))
		rc = mj_file_resize(f, mj_file_size(f) / 2);
	if (!rc)
		rc = mj_rename(sh->region, a, b);
	if (f)
		mj_file_close(f);
	if (!rc && rnd(seed, 3) == 0)
		rc = mj_remove(sh->region, b);
	if (!rc)
		rc = mj_gmsync(sh->region, NULL, 0, 0);
	return rc;
}

static void *namespace_main(void *arg)
{
	struct shared *sh = arg;
	unsigned seed = sh->o->seed + 17;
	int rc = mj_mkdir(sh->region, "sub");
	for (int i = 0; !rc && !should_stop(sh, atomic_load(&sh->ops_done)); i++) {
		rc = namespace_round(sh, &seed, i);
		usleep(2000);
	}
	if (rc) {
		fprintf(stderr, "mj_workload: namespace: %s\n", mj_strerror(rc));
		atomic_store(&sh->failed, rc);
	}
	return NULL;
}

static int open_files(struct shared *sh, int nfiles, uint64_t size,
                      const char *fmt)
{
	for (int i = 0; i < nfiles; i++) {
		char name[64];
		snprintf(name, sizeof(name), fmt, i);
		int rc = mj_file_open(sh->region, name, MJ_O_CREATE, &sh->files[i]);
		if (!rc && mj_file_size(sh->files[i]) < size)
			rc = mj_file_resize(sh->files[i], size);
		if (rc) {
			fprintf(stderr, "mj_workload: %s: %s\n", name, mj_strerror(rc));
			return rc;
		}
	}
	return 0;
}

/* Slot k of the stamp layout: which file, where, how long. */
static void stamp_slot(int k, int *file, uint64_t *off, uint64_t *len)
{
	*file = k % STAMP_FILES;
	*off = 4096 * (uint64_t)(k / STAMP_FILES) * 3 + (uint64_t)k * 8;
	*len = k == 0 ? stamp_big : 24 + 8 * (uint64_t)k;
	if (k == 0)
		*off = 1 << 20;
}

/* The stamp the local files hold (slot 0's first word): a restarted
 * primary numbers on from it, so stamps only grow across its lives. */
static uint64_t local_stamp(struct shared *sh)
{
	int fi;
	uint64_t off, len;
	stamp_slot(0, &fi, &off, &len);
	return *(uint64_t *)((char *)mj_file_base(sh->files[fi]) + off);
}

/*
 * --stamp-log: every sync point k also writes block k % LOG_BLOCKS of a
 * fixed-size file, as the first range of its batch. The file is written
 * once per lap, so a write that never reached the mirror leaves a block
 * that says so long after (the slots are overwritten at every stamp).
 */
#define LOG_BLOCKS 4096
#define LOG_BLOCK 4096
#define LOG_FILE "stamp-log"

static void fill_block(mj_file *f, uint64_t i, uint64_t even, uint64_t odd,
                       uint64_t block, struct mj_range *rg)
{
	uint64_t *p = (uint64_t *)((char *)mj_file_base(f) + i * block);
	for (uint64_t w = 0; w < block / 8; w++)
		p[w] = w % 2 ? odd : even;
	*rg = (struct mj_range){f, i * block, block};
}

/*
 * --stamp-ns: a sync point may also be a namespace one: it renames a file
 * between stamp-ns-a and stamp-ns-b (its RENAME record first in the
 * batch), writes into it the stamp and the count c of such sync points so
 * far, and grows a file by block c % GROW_BLOCKS (cut back to nothing at
 * every lap, so the mirror keeps allocating: a full file system shows).
 * A primary run without --stamp-ns makes none after its first, so
 * namespace barriers come and go over a run of the test. Its first one is
 * a namespace sync point too when the files exist: a predecessor killed
 * in the middle of one left it half made in the local files (resized,
 * renamed, half written), a restart's full copy gave those to the mirror
 * (the local files are the truth after a crash), and like an
 * application's recovery the next life completes it before it goes on.
 */
#define GROW_BLOCKS 2048
#define GROW_BLOCK 4096
#define GROW_FILE "stamp-grow"

static const char *ns_name(uint64_t c)
{
	return c % 2 ? "stamp-ns-b" : "stamp-ns-a";
}

/* 1 if a namespace file is in dir (some life made namespace sync points). */
static int ns_exists(const char *dir)
{
	char path[4096];
	for (int c = 0; c < 2; c++) {
		snprintf(path, sizeof(path), "%s/%s", dir, ns_name(c));
		if (access(path, F_OK) == 0)
			return 1;
	}
	return 0;
}

/* 16 bytes at 0 of path (the stamp and the count); 0 if it can be read. */
static int read_ns(const char *path, uint64_t w[2])
{
	int fd = open(path, O_RDONLY);
	ssize_t n = fd >= 0 ? pread(fd, w, 16, 0) : -1;
	if (fd >= 0)
		close(fd);
	return n == 16 ? 0 : -1;
}

struct ns_state {
	mj_file *f, *grow;
	const char *name; /* current name */
	uint64_t count;   /* namespace sync points so far */
};

static void ns_close(struct ns_state *ns)
{
	if (ns->f)
		mj_file_close(ns->f);
	if (ns->grow)
		mj_file_close(ns->grow);
	ns->f = ns->grow = NULL;
}

/* The namespace file under its current name (created if neither exists)
 * and the growing file. */
static int open_ns(struct shared *sh, struct ns_state *ns)
{
	char path[4096];
	uint64_t w[2] = {0, 0};
	ns->name = ns_name(0);
	for (int c = 0; c < 2; c++) {
		snprintf(path, sizeof(path), "%s/%s", sh->o->dir, ns_name(c));
		if (access(path, F_OK) == 0) {
			ns->name = ns_name(c);
			read_ns(path, w);
		}
	}
	ns->count = w[1];
	int rc = mj_file_open(sh->region, ns->name, MJ_O_CREATE, &ns->f);
	if (!rc && mj_file_size(ns->f) < 16)
		rc = mj_file_resize(ns->f, 16);
	if (!rc)
		rc = mj_file_open(sh->region, GROW_FILE, MJ_O_CREATE, &ns->grow);
	return rc;
}

/* The namespace part of sync point k: two ranges into rg. */
static int stamp_ns_one(struct shared *sh, uint64_t k, struct ns_state *ns,
                        struct mj_range *rg)
{
	uint64_t c = ns->count + 1, j = c % GROW_BLOCKS;
	int rc = j == 0 ? mj_file_resize(ns->grow, 0) : 0;
	if (!rc)
		rc = mj_file_resize(ns->grow, (j + 1) * GROW_BLOCK);
	if (!rc && strcmp(ns->name, ns_name(c)))
		rc = mj_rename(sh->region, ns->name, ns_name(c));
	if (rc)
		return rc;
	ns->name = ns_name(c);
	ns->count = c;
	fill_block(ns->grow, j, c, k, GROW_BLOCK, &rg[0]);
	fill_block(ns->f, 0, k, c, 16, &rg[1]);
	return 0;
}

/*
 * Stamp k into everything; ranges into rg. Slot 0 is written last: the
 * stamp it holds locally (local_stamp) is one whose every write was made,
 * so a primary that died in the middle of a sync point goes on with the
 * next one and its files stay whole, stamp by stamp.
 */
static int stamp_one(struct shared *sh, uint64_t k, mj_file *log,
                     struct ns_state *ns, struct mj_range *rg, int *n)
{
	*n = 0;
	if (log)
		fill_block(log, k % LOG_BLOCKS, k, k, LOG_BLOCK, &rg[(*n)++]);
	if (ns->f) {
		int rc = stamp_ns_one(sh, k, ns, &rg[*n]);
		if (rc)
			return rc;
		*n += 2;
	}
	for (int s = STAMP_SLOTS - 1; s >= 0; s--) {
		int fi;
		uint64_t off, len;
		stamp_slot(s, &fi, &off, &len);
		uint64_t *p = (uint64_t *)((char *)mj_file_base(sh->files[fi]) + off);
		for (uint64_t w = 0; w < len / 8; w++)
			p[w] = k;
		rg[(*n)++] = (struct mj_range){sh->files[fi], off, len};
	}
	return 0;
}

static int run_stamps(struct shared *sh)
{
	struct ns_state ns = {0};
	mj_file *log = NULL;
	int rc = open_files(sh, STAMP_FILES, 2 << 20, "stamp-%d");
	uint64_t first = rc ? 0 : local_stamp(sh) + 1;
	if (!rc && (stamp_ns || ns_exists(sh->o->dir)))
		rc = open_ns(sh, &ns);
	if (!rc && stamp_log)
		rc = mj_file_open(sh->region, LOG_FILE, MJ_O_CREATE, &log);
	if (!rc && log && mj_file_size(log) < LOG_BLOCKS * LOG_BLOCK)
		rc = mj_file_resize(log, LOG_BLOCKS * LOG_BLOCK);
	for (uint64_t k = first; !rc && !should_stop(sh, (long)(k - first)); k++) {
		struct mj_range rg[STAMP_SLOTS + 3];
		int n;
		rc = stamp_one(sh, k, log, &ns, rg, &n);
		if (!rc)
			rc = mj_gmsync(sh->region, rg, n, 0);
		if (!rc)
			printf("acked %llu\n", (unsigned long long)k);
		fflush(stdout);
		if (!rc && !stamp_ns)
			ns_close(&ns); /* the predecessor's one is complete */
		if (sh->o->interval_us)
			usleep((useconds_t)sh->o->interval_us);
	}
	if (rc)
		fprintf(stderr, "mj_workload: stamp: %s\n", mj_strerror(rc));
	ns_close(&ns);
	if (log)
		mj_file_close(log);
	return rc;
}

/* Block i of path (block bytes) into buf; 0 if it was read whole. */
static int read_block(int fd, uint64_t i, uint64_t block, uint64_t *buf)
{
	return pread(fd, buf, block, (off_t)(i * block)) == (ssize_t)block ? 0
	                                                                  : -1;
}

/* 1 if every word of buf is even at even places, odd at odd ones. */
static int block_holds(const uint64_t *buf, uint64_t block, uint64_t even,
                       uint64_t odd)
{
	for (uint64_t w = 0; w < block / 8; w++)
		if (buf[w] != (w % 2 ? odd : even))
			return 0;
	return 1;
}

/* --stamp-log: block i holds the last stamp <= seen that wrote it. */
static int check_log(const char *dir, uint64_t seen)
{
	char path[4096];
	uint64_t buf[LOG_BLOCK / 8];
	snprintf(path, sizeof(path), "%s/%s", dir, LOG_FILE);
	int fd = open(path, O_RDONLY), ok = fd >= 0;
	uint64_t i;
	for (i = 0; ok && i < LOG_BLOCKS; i++) {
		uint64_t back = (seen % LOG_BLOCKS + LOG_BLOCKS - i) % LOG_BLOCKS;
		uint64_t want = seen >= back ? seen - back : 0;
		ok = !read_block(fd, i, LOG_BLOCK, buf) &&
		     block_holds(buf, LOG_BLOCK, want, want);
	}
	if (fd >= 0)
		close(fd);
	if (!ok)
		fprintf(stderr, "stamp %llu: %s block %llu does not hold its last "
		        "stamp: a write of an acknowledged batch was lost\n",
		        (unsigned long long)seen, LOG_FILE,
		        (unsigned long long)(i ? i - 1 : 0));
	return ok ? 0 : 1;
}

/* The growing file after c namespace sync points, the last of stamp k:
 * (c % GROW_BLOCKS + 1) blocks, block i of count c - (j - i), the stamps
 * growing from block to block. */
static int check_grow(const char *dir, uint64_t c, uint64_t k)
{
	char path[4096];
	snprintf(path, sizeof(path), "%s/%s", dir, GROW_FILE);
	uint64_t j = c % GROW_BLOCKS, buf[GROW_BLOCK / 8], prev = 0;
	struct stat st;
	int fd = open(path, O_RDONLY);
	int ok = fd >= 0 && fstat(fd, &st) == 0 &&
	         (uint64_t)st.st_size == (j + 1) * GROW_BLOCK;
	uint64_t i;
	for (i = 0; ok && i <= j; i++) {
		uint64_t count = c - (j - i);
		ok = !read_block(fd, i, GROW_BLOCK, buf) &&
		     (count == 0 ? block_holds(buf, GROW_BLOCK, 0, 0)
		                 : block_holds(buf, GROW_BLOCK, count, buf[1]) &&
		                   buf[1] > prev && (i < j || buf[1] == k));
		prev = buf[1];
	}
	if (fd >= 0)
		close(fd);
	if (!ok)
		fprintf(stderr, "%s is not %llu blocks of namespace sync points "
		        "up to %llu (block %llu differs): a write, a size change or "
		        "a whole batch lost\n", GROW_FILE, (unsigned long long)(j + 1),
		        (unsigned long long)c, (unsigned long long)(i ? i - 1 : 0));
	return ok ? 0 : 1;
}

/* --stamp-ns: one namespace file, named by its count, of a stamp <= seen,
 * agreeing with the growing file. */
static int check_ns(const char *dir, uint64_t seen)
{
	char path[2][4096];
	uint64_t w[2];
	int have[2];
	for (int c = 0; c < 2; c++) {
		snprintf(path[c], sizeof(path[c]), "%s/%s", dir, ns_name(c));
		have[c] = access(path[c], F_OK) == 0;
	}
	if (!have[0] && !have[1])
		return 0; /* no run made a namespace sync point yet */
	int c = have[1];
	if ((have[0] && have[1]) || read_ns(path[c], w) || w[1] % 2 != (uint64_t)c ||
	    w[0] > seen) {
		fprintf(stderr, "stamp %llu: the namespace file is not one file "
		        "named for its count holding an earlier stamp: a rename "
		        "lost or replayed\n", (unsigned long long)seen);
		return 1;
	}
	return w[1] ? check_grow(dir, w[1], w[0]) : 0;
}

/* Reads every slot of a replica; all must hold one value, printed. */
static int check_stamps(const char *dir)
{
	uint64_t seen = 0;
	int have = 0;
	for (int s = 0; s < STAMP_SLOTS; s++) {
		int fi;
		uint64_t off, len;
		stamp_slot(s, &fi, &off, &len);
		char path[4096];
		snprintf(path, sizeof(path), "%s/stamp-%d", dir, fi);
		int fd = open(path, O_RDONLY);
		if (fd < 0) {
			printf("stamp 0 (no %s)\n", path);
			return have ? 1 : 0; /* nothing applied yet is consistent */
		}
		uint64_t *buf = malloc(len);
		ssize_t got = buf ? pread(fd, buf, len, (off_t)off) : -1;
		close(fd);
		for (uint64_t w = 0; got == (ssize_t)len && w < len / 8; w++) {
			if (!have) {
				seen = buf[w];
				have = 1;
			} else if (buf[w] != seen) {
				fprintf(stderr, "slot %d word %llu holds %llu, slot 0 %llu: "
				        "a partly applied batch\n", s, (unsigned long long)w,
				        (unsigned long long)buf[w], (unsigned long long)seen);
				free(buf);
				return 1;
			}
		}
		free(buf);
		if (got != (ssize_t)len && seen != 0) {
			fprintf(stderr, "slot %d short\n", s);
			return 1;
		}
	}
	if (stamp_ns && seen && check_ns(dir, seen))
		return 1;
	if (stamp_log && seen && check_log(dir, seen))
		return 1;
	printf("stamp %llu\n", (unsigned long long)seen);
	return 0;
}

static void log_to_stderr(void *arg, enum mj_log_level level, const char *msg)
{
	static const char *const names[] = {"error", "warning", "info"};
	fprintf(stderr, "mj_workload: libmojim %s: %s\n", names[level], msg);
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	if (o.check_dir)
		return check_stamps(o.check_dir);
	setvbuf(stdout, NULL, _IOLBF, 0);
	signal(SIGTERM, on_term);
	signal(SIGINT, on_term);
	o.cfg.log = log_to_stderr;
	struct shared sh = {.o = &o};
	mj_file *files[64] = {0};
	sh.files = files;
	if (o.seconds > 0)
		sh.deadline_ns = now_ns() + (uint64_t)(o.seconds * 1e9);
	rc = mj_region_open(o.dir, &o.cfg, &sh.region);
	if (rc) {
		fprintf(stderr, "mj_workload: open %s: %s\n", o.dir, mj_strerror(rc));
		return 1;
	}
	uint64_t t0 = now_ns();
	if (o.stamp) {
		rc = run_stamps(&sh);
	} else if (!(rc = open_files(&sh, o.files, o.file_size, "file-%d")) &&
	           !(rc = mj_gmsync(sh.region, NULL, 0, 0))) {
		pthread_t th[65];
		struct writer w[64];
		for (int i = 0; i < o.threads; i++) {
			w[i] = (struct writer){&sh, i};
			pthread_create(&th[i], NULL, writer_main, &w[i]);
		}
		pthread_create(&th[o.threads], NULL, namespace_main, &sh);
		for (int i = 0; i <= o.threads; i++)
			pthread_join(th[i], NULL);
		rc = atomic_load(&sh.failed);
	}
	double secs = (double)(now_ns() - t0) / 1e9;
	int drc = rc ? 0 : mj_region_drain(sh.region, 30000);
	struct mj_status st;
	mj_region_status(sh.region, &st);
	for (int i = 0; i < 64; i++)
		if (files[i])
			mj_file_close(files[i]);
	int crc = mj_region_close(sh.region);
	printf("mode %s sync_points %llu batches %llu seconds %.2f degraded %d\n",
	       mj_mode_name(st.mode), (unsigned long long)st.sync_points,
	       (unsigned long long)st.batches, secs, st.degraded);
	printf("seq_sent %llu\n", (unsigned long long)st.seq_sent);
	printf("catchups %llu full_copies %llu degrade_flush_us %llu\n",
	       (unsigned long long)st.catchups,
	       (unsigned long long)st.full_copies,
	       (unsigned long long)st.degrade_flush_us);
	if (!rc)
		rc = drc ? drc : crc;
	if (rc)
		fprintf(stderr, "mj_workload: %s\n", mj_strerror(rc));
	return rc ? 1 : 0;
}
