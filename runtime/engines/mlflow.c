/* mlflow.c: an MLflow model's flavors to the engine that serves it (mlflow.h). */
#include "runtime/engines/mlflow.h"

#include <errno.h>
#include <fcntl.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <unistd.h>

#include <cjson/cJSON.h>

#include "state/file.h"
#include "state/yaml.h"

#define MLMODEL_MAX (256 * 1024)

/* runtime/worker/mlflow_score.py, NUL-terminated, embedded like the worker. */
__asm__(".pushsection .rodata\n"
	"mlflow_score_py:\n"
	".incbin \"runtime/worker/mlflow_score.py\"\n"
	".byte 0\n"
	".popsection\n");
extern const char mlflow_score_py[];

void mlflow_plan_cleanup(struct mlflow_plan *p)
{
	char path[PATH_MAX + 32];

	for (size_t i = 0; i < sizeof p->env / sizeof p->env[0]; i++) {
		free(p->env[i]);
		p->env[i] = NULL;
	}
	if (p->code_dir[0] != '\0' &&
	    snprintf(path, sizeof path, "%s/" MLFLOW_SCRIPT, p->code_dir) < (int)sizeof path) {
		unlink(path);
		rmdir(p->code_dir);
	}
	p->code_dir[0] = '\0';
}

/* A text member of flavor f, or NULL. */
static const char *member_text(const cJSON *f, const char *key)
{
	const cJSON *m = cJSON_GetObjectItemCaseSensitive(f, key);

	return cJSON_IsString(m) && m->valuestring[0] != '\0' ? m->valuestring : NULL;
}

/* A file name of the model folder: one component, not "..". */
static int plain_name(const char *s)
{
	return s != NULL && strchr(s, '/') == NULL && strcmp(s, "..") != 0 && strcmp(s, ".") != 0;
}

static int refuse(struct error *err, const char *why, const cJSON *flavors)
{
	char names[256] = "";
	const cJSON *f;
	size_t n = 0;

	cJSON_ArrayForEach(f, flavors)
	    n += (size_t)snprintf(names + n, n < sizeof names ? sizeof names - n : 0, "%s%s",
				  n ? ", " : "", f->string);
	return error_set(err, 400, "ModelLoadError",
			 "mlflow_model: %s (the model's flavors: %s; served without a scoring "
			 "script: xgboost, sklearn)",
			 why, names[0] ? names : "none");
}

static int plan_xgboost(const char *dir, const cJSON *f, struct mlflow_plan *out,
			struct error *err)
{
	const char *data = member_text(f, "data");

	if (!plain_name(data) ||
	    snprintf(out->model_path, sizeof out->model_path, "%s/%s", dir, data) >=
		(int)sizeof out->model_path)
		return error_set(err, 400, "ModelLoadError",
				 "mlflow_model: flavors.xgboost.data must name the booster file "
				 "in the model folder");
	out->type = MODEL_XGBOOST;
	return 0;
}

/* Writes the embedded script into a new directory under scratch. */
static int write_script(const char *scratch, struct mlflow_plan *out, struct error *err)
{
	char path[PATH_MAX + 32];
	int fd, rc;

	if (snprintf(out->code_dir, sizeof out->code_dir, "%s/mlflow-XXXXXX", scratch) >=
		(int)sizeof out->code_dir ||
	    mkdtemp(out->code_dir) == NULL) {
		out->code_dir[0] = '\0';
		return error_set(err, 500, "ModelLoadError", "cannot create a directory in %s: %s",
				 scratch, strerror(errno));
	}
	snprintf(path, sizeof path, "%s/" MLFLOW_SCRIPT, out->code_dir);
	fd = open(path, O_WRONLY | O_CREAT | O_EXCL | O_CLOEXEC, 0600);
	rc = fd < 0 ? -1 : file_write_all(fd, mlflow_score_py, strlen(mlflow_score_py));
	if (fd >= 0 && close(fd) < 0)
		rc = -1;
	return rc < 0 ? error_set(err, 500, "ModelLoadError", "cannot write %s: %s", path,
				  strerror(errno))
		      : 0;
}

static int plan_sklearn(const char *dir, const char *scratch, const cJSON *f,
			struct mlflow_plan *out, struct error *err)
{
	const char *pkl = member_text(f, "pickled_model");
	const char *fmt = member_text(f, "serialization_format");
	char line[PATH_MAX + 64];

	if (!plain_name(pkl))
		return error_set(err, 400, "ModelLoadError",
				 "mlflow_model: flavors.sklearn.pickled_model must name the "
				 "pickle in the model folder");
	if (write_script(scratch, out, err) < 0)
		return -1;
	snprintf(line, sizeof line, "MLDECK_MLFLOW_MODEL_FILE=%s/%s", dir, pkl);
	out->env[0] = strdup(line);
	snprintf(line, sizeof line, "MLDECK_MLFLOW_SERIALIZATION=%s", fmt ? fmt : "pickle");
	out->env[1] = strdup(line);
	if (out->env[0] == NULL || out->env[1] == NULL)
		return error_set(err, 500, "ModelLoadError", "out of memory");
	snprintf(out->model_path, sizeof out->model_path, "%s", dir);
	out->type = MODEL_CUSTOM;
	return 0;
}

int mlflow_plan(const char *artifact_dir, const char *scratch, struct mlflow_plan *out,
		struct error *err)
{
	char path[PATH_MAX + 16];
	const cJSON *flavors, *f;
	cJSON *doc = NULL;
	size_t n;
	char *text;
	int rc;

	memset(out, 0, sizeof *out);
	snprintf(path, sizeof path, "%s/MLmodel", artifact_dir);
	text = file_read(path, MLMODEL_MAX, &n);
	if (text == NULL)
		return error_set(err, 400, "ModelLoadError",
				 "mlflow_model: cannot read %s: %s (an MLflow model is a folder "
				 "with an MLmodel file)",
				 path, strerror(errno));
	doc = yaml_to_json(text, n, err);
	free(text);
	if (doc == NULL)
		return error_set(err, 400, "ModelLoadError", "mlflow_model: MLmodel: %.300s",
				 err->message);
	flavors = cJSON_GetObjectItemCaseSensitive(doc, "flavors");
	if ((f = cJSON_GetObjectItemCaseSensitive(flavors, "xgboost")) != NULL)
		rc = plan_xgboost(artifact_dir, f, out, err);
	else if ((f = cJSON_GetObjectItemCaseSensitive(flavors, "sklearn")) != NULL)
		rc = plan_sklearn(artifact_dir, scratch, f, out, err);
	else
		rc = refuse(err, "no flavor to serve", flavors);
	cJSON_Delete(doc);
	if (rc < 0)
		mlflow_plan_cleanup(out);
	return rc;
}
