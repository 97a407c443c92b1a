/*
 * test_empty_catchup.c: a mirror that returns after a degrade with
 * nothing changed meanwhile takes the held batch and nothing else.
 *
 * The sync point that found the mirror gone is held (its batch is resent)
 * and degrades the region; no sync point follows. When the mirror comes
 * back, the tracked changes are empty. The old catch-up still numbered an
 * empty batch, which has no frame to send: its ack never came, the
 * connection timed out (ack_timeout_ms), the region degraded again and
 * the mirror got a full copy, for a database of any size. Now the region
 * must be back, level with the mirror, with no second degrade and no copy,
 * for longer than an ack timeout. Real mojim-mirror processes on
 * 127.0.0.1.
 */
#include "mojim.h"

#include <check.h>
#include "check_run.h"
#include "mirror_proc.h"
#include <fcntl.h>
#include <signal.h>
#include <stdio.h>
#include <string.h>
#include <unistd.h>

static char dir[64];
static char addr[64];
static pid_t mirror_pid;

static void start_mirror(void)
{
	char mdir[128], listen[64];
	snprintf(mdir, sizeof(mdir), "%s/m", dir);
	snprintf(listen, sizeof(listen), "%s", addr[0] ? addr : "127.0.0.1:0");
	mirror_pid = test_mirror_start(listen, mdir, addr, sizeof(addr),
	                               (char *)NULL);
	test_mirror_note(dir, mirror_pid);
}

static void stop_mirror(int sig)
{
	test_mirror_stop_noted(dir, mirror_pid, sig);
}

static void setup(void)
{
	strcpy(dir, "/dev/shm/mojim-test-catchup.XXXXXX"); /* mkdtemp's */
	test_dir_make(dir);
}

static void teardown(void)
{
	test_mirror_teardown(dir);
}

static void sync_text(mj_region *r, mj_file *f, const char *text)
{
	memcpy(mj_file_base(f), text, strlen(text));
	ck_assert_int_eq(mj_msync(r, f, 0, strlen(text), 0), 0);
}

START_TEST(nothing_changed_while_degraded)
{
	struct mj_config cfg;
	mj_config_defaults(&cfg);
	start_mirror();
	cfg.mirror = addr;
	cfg.connections = 1;
	cfg.policy = MJ_POLICY_DEGRADE;
	cfg.block_timeout_ms = 300;
	cfg.ack_timeout_ms = 1000;
	char pdir[128];
	snprintf(pdir, sizeof(pdir), "%s/p", dir);
	mj_region *r;
	mj_file *f;
	ck_assert_int_eq(mj_region_open(pdir, &cfg, &r), 0);
	ck_assert_int_eq(mj_file_open(r, "f", MJ_O_CREATE, &f), 0);
	ck_assert_int_eq(mj_file_resize(f, 4096), 0);
	sync_text(r, f, "AAAA");
	stop_mirror(SIGKILL);
	sync_text(r, f, "BBBB"); /* held, degrades */
	struct mj_status st;
	mj_region_status(r, &st);
	ck_assert_int_eq(st.degraded, 1);
	start_mirror();
	int back = 0;
	for (int i = 0; i < 250 && !back; i++) {
		usleep(20000);
		mj_region_status(r, &st);
		back = !st.degraded && st.seq_durable == st.seq_sent;
	}
	ck_assert_msg(back, "not back within 5 s: degraded %d, durable %llu of "
	              "%llu", st.degraded, (unsigned long long)st.seq_durable,
	              (unsigned long long)st.seq_sent);
	usleep(2500 * 1000); /* longer than an ack timeout */
	mj_region_status(r, &st);
	ck_assert_msg(!st.degraded && st.full_copies == 0 && st.catchups == 1,
	              "after the return: degraded %d, full copies %llu, "
	              "catch-ups %llu", st.degraded,
	              (unsigned long long)st.full_copies,
	              (unsigned long long)st.catchups);
	sync_text(r, f, "CCCC"); /* replicated again, not tracked */
	ck_assert_int_eq(mj_file_close(f), 0);
	ck_assert_int_eq(mj_region_close(r), 0);
	char path[160], got[4] = {0};
	snprintf(path, sizeof(path), "%s/m/data/f", dir);
	int same = 0;
	for (int i = 0; i < 250 && !same; i++) {
		int fd = open(path, O_RDONLY);
		same = fd >= 0 && pread(fd, got, 4, 0) == 4 && !memcmp(got, "CCCC", 4);
		if (fd >= 0)
			close(fd);
		if (!same)
			usleep(20000);
	}
	ck_assert_msg(same, "the mirror does not hold the last sync point");
	stop_mirror(SIGTERM);
}
END_TEST

int main(void)
{
	Suite *s = suite_create("empty_catchup");
	TCase *tc = tcase_create("core");
	tcase_add_unchecked_fixture(tc, setup, teardown);
	tcase_set_timeout(tc, 60);
	tcase_add_test(tc, nothing_changed_while_degraded);
	suite_add_tcase(s, tc);
	return check_run(s);
}
