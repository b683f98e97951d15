"""Data collection (issue 12 item 2): a deployment's dataCollector writes Azure's
JSONL records under modelDataCollector/{ep}/{dep}/{collection}/{period}/, sampled,
rolled by its rate, within a disk quota whose losses are counted."""

import calendar
import json
import os
import re
import subprocess
import time

from monitor_env import (collected_files, collected_root, collector, metric, native_deployment,
                         put, records, score, wait_records)

# The record of Azure's model data collector (azureml-next.md 2.1), as written.
MODEL_KEYS = {"specversion", "id", "source", "type", "datacontenttype", "time", "data",
              "contentrange", "correlationid", "xrequestid", "modelversion", "collectdatatype",
              "agent"}
PAYLOAD_KEYS = (MODEL_KEYS - {"collectdatatype"}) | {"path", "method"}
UUID = re.compile(r"^[0-9a-f]{8}-[0-9a-f]{4}-4[0-9a-f]{3}-[89ab][0-9a-f]{3}-[0-9a-f]{12}$")
TIME = re.compile(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ$")


def raw_data(line):
    """The bytes of "data" as the line holds them (contentrange counts these)."""
    start = line.index('"data":') + len('"data":')
    return line[start:line.index(',"contentrange":')]


def check_record(rt, path, line, collection, ep="churn", dep="blue"):
    rec = json.loads(line)
    keys = PAYLOAD_KEYS if collection in ("request", "response") else MODEL_KEYS
    assert keys <= set(rec), (keys - set(rec), rec)
    assert rec["specversion"] == "1.0" and UUID.match(rec["id"]), rec
    assert rec["source"] == rt.ws + "/onlineEndpoints/%s/deployments/%s" % (ep, dep)
    assert rec["type"] == "azureml.inference." + collection
    assert rec["datacontenttype"] == "application/json" and TIME.match(rec["time"])
    n = len(raw_data(line).encode())
    assert rec["contentrange"] == "bytes 0-%d/%d" % (n - 1, n)
    if collection not in ("request", "response"):
        assert rec["collectdatatype"] == "pandas.core.frame.DataFrame"
        assert isinstance(rec["data"], list) and all(isinstance(r, dict) for r in rec["data"])
    # the file sits in the folder of its record's hour
    t = time.strptime(rec["time"], "%Y-%m-%dT%H:%M:%SZ")
    assert os.path.dirname(path).endswith("/%s/%s" % (collection, time.strftime("%Y/%m/%d/%H", t)))
    return rec


def lines(rt, ep, dep, collection):
    out = []
    for f in collected_files(rt, ep, dep, collection):
        with open(f) as fh:
            out += [(f, line.rstrip("\n")) for line in fh if line.endswith("\n")]
    return out


def test_records_as_azure_writes_them(runtime):
    rt = runtime
    key = native_deployment(rt, data_collector=collector(
        request=1.0, response=1.0, headers=["x-ms-client-request-id", "user-agent", "x-absent"]))
    sent = []
    for i in range(6):
        rows = [[0.1 * i + j for j in range(30)], [-1.5] * 30]
        hd, answer = score(rt, "churn", rows, key,
                           headers={"x-ms-client-request-id": "corr-%d" % i,
                                    "x-request-id": "req-%d" % i})
        sent.append((rows, answer))
    wait_records(rt, "churn", "blue", "response", 6)
    for collection in ("model_inputs", "model_outputs", "request", "response"):
        got = lines(rt, "churn", "blue", collection)
        assert len(got) == 6, (collection, got)
        for i, (path, line) in enumerate(sorted(got, key=lambda x: json.loads(x[1])["xrequestid"])):
            rec = check_record(rt, path, line, collection)
            rows, answer = sent[i]
            assert rec["xrequestid"] == "req-%d" % i and rec["correlationid"] == "corr-%d" % i
            if collection == "model_inputs":   # rows keyed "0", "1", ... as pandas names them
                assert rec["data"] == [{str(k): v for k, v in enumerate(r)} for r in rows]
            elif collection == "model_outputs":
                assert rec["data"] == [{"0": p} for p in answer]
            elif collection == "request":
                assert rec["data"] == {"data": rows} and rec["method"] == "POST"
                assert rec["headers"] == {"x-ms-client-request-id": "corr-%d" % i,
                                          "user-agent": "Python-urllib/3.11"}
            else:
                assert rec["data"] == answer and rec["statuscode"] == 200
    assert metric(rt, "mldeck_collector_records_total", endpoint="churn", deployment="blue",
                  collection="model_inputs") == 6
    # the files are the default datastore's, named by this runtime's instance
    files = collected_files(rt, "churn", "blue", "model_inputs")
    assert len(files) == 1 and re.match(r"^[0-9a-f]{16}\.jsonl$", os.path.basename(files[0]))


def test_no_collector_no_files_and_the_setting_round_trips(make_runtime):
    rt = make_runtime().start()
    key = native_deployment(rt, dep="plain")
    score(rt, "churn", [[0.5] * 30], key)
    dc = collector(inputs=0.25, outputs=None, rolling="day", headers=["X-Trace"])
    put(rt, "/onlineEndpoints/churn/deployments/other",
        {"properties": {"model": "azureml:churn:1", "environmentId": "azureml:native:1",
                        "dataCollector": dc}})
    rt.wait_deployment("churn", "other")
    want = {"collections": {"model_inputs": {"dataCollectionMode": "Enabled",
                                             "samplingRate": 0.25}},
            "rollingRate": "Day", "requestLogging": {"captureHeaders": ["X-Trace"]}}
    s, _, d = rt.http("GET", "ws:/onlineEndpoints/churn/deployments/other")
    assert d["properties"]["dataCollector"] == want
    rt.stop()
    rt2 = make_runtime(home=rt.home).start()
    s, _, d = rt2.http("GET", "ws:/onlineEndpoints/churn/deployments/other")
    assert d["properties"]["dataCollector"] == want
    assert "dataCollector" not in rt2.http(
        "GET", "ws:/onlineEndpoints/churn/deployments/plain")[2]["properties"]
    assert not os.path.exists(os.path.join(collected_root(rt2), "churn", "plain"))


def test_bad_data_collector_is_refused(runtime):
    rt = runtime
    native_deployment(rt)
    base = {"model": "azureml:churn:1", "environmentId": "azureml:native:1"}
    for dc, field in [
        ({"collections": {"model_inputs": {"dataCollectionMode": "Sometimes"}}},
         "dataCollectionMode"),
        ({"collections": {"model_inputs": {"samplingRate": 1.5}}}, "samplingRate"),
        ({"collections": {"../x": {"dataCollectionMode": "Enabled"}}}, "collection name"),
        ({"collections": []}, "collections"),
        ({"collections": {}, "rollingRate": "Week"}, "rollingRate"),
        ({"collections": {}, "requestLogging": {"captureHeaders": ["bad header"]}},
         "captureHeaders"),
    ]:
        s, _, b = rt.http("PUT", "ws:/onlineEndpoints/churn/deployments/bad",
                          {"properties": dict(base, dataCollector=dc)})
        assert s == 400 and field in b["error"]["message"], (dc, b)
    assert rt.http("GET", "ws:/onlineEndpoints/churn/deployments/bad")[0] == 404


def test_sampling_takes_inputs_and_outputs_together(runtime):
    rt = runtime
    key = native_deployment(rt, data_collector=collector(inputs=0.3, outputs=0.3))
    for i in range(400):
        score(rt, "churn", [[i / 400.0] * 30], key, headers={"x-request-id": "r%d" % i})
    time.sleep(0.3)
    ins = wait_records(rt, "churn", "blue", "model_inputs", 1)
    outs = records(rt, "churn", "blue", "model_outputs")
    # binomial(400, 0.3): mean 120, sd 9.2; these bounds are 6.5 sd apart
    assert 60 <= len(ins) <= 180, len(ins)
    assert sorted(r["xrequestid"] for r in ins) == sorted(r["xrequestid"] for r in outs)
    assert not collected_files(rt, "churn", "blue", "request")


def test_rolling_rate_cuts_the_folders(runtime):
    rt = runtime
    depth = {"Year": 1, "Month": 2, "Day": 3, "Hour": 4, "Minute": 5}
    key = native_deployment(rt, dep="year", data_collector=collector(outputs=None, rolling="Year"))
    for rate in ("Month", "Day", "Minute"):
        put(rt, "/onlineEndpoints/churn/deployments/" + rate.lower(),
            {"properties": {"model": "azureml:churn:1", "environmentId": "azureml:native:1",
                            "dataCollector": collector(outputs=None, rolling=rate)}})
        rt.wait_deployment("churn", rate.lower())
    for dep, rate in (("year", "Year"), ("month", "Month"), ("day", "Day"), ("minute", "Minute")):
        s, _, b = rt.http("POST", "/endpoints/churn/score", {"data": [[1.0] * 30]}, auth=False,
                          headers={"Authorization": "Bearer " + key,
                                   "azureml-model-deployment": dep})
        assert s == 200, b
        rec = wait_records(rt, "churn", dep, "model_inputs", 1)[0]
        [path] = collected_files(rt, "churn", dep, "model_inputs")
        rel = os.path.relpath(os.path.dirname(path),
                              os.path.join(collected_root(rt), "churn", dep, "model_inputs"))
        t = time.strptime(rec["time"], "%Y-%m-%dT%H:%M:%SZ")
        assert rel == time.strftime("/".join(["%Y", "%m", "%d", "%H", "%M"][:depth[rate]]), t)


def test_quota_removes_the_oldest_files_and_counts_the_loss(runtime):
    rt = runtime
    quota = 60 * 1024
    key = native_deployment(rt, data_collector=collector(),
                            variables={"MLDECK_COLLECT_QUOTA_MB": str(quota / 1048576.0)})
    n = 300
    for i in range(n):   # about 1.2 KB of records a request: 6 times the quota
        score(rt, "churn", [[i / 7.0] * 30], key, headers={"x-request-id": "q%03d" % i})
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline:
        written = metric(rt, "mldeck_collector_records_total", endpoint="churn",
                         deployment="blue", collection="model_inputs") or 0
        if written >= n:
            break
        time.sleep(0.05)
    assert written == n
    lost = metric(rt, "mldeck_collector_lost_records_total", endpoint="churn",
                  deployment="blue", collection="model_inputs", reason="quota")
    kept = records(rt, "churn", "blue", "model_inputs")
    disk = sum(os.path.getsize(f) for c in ("model_inputs", "model_outputs")
               for f in collected_files(rt, "churn", "blue", c))
    assert disk <= quota, disk
    assert metric(rt, "mldeck_collector_disk_bytes", endpoint="churn", deployment="blue") == disk
    assert lost > 0 and lost + len(kept) == n, (lost, len(kept))
    ids = sorted(r["xrequestid"] for r in kept)
    assert ids[-1] == "q%03d" % (n - 1)            # the newest stay
    assert ids == ["q%03d" % i for i in range(n - len(kept), n)]   # the oldest went, in order


SCORE_PY = '''
import json
import pandas as pd
from azureml.ai.monitoring import Collector
from azureml.ai.monitoring.context import BasicCorrelationContext

def init():
    global inputs, outputs
    inputs = Collector(name="model_inputs", on_error=lambda e: print("collect failed", e))
    outputs = Collector(name="model_outputs")

def run(raw):
    rows = json.loads(raw)["data"]
    df = pd.DataFrame(rows, columns=["age", "plan"])
    ctx = inputs.collect(df)
    out = pd.DataFrame({"score": [r[0] / 100.0 for r in rows]})
    outputs.collect(out, ctx)
    Collector(name="audit").collect([{"n": len(rows)}], BasicCorrelationContext(id="fixed"))
    return out["score"].tolist()
'''


def test_score_py_collects_with_azures_collector(runtime, tmp_path):
    rt = runtime
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text(SCORE_PY)
    (tmp_path / "model.txt").write_text("unused")
    put(rt, "/environments/pyenv/versions/1",
        {"properties": {"environmentKind": "python", "interpreterPath": "/usr/bin/python3"}})
    put(rt, "/models/custom/versions/1",
        {"properties": {"modelType": "custom_model", "modelUri": str(tmp_path / "model.txt")}})
    put(rt, "/onlineEndpoints/pyep", {"properties": {"authMode": "Key"}})
    dc = collector(request=1.0)
    dc["collections"]["audit"] = {"dataCollectionMode": "Enabled"}
    put(rt, "/onlineEndpoints/pyep/deployments/blue",
        {"properties": {"model": "azureml:custom:1", "environmentId": "azureml:pyenv:1",
                        "codeConfiguration": {"codeId": str(code), "scoringScript": "score.py"},
                        "dataCollector": dc}})
    d = rt.wait_deployment("pyep", "blue")
    assert d["properties"]["provisioningState"] == "Succeeded", rt.logtext()[-3000:]
    rt.http("PATCH", "ws:/onlineEndpoints/pyep", {"properties": {"traffic": {"blue": 100}}})
    key = rt.http("POST", "ws:/onlineEndpoints/pyep/listKeys")[2]["primaryKey"]
    for i in range(3):
        _, answer = score(rt, "pyep", [[30 + i, "basic"], [40 + i, "pro"]], key,
                          headers={"x-request-id": "py-%d" % i})
        assert answer == [(30 + i) / 100.0, (40 + i) / 100.0]
    ins = wait_records(rt, "pyep", "blue", "model_inputs", 3)
    outs = wait_records(rt, "pyep", "blue", "model_outputs", 3)
    audit = wait_records(rt, "pyep", "blue", "audit", 3)
    assert len(ins) == len(outs) == len(audit) == 3
    by_rid = {r["xrequestid"]: r for r in ins}
    assert set(by_rid) == {"py-0", "py-1", "py-2"}
    assert by_rid["py-1"]["data"] == [{"age": 31, "plan": "basic"}, {"age": 41, "plan": "pro"}]
    for o in outs:   # the context collect() returned links outputs to inputs
        assert o["correlationid"] == by_rid[o["xrequestid"]]["correlationid"]
        assert o["data"][0] == {"score": int(o["xrequestid"][3:]) * 0.01 + 0.3}
    assert {a["correlationid"] for a in audit} == {"fixed"}
    assert all(a["type"] == "azureml.inference.audit" for a in audit)
    # score.py deployments collect model data only through Collector; payloads by the runtime
    assert len(wait_records(rt, "pyep", "blue", "request", 3)) == 3


def test_a_pretty_printed_body_is_one_record_and_cannot_forge_others(runtime):
    """Request logging keeps a JSON body as JSON. A body sent pretty-printed (json.dumps with
    indent, as many clients do) holds newlines between its tokens; written as it came, one
    record spread over several lines of the JSONL file, and a body whose middle line is a
    whole record of its own put a forged record in the collected data (what monitors read).
    Every request is one line, its data the same JSON value."""
    rt = runtime
    key = native_deployment(rt, data_collector=collector(request=1.0))
    forged = {"specversion": "1.0", "id": "forged", "type": "azureml.inference.request",
              "time": "2024-01-01T00:00:00Z", "data": {"data": [[999.0] * 30]}}
    bodies = [{"data": [[0.5] * 30]}, [forged, {"data": [[1.0] * 30]}]]
    raws = [json.dumps(bodies[0], indent=2),
            "[\n" + json.dumps(forged) + "\r\n,\t" + json.dumps(bodies[1][1]) + "\n]"]
    for i, raw in enumerate(raws):
        rt.http("POST", "/endpoints/churn/score", raw=raw.encode(), auth=False,
                headers={"Authorization": "Bearer " + key, "Content-Type": "application/json",
                         "x-request-id": "pretty-%d" % i})
    wait_records(rt, "churn", "blue", "request", 2)
    got = lines(rt, "churn", "blue", "request")
    assert len(got) == 2, got
    for path, line in got:
        rec = check_record(rt, path, line, "request")
        i = int(rec["xrequestid"].rsplit("-", 1)[1])
        assert rec["data"] == bodies[i], rec
        assert "\n" not in raw_data(line) and "\r" not in raw_data(line)


def test_collected_inputs_are_the_rows_scored(runtime):
    """model_inputs holds the rows scoring read, from the member it read them: a body with
    input_data (which scoring takes) and a later data member carrying nested JSON with
    newlines and a whole record inside was recorded from data, as written, over three lines
    of the file: a forged record between two broken lines, and every monitor run over that
    hour failed."""
    rt = runtime
    key = native_deployment(rt, data_collector=collector())
    forged = json.dumps({"specversion": "1.0", "id": "FORGED", "time": "2020-01-01T00:00:00Z",
                         "data": [{"0": 999}]})
    rows = [[0.25 * j for j in range(30)]]
    raws = ['{"input_data": %s, "data": [[{"x":\n%s\n}]]}' % (json.dumps(rows), forged),
            '{"input_data": {"columns": [], "data": %s}}' % json.dumps(rows)]
    for i, raw in enumerate(raws):
        s, _, b = rt.http("POST", "/endpoints/churn/score", raw=raw.encode(), auth=False,
                          headers={"Authorization": "Bearer " + key,
                                   "Content-Type": "application/json",
                                   "x-request-id": "in-%d" % i})
        assert s == 200, b
    wait_records(rt, "churn", "blue", "model_inputs", 2)
    got = lines(rt, "churn", "blue", "model_inputs")
    assert len(got) == 2, got
    for path, line in got:
        rec = check_record(rt, path, line, "model_inputs")
        assert rec["data"] == [{str(k): v for k, v in enumerate(r)} for r in rows], rec


def test_a_huge_captured_header_leaves_the_record_valid(runtime):
    """A captured header's value escapes to six bytes a byte (a tab is \\u0009): one of 12,000
    tabs passed the headers' buffer once escaped, its name was written without a value, and
    the record was not JSON. Each header is written whole."""
    rt = runtime
    key = native_deployment(rt, data_collector=collector(request=1.0,
                                                         headers=["x-trace", "x-b"]))
    trace = "a" + "\t" * 12000 + "b"
    score(rt, "churn", [[0.5] * 30], key, headers={"x-trace": trace, "x-b": "zz"})
    [rec] = wait_records(rt, "churn", "blue", "request", 1)
    assert rec["headers"] == {"x-trace": trace, "x-b": "zz"}, rec["headers"]


def test_a_file_size_limit_loses_records_not_the_runtime(runtime):
    """Past `ulimit -f` a write fails (EFBIG): the runtime ignores SIGXFSZ, which would
    have killed it, and the collector cuts the file back to its last whole record."""
    rt = runtime
    key = native_deployment(rt, data_collector=collector(outputs=None))
    files = [os.path.join(d, f) for d, _, fs in os.walk(rt.home) for f in fs]
    limit = max(os.path.getsize(f) for f in files + [rt.log_path]) + 256 * 1024
    subprocess.run(["prlimit", "--pid", str(rt.proc.pid), "--fsize=%d:" % limit], check=True)
    rows = [[i / 7.0 + k for i in range(30)] for k in range(100)]   # ~60 KB a record
    for _ in range(2 * limit // (60 * 1024) + 4):
        score(rt, "churn", rows, key)
    deadline = time.monotonic() + 30
    while time.monotonic() < deadline and not metric(
            rt, "mldeck_collector_lost_records_total", endpoint="churn", deployment="blue",
            collection="model_inputs", reason="error"):
        time.sleep(0.05)
    assert rt.proc.poll() is None, rt.logtext()[-2000:]
    assert metric(rt, "mldeck_collector_lost_records_total", endpoint="churn", deployment="blue",
                  collection="model_inputs", reason="error") > 0
    for f in collected_files(rt, "churn", "blue", "model_inputs"):
        with open(f, "rb") as fh:
            text = fh.read()
        assert len(text) <= limit and text.endswith(b"\n"), (f, len(text), text[-80:])
        for line in text.splitlines():
            json.loads(line)        # every record whole
    score(rt, "churn", [[0.5] * 30], key)   # scoring goes on
    subprocess.run(["prlimit", "--pid", str(rt.proc.pid), "--fsize=unlimited:"], check=True)
