/* xgblib.c: XGBoost boosters through libxgboost's C API. */
#include "runtime/engines/xgblib.h"

#include <inttypes.h>
#include <pthread.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include <cjson/cJSON.h>
#include <xgboost/c_api.h>

#include "runtime/engines/input.h"
#include "runtime/engines/modelfile.h"

#define XGB_MAX_OUTPUTS 65536
#define XGB_MAX_IDLE_PROXIES 64

static const char predict_config[] = "{\"type\":0,\"training\":false,\"iteration_begin\":0,"
				     "\"iteration_end\":0,\"strict_shape\":true,"
				     "\"missing\":NaN,\"cache_id\":0}";

struct xgblib {
	BoosterHandle h;
	int n;		/* features */
	size_t outputs; /* values per row */
	int serialize;	/* not a tree booster: one prediction at a time */
	int dmatrix;	/* no in-place prediction (gblinear): a DMatrix per call */
	char booster[16];
	pthread_mutex_t lock;
	/* Idle proxy DMatrix handles: each call borrows one, because a new proxy
	 * per call costs a Context, which reads cgroup files (~30 us). */
	pthread_mutex_t pool_lock;
	DMatrixHandle idle[XGB_MAX_IDLE_PROXIES];
	size_t nidle;
};

/* A proxy for this call, or NULL (XGBoost then makes a temporary one). */
static DMatrixHandle proxy_get(struct xgblib *x)
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

static void proxy_put(struct xgblib *x, DMatrixHandle p)
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

void xgblib_free(struct xgblib *x)
{
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

/* The array interface of rows x cols doubles at values. */
static void array_interface(char *buf, size_t size, const double *values, size_t rows, size_t cols)
{
	snprintf(buf, size,
		 "{\"data\":[%" PRIuPTR ",true],\"shape\":[%zu,%zu],\"strides\":null,"
		 "\"typestr\":\"<f8\",\"version\":3}",
		 (uintptr_t)values, rows, cols);
}

/* Boosters without in-place prediction (gblinear): through a DMatrix. */
static int predict_dmatrix(struct xgblib *x, const char *iface, const bst_ulong **shape,
			   bst_ulong *dim, const float **res, DMatrixHandle *m)
{
	if (XGDMatrixCreateFromDense(iface, "{\"missing\":NaN,\"nthread\":1}", m) != 0)
		return -1;
	return XGBoosterPredictFromDMatrix(x->h, *m, predict_config, shape, dim, res);
}

/* Predicts rows x cols doubles at values into out (room for cap floats);
 * *per_row learns the values per row. */
static int xgb_raw(struct xgblib *x, const double *values, size_t rows, size_t cols, float *out,
		   size_t cap, size_t *per_row)
{
	char iface[192];
	const bst_ulong *shape = NULL;
	bst_ulong dim = 0;
	size_t total = 1;
	const float *res = NULL;
	DMatrixHandle proxy, m = NULL;
	int rc;

	array_interface(iface, sizeof iface, values, rows, cols);
	if (x->dmatrix) {
		rc = predict_dmatrix(x, iface, &shape, &dim, &res, &m);
	} else {
		proxy = proxy_get(x);
		rc = XGBoosterPredictFromDense(x->h, iface, predict_config, proxy, &shape, &dim,
					       &res);
		proxy_put(x, proxy);
	}
	for (bst_ulong i = 0; rc == 0 && i < dim; i++)
		total *= (size_t)shape[i];
	if (rc == 0 && (dim < 1 || shape[0] != rows || total == 0 ||
			total / rows > XGB_MAX_OUTPUTS || total > cap))
		rc = -1;
	if (rc == 0) {
		memcpy(out, res, total * sizeof *out);
		*per_row = total / rows;
	}
	if (m != NULL)
		XGDMatrixFree(m);
	return rc;
}

/* Predicts one all-zero row: configures the booster before it is shared and
 * learns how many values it gives per row. */
static int xgb_warm_up(struct xgblib *x, struct error *err)
{
	double *row = calloc((size_t)x->n, sizeof *row);
	float *out = malloc(XGB_MAX_OUTPUTS * sizeof *out);
	char why[256];
	int rc = -1;

	if (row != NULL && out != NULL)
		rc = xgb_raw(x, row, 1, (size_t)x->n, out, XGB_MAX_OUTPUTS, &x->outputs);
	free(row);
	free(out);
	if (rc != 0)
		return modelfile_fail(err, "XGBoost cannot predict with this model: %s",
				      xgb_reason(why, sizeof why));
	return 0;
}

/* The booster's name from its configuration ("gbtree", "dart", ...). */
static void xgb_booster_name(struct xgblib *x)
{
	const char *cfg = NULL;
	bst_ulong len = 0;
	cJSON *root, *name;

	snprintf(x->booster, sizeof x->booster, "unknown");
	if (XGBoosterSaveJsonConfig(x->h, &len, &cfg) != 0 || cfg == NULL)
		return;
	root = cJSON_ParseWithLength(cfg, (size_t)len);
	name = cJSON_GetObjectItemCaseSensitive(
	    cJSON_GetObjectItemCaseSensitive(cJSON_GetObjectItemCaseSensitive(root, "learner"),
					     "gradient_booster"),
	    "name");
	if (cJSON_IsString(name))
		snprintf(x->booster, sizeof x->booster, "%s", name->valuestring);
	cJSON_Delete(root);
}

static int xgb_open(struct xgblib *x, const void *buf, size_t len, const char *name,
		    struct error *err)
{
	char why[256];
	bst_ulong nf = 0;
	int rc;

	rc = XGBoosterCreate(NULL, 0, &x->h);
	if (rc == 0)
		rc = XGBoosterLoadModelFromBuffer(x->h, buf, (bst_ulong)len);
	if (rc != 0)
		return modelfile_fail(err, "%s is not an XGBoost JSON or UBJSON model: %s", name,
				      xgb_reason(why, sizeof why));
	if (XGBoosterSetParam(x->h, "nthread", "1") != 0 || XGBoosterGetNumFeature(x->h, &nf) != 0)
		return modelfile_fail(err, "XGBoost rejected %s: %s", name,
				      xgb_reason(why, sizeof why));
	if (nf == 0 || nf > INPUT_MAX_COLS)
		return modelfile_fail(err, "XGBoost model %s has %lu features", name,
				      (unsigned long)nf);
	x->n = (int)nf;
	xgb_booster_name(x);
	x->serialize = strcmp(x->booster, "gbtree") != 0 && strcmp(x->booster, "dart") != 0;
	x->dmatrix = strcmp(x->booster, "gblinear") == 0;
	return xgb_warm_up(x, err);
}

struct xgblib *xgblib_open(const void *buf, size_t len, const char *name, struct error *err)
{
	struct xgblib *x = calloc(1, sizeof *x);

	if (x == NULL) {
		modelfile_fail(err, "out of memory");
		return NULL;
	}
	pthread_mutex_init(&x->lock, NULL);
	pthread_mutex_init(&x->pool_lock, NULL);
	if (xgb_open(x, buf, len, name, err) != 0) {
		xgblib_free(x);
		return NULL;
	}
	return x;
}

int xgblib_predict(struct xgblib *x, const double *values, size_t rows, float *out,
		   struct error *err)
{
	size_t per_row = 0;
	char why[256];
	int rc;

	if (x->serialize)
		pthread_mutex_lock(&x->lock);
	rc = xgb_raw(x, values, rows, (size_t)x->n, out, rows * x->outputs, &per_row);
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

int xgblib_features(const struct xgblib *x)
{
	return x->n;
}

size_t xgblib_outputs(const struct xgblib *x)
{
	return x->outputs;
}

const char *xgblib_booster(const struct xgblib *x)
{
	return x->booster;
}

void xgblib_version(char *buf, size_t size)
{
	int major = 0, minor = 0, patch = 0;

	XGBoostVersion(&major, &minor, &patch);
	snprintf(buf, size, "%d.%d.%d", major, minor, patch);
}
