/*
 * screens/batchview.h: what the Batch endpoints, Jobs, Job and Schedules
 * screens share: a job's figures from its resource (the runtime's live
 * itemsPerSecond and etaSeconds included), a progress bar, the cancel
 * question (focused on No) and a schedule's trigger in words. Console
 * thread only.
 */
#ifndef UI_CONSOLE_SCREENS_BATCHVIEW_H
#define UI_CONSOLE_SCREENS_BATCHVIEW_H

#include <stddef.h>

#include "ui/console/screen.h"

struct app;

/* A job's figures; -1 where the resource does not say. */
struct batch_fig {
	const char *status; /* "" when absent */
	long total, done, failed_mb;
	long items, ok, bad;
	long rate, eta; /* items per second, seconds left (runtime only) */
};

/* properties.properties[key] of a job (keys hold dots: "azureml.endpointname"),
 * "" when absent. */
const char *batch_job_prop(const cJSON *job, const char *key);
void batch_fig_of(const cJSON *job, struct batch_fig *f);
/* Queued, Preparing, Running, Finalizing, CancelRequested, ... (not ended). */
int batch_status_active(const char *status);
/* "███████░░░░░░░ 12/40" (# and . without UTF-8) in w columns into buf
 * (4 * w + 48 bytes); "" when total is unknown. */
void batch_bar(const struct app *a, char *buf, size_t len, long done, long total, int w);
/* That bar in r (THEME_SLIDER, or the cursor's style). */
void batch_draw_bar(struct app *a, struct rect r, long done, long total, int cursor);
/* "0:07", "1:02:03", "" when eta < 0. */
void batch_eta(char *buf, size_t len, long eta);
/* "cron 15 3 * * 1", "every 2 Hour at 9:30", "every 1 Week on Monday". */
void batch_trigger(const cJSON *schedule, char *buf, size_t len);
/* "2026-11-30 11:15" from "2026-11-30T11:15:00Z" ("" stays ""). */
void batch_time(char *buf, size_t len, const char *iso);
/* Asks to cancel job NAME (No focused, Esc is No); Yes posts jobs/NAME/cancel
 * and reloads the active screen. */
void batch_cancel(struct app *a, const char *name, const char *status);

#endif
