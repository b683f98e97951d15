/*
 * thread.h: naming the monitoring's background threads (the collector's
 * writer, the monitors' runner, the alerts' sender).
 */
#ifndef RUNTIME_MONITOR_THREAD_H
#define RUNTIME_MONITOR_THREAD_H

#include <sys/prctl.h>

/* Names the calling thread (at most 15 characters) for top -H and
 * /proc/PID/task/TID/comm, where bench/monitor.py reads its CPU time. */
static inline void thread_name(const char *name)
{
	prctl(PR_SET_NAME, name, 0, 0, 0);
}

#endif
