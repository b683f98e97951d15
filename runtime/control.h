/*
 * control.h: what the resource API's files share (private to runtime/):
 * control.c (dispatch, the route table, models, environments, online
 * endpoints and deployments) and batchctl.c (batch endpoints and deployments,
 * data assets, jobs, schedules).
 *
 * A call is one matched request. Handlers run on a pool thread (may block).
 * Changes go through control_change (core.h) with an apply function; reads
 * take the lock with control_lock and release it with control_end.
 */
#ifndef RUNTIME_CONTROL_H
#define RUNTIME_CONTROL_H

#include "runtime/core.h"

struct asset;

struct call {
	struct runtime *rt;
	const struct server_request *rq;
	struct server_response *rs;
	const char *cap[3];	   /* names/versions from the path, in order, checked */
	const struct asset *asset; /* models or environments routes */
	cJSON *body;		   /* parsed JSON body, NULL when none */
};

typedef void (*route_fn)(struct call *c);

void control_lock(struct call *c);
void control_end(struct call *c); /* unlocks */
int control_need_body(struct call *c); /* -1: answered 400 */
void control_reply(struct call *c, int status, cJSON *j); /* takes j */
void control_reply_error(struct call *c, const struct error *err);

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
void batchctl_data_list(struct call *c);           /* GET data */
void batchctl_data_get(struct call *c);            /* GET data/{n} */
void batchctl_data_delete(struct call *c);         /* DELETE data/{n}[/versions/{v}] */
void batchctl_data_versions(struct call *c);       /* GET data/{n}/versions */
void batchctl_data_version_get(struct call *c);    /* GET data/{n}/versions/{v} */
void batchctl_data_version_put(struct call *c);    /* PUT data/{n}/versions/{v} */
void batchctl_data_version_post(struct call *c);   /* POST data/{n}/versions: next */
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
