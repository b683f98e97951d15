# An Azure-style score.py for an XGBoost model file: {"data": [[f1, ...], ...]} -> one
# prediction per row (P(class 1) for binary:logistic). The model file is
# $AZUREML_MODEL_DIR/$MODEL_FILE (default xgb_binary.json). The benchmark serves this very
# file through both gunicorn + Flask and mldeck's custom_model.
import json
import os

import numpy as np
import xgboost as xgb

booster = None


def init():
    global booster
    path = os.path.join(os.environ["AZUREML_MODEL_DIR"], os.environ.get("MODEL_FILE", "xgb_binary.json"))
    booster = xgb.Booster()
    booster.load_model(path)
    booster.set_param({"nthread": 1})


def run(raw_data):
    rows = np.asarray(json.loads(raw_data)["data"], dtype=np.float64)
    return booster.inplace_predict(rows).astype(np.float64).tolist()
