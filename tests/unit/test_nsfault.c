/*
 * test_nsfault.c: a namespace change that cannot be queued for the mirror
 * (the record's allocation fails) must not have been made locally either:
 * otherwise the mirror never hears of it and its copy differs for good.
 * Renames with long names pile up in the pending queue until it must
 * grow; that allocation is made to fail (mj_fault_alloc). The failed
 * rename returns -ENOMEM and changed nothing; after the next sync point
 * the replica equals the primary. Runs a real mojim-mirror on 127.0.0.1.
 */
#include "internal.h"

#include <check.h>
#include "check_run.h"
#include "mirror_proc.h"
#include <errno.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <sys/wait.h>
#include <unistd.h>

static char dir[64];
static pid_t mirror_pid;
static char addr[64];

/* Unchecked fixtures: they run in the parent, so the mirror is stopped
 * and the directory removed even when the test's process fails. */
static void setup(void)
{
	char mdir[128];
	strcpy(dir, "/dev/shm/mojim-test-nsfault.XXXXXX");
	test_dir_make(dir);
	snprintf(mdir, sizeof(mdir), "%s/m", dir);
	mirror_pid = test_mirror_start("127.0.0.1:0", mdir, addr, sizeof(addr),
	                               "--log-size", "4M", "--slot-size", "64K",
	                               (char *)NULL);
}

static void teardown(void)
{
	test_mirror_stop(mirror_pid, SIGTERM);
	test_dir_remove(dir);
}

/* A 200-byte name ending in the number i. */
static void long_name(char *buf, size_t len, int i)
{
	char fill[200];
	memset(fill, 'n', sizeof(fill) - 1);
	fill[sizeof(fill) - 1] = '\0';
	snprintf(buf, len, "%.180s-%04d", fill, i);
}

static int exists(const char *sub, const char *name)
{
	char path[1024];
	struct stat st;
	snprintf(path, sizeof(path), "%s/%s/%s", dir, sub, name);
	return stat(path, &st) == 0;
}

START_TEST(failed_record_leaves_namespace_unchanged)
{
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	cfg.mirror = addr;
	char pdir[128], from[256], to[256];
	snprintf(pdir, sizeof(pdir), "%s/p", dir);
	mj_region *r;
	mj_file *f;
	ck_assert_int_eq(mj_region_open(pdir, &cfg, &r), 0);
	long_name(from, sizeof(from), 0);
	ck_assert_int_eq(mj_file_open(r, from, MJ_O_CREATE, &f), 0);
	ck_assert_int_eq(mj_file_resize(f, 4096), 0);
	memcpy(mj_file_base(f), "renamed-file", 12);
	ck_assert_int_eq(mj_msync(r, f, 0, 12, 0), 0);
	ck_assert_int_eq(mj_file_close(f), 0);
	/* Each rename queues a ~420-byte record; the queue (4 KiB) grows
	 * within a dozen, and that growth fails. */
	atomic_store(&mj_fault_alloc, 1);
	int i, rc = 0;
	for (i = 1; i <= 40 && rc == 0; i++) {
		long_name(to, sizeof(to), i);
		rc = mj_rename(r, from, to);
		if (rc == 0)
			strcpy(from, to);
	}
	atomic_store(&mj_fault_alloc, 0);
	ck_assert_int_eq(rc, -ENOMEM);
	ck_assert_msg(exists("p", from) && !exists("p", to),
	              "the failed rename changed the local namespace");
	ck_assert_int_eq(mj_gmsync(r, NULL, 0, 0), 0);
	ck_assert_int_eq(mj_region_close(r), 0);
	/* The replica applies shortly after the ack. */
	int same = 0;
	for (int k = 0; k < 250 && !(same = exists("m/data", from)); k++)
		usleep(20000);
	ck_assert_msg(same, "the mirror lacks a rename the primary made");
	ck_assert(!exists("m/data", to));
}
END_TEST

int main(void)
{
	Suite *s = suite_create("nsfault");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_add_test(tc, failed_record_leaves_namespace_unchanged);
	suite_add_tcase(s, tc);
	return check_run(s);
}
