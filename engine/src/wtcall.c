/*
 * wtcall.c: the boundary with WiredTiger: who is calling, where messages
 * go, and which error codes WiredTiger is handed.
 *
 * WiredTiger's err_printf and msg_printf are safe only on a thread inside
 * a WiredTiger call, with that call's session. Given a NULL session they
 * use the connection's default session, whose scratch buffers belong to
 * whatever thread is inside wiredtiger_open or a connection method at the
 * time: called from another thread, they corrupt its memory. So every
 * WT_FILE_SYSTEM and WT_FILE_HANDLE method (and wiredtiger_extension_init,
 * on the thread inside wiredtiger_open) records its caller in a
 * thread-local for the length of the call, and a message is handed to
 * WiredTiger only from such a thread. Every other thread (libmojim's
 * supervisor and shippers, the writeback thread) writes to stderr at
 * once, one line prefixed "mojim: ".
 */
#include "internal.h"

#include <errno.h>
#include <stdarg.h>
#include <stdio.h>
#include <string.h>

/*
 * The innermost method of this extension this thread is in, or NULL.
 * initial-exec: in the static TLS block, not allocated per thread on first
 * use. Dynamic TLS of a library WiredTiger dlcloses at every connection
 * close crashes LeakSanitizer's exit-time scan (seen with GCC 12); one
 * pointer fits glibc's surplus for dlopened libraries many times over.
 */
static _Thread_local const struct mwt_call *current_call
	__attribute__((tls_model("initial-exec")));

void mwt_enter(struct mwt_call *call, struct mwt_fs *fs, WT_SESSION *s)
{
	/* WiredTiger always passes its session; a NULL one would mean the
	 * default session, which this thread need not own. */
	*call = (struct mwt_call){fs, s, s != NULL, current_call};
	current_call = call;
}

void mwt_enter_open(struct mwt_call *call, struct mwt_fs *fs)
{
	*call = (struct mwt_call){fs, NULL, true, current_call};
	current_call = call;
}

/*
 * libmojim's codes beyond errno, as errnos: WiredTiger prints an unknown
 * code as "Unknown error 10004" and may treat it as anything. The message
 * that goes with the error names the real cause (mj_strerror).
 */
static int mwt_errno(int rc)
{
	switch (rc) {
	case MJ_EFENCED:   /* a newer primary exists: this one may not write */
		return EPERM;
	case MJ_ECLUSTER:  /* the mirror refuses this database for good */
		return ECONNREFUSED;
	case MJ_EPROTO:
		return EPROTO;
	case MJ_EDEGRADED: /* status only; never meant to be returned */
		return EIO;
	default:
		/* an errno, 0, or one of WiredTiger's own (negative) codes */
		return rc >= MJ_EFENCED ? EIO : rc;
	}
}

int mwt_leave(const struct mwt_call *call, int rc)
{
	current_call = call->outer;
	return mwt_errno(rc);
}

/* The session through which this thread may report for fs, if any. */
static bool wiredtiger_may_report(struct mwt_fs *fs, WT_SESSION **s)
{
	const struct mwt_call *c = current_call;
	if (!c || c->fs != fs || !c->wt_safe)
		return false;
	*s = c->session;
	return true;
}

/* msg starts with "mojim" (every message of the extension does). */
static void report(struct mwt_fs *fs, bool error, const char *msg)
{
	WT_SESSION *s;
	if (!wiredtiger_may_report(fs, &s)) {
		fprintf(stderr, "%s\n", msg); /* stderr is unbuffered: a line */
		return;
	}
	if (error)
		(void)fs->api->err_printf(fs->api, s, "%s", msg);
	else
		(void)fs->api->msg_printf(fs->api, s, "%s", msg);
}

static void vreport(struct mwt_fs *fs, bool error, const char *fmt,
                    va_list ap)
{
	char msg[1024];
	vsnprintf(msg, sizeof(msg), fmt, ap);
	report(fs, error, msg);
}

int mwt_err(struct mwt_fs *fs, int err, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fs, true, fmt, ap);
	va_end(ap);
	return err;
}

void mwt_note(struct mwt_fs *fs, const char *fmt, ...)
{
	va_list ap;
	va_start(ap, fmt);
	vreport(fs, false, fmt, ap);
	va_end(ap);
}

/* libmojim's messages: the degrade warning, copies, lost connections. */
void mwt_log_from_mojim(void *arg, enum mj_log_level level, const char *msg)
{
	char line[600];
	snprintf(line, sizeof(line), "mojim: %s", msg);
	report(arg, level == MJ_LOG_ERROR, line);
}
