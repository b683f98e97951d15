/*
 * invoke.h: invoking a batch endpoint, Azure's POST {scoringUri} (here
 * POST /batch/{ep}/jobs): the credential is checked before any byte of the
 * body is read (invoke_admit), then the body becomes a queued job
 * (invoke_handle), answered 201 with the job resource and a Location at
 * {ws}/jobs/{name}. Schedules make jobs the same way (invoke_start).
 *
 * Credentials: Authorization: Bearer with one of the endpoint's keys
 * (listkeys) or the runtime's admin key, whatever the endpoint's authMode
 * (Azure takes only a Microsoft Entra token; docs/batch.md).
 *
 * Input URIs (job_uri_parse): a data asset (resolved to its dataUri), a path
 * of the default datastore, an absolute path or file:// URI on the runtime's
 * host. A UriFile input must be a file and a UriFolder input a folder when
 * the job is made (400 otherwise). What only the admin key may do is decided
 * in one place, key_may() in invoke.c (docs/security.md): name a host path
 * (403 for an endpoint key, before any file is looked at), an output folder,
 * or more workers than the deployment's.
 */
#ifndef RUNTIME_INVOKE_H
#define RUNTIME_INVOKE_H

#include <cjson/cJSON.h>

#include "runtime/server.h"
#include "state/batchcodec.h"
#include "state/workspace.h"

struct runtime;

/* The endpoints' keys for admission, kept apart from the workspace lock so an
 * event loop never waits for it. */
struct invoke_keys;
struct invoke_keys *invoke_keys_new(void);
void invoke_keys_free(struct invoke_keys *k);
/* Takes the batch endpoints' keys from ws (call with the workspace lock, after
 * each change of batch endpoints, and at start). */
void invoke_keys_sync(struct invoke_keys *k, const struct workspace *ws);

/* Whether the request is for the batch data plane (/batch/...). */
int invoke_is_path(const struct server_request *rq);
/* The pre-auth hook's part (server_admit_fn) for /batch/{ep}/jobs. */
int invoke_admit(struct runtime *rt, const struct server_request *rq,
		 struct server_admission *ad, struct server_response *rs);
/* Serves an admitted /batch/... request (deferred to a pool thread). */
void invoke_handle(struct runtime *rt, const struct server_request *rq,
		   struct server_response *rs);

/* Where a URI's files come from; what an endpoint key may name depends on it. */
enum invoke_source {
	INVOKE_SOURCE_DATASTORE, /* the workspace's datastore (HOME/blobs) */
	INVOKE_SOURCE_ASSET,     /* a data asset: its dataUri, chosen by the admin */
	INVOKE_SOURCE_HOST,      /* a path on the runtime's host */
};

/* The local file or folder a URI names (job_uri_parse's forms; a data asset
 * is followed to its dataUri once; a datastore path (blob_resolve) is that
 * path in the default datastore's folder), a heap string into *path; *src
 * tells where it came from (a data asset: of *asset_type). field names the
 * URI in errors. Takes the workspace lock; touches no file. 0, or -1 with err
 * (404 for a data asset that does not exist). */
int invoke_local_path(struct runtime *rt, const char *uri, const char *field, char **path,
		      enum data_type *asset_type, enum invoke_source *src, struct error *err);

/* Makes and queues a job for batch endpoint EP and DEPLOYMENT (NULL or "":
 * the endpoint's default) from inv. schedule: the schedule firing it (NULL
 * when invoked); admin: a local output path is allowed. *answer (may be
 * NULL) gets the job resource, its ids from ids. Blocks (control_change).
 * 0, or -1 with err. */
int invoke_start(struct runtime *rt, const char *ep, const char *deployment,
		 const struct job_invocation *inv, const char *schedule, int admin,
		 const struct codec_ctx *ids, cJSON **answer, char *name, size_t name_len,
		 struct error *err);

#endif
