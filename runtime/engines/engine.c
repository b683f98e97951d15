/*
 * engine.c: dispatch from a model type to its engine_ops.
 *
 * Conventions every engine follows (docs/models.md): load fails with
 * err->status 400 "ModelLoadError" for an unreadable or malformed model;
 * score always fills *out (200 with the predictions, or an error status with
 * {"error":{"code","message"}}) and returns 0, or -1 only when out could not
 * be filled (engine_score then sets a 500 with a NULL body).
 */
#include "runtime/engines/engine.h"

#include <math.h>
#include <stdlib.h>

#include "runtime/engines/input.h"
#include "runtime/engines/linear.h"
#include "runtime/engines/mlp.h"
#include "runtime/engines/python.h"
#include "runtime/engines/xgb.h"

struct engine {
	const struct engine_ops *ops;
	void *impl;
};

static const struct engine_ops *const engine_table[] = {
    [MODEL_XGBOOST] = &xgb_engine_ops,
    [MODEL_LINEAR] = &linear_engine_ops,
    [MODEL_MLP] = &mlp_engine_ops,
    [MODEL_CUSTOM] = &python_engine_ops,
};

struct engine *engine_load(const struct engine_config *cfg, struct error *err)
{
	struct engine *e;

	if (cfg == NULL || (unsigned)cfg->type >= sizeof engine_table / sizeof engine_table[0] ||
	    engine_table[cfg->type] == NULL) {
		error_set(err, 400, "ModelLoadError", "unknown model type");
		return NULL;
	}
	e = malloc(sizeof *e);
	if (e == NULL) {
		error_set(err, 500, "InternalError", "out of memory");
		return NULL;
	}
	e->ops = engine_table[cfg->type];
	e->impl = e->ops->load(cfg, err);
	if (e->impl == NULL) {
		free(e);
		return NULL;
	}
	return e;
}

int engine_score(struct engine *e, const struct engine_request *req, struct engine_result *out)
{
	if (e->ops->score(e->impl, req, out) == 0)
		return 0;
	if (out->body == NULL) {
		out->status = 500;
		out->len = 0;
	}
	return -1;
}

int engine_waits(const struct engine *e)
{
	return e->ops->submit != NULL;
}

void engine_submit(struct engine *e, const struct engine_request *req, engine_done_fn done,
		   void *ctx)
{
	struct engine_result res = {0, NULL, 0};

	if (e->ops->submit != NULL) {
		e->ops->submit(e->impl, req, done, ctx);
		return;
	}
	engine_score(e, req, &res);
	done(ctx, &res);
}

void engine_cancel(struct engine *e)
{
	if (e->ops->cancel != NULL)
		e->ops->cancel(e->impl);
}

int engine_resize(struct engine *e, int workers, struct error *err)
{
	if (e->ops->resize == NULL)
		return 0;
	return e->ops->resize(e->impl, workers, err);
}

int engine_features(const struct engine *e)
{
	if (e->ops->features == NULL)
		return -1;
	return e->ops->features(e->impl);
}

int engine_predict(struct engine *e, const struct input_matrix *m, double *pred,
		   struct error *err)
{
	if (e->ops->predict == NULL)
		return error_set(err, 501, "NotImplemented",
				 "this model type is not scored in process");
	return e->ops->predict(e->impl, m, pred, err);
}

int engine_outputs(const struct engine *e)
{
	if (e->ops->outputs == NULL)
		return -1;
	return (int)e->ops->outputs(e->impl);
}

int engine_takes_missing(const struct engine *e)
{
	return e->ops->takes_missing;
}

void engine_free(struct engine *e)
{
	if (e == NULL)
		return;
	e->ops->free(e->impl);
	free(e);
}
