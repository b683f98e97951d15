/*
 * linear.h: the `linear` engine, a linear model scored in process.
 *
 * Model file (JSON, documented in docs/models.md):
 *
 *   {"coefficients": [w1, ..., wn]            one output (regression, binary)
 *                  | [[w11, ..., w1n], ...],  one row per output/class (k x n)
 *    "intercept": b | [b1, ..., bk],          optional, default 0
 *    "link": "identity" | "logistic" | "softmax"}   optional, default identity
 *
 * Row x scores z_j = b_j + sum_i w_ji x_i, then the link: identity keeps z,
 * logistic gives 1 / (1 + exp(-z_j)) (sklearn's LogisticRegression: coef_[0],
 * intercept_[0] -> the positive class's probability), softmax gives class
 * probabilities (multinomial LogisticRegression: coef_, intercept_; k >= 2).
 * Answer per row: a number when k == 1, else an array of k numbers.
 *
 * Thread-safe scoring: the loaded model is read-only.
 */
#ifndef RUNTIME_ENGINES_LINEAR_H
#define RUNTIME_ENGINES_LINEAR_H

#include "runtime/engines/engine.h"

extern const struct engine_ops linear_engine_ops;

#endif
