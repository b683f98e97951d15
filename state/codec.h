/*
 * codec.h: resources <-> JSON, in Azure ML's 2024-04-01 shapes
 * ({"id","name","type","properties":{...},"sku":{...},"systemData":{...}}),
 * plus the on-disk workspace document. Returned cJSON trees are owned by the
 * caller (cJSON_Delete). Pure functions, any thread.
 *
 * Local extensions (docs/api.md, docs/azure-compat.md):
 *  - model version: properties.modelType is custom_model|mlflow_model (Azure's
 *    spellings "CustomModel", "MLFlowModel" accepted) or the native types
 *    xgboost|linear|mlp; properties.modelUri is returned as registered;
 *    properties.properties carries sha256 and size.
 *  - environment version: properties.environmentKind native|python,
 *    properties.interpreterPath, properties.environmentVariables (object),
 *    properties.requiredModules (array of strings).
 *  - endpoint: properties.mirrorTraffic as in later api-versions.
 *  - deployment: properties.model / environmentId accept "azureml:NAME:VERSION",
 *    "NAME:VERSION", or an ARM id ".../models/NAME/versions/VERSION";
 *    codeConfiguration.codeId is a code asset (ARM id or azureml:NAME:V) or a
 *    host directory; requestTimeout is an ISO 8601 duration ("PT5S") on
 *    output, ISO or integer ms on input.
 */
#ifndef STATE_CODEC_H
#define STATE_CODEC_H

#include <cjson/cJSON.h>

#include "state/error.h"
#include "state/resource.h"
#include "state/workspace.h"

/* How ids and URIs are spelled in answers (the request's own subscription
 * and resource group are echoed). */
struct codec_ctx {
	const char *ws_prefix;  /* "/subscriptions/S/resourceGroups/RG/providers/
				   Microsoft.MachineLearningServices/workspaces/WS" */
	const char *rg_prefix;  /* "/subscriptions/S/resourceGroups/RG" */
	const char *sub_prefix; /* "/subscriptions/S" */
	const char *base_url;   /* "https://127.0.0.1:5800", for scoringUri */
};

/* A container (models/NAME ...): derived from its versions. */
struct codec_container {
	const char *kind;   /* "models", "environments", "codes", "data" */
	const char *name;
	const char *latest; /* latestVersion, NULL when none */
	const char *next;   /* nextVersion, NULL when none */
	const char *data_type; /* data: the latest version's dataType; NULL otherwise */
	int archived;
	int64_t created, modified;
};

/* The workspace resource (GET {ws}), synthesized by the runtime. */
struct codec_workspace_info {
	const char *name;
	const char *workspace_id;    /* a GUID */
	const char *storage_account; /* the default datastore's account */
	int64_t created;
};

/* The default datastore, workspaceblobstore. */
struct codec_datastore {
	const char *account_name;
	const char *container_name;
	const char *endpoint;
	int64_t created;
};

cJSON *codec_model_version_to_json(const struct model_version *m, const struct codec_ctx *c);
cJSON *codec_env_version_to_json(const struct env_version *e, const struct codec_ctx *c);
cJSON *codec_endpoint_to_json(const struct endpoint *ep, const struct codec_ctx *c);
cJSON *codec_deployment_to_json(const struct deployment *d, const struct codec_ctx *c);
cJSON *codec_code_version_to_json(const struct code_version *cv, const struct codec_ctx *c);
/* {"id","name","type","properties":{"latestVersion", ...}} for models/{n}. */
cJSON *codec_container_to_json(const struct codec_container *k, const struct codec_ctx *c);
cJSON *codec_workspace_info_to_json(const struct codec_workspace_info *w,
				    const struct codec_ctx *c);
cJSON *codec_datastore_to_json(const struct codec_datastore *d, const struct codec_ctx *c);
/* The operation-status resource (mfeOperationsStatus), Azure's 2022 shape. */
cJSON *codec_operation_to_json(const struct operation *op, const struct codec_ctx *c);
cJSON *codec_list(cJSON *items); /* wraps an array as {"value": items}; takes ownership */
/* {"value": items, "nextLink": next_link} (no nextLink when NULL); takes items. */
cJSON *codec_page(cJSON *items, const char *next_link);
cJSON *codec_error(const struct error *err); /* {"error":{"code","message"}} */

/* Building blocks shared with the other codecs of state/ (batchcodec.c):
 * {"id": ws_prefix + path, "name", "type": "Microsoft.../workspaces/" + type};
 * systemData with createdAt/lastModifiedAt; a string map; "PT1M30S"; an ISO
 * 8601 UTC time "2026-01-02T03:04:05Z". */
cJSON *codec_resource_head(const struct codec_ctx *c, const char *path, const char *name,
			   const char *type);
void codec_system_data(cJSON *o, int64_t created);
cJSON *codec_kv_to_json(const struct kvlist *l);
void codec_ms_to_iso(int ms, char *buf, size_t len);
void codec_iso_time(int64_t t, char *buf, size_t len);

/*
 * Parsing a PUT/PATCH body into *out. The caller fills the names from the URL
 * first; for PATCH the caller pre-fills *out with the current resource and only
 * fields present in the body change. -1 with a 400 error naming the field.
 * model: *model_uri receives properties.modelUri (borrowed from body, may be NULL).
 */
int codec_model_version_from_json(const cJSON *body, struct model_version *out,
				  const char **model_uri, struct error *err);
int codec_env_version_from_json(const cJSON *body, struct env_version *out, struct error *err);
/* properties.codeUri is required; it is copied into out->code_uri. */
int codec_code_version_from_json(const cJSON *body, struct code_version *out,
				 struct error *err);
/* PUT of a container: only properties.isArchived has a meaning. */
int codec_container_from_json(const cJSON *body, int *archived, struct error *err);
int codec_endpoint_from_json(const cJSON *body, struct endpoint *out, struct error *err);
int codec_deployment_from_json(const cJSON *body, struct deployment *out, struct error *err);
/* A traffic object {"blue": 90, "green": 10} -> struct traffic (400 on non-integers). */
int codec_traffic_from_json(const cJSON *obj, const char *field, struct traffic *out,
			    struct error *err);
/* "azureml:n:v", "n:v", ".../KIND/n/versions/v" -> name, version (kind:
 * "models", "environments", "codes"). */
int codec_parse_asset_ref(const char *ref, const char *kind, char *name, size_t nlen,
			  char *version, size_t vlen, struct error *err);
/* A codeConfiguration.codeId, online or batch: a code asset (an ARM id
 * ".../codes/n/versions/v", "azureml:n:v" or "n:v") into name/version, *dir
 * freed and NULL; else (a path, "file://" stripped) a host directory copied
 * into *dir, name/version "". NULL code changes nothing. -1 with a 400
 * (or 500, out of memory) error. */
int codec_parse_code_ref(const char *code, char *name, size_t nlen, char *version, size_t vlen,
			 char **dir, struct error *err);
/* p.codeConfiguration {codeId, scoringScript}: codeId the code asset's ARM id
 * when name is set, else dir; nothing when no field is set. */
void codec_add_code_configuration(cJSON *p, const char *name, const char *version,
				  const char *dir, const char *script, const struct codec_ctx *c);
/* ISO 8601 duration "PT1M30.5S" -> milliseconds; -1 when malformed. */
long codec_iso_duration_ms(const char *s);
/* A JSON number within [min, max] (finite), truncated to a whole number into
 * *out: 1, else 0 and *out untouched. The range is checked before the cast
 * (a value past long long's range, 1e300 from a peer, is undefined to cast). */
int codec_number_in(const cJSON *m, double min, double max, long long *out);

/* The whole workspace, secrets and artifacts included, for the store: a document
 * {"format":1,"workspace":NAME,"models":[...],"environments":[...],...} whose arrays
 * are named by the WORKSPACE_* kinds (workspace.h). from_json loads it through the
 * workspace's rules, each array in a fixed order whatever the document's order. */
cJSON *codec_workspace_to_json(const struct workspace *ws);
struct workspace *codec_workspace_from_json(const cJSON *doc, struct error *err);
/* The store keeps one row per resource: codec_workspace_item is the document form
 * of the resource (kind, a, b) (see struct workspace_ref), NULL when the workspace
 * has none (it was removed) or the kind is unknown; codec_workspace_kind(i) names
 * the i-th kind (NULL past the last); codec_workspace_doc is a document without
 * arrays, for the store to fill with its rows before codec_workspace_from_json.
 * A new kind is one line in codec.c's item_kinds table (plus its document reader). */
cJSON *codec_workspace_item(const struct workspace *ws, const char *kind, const char *a,
			    const char *b);
const char *codec_workspace_kind(size_t i);
cJSON *codec_workspace_doc(const char *name);

#endif
