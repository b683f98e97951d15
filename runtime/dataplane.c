/*
 * dataplane.c: the scoring routes. POST /endpoints/{ep}/score scores;
 * GET /endpoints/{ep}/ answers liveness. Credentials, routing, capacity and
 * metrics live in the fleet; this file maps HTTP onto it.
 */
#include "runtime/core.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "state/names.h"

/* A request that waits (for capacity, for a Python worker) holds no thread. */
struct waiting {
	struct fleet_job *job;
	char **headers;
	struct server_later *a;
};

static const char *request_header(const void *rq, const char *name)
{
	return server_header(rq, name);
}

static void scored(void *ctx, struct fleet_answer *ans)
{
	struct waiting *w = ctx;
	struct server_response rs;

	memset(&rs, 0, sizeof rs);
	rs.status = ans->status;
	rs.body = ans->body;
	rs.len = ans->len;
	rs.content_type = "application/json";
	snprintf(rs.deployment, sizeof rs.deployment, "%s", ans->deployment);
	server_answer(w->a, &rs);
	free(w->headers);
	free(w);
}

static void discard(void *ctx, struct fleet_answer *ans)
{
	(void)ctx;
	free(ans->body);
}

/* Called by the server once the connection is suspended. */
static void start(void *arg, struct server_later *a)
{
	struct waiting *w = arg;

	w->a = a;
	fleet_job_start(w->job, (const char *const *)w->headers, scored, w);
}

static void liveness(struct runtime *rt, const char *ep, struct server_response *rs)
{
	int st = fleet_liveness(rt->fleet, ep);

	if (st == 200)
		server_reply_json(rs, 200, strdup("{\"status\":\"Healthy\"}"));
	else if (st == 404)
		server_reply_errorf(rs, 404, "EndpointNotFound", "endpoint '%s' not found", ep);
	else
		server_reply_errorf(rs, 503, "NotReady",
				    "endpoint '%s' has no deployment with traffic that is up", ep);
}

/* The route: 2 liveness, 3 scoring, or 0 with the refusal in rs. */
static int route(const struct server_request *rq, struct server_response *rs)
{
	struct error err;

	if (rq->segc < 2 || rq->segc > 3 || (rq->segc == 3 && strcmp(rq->segv[2], "score"))) {
		server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
		return 0;
	}
	if (names_check(rq->segv[1], "endpoint", &err) < 0) {
		server_reply_errorf(rs, 404, "EndpointNotFound", "%s", err.message);
		return 0;
	}
	if (strcmp(rq->method, rq->segc == 2 ? "GET" : "POST")) {
		server_reply_errorf(rs, 405, "MethodNotAllowed",
				    "use GET for liveness, POST .../score to score");
		server_reply_header(rs, "Allow", rq->segc == 2 ? "GET" : "POST");
		return 0;
	}
	return rq->segc;
}

int dataplane_admit(struct runtime *rt, const struct server_request *rq,
		    struct server_admission *ad, struct server_response *rs)
{
	struct error err;
	int r = route(rq, rs);

	if (r == 0)
		return -1;
	if (r == 2) {
		ad->limit = 0; /* liveness is open: it takes no body */
		return 0;
	}
	if (fleet_authorize(rt->fleet, rq->segv[1], server_header(rq, "Authorization"),
			    rt->token_secret, sizeof rt->token_secret, &err) < 0) {
		server_reply_error(rs, &err);
		return -1;
	}
	return 0;
}

void dataplane_handle(struct runtime *rt, const struct server_request *rq,
		      struct server_response *rs)
{
	struct fleet_answer ans;
	struct fleet_call call;
	int r = route(rq, rs);

	if (r == 0)
		return;
	if (r == 2)
		return liveness(rt, rq->segv[1], rs);
	memset(&call, 0, sizeof call);
	call.endpoint = rq->segv[1];
	call.deployment = server_header(rq, "azureml-model-deployment");
	call.authorization = server_header(rq, "Authorization");
	call.body = rq->body ? rq->body : "";
	call.len = rq->body_len;
	call.request_id = rq->request_id;
	call.token_secret = rt->token_secret;
	call.token_secret_len = sizeof rt->token_secret;
	call.header = request_header;
	call.header_ctx = rq;
	fleet_score(rt->fleet, &call, &ans);
	if (ans.would_block) {
		struct waiting *w = malloc(sizeof *w);
		if (w == NULL) {
			fleet_job_start(ans.job, NULL, discard, NULL);
			return server_reply_errorf(rs, 500, "InternalError", "out of memory");
		}
		w->job = ans.job;
		w->headers = server_header_list(rq);
		rs->later = start;
		rs->later_arg = w;
		return;
	}
	free(rs->body);
	rs->status = ans.status;
	rs->body = ans.body;
	rs->len = ans.len;
	rs->content_type = "application/json";
	_Static_assert(sizeof ans.deployment <= sizeof rs->deployment, "a deployment name fits");
	memcpy(rs->deployment, ans.deployment, sizeof ans.deployment); /* NUL-terminated */
}
