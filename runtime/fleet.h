/*
 * fleet.h: the live side of the workspace: loaded engines, capacity, routers,
 * keys and logs of every endpoint and deployment, kept in step with the
 * stored workspace by fleet_sync_endpoint after each change.
 *
 * Threads: the sync calls run under the runtime's workspace lock (which
 * serialises them); they take the fleet's own lock only to publish, for a
 * time in proportion to one endpoint's deployments, never during I/O or a
 * scan of the workspace. Loads and scale changes run on their own threads and
 * report back through the state callback (which takes the workspace lock; the
 * fleet holds none of its locks while calling it). The data plane calls
 * fleet_score from any request thread. No data-plane request ever holds a
 * thread while it waits: one that must wait (for a capacity slot, for a
 * Python worker) becomes a job, parked in a queue and finished by whichever
 * thread frees what it waits for, or by the fleet's timer at its deadline.
 */
#ifndef RUNTIME_FLEET_H
#define RUNTIME_FLEET_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/metrics.h"
#include "state/error.h"
#include "state/resource.h"
#include "state/workspace.h"

struct fleet;

/* Reports a deployment's new provisioning state (error NULL unless Failed).
 * gen identifies the spec that was loaded; the callback applies it only when
 * fleet_current(f, ep, name, gen) still holds. */
typedef void (*fleet_state_fn)(void *ctx, const char *ep, const char *name, uint64_t gen,
			       enum prov_state state, const char *error);

struct fleet *fleet_new(const char *home, struct metrics *m, fleet_state_fn on_state,
			void *ctx);
/* Where deployments' production data goes (runtime/monitor/collector.h);
 * set once, before the first sync. */
struct collector;
void fleet_set_collector(struct fleet *f, struct collector *c);
/* The memory limit of each Python worker process when a deployment sets none
 * (MLDECK_WORKER_MEMORY_MB): MiB, at least 64, or "0" for none. For
 * deployments loaded after; 0, or -1 when mb is not such a number. */
int fleet_set_worker_memory(struct fleet *f, const char *mb);
/* What a score.py engine starts with, as the fleet starts its own, for
 * environment e and a deployment's variables (batch jobs use it too): the
 * interpreter, the modules that must import, the variables as "KEY=VALUE"
 * (the environment's, then the deployment's), the memory limit
 * (MLDECK_WORKER_MEMORY_MB, else the runtime's default; -1 when invalid).
 * Heap vectors, NULL-terminated: fleet_pyconf_cleanup. 0, or -1 (ENOMEM). */
struct fleet_pyconf {
	char *python;
	char **env;
	char **modules;
	long memory_mb;
};
int fleet_pyconf(struct fleet *f, const struct env_version *e, const struct kvlist *vars,
		 struct fleet_pyconf *out);
void fleet_pyconf_cleanup(struct fleet_pyconf *p);
/* A deployment's code folder (online or batch): the code asset's folder in
 * the home when name is set, else the host directory dir. Heap (free), NULL
 * when there is none or out of memory. Under the workspace's lock. */
char *fleet_code_path(struct fleet *f, const struct workspace *ws, const char *name,
		      const char *version, const char *dir);
/* Stops the data plane: from now on a request that would wait is answered
 * 503 at once; those already waiting or running get up to grace_ms to
 * finish, then are answered 503 too (their workers killed). Loads in
 * progress are abandoned. Returns when no job is left. */
void fleet_stop(struct fleet *f, int grace_ms);
/* Stops (fleet_stop with no grace unless done before), waits for loads in
 * flight, frees every engine. */
void fleet_free(struct fleet *f);

/* Brings endpoint NAME's live side in step with ws: new or changed
 * deployments are (re)loaded in the background (the old engine serves until
 * the new one is up), capacity changes apply live, removed ones stop, the
 * endpoint's keys and traffic router are replaced atomically; an endpoint ws
 * no longer has is removed with its deployments. Other endpoints are not
 * touched. Call with the workspace lock held. */
void fleet_sync_endpoint(struct fleet *f, const struct workspace *ws, const char *name);
/* The same for every endpoint (at start). */
void fleet_sync(struct fleet *f, const struct workspace *ws);
int fleet_current(struct fleet *f, const char *ep, const char *name, uint64_t gen);

/* Appends a line to a deployment's log (bounded ring, newest last). */
void fleet_log(struct fleet *f, const char *ep, const char *name, const char *fmt, ...)
	__attribute__((format(printf, 4, 5)));
/* The last `tail` lines (0: all kept) as one heap string. NULL when unknown. */
char *fleet_logs(struct fleet *f, const char *ep, const char *name, int tail);

/* Data plane. Checks the credential, picks a deployment (the named one, or by
 * the traffic split), mirrors, enforces capacity and timeout, scores, records
 * metrics. Fills status/body and the chosen deployment. Never blocks: it
 * answers at once everything that needs no waiting (refusals, in-process
 * engines with a free capacity slot); else it sets would_block and hands
 * out a job, which the caller starts with fleet_job_start once it can take
 * an answer from another thread. body and request_id must stay valid until
 * the answer. */
struct fleet_call {
	const char *endpoint;
	const char *deployment;    /* azureml-model-deployment header or NULL */
	const char *authorization; /* the Authorization header or NULL */
	const char *body;
	size_t len;
	const char *request_id;
	const unsigned char *token_secret;
	size_t token_secret_len;
	/* a request header by name, or NULL (data collection reads a few) */
	const char *(*header)(const void *ctx, const char *name);
	const void *header_ctx;
};
struct fleet_job;
struct fleet_answer {
	int status;
	char *body; /* heap JSON */
	size_t len;
	char deployment[RESOURCE_NAME_MAX + 1];
	int would_block;       /* answering needs a wait: start job with */
	struct fleet_job *job; /* fleet_job_start (status is 0) */
};
void fleet_score(struct fleet *f, const struct fleet_call *call, struct fleet_answer *out);
/* Called exactly once with a job's answer, from any thread (perhaps within
 * fleet_job_start); ans->body passes to the callee. */
typedef void (*fleet_done_fn)(void *ctx, struct fleet_answer *ans);
/* Starts a job handed out by fleet_score: never blocks. headers ("Name:
 * value", NULL-terminated, may be NULL) are for Python workers; they and
 * the call's body must stay valid until done is called. */
void fleet_job_start(struct fleet_job *j, const char *const *headers, fleet_done_fn done,
		     void *ctx);
/* The credential check of fleet_score alone, for admitting a request before
 * its body is read: 0, or -1 with 404 (no such endpoint) or 401 in err. */
int fleet_authorize(struct fleet *f, const char *endpoint, const char *authorization,
		    const unsigned char *token_secret, size_t token_secret_len,
		    struct error *err);
/* 200 when the endpoint has a deployment with traffic that is up. */
int fleet_liveness(struct fleet *f, const char *ep);

#endif
