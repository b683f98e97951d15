/* xgb.c: the xgboost engine: the native forest, or libxgboost for the rest. */
#include "runtime/engines/xgb.h"

#include <stdarg.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/forest.h"
#include "runtime/engines/input.h"
#include "runtime/engines/modelfile.h"
#include "runtime/engines/output.h"
#include "runtime/engines/xgblib.h"
#include "runtime/engines/xgbmodel.h"

#define XGB_ENV "MLDECK_XGBOOST="
#define XGB_SMALL 512 /* predictions held on the stack */

struct xgb {
	struct forest *forest; /* the native evaluator, or NULL */
	struct xgblib *lib;    /* else libxgboost */
	int n;		       /* features */
	size_t outputs;	       /* values per row */
};

static void xgb_free(void *impl)
{
	struct xgb *x = impl;

	if (x == NULL)
		return;
	forest_free(x->forest);
	xgblib_free(x->lib);
	free(x);
}

__attribute__((format(printf, 2, 3))) static void xgb_log(const struct engine_config *cfg,
							  const char *fmt, ...)
{
	char line[400];
	va_list ap;

	if (cfg->log == NULL)
		return;
	va_start(ap, fmt);
	vsnprintf(line, sizeof line, fmt, ap);
	va_end(ap);
	cfg->log(cfg->log_ctx, line);
}

/* The deployment's MLDECK_XGBOOST variable ("native", "libxgboost"), or "". */
static const char *xgb_choice(const struct engine_config *cfg)
{
	for (const char *const *e = cfg->env; e != NULL && *e != NULL; e++)
		if (strncmp(*e, XGB_ENV, sizeof XGB_ENV - 1) == 0)
			return *e + sizeof XGB_ENV - 1;
	return "";
}

static int xgb_native(struct xgb *x, const struct engine_config *cfg,
		      const struct xgbmodel_info *info)
{
	x->n = forest_features(x->forest);
	x->outputs = forest_outputs(x->forest, 0);
	xgb_log(cfg,
		"[xgboost] native evaluator: %zu trees (deepest %d), %d features, %zu output%s, "
		"%s, saved by XGBoost %d.%d.%d",
		forest_trees(x->forest), forest_depth(x->forest), x->n, x->outputs,
		x->outputs == 1 ? "" : "s", info->objective, info->version[0], info->version[1],
		info->version[2]);
	return 0;
}

static int xgb_fallback(struct xgb *x, const struct engine_config *cfg, const char *buf, size_t len,
			const char *why, struct error *err)
{
	char version[32];

	x->lib = xgblib_open(buf, len, cfg->model_path, err);
	if (x->lib == NULL)
		return -1;
	x->n = xgblib_features(x->lib);
	x->outputs = xgblib_outputs(x->lib);
	xgblib_version(version, sizeof version);
	xgb_log(cfg, "[xgboost] libxgboost %s (%s booster): %s", version, xgblib_booster(x->lib),
		why);
	return 0;
}

static int xgb_open(struct xgb *x, const struct engine_config *cfg, struct error *err)
{
	struct xgbmodel_info info;
	const char *choice = xgb_choice(cfg);
	char why[300], reason[260];
	size_t len;
	char *buf = modelfile_read(cfg->model_path, &len, err);
	int rc;

	if (buf == NULL)
		return -1;
	if (strcmp(choice, "libxgboost") == 0) {
		rc = xgb_fallback(x, cfg, buf, len, "chosen by MLDECK_XGBOOST=libxgboost", err);
	} else if (*choice != '\0' && strcmp(choice, "native") != 0) {
		rc = modelfile_fail(err, "MLDECK_XGBOOST must be native or libxgboost, not %.40s",
				    choice);
	} else {
		switch (xgbmodel_load(buf, len, &x->forest, &info, reason, sizeof reason)) {
		case XGBMODEL_OK:
			rc = xgb_native(x, cfg, &info);
			break;
		case XGBMODEL_UNSUPPORTED:
			snprintf(why, sizeof why, "not read natively: %s", reason);
			rc = xgb_fallback(x, cfg, buf, len, why, err);
			break;
		default:
			rc = modelfile_fail(err, "%s is not an XGBoost model mldeck can run: %s",
					    cfg->model_path, reason);
			break;
		}
	}
	free(buf);
	return rc;
}

static void *xgb_load(const struct engine_config *cfg, struct error *err)
{
	struct xgb *x = calloc(1, sizeof *x);

	if (x == NULL) {
		modelfile_fail(err, "out of memory");
		return NULL;
	}
	if (xgb_open(x, cfg, err) != 0) {
		xgb_free(x);
		return NULL;
	}
	if (x->n > INPUT_MAX_COLS) {
		modelfile_fail(err, "XGBoost model %s has %d features", cfg->model_path, x->n);
		xgb_free(x);
		return NULL;
	}
	return x;
}

static int xgb_predict(const void *model, const struct input_matrix *m, double *pred,
		       struct error *err)
{
	const struct xgb *x = model;
	size_t n = m->rows * x->outputs;
	float small[XGB_SMALL], *out = n > XGB_SMALL ? malloc(n * sizeof *out) : small;
	int rc;

	if (out == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	if (x->forest != NULL)
		rc = forest_predict(x->forest, m->values, m->rows, out, 0) != 0
			 ? error_set(err, 500, "InternalError", "out of memory")
			 : 0;
	else
		rc = xgblib_predict(x->lib, m->values, m->rows, out, err);
	for (size_t i = 0; rc == 0 && i < n; i++)
		pred[i] = (double)out[i];
	if (out != small)
		free(out);
	return rc;
}

static int xgb_score(void *impl, const struct engine_request *req, struct engine_result *out)
{
	const struct xgb *x = impl;

	return output_run(out, req, x->n, INPUT_ALLOW_NULL, x->outputs, x->outputs > 1, xgb_predict,
			  x);
}

static int xgb_features(const void *impl)
{
	return ((const struct xgb *)impl)->n;
}

static size_t xgb_outputs(const void *impl)
{
	return ((const struct xgb *)impl)->outputs;
}

const struct engine_ops xgb_engine_ops = {
    .load = xgb_load,
    .score = xgb_score,
    .resize = NULL, /* nothing to resize in process */
    .features = xgb_features,
    .free = xgb_free,
    .predict = xgb_predict,
    .outputs = xgb_outputs,
    .takes_missing = 1,
};
