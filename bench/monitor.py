#!/usr/bin/python3
"""Model monitoring benchmarks (issue 12 item 7). Not a test: it measures and prints the
docs/performance.md table with the exact command, the date and `uptime`.

  collect  scoring with data collection off and on (model_inputs + model_outputs at
           samplingRate 1.0): requests/s, p99 and the server's CPU time per request, the
           two deployments measured in alternation (wrk, keep-alive, 16 connections, 1 and
           100 rows of the 30-feature logistic model); the records written and lost
  run      one monitor run (DataDrift W1 and KS, DataQuality) over ROWS collected rows x
           FEATURES features against a reference of ROWS rows: wall time, the monitor
           thread's CPU time and the server's peak resident memory
  live     live drift's cost through its API (bench/driftbench.c: `make bench-drift`, or
           MLDECK_DRIFTBENCH): CPU time per row and per recount of the window, at 10,000 rows/s
  readers  what an operator waits for while scoring saturates the server's core with
           collection on and a monitor's live drift: GET /metrics, GET /v1/monitors (the
           Monitor screen's) and a traffic PATCH, timed every 50 ms beside 1-row wrk

    make && make bench-drift
    /usr/bin/python3 bench/monitor.py                    # all four (~6 min)
    /usr/bin/python3 bench/monitor.py --parts run --rows 1000000 --features 30

As bench/scoring.py: the server pinned to core 0, wrk to core 1, MLDECK_BIN names the binary
(default ./mldeck, copied to a temp dir first). The machine may be shared: the load average
is printed with every figure.
"""
import argparse
import datetime
import json
import os
import random
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import threading
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scoring  # noqa: E402  (the benchmark's server driver and wrk runner)

COLLECT = {"collections": {"model_inputs": {"dataCollectionMode": "Enabled",
                                            "samplingRate": 1.0},
                           "model_outputs": {"dataCollectionMode": "Enabled",
                                             "samplingRate": 1.0}}}


def uptime():
    return subprocess.run(["uptime"], capture_output=True, text=True).stdout.strip()


def load1():
    return os.getloadavg()[0]


def cpu_seconds(pid, tid=None):
    """CPU time of the process (all threads: stat, in clock ticks) or of one thread
    (schedstat, in ns)."""
    if tid is not None:
        try:
            with open("/proc/%d/task/%d/schedstat" % (pid, tid)) as f:
                return int(f.read().split()[0]) / 1e9
        except OSError:
            pass
    path = "/proc/%d/stat" % pid if tid is None else "/proc/%d/task/%d/stat" % (pid, tid)
    with open(path) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def thread_id(pid, name):
    for tid in os.listdir("/proc/%d/task" % pid):
        try:
            with open("/proc/%d/task/%s/comm" % (pid, tid)) as f:
                if f.read().strip() == name:
                    return int(tid)
        except OSError:
            pass
    raise scoring.BenchError("no thread %s in %d" % (name, pid))


def peak_rss_mb(pid):
    with open("/proc/%d/status" % pid) as f:
        m = re.search(r"VmHWM:\s+(\d+) kB", f.read())
    return int(m.group(1)) / 1024


def metric_sum(md, name, **labels):
    s, text = md.http("GET", "/metrics")
    total = 0.0
    for line in text.splitlines():
        if not line.startswith(name + "{"):
            continue
        lbl = line[len(name) + 1:line.index("}")]
        got = dict(kv.split("=", 1) for kv in lbl.split(","))
        if all(got.get(k) == '"%s"' % v for k, v in labels.items()):
            total += float(line.rsplit(" ", 1)[1])
    return total


def deploy(md, ep, collector=None):
    props = {"model": "azureml:logistic:1", "environmentId": "azureml:native:1",
             "requestSettings": {"maxConcurrentRequestsPerInstance": 64}}
    if collector:
        props["dataCollector"] = collector
    md.put("ws:/onlineEndpoints/" + ep, {"properties": {"authMode": "Key"}})
    md.put("ws:/onlineEndpoints/%s/deployments/blue" % ep,
           {"properties": props, "sku": {"capacity": 1}})
    deadline = time.monotonic() + 120
    while True:
        s, d = md.http("GET", "ws:/onlineEndpoints/%s/deployments/blue" % ep)
        if s == 200 and d["properties"]["provisioningState"] == "Succeeded":
            break
        if time.monotonic() > deadline:
            raise scoring.BenchError("deployment %s: %s" % (ep, d))
        time.sleep(0.1)
    md.traffic(ep, {"blue": 100})
    s, b = md.http("POST", "ws:/onlineEndpoints/%s/listKeys" % ep)
    md.keys[ep] = b["primaryKey"]


def server(tmp):
    binary = os.environ.get("MLDECK_BIN", os.path.join(scoring.REPO, "mldeck"))
    os.makedirs(os.path.join(tmp, "bin"))
    shutil.copy(binary, os.path.join(tmp, "bin", "mldeck"))
    md = scoring.Mldeck(os.path.join(tmp, "bin", "mldeck"), tmp)
    md.put("ws:/environments/native/versions/1", {"properties": {"environmentKind": "native"}})
    md.put("ws:/models/logistic/versions/1",
           {"properties": {"modelType": "linear",
                           "modelUri": os.path.join(scoring.DATA, "logistic.json")}})
    return md


def body_file(tmp, rows):
    path = os.path.join(tmp, "body-%d.json" % rows)
    with open(path, "w") as f:
        json.dump({"data": scoring.make_rows(rows)}, f)
    return path


def schedule(ep, reference, signals, window="P1D"):
    target = scoring.WS + "/onlineEndpoints/%s/deployments/blue" % ep
    production = {"inputDataType": "Rolling", "jobInputType": "uri_folder",
                  "uri": "azureml:%s-blue-model_inputs:1" % ep,
                  "windowSize": window, "windowOffset": "P0D"}
    ref = {"inputDataType": "Fixed", "jobInputType": "uri_file", "uri": reference}
    sigs = {}
    for name, (stype, metric) in signals.items():
        s = {"signalType": stype, "productionData": production, "referenceData": ref,
             "features": {"filterType": "AllFeatures"}}
        if metric:
            s["metricThresholds"] = [{"dataType": "Numerical", "metric": metric}]
        sigs[name] = s
    return {"properties": {"isEnabled": True,
                           "trigger": {"triggerType": "Recurrence", "frequency": "Day",
                                       "interval": 1, "timeZone": "UTC",
                                       "schedule": {"hours": [3], "minutes": [15]}},
                           "action": {"actionType": "CreateMonitor",
                                      "monitorDefinition": {
                                          "monitoringTarget": {
                                              "taskType": "Classification",
                                              "deploymentId": target},
                                          "signals": sigs}}}}


# ---- collect ---------------------------------------------------------------------------

def counters(md):
    """Records written and dropped at the queue (files the disk quota removes later are
    counted apart, reason quota: not a cost of scoring)."""
    return (metric_sum(md, "mldeck_collector_records_total", endpoint="collect-on"),
            metric_sum(md, "mldeck_collector_lost_records_total", endpoint="collect-on",
                       reason="queue"))


def paced(url, body, key, conns, duration, delay_ms):
    """wrk at full speed (delay_ms None), or with each connection pausing delay_ms
    between its requests (below saturation; bench/wrk/post.lua's WRK_DELAY_MS)."""
    if delay_ms is None:
        os.environ.pop("WRK_DELAY_MS", None)
    else:
        os.environ["WRK_DELAY_MS"] = str(delay_ms)
    try:
        return scoring.wrk(url, body, key, conns, duration)
    finally:
        os.environ.pop("WRK_DELAY_MS", None)


def part_collect(md, tmp, args, out):
    """Off and on in alternation, at full speed (the server saturated: the writer, on
    spare CPU only, gets what scoring leaves and the rest is dropped and counted) and
    paced below saturation (everything written)."""
    deploy(md, "plain-off")
    deploy(md, "collect-on", COLLECT)
    eps = {"off": "plain-off", "on": "collect-on"}
    table = []
    for rows, delay in ((1, None), (100, None), (1, 2), (100, 20)):
        body = body_file(tmp, rows)
        res = {"off": [], "on": []}
        for ep in eps.values():  # warm-up
            paced(md.score_url(ep), body, md.keys[ep], args.conns, 1.0, delay)
        time.sleep(1.5)
        l0 = load1()
        w0, lost0 = counters(md)
        for r in range(args.runs):
            for ep in ("off", "on"):
                c0 = cpu_seconds(md.proc.pid)
                w, _ = paced(md.score_url(eps[ep]), body, md.keys[eps[ep]], args.conns,
                             args.duration, delay)
                us = (cpu_seconds(md.proc.pid) - c0) * 1e6 / max(w["requests"], 1)
                res[ep].append((w["rps"], w["p99"], us))
                print("collect %d rows %s run %d %-3s %8.0f req/s p99 %.2f ms %.2f us CPU/req"
                      % (rows, "paced %d ms" % delay if delay else "full speed", r, ep,
                         w["rps"], w["p99"] or 0, us), flush=True)
        time.sleep(1.5)  # the writer drains
        w1, lost1 = counters(md)
        written, lost = w1 - w0, lost1 - lost0
        med = {ep: [statistics.median(x[i] for x in res[ep]) for i in range(3)]
               for ep in res}
        table.append("| %d | %s | %.0f (%.0f-%.0f) | %.0f (%.0f-%.0f) | %.3f | %.2f / %.2f | "
                     "%.1f / %.1f | %d / %d (%.1f %%) | %.1f-%.1f |"
                     % (rows, "full speed" if delay is None else
                        "paced, %d ms between requests" % delay,
                        med["off"][0], min(x[0] for x in res["off"]),
                        max(x[0] for x in res["off"]),
                        med["on"][0], min(x[0] for x in res["on"]),
                        max(x[0] for x in res["on"]), med["on"][0] / med["off"][0],
                        med["off"][1], med["on"][1], med["off"][2], med["on"][2],
                        written, lost, 100.0 * lost / max(written + lost, 1), l0, load1()))
    out += ["Data collection (model_inputs + model_outputs, samplingRate 1.0) off and on, "
            "logistic model (30 features), wrk %d connections, %d runs of %g s each in "
            "alternation; medians (min-max):" % (args.conns, args.runs, args.duration),
            "",
            "| rows/request | load | off req/s | on req/s | on/off | p99 ms off / on | "
            "server CPU us/request off / on | records written / dropped at the queue (share) | "
            "load (1 min) |",
            "|---|---|---|---|---|---|---|---|---|"] + table + [""]


# ---- run -------------------------------------------------------------------------------

def write_data(tmp, md, rows, features):
    """The reference (CSV) and the collected rows (Azure's JSONL records, 100 rows each, in
    this hour's folder of deployment run/blue), features 0-2 shifted in production."""
    import numpy as np
    rng = np.random.default_rng(12)
    ref = os.path.join(tmp, "reference.csv")
    now = datetime.datetime.now(datetime.timezone.utc)
    s, ds = md.http("GET", "ws:/datastores/workspaceblobstore")
    if s != 200:
        raise scoring.BenchError("datastore: %d %s" % (s, ds))
    folder = os.path.join(md.home, "blobs", ds["properties"]["containerName"],
                          "modelDataCollector", "run", "blue", "model_inputs",
                          now.strftime("%Y/%m/%d/%H"))
    os.makedirs(folder, exist_ok=True)
    fmt = "{" + ",".join('"%d":%%.6g' % j for j in range(features)) + "}"
    chunk = 100000
    with open(ref, "w") as f:
        f.write(",".join(str(j) for j in range(features)) + "\n")
        for start in range(0, rows, chunk):
            x = rng.normal(0, 1, (min(chunk, rows - start), features))
            f.write("\n".join(",".join("%.6g" % v for v in r) for r in x.tolist()) + "\n")
    stamp = now.strftime("%Y-%m-%dT%H:%M:%SZ")
    with open(os.path.join(folder, "bench.jsonl"), "w") as f:
        for start in range(0, rows, chunk):
            x = rng.normal(0, 1, (min(chunk, rows - start), features))
            x[:, :3] += 0.5
            recs = []
            for k in range(0, len(x), 100):
                data = ",".join(fmt % tuple(r) for r in x[k:k + 100].tolist())
                recs.append('{"specversion":"1.0","id":"b%d","source":"/bench",'
                            '"type":"azureml.inference.model_inputs","datacontenttype":'
                            '"application/json","time":"%s","data":[%s]}'
                            % (start + k, stamp, data))
            f.write("\n".join(recs) + "\n")
    return ref, os.path.getsize(ref), os.path.getsize(os.path.join(folder, "bench.jsonl"))


def part_run(md, tmp, args, out):
    deploy(md, "run", {"collections": {"model_inputs": {"dataCollectionMode": "Enabled"}}})
    t0 = time.monotonic()
    ref, ref_bytes, prod_bytes = write_data(tmp, md, args.rows, args.features)
    print("data written in %.1f s: reference %.0f MB, collected %.0f MB"
          % (time.monotonic() - t0, ref_bytes / 1e6, prod_bytes / 1e6), flush=True)
    md.put("ws:/schedules/bench-run", schedule("run", ref, {
        "drift": ("DataDrift", "NormalizedWassersteinDistance"),
        "ks": ("DataDrift", "TwoSampleKolmogorovSmirnovTest"),
        "quality": ("DataQuality", None)}))
    time.sleep(2.0)  # the monitor reads the reference for live drift first
    tid = thread_id(md.proc.pid, "mldeck-monitor")
    while True:  # wait for that to end
        c = cpu_seconds(md.proc.pid, tid)
        time.sleep(1.0)
        if cpu_seconds(md.proc.pid, tid) == c:
            break
    rss0 = peak_rss_mb(md.proc.pid)
    l0 = load1()
    c0 = cpu_seconds(md.proc.pid, tid)
    t0 = time.monotonic()
    s, b = md.http("POST", "ws:/schedules/bench-run/trigger", {})
    if s != 200:
        raise scoring.BenchError("trigger: %d %s" % (s, b))
    job = b["submissionId"]
    while True:
        s, j = md.http("GET", "ws:/jobs/" + job)
        if j["properties"]["status"] in ("Completed", "Failed", "Canceled"):
            break
        time.sleep(0.05)
    wall = time.monotonic() - t0
    cpu = cpu_seconds(md.proc.pid, tid) - c0
    if j["properties"]["status"] != "Completed":
        raise scoring.BenchError("the run ended %s" % json.dumps(j)[:2000])
    res = j["properties"]["outputs"]["results"]["value"]["signals"]
    failed = {name: sum(1 for f in sig["features"] if not f["passed"])
              for name, sig in res.items()}
    failed = ", ".join("%s %d" % kv for kv in sorted(failed.items()))
    print("run: %.2f s wall, %.2f s CPU, peak RSS %.0f MB (before %.0f MB); failed features %s"
          % (wall, cpu, peak_rss_mb(md.proc.pid), rss0, failed), flush=True)
    out += ["One monitor run (signals DataDrift with normalized Wasserstein, DataDrift with KS, "
            "DataQuality; all features) over the collected rows against a reference of as "
            "many (CSV), both read from disk (%.0f MB and %.0f MB):" % (prod_bytes / 1e6,
                                                                       ref_bytes / 1e6),
            "",
            "| rows x features | wall | monitor thread CPU | server peak RSS (before) | "
            "failed (signal: feature-metric pairs) | load (1 min) |",
            "|---|---|---|---|---|---|",
            "| %d x %d | %.1f s | %.1f s | %.0f MB (%.0f MB) | %s | %.1f-%.1f |"
            % (args.rows, args.features, wall, cpu, peak_rss_mb(md.proc.pid), rss0,
               failed, l0, load1()), "",
            "Features 0-2 of the collected rows are shifted by half a standard deviation; "
            "the others are drawn from the reference's distribution, so about 5 % of them "
            "fail KS at p < 0.05 by chance, and about half exceed the reference's range "
            "somewhere in a million rows (out of bounds, Azure's default threshold 0).", ""]


# ---- live ------------------------------------------------------------------------------

def part_live(md, tmp, args, out):
    """Through drift.c's API (bench/driftbench.c): exact CPU time of this code alone,
    which the server's own figures would drown in the machine's noise."""
    tool = os.environ.get("MLDECK_DRIFTBENCH",
                          os.path.join(scoring.REPO, "build", "bench", "driftbench"))
    if not os.path.exists(tool):
        raise scoring.BenchError("%s is missing: make bench-drift" % tool)
    l0 = load1()
    r = subprocess.run([tool, "4000", str(args.features), "1000000", "10000"],
                       capture_output=True, text=True, check=True)
    res = json.loads(r.stdout)
    print("live: %.0f ns/row, %.2f ms/recount" % (res["ns_per_row"], res["ms_per_recount"]),
          flush=True)
    out += ["Live drift through its API (`%s/driftbench 4000 %d 1000000 10000`: a monitor "
            "with DataDrift and DataQuality on all features, reference 4,000 rows; 1,000,000 "
            "rows fed as the collector's thread feeds them, a recount of the 10,000-row window "
            "after every 10,000 rows, i.e. 10,000 rows a second; CPU time of that thread):"
            % (os.path.relpath(os.path.dirname(tool), scoring.REPO), args.features),
            "",
            "| features | per row | recount of a full window | at 10,000 rows/s | load (1 min) |",
            "|---|---|---|---|---|",
            "| %d | %.0f ns | %.2f ms | %.2f %% of one core | %.1f-%.1f |"
            % (args.features, res["ns_per_row"], res["ms_per_recount"],
               res["core_share_at_rate"] * 100, l0, load1()), ""]


# ---- readers ---------------------------------------------------------------------------

def readers_under_load(md, tmp, args, ep):
    """1-row wrk at full speed on ep; meanwhile each call timed every 50 ms."""
    view = "/v1/monitors?endpoint=%s&deployment=blue" % ep
    calls = {"GET /metrics": ("GET", "/metrics", None),
             "GET /v1/monitors": ("GET", view, None),
             "PATCH traffic": ("PATCH", "ws:/onlineEndpoints/" + ep,
                               {"properties": {"traffic": {"blue": 100}}})}
    lat = {k: [] for k in calls}
    res = {}
    body = body_file(tmp, 1)
    load = threading.Thread(target=lambda: res.update(w=paced(
        md.score_url(ep), body, md.keys[ep], args.conns, args.duration * args.runs, None)[0]))
    load.start()
    time.sleep(1.0)
    while load.is_alive():
        for name, (method, path, payload) in calls.items():
            t0 = time.monotonic()
            s, b = md.http(method, path, payload)
            if s != 200:
                raise scoring.BenchError("%s -> %d %s" % (name, s, b))
            lat[name].append((time.monotonic() - t0) * 1e3)
        time.sleep(0.05)
    load.join()
    return res["w"]["rps"], lat


def part_readers(md, tmp, args, out):
    """What an operator waits for at saturation: off (no collection, no monitor) and on
    (collection at 1.0 and a monitor's live drift), one after the other."""
    deploy(md, "readers-off")
    deploy(md, "readers-on", COLLECT)
    ref = os.path.join(tmp, "readers-ref.csv")
    rnd = random.Random(3)
    with open(ref, "w") as f:
        f.write(",".join(str(i) for i in range(args.features)) + "\n")
        for _ in range(3000):
            f.write(",".join("%.5f" % rnd.gauss(0, 1) for _ in range(args.features)) + "\n")
    md.put("ws:/schedules/bench-readers", schedule("readers-on", ref, {
        "drift": ("DataDrift", "NormalizedWassersteinDistance"), "quality": ("DataQuality", None)}))
    deadline = time.monotonic() + 60
    while "live" not in md.http("GET", "/v1/monitors?endpoint=readers-on&deployment=blue")[1]:
        if time.monotonic() > deadline:
            raise scoring.BenchError("no live drift on readers-on/blue")
        time.sleep(0.2)
    l0 = load1()
    rows, rps = [], {}
    for side, ep in (("off", "readers-off"), ("on", "readers-on")):
        rps[side], lat = readers_under_load(md, tmp, args, ep)
        for name, v in lat.items():
            v.sort()
            rows.append("| %s | %s | %d | %.1f | %.1f | %.1f |"
                        % (name, side, len(v), v[len(v) // 2],
                           v[min(len(v) - 1, int(len(v) * 0.99))], v[-1]))
    out += ["While 1-row scoring saturates the server's core (wrk %d connections, %g s each; "
            "off: %.0f req/s, no collection; on: %.0f req/s, collection at 1.0 and a monitor's "
            "live drift), each call timed every 50 ms, load %.1f-%.1f:"
            % (args.conns, args.duration * args.runs, rps["off"], rps["on"], l0, load1()),
            "",
            "| call | collection | n | p50 ms | p99 ms | max ms |",
            "|---|---|---|---|---|---|"] + sorted(rows) + [""]


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--parts", default="collect,run,live,readers")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=5.0)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--rows", type=int, default=1000000)
    ap.add_argument("--features", type=int, default=30)
    args = ap.parse_args()
    parts = args.parts.split(",")
    out = []
    start = uptime()
    tmp = tempfile.mkdtemp(prefix="mldeck-monbench-")
    md = None
    try:
        md = server(tmp)
        if "collect" in parts:
            part_collect(md, tmp, args, out)
        if "live" in parts:
            part_live(md, tmp, args, out)
        if "run" in parts:
            part_run(md, tmp, args, out)
        if "readers" in parts:
            part_readers(md, tmp, args, out)
    finally:
        if md:
            md.close()
        shutil.rmtree(tmp, ignore_errors=True)
    print()
    print("Command: `/usr/bin/python3 bench/monitor.py %s` (%s)"
          % (" ".join(sys.argv[1:]), datetime.datetime.now().strftime("%Y-%m-%d %H:%M")))
    print("Machine: %s; server pinned to core 0, wrk to core 1" % scoring.machine())
    print("uptime at start: %s" % start)
    print("uptime at end:   %s" % uptime())
    print()
    for line in out:
        print(line)


if __name__ == "__main__":
    main()
