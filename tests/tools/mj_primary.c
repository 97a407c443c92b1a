/*
 * mj_primary: one short life of a libmojim primary, for the restart tests.
 *
 *   mj_primary --dir DIR [--mirror HOST:PORT] [--mode M] [--policy P]
 *              [--connections N] [--block-timeout-ms N]
 *              [--write NAME:TEXT]... [--sync] [--crash]
 *
 * Opens the region (a full copy to the mirror happens here if the restart
 * rule asks for one), then for each --write (up to 8, in order) writes
 * TEXT at offset 0 of file NAME (created, sized to TEXT) and with --sync
 * makes one sync point of it (without --write: an empty sync point, which
 * returns once everything before it, a full copy included, is
 * acknowledged); prints "synced" when all are done.
 * --crash then dies by SIGKILL, leaving whatever was not synced in the
 * local files; otherwise the region is closed cleanly. Last line printed
 * on a clean close: "full_copies N catchups N".
 * Exit: 0, or the errno of the first failure (open, write, sync, close).
 */
#include "region_opts.h"

#include <errno.h>
#include <getopt.h>
#include <signal.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#define MAX_WRITES 8

struct opts {
	const char *dir, *write[MAX_WRITES];
	int nwrites;
	struct mj_config cfg;
	int sync, crash;
};

static int usage(const char *why)
{
	fprintf(stderr, "mj_primary: %s (see tests/tools/mj_primary.c)\n", why);
	return 2;
}

static int parse(int argc, char **argv, struct opts *o)
{
	static const struct option lo[] = {
		{"dir", 1, 0, 'd'}, REGION_LONG_OPTS, {"write", 1, 0, 'w'},
		{"sync", 0, 0, 's'}, {"crash", 0, 0, 'k'}, {0, 0, 0, 0}};
	mj_config_defaults(&o->cfg);
	region_opts_init(&o->cfg);
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
		case 'w':
			if (o->nwrites == MAX_WRITES || !strchr(optarg, ':'))
				return usage("--write NAME:TEXT, at most 8 times");
			o->write[o->nwrites++] = optarg;
			break;
		case 's': o->sync = 1; break;
		case 'k': o->crash = 1; break;
		default: return usage("unknown option");
		}
	}
	if (!o->dir)
		return usage("--dir is required");
	return 0;
}

/* Writes TEXT at offset 0 of NAME; one sync point of it if asked. */
static int write_file(mj_region *r, const struct opts *o, const char *w)
{
	char name[256];
	const char *colon = strchr(w, ':'), *text = colon + 1;
	snprintf(name, sizeof(name), "%.*s", (int)(colon - w), w);
	mj_file *f;
	uint64_t len = strlen(text);
	int rc = mj_file_open(r, name, MJ_O_CREATE, &f);
	if (rc)
		return rc;
	if (mj_file_size(f) < len)
		rc = mj_file_resize(f, len);
	if (!rc)
		memcpy(mj_file_base(f), text, len);
	if (!rc && o->sync)
		rc = mj_msync(r, f, 0, len, 0);
	if (o->crash) /* the handle stays open, as in a process that dies */
		return rc;
	int crc = mj_file_close(f);
	return rc ? rc : crc;
}

static int fail(const char *what, int rc)
{
	fprintf(stderr, "mj_primary: %s: %s\n", what, mj_strerror(rc));
	return -rc > 0 && -rc < 256 ? -rc : 1;
}

int main(int argc, char **argv)
{
	struct opts o = {0};
	int rc = parse(argc, argv, &o);
	if (rc)
		return rc;
	setvbuf(stdout, NULL, _IOLBF, 0);
	mj_region *r;
	if ((rc = mj_region_open(o.dir, &o.cfg, &r)))
		return fail("open", rc);
	for (int i = 0; i < o.nwrites; i++)
		if ((rc = write_file(r, &o, o.write[i])))
			return fail("write", rc);
	if (!o.nwrites && o.sync && (rc = mj_gmsync(r, NULL, 0, 0)))
		return fail("sync", rc);
	if (o.sync)
		printf("synced\n");
	if (o.crash)
		raise(SIGKILL);
	struct mj_status st;
	mj_region_status(r, &st);
	if ((rc = mj_region_close(r)))
		return fail("close", rc);
	printf("full_copies %llu catchups %llu\n",
	       (unsigned long long)st.full_copies,
	       (unsigned long long)st.catchups);
	return 0;
}
