/*
 * mlflow.h: what serves an `mlflow_model` deployed without a scoring script,
 * as Azure deploys MLflow models ("no-code deployment"). The model is a
 * folder with an MLmodel file (YAML); its flavors decide:
 *
 *   xgboost  the booster file it names (flavors.xgboost.data) is scored in
 *            process by the xgboost engine;
 *   sklearn  the pickled model (flavors.sklearn.pickled_model) is scored by
 *            mldeck's own scoring script (runtime/worker/mlflow_score.py) in
 *            Python workers, the custom_model engine, in the deployment's
 *            environment (or /usr/bin/python3 without one).
 *
 * xgboost wins when both are there. Anything else is refused with a message
 * naming the flavors the model has. Blocking file I/O; any thread.
 */
#ifndef RUNTIME_ENGINES_MLFLOW_H
#define RUNTIME_ENGINES_MLFLOW_H

#include <limits.h>

#include "runtime/engines/engine.h"

struct mlflow_plan {
	enum model_type type;      /* MODEL_XGBOOST or MODEL_CUSTOM */
	char model_path[PATH_MAX]; /* xgboost: the booster file; sklearn: the model folder */
	char code_dir[PATH_MAX];   /* sklearn: a fresh directory holding SCRIPT */
	char *env[3];              /* sklearn: the worker's extra KEY=VALUE, NULL-terminated */
};

#define MLFLOW_SCRIPT "mlflow_score.py"

/* Reads ARTIFACT_DIR/MLmodel and fills *out; for sklearn, writes the scoring
 * script into a new directory under scratch (e.g. HOME/tmp). 0, or -1 with a
 * 400 ModelLoadError in err. */
int mlflow_plan(const char *artifact_dir, const char *scratch, struct mlflow_plan *out,
		struct error *err);
/* Frees the plan and removes its directory; safe on a zeroed plan. */
void mlflow_plan_cleanup(struct mlflow_plan *p);

#endif
