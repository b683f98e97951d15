"""A Flask app that serves one Azure-style score.py the way Azure ML's inference server does:
init() once when the worker starts, POST /score calls run(raw body) and answers json.dumps of
the result. The benchmark runs it under gunicorn (sync worker, 1 worker):

    SCORE_SCRIPT=/abs/score.py AZUREML_MODEL_DIR=/abs/dir MODEL_FILE=m.json \
        gunicorn -k sync -w 1 -b 127.0.0.1:PORT --chdir bench flask_app:app

GET / answers 200 (liveness, as Azure's server does)."""
import importlib.util
import json
import os
import sys

from flask import Flask, Response, request


def load_entry(path):
    """Imports the score.py as module entry_module (as Azure's server does) and calls init()."""
    sys.path.insert(0, os.path.dirname(path))
    spec = importlib.util.spec_from_file_location("entry_module", path)
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.init()
    return module


entry = load_entry(os.path.abspath(os.environ["SCORE_SCRIPT"]))
app = Flask(__name__)


@app.route("/", methods=["GET"])
def alive():
    return "Healthy"


@app.route("/score", methods=["POST"])
def score():
    try:
        result = entry.run(request.get_data(as_text=True))
    except Exception as e:  # Azure answers 500 with the message
        return Response(json.dumps({"message": str(e)}), status=500, mimetype="application/json")
    return Response(json.dumps(result), status=200, mimetype="application/json")
