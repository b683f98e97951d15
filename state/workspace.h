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

/* Models. put: when mv->version is empty the next version is assigned (and
 * written back into *mv). An existing name:version is replaced (200) except that
 * its artifact/type may not change while a deployment uses it; *created tells
 * which. */
int workspace_model_put(struct workspace *ws, struct model_version *mv, int *created,
			struct error *err);
const struct model_version *workspace_model_find(const struct workspace *ws, const char *name,
						 const char *version); /* version NULL: latest */
/* All versions of all models, sorted by name then numeric version. */
size_t workspace_model_list(const struct workspace *ws, const struct model_version ***out);
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
int workspace_env_delete(struct workspace *ws, const char *name, const char *version,
			 struct error *err);
int workspace_env_delete_all(struct workspace *ws, const char *name, struct error *err);
void workspace_env_next_version(const struct workspace *ws, const char *name, char *buf,
				size_t len);

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

/* Deployments. put creates (state Creating) or updates; references to the
 * model and environment must exist (404), custom_model needs code_dir and
 * scoring_script (400), a new deployment gets 0 % unless all_traffic is set
 * (then it gets 100 % and the others 0). */
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

#endif
