/*
 * node.c: who this primary is (DIR/.mojim-node, repl/wire/node.c) and
 * which copy is the truth when the region is opened again.
 *
 * The restart rule (README "Failures"): an opening sets clean = 0 before
 * anything else happens and a clean close sets it back to 1, so the next
 * opening knows how the last one ended:
 *   - clean: nothing to do; the mirror holds every sync point.
 *   - a crash on the same boot: the process died, its pmem did not. The
 *     local files hold everything, sync points the mirror never
 *     acknowledged and writes never synced among them, so they are the
 *     truth and the mirror is stale: it gets a full copy of them before
 *     the next sync point is acknowledged (resync.c).
 *   - a crash across a machine restart: the local files are only what
 *     reached the media. If that run's every acknowledged sync point was
 *     flushed locally (node.flushed: any mode but sync, or a sync-mode
 *     run that was degraded then), they are still the truth (a full copy,
 *     as above). Otherwise they may be torn and the mirror is the truth;
 *     the region refuses to open (-EUCLEAN) and says to promote it.
 */
#include "internal.h"

#include <dirent.h>
#include <errno.h>
#include <stdio.h>
#include <string.h>
#include <sys/random.h>
#include <unistd.h>

/* Anything in the directory besides our own node file? */
static bool dir_has_files(int dirfd)
{
	int fd = dup(dirfd);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		if (fd >= 0)
			close(fd);
		return true; /* cannot tell: assume so, a copy is safe */
	}
	rewinddir(d);
	bool found = false;
	struct dirent *e;
	while (!found && (e = readdir(d)) != NULL)
		found = strcmp(e->d_name, ".") && strcmp(e->d_name, "..") &&
		        strncmp(e->d_name, MJW_NODE_FILE,
		                sizeof(MJW_NODE_FILE) - 1);
	closedir(d);
	return found;
}

/* A new identity: a random cluster id, epoch 1. */
static int node_new(struct mjw_node *n)
{
	*n = (struct mjw_node){.epoch = 1, .clean = 1, .flushed = 1};
	while (n->cluster_id == 0)
		if (getrandom(&n->cluster_id, 8, 0) != 8)
			return -errno;
	return 0;
}

/*
 * The last opening did not close cleanly: decide which copy is the truth
 * (the comment at the top). Returns 0 (node.mirror_stale set when the
 * mirror must be brought to the local files) or -EUCLEAN.
 */
static int after_crash(mj_region *r, const char *boot)
{
	struct mjw_node *n = &r->node;
	bool same_boot = boot[0] && strcmp(boot, n->boot_id) == 0;
	if (!same_boot && !n->flushed) {
		mj_log(r, MJ_LOG_ERROR, "%s was not closed cleanly and the machine "
		       "has restarted since (boot %s, now %s): in sync mode the "
		       "local files are never flushed, so they may be torn, and "
		       "the mirror holds every acknowledged sync point. Promote "
		       "the mirror (mojimctl --dir MIRRORDIR promote) and open "
		       "its copy; do not use the files here", r->dir,
		       n->boot_id[0] ? n->boot_id : "unknown",
		       boot[0] ? boot : "unknown");
		return -EUCLEAN;
	}
	mj_log(r, MJ_LOG_WARN, "%s was not closed cleanly (%s): its local files "
	       "are the truth, and the mirror gets a full copy of them before "
	       "the next sync point is acknowledged", r->dir,
	       same_boot ? "the process died on this boot"
	                 : "the machine restarted; that run flushed every sync "
	                   "point locally");
	n->mirror_stale = 1;
	return 0;
}

int mj_node_init(mj_region *r)
{
	char boot[MJW_BOOT_ID_MAX + 1];
	r->had_files = dir_has_files(r->dirfd);
	int rc = mjw_node_load(r->dirfd, &r->node);
	if (rc == -EINVAL) {
		mj_log(r, MJ_LOG_ERROR, "%s/%s is damaged: remove it only if this "
		       "directory is not a promoted copy", r->dir, MJW_NODE_FILE);
		return rc;
	}
	if (rc == -ENOENT)
		rc = node_new(&r->node);
	if (rc)
		return rc;
	mjw_boot_id(boot, sizeof(boot));
	if (!r->node.clean && (rc = after_crash(r, boot)))
		return rc;
	if (r->cfg.epoch > r->node.epoch) {
		r->node.epoch = r->cfg.epoch;
		r->node.incarnation = 0; /* counted within an epoch */
	}
	r->node.incarnation++;
	/* Unreplicated, nothing reaches the mirror: the next one needs all. */
	if (r->cfg.mode == MJ_MODE_UNREPLICATED)
		r->node.mirror_stale = 1;
	r->node.clean = 0;
	r->node.flushed = r->cfg.mode != MJ_MODE_SYNC;
	atomic_store(&r->flush_local, r->node.flushed);
	snprintf(r->node.boot_id, sizeof(r->node.boot_id), "%s", boot);
	if ((rc = mjw_node_store(r->dirfd, &r->node))) {
		mj_log(r, MJ_LOG_ERROR, "cannot write %s/%s: %s", r->dir,
		       MJW_NODE_FILE, mj_strerror(rc));
		return rc;
	}
	r->incarnation = r->node.incarnation;
	r->cluster = r->node.cluster_id;
	r->cfg.epoch = r->node.epoch;
	r->st.epoch = r->node.epoch;
	r->st.cluster_id = r->cluster;
	return 0;
}

/*
 * The in-memory flag always holds what is true; a store that fails is
 * reported and tried again by the next store of the node. Nothing is lost
 * meanwhile: a crash leaves clean = 0, which makes the next opening copy
 * everything anyway, and a clean close stores the flag again (or, if it
 * cannot, does not mark the region clean).
 */
int mj_node_set_stale(mj_region *r, bool stale)
{
	if (r->node.mirror_stale == (int)stale)
		return 0;
	r->node.mirror_stale = stale;
	int rc = mjw_node_store(r->dirfd, &r->node);
	if (rc)
		mj_log(r, MJ_LOG_ERROR, "cannot record in %s/%s that the mirror is "
		       "%s: %s", r->dir, MJW_NODE_FILE, stale ? "stale" : "in sync",
		       mj_strerror(rc));
	return rc;
}

bool mj_caught_up(const mj_region *r)
{
	return !r->track.active && !r->need_copy && !r->degraded &&
	       !r->writes_lost && mj_queue_durable(r->q) >= r->track.end_seq;
}

int mj_node_mark_clean(mj_region *r)
{
	/* Whatever the mirror still lacks must be known at the next open: a
	 * held batch among it, which a close that found the region degraded
	 * leaves behind if a copy ended the degraded state while the close was
	 * stopping the threads (test_close_resync_mt), and namespace records
	 * no sync point carried. */
	if (!mj_caught_up(r) || r->settle_pending || mj_queue_held(r->q) ||
	    r->pending_ns.len)
		r->node.mirror_stale = 1;
	r->node.clean = 1;
	int rc = mjw_node_store(r->dirfd, &r->node);
	if (rc) {
		r->node.clean = 0;
		mj_log(r, MJ_LOG_ERROR, "cannot record in %s/%s that the region "
		       "was closed cleanly (the next opening will copy it all to "
		       "the mirror): %s", r->dir, MJW_NODE_FILE, mj_strerror(rc));
	}
	return rc;
}

/*
 * node.flushed says whether the local files hold every acknowledged sync
 * point durably, so it must never say so when they do not: it is set
 * once the degrade flush is done (from then on every sync point flushes),
 * and cleared, in sync mode, before the first sync point that does not
 * flush; if that store fails the region keeps flushing locally, which is
 * what the file still says.
 */
void mj_node_set_flushed(mj_region *r, bool flushed)
{
	if (!flushed && r->cfg.mode != MJ_MODE_SYNC)
		return;
	if (r->node.flushed == (int)flushed)
		return;
	r->node.flushed = flushed;
	if (flushed)
		atomic_store(&r->flush_local, true);
	int rc = mjw_node_store(r->dirfd, &r->node);
	if (rc && !flushed) {
		r->node.flushed = 1;
		mj_log(r, MJ_LOG_ERROR, "cannot record in %s/%s that sync points "
		       "are no longer flushed locally (%s): they still are",
		       r->dir, MJW_NODE_FILE, mj_strerror(rc));
		return;
	}
	if (rc)
		mj_log(r, MJ_LOG_ERROR, "cannot record in %s/%s that sync points "
		       "are flushed locally: %s", r->dir, MJW_NODE_FILE,
		       mj_strerror(rc));
	if (!flushed)
		atomic_store(&r->flush_local, false);
}
