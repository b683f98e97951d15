/*
 * clock.h: deadlines for pthread_cond_timedwait. Every condition here uses
 * the default clock (CLOCK_REALTIME), so a wait of ms milliseconds is a
 * CLOCK_REALTIME time ms from now; one function says how, for every waiter.
 */
#ifndef STATE_CLOCK_H
#define STATE_CLOCK_H

#include <time.h>

/* The CLOCK_REALTIME time ms (>= 0) from now, normalized. */
struct timespec clock_deadline(long ms);

#endif
