/* activation.c: output functions by name. */
#include "runtime/engines/activation.h"

#include <math.h>
#include <string.h>

static void act_identity(double *v, size_t n)
{
	(void)v;
	(void)n;
}

static void act_relu(double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = v[i] > 0.0 ? v[i] : 0.0;
}

static void act_tanh(double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = tanh(v[i]);
}

static void act_sigmoid(double *v, size_t n)
{
	for (size_t i = 0; i < n; i++)
		v[i] = 1.0 / (1.0 + exp(-v[i]));
}

static void act_softmax(double *v, size_t n)
{
	double max = v[0], sum = 0.0;
	size_t i;

	for (i = 1; i < n; i++)
		if (v[i] > max)
			max = v[i];
	for (i = 0; i < n; i++) {
		v[i] = exp(v[i] - max);
		sum += v[i];
	}
	for (i = 0; i < n; i++)
		v[i] /= sum;
}

static const struct activation activations[] = {
    {"identity", act_identity}, {"relu", act_relu},	   {"tanh", act_tanh},
    {"sigmoid", act_sigmoid},	{"logistic", act_sigmoid}, {"softmax", act_softmax},
};

const struct activation *activation_find(const char *name)
{
	for (size_t i = 0; name != NULL && i < sizeof activations / sizeof activations[0]; i++)
		if (strcmp(activations[i].name, name) == 0)
			return &activations[i];
	return NULL;
}
