/*
 * xgb.h: the `xgboost` engine, an XGBoost model scored in process.
 *
 * Model file: what Booster.save_model writes, XGBoost JSON (".json") or
 * UBJSON (".ubj"); the format is recognised from the bytes, not the name.
 * The native evaluator (xgbmodel.h reads the file, forest.h predicts, equal
 * to libxgboost bit for bit) scores every model it reads; anything else (a
 * dart or gblinear booster, an objective it does not know, a legacy binary
 * file) goes to libxgboost (xgblib.h), with one line in the deployment's log
 * saying which evaluator runs and why. A file the native reader finds
 * malformed (an index out of range, a cycle) fails the load instead of
 * reaching libxgboost. The deployment variable MLDECK_XGBOOST=libxgboost
 * forces libxgboost (MLDECK_XGBOOST=native is the default).
 *
 * Answer per row: a number for one output (binary:logistic -> the positive
 * class's probability; reg:* -> the value; multi:softmax -> the class), an
 * array for several (multi:softprob -> class probabilities). JSON null in a
 * row means a missing value (NaN), as in XGBoost.
 *
 * Threads: both evaluators are shared by all request threads (see xgblib.h
 * for libxgboost's locking).
 */
#ifndef RUNTIME_ENGINES_XGB_H
#define RUNTIME_ENGINES_XGB_H

#include "runtime/engines/engine.h"

extern const struct engine_ops xgb_engine_ops;

#endif
