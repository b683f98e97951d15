/*
 * engine.h: one interface over every way of scoring a model.
 *
 * linear, mlp and xgboost score in process; custom_model runs the user's
 * score.py in Python worker processes (python.c, protocol in
 * docs/worker-protocol.md). An engine is loaded once per deployment and then
 * shared by all request threads: engine_score is thread-safe and may run
 * concurrently up to the capacity the runtime allows.
 */
#ifndef RUNTIME_ENGINES_ENGINE_H
#define RUNTIME_ENGINES_ENGINE_H

#include <stdatomic.h>
#include <stddef.h>

#include "state/error.h"
#include "state/resource.h"

/* Called with one line (no newline) of worker output or an engine event.
 * May be called from any thread, including worker reader threads. */
typedef void (*engine_log_fn)(void *ctx, const char *line);
/* Rows a scoring script collected (the worker's Collector, docs/worker-protocol.md):
 * the collection's name, the correlation id, the request's x-request-id (may be
 * ""), and the rows as a JSON array. From an engine thread. */
typedef void (*engine_collect_fn)(void *ctx, const char *name, const char *correlation,
				  const char *request_id, const char *data, size_t len);

struct engine_config {
	enum model_type type;
	const char *model_path;  /* absolute path of the artifact (file or directory) */
	/* custom_model only */
	const char *python;          /* interpreter */
	const char *code_dir;        /* absolute */
	const char *scoring_script;  /* relative to code_dir */
	const char *const *env;      /* extra "KEY=VALUE" strings, NULL-terminated, may be NULL */
	const char *const *modules;  /* modules that must import, NULL-terminated, may be NULL */
	int workers;                 /* worker processes (instances x maxConcurrent) */
	int timeout_ms;              /* per request; a worker past it is killed and replaced */
	long memory_mb;              /* per worker process (RLIMIT_DATA), MiB; 0: none; < 0:
					invalid (the load fails) */
	engine_log_fn log;
	void *log_ctx;
	engine_collect_fn collect;   /* may be NULL: collected rows are dropped */
	void *collect_ctx;
	atomic_int *cancel;          /* may be NULL; set to 1 to abandon a load in progress */
};

/* A request as the engine sees it. */
struct engine_request {
	const char *body;
	size_t len;
	const char *const *headers; /* "Name: value" strings, NULL-terminated, may be NULL */
	const char *request_id;
	/* custom_model: a batch job's mini-batch, Azure's batch contract: body is a JSON
	 * array of file paths, run(mini_batch) is called with that list, and the answer
	 * is {"items": N, "text": LINES} (docs/worker-protocol.md) */
	int batch;
};

/* The answer. status: 200, 400 (bad input: body says why), 408 (timeout),
 * 424 (the scoring script raised or returned something not JSON-encodable, or
 * its worker crashed), 500 (engine fault). body is heap (free()), JSON. */
struct engine_result {
	int status;
	char *body;
	size_t len;
};

/* Called once with the answer of engine_submit; res->body passes to the callee. */
typedef void (*engine_done_fn)(void *ctx, struct engine_result *res);

/* Loads the model (and for custom_model starts the workers and runs init()).
 * Blocking; NULL with err naming the reason (unreadable model, wrong format,
 * init() raised, module missing, *cfg->cancel set). */
struct engine *engine_load(const struct engine_config *cfg, struct error *err);
int engine_score(struct engine *e, const struct engine_request *req, struct engine_result *out);
/* 1 when scoring waits on something outside this process (custom_model's
 * workers): such an engine should be driven with engine_submit. */
int engine_waits(const struct engine *e);
/* Scores without making the caller wait: done(ctx, res) is called exactly
 * once, before engine_submit returns (in-process engines, refusals) or later
 * from an engine thread. req, and what it points to, must stay valid until
 * then. done must not call engine_free on this engine. */
void engine_submit(struct engine *e, const struct engine_request *req, engine_done_fn done,
		   void *ctx);
/* Answers everything queued or running in the engine at once (503) and
 * refuses every later request: for a runtime that stops. */
void engine_cancel(struct engine *e);
/* Changes the worker count live (custom_model); in-process engines ignore it. */
int engine_resize(struct engine *e, int workers, struct error *err);
/* Number of input features the model expects, or -1 when unknown (custom). */
int engine_features(const struct engine *e);

/* Batch scoring without JSON (batch jobs: runtime/jobrun.c), for the engines
 * that score in process. m holds rows x engine_features(e) values (NaN is a
 * missing value, valid only when engine_takes_missing); pred receives rows x
 * engine_outputs(e) values: exactly what engine_score answers for those rows.
 * 0, or -1 with err (500 engine fault; 501 when the model is not scored in
 * process, custom_model). Thread-safe like engine_score. */
struct input_matrix;
int engine_predict(struct engine *e, const struct input_matrix *m, double *pred,
		   struct error *err);
/* Values per row engine_predict writes (1, or one per class); -1 when unknown. */
int engine_outputs(const struct engine *e);
/* Whether NaN (a missing value) is valid input (XGBoost). */
int engine_takes_missing(const struct engine *e);
void engine_free(struct engine *e); /* waits for workers to exit; NULL is a no-op */

/* Internal dispatch table: each engine file provides one. */
struct engine_ops {
	void *(*load)(const struct engine_config *cfg, struct error *err);
	int (*score)(void *impl, const struct engine_request *req, struct engine_result *out);
	/* optional: engines that wait on other processes (see engine_submit) */
	void (*submit)(void *impl, const struct engine_request *req, engine_done_fn done,
		       void *ctx);
	void (*cancel)(void *impl);
	int (*resize)(void *impl, int workers, struct error *err);
	int (*features)(const void *impl);
	void (*free)(void *impl);
	/* in-process engines (NULL otherwise): engine_predict, engine_outputs */
	int (*predict)(const void *impl, const struct input_matrix *m, double *pred,
		       struct error *err);
	size_t (*outputs)(const void *impl);
	int takes_missing;
};

#endif
