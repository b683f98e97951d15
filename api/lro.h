/*
 * lro.h: long-running operations, as ARM runs them (async-operations.md).
 *
 * A PUT, PATCH, DELETE or POST whose answer carries Azure-AsyncOperation is
 * followed there (GET until its "status" is Succeeded, Failed or Canceled;
 * any other value, "Updating" or "InProgress", means running); else one with
 * Location and 202 is followed there (202 running, 200/201/204 done); else
 * an answer whose resource shows a non-terminal provisioningState (or a 202
 * DELETE with neither header) is followed by GETting the resource itself
 * (404 ends a delete). Header names match in any case.
 *
 * Polls wait the answer's Retry-After, else our own interval: LRO_POLL_FIRST_MS
 * doubling to LRO_POLL_MAX_MS. The operation ends in failure after
 * x-ms-async-operation-timeout (an ISO 8601 duration; default
 * LRO_DEFAULT_TIMEOUT_S). Failed carries the service's error (the status
 * body's "error", or the resource's properties.error). After success a PUT
 * or PATCH reads the resource once more (final state via original URI); a
 * DELETE or a POST action has nothing more to read.
 *
 * An lro is plain data owned by the caller: one poll at a time (lro_poll)
 * lets the console drive it from its fetch jobs without blocking; lro_wait
 * is the loop the command line uses. Threads: any, one lro per thread.
 */
#ifndef API_LRO_H
#define API_LRO_H

#include <cjson/cJSON.h>

#include "api/client.h"
#include "state/error.h"

#define LRO_URL_MAX 8192
#define LRO_POLL_FIRST_MS 250L
#define LRO_POLL_MAX_MS 10000L
#define LRO_DEFAULT_TIMEOUT_S 1800L
#define LRO_TICK_MS 200L /* lro_wait calls progress at least this often */

enum lro_mode { LRO_DONE, LRO_ASYNC, LRO_LOCATION, LRO_RESOURCE };
enum lro_state { LRO_RUNNING, LRO_SUCCEEDED, LRO_FAILED, LRO_CANCELED };

struct lro {
	char method[8];
	char resource[LRO_URL_MAX]; /* the request's path (or URL), for the final GET */
	char poll_url[LRO_URL_MAX]; /* Azure-AsyncOperation or Location */
	enum lro_mode mode;
	enum lro_state state;
	char status[32];    /* the service's word for it: "Updating", "Succeeded", ... */
	long next_ms;	    /* wait this long before the next poll */
	long interval_ms;   /* our own interval when the service gives none */
	double started_ms;  /* monotonic clock at lro_begin */
	double deadline_ms; /* started_ms + the timeout */
	int polls;
	struct error error; /* why it Failed / was Canceled / timed out */
};

/* Starts following the operation that answered method on path with rs
 * (headers) and body (may be NULL). After it, op->state is RUNNING, or
 * SUCCEEDED when there was nothing to follow. */
void lro_begin(struct lro *op, const char *method, const char *path,
	       const struct client_response *rs, const cJSON *body);
/* method on path; a 2xx answer starts *op (lro_begin) and *out gets the
 * answer's body (may be NULL; caller's). -1 with err when the request fails. */
int lro_call(struct client *c, const char *method, const char *path, const cJSON *body,
	     struct lro *op, cJSON **out, struct error *err);
/* One poll now: updates state, status and next_ms. 0 when the poll got an
 * answer it understood (the operation may still run, or have failed: see
 * state and error), -1 with err when the poll itself failed (the operation's
 * fate is unknown; try again later). */
int lro_poll(struct client *c, struct lro *op, struct error *err);
/* After SUCCEEDED: the resource as it is now for PUT/PATCH (*out,
 * caller's), NULL for DELETE and POST actions. 0 or -1 with err. */
int lro_result(struct client *c, const struct lro *op, cJSON **out, struct error *err);
/* Seconds since lro_begin. */
double lro_elapsed_s(const struct lro *op);
/* Polls until the operation ends, calling progress (may be NULL) after each
 * poll and every LRO_TICK_MS while it waits; then lro_result. 0 on success, -1 with err (the service's error when
 * it Failed). */
int lro_wait(struct client *c, struct lro *op, void (*progress)(void *ctx, const struct lro *op),
	     void *ctx, cJSON **out, struct error *err);

/* "Succeeded" / "failed" / "Canceled" (any case) -> the state; else RUNNING. */
enum lro_state lro_state_of(const char *status);
/* An ISO 8601 duration ("PT30M", "P1DT2H", "PT1.5S") in seconds, -1 when
 * unreadable. */
double lro_duration_s(const char *iso);

#endif
