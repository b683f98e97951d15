#!/usr/bin/python3
"""Trains the XGBoost models that the native evaluator must match bit for bit.

    /usr/bin/python3 tests/data/make_exact_models.py OUTDIR

Run by `make unit` (into build/xgb-exact, once per change of this script); the unit test
tests/unit/test_xgb_native.c then scores 100,000 random rows with NaNs through every model
here with mldeck's evaluator and with libxgboost and compares every bit. Small, fixed,
single-threaded training sets keep it to a few seconds; the models span what the evaluator
claims: depth 1 to 12, 1 to 1,000 trees, every objective it reads natively, dart, missing values
seen in training (so default directions vary), categorical splits (one-hot and partition),
several parallel trees, several targets, user base_score, JSON and UBJSON. Models it must
hand to libxgboost (gblinear, an objective it does not read) are written too, named
fallback-*.
"""
import os
import sys

import numpy as np
import xgboost as xgb

RNG = np.random.default_rng(20261126)


def data(rows, features, missing=0.0, seed=0):
    rng = np.random.default_rng(seed)
    X = rng.normal(size=(rows, features)) * rng.uniform(0.1, 100, size=features)
    X[:, 0] = np.round(X[:, 0])  # a feature with ties on its thresholds
    if missing:
        X[rng.uniform(size=X.shape) < missing] = np.nan
    w = rng.normal(size=features)
    z = np.nan_to_num(X / (np.nanstd(X, axis=0) + 1e-9)) @ w
    return X, z


def train(out, name, params, X, y, rounds, ubj=False, **dm):
    base = {"seed": 0, "nthread": 1, "tree_method": "hist"}
    base.update(params)
    bst = xgb.train(base, xgb.DMatrix(X, label=y, **dm), num_boost_round=rounds)
    bst.save_model(os.path.join(out, name + (".ubj" if ubj else ".json")))


def binary(out):
    X, z = data(600, 12, missing=0.15, seed=1)
    y = (z > 0).astype(float)
    train(out, "binary-d1-t1", {"objective": "binary:logistic", "max_depth": 1}, X, y, 1)
    train(out, "binary-d6-t100", {"objective": "binary:logistic", "max_depth": 6}, X, y, 100)
    train(out, "binary-d6-t100", {"objective": "binary:logistic", "max_depth": 6}, X, y, 100,
          ubj=True)
    train(out, "binary-base", {"objective": "binary:logistic", "max_depth": 3,
                               "base_score": 0.2}, X, y, 20)
    train(out, "logitraw-d4", {"objective": "binary:logitraw", "max_depth": 4}, X, y, 30)
    train(out, "reglogistic-d4", {"objective": "reg:logistic", "max_depth": 4}, X, y, 40)
    train(out, "forest-d5", {"objective": "binary:logistic", "max_depth": 5,
                             "num_parallel_tree": 4, "subsample": 0.7,
                             "colsample_bynode": 0.7}, X, y, 10)


def regression(out):
    X, z = data(500, 8, missing=0.05, seed=2)
    y = z * 10 + 3
    train(out, "reg-d12-t300", {"objective": "reg:squarederror", "max_depth": 12,
                                "min_child_weight": 0, "eta": 0.1}, X, y, 300)
    train(out, "reg-d2-t1000", {"objective": "reg:squarederror", "max_depth": 2,
                                "eta": 0.05}, X, y, 1000, ubj=True)
    train(out, "reg-lossguide", {"objective": "reg:squarederror", "grow_policy": "lossguide",
                                 "max_leaves": 40, "max_depth": 0}, X, y, 30)
    train(out, "reg-base", {"objective": "reg:squarederror", "base_score": 3.5,
                            "max_depth": 3}, X, y, 10)
    for obj in ("reg:absoluteerror", "reg:pseudohubererror"):
        train(out, obj.replace(":", "-"), {"objective": obj, "max_depth": 3}, X, y, 20)
    positive = np.abs(y) + 0.5
    for obj in ("count:poisson", "reg:gamma", "reg:tweedie", "reg:squaredlogerror"):
        train(out, obj.replace(":", "-"), {"objective": obj, "max_depth": 3}, X, positive, 20)
    two = np.stack([y, -2 * y + 1], axis=1)
    train(out, "multitarget-d3", {"objective": "reg:squarederror", "max_depth": 3}, X, two, 10)


def multiclass(out):
    X, z = data(800, 10, missing=0.1, seed=3)
    y = np.digitize(z, np.quantile(z, [0.25, 0.5, 0.75])).astype(float)
    train(out, "softprob-d5", {"objective": "multi:softprob", "num_class": 4,
                               "max_depth": 5}, X, y, 25)
    train(out, "softprob-d5", {"objective": "multi:softprob", "num_class": 4,
                               "max_depth": 5}, X, y, 25, ubj=True)
    train(out, "softmax-d3", {"objective": "multi:softmax", "num_class": 4,
                              "max_depth": 3}, X, y, 15)


def ranking(out):
    X, z = data(600, 6, missing=0.05, seed=4)
    y = np.clip(np.round(z + 2), 0, 4)
    groups = [20] * 30
    for obj in ("rank:pairwise", "rank:ndcg"):
        bst = xgb.train({"objective": obj, "max_depth": 6, "seed": 0, "nthread": 1,
                         "tree_method": "hist"},
                        xgb.DMatrix(X, label=y, group=groups), num_boost_round=40)
        bst.save_model(os.path.join(out, obj.replace(":", "-") + ".json"))


def categorical(out):
    rng = np.random.default_rng(5)
    rows = 700
    X = np.empty((rows, 4))
    X[:, 0] = rng.integers(0, 3, rows)    # few categories: one-hot splits
    X[:, 1] = rng.integers(0, 40, rows)   # many: partition splits
    X[:, 2] = rng.normal(size=rows)
    X[:, 3] = rng.integers(0, 12, rows)
    X[rng.uniform(size=X.shape) < 0.05] = np.nan
    y = ((np.nan_to_num(X[:, 1]) % 7 < 3) ^ (np.nan_to_num(X[:, 0]) == 1)).astype(float)
    types = ["c", "c", "q", "c"]
    train(out, "categorical-d6", {"objective": "binary:logistic", "max_depth": 6,
                                  "max_cat_to_onehot": 4}, X, y, 40,
          feature_types=types, enable_categorical=True)
    train(out, "categorical-d6", {"objective": "binary:logistic", "max_depth": 6,
                                  "max_cat_to_onehot": 4}, X, y, 40, ubj=True,
          feature_types=types, enable_categorical=True)


def dart(out):
    X, z = data(300, 5, missing=0.1, seed=6)
    y = (z > 0).astype(float)
    train(out, "dart-d3", {"objective": "binary:logistic", "booster": "dart", "max_depth": 3,
                           "rate_drop": 0.3, "skip_drop": 0.2}, X, y, 30)
    classes = np.digitize(z, [-0.5, 0.5]).astype(float)
    train(out, "dart-softprob", {"objective": "multi:softprob", "num_class": 3,
                                 "booster": "dart", "max_depth": 4, "rate_drop": 0.2},
          X, classes, 10, ubj=True)


def fallbacks(out):
    X, z = data(300, 5, seed=7)
    y = (z > 0).astype(float)
    train(out, "fallback-gblinear", {"objective": "binary:logistic", "booster": "gblinear"},
          X, y, 10)
    train(out, "fallback-hinge", {"objective": "binary:hinge", "max_depth": 3}, X, y, 10)


def main():
    if len(sys.argv) != 2:
        sys.exit("usage: make_exact_models.py OUTDIR")
    out = sys.argv[1]
    os.makedirs(out, exist_ok=True)
    for make in (binary, regression, multiclass, ranking, categorical, dart, fallbacks):
        make(out)


if __name__ == "__main__":
    main()
