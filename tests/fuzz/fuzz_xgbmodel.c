/*
 * fuzz_xgbmodel: the native XGBoost model loader (jdoc + xgbmodel + forest)
 * against any bytes a model file can hold. Checks, beyond "no crash, no read
 * outside the input": every refusal carries a reason; a model that loads
 * predicts rows of zeros, NaNs and values taken from the input without
 * touching memory it does not own, and gives the outputs it announces.
 */
#include <math.h>
#include <stdint.h>
#include <stdlib.h>
#include <string.h>

#include "runtime/engines/forest.h"
#include "runtime/engines/xgbmodel.h"

#define FUZZ_ROWS 5
#define FUZZ_MAX_FEATURES 4096

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size);

/* Rows of zeros, NaNs, and doubles read from the input. */
static double *fuzz_rows(const uint8_t *data, size_t size, int features)
{
	double *x = calloc((size_t)features * FUZZ_ROWS, sizeof *x);

	if (x == NULL)
		return NULL;
	for (size_t i = 0; i < (size_t)features * FUZZ_ROWS; i++) {
		size_t at = (i * 8) % (size > 8 ? size - 8 : 1);

		if (i / (size_t)features == 1)
			x[i] = NAN;
		else if (i / (size_t)features >= 2 && size >= 8)
			memcpy(&x[i], data + at, sizeof x[i]);
	}
	return x;
}

static void fuzz_predict(const struct forest *f, const uint8_t *data, size_t size)
{
	int features = forest_features(f);
	size_t outputs = forest_outputs(f, 0);
	double *x;
	float *out;

	if (features > FUZZ_MAX_FEATURES || outputs == 0)
		return;
	x = fuzz_rows(data, size, features);
	out = malloc(outputs * FUZZ_ROWS * sizeof *out);
	if (x != NULL && out != NULL) {
		if (forest_predict(f, x, FUZZ_ROWS, out, 0) != 0)
			abort();
		if (forest_predict(f, x, 1, out, FOREST_MARGIN) != 0)
			abort();
	}
	free(x);
	free(out);
}

int LLVMFuzzerTestOneInput(const uint8_t *data, size_t size)
{
	struct forest *f = NULL;
	char why[200];
	enum xgbmodel_status st = xgbmodel_load(data, size, &f, NULL, why, sizeof why);

	if (st == XGBMODEL_OK) {
		if (f == NULL)
			abort();
		fuzz_predict(f, data, size);
		forest_free(f);
	} else if (f != NULL || why[0] == '\0') {
		abort();
	}
	return 0;
}
