/*
 * drift.h: live drift, beside the scheduled runs: the last DRIFT_ROWS rows
 * (or fewer, DRIFT_MAX_AGE old at most) that a deployment's collector wrote
 * are compared with a monitor's reference once a second, so the console
 * shows drift building up as it happens.
 *
 * Cheap by construction: the rows arrive already parsed on the collector's
 * writer thread (never on a request's), each value is stored as one float in
 * a ring; once a second each feature's window is binned against its
 * reference sketch (DRIFT_BINS bins at the reference's quantiles, exact
 * cumulative counts at their edges, min, max and standard deviation; or the
 * reference's category counts) and the metric computed from the bins:
 *  - normalized Wasserstein: the area between the two distribution functions,
 *    each taken as linear inside a bin, plus the window's mass beyond the
 *    reference's range (exact), over max(sd, 0.001);
 *  - KS: the largest gap of the distribution functions at the bin edges,
 *    p-value by stats_ks_pvalue; JS distance and PSI over the bins;
 *  - categorical metrics: exact over the window's counts (at most DRIFT_NEW
 *    categories the reference lacks are told apart, the rest counted as one);
 *  - data quality: null, data type error and out-of-bounds rates of the
 *    window, as the scheduled runs count them.
 * A drift metric waits for DRIFT_MIN_ROWS values in the window: fewer say
 * little. Rows drawn from the reference's own (normal) distribution pass
 * Azure's default threshold (normalized W1 0.1) in 69 % of windows of 100
 * rows, 30 % of 216, 5 % of 500 and 0.7 % of 1,000 (600 draws each against
 * 4,000 reference rows), and the demo's Monitor screen failed seven unmoved
 * features in its first seconds. The quality rates do not wait.
 * These are estimates of what a run over the same rows computes exactly
 * (docs/monitoring.md says how close). Every 5 s each feature's value joins
 * a 60-value history (5 minutes) for the console's sparklines.
 *
 * Threads: drift_row comes from the collector's writer thread and only
 * stages the row (a lock nobody but the ticker takes); drift_tick, from the
 * monitors' ticker (every DRIFT_TICK_MS), counts the staged rows in and
 * recounts; drift_configure comes from the monitors' thread; the readers
 * from any. One mutex per deployment, held for a row or a tick, never for
 * I/O.
 */
#ifndef RUNTIME_MONITOR_DRIFT_H
#define RUNTIME_MONITOR_DRIFT_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runtime/monitor/columns.h"
#include "runtime/monitor/dataset.h"
#include "runtime/monitor/signals.h"
#include "state/dynbuf.h"

#define DRIFT_ROWS 10000
#define DRIFT_MAX_AGE 900 /* seconds */
#define DRIFT_BINS 256
#define DRIFT_NEW 32
#define DRIFT_MIN_ROWS 1000
#define DRIFT_HISTORY 60
#define DRIFT_HISTORY_EVERY 5 /* seconds */
#define DRIFT_TICK_MS 200     /* how often drift_tick is called (a recount: once a second at most) */
#define DRIFT_STAGE_MAX (16u << 20) /* rows handed over between two ticks, in bytes */

struct drift;

struct drift *drift_new(void);
void drift_free(struct drift *d);

/* Compares deployment ep/dep's collection (model_inputs for DataDrift and
 * DataQuality, model_outputs for PredictionDrift) with reference `ref` as
 * signal s of monitor `monitor` asks (its features, types and thresholds;
 * quality thresholds from `quality`, which may be NULL). Replaces what that
 * collection was compared with; the window starts empty. 0, or -1 with err. */
int drift_configure(struct drift *d, const char *ep, const char *dep, const char *collection,
		    const char *monitor, const struct columns *ref, const struct monitor_signal *s,
		    const struct monitor_signal *quality, struct error *err);
/* Stops every comparison whose monitor is not in keep (NULL-terminated). */
void drift_retain(struct drift *d, const char *const *keep);

/* One collected row of ep/dep's collection (the collector's rows callback). */
void drift_row(struct drift *d, const char *ep, const char *dep, const char *collection,
	       const struct cell *cells, size_t n);
/* Recomputes the windows that took rows, at most once a second (now is in
 * seconds); history every DRIFT_HISTORY_EVERY seconds. */
void drift_tick(struct drift *d, int64_t now);

/* {"collection": {"monitor", "rows", "features": [{"feature", "dataType",
 *   "metric", "value", "threshold", "passed", "history": [...], "nullRate",
 *   "typeErrorRate", "outOfBoundsRate"}]}} of ep/dep, ranked by value over
 * threshold; NULL when nothing is compared. */
cJSON *drift_json(struct drift *d, const char *ep, const char *dep);
/* 1 when a live feature of ep/dep fails its threshold now. */
int drift_failing(struct drift *d, const char *ep, const char *dep);
/* mldeck_feature_drift{endpoint,deployment,signal,feature,metric} and
 * mldeck_data_quality{endpoint,deployment,feature,metric}. */
void drift_prometheus(struct drift *d, struct dynbuf *b);

#endif
