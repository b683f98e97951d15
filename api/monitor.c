/* monitor.c: Azure Monitor metrics of an online endpoint (see monitor.h). */
#include "api/monitor.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#define MONITOR_DEPS 64
#define MONITOR_URL_MAX 8192

enum { M_P50, M_P90, M_P95, M_P99, M_RPM, M_COUNT };

static const char *const monitor_names[M_COUNT] = {
    "RequestLatency_P50", "RequestLatency_P90", "RequestLatency_P95", "RequestLatency_P99",
    "RequestsPerMinute"};
static const char *const monitor_keys[M_COUNT] = {"p50", "p90", "p95", "p99", "requests"};

struct monitor_dep {
	char name[64];
	double *v[M_COUNT]; /* minutes values each, NaN = no data */
};

struct monitor_view {
	struct monitor_dep deps[MONITOR_DEPS];
	int n, minutes;
	time_t start;
};

static void monitor_view_free(struct monitor_view *w)
{
	for (int i = 0; i < w->n; i++)
		for (int k = 0; k < M_COUNT; k++)
			free(w->deps[i].v[k]);
}

static struct monitor_dep *monitor_dep(struct monitor_view *w, const char *name)
{
	for (int i = 0; i < w->n; i++)
		if (strcmp(w->deps[i].name, name) == 0)
			return &w->deps[i];
	if (w->n == MONITOR_DEPS)
		return NULL;
	struct monitor_dep *d = &w->deps[w->n];
	snprintf(d->name, sizeof d->name, "%s", name);
	for (int k = 0; k < M_COUNT; k++) {
		d->v[k] = malloc((size_t)w->minutes * sizeof(double));
		if (d->v[k] == NULL)
			return NULL;
		for (int m = 0; m < w->minutes; m++)
			d->v[k][m] = NAN;
	}
	w->n++;
	return d;
}

/* "2024-06-15T19:45:00Z" -> epoch seconds, -1 when unreadable. */
static time_t monitor_time(const char *s)
{
	struct tm tm = {0};

	if (sscanf(s, "%d-%d-%dT%d:%d:%d", &tm.tm_year, &tm.tm_mon, &tm.tm_mday, &tm.tm_hour,
		   &tm.tm_min, &tm.tm_sec) != 6)
		return -1;
	tm.tm_year -= 1900;
	tm.tm_mon -= 1;
	return timegm(&tm);
}

/* The deployment a timeseries is about ("" when not split). */
static const char *monitor_series_dep(const cJSON *ts)
{
	const cJSON *md;

	cJSON_ArrayForEach(md, cJSON_GetObjectItemCaseSensitive(ts, "metadatavalues"))
	{
		const cJSON *n = cJSON_GetObjectItemCaseSensitive(
		    cJSON_GetObjectItemCaseSensitive(md, "name"), "value");
		const cJSON *v = cJSON_GetObjectItemCaseSensitive(md, "value");
		if (cJSON_IsString(n) && strcasecmp(n->valuestring, "deployment") == 0 &&
		    cJSON_IsString(v))
			return v->valuestring;
	}
	return "";
}

static void monitor_take_series(struct monitor_view *w, int k, const cJSON *ts)
{
	struct monitor_dep *d = monitor_dep(w, monitor_series_dep(ts));
	const cJSON *pt;

	if (d == NULL)
		return;
	cJSON_ArrayForEach(pt, cJSON_GetObjectItemCaseSensitive(ts, "data"))
	{
		const cJSON *t = cJSON_GetObjectItemCaseSensitive(pt, "timeStamp");
		const cJSON *a = cJSON_GetObjectItemCaseSensitive(pt, "average");
		time_t when = cJSON_IsString(t) ? monitor_time(t->valuestring) : -1;
		long m = when < 0 ? -1 : (long)((when - w->start) / MONITOR_GRAIN_S);
		if (m >= 0 && m < w->minutes && cJSON_IsNumber(a))
			d->v[k][m] = a->valuedouble;
	}
}

static int monitor_metric_index(const cJSON *metric)
{
	const cJSON *n = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(metric, "name"), "value");

	for (int k = 0; cJSON_IsString(n) && k < M_COUNT; k++)
		if (strcmp(n->valuestring, monitor_names[k]) == 0)
			return k;
	return -1;
}

static cJSON *monitor_number(double v)
{
	return isnan(v) ? cJSON_CreateNull() : cJSON_CreateNumber(v);
}

/* Fills o with figures (the latest minute with requests) and series. */
static void monitor_figures(cJSON *o, double *const v[M_COUNT], int minutes)
{
	int last = -1;
	cJSON *series = cJSON_AddObjectToObject(o, "series");

	for (int m = 0; m < minutes; m++)
		if (!isnan(v[M_RPM][m]) && v[M_RPM][m] > 0)
			last = m;
	for (int k = 0; k < M_COUNT; k++)
		cJSON_AddItemToObject(o, monitor_keys[k],
				      monitor_number(last < 0 ? (k == M_RPM ? 0 : NAN) : v[k][last]));
	cJSON_AddNumberToObject(o, "rps", last < 0 || isnan(v[M_RPM][last]) ? 0
								     : v[M_RPM][last] / 60.0);
	for (int k = 0; k < M_COUNT; k++) {
		if (k != M_RPM && k != M_P50 && k != M_P99)
			continue;
		cJSON *arr = cJSON_AddArrayToObject(series, monitor_keys[k]);
		for (int m = 0; m < minutes; m++)
			cJSON_AddItemToArray(arr, k == M_RPM && isnan(v[k][m])
						      ? cJSON_CreateNumber(0)
						      : monitor_number(v[k][m]));
	}
}

/* The endpoint's totals: requests summed, percentiles the highest. */
static void monitor_totals(const struct monitor_view *w, double *tot[M_COUNT])
{
	for (int k = 0; k < M_COUNT; k++)
		for (int m = 0; m < w->minutes; m++) {
			double acc = NAN;
			for (int i = 0; i < w->n; i++) {
				double x = w->deps[i].v[k][m];
				if (isnan(x))
					continue;
				acc = isnan(acc) ? x : k == M_RPM ? acc + x : fmax(acc, x);
			}
			tot[k][m] = acc;
		}
}

static cJSON *monitor_build(struct monitor_view *w, const char *ep)
{
	cJSON *doc = cJSON_CreateObject(), *e = cJSON_CreateObject(), *deps;
	double *tot[M_COUNT] = {0};
	int ok = 1;

	cJSON_AddStringToObject(doc, "source", "Azure Monitor");
	cJSON_AddNumberToObject(doc, "grainSeconds", MONITOR_GRAIN_S);
	cJSON_AddNumberToObject(doc, "window", (double)w->minutes * MONITOR_GRAIN_S);
	cJSON_AddItemToArray(cJSON_AddArrayToObject(doc, "endpoints"), e);
	cJSON_AddStringToObject(e, "name", ep);
	for (int k = 0; k < M_COUNT; k++)
		ok &= (tot[k] = malloc((size_t)w->minutes * sizeof(double))) != NULL;
	if (ok) {
		monitor_totals(w, tot);
		monitor_figures(e, tot, w->minutes);
	}
	for (int k = 0; k < M_COUNT; k++)
		free(tot[k]);
	deps = cJSON_AddArrayToObject(e, "deployments");
	for (int i = 0; i < w->n; i++) {
		cJSON *d = cJSON_CreateObject();
		cJSON_AddStringToObject(d, "name", w->deps[i].name);
		monitor_figures(d, w->deps[i].v, w->minutes);
		cJSON_AddItemToArray(deps, d);
	}
	return doc;
}

cJSON *monitor_convert(const char *json, size_t len, const char *ep, time_t start, int minutes)
{
	cJSON *doc = cJSON_ParseWithLength(json, len), *out = NULL;
	const cJSON *metric, *ts;
	struct monitor_view *w = calloc(1, sizeof *w);

	if (w == NULL || !cJSON_IsArray(cJSON_GetObjectItemCaseSensitive(doc, "value")))
		goto done;
	w->start = start;
	w->minutes = minutes;
	cJSON_ArrayForEach(metric, cJSON_GetObjectItemCaseSensitive(doc, "value"))
	{
		int k = monitor_metric_index(metric);
		if (k < 0)
			continue;
		cJSON_ArrayForEach(ts, cJSON_GetObjectItemCaseSensitive(metric, "timeseries"))
			monitor_take_series(w, k, ts);
	}
	out = monitor_build(w, ep);
done:
	if (w != NULL)
		monitor_view_free(w);
	free(w);
	cJSON_Delete(doc);
	return out;
}

static void monitor_iso(time_t t, char *buf, size_t len)
{
	struct tm tm;

	gmtime_r(&t, &tm);
	snprintf(buf, len, "%04d-%02d-%02dT%02d:%02d:00Z", tm.tm_year + 1900, tm.tm_mon + 1,
		 tm.tm_mday, tm.tm_hour, tm.tm_min);
}

int monitor_fetch(struct client *c, const char *ep, int minutes, time_t now, cJSON **out,
		  struct error *err)
{
	char url[MONITOR_URL_MAX], a[64], b[64], e[200];
	struct client_request rq = {.method = "GET", .url = url};
	struct client_response rs;
	time_t end = now - now % MONITOR_GRAIN_S + MONITOR_GRAIN_S;
	time_t start;

	*out = NULL;
	if (minutes < 1 || minutes > MONITOR_MAX_MINUTES)
		return error_set(err, 400, "BadArgument", "minutes must be 1-%d",
				 MONITOR_MAX_MINUTES);
	start = end - (time_t)minutes * MONITOR_GRAIN_S;
	monitor_iso(start, a, sizeof a);
	monitor_iso(end, b, sizeof b);
	snprintf(e, sizeof e, "%s", ep);
	snprintf(url, sizeof url,
		 "%s%s/onlineEndpoints/%s/providers/microsoft.insights/metrics?"
		 "api-version=2023-10-01&metricnames=RequestLatency_P50,RequestLatency_P90,"
		 "RequestLatency_P95,RequestLatency_P99,RequestsPerMinute&timespan=%s/%s&"
		 "interval=PT1M&aggregation=Average&%%24filter=deployment%%20eq%%20%%27%%2A%%27",
		 client_base_url(c), client_ws_path(c), e, a, b);
	if (client_send(c, &rq, &rs, err) < 0) {
		client_response_cleanup(&rs);
		return -1;
	}
	if (rs.status != 200)
		client_answer_error(&rs, "Azure Monitor", err);
	else if ((*out = monitor_convert(rs.body, rs.len, ep, start, minutes)) == NULL)
		error_set(err, 502, "BadResponse", "Azure Monitor's answer is not metrics");
	client_response_cleanup(&rs);
	return *out != NULL ? 0 : -1;
}
