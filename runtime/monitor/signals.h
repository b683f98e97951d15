/*
 * signals.h: a monitor's definition, Azure's monitorDefinition (the
 * CreateMonitor action of a schedule, spec 2024-04-01), parsed, checked and
 * completed with Azure's defaults. Pure: no I/O, any thread.
 *
 *   {"computeConfiguration": {...},            accepted, not used (no Spark here)
 *    "monitoringTarget": {"deploymentId": ".../onlineEndpoints/EP/deployments/D",
 *                         "modelId": "...", "taskType": "Classification"},
 *    "signals": {NAME: {"signalType": "DataDrift" | "PredictionDrift" | "DataQuality",
 *                       "productionData": INPUT, "referenceData": INPUT,
 *                       "features": {"filterType": "AllFeatures" | "FeatureSubset" |
 *                                    "TopNByAttribution", "features": [...], "top": N},
 *                       "featureDataTypeOverride": {FEATURE: "Numerical" | "Categorical"},
 *                       "metricThresholds": [{"dataType": "Numerical" | "Categorical",
 *                                             "metric": M, "threshold": {"value": V}}],
 *                       "mode": "Enabled" | "Disabled"}},
 *    "alertNotificationSettings": {"emailNotificationSettings": {"emails": [...]},
 *                                  "webhookNotificationSettings": {"urls": [...]}}}
 *
 *   INPUT: {"inputDataType": "Static" | "Rolling" | "Fixed", "jobInputType": "uri_folder" |
 *           "uri_file" | "mltable", "uri": ..., "dataContext": ..., "windowSize": "P7D",
 *           "windowOffset": "P0D", "windowStart": ..., "windowEnd": ...}
 *
 * Defaults: a signal without metricThresholds gets Azure's (drift: Numerical
 * NormalizedWassersteinDistance 0.1, Categorical JensenShannonDistance 0.1;
 * data quality: NullValueRate, DataTypeErrorRate and OutOfBoundsRate 0.0 for
 * both types); a threshold without a value gets its metric's default (Azure
 * publishes none for PSI, KS and chi-squared: we use PSI 0.2, the usual
 * "significant shift", and p < 0.05 for both tests). productionData may be
 * left out when monitoringTarget names a deployment: the deployment's
 * collected model_inputs (model_outputs for PredictionDrift), rolling over the
 * last day. TopNByAttribution needs feature importance, which is not computed:
 * every feature is monitored (docs/monitoring.md). webhookNotificationSettings
 * is a local extension (Azure alerts by email only; emails are kept, not sent).
 */
#ifndef RUNTIME_MONITOR_SIGNALS_H
#define RUNTIME_MONITOR_SIGNALS_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runtime/monitor/stats.h"
#include "state/error.h"
#include "state/resource.h"

#define SIGNALS_MAX 16
#define SIGNAL_NAME_MAX 64
#define SIGNAL_THRESHOLDS_MAX 12
#define SIGNAL_URI_MAX 1024
#define SIGNAL_FEATURES_MAX 256
#define SIGNAL_FEATURE_MAX 128
#define MONITOR_WEBHOOKS_MAX 8
#define MONITOR_URL_MAX 512

enum signal_type { SIGNAL_DATA_DRIFT, SIGNAL_PREDICTION_DRIFT, SIGNAL_DATA_QUALITY };
enum input_kind { INPUT_STATIC, INPUT_ROLLING, INPUT_FIXED };
enum feature_filter { FEATURES_ALL, FEATURES_SUBSET, FEATURES_TOP_N };

struct monitor_input {
	enum input_kind kind;
	char uri[SIGNAL_URI_MAX + 1];
	char job_input_type[16];
	char data_context[32];
	int64_t window_size, window_offset; /* seconds (Rolling) */
	int64_t window_start, window_end;   /* UTC seconds (Static) */
};

struct metric_threshold {
	enum stats_metric metric;
	int categorical; /* dataType: Categorical (else Numerical) */
	double value;
};

struct feature_type {
	char name[SIGNAL_FEATURE_MAX + 1];
	int categorical;
};

struct monitor_signal {
	char name[SIGNAL_NAME_MAX + 1];
	enum signal_type type;
	int enabled;
	struct monitor_input production, reference;
	enum feature_filter filter;
	int top;
	char (*features)[SIGNAL_FEATURE_MAX + 1]; /* FeatureSubset */
	size_t nfeatures;
	struct feature_type *overrides;
	size_t noverrides;
	struct metric_threshold thresholds[SIGNAL_THRESHOLDS_MAX];
	size_t nthresholds;
};

struct monitor_def {
	char endpoint[RESOURCE_NAME_MAX + 1]; /* monitoringTarget.deploymentId, "" none */
	char deployment[RESOURCE_NAME_MAX + 1];
	char task_type[32];
	struct monitor_signal signals[SIGNALS_MAX];
	size_t nsignals;
	char webhooks[MONITOR_WEBHOOKS_MAX][MONITOR_URL_MAX + 1];
	size_t nwebhooks;
	char *emails; /* as given, comma-joined; NULL none */
};

const char *signal_type_name(enum signal_type t);
const char *input_kind_name(enum input_kind k);

/* Parses the action's monitorDefinition. 0, or -1 with a 400 naming the
 * field (properties.action.monitorDefinition...). On success out owns heap
 * parts: signals_cleanup. */
int signals_parse(const cJSON *definition, struct monitor_def *out, struct error *err);
void signals_cleanup(struct monitor_def *d);

/* The default threshold of a metric (stats_metric_passed compares with it). */
double signals_default_threshold(enum stats_metric m);
/* Whether metric m is one a signal of type t computes for that data type. */
int signals_metric_allowed(enum signal_type t, int categorical, enum stats_metric m);
/* Whether feature name is monitored by s (filter), and its overridden type:
 * 1 categorical, 0 numerical, -1 no override. */
int signals_wants(const struct monitor_signal *s, const char *name);
int signals_override(const struct monitor_signal *s, const char *name);

/* "P7D", "PT1H30M", "P1W", "P0D" -> seconds; -1 when not such a duration. */
int64_t signals_duration(const char *s);
/* The window [start, end) an input covers for a run at UTC second now;
 * 0, 0 for Fixed (everything). */
void signals_window(const struct monitor_input *in, int64_t now, int64_t *start, int64_t *end);

#endif
