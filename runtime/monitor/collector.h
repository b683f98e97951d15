/*
 * collector.h: a deployment's production data, collected as Azure's model
 * data collector does it (state/datacollector.h says what to collect).
 *
 * What is written: one JSON Lines record per scored request and collection,
 * Azure's CloudEvents-like shape (docs/monitoring.md has every field), under
 *   ROOT/modelDataCollector/{endpoint}/{deployment}/{collection}/{period}/{instance}.jsonl
 * ROOT being the default datastore's folder, {period} yyyy/MM/dd/HH for the
 * default rolling rate Hour (yyyy/MM/dd for Day, .../HH/mm for Minute), and
 * {instance} this runtime's random instance id; a file that passes the part
 * size goes on in {instance}_1.jsonl, _2, ... (so the quota can free space
 * by whole files). model_inputs and model_outputs are filled by the runtime
 * for native engines (the request's rows, the answer's predictions, each row
 * an object keyed "0", "1", ... as pandas names unnamed columns); score.py
 * fills them, or any custom collection, through the worker's Collector
 * module (collector_custom). request and response log the payloads.
 *
 * Off the scoring path: collector_offer, on the request thread, decides
 * the sampling, copies the request and the answer into one block and queues
 * it (a lock-free push); it never waits, never fails the request, and drops
 * (counted) what would pass the queue's budget. One writer thread, on spare
 * CPU only (SCHED_IDLE), drains every deployment's queue every 100 ms: it
 * parses the rows, writes the records, rolls the files, hands the rows to
 * the sink (live drift) and keeps each deployment within its disk quota by
 * removing its oldest files, counting what they held as lost. No other
 * thread ever waits for it but a reader of the files (collector_tail), and
 * that one for COLLECTOR_FLUSH_WAIT_MS at most.
 *
 * Threads: every function is thread-safe. Taps are reference-counted.
 */
#ifndef RUNTIME_MONITOR_COLLECTOR_H
#define RUNTIME_MONITOR_COLLECTOR_H

#include <stddef.h>
#include <stdint.h>

#include <cjson/cJSON.h>

#include "runtime/monitor/dataset.h"
#include "state/datacollector.h"
#include "state/dynbuf.h"
#include "state/error.h"

#define COLLECTOR_QUEUE_MAX (8u << 20) /* bytes queued per deployment */
#define COLLECTOR_PART_MAX (64u << 20) /* largest file before the next part */
#define COLLECTOR_FLUSH_WAIT_MS 2000   /* what a reader waits for the writer */

struct collector;
struct collector_tap;

/* Rows the writer parsed, for live drift: called on the writer thread. */
typedef void (*collector_rows_fn)(void *ctx, struct collector_tap *t, const char *collection,
				  const struct cell *cells, size_t n);
/* An event for the runtime log. */
typedef void (*collector_log_fn)(void *ctx, const char *line);

struct collector_config {
	const char *root;     /* the datastore folder modelDataCollector/ goes in */
	const char *source;   /* the workspace's ARM id, the start of "source" */
	uint64_t quota;       /* bytes per deployment, when it sets none */
	collector_log_fn log;
	void *ctx;            /* log's */
	collector_rows_fn rows; /* may be NULL */
	void *sink;           /* rows' */
};

struct collector *collector_new(const struct collector_config *cfg, struct error *err);
/* Starts the writer. 0, or -1 with err. */
int collector_start(struct collector *c, struct error *err);
/* Writes what is queued, stops the writer, frees. NULL is a no-op. */
void collector_free(struct collector *c);

/* The tap of deployment ep/dep (made when absent), a new reference. */
struct collector_tap *collector_tap(struct collector *c, const char *ep, const char *dep);
struct collector_tap *collector_tap_ref(struct collector_tap *t);
void collector_tap_unref(struct collector_tap *t); /* NULL is a no-op */
/* What the deployment collects now: its dataCollector (NULL: nothing),
 * whether its engine is native (inputs and outputs collected by the runtime)
 * and its quota in bytes (0: the default). */
void collector_tap_configure(struct collector_tap *t, const struct datacollector *dc, int native,
			     uint64_t quota);
/* The deployment is gone: its tap collects nothing more (its files stay). */
void collector_forget(struct collector *c, const char *ep, const char *dep);
/* Live drift's own pointer on a tap (writer thread, under no lock of ours). */
void collector_tap_set_user(struct collector_tap *t, void *user);
void *collector_tap_user(const struct collector_tap *t);
const char *collector_tap_endpoint(const struct collector_tap *t);
const char *collector_tap_deployment(const struct collector_tap *t);

/* A scored request (request path). header(hctx, name) finds a request header. */
struct collector_event {
	const char *body;
	size_t len;
	const char *answer;
	size_t alen;
	int status;
	const char *request_id;
	const char *(*header)(const void *hctx, const char *name);
	const void *hctx;
};
void collector_offer(struct collector_tap *t, const struct collector_event *ev);
/* Rows score.py collected (Collector(name).collect(df)): data is a JSON array
 * of row objects; correlation the id collect() returned or was given. */
void collector_custom(struct collector_tap *t, const char *collection, const char *data,
		      size_t len, const char *correlation, const char *request_id);

/* Waits until everything queued before the call is written, at most
 * timeout_ms: 0, or -1 when the writer could not finish in time (it runs on
 * spare CPU only, and a saturated core leaves it none). */
int collector_flush(struct collector *c, int timeout_ms);
/* The last n records (at most 1000) of a deployment's collection, oldest
 * first, one per line exactly as the files hold them (what is still queued
 * is written first, when the writer can do it within COLLECTOR_FLUSH_WAIT_MS),
 * into out. 0, or -1 with err (404: nothing was
 * collected). For `mldeck data collected` through GET /v1/collected. */
int collector_tail(struct collector *c, const char *ep, const char *dep, const char *collection,
		   size_t n, struct dynbuf *out, struct error *err);

/* What a deployment's collection came to since the runtime started:
 * records written, dropped at the queue (no spare CPU to write them) and
 * failed (not written: a full disk, bad rows), as the writer last
 * published them. 0, or -1 when the deployment has no tap. */
struct collector_counts {
	uint64_t records, dropped, failed;
};
int collector_counts(struct collector *c, const char *ep, const char *dep, const char *collection,
		     struct collector_counts *out);
/* Prometheus text of every tap: records written, records lost by reason,
 * bytes on disk, appended to b. */
void collector_prometheus(struct collector *c, struct dynbuf *b);

#endif
