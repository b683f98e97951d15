/* linear.c: linear models with an identity, logistic or softmax link. */
#include "runtime/engines/linear.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/activation.h"
#include "runtime/engines/input.h"
#include "runtime/engines/modelfile.h"
#include "runtime/engines/output.h"

struct linear {
	int n;	      /* features */
	int k;	      /* outputs */
	double *coef; /* k x n, row-major */
	double *bias; /* k */
	const struct activation *link;
};

static void linear_free(void *impl)
{
	struct linear *l = impl;

	if (l == NULL)
		return;
	free(l->coef);
	free(l->bias);
	free(l);
}

/* One output row of coefficients into coef[j*n..]; row 0 sets n. */
static int load_coef_row(struct linear *l, const cJSON *row, int j, struct error *err)
{
	char what[48];
	double *v;
	int n;

	snprintf(what, sizeof what, "coefficients[%d]", j);
	v = modelfile_doubles(row, j == 0 ? -1 : l->n, &n, what, err);
	if (v == NULL)
		return -1;
	if (j == 0) {
		l->n = n;
		l->coef = malloc((size_t)l->k * (size_t)n * sizeof *l->coef);
		if (l->coef == NULL) {
			free(v);
			return modelfile_fail(err, "out of memory for coefficients");
		}
	}
	memcpy(l->coef + (size_t)j * (size_t)n, v, (size_t)n * sizeof *v);
	free(v);
	return 0;
}

static int load_coef(struct linear *l, const cJSON *c, struct error *err)
{
	const cJSON *row;
	int j = 0;

	if (!cJSON_IsArray(c) || cJSON_GetArraySize(c) == 0)
		return modelfile_fail(err, "\"coefficients\" must be a non-empty array");
	if (!cJSON_IsArray(c->child)) {
		l->k = 1;
		return load_coef_row(l, c, 0, err);
	}
	l->k = cJSON_GetArraySize(c);
	cJSON_ArrayForEach(row, c)
	{
		if (load_coef_row(l, row, j++, err) != 0)
			return -1;
	}
	return 0;
}

static int load_bias(struct linear *l, const cJSON *b, struct error *err)
{
	if (b == NULL || cJSON_IsNumber(b)) {
		if (b != NULL && l->k != 1)
			return modelfile_fail(err, "\"intercept\" must be an array of %d numbers",
					      l->k);
		l->bias = calloc((size_t)l->k, sizeof *l->bias);
		if (l->bias == NULL)
			return modelfile_fail(err, "out of memory");
		if (b != NULL)
			l->bias[0] = b->valuedouble;
		return 0;
	}
	l->bias = modelfile_doubles(b, l->k, NULL, "intercept", err);
	return l->bias == NULL ? -1 : 0;
}

static int load_link(struct linear *l, const cJSON *link, struct error *err)
{
	const char *name = cJSON_IsString(link) ? link->valuestring : "identity";

	if (link != NULL && !cJSON_IsString(link))
		return modelfile_fail(err, "\"link\" must be a string");
	if (strcmp(name, "identity") != 0 && strcmp(name, "logistic") != 0 &&
	    strcmp(name, "softmax") != 0)
		return modelfile_fail(err, "unknown link \"%s\" (identity, logistic or softmax)",
				      name);
	if (strcmp(name, "softmax") == 0 && l->k < 2)
		return modelfile_fail(err, "link softmax needs one row of coefficients per class "
					   "(at least 2)");
	l->link = activation_find(name);
	return 0;
}

static void *linear_load(const struct engine_config *cfg, struct error *err)
{
	cJSON *root = modelfile_json(cfg->model_path, err);
	struct linear *l;

	if (root == NULL)
		return NULL;
	l = calloc(1, sizeof *l);
	if (l == NULL)
		modelfile_fail(err, "out of memory");
	else if (load_coef(l, cJSON_GetObjectItemCaseSensitive(root, "coefficients"), err) != 0 ||
		 load_bias(l, cJSON_GetObjectItemCaseSensitive(root, "intercept"), err) != 0 ||
		 load_link(l, cJSON_GetObjectItemCaseSensitive(root, "link"), err) != 0) {
		linear_free(l);
		l = NULL;
	}
	cJSON_Delete(root);
	return l;
}

static int linear_predict(const void *model, const struct input_matrix *m, double *pred,
			  struct error *err)
{
	const struct linear *l = model;
	size_t n = (size_t)l->n, k = (size_t)l->k;

	(void)err;
	for (size_t r = 0; r < m->rows; r++) {
		const double *x = m->values + r * n;
		double *z = pred + r * k;

		for (size_t j = 0; j < k; j++) {
			const double *w = l->coef + j * n;
			double s = 0.0;

			for (size_t i = 0; i < n; i++)
				s += w[i] * x[i];
			z[j] = s + l->bias[j];
		}
		l->link->apply(z, k);
	}
	return 0;
}

static int linear_score(void *impl, const struct engine_request *req, struct engine_result *out)
{
	const struct linear *l = impl;

	return output_run(out, req, l->n, 0, (size_t)l->k, l->k > 1, linear_predict, l);
}

static int linear_features(const void *impl)
{
	return ((const struct linear *)impl)->n;
}

static size_t linear_outputs(const void *impl)
{
	return (size_t)((const struct linear *)impl)->k;
}

const struct engine_ops linear_engine_ops = {
    .load = linear_load,
    .score = linear_score,
    .resize = NULL, /* nothing to resize in process */
    .features = linear_features,
    .free = linear_free,
    .predict = linear_predict,
    .outputs = linear_outputs,
};
