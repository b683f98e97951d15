/* monitordef.c: a model monitor's schedule resource (monitordef.h). */
#include "api/monitordef.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

static cJSON *input(const char *type, const char *uri, const char *window)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "inputDataType", type);
	cJSON_AddStringToObject(o, "jobInputType", window ? "uri_folder" : "uri_file");
	cJSON_AddStringToObject(o, "uri", uri);
	if (window) {
		cJSON_AddStringToObject(o, "windowSize", window);
		cJSON_AddStringToObject(o, "windowOffset", "P0D");
	}
	return o;
}

static void threshold(cJSON *arr, const char *type, const char *metric, const char *v)
{
	cJSON *t = cJSON_CreateObject();

	cJSON_AddStringToObject(t, "dataType", type);
	cJSON_AddStringToObject(t, "metric", metric);
	if (v != NULL)
		cJSON_AddNumberToObject(cJSON_AddObjectToObject(t, "threshold"), "value",
					strtod(v, NULL));
	cJSON_AddItemToArray(arr, t);
}

/* One signal of the definition: kind is drift, prediction or quality. */
static void signal(cJSON *signals, const char *kind, const struct monitor_spec *s)
{
	const char *ref = strcmp(kind, "prediction") ? s->reference : s->prediction_reference;
	const char *num = s->numerical_metric, *cat = s->categorical_metric;
	char uri[200];
	cJSON *o = cJSON_AddObjectToObject(signals, kind), *th;

	snprintf(uri, sizeof uri, "azureml:%s-%s-%s:1", s->endpoint, s->deployment,
		 strcmp(kind, "prediction") ? "model_inputs" : "model_outputs");
	cJSON_AddStringToObject(o, "signalType", !strcmp(kind, "drift")	  ? "DataDrift"
						 : !strcmp(kind, "prediction") ? "PredictionDrift"
									      : "DataQuality");
	cJSON_AddItemToObject(o, "productionData",
			      input("Rolling", uri, s->window ? s->window : "P1D"));
	cJSON_AddItemToObject(o, "referenceData", input("Fixed", ref ? ref : "", NULL));
	cJSON_AddItemToObject(o, "features", cJSON_Parse("{\"filterType\":\"AllFeatures\"}"));
	if (!strcmp(kind, "quality") || (num == NULL && cat == NULL))
		return; /* Azure's defaults */
	th = cJSON_AddArrayToObject(o, "metricThresholds");
	threshold(th, "Numerical", num ? num : "NormalizedWassersteinDistance", s->threshold);
	threshold(th, "Categorical", cat ? cat : "JensenShannonDistance", s->threshold);
}

static cJSON *trigger(const struct monitor_spec *s)
{
	cJSON *t = cJSON_CreateObject();

	if (s->cron != NULL) {
		cJSON_AddStringToObject(t, "triggerType", "Cron");
		cJSON_AddStringToObject(t, "expression", s->cron);
	} else {
		cJSON_AddStringToObject(t, "triggerType", "Recurrence");
		cJSON_AddStringToObject(t, "frequency", s->every ? s->every : "Day");
		cJSON_AddNumberToObject(t, "interval", s->interval > 0 ? s->interval : 1);
	}
	cJSON_AddStringToObject(t, "timeZone", "UTC");
	return t;
}

cJSON *monitor_schedule_body(const struct monitor_spec *s, char *msg, size_t mlen)
{
	const char *kinds = s->signals ? s->signals : "drift,quality", *at, *comma;
	cJSON *o = cJSON_CreateObject(), *p = cJSON_AddObjectToObject(o, "properties");
	cJSON *action, *def, *sigs, *target, *urls;
	char k[32], id[400];

	cJSON_AddBoolToObject(p, "isEnabled", 1);
	cJSON_AddItemToObject(p, "trigger", trigger(s));
	action = cJSON_AddObjectToObject(p, "action");
	cJSON_AddStringToObject(action, "actionType", "CreateMonitor");
	def = cJSON_AddObjectToObject(action, "monitorDefinition");
	cJSON_AddItemToObject(def, "computeConfiguration",
			      cJSON_Parse("{\"computeType\":\"ServerlessSpark\",\"instanceType\":"
					  "\"standard_e4s_v3\",\"runtimeVersion\":\"3.3\","
					  "\"computeIdentity\":{\"computeIdentityType\":\"AmlToken\"}}"));
	target = cJSON_AddObjectToObject(def, "monitoringTarget");
	cJSON_AddStringToObject(target, "taskType", "Classification");
	snprintf(id, sizeof id, "azureml:/onlineEndpoints/%s/deployments/%s", s->endpoint,
		 s->deployment);
	cJSON_AddStringToObject(target, "deploymentId", id);
	sigs = cJSON_AddObjectToObject(def, "signals");
	for (at = kinds; *at; at = *comma ? comma + 1 : comma) {
		comma = strchr(at, ',') ? strchr(at, ',') : at + strlen(at);
		snprintf(k, sizeof k, "%.*s", (int)(comma - at), at);
		if (strcmp(k, "drift") && strcmp(k, "quality") && strcmp(k, "prediction")) {
			snprintf(msg, mlen, "--signals takes drift, quality and prediction, not \"%s\"",
				 k);
			cJSON_Delete(o);
			return NULL;
		}
		signal(sigs, k, s);
	}
	if (s->nwebhooks == 0)
		return o;
	urls = cJSON_AddArrayToObject(
	    cJSON_AddObjectToObject(cJSON_AddObjectToObject(def, "alertNotificationSettings"),
				    "webhookNotificationSettings"),
	    "urls");
	for (size_t i = 0; i < s->nwebhooks && i < MONITOR_SPEC_WEBHOOKS; i++)
		cJSON_AddItemToArray(urls, cJSON_CreateString(s->webhooks[i]));
	return o;
}
