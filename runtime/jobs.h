/*
 * jobs.h: the runtime's batch jobs: a queue in arrival order, at most
 * max_running jobs running at once (each on its own thread, jobrun.h), their
 * live figures, cancellation, and resuming after a restart.
 *
 * The workspace holds each job's status; this module holds only what runs.
 * Threads: every call is thread-safe; none blocks on a running job except
 * jobs_free.
 */
#ifndef RUNTIME_JOBS_H
#define RUNTIME_JOBS_H

#include "runtime/jobrun.h"

struct runtime;
struct jobs;

struct jobs *jobs_new(struct runtime *rt, int max_running);
/* At start: every job the workspace holds as active is sent back to Queued
 * (a CancelRequested one becomes Canceled) and queued, oldest first. */
void jobs_resume(struct jobs *j);
/* Queues job NAME (stored as Queued by the caller). 0, or -1 when stopping. */
int jobs_submit(struct jobs *j, const char *name);
/* Stops job NAME within a second: a queued one leaves the queue, a running
 * one finishes as Canceled. The caller has stored CancelRequested (or
 * Canceled for a queued job). */
void jobs_cancel(struct jobs *j, const char *name);
/* The live figures of running job NAME; 0, or -1 when it is not running. */
int jobs_live(struct jobs *j, const char *name, struct jobrun_figures *out);
/* Stops every running job without changing its stored status (it resumes at
 * the next start), waits for them, frees. NULL is a no-op. */
void jobs_free(struct jobs *j);

#endif
