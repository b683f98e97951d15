# run() takes its process down on request: {"exit": code} or {"segv": true}.
import ctypes
import json
import os


def init():
    pass


def run(raw_data):
    data = json.loads(raw_data)
    if "exit" in data:
        os._exit(data["exit"])
    if data.get("segv"):
        ctypes.string_at(0)
    return {"pid": os.getpid()}
