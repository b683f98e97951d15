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

#include <stddef.h>

#include "state/error.h"
#include "state/resource.h"

/* Called with one line (no newline) of worker output or an engine event.
 * May be called from any thread, including worker reader threads. */
typedef void (*engine_log_fn)(void *ctx, const char *line);

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
	engine_log_fn log;
	void *log_ctx;
};

/* A request as the engine sees it. */
struct engine_request {
	const char *body;
	size_t len;
	const char *const *headers; /* "Name: value" strings, NULL-terminated, may be NULL */
	const char *request_id;
};

/* The answer. status: 200, 400 (bad input: body says why), 408 (timeout),
 * 424 (the scoring script raised or returned something not JSON-encodable, or
 * its worker crashed), 500 (engine fault). body is heap (free()), JSON. */
struct engine_result {
	int status;
	char *body;
	size_t len;
};

/* Loads the model (and for custom_model starts the workers and runs init()).
 * Blocking; NULL with err naming the reason (unreadable model, wrong format,
 * init() raised, module missing). */
struct engine *engine_load(const struct engine_config *cfg, struct error *err);
int engine_score(struct engine *e, const struct engine_request *req, struct engine_result *out);
/* Changes the worker count live (custom_model); in-process engines ignore it. */
int engine_resize(struct engine *e, int workers, struct error *err);
/* Number of input features the model expects, or -1 when unknown (custom). */
int engine_features(const struct engine *e);
/* Values per row engine_predict gives (as engine_score answers), 0 when
 * unknown (custom). */
size_t engine_outputs(const struct engine *e);

/* The batch API of the in-process engines: rows x cols doubles, row-major,
 * cols = engine_features(e), to rows x engine_outputs(e) predictions, the
 * values engine_score would answer for the same rows. NaN is a missing value
 * where JSON null is one (xgboost); any other non-finite value, and NaN
 * elsewhere, is refused as engine_score refuses it. Thread-safe as
 * engine_score; no I/O, no waiting. 0, or -1 with err: 400 (shape, values),
 * 500 (engine fault), 501 (custom_model scores JSON requests only). */
int engine_predict(struct engine *e, const double *x, size_t rows, size_t cols, double *out,
		   struct error *err);
void engine_free(struct engine *e); /* waits for workers to exit; NULL is a no-op */

/* Internal dispatch table: each engine file provides one. */
struct input_matrix;
struct engine_ops {
	void *(*load)(const struct engine_config *cfg, struct error *err);
	int (*score)(void *impl, const struct engine_request *req, struct engine_result *out);
	int (*resize)(void *impl, int workers, struct error *err);
	int (*features)(const void *impl);
	void (*free)(void *impl);
	/* in-process engines: the batch API (NULL: none), and what it gives */
	int (*predict)(const void *impl, const struct input_matrix *m, double *pred,
		       struct error *err);
	size_t (*outputs)(const void *impl);
	int input_flags; /* INPUT_ALLOW_NULL: NaN is a missing value */
};

#endif
