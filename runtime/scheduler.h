/*
 * scheduler.h: fires the workspace's schedules (state/schedule.h says when).
 *
 * One thread sleeps until the earliest next fire time of the enabled
 * schedules (or a change: scheduler_wake), fires what is due, and appends one
 * record per fire to the schedule's record log ({"due", "at", "submission"}),
 * so a restart knows what already ran.
 *
 * Missed runs: when the runtime was down over one or more fire times, the
 * schedule fires ONCE at start for all of them (the latest one missed), then
 * keeps its cadence; the log names how many were coalesced. Why: a batch
 * schedule scores the data as it is now, so running a week's missed hourly
 * jobs back to back would score the same data many times and delay the next
 * run, while skipping them would silently lose the run the user counts on.
 *
 * Actions are a table (scheduler.c): InvokeBatchEndpoint makes a batch job
 * (invoke_start); a new action (CreateMonitor) is one line with a check and
 * a fire function. Times are computed in the schedule's time zone, read from
 * /usr/share/zoneinfo (Windows names mapped, state/tz.h).
 *
 * Threads: every call is thread-safe; scheduler_check_action and
 * scheduler_next take no lock of the runtime's.
 */
#ifndef RUNTIME_SCHEDULER_H
#define RUNTIME_SCHEDULER_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "state/error.h"
#include "state/schedule.h"

struct runtime;
struct scheduler;

struct scheduler *scheduler_new(struct runtime *rt);
/* Reads the last fire of every schedule from the store and starts the thread
 * (missed runs fire now). 0, or -1 with err. */
int scheduler_start(struct scheduler *s, struct error *err);
/* A schedule changed (created, updated, deleted): look again. */
void scheduler_wake(struct scheduler *s);
/* Stops the thread (a fire in progress completes), frees. NULL is a no-op. */
void scheduler_free(struct scheduler *s);

/* Whether an action object (JSON text) of type TYPE can run: the type is in
 * the table and its definition is well formed. 0, or -1 with 400. */
int scheduler_check_action(const char *type, const char *action, struct error *err);
/* The time zone a trigger names exists here. 0, or -1 with 400. */
int scheduler_check_zone(struct scheduler *s, const struct trigger *t, struct error *err);
/* When sc fires next (UTC seconds), given what it already fired; 0, or -1
 * when it never fires again (or is disabled). */
int scheduler_next(struct scheduler *s, const struct schedule *sc, int64_t *next);
/* Runs schedule NAME's action now (POST .../trigger), outside its cadence;
 * the submission (a job name) into buf, the action's type into type (of
 * SCHEDULE_ACTION_MAX bytes). 0, or -1 with err. */
int scheduler_trigger(struct scheduler *s, const char *name, int64_t when, char *buf,
		      size_t len, char *type, struct error *err);

#endif
