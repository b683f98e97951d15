/*
 * client.h: the one client of the resource API, local runtime or Azure ML.
 *
 * Given a base URL, a workspace path and a bearer credential it speaks Azure
 * ML's ARM API (api-version 2024-04-01). HTTP failures, non-2xx answers and
 * malformed JSON all come back as one struct error carrying the server's
 * {"error":{"code","message"}} when there is one. A client is used by one
 * thread at a time (it owns a curl easy handle for connection reuse).
 *
 * Every request, ARM or not, goes through client_send: one path that sets
 * TLS (ca_file, else $SSL_CERT_FILE), connect-to rules, the ssh tunnel's Unix
 * socket, the bearer (only to the base URL's origin: never to Blob, scoring
 * or token hosts), and retries throttled and transient failures as
 * api/retry.h says, each retry written to the trace. Proxies come from the
 * environment as curl reads them (HTTPS_PROXY, NO_PROXY, ...): nothing here
 * overrides them. Long-running operations (api/lro.h) and paging
 * (client_list) are built on it.
 *
 * GET answers that carry an ETag are kept (the last few URLs, each up to
 * 16 MiB): the next GET of the same URL sends If-None-Match, and a 304 gives
 * the kept answer back as if it were a 200. An unchanged list of a thousand
 * endpoints then costs a few hundred bytes instead of its 600 KB (an idle
 * console over ssh://).
 */
#ifndef API_CLIENT_H
#define API_CLIENT_H

#include <cjson/cJSON.h>
#include <stddef.h>
#include <stdio.h>

#include "state/error.h"

struct credential;

struct client_config {
	const char *base_url;   /* "http://127.0.0.1:5800" or "https://management.azure.com" */
	const char *ws_path;    /* "/subscriptions/S/resourceGroups/RG/providers/
				   Microsoft.MachineLearningServices/workspaces/WS" */
	const char *credential; /* bearer token (admin key or Azure access token) */
	long timeout_ms;        /* per request; 0 = 30000 */
	struct credential *cred; /* NULL, or where Entra ID tokens come from (refreshed before
				    expiry; then credential is unused). The client takes a ref. */
	const char *ca_file;	 /* PEM bundle trusted for https; NULL or "": $SSL_CERT_FILE,
				    else the system's */
	const char *connect_to;	 /* NULL, or curl --connect-to rules "H:P:H2:P2[,...]" */
	int max_retries;	 /* 0: RETRY_DEFAULT_MAX; < 0: never retry */
	long connect_timeout_ms; /* 0: curl's default */
	int no_proxy;		 /* 1: never through a proxy (IMDS must not be proxied) */
	FILE *trace;		 /* NULL, or where -v writes each request, answer and retry */
	const char *unix_socket; /* NULL or "": TCP; else every request (data plane
				    too) goes through this Unix socket (ssh://) */
	int dataplane_at_base;	 /* 1: endpoints score at base_url/endpoints/{ep}/score
				    (mldeck runtimes); 0: at their scoringUri (Azure) */
};

struct client;

struct client *client_new(const struct client_config *cfg); /* NULL on ENOMEM */
void client_free(struct client *c);

/* GET answers kept with their ETag and asked for again with If-None-Match:
 * a 304 gives the kept answer back as a 200. Each client has a cache of its
 * own; clients that poll the same backend (the console's fetch workers)
 * share one, so an answer any of them holds is not moved again. Any thread. */
struct client_cache;
struct client_cache *client_cache_new(int slots); /* NULL on ENOMEM */
/* After every client that shares it is freed. NULL is a no-op. */
void client_cache_free(struct client_cache *cc);
/* c keeps its answers in cc (the caller's, outliving c); NULL: its own. */
void client_share_cache(struct client *c, struct client_cache *cc);

/* One request. url is absolute (an operation status URL, a nextLink, a Blob
 * or token endpoint: used verbatim) or NULL, and then the request goes to
 * base_url + ws_path + path with the api-version added. */
enum client_auth {
	CLIENT_AUTH_BEARER, /* the client's credential (refused off the base URL's origin) */
	CLIENT_AUTH_NONE,   /* none from us (headers may carry the caller's own) */
};

struct client_request {
	const char *method;
	const char *url;
	const char *path;
	const void *body; /* NULL: no body (a PUT/POST then sends an empty one) */
	size_t len;
	const char *content_type;    /* NULL: application/json when there is a body */
	const char *const *headers;  /* NULL-terminated "Name: value" lines, or NULL */
	enum client_auth auth;
	int no_retry;		     /* 1: one try only (scoring requests) */
};

struct client_response {
	long status;  /* the final answer's HTTP status */
	char *body;   /* heap, NUL-terminated (may be ""), capped */
	size_t len;
	char *head;   /* the final answer's header lines, heap */
	size_t head_len;
	int retries;       /* how many times it was sent again */
	double latency_ms; /* of the last try */
};

/* Sends rq, retrying as retry.h says. 0 when an answer came (any status:
 * look at rs->status), -1 with err when none did (status 0) or the request
 * could not be made. Clean rs with client_response_cleanup either way. */
int client_send(struct client *c, const struct client_request *rq, struct client_response *rs,
		struct error *err);
void client_response_cleanup(struct client_response *rs);
/* The value of header name (case-insensitive) of the answer into buf, or
 * NULL when it is absent. */
const char *client_header(const struct client_response *rs, const char *name, char *buf,
			  size_t len);
/* A non-2xx answer as err, preferring the server's {"error":{...}}. -1. */
int client_answer_error(const struct client_response *rs, const char *what, struct error *err);

/*
 * Calls METHOD on ws_path + PATH (PATH starts with "/", e.g. "/onlineEndpoints/x";
 * "?api-version=2024-04-01" is added), or on PATH itself when it is an
 * absolute http(s) URL of the same origin. body may be NULL. On 2xx returns
 * 0 and, if out is not NULL, *out is the parsed answer (NULL for an empty
 * body), owned by the caller. Otherwise -1 and err is filled (status 0 when
 * the server could not be reached: message says why).
 */
int client_call(struct client *c, const char *method, const char *path, const cJSON *body,
		cJSON **out, struct error *err);
/* client_call that also hands back the answer's status and headers (rs,
 * cleaned by the caller) for long-running operations. */
int client_call_resp(struct client *c, const char *method, const char *path, const cJSON *body,
		     cJSON **out, struct client_response *rs, struct error *err);
/* Like client_call with a raw body of the given content type (model upload). */
int client_call_raw(struct client *c, const char *method, const char *path, const void *data,
		    size_t len, const char *content_type, cJSON **out, struct error *err);
/* GET of a list, following nextLink verbatim page after page (same origin
 * only, at most CLIENT_MAX_PAGES). *out is {"value":[every item]}. */
#define CLIENT_MAX_PAGES 10000
int client_list(struct client *c, const char *path, cJSON **out, struct error *err);
/* GET base_url + PATH exactly (e.g. "/healthz", "/v1/metrics?window=60"); the
 * body text in *out (heap, NUL-terminated). 0 on 2xx. */
int client_get_text(struct client *c, const char *path, char **out, size_t *len,
		    struct error *err);

/* Data plane: POST body to scoring_uri with Authorization: Bearer key and,
 * when deployment is not NULL, azureml-model-deployment. Any HTTP status is a
 * success of the call (0): *status, *out (heap) and the chosen deployment
 * (chosen, may be "") are filled; -1 only when no answer came. Never retried. */
int client_score(struct client *c, const char *scoring_uri, const char *key,
		 const char *deployment, const char *body, size_t len, int *status, char **out,
		 size_t *out_len, char *chosen, size_t chosen_len, double *latency_ms,
		 struct error *err);

const char *client_base_url(const struct client *c);
const char *client_ws_path(const struct client *c);
/* The static bearer this client sends on the control plane (a local
 * runtime's admin key; "" when it gets Entra ID tokens from a credential
 * chain), for the one data-plane call that needs it too. */
const char *client_credential(const struct client *c);
/* 1 when the backend is an mldeck runtime (its data plane at the base URL). */
int client_is_runtime(const struct client *c);
/* The Unix socket every request goes through, NULL when none. */
const char *client_unix_socket(const struct client *c);
/* Where endpoint ep's scoring requests go, into buf: through this client's own
 * transport (base URL, socket) for an mldeck runtime, never the scoringUri the
 * server reports about itself (wrong through a tunnel); the endpoint's
 * scoring_uri for Azure, whose data plane is another host. -1 with err when
 * it does not fit or, on Azure, the endpoint has no scoringUri yet. */
int client_scoring_url(const struct client *c, const char *ep, const char *scoring_uri, char *buf,
		       size_t len, struct error *err);
/* The same for batch endpoint ep's invocation URL (its scoringUri, .../jobs):
 * base_url/batch/EP/jobs on an mldeck runtime. */
int client_batch_url(const struct client *c, const char *ep, const char *scoring_uri, char *buf,
		     size_t len, struct error *err);
/* Sets c's network options (CA file, connect-to rules, proxy rule) on a
 * curl handle of someone else's, so every connection of the program is made
 * one way (loadgen's). They only read c's settings, fixed at client_new:
 * any thread; c must outlive the handle's transfers. */
void client_setopt_network(const struct client *c, void *curl_easy);
/* An Entra ID token for scope from the client's credential source into buf
 * (the data plane of AADToken endpoints wants https://ml.azure.com). 0; 1
 * when the client has no such source (not an azureml profile); -1 with err. */
int client_token(struct client *c, const char *scope, char *buf, size_t len, struct error *err);
/* The trace stream (NULL when quiet), for layers that report progress. */
FILE *client_trace(const struct client *c);

/* Makes the call running on c in another thread fail at once ("cancelled":
 * its connection is shut down), and every later call on c too. For a
 * program that must not wait for a stalled server when it quits. Any
 * thread; c stays valid until client_free. */
void client_cancel(struct client *c);

#endif
