/*
 * monitordef.h: the schedule resource of a model monitor (Azure's CreateMonitor
 * action, docs/monitoring.md), built from a few choices: what both faces PUT
 * at {ws}/schedules/{name} (the CLI's `monitor create`, the console's demo).
 * Pure: no I/O.
 */
#ifndef API_MONITORDEF_H
#define API_MONITORDEF_H

#include <stddef.h>

#include <cJSON.h>

#define MONITOR_SPEC_WEBHOOKS 8

struct monitor_spec {
	const char *endpoint, *deployment;
	const char *signals;   /* "drift,quality,prediction" (any of them); NULL: "drift,quality" */
	const char *window;    /* the production window, ISO 8601; NULL: "P1D" */
	const char *reference; /* training data: azureml:NAME:V or a path on the runtime's host */
	const char *prediction_reference; /* PredictionDrift's reference */
	/* NULL both: Azure's default metrics and thresholds */
	const char *numerical_metric, *categorical_metric;
	const char *threshold; /* the metrics' threshold as text; NULL: the metric's default */
	const char *cron;      /* a Cron trigger, else a Recurrence: */
	const char *every;     /* Minute, Hour, Day (NULL), Week or Month */
	int interval;          /* every interval units (0: 1) */
	const char *webhooks[MONITOR_SPEC_WEBHOOKS];
	size_t nwebhooks;
};

/* The schedule's body; NULL with a message in msg when signals names an
 * unknown kind. */
cJSON *monitor_schedule_body(const struct monitor_spec *s, char *msg, size_t mlen);

#endif
