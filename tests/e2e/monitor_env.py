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
    """The default datastore's container (HOME/blobs/azureml-blobstore-{workspaceId})."""
    [container] = glob.glob(os.path.join(rt.home, "blobs", "azureml-blobstore-*")) or [
        os.path.join(rt.home, "blobs", "azureml-blobstore-none")]
    return os.path.join(container, "modelDataCollector")


def collected_files(rt, ep, dep, collection):
    base = os.path.join(collected_root(rt), ep, dep, collection)
    return sorted(glob.glob(os.path.join(base, "**", "*.jsonl"), recursive=True))


def records(rt, ep, dep, collection):
    """The records written so far (a line the writer is still writing is left out)."""
    out = []
    for f in collected_files(rt, ep, dep, collection):
        with open(f) as fh:
            out += [json.loads(line) for line in fh if line.endswith("\n")]
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


# ---- monitors -------------------------------------------------------------------

def reference_file(path, rows):
    """A JSONL reference file of rows (lists of numbers) keyed "0", "1", ..."""
    with open(path, "w") as f:
        for r in rows:
            f.write(json.dumps({str(i): v for i, v in enumerate(r)}) + "\n")
    return str(path)


def data_asset(rt, name, path, dtype="uri_file"):
    return put(rt, "/data/%s/versions/1" % name,
               {"properties": {"dataType": dtype, "dataUri": path}})


def signal(signal_type, ep, dep, reference_uri, features, window="P1D", **extra):
    """One signal of a monitorDefinition: the deployment's collected model inputs over
    window against the reference data asset, on the named features."""
    s = {"signalType": signal_type,
         "productionData": {"inputDataType": "Rolling", "jobInputType": "uri_folder",
                            "uri": "azureml:%s-%s-model_inputs:1" % (ep, dep),
                            "windowSize": window, "windowOffset": "P0D"},
         "referenceData": {"inputDataType": "Fixed", "jobInputType": "uri_file",
                           "uri": reference_uri},
         "features": {"filterType": "FeatureSubset", "features": list(features)}}
    s.update(extra)
    return s


def monitor_body(rt, ep, dep, reference_uri, signals=None, webhooks=None, window="P1D"):
    """A CreateMonitor schedule (daily at 03:15, so it only runs when triggered). Its
    thresholds suit a few hundred rows: W1 of 600 rows of the reference's own
    distribution passes Azure's 0.1 one feature in twenty."""
    target = rt.ws + "/onlineEndpoints/%s/deployments/%s" % (ep, dep)
    production = {"inputDataType": "Rolling", "jobInputType": "uri_folder",
                  "uri": "azureml:%s-%s-model_inputs:1" % (ep, dep),
                  "windowSize": window, "windowOffset": "P0D", "dataContext": "model_inputs"}
    reference = {"inputDataType": "Fixed", "jobInputType": "uri_file", "uri": reference_uri,
                 "dataContext": "training"}
    if signals is None:
        signals = {"drift": {"signalType": "DataDrift", "productionData": production,
                             "referenceData": reference,
                             "features": {"filterType": "AllFeatures"},
                             "metricThresholds": [
                                 {"dataType": "Numerical",
                                  "metric": "NormalizedWassersteinDistance",
                                  "threshold": {"value": 0.2}},
                                 {"dataType": "Numerical",
                                  "metric": "TwoSampleKolmogorovSmirnovTest",
                                  "threshold": {"value": 0.001}}]}}
    definition = {"computeConfiguration": {"computeType": "ServerlessSpark",
                                           "instanceType": "standard_e4s_v3",
                                           "runtimeVersion": "3.3",
                                           "computeIdentity": {"computeIdentityType": "AmlToken"}},
                  "monitoringTarget": {"taskType": "Classification", "deploymentId": target},
                  "signals": signals}
    if webhooks:
        definition["alertNotificationSettings"] = {
            "webhookNotificationSettings": {"urls": list(webhooks)}}
    return {"properties": {"displayName": "monitor", "isEnabled": True,
                           "trigger": {"triggerType": "Recurrence", "frequency": "Day",
                                       "interval": 1, "schedule": {"hours": [3], "minutes": [15]},
                                       "timeZone": "UTC"},
                           "action": {"actionType": "CreateMonitor",
                                      "monitorDefinition": definition}}}


def trigger(rt, name):
    s, _, b = rt.http("POST", "ws:/schedules/%s/trigger" % name, {})
    assert s == 200, b
    assert b["scheduleActionType"] == "CreateMonitor"
    return b["submissionId"]


def wait_job(rt, name, timeout=120.0):
    deadline = time.monotonic() + timeout
    while True:
        s, _, j = rt.http("GET", "ws:/jobs/" + name)
        assert s == 200, j
        if j["properties"]["status"] in ("Completed", "Failed", "Canceled"):
            return j
        assert time.monotonic() < deadline, (j, rt.logtext()[-3000:])
        time.sleep(0.1)


def monitors_view(rt, ep, dep):
    s, _, b = rt.http("GET", "/v1/monitors?endpoint=%s&deployment=%s" % (ep, dep))
    assert s == 200, b
    return b


def wait_live(rt, ep, dep, pred, timeout=60.0):
    deadline = time.monotonic() + timeout
    while True:
        v = monitors_view(rt, ep, dep)
        live = v.get("live", {}).get("model_inputs")
        if live is not None and pred(live):
            return v
        assert time.monotonic() < deadline, (v, rt.logtext()[-2000:])
        time.sleep(0.1)
