/*
 * input.h: the native scoring input, {"data": [[f1, f2, ...], ...]}, parsed
 * straight into a dense row-major matrix of doubles.
 *
 * A hand-written scanner, not a JSON tree: one pass over the body, numbers
 * converted in place, the matrix grown geometrically (no allocation per row;
 * none at all up to INPUT_INLINE values). Other top-level keys are skipped.
 * Azure's MLflow input is read too: {"input_data": [[...], ...]} or
 * {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}.
 * Numbers are read exactly (correctly rounded, like Python's float()) and
 * independently of the process locale.
 *
 * Errors are input errors: err->status 400, code "BadRequest", and a message a
 * client can act on ("row 3 has 29 features, the model expects 30").
 * Thread-safe: no shared state besides a read-only "C" locale.
 */
#ifndef RUNTIME_ENGINES_INPUT_H
#define RUNTIME_ENGINES_INPUT_H

#include <locale.h>
#include <stddef.h>

#include "state/error.h"

#define INPUT_MAX_ROWS 100000
#define INPUT_MAX_COLS 100000
#define INPUT_INLINE 512 /* values held without a heap allocation */

/* Embedded in the caller's stack frame: input_init, input_parse, ..., input_cleanup. */
struct input_matrix {
	double *values; /* rows x cols, row-major; points at `inline_buf` or the heap */
	size_t rows;
	size_t cols;
	size_t cap; /* values that fit in `values` */
	double inline_buf[INPUT_INLINE];
};

/* Parse flags. */
#define INPUT_ALLOW_NULL 1 /* JSON null becomes NaN (XGBoost's "missing") */

void input_init(struct input_matrix *m);
void input_cleanup(struct input_matrix *m);

/* Parses body[0..len) (need not be NUL-terminated). expect_cols > 0: every
 * row must have that many values; otherwise the first row sets the count.
 * At least one row, at most INPUT_MAX_ROWS. 0, or -1 with err. */
int input_parse(const char *body, size_t len, int expect_cols, int flags, struct input_matrix *m,
		struct error *err);

/* Where the rows input_parse scores lie in body: the array's offset and
 * length (the same member it reads: "data", or "input_data" and its
 * "data"), any width, nulls allowed. 0, or -1 when it would refuse the body.
 * For those who keep what was scored (the data collector). */
int input_rows_span(const char *body, size_t len, size_t *off, size_t *n);

/* Reads one JSON number at s (at most `len` bytes) into *out; returns the
 * bytes consumed, or 0 when s does not start with a valid JSON number. */
size_t input_number(const char *s, size_t len, double *out);
/* The same answer, a digit at a time: the reference that input_number's
 * fast path (whole digit groups at once, on x86-64, taken with 40 bytes or
 * more to read) is tested and fuzzed against. */
size_t input_number_exact(const char *s, size_t len, double *out);
/* The same number as the correctly rounded float32 (strtof's answer, never
 * a double rounded twice). */
size_t input_number_float(const char *s, size_t len, float *out);

/* The "C" locale, for locale-independent strtod/snprintf via uselocale(). */
locale_t input_c_locale(void);

#endif
