/*
 * fetch.h: the console's backend I/O, off the console's thread (issue 8
 * item 1). A job is a small closure: run() makes its calls on a worker
 * thread with that worker's own client (same profile, same transport,
 * every call bounded by the client's timeout), then done() runs on the
 * console's thread when the loop delivers it. Workers are started on
 * demand (up to FETCH_MAX_WORKERS), so one stalled call never holds up the
 * others; a job with a key replaces a queued job with the same key, so
 * periodic refreshes never stack up behind a slow one. fetch_fd() becomes
 * readable when finished jobs wait: the loop polls it beside the terminal.
 * fetch_free cancels what is running (client_cancel) and returns at once.
 * The workers' clients share one cache of GET answers (client_share_cache):
 * an unchanged list is a 304 whichever worker asks (over ssh:// a 1,000-row
 * list moved again by each worker's first refresh was most of the idle
 * traffic).
 *
 * Threads: fetch_new/submit/deliver/free and the queries on the console's
 * thread; run() on a worker, touching only its job and its client.
 */
#ifndef UI_CONSOLE_FETCH_H
#define UI_CONSOLE_FETCH_H

#include "api/client.h"
#include "api/connect.h"
#include "state/error.h"

#define FETCH_MAX_WORKERS 6
#define FETCH_CACHE_SLOTS 16 /* GET answers the workers keep together */
#define FETCH_KEY_MAX 96

struct app;
struct fetch;

struct fetch_job {
	char key[FETCH_KEY_MAX]; /* "" or the coalescing key */
	/* Worker thread: the calls; 0, or -1 with err (status 0: no answer). */
	int (*run)(struct fetch_job *j, struct client *c);
	/* Console thread, after run (NULL: nothing to do). */
	void (*done)(struct app *a, struct fetch_job *j);
	/* Frees the job (NULL: free(j)); also for a job dropped unrun. */
	void (*release)(struct fetch_job *j);
	int rc;
	struct error err;
	/* fetch.c's own */
	struct fetch_job *next;
	long long started_ms;
};

/* A zeroed job of size bytes (a struct that starts with a struct fetch_job)
 * with its key and functions set. Aborts when out of memory. */
void *fetch_job_new(size_t size, const char *key, int (*run)(struct fetch_job *, struct client *),
		    void (*done)(struct app *, struct fetch_job *),
		    void (*release)(struct fetch_job *));
/* A pool for the backend info describes (copied: URL, workspace,
 * credential, the tunnel's socket), every call bounded by timeout_ms. NULL
 * on ENOMEM. */
struct fetch *fetch_new(const struct connect_info *info, long timeout_ms);
/* Cancels running calls, drops queued jobs (released, done not run),
 * joins the workers. NULL is a no-op. */
void fetch_free(struct fetch *f);
/* Queues j; the pool owns it from now on. */
void fetch_submit(struct fetch *f, struct fetch_job *j);
/* Readable while finished jobs wait for fetch_deliver. */
int fetch_fd(const struct fetch *f);
/* Runs done and release for every finished job, in finishing order.
 * Returns how many. */
int fetch_deliver(struct fetch *f, struct app *a);
/* How long the oldest running job has been running, in ms (0: none). */
long long fetch_waiting_ms(struct fetch *f);
/* Why the backend did not answer the last delivered job that needed it
 * ("Connection refused"), or NULL once one got an answer. */
const char *fetch_unreachable(const struct fetch *f);
/* 1 once a delivered job got an answer from the backend. */
int fetch_answered(const struct fetch *f);
/* 1 while a job with this key is queued or running. */
int fetch_busy(struct fetch *f, const char *key);

#endif
