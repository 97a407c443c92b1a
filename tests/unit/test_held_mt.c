/*
 * test_held_mt.c: a batch the primary holds while its mirror is away must
 * reach the mirror when it comes back smaller. A sync point of 1 MiB is
 * made while the mirror (4 MiB slots) is down, so its batch is held as one
 * 1 MiB frame; the mirror then restarts on the same directory and port
 *   - with --slot-size 64K: the batch is re-framed and goes through;
 *   - with a 1 MiB log (largest batch 512 KiB): the batch cannot go whole,
 *     a full copy carries it.
 * Either way the sync point returns 0 and the replica holds the bytes.
 * Runs real mojim-mirror processes on 127.0.0.1.
 */
#include "mojim.h"

#include <check.h>
#include "check_run.h"
#include "mirror_proc.h"
#include <errno.h>
#include <fcntl.h>
#include <pthread.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

#define SIZE (1u << 20)

static char dir[64];
static pid_t mirror_pid;
static char addr[64];
static const char *run; /* the scenario's name: its directories */

/* Starts the mirror on addr (or any port if addr is empty) with the given
 * log and slot sizes. */
static void start_mirror(const char *log_size, const char *slot_size)
{
	char mdir[128], listen[64];
	snprintf(mdir, sizeof(mdir), "%s/m-%s", dir, run);
	snprintf(listen, sizeof(listen), "%s", addr[0] ? addr : "127.0.0.1:0");
	mirror_pid = test_mirror_start(listen, mdir, addr, sizeof(addr),
	                               "--log-size", log_size, "--slot-size",
	                               slot_size, (char *)NULL);
	test_mirror_note(dir, mirror_pid);
}

static void stop_mirror(int sig)
{
	test_mirror_stop_noted(dir, mirror_pid, sig);
}

/* Unchecked fixtures, in Check's parent process: one directory for both
 * tests (each uses its own mirror and primary directories). */
static void setup(void)
{
	strcpy(dir, "/dev/shm/mojim-test-held.XXXXXX");
	test_dir_make(dir);
}

static void teardown(void)
{
	test_mirror_teardown(dir);
}

struct syncer {
	mj_region *r;
	mj_file *f;
	int rc;
};

static void *sync_big(void *arg)
{
	struct syncer *s = arg;
	s->rc = mj_msync(s->r, s->f, 0, SIZE, 0);
	return NULL;
}

/* 1 if the replica's copy of big holds the pattern. */
static int replica_matches(void)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/m-%s/data/big", dir, run);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	unsigned char *got = malloc(SIZE);
	ssize_t n = pread(fd, got, SIZE, 0);
	close(fd);
	int same = n == (ssize_t)SIZE;
	for (uint64_t i = 0; same && i < SIZE; i++)
		same = got[i] == (unsigned char)(i * 13 + i / 4096);
	free(got);
	return same;
}

/* The scenario; the mirror comes back with log_size and slot_size. */
static void held_batch_survives(const char *name, const char *log_size,
                                const char *slot_size)
{
	run = name;
	addr[0] = '\0';
	start_mirror("64M", "4M");
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	cfg.mirror = addr;
	cfg.block_timeout_ms = 15000;
	char pdir[128];
	snprintf(pdir, sizeof(pdir), "%s/p-%s", dir, run);
	struct syncer s = {0};
	ck_assert_int_eq(mj_region_open(pdir, &cfg, &s.r), 0);
	ck_assert_int_eq(mj_file_open(s.r, "big", MJ_O_CREATE, &s.f), 0);
	ck_assert_int_eq(mj_file_resize(s.f, SIZE), 0);
	ck_assert_int_eq(mj_gmsync(s.r, NULL, 0, 0), 0);
	stop_mirror(SIGKILL);
	unsigned char *p = mj_file_base(s.f);
	for (uint64_t i = 0; i < SIZE; i++)
		p[i] = (unsigned char)(i * 13 + i / 4096);
	pthread_t t;
	ck_assert_int_eq(pthread_create(&t, NULL, sync_big, &s), 0);
	/* The sync point builds its batch (one 1 MiB frame) and waits. */
	struct mj_status st;
	for (int i = 0; i < 200; i++) {
		mj_region_status(s.r, &st);
		if (st.seq_sent > st.seq_durable)
			break;
		usleep(10000);
	}
	ck_assert_uint_gt(st.seq_sent, st.seq_durable);
	start_mirror(log_size, slot_size);
	pthread_join(t, NULL);
	ck_assert_msg(s.rc == 0, "the held sync point failed: %s",
	              mj_strerror(s.rc));
	ck_assert_int_eq(mj_file_close(s.f), 0);
	ck_assert_int_eq(mj_region_close(s.r), 0);
	int same = 0;
	for (int i = 0; i < 250 && !(same = replica_matches()); i++)
		usleep(20000);
	ck_assert_msg(same, "the replica does not hold the held batch's bytes");
	stop_mirror(SIGTERM);
}

START_TEST(smaller_slot_reframes)
{
	held_batch_survives("slot", "64M", "64K");
}
END_TEST

START_TEST(smaller_log_copies)
{
	held_batch_survives("log", "1M", "64K");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("held");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 40);
	tcase_add_test(tc, smaller_slot_reframes);
	tcase_add_test(tc, smaller_log_copies);
	suite_add_tcase(s, tc);
	return check_run(s);
}
