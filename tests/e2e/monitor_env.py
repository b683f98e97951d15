"""Helpers for the monitoring tests: a native churn-like deployment with a data
collector, scoring it, and reading what the collector wrote."""

import glob
import json
import os
import time

from conftest import REPO

DATA = os.path.join(REPO, "tests", "data")
LOGISTIC = os.path.join(DATA, "logistic.json")   # 30 features, binary


def put(rt, path, body, ok=(200, 201)):
    s, _, b = rt.http("PUT", "ws:" + path, body)
    assert s in ok, (path, s, b)
    return b


def collector(inputs=1.0, outputs=1.0, request=None, response=None, rolling=None, headers=None):
    cs = {}
    for name, rate in (("model_inputs", inputs), ("model_outputs", outputs),
                       ("request", request), ("response", response)):
        if rate is not None:
            cs[name] = {"dataCollectionMode": "Enabled", "samplingRate": rate}
    dc = {"collections": cs}
    if rolling:
        dc["rollingRate"] = rolling
    if headers:
        dc["requestLogging"] = {"captureHeaders": headers}
    return dc


def native_deployment(rt, ep="churn", dep="blue", data_collector=None, variables=None,
                      model=LOGISTIC):
    put(rt, "/environments/native/versions/1", {"properties": {"environmentKind": "native"}})
    put(rt, "/models/churn/versions/1", {"properties": {"modelType": "linear",
                                                        "modelUri": model}})
    put(rt, "/onlineEndpoints/" + ep, {"properties": {"authMode": "Key"}})
    props = {"model": "azureml:churn:1", "environmentId": "azureml:native:1"}
    if data_collector is not None:
        props["dataCollector"] = data_collector
    if variables:
        props["environmentVariables"] = variables
    put(rt, "/onlineEndpoints/%s/deployments/%s" % (ep, dep), {"properties": props})
    d = rt.wait_deployment(ep, dep)
    assert d["properties"]["provisioningState"] == "Succeeded", d
    s, _, b = rt.http("PATCH", "ws:/onlineEndpoints/" + ep,
                      {"properties": {"traffic": {dep: 100}}})
    assert s == 200, b
    return rt.http("POST", "ws:/onlineEndpoints/%s/listKeys" % ep)[2]["primaryKey"]


def score(rt, ep, rows, key, headers=None):
    h = {"Authorization": "Bearer " + key}
    h.update(headers or {})
    s, hd, b = rt.http("POST", "/endpoints/%s/score" % ep, {"data": rows}, auth=False,
                       headers=h)
    assert s == 200, b
    return hd, b


def collected_root(rt):
    return os.path.join(rt.home, "blobs", "workspaceblobstore", "modelDataCollector")


def collected_files(rt, ep, dep, collection):
    base = os.path.join(collected_root(rt), ep, dep, collection)
    return sorted(glob.glob(os.path.join(base, "**", "*.jsonl"), recursive=True))


def records(rt, ep, dep, collection):
    out = []
    for f in collected_files(rt, ep, dep, collection):
        with open(f) as fh:
            out += [json.loads(line) for line in fh if line.strip()]
    return out


def wait_records(rt, ep, dep, collection, n, timeout=30.0):
    """The collection's records once there are at least n (the writer runs every 100 ms)."""
    deadline = time.monotonic() + timeout
    while True:
        got = records(rt, ep, dep, collection)
        if len(got) >= n or time.monotonic() > deadline:
            return got
        time.sleep(0.05)


def prometheus(rt):
    s, _, text = rt.http("GET", "/metrics")
    assert s == 200
    return text


def metric(rt, name, **labels):
    """The value of one sample of /metrics, or None."""
    for line in prometheus(rt).splitlines():
        if not line.startswith(name + "{"):
            continue
        lbl = line[len(name) + 1:line.index("}")]
        got = dict(kv.split("=", 1) for kv in lbl.split(","))
        if all(got.get(k) == '"%s"' % v for k, v in labels.items()):
            return float(line.rsplit(" ", 1)[1])
    return None
