# init() fails while the file named by $MLDECK_FAIL_MARKER exists; run() exits on request.
# Drives the replacement backoff: a worker that crashes and then cannot restart.
import json
import os


def init():
    marker = os.environ["MLDECK_FAIL_MARKER"]
    if os.path.exists(marker):
        raise RuntimeError("marker present: " + marker)


def run(raw_data):
    data = json.loads(raw_data)
    if "exit" in data:
        os._exit(data["exit"])
    return "fine"
