/*
 * workspace.h: the in-memory workspace and every operation on it. This is
 * where DESIGN.md's rules are enforced; the store (store.h) persists it and
 * the runtime exposes it over HTTP. Not thread-safe: the runtime holds one
 * lock around each operation and the save that follows it.
 *
 * Every mutating call validates first and changes nothing on failure; on
 * failure it returns -1 with err->status 400 (invalid input, message names the
 * field), 404 (a referenced resource is missing) or 409 (a rule forbids it).
 * Inputs are copied; the workspace owns its resources. Pointers returned by
 * the find calls stay valid until the next mutating call. The list calls set
 * *out to a new array (caller frees it with free(); NULL when empty) of
 * borrowed pointers with the same lifetime, and return its length.
 */
#ifndef STATE_WORKSPACE_H
#define STATE_WORKSPACE_H

#include "state/error.h"
#include "state/resource.h"

struct workspace;

/* Azure's list queries over asset versions: listViewType, $orderBy, $top. */
enum list_view { VIEW_ACTIVE, VIEW_ARCHIVED, VIEW_ALL };
enum list_order { ORDER_NAME, ORDER_CREATED_DESC, ORDER_CREATED_ASC };
struct asset_query {
	enum list_view view;   /* default ActiveOnly */
	enum list_order order; /* default: by name, then natural version order */
	size_t top;            /* 0: no limit */
};
/* Reads the three query arguments (each NULL when absent). 0, or -1 with 400. */
int workspace_query_parse(const char *order_by, const char *top, const char *view,
			  struct asset_query *q, struct error *err);

struct workspace *workspace_new(const char *name);
void workspace_free(struct workspace *ws);
struct workspace *workspace_clone(const struct workspace *ws); /* NULL on ENOMEM; no changes */
const char *workspace_name(const struct workspace *ws);

/*
 * Change tracking, for the store (store_commit writes exactly these rows): every
 * mutating call records each resource it created, changed or removed, cascades
 * included (deleting an endpoint records its deployments), as (kind, a, b):
 * kind is one of the WORKSPACE_* names below (also the codec's document arrays
 * and the store's row kinds), a the name (a deployment's endpoint), b the
 * version or the deployment's name ("" when the kind has none). A resource may
 * be listed more than once. If a reference could not be recorded (out of
 * memory) workspace_changes_lost() is 1 and the store rewrites every row.
 * A new kind adds its name here and a touch() in each of its mutating calls.
 */
#define WORKSPACE_MODELS "models"
#define WORKSPACE_ENVIRONMENTS "environments"
#define WORKSPACE_ENDPOINTS "endpoints"
#define WORKSPACE_DEPLOYMENTS "deployments"
#define WORKSPACE_CODES "codes"                    /* a = name, b = version */
#define WORKSPACE_DATA "data"                      /* a = name, b = version */
#define WORKSPACE_CONTAINERS "archived_containers" /* a = kind ("models"), b = name */
#define WORKSPACE_OPERATIONS "operations"          /* a = id */

struct workspace_ref {
	const char *kind; /* one of the WORKSPACE_* strings (static) */
	char *a;
	char *b;
};

/* Records a change of a resource kept in another file of state/ (batch.c):
 * the same record every mutating call here makes. */
void workspace_touch(struct workspace *ws, const char *kind, const char *a, const char *b);
/* The batch side of the workspace (batch endpoints, data, jobs, schedules):
 * state/batch.h's calls reach it through this. */
struct batch_set *workspace_batch(const struct workspace *ws);

/* The references recorded since the last clear; *out stays valid until the next
 * mutating call or clear. */
size_t workspace_changes(const struct workspace *ws, const struct workspace_ref **out);
int workspace_changes_lost(const struct workspace *ws);
void workspace_changes_clear(struct workspace *ws);
/* Records every resource as changed (a full save, e.g. a migration). */
void workspace_touch_all(struct workspace *ws);

/* Asset versions (models, environments, code, data). Names follow the asset
 * pattern, versions are strings (names.h). put: when the version is empty the
 * next integer is assigned (written back): one more than the largest integer
 * version of that name. An existing name:version is replaced (200) except that
 * its artifact/type may not change while a deployment uses it; *created tells
 * which. find with version NULL gives the latest: the most recently created
 * (ties: the natural version order). */
int workspace_model_put(struct workspace *ws, struct model_version *mv, int *created,
			struct error *err);
const struct model_version *workspace_model_find(const struct workspace *ws, const char *name,
						 const char *version); /* version NULL: latest */
/* All versions of all models, sorted by name then natural version order
 * (integers by value, before other strings). */
size_t workspace_model_list(const struct workspace *ws, const struct model_version ***out);
/* The versions of NAME (every name when NULL) that q selects, in q's order. */
size_t workspace_model_query(const struct workspace *ws, const char *name,
			     const struct asset_query *q, const struct model_version ***out);
/* How many model versions there are (a list of 0 may also mean out of memory). */
size_t workspace_model_count(const struct workspace *ws);
int workspace_model_delete(struct workspace *ws, const char *name, const char *version,
			   struct error *err); /* 409 when a deployment uses it */
/* Deletes every version of NAME (409 if any is in use). */
int workspace_model_delete_all(struct workspace *ws, const char *name, struct error *err);
/* Next free version number for NAME ("1" for a new name). */
void workspace_model_next_version(const struct workspace *ws, const char *name, char *buf,
				  size_t len);

/* Environments: same contract as models. */
int workspace_env_put(struct workspace *ws, struct env_version *ev, int *created,
		      struct error *err);
const struct env_version *workspace_env_find(const struct workspace *ws, const char *name,
					     const char *version);
size_t workspace_env_list(const struct workspace *ws, const struct env_version ***out);
size_t workspace_env_query(const struct workspace *ws, const char *name,
			   const struct asset_query *q, const struct env_version ***out);
int workspace_env_delete(struct workspace *ws, const char *name, const char *version,
			 struct error *err);
int workspace_env_delete_all(struct workspace *ws, const char *name, struct error *err);
void workspace_env_next_version(const struct workspace *ws, const char *name, char *buf,
				size_t len);

/* Code versions: same contract; cv->dir (relative to the home) is required
 * and may not change while a deployment uses the version. delete with
 * version NULL removes every version of NAME. */
int workspace_code_put(struct workspace *ws, struct code_version *cv, int *created,
		       struct error *err);
const struct code_version *workspace_code_find(const struct workspace *ws, const char *name,
					       const char *version);
size_t workspace_code_query(const struct workspace *ws, const char *name,
			    const struct asset_query *q, const struct code_version ***out);
int workspace_code_delete(struct workspace *ws, const char *name, const char *version,
			  struct error *err);
/* A deployment's (online or batch) codeConfiguration: a code asset that
 * exists (404 otherwise) or an absolute host directory, and a scoring script
 * inside it (400). 0 or -1. */
int workspace_code_ref_check(const struct workspace *ws, const char *name, const char *version,
			     const char *dir, const char *script, struct error *err);

/* Data assets: same contract as code; dv->type is uri_file or uri_folder and
 * dv->uri (dataUri) is required. No resource refers to a data version (a job
 * resolves its input when it starts), so any version may be replaced or
 * deleted. delete with version NULL removes every version of NAME. */
int workspace_data_put(struct workspace *ws, struct data_version *dv, int *created,
		       struct error *err);
const struct data_version *workspace_data_find(const struct workspace *ws, const char *name,
					       const char *version);
size_t workspace_data_query(const struct workspace *ws, const char *name,
			    const struct asset_query *q, const struct data_version ***out);
int workspace_data_delete(struct workspace *ws, const char *name, const char *version,
			  struct error *err);

/* Containers (models/NAME, environments/NAME, codes/NAME, data/NAME) exist
 * while they have versions; their one property of their own is the archive
 * flag. kind is the path segment ("models"). Deleting the last version
 * forgets it. */
int workspace_container_archived(const struct workspace *ws, const char *kind, const char *name);
int workspace_container_set_archived(struct workspace *ws, const char *kind, const char *name,
				     int archived, struct error *err);
/* The archived containers, for the store: key = kind, value = name. */
size_t workspace_container_count(const struct workspace *ws);
const struct kv *workspace_container_at(const struct workspace *ws, size_t i);

/* Endpoints. put creates (keys must already be filled by the caller) or
 * updates description/auth/tags/traffic/mirror (keys kept). Traffic rules are
 * checked against the endpoint's deployments. */
int workspace_endpoint_put(struct workspace *ws, const struct endpoint *ep, int *created,
			   struct error *err);
const struct endpoint *workspace_endpoint_find(const struct workspace *ws, const char *name);
size_t workspace_endpoint_list(const struct workspace *ws, const struct endpoint ***out);
/* Sets traffic and/or mirror (NULL leaves it as is) after checking the rules. */
int workspace_endpoint_set_traffic(struct workspace *ws, const char *name,
				   const struct traffic *traffic, const struct traffic *mirror,
				   struct error *err);
int workspace_endpoint_set_keys(struct workspace *ws, const char *name, const char *primary,
				const char *secondary, struct error *err); /* NULL keeps */
/* Deletes the endpoint and all its deployments. */
int workspace_endpoint_delete(struct workspace *ws, const char *name, struct error *err);

/* Deployments. put creates (state Creating) or updates (the state that
 * deployment_needs_reload/rescale give: Updating, Scaling, or unchanged for an
 * identical spec; a Failed one PUT again is Updating, a retry); references to the model, environment and code must exist
 * (404); a model run by a scoring script (custom_model, or mlflow_model with
 * code) needs a python environment, code and a scoring script inside it (400);
 * an mlflow_model without code needs an xgboost or sklearn flavor and no
 * environment; a new deployment gets 0 % unless all_traffic is set (then it
 * gets 100 % and the others 0). */
int workspace_deployment_put(struct workspace *ws, const struct deployment *d, int all_traffic,
			     int *created, struct error *err);
const struct deployment *workspace_deployment_find(const struct workspace *ws, const char *ep,
						   const char *name);
size_t workspace_deployment_list(const struct workspace *ws, const char *ep,
				 const struct deployment ***out); /* ep NULL: all */
/* Provisioning state and last error (NULL clears), set by the runtime. */
int workspace_deployment_set_state(struct workspace *ws, const char *ep, const char *name,
				   enum prov_state state, const char *error);
int workspace_deployment_delete(struct workspace *ws, const char *ep, const char *name,
				struct error *err); /* 409 with live or mirror traffic */

/* Operations: a bounded record (the oldest finished ones are dropped past
 * 256). add copies op (409 when its id exists). settle finishes every running
 * operation on EP's DEPLOYMENT (on the endpoint and all its deployments when
 * deployment is NULL) with status and error at time now; returns how many,
 * -1 on ENOMEM. */
int workspace_op_add(struct workspace *ws, const struct operation *op, struct error *err);
const struct operation *workspace_op_find(const struct workspace *ws, const char *id);
size_t workspace_op_count(const struct workspace *ws);
const struct operation *workspace_op_at(const struct workspace *ws, size_t i);
int workspace_op_settle(struct workspace *ws, const char *ep, const char *deployment,
			enum op_status status, const char *error, int64_t now);

#endif
