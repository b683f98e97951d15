/*
 * mlp.h: the `mlp` engine, a dense feed-forward network scored in process.
 *
 * Model file (JSON, documented in docs/models.md):
 *
 *   {"input": {"mean": [m1..mn], "scale": [s1..sn]},   optional: x' = (x - mean) / scale
 *    "layers": [{"weights": [[...], ...],   in x out: weights[i][j] joins input i to unit j
 *                "biases": [b1..b_out],                (sklearn's coefs_[k], intercepts_[k])
 *                "activation": "relu" | "tanh" | "sigmoid" | "softmax" | "identity"}, ...]}
 *
 * "logistic" is accepted as sigmoid (sklearn's name). The first layer's `in`
 * is the feature count; each next layer's `in` is the previous `out`. Answer
 * per row: a number when the last layer has one unit, else an array (class
 * probabilities with softmax).
 *
 * Thread-safe scoring: the loaded model is read-only; scratch is per call.
 */
#ifndef RUNTIME_ENGINES_MLP_H
#define RUNTIME_ENGINES_MLP_H

#include "runtime/engines/engine.h"

#define MLP_MAX_LAYERS 64
#define MLP_MAX_WIDTH 65536

extern const struct engine_ops mlp_engine_ops;

#endif
