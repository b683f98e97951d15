/*
 * core.h: the runtime's shared state, private to runtime/. Lock order is
 * rt->lock (workspace and store) before any fleet lock; the data plane never
 * takes rt->lock.
 */
#ifndef RUNTIME_CORE_H
#define RUNTIME_CORE_H

#include <limits.h>
#include <pthread.h>

#include "runtime/fleet.h"
#include "runtime/logfile.h"
#include "runtime/metrics.h"
#include "runtime/runtime.h"
#include "runtime/server.h"
#include "runtime/tls.h"
#include "state/codec.h"
#include "state/store.h"
#include "state/workspace.h"

struct runtime {
	char home[PATH_MAX];
	char url[128];
	const char *scheme; /* "http" or "https" */
	char host[64];
	unsigned short port;
	char ws_name[RESOURCE_NAME_MAX + 1];

	pthread_mutex_t lock; /* guards ws and every store write */
	struct store *store;
	struct workspace *ws;

	char admin_key[128];
	unsigned char token_secret[32];

	struct metrics *metrics;
	struct fleet *fleet;
	struct jobs *jobs;               /* batch jobs (jobs.h) */
	struct invoke_keys *batch_keys;  /* batch endpoints' keys for admission (invoke.h) */
	struct scheduler *scheduler;     /* schedules (scheduler.h) */
	struct server *server;
	struct logfile *log;
	size_t max_upload;
	pthread_t housekeeper;
	int housekeeping;
	pthread_mutex_t hk_lock;
	pthread_cond_t hk_cond;
	int hk_stop;
	int token_ttl;
	int64_t started;          /* unix seconds, for systemData of synthesized resources */
	int page_size;            /* list items per page before nextLink */
	struct tls_identity tls;  /* kept for the server's lifetime */
	char blob_key[64];        /* the datastore's account key (base64), blob.h */
	char workspace_id[40];    /* a GUID stable for this home */
	int stop_grace_ms;
};

/* Writes one event line ("2026-... event: text") to the runtime log. */
void runtime_log(struct runtime *rt, const char *fmt, ...) __attribute__((format(printf, 2, 3)));

/* control.c: the one way the workspace changes. apply runs under rt->lock on
 * the live workspace: it validates and changes (workspace.h calls change
 * nothing when they refuse) and may build its answer; it returns 0 or -1 with
 * err. control_change then persists the rows the change touched in one
 * transaction (store_commit), brings the fleet in step for the endpoints it
 * touched (fleet_sync_endpoint), calls done (may be NULL; still under the
 * lock, for what must follow the commit atomically, e.g. rekeying live
 * state) and unlocks. 0 when the change is on disk; -1 with err otherwise,
 * and then nothing changed: a failed persist reloads the workspace from the
 * store. Work that may be slow (removing files the change released) belongs
 * after it returns, not in done. Blocks on the lock and an fsync: pool
 * threads only, never an event loop. */
typedef int (*control_apply_fn)(struct runtime *rt, struct workspace *ws, void *arg,
				struct error *err);
typedef void (*control_done_fn)(struct runtime *rt, void *arg);
int control_change(struct runtime *rt, control_apply_fn apply, control_done_fn done, void *arg,
		   struct error *err);

/* control.c: the resource API under the workspace prefix. */
void control_handle(struct runtime *rt, const struct server_request *rq, int first,
		    struct server_response *rs);
/* Whether the request's body is a raw model upload (a route that takes one,
 * Content-Type: application/octet-stream). */
int control_is_upload(struct runtime *rt, const struct server_request *rq);

/* dataplane.c: /endpoints/{ep}/score and /endpoints/{ep}/. */
void dataplane_handle(struct runtime *rt, const struct server_request *rq,
		      struct server_response *rs);
/* Admission (server_admit_fn) of a data-plane request: the route and the
 * endpoint's credential, before any body byte is read. */
int dataplane_admit(struct runtime *rt, const struct server_request *rq,
		    struct server_admission *ad, struct server_response *rs);

#endif
