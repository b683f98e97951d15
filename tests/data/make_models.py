#!/usr/bin/python3
"""Makes the engine test models, their fixed input rows and Python's reference answers.

Run with the system interpreter (sklearn 1.2, xgboost 1.7, numpy), from anywhere:

    /usr/bin/python3 tests/data/make_models.py

Deterministic (fixed seeds, single-threaded training); nothing is downloaded.
For each model NAME it writes, next to this script:

    NAME.json (or .ubj)     the model in mldeck's format (docs/models.md)
    NAME.input.json         {"data": [[...], ...]}: 50 fixed rows
    NAME.expected.json      Python's predictions for those rows: one number per row,
                            or one array of class probabilities per row

logistic.json and xgb_binary.json (30 features, 100 trees of depth 6) are the benchmark's
models too; they share the same data, so one request file serves both.
"""
import json
import os

import numpy as np
import xgboost as xgb
from sklearn.datasets import load_digits, make_classification, make_regression
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))
ROWS = 50


def write_json(name, obj):
    with open(os.path.join(HERE, name), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def write_case(name, rows, expected):
    write_json(name + ".input.json", {"data": np.asarray(rows, dtype=np.float64).tolist()})
    write_json(name + ".expected.json", np.asarray(expected, dtype=np.float64).tolist())


def bench_data():
    """The 30-feature binary problem shared by logistic and xgb_binary."""
    return make_classification(n_samples=4000, n_features=30, n_informative=12,
                               n_redundant=6, random_state=42)


def make_logistic():
    X, y = bench_data()
    clf = LogisticRegression(max_iter=2000).fit(X[:3000], y[:3000])
    write_json("logistic.json", {"coefficients": clf.coef_[0].tolist(),
                                 "intercept": float(clf.intercept_[0]), "link": "logistic"})
    rows = X[3000:3000 + ROWS]
    write_case("logistic", rows, clf.predict_proba(rows)[:, 1])


def make_softmax():
    X, y = make_classification(n_samples=1500, n_features=10, n_informative=6, n_classes=3,
                               random_state=7)
    clf = LogisticRegression(multi_class="multinomial", max_iter=2000).fit(X[:1000], y[:1000])
    write_json("softmax.json", {"coefficients": clf.coef_.tolist(),
                                "intercept": clf.intercept_.tolist(), "link": "softmax"})
    rows = X[1000:1000 + ROWS]
    write_case("softmax", rows, clf.predict_proba(rows))


def make_mlp():
    X, y = load_digits(return_X_y=True)
    scaler = StandardScaler().fit(X[:1500])
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=0)
    clf.fit(scaler.transform(X[:1500]), y[:1500])
    acts = [clf.activation] * (len(clf.coefs_) - 1) + [clf.out_activation_]
    layers = [{"weights": w.tolist(), "biases": b.tolist(), "activation": a}
              for w, b, a in zip(clf.coefs_, clf.intercepts_, acts)]
    model = {"input": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
             "layers": layers}
    write_json("mlp_digits.json", model)
    rows = X[1500:1500 + ROWS]
    write_case("mlp_digits", rows, clf.predict_proba(scaler.transform(rows)))


def train_xgb(params, X, y, rounds):
    base = {"max_depth": 6, "eta": 0.3, "seed": 0, "nthread": 1, "tree_method": "hist"}
    base.update(params)
    return xgb.train(base, xgb.DMatrix(X, label=y), num_boost_round=rounds)


def make_xgb_binary():
    X, y = bench_data()
    bst = train_xgb({"objective": "binary:logistic"}, X[:3000], y[:3000], 100)
    bst.save_model(os.path.join(HERE, "xgb_binary.json"))
    bst.save_model(os.path.join(HERE, "xgb_binary.ubj"))
    rows = X[3000:3000 + ROWS]
    write_case("xgb_binary", rows, bst.inplace_predict(rows))


def make_xgb_regression():
    X, y = make_regression(n_samples=1000, n_features=10, noise=5.0, random_state=3)
    bst = train_xgb({"objective": "reg:squarederror", "max_depth": 4}, X[:800], y[:800], 50)
    bst.save_model(os.path.join(HERE, "xgb_regression.json"))
    rows = X[800:800 + ROWS]
    write_case("xgb_regression", rows, bst.inplace_predict(rows))


def make_xgb_multi():
    X, y = make_classification(n_samples=1500, n_features=10, n_informative=6, n_classes=3,
                               random_state=11)
    bst = train_xgb({"objective": "multi:softprob", "num_class": 3, "max_depth": 4},
                    X[:1000], y[:1000], 30)
    bst.save_model(os.path.join(HERE, "xgb_multi.json"))
    rows = X[1000:1000 + ROWS]
    write_case("xgb_multi", rows, bst.inplace_predict(rows))


def main():
    make_logistic()
    make_softmax()
    make_mlp()
    make_xgb_binary()
    make_xgb_regression()
    make_xgb_multi()


if __name__ == "__main__":
    main()
