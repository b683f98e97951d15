/*
 * thread.h: small helpers for the monitoring's background threads (the
 * collector's writer, the monitors' runner, the alerts' sender).
 */
#ifndef RUNTIME_MONITOR_THREAD_H
#define RUNTIME_MONITOR_THREAD_H

#include <sys/prctl.h>
#include <time.h>

/* The CLOCK_REALTIME time ms from now, for pthread_cond_timedwait on a
 * condition with the default clock. */
static inline struct timespec wait_until_ms(long ms)
{
	struct timespec ts;

	clock_gettime(CLOCK_REALTIME, &ts);
	ts.tv_sec += ms / 1000;
	ts.tv_nsec += (ms % 1000) * 1000000L;
	if (ts.tv_nsec >= 1000000000L) {
		ts.tv_sec++;
		ts.tv_nsec -= 1000000000L;
	}
	return ts;
}

/* Names the calling thread (at most 15 characters) for top -H and
 * /proc/PID/task/TID/comm, where bench/monitor.py reads its CPU time. */
static inline void thread_name(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
