# A scikit-learn score.py for the linear model JSON of tests/data (coefficients, intercept,
# link logistic): {"data": [[f1, ...], ...]} -> [P(class 1) per row]. The model file is
# $AZUREML_MODEL_DIR/$MODEL_FILE (default logistic.json). The benchmark serves it through
# both Flask and mldeck's custom_model.
import json
import os

import numpy as np
from sklearn.linear_model import LogisticRegression

model = None


def init():
    global model
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], os.environ.get("MODEL_FILE", "logistic.json"))
    with open(path) as f:
        spec = json.load(f)
    coef = np.asarray(spec["coefficients"], dtype=np.float64).reshape(1, -1)
    model = LogisticRegression()
    model.coef_ = coef
    model.intercept_ = np.asarray([spec["intercept"]], dtype=np.float64).reshape(1)
    model.classes_ = np.array([0, 1])


def run(raw_data):
    rows = np.asarray(json.loads(raw_data)["data"], dtype=np.float64)
    return model.predict_proba(rows)[:, 1].tolist()
