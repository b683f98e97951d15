/*
 * jobrun.h: running one batch job from Queued to Completed, Failed or
 * Canceled (docs/batch.md), on the calling thread (jobs.c gives each running
 * job one), with instanceCount x maxConcurrencyPerInstance worker threads.
 *
 *   Preparing   the deployment and model are read from the workspace; the
 *               input is listed (a file, or a folder's files, sorted by name,
 *               not recursive, dot files skipped) once and the list is kept
 *               in HOME/jobs/NAME/inputs.list, so a resumed job sees the same
 *               files; mini-batches are miniBatchSize files of it in order.
 *   Running     each mini-batch is scored into HOME/jobs/NAME/parts/ID.part
 *               (a temporary renamed when complete), then one progress record
 *               is appended to the job's record log (store_append: the
 *               workspace row is not rewritten). A failed attempt (timeout,
 *               engine error) is retried up to maxRetries times; a mini-batch
 *               that fails every attempt counts all its items as failed.
 *               errorThreshold is checked after each mini-batch.
 *   Finalizing  (AppendRow) the parts are concatenated in mini-batch order
 *               into a temporary in the output folder, fsynced, and linked to
 *               outputFileName, which is never replaced: if it exists the job
 *               fails and nothing is written. A record notes the link.
 *
 * Durability: the records are the truth. A job resumed after a restart (kill
 * -9 included) skips every recorded mini-batch whose part is intact (size and
 * hash checked), redoes the rest, and merges only recorded parts: no row is
 * lost or written twice. A full disk fails the job with the system's reason;
 * what was recorded stays.
 *
 * Status changes go through control_change (one row); a status the job may no
 * longer take (it was canceled meanwhile) ends the run as Canceled.
 */
#ifndef RUNTIME_JOBRUN_H
#define RUNTIME_JOBRUN_H

#include <pthread.h>
#include <stdatomic.h>
#include <stdint.h>

struct runtime;

/* A running job's figures, for the job resource and the console. */
struct jobrun_figures {
	int64_t mini_batches, done, failed; /* failed: mini-batches that failed every try */
	int64_t items, ok, bad;
	int64_t started;       /* unix seconds the job first ran */
	int64_t done_at_start; /* mini-batches already done when this run began */
	int64_t run_items;     /* items this run processed (after a resume: since it) */
	uint64_t run_start_ns; /* monotonic start of this run */
};

/* Shared between the runner and jobs.c. */
struct jobrun_ctl {
	atomic_int halt;   /* non-zero: workers stop at once (any reason below) */
	atomic_int cancel; /* canceled: finish as Canceled */
	atomic_int stop;   /* the runtime stops: leave the stored status, resume later */
	pthread_mutex_t lock; /* guards fig */
	struct jobrun_figures fig;
};

/* Runs job NAME to its end (or until ctl->stop). Blocks. */
void jobrun_run(struct runtime *rt, const char *name, struct jobrun_ctl *ctl);

#endif
