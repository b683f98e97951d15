#!/usr/bin/python3
"""Batch scoring benchmark (issue 11): one million generated rows in CSV files.

    make && /usr/bin/python3 bench/batch.py [--rows 1000000] [--files 20] [--quick] [--out FILE|-]

Measures, on this machine, and rewrites the part of docs/performance.md between
<!-- batch --> and <!-- /batch --> (--out - prints it instead):

1. End to end rows/s (read the CSV, score, write the output) per core: `mldeck serve` pinned to
   core 0 with one worker (instanceCount 1 x maxConcurrencyPerInstance 1), against the Python
   baseline on the same core: pandas read_csv + sklearn predict_proba / xgboost inplace_predict
   + to_csv, one process. Models: the churn logistic regression (12 features) and XGBoost 100
   trees of depth 6 on 30 features (tests/data/xgb_binary.json). Then both cores (2 workers).
2. Orchestration overhead per mini-batch: N one-row files with miniBatchSize 1, minus the same
   rows in one file, over N (Azure documents ~0.05 s per task).
3. The score.py path: a job of the same files through run(mini_batch) in one worker, against
   calling run() on the same mini-batches directly in one Python process (and writing its rows).
4. Memory: the runtime's peak RSS for jobs of 10% and 100% of the rows.

Every job is timed from its POST to status Completed (polled every 10 ms), so the figures
include the invocation, listing, the merge of the output and the status writes.
"""

import argparse
import json
import os
import re
import shutil
import subprocess
import sys
import tempfile
import time
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = os.environ.get("MLDECK_BIN", os.path.join(REPO, "mldeck"))
LINEAR = os.path.join(REPO, "demo", "models", "churn-linear.json")
XGB = os.path.join(REPO, "tests", "data", "xgb_binary.json")
PY = "/usr/bin/python3"
WS = ("/subscriptions/0/resourceGroups/bench/providers/Microsoft.MachineLearningServices"
      "/workspaces/local")

SCORE_PY = '''
import os
import json
import numpy as np
import pandas as pd
from sklearn.linear_model import LogisticRegression

model = None

def init():
    global model
    with open(os.path.join(os.environ["AZUREML_MODEL_DIR"], "churn-linear.json")) as f:
        m = json.load(f)
    model = LogisticRegression()
    model.coef_ = np.array([m["coefficients"]])
    model.intercept_ = np.array([m["intercept"]])
    model.classes_ = np.array([0, 1])

def run(mini_batch):
    out = []
    for path in mini_batch:
        df = pd.read_csv(path)
        p = model.predict_proba(df.values)[:, 1]
        out.append(pd.DataFrame({"row": range(len(p)), "prediction": p,
                                 "file": os.path.basename(path)}))
    return pd.concat(out)
'''


SERVERS = []  # stopped whatever happens (main's finally)


class Server:
    def __init__(self, tmp, name, pin=None):
        self.home = os.path.join(tmp, name)
        cmd = [BIN, "serve", "--listen", "127.0.0.1:0", "--home", self.home, "--threads", "1"]
        if pin is not None:
            cmd = ["taskset", "-c", pin] + cmd
        self.log = open(os.path.join(tmp, name + ".log"), "wb")
        self.proc = subprocess.Popen(cmd, stdout=self.log, stderr=self.log)
        SERVERS.append(self)
        deadline = time.monotonic() + 30
        while time.monotonic() < deadline:
            m = re.search(rb"listening on (http://[0-9.:]+)",
                          open(os.path.join(tmp, name + ".log"), "rb").read())
            if m:
                self.url = m.group(1).decode()
                break
            time.sleep(0.02)
        self.key = open(os.path.join(self.home, "admin.key")).read().strip()

    def call(self, method, path, body=None, headers=None):
        data = json.dumps(body).encode() if body is not None else None
        h = {"Authorization": "Bearer " + self.key, "Content-Type": "application/json"}
        h.update(headers or {})
        url = self.url + (path if path.startswith("/batch/") else WS + path)
        req = urllib.request.Request(url, data=data, method=method, headers=h)
        with urllib.request.urlopen(req, timeout=120) as r:
            text = r.read()
        return json.loads(text) if text else None

    def peak_rss_mb(self):
        with open("/proc/%d/status" % self.proc.pid) as f:
            for line in f:
                if line.startswith("VmHWM:"):
                    return int(line.split()[1]) / 1024.0
        return 0.0

    def stop(self):
        if self.proc.poll() is None:
            self.proc.terminate()
            self.proc.wait(60)
        self.log.close()


def deploy(s, name, model, mtype, workers=1, env=None, code=None):
    s.call("PUT", "/models/%s/versions/1" % name,
           {"properties": {"modelType": mtype, "modelUri": model}})
    s.call("PUT", "/batchEndpoints/" + name, {"properties": {}})
    p = {"model": "azureml:%s:1" % name, "miniBatchSize": 1, "maxConcurrencyPerInstance": workers,
         "retrySettings": {"timeout": "PT600S"}}
    if env:
        p["environmentId"] = env
        p["codeConfiguration"] = {"codeId": code, "scoringScript": "score.py"}
    s.call("PUT", "/batchEndpoints/%s/deployments/main" % name, {"properties": p})
    s.call("PATCH", "/batchEndpoints/" + name, {"properties": {"defaults": {"deploymentName": "main"}}})


def run_job(s, ep, folder, extra=None):
    """Seconds from POST to Completed, and the job."""
    props = {"InputData": {"in": {"JobInputType": "UriFolder", "Uri": folder}}}
    props.update(extra or {})
    t0 = time.monotonic()
    job = s.call("POST", "/batch/%s/jobs" % ep, {"properties": props})
    while True:
        j = s.call("GET", "/jobs/" + job["name"])
        if j["properties"]["status"] in ("Completed", "Failed", "Canceled"):
            break
        time.sleep(0.01)
    t = time.monotonic() - t0
    if j["properties"]["status"] != "Completed":
        raise SystemExit("job %s: %s" % (job["name"], j["properties"]))
    return t, j


def mb_seconds(s, job):
    """The sum of a job's mini-batches' Elapsed Seconds (its processed_mini-batches.csv):
    with one worker, its time in run() calls, the protocol and the writes."""
    import csv
    path = os.path.join(s.home, "jobs", job["name"], "logs", "sys", "job_report",
                        "processed_mini-batches.csv")
    with open(path, newline="") as f:
        return sum(float(r["Elapsed Seconds"]) for r in csv.DictReader(f))


def make_data(root, rows, files, cols, seed):
    import numpy as np
    os.makedirs(root, exist_ok=True)
    rnd = np.random.default_rng(seed)
    per = rows // files
    header = ",".join("f%d" % i for i in range(cols))
    for k in range(files):
        x = rnd.normal(0, 1.5, size=(per, cols)).round(4)
        np.savetxt(os.path.join(root, "part-%03d.csv" % k), x, delimiter=",", header=header,
                   comments="", fmt="%.4f")
    return root


BASELINE = r'''
import json, os, sys, time
import numpy as np, pandas as pd
kind, folder, out = sys.argv[1:4]
files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
if kind == "linear":
    from sklearn.linear_model import LogisticRegression
    m = json.load(open(sys.argv[4]))
    model = LogisticRegression()
    model.coef_ = np.array([m["coefficients"]]); model.intercept_ = np.array([m["intercept"]])
    model.classes_ = np.array([0, 1])
    predict = lambda x: model.predict_proba(x)[:, 1]
else:
    import xgboost as xgb
    bst = xgb.Booster(model_file=sys.argv[4]); bst.set_param({"nthread": 1})
    predict = lambda x: bst.inplace_predict(x)
t0 = time.monotonic()
with open(out, "w") as f:
    for path in files:
        df = pd.read_csv(path)
        p = predict(df.values)
        pd.DataFrame({"row": np.arange(len(p)), "p": p, "file": os.path.basename(path)}).to_csv(
            f, sep=" ", header=False, index=False)
print(time.monotonic() - t0)
'''

DIRECT = r'''
import importlib.util, os, sys, time
import pandas as pd
code, model_dir, folder, out = sys.argv[1:5]
os.environ["AZUREML_MODEL_DIR"] = model_dir
spec = importlib.util.spec_from_file_location("score", os.path.join(code, "score.py"))
m = importlib.util.module_from_spec(spec); spec.loader.exec_module(m)
m.init()
files = sorted(os.path.join(folder, f) for f in os.listdir(folder))
t0 = time.monotonic()
with open(out, "w") as f:
    for path in files:  # the same mini-batches: one file each
        df = m.run([path])
        f.write(df.to_csv(sep=" ", header=False, index=False))
print(time.monotonic() - t0)
'''


def python_time(script, args, pin="0"):
    r = subprocess.run(["taskset", "-c", pin, PY, "-c", script] + args, capture_output=True,
                       text=True, check=True)
    return float(r.stdout.strip().splitlines()[-1])


def python_wall(script, args, pin="0"):
    """Seconds from the process's start to its end (imports and init() included), and the
    script's own figure (its loop only)."""
    t0 = time.monotonic()
    inner = python_time(script, args, pin)
    return time.monotonic() - t0, inner


def best(n, fn):
    return min(fn() for _ in range(n))


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--files", type=int, default=20)
    ap.add_argument("--tiny", type=int, default=2000, help="one-row files for the overhead")
    ap.add_argument("--runs", type=int, default=3)
    ap.add_argument("--quick", action="store_true")
    ap.add_argument("--out", default=os.path.join(REPO, "docs", "performance.md"))
    args = ap.parse_args()
    if args.quick:
        args.rows, args.tiny, args.runs = 100000, 300, 1
    tmp = tempfile.mkdtemp(prefix="mldeck-batch-bench-")
    res = {}
    try:
        lin = make_data(os.path.join(tmp, "lin"), args.rows, args.files, 12, 1)
        xgb = make_data(os.path.join(tmp, "xgb"), args.rows, args.files, 30, 2)
        small = make_data(os.path.join(tmp, "small"), args.rows // 10, args.files, 12, 3)
        tiny = os.path.join(tmp, "tiny")
        os.makedirs(tiny)
        for i in range(args.tiny):
            with open(os.path.join(tiny, "t%05d.csv" % i), "w") as f:
                f.write(",".join("f%d" % k for k in range(12)) + "\n" + ",".join(["0.5"] * 12) + "\n")
        one = os.path.join(tmp, "one")
        os.makedirs(one)
        with open(os.path.join(one, "all.csv"), "w") as f:
            f.write(",".join("f%d" % k for k in range(12)) + "\n")
            f.write((",".join(["0.5"] * 12) + "\n") * args.tiny)
        code = os.path.join(tmp, "code")
        os.makedirs(code)
        with open(os.path.join(code, "score.py"), "w") as f:
            f.write(SCORE_PY)

        # 1. one core
        s = Server(tmp, "core0", pin="0")
        deploy(s, "lin", LINEAR, "linear")
        deploy(s, "xgb", XGB, "xgboost")
        res["lin1"] = best(args.runs, lambda: run_job(s, "lin", lin)[0])
        res["xgb1"] = best(args.runs, lambda: run_job(s, "xgb", xgb)[0])
        # 2. overhead per mini-batch (one worker)
        t_tiny = best(args.runs, lambda: run_job(s, "lin", tiny)[0])
        t_one = best(args.runs, lambda: run_job(s, "lin", one)[0])
        res["overhead_ms"] = (t_tiny - t_one) / args.tiny * 1000
        res["tiny_rate"] = args.tiny / t_tiny
        # 3. score.py against run() in one process (same core)
        s.call("PUT", "/environments/pyenv/versions/1",
               {"properties": {"environmentKind": "python", "interpreterPath": PY}})
        shutil.copy(LINEAR, os.path.join(code, "churn-linear.json"))
        deploy(s, "script", os.path.join(code, "churn-linear.json"), "custom_model",
               env="azureml:pyenv:1", code=code)
        py_runs = [run_job(s, "script", lin) for _ in range(args.runs)]
        res["py_job"] = min(t for t, _ in py_runs)
        res["py_mbs"] = min(mb_seconds(s, j) for _, j in py_runs)
        direct = [python_wall(DIRECT, [code, code, lin, os.path.join(tmp, "direct.out")])
                  for _ in range(args.runs)]
        res["py_direct"] = min(d[0] for d in direct)
        res["py_loop"] = min(d[1] for d in direct)
        s.stop()
        # baselines on the same core
        res["lin_base"] = best(args.runs, lambda: python_time(
            BASELINE, ["linear", lin, os.path.join(tmp, "b.out"), LINEAR]))
        res["xgb_base"] = best(args.runs, lambda: python_time(
            BASELINE, ["xgb", xgb, os.path.join(tmp, "b.out"), XGB]))
        # both cores
        s = Server(tmp, "both")
        deploy(s, "lin", LINEAR, "linear", workers=2)
        deploy(s, "xgb", XGB, "xgboost", workers=2)
        res["lin2"] = best(args.runs, lambda: run_job(s, "lin", lin)[0])
        res["xgb2"] = best(args.runs, lambda: run_job(s, "xgb", xgb)[0])
        s.stop()
        # 4. memory: fresh runtimes, one job each
        for label, folder in (("small", small), ("full", lin)):
            s = Server(tmp, "mem-" + label, pin="0")
            deploy(s, "lin", LINEAR, "linear")
            run_job(s, "lin", folder)
            res["rss_" + label] = s.peak_rss_mb()
            s.stop()
    finally:
        for s in SERVERS:
            if s.proc.poll() is None:
                s.proc.kill()
                s.proc.wait()
        shutil.rmtree(tmp, ignore_errors=True)
    report(args, res)


def report(args, r):
    rows = args.rows
    lines = [
        "<!-- batch -->",
        "## Batch scoring (issue 11, `bench/batch.py`)",
        "",
        "`make && /usr/bin/python3 bench/batch.py` (%s rows in %d CSV files; best of %d; "
        "this 2-core machine, loaded by other work). Every mldeck figure is end to end: "
        "from the invocation's POST to the job's status Completed, so it includes listing "
        "the input, reading and parsing the CSV, scoring, writing and merging the output and "
        "the progress records." % (format(rows, ","), args.files, args.runs),
        "",
        "| what | mldeck | Python baseline | ratio |",
        "|---|---|---|---|",
        "| churn logistic, 12 features, one core | %.0f rows/s (%.2f s) | %.0f rows/s (%.2f s) | %.1fx |"
        % (rows / r["lin1"], r["lin1"], rows / r["lin_base"], r["lin_base"],
           r["lin_base"] / r["lin1"]),
        "| XGBoost 100 trees depth 6, 30 features, one core | %.0f rows/s (%.2f s) | %.0f rows/s (%.2f s) | %.1fx |"
        % (rows / r["xgb1"], r["xgb1"], rows / r["xgb_base"], r["xgb_base"],
           r["xgb_base"] / r["xgb1"]),
        "| churn logistic, both cores (2 workers) | %.0f rows/s (%.2f s) | | |"
        % (rows / r["lin2"], r["lin2"]),
        "| XGBoost, both cores (2 workers) | %.0f rows/s (%.2f s) | | |"
        % (rows / r["xgb2"], r["xgb2"]),
        "",
        "The baseline is one Python process on the same core: pandas `read_csv`, sklearn "
        "`LogisticRegression.predict_proba` (the same coefficients) or xgboost "
        "`Booster.inplace_predict` (nthread 1), and `to_csv` of `row prediction file` rows.",
        "",
        "- **Orchestration overhead: %.3f ms per mini-batch** (%d one-row files with "
        "miniBatchSize 1, one worker, minus the same rows in one file, over %d): the file's "
        "open and parse, its rows appended to the worker's segment, its progress record (queued "
        "and appended with others as one fsync'd SQLite transaction every 0.1 s) and a line of "
        "the mini-batch log. %.0f mini-batches per second end to "
        "end. Azure's published figures: ~0.05 s per task and ~400 mini-batches scheduled per "
        "second (reference section 1.7)."
        % (r["overhead_ms"], args.tiny, args.tiny, r["tiny_rate"]),
        "- **score.py path: %.2f s** through `run(mini_batch)` in one worker (from the POST to "
        "Completed: the worker's start, imports and `init()` included) against %.2f s for one "
        "Python process calling the same `run()` on the same mini-batches and writing its rows "
        "(from its start to its end: the same imports and `init()`; %.2f s of it the loop "
        "alone): %+.1f %%. Without the starts: the job's mini-batches took %.2f s in all "
        "(the sum of their Elapsed Seconds: `run()`, the worker protocol and the writes) "
        "against the loop's %.2f s: %+.1f %%."
        % (r["py_job"], r["py_direct"], r["py_loop"], (r["py_job"] / r["py_direct"] - 1) * 100,
           r["py_mbs"], r["py_loop"], (r["py_mbs"] / r["py_loop"] - 1) * 100),
        "- **Memory flat in rows:** the runtime's peak RSS after a job of %s rows: %.1f MiB; "
        "of %s rows: %.1f MiB (each in a fresh runtime)."
        % (format(rows // 10, ","), r["rss_small"], format(rows, ","), r["rss_full"]),
        "<!-- /batch -->",
    ]
    text = "\n".join(lines) + "\n"
    if args.out == "-" or args.quick:
        sys.stdout.write(text)
        return
    doc = open(args.out).read()
    if "<!-- batch -->" in doc:
        doc = re.sub(r"<!-- batch -->.*<!-- /batch -->\n", lambda m: text, doc, flags=re.S)
    else:
        doc = doc.rstrip("\n") + "\n\n" + text
    open(args.out, "w").write(doc)
    sys.stdout.write(text)


if __name__ == "__main__":
    main()
