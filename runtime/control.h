/*
 * control.h: what the resource API's files share (private to runtime/):
 * control.c (dispatch, the route table, endpoints, deployments, keys, the
 * workspace and its datastore), versions.c (models, environments, code,
 * data), operations.c (long-running operations) and batchctl.c (batch
 * endpoints and deployments, jobs, schedules).
 *
 * A call is one matched request. Handlers run on a pool thread (may block).
 * Changes go through control_change (core.h) with an apply function; reads
 * take the lock with control_lock and release it with control_end.
 */
#ifndef RUNTIME_CONTROL_H
#define RUNTIME_CONTROL_H

#include "runtime/core.h"

struct call {
	struct runtime *rt;
	const struct server_request *rq;
	struct server_response *rs;
	const char *cap[3];   /* names/versions from the path, in order, checked */
	const void *arg;      /* the route's argument (versions.c: which kind) */
	cJSON *body;          /* parsed JSON body, NULL when none */
	struct codec_ctx codec; /* ids echo the request's subscription and group */
	char ws_prefix[512];
	char rg_prefix[320];
	char sub_prefix[160];
	char base_url[320];   /* scheme://host[:port] the client used */
};

typedef void (*route_fn)(struct call *c);

void control_lock(struct call *c);
void control_end(struct call *c); /* unlocks */
int control_need_body(struct call *c); /* -1: answered 400 */
void control_reply(struct call *c, int status, cJSON *j); /* takes j */
void control_reply_error(struct call *c, const struct error *err);
/* Answers 200 with one page of ITEMS (an array, taken): $top caps the total,
 * count and the runtime's page size cap the page, $skipToken resumes; a
 * nextLink (absolute, same query) names the next page when there is one. */
void control_page(struct call *c, cJSON *items);
/* base_url + path + "?api-version=..." into buf. */
void control_url(const struct call *c, const char *path, char *buf, size_t len);
/* unix seconds now */
int64_t control_now(void);

/* versions.c: models, environments, code and data, their versions and containers. */
extern const struct asset versions_models, versions_environments, versions_codes, versions_data;
void versions_list(struct call *c);           /* GET {kind} */
void versions_container_get(struct call *c);  /* GET {kind}/{n} */
void versions_container_put(struct call *c);  /* PUT {kind}/{n} (isArchived) */
void versions_delete(struct call *c);         /* DELETE {kind}/{n}[/versions/{v}] */
void versions_versions_list(struct call *c);  /* GET {kind}/{n}/versions */
void versions_version_get(struct call *c);    /* GET {kind}/{n}/versions/{v} */
void versions_version_put(struct call *c);    /* PUT {kind}/{n}/versions/{v} */
void versions_version_post(struct call *c);   /* POST {kind}/{n}/versions: next version */

/* operations.c: Azure's long-running operations. */
/* Records a new operation on EP (and DEPLOYMENT, "" for the endpoint) in w,
 * running or already settled; fills op. -1 with err. */
int operations_begin(struct workspace *w, const char *ep, const char *deployment,
		     enum op_status status, struct operation *op, struct error *err);
/* Adds Azure-AsyncOperation, Location (the resource for a PUT, the operation
 * result for a DELETE), x-ms-async-operation-timeout and Retry-After. */
void operations_headers(struct call *c, const struct operation *op, const char *resource_path);
/* GET .../locations/{loc}/mfeOperationsStatus/{id} and mfeOperationResults/{id}. */
void operations_handle(struct runtime *rt, const struct server_request *rq,
		       struct server_response *rs);
/* A deployment reached a final state: settle its running operations in ws
 * (inside a control_change). */
void operations_settle(struct workspace *ws, const char *ep, const char *deployment,
		       enum prov_state state, const char *error);

/* batchctl.c: the batch side of the resource API (routes in control.c). */
void batchctl_endpoints_list(struct call *c);  /* GET batchEndpoints */
void batchctl_endpoint_get(struct call *c);    /* GET batchEndpoints/{ep} */
void batchctl_endpoint_put(struct call *c);    /* PUT */
void batchctl_endpoint_patch(struct call *c);  /* PATCH */
void batchctl_endpoint_delete(struct call *c); /* DELETE */
void batchctl_endpoint_keys(struct call *c);   /* POST batchEndpoints/{ep}/listkeys */
void batchctl_deployments_list(struct call *c);  /* GET batchEndpoints/{ep}/deployments */
void batchctl_deployment_get(struct call *c);    /* GET .../deployments/{d} */
void batchctl_deployment_put(struct call *c);    /* PUT */
void batchctl_deployment_patch(struct call *c);  /* PATCH */
void batchctl_deployment_delete(struct call *c); /* DELETE */
void batchctl_jobs_list(struct call *c);   /* GET jobs */
void batchctl_job_get(struct call *c);     /* GET jobs/{id} */
void batchctl_job_delete(struct call *c);  /* DELETE jobs/{id} */
void batchctl_job_cancel(struct call *c);  /* POST jobs/{id}/cancel */
void batchctl_schedules_list(struct call *c);   /* GET schedules */
void batchctl_schedule_get(struct call *c);     /* GET schedules/{n} */
void batchctl_schedule_put(struct call *c);     /* PUT schedules/{n} */
void batchctl_schedule_delete(struct call *c);  /* DELETE schedules/{n} */
void batchctl_schedule_trigger(struct call *c); /* POST schedules/{n}/trigger */

#endif
