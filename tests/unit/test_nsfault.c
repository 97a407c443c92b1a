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

static void start_mirror(void)
{
	int pipefd[2];
	char mdir[128];
	snprintf(mdir, sizeof(mdir), "%s/m", dir);
	if (pipe(pipefd) || (mirror_pid = fork()) < 0)
		abort();
	if (mirror_pid == 0) {
		dup2(pipefd[1], 2);
		execl(MOJIM_MIRROR_BIN, "mojim-mirror", "--listen", "127.0.0.1:0",
		      "--dir", mdir, "--log-size", "4M", "--slot-size", "64K",
		      (char *)NULL);
		_exit(127);
	}
	close(pipefd[1]);
	FILE *err = fdopen(pipefd[0], "r");
	char line[512];
	while (fgets(line, sizeof(line), err)) {
		char *p = strstr(line, "listening on ");
		if (p && sscanf(p + 13, "%63s", addr) == 1)
			break;
	}
	fclose(err);
}

/* Unchecked fixtures: they run in the parent, so the mirror is stopped
 * and the directory removed even when the test's process fails. */
static void setup(void)
{
	strcpy(dir, "/dev/shm/mojim-test-nsfault.XXXXXX");
	if (!mkdtemp(dir))
		abort();
	start_mirror();
}

static void teardown(void)
{
	char cmd[128];
	kill(mirror_pid, SIGTERM);
	waitpid(mirror_pid, NULL, 0);
	snprintf(cmd, sizeof(cmd), "rm -rf %s", dir);
	if (system(cmd) != 0)
		fprintf(stderr, "could not remove %s\n", dir);
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
