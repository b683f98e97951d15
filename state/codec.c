/*
 * codec.c: resources <-> Azure ML 2024-04-01 JSON, and the workspace document.
 *
 * Decisions on input Azure sends that has no local meaning:
 *  - model version: Azure's "CustomModel" means custom_model; flavors, isAnonymous,
 *    properties.properties (sha256/size are computed, never taken) are ignored.
 *  - environment version: image, condaFile, build, inferenceConfig are ignored;
 *    without environmentKind the kind is python when interpreterPath is given,
 *    else it stays as pre-filled (native for a new one).
 *  - endpoint: compute, location, kind, identity, sku are ignored; tags are
 *    top-level (Azure TrackedResource).
 *  - deployment: instance count is sku.capacity (default 1); scaleSettings,
 *    probes, instanceType, appInsightsEnabled, modelMountPath are ignored; an
 *    asset ref that is not NAME:VERSION in one of the three spellings (Azure's
 *    placeholder "string" among them) is a 400 naming the field.
 * On output a version resource's "name" is its version, as Azure does; the
 * asset name is in the id (".../models/NAME/versions/V").
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

static void add_system_data(cJSON *o, int64_t created)
{
	char t[32];
	cJSON *sd = cJSON_AddObjectToObject(o, "systemData");

	iso_time(created, t, sizeof t);
	cJSON_AddStringToObject(sd, "createdAt", t);
	cJSON_AddStringToObject(sd, "createdBy", "mldeck");
	cJSON_AddStringToObject(sd, "createdByType", "User");
	cJSON_AddStringToObject(sd, "lastModifiedAt", t);
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
	add_system_data(o, created);
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

cJSON *codec_model_version_to_json(const struct model_version *m, const struct codec_ctx *c)
{
	char path[160], uri[1024], size[32];
	cJSON *o, *p, *pp;

	snprintf(path, sizeof path, "/models/%s/versions/%s", m->name, m->version);
	o = resource_head(c, path, m->version, "models/versions");
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	add_opt_string(p, "description", m->description);
	cJSON_AddItemToObject(p, "tags", kv_to_json(&m->tags));
	pp = cJSON_AddObjectToObject(p, "properties");
	cJSON_AddStringToObject(pp, "sha256", m->sha256);
	snprintf(size, sizeof size, "%llu", (unsigned long long)m->size);
	cJSON_AddStringToObject(pp, "size", size);
	cJSON_AddBoolToObject(p, "isAnonymous", 0);
	cJSON_AddBoolToObject(p, "isArchived", 0);
	cJSON_AddStringToObject(p, "modelType", model_type_name(m->type));
	if (m->artifact != NULL) {
		snprintf(uri, sizeof uri, "file://%s", m->artifact);
		cJSON_AddStringToObject(p, "modelUri", uri);
	}
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	add_system_data(o, m->created);
	return o;
}

cJSON *codec_env_version_to_json(const struct env_version *e, const struct codec_ctx *c)
{
	char path[160];
	cJSON *o, *p, *mods;

	snprintf(path, sizeof path, "/environments/%s/versions/%s", e->name, e->version);
	o = resource_head(c, path, e->version, "environments/versions");
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	add_opt_string(p, "description", e->description);
	cJSON_AddItemToObject(p, "tags", kv_to_json(&e->tags));
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddBoolToObject(p, "isAnonymous", 0);
	cJSON_AddBoolToObject(p, "isArchived", 0);
	cJSON_AddStringToObject(p, "environmentType", "UserCreated");
	cJSON_AddStringToObject(p, "environmentKind", env_kind_name(e->kind));
	add_opt_string(p, "interpreterPath", e->python);
	cJSON_AddItemToObject(p, "environmentVariables", kv_to_json(&e->variables));
	mods = cJSON_AddArrayToObject(p, "requiredModules");
	for (size_t i = 0; mods != NULL && i < e->nmodules; i++)
		cJSON_AddItemToArray(mods, cJSON_CreateString(e->modules[i]));
	cJSON_AddStringToObject(p, "provisioningState", "Succeeded");
	add_system_data(o, e->created);
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
	add_system_data(o, ep->created);
	return o;
}

/* The ARM id of an asset version. */
static void asset_id(const struct codec_ctx *c, const char *kind, const char *name,
		     const char *version, char *buf, size_t len)
{
	snprintf(buf, len, "%s/%s/%s/versions/%s", c->ws_prefix != NULL ? c->ws_prefix : "", kind,
		 name, version);
}

static void add_deployment_properties(cJSON *p, const struct deployment *d,
				      const struct codec_ctx *c)
{
	char buf[1024];
	cJSON *rs, *cc;

	add_opt_string(p, "description", d->description);
	cJSON_AddObjectToObject(p, "properties");
	cJSON_AddStringToObject(p, "endpointComputeType", "Managed");
	asset_id(c, "models", d->model_name, d->model_version, buf, sizeof buf);
	cJSON_AddStringToObject(p, "model", buf);
	asset_id(c, "environments", d->env_name, d->env_version, buf, sizeof buf);
	cJSON_AddStringToObject(p, "environmentId", buf);
	if (d->code_dir != NULL || d->scoring_script != NULL) {
		cc = cJSON_AddObjectToObject(p, "codeConfiguration");
		add_opt_string(cc, "codeId", d->code_dir);
		add_opt_string(cc, "scoringScript", d->scoring_script);
	}
	cJSON_AddItemToObject(p, "environmentVariables", kv_to_json(&d->variables));
	rs = cJSON_AddObjectToObject(p, "requestSettings");
	cJSON_AddNumberToObject(rs, "maxConcurrentRequestsPerInstance", d->max_concurrent);
	ms_to_iso(d->timeout_ms, buf, sizeof buf);
	cJSON_AddStringToObject(rs, "requestTimeout", buf);
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
	cJSON_AddNumberToObject(sku, "capacity", d->instances);
	add_system_data(o, d->created);
	return o;
}

cJSON *codec_container_to_json(const char *kind, const char *name, const char *latest,
			       const struct codec_ctx *c)
{
	char path[96];
	cJSON *o, *p;

	snprintf(path, sizeof path, "/%s/%s", kind, name);
	o = resource_head(c, path, name, kind);
	if (o == NULL)
		return NULL;
	p = cJSON_AddObjectToObject(o, "properties");
	add_opt_string(p, "latestVersion", latest);
	if (latest != NULL) {
		char next[32];

		snprintf(next, sizeof next, "%llu", strtoull(latest, NULL, 10) + 1);
		cJSON_AddStringToObject(p, "nextVersion", next);
	}
	cJSON_AddBoolToObject(p, "isArchived", 0);
	cJSON_AddObjectToObject(p, "tags");
	return o;
}

cJSON *codec_list(cJSON *items)
{
	cJSON *o = cJSON_CreateObject();

	if (o == NULL) {
		cJSON_Delete(items);
		return NULL;
	}
	cJSON_AddItemToObject(o, "value", items != NULL ? items : cJSON_CreateArray());
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

int codec_model_version_from_json(const cJSON *body, struct model_version *out,
				  const char **model_uri, struct error *err)
{
	const cJSON *p;
	const char *desc, *type;

	if (model_uri != NULL)
		*model_uri = NULL;
	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "modelType", "properties.modelType", &type, err) < 0)
		return -1;
	if (type != NULL && model_type_parse(type, &out->type) < 0)
		return bad(err, "properties.modelType",
			   "one of xgboost, linear, mlp, custom_model");
	if (model_uri != NULL &&
	    get_string(p, "modelUri", "properties.modelUri", model_uri, err) < 0)
		return -1;
	if (opt_kv(p, "tags", "properties.tags", &out->tags, err) < 0)
		return -1;
	return take_string(&out->description, desc, err);
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
	const char *desc, *kind, *py;

	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
	    get_string(p, "environmentKind", "properties.environmentKind", &kind, err) < 0 ||
	    get_string(p, "interpreterPath", "properties.interpreterPath", &py, err) < 0)
		return -1;
	if (kind != NULL && strcmp(kind, "native") == 0)
		out->kind = ENV_NATIVE;
	else if (kind != NULL && strcmp(kind, "python") == 0)
		out->kind = ENV_PYTHON;
	else if (kind != NULL)
		return bad(err, "properties.environmentKind", "native or python");
	else if (py != NULL)
		out->kind = ENV_PYTHON;
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

int codec_parse_asset_ref(const char *ref, const char *kind, char *name, size_t nlen, char *version,
			  size_t vlen, struct error *err)
{
	const char *field =
	    strcmp(kind, "models") == 0 ? "properties.model" : "properties.environmentId";
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
	if (names_check(name, field, err) < 0 || names_check_version(version, field, err) < 0)
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
	const char *field =
	    strcmp(kind, "models") == 0 ? "properties.model" : "properties.environmentId";
	const char *ref;

	if (get_string(p, key, field, &ref, err) < 0)
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
		       err) < 0)
		return -1;
	if (code != NULL && strncmp(code, "file://", 7) == 0)
		code += 7;
	if (take_string(&out->code_dir, code, err) < 0)
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
	const char *desc;

	if (body_properties(body, &p, err) < 0 ||
	    get_string(p, "description", "properties.description", &desc, err) < 0 ||
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
	cJSON_AddStringToObject(o, "sha256", m->sha256);
	cJSON_AddNumberToObject(o, "size", (double)m->size);
	add_opt_string(o, "description", m->description);
	cJSON_AddItemToObject(o, "tags", kv_to_json(&m->tags));
	cJSON_AddNumberToObject(o, "created", (double)m->created);
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
	cJSON_AddItemToObject(o, "variables", kv_to_json(&e->variables));
	mods = cJSON_AddArrayToObject(o, "modules");
	for (size_t i = 0; i < e->nmodules; i++)
		cJSON_AddItemToArray(mods, cJSON_CreateString(e->modules[i]));
	add_opt_string(o, "description", e->description);
	cJSON_AddItemToObject(o, "tags", kv_to_json(&e->tags));
	cJSON_AddNumberToObject(o, "created", (double)e->created);
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
	add_opt_string(o, "code_dir", d->code_dir);
	add_opt_string(o, "scoring_script", d->scoring_script);
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
	const struct data_version **dv;
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
	a = cJSON_AddArrayToObject(doc, WORKSPACE_DATA);
	n = batch_data_list(ws, &dv);
	for (size_t i = 0; i < n; i++)
		cJSON_AddItemToArray(a, batchcodec_data_to_doc(dv[i]));
	free(dv);
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
	const struct data_version *d = batch_data_find(ws, a, b);

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
	{WORKSPACE_ENDPOINTS, item_endpoint},
	{WORKSPACE_DEPLOYMENTS, item_deployment},
	{WORKSPACE_BATCH_ENDPOINTS, item_batch_endpoint},
	{WORKSPACE_BATCH_DEPLOYMENTS, item_batch_deployment},
	{WORKSPACE_DATA, item_data},
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
	    doc_heap(r, o, "artifact", &m->artifact) < 0 ||
	    doc_heap(r, o, "description", &m->description) < 0 ||
	    doc_kv(r, o, "tags", &m->tags) < 0 || doc_num(r, o, "size", &size) < 0 ||
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
	    doc_heap(r, o, "python", &e->python) < 0 ||
	    doc_heap(r, o, "description", &e->description) < 0 ||
	    doc_kv(r, o, "variables", &e->variables) < 0 || doc_kv(r, o, "tags", &e->tags) < 0 ||
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
	    doc_fixed(r, o, "env_name", d->env_name, sizeof d->env_name, 0) < 0 ||
	    doc_fixed(r, o, "env_version", d->env_version, sizeof d->env_version, 0) < 0 ||
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
	DOC_LOAD("deployments", struct deployment, doc_read_deployment,
		 put_loaded_deployment(ws, &item_, err), deployment_cleanup);
	if (doc_traffic_pass(&r, ws, doc, what, sizeof what) < 0)
		goto fail;
	DOC_LOAD(WORKSPACE_BATCH_ENDPOINTS, struct batch_endpoint, doc_read_batch_endpoint,
		 batch_endpoint_put(ws, &item_, NULL, err), batch_endpoint_cleanup);
	DOC_LOAD(WORKSPACE_BATCH_DEPLOYMENTS, struct batch_deployment, doc_read_batch_deployment,
		 batch_deployment_put(ws, &item_, NULL, err), batch_deployment_cleanup);
	DOC_LOAD(WORKSPACE_DATA, struct data_version, doc_read_data,
		 batch_data_put(ws, &item_, NULL, err), data_version_cleanup);
	DOC_LOAD(WORKSPACE_JOBS, struct job, doc_read_job, batch_job_put(ws, &item_, err),
		 job_cleanup);
	DOC_LOAD(WORKSPACE_SCHEDULES, struct schedule, doc_read_schedule,
		 batch_schedule_put(ws, &item_, NULL, err), schedule_cleanup);
	return ws;
fail:
	workspace_free(ws);
	return NULL;
}
