/*
 * monrun.h: one run of a monitor: every enabled signal computed over its
 * production and reference data, the results as JSON.
 *
 * For each signal, the reference is read first (dataset.h, into columns.h:
 * its types decide how production values cast), then the production window;
 * a dataset two signals share (same URI and window) is read once. A feature
 * is each reference column the signal's filter wants; its type is the
 * override, else Azure's rule (columns.h). For each threshold of the
 * feature's type the metric is computed and compared (stats_metric_passed).
 *
 * Results:
 *   {"time": "...", "status": "Passed" | "Failed",
 *    "signals": {NAME: {"signalType": "DataDrift", "status": "Passed" | "Failed",
 *                       "reference": {"uri", "rows"}, "production": {"uri", "rows",
 *                                     "windowStart", "windowEnd"},
 *                       "features": [{"feature", "dataType": "Numerical" | "Categorical",
 *                                     "metric", "value", "threshold", "passed"}, ...]}}}
 * value is null when a sample is empty (it then passes, as in Azure).
 *
 * Errors that stop a run (its job fails with the message): data that cannot
 * be read or resolved, a reference without rows, a FeatureSubset naming a
 * feature the reference lacks, production data with rows but no column in
 * common with the reference, a feature forced Numerical that holds strings.
 *
 * Blocking (file I/O, CPU): a thread of its own. `cancel` (may be NULL) is
 * polled between signals.
 */
#ifndef RUNTIME_MONITOR_MONRUN_H
#define RUNTIME_MONITOR_MONRUN_H

#include <stdatomic.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runtime/monitor/signals.h"
#include "state/error.h"

/* The local file or folder a data URI names (a data asset, a datastore path,
 * a path); heap string into *path. 0, or -1 with err. */
typedef int (*monrun_resolve_fn)(void *ctx, const char *uri, char **path, struct error *err);

struct monrun_config {
	const struct monitor_def *def;
	int64_t now;        /* the run's time (UTC seconds): rolling windows end there */
	const char *tmpdir; /* for columns.h's spill */
	monrun_resolve_fn resolve;
	void *ctx;
	atomic_int *cancel;
};

/* The results (caller frees), or NULL with err. *failed is set when a
 * signal failed its thresholds. */
cJSON *monrun_run(const struct monrun_config *cfg, int *failed, struct error *err);

#endif
