/* signals.c: Azure's monitorDefinition, parsed and checked (signals.h). */
#include "runtime/monitor/signals.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "runtime/monitor/dataset.h"
#include "state/names.h"

#define FIELD "properties.action.monitorDefinition"
#define DAY 86400

const char *signal_type_name(enum signal_type t)
{
	static const char *const n[] = {"DataDrift", "PredictionDrift", "DataQuality"};
	return (unsigned)t < 3 ? n[t] : "?";
}

const char *input_kind_name(enum input_kind k)
{
	static const char *const n[] = {"Static", "Rolling", "Fixed"};
	return (unsigned)k < 3 ? n[k] : "?";
}

static int bad(struct error *err, const char *field, const char *want)
{
	return error_set(err, 400, "ValidationError", FIELD "%s must be %s", field, want);
}

static const cJSON *item(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(o, key);
	return m && !cJSON_IsNull(m) ? m : NULL;
}

/* A string member into buf (empty when absent); -1 when not a short string. */
static int text(const cJSON *o, const char *key, char *buf, size_t len, const char *field,
		struct error *err)
{
	const cJSON *m = item(o, key);

	buf[0] = '\0';
	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m) || strlen(m->valuestring) >= len)
		return bad(err, field, "a string");
	memcpy(buf, m->valuestring, strlen(m->valuestring) + 1);
	return 0;
}

/* ---- durations and windows ---------------------------------------------- */

int64_t signals_duration(const char *s)
{
	int64_t total = 0, n;
	int in_time = 0, any = 0;
	char *end;

	if (s == NULL || *s++ != 'P')
		return -1;
	while (*s) {
		if (*s == 'T' && !in_time) {
			in_time = 1;
			s++;
			continue;
		}
		if (*s < '0' || *s > '9')
			return -1;
		n = strtoll(s, &end, 10);
		if (n < 0 || n > 100000)
			return -1;
		switch (*end) {
		case 'W': total += n * 7 * DAY; break;
		case 'D': total += n * DAY; break;
		case 'H': total += n * 3600; break;
		case 'M': total += in_time ? n * 60 : n * 30 * DAY; break;
		case 'S': total += n; break;
		default: return -1;
		}
		if ((*end == 'H' || *end == 'S') && !in_time)
			return -1;
		if (*end == 'W' && in_time)
			return -1;
		any = 1;
		s = end + 1;
	}
	return any ? total : -1;
}

void signals_window(const struct monitor_input *in, int64_t now, int64_t *start, int64_t *end)
{
	switch (in->kind) {
	case INPUT_ROLLING:
		*end = now - in->window_offset;
		*start = *end - in->window_size;
		break;
	case INPUT_STATIC:
		*start = in->window_start;
		*end = in->window_end;
		break;
	default:
		*start = *end = 0;
	}
}

/* ---- inputs ------------------------------------------------------------- */

static int input_duration(const cJSON *o, const char *key, int64_t *out, const char *field,
			  struct error *err)
{
	const cJSON *m = item(o, key);
	char f[160];

	snprintf(f, sizeof f, "%s.%s", field, key);
	if (m == NULL)
		return bad(err, f, "an ISO 8601 duration (\"P7D\")");
	if (!cJSON_IsString(m) || (*out = signals_duration(m->valuestring)) < 0)
		return bad(err, f, "an ISO 8601 duration (\"P7D\", \"PT1H\")");
	return 0;
}

static int input_time(const cJSON *o, const char *key, int64_t *out, const char *field,
		      struct error *err)
{
	const cJSON *m = item(o, key);
	char f[160];

	snprintf(f, sizeof f, "%s.%s", field, key);
	if (m == NULL || !cJSON_IsString(m) ||
	    (*out = dataset_time(m->valuestring, strlen(m->valuestring))) < 0)
		return bad(err, f, "a UTC time (\"2026-11-01T00:00:00Z\")");
	return 0;
}

static int input_parse(const cJSON *o, struct monitor_input *in, const char *field,
		       struct error *err)
{
	char kind[16], f[160];

	memset(in, 0, sizeof in[0]);
	if (!cJSON_IsObject(o))
		return bad(err, field, "an object with inputDataType and uri");
	snprintf(f, sizeof f, "%s.inputDataType", field);
	if (text(o, "inputDataType", kind, sizeof kind, f, err) < 0)
		return -1;
	if (!strcasecmp(kind, "Static"))
		in->kind = INPUT_STATIC;
	else if (!strcasecmp(kind, "Rolling"))
		in->kind = INPUT_ROLLING;
	else if (!strcasecmp(kind, "Fixed"))
		in->kind = INPUT_FIXED;
	else
		return bad(err, f, "Static, Rolling or Fixed");
	snprintf(f, sizeof f, "%s.uri", field);
	if (text(o, "uri", in->uri, sizeof in->uri, f, err) < 0)
		return -1;
	if (in->uri[0] == '\0')
		return bad(err, f, "a data asset (azureml:NAME:VERSION), a datastore path or a path");
	snprintf(f, sizeof f, "%s.jobInputType", field);
	if (text(o, "jobInputType", in->job_input_type, sizeof in->job_input_type, f, err) < 0)
		return -1;
	snprintf(f, sizeof f, "%s.dataContext", field);
	if (text(o, "dataContext", in->data_context, sizeof in->data_context, f, err) < 0)
		return -1;
	if (in->kind == INPUT_ROLLING)
		return input_duration(o, "windowSize", &in->window_size, field, err) < 0 ||
			       input_duration(o, "windowOffset", &in->window_offset, field, err) < 0
			   ? -1
			   : 0;
	if (in->kind == INPUT_STATIC &&
	    (input_time(o, "windowStart", &in->window_start, field, err) < 0 ||
	     input_time(o, "windowEnd", &in->window_end, field, err) < 0))
		return -1;
	if (in->kind == INPUT_STATIC && in->window_end <= in->window_start)
		return bad(err, field, "a window whose windowEnd is after its windowStart");
	return 0;
}

/* The deployment's own collected data, when productionData is left out. */
static void default_production(const struct monitor_def *d, enum signal_type t,
			       struct monitor_input *in)
{
	const char *coll = t == SIGNAL_PREDICTION_DRIFT ? "model_outputs" : "model_inputs";

	memset(in, 0, sizeof in[0]);
	in->kind = INPUT_ROLLING;
	in->window_size = DAY;
	snprintf(in->uri, sizeof in->uri, "azureml:%s-%s-%s:1", d->endpoint, d->deployment, coll);
	snprintf(in->job_input_type, sizeof in->job_input_type, "uri_folder");
	snprintf(in->data_context, sizeof in->data_context, "%s", coll);
}

/* ---- thresholds --------------------------------------------------------- */

double signals_default_threshold(enum stats_metric m)
{
	switch (m) {
	case STATS_JENSEN_SHANNON:
	case STATS_WASSERSTEIN:
		return 0.1;
	case STATS_PSI:
		return 0.2;
	case STATS_KS:
	case STATS_CHI2:
		return 0.05;
	default:
		return 0.0;
	}
}

int signals_metric_allowed(enum signal_type t, int categorical, enum stats_metric m)
{
	if (t == SIGNAL_DATA_QUALITY)
		return m == STATS_NULL_RATE || m == STATS_TYPE_ERROR_RATE ||
		       m == STATS_OUT_OF_BOUNDS_RATE;
	if (m == STATS_JENSEN_SHANNON || m == STATS_PSI)
		return 1;
	return categorical ? m == STATS_CHI2 : (m == STATS_WASSERSTEIN || m == STATS_KS);
}

static void add_threshold(struct monitor_signal *s, int categorical, enum stats_metric m,
			  double v)
{
	struct metric_threshold *t = &s->thresholds[s->nthresholds++];

	t->categorical = categorical;
	t->metric = m;
	t->value = v;
}

static void default_thresholds(struct monitor_signal *s)
{
	static const enum stats_metric quality[] = {STATS_NULL_RATE, STATS_TYPE_ERROR_RATE,
						    STATS_OUT_OF_BOUNDS_RATE};

	if (s->type != SIGNAL_DATA_QUALITY) {
		add_threshold(s, 0, STATS_WASSERSTEIN, 0.1);
		add_threshold(s, 1, STATS_JENSEN_SHANNON, 0.1);
		return;
	}
	for (int c = 0; c < 2; c++)
		for (size_t i = 0; i < 3; i++)
			add_threshold(s, c, quality[i], 0.0);
}

static int threshold_parse(const cJSON *o, struct monitor_signal *s, const char *field,
			   struct error *err)
{
	char type[16], metric[64];
	const cJSON *th = item(o, "threshold"), *v = th ? item(th, "value") : NULL;
	enum stats_metric m;
	int cat;

	if (!cJSON_IsObject(o) || text(o, "dataType", type, sizeof type, field, err) < 0 ||
	    text(o, "metric", metric, sizeof metric, field, err) < 0)
		return bad(err, field, "{\"dataType\", \"metric\", \"threshold\": {\"value\"}}");
	if (strcasecmp(type, "Numerical") && strcasecmp(type, "Categorical"))
		return bad(err, field, "a threshold whose dataType is Numerical or Categorical");
	cat = strcasecmp(type, "Categorical") == 0;
	if (stats_metric_parse(metric, &m) < 0 || !signals_metric_allowed(s->type, cat, m))
		return error_set(err, 400, "ValidationError",
				 "%s: %.60s is not a %s metric of a %s signal", field, metric,
				 cat ? "Categorical" : "Numerical", signal_type_name(s->type));
	if (v != NULL && !cJSON_IsNumber(v))
		return bad(err, field, "a threshold whose value is a number");
	if (s->nthresholds == SIGNAL_THRESHOLDS_MAX)
		return bad(err, field, "at most 12 thresholds");
	add_threshold(s, cat, m, v ? v->valuedouble : signals_default_threshold(m));
	return 0;
}

/* ---- features ----------------------------------------------------------- */

static int features_parse(const cJSON *o, struct monitor_signal *s, const char *field,
			  struct error *err)
{
	const cJSON *list, *it;
	char type[32];

	s->filter = FEATURES_ALL;
	if (o == NULL)
		return 0;
	if (text(o, "filterType", type, sizeof type, field, err) < 0)
		return -1;
	if (!strcasecmp(type, "AllFeatures"))
		return 0;
	if (!strcasecmp(type, "TopNByAttribution")) {
		const cJSON *top = item(o, "top");
		s->filter = FEATURES_TOP_N;
		s->top = cJSON_IsNumber(top) ? top->valueint : 10;
		return 0;
	}
	if (strcasecmp(type, "FeatureSubset"))
		return bad(err, field, "a filter of type AllFeatures, FeatureSubset or "
				       "TopNByAttribution");
	s->filter = FEATURES_SUBSET;
	list = item(o, "features");
	if (!cJSON_IsArray(list) || cJSON_GetArraySize(list) < 1 ||
	    cJSON_GetArraySize(list) > SIGNAL_FEATURES_MAX)
		return bad(err, field, "a FeatureSubset with 1 to 256 features");
	s->features = calloc((size_t)cJSON_GetArraySize(list), sizeof *s->features);
	if (s->features == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	cJSON_ArrayForEach(it, list)
	{
		if (!cJSON_IsString(it) || strlen(it->valuestring) == 0 ||
		    strlen(it->valuestring) > SIGNAL_FEATURE_MAX)
			return bad(err, field, "a FeatureSubset of feature names");
		memcpy(s->features[s->nfeatures++], it->valuestring, strlen(it->valuestring) + 1);
	}
	return 0;
}

static int overrides_parse(const cJSON *o, struct monitor_signal *s, const char *field,
			   struct error *err)
{
	const cJSON *it;

	if (o == NULL)
		return 0;
	if (!cJSON_IsObject(o) || cJSON_GetArraySize(o) > SIGNAL_FEATURES_MAX)
		return bad(err, field, "an object of feature name -> Numerical or Categorical");
	s->overrides = calloc((size_t)cJSON_GetArraySize(o) + 1, sizeof *s->overrides);
	if (s->overrides == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	cJSON_ArrayForEach(it, o)
	{
		struct feature_type *f = &s->overrides[s->noverrides];
		if (!cJSON_IsString(it) || strlen(it->string) > SIGNAL_FEATURE_MAX ||
		    (strcasecmp(it->valuestring, "Numerical") &&
		     strcasecmp(it->valuestring, "Categorical")))
			return bad(err, field, "an object of feature name -> Numerical or Categorical");
		memcpy(f->name, it->string, strlen(it->string) + 1);
		f->categorical = strcasecmp(it->valuestring, "Categorical") == 0;
		s->noverrides++;
	}
	return 0;
}

int signals_wants(const struct monitor_signal *s, const char *name)
{
	if (s->filter != FEATURES_SUBSET)
		return 1;
	for (size_t i = 0; i < s->nfeatures; i++)
		if (strcmp(s->features[i], name) == 0)
			return 1;
	return 0;
}

int signals_override(const struct monitor_signal *s, const char *name)
{
	for (size_t i = 0; i < s->noverrides; i++)
		if (strcmp(s->overrides[i].name, name) == 0)
			return s->overrides[i].categorical;
	return -1;
}

/* ---- signals ------------------------------------------------------------ */

static int signal_type_parse(const char *s, enum signal_type *t)
{
	if (!strcasecmp(s, "DataDrift"))
		*t = SIGNAL_DATA_DRIFT;
	else if (!strcasecmp(s, "PredictionDrift"))
		*t = SIGNAL_PREDICTION_DRIFT;
	else if (!strcasecmp(s, "DataQuality"))
		*t = SIGNAL_DATA_QUALITY;
	else
		return -1;
	return 0;
}

static int signal_parse(const cJSON *o, const struct monitor_def *d, struct monitor_signal *s,
			struct error *err)
{
	char field[200], f[260], type[32], mode[16];
	const cJSON *th, *it;

	snprintf(field, sizeof field, ".signals.%s", s->name);
	if (!cJSON_IsObject(o))
		return bad(err, field, "an object with signalType");
	snprintf(f, sizeof f, "%s.signalType", field);
	if (text(o, "signalType", type, sizeof type, f, err) < 0)
		return -1;
	if (signal_type_parse(type, &s->type) < 0)
		return error_set(err, 400, "ValidationError",
				 FIELD "%s: signalType '%.40s' is not run by this runtime "
				       "(DataDrift, PredictionDrift, DataQuality)",
				 field, type);
	snprintf(f, sizeof f, "%s.mode", field);
	if (text(o, "mode", mode, sizeof mode, f, err) < 0)
		return -1;
	s->enabled = strcasecmp(mode, "Disabled") != 0;
	snprintf(f, sizeof f, "%s.productionData", field);
	if (item(o, "productionData") == NULL && d->endpoint[0])
		default_production(d, s->type, &s->production);
	else if (input_parse(item(o, "productionData"), &s->production, f, err) < 0)
		return -1;
	snprintf(f, sizeof f, "%s.referenceData", field);
	if (input_parse(item(o, "referenceData"), &s->reference, f, err) < 0)
		return -1;
	snprintf(f, sizeof f, "%s.features", field);
	if (features_parse(item(o, "features"), s, f, err) < 0)
		return -1;
	snprintf(f, sizeof f, "%s.featureDataTypeOverride", field);
	if (overrides_parse(item(o, "featureDataTypeOverride"), s, f, err) < 0)
		return -1;
	th = item(o, "metricThresholds");
	if (th != NULL && !cJSON_IsArray(th))
		return bad(err, field, "metricThresholds as an array");
	snprintf(f, sizeof f, "%s.metricThresholds", field);
	cJSON_ArrayForEach(it, th) if (threshold_parse(it, s, f, err) < 0) return -1;
	if (s->nthresholds == 0)
		default_thresholds(s);
	return 0;
}

/* ".../onlineEndpoints/EP/deployments/D" (or "azureml:EP/D"): the target. */
static int target_parse(const cJSON *o, struct monitor_def *d, struct error *err)
{
	char id[SIGNAL_URI_MAX + 1], *p, *q;

	if (o == NULL)
		return 0;
	if (!cJSON_IsObject(o) ||
	    text(o, "deploymentId", id, sizeof id, ".monitoringTarget.deploymentId", err) < 0 ||
	    text(o, "taskType", d->task_type, sizeof d->task_type, ".monitoringTarget.taskType",
		 err) < 0)
		return -1;
	if (id[0] == '\0')
		return 0;
	p = strstr(id, "/onlineEndpoints/");
	q = p ? strstr(p, "/deployments/") : NULL;
	if (p == NULL || q == NULL)
		return bad(err, ".monitoringTarget.deploymentId",
			   "an online deployment's id (.../onlineEndpoints/EP/deployments/D)");
	*q = '\0';
	p += strlen("/onlineEndpoints/");
	q += strlen("/deployments/");
	if (strlen(p) > RESOURCE_NAME_MAX || strlen(q) > RESOURCE_NAME_MAX ||
	    names_check(p, "monitoringTarget endpoint", err) < 0 ||
	    names_check(q, "monitoringTarget deployment", err) < 0)
		return -1;
	memcpy(d->endpoint, p, strlen(p) + 1);
	memcpy(d->deployment, q, strlen(q) + 1);
	return 0;
}

static int alerts_parse(const cJSON *o, struct monitor_def *d, struct error *err)
{
	const cJSON *mail = item(item(o, "emailNotificationSettings"), "emails");
	const cJSON *hooks = item(item(o, "webhookNotificationSettings"), "urls"), *it;

	if (mail != NULL && !cJSON_IsArray(mail))
		return bad(err, ".alertNotificationSettings.emailNotificationSettings.emails",
			   "an array of addresses");
	if (mail != NULL && (d->emails = cJSON_PrintUnformatted(mail)) == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	if (hooks != NULL && (!cJSON_IsArray(hooks) || cJSON_GetArraySize(hooks) >
							   MONITOR_WEBHOOKS_MAX))
		return bad(err, ".alertNotificationSettings.webhookNotificationSettings.urls",
			   "an array of at most 8 http(s) URLs");
	cJSON_ArrayForEach(it, hooks)
	{
		if (!cJSON_IsString(it) || strlen(it->valuestring) > MONITOR_URL_MAX ||
		    (strncmp(it->valuestring, "http://", 7) && strncmp(it->valuestring, "https://", 8)))
			return bad(err, ".alertNotificationSettings.webhookNotificationSettings.urls",
				   "an array of http(s) URLs");
		memcpy(d->webhooks[d->nwebhooks++], it->valuestring, strlen(it->valuestring) + 1);
	}
	return 0;
}

int signals_parse(const cJSON *def, struct monitor_def *d, struct error *err)
{
	const cJSON *sigs = item(def, "signals"), *it;

	memset(d, 0, sizeof *d);
	if (!cJSON_IsObject(def))
		return bad(err, "", "an object with signals");
	if (target_parse(item(def, "monitoringTarget"), d, err) < 0 ||
	    alerts_parse(item(def, "alertNotificationSettings"), d, err) < 0)
		goto fail;
	if (!cJSON_IsObject(sigs) || cJSON_GetArraySize(sigs) < 1 ||
	    cJSON_GetArraySize(sigs) > SIGNALS_MAX) {
		bad(err, ".signals", "an object of 1 to 16 signals (name -> signal)");
		goto fail;
	}
	cJSON_ArrayForEach(it, sigs)
	{
		struct monitor_signal *s = &d->signals[d->nsignals++];
		if (strlen(it->string) == 0 || strlen(it->string) > SIGNAL_NAME_MAX) {
			bad(err, ".signals", "named by 1 to 64 characters");
			goto fail;
		}
		memcpy(s->name, it->string, strlen(it->string) + 1);
		if (signal_parse(it, d, s, err) < 0)
			goto fail;
	}
	return 0;
fail:
	signals_cleanup(d);
	return -1;
}

void signals_cleanup(struct monitor_def *d)
{
	for (size_t i = 0; i < d->nsignals; i++) {
		free(d->signals[i].features);
		free(d->signals[i].overrides);
		d->signals[i].features = NULL;
		d->signals[i].overrides = NULL;
	}
	free(d->emails);
	d->emails = NULL;
	d->nsignals = 0;
}
