/*
 * forest.h: a tree ensemble evaluated natively, with XGBoost's arithmetic.
 *
 * Prediction equals libxgboost's (1.7, CPU predictor) bit for bit: each input
 * value is rounded to float32; a split sends a value left when it is below the
 * threshold (float32 comparison), a missing value (NaN) to its default side,
 * a categorical split right when the value names a listed category; every
 * output group starts at its base margin and adds its trees' leaves in float32,
 * in tree order; then the objective's transform (XGBoost's own float32
 * sigmoid, expf, softmax with a double sum, arg-max). See docs/models.md.
 *
 * Layout: each tree's nodes are renumbered breadth first into one array of
 * 16-byte nodes, a split's two children side by side; a leaf loops to itself,
 * so a walk takes a fixed number of steps (the tree's depth) with no branch on
 * the data. Few rows walk several trees at once; many rows go through one tree
 * in blocks (see forest.c).
 *
 * Build (one thread): forest_new, forest_add_tree for each tree in order,
 * forest_finish. Then the forest is immutable and forest_predict may run on
 * any number of threads at once.
 */
#ifndef RUNTIME_ENGINES_FOREST_H
#define RUNTIME_ENGINES_FOREST_H

#include <stddef.h>
#include <stdint.h>

#define FOREST_MAX_FEATURES (1 << 24)
#define FOREST_MAX_GROUPS 65536
#define FOREST_MAX_NODES (UINT32_C(1) << 30) /* all trees together */

/* The objective's transform of the summed margins. */
enum forest_transform {
	FOREST_IDENTITY, /* regression, ranking, margins */
	FOREST_SIGMOID,	 /* binary:logistic, reg:logistic */
	FOREST_EXP,	 /* count:poisson, reg:gamma, reg:tweedie */
	FOREST_SOFTMAX,	 /* multi:softprob: one probability per group */
	FOREST_ARGMAX,	 /* multi:softmax: the index of the largest margin, one per row */
};

/* One tree as XGBoost stores it: nodes 0..n-1, the root 0. */
struct forest_tree {
	size_t n;
	const int64_t *left;	     /* child for values below the split; -1: a leaf */
	const int64_t *right;	     /* the other child */
	const int64_t *feature;	     /* split feature */
	const float *value;	     /* split threshold, or the leaf's value */
	const int64_t *default_left; /* nonzero: missing values go left */
	const int64_t *categorical;  /* NULL, or per node nonzero for a categorical split */
	/* categorical splits: for node i, cat_count[i] categories at cats + cat_start[i]
	 * (NULL when no node is categorical) */
	const int64_t *cat_start;
	const int64_t *cat_count;
	const int64_t *cats;
	size_t ncats;
};

struct forest;

/* features: inputs per row; groups: margins per row (classes or targets);
 * base: the base margin of each group (XGBoost's base_score after the
 * objective's ProbToMargin). NULL when out of memory or out of range. */
struct forest *forest_new(int features, int groups, const float *base, enum forest_transform t);
void forest_free(struct forest *f); /* NULL is a no-op */

/* Adds a tree whose leaves count towards `group`. 0, or -1 with the reason in
 * why: out of memory, or the tree is malformed (a child or feature out of
 * range, a node reached twice, a negative category, or a split whose right
 * child does not follow its left one: libxgboost would take left + 1 for
 * values and the right child for missing ones, so no such tree is sound). */
int forest_add_tree(struct forest *f, int group, const struct forest_tree *t, char *why,
		    size_t why_size);
/* Dart: tree i's leaves count as XGBoost's Dart::InplacePredict counts them,
 * weight[i] times. After the last tree, before forest_finish; n = the trees.
 * 0, or -1 (count mismatch, out of memory). */
int forest_weights(struct forest *f, const float *weight, size_t n);
/* Ends the build: 0, or -1 (no tree, out of memory) with the reason. */
int forest_finish(struct forest *f, char *why, size_t why_size);

int forest_features(const struct forest *f);
size_t forest_trees(const struct forest *f);
int forest_depth(const struct forest *f); /* deepest tree */
/* Values per row forest_predict writes: groups, or 1 for FOREST_ARGMAX and
 * with FOREST_MARGIN the groups again. */
size_t forest_outputs(const struct forest *f, int flags);

#define FOREST_MARGIN 1 /* skip the transform: raw summed margins */

/* The batch API: rows x features doubles, row-major (NaN: missing), to
 * rows x forest_outputs() floats. Thread-safe. Allocates nothing unless a row
 * has thousands of features; 0, or -1 when that allocation fails. */
int forest_predict(const struct forest *f, const double *x, size_t rows, float *out, int flags);

#endif
