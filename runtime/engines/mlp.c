/* mlp.c: dense layers, weights stored transposed (out x in) for contiguous dot products. */
#include "runtime/engines/mlp.h"

#include <stdio.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/activation.h"
#include "runtime/engines/input.h"
#include "runtime/engines/modelfile.h"
#include "runtime/engines/output.h"

#define SCRATCH_INLINE 1024

struct mlp_layer {
	int in, out;
	double *w; /* out x in */
	double *b; /* out */
	const struct activation *act;
};

struct mlp {
	int n;	   /* features */
	int width; /* widest vector (input or any layer) */
	int nlayers;
	struct mlp_layer *layers;
	double *mean;  /* n, or NULL */
	double *scale; /* n, or NULL */
};

static void mlp_free(void *impl)
{
	struct mlp *m = impl;

	if (m == NULL)
		return;
	for (int i = 0; i < m->nlayers; i++) {
		free(m->layers[i].w);
		free(m->layers[i].b);
	}
	free(m->layers);
	free(m->mean);
	free(m->scale);
	free(m);
}

/* weights[i][j] (in x out) into ly->w[j * in + i]. */
static int load_weights(struct mlp_layer *ly, int k, const cJSON *w, struct error *err)
{
	const cJSON *row;
	int i = 0;

	ly->in = cJSON_GetArraySize(w);
	if (!cJSON_IsArray(w) || ly->in == 0 || ly->in > MLP_MAX_WIDTH || !cJSON_IsArray(w->child))
		return modelfile_fail(err, "layers[%d].weights must be an array of rows (in x out)",
				      k);
	ly->out = cJSON_GetArraySize(w->child);
	if (ly->out == 0 || ly->out > MLP_MAX_WIDTH)
		return modelfile_fail(err, "layers[%d].weights rows must have 1 to %d values", k,
				      MLP_MAX_WIDTH);
	ly->w = malloc((size_t)ly->in * (size_t)ly->out * sizeof *ly->w);
	if (ly->w == NULL)
		return modelfile_fail(err, "out of memory for layers[%d].weights", k);
	cJSON_ArrayForEach(row, w)
	{
		char what[64];
		double *v;

		snprintf(what, sizeof what, "layers[%d].weights[%d]", k, i);
		v = modelfile_doubles(row, ly->out, NULL, what, err);
		if (v == NULL)
			return -1;
		for (int j = 0; j < ly->out; j++)
			ly->w[(size_t)j * (size_t)ly->in + (size_t)i] = v[j];
		free(v);
		i++;
	}
	return 0;
}

static int load_layer(struct mlp_layer *ly, int k, const cJSON *o, struct error *err)
{
	const cJSON *act = cJSON_GetObjectItemCaseSensitive(o, "activation");
	char what[48];

	if (!cJSON_IsObject(o))
		return modelfile_fail(err, "layers[%d] must be an object", k);
	if (load_weights(ly, k, cJSON_GetObjectItemCaseSensitive(o, "weights"), err) != 0)
		return -1;
	snprintf(what, sizeof what, "layers[%d].biases", k);
	ly->b = modelfile_doubles(cJSON_GetObjectItemCaseSensitive(o, "biases"), ly->out, NULL,
				  what, err);
	if (ly->b == NULL)
		return -1;
	ly->act = activation_find(cJSON_IsString(act) ? act->valuestring : NULL);
	if (ly->act == NULL)
		return modelfile_fail(err,
				      "layers[%d].activation must be one of relu, tanh, "
				      "sigmoid, softmax, identity",
				      k);
	return 0;
}

static int load_layers(struct mlp *m, const cJSON *arr, struct error *err)
{
	const cJSON *o;

	m->nlayers = cJSON_GetArraySize(arr);
	if (!cJSON_IsArray(arr) || m->nlayers == 0 || m->nlayers > MLP_MAX_LAYERS)
		return modelfile_fail(err, "\"layers\" must be an array of 1 to %d layers",
				      MLP_MAX_LAYERS);
	m->layers = calloc((size_t)m->nlayers, sizeof *m->layers);
	if (m->layers == NULL)
		return modelfile_fail(err, "out of memory");
	m->nlayers = 0;
	cJSON_ArrayForEach(o, arr)
	{
		struct mlp_layer *ly = &m->layers[m->nlayers];

		if (load_layer(ly, m->nlayers++, o, err) != 0)
			return -1;
		if (m->nlayers > 1 && ly->in != ly[-1].out)
			return modelfile_fail(err,
					      "layers[%d] has %d inputs but layers[%d] has %d "
					      "outputs",
					      m->nlayers - 1, ly->in, m->nlayers - 2, ly[-1].out);
		if (ly->in > m->width)
			m->width = ly->in;
		if (ly->out > m->width)
			m->width = ly->out;
	}
	m->n = m->layers[0].in;
	return 0;
}

static int load_input(struct mlp *m, const cJSON *in, struct error *err)
{
	if (in == NULL)
		return 0;
	if (!cJSON_IsObject(in))
		return modelfile_fail(err, "\"input\" must be an object with mean and scale");
	m->mean = modelfile_doubles(cJSON_GetObjectItemCaseSensitive(in, "mean"), m->n, NULL,
				    "input.mean", err);
	if (m->mean == NULL)
		return -1;
	m->scale = modelfile_doubles(cJSON_GetObjectItemCaseSensitive(in, "scale"), m->n, NULL,
				     "input.scale", err);
	if (m->scale == NULL)
		return -1;
	for (int i = 0; i < m->n; i++)
		if (m->scale[i] == 0.0)
			return modelfile_fail(err, "input.scale[%d] is 0", i);
	return 0;
}

static void *mlp_load(const struct engine_config *cfg, struct error *err)
{
	cJSON *root = modelfile_json(cfg->model_path, err);
	struct mlp *m;

	if (root == NULL)
		return NULL;
	m = calloc(1, sizeof *m);
	if (m == NULL)
		modelfile_fail(err, "out of memory");
	else if (load_layers(m, cJSON_GetObjectItemCaseSensitive(root, "layers"), err) != 0 ||
		 load_input(m, cJSON_GetObjectItemCaseSensitive(root, "input"), err) != 0) {
		mlp_free(m);
		m = NULL;
	}
	cJSON_Delete(root);
	return m;
}

static void layer_forward(const struct mlp_layer *ly, const double *a, double *b)
{
	size_t in = (size_t)ly->in;

	for (size_t j = 0; j < (size_t)ly->out; j++) {
		const double *w = ly->w + j * in;
		double s = 0.0;

		for (size_t i = 0; i < in; i++)
			s += w[i] * a[i];
		b[j] = s + ly->b[j];
	}
	ly->act->apply(b, (size_t)ly->out);
}

/* One row x into y, using scratch a and b (each m->width long). */
static void mlp_row(const struct mlp *m, const double *x, double *y, double *a, double *b)
{
	const struct mlp_layer *last = &m->layers[m->nlayers - 1];

	for (int i = 0; i < m->n; i++)
		a[i] = m->mean != NULL ? (x[i] - m->mean[i]) / m->scale[i] : x[i];
	for (int k = 0; k < m->nlayers; k++) {
		double *t;

		layer_forward(&m->layers[k], a, b);
		t = a;
		a = b;
		b = t;
	}
	memcpy(y, a, (size_t)last->out * sizeof *y);
}

static int mlp_predict(const void *model, const struct input_matrix *in, double *pred,
		       struct error *err)
{
	const struct mlp *m = model;
	size_t outs = (size_t)m->layers[m->nlayers - 1].out;
	double small[2 * SCRATCH_INLINE], *s = small;

	if (m->width > SCRATCH_INLINE)
		s = malloc(2 * (size_t)m->width * sizeof *s);
	if (s == NULL)
		return error_set(err, 500, "InternalError", "out of memory");
	for (size_t r = 0; r < in->rows; r++)
		mlp_row(m, in->values + r * (size_t)m->n, pred + r * outs, s, s + m->width);
	if (s != small)
		free(s);
	return 0;
}

static int mlp_score(void *impl, const struct engine_request *req, struct engine_result *out)
{
	const struct mlp *m = impl;
	int outs = m->layers[m->nlayers - 1].out;

	return output_run(out, req, m->n, 0, (size_t)outs, outs > 1, mlp_predict, m);
}

static int mlp_features(const void *impl)
{
	return ((const struct mlp *)impl)->n;
}

static size_t mlp_outputs(const void *impl)
{
	const struct mlp *m = impl;

	return (size_t)m->layers[m->nlayers - 1].out;
}

const struct engine_ops mlp_engine_ops = {
    .load = mlp_load,
    .score = mlp_score,
    .resize = NULL, /* nothing to resize in process */
    .features = mlp_features,
    .free = mlp_free,
    .predict = mlp_predict,
    .outputs = mlp_outputs,
};
