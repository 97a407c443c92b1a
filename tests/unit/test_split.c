/*
 * test_split.c: a sync point larger than the mirror's largest batch fails
 * with -EMSGSIZE, and with MJ_SYNC_MAY_SPLIT goes through as several
 * batches; the mirror's copy then equals the primary's. Runs a real
 * mojim-mirror with a small log on 127.0.0.1.
 */
#include "mojim.h"

#include <check.h>
#include "check_run.h"
#include "mirror_proc.h"
#include <errno.h>
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static pid_t mirror_pid;
static char addr[64];

/* Unchecked fixtures: they run in the parent, so the mirror is stopped
 * and the directory removed even when the test's process fails. The
 * mirror has a 1 MiB log (largest batch 512 KiB). */
static void setup(void)
{
	char mdir[128];
	strcpy(dir, "/dev/shm/mojim-test-split.XXXXXX");
	test_dir_make(dir);
	snprintf(mdir, sizeof(mdir), "%s/m", dir);
	mirror_pid = test_mirror_start("127.0.0.1:0", mdir, addr, sizeof(addr),
	                               "--log-size", "1M", "--slot-size", "64K",
	                               (char *)NULL);
}

static void teardown(void)
{
	test_mirror_stop(mirror_pid, SIGTERM);
	test_dir_remove(dir);
}

/* 1 if the replica's copy of big holds the pattern (the checkpointer
 * applies shortly after the acks). */
static int replica_matches(uint64_t size)
{
	char path[160];
	snprintf(path, sizeof(path), "%s/m/data/big", dir);
	int fd = open(path, O_RDONLY);
	if (fd < 0)
		return 0;
	unsigned char *got = malloc(size);
	ssize_t n = pread(fd, got, size, 0);
	close(fd);
	int same = n == (ssize_t)size;
	for (uint64_t i = 0; same && i < size; i++)
		same = got[i] == (unsigned char)(i * 7 + i / 4096);
	free(got);
	return same;
}

START_TEST(large_sync_point_splits_only_when_allowed)
{
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	cfg.mirror = addr;
	char pdir[128];
	snprintf(pdir, sizeof(pdir), "%s/p", dir);
	mj_region *r;
	mj_file *f;
	ck_assert_int_eq(mj_region_open(pdir, &cfg, &r), 0);
	ck_assert_int_eq(mj_file_open(r, "big", MJ_O_CREATE, &f), 0);
	uint64_t size = 3 << 20;
	ck_assert_int_eq(mj_file_resize(f, size), 0);
	unsigned char *p = mj_file_base(f);
	for (uint64_t i = 0; i < size; i++)
		p[i] = (unsigned char)(i * 7 + i / 4096);
	ck_assert_int_eq(mj_msync(r, f, 0, size, 0), -EMSGSIZE);
	ck_assert_int_eq(mj_msync(r, f, 0, size, MJ_SYNC_MAY_SPLIT), 0);
	struct mj_status st;
	mj_region_status(r, &st);
	ck_assert_uint_ge(st.batches, 6); /* 3 MiB over batches of <= 512 KiB */
	ck_assert_int_eq(mj_file_close(f), 0);
	ck_assert_int_eq(mj_region_close(r), 0);
	int same = 0;
	for (int i = 0; i < 250 && !(same = replica_matches(size)); i++)
		usleep(20000);
	ck_assert_msg(same, "the replica does not hold the data within 5 s");
}
END_TEST

int main(void)
{
	Suite *s = suite_create("split");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, large_sync_point_splits_only_when_allowed);
	suite_add_tcase(s, tc);
	return check_run(s);
}
