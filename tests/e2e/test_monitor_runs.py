"""Monitors as schedules (issue 12 items 4, 5): a CreateMonitor schedule, triggered,
runs as a job whose outputs hold the results; the numbers match SciPy; a shifted
stream fails and an unshifted one passes; a failed signal alerts a webhook (with
retries) and the deployment's log; bad reference data fails the run with a clear
error and disturbs nothing else."""

import http.server
import json
import math
import os
import threading
import time

import numpy as np
import pytest
import scipy.stats as st

from monitor_env import (collector, data_asset, metric, monitor_body, native_deployment, put,
                         monitors_view, records, reference_file, score, signal, trigger,
                         wait_job, wait_live, wait_records)

RNG = np.random.default_rng(1212)


def setup_two(rt, tmp_path, n=600, seed=1):
    """blue serves rows like the reference; green rows whose features 0 and 1 moved."""
    rng = np.random.default_rng(seed)
    key = native_deployment(rt, dep="blue", data_collector=collector(outputs=None))
    put(rt, "/onlineEndpoints/churn/deployments/green",
        {"properties": {"model": "azureml:churn:1", "environmentId": "azureml:native:1",
                        "dataCollector": collector(outputs=None)}})
    rt.wait_deployment("churn", "green")
    ref = rng.normal(0, 1, (2000, 30)).round(6)
    path = reference_file(tmp_path / "train.jsonl", ref.tolist())
    data_asset(rt, "churn-training", path)
    sent = {"blue": rng.normal(0, 1, (n, 30)).round(6), "green": rng.normal(0, 1, (n, 30)).round(6)}
    sent["green"][:, 0] += 0.8
    sent["green"][:, 1] *= 2.0
    for dep, rows in sent.items():
        for i in range(0, n, 3):   # three rows a request
            s, _, b = rt.http("POST", "/endpoints/churn/score", {"data": rows[i:i + 3].tolist()},
                              auth=False, headers={"Authorization": "Bearer " + key,
                                                   "azureml-model-deployment": dep})
            assert s == 200, b
        assert len(wait_records(rt, "churn", dep, "model_inputs", n // 3)) == n // 3
    return ref, sent


def results_of(job):
    return job["properties"]["outputs"]["results"]["value"]


def check_against_scipy(results, ref, prod):
    feats = results["signals"]["drift"]["features"]
    assert len(feats) == 60   # 30 features x 2 metrics
    for f in feats:
        k = int(f["feature"])
        a, b = ref[:, k], prod[:, k]
        if f["metric"] == "NormalizedWassersteinDistance":
            want = st.wasserstein_distance(a, b) / max(np.std(a, ddof=1), 0.001)
        else:
            want = st.ks_2samp(a, b).pvalue
        assert math.isclose(f["value"], want, rel_tol=1e-9, abs_tol=1e-300), (f, want)
        assert f["passed"] == (f["value"] <= f["threshold"] if "Wasserstein" in f["metric"]
                               else f["value"] >= f["threshold"])


def test_monitor_passes_unshifted_fails_shifted_and_matches_scipy(runtime, tmp_path):
    rt = runtime
    ref, sent = setup_two(rt, tmp_path)
    for dep in ("blue", "green"):
        put(rt, "/schedules/mon-" + dep, monitor_body(rt, "churn", dep, "azureml:churn-training:1"))
    jobs = {dep: wait_job(rt, trigger(rt, "mon-" + dep)) for dep in ("blue", "green")}
    for dep, j in jobs.items():
        p = j["properties"]
        assert p["status"] == "Completed", p
        assert p["tags"]["azureml.monitorname"] == "mon-" + dep
        check_against_scipy(results_of(j), ref, sent[dep])
        assert results_of(j)["signals"]["drift"]["production"]["rows"] == 600
        assert results_of(j)["signals"]["drift"]["reference"]["rows"] == 2000
    assert jobs["blue"]["properties"]["properties"]["monitorStatus"] == "Passed", [f for f in results_of(jobs["blue"])["signals"]["drift"]["features"] if not f["passed"]]
    assert jobs["green"]["properties"]["properties"]["monitorStatus"] == "Failed"
    failed = {f["feature"] for f in results_of(jobs["green"])["signals"]["drift"]["features"]
              if not f["passed"]}
    assert {"0", "1"} <= failed and failed <= {str(i) for i in range(30)}
    # the run is listed with the jobs, and the deployment's log tells the alert
    s, _, lst = rt.http("GET", "ws:/jobs")
    assert {j["name"] for j in lst["value"]} >= {jobs["blue"]["name"], jobs["green"]["name"]}
    s, _, logs = rt.http("POST", "ws:/onlineEndpoints/churn/deployments/green/getLogs", {})
    assert "[monitor] Monitor mon-green on churn/green: signal drift failed" in logs["content"]


def test_data_quality_and_categorical_signals(runtime, tmp_path):
    rt = runtime
    key = native_deployment(rt, data_collector=collector(outputs=None))
    ref = RNG.normal(0, 1, (500, 30)).round(4)
    data_asset(rt, "train", reference_file(tmp_path / "t.jsonl", ref.tolist()))
    rows = RNG.normal(0, 1, (60, 30)).round(4)
    rows[:6, 2] = 50.0            # 10 % out of bounds in feature 2
    score(rt, "churn", rows.tolist(), key)
    wait_records(rt, "churn", "blue", "model_inputs", 1)
    body = monitor_body(rt, "churn", "blue", "azureml:train:1", signals={
        "quality": signal("DataQuality", "churn", "blue", "azureml:train:1", ["2", "3"]),
        "cats": signal("DataDrift", "churn", "blue", "azureml:train:1", ["4"],
                       featureDataTypeOverride={"4": "Categorical"},
                       metricThresholds=[{"dataType": "Categorical",
                                          "metric": "PearsonsChiSquaredTest"}])})
    put(rt, "/schedules/mon-q", body)
    j = wait_job(rt, trigger(rt, "mon-q"))
    assert j["properties"]["status"] == "Completed", j
    res = results_of(j)["signals"]
    q = {(f["feature"], f["metric"]): f for f in res["quality"]["features"]}
    assert set(q) == {(f, m) for f in ("2", "3")
                      for m in ("NullValueRate", "DataTypeErrorRate", "OutOfBoundsRate")}
    assert q[("2", "OutOfBoundsRate")]["value"] == pytest.approx(0.1, abs=1e-12)
    assert not q[("2", "OutOfBoundsRate")]["passed"] and q[("3", "NullValueRate")]["passed"]
    [c] = res["cats"]["features"]
    assert c["metric"] == "PearsonsChiSquaredTest" and c["threshold"] == 0.05
    assert c["value"] == 0.0 and not c["passed"]   # unseen values: chi2 infinite, p 0


class Receiver(http.server.BaseHTTPRequestHandler):
    """A webhook receiver that fails the first `fail` POSTs with 500."""
    bodies = []
    fail = 0

    def do_POST(self):
        body = self.rfile.read(int(self.headers["Content-Length"]))
        Receiver.bodies.append((self.headers.get("Content-Type"), json.loads(body)))
        code = 500 if len(Receiver.bodies) <= Receiver.fail else 200
        self.send_response(code)
        self.send_header("Content-Length", "0")
        self.end_headers()

    def log_message(self, *a):
        pass


@pytest.fixture
def receiver():
    Receiver.bodies = []
    srv = http.server.HTTPServer(("127.0.0.1", 0), Receiver)
    t = threading.Thread(target=srv.serve_forever, daemon=True)
    t.start()
    yield srv
    srv.shutdown()


def test_webhook_alert_with_retries(runtime, tmp_path, receiver):
    rt = runtime
    Receiver.fail = 2
    ref, sent = setup_two(rt, tmp_path, n=90)
    url = "http://127.0.0.1:%d/hook" % receiver.server_address[1]
    put(rt, "/schedules/mon-hook", monitor_body(rt, "churn", "green", "azureml:churn-training:1",
                                                webhooks=[url]))
    job = wait_job(rt, trigger(rt, "mon-hook"))
    assert job["properties"]["properties"]["monitorStatus"] == "Failed"
    deadline = time.monotonic() + 60
    while len(Receiver.bodies) < 3 and time.monotonic() < deadline:
        time.sleep(0.1)
    assert len(Receiver.bodies) == 3, rt.logtext()[-2000:]   # 2 failures, then delivered
    ctype, body = Receiver.bodies[-1]
    assert ctype == "application/json"
    assert body["schemaId"] == "mldeck.monitor.alert/1" and body["status"] == "Failed"
    assert body["monitor"] == "mon-hook" and body["job"] == job["name"]
    assert (body["endpoint"], body["deployment"]) == ("churn", "green")
    assert body["text"].startswith("Monitor mon-hook on churn/green: signal drift failed")
    assert body["links"]["job"] == rt.ws + "/jobs/" + job["name"]
    [sig] = body["signals"]
    assert sig["name"] == "drift" and {"0", "1"} <= {f["feature"] for f in sig["failedFeatures"]}
    assert all(b == body for _, b in Receiver.bodies)   # the same alert each attempt
    rt.wait_log("alert delivered to %s (HTTP 200, attempt 3)" % url, timeout=10)
    assert metric(rt, "mldeck_monitor_webhooks_total", result="retried") == 2
    assert metric(rt, "mldeck_monitor_webhooks_total", result="delivered") == 1


def test_webhook_that_never_answers_gives_up(runtime, tmp_path, receiver):
    rt = runtime
    Receiver.fail = 100
    setup_two(rt, tmp_path, n=60)
    url = "http://127.0.0.1:%d/down" % receiver.server_address[1]
    put(rt, "/schedules/mon-down", monitor_body(rt, "churn", "green", "azureml:churn-training:1",
                                                webhooks=[url]))
    wait_job(rt, trigger(rt, "mon-down"))
    rt.wait_log("alert to %s not delivered: HTTP 500" % url, timeout=60)
    assert len(Receiver.bodies) == 5
    assert metric(rt, "mldeck_monitor_webhooks_total", result="failed") == 1


@pytest.mark.parametrize("case", ["missing", "empty", "no-common-columns", "wrong-types",
                                  "unknown-feature", "fifo", "loop"])
def test_bad_reference_fails_the_run_clearly(runtime, tmp_path, case):
    rt = runtime
    key = native_deployment(rt, data_collector=collector(outputs=None))
    score(rt, "churn", RNG.normal(0, 1, (5, 30)).tolist(), key)
    wait_records(rt, "churn", "blue", "model_inputs", 1)
    path = str(tmp_path / "ref.jsonl")
    signals = None
    if case == "missing":
        path = str(tmp_path / "nowhere.jsonl")
        want = "reference data %s" % path
    elif case == "empty":
        open(path, "w").close()
        want = "the reference data %s is empty" % path
    elif case == "fifo":  # opening it waited for a writer forever, and the monitors' thread
        os.mkfifo(path)
        want = "%s is not a regular file" % path
    elif case == "loop":  # two links back: the walk branched twice a level, without end
        path = str(tmp_path / "refdir")
        os.makedirs(path)
        reference_file(os.path.join(path, "ref.jsonl"), [])
        os.symlink(".", os.path.join(path, "a"))
        os.symlink(".", os.path.join(path, "b"))
        want = "%s/a leads back to a folder above it" % path
    elif case == "no-common-columns":
        reference_file(path, [])
        with open(path, "w") as f:
            f.write('{"age": 3, "plan": "basic"}\n')
        want = "has no column in common with the reference data"
    else:
        with open(path, "w") as f:
            for i in range(10):
                f.write(json.dumps({str(k): "text%d" % i for k in range(30)}) + "\n")
        want = ("feature '0' holds string values: it can only be categorical"
                if case == "wrong-types" else "feature 'nope' is not a column of the reference")
        body = monitor_body(rt, "churn", "blue", path)
        sig = body["properties"]["action"]["monitorDefinition"]["signals"]["drift"]
        if case == "wrong-types":
            sig["featureDataTypeOverride"] = {"0": "Numerical"}
        else:
            sig["features"] = {"filterType": "FeatureSubset", "features": ["nope"]}
        signals = body["properties"]["action"]["monitorDefinition"]["signals"]
    put(rt, "/schedules/bad", monitor_body(rt, "churn", "blue", path, signals=signals))
    j = wait_job(rt, trigger(rt, "bad"))
    assert j["properties"]["status"] == "Failed", j
    assert want in j["properties"]["properties"]["error"], j["properties"]["properties"]
    # nothing else is disturbed: scoring goes on, the schedule is still there
    score(rt, "churn", [[0.5] * 30], key)
    assert rt.http("GET", "ws:/schedules/bad")[0] == 200
    s, _, logs = rt.http("POST", "ws:/onlineEndpoints/churn/deployments/blue/getLogs", {})
    assert "[monitor] run %s failed" % j["name"] in logs["content"]


def test_bad_definitions_are_refused(runtime, tmp_path):
    rt = runtime
    native_deployment(rt)
    body = monitor_body(rt, "churn", "blue", "azureml:x:1")
    defn = body["properties"]["action"]["monitorDefinition"]
    for mutate, says in [
        (lambda d: d["signals"]["drift"].update(signalType="Custom"), "signalType 'Custom'"),
        (lambda d: d["signals"]["drift"]["metricThresholds"].append(
            {"dataType": "Numerical", "metric": "PearsonsChiSquaredTest"}),
         "PearsonsChiSquaredTest is not a Numerical metric"),
        (lambda d: d["signals"]["drift"]["productionData"].update(windowSize="7 days"),
         "windowSize"),
        (lambda d: d.update(signals={}), "signals"),
        (lambda d: d["signals"]["drift"].pop("referenceData"), "referenceData"),
    ]:
        broken = json.loads(json.dumps(body))
        mutate(broken["properties"]["action"]["monitorDefinition"])
        s, _, b = rt.http("PUT", "ws:/schedules/broken", broken)
        assert s == 400 and says in b["error"]["message"], (says, b)
    assert defn["signals"]["drift"]["signalType"] == "DataDrift"


def test_live_drift_follows_the_stream(runtime, tmp_path):
    rt = runtime
    rng = np.random.default_rng(7)
    key = native_deployment(rt, data_collector=collector(outputs=None))
    ref = rng.normal(0, 1, (3000, 30)).round(6)
    data_asset(rt, "train", reference_file(tmp_path / "t.jsonl", ref.tolist()))
    put(rt, "/schedules/live", monitor_body(rt, "churn", "blue", "azureml:train:1"))
    wait_live(rt, "churn", "blue", lambda live: live["monitor"] == "live")
    rows = rng.normal(0, 1, (1800, 30)).round(6)  # past DRIFT_MIN_ROWS (1,000)
    rows[:, 5] += 1.0                       # feature 5 moves by one reference sd
    rows[:180, 7] = 99.0                    # 10 % of feature 7 out of the reference's range
    for i in range(0, 1800, 9):
        score(rt, "churn", rows[i:i + 9].tolist(), key)
    v = wait_live(rt, "churn", "blue", lambda live: live["rows"] == 1800)
    live = v["live"]["model_inputs"]
    top = live["features"][:2]              # ranked by how far past its threshold
    assert [f["feature"] for f in top] == ["7", "5"], live["features"][:3]
    assert all(not f["passed"] for f in top) and live["features"][2]["passed"]
    assert top[1]["metric"] == "NormalizedWassersteinDistance"
    exact = {k: st.wasserstein_distance(ref[:, k], rows[:, k]) / np.std(ref[:, k], ddof=1)
             for k in range(30)}
    for f in live["features"]:              # the live estimate is close to the exact value
        assert abs(f["value"] - exact[int(f["feature"])]) < 0.02, (f, exact[int(f["feature"])])
    oob7 = np.mean((rows[:, 7] < ref[:, 7].min()) | (rows[:, 7] > ref[:, 7].max()))
    f7 = next(f for f in live["features"] if f["feature"] == "7")
    assert f7["outOfBoundsRate"] == pytest.approx(oob7) and f7["nullRate"] == 0
    assert metric(rt, "mldeck_feature_drift", endpoint="churn", deployment="blue",
                  signal="DataDrift", feature="5",
                  metric="normalized_wasserstein_distance") == pytest.approx(top[1]["value"],
                                                                             rel=1e-6)
    assert metric(rt, "mldeck_data_quality", endpoint="churn", deployment="blue", feature="7",
                  metric="out_of_bounds_rate") == pytest.approx(oob7)
    assert v["value"][0]["name"] == "live" and v["value"][0]["liveFailing"]
    # a deleted monitor stops comparing
    assert rt.http("DELETE", "ws:/schedules/live")[0] == 200
    deadline = time.monotonic() + 30
    while "live" in monitors_view(rt, "churn", "blue"):
        assert time.monotonic() < deadline
        time.sleep(0.1)


def test_batch_views_of_jobs_skip_monitor_runs(runtime, tmp_path):
    """A monitor run is a job but not a batch job: a batch endpoint's jobs (even one named as
    the monitored online endpoint) and tag azureml.batchrun leave it out, as the filters go by
    what the job shows; tag azureml.modelmonitor finds it; it has no files to download."""
    from test_batch import invoke, write_csv
    rt = runtime
    native_deployment(rt)
    put(rt, "/schedules/bad", monitor_body(rt, "churn", "blue", str(tmp_path / "nowhere.jsonl")))
    run = wait_job(rt, trigger(rt, "bad"))["name"]
    put(rt, "/batchEndpoints/churn", {"properties": {"authMode": "AADToken"}})
    put(rt, "/batchEndpoints/churn/deployments/nightly", {"properties": {
        "model": {"referenceType": "Id", "assetId": "azureml:churn:1"}}})
    s, _, b = rt.http("PATCH", "ws:/batchEndpoints/churn",
                      {"properties": {"defaults": {"deploymentName": "nightly"}}})
    assert s == 200, b
    os.makedirs(tmp_path / "in")
    write_csv(str(tmp_path / "in" / "a.csv"), 20, cols=30)
    batch = wait_job(rt, invoke(rt, "churn", str(tmp_path / "in"))["name"])
    assert batch["properties"]["status"] == "Completed", batch

    def names(query):
        s, _, b = rt.http("GET", "ws:/jobs" + query)
        assert s == 200, b
        return [j["name"] for j in b["value"]]
    assert set(names("")) == {run, batch["name"]}
    assert names("?properties=azureml.endpointname=churn") == [batch["name"]]
    assert names("?tag=azureml.batchrun") == [batch["name"]]
    assert names("?tag=azureml.modelmonitor") == [run]
    s, _, b = rt.http("GET", "ws:/jobs/%s/files" % run)
    assert s == 400 and "is a monitor run" in b["error"]["message"], b
    assert rt.http("GET", "ws:/jobs/%s/files" % batch["name"])[0] == 200
