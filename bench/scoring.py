#!/usr/bin/python3
"""mldeck's scoring benchmark (issue 3, "Benchmark"). Not a test: it measures.

The same models served four ways on this machine, server pinned to core 0 and wrk to core 1,
keep-alive, 1-row and 100-row payloads:

  mldeck     mldeck serve, native engines (linear, xgboost)
  custom     mldeck serve, custom_model: the very score.py Flask runs, 1 Python worker
  flask      gunicorn (sync worker, 1 worker) + Flask running that score.py (bench/flask_app.py),
             the stack Azure ML's inference server uses
  nginx      nginx answering a fixed JSON body of the same size: the HTTP ceiling

Order: correctness gate (1,000 rows, all servers within 1e-6, abort otherwise), then RUNS runs
of wrk per model x payload x connections x server, then the rollout run (traffic 100/0 -> 0/100
in 10 steps under load, 0 failed requests allowed), then the one-thread micro-benchmarks
without HTTP (bench/xgbbench.c: the native XGBoost evaluator against libxgboost;
bench/numbench.c: numbers in and out). Results print as tables and go to docs/performance.md
(anything below the "<!-- notes -->" line of that file is kept). For mldeck the server's own
CPU time per request is recorded too (from /proc): it is what a shared machine disturbs least.

    /usr/bin/python3 bench/scoring.py            # full: 5 runs x 5 s each (~25 min)
    /usr/bin/python3 bench/scoring.py --quick    # smoke: 1 run x 2 s, no file written
    /usr/bin/python3 bench/scoring.py --micro-only --out -   # the micro-benchmarks alone

MLDECK_BIN names the binary (default ./mldeck); it is copied to a temp dir first so a
rebuild during the run does not change what is measured.
"""
import argparse
import datetime
import json
import os
import platform
import re
import shutil
import signal
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BENCH = os.path.join(REPO, "bench")
DATA = os.path.join(REPO, "tests", "data")
PY = "/usr/bin/python3"
WS = ("/subscriptions/x/resourceGroups/y/providers/Microsoft.MachineLearningServices"
      "/workspaces/local")
SERVER_CPU, CLIENT_CPU = "0", "1"
NOTES_MARK = "<!-- notes -->"

# model -> native type, model file, score.py (dir, file) shared by Flask and custom_model
MODELS = {
    "logistic": {"type": "linear", "file": "logistic.json",
                 "script": (os.path.join(DATA, "score"), "sklearn_logistic.py")},
    "xgboost": {"type": "xgboost", "file": "xgb_binary.json",
                "script": (BENCH, "score_xgb.py")},
}
SERVERS = ("mldeck", "custom", "flask", "nginx")
TARGETS = {"nginx": 0.8, "flask": {"logistic": 30.0, "xgboost": 15.0}, "custom": 1.0,
           "p99": 1.5,
           # issue 13: the native XGBoost evaluator and the numbers
           "xgb1_nginx": 0.8,        # XGBoost 1 row vs nginx, 16 and 64 connections
           "logistic100_gbs": 0.6,   # GB/s of 100-row request bodies scored end to end
           "xgb100_nginx": 0.08,     # XGBoost 100 rows vs nginx
           "row_us": 2.0,            # one row of the fraud model through the evaluator
           "batch_speedup": 3.0}     # 1,000,000 rows: native vs XGBoosterPredictFromDense


def log(*a):
    print(*a, file=sys.stderr, flush=True)


class BenchError(Exception):
    pass


# ---- processes ---------------------------------------------------------------------------

def free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_http(url, timeout=60.0, proc=None):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if proc is not None and proc.poll() is not None:
            raise BenchError("%s exited with %d" % (url, proc.returncode))
        try:
            with urllib.request.urlopen(url, timeout=2) as r:
                r.read()
                return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.05)
    raise BenchError("%s did not answer in %gs" % (url, timeout))


def stop(proc, timeout=15.0):
    if proc is None or proc.poll() is not None:
        return
    proc.send_signal(signal.SIGTERM)
    try:
        proc.wait(timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        proc.wait()


class Mldeck:
    """One `mldeck serve` pinned to the server core, driven with raw HTTP."""

    def __init__(self, binary, tmp):
        self.home = os.path.join(tmp, "home")
        self.logpath = os.path.join(tmp, "mldeck.out")
        self.reqlog = os.path.join(tmp, "mldeck-requests.log")
        self.out = open(self.logpath, "wb")
        self.proc = subprocess.Popen(
            ["taskset", "-c", SERVER_CPU, binary, "serve", "--listen", "127.0.0.1:0",
             "--home", self.home, "--log", self.reqlog],
            stdin=subprocess.DEVNULL, stdout=self.out, stderr=self.out)
        deadline = time.monotonic() + 20
        self.url = None
        while time.monotonic() < deadline and self.url is None:
            text = b""
            for path in (self.logpath, self.reqlog):
                if os.path.exists(path):
                    with open(path, "rb") as f:
                        text += f.read()
            m = re.search(rb"listening on (http://[0-9.:]+)", text)
            if m:
                self.url = m.group(1).decode()
            elif self.proc.poll() is not None:
                raise BenchError("mldeck serve exited: " + open(self.logpath).read())
            else:
                time.sleep(0.02)
        if self.url is None:
            stop(self.proc)
            raise BenchError("mldeck serve did not start")
        with open(os.path.join(self.home, "admin.key")) as f:
            self.admin = f.read().strip()
        self.keys = {}

    def http(self, method, path, body=None, key=None, headers=None, timeout=60):
        if path.startswith("ws:"):
            path = WS + path[3:]
        data = body if isinstance(body, bytes) or body is None else json.dumps(body).encode()
        h = {"Content-Type": "application/json",
             "Authorization": "Bearer " + (key or self.admin)}
        h.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=h)
        try:
            with urllib.request.urlopen(req, timeout=timeout) as r:
                status, text = r.status, r.read()
        except urllib.error.HTTPError as e:
            status, text = e.code, e.read()
        try:
            return status, json.loads(text) if text else None
        except ValueError:
            return status, text.decode(errors="replace")

    def put(self, path, body):
        s, b = self.http("PUT", path, body)
        if s not in (200, 201):
            raise BenchError("PUT %s -> %d %s" % (path, s, b))
        return b

    def deploy(self, ep, name, model, env, concurrent, script=None, variables=None):
        props = {"model": "azureml:%s:1" % model, "environmentId": "azureml:%s:1" % env,
                 "requestSettings": {"maxConcurrentRequestsPerInstance": concurrent,
                                     "requestTimeout": "PT60S"}}
        if script:
            props["codeConfiguration"] = {"codeId": script[0], "scoringScript": script[1]}
        if variables:
            props["environmentVariables"] = variables
        self.put("ws:/onlineEndpoints/%s/deployments/%s" % (ep, name),
                 {"properties": props, "sku": {"capacity": 1}})
        deadline = time.monotonic() + 300
        while time.monotonic() < deadline:
            s, d = self.http("GET", "ws:/onlineEndpoints/%s/deployments/%s" % (ep, name))
            state = d["properties"]["provisioningState"] if s == 200 else None
            if state == "Succeeded":
                return
            if state == "Failed":
                raise BenchError("deployment %s/%s failed: %s" % (ep, name, d["properties"]))
            time.sleep(0.1)
        raise BenchError("deployment %s/%s still provisioning" % (ep, name))

    def traffic(self, ep, weights):
        s, b = self.http("PATCH", "ws:/onlineEndpoints/" + ep,
                         {"properties": {"traffic": weights}})
        if s != 200:
            raise BenchError("PATCH traffic %s -> %d %s" % (weights, s, b))

    def endpoint(self, ep, deployments, weights):
        """deployments: name -> (model, env, concurrent, script, variables)."""
        self.put("ws:/onlineEndpoints/" + ep, {"properties": {"authMode": "Key"}})
        for name, spec in deployments.items():
            self.deploy(ep, name, *spec)
        self.traffic(ep, weights)
        s, b = self.http("POST", "ws:/onlineEndpoints/%s/listKeys" % ep)
        if s != 200:
            raise BenchError("listKeys %s -> %d %s" % (ep, s, b))
        self.keys[ep] = b["primaryKey"]

    def setup(self):
        self.put("ws:/environments/native/versions/1",
                 {"properties": {"environmentKind": "native"}})
        self.put("ws:/environments/python/versions/1",
                 {"properties": {"environmentKind": "python", "interpreterPath": PY}})
        for m, spec in MODELS.items():
            path = os.path.join(DATA, spec["file"])
            self.put("ws:/models/%s/versions/1" % m,
                     {"properties": {"modelType": spec["type"], "modelUri": path}})
            self.put("ws:/models/%s-py/versions/1" % m,
                     {"properties": {"modelType": "custom_model", "modelUri": path}})
            self.endpoint(m, {"blue": (m, "native", 64, None, None)}, {"blue": 100})
            # 1 Python worker (WORKER_COUNT 1), as gunicorn's 1 sync worker; like Azure,
            # up to maxConcurrentRequestsPerInstance requests wait for it
            self.endpoint(m + "-py", {"blue": (m + "-py", "python", 64, spec["script"],
                                               {"MODEL_FILE": spec["file"],
                                                "WORKER_COUNT": "1"})}, {"blue": 100})
        self.endpoint("rollout", {"blue": ("logistic", "native", 64, None, None),
                                  "green": ("xgboost", "native", 64, None, None)},
                      {"blue": 100, "green": 0})

    def score_url(self, ep):
        return "%s/endpoints/%s/score" % (self.url, ep)

    def close(self):
        stop(self.proc)
        self.out.close()


def start_flask(model, tmp):
    spec = MODELS[model]
    port = free_port()
    env = dict(os.environ, SCORE_SCRIPT=os.path.join(*spec["script"]), AZUREML_MODEL_DIR=DATA,
               MODEL_FILE=spec["file"], PYTHONUNBUFFERED="1")
    out = open(os.path.join(tmp, "gunicorn-%s.out" % model), "wb")
    proc = subprocess.Popen(
        ["taskset", "-c", SERVER_CPU, PY, "-m", "gunicorn", "-k", "sync", "-w", "1",
         "-b", "127.0.0.1:%d" % port, "--chdir", BENCH, "--timeout", "120",
         "--backlog", "2048", "flask_app:app"],
        env=env, stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/", proc=proc)
    return proc, url


def start_nginx(tmp, answers):
    d = os.path.join(tmp, "nginx")
    os.makedirs(d)
    port = free_port()
    with open(os.path.join(BENCH, "nginx.conf.in")) as f:
        conf = f.read()
    for k, v in (("@DIR@", d), ("@PORT@", str(port)), ("@BODY_1@", answers[1]),
                 ("@BODY_100@", answers[100])):
        conf = conf.replace(k, v)
    with open(os.path.join(d, "nginx.conf"), "w") as f:
        f.write(conf)
    proc = subprocess.Popen(["taskset", "-c", SERVER_CPU, "nginx", "-p", d, "-e",
                             os.path.join(d, "error.log"), "-c", os.path.join(d, "nginx.conf")],
                            stdin=subprocess.DEVNULL)
    url = "http://127.0.0.1:%d" % port
    wait_http(url + "/", proc=proc)
    return proc, url


# ---- data ------------------------------------------------------------------------------

def make_rows(n):
    """Rows of the models' own 30-feature problem (tests/data/make_models.py's bench_data),
    the held-out part first; deterministic."""
    from sklearn.datasets import make_classification
    X, _ = make_classification(n_samples=4000, n_features=30, n_informative=12,
                               n_redundant=6, random_state=42)
    order = list(range(3000, 4000)) + list(range(3000))
    return [X[i].tolist() for i in order[:n]]


def post(url, body, key=None, timeout=120):
    h = {"Content-Type": "application/json"}
    if key:
        h["Authorization"] = "Bearer " + key
    req = urllib.request.Request(url, data=body, method="POST", headers=h)
    try:
        with urllib.request.urlopen(req, timeout=timeout) as r:
            return r.status, r.read().decode()
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode(errors="replace")


def gate(md, flask_urls, rows, tol=1e-6):
    """Scores all rows on every server of every model; raises unless all agree within tol."""
    body = json.dumps({"data": rows}).encode()
    report = {}
    for m in MODELS:
        answers = {}
        for name, url, key in (("mldeck", md.score_url(m), md.keys[m]),
                               ("custom", md.score_url(m + "-py"), md.keys[m + "-py"]),
                               ("flask", flask_urls[m] + "/score", None)):
            s, text = post(url, body, key)
            if s != 200:
                raise BenchError("gate: %s %s answered %d: %s" % (m, name, s, text[:300]))
            got = json.loads(text)
            if len(got) != len(rows):
                raise BenchError("gate: %s %s gave %d answers for %d rows"
                                 % (m, name, len(got), len(rows)))
            answers[name] = got
        worst = 0.0
        for a in ("mldeck", "custom"):
            worst = max(worst, max(abs(x - y) for x, y in zip(answers[a], answers["flask"])))
        report[m] = worst
        log("gate %-8s %d rows: max |difference| between servers %.3g" % (m, len(rows), worst))
        if worst > tol:
            raise BenchError("gate: %s servers disagree by %.3g > %g" % (m, worst, tol))
    return report


# ---- wrk -------------------------------------------------------------------------------

UNITS = {"us": 1e-3, "ms": 1.0, "s": 1e3, "m": 60e3}


def ms(text):
    m = re.match(r"([0-9.]+)([a-z]+)", text)
    return float(m.group(1)) * UNITS[m.group(2)]


def parse_wrk(out, duration):
    def num(pattern, default=0.0):
        m = re.search(pattern, out)
        return float(m.group(1)) if m else default

    total = int(num(r"(\d+) requests in"))
    secs = num(r"requests in ([0-9.]+)s", duration)
    non2xx = int(num(r"Non-2xx or 3xx responses: (\d+)"))
    m = re.search(r"Socket errors: connect (\d+), read (\d+), write (\d+), timeout (\d+)", out)
    errors = dict(zip(("connect", "read", "write", "timeout"),
                      map(int, m.groups()))) if m else {}
    p = {q: ms(v) for q, v in re.findall(r"^\s+(50|90|99)%\s+(\S+)", out, re.M)}
    return {"requests": total, "seconds": secs, "non2xx": non2xx, "errors": errors,
            "rps": (total - non2xx) / secs if secs else 0.0,
            "p50": p.get("50"), "p99": p.get("99")}


def wrk(url, body_file, key, conns, duration, extra=()):
    cmd = ["taskset", "-c", CLIENT_CPU, "wrk", "-t1", "-c%d" % conns, "-d%gs" % duration,
           "--latency", "--timeout", "10s", "-s", os.path.join(BENCH, "wrk", "post.lua"),
           url, "--", body_file, key or ""] + list(extra)
    r = subprocess.run(cmd, capture_output=True, text=True, timeout=duration + 60)
    if r.returncode != 0:
        raise BenchError("wrk failed: %s\n%s" % (r.stderr, r.stdout))
    return parse_wrk(r.stdout, duration), r.stdout


def cpu_seconds(pid):
    """User + system CPU time a process has used, from /proc (None when unknown)."""
    try:
        with open("/proc/%d/stat" % pid) as f:
            fields = f.read().rsplit(")", 1)[1].split()
        return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")
    except (OSError, ValueError, IndexError):
        return None


def series(target, body_file, key, conns, args, pid=None):
    """One warm-up run then args.runs measured runs: median, min, max; with pid, the
    server's CPU time per request (median of the runs, in microseconds)."""
    wrk(target, body_file, key, conns, min(1.0, args.duration))
    runs, cpu = [], []
    for _ in range(args.runs):
        c0 = cpu_seconds(pid) if pid else None
        r = wrk(target, body_file, key, conns, args.duration)[0]
        c1 = cpu_seconds(pid) if pid else None
        if c0 is not None and c1 is not None and r["requests"]:
            cpu.append((c1 - c0) / r["requests"] * 1e6)
        runs.append(r)
    rps = [r["rps"] for r in runs]
    p99 = [r["p99"] for r in runs if r["p99"] is not None]
    return {"rps": statistics.median(rps), "rps_min": min(rps), "rps_max": max(rps),
            "p99": statistics.median(p99) if p99 else None,
            "cpu_us": statistics.median(cpu) if cpu else None,
            "non2xx": sum(r["non2xx"] for r in runs),
            "errors": sum(sum(r["errors"].values()) for r in runs), "runs": runs}


# ---- rollout ---------------------------------------------------------------------------

def rollout(md, body_file, conns, duration):
    """wrk at full load on endpoint "rollout" while traffic moves 100/0 -> 0/100 in 10 steps."""
    result = {}

    def load():
        result["wrk"], result["out"] = wrk(md.score_url("rollout"), body_file,
                                           md.keys["rollout"], conns, duration)

    t = threading.Thread(target=load)
    t.start()
    time.sleep(min(1.0, duration / 10))
    step_gap = (duration * 0.8) / 10
    steps = []
    for i in range(1, 11):
        w = {"blue": 100 - 10 * i, "green": 10 * i}
        t0 = time.monotonic()
        md.traffic("rollout", w)
        steps.append(time.monotonic() - t0)
        time.sleep(step_gap)
    t.join(duration + 90)
    s, m = md.http("GET", "/v1/metrics?window=%d" % int(duration + 30))
    per = {}
    if s == 200:
        for e in m.get("endpoints", []):
            if e.get("name") == "rollout":
                per = {d["name"]: d.get("requests") for d in e.get("deployments", [])}
    r = result["wrk"]
    return {"requests": r["requests"], "non2xx": r["non2xx"], "errors": r["errors"],
            "rps": r["rps"], "per_deployment": per, "patch_ms_max": max(steps) * 1e3,
            "conns": conns, "duration": duration}


# ---- report ----------------------------------------------------------------------------

def fmt_rps(s):
    return "%.0f (%.0f-%.0f)" % (s["rps"], s["rps_min"], s["rps_max"])


def fmt_ms(v):
    return "-" if v is None else ("%.2f" % v if v < 10 else "%.1f" % v)


def ratio(a, b):
    return a / b if b else float("inf")


def tables(res, args):
    lines = ["| model | rows | conns | mldeck req/s | mldeck CPU us/req | custom_model req/s | "
             "Flask req/s | nginx req/s | p99 ms mldeck / custom / Flask / nginx | "
             "mldeck/nginx | mldeck/Flask | custom/Flask |",
             "|---|---|---|---|---|---|---|---|---|---|---|---|"]
    for key, r in res.items():
        m, rows, c = key
        cpu = r["mldeck"].get("cpu_us")
        lines.append("| %s | %d | %d | %s | %s | %s | %s | %s | %s / %s / %s / %s | %.2f | %.1f | %.2f |" % (
            m, rows, c, fmt_rps(r["mldeck"]), "-" if cpu is None else "%.1f" % cpu,
            fmt_rps(r["custom"]), fmt_rps(r["flask"]),
            fmt_rps(r["nginx"]), fmt_ms(r["mldeck"]["p99"]), fmt_ms(r["custom"]["p99"]),
            fmt_ms(r["flask"]["p99"]), fmt_ms(r["nginx"]["p99"]),
            ratio(r["mldeck"]["rps"], r["nginx"]["rps"]),
            ratio(r["mldeck"]["rps"], r["flask"]["rps"]),
            ratio(r["custom"]["rps"], r["flask"]["rps"])))
    return lines


def checks(res, micro=None, body_bytes=None):
    """Each target per configuration: (ok, text)."""
    out = []

    def add(ok, what, got, want, at_most=False):
        miss = "" if ok else " (missed by %.0f%%)" % (100 * abs(want - got) / want)
        out.append((ok, "%s: %.2f, target %s %.2f%s" % (
            what, got, "<=" if at_most or what.startswith("p99") else ">=", want, miss)))

    for (m, rows, c), r in res.items():
        tag = "%s %d row%s %d conn%s" % (m, rows, "s"[:rows > 1], c, "s"[:c > 1])
        md, fl, ng, cu = r["mldeck"], r["flask"], r["nginx"], r["custom"]
        if m == "logistic":
            x = ratio(md["rps"], ng["rps"])
            add(x >= TARGETS["nginx"], "mldeck/nginx req/s, " + tag, x, TARGETS["nginx"])
        x = ratio(md["rps"], fl["rps"])
        add(x >= TARGETS["flask"][m], "mldeck/Flask req/s, " + tag, x, TARGETS["flask"][m])
        x = ratio(cu["rps"], fl["rps"])
        add(x >= TARGETS["custom"], "custom_model/Flask req/s, " + tag, x, TARGETS["custom"])
        if c == 1 and md["p99"] and ng["p99"]:
            x = md["p99"] / ng["p99"]
            add(x <= TARGETS["p99"], "p99 mldeck/nginx, " + tag, x, TARGETS["p99"])
        if c == 1:
            continue
        if m == "xgboost" and rows == 1:
            x = ratio(md["rps"], ng["rps"])
            add(x >= TARGETS["xgb1_nginx"], "issue 13: mldeck/nginx req/s, " + tag, x,
                TARGETS["xgb1_nginx"])
        if m == "xgboost" and rows == 100:
            x = ratio(md["rps"], ng["rps"])
            add(x >= TARGETS["xgb100_nginx"], "issue 13: mldeck/nginx req/s, " + tag, x,
                TARGETS["xgb100_nginx"])
        if m == "logistic" and rows == 100 and body_bytes:
            x = md["rps"] * body_bytes[100] / 1e9
            add(x >= TARGETS["logistic100_gbs"], "issue 13: GB/s of request body, " + tag, x,
                TARGETS["logistic100_gbs"])
    out += micro_checks(micro)
    return out


def micro_checks(micro):
    """The micro-benchmark aims: (ok, text)."""
    out = []
    cells = {c["cell"]: c for c in (micro or {}).get("xgb", [])}
    if "row" in cells:
        us = cells["row"]["native_cpu"] * 1e6
        ok = us <= TARGETS["row_us"]
        out.append((ok, "issue 13: one row of the fraud model through the native evaluator: "
                        "%.2f us, target <= %.2f us%s" % (
                            us, TARGETS["row_us"], "" if ok else " (missed)")))
    if "batch" in cells:
        x = cells["batch"]["libxgboost_cpu"] / cells["batch"]["native_cpu"]
        ok = x >= TARGETS["batch_speedup"]
        out.append((ok, "issue 13: batch of %s rows, native vs libxgboost (one thread): "
                        "%.2fx, target >= %.2fx%s" % (
                            micro.get("batch_rows", "?"), x, TARGETS["batch_speedup"],
                            "" if ok else " (missed)")))
    return out


def micro(args):
    """Builds and runs bench/xgbbench.c and bench/numbench.c; their tables and results."""
    build = os.path.join(REPO, "build", "bench")
    r = subprocess.run(["make", "-s", "-C", REPO, "bench-xgb", "bench-num"],
                       capture_output=True, text=True)
    if r.returncode != 0:
        raise BenchError("make bench-xgb bench-num failed:\n" + r.stdout + r.stderr)
    reps = ["--reps", "3"] if args.quick else []
    batch = ["--batch", "100000"] if args.quick else []
    jpath = os.path.join(tempfile.gettempdir(), "mldeck-xgbbench-%d.json" % os.getpid())
    load0 = os.getloadavg()[0]
    cmds = {"xgb": [os.path.join(build, "xgbbench"), "--json", jpath] + reps + batch,
            "num": [os.path.join(build, "numbench")] + reps}
    out = {"load_start": load0}
    for k, cmd in cmds.items():
        log("running %s ..." % " ".join(cmd))
        r = subprocess.run(cmd, capture_output=True, text=True, cwd=REPO, timeout=3600)
        if r.returncode != 0:
            raise BenchError("%s failed:\n%s" % (cmd[0], r.stderr))
        out[k + "_table"] = r.stdout.strip().splitlines()
    with open(jpath) as f:
        out["xgb"] = json.load(f)
    os.unlink(jpath)
    out["batch_rows"] = "100,000" if args.quick else "1,000,000"
    out["load_end"] = os.getloadavg()[0]
    return out


def non2xx_lines(res):
    lines = []
    for (m, rows, c), r in res.items():
        for s in SERVERS:
            if r[s]["non2xx"] or r[s]["errors"]:
                lines.append("- %s %d rows %d conns, %s: %d non-2xx answers, %d socket errors "
                             "(over all runs; req/s above counts 2xx only)"
                             % (m, rows, c, s, r[s]["non2xx"], r[s]["errors"]))
    return lines


def machine():
    cpu = ""
    try:
        with open("/proc/cpuinfo") as f:
            m = re.search(r"model name\s*:\s*(.*)", f.read())
            cpu = m.group(1) if m else ""
    except OSError:
        pass
    return "%s, %d cores, %s %s" % (cpu, os.cpu_count(), platform.system(), platform.release())


def versions():
    def first(cmd):
        try:
            r = subprocess.run(cmd, capture_output=True, text=True, timeout=10)
            return (r.stdout + r.stderr).strip().splitlines()[0]
        except (OSError, IndexError, subprocess.SubprocessError):
            return "?"
    import flask
    import sklearn
    import xgboost
    return "; ".join([first(["wrk", "-v"]).split(" Copyright")[0], first(["nginx", "-v"]),
                      "gunicorn " + first([PY, "-m", "gunicorn", "--version"]).split()[-1].strip("()"),
                      "Flask " + flask.__version__, "xgboost " + xgboost.__version__,
                      "scikit-learn " + sklearn.__version__, "Python " + platform.python_version()])


def write_doc(path, res, gate_report, roll, args, elapsed, mic=None, body_bytes=None):
    notes = ""
    if os.path.exists(path):
        with open(path) as f:
            text = f.read()
        if NOTES_MARK in text:
            notes = text[text.index(NOTES_MARK):]
    ck = checks(res, mic, body_bytes)
    missed = [t for ok, t in ck if not ok]
    cmd = "/usr/bin/python3 bench/scoring.py" + (
        "" if (args.runs, args.duration) == (5, 5.0) else
        " --runs %d --duration %g" % (args.runs, args.duration))
    doc = ["# Scoring performance", "",
           "Generated by `bench/scoring.py` (see bench/README.md). Do not edit above the notes "
           "marker: the next run rewrites it.", "",
           "- Command: `%s`" % cmd,
           "- Date: %s; %d runs of %g s per cell (after a warm-up run), wall time %.0f min" % (
               datetime.datetime.now().strftime("%Y-%m-%d %H:%M"), args.runs, args.duration,
               elapsed / 60),
           "- Machine: %s; server pinned to core %s, wrk (1 thread) to core %s; keep-alive "
           "(gunicorn's sync worker closes every connection, as it does under Azure)" % (
               machine(), SERVER_CPU, CLIENT_CPU),
           "- Versions: %s" % versions(),
           "- Load average (1 min) at start / end: %.2f / %.2f. The machine is shared: other "
           "processes running during the benchmark take CPU from the server core and add "
           "noise (see the min-max spread); mldeck's CPU time per request (from /proc) is "
           "what such load disturbs least." % (args.load_start, os.getloadavg()[0]),
           "- mldeck: native engines with maxConcurrentRequestsPerInstance 64; custom_model with "
           "1 Python worker (capacity 1, WORKER_COUNT 1, maxConcurrentRequestsPerInstance 64: "
           "requests wait for the worker as they do in Azure) running the very "
           "score.py that gunicorn + Flask (1 sync worker) runs: tests/data/score/"
           "sklearn_logistic.py and bench/score_xgb.py; nginx answers a fixed JSON body equal "
           "to mldeck's answer for the payload.", "",
           "## Correctness gate", "",
           "1,000 rows scored by mldeck (native), mldeck custom_model and gunicorn + Flask:"]
    for m, worst in gate_report.items():
        doc.append("- %s: largest difference between servers %.3g (limit 1e-6): passed" % (m, worst))
    doc += ["", "## Throughput and latency", "",
            "Requests/s: median of the runs (min-max), 2xx answers only. p99: median of the "
            "runs' wrk p99 in ms. Ratios use the medians.", ""]
    doc += tables(res, args)
    nl = non2xx_lines(res)
    if nl:
        doc += ["", "Non-2xx answers and socket errors:", ""] + nl
    if mic:
        doc += ["", "## The evaluator and the numbers, one thread, no HTTP", "",
                "`build/bench/xgbbench` (bench/xgbbench.c: the native XGBoost evaluator against "
                "libxgboost's `XGBoosterPredictFromDense` on the same rows; `make bench-xgb`) and "
                "`build/bench/numbench` (bench/numbench.c: numbers in and out; `make bench-num`), "
                "run by the same command; thread CPU time, median of the repetitions (wall clock "
                "in brackets). Load average (1 min) before / after: %.2f / %.2f." % (
                    mic["load_start"], mic["load_end"]), ""]
        doc += mic["xgb_table"] + [""] + mic["num_table"]
    doc += ["", "## Targets", "",
            "%d of %d checks met." % (len(ck) - len(missed), len(ck)), ""]
    doc += ["- %s %s" % ("met:" if ok else "**MISSED:**", t) for ok, t in ck]
    doc += ["", "## Rollout under load", ""]
    if roll:
        doc.append("wrk with %d connections for %g s on endpoint `rollout` (blue = logistic, "
                   "green = xgboost, both native, 1-row payload) while traffic moved 100/0 -> "
                   "0/100 in 10 PATCH steps: %d requests, %.0f req/s, **%d non-2xx answers, %d "
                   "socket errors** (target 0). Requests per deployment (from /v1/metrics): %s. "
                   "Slowest PATCH: %.1f ms." % (
                       roll["conns"], roll["duration"], roll["requests"], roll["rps"],
                       roll["non2xx"], sum(roll["errors"].values()), json.dumps(roll["per_deployment"]),
                       roll["patch_ms_max"]))
    else:
        doc.append("Not run.")
    doc.append("")
    with open(path, "w") as f:
        f.write("\n".join(doc) + "\n")
        f.write(notes if notes else NOTES_MARK + "\n\n## Notes\n\n(none yet)\n")


# ---- main ------------------------------------------------------------------------------

def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--runs", type=int, default=5, help="measured wrk runs per cell (5)")
    ap.add_argument("--duration", type=float, default=5.0, help="seconds per wrk run (5)")
    ap.add_argument("--conns", default="1,16,64", help="connection counts (1,16,64)")
    ap.add_argument("--payloads", default="1,100", help="rows per request (1,100)")
    ap.add_argument("--models", default="logistic,xgboost")
    ap.add_argument("--rollout-duration", type=float, default=10.0)
    ap.add_argument("--no-rollout", action="store_true")
    ap.add_argument("--quick", action="store_true",
                    help="smoke check: 1 run of 2 s per cell, rollout 4 s, writes no doc")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "performance.md"),
                    help="markdown report (full runs only; '-' for none)")
    ap.add_argument("--keep", action="store_true", help="keep the temp dir")
    ap.add_argument("--no-micro", action="store_true",
                    help="skip the one-thread micro-benchmarks (bench/xgbbench, numbench)")
    ap.add_argument("--micro-only", action="store_true",
                    help="only the micro-benchmarks (prints their tables and checks)")
    args = ap.parse_args()
    if args.micro_only:
        try:
            mic = micro(args)
        except BenchError as e:
            log("bench: ABORTED: %s" % e)
            return 1
        print("\n".join(mic["xgb_table"] + [""] + mic["num_table"]))
        for ok, t in micro_checks(mic):
            print(("met:    " if ok else "MISSED: ") + t)
        return 0
    if args.quick:
        args.runs, args.duration, args.rollout_duration = 1, 2.0, 4.0
    conns = [int(c) for c in args.conns.split(",")]
    payloads = [int(p) for p in args.payloads.split(",")]
    models = args.models.split(",")
    for t in ("wrk", "nginx", "taskset"):
        if shutil.which(t) is None:
            raise SystemExit("missing %s (apt-get install wrk nginx-light util-linux)" % t)
    if os.cpu_count() < 2:
        raise SystemExit("needs 2 cores (server on core 0, wrk on core 1)")

    binary = os.environ.get("MLDECK_BIN", os.path.join(REPO, "mldeck"))
    if not os.access(binary, os.X_OK):
        raise SystemExit("no mldeck binary at %s (make, or set MLDECK_BIN)" % binary)
    t_start = time.monotonic()
    args.load_start = os.getloadavg()[0]
    tmp = tempfile.mkdtemp(prefix="mldeck-bench-")
    procs, md = [], None
    try:
        shutil.copy2(binary, os.path.join(tmp, "mldeck"))
        rows = make_rows(1000)
        bodies = {}
        for n in payloads:
            bodies[n] = os.path.join(tmp, "body%d.json" % n)
            with open(bodies[n], "w") as f:
                json.dump({"data": rows[:n]}, f, separators=(",", ":"))

        log("starting mldeck (%s) and deploying ..." % binary)
        md = Mldeck(os.path.join(tmp, "mldeck"), tmp)
        md.setup()
        flask = {}
        for m in MODELS:
            p, url = start_flask(m, tmp)
            procs.append(p)
            flask[m] = (p, url)
        gate_report = gate(md, {m: u for m, (_, u) in flask.items()}, rows)
        answers = {}
        for n in (1, 100):
            s, text = post(md.score_url("logistic"),
                           json.dumps({"data": rows[:n]}).encode(), md.keys["logistic"])
            answers[n] = text
        ng, ng_url = start_nginx(tmp, answers)
        procs.append(ng)

        res = {}
        for m in models:
            for n in payloads:
                for c in conns:
                    cell = {}
                    targets = {"mldeck": (md.score_url(m), md.keys[m]),
                               "custom": (md.score_url(m + "-py"), md.keys[m + "-py"]),
                               "flask": (flask[m][1] + "/score", None),
                               "nginx": ("%s/score%d" % (ng_url, n), None)}
                    for s in SERVERS:
                        if s == "nginx" and m != models[0]:
                            cell[s] = res[(models[0], n, c)]["nginx"]
                            continue
                        cell[s] = series(targets[s][0], bodies[n], targets[s][1], c, args,
                                         md.proc.pid if s == "mldeck" else None)
                        log("%-8s %3d rows %2d conns %-6s %8.0f req/s (%.0f-%.0f) p99 %s ms%s" % (
                            m, n, c, s, cell[s]["rps"], cell[s]["rps_min"], cell[s]["rps_max"],
                            fmt_ms(cell[s]["p99"]),
                            "  non-2xx %d errors %d" % (cell[s]["non2xx"], cell[s]["errors"])
                            if cell[s]["non2xx"] or cell[s]["errors"] else ""))
                    res[(m, n, c)] = cell
        for p, _ in flask.values():
            stop(p)

        roll = None
        if not args.no_rollout:
            roll = rollout(md, bodies[payloads[0]], max(conns), args.rollout_duration)
            log("rollout: %d requests, %d non-2xx, socket errors %s, per deployment %s" % (
                roll["requests"], roll["non2xx"], roll["errors"], roll["per_deployment"]))

        mic = None if args.no_micro else micro(args)
        body_bytes = {n: os.path.getsize(bodies[n]) for n in payloads}
        print("\n".join(tables(res, args)))
        if mic:
            print("\n".join(mic["xgb_table"] + [""] + mic["num_table"]))
        ck = checks(res, mic, body_bytes)
        for ok, t in ck:
            print(("met:    " if ok else "MISSED: ") + t)
        for line in non2xx_lines(res):
            print(line)
        if roll:
            ok = roll["non2xx"] == 0 and sum(roll["errors"].values()) == 0
            print("rollout: %s (%d requests, %d non-2xx, %d socket errors)" % (
                "met" if ok else "MISSED", roll["requests"], roll["non2xx"],
                sum(roll["errors"].values())))
        with open(os.path.join(tmp, "results.json"), "w") as f:
            json.dump({"cells": {"%s/%d/%d" % k: v for k, v in res.items()},
                       "gate": gate_report, "rollout": roll, "micro": mic}, f, indent=1)
        log("raw results: %s" % os.path.join(tmp, "results.json"))
        if not args.quick and args.out != "-":
            write_doc(args.out, res, gate_report, roll, args, time.monotonic() - t_start, mic,
                      body_bytes)
            log("wrote %s" % args.out)
        return 0
    except BenchError as e:
        log("bench: ABORTED: %s" % e)
        return 1
    finally:
        for p in procs:
            stop(p)
        if md is not None:
            md.close()
        if args.keep:
            log("kept %s" % tmp)
        else:
            shutil.copy2(os.path.join(tmp, "results.json"), "/tmp/mldeck-bench-last.json") \
                if os.path.exists(os.path.join(tmp, "results.json")) else None
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
