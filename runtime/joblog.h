/*
 * joblog.h: a batch job's log files, laid out as Azure's batch jobs lay theirs
 * out (docs/batch.md), under HOME/jobs/NAME/logs/:
 *
 *   job_progress_overview.txt          one line per event: mini-batches created,
 *                                      processed so far, the result
 *   user/error.txt                     one line per failed item or attempt
 *                                      (file, row, reason; never file content),
 *                                      at most JOBLOG_ERRORS_MAX lines, then a count
 *   sys/job_report/processed_mini-batches.csv
 *                                      Azure's columns, one row per mini-batch
 *
 * Appends are whole lines and thread-safe (one lock per job log); a write
 * failure (a full disk) is never fatal to the job: the store's records are
 * the job's truth, the logs are for people.
 */
#ifndef RUNTIME_JOBLOG_H
#define RUNTIME_JOBLOG_H

#include <stdint.h>

#include "state/error.h"

#define JOBLOG_ERRORS_MAX 10000

/* A processed_mini-batches.csv row. */
struct joblog_batch {
	int id;
	int picked;         /* attempts */
	double start;       /* unix seconds */
	int64_t total, succeeded, failed;
	double elapsed;     /* seconds */
	const char *status; /* RUN_DONE, RUN_TIMEOUT, RUN_EXCEPTION, ... */
	const char *category; /* "" or UserError / SystemError */
	const char *message;
	const char *detail; /* the mini-batch's files, ';'-separated */
};

struct joblog;

/* Opens (creates) the logs under dir (HOME/jobs/NAME/logs); appends to what
 * a previous run of the job left. NULL with err. */
struct joblog *joblog_open(const char *dir, struct error *err);
void joblog_close(struct joblog *l); /* NULL is a no-op */

void joblog_progress(struct joblog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
void joblog_error(struct joblog *l, const char *fmt, ...) __attribute__((format(printf, 2, 3)));
/* Appends a row to processed_mini-batches.csv (writing its header first when new). */
void joblog_batch(struct joblog *l, const struct joblog_batch *b);

#endif
