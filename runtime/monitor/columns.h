/*
 * columns.h: what a monitor needs to know about a dataset, column by column,
 * gathered in one pass over its rows (dataset.h) in bounded memory.
 *
 * A reference profile (made with reference NULL) keeps, per column, the kinds
 * of its values (stats.h: the column's type is inferred from them), its
 * numbers (runs.h: sorted runs, exact), its strings with their counts (at
 * most COLUMNS_STRINGS_MAX distinct per column; more are counted together
 * and the column is marked approximate), its booleans. A production profile
 * is made against a finished reference: only the reference's columns are
 * kept, each value is cast to the reference column's type as Spark casts
 * (stats_type_accepts): what does not cast counts as a data type error and
 * stays out of the drift sample; numbers outside the reference's [min, max]
 * and strings the reference never saw count as out of bounds.
 *
 * Memory: runs.h's budget per profile, the distinct strings, and a few
 * hundred bytes per column. Not thread-safe: one owner.
 */
#ifndef RUNTIME_MONITOR_COLUMNS_H
#define RUNTIME_MONITOR_COLUMNS_H

#include <stddef.h>
#include <stdint.h>

#include "runtime/monitor/dataset.h"
#include "runtime/monitor/stats.h"
#include "state/error.h"

#define COLUMNS_STRINGS_MAX 100000

struct columns;

/* tmpdir: where runs.h may spill. reference: a finished reference profile,
 * or NULL to make one. NULL when out of memory. */
struct columns *columns_new(const char *tmpdir, const struct columns *reference);
void columns_free(struct columns *p);

/* A value cast to a reference column's type as Spark casts it: a number (or a
 * boolean's 1/0) in x; for a string column the text in s, n (booleans as
 * true/false, numbers as written). 0, or -1 for a data type error. Missing
 * values are not cast. */
struct columns_value {
	double x;
	const char *s;
	size_t n;
};
int columns_cast(enum stats_type t, const struct cell *v, struct columns_value *out);

/* One row (a dataset_row_fn: ctx is the profile). */
int columns_row(void *p, const struct cell *cells, size_t n, struct error *err);
/* After the last row: sorts, infers the reference's types, its distinct
 * counts, means and standard deviations. 0, or -1 with err. */
int columns_finish(struct columns *p, struct error *err);

uint64_t columns_rows(const struct columns *p);
size_t columns_count(const struct columns *p);
const char *columns_name(const struct columns *p, size_t col);
/* The column named name, or -1. */
int columns_find(const struct columns *p, const char *name);

struct columns_info {
	enum stats_type type;   /* the reference's */
	int categorical;        /* Azure's default feature type */
	int approximate;        /* more distinct strings than kept */
	uint64_t values;        /* non-missing values that made it into the sample */
	uint64_t distinct;      /* reference: distinct values */
	double min, max;        /* numbers: the sample's */
	double sd;              /* reference numbers: the sample standard deviation */
	struct stats_quality quality; /* production: rows, nulls, type errors, out of bounds */
};
void columns_info(const struct columns *p, size_t col, struct columns_info *out);

/* A numeric column's k + 1 edges at its quantiles 0, 1/k, ..., 1 (values of
 * the sample, ties merged: *n edges, at most k + 1) and how many values are
 * at or below each. 0, or -1 with err. */
int columns_quantiles(const struct columns *p, size_t col, size_t k, double *edges,
		      uint64_t *below, size_t *n, struct error *err);
/* Each category of a column with its count: strings as kept, booleans as
 * true/false, numbers as their shortest text. fn returns 0 to go on. */
typedef int (*columns_category_fn)(void *ctx, const char *s, size_t n, uint64_t count);
int columns_categories(const struct columns *p, size_t col, columns_category_fn fn, void *ctx,
		       struct error *err);
/* The shortest text that reads back as v (at most 31 bytes). */
size_t columns_number_text(char *buf, size_t len, double v);

/* Drift of one feature between reference column rc and the production
 * profile's column of the same name, as a numerical or a categorical feature
 * (categorical on numbers: each distinct number is a category). Results
 * are NaN when a sample is empty. -1 with err when the column cannot be
 * numerical (strings, booleans) or a read fails. */
struct columns_drift {
	int categorical;
	struct stats_num_result num; /* numerical */
	double normalized_wasserstein;
	struct stats_cat_result cat; /* categorical */
};
int columns_drift(const struct columns *ref, size_t rc, const struct columns *prod, int categorical,
		  struct columns_drift *out, struct error *err);

#endif
