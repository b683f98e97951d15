/*
 * xgblib.h: an XGBoost model scored through libxgboost's C API (1.7): the
 * reference evaluator, and the `xgboost` engine's fallback for what the
 * native one (forest.h) does not read.
 *
 * Prediction is XGBoosterPredictFromDense over the rows (in place: no
 * DMatrix per call), value_type 0 (the objective's transformed output),
 * strict shape, missing = NaN.
 *
 * Threads: XGBoost >= 1.4 documents prediction on a tree booster (gbtree,
 * dart) as thread-safe, so concurrent xgblib_predict calls share one booster;
 * other boosters (gblinear) are serialised by a mutex. Each booster runs with
 * nthread=1: the runtime already scores requests in parallel on its own
 * threads, and OpenMP teams per small request would oversubscribe the cores
 * and add wake-up latency.
 */
#ifndef RUNTIME_ENGINES_XGBLIB_H
#define RUNTIME_ENGINES_XGBLIB_H

#include <stddef.h>

#include "state/error.h"

struct xgblib;

/* Loads the model bytes buf[0..len) (JSON, UBJSON or XGBoost's legacy binary;
 * `name` names it in messages) and predicts one row to learn its shape. NULL
 * with a ModelLoadError (status 400) naming XGBoost's reason. */
struct xgblib *xgblib_open(const void *buf, size_t len, const char *name, struct error *err);
void xgblib_free(struct xgblib *x); /* NULL is a no-op */

int xgblib_features(const struct xgblib *x);
size_t xgblib_outputs(const struct xgblib *x); /* values per row */
/* "gbtree", "dart", "gblinear", ... (for messages) */
const char *xgblib_booster(const struct xgblib *x);

/* rows x features doubles (row-major) to rows x outputs predictions as float;
 * 0, or -1 with err (500). Thread-safe as described above. */
int xgblib_predict(struct xgblib *x, const double *values, size_t rows, float *out,
		   struct error *err);

/* libxgboost's version, "1.7.4", into buf. */
void xgblib_version(char *buf, size_t size);

#endif
