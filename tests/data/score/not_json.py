# run() returns a value json.dumps cannot encode when asked to.
import json


def init():
    pass


def run(raw_data):
    what = json.loads(raw_data).get("bad")
    if what == "set":
        return {1, 2, 3}
    if what == "nan":
        return float("nan")
    if what == "str":
        return "plain string"
    return [1, 2, 3]
