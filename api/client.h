/*
 * client.h: the one client of the resource API, local runtime or Azure ML.
 *
 * Given a base URL, a workspace path and a bearer credential it speaks Azure
 * ML's ARM API (api-version 2024-04-01). HTTP failures, non-2xx answers and
 * malformed JSON all come back as one struct error carrying the server's
 * {"error":{"code","message"}} when there is one. A client is used by one
 * thread at a time (it owns a curl easy handle for connection reuse).
 */
#ifndef API_CLIENT_H
#define API_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>

#include "state/error.h"

struct client_config {
	const char *base_url;   /* "http://127.0.0.1:5800" or "https://management.azure.com" */
	const char *ws_path;    /* "/subscriptions/S/resourceGroups/RG/providers/
				   Microsoft.MachineLearningServices/workspaces/WS" */
	const char *credential; /* bearer token (admin key or Azure access token) */
	long timeout_ms;        /* per request; 0 = 30000 */
	const char *unix_socket; /* NULL or "": TCP; else every request (data plane
				    too) goes through this Unix socket (ssh://) */
	int dataplane_at_base;  /* 1: endpoints score at base_url/endpoints/{ep}/score
				   (mldeck runtimes); 0: at their scoringUri (Azure) */
};

struct client;

struct client *client_new(const struct client_config *cfg); /* NULL on ENOMEM */
void client_free(struct client *c);

/*
 * Calls METHOD on ws_path + PATH (PATH starts with "/", e.g. "/onlineEndpoints/x";
 * "?api-version=2024-04-01" is added). body may be NULL. On 2xx returns 0 and,
 * if out is not NULL, *out is the parsed answer (NULL for an empty body),
 * owned by the caller. Otherwise -1 and err is filled (status 0 when the
 * server could not be reached: message says why).
 */
int client_call(struct client *c, const char *method, const char *path, const cJSON *body,
		cJSON **out, struct error *err);
/* Like client_call with a raw body of the given content type (model upload). */
int client_call_raw(struct client *c, const char *method, const char *path, const void *data,
		    size_t len, const char *content_type, cJSON **out, struct error *err);
/* GET base_url + PATH exactly (e.g. "/healthz", "/v1/metrics?window=60"); the
 * body text in *out (heap, NUL-terminated). 0 on 2xx. */
int client_get_text(struct client *c, const char *path, char **out, size_t *len,
		    struct error *err);

/* Data plane: POST body to scoring_uri with Authorization: Bearer key and,
 * when deployment is not NULL, azureml-model-deployment. Any HTTP status is a
 * success of the call (0): *status, *out (heap) and the chosen deployment
 * (chosen, may be "") are filled; -1 only when no answer came. */
int client_score(struct client *c, const char *scoring_uri, const char *key,
		 const char *deployment, const char *body, size_t len, int *status, char **out,
		 size_t *out_len, char *chosen, size_t chosen_len, double *latency_ms,
		 struct error *err);

const char *client_base_url(const struct client *c);
/* The Unix socket every request goes through, NULL when none. */
const char *client_unix_socket(const struct client *c);
/* Where endpoint ep's scoring requests go, into buf: through this client's own
 * transport (base URL, socket) for an mldeck runtime, never the scoringUri the
 * server reports about itself (wrong through a tunnel); the endpoint's
 * scoring_uri for Azure, whose data plane is another host. -1 with err when
 * it does not fit or, on Azure, the endpoint has no scoringUri yet. */
int client_scoring_url(const struct client *c, const char *ep, const char *scoring_uri, char *buf,
		       size_t len, struct error *err);

/* Makes the call running on c in another thread fail at once ("cancelled":
 * its connection is shut down), and every later call on c too. For a
 * program that must not wait for a stalled server when it quits. Any
 * thread; c stays valid until client_free. */
void client_cancel(struct client *c);

#endif
