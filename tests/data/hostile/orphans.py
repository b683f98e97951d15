# A score.py whose processes try to outlive it. Every process it makes writes
# its pid as a file name into $PID_DIR: "worker-PID" (init), "child-PID".
# run() forks two children that sleep for an hour: one calls setsid() first
# (out of the worker's process group and session), one stays in the group.
# {"hang": true} then hangs run() itself. HANG_INIT=1 hangs init() instead.
import json
import os
import time


def note(kind):
    open(os.path.join(os.environ["PID_DIR"], "%s-%d" % (kind, os.getpid())), "w").close()


def init():
    note("worker")
    if os.environ.get("HANG_INIT"):
        time.sleep(3600)


def spawn(setsid):
    pid = os.fork()
    if pid == 0:
        try:
            if setsid:
                os.setsid()
            note("child")
            time.sleep(3600)
        finally:
            os._exit(0)
    return pid


def run(raw_data):
    data = json.loads(raw_data)
    children = [spawn(True), spawn(False)]
    if data.get("hang"):
        time.sleep(3600)
    return {"worker": os.getpid(), "children": children}
