/*
 * xgbmodel.h: an XGBoost model file (what Booster.save_model writes, JSON or
 * UBJSON) read into a native forest (forest.h).
 *
 * Read natively: XGBoost 1.x and 2.x files with the gbtree booster, numerical
 * and categorical splits, one output group per class or target, and the
 * objectives in the table of xgbmodel.c (binary:logistic, reg:squarederror,
 * reg:logistic, multi:softprob, multi:softmax, rank:pairwise and the others
 * listed in docs/models.md), with base_score stored as XGBoost 1.x/2.x store
 * it (the objective's value, turned into a margin here as XGBoost does).
 *
 * Three outcomes, so the engine can decide: the forest; "unsupported" (a
 * sound model of a kind read only by libxgboost: dart, gblinear, vector
 * leaves, other objectives, XGBoost 3 files, the legacy binary format), which
 * the engine hands to libxgboost; or "malformed" (bad syntax, an index out of
 * range, a cycle: a file no evaluator should run), which fails the load. The
 * reader is bounded and never reads outside the buffer (tests/fuzz).
 *
 * Reentrant.
 */
#ifndef RUNTIME_ENGINES_XGBMODEL_H
#define RUNTIME_ENGINES_XGBMODEL_H

#include <stddef.h>

#include "runtime/engines/forest.h"

enum xgbmodel_status {
	XGBMODEL_OK = 0,
	XGBMODEL_MALFORMED = -1,
	XGBMODEL_UNSUPPORTED = -2,
};

/* What the loader learnt, for the deployment's log. */
struct xgbmodel_info {
	char objective[48];
	int version[3];
};

/* Reads the model in buf[0..len). XGBMODEL_OK with *out (caller frees with
 * forest_free), or another status with the reason in why. info may be NULL. */
enum xgbmodel_status xgbmodel_load(const void *buf, size_t len, struct forest **out,
				   struct xgbmodel_info *info, char *why, size_t why_size);

#endif
