/*
 * internal.h: the WiredTiger file system of libmojim_wt.so.
 *
 * The region is the WiredTiger home directory: every file WiredTiger opens
 * below it is the region file of the same relative name. Writes go into
 * the mapping and are remembered as dirty ranges; fh_sync turns them into
 * one mj_gmsync, the sync point that ships them to the mirror. Ranges
 * nobody syncs are shipped at the file's last close and in the background
 * (writeback.c).
 *
 * Error codes inside the extension are positive: an errno, or one of
 * libmojim's MJ_E* codes (mj_strerror names both). Only the methods
 * WiredTiger calls turn them into an errno, on the way out (wtcall.c).
 */
#ifndef MOJIM_WT_INTERNAL_H
#define MOJIM_WT_INTERNAL_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdbool.h>
#include <stdint.h>
#include <time.h>
#include <wiredtiger.h>
#include <wiredtiger_ext.h>

#include "mojim.h"

/* The entry points WiredTiger looks up with dlsym. */
#define MWT_EXPORT __attribute__((visibility("default")))

/* writeback_ms when the configuration does not set it */
#define MWT_WRITEBACK_MS_DEFAULT 5000

/* One open region file, shared by every WiredTiger handle on it. */
struct mwt_file {
	struct mwt_file *next;
	mj_file *mf;
	int refs;    /* libmojim handles we hold on mf: one per WiredTiger
	                handle, one per mwt_file_hold; under fs->mu */
	int handles; /* WiredTiger handles; under fs->mu */
	pthread_mutex_t mu;           /* size changes, the dirty set */
	pthread_mutex_t sync_mu;      /* one sync point of this file at a time */
	struct mj_rangeset dirty;     /* written since the last sync */
	/* CLOCK_MONOTONIC ns of the oldest write in dirty, 0 if clean;
	 * written under mu, read by the writeback thread without it */
	_Atomic uint64_t dirty_since_ns;
};

struct mwt_writeback;

struct mwt_fs {
	WT_FILE_SYSTEM iface; /* first: WiredTiger hands this pointer back */
	WT_EXTENSION_API *api;
	mj_region *region;
	char *home;      /* as WiredTiger spells it (get_home) */
	char *realhome;  /* canonical, for absolute paths */
	pthread_mutex_t mu; /* the files list */
	pthread_mutex_t log_sync_mu; /* one sync of a log file at a time */
	struct mwt_file *files;
	char **dirs; /* subdirectories announced to the mirror; under mu */
	int ndirs, capdirs;
	struct mj_config cfg;
	char *mirror;
	char *keyfile;
	char *tls_cert, *tls_key, *tls_ca; /* tls=on's files */
	int writeback_ms; /* ship ranges dirty this long; 0: never */
	int test_old_log_sync_delay_ms; /* tests only: see sync.c */
	struct mwt_writeback *writeback; /* NULL: not running */
	/* CLOCK_MONOTONIC ns of the oldest namespace change (create, resize,
	 * rename, remove, mkdir) no sync point has carried yet, 0 if none */
	_Atomic uint64_t ns_since_ns;
	/* a close's sync point timed out on a lost mirror (sync.c) */
	atomic_bool close_timed_out;
	bool bad_key; /* config: a key or value was refused */
};

struct mwt_fh {
	WT_FILE_HANDLE iface; /* first */
	struct mwt_fs *fs;
	struct mwt_file *file; /* NULL: a directory handle */
	char *path;            /* the path WiredTiger gave, for fh_lock */
	int lock_fd;           /* opened on the first fh_lock */
};

static inline uint64_t mwt_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000u + (uint64_t)ts.tv_nsec;
}

/*
 * wtcall.c: the boundary with WiredTiger. Every method WiredTiger calls
 * brackets its work with mwt_enter and mwt_leave, so that a message knows
 * whether its thread may use WiredTiger's message functions, and so that
 * every code returned is an errno.
 */
struct mwt_call {
	struct mwt_fs *fs;
	WT_SESSION *session;
	bool wt_safe; /* this thread may call WiredTiger's message API */
	const struct mwt_call *outer; /* a method called from a method */
};
void mwt_enter(struct mwt_call *call, struct mwt_fs *fs, WT_SESSION *s);
/* For wiredtiger_extension_init: the thread inside wiredtiger_open, whose
 * default session WiredTiger uses for a NULL session. */
void mwt_enter_open(struct mwt_call *call, struct mwt_fs *fs);
/* Ends the call; returns rc as an errno (WiredTiger's own codes pass). */
int mwt_leave(const struct mwt_call *call, int rc);
/* Reports an error (through WiredTiger if the thread may, else stderr)
 * and returns err. */
int mwt_err(struct mwt_fs *fs, int err, const char *fmt, ...)
	__attribute__((format(printf, 3, 4)));
/* The same for a message that is not an error. */
void mwt_note(struct mwt_fs *fs, const char *fmt, ...)
	__attribute__((format(printf, 2, 3)));
/* libmojim's log callback (arg: the mwt_fs). */
void mwt_log_from_mojim(void *arg, enum mj_log_level level, const char *msg);

/* extension.c */
int mwt_parse_config(WT_EXTENSION_API *api, WT_CONFIG_ARG *config,
                     struct mwt_fs *fs);
int mwt_fs_destroy(struct mwt_fs *fs);

/* path.c: WiredTiger path -> region-relative name ("" is the home). */
int mwt_path_init(struct mwt_fs *fs, const char *home);
int mwt_relname(struct mwt_fs *fs, const char *path, char **out);

/* fs.c */
void mwt_fs_setup(struct mwt_fs *fs);
int mwt_dirs_announce(struct mwt_fs *fs, const char *name, bool self);

/* fh.c */
int mwt_fh_open(struct mwt_fs *fs, const char *path, const char *name,
                bool is_dir, int mjflags, WT_FILE_HANDLE **out);

/* file.c: the shared per-file state */
int mwt_file_get(struct mwt_fs *fs, const char *name, int mjflags,
                 struct mwt_file **out);
void mwt_file_hold(struct mwt_file *f);
int mwt_file_put(struct mwt_fs *fs, struct mwt_file *f);
bool mwt_file_drop_handle(struct mwt_fs *fs, struct mwt_file *f);
int mwt_file_resize(struct mwt_fs *fs, struct mwt_file *f, uint64_t size);
int mwt_file_mark_dirty(struct mwt_file *f, uint64_t off, uint64_t end);

/* sync.c: sync points */
int mwt_gmsync(struct mwt_fs *fs, const struct mj_range *ranges, int n,
               int flags);
int mwt_sync_ns(struct mwt_fs *fs);
void mwt_ns_changed(struct mwt_fs *fs);
bool mwt_mirror_lost_under_block(struct mwt_fs *fs);
int mwt_file_sync(struct mwt_fs *fs, struct mwt_file *f);
int mwt_file_sync_at_close(struct mwt_fs *fs, struct mwt_file *f);
/* Every file dirty since cutoff_ns or earlier, one sync point each. */
struct mwt_dirty_sync {
	int synced;   /* files shipped */
	char *failed; /* the file whose sync point failed (malloc'd), or NULL */
};
int mwt_files_sync_dirty(struct mwt_fs *fs, uint64_t cutoff_ns, bool closing,
                         struct mwt_dirty_sync *out);
int mwt_sync_at_connection_close(struct mwt_fs *fs);

/* writeback.c */
int mwt_writeback_start(struct mwt_fs *fs);
void mwt_writeback_stop(struct mwt_fs *fs);

#endif
