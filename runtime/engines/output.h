/*
 * output.h: the data plane's answers as JSON bodies in an engine_result.
 *
 * Predictions: a JSON array with one item per row, a number when the model has
 * one output per row, else an array of `cols` numbers (class probabilities).
 * Numbers are the shortest text that reads back to the same double, laid out
 * as Python's repr (shortest.h), so they read as a Python service's answers;
 * non-finite values are written as null. Output is locale-independent.
 *
 * Errors: {"error":{"code":"...","message":"..."}} with the HTTP status, the
 * same shape as the control plane's.
 *
 * Both return 0, or -1 when out of memory (out->body is then NULL and
 * out->status 500). The body is heap-owned by the caller (free()).
 * Thread-safe.
 */
#ifndef RUNTIME_ENGINES_OUTPUT_H
#define RUNTIME_ENGINES_OUTPUT_H

#include <stddef.h>

#include "runtime/engines/engine.h"
#include "state/error.h"

#define OUTPUT_NUMBER_MAX 25 /* one number and a separator */

/* as_array: nest each row's values in an array even when cols == 1. */
int output_predictions(struct engine_result *out, const double *pred, size_t rows, size_t cols,
		       int as_array);
int output_error(struct engine_result *out, int status, const char *code, const char *message);
/* One row's prediction exactly as output_predictions writes it (a number, or
 * [a,b,...] when cols > 1), no spaces, into buf of at least cols x
 * OUTPUT_NUMBER_MAX + 3 bytes; returns the length (not NUL-terminated). The
 * calling thread must use the "C" locale (uselocale(input_c_locale())). */
size_t output_row(char *buf, const double *pred, size_t cols);
/* output_error from an error record (status, code and message). */
int output_from_error(struct engine_result *out, const struct error *err);

/* One model's prediction over a parsed matrix: writes m->rows x outputs values
 * to pred. 0, or -1 with err (status 400 for bad input, 500 engine fault). */
struct input_matrix;
typedef int (*output_predict_fn)(const void *model, const struct input_matrix *m, double *pred,
				 struct error *err);

/* The native-input pipeline shared by the in-process engines: parses
 * req->body (input_parse with `features` and `flags`), runs fn, formats the
 * predictions (outputs per row; as_array as for output_predictions) or the
 * error. Always fills *out; returns 0, or -1 when out of memory. */
int output_run(struct engine_result *out, const struct engine_request *req, int features, int flags,
	       size_t outputs, int as_array, output_predict_fn fn, const void *model);

#endif
