/*
 * batch.h: the batch side of the workspace (issue 11): batch endpoints and
 * their deployments, jobs and schedules, with Azure's shapes and defaults and
 * the rules between them (data assets are versioned assets: workspace.h).
 * They live in the workspace (workspace_batch) and follow workspace.h's
 * contract: not thread-safe (the runtime's lock), every mutating call
 * validates first and changes nothing on failure (400 invalid, 404 missing
 * reference, 409 a rule forbids it), records what it touched for the store,
 * copies its inputs; find pointers stay valid until the next mutating call;
 * list calls return a new array (free()) of borrowed pointers.
 *
 * Rules:
 *  - batch endpoint and deployment names follow names_check (3-32); jobs
 *    and schedules the asset pattern (names_check_asset);
 *  - a batch deployment's model must exist; a custom_model needs a python
 *    environment, its code (a code asset or an absolute host directory, as
 *    online deployments: workspace_code_ref_check) and a scoring script in
 *    it; the native types (xgboost, linear, mlp) take no environment and
 *    no code;
 *  - the default deployment (defaults.deploymentName) cannot be deleted (409);
 *    deleting an endpoint deletes its deployments, and is refused while one of
 *    its jobs is active (409); a deployment with an active job cannot be
 *    deleted either;
 *  - a model, environment or code version a batch deployment uses cannot
 *    be deleted (batch_asset_user: workspace.c asks);
 *  - a job that is active cannot be deleted (409); its status moves only as
 *    job_transition allows.
 */
#ifndef STATE_BATCH_H
#define STATE_BATCH_H

#include <stddef.h>
#include <stdint.h>

#include "state/error.h"
#include "state/job.h"
#include "state/resource.h"
#include "state/schedule.h"
#include "state/workspace.h"

struct batch_endpoint {
	char name[RESOURCE_NAME_MAX + 1];
	enum auth_mode auth;		  /* AADToken by default (Azure's only mode) */
	char *description;
	char default_deployment[RESOURCE_NAME_MAX + 1]; /* "" when none */
	char primary_key[RESOURCE_KEY_LEN + 1];
	char secondary_key[RESOURCE_KEY_LEN + 1];
	struct kvlist tags;
	struct kvlist properties;
	enum prov_state state;
	int64_t created;
};

struct batch_deployment {
	char endpoint[RESOURCE_NAME_MAX + 1];
	char name[RESOURCE_NAME_MAX + 1];
	char model_name[RESOURCE_ASSET_NAME_MAX + 1];
	char model_version[RESOURCE_VERSION_MAX + 1];
	char env_name[RESOURCE_ASSET_NAME_MAX + 1]; /* "" for the native types */
	char env_version[RESOURCE_VERSION_MAX + 1];
	char code_name[RESOURCE_ASSET_NAME_MAX + 1]; /* a code asset, "" when code_dir */
	char code_version[RESOURCE_VERSION_MAX + 1];
	char *code_dir;       /* custom_model: an absolute host directory (local extension) */
	char *scoring_script; /* custom_model: relative to the code */
	struct batch_settings settings;
	struct kvlist variables; /* environmentVariables */
	char *description;
	struct kvlist tags;
	struct kvlist properties;
	enum prov_state state;
	char *error;
	int64_t created;
};

/* Kinds the store keeps (workspace.h's change records). */
#define WORKSPACE_BATCH_ENDPOINTS "batch_endpoints"
#define WORKSPACE_BATCH_DEPLOYMENTS "batch_deployments"
#define WORKSPACE_JOBS "jobs"
#define WORKSPACE_SCHEDULES "schedules"

/* The collection, owned by the workspace (workspace.c calls these). */
struct batch_set;
struct batch_set *batch_set_new(void);
void batch_set_free(struct batch_set *b);
struct batch_set *batch_set_clone(const struct batch_set *b); /* deep; NULL on ENOMEM */
/* Records every batch resource as changed (workspace_touch_all). */
void batch_touch_all(struct workspace *ws);
/* Whether a batch deployment uses the version of an asset (kind
 * WORKSPACE_MODELS, WORKSPACE_ENVIRONMENTS or WORKSPACE_CODES; version NULL:
 * any); the deployment's endpoint/name in by_ep/by_name when so. */
int batch_asset_user(const struct workspace *ws, const char *kind, const char *name,
		     const char *version, const char **by_ep, const char **by_name);

/* Batch endpoints. put creates (keys already filled) or updates description,
 * auth, defaults, tags and properties (keys, state and creation kept). */
int batch_endpoint_put(struct workspace *ws, const struct batch_endpoint *ep, int *created,
		       struct error *err);
const struct batch_endpoint *batch_endpoint_find(const struct workspace *ws, const char *name);
size_t batch_endpoint_list(const struct workspace *ws, const struct batch_endpoint ***out);
int batch_endpoint_set_keys(struct workspace *ws, const char *name, const char *primary,
			    const char *secondary, struct error *err); /* NULL keeps */
int batch_endpoint_delete(struct workspace *ws, const char *name, struct error *err);

/* Batch deployments: put creates or replaces (state Succeeded: a batch
 * deployment loads when a job runs, not before). */
int batch_deployment_put(struct workspace *ws, const struct batch_deployment *d, int *created,
			 struct error *err);
const struct batch_deployment *batch_deployment_find(const struct workspace *ws, const char *ep,
						     const char *name);
size_t batch_deployment_list(const struct workspace *ws, const char *ep,
			     const struct batch_deployment ***out); /* ep NULL: all */
int batch_deployment_delete(struct workspace *ws, const char *ep, const char *name,
			    struct error *err);

/* Jobs. put adds a new job (409 when the name exists) or, for an existing
 * one, records a new status and figures: the status must follow
 * job_transition (or stay the same). */
int batch_job_put(struct workspace *ws, const struct job *j, struct error *err);
const struct job *batch_job_find(const struct workspace *ws, const char *name);
/* Newest first (then by name). */
size_t batch_job_list(const struct workspace *ws, const struct job ***out);
int batch_job_delete(struct workspace *ws, const char *name, struct error *err);

/* Schedules: put creates or replaces (created kept, updated set by the caller). */
int batch_schedule_put(struct workspace *ws, const struct schedule *s, int *created,
		       struct error *err);
const struct schedule *batch_schedule_find(const struct workspace *ws, const char *name);
size_t batch_schedule_list(const struct workspace *ws, const struct schedule ***out);
int batch_schedule_delete(struct workspace *ws, const char *name, struct error *err);

int batch_endpoint_copy(struct batch_endpoint *dst, const struct batch_endpoint *src);
void batch_endpoint_cleanup(struct batch_endpoint *e);
int batch_deployment_copy(struct batch_deployment *dst, const struct batch_deployment *src);
void batch_deployment_cleanup(struct batch_deployment *d);

#endif
