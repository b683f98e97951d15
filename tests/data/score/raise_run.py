# run() raises when asked to; otherwise answers "ok".
import json


def init():
    pass


def run(raw_data):
    if json.loads(raw_data).get("fail"):
        raise ValueError("boom from run")
    return "ok"
