/*
 * activation.h: the element-wise and vector functions linear links and MLP
 * layers apply to their outputs, looked up by name. Same maths as numpy and
 * sklearn (softmax subtracts the maximum first). Pure functions; thread-safe.
 */
#ifndef RUNTIME_ENGINES_ACTIVATION_H
#define RUNTIME_ENGINES_ACTIVATION_H

#include <stddef.h>

typedef void (*activation_fn)(double *v, size_t n);

struct activation {
	const char *name;    /* "identity", "relu", "tanh", "sigmoid" ("logistic"), "softmax" */
	activation_fn apply; /* in place over v[0..n) */
};

/* The activation called `name`, or NULL. */
const struct activation *activation_find(const char *name);

#endif
