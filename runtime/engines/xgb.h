/*
 * xgb.h: the `xgboost` engine, an XGBoost model scored in process through
 * libxgboost's C API (1.7).
 *
 * Model file: what Booster.save_model writes, XGBoost JSON (".json") or
 * UBJSON (".ubj"); the format is recognised from the bytes, not the name.
 * Prediction is XGBoosterPredictFromDense over the request's rows (in-place:
 * no DMatrix per request), value_type 0 (the objective's transformed output),
 * strict shape. Answer per row: a number for one output group
 * (binary:logistic -> the positive class's probability; reg:* -> the value),
 * an array for several (multi:softprob -> class probabilities). JSON null in
 * a row means a missing value (NaN), as in XGBoost.
 *
 * Threads: XGBoost >= 1.4 documents prediction on a tree booster (gbtree,
 * dart) as thread-safe, so concurrent engine_score calls share one booster;
 * other boosters (gblinear) are serialised by a mutex. Each booster runs with
 * nthread=1: the runtime already scores requests in parallel on its own
 * threads, and OpenMP teams per small request would oversubscribe the cores
 * and add wake-up latency.
 */
#ifndef RUNTIME_ENGINES_XGB_H
#define RUNTIME_ENGINES_XGB_H

#include "runtime/engines/engine.h"

extern const struct engine_ops xgb_engine_ops;

#endif
