/*
 * internal.h: the WiredTiger file system of libmojim_wt.so.
 *
 * The region is the WiredTiger home directory: every file WiredTiger opens
 * below it is the region file of the same relative name. Writes go into
 * the mapping and are remembered as dirty ranges; fh_sync turns them into
 * one mj_gmsync, the sync point that ships them to the mirror.
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
#include <wiredtiger.h>
#include <wiredtiger_ext.h>

#include "mojim.h"

/* The entry points WiredTiger looks up with dlsym. */
#define MWT_EXPORT __attribute__((visibility("default")))

/* One open region file, shared by every WiredTiger handle on it. */
struct mwt_file {
	struct mwt_file *next;
	mj_file *mf;
	int refs;                     /* handles; under the fs's mu */
	pthread_mutex_t mu;           /* size changes, the dirty set */
	pthread_mutex_t sync_mu;      /* one fh_sync of this file at a time */
	struct mj_rangeset dirty;     /* written since the last sync */
};

struct mwt_fs {
	WT_FILE_SYSTEM iface; /* first: WiredTiger hands this pointer back */
	WT_EXTENSION_API *api;
	mj_region *region;
	char *home;      /* as WiredTiger spells it (get_home) */
	char *realhome;  /* canonical, for absolute paths */
	pthread_mutex_t mu; /* the files list */
	struct mwt_file *files;
	char **dirs; /* subdirectories announced to the mirror; under mu */
	int ndirs, capdirs;
	struct mj_config cfg;
	char *mirror;
	bool bad_key; /* config: a key or value was refused */
};

struct mwt_fh {
	WT_FILE_HANDLE iface; /* first */
	struct mwt_fs *fs;
	struct mwt_file *file; /* NULL: a directory handle */
	char *path;            /* the path WiredTiger gave, for fh_lock */
	int lock_fd;           /* opened on the first fh_lock */
};

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
int mwt_sync_ns(struct mwt_fs *fs);
int mwt_dirs_announce(struct mwt_fs *fs, const char *name, bool self);

/* fh.c */
int mwt_fh_open(struct mwt_fs *fs, const char *path, const char *name,
                bool is_dir, int mjflags, WT_FILE_HANDLE **out);

/* file.c: the shared per-file state */
int mwt_file_get(struct mwt_fs *fs, const char *name, int mjflags,
                 struct mwt_file **out);
int mwt_file_put(struct mwt_fs *fs, struct mwt_file *f);
int mwt_file_resize(struct mwt_file *f, uint64_t size);
int mwt_file_sync(struct mwt_fs *fs, struct mwt_file *f);

#endif
