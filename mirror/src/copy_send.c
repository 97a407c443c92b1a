/*
 * copy_send.c: a full copy of the mirror's replica to one backup, on the
 * backup's link (forward.c says when). The frames are those of a
 * primary's full copy (repl/src/copy.c, FORMAT.md): COPY_BEGIN with the
 * byte count, then every directory and file as COPY frames (MKDIR;
 * CREATE, SETSIZE, WRITE), then COPY_DONE with the seq the copy stands
 * at; the backup stages it and swaps it in whole at COPY_DONE (copy.c and
 * copy_recv.c on its side), so its replica is its old one or the new one.
 *
 * The copy stands at one batch: applying is paused while it is read (the
 * checkpointer and receivers see m->applying), so the replica cannot move
 * under it; batches received meanwhile wait in the log, which must hold
 * them, and the backup's cursor holds every batch after the copy's seq.
 */
#include "mirror.h"
#include "util.h"

#include <dirent.h>
#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <sys/stat.h>
#include <unistd.h>

#define COPY_FRAME_MAX (1ull << 20) /* bytes per COPY frame at most */
#define COPY_DEPTH_MAX 32

struct copy_out {
	struct mjl_link *link;
	const int *quit;          /* atomic: set when the mirror stops */
	const int *yield;         /* atomic: someone waits to apply */
	unsigned char *buf;
	uint64_t cap, pos;        /* the frame being filled: [0, pos) */
	uint32_t nrec;
	uint64_t epoch, cluster;
	uint64_t bytes;           /* file bytes sent (or counted) */
	int counting;             /* only count the file bytes: the walk
	                             before COPY_BEGIN, which carries them */
};

/* Seals and sends the frame being filled, if it holds a record. */
static int flush(struct copy_out *o)
{
	if (!o->nrec)
		return 0;
	if (__atomic_load_n(o->quit, __ATOMIC_RELAXED) ||
	    __atomic_load_n(o->yield, __ATOMIC_RELAXED))
		return -ECANCELED; /* given up: tried again later */
	uint64_t len = o->pos + MJW_TRAILER_SIZE;
	mjw_put_hdr(o->buf, MJW_BATCH, MJW_F_COPY | MJW_F_LAST, o->nrec, 0,
	            o->epoch, 0, len, o->pos - MJW_HDR_SIZE);
	((struct mjw_hdr *)(void *)o->buf)->cluster = o->cluster;
	mjw_seal(o->buf);
	o->pos = MJW_HDR_SIZE;
	o->nrec = 0;
	return mjl_send(o->link, o->buf, len);
}

/* Room for a record of name and dlen data bytes; its place in *at. */
static int room(struct copy_out *o, const char *name, uint64_t dlen,
                unsigned char **at)
{
	uint64_t need = mjw_rec_size(strlen(name), 0, dlen);
	if (o->pos + need + MJW_TRAILER_SIZE > o->cap) {
		int rc = flush(o);
		if (rc)
			return rc;
	}
	*at = o->buf + o->pos;
	o->pos += need;
	o->nrec++;
	return 0;
}

static int add_rec(struct copy_out *o, enum mjw_rec_type type,
                   const char *name, uint64_t len)
{
	unsigned char *at;
	if (o->counting)
		return 0;
	int rc = room(o, name, 0, &at);
	if (!rc)
		mjw_put_rec(at, type, name, NULL, 0, len, NULL, 0);
	return rc;
}

/* A file: created, sized, then its bytes read straight into frames. */
static int copy_file(struct copy_out *o, int fd, const char *name)
{
	struct stat st;
	if (fstat(fd, &st))
		return -errno;
	uint64_t size = (uint64_t)st.st_size, chunk;
	if (o->counting) {
		o->bytes += size;
		return 0;
	}
	int rc = add_rec(o, MJW_REC_CREATE, name, 0);
	if (!rc)
		rc = add_rec(o, MJW_REC_SETSIZE, name, size);
	chunk = o->cap - MJW_OVERHEAD - mjw_rec_size(strlen(name), 0, 0) - 8;
	for (uint64_t off = 0; off < size && !rc; off += chunk) {
		uint64_t n = size - off < chunk ? size - off : chunk;
		unsigned char *at;
		if ((rc = room(o, name, n, &at)))
			break;
		mjw_put_rec(at, MJW_REC_WRITE, name, NULL, off, n, NULL, n);
		unsigned char *data = at + MJW_REC_SIZE + strlen(name);
		ssize_t got = pread(fd, data, n, (off_t)off);
		if (got != (ssize_t)n)
			rc = got < 0 ? -errno : -EIO; /* the file shrank: no copy */
		o->bytes += n;
	}
	return rc;
}

/* dir (relative, "" for the top) and everything below it. */
static int copy_dir(struct copy_out *o, int top, const char *rel, int depth)
{
	if (depth > COPY_DEPTH_MAX)
		return -ELOOP;
	int fd = openat(top, rel[0] ? rel : ".",
	                O_RDONLY | O_DIRECTORY | O_CLOEXEC | O_NOFOLLOW);
	DIR *d = fd >= 0 ? fdopendir(fd) : NULL;
	if (!d) {
		int e = errno;
		if (fd >= 0)
			close(fd);
		return -e;
	}
	int rc = 0;
	struct dirent *de;
	while (!rc && (de = readdir(d)) != NULL) {
		char name[MJW_NAME_MAX + 2];
		struct stat st;
		if (!strcmp(de->d_name, ".") || !strcmp(de->d_name, "..") ||
		    (!rel[0] && !strncmp(de->d_name, MJW_NODE_FILE,
		                         sizeof(MJW_NODE_FILE) - 1)))
			continue;
		if (snprintf(name, sizeof(name), "%s%s%s", rel, rel[0] ? "/" : "",
		             de->d_name) > (int)MJW_NAME_MAX) {
			rc = -ENAMETOOLONG;
			break;
		}
		if (fstatat(top, name, &st, AT_SYMLINK_NOFOLLOW)) {
			rc = -errno;
		} else if (S_ISDIR(st.st_mode)) {
			rc = add_rec(o, MJW_REC_MKDIR, name, 0);
			if (!rc)
				rc = copy_dir(o, top, name, depth + 1);
		} else if (S_ISREG(st.st_mode)) {
			int f = openat(top, name, O_RDONLY | O_CLOEXEC | O_NOFOLLOW);
			rc = f < 0 ? -errno : copy_file(o, f, name);
			if (f >= 0)
				close(f);
		}
	}
	closedir(d);
	return rc;
}

/* The whole replica under data_dir, as COPY frames. */
static int copy_tree(struct copy_out *o, const char *data_dir)
{
	int top = open(data_dir, O_RDONLY | O_DIRECTORY | O_CLOEXEC);
	if (top < 0)
		return -errno;
	int rc = copy_dir(o, top, "", 0);
	close(top);
	return rc ? rc : flush(o);
}

int copy_send(const char *data_dir, const struct copy_to *t, char *msg,
              size_t len)
{
	struct mjl_link *link = t->link;
	uint64_t seq = t->seq;
	struct copy_out o = {
		.link = link, .quit = t->quit, .yield = t->yield,
		.pos = MJW_HDR_SIZE,
		.cap = t->slot < COPY_FRAME_MAX ? t->slot : COPY_FRAME_MAX,
		.epoch = t->epoch, .cluster = t->cluster,
	};
	msg[0] = '\0';
	if (!(o.buf = malloc(o.cap)))
		return snprintf(msg, len, "out of memory"), -ENOMEM;
	/* The byte count first, for the backup's progress (its status). */
	struct copy_out count = {.counting = 1};
	int rc = copy_tree(&count, data_dir);
	if (rc)
		snprintf(msg, len, "reading the replica for the copy: %s",
		         strerror(-rc));
	if (!rc)
		rc = mjl_send_ctrl_link(link, MJW_COPY_BEGIN, count.bytes);
	if (!rc)
		rc = mjl_wait_ack(link, 0, msg, len);
	if (!rc && (rc = copy_tree(&o, data_dir)) && !msg[0])
		snprintf(msg, len, "reading the replica for the copy: %s",
		         strerror(-rc));
	if (!rc)
		rc = mjl_send_ctrl_link(link, MJW_COPY_DONE, seq);
	if (!rc)
		rc = mjl_wait_ack(link, seq, msg, len);
	if (rc && !msg[0])
		snprintf(msg, len, "full copy: %s", strerror(-rc));
	free(o.buf);
	return rc;
}
