# run() sleeps for {"sleep": seconds}; otherwise answers "awake".
import json
import time


def init():
    pass


def run(raw_data):
    seconds = json.loads(raw_data).get("sleep", 0)
    if seconds:
        time.sleep(seconds)
    return "awake"
