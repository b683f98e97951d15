/*
 * monitor.h: an online endpoint's traffic as Azure Monitor keeps it.
 *
 *   GET {endpoint id}/providers/microsoft.insights/metrics?api-version=2023-10-01
 *       &metricnames=RequestLatency_P50,RequestLatency_P90,RequestLatency_P95,
 *        RequestLatency_P99,RequestsPerMinute&timespan=START/END&interval=PT1M
 *       &aggregation=Average&$filter=deployment eq '*'
 *
 * One ARM read per call, whatever the number of deployments. Azure Monitor's
 * finest grain is one minute (and its latest minutes arrive late): asking
 * more often than once a minute only spends ARM's read budget.
 *
 * The answer is turned into the shape of the runtime's GET /v1/metrics
 * (runtime/metrics.h), so one parser serves both, with two more members:
 *
 *   {"source": "Azure Monitor", "grainSeconds": 60, "window": SECONDS,
 *    "endpoints": [{"name", "requests", "rps", "p50", "p90", "p95", "p99",
 *                   "series": {"requests": [...], "p50": [...], "p99": [...]},
 *                   "deployments": [{same, per deployment}]}]}
 *
 * A deployment's figures are those of its latest minute with requests
 * ("requests" is that minute's count, rps = requests / 60); the endpoint's
 * requests are the sum, its percentiles the highest of its deployments' (an
 * upper bound: Azure Monitor does not merge them). Series hold one entry per
 * minute, oldest first, null where the minute had no request. There is no
 * "errors" member: these metrics do not count them.
 *
 * Threads: those of the client passed in.
 */
#ifndef API_MONITOR_H
#define API_MONITOR_H

#include <cjson/cJSON.h>
#include <time.h>

#include "api/client.h"
#include "state/error.h"

#define MONITOR_GRAIN_S 60
#define MONITOR_MAX_MINUTES 1440
#define MONITOR_LABEL "Azure Monitor, 1 min"

/* The metrics of endpoint ep over the `minutes` whole minutes before now
 * (now: time(NULL), given for tests). *out is the caller's. 0 or -1. */
int monitor_fetch(struct client *c, const char *ep, int minutes, time_t now, cJSON **out,
		  struct error *err);
/* Azure Monitor's answer (text) -> the shape above, for an endpoint named
 * ep over [start, start + minutes * 60). NULL when it is not that JSON. */
cJSON *monitor_convert(const char *json, size_t len, const char *ep, time_t start, int minutes);

#endif
