/*
 * log.c: messages go to the configured callback, or stderr.
 */
#include "internal.h"

#include <stdarg.h>
#include <stdio.h>
#include <time.h>

uint64_t mj_now_ns(void)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	return (uint64_t)ts.tv_sec * 1000000000ull + (uint64_t)ts.tv_nsec;
}

void mj_log(mj_region *r, enum mj_log_level level, const char *fmt, ...)
{
	static const char *const names[] = {"error", "warning", "info"};
	char msg[512];
	va_list ap;
	va_start(ap, fmt);
	vsnprintf(msg, sizeof(msg), fmt, ap);
	va_end(ap);
	if (r && r->cfg.log)
		r->cfg.log(r->cfg.log_arg, level, msg);
	else
		fprintf(stderr, "libmojim %s: %s\n", names[level], msg);
}
