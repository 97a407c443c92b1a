/*
 * metrics.h: the Prometheus endpoint (--metrics ADDR:PORT). GET /metrics
 * answers status.c's figures in the text exposition format 0.0.4, served
 * by libmicrohttpd on a thread of its own.
 */
#ifndef MIRROR_METRICS_H
#define MIRROR_METRICS_H

struct metrics;
struct mirror;

/*
 * Binds and listens on addr (HOST:PORT, port 0: any) now, so that a bad
 * address or a port that cannot be bound fails the start before DIR is
 * touched; a scrape waits in the backlog until metrics_start. 0 with *out,
 * or a negative errno with *why.
 */
int metrics_open(const char *addr, struct metrics **out, const char **why);
/* HOST:PORT as bound (the port 0 asked for made real). */
const char *metrics_addr(const struct metrics *x);
/* Serves m's figures; the mirror must be ready. 0 or a negative errno
 * with *why. */
int metrics_start(struct metrics *x, struct mirror *m, const char **why);
/* Stops serving (its thread ends), closes the socket, frees x (NULL:
 * nothing); before the mirror's state is torn down. */
void metrics_close(struct metrics *x);

#endif
