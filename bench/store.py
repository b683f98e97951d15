#!/usr/bin/python3
"""mldeck's control-plane write benchmark (issue 7, item 12). Not a test: it measures.

What a control-plane write costs as the workspace grows, and what it costs scoring:

  create     time to create 1,500 endpoints + 3,000 deployments, one client, one at a time
  write      median and p99 latency of PATCH onlineEndpoints/bench (traffic 60/40 <-> 40/60),
             one client in a loop, alone and while wrk scores
  scoring    wrk on POST /endpoints/bench/score (linear model, 1 row): requests/s and p99,
             alone and during the continuous PATCHes

at SIZES resources (endpoints + deployments besides the measured endpoint). The server is
pinned to core 0, wrk (one thread, 16 connections) and the PATCH client to core 1.

    /usr/bin/python3 bench/store.py                       # ./mldeck, sizes 0 and 5000
    /usr/bin/python3 bench/store.py --bin /tmp/old-mldeck --label old --out /tmp/old.json

Prints a table and, with --out, writes the raw figures as JSON. Needs wrk and taskset.
MLDECK_BIN or --bin names the binary; it is copied to a temp dir first.
"""
import argparse
import http.client
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
DATA = os.path.join(REPO, "tests", "data")
WS = ("/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices"
      "/workspaces/local")
SERVER_CPU, CLIENT_CPU = "0", "1"


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class Server:
    """One `mldeck serve` on a fresh home, driven over one keep-alive connection."""

    def __init__(self, binary, tmp):
        self.home = os.path.join(tmp, "home")
        self.out = open(os.path.join(tmp, "serve.log"), "wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, binary, "serve", "--listen", "127.0.0.1:0",
             "--home", self.home, "--log", os.path.join(tmp, "requests.log")],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)
        deadline = time.monotonic() + 30
        while True:
            with open(os.path.join(tmp, "requests.log"), "rb") if os.path.exists(
                    os.path.join(tmp, "requests.log")) else open(os.devnull, "rb") as f:
                m = re.search(rb"listening on http://([0-9.]+):([0-9]+)", f.read())
            if m:
                self.host, self.port = m.group(1).decode(), int(m.group(2))
                break
            if self.proc.poll() is not None or time.monotonic() > deadline:
                raise SystemExit("mldeck serve did not start")
            time.sleep(0.05)
        with open(os.path.join(self.home, "admin.key")) as f:
            self.admin = f.read().strip()
        self.conn = self.connect()

    def connect(self):
        return http.client.HTTPConnection(self.host, self.port, timeout=600)

    def call(self, method, path, body=None, conn=None, key=None):
        conn = conn or self.conn
        data = json.dumps(body).encode() if body is not None else None
        conn.request(method, WS + path if path.startswith("/") else path, body=data,
                     headers={"Authorization": "Bearer " + (key or self.admin),
                              "Content-Type": "application/json"})
        r = conn.getresponse()
        text = r.read()
        return r.status, (json.loads(text) if text else None)

    def ok(self, method, path, body=None):
        s, b = self.call(method, path, body)
        if s not in (200, 201):
            raise SystemExit("%s %s -> %d %s" % (method, path, s, b))
        return b

    def stop(self):
        self.proc.send_signal(signal.SIGTERM)
        try:
            self.proc.wait(60)
        except subprocess.TimeoutExpired:
            self.proc.kill()
            self.proc.wait()
        self.out.close()


def deployment(model="bench-model", env="bench-env"):
    return {"properties": {"model": "azureml:%s:1" % model, "environmentId": "azureml:%s:1" % env},
            "sku": {"capacity": 1}}


def setup_assets(srv):
    srv.ok("PUT", "/models/bench-model/versions/1",
           {"properties": {"modelUri": os.path.join(DATA, "logistic.json"),
                           "modelType": "linear"}})
    srv.ok("PUT", "/environments/bench-env/versions/1", {"properties": {"environmentKind": "native"}})
    srv.ok("PUT", "/onlineEndpoints/bench", {"properties": {"authMode": "Key"}})
    for d in ("blue", "green"):
        srv.ok("PUT", "/onlineEndpoints/bench/deployments/" + d, deployment())
    wait_succeeded(srv, "bench", "green")
    srv.ok("PATCH", "/onlineEndpoints/bench", {"properties": {"traffic": {"blue": 60, "green": 40}}})
    return srv.ok("POST", "/onlineEndpoints/bench/listKeys")["primaryKey"]


def wait_succeeded(srv, ep, name, timeout=600):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        _, d = srv.call("GET", "/onlineEndpoints/%s/deployments/%s" % (ep, name))
        if d["properties"]["provisioningState"] == "Succeeded":
            return
        time.sleep(0.1)
    raise SystemExit("deployment %s/%s did not come up" % (ep, name))


def populate(srv, size, timed=4500):
    """size resources as endpoints with two deployments each; returns the seconds the first
    `timed` of them (1,500 endpoints + 3,000 deployments) took, or None when size < timed."""
    t0, took, made, i = time.monotonic(), None, 0, 0
    last = None
    while made < size:
        ep = "f-%d" % i
        srv.ok("PUT", "/onlineEndpoints/" + ep, {"properties": {"authMode": "Key"}})
        made += 1
        for d in ("blue", "green"):
            if made < size:
                srv.ok("PUT", "/onlineEndpoints/%s/deployments/%s" % (ep, d), deployment())
                made += 1
                last = (ep, d)
            if made == timed and took is None:
                took = time.monotonic() - t0
                log("  created %d resources in %.1f s" % (timed, took))
        i += 1
        if i % 250 == 0:
            log("  %d resources (%.0f s)" % (made, time.monotonic() - t0))
    if last:
        wait_succeeded(srv, *last)
    return took


class Patcher(threading.Thread):
    """PATCHes the measured endpoint's traffic back and forth until stopped."""

    def __init__(self, srv, seconds):
        super().__init__()
        self.srv, self.seconds, self.lat = srv, seconds, []

    def run(self):
        os.sched_setaffinity(0, {int(CLIENT_CPU)})
        conn = self.srv.connect()
        end, i = time.monotonic() + self.seconds, 0
        while time.monotonic() < end:
            w = {"blue": 60, "green": 40} if i % 2 else {"blue": 40, "green": 60}
            t = time.perf_counter()
            s, b = self.srv.call("PATCH", "/onlineEndpoints/bench",
                                 {"properties": {"traffic": w}}, conn=conn)
            self.lat.append((time.perf_counter() - t) * 1000)
            if s != 200:
                raise SystemExit("PATCH -> %d %s" % (s, b))
            i += 1
        conn.close()


def write_stats(lat):
    lat = sorted(lat)
    return {"n": len(lat), "median_ms": round(statistics.median(lat), 3),
            "p99_ms": round(lat[min(len(lat) - 1, int(len(lat) * 0.99))], 3)}


def unit_ms(v, u):
    return float(v) * {"us": 0.001, "ms": 1.0, "s": 1000.0}[u]


def wrk(srv, key, seconds, body_file):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c16", "-d%ds" % seconds, "--latency",
           "-s", os.path.join(REPO, "bench", "wrk", "post.lua"),
           "http://%s:%d/endpoints/bench/score" % (srv.host, srv.port), "--", body_file, key]
    out = subprocess.run(cmd, capture_output=True, text=True, check=True).stdout
    rps = float(re.search(r"Requests/sec:\s+([0-9.]+)", out).group(1))
    p99 = re.search(r"\s99%\s+([0-9.]+)(us|ms|s)\b", out)
    bad = re.search(r"Non-2xx or 3xx responses: (\d+)", out)
    return {"rps": round(rps), "p99_ms": round(unit_ms(*p99.groups()), 3),
            "non2xx": int(bad.group(1)) if bad else 0}


def measure(binary, size, seconds, tmp):
    log("size %d:" % size)
    srv = Server(binary, tmp)
    try:
        key = setup_assets(srv)
        created = populate(srv, size)
        time.sleep(2)
        body = os.path.join(tmp, "body.json")
        with open(os.path.join(DATA, "logistic.input.json")) as f:
            rows = json.load(f)["data"][:1]
        with open(body, "w") as f:
            json.dump({"data": rows}, f)
        alone = Patcher(srv, seconds)
        alone.start()
        alone.join()
        quiet = wrk(srv, key, seconds, body)
        during = Patcher(srv, seconds + 1)
        during.start()
        busy = wrk(srv, key, seconds, body)
        during.join()
        r = {"size": size, "create_4500_s": None if created is None else round(created, 1),
             "write_alone": write_stats(alone.lat), "write_during_scoring": write_stats(during.lat),
             "scoring_alone": quiet, "scoring_during_writes": busy}
        log("  " + json.dumps(r))
        return r
    finally:
        srv.stop()


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--bin", default=os.environ.get("MLDECK_BIN", os.path.join(REPO, "mldeck")))
    ap.add_argument("--sizes", default="0,5000")
    ap.add_argument("--seconds", type=int, default=10)
    ap.add_argument("--label", default="this build")
    ap.add_argument("--out")
    a = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mldeck-store-bench-")
    try:
        binary = os.path.join(tmp, "mldeck")
        shutil.copy(a.bin, binary)
        results = []
        for size in (int(s) for s in a.sizes.split(",")):
            d = os.path.join(tmp, "size-%d" % size)
            os.mkdir(d)
            results.append(measure(binary, size, a.seconds, d))
    finally:
        shutil.rmtree(tmp, ignore_errors=True)
    doc = {"label": a.label, "load": os.getloadavg(), "results": results}
    print("| %s | resources | write median / p99 ms | write during scoring median / p99 ms | "
          "scoring req/s, p99 ms alone | during PATCHes | create 1,500 ep + 3,000 dep |" % a.label)
    print("|---|---|---|---|---|---|---|")
    for r in results:
        print("| | %d | %.2f / %.2f | %.2f / %.2f | %d, %.2f | %d, %.2f | %s |" % (
            r["size"], r["write_alone"]["median_ms"], r["write_alone"]["p99_ms"],
            r["write_during_scoring"]["median_ms"], r["write_during_scoring"]["p99_ms"],
            r["scoring_alone"]["rps"], r["scoring_alone"]["p99_ms"],
            r["scoring_during_writes"]["rps"], r["scoring_during_writes"]["p99_ms"],
            "%.1f s" % r["create_4500_s"] if r["create_4500_s"] is not None else "-"))
    if a.out:
        with open(a.out, "w") as f:
            json.dump(doc, f, indent=1)


if __name__ == "__main__":
    main()
