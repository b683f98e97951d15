# The scoring script mldeck runs for an MLflow model with a `sklearn` flavor
# deployed without one (Azure's "no-code deployment"). Embedded in the binary
# (runtime/engines/mlflow.c) and written next to nothing of the user's: the
# model is MLDECK_MLFLOW_MODEL_FILE, read with pickle (or cloudpickle when the
# flavor says so and it is installed).
#
# Input, as Azure's MLflow scoring server takes it:
#   {"input_data": {"columns": [...], "index": [...], "data": [[...], ...]}}
#   {"input_data": [[...], ...]}          {"data": [[...], ...]}
#   {"dataframe_split": {...}}  {"dataframe_records": [...]}  {"instances": [...]}
# Output: the predictions as a JSON list, one per row.
import json
import os
import pickle

model = None


def init():
    global model
    path = os.environ["MLDECK_MLFLOW_MODEL_FILE"]
    loader = pickle
    if os.environ.get("MLDECK_MLFLOW_SERIALIZATION") == "cloudpickle":
        try:
            import cloudpickle as loader
        except ImportError:
            pass
    with open(path, "rb") as f:
        model = loader.load(f)


def _frame(split):
    """A pandas DataFrame when there are column names and pandas, else rows."""
    rows = split.get("data", [])
    columns = split.get("columns")
    if columns:
        try:
            import pandas

            return pandas.DataFrame(rows, columns=columns, index=split.get("index"))
        except ImportError:
            pass
    return rows


def _rows(payload):
    if "input_data" in payload:
        d = payload["input_data"]
        return _frame(d) if isinstance(d, dict) else d
    if "dataframe_split" in payload:
        return _frame(payload["dataframe_split"])
    if "dataframe_records" in payload:
        import pandas

        return pandas.DataFrame(payload["dataframe_records"])
    for key in ("data", "instances", "inputs"):
        if key in payload:
            return payload[key]
    raise ValueError("the request has none of input_data, dataframe_split, "
                     "dataframe_records, data, instances, inputs")


def run(raw_data):
    rows = _rows(json.loads(raw_data))
    if isinstance(rows, list):
        import numpy

        rows = numpy.asarray(rows)
    out = model.predict(rows)
    return out.tolist() if hasattr(out, "tolist") else list(out)
