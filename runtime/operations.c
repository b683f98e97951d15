/*
 * operations.c: Azure's long-running operations (see
 * ../shared/fixtures/azureml-recordings/SUMMARY.md, section 2). A PUT or
 * DELETE of an endpoint or deployment records an operation in the workspace
 * (so it survives a restart) and answers with Azure-AsyncOperation pointing at
 * .../locations/local/mfeOperationsStatus/{id}, which reads "Updating" until
 * the deployment settles, then Succeeded or Failed (with the error). A DELETE's
 * Location is .../mfeOperationResults/{id}: 202 while running, then 200.
 *
 * Retry-After: 1 is sent with every answer that starts or reports a running
 * operation, so clients (azure-core polls every 5 s without it) see a local
 * deployment finish within a second.
 */
#include "runtime/control.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <strings.h>

#include <openssl/rand.h>

#define API_VERSION "2024-04-01"

int operations_begin(struct workspace *w, const char *ep, const char *deployment,
		     enum op_status status, struct operation *op, struct error *err)
{
	unsigned char raw[16];
	char id[33];

	if (RAND_bytes(raw, sizeof raw) != 1)
		return error_set(err, 500, "InternalError", "no random bytes");
	for (size_t i = 0; i < sizeof raw; i++)
		snprintf(id + 2 * i, 3, "%02x", raw[i]);
	memset(op, 0, sizeof *op);
	snprintf(op->id, sizeof op->id, "%s:%s", deployment[0] ? "od" : "oe", id);
	snprintf(op->endpoint, sizeof op->endpoint, "%s", ep);
	snprintf(op->deployment, sizeof op->deployment, "%s", deployment);
	op->status = status;
	op->start = control_now();
	op->end = status == OP_RUNNING ? 0 : op->start;
	return workspace_op_add(w, op, err);
}

/* base_url/subscriptions/S/providers/.../locations/local/KIND/ID?api-version */
static void op_url(const struct call *c, const char *kind, const char *id, char *buf,
		   size_t len)
{
	snprintf(buf, len,
		 "%s%s/providers/Microsoft.MachineLearningServices/locations/local/%s/%s"
		 "?api-version=" API_VERSION,
		 c->base_url, c->sub_prefix, kind, id);
}

void operations_headers(struct call *c, const struct operation *op, const char *resource_path)
{
	char url[1024];

	op_url(c, "mfeOperationsStatus", op->id, url, sizeof url);
	server_reply_header(c->rs, "Azure-AsyncOperation", url);
	if (resource_path != NULL)
		control_url(c, resource_path, url, sizeof url);
	else
		op_url(c, "mfeOperationResults", op->id, url, sizeof url);
	server_reply_header(c->rs, "Location", url);
	server_reply_header(c->rs, "x-ms-async-operation-timeout", "PT30M");
	server_reply_header(c->rs, "Retry-After", "1");
}

void operations_settle(struct workspace *ws, const char *ep, const char *deployment,
		       enum prov_state state, const char *error)
{
	if (state != PROV_SUCCEEDED && state != PROV_FAILED)
		return;
	workspace_op_settle(ws, ep, deployment, state == PROV_SUCCEEDED ? OP_SUCCEEDED : OP_FAILED,
			    error, control_now());
}

/* .../locations/L/(mfeOperationsStatus|mfeOperationResults)/ID */
void operations_handle(struct runtime *rt, const struct server_request *rq,
		       struct server_response *rs)
{
	struct call c;
	const struct operation *op;
	struct operation copy;
	int result;

	if (rq->segc != 8 || strcasecmp(rq->segv[2], "providers") ||
	    strcasecmp(rq->segv[3], "Microsoft.MachineLearningServices") ||
	    strcasecmp(rq->segv[4], "locations") ||
	    (strcmp(rq->segv[6], "mfeOperationsStatus") && strcmp(rq->segv[6], "mfeOperationResults")))
		return server_reply_errorf(rs, 404, "NotFound", "no such resource: %s", rq->path);
	if (strcmp(rq->method, "GET"))
		return server_reply_errorf(rs, 405, "MethodNotAllowed", "use GET");
	result = strcmp(rq->segv[6], "mfeOperationResults") == 0;
	memset(&c, 0, sizeof c);
	c.rt = rt;
	c.rq = rq;
	c.rs = rs;
	snprintf(c.sub_prefix, sizeof c.sub_prefix, "/subscriptions/%s", rq->segv[1]);
	c.codec.sub_prefix = c.sub_prefix;
	control_lock(&c);
	op = workspace_op_find(rt->ws, rq->segv[7]);
	if (op != NULL) {
		copy = *op;
		copy.error = op->error != NULL ? strdup(op->error) : NULL;
	}
	control_end(&c);
	if (op == NULL)
		return server_reply_errorf(rs, 404, "NotFound", "operation '%s' not found",
					   rq->segv[7]);
	if (copy.status == OP_RUNNING)
		server_reply_header(rs, "Retry-After", "1");
	if (result && copy.status == OP_RUNNING)
		server_reply_json(rs, 202, NULL);
	else if (result)
		server_reply_json(rs, 200, NULL);
	else
		control_reply(&c, 200, codec_operation_to_json(&copy, &c.codec));
	free(copy.error);
}
