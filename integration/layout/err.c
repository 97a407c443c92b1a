/*
 * err.c: errors as values: a MongoDB code and a message in mdl_err,
 * which callers may leave NULL.
 */
#include "layout.h"

#include <stdarg.h>
#include <stdio.h>
#include <string.h>

int mdl_fail(mdl_err *e, int code, const char *fmt, ...)
{
	if (!e)
		return code;
	e->code = code;
	e->wt = 0;
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(e->msg, sizeof(e->msg), fmt, ap);
	va_end(ap);
	return code;
}

int mdl_wt(mdl_err *e, int rc, const char *what)
{
	int code = rc == WT_ROLLBACK ? MDL_EWRITE_CONFLICT : MDL_EINTERNAL;
	mdl_fail(e, code, "%s: %s", what, wiredtiger_strerror(rc));
	if (e)
		e->wt = rc;
	return code;
}
