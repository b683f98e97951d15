/*
 * monitors.h: monitors in the runtime. A monitor is a schedule whose action
 * is CreateMonitor (runtime/scheduler.c's table calls monitors_check and
 * monitors_fire); each firing, or POST .../schedules/{name}/trigger, makes a
 * job of kind monitor ({ws}/jobs/{name}, state/job.h) that a thread of this
 * module runs (monrun.h): Queued, Preparing (reading the data), Running,
 * Finalizing, then Completed (its properties say whether a signal failed)
 * or Failed (bad data: the error says which and why). The results are kept
 * in HOME/jobs/{name}/results.json and shown in the job's outputs.
 *
 * A run whose signals fail raises an alert (alerts.h): webhooks, and a line
 * in the deployment's log and the runtime's event log.
 *
 * Live drift (drift.h) takes its reference from the monitors: after each
 * change of schedules (monitors_sync) the references of the monitors that
 * target a deployment are read (on this module's thread) and handed over.
 *
 * Threads: every function is thread-safe; monitors_fire blocks on the
 * workspace lock (control_change), as the scheduler's thread may.
 */
#ifndef RUNTIME_MONITOR_MONITORS_H
#define RUNTIME_MONITOR_MONITORS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "state/dynbuf.h"
#include "state/error.h"
#include "state/job.h"

struct runtime;
struct monitors;
struct codec_ctx;

struct monitors *monitors_new(struct runtime *rt);
/* Starts the run thread, queues the monitor runs a restart interrupted and
 * reads the live references. 0, or -1 with err. */
int monitors_start(struct monitors *m, struct error *err);
/* Stops the threads, the live drift ticker among them (a run in progress is
 * abandoned and resumes at the next start; alerts queued are dropped). Live
 * drift's state lives on until monitors_free, so the collector's writer,
 * which stops after the fleet, may still hand rows over (they are staged and
 * never counted). NULL is a no-op. */
void monitors_stop(struct monitors *m);
/* Stops if needed, frees. NULL is a no-op. */
void monitors_free(struct monitors *m);

/* The scheduler's CreateMonitor action: the definition is well formed. */
int monitors_check(const cJSON *action, struct error *err);
/* Makes and queues a run of schedule NAME; its job name into buf. */
int monitors_fire(struct runtime *rt, const char *name, const cJSON *action, char *buf,
		  size_t len, struct error *err);
/* The job was asked to cancel (its status is stored): stop it. */
void monitors_cancel(struct monitors *m, const char *job);
/* A monitor job as the API shows it: the job, its results in its outputs. */
cJSON *monitors_job_json(struct runtime *rt, const struct codec_ctx *codec, const struct job *j);
/* Schedules changed: re-read the live references (in the background). */
void monitors_sync(struct monitors *m);

/* Every monitor's last run and alerts, and live drift, for the console:
 * GET /v1/monitors?endpoint=EP[&deployment=D]. */
cJSON *monitors_status(struct monitors *m, const char *ep, const char *dep);
/* Prometheus: mldeck_feature_drift, mldeck_data_quality, webhook deliveries. */
void monitors_prometheus(struct monitors *m, struct dynbuf *b);

/* The collector's callback (collector.h; ctx is the monitors): rows for
 * live drift. Writer thread. */
struct collector_tap;
struct cell;
void monitors_rows(void *ctx, struct collector_tap *t, const char *collection,
		   const struct cell *cells, size_t n);

#endif
