/* xgb.c: XGBoost boosters behind engine_ops. */
#include "runtime/engines/xgb.h"

#include <inttypes.h>
#include <math.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <xgboost/c_api.h>

#include "runtime/engines/input.h"
#include "runtime/engines/modelfile.h"
#include "runtime/engines/output.h"

#define XGB_MAX_OUTPUTS 65536
#define XGB_MAX_IDLE_PROXIES 64

static const char predict_config[] = "{\"type\":0,\"training\":false,\"iteration_begin\":0,"
				     "\"iteration_end\":0,\"strict_shape\":true,"
				     "\"missing\":NaN,\"cache_id\":0}";

struct xgb {
	BoosterHandle h;
	int n;		/* features */
	size_t outputs; /* values per row */
	int serialize;	/* not a tree booster: one prediction at a time */
	pthread_mutex_t lock;
	/* Idle proxy DMatrix handles: each call borrows one, because a new proxy
	 * per call costs a Context, which reads cgroup files (~30 us). */
	pthread_mutex_t pool_lock;
	DMatrixHandle idle[XGB_MAX_IDLE_PROXIES];
	size_t nidle;
};

/* A proxy for this call, or NULL (XGBoost then makes a temporary one). */
static DMatrixHandle proxy_get(struct xgb *x)
{
	DMatrixHandle p = NULL;

	pthread_mutex_lock(&x->pool_lock);
	if (x->nidle > 0)
		p = x->idle[--x->nidle];
	pthread_mutex_unlock(&x->pool_lock);
	if (p == NULL && XGProxyDMatrixCreate(&p) != 0)
		p = NULL;
	return p;
}

static void proxy_put(struct xgb *x, DMatrixHandle p)
{
	if (p == NULL)
		return;
	pthread_mutex_lock(&x->pool_lock);
	if (x->nidle < XGB_MAX_IDLE_PROXIES) {
		x->idle[x->nidle++] = p;
		p = NULL;
	}
	pthread_mutex_unlock(&x->pool_lock);
	if (p != NULL)
		XGDMatrixFree(p);
}

/* XGBoost's last error on this thread, first line only. */
static const char *xgb_reason(char *buf, size_t size)
{
	const char *e = XGBGetLastError();

	snprintf(buf, size, "%s", e != NULL && *e != '\0' ? e : "unknown XGBoost error");
	buf[strcspn(buf, "\n")] = '\0';
	return buf;
}

static void xgb_free(void *impl)
{
	struct xgb *x = impl;

	if (x == NULL)
		return;
	while (x->nidle > 0)
		XGDMatrixFree(x->idle[--x->nidle]);
	if (x->h != NULL)
		XGBoosterFree(x->h);
	pthread_mutex_destroy(&x->pool_lock);
	pthread_mutex_destroy(&x->lock);
	free(x);
}

/* Predicts rows x cols doubles at values; *res points at XGBoost's
 * thread-local buffer (copy before the next call on this thread). */
static int xgb_raw(struct xgb *x, const double *values, size_t rows, size_t cols, const float **res,
		   size_t *per_row)
{
	char iface[192];
	const bst_ulong *shape = NULL;
	bst_ulong dim = 0;
	size_t total = 1;
	DMatrixHandle proxy;
	int rc;

	snprintf(iface, sizeof iface,
		 "{\"data\":[%" PRIuPTR ",true],\"shape\":[%zu,%zu],\"strides\":null,"
		 "\"typestr\":\"<f8\",\"version\":3}",
		 (uintptr_t)values, rows, cols);
	proxy = proxy_get(x);
	rc = XGBoosterPredictFromDense(x->h, iface, predict_config, proxy, &shape, &dim, res);
	proxy_put(x, proxy);
	if (rc != 0)
		return -1;
	for (bst_ulong i = 0; i < dim; i++)
		total *= (size_t)shape[i];
	if (dim < 1 || shape[0] != rows || total == 0 || total / rows > XGB_MAX_OUTPUTS)
		return -1;
	*per_row = total / rows;
	return 0;
}

/* Predicts one all-zero row: configures the booster before it is shared and
 * learns how many values it gives per row. */
static int xgb_warm_up(struct xgb *x, struct error *err)
{
	double *row = calloc((size_t)x->n, sizeof *row);
	const float *res;
	char why[256];
	int rc;

	if (row == NULL)
		return modelfile_fail(err, "out of memory");
	rc = xgb_raw(x, row, 1, (size_t)x->n, &res, &x->outputs);
	free(row);
	if (rc != 0)
		return modelfile_fail(err, "XGBoost cannot predict with this model: %s",
				      xgb_reason(why, sizeof why));
	return 0;
}

/* 1 when the booster is gbtree or dart (thread-safe prediction). */
static int xgb_is_tree(BoosterHandle h)
{
	const char *cfg = NULL;
	bst_ulong len = 0;
	cJSON *root, *name;
	int tree = 0;

	if (XGBoosterSaveJsonConfig(h, &len, &cfg) != 0 || cfg == NULL)
		return 0;
	root = cJSON_ParseWithLength(cfg, (size_t)len);
	name = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "learner"),
					     "gradient_booster"),
	    "name");
	if (cJSON_IsString(name))
		tree = strcmp(name->valuestring, "gbtree") == 0 ||
		       strcmp(name->valuestring, "dart") == 0;
	cJSON_Delete(root);
	return tree;
}

static int xgb_open(struct xgb *x, const char *path, struct error *err)
{
	size_t len;
	char why[256], *buf = modelfile_read(path, &len, err);
	bst_ulong nf = 0;
	int rc;

	if (buf == NULL)
		return -1;
	rc = XGBoosterCreate(NULL, 0, &x->h);
	if (rc == 0)
		rc = XGBoosterLoadModelFromBuffer(x->h, buf, (bst_ulong)len);
	free(buf);
	if (rc != 0)
		return modelfile_fail(err, "%s is not an XGBoost JSON or UBJSON model: %s", path,
				      xgb_reason(why, sizeof why));
	if (XGBoosterSetParam(x->h, "nthread", "1") != 0 || XGBoosterGetNumFeature(x->h, &nf) != 0)
		return modelfile_fail(err, "XGBoost rejected %s: %s", path,
				      xgb_reason(why, sizeof why));
	if (nf == 0 || nf > INPUT_MAX_COLS)
		return modelfile_fail(err, "XGBoost model %s has %lu features", path,
				      (unsigned long)nf);
	x->n = (int)nf;
	x->serialize = !xgb_is_tree(x->h);
	return xgb_warm_up(x, err);
}

static void *xgb_load(const struct engine_config *cfg, struct error *err)
{
	struct xgb *x = calloc(1, sizeof *x);

	if (x == NULL) {
		modelfile_fail(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->pool_lock, NULL);
	if (xgb_open(x, cfg->model_path, err) != 0) {
		xgb_free(x);
		return NULL;
	}
	return x;
}

static int xgb_predict(const void *model, const struct input_matrix *m, double *pred,
		       struct error *err)
{
	struct xgb *x = (struct xgb *)model; /* only the locks and the proxy pool change */
	const float *res = NULL;
	size_t per_row = 0;
	char why[256];
	int rc;

	if (x->serialize)
		pthread_mutex_lock(&x->lock);
	rc = xgb_raw(x, m->values, m->rows, m->cols, &res, &per_row);
	if (rc == 0 && per_row == x->outputs)
		for (size_t i = 0; i < m->rows * per_row; i++)
			pred[i] = (double)res[i];
	if (x->serialize)
		pthread_mutex_unlock(&x->lock);
	if (rc != 0)
		return error_set(err, 500, "InternalError", "XGBoost prediction failed: %s",
				 xgb_reason(why, sizeof why));
	if (per_row != x->outputs)
		return error_set(err, 500, "InternalError",
				 "XGBoost gave %zu values per row, expected %zu", per_row,
				 x->outputs);
	return 0;
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
