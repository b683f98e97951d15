#!/usr/bin/python3
"""What the console's per-second metrics poll costs on an ssh:// connection,
for ways of asking (issue 8): every endpoint's totals, only the rows on
screen (GET /v1/metrics?endpoints=...), and two variants that were measured
but not built (endpoints without requests left out; only the fields the
console shows), the last two by editing the real answers.

A runtime with N endpoints x 3 deployments and a light load on three of
them (bench/console.py's); each second every way is asked for, and each
answer that changed goes through its own zlib stream at level 6 with a sync
flush, as ssh's Compression=yes sends it. Prints raw and compressed bytes
per second.

Usage: bench/metrics_wire.py [--endpoints N] [--seconds S] [--rows R] [--bin PATH]
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import threading
import time
import urllib.request
import zlib

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import console  # noqa: E402 (bench/console.py: populate, light_load, wait_for)

KEEP = {"name", "requests", "errors", "errorRate", "rps", "p50", "p99", "series", "deployments"}


def omit_idle(doc):
    doc["endpoints"] = [e for e in doc["endpoints"] if e["requests"] or "series" in e]
    return doc


def compact(doc):
    def strip(o):
        for k in list(o):
            if k not in KEEP:
                del o[k]
        for d in o.get("deployments", []):
            strip(d)
    for e in doc["endpoints"]:
        strip(e)
    return doc


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoints", type=int, default=1000)
    ap.add_argument("--seconds", type=int, default=15)
    ap.add_argument("--rows", type=int, default=24, help="rows on screen")
    ap.add_argument("--bin", default=os.environ.get("MLDECK_BIN",
                                                     os.path.join(console.REPO, "mldeck")))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mldeck-wire-")
    log = os.path.join(tmp, "serve.log")
    serve = subprocess.Popen([args.bin, "serve", "--listen", "127.0.0.1:0", "--home",
                              os.path.join(tmp, "home"), "--log", log])
    stop = threading.Event()
    loader = None
    try:
        url = console.wait_for(lambda: re.findall(r"listening on (http://[0-9.:]+)",
                                                  open(log).read())
                               if os.path.exists(log) else None, 20)[0]
        key = open(os.path.join(tmp, "home", "admin.key")).read().strip()
        console.populate(url, key, args.endpoints)
        loader = threading.Thread(target=console.light_load,
                                  args=(url, key, stop, ["ep-0000", "ep-0001", "ep-0002"]))
        loader.start()
        time.sleep(3)
        rows = ",".join("ep-%04d" % i for i in range(args.rows))
        base = "/v1/metrics?window=60&summary=1&detail=ep-0000"
        ways = [("every endpoint (summary=1)", base, None),
                ("the rows on screen (endpoints=...)", base + "&endpoints=" + rows, None),
                ("  + endpoints without requests left out", base + "&endpoints=" + rows,
                 omit_idle),
                ("  + only the fields the console shows", base + "&endpoints=" + rows, compact),
                ("  + both", base + "&endpoints=" + rows, lambda d: compact(omit_idle(d)))]
        z = [zlib.compressobj(6) for _ in ways]
        raw, wire, last = [0] * len(ways), [0] * len(ways), [None] * len(ways)
        for _ in range(args.seconds):
            answers = {}
            for i, (_, path, edit) in enumerate(ways):
                if path not in answers:
                    rq = urllib.request.Request(url + path,
                                                headers={"Authorization": "Bearer " + key})
                    answers[path] = urllib.request.urlopen(rq).read()
                body = answers[path]
                if edit is not None:
                    body = json.dumps(edit(json.loads(body)), separators=(",", ":")).encode()
                if body != last[i]:
                    raw[i] += len(body)
                    wire[i] += len(z[i].compress(body) + z[i].flush(zlib.Z_SYNC_FLUSH))
                last[i] = body
            time.sleep(1)
        print("metrics poll, %d endpoints, %d rows on screen, %d s, load %.1f:"
              % (args.endpoints, args.rows, args.seconds, os.getloadavg()[0]))
        for i, (name, _, _) in enumerate(ways):
            print("  %-42s raw %8.0f B/s   through zlib %6.0f B/s"
                  % (name, raw[i] / args.seconds, wire[i] / args.seconds))
    finally:
        stop.set()
        if loader is not None:
            loader.join()
        serve.terminate()
        serve.wait()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
