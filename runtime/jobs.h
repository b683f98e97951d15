/*
 * jobs.h: the runtime's batch jobs: a queue in arrival order, at most
 * max_running jobs running at once (each on its own thread, jobrun.h), at
 * most max_queued waiting (a new job takes its place with jobs_reserve before
 * it is stored, so a flood of invocations is refused, not stored), their live
 * figures, cancellation, and resuming after a restart.
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

struct jobs *jobs_new(struct runtime *rt, int max_running, int max_queued);
/* At start: every job the workspace holds as active is sent back to Queued
 * (a CancelRequested one becomes Canceled) and queued, oldest first. */
void jobs_resume(struct jobs *j);
/* Takes a place in the queue for a job about to be stored Queued: 0, or -1
 * when max_queued jobs wait already (the caller answers 429). The place goes
 * to jobs_submit(reserved = 1), or back with jobs_unreserve when the job is
 * not stored. */
int jobs_reserve(struct jobs *j);
void jobs_unreserve(struct jobs *j);
/* Queues job NAME (stored as Queued by the caller), in the place reserved
 * (reserved = 1) or beyond the bound (resumed jobs). 0, or -1 when stopping. */
int jobs_submit(struct jobs *j, const char *name, int reserved);
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
