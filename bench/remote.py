#!/usr/bin/python3
"""What an ssh:// profile costs the command line, against the same runtime
reached directly (http://127.0.0.1). A private sshd on 127.0.0.1
(tests/e2e/sshd.py) stands for the remote host, so the figures are the
transport's own costs without network latency.

Measures
  - `ssh HOST true`: the floor any ssh-based tool pays per connection here;
  - `mldeck endpoint list` wall time, direct and over ssh:// (each CLI call
    connects: master, credential over it, forward, health check);
  - `mldeck bench -c C -d S` throughput and latency, direct and over ssh://
    (one connection, then every request through the forwarded Unix socket).

Usage: bench/remote.py [--runs N] [--seconds S] [--connections C] [--bin PATH]
"""

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
from sshd import Sshd  # noqa: E402

MODEL = os.path.join(REPO, "tests", "data", "logistic.json")
REQUEST = os.path.join(REPO, "tests", "data", "logistic.input.json")


def timed(cmd, env):
    t0 = time.monotonic()
    r = subprocess.run(cmd, env=env, capture_output=True, text=True, timeout=120)
    if r.returncode != 0:
        raise SystemExit("%s failed: %s" % (" ".join(cmd), r.stderr))
    return (time.monotonic() - t0) * 1000.0, r.stdout


def summary(ms):
    ms = sorted(ms)
    return "median %.0f ms, p90 %.0f ms (%d runs)" % (statistics.median(ms),
                                                     ms[int(len(ms) * 0.9) - 1], len(ms))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--runs", type=int, default=10)
    ap.add_argument("--seconds", type=int, default=5)
    ap.add_argument("--connections", type=int, default=4)
    ap.add_argument("--bin", default=os.environ.get("MLDECK_BIN", os.path.join(REPO, "mldeck")))
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mlremote", dir="/tmp")
    home = os.path.join(tmp, "home")
    log = os.path.join(tmp, "serve.log")
    serve = subprocess.Popen([args.bin, "serve", "--listen", "127.0.0.1:0", "--home", home,
                              "--log", log])
    sshd = None
    try:
        deadline = time.monotonic() + 20
        url = None
        while url is None and time.monotonic() < deadline:
            time.sleep(0.05)
            m = re.search(r"listening on (http://[0-9.:]+)", open(log).read()) \
                if os.path.exists(log) else None
            url = m.group(1) if m else None
        sshd = Sshd().start()
        cfg = os.path.join(tmp, "cfg", "mldeck")
        os.makedirs(cfg)
        with open(os.path.join(cfg, "config.ini"), "w") as f:
            f.write("[profile direct]\nurl = %s\nhome = %s\n"
                    "[profile edge]\nurl = %s\nhome = %s\nremote_mldeck = %s\n"
                    % (url, home, sshd.url(), home, args.bin))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLDECK_")}
        env.update(PATH=sshd.wrapper_dir() + ":" + os.environ["PATH"],
                   XDG_CONFIG_HOME=os.path.join(tmp, "cfg"))
        cli = [args.bin, "-o", "json", "--profile"]
        for argv in (["model", "register", "logit", "--path", MODEL, "--type", "linear"],
                     ["env", "create", "native", "--native"], ["endpoint", "create", "bench-ep"],
                     ["deployment", "create", "bench-ep", "blue", "--model", "logit:1", "--env",
                      "native:1", "--all-traffic"]):
            timed(cli + ["direct"] + argv, env)
        floor = [timed([os.path.join(sshd.wrapper_dir(), "ssh"), "-o", "BatchMode=yes",
                        sshd.url(), "true"], env)[0] for _ in range(args.runs)]
        print("ssh HOST true:                  " + summary(floor))
        for profile in ("direct", "edge"):
            ms = [timed(cli + [profile, "endpoint", "list"], env)[0] for _ in range(args.runs)]
            print("endpoint list, %-7s         %s" % (profile + ":", summary(ms)))
        for profile in ("direct", "edge"):
            _, out = timed(cli + [profile, "bench", "bench-ep", "--request-file", REQUEST, "-c",
                                  str(args.connections), "-d", str(args.seconds)], env)
            r = json.loads(out)
            print("bench -c %d -d %d, %-6s %8.0f requests/s, p50 %.3f ms, p99 %.3f ms, "
                  "%d errors" % (args.connections, args.seconds, profile + ":",
                                 r["requestsPerSecond"], r["p50Ms"], r["p99Ms"], r["errors"]))
    finally:
        serve.terminate()
        serve.wait()
        if sshd:
            sshd.stop()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
