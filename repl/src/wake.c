/*
 * wake.c: who is woken when. A context switch costs tens of microseconds
 * on these machines, so an ack wakes only the sync points it made durable
 * (and one more to send the next batch if a connection is idle), not every
 * thread that waits.
 */
#include "internal.h"

#include <time.h>

void mj_wait_ms(mj_region *r, pthread_cond_t *cv, int ms)
{
	struct timespec ts;
	clock_gettime(CLOCK_MONOTONIC, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (long)(ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	pthread_cond_timedwait(cv, &r->mu, &ts);
}

static bool work_and_idle_conn(mj_region *r)
{
	if (!mj_queue_has_work(r->q))
		return false;
	for (int i = 0; i < r->nconns; i++)
		if (r->conns[i].state == CONN_UP)
			return true;
	return false;
}

/*
 * Called with mu held after anything changed. all: a change every waiter
 * must see (failure, degrade, fence, reconnect); otherwise only the
 * waiters now durable, and one to ship if there is work and a connection.
 */
void mj_wake(mj_region *r, bool all)
{
	pthread_cond_broadcast(&r->cv);
	bool shipper = !all && work_and_idle_conn(r);
	for (struct mj_waiter *w = r->waiters; w; w = w->next) {
		if (all || w->seq <= mj_queue_durable(r->q)) {
			pthread_cond_signal(&w->cv);
		} else if (shipper) {
			pthread_cond_signal(&w->cv);
			shipper = false;
		}
	}
}
