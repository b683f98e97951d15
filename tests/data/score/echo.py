# Echo/sum: the plain Azure contract. Used by tests/unit/test_python_engine.c.
import json
import os
import time

state = {}


def init():
    state["model_dir"] = os.environ.get("AZUREML_MODEL_DIR")
    state["extra"] = os.environ.get("MLDECK_TEST_VAR")
    state["inits"] = state.get("inits", 0) + 1


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("sleep"):
        time.sleep(data["sleep"])
    rows = data.get("data", [])
    return {
        "sum": sum(sum(row) for row in rows),
        "echo": data,
        "model_dir": state["model_dir"],
        "extra": state["extra"],
        "pid": os.getpid(),
    }
