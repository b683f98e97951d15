/*
 * batchcodec.c: batch resources <-> JSON (see batchcodec.h).
 *
 * Decisions on input Azure sends that has no local meaning: compute,
 * resources.instanceType, identity, sku, kind and location are ignored; a
 * model given as a DataPath or OutputPath reference is refused (400), as is
 * an mltable data asset. On output a batch deployment's compute is null and
 * a data version's "name" is its version (the asset name is in its id).
 */
#include "state/batchcodec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include "state/names.h"

#define MAP_MAX 256
#define ACTION_MAX (64 * 1024) /* a schedule's action object, as JSON text */

/* ---- reading: the first problem wins ------------------------------------ */

struct in {
	struct error *err;
	int failed;
	int doc; /* a store document: problems are 500 CorruptState */
};

static int in_fail(struct in *in, const char *field, const char *what)
{
	if (!in->failed) {
		if (in->doc)
			error_set(in->err, 500, "CorruptState", "stored %s must be %s", field,
				  what);
		else
			error_set(in->err, 400, "ValidationError", "%s must be %s", field, what);
	}
	in->failed = 1;
	return -1;
}

static void in_oom(struct in *in)
{
	if (!in->failed)
		error_set(in->err, 500, "InternalError", "out of memory");
	in->failed = 1;
}

/* Member KEY of O (any case), NULL when absent or JSON null. */
static const cJSON *get(const cJSON *o, const char *key)
{
	const cJSON *m = cJSON_IsObject(o) ? cJSON_GetObjectItem(o, key) : NULL;

	return m != NULL && !cJSON_IsNull(m) ? m : NULL;
}

static const char *in_str(struct in *in, const cJSON *o, const char *key, const char *field)
{
	const cJSON *m = get(o, key);

	if (m == NULL)
		return NULL;
	if (!cJSON_IsString(m)) {
		in_fail(in, field, "a string");
		return NULL;
	}
	return m->valuestring;
}

static const cJSON *in_obj(struct in *in, const cJSON *o, const char *key, const char *field)
{
	const cJSON *m = get(o, key);

	if (m != NULL && !cJSON_IsObject(m)) {
		in_fail(in, field, "an object");
		return NULL;
	}
	return m;
}

static int is_integer(const cJSON *m)
{
	return cJSON_IsNumber(m) && isfinite(m->valuedouble) &&
	       m->valuedouble == floor(m->valuedouble) && fabs(m->valuedouble) < 1e15;
}

/* Sets *out (and *has when given) only when KEY is present; an integer in
 * min..max, or a string of one (the SDK's params_override sends "20"). */
static void in_int(struct in *in, const cJSON *o, const char *key, const char *field, long min,
		   long max, int *out, int *has)
{
	const cJSON *m = get(o, key);
	double v;
	char *end;
	char what[64];

	if (m == NULL)
		return;
	if (cJSON_IsString(m)) {
		v = strtod(m->valuestring, &end);
		if (end == m->valuestring || *end != '\0' || v != floor(v))
			v = NAN;
	} else {
		v = is_integer(m) ? m->valuedouble : NAN;
	}
	if (!(v >= (double)min && v <= (double)max)) {
		snprintf(what, sizeof what, "an integer %ld-%ld", min, max);
		in_fail(in, field, what);
		return;
	}
	*out = (int)v;
	if (has != NULL)
		*has = 1;
}

static void in_num64(struct in *in, const cJSON *o, const char *key, int64_t *out)
{
	const cJSON *m = get(o, key);

	if (m == NULL)
		return;
	if (!is_integer(m))
		in_fail(in, key, "an integer");
	else
		*out = (int64_t)m->valuedouble;
}

static void in_bool(struct in *in, const cJSON *o, const char *key, const char *field, int *out)
{
	const cJSON *m = get(o, key);

	if (m == NULL)
		return;
	if (cJSON_IsBool(m))
		*out = cJSON_IsTrue(m);
	else if (cJSON_IsString(m) && (!strcasecmp(m->valuestring, "true") ||
				       !strcasecmp(m->valuestring, "false")))
		*out = !strcasecmp(m->valuestring, "true");
	else
		in_fail(in, field, "true or false");
}

/* Replaces heap string *dst with a copy of s (when s is not NULL). */
static void in_heap(struct in *in, char **dst, const char *s)
{
	char *c;

	if (s == NULL || in->failed)
		return;
	c = strdup(s);
	if (c == NULL)
		return in_oom(in);
	free(*dst);
	*dst = c;
}

static void in_fixed(struct in *in, char *dst, size_t len, const char *s, const char *field)
{
	if (s == NULL || in->failed)
		return;
	if (strlen(s) >= len) {
		in_fail(in, field, "shorter");
		return;
	}
	memcpy(dst, s, strlen(s) + 1);
}

/* {"k": "v", ...} -> *out, replaced whole. */
static void in_kv(struct in *in, const cJSON *o, const char *key, const char *field,
		  struct kvlist *out)
{
	const cJSON *m = get(o, key), *it;
	struct kvlist l = {NULL, 0};

	if (m == NULL || in->failed)
		return;
	if (!cJSON_IsObject(m)) {
		in_fail(in, field, "an object of strings");
		return;
	}
	cJSON_ArrayForEach(it, m)
	{
		if (l.n >= MAP_MAX || it->string == NULL ||
		    !(cJSON_IsString(it) || cJSON_IsNull(it))) {
			kvlist_clear(&l);
			in_fail(in, field, "an object of at most 256 strings");
			return;
		}
		if (kvlist_set(&l, it->string, cJSON_IsString(it) ? it->valuestring : "") < 0) {
			kvlist_clear(&l);
			return in_oom(in);
		}
	}
	kvlist_clear(out);
	*out = l;
}

/* ISO 8601 ("PT30S") or an integer number of seconds -> milliseconds. */
static void in_duration(struct in *in, const cJSON *o, const char *key, const char *field,
			int *out, int *has)
{
	const cJSON *m = get(o, key);
	long ms = -1;

	if (m == NULL)
		return;
	if (cJSON_IsString(m))
		ms = codec_iso_duration_ms(m->valuestring);
	else if (is_integer(m) && m->valuedouble >= 0 && m->valuedouble <= JOB_TIMEOUT_MS_MAX / 1000)
		ms = (long)m->valuedouble * 1000;
	if (ms < 1 || ms > JOB_TIMEOUT_MS_MAX) {
		in_fail(in, field, "a duration of 1 ms to 24 h (\"PT30S\" or seconds)");
		return;
	}
	*out = (int)ms;
	if (has != NULL)
		*has = 1;
}

static int in_done(struct in *in)
{
	return in->failed ? -1 : 0;
}

/* ---- writing ------------------------------------------------------------ */

static void add_str(cJSON *o, const char *key, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, key, s);
	else
		cJSON_AddNullToObject(o, key);
}

static void add_i64(cJSON *o, const char *key, int64_t v)
{
	cJSON_AddNumberToObject(o, key, (double)v);
}

static void add_prop(cJSON *o, const char *key, int64_t v)
{
	char buf[32];

	snprintf(buf, sizeof buf, "%lld", (long long)v);
	cJSON_AddStringToObject(o, key, buf);
}

static void asset_id(const struct codec_ctx *c, const char *kind, const char *name,
		     const char *version, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s/versions/%s", c != NULL && c->ws_prefix ? c->ws_prefix : "",
		 kind, name, version);
}

/* ---- batch endpoints ---------------------------------------------------- */

void batchcodec_scoring_uri(const struct codec_ctx *c, const char *name, char *buf, size_t len)
{
	snprintf(buf, len, "%s/batch/%s/jobs", c != NULL && c->base_url ? c->base_url : "", name);
}

cJSON *batchcodec_endpoint_to_json(const struct batch_endpoint *ep, const struct codec_ctx *c)
{
	char path[80], uri[1024];
	cJSON *o, *p, *d;

	snprintf(path, sizeof path, "/batchEndpoints/%s", ep->name);
	o = codec_resource_head(c, path, ep->name, "batchEndpoints");
	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "tags", codec_kv_to_json(&ep->tags));
	cJSON_AddStringToObject(o, "location", "local");
	p = cJSON_AddObjectToObject(o, "properties");
	add_str(p, "description", ep->description);
	cJSON_AddItemToObject(p, "properties", codec_kv_to_json(&ep->properties));
	batchcodec_scoring_uri(c, ep->name, uri, sizeof uri);
	cJSON_AddStringToObject(p, "scoringUri", uri);
	cJSON_AddNullToObject(p, "swaggerUri");
	cJSON_AddStringToObject(p, "authMode", auth_mode_name(ep->auth));
	d = cJSON_AddObjectToObject(p, "defaults");
	add_str(d, "deploymentName", ep->default_deployment[0] ? ep->default_deployment : NULL);
	cJSON_AddStringToObject(p, "provisioningState", prov_state_name(ep->state));
	codec_system_data(o, ep->created);
	return o;
}

static void endpoint_keys(struct in *in, const cJSON *keys, struct batch_endpoint *out)
{
	const char *pk = in_str(in, keys, "primaryKey", "properties.keys.primaryKey");
	const char *sk = in_str(in, keys, "secondaryKey", "properties.keys.secondaryKey");

	if ((pk && (strlen(pk) < 16 || strlen(pk) > RESOURCE_KEY_LEN)) ||
	    (sk && (strlen(sk) < 16 || strlen(sk) > RESOURCE_KEY_LEN))) {
		in_fail(in, "properties.keys", "16-48 characters each");
		return;
	}
	in_fixed(in, out->primary_key, sizeof out->primary_key, pk, "properties.keys");
	in_fixed(in, out->secondary_key, sizeof out->secondary_key, sk, "properties.keys");
}

int batchcodec_endpoint_from_json(const cJSON *body, struct batch_endpoint *out, struct error *err)
{
	struct in in = {err, 0, 0};
	const cJSON *p, *d, *keys;
	const char *auth, *def;

	if (!cJSON_IsObject(body))
		return error_set(err, 400, "ValidationError", "the body must be a JSON object");
	p = in_obj(&in, body, "properties", "properties");
	auth = in_str(&in, p, "authMode", "properties.authMode");
	if (auth != NULL && auth_mode_parse(auth, &out->auth) < 0)
		in_fail(&in, "properties.authMode", "AADToken, AMLToken or Key");
	d = in_obj(&in, p, "defaults", "properties.defaults");
	if (d != NULL && cJSON_HasObjectItem(d, "deploymentName")) {
		def = in_str(&in, d, "deploymentName", "properties.defaults.deploymentName");
		out->default_deployment[0] = '\0';
		in_fixed(&in, out->default_deployment, sizeof out->default_deployment, def,
			 "properties.defaults.deploymentName");
	}
	keys = in_obj(&in, p, "keys", "properties.keys");
	if (keys != NULL)
		endpoint_keys(&in, keys, out);
	in_heap(&in, &out->description, in_str(&in, p, "description", "properties.description"));
	in_kv(&in, p, "properties", "properties.properties", &out->properties);
	in_kv(&in, body, "tags", "tags", &out->tags);
	return in_done(&in);
}

/* ---- batch deployments -------------------------------------------------- */

static void add_settings(cJSON *p, const struct batch_settings *s)
{
	char timeout[32];
	cJSON *rs, *res;

	cJSON_AddNumberToObject(p, "errorThreshold", s->error_threshold);
	rs = cJSON_AddObjectToObject(p, "retrySettings");
	cJSON_AddNumberToObject(rs, "maxRetries", s->max_retries);
	codec_ms_to_iso(s->timeout_ms, timeout, sizeof timeout);
	cJSON_AddStringToObject(rs, "timeout", timeout);
	cJSON_AddNumberToObject(p, "miniBatchSize", s->mini_batch_size);
	cJSON_AddStringToObject(p, "loggingLevel", batch_logging_name(s->logging));
	cJSON_AddNumberToObject(p, "maxConcurrencyPerInstance", s->max_concurrency);
	cJSON_AddStringToObject(p, "outputAction", batch_output_action_name(s->output_action));
	cJSON_AddStringToObject(p, "outputFileName", s->output_file);
	res = cJSON_AddObjectToObject(p, "resources");
	cJSON_AddNumberToObject(res, "instanceCount", s->instance_count);
	cJSON_AddNullToObject(res, "instanceType");
	cJSON_AddNullToObject(res, "properties");
}

cJSON *batchcodec_deployment_to_json(const struct batch_deployment *d, const struct codec_ctx *c)
{
	char path[128], id[1024];
	cJSON *o, *p, *m;

	snprintf(path, sizeof path, "/batchEndpoints/%s/deployments/%s", d->endpoint, d->name);
	o = codec_resource_head(c, path, d->name, "batchEndpoints/deployments");
	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "tags", codec_kv_to_json(&d->tags));
	cJSON_AddStringToObject(o, "location", "local");
	p = cJSON_AddObjectToObject(o, "properties");
	add_str(p, "description", d->description);
	cJSON_AddItemToObject(p, "properties", codec_kv_to_json(&d->properties));
	codec_add_code_configuration(p, d->code_name, d->code_version, d->code_dir,
				     d->scoring_script, c);
	if (d->env_name[0] != '\0') {
		asset_id(c, "environments", d->env_name, d->env_version, id, sizeof id);
		cJSON_AddStringToObject(p, "environmentId", id);
	}
	cJSON_AddItemToObject(p, "environmentVariables", codec_kv_to_json(&d->variables));
	cJSON_AddNullToObject(p, "compute");
	m = cJSON_AddObjectToObject(p, "model");
	cJSON_AddStringToObject(m, "referenceType", "Id");
	asset_id(c, "models", d->model_name, d->model_version, id, sizeof id);
	cJSON_AddStringToObject(m, "assetId", id);
	add_settings(p, &d->settings);
	cJSON_AddStringToObject(p, "provisioningState", prov_state_name(d->state));
	if (d->error != NULL)
		cJSON_AddStringToObject(p, "error", d->error);
	codec_system_data(o, d->created);
	return o;
}

/* The settings a deployment (or a job's overrides) may name, into o. */
static void in_settings(struct in *in, const cJSON *p, struct job_overrides *o)
{
	const cJSON *rs = in_obj(in, p, "retrySettings", "properties.retrySettings");
	const cJSON *res = in_obj(in, p, "resources", "properties.resources");
	const cJSON *comp = get(p, "compute");
	const char *s;

	in_int(in, p, "miniBatchSize", "properties.miniBatchSize", 1, JOB_MINI_BATCH_MAX,
	       &o->mini_batch_size, &o->has_mini_batch_size);
	in_int(in, p, "maxConcurrencyPerInstance", "properties.maxConcurrencyPerInstance", 1,
	       JOB_CONCURRENCY_MAX, &o->max_concurrency, &o->has_max_concurrency);
	in_int(in, p, "errorThreshold", "properties.errorThreshold", -1, 2147483647L,
	       &o->error_threshold, &o->has_error_threshold);
	in_int(in, rs, "maxRetries", "properties.retrySettings.maxRetries", 0, JOB_RETRIES_MAX,
	       &o->max_retries, &o->has_max_retries);
	in_duration(in, rs, "timeout", "properties.retrySettings.timeout", &o->timeout_ms,
		    &o->has_timeout_ms);
	in_int(in, res, "instanceCount", "properties.resources.instanceCount", 1,
	       JOB_INSTANCES_MAX, &o->instance_count, &o->has_instance_count);
	if (cJSON_IsObject(comp)) /* the invocation's compute.instanceCount */
		in_int(in, comp, "instanceCount", "properties.compute.instanceCount", 1,
		       JOB_INSTANCES_MAX, &o->instance_count, &o->has_instance_count);
	s = in_str(in, p, "loggingLevel", "properties.loggingLevel");
	if (s != NULL && batch_logging_parse(s, &o->logging) < 0)
		in_fail(in, "properties.loggingLevel", "Info, Warning or Debug");
	o->has_logging = s != NULL;
	in_fixed(in, o->output_file, sizeof o->output_file,
		 in_str(in, p, "outputFileName", "properties.outputFileName"),
		 "properties.outputFileName");
}

static void in_model(struct in *in, const cJSON *p, struct batch_deployment *out)
{
	const cJSON *m = get(p, "model");
	const char *ref = NULL, *kind;

	if (m == NULL || in->failed)
		return;
	if (cJSON_IsString(m)) {
		ref = m->valuestring;
	} else if (cJSON_IsObject(m)) {
		kind = in_str(in, m, "referenceType", "properties.model.referenceType");
		if (kind != NULL && strcasecmp(kind, "Id") != 0) {
			in_fail(in, "properties.model.referenceType",
				"Id (DataPath and OutputPath models are not served locally)");
			return;
		}
		ref = in_str(in, m, "assetId", "properties.model.assetId");
	}
	if (ref == NULL) {
		in_fail(in, "properties.model", "a model reference ({\"assetId\": ...} or a string)");
		return;
	}
	if (codec_parse_asset_ref(ref, "models", out->model_name, sizeof out->model_name,
				  out->model_version, sizeof out->model_version, in->err) < 0)
		in->failed = 1;
}

static void in_code(struct in *in, const cJSON *p, struct batch_deployment *out)
{
	const cJSON *cc = in_obj(in, p, "codeConfiguration", "properties.codeConfiguration");
	const char *env = in_str(in, p, "environmentId", "properties.environmentId");
	const char *code;

	if (env != NULL && !in->failed &&
	    codec_parse_asset_ref(env, "environments", out->env_name, sizeof out->env_name,
				  out->env_version, sizeof out->env_version, in->err) < 0)
		in->failed = 1;
	if (cc == NULL)
		return;
	code = in_str(in, cc, "codeId", "properties.codeConfiguration.codeId");
	if (!in->failed && codec_parse_code_ref(code, out->code_name, sizeof out->code_name,
						out->code_version, sizeof out->code_version,
						&out->code_dir, in->err) < 0)
		in->failed = 1;
	in_heap(in, &out->scoring_script,
		in_str(in, cc, "scoringScript", "properties.codeConfiguration.scoringScript"));
}

int batchcodec_deployment_from_json(const cJSON *body, struct batch_deployment *out,
				    struct error *err)
{
	struct in in = {err, 0, 0};
	struct job_overrides o;
	const cJSON *p;
	const char *action;

	if (!cJSON_IsObject(body))
		return error_set(err, 400, "ValidationError", "the body must be a JSON object");
	memset(&o, 0, sizeof o);
	p = in_obj(&in, body, "properties", "properties");
	in_model(&in, p, out);
	in_code(&in, p, out);
	in_settings(&in, p, &o);
	action = in_str(&in, p, "outputAction", "properties.outputAction");
	if (action != NULL && batch_output_action_parse(action, &out->settings.output_action) < 0)
		in_fail(&in, "properties.outputAction", "AppendRow or SummaryOnly");
	in_heap(&in, &out->description, in_str(&in, p, "description", "properties.description"));
	in_kv(&in, p, "environmentVariables", "properties.environmentVariables", &out->variables);
	in_kv(&in, p, "properties", "properties.properties", &out->properties);
	in_kv(&in, body, "tags", "tags", &out->tags);
	if (in_done(&in) < 0)
		return -1;
	return job_settings_apply(&out->settings, &o, err);
}

/* ---- data assets -------------------------------------------------------- */

cJSON *batchcodec_data_to_json(const struct data_version *d, const struct codec_ctx *c)
{
	char path[600];
	cJSON *o, *p;

	snprintf(path, sizeof path, "/data/%s/versions/%s", d->name, d->version);
	o = codec_resource_head(c, path, d->version, "data/versions");
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	add_str(p, "description", d->description);
	cJSON_AddItemToObject(p, "tags", codec_kv_to_json(&d->tags));
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddBoolToObject(p, "isAnonymous", 0);
	cJSON_AddBoolToObject(p, "isArchived", d->archived);
	cJSON_AddStringToObject(p, "dataType", data_type_name(d->type));
	cJSON_AddStringToObject(p, "dataUri", d->uri);
	codec_system_data(o, d->created);
	return o;
}

int batchcodec_data_from_json(const cJSON *body, struct data_version *out, struct error *err)
{
	struct in in = {err, 0, 0};
	const cJSON *p;
	const char *type;

	if (!cJSON_IsObject(body))
		return error_set(err, 400, "ValidationError", "the body must be a JSON object");
	p = in_obj(&in, body, "properties", "properties");
	type = in_str(&in, p, "dataType", "properties.dataType");
	if (type != NULL && data_type_parse(type, &out->type) < 0)
		in_fail(&in, "properties.dataType",
			"uri_file or uri_folder (mltable is not served locally)");
	in_heap(&in, &out->uri, in_str(&in, p, "dataUri", "properties.dataUri"));
	in_heap(&in, &out->description, in_str(&in, p, "description", "properties.description"));
	in_bool(&in, p, "isArchived", "properties.isArchived", &out->archived);
	in_kv(&in, p, "tags", "properties.tags", &out->tags);
	return in_done(&in);
}

/* ---- jobs --------------------------------------------------------------- */

static void job_figures(cJSON *pp, const struct job *j)
{
	add_prop(pp, "totalItems", j->items);
	add_prop(pp, "succeededItems", j->items_ok);
	add_prop(pp, "failedItems", j->items_failed);
	add_prop(pp, "totalMiniBatches", j->mini_batches);
	add_prop(pp, "completedMiniBatches", j->mini_batches_done);
	add_prop(pp, "failedMiniBatches", j->mini_batches_failed);
}

static void job_times(cJSON *pp, const struct job *j)
{
	char t[32];

	if (j->started > 0) {
		codec_iso_time(j->started, t, sizeof t);
		cJSON_AddStringToObject(pp, "startTimeUtc", t);
	}
	if (j->ended > 0) {
		codec_iso_time(j->ended, t, sizeof t);
		cJSON_AddStringToObject(pp, "endTimeUtc", t);
	}
}

static cJSON *job_properties(const struct job *j)
{
	cJSON *pp = codec_kv_to_json(&j->properties);

	if (pp == NULL)
		return NULL;
	cJSON_AddStringToObject(pp, "azureml.batchrun", "true");
	cJSON_AddStringToObject(pp, "azureml.deploymentname", j->deployment);
	cJSON_AddStringToObject(pp, "azureml.endpointname", j->endpoint);
	job_figures(pp, j);
	job_times(pp, j);
	if (j->schedule != NULL)
		cJSON_AddStringToObject(pp, "azureml.schedulename", j->schedule);
	if (j->error != NULL)
		cJSON_AddStringToObject(pp, "error", j->error);
	return pp;
}

static void job_io(cJSON *p, const struct job *j)
{
	cJSON *in = cJSON_AddObjectToObject(p, "inputs"), *i, *out, *o;

	i = cJSON_AddObjectToObject(in, j->input_name);
	cJSON_AddStringToObject(i, "jobInputType", data_type_name(j->input_type));
	add_str(i, "uri", j->input_uri);
	cJSON_AddStringToObject(i, "mode", "ReadOnlyMount");
	out = cJSON_AddObjectToObject(p, "outputs");
	o = cJSON_AddObjectToObject(out, "score");
	cJSON_AddStringToObject(o, "jobOutputType", "uri_folder");
	add_str(o, "uri", j->output_uri);
	cJSON_AddStringToObject(o, "mode", "ReadWriteMount");
}

cJSON *batchcodec_job_head(const struct job *j, const struct codec_ctx *c,
			   const char *experiment, cJSON **props)
{
	char path[300];
	cJSON *o, *p;

	snprintf(path, sizeof path, "/jobs/%s", j->name);
	o = codec_resource_head(c, path, j->name, "jobs");
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "jobType", "Pipeline");
	cJSON_AddStringToObject(p, "status", job_status_name(j->status));
	add_str(p, "displayName", j->display_name ? j->display_name : j->name);
	add_str(p, "experimentName", j->experiment ? j->experiment : experiment);
	add_str(p, "description", j->description);
	cJSON_AddBoolToObject(p, "isArchived", 0);
	cJSON_AddNullToObject(p, "computeId");
	*props = p;
	return o;
}

cJSON *batchcodec_job_to_json(const struct job *j, const struct codec_ctx *c)
{
	cJSON *o, *p, *tags;

	o = batchcodec_job_head(j, c, j->endpoint, &p);
	if (o == NULL)
		return NULL;
	tags = codec_kv_to_json(&j->tags);
	if (tags != NULL) {
		cJSON_AddStringToObject(tags, "azureml.batchrun", "true");
		cJSON_AddStringToObject(tags, "azureml.jobtype", "azureml.batchjob");
		cJSON_AddStringToObject(tags, "azureml.deploymentname", j->deployment);
		cJSON_AddItemToObject(p, "tags", tags);
	}
	cJSON_AddItemToObject(p, "properties", job_properties(j));
	job_io(p, j);
	add_settings(cJSON_AddObjectToObject(p, "settings"), &j->settings);
	codec_system_data(o, j->created);
	return o;
}

/* ---- the invocation ----------------------------------------------------- */

static void in_input(struct in *in, const cJSON *p, struct job_invocation *out)
{
	const cJSON *data = in_obj(in, p, "InputData", "properties.InputData"), *it;
	const char *type, *uri;

	if (in->failed)
		return;
	if (data == NULL || cJSON_GetArraySize(data) != 1) {
		in_fail(in, "properties.InputData", "an object with exactly one input");
		return;
	}
	it = data->child;
	if (!cJSON_IsObject(it) || names_check_asset(it->string, "input name", NULL) < 0 ||
	    strlen(it->string) > JOB_INPUT_NAME_MAX) {
		in_fail(in, "properties.InputData", "{NAME: {\"JobInputType\", \"Uri\"}} with a "
						    "short name");
		return;
	}
	memcpy(out->input_name, it->string, strlen(it->string) + 1);
	type = in_str(in, it, "JobInputType", "InputData.JobInputType");
	if (type == NULL || data_type_parse(type, &out->input_type) < 0) {
		in_fail(in, "InputData.JobInputType",
			"UriFolder or UriFile (Literal inputs are for pipeline deployments)");
		return;
	}
	uri = in_str(in, it, "Uri", "InputData.Uri");
	if (uri == NULL || uri[0] == '\0') {
		in_fail(in, "InputData.Uri", "a data asset, a datastore path or a local path");
		return;
	}
	in_heap(in, &out->input_uri, uri);
}

static void in_output(struct in *in, const cJSON *p, struct job_invocation *out)
{
	const cJSON *data = in_obj(in, p, "OutputData", "properties.OutputData"), *o;

	if (data == NULL || in->failed)
		return;
	o = get(data, "score");
	if (o == NULL && cJSON_GetArraySize(data) == 1)
		o = data->child;
	if (!cJSON_IsObject(o)) {
		in_fail(in, "properties.OutputData", "{\"score\": {\"Uri\": FOLDER}}");
		return;
	}
	in_heap(in, &out->output_uri, in_str(in, o, "Uri", "OutputData.Uri"));
}

int batchcodec_invocation_from_json(const cJSON *body, struct job_invocation *out,
				    struct error *err)
{
	struct in in = {err, 0, 0};
	const cJSON *p;

	if (!cJSON_IsObject(body))
		return error_set(err, 400, "ValidationError", "the body must be a JSON object");
	p = in_obj(&in, body, "properties", "properties");
	if (p == NULL && !in.failed)
		return error_set(err, 400, "ValidationError",
				 "the body must be {\"properties\": {\"InputData\": {...}}}");
	in_input(&in, p, out);
	in_output(&in, p, out);
	in_settings(&in, p, &out->overrides);
	in_kv(&in, p, "properties", "properties.properties", &out->properties);
	in_kv(&in, p, "tags", "properties.tags", &out->tags);
	in_heap(&in, &out->display_name, in_str(&in, p, "displayName", "properties.displayName"));
	in_heap(&in, &out->experiment,
		in_str(&in, p, "experimentName", "properties.experimentName"));
	in_heap(&in, &out->description, in_str(&in, p, "description", "properties.description"));
	return in_done(&in);
}

void batchcodec_invocation_cleanup(struct job_invocation *inv)
{
	free(inv->input_uri);
	free(inv->output_uri);
	free(inv->display_name);
	free(inv->experiment);
	free(inv->description);
	kvlist_clear(&inv->properties);
	kvlist_clear(&inv->tags);
	memset(inv, 0, sizeof *inv);
}

/* ---- schedules ---------------------------------------------------------- */

static cJSON *bits_array(uint64_t bits, int from, int to, int names)
{
	cJSON *a = cJSON_CreateArray();

	for (int i = from; a != NULL && i <= to; i++) {
		int v = names ? (i + 1) % 7 : i; /* weekdays listed Monday first */

		if (bits & 1ull << v)
			cJSON_AddItemToArray(a, names ? cJSON_CreateString(schedule_weekday_name(v))
						      : cJSON_CreateNumber(v));
	}
	return a;
}

static cJSON *trigger_to_json(const struct trigger *t)
{
	cJSON *o = cJSON_CreateObject(), *s;

	cJSON_AddStringToObject(o, "triggerType", trigger_type_name(t->type));
	add_str(o, "startTime", t->start[0] ? t->start : NULL);
	add_str(o, "endTime", t->end[0] ? t->end : NULL);
	cJSON_AddStringToObject(o, "timeZone", t->time_zone);
	if (t->type == TRIGGER_CRON) {
		cJSON_AddStringToObject(o, "expression", t->expression);
		return o;
	}
	cJSON_AddStringToObject(o, "frequency", recur_freq_name(t->freq));
	cJSON_AddNumberToObject(o, "interval", t->interval);
	if (!t->has_pattern) {
		cJSON_AddNullToObject(o, "schedule");
		return o;
	}
	s = cJSON_AddObjectToObject(o, "schedule");
	cJSON_AddItemToObject(s, "hours", bits_array(t->hours, 0, 23, 0));
	cJSON_AddItemToObject(s, "minutes", bits_array(t->minutes, 0, 59, 0));
	cJSON_AddItemToObject(s, "weekDays", bits_array(t->weekdays, 0, 6, 1));
	cJSON_AddItemToObject(s, "monthDays", bits_array(t->monthdays, 1, 31, 0));
	return o;
}

cJSON *batchcodec_schedule_to_json(const struct schedule *s, const struct codec_ctx *c)
{
	char path[300];
	cJSON *o, *p, *action;

	snprintf(path, sizeof path, "/schedules/%s", s->name);
	o = codec_resource_head(c, path, s->name, "schedules");
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	add_str(p, "displayName", s->display_name);
	add_str(p, "description", s->description);
	cJSON_AddItemToObject(p, "tags", codec_kv_to_json(&s->tags));
	cJSON_AddItemToObject(p, "properties", codec_kv_to_json(&s->properties));
	cJSON_AddBoolToObject(p, "isEnabled", s->enabled);
	cJSON_AddStringToObject(p, "provisioningState", prov_state_name(s->state));
	cJSON_AddItemToObject(p, "trigger", trigger_to_json(&s->trigger));
	action = s->action != NULL ? cJSON_Parse(s->action) : NULL;
	cJSON_AddItemToObject(p, "action", action != NULL ? action : cJSON_CreateObject());
	codec_system_data(o, s->created);
	return o;
}

/* A list of integers in min..max (or weekday names) into a bit set. */
static uint64_t in_bits(struct in *in, const cJSON *o, const char *key, const char *field, int min,
			int max, int names)
{
	const cJSON *a = get(o, key), *it;
	uint64_t bits = 0;

	if (a == NULL)
		return 0;
	if (!cJSON_IsArray(a)) {
		in_fail(in, field, "an array");
		return 0;
	}
	cJSON_ArrayForEach(it, a)
	{
		/* the range before the cast: 4.1e10 does not fit an int */
		int ok = names && cJSON_IsString(it)
			     ? 1
			     : is_integer(it) && it->valuedouble >= min && it->valuedouble <= max;
		int v = !ok ? min - 1
			: names && cJSON_IsString(it) ? schedule_weekday_parse(it->valuestring)
						      : (int)it->valuedouble;

		if (v < min || v > max) {
			in_fail(in, field, names ? "an array of week days (Monday ... Sunday)"
						 : "an array of integers in range");
			return 0;
		}
		bits |= 1ull << v;
	}
	return bits;
}

static void in_pattern(struct in *in, const cJSON *s, struct trigger *t)
{
	t->has_pattern = s != NULL;
	if (s == NULL)
		return;
	t->hours = (uint32_t)in_bits(in, s, "hours", "trigger.schedule.hours", 0, 23, 0);
	t->minutes = in_bits(in, s, "minutes", "trigger.schedule.minutes", 0, 59, 0);
	t->weekdays = (uint8_t)in_bits(in, s, "weekDays", "trigger.schedule.weekDays", 0, 6, 1);
	t->monthdays = (uint32_t)in_bits(in, s, "monthDays", "trigger.schedule.monthDays", 1, 31, 0);
}

static void in_trigger(struct in *in, const cJSON *o, struct trigger *t)
{
	const char *type = in_str(in, o, "triggerType", "properties.trigger.triggerType");
	const char *f;

	if (in->failed)
		return;
	if (o == NULL || type == NULL || trigger_type_parse(type, &t->type) < 0) {
		in_fail(in, "properties.trigger.triggerType", "Cron or Recurrence");
		return;
	}
	in_fixed(in, t->start, sizeof t->start, in_str(in, o, "startTime", "trigger.startTime"),
		 "trigger.startTime");
	in_fixed(in, t->end, sizeof t->end, in_str(in, o, "endTime", "trigger.endTime"),
		 "trigger.endTime");
	in_fixed(in, t->time_zone, sizeof t->time_zone, in_str(in, o, "timeZone", "trigger.timeZone"),
		 "trigger.timeZone");
	if (t->type == TRIGGER_CRON) {
		in_fixed(in, t->expression, sizeof t->expression,
			 in_str(in, o, "expression", "trigger.expression"), "trigger.expression");
		return;
	}
	f = in_str(in, o, "frequency", "trigger.frequency");
	if (f == NULL || recur_freq_parse(f, &t->freq) < 0)
		in_fail(in, "trigger.frequency", "Minute, Hour, Day, Week or Month");
	in_int(in, o, "interval", "trigger.interval", 1, SCHEDULE_INTERVAL_MAX, &t->interval, NULL);
	in_pattern(in, in_obj(in, o, "schedule", "trigger.schedule"), t);
}

static void in_action(struct in *in, const cJSON *a, struct schedule *out)
{
	const char *type = in_str(in, a, "actionType", "properties.action.actionType");
	char *text;

	if (in->failed)
		return;
	if (a == NULL || type == NULL || strlen(type) >= sizeof out->action_type) {
		in_fail(in, "properties.action.actionType", "a string (InvokeBatchEndpoint)");
		return;
	}
	text = cJSON_PrintUnformatted(a);
	if (text == NULL)
		return in_oom(in);
	if (strlen(text) > ACTION_MAX) {
		free(text);
		in_fail(in, "properties.action", "at most 64 KiB of JSON");
		return;
	}
	memcpy(out->action_type, type, strlen(type) + 1);
	free(out->action);
	out->action = text;
}

int batchcodec_schedule_from_json(const cJSON *body, struct schedule *out, struct error *err)
{
	struct in in = {err, 0, 0};
	const cJSON *p;

	if (!cJSON_IsObject(body))
		return error_set(err, 400, "ValidationError", "the body must be a JSON object");
	p = in_obj(&in, body, "properties", "properties");
	if (out->trigger.time_zone[0] == '\0')
		memcpy(out->trigger.time_zone, "UTC", 4);
	in_trigger(&in, in_obj(&in, p, "trigger", "properties.trigger"), &out->trigger);
	in_action(&in, in_obj(&in, p, "action", "properties.action"), out);
	in_bool(&in, p, "isEnabled", "properties.isEnabled", &out->enabled);
	in_heap(&in, &out->display_name, in_str(&in, p, "displayName", "properties.displayName"));
	in_heap(&in, &out->description, in_str(&in, p, "description", "properties.description"));
	in_kv(&in, p, "tags", "properties.tags", &out->tags);
	in_kv(&in, p, "properties", "properties.properties", &out->properties);
	return in_done(&in);
}

/* ---- store documents ---------------------------------------------------- */

static const struct codec_ctx doc_ctx = {"", "", "", ""}; /* ids without a workspace prefix */

static void doc_settings(cJSON *o, const struct batch_settings *s)
{
	cJSON *d = cJSON_AddObjectToObject(o, "settings");

	cJSON_AddNumberToObject(d, "miniBatchSize", s->mini_batch_size);
	cJSON_AddNumberToObject(d, "instanceCount", s->instance_count);
	cJSON_AddNumberToObject(d, "maxConcurrencyPerInstance", s->max_concurrency);
	cJSON_AddNumberToObject(d, "maxRetries", s->max_retries);
	cJSON_AddNumberToObject(d, "timeoutMs", s->timeout_ms);
	cJSON_AddNumberToObject(d, "errorThreshold", s->error_threshold);
	cJSON_AddStringToObject(d, "outputAction", batch_output_action_name(s->output_action));
	cJSON_AddStringToObject(d, "outputFileName", s->output_file);
	cJSON_AddStringToObject(d, "loggingLevel", batch_logging_name(s->logging));
}

static void doc_read_settings(struct in *in, const cJSON *o, struct batch_settings *s)
{
	const cJSON *d = in_obj(in, o, "settings", "settings");
	const char *a = in_str(in, d, "outputAction", "settings.outputAction");
	const char *l = in_str(in, d, "loggingLevel", "settings.loggingLevel");

	batch_settings_default(s);
	if (d == NULL)
		return;
	in_int(in, d, "miniBatchSize", "settings", 1, JOB_MINI_BATCH_MAX, &s->mini_batch_size,
	       NULL);
	in_int(in, d, "instanceCount", "settings", 1, JOB_INSTANCES_MAX, &s->instance_count, NULL);
	in_int(in, d, "maxConcurrencyPerInstance", "settings", 1, JOB_CONCURRENCY_MAX,
	       &s->max_concurrency, NULL);
	in_int(in, d, "maxRetries", "settings", 0, JOB_RETRIES_MAX, &s->max_retries, NULL);
	in_int(in, d, "timeoutMs", "settings", 1, JOB_TIMEOUT_MS_MAX, &s->timeout_ms, NULL);
	in_int(in, d, "errorThreshold", "settings", -1, 2147483647L, &s->error_threshold, NULL);
	if ((a != NULL && batch_output_action_parse(a, &s->output_action) < 0) ||
	    (l != NULL && batch_logging_parse(l, &s->logging) < 0))
		in_fail(in, "settings", "valid");
	in_fixed(in, s->output_file, sizeof s->output_file,
		 in_str(in, d, "outputFileName", "settings.outputFileName"), "settings");
}

static void doc_state(struct in *in, const cJSON *o, enum prov_state *out)
{
	const char *s = in_str(in, o, "state", "state");

	if (s == NULL || prov_state_parse(s, out) < 0)
		in_fail(in, "state", "a provisioning state");
}

cJSON *batchcodec_endpoint_to_doc(const struct batch_endpoint *ep)
{
	cJSON *o = batchcodec_endpoint_to_json(ep, &doc_ctx);

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "primaryKey", ep->primary_key);
	cJSON_AddStringToObject(o, "secondaryKey", ep->secondary_key);
	cJSON_AddStringToObject(o, "state", prov_state_name(ep->state));
	add_i64(o, "created", ep->created);
	return o;
}

int batchcodec_endpoint_from_doc(const cJSON *o, struct batch_endpoint *out, struct error *err)
{
	struct in in = {err, 0, 1};

	in_fixed(&in, out->name, sizeof out->name, in_str(&in, o, "name", "name"), "name");
	if (!in.failed && batchcodec_endpoint_from_json(o, out, err) < 0)
		return error_set(err, 500, "CorruptState", "stored batch endpoint: %s",
				 err->message);
	in_fixed(&in, out->primary_key, sizeof out->primary_key,
		 in_str(&in, o, "primaryKey", "primaryKey"), "primaryKey");
	in_fixed(&in, out->secondary_key, sizeof out->secondary_key,
		 in_str(&in, o, "secondaryKey", "secondaryKey"), "secondaryKey");
	doc_state(&in, o, &out->state);
	in_num64(&in, o, "created", &out->created);
	return in_done(&in);
}

cJSON *batchcodec_deployment_to_doc(const struct batch_deployment *d)
{
	cJSON *o = batchcodec_deployment_to_json(d, &doc_ctx);
	cJSON *cc;
	char ref[RESOURCE_ASSET_NAME_MAX + RESOURCE_VERSION_MAX + 16];

	if (o == NULL)
		return NULL;
	/* a code asset as azureml:N:V: without a workspace prefix its id would
	 * read back as a host directory */
	cc = cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(o, "properties"),
					      "codeConfiguration");
	if (d->code_name[0] != '\0' && cc != NULL) {
		snprintf(ref, sizeof ref, "azureml:%s:%s", d->code_name, d->code_version);
		cJSON_DeleteItemFromObjectCaseSensitive(cc, "codeId");
		if (cJSON_AddStringToObject(cc, "codeId", ref) == NULL) {
			cJSON_Delete(o);
			return NULL;
		}
	}
	cJSON_AddStringToObject(o, "endpoint", d->endpoint);
	cJSON_AddStringToObject(o, "state", prov_state_name(d->state));
	add_i64(o, "created", d->created);
	return o;
}

int batchcodec_deployment_from_doc(const cJSON *o, struct batch_deployment *out,
				   struct error *err)
{
	struct in in = {err, 0, 1};

	in_fixed(&in, out->name, sizeof out->name, in_str(&in, o, "name", "name"), "name");
	in_fixed(&in, out->endpoint, sizeof out->endpoint, in_str(&in, o, "endpoint", "endpoint"),
		 "endpoint");
	batch_settings_default(&out->settings);
	if (!in.failed && batchcodec_deployment_from_json(o, out, err) < 0)
		return error_set(err, 500, "CorruptState", "stored batch deployment: %s",
				 err->message);
	in_heap(&in, &out->error, in_str(&in, get(o, "properties"), "error", "error"));
	doc_state(&in, o, &out->state);
	in_num64(&in, o, "created", &out->created);
	return in_done(&in);
}

cJSON *batchcodec_data_to_doc(const struct data_version *d)
{
	cJSON *o = batchcodec_data_to_json(d, &doc_ctx);

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "asset", d->name);
	add_i64(o, "created", d->created);
	add_i64(o, "serial", (int64_t)d->serial);
	return o;
}

int batchcodec_data_from_doc(const cJSON *o, struct data_version *out, struct error *err)
{
	struct in in = {err, 0, 1};
	int64_t serial = 0;

	in_fixed(&in, out->name, sizeof out->name, in_str(&in, o, "asset", "asset"), "asset");
	in_fixed(&in, out->version, sizeof out->version, in_str(&in, o, "name", "name"), "name");
	if (!in.failed && batchcodec_data_from_json(o, out, err) < 0)
		return error_set(err, 500, "CorruptState", "stored data asset: %s", err->message);
	in_num64(&in, o, "created", &out->created);
	in_num64(&in, o, "serial", &serial); /* absent in documents before it */
	out->serial = serial > 0 ? (uint64_t)serial : 0;
	return in_done(&in);
}

cJSON *batchcodec_job_to_doc(const struct job *j)
{
	cJSON *o = cJSON_CreateObject(), *f;

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "name", j->name);
	if (j->kind == JOB_KIND_MONITOR)
		cJSON_AddStringToObject(o, "kind", "monitor");
	cJSON_AddStringToObject(o, "endpoint", j->endpoint);
	cJSON_AddStringToObject(o, "deployment", j->deployment);
	add_str(o, "displayName", j->display_name);
	add_str(o, "experimentName", j->experiment);
	add_str(o, "description", j->description);
	cJSON_AddStringToObject(o, "status", job_status_name(j->status));
	doc_settings(o, &j->settings);
	cJSON_AddStringToObject(o, "inputName", j->input_name);
	cJSON_AddStringToObject(o, "inputType", data_type_name(j->input_type));
	add_str(o, "inputUri", j->input_uri);
	add_str(o, "inputPath", j->input_path);
	add_str(o, "outputUri", j->output_uri);
	add_str(o, "outputDir", j->output_dir);
	add_str(o, "schedule", j->schedule);
	add_str(o, "error", j->error);
	cJSON_AddItemToObject(o, "tags", codec_kv_to_json(&j->tags));
	cJSON_AddItemToObject(o, "properties", codec_kv_to_json(&j->properties));
	f = cJSON_AddArrayToObject(o, "figures");
	cJSON_AddItemToArray(f, cJSON_CreateNumber((double)j->mini_batches));
	cJSON_AddItemToArray(f, cJSON_CreateNumber((double)j->mini_batches_done));
	cJSON_AddItemToArray(f, cJSON_CreateNumber((double)j->mini_batches_failed));
	cJSON_AddItemToArray(f, cJSON_CreateNumber((double)j->items));
	cJSON_AddItemToArray(f, cJSON_CreateNumber((double)j->items_ok));
	cJSON_AddItemToArray(f, cJSON_CreateNumber((double)j->items_failed));
	add_i64(o, "created", j->created);
	add_i64(o, "started", j->started);
	add_i64(o, "ended", j->ended);
	return o;
}

static void doc_figures(struct in *in, const cJSON *o, struct job *j)
{
	int64_t *dst[] = {&j->mini_batches, &j->mini_batches_done, &j->mini_batches_failed,
			  &j->items, &j->items_ok, &j->items_failed};
	const cJSON *f = get(o, "figures");

	if (!cJSON_IsArray(f) || cJSON_GetArraySize(f) != 6) {
		in_fail(in, "figures", "an array of 6 numbers");
		return;
	}
	for (int i = 0; i < 6; i++) {
		const cJSON *v = cJSON_GetArrayItem(f, i);

		if (!is_integer(v))
			in_fail(in, "figures", "an array of 6 numbers");
		else
			*dst[i] = (int64_t)v->valuedouble;
	}
}

int batchcodec_job_from_doc(const cJSON *o, struct job *out, struct error *err)
{
	struct in in = {err, 0, 1};
	const char *status = in_str(&in, o, "status", "status");
	const char *type = in_str(&in, o, "inputType", "inputType");

	in_fixed(&in, out->name, sizeof out->name, in_str(&in, o, "name", "name"), "name");
	out->kind = cJSON_IsString(get(o, "kind")) && !strcmp(get(o, "kind")->valuestring, "monitor")
			? JOB_KIND_MONITOR
			: JOB_KIND_BATCH;
	in_fixed(&in, out->endpoint, sizeof out->endpoint, in_str(&in, o, "endpoint", "e"), "e");
	in_fixed(&in, out->deployment, sizeof out->deployment, in_str(&in, o, "deployment", "d"),
		 "deployment");
	in_fixed(&in, out->input_name, sizeof out->input_name, in_str(&in, o, "inputName", "i"),
		 "inputName");
	if (status == NULL || job_status_parse(status, &out->status) < 0 || type == NULL ||
	    data_type_parse(type, &out->input_type) < 0)
		in_fail(&in, "status/inputType", "valid");
	doc_read_settings(&in, o, &out->settings);
	in_heap(&in, &out->display_name, in_str(&in, o, "displayName", "displayName"));
	in_heap(&in, &out->experiment, in_str(&in, o, "experimentName", "experimentName"));
	in_heap(&in, &out->description, in_str(&in, o, "description", "description"));
	in_heap(&in, &out->input_uri, in_str(&in, o, "inputUri", "inputUri"));
	in_heap(&in, &out->input_path, in_str(&in, o, "inputPath", "inputPath"));
	in_heap(&in, &out->output_uri, in_str(&in, o, "outputUri", "outputUri"));
	in_heap(&in, &out->output_dir, in_str(&in, o, "outputDir", "outputDir"));
	in_heap(&in, &out->schedule, in_str(&in, o, "schedule", "schedule"));
	in_heap(&in, &out->error, in_str(&in, o, "error", "error"));
	in_kv(&in, o, "tags", "tags", &out->tags);
	in_kv(&in, o, "properties", "properties", &out->properties);
	doc_figures(&in, o, out);
	in_num64(&in, o, "created", &out->created);
	in_num64(&in, o, "started", &out->started);
	in_num64(&in, o, "ended", &out->ended);
	return in_done(&in);
}

cJSON *batchcodec_schedule_to_doc(const struct schedule *s)
{
	cJSON *o = batchcodec_schedule_to_json(s, &doc_ctx);

	if (o == NULL)
		return NULL;
	cJSON_AddStringToObject(o, "state", prov_state_name(s->state));
	add_i64(o, "created", s->created);
	add_i64(o, "updated", s->updated);
	return o;
}

int batchcodec_schedule_from_doc(const cJSON *o, struct schedule *out, struct error *err)
{
	struct in in = {err, 0, 1};

	in_fixed(&in, out->name, sizeof out->name, in_str(&in, o, "name", "name"), "name");
	out->enabled = 1;
	if (!in.failed && batchcodec_schedule_from_json(o, out, err) < 0)
		return error_set(err, 500, "CorruptState", "stored schedule: %s", err->message);
	doc_state(&in, o, &out->state);
	in_num64(&in, o, "created", &out->created);
	in_num64(&in, o, "updated", &out->updated);
	return in_done(&in);
}
