/*
 * codec.c: resources <-> Azure ML 2024-04-01 JSON, and the workspace document.
 *
 * Decisions on input Azure sends that has no local meaning:
 *  - model version: Azure's "CustomModel"/"MLFlowModel" mean custom_model /
 *    mlflow_model; isAnonymous, jobName, properties.properties (sha256/size are
 *    computed, never taken) are ignored; flavors are kept as sent.
 *  - environment version: image and condaFile are kept and returned as sent;
 *    build, inferenceConfig, osType are ignored; without environmentKind the
 *    kind is python when interpreterPath, image or condaFile is given, else it
 *    stays as pre-filled (native for a new one).
 *  - code version: codeUri is kept; the runtime maps it to a directory.
 *  - endpoint: compute, location, kind, identity, sku are ignored; tags are
 *    top-level (Azure TrackedResource).
 *  - deployment: instance count is sku.capacity (default 1); instanceType is
 *    echoed; scaleSettings, probes, appInsightsEnabled, modelMountPath,
 *    privateNetworkConnection, egressPublicNetworkAccess are ignored; an asset
 *    ref that is not NAME:VERSION in one of the three spellings (Azure's
 *    placeholder "string" among them) is a 400 naming the field.
 * On output a version resource's "name" is its version, as Azure does; the
 * asset name is in the id (".../models/NAME/versions/V"). Fields Azure always
 * sends and the SDK reads without a None check are always present (flavors,
 * systemData, scaleSettings, probes).
 */
#include "state/codec.h"

#include <math.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <time.h>

#include "state/batchcodec.h"
#include "state/datacollector.h"
#include "state/names.h"

#define TYPE_PREFIX "Microsoft.MachineLearningServices/workspaces/"
#define MAP_MAX 256	/* entries in a tags / variables / traffic map */
#define MODULES_MAX 256 /* requiredModules */
#define DOC_FORMAT 1

/* ---- small output helpers ---- */

static void iso_time(int64_t t, char *buf, size_t len)
{
	time_t tt = (time_t)t;
	struct tm tm;

	if (gmtime_r(&tt, &tm) == NULL || strftime(buf, len, "%Y-%m-%dT%H:%M:%SZ", &tm) == 0)
		snprintf(buf, len, "1970-01-01T00:00:00Z");
}

static void add_system_data(cJSON *o, int64_t created, int64_t modified)
{
	char t[32];
	cJSON *sd = cJSON_AddObjectToObject(o, "systemData");

	iso_time(created, t, sizeof t);
	cJSON_AddStringToObject(sd, "createdAt", t);
	cJSON_AddStringToObject(sd, "createdBy", "mldeck");
	cJSON_AddStringToObject(sd, "createdByType", "User");
	iso_time(modified > created ? modified : created, t, sizeof t);
	cJSON_AddStringToObject(sd, "lastModifiedAt", t);
	cJSON_AddStringToObject(sd, "lastModifiedBy", "mldeck");
	cJSON_AddStringToObject(sd, "lastModifiedByType", "User");
}

static cJSON *kv_to_json(const struct kvlist *l)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o != NULL && i < l->n; i++)
		cJSON_AddStringToObject(o, l->items[i].key, l->items[i].value);
	return o;
}

static cJSON *traffic_to_json(const struct traffic *t)
{
	cJSON *o = cJSON_CreateObject();

	for (size_t i = 0; o != NULL && i < t->n; i++)
		cJSON_AddNumberToObject(o, t->items[i].name, t->items[i].pct);
	return o;
}

static void add_opt_string(cJSON *o, const char *key, const char *s)
{
	if (s != NULL)
		cJSON_AddStringToObject(o, key, s);
}

/* A new {"id","name","type"} object; id is prefix + path. */
static cJSON *resource_head(const struct codec_ctx *c, const char *path, const char *name,
			    const char *type)
{
	char buf[1024];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	snprintf(buf, sizeof buf, "%s%s", c->ws_prefix != NULL ? c->ws_prefix : "", path);
	cJSON_AddStringToObject(o, "id", buf);
	cJSON_AddStringToObject(o, "name", name);
	snprintf(buf, sizeof buf, TYPE_PREFIX "%s", type);
	cJSON_AddStringToObject(o, "type", buf);
	return o;
}

static void ms_to_iso(int ms, char *buf, size_t len)
{
	int h = ms / 3600000, m = ms / 60000 % 60, s = ms / 1000 % 60, frac = ms % 1000;
	size_t n = (size_t)snprintf(buf, len, "PT");

	if (h > 0)
		n += (size_t)snprintf(buf + n, len - n, "%dH", h);
	if (m > 0 && n < len)
		n += (size_t)snprintf(buf + n, len - n, "%dM", m);
	if (n >= len)
		return;
	if (frac > 0) {
		char f[8];
		size_t k = (size_t)snprintf(f, sizeof f, "%03d", frac);

		while (k > 0 && f[k - 1] == '0')
			f[--k] = '\0';
		snprintf(buf + n, len - n, "%d.%sS", s, f);
	} else if (s > 0 || (h == 0 && m == 0)) {
		snprintf(buf + n, len - n, "%dS", s);
	}
}

/* The same blocks for the other codecs of state/ (batchcodec.c). */
cJSON *codec_resource_head(const struct codec_ctx *c, const char *path, const char *name,
			   const char *type)
{
	return resource_head(c, path, name, type);
}

void codec_system_data(cJSON *o, int64_t created)
{
	add_system_data(o, created, created);
}

cJSON *codec_kv_to_json(const struct kvlist *l)
{
	return kv_to_json(l);
}

void codec_ms_to_iso(int ms, char *buf, size_t len)
{
	ms_to_iso(ms, buf, len);
}

void codec_iso_time(int64_t t, char *buf, size_t len)
{
	iso_time(t, buf, len);
}

/* ---- resources to JSON ---- */

/* Parsed JSON text, or an empty object when absent or not JSON. */
static cJSON *json_or_empty(const char *text)
{
	cJSON *j = text != NULL ? cJSON_Parse(text) : NULL;

	if (j == NULL || !cJSON_IsObject(j)) {
		cJSON_Delete(j);
		j = cJSON_CreateObject();
	}
	return j;
}

/* The members every asset version has. */
static cJSON *asset_properties(cJSON *o, const char *description, const struct kvlist *tags,
			       int archived)
{
	cJSON *p = cJSON_AddObjectToObject(o, "properties");

	if (description != NULL)
		cJSON_AddStringToObject(p, "description", description);
	else
		cJSON_AddNullToObject(p, "description");
	cJSON_AddItemToObject(p, "tags", kv_to_json(tags));
	cJSON_AddBoolToObject(p, "isAnonymous", 0);
	cJSON_AddBoolToObject(p, "isArchived", archived);
	return p;
}

cJSON *codec_model_version_to_json(const struct model_version *m, const struct codec_ctx *c)
{
	char path[RESOURCE_ASSET_NAME_MAX + RESOURCE_VERSION_MAX + 32], size[32];
	cJSON *o, *p, *pp;

	snprintf(path, sizeof path, "/models/%s/versions/%s", m->name, m->version);
	o = resource_head(c, path, m->version, "models/versions");
	if (o == NULL)
		return NULL;
	p = asset_properties(o, m->description, &m->tags, m->archived);
	pp = cJSON_AddObjectToObject(p, "properties");
	cJSON_AddStringToObject(pp, "sha256", m->sha256);
	snprintf(size, sizeof size, "%llu", (unsigned long long)m->size);
	cJSON_AddStringToObject(pp, "size", size);
	cJSON_AddItemToObject(p, "flavors", json_or_empty(m->flavors));
	cJSON_AddStringToObject(p, "modelType", model_type_name(m->type));
	add_opt_string(p, "modelUri", m->uri);
	cJSON_AddNullToObject(p, "jobName");
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	add_system_data(o, m->created, m->created);
	return o;
}

cJSON *codec_env_version_to_json(const struct env_version *e, const struct codec_ctx *c)
{
	char path[RESOURCE_ASSET_NAME_MAX + RESOURCE_VERSION_MAX + 32];
	cJSON *o, *p, *mods;

	snprintf(path, sizeof path, "/environments/%s/versions/%s", e->name, e->version);
	o = resource_head(c, path, e->version, "environments/versions");
	if (o == NULL)
		return NULL;
	p = asset_properties(o, e->description, &e->tags, e->archived);
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddStringToObject(p, "environmentType", "UserCreated");
	add_opt_string(p, "image", e->image);
	add_opt_string(p, "condaFile", e->conda_file);
	cJSON_AddStringToObject(p, "osType", "Linux");
	cJSON_AddStringToObject(p, "environmentKind", env_kind_name(e->kind));
	add_opt_string(p, "interpreterPath", e->python);
	cJSON_AddItemToObject(p, "environmentVariables", kv_to_json(&e->variables));
	mods = cJSON_AddArrayToObject(p, "requiredModules");
	for (size_t i = 0; mods != NULL && i < e->nmodules; i++)
		cJSON_AddItemToArray(mods, cJSON_CreateString(e->modules[i]));
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	add_system_data(o, e->created, e->created);
	return o;
}

cJSON *codec_code_version_to_json(const struct code_version *cv, const struct codec_ctx *c)
{
	char path[RESOURCE_ASSET_NAME_MAX + RESOURCE_VERSION_MAX + 32];
	cJSON *o, *p;

	snprintf(path, sizeof path, "/codes/%s/versions/%s", cv->name, cv->version);
	o = resource_head(c, path, cv->version, "codes/versions");
	if (o == NULL)
		return NULL;
	p = asset_properties(o, cv->description, &cv->tags, cv->archived);
	cJSON_AddObjectToObject(p, "properties");
	add_opt_string(p, "codeUri", cv->code_uri);
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	add_system_data(o, cv->created, cv->created);
	return o;
}

cJSON *codec_endpoint_to_json(const struct endpoint *ep, const struct codec_ctx *c)
{
	char path[80], uri[1024];
	cJSON *o, *p;

	snprintf(path, sizeof path, "/onlineEndpoints/%s", ep->name);
	o = resource_head(c, path, ep->name, "onlineEndpoints");
	if (o == NULL)
		return NULL;
	cJSON_AddItemToObject(o, "tags", kv_to_json(&ep->tags));
	cJSON_AddStringToObject(o, "location", "local");
	cJSON_AddStringToObject(o, "kind", "Managed");
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "authMode", auth_mode_name(ep->auth));
	add_opt_string(p, "description", ep->description);
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddItemToObject(p, "traffic", traffic_to_json(&ep->traffic));
	cJSON_AddItemToObject(p, "mirrorTraffic", traffic_to_json(&ep->mirror));
	snprintf(uri, sizeof uri, "%s/endpoints/%s/score", c->base_url != NULL ? c->base_url : "",
		 ep->name);
	cJSON_AddStringToObject(p, "scoringUri", uri);
	cJSON_AddStringToObject(p, "provisioningState", prov_state_name(ep->state));
	cJSON_AddStringToObject(p, "publicNetworkAccess", "Enabled");
	add_system_data(o, ep->created, ep->created);
	return o;
}

/* The ARM id of an asset version. */
static void asset_id(const struct codec_ctx *c, const char *kind, const char *name,
		     const char *version, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s/versions/%s", c->ws_prefix != NULL ? c->ws_prefix : "", kind,
		 name, version);
}

/* Azure's default probe settings, which the SDK reads back. */
static void add_probe(cJSON *p, const char *key)
{
	cJSON *pr = cJSON_AddObjectToObject(p, key);

	cJSON_AddNumberToObject(pr, "failureThreshold", 30);
	cJSON_AddNumberToObject(pr, "successThreshold", 1);
	cJSON_AddStringToObject(pr, "timeout", "PT2S");
	cJSON_AddStringToObject(pr, "period", "PT10S");
	cJSON_AddStringToObject(pr, "initialDelay", "PT10S");
}

void codec_add_code_configuration(cJSON *p, const char *name, const char *version,
				  const char *dir, const char *script, const struct codec_ctx *c)
{
	char buf[1024];
	cJSON *cc;

	if (name[0] == '\0' && dir == NULL && script == NULL)
		return;
	cc = cJSON_AddObjectToObject(p, "codeConfiguration");
	if (name[0] != '\0') {
		asset_id(c, "codes", name, version, buf, sizeof buf);
		cJSON_AddStringToObject(cc, "codeId", buf);
	} else {
		add_opt_string(cc, "codeId", dir);
	}
	add_opt_string(cc, "scoringScript", script);
}

static void add_deployment_properties(cJSON *p, const struct deployment *d,
				      const struct codec_ctx *c)
{
	char buf[1024];
	cJSON *rs, *ss;

	if (d->description != NULL)
		cJSON_AddStringToObject(p, "description", d->description);
	else
		cJSON_AddNullToObject(p, "description");
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddStringToObject(p, "endpointComputeType", "Managed");
	asset_id(c, "models", d->model_name, d->model_version, buf, sizeof buf);
	cJSON_AddStringToObject(p, "model", buf);
	if (d->env_name[0] != '\0') {
		asset_id(c, "environments", d->env_name, d->env_version, buf, sizeof buf);
		cJSON_AddStringToObject(p, "environmentId", buf);
	}
	codec_add_code_configuration(p, d->code_name, d->code_version, d->code_dir,
				     d->scoring_script, c);
	cJSON_AddItemToObject(p, "environmentVariables", kv_to_json(&d->variables));
	ss = cJSON_AddObjectToObject(p, "scaleSettings");
	cJSON_AddStringToObject(ss, "scaleType", "Default");
	rs = cJSON_AddObjectToObject(p, "requestSettings");
	cJSON_AddStringToObject(rs, "maxQueueWait", "PT0S");
	ms_to_iso(d->timeout_ms, buf, sizeof buf);
	cJSON_AddStringToObject(rs, "requestTimeout", buf);
	cJSON_AddNumberToObject(rs, "maxConcurrentRequestsPerInstance", d->max_concurrent);
	cJSON_AddNullToObject(p, "modelMountPath");
	cJSON_AddBoolToObject(p, "appInsightsEnabled", 0);
	add_probe(p, "livenessProbe");
	add_probe(p, "readinessProbe");
	add_opt_string(p, "instanceType", d->instance_type);
	cJSON_AddBoolToObject(p, "privateNetworkConnection", 0);
	cJSON_AddStringToObject(p, "egressPublicNetworkAccess", "Enabled");
	cJSON_AddStringToObject(p, "provisioningState", prov_state_name(d->state));
	add_opt_string(p, "error", d->error);
	if (d->data_collector != NULL)
		cJSON_AddItemToObject(p, "dataCollector", cJSON_Parse(d->data_collector));
}

cJSON *codec_deployment_to_json(const struct deployment *d, const struct codec_ctx *c)
{
	char path[128];
	cJSON *o, *sku;

	snprintf(path, sizeof path, "/onlineEndpoints/%s/deployments/%s", d->endpoint, d->name);
	o = resource_head(c, path, d->name, "onlineEndpoints/deployments");
	if (o == NULL)
		return NULL;
	cJSON_AddObjectToObject(o, "tags");
	cJSON_AddStringToObject(o, "location", "local");
	cJSON_AddStringToObject(o, "kind", "Managed");
	add_deployment_properties(cJSON_AddObjectToObject(o, "properties"), d, c);
	sku = cJSON_AddObjectToObject(o, "sku");
	cJSON_AddStringToObject(sku, "name", "Default");
	cJSON_AddStringToObject(sku, "tier", "Standard");
	cJSON_AddNumberToObject(sku, "capacity", d->instances);
	add_system_data(o, d->created, d->created);
	return o;
}

cJSON *codec_container_to_json(const struct codec_container *k, const struct codec_ctx *c)
{
	char path[RESOURCE_ASSET_NAME_MAX + 32];
	cJSON *o, *p;

	snprintf(path, sizeof path, "/%s/%s", k->kind, k->name);
	o = resource_head(c, path, k->name, k->kind);
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddNullToObject(p, "description");
	cJSON_AddObjectToObject(p, "tags");
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddBoolToObject(p, "isArchived", k->archived);
	add_opt_string(p, "latestVersion", k->latest);
	add_opt_string(p, "nextVersion", k->next);
	add_opt_string(p, "dataType", k->data_type);
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	add_system_data(o, k->created, k->modified);
	return o;
}

cJSON *codec_workspace_info_to_json(const struct codec_workspace_info *w,
				    const struct codec_ctx *c)
{
	cJSON *o = resource_head(c, "", w->name, ""), *p;
	char buf[512];

	if (o == NULL)
		return NULL;
	cJSON_ReplaceItemInObject(o, "type",
				  cJSON_CreateString("Microsoft.MachineLearningServices/workspaces"));
	cJSON_AddStringToObject(o, "location", "local");
	cJSON_AddObjectToObject(o, "tags");
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddStringToObject(p, "friendlyName", w->name);
	cJSON_AddStringToObject(p, "description", "");
	cJSON_AddStringToObject(p, "workspaceId", w->workspace_id);
	snprintf(buf, sizeof buf, "%.300s/providers/Microsoft.Storage/storageAccounts/%.64s",
		 c->rg_prefix != NULL ? c->rg_prefix : "", w->storage_account);
	cJSON_AddStringToObject(p, "storageAccount", buf);
	cJSON_AddBoolToObject(p, "hbiWorkspace", 0);
	cJSON_AddNullToObject(p, "imageBuildCompute");
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	cJSON_AddStringToObject(p, "publicNetworkAccess", "Enabled");
	cJSON_AddBoolToObject(p, "storageHnsEnabled", 0);
	cJSON_AddItemToObject(o, "identity", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItem(o, "identity"), "type", "None");
	cJSON_AddItemToObject(o, "sku", cJSON_CreateObject());
	cJSON_AddStringToObject(cJSON_GetObjectItem(o, "sku"), "name", "Basic");
	cJSON_AddStringToObject(cJSON_GetObjectItem(o, "sku"), "tier", "Basic");
	add_system_data(o, w->created, w->created);
	return o;
}

cJSON *codec_datastore_to_json(const struct codec_datastore *d, const struct codec_ctx *c)
{
	cJSON *o = resource_head(c, "/datastores/workspaceblobstore", "workspaceblobstore",
				 "datastores"),
	      *p, *cr;

	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	cJSON_AddNullToObject(p, "description");
	cJSON_AddObjectToObject(p, "tags");
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddBoolToObject(p, "isDefault", 1);
	cr = cJSON_AddObjectToObject(p, "credentials");
	cJSON_AddStringToObject(cr, "credentialsType", "AccountKey");
	cJSON_AddStringToObject(p, "datastoreType", "AzureBlob");
	cJSON_AddStringToObject(p, "accountName", d->account_name);
	cJSON_AddStringToObject(p, "containerName", d->container_name);
	cJSON_AddStringToObject(p, "endpoint", d->endpoint);
	cJSON_AddStringToObject(p, "protocol", "https");
	cJSON_AddStringToObject(p, "serviceDataAccessAuthIdentity", "None");
	add_system_data(o, d->created, d->created);
	return o;
}

cJSON *codec_operation_to_json(const struct operation *op, const struct codec_ctx *c)
{
	char buf[512], t[32];
	cJSON *o = cJSON_CreateObject();

	if (o == NULL)
		return NULL;
	snprintf(buf, sizeof buf, "%s/providers/Microsoft.MachineLearningServices/locations/local/"
		 "mfeOperationsStatus/%s",
		 c->sub_prefix != NULL ? c->sub_prefix : "", op->id);
	cJSON_AddStringToObject(o, "id", buf);
	cJSON_AddStringToObject(o, "name", op->id);
	cJSON_AddStringToObject(o, "status", op_status_name(op->status));
	cJSON_AddNumberToObject(o, "percentComplete", op->status == OP_RUNNING ? 0.0 : 100.0);
	iso_time(op->start, t, sizeof t);
	cJSON_AddStringToObject(o, "startTime", t);
	if (op->status != OP_RUNNING) {
		iso_time(op->end, t, sizeof t);
		cJSON_AddStringToObject(o, "endTime", t);
	}
	if (op->error != NULL) {
		cJSON *e = cJSON_AddObjectToObject(o, "error");

		cJSON_AddStringToObject(e, "code", "DeploymentFailed");
		cJSON_AddStringToObject(e, "message", op->error);
	}
	return o;
}

cJSON *codec_list(cJSON *items)
{
	return codec_page(items, NULL);
}

cJSON *codec_page(cJSON *items, const char *next_link)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		cJSON_Delete(items);
		return NULL;
	}
	cJSON_AddItemToObject(o, "value", items != NULL ? items : cJSON_CreateArray());
	add_opt_string(o, "nextLink", next_link);
	return o;
}

cJSON *codec_error(const struct error *err)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *e = cJSON_AddObjectToObject(o, "error");

	cJSON_AddStringToObject(e, "code", err->code[0] ? err->code : "InternalError");
	cJSON_AddStringToObject(e, "message", err->message);
	return o;
}

/* ---- input helpers ---- */

static int bad(struct error *err, const char *field, const char *what)
{
	return error_set(err, 400, "ValidationError", "%s must be %s", field, what);
}

/* Member KEY of OBJ, NULL when absent or JSON null. */
static const cJSON *member(const cJSON *obj, const char *key)
{
	const cJSON *m = obj != NULL ? cJSON_GetObjectItemCaseSensitive(obj, key) : NULL;

	return m != NULL && !cJSON_IsNull(m) ? m : NULL;
}

/* *out: the string, or NULL when absent. -1 when present but not a string. */
static int get_string(const cJSON *obj, const char *key, const char *field, const char **out,
		      struct error *err)
{
	const cJSON *m = member(obj, key);

	*out = NULL;
	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m))
		return bad(err, field, "a string");
	*out = m->valuestring;
	return 0;
}

/* Replaces heap string *dst with a copy of s (when s is not NULL). */
static int take_string(char **dst, const char *s, struct error *err)
{
	char *c;

	if (s == NULL)
		return 0;
	c = strdup(s);
	if (c == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	free(*dst);
	*dst = c;
	return 0;
}

static int is_integer(const cJSON *m)
{
	return cJSON_IsNumber(m) && isfinite(m->valuedouble) &&
	       m->valuedouble == floor(m->valuedouble) && fabs(m->valuedouble) < 1e15;
}

/* *out changes only when KEY is present; -1 when not an integer in min..max. */
static int get_int(const cJSON *obj, const char *key, const char *field, int min, int max, int *out,
		   struct error *err)
{
	const cJSON *m = member(obj, key);

	if (m == NULL)
		return 0;
	if (!is_integer(m) || m->valuedouble < min || m->valuedouble > max)
		return error_set(err, 400, "ValidationError", "%s must be an integer %d-%d", field,
				 min, max);
	*out = (int)m->valuedouble;
	return 0;
}

/* An object member that must be an object when present. */
static int get_object(const cJSON *obj, const char *key, const char *field, const cJSON **out,
		      struct error *err)
{
	const cJSON *m = member(obj, key);

	*out = NULL;
	if (m == NULL)
		return 0;
	if (!cJSON_IsObject(m))
		return bad(err, field, "an object");
	*out = m;
	return 0;
}

/* {"k": "v", ...} -> *out (replaced whole, only on success). */
static int kv_from_json(const cJSON *obj, const char *field, struct kvlist *out, struct error *err)
{
	struct kvlist l = {NULL, 0};
	const cJSON *it;

	if (!cJSON_IsObject(obj))
		return bad(err, field, "an object of strings");
	cJSON_ArrayForEach(it, obj)
	{
		if (l.n >= MAP_MAX) {
			kvlist_clear(&l);
			return error_set(err, 400, "ValidationError", "%s has more than %d entries",
					 field, MAP_MAX);
		}
		if (!cJSON_IsString(it)) {
			kvlist_clear(&l);
			return error_set(err, 400, "ValidationError", "%s.%s must be a string",
					 field, it->string);
		}
		if (kvlist_set(&l, it->string, it->valuestring) < 0) {
			kvlist_clear(&l);
			return error_set(err, 500, "InternalError", "out of memory");
		}
	}
	kvlist_clear(out);
	*out = l;
	return 0;
}

static int opt_kv(const cJSON *obj, const char *key, const char *field, struct kvlist *out,
		  struct error *err)
{
	const cJSON *m = member(obj, key);

	return m == NULL ? 0 : kv_from_json(m, field, out, err);
}

/* The body and its "properties" object (NULL when absent). */
static int body_properties(const cJSON *body, const cJSON **props, struct error *err)
{
	if (!cJSON_IsObject(body))
		return error_set(err, 400, "ValidationError",
				 "the request body must be a JSON object");
	return get_object(body, "properties", "properties", props, err);
}

/* ---- parsing resources ---- */

/* An optional boolean member; *out changes only when present. */
static int get_bool(const cJSON *obj, const char *key, const char *field, int *out,
		    struct error *err)
{
	const cJSON *m = member(obj, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsBool(m))
		return bad(err, field, "true or false");
	*out = cJSON_IsTrue(m);
	return 0;
}

/* An optional object member kept as JSON text in *dst. */
static int get_json_text(const cJSON *obj, const char *key, const char *field, char **dst,
			 struct error *err)
{
	const cJSON *m;
	char *text;

	if (get_object(obj, key, field, &m, err) < 0)
		return -1;
	if (m == NULL)
		return 0;
	text = cJSON_PrintUnformatted(m);
	if (text == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	free(*dst);
	*dst = text;
	return 0;
}

int codec_model_version_from_json(const cJSON *body, struct model_version *out,
				  const char **model_uri, struct error *err)
{
	const cJSON *p;
	const char *desc, *type;

	if (model_uri != NULL)
		*model_uri = NULL;
	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "modelType", "properties.modelType", &type, err) < 0 ||
	    get_bool(p, "isArchived", "properties.isArchived", &out->archived, err) < 0 ||
	    get_json_text(p, "flavors", "properties.flavors", &out->flavors, err) < 0)
		return -1;
	if (type != NULL && model_type_parse(type, &out->type) < 0)
		return bad(err, "properties.modelType",
			   "one of custom_model, mlflow_model, xgboost, linear, mlp");
	if (model_uri != NULL &&
	    get_string(p, "modelUri", "properties.modelUri", model_uri, err) < 0)
		return -1;
	if (opt_kv(p, "tags", "properties.tags", &out->tags, err) < 0)
		return -1;
	return take_string(&out->description, desc, err);
}

int codec_code_version_from_json(const cJSON *body, struct code_version *out,
				 struct error *err)
{
	const cJSON *p;
	const char *desc, *uri;

	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "codeUri", "properties.codeUri", &uri, err) < 0 ||
	    get_bool(p, "isArchived", "properties.isArchived", &out->archived, err) < 0 ||
	    get_bool(p, "isAnonymous", "properties.isAnonymous", &out->anonymous, err) < 0 ||
	    opt_kv(p, "tags", "properties.tags", &out->tags, err) < 0)
		return -1;
	if (uri == NULL || uri[0] == '\0')
		return error_set(err, 400, "ValidationError", "properties.codeUri is required");
	if (take_string(&out->code_uri, uri, err) < 0)
		return -1;
	return take_string(&out->description, desc, err);
}

int codec_container_from_json(const cJSON *body, int *archived, struct error *err)
{
	const cJSON *p;

	if (body_properties(body, &p, err) < 0)
		return -1;
	return get_bool(p, "isArchived", "properties.isArchived", archived, err);
}

static int modules_from_json(const cJSON *arr, struct env_version *out, struct error *err)
{
	int n = cJSON_GetArraySize(arr);
	char **mods;
	const cJSON *it;
	size_t i = 0;

	if (!cJSON_IsArray(arr))
		return bad(err, "properties.requiredModules", "an array of strings");
	if (n > MODULES_MAX)
		return error_set(err, 400, "ValidationError",
				 "properties.requiredModules has more than %d entries",
				 MODULES_MAX);
	mods = calloc((size_t)n + 1, sizeof *mods);
	if (mods == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	cJSON_ArrayForEach(it, arr)
	{
		if (!cJSON_IsString(it) || it->valuestring[0] == '\0' ||
		    (mods[i] = strdup(it->valuestring)) == NULL) {
			for (size_t j = 0; j < i; j++)
				free(mods[j]);
			free(mods);
			return error_set(err, 400, "ValidationError",
					 "properties.requiredModules[%zu] must be a non-empty "
					 "string",
					 i);
		}
		i++;
	}
	for (size_t j = 0; j < out->nmodules; j++)
		free(out->modules[j]);
	free(out->modules);
	out->modules = mods;
	out->nmodules = i;
	return 0;
}

int codec_env_version_from_json(const cJSON *body, struct env_version *out, struct error *err)
{
	const cJSON *p, *mods;
	const char *desc, *kind, *py, *image, *conda;

	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "environmentKind", "properties.environmentKind", &kind, err) < 0 ||
	    get_string(p, "interpreterPath", "properties.interpreterPath", &py, err) < 0 ||
	    get_string(p, "image", "properties.image", &image, err) < 0 ||
	    get_string(p, "condaFile", "properties.condaFile", &conda, err) < 0 ||
	    get_bool(p, "isArchived", "properties.isArchived", &out->archived, err) < 0)
		return -1;
	if (kind != NULL && strcmp(kind, "native") == 0)
		out->kind = ENV_NATIVE;
	else if (kind != NULL && strcmp(kind, "python") == 0)
		out->kind = ENV_PYTHON;
	else if (kind != NULL)
		return bad(err, "properties.environmentKind", "native or python");
	else if (py != NULL || image != NULL || conda != NULL)
		out->kind = ENV_PYTHON;
	if (take_string(&out->image, image, err) < 0 ||
	    take_string(&out->conda_file, conda, err) < 0)
		return -1;
	mods = member(p, "requiredModules");
	if ((mods != NULL && modules_from_json(mods, out, err) < 0) ||
	    opt_kv(p, "environmentVariables", "properties.environmentVariables", &out->variables,
		   err) < 0 ||
	    opt_kv(p, "tags", "properties.tags", &out->tags, err) < 0)
		return -1;
	if (take_string(&out->python, py, err) < 0)
		return -1;
	return take_string(&out->description, desc, err);
}

int codec_traffic_from_json(const cJSON *obj, const char *field, struct traffic *out,
			    struct error *err)
{
	struct traffic t = {NULL, 0};
	const cJSON *it;
	char sub[96];

	if (!cJSON_IsObject(obj))
		return bad(err, field, "an object of deployment name -> integer 0-100");
	cJSON_ArrayForEach(it, obj)
	{
		snprintf(sub, sizeof sub, "%s key", field);
		if (names_check(it->string, sub, err) < 0)
			goto fail;
		if (!is_integer(it) || it->valuedouble < 0 || it->valuedouble > 100) {
			error_set(err, 400, "ValidationError", "%s.%s must be an integer 0-100",
				  field, it->string);
			goto fail;
		}
		if (t.n >= MAP_MAX || traffic_set(&t, it->string, (int)it->valuedouble) < 0) {
			error_set(err, 400, "ValidationError", "%s has too many entries", field);
			goto fail;
		}
	}
	traffic_clear(out);
	*out = t;
	return 0;
fail:
	traffic_clear(&t);
	return -1;
}

int codec_endpoint_from_json(const cJSON *body, struct endpoint *out, struct error *err)
{
	const cJSON *p, *t;
	const char *desc, *auth;

	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "authMode", "properties.authMode", &auth, err) < 0)
		return -1;
	if (auth != NULL && auth_mode_parse(auth, &out->auth) < 0)
		return bad(err, "properties.authMode", "Key or AMLToken");
	t = member(p, "traffic");
	if (t != NULL && codec_traffic_from_json(t, "properties.traffic", &out->traffic, err) < 0)
		return -1;
	t = member(p, "mirrorTraffic");
	if (t != NULL &&
	    codec_traffic_from_json(t, "properties.mirrorTraffic", &out->mirror, err) < 0)
		return -1;
	if (opt_kv(body, "tags", "tags", &out->tags, err) < 0)
		return -1;
	return take_string(&out->description, desc, err);
}

/* Copies s into a fixed buffer; 0 or -1 when it does not fit. */
static int copy_fixed(char *dst, size_t len, const char *s, size_t n)
{
	if (n >= len)
		return -1;
	memcpy(dst, s, n);
	dst[n] = '\0';
	return 0;
}

/* Splits an ARM id ".../KIND/NAME/versions/VERSION" into its two parts. */
static int split_arm(const char *ref, const char *kind, const char **n, size_t *nl, const char **v)
{
	char pat[32];
	const char *p = NULL, *q;

	snprintf(pat, sizeof pat, "/%s/", kind);
	for (q = strstr(ref, pat); q != NULL; q = strstr(q + 1, pat))
		p = q;
	if (p == NULL)
		return -1;
	*n = p + strlen(pat);
	q = strstr(*n, "/versions/");
	if (q == NULL)
		return -1;
	*nl = (size_t)(q - *n);
	*v = q + strlen("/versions/");
	return 0;
}

/* The request field that holds a reference to an asset of KIND. */
static const char *ref_field(const char *kind)
{
	if (strcmp(kind, "models") == 0)
		return "properties.model";
	if (strcmp(kind, "codes") == 0)
		return "properties.codeConfiguration.codeId";
	return "properties.environmentId";
}

int codec_parse_asset_ref(const char *ref, const char *kind, char *name, size_t nlen, char *version,
			  size_t vlen, struct error *err)
{
	const char *field = ref_field(kind);
	const char *n = NULL, *v = NULL, *colon;
	size_t nl = 0;

	if (ref == NULL || ref[0] == '\0')
		return error_set(err, 400, "ValidationError", "%s is required", field);
	if (strchr(ref, '/') != NULL) {
		if (split_arm(ref, kind, &n, &nl, &v) < 0)
			goto bad_ref;
	} else {
		if (strncmp(ref, "azureml:", 8) == 0)
			ref += 8;
		colon = strchr(ref, ':');
		if (colon == NULL || strchr(colon + 1, ':') != NULL)
			goto bad_ref;
		n = ref;
		nl = (size_t)(colon - ref);
		v = colon + 1;
	}
	if (copy_fixed(name, nlen, n, nl) < 0 || copy_fixed(version, vlen, v, strlen(v)) < 0)
		goto bad_ref;
	if (names_check_asset(name, field, err) < 0 || names_check_version(version, field, err) < 0)
		return -1;
	return 0;
bad_ref:
	return error_set(err, 400, "ValidationError",
			 "%s '%.64s' must be NAME:VERSION, azureml:NAME:VERSION or "
			 ".../%s/NAME/versions/VERSION",
			 field, ref, kind);
}

/* Reads one "<number><unit>" group; -1 when malformed. */
static int duration_part(const char **s, double *num, char *unit)
{
	char *end;

	if (**s < '0' || **s > '9')
		return -1;
	*num = strtod(*s, &end);
	if (end == *s || !isfinite(*num) || *end == '\0')
		return -1;
	*unit = *end;
	*s = end + 1;
	return 0;
}

int codec_number_in(const cJSON *m, double min, double max, long long *out)
{
	if (!cJSON_IsNumber(m) || !isfinite(m->valuedouble) || m->valuedouble < min ||
	    m->valuedouble > max)
		return 0;
	*out = (long long)m->valuedouble;
	return 1;
}

long codec_iso_duration_ms(const char *s)
{
	double total = 0, num;
	int in_time = 0, seen = 0;
	char unit;

	if (s == NULL || (s[0] != 'P' && s[0] != 'p'))
		return -1;
	for (s++; *s != '\0';) {
		if ((*s == 'T' || *s == 't') && !in_time) {
			in_time = 1;
			s++;
			continue;
		}
		if (duration_part(&s, &num, &unit) < 0)
			return -1;
		if (unit == 'D' && !in_time)
			total += num * 86400000.0;
		else if (unit == 'H' && in_time)
			total += num * 3600000.0;
		else if (unit == 'M' && in_time)
			total += num * 60000.0;
		else if (unit == 'S' && in_time)
			total += num * 1000.0;
		else
			return -1;
		seen = 1;
	}
	if (!seen || total > 1e12)
		return -1;
	return (long)(total + 0.5);
}

static int deployment_ref(const cJSON *p, const char *key, const char *kind, char *name,
			  size_t nlen, char *version, size_t vlen, struct error *err)
{
	const char *ref;

	if (get_string(p, key, ref_field(kind), &ref, err) < 0)
		return -1;
	if (ref == NULL)
		return 0;
	return codec_parse_asset_ref(ref, kind, name, nlen, version, vlen, err);
}

static int request_settings_from_json(const cJSON *p, struct deployment *out, struct error *err)
{
	const cJSON *rs, *t;
	long ms;

	if (get_object(p, "requestSettings", "properties.requestSettings", &rs, err) < 0)
		return -1;
	if (rs == NULL)
		return 0;
	if (get_int(rs, "maxConcurrentRequestsPerInstance",
		    "properties.requestSettings.maxConcurrentRequestsPerInstance", 1, 1024,
		    &out->max_concurrent, err) < 0)
		return -1;
	t = member(rs, "requestTimeout");
	if (t == NULL)
		return 0;
	if (is_integer(t))
		ms = (long)t->valuedouble;
	else if (cJSON_IsString(t))
		ms = codec_iso_duration_ms(t->valuestring);
	else
		ms = -1;
	if (ms < 1 || ms > 600000)
		return bad(err, "properties.requestSettings.requestTimeout",
			   "an ISO 8601 duration (\"PT5S\") or milliseconds, 1 ms to 10 minutes");
	out->timeout_ms = (int)ms;
	return 0;
}

int codec_parse_code_ref(const char *code, char *name, size_t nlen, char *version, size_t vlen,
			 char **dir, struct error *err)
{
	char *copy;

	if (code == NULL)
		return 0;
	if (strncmp(code, "file://", 7) == 0)
		code += 7;
	/* a code asset (an ARM id or azureml:NAME:V), else a host directory */
	if (code[0] != '/' || strncmp(code, "/subscriptions/", 15) == 0) {
		if (codec_parse_asset_ref(code, "codes", name, nlen, version, vlen, err) < 0)
			return -1;
		free(*dir);
		*dir = NULL;
		return 0;
	}
	copy = strdup(code);
	if (copy == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	name[0] = version[0] = '\0';
	free(*dir);
	*dir = copy;
	return 0;
}

static int code_from_json(const cJSON *p, struct deployment *out, struct error *err)
{
	const cJSON *cc;
	const char *code, *script;

	if (get_object(p, "codeConfiguration", "properties.codeConfiguration", &cc, err) < 0)
		return -1;
	if (cc == NULL)
		return 0;
	if (get_string(cc, "codeId", "properties.codeConfiguration.codeId", &code, err) < 0 ||
	    get_string(cc, "scoringScript", "properties.codeConfiguration.scoringScript", &script,
		       err) < 0 ||
	    codec_parse_code_ref(code, out->code_name, sizeof out->code_name, out->code_version,
				 sizeof out->code_version, &out->code_dir, err) < 0)
		return -1;
	return take_string(&out->scoring_script, script, err);
}

/* dataCollector: checked and kept in its normalized form; null clears it. */
static int data_collector_from_json(const cJSON *p, struct deployment *out, struct error *err)
{
	const cJSON *dc = cJSON_GetObjectItemCaseSensitive(p, "dataCollector");
	struct datacollector d;
	char *text = NULL;

	if (dc == NULL)
		return 0;
	if (!cJSON_IsNull(dc)) {
		if (datacollector_from_json(dc, &d, err) < 0)
			return -1;
		if ((text = datacollector_to_text(&d)) == NULL)
			return error_set(err, 500, "InternalError", "out of memory");
	}
	free(out->data_collector);
	out->data_collector = text;
	return 0;
}

int codec_deployment_from_json(const cJSON *body, struct deployment *out, struct error *err)
{
	const cJSON *p, *sku;
	const char *desc, *itype;

	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "instanceType", "properties.instanceType", &itype, err) < 0 ||
	    deployment_ref(p, "model", "models", out->model_name, sizeof out->model_name,
			   out->model_version, sizeof out->model_version, err) < 0 ||
	    deployment_ref(p, "environmentId", "environments", out->env_name, sizeof out->env_name,
			   out->env_version, sizeof out->env_version, err) < 0 ||
	    code_from_json(p, out, err) < 0 || request_settings_from_json(p, out, err) < 0 ||
	    data_collector_from_json(p, out, err) < 0 ||
	    opt_kv(p, "environmentVariables", "properties.environmentVariables", &out->variables,
		   err) < 0 ||
	    get_object(body, "sku", "sku", &sku, err) < 0 ||
	    get_int(sku, "capacity", "sku.capacity", 1, 64, &out->instances, err) < 0)
		return -1;
	if (out->instances == 0)
		out->instances = 1;
	if (out->max_concurrent == 0)
		out->max_concurrent = 1;
	if (out->timeout_ms == 0)
		out->timeout_ms = 5000;
	if (take_string(&out->instance_type, itype, err) < 0)
		return -1;
	return take_string(&out->description, desc, err);
}

/* ---- the workspace document (state.json) ---- */

static cJSON *doc_model(const struct model_version *m)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", m->name);
	cJSON_AddStringToObject(o, "version", m->version);
	cJSON_AddStringToObject(o, "type", model_type_name(m->type));
	add_opt_string(o, "artifact", m->artifact);
	add_opt_string(o, "uri", m->uri);
	add_opt_string(o, "flavors", m->flavors);
	cJSON_AddBoolToObject(o, "archived", m->archived);
	cJSON_AddStringToObject(o, "sha256", m->sha256);
	cJSON_AddNumberToObject(o, "size", (double)m->size);
	add_opt_string(o, "description", m->description);
	cJSON_AddItemToObject(o, "tags", kv_to_json(&m->tags));
	cJSON_AddNumberToObject(o, "created", (double)m->created);
	cJSON_AddNumberToObject(o, "serial", (double)m->serial);
	return o;
}

static cJSON *doc_env(const struct env_version *e)
{
	cJSON *o = cJSON_CreateObject();
	cJSON *mods;

	cJSON_AddStringToObject(o, "name", e->name);
	cJSON_AddStringToObject(o, "version", e->version);
	cJSON_AddStringToObject(o, "kind", env_kind_name(e->kind));
	add_opt_string(o, "python", e->python);
	add_opt_string(o, "image", e->image);
	add_opt_string(o, "conda_file", e->conda_file);
	cJSON_AddBoolToObject(o, "archived", e->archived);
	cJSON_AddItemToObject(o, "variables", kv_to_json(&e->variables));
	mods = cJSON_AddArrayToObject(o, "modules");
	for (size_t i = 0; i < e->nmodules; i++)
		cJSON_AddItemToArray(mods, cJSON_CreateString(e->modules[i]));
	add_opt_string(o, "description", e->description);
	cJSON_AddItemToObject(o, "tags", kv_to_json(&e->tags));
	cJSON_AddNumberToObject(o, "created", (double)e->created);
	cJSON_AddNumberToObject(o, "serial", (double)e->serial);
	return o;
}

static cJSON *doc_endpoint(const struct endpoint *ep)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", ep->name);
	cJSON_AddStringToObject(o, "auth", auth_mode_name(ep->auth));
	add_opt_string(o, "description", ep->description);
	cJSON_AddItemToObject(o, "traffic", traffic_to_json(&ep->traffic));
	cJSON_AddItemToObject(o, "mirror", traffic_to_json(&ep->mirror));
	cJSON_AddStringToObject(o, "primary_key", ep->primary_key);
	cJSON_AddStringToObject(o, "secondary_key", ep->secondary_key);
	cJSON_AddNumberToObject(o, "key_generation", ep->key_generation);
	cJSON_AddStringToObject(o, "uid", ep->uid); /* workers: what tokens are bound to */
	cJSON_AddStringToObject(o, "state", prov_state_name(ep->state));
	cJSON_AddItemToObject(o, "tags", kv_to_json(&ep->tags));
	cJSON_AddNumberToObject(o, "created", (double)ep->created);
	return o;
}

static cJSON *doc_deployment(const struct deployment *d)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "endpoint", d->endpoint);
	cJSON_AddStringToObject(o, "name", d->name);
	cJSON_AddStringToObject(o, "model_name", d->model_name);
	cJSON_AddStringToObject(o, "model_version", d->model_version);
	cJSON_AddStringToObject(o, "env_name", d->env_name);
	cJSON_AddStringToObject(o, "env_version", d->env_version);
	add_opt_string(o, "code_name", d->code_name[0] ? d->code_name : NULL);
	add_opt_string(o, "code_version", d->code_version[0] ? d->code_version : NULL);
	add_opt_string(o, "code_dir", d->code_dir);
	add_opt_string(o, "scoring_script", d->scoring_script);
	add_opt_string(o, "instance_type", d->instance_type);
	cJSON_AddNumberToObject(o, "instances", d->instances);
	cJSON_AddNumberToObject(o, "max_concurrent", d->max_concurrent);
	cJSON_AddNumberToObject(o, "timeout_ms", d->timeout_ms);
	cJSON_AddItemToObject(o, "variables", kv_to_json(&d->variables));
	cJSON_AddStringToObject(o, "state", prov_state_name(d->state));
	add_opt_string(o, "error", d->error);
	add_opt_string(o, "description", d->description);
	add_opt_string(o, "data_collector", d->data_collector);
	cJSON_AddNumberToObject(o, "created", (double)d->created);
	return o;
}

/* The batch kinds' arrays (batchcodec.h has their document forms). */
static void doc_add_batch(cJSON *doc, const struct workspace *ws)
{
	const struct batch_endpoint **be;
	const struct batch_deployment **bd;
	const struct job **jb;
	const struct schedule **sc;
	cJSON *a;
	size_t n;

	a = cJSON_AddArrayToObject(doc, WORKSPACE_BATCH_ENDPOINTS);
	n = batch_endpoint_list(ws, &be);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, batchcodec_endpoint_to_doc(be[i]));
	free(be);
	a = cJSON_AddArrayToObject(doc, WORKSPACE_BATCH_DEPLOYMENTS);
	n = batch_deployment_list(ws, NULL, &bd);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, batchcodec_deployment_to_doc(bd[i]));
	free(bd);
	a = cJSON_AddArrayToObject(doc, WORKSPACE_JOBS);
	n = batch_job_list(ws, &jb);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, batchcodec_job_to_doc(jb[i]));
	free(jb);
	a = cJSON_AddArrayToObject(doc, WORKSPACE_SCHEDULES);
	n = batch_schedule_list(ws, &sc);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, batchcodec_schedule_to_doc(sc[i]));
	free(sc);
}

static cJSON *doc_code(const struct code_version *cv)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "name", cv->name);
	cJSON_AddStringToObject(o, "version", cv->version);
	add_opt_string(o, "code_uri", cv->code_uri);
	add_opt_string(o, "dir", cv->dir);
	add_opt_string(o, "description", cv->description);
	cJSON_AddItemToObject(o, "tags", kv_to_json(&cv->tags));
	cJSON_AddBoolToObject(o, "archived", cv->archived);
	cJSON_AddBoolToObject(o, "anonymous", cv->anonymous);
	cJSON_AddNumberToObject(o, "created", (double)cv->created);
	cJSON_AddNumberToObject(o, "serial", (double)cv->serial);
	return o;
}

static cJSON *doc_op(const struct operation *op)
{
	cJSON *o = cJSON_CreateObject();

	cJSON_AddStringToObject(o, "id", op->id);
	cJSON_AddStringToObject(o, "endpoint", op->endpoint);
	cJSON_AddStringToObject(o, "deployment", op->deployment);
	cJSON_AddStringToObject(o, "status", op_status_name(op->status));
	add_opt_string(o, "error", op->error);
	cJSON_AddNumberToObject(o, "start", (double)op->start);
	cJSON_AddNumberToObject(o, "end", (double)op->end);
	return o;
}

/* The kinds added after format 1 was fixed: optional arrays, read when present. */
static void doc_add_later_kinds(cJSON *doc, const struct workspace *ws)
{
	const struct code_version **cv;
	const struct data_version **dv;
	struct asset_query all = {VIEW_ALL, ORDER_NAME, 0};
	cJSON *a = cJSON_AddArrayToObject(doc, WORKSPACE_CODES);
	size_t n = workspace_code_query(ws, NULL, &all, &cv);

	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, doc_code(cv[i]));
	free(cv);
	a = cJSON_AddArrayToObject(doc, WORKSPACE_DATA);
	n = workspace_data_query(ws, NULL, &all, &dv);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, batchcodec_data_to_doc(dv[i]));
	free(dv);
	a = cJSON_AddArrayToObject(doc, WORKSPACE_CONTAINERS);
	for (size_t i = 0; i < workspace_container_count(ws); i++) {
		const struct kv *k = workspace_container_at(ws, i);
		cJSON *o = cJSON_CreateObject();

		cJSON_AddStringToObject(o, "kind", k->key);
		cJSON_AddStringToObject(o, "name", k->value);
		cJSON_AddItemToArray(a, o);
	}
	a = cJSON_AddArrayToObject(doc, WORKSPACE_OPERATIONS);
	for (size_t i = 0; i < workspace_op_count(ws); i++)
		cJSON_AddItemToArray(a, doc_op(workspace_op_at(ws, i)));
}

cJSON *codec_workspace_to_json(const struct workspace *ws)
{
	const struct model_version **m;
	const struct env_version **e;
	const struct endpoint **ep;
	const struct deployment **d;
	size_t n;
	cJSON *doc = cJSON_CreateObject(), *a;

	if (doc == NULL)
		return NULL;
	cJSON_AddNumberToObject(doc, "format", DOC_FORMAT);
	cJSON_AddStringToObject(doc, "workspace", workspace_name(ws));
	a = cJSON_AddArrayToObject(doc, "models");
	n = workspace_model_list(ws, &m);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, doc_model(m[i]));
	free(m);
	a = cJSON_AddArrayToObject(doc, "environments");
	n = workspace_env_list(ws, &e);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, doc_env(e[i]));
	free(e);
	a = cJSON_AddArrayToObject(doc, "endpoints");
	n = workspace_endpoint_list(ws, &ep);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, doc_endpoint(ep[i]));
	free(ep);
	a = cJSON_AddArrayToObject(doc, "deployments");
	n = workspace_deployment_list(ws, NULL, &d);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, doc_deployment(d[i]));
	free(d);
	doc_add_batch(doc, ws);
	doc_add_later_kinds(doc, ws);
	return doc;
}

/* The store's rows: one resource of each kind in its document form. */
static cJSON *item_model(const struct workspace *ws, const char *a, const char *b)
{
	const struct model_version *m = workspace_model_find(ws, a, b);

	return m != NULL ? doc_model(m) : NULL;
}

static cJSON *item_env(const struct workspace *ws, const char *a, const char *b)
{
	const struct env_version *e = workspace_env_find(ws, a, b);

	return e != NULL ? doc_env(e) : NULL;
}

static cJSON *item_endpoint(const struct workspace *ws, const char *a, const char *b)
{
	const struct endpoint *ep = workspace_endpoint_find(ws, a);

	(void)b;
	return ep != NULL ? doc_endpoint(ep) : NULL;
}

static cJSON *item_deployment(const struct workspace *ws, const char *a, const char *b)
{
	const struct deployment *d = workspace_deployment_find(ws, a, b);

	return d != NULL ? doc_deployment(d) : NULL;
}

static cJSON *item_code(const struct workspace *ws, const char *a, const char *b)
{
	const struct code_version *cv = workspace_code_find(ws, a, b);

	return cv != NULL ? doc_code(cv) : NULL;
}

static cJSON *item_container(const struct workspace *ws, const char *a, const char *b)
{
	cJSON *o;

	if (!workspace_container_archived(ws, a, b))
		return NULL;
	o = cJSON_CreateObject();
	cJSON_AddStringToObject(o, "kind", a);
	cJSON_AddStringToObject(o, "name", b);
	return o;
}

static cJSON *item_op(const struct workspace *ws, const char *a, const char *b)
{
	const struct operation *op = workspace_op_find(ws, a);

	(void)b;
	return op != NULL ? doc_op(op) : NULL;
}

static cJSON *item_batch_endpoint(const struct workspace *ws, const char *a, const char *b)
{
	const struct batch_endpoint *e = batch_endpoint_find(ws, a);

	(void)b;
	return e != NULL ? batchcodec_endpoint_to_doc(e) : NULL;
}

static cJSON *item_batch_deployment(const struct workspace *ws, const char *a, const char *b)
{
	const struct batch_deployment *d = batch_deployment_find(ws, a, b);

	return d != NULL ? batchcodec_deployment_to_doc(d) : NULL;
}

static cJSON *item_data(const struct workspace *ws, const char *a, const char *b)
{
	const struct data_version *d = workspace_data_find(ws, a, b);

	return d != NULL ? batchcodec_data_to_doc(d) : NULL;
}

static cJSON *item_job(const struct workspace *ws, const char *a, const char *b)
{
	const struct job *j = batch_job_find(ws, a);

	(void)b;
	return j != NULL ? batchcodec_job_to_doc(j) : NULL;
}

static cJSON *item_schedule(const struct workspace *ws, const char *a, const char *b)
{
	const struct schedule *sc = batch_schedule_find(ws, a);

	(void)b;
	return sc != NULL ? batchcodec_schedule_to_doc(sc) : NULL;
}

/* One line per kind (WORKSPACE_* in workspace.h and batch.h). */
static const struct {
	const char *kind;
	cJSON *(*item)(const struct workspace *ws, const char *a, const char *b);
} item_kinds[] = {
	{WORKSPACE_MODELS, item_model},
	{WORKSPACE_ENVIRONMENTS, item_env},
	{WORKSPACE_CODES, item_code},
	{WORKSPACE_DATA, item_data},
	{WORKSPACE_CONTAINERS, item_container},
	{WORKSPACE_ENDPOINTS, item_endpoint},
	{WORKSPACE_DEPLOYMENTS, item_deployment},
	{WORKSPACE_OPERATIONS, item_op},
	{WORKSPACE_BATCH_ENDPOINTS, item_batch_endpoint},
	{WORKSPACE_BATCH_DEPLOYMENTS, item_batch_deployment},
	{WORKSPACE_JOBS, item_job},
	{WORKSPACE_SCHEDULES, item_schedule},
};

const char *codec_workspace_kind(size_t i)
{
	return i < sizeof item_kinds / sizeof item_kinds[0] ? item_kinds[i].kind : NULL;
}

cJSON *codec_workspace_item(const struct workspace *ws, const char *kind, const char *a,
			    const char *b)
{
	for (size_t i = 0; i < sizeof item_kinds / sizeof item_kinds[0]; i++)
		if (strcmp(item_kinds[i].kind, kind) == 0)
			return item_kinds[i].item(ws, a, b);
	return NULL;
}

cJSON *codec_workspace_doc(const char *name)
{
	cJSON *doc = cJSON_CreateObject();

	if (doc != NULL && (cJSON_AddNumberToObject(doc, "format", DOC_FORMAT) == NULL ||
			    cJSON_AddStringToObject(doc, "workspace", name) == NULL)) {
		cJSON_Delete(doc);
		return NULL;
	}
	return doc;
}

/* Reading the document: every problem is a 500 "CorruptState" naming the item. */
struct doc_reader {
	const char *what; /* "models[2]" */
	struct error *err;
};

static int doc_bad(struct doc_reader *r, const char *key)
{
	return error_set(r->err, 500, "CorruptState", "%s.%s is missing or has the wrong type",
			 r->what, key);
}

static int doc_fixed(struct doc_reader *r, const cJSON *o, const char *key, char *dst, size_t len,
		     int optional)
{
	const cJSON *m = member(o, key);

	if (m == NULL && optional) {
		dst[0] = '\0';
		return 0;
	}
	if (!cJSON_IsString(m) || strlen(m->valuestring) >= len)
		return doc_bad(r, key);
	memcpy(dst, m->valuestring, strlen(m->valuestring) + 1);
	return 0;
}

static int doc_heap(struct doc_reader *r, const cJSON *o, const char *key, char **dst)
{
	const cJSON *m = member(o, key);

	if (m == NULL)
		return 0;
	if (!cJSON_IsString(m))
		return doc_bad(r, key);
	return take_string(dst, m->valuestring, r->err);
}

static int doc_num(struct doc_reader *r, const cJSON *o, const char *key, double *out)
{
	const cJSON *m = member(o, key);

	if (!is_integer(m) && !(cJSON_IsNumber(m) && m->valuedouble >= 0))
		return doc_bad(r, key);
	*out = m->valuedouble;
	return 0;
}

static int doc_int(struct doc_reader *r, const cJSON *o, const char *key, int *out)
{
	double d;

	if (doc_num(r, o, key, &d) < 0 || d < -2147483647.0 || d > 2147483647.0)
		return doc_bad(r, key);
	*out = (int)d;
	return 0;
}

/* An optional boolean (absent: false). */
static int doc_flag(struct doc_reader *r, const cJSON *o, const char *key, int *out)
{
	const cJSON *m = member(o, key);

	if (m != NULL && !cJSON_IsBool(m))
		return doc_bad(r, key);
	*out = cJSON_IsTrue(m);
	return 0;
}

/* An optional whole number (absent: 0). */
static int doc_serial(struct doc_reader *r, const cJSON *o, uint64_t *out)
{
	const cJSON *m = member(o, "serial");

	*out = 0;
	if (m == NULL)
		return 0;
	if (!is_integer(m) || m->valuedouble < 0)
		return doc_bad(r, "serial");
	*out = (uint64_t)m->valuedouble;
	return 0;
}

static int doc_kv(struct doc_reader *r, const cJSON *o, const char *key, struct kvlist *out)
{
	const cJSON *m = member(o, key);

	if (m == NULL)
		return 0;
	return kv_from_json(m, key, out, r->err) < 0 ? doc_bad(r, key) : 0;
}

static int doc_state(struct doc_reader *r, const cJSON *o, enum prov_state *out)
{
	const cJSON *m = member(o, "state");

	if (!cJSON_IsString(m) || prov_state_parse(m->valuestring, out) < 0)
		return doc_bad(r, "state");
	return 0;
}

static int doc_read_model(struct doc_reader *r, const cJSON *o, struct model_version *m)
{
	const cJSON *t = member(o, "type");
	double size, created;

	if (doc_fixed(r, o, "name", m->name, sizeof m->name, 0) < 0 ||
	    doc_fixed(r, o, "version", m->version, sizeof m->version, 0) < 0 ||
	    doc_fixed(r, o, "sha256", m->sha256, sizeof m->sha256, 1) < 0 ||
	    doc_heap(r, o, "artifact", &m->artifact) < 0 || doc_heap(r, o, "uri", &m->uri) < 0 ||
	    doc_heap(r, o, "flavors", &m->flavors) < 0 ||
	    doc_flag(r, o, "archived", &m->archived) < 0 ||
	    doc_heap(r, o, "description", &m->description) < 0 ||
	    doc_kv(r, o, "tags", &m->tags) < 0 || doc_num(r, o, "size", &size) < 0 ||
	    doc_serial(r, o, &m->serial) < 0 ||
	    doc_num(r, o, "created", &created) < 0)
		return -1;
	if (!cJSON_IsString(t) || model_type_parse(t->valuestring, &m->type) < 0)
		return doc_bad(r, "type");
	m->size = (uint64_t)size;
	m->created = (int64_t)created;
	return 0;
}

static int doc_read_env(struct doc_reader *r, const cJSON *o, struct env_version *e)
{
	const cJSON *k = member(o, "kind"), *mods = member(o, "modules");
	double created;

	if (doc_fixed(r, o, "name", e->name, sizeof e->name, 0) < 0 ||
	    doc_fixed(r, o, "version", e->version, sizeof e->version, 0) < 0 ||
	    doc_heap(r, o, "python", &e->python) < 0 || doc_heap(r, o, "image", &e->image) < 0 ||
	    doc_heap(r, o, "conda_file", &e->conda_file) < 0 ||
	    doc_flag(r, o, "archived", &e->archived) < 0 ||
	    doc_heap(r, o, "description", &e->description) < 0 ||
	    doc_kv(r, o, "variables", &e->variables) < 0 || doc_kv(r, o, "tags", &e->tags) < 0 ||
	    doc_serial(r, o, &e->serial) < 0 ||
	    doc_num(r, o, "created", &created) < 0)
		return -1;
	if (!cJSON_IsString(k) ||
	    (strcmp(k->valuestring, "native") != 0 && strcmp(k->valuestring, "python") != 0))
		return doc_bad(r, "kind");
	e->kind = strcmp(k->valuestring, "python") == 0 ? ENV_PYTHON : ENV_NATIVE;
	if (mods != NULL && modules_from_json(mods, e, r->err) < 0)
		return doc_bad(r, "modules");
	e->created = (int64_t)created;
	return 0;
}

static int doc_traffic(struct doc_reader *r, const cJSON *o, const char *key, struct traffic *t)
{
	const cJSON *m = member(o, key);

	if (m == NULL)
		return 0;
	return codec_traffic_from_json(m, key, t, r->err) < 0 ? doc_bad(r, key) : 0;
}

static int doc_read_endpoint(struct doc_reader *r, const cJSON *o, struct endpoint *ep)
{
	const cJSON *a = member(o, "auth");
	double created, gen;

	if (doc_fixed(r, o, "name", ep->name, sizeof ep->name, 0) < 0 ||
	    doc_fixed(r, o, "primary_key", ep->primary_key, sizeof ep->primary_key, 0) < 0 ||
	    doc_fixed(r, o, "secondary_key", ep->secondary_key, sizeof ep->secondary_key, 0) < 0 ||
	    doc_heap(r, o, "description", &ep->description) < 0 ||
	    doc_traffic(r, o, "traffic", &ep->traffic) < 0 ||
	    doc_traffic(r, o, "mirror", &ep->mirror) < 0 || doc_kv(r, o, "tags", &ep->tags) < 0 ||
	    doc_num(r, o, "key_generation", &gen) < 0 || doc_state(r, o, &ep->state) < 0 ||
	    doc_fixed(r, o, "uid", ep->uid, sizeof ep->uid, 1) < 0 || /* workers: optional */
	    doc_num(r, o, "created", &created) < 0)
		return -1;
	if (!cJSON_IsString(a) || auth_mode_parse(a->valuestring, &ep->auth) < 0)
		return doc_bad(r, "auth");
	ep->key_generation = (uint32_t)gen;
	ep->created = (int64_t)created;
	return 0;
}

static int doc_read_deployment(struct doc_reader *r, const cJSON *o, struct deployment *d)
{
	double created;

	if (doc_fixed(r, o, "endpoint", d->endpoint, sizeof d->endpoint, 0) < 0 ||
	    doc_fixed(r, o, "name", d->name, sizeof d->name, 0) < 0 ||
	    doc_fixed(r, o, "model_name", d->model_name, sizeof d->model_name, 0) < 0 ||
	    doc_fixed(r, o, "model_version", d->model_version, sizeof d->model_version, 0) < 0 ||
	    doc_fixed(r, o, "env_name", d->env_name, sizeof d->env_name, 1) < 0 ||
	    doc_fixed(r, o, "env_version", d->env_version, sizeof d->env_version, 1) < 0 ||
	    doc_fixed(r, o, "code_name", d->code_name, sizeof d->code_name, 1) < 0 ||
	    doc_fixed(r, o, "code_version", d->code_version, sizeof d->code_version, 1) < 0 ||
	    doc_heap(r, o, "instance_type", &d->instance_type) < 0 ||
	    doc_heap(r, o, "code_dir", &d->code_dir) < 0 ||
	    doc_heap(r, o, "scoring_script", &d->scoring_script) < 0 ||
	    doc_heap(r, o, "error", &d->error) < 0 ||
	    doc_heap(r, o, "description", &d->description) < 0 ||
	    doc_heap(r, o, "data_collector", &d->data_collector) < 0 ||
	    doc_int(r, o, "instances", &d->instances) < 0 ||
	    doc_int(r, o, "max_concurrent", &d->max_concurrent) < 0 ||
	    doc_int(r, o, "timeout_ms", &d->timeout_ms) < 0 ||
	    doc_kv(r, o, "variables", &d->variables) < 0 || doc_state(r, o, &d->state) < 0 ||
	    doc_num(r, o, "created", &created) < 0)
		return -1;
	d->created = (int64_t)created;
	return 0;
}

static int doc_read_code(struct doc_reader *r, const cJSON *o, struct code_version *cv)
{
	double created;

	if (doc_fixed(r, o, "name", cv->name, sizeof cv->name, 0) < 0 ||
	    doc_fixed(r, o, "version", cv->version, sizeof cv->version, 0) < 0 ||
	    doc_heap(r, o, "code_uri", &cv->code_uri) < 0 || doc_heap(r, o, "dir", &cv->dir) < 0 ||
	    doc_heap(r, o, "description", &cv->description) < 0 ||
	    doc_kv(r, o, "tags", &cv->tags) < 0 || doc_flag(r, o, "archived", &cv->archived) < 0 ||
	    doc_flag(r, o, "anonymous", &cv->anonymous) < 0 || doc_serial(r, o, &cv->serial) < 0 ||
	    doc_num(r, o, "created", &created) < 0)
		return -1;
	cv->created = (int64_t)created;
	return 0;
}

static int doc_read_op(struct doc_reader *r, const cJSON *o, struct operation *op)
{
	const cJSON *st = member(o, "status");
	double start, end;

	if (doc_fixed(r, o, "id", op->id, sizeof op->id, 0) < 0 ||
	    doc_fixed(r, o, "endpoint", op->endpoint, sizeof op->endpoint, 0) < 0 ||
	    doc_fixed(r, o, "deployment", op->deployment, sizeof op->deployment, 1) < 0 ||
	    doc_heap(r, o, "error", &op->error) < 0 || doc_num(r, o, "start", &start) < 0 ||
	    doc_num(r, o, "end", &end) < 0)
		return -1;
	if (!cJSON_IsString(st) || op_status_parse(st->valuestring, &op->status) < 0)
		return doc_bad(r, "status");
	op->start = (int64_t)start;
	op->end = (int64_t)end;
	return 0;
}

struct archived_container {
	char kind[16];
	char name[RESOURCE_ASSET_NAME_MAX + 1];
};

static int doc_read_archived(struct doc_reader *r, const cJSON *o, struct archived_container *a)
{
	return doc_fixed(r, o, "kind", a->kind, sizeof a->kind, 0) < 0 ||
			       doc_fixed(r, o, "name", a->name, sizeof a->name, 0) < 0
		   ? -1
		   : 0;
}

static void no_cleanup(void *p)
{
	(void)p;
}

static void operation_cleanup(struct operation *op)
{
	free(op->error);
	op->error = NULL;
}

/* Re-checks a loaded item against the rules, naming it on failure. */
static int doc_rule(struct doc_reader *r, int rc)
{
	char msg[sizeof r->err->message];

	if (rc == 0)
		return 0;
	snprintf(msg, sizeof msg, "%s", r->err->message);
	return error_set(r->err, 500, "CorruptState", "%s: %s", r->what, msg);
}

/* The batch kinds' readers (batchcodec.h), in the loader's shape. */
static int doc_read_batch_endpoint(struct doc_reader *r, const cJSON *o, struct batch_endpoint *e)
{
	return batchcodec_endpoint_from_doc(o, e, r->err);
}

static int doc_read_batch_deployment(struct doc_reader *r, const cJSON *o,
				     struct batch_deployment *d)
{
	return batchcodec_deployment_from_doc(o, d, r->err);
}

static int doc_read_data(struct doc_reader *r, const cJSON *o, struct data_version *d)
{
	return batchcodec_data_from_doc(o, d, r->err);
}

static int doc_read_job(struct doc_reader *r, const cJSON *o, struct job *j)
{
	return batchcodec_job_from_doc(o, j, r->err);
}

static int doc_read_schedule(struct doc_reader *r, const cJSON *o, struct schedule *sc)
{
	return batchcodec_schedule_from_doc(o, sc, r->err);
}

/* Loads one array KEY of DOC, item by item, through the rules. */
#define DOC_LOAD(key, type, reader, put, cleanup)                                                  \
	do {                                                                                       \
		const cJSON *arr_ = member(doc, key), *it_;                                        \
		size_t i_ = 0;                                                                     \
		if (arr_ != NULL && !cJSON_IsArray(arr_)) {                                        \
			error_set(err, 500, "CorruptState", "%s is not an array", key);            \
			goto fail;                                                                 \
		}                                                                                  \
		cJSON_ArrayForEach(it_, arr_)                                                      \
		{                                                                                  \
			type item_;                                                                \
			int rc_;                                                                   \
			memset(&item_, 0, sizeof item_);                                           \
			snprintf(what, sizeof what, "%s[%zu]", key, i_++);                         \
			rc_ = reader(&r, it_, &item_);                                             \
			if (rc_ == 0)                                                              \
				rc_ = doc_rule(&r, put);                                           \
			cleanup(&item_);                                                           \
			if (rc_ < 0)                                                               \
				goto fail;                                                         \
		}                                                                                  \
	} while (0)

/* Deployments go in with the stored state; traffic is set after all exist. */
static int put_loaded_deployment(struct workspace *ws, const struct deployment *d,
				 struct error *err)
{
	if (workspace_deployment_put(ws, d, 0, NULL, err) < 0)
		return -1;
	return workspace_deployment_set_state(ws, d->endpoint, d->name, d->state, d->error);
}

static int put_loaded_endpoint(struct workspace *ws, const struct endpoint *ep, struct error *err)
{
	struct endpoint bare = *ep;

	memset(&bare.traffic, 0, sizeof bare.traffic);
	memset(&bare.mirror, 0, sizeof bare.mirror);
	return workspace_endpoint_put(ws, &bare, NULL, err);
}

static int doc_traffic_pass(struct doc_reader *r, struct workspace *ws, const cJSON *doc,
			    char *what, size_t wlen)
{
	const cJSON *arr = member(doc, "endpoints"), *it;
	size_t i = 0;

	cJSON_ArrayForEach(it, arr)
	{
		struct endpoint ep;
		int rc;

		memset(&ep, 0, sizeof ep);
		snprintf(what, wlen, "endpoints[%zu]", i++);
		rc = doc_read_endpoint(r, it, &ep);
		if (rc == 0)
			rc = doc_rule(r, workspace_endpoint_set_traffic(ws, ep.name, &ep.traffic,
									&ep.mirror, r->err));
		endpoint_cleanup(&ep);
		if (rc < 0)
			return -1;
	}
	return 0;
}

struct workspace *codec_workspace_from_json(const cJSON *doc, struct error *err)
{
	char what[64] = "document";
	struct doc_reader r = {what, err};
	const cJSON *name = member(doc, "workspace"), *fmt = member(doc, "format");
	struct workspace *ws;

	if (!cJSON_IsObject(doc) || !cJSON_IsString(name) || !is_integer(fmt)) {
		error_set(err, 500, "CorruptState", "not a workspace document");
		return NULL;
	}
	if (fmt->valuedouble != DOC_FORMAT) {
		error_set(err, 500, "CorruptState", "unsupported document format %g",
			  fmt->valuedouble);
		return NULL;
	}
	ws = workspace_new(name->valuestring);
	if (ws == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	DOC_LOAD("models", struct model_version, doc_read_model,
		 workspace_model_put(ws, &item_, NULL, err), model_version_cleanup);
	DOC_LOAD("environments", struct env_version, doc_read_env,
		 workspace_env_put(ws, &item_, NULL, err), env_version_cleanup);
	DOC_LOAD("endpoints", struct endpoint, doc_read_endpoint,
		 put_loaded_endpoint(ws, &item_, err), endpoint_cleanup);
	DOC_LOAD(WORKSPACE_CODES, struct code_version, doc_read_code, workspace_code_put(ws, &item_, NULL, err),
		 code_version_cleanup);
	DOC_LOAD("deployments", struct deployment, doc_read_deployment,
		 put_loaded_deployment(ws, &item_, err), deployment_cleanup);
	DOC_LOAD(WORKSPACE_CONTAINERS, struct archived_container, doc_read_archived,
		 workspace_container_set_archived(ws, item_.kind, item_.name, 1, err), no_cleanup);
	DOC_LOAD(WORKSPACE_OPERATIONS, struct operation, doc_read_op, workspace_op_add(ws, &item_, err),
		 operation_cleanup);
	DOC_LOAD(WORKSPACE_DATA, struct data_version, doc_read_data,
		 workspace_data_put(ws, &item_, NULL, err), data_version_cleanup);
	if (doc_traffic_pass(&r, ws, doc, what, sizeof what) < 0)
		goto fail;
	DOC_LOAD(WORKSPACE_BATCH_ENDPOINTS, struct batch_endpoint, doc_read_batch_endpoint,
		 batch_endpoint_put(ws, &item_, NULL, err), batch_endpoint_cleanup);
	DOC_LOAD(WORKSPACE_BATCH_DEPLOYMENTS, struct batch_deployment, doc_read_batch_deployment,
		 batch_deployment_put(ws, &item_, NULL, err), batch_deployment_cleanup);
	DOC_LOAD(WORKSPACE_JOBS, struct job, doc_read_job, batch_job_put(ws, &item_, err),
		 job_cleanup);
	DOC_LOAD(WORKSPACE_SCHEDULES, struct schedule, doc_read_schedule,
		 batch_schedule_put(ws, &item_, NULL, err), schedule_cleanup);
	return ws;
fail:
	workspace_free(ws);
	return NULL;
}
