# The scoring script of Azure's safe-rollout sample (azureml-examples
# cli/endpoints/online/model-1/onlinescoring/score.py), its code unchanged: it
# reads a scikit-learn regression model from the model folder and predicts each
# row of {"data": [[...], ...]}.
import json
import logging
import os

import joblib
import numpy


def init():
    global model
    # AZUREML_MODEL_DIR holds the registered folder ("model") as Azure lays it out
    model_path = os.path.join(os.getenv("AZUREML_MODEL_DIR"), "model/sklearn_regression_model.pkl")
    model = joblib.load(model_path)
    logging.info("Init complete")


def run(raw_data):
    logging.info("model: request received")
    data = json.loads(raw_data)["data"]
    data = numpy.array(data)
    result = model.predict(data)
    logging.info("Request processed")
    return result.tolist()
