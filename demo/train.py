#!/usr/bin/python3
"""Trains the three demo models and writes sample request bodies.

    /usr/bin/python3 demo/train.py

Deterministic (fixed seeds, generated or bundled data, nothing downloaded). Writes:

    demo/models/digits-mlp.json      mlp: handwritten digits 8x8 (sklearn's load_digits),
                                     64 pixel features 0-16 -> 10 class probabilities
    demo/models/fraud-xgb.json       xgboost: binary:logistic, 50 trees of depth 4,
                                     20 transaction features -> fraud probability
    demo/models/churn-linear.json    linear (logistic link): 12 customer features
                                     -> churn probability
    demo/requests/{digits,fraud,churn}.json   {"data": [...]} with three rows each
    demo/data/churn-train.csv        the churn model's 3000 training rows (columns 0-11):
                                     the demo monitor's reference data, and the rows the
                                     demo's load draws from (docs/monitoring.md)

Register and serve, e.g.:
    mldeck model register churn --path demo/models/churn-linear.json --type linear
"""
import json
import os

import numpy as np
import xgboost as xgb
from sklearn.datasets import load_digits, make_classification
from sklearn.linear_model import LogisticRegression
from sklearn.neural_network import MLPClassifier
from sklearn.preprocessing import StandardScaler

HERE = os.path.dirname(os.path.abspath(__file__))


def write(rel, obj):
    with open(os.path.join(HERE, rel), "w") as f:
        json.dump(obj, f, separators=(",", ":"))
        f.write("\n")


def request(rel, rows):
    rows = np.round(np.asarray(rows, dtype=np.float64), 4).tolist()
    with open(os.path.join(HERE, rel), "w") as f:
        f.write('{"data": [\n  ' + ",\n  ".join(json.dumps(r) for r in rows) + "\n]}\n")


def digits():
    X, y = load_digits(return_X_y=True)
    scaler = StandardScaler().fit(X)
    clf = MLPClassifier(hidden_layer_sizes=(32,), max_iter=400, random_state=0)
    clf.fit(scaler.transform(X), y)
    acts = [clf.activation] * (len(clf.coefs_) - 1) + [clf.out_activation_]
    write("models/digits-mlp.json", {
        "input": {"mean": scaler.mean_.tolist(), "scale": scaler.scale_.tolist()},
        "layers": [{"weights": w.tolist(), "biases": b.tolist(), "activation": a}
                   for w, b, a in zip(clf.coefs_, clf.intercepts_, acts)]})
    request("requests/digits.json", X[[0, 1, 2]])


def fraud():
    X, y = make_classification(n_samples=5000, n_features=20, n_informative=8, n_redundant=4,
                               weights=[0.97, 0.03], flip_y=0.005, random_state=2024)
    params = {"objective": "binary:logistic", "max_depth": 4, "eta": 0.2, "seed": 0,
              "nthread": 1, "tree_method": "hist", "eval_metric": "auc"}
    bst = xgb.train(params, xgb.DMatrix(X, label=y), num_boost_round=50)
    bst.save_model(os.path.join(HERE, "models/fraud-xgb.json"))
    frauds = X[y == 1]
    fraud_row = frauds[int(np.argmax(bst.inplace_predict(frauds)))]
    request("requests/fraud.json", [X[0], X[1], fraud_row])


def churn():
    X, y = make_classification(n_samples=3000, n_features=12, n_informative=6, n_redundant=2,
                               weights=[0.8, 0.2], random_state=7)
    clf = LogisticRegression(max_iter=2000).fit(X, y)
    write("models/churn-linear.json", {"coefficients": clf.coef_[0].tolist(),
                                       "intercept": float(clf.intercept_[0]),
                                       "link": "logistic"})
    request("requests/churn.json", X[:3])
    os.makedirs(os.path.join(HERE, "data"), exist_ok=True)
    with open(os.path.join(HERE, "data/churn-train.csv"), "w") as f:
        f.write(",".join(str(i) for i in range(X.shape[1])) + "\n")
        for r in np.round(X, 4):
            f.write(",".join("%g" % v for v in r) + "\n")


if __name__ == "__main__":
    digits()
    fraud()
    churn()
