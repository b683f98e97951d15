"""Batch endpoints, deployments, data assets, jobs and schedules over the real
binary (issue 11): each resource with Azure's shapes and defaults, invocation
on files and folders with overrides, the output as Azure writes it, errors per
item against errorThreshold, retries and timeouts, cancel, kill -9 in the middle
of a job (no row lost or written twice), a full disk, bad input, schedules."""

import json
import os
import random
import signal
import sqlite3
import subprocess
import time
import urllib.request

import pytest

from conftest import raw_exchange, repo_path

LINEAR = repo_path("demo", "models", "churn-linear.json")  # 12 features, logistic
XGB_MULTI = repo_path("tests", "data", "xgb_multi.json")  # 10 features, 3 classes


def ok(resp, *codes):
    status, _, body = resp
    assert status in (codes or (200, 201)), (status, body)
    return body


def write_csv(path, rows, cols=12, seed=0):
    """rows of cols numbers (at most 1000 distinct lines, repeated: cheap to make)."""
    rnd = random.Random(seed)
    lines = [",".join("%.4f" % rnd.gauss(0, 1) for _ in range(cols)) + "\n"
             for _ in range(min(rows, 1000))]
    with open(path, "w") as f:
        f.write(",".join("f%d" % i for i in range(cols)) + "\n")
        for r in range(rows):
            f.write(lines[r % len(lines)])


def make_folder(root, files, rows, cols=12, name="part-%03d.csv"):
    """files copies (hard links) of one CSV file."""
    os.makedirs(root, exist_ok=True)
    first = os.path.join(root, name % 0)
    write_csv(first, rows, cols)
    for i in range(1, files):
        os.link(first, os.path.join(root, name % i))
    return root


def setup_batch(rt, ep="churn-batch", dep="blue", model=LINEAR, mtype="linear", **props):
    """A model, a batch endpoint and its default deployment."""
    ok(rt.http("PUT", "ws:/models/churn/versions/1",
               {"properties": {"modelType": mtype, "modelUri": model}}))
    ok(rt.http("PUT", "ws:/batchEndpoints/" + ep, {"properties": {"authMode": "AADToken"}}))
    p = {"model": {"referenceType": "Id", "assetId": "azureml:churn:1"}}
    p.update(props)
    ok(rt.http("PUT", "ws:/batchEndpoints/%s/deployments/%s" % (ep, dep), {"properties": p}))
    ok(rt.http("PATCH", "ws:/batchEndpoints/" + ep,
               {"properties": {"defaults": {"deploymentName": dep}}}))
    return ok(rt.http("POST", "ws:/batchEndpoints/%s/listkeys" % ep))["primaryKey"]


def invoke(rt, ep, uri, kind="UriFolder", key=None, extra=None, headers=None, expect=201):
    props = {"InputData": {"customers": {"JobInputType": kind, "Uri": uri}}}
    props.update(extra or {})
    h = {"Authorization": "Bearer " + (key or rt.admin_key)}
    h.update(headers or {})
    s, hdrs, body = rt.http("POST", "/batch/%s/jobs" % ep, {"properties": props}, auth=False,
                            headers=h)
    assert s == expect, (s, body)
    if expect == 201:
        assert hdrs["location"].endswith("/jobs/" + body["name"])
    return body


def job(rt, name):
    return ok(rt.http("GET", "ws:/jobs/" + name))


def wait_job(rt, name, states=("Completed", "Failed", "Canceled"), timeout=120):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        j = job(rt, name)
        if j["properties"]["status"] in states:
            return j
        time.sleep(0.05)
    raise AssertionError("job %s still %s" % (name, job(rt, name)["properties"]["status"]))


def figures(j):
    p = j["properties"]["properties"]
    return {k: int(p[k]) for k in ("totalItems", "succeededItems", "failedItems",
                                   "totalMiniBatches", "completedMiniBatches",
                                   "failedMiniBatches")}


def output_path(j, name="predictions.csv"):
    uri = j["properties"]["outputs"]["score"]["uri"]
    assert uri.startswith("file://")
    return os.path.join(uri[len("file://"):], name)


def read_output(j, name="predictions.csv"):
    with open(output_path(j, name)) as f:
        return [line.rstrip("\n").split(" ") for line in f]


def job_dir(rt, name):
    return os.path.join(rt.home, "jobs", name)


# ---- resources ------------------------------------------------------------


def test_batch_resources_and_defaults(runtime):
    rt = runtime
    key = setup_batch(rt)
    ep = ok(rt.http("GET", "ws:/batchEndpoints/churn-batch"))
    assert ep["type"] == "Microsoft.MachineLearningServices/workspaces/batchEndpoints"
    assert ep["properties"]["authMode"] == "AADToken"
    assert ep["properties"]["scoringUri"] == rt.url + "/batch/churn-batch/jobs"
    assert ep["properties"]["scoringUri"].endswith("/jobs")
    assert ep["properties"]["defaults"]["deploymentName"] == "blue"
    assert ep["properties"]["provisioningState"] == "Succeeded"
    keys = ok(rt.http("POST", "ws:/batchEndpoints/churn-batch/listkeys"))
    assert keys["primaryKey"] == key and keys["secondaryKey"] and keys["secondaryKey"] != key
    d = ok(rt.http("GET", "ws:/batchEndpoints/churn-batch/deployments/blue"))["properties"]
    assert d["miniBatchSize"] == 10
    assert d["maxConcurrencyPerInstance"] == 1
    assert d["outputAction"] == "AppendRow"
    assert d["outputFileName"] == "predictions.csv"
    assert d["errorThreshold"] == -1
    assert d["retrySettings"] == {"maxRetries": 3, "timeout": "PT30S"}
    assert d["loggingLevel"] == "Info"
    assert d["resources"]["instanceCount"] == 1
    assert d["model"]["referenceType"] == "Id"
    assert d["model"]["assetId"].endswith("/models/churn/versions/1")
    lst = ok(rt.http("GET", "ws:/batchEndpoints/churn-batch/deployments"))["value"]
    assert [x["name"] for x in lst] == ["blue"]
    assert [x["name"] for x in ok(rt.http("GET", "ws:/batchEndpoints"))["value"]] == ["churn-batch"]
    # the CLI YAML's snake-free spellings and a timeout in seconds
    ok(rt.http("PUT", "ws:/batchEndpoints/churn-batch/deployments/green", {"properties": {
        "model": "azureml:churn:1", "miniBatchSize": 5, "outputAction": "summary_only",
        "retrySettings": {"maxRetries": 0, "timeout": 90}, "loggingLevel": "debug"}}))
    g = ok(rt.http("GET", "ws:/batchEndpoints/churn-batch/deployments/green"))["properties"]
    assert (g["outputAction"], g["retrySettings"]["timeout"], g["loggingLevel"]) == \
        ("SummaryOnly", "PT1M30S", "Debug")
    # rules: the default stays, the model stays, bad values are named
    s, _, b = rt.http("DELETE", "ws:/batchEndpoints/churn-batch/deployments/blue")
    assert s == 409 and "default" in b["error"]["message"]
    s, _, b = rt.http("DELETE", "ws:/models/churn/versions/1")
    assert s == 409 and "batch endpoint" in b["error"]["message"]
    for bad in ({"miniBatchSize": 0}, {"outputFileName": "../x"}, {"errorThreshold": -2},
                {"outputAction": "Sometimes"}, {"model": {"referenceType": "DataPath"}}):
        p = {"model": "azureml:churn:1"}
        p.update(bad)
        s, _, b = rt.http("PUT", "ws:/batchEndpoints/churn-batch/deployments/red",
                          {"properties": p})
        assert s == 400, (bad, b)
    s, _, b = rt.http("PUT", "ws:/batchEndpoints/churn-batch/deployments/red",
                      {"properties": {"model": "azureml:nope:1"}})
    assert s == 404, b
    ok(rt.http("DELETE", "ws:/batchEndpoints/churn-batch/deployments/green"), 202)
    ok(rt.http("DELETE", "ws:/batchEndpoints/churn-batch"), 202)
    assert rt.http("GET", "ws:/batchEndpoints/churn-batch")[0] == 404
    assert rt.http("GET", "ws:/batchEndpoints/churn-batch/deployments/blue")[0] == 404


def test_batch_changes_are_long_running_operations(runtime):
    """Batch endpoint and deployment PUT, PATCH and DELETE answer as Azure's
    long-running operations do (Azure-AsyncOperation, Location): a local one is
    ready at once, so its operation reads Succeeded; deleting what is gone is
    204, as for online endpoints."""
    rt = runtime

    def succeeded(h):
        url = h["azure-asyncoperation"]
        assert url.startswith(rt.url) and "/mfeOperationsStatus/" in url
        assert h["x-ms-async-operation-timeout"] == "PT30M"
        return ok(rt.http("GET", url[len(rt.url):]))["status"] == "Succeeded"

    ok(rt.http("PUT", "ws:/models/churn/versions/1",
               {"properties": {"modelType": "linear", "modelUri": LINEAR}}))
    s, h, _ = rt.http("PUT", "ws:/batchEndpoints/ops-ep", {"properties": {"authMode": "AADToken"}})
    assert s == 201 and succeeded(h)
    assert h["location"].split("?")[0] == rt.url + rt.ws + "/batchEndpoints/ops-ep"
    s, h, _ = rt.http("PATCH", "ws:/batchEndpoints/ops-ep", {"properties": {"description": "x"}})
    assert s == 200 and succeeded(h)
    model = {"model": {"referenceType": "Id", "assetId": "azureml:churn:1"}}
    for dep in ("blue", "green"):
        s, h, _ = rt.http("PUT", "ws:/batchEndpoints/ops-ep/deployments/" + dep,
                          {"properties": model})
        assert s == 201 and succeeded(h)
    assert h["location"].split("?")[0].endswith("/batchEndpoints/ops-ep/deployments/green")
    s, h, body = rt.http("DELETE", "ws:/batchEndpoints/ops-ep/deployments/green")
    assert (s, body) == (202, None) and succeeded(h)
    assert "/mfeOperationResults/" in h["location"]
    assert rt.http("GET", h["location"][len(rt.url):])[0] == 200
    assert rt.http("DELETE", "ws:/batchEndpoints/ops-ep/deployments/green")[0] == 204
    s, h, _ = rt.http("DELETE", "ws:/batchEndpoints/ops-ep")
    assert s == 202 and succeeded(h)
    assert rt.http("GET", "ws:/batchEndpoints/ops-ep/deployments/blue")[0] == 404
    assert rt.http("DELETE", "ws:/batchEndpoints/ops-ep")[0] == 204


def test_lists_page_to_the_end_and_keep_their_filters(make_runtime, tmp_path):
    """With one item a page, a filtered job list's nextLink keeps its filter,
    and every batch list verb of the CLI follows nextLink to the end
    (client_list)."""
    rt = make_runtime(extra_args=["--page-size", "1"]).start()
    folder = make_folder(str(tmp_path / "in"), 1, 5)
    model = {"model": {"referenceType": "Id", "assetId": "azureml:churn:1"}}
    setup_batch(rt, ep="ep-a")
    setup_batch(rt, ep="ep-b")
    ok(rt.http("PUT", "ws:/batchEndpoints/ep-a/deployments/green", {"properties": model}))
    names = {"ep-a": [], "ep-b": []}
    for ep in ("ep-a", "ep-b", "ep-a"):
        names[ep].append(invoke(rt, ep, folder)["name"])
    for n in names["ep-a"] + names["ep-b"]:
        assert wait_job(rt, n)["properties"]["status"] == "Completed"
    page = ok(rt.http("GET", "ws:/jobs?properties=azureml.endpointname=ep-a"))
    assert len(page["value"]) == 1 and "azureml.endpointname" in page["nextLink"]
    second = ok(rt.http("GET", page["nextLink"][len(rt.url):]))
    assert sorted(j["name"] for j in page["value"] + second["value"]) == sorted(names["ep-a"])

    def listed(*args):
        return sorted(x["name"] for x in json.loads(rt.cli(*args).stdout))

    assert listed("job", "list", "--endpoint", "ep-a") == sorted(names["ep-a"])
    assert listed("job", "list") == sorted(names["ep-a"] + names["ep-b"])
    assert listed("batch-endpoint", "list") == ["ep-a", "ep-b"]
    assert listed("batch-deployment", "list", "ep-a") == ["blue", "green"]
    for d in ("d1", "d2"):
        rt.cli("data", "create", d, "--path", folder)
    rt.cli("data", "create", "d1", "--path", folder)
    assert listed("data", "list") == ["d1", "d2"]
    assert listed("data", "show", "d1") == ["1", "2"]
    for sch in ("s1", "s2"):
        rt.cli("schedule", "create", sch, "--endpoint", "ep-a", "--input", folder,
               "--cron", "0 3 * * *", "--disabled")
    assert listed("schedule", "list") == ["s1", "s2"]
    assert rt.stop() == 0


def test_data_assets(runtime, tmp_path):
    rt = runtime
    folder = make_folder(str(tmp_path / "in"), 2, 10)
    v1 = ok(rt.http("PUT", "ws:/data/customers/versions/1",
                    {"properties": {"dataType": "uri_folder", "dataUri": folder}}))
    assert v1["name"] == "1" and v1["properties"]["dataUri"] == folder
    assert v1["id"].endswith("/data/customers/versions/1")
    v2 = ok(rt.http("POST", "ws:/data/customers/versions",
                    {"properties": {"dataType": "uri_folder", "dataUri": "file://" + folder}}))
    assert v2["name"] == "2"
    c = ok(rt.http("GET", "ws:/data/customers"))
    assert c["properties"]["latestVersion"] == "2" and c["properties"]["dataType"] == "uri_folder"
    assert [x["name"] for x in ok(rt.http("GET", "ws:/data"))["value"]] == ["customers"]
    assert len(ok(rt.http("GET", "ws:/data/customers/versions"))["value"]) == 2
    for bad in ({"dataType": "mltable", "dataUri": folder}, {"dataType": "uri_folder"},
                {"dataType": "uri_folder", "dataUri": "relative/path"},
                {"dataType": "uri_folder", "dataUri": "https://example.com/x"},
                {"dataType": "uri_folder", "dataUri": "azureml:other:1"}):
        assert rt.http("PUT", "ws:/data/bad/versions/1", {"properties": bad})[0] == 400, bad
    # the versioned-asset rules models follow: string versions, latest by
    # registration, archive on versions and containers, list views
    ok(rt.http("PUT", "ws:/data/customers/versions/2024.06",
               {"properties": {"dataType": "uri_folder", "dataUri": folder}}))
    assert ok(rt.http("GET", "ws:/data/customers"))["properties"]["latestVersion"] == "2024.06"
    ok(rt.http("PUT", "ws:/data/customers/versions/2",
               {"properties": {"dataType": "uri_folder", "dataUri": folder, "isArchived": True}}))
    names = [x["name"] for x in ok(rt.http("GET", "ws:/data/customers/versions"))["value"]]
    assert sorted(names) == ["1", "2024.06"]
    names = [x["name"] for x in ok(rt.http(
        "GET", "ws:/data/customers/versions?listViewType=ArchivedOnly"))["value"]]
    assert names == ["2"]
    ok(rt.http("PUT", "ws:/data/customers", {"properties": {"isArchived": True}}))
    assert ok(rt.http("GET", "ws:/data"))["value"] == []
    assert [x["name"] for x in ok(rt.http("GET", "ws:/data?listViewType=All"))["value"]] == \
        ["customers"]
    ok(rt.http("DELETE", "ws:/data/customers/versions/1"))
    assert rt.http("GET", "ws:/data/customers/versions/1")[0] == 404
    assert rt.http("DELETE", "ws:/data/customers/versions/1")[0] == 204  # ARM: nothing to delete
    ok(rt.http("DELETE", "ws:/data/customers"))
    assert rt.http("GET", "ws:/data/customers")[0] == 404


def test_invoke_datastore_paths(runtime, tmp_path):
    """A datastore path (azureml://datastores/workspaceblobstore/paths/...) names
    files of the workspace's datastore, as input or as a data asset's dataUri."""
    rt = runtime
    setup_batch(rt)
    store = ok(rt.http("GET", "ws:/datastores/workspaceblobstore"))["properties"]
    make_folder(os.path.join(rt.home, "blobs", store["containerName"], "weekly", "custs"), 2, 50)
    uri = "azureml://datastores/workspaceblobstore/paths/weekly/custs/"
    ok(rt.http("PUT", "ws:/data/custs/versions/1",
               {"properties": {"dataType": "uri_folder", "dataUri": uri}}))
    for u in (uri, "azureml:custs:1"):
        done = wait_job(rt, invoke(rt, "churn-batch", u)["name"])
        assert done["properties"]["status"] == "Completed", done
        assert figures(done)["succeededItems"] == 100
    # the CLI passes a datastore path on as it is, for an input and for a data asset
    r = rt.cli("-o", "table", "batch-endpoint", "invoke", "churn-batch", "--input", uri,
               "--stream")
    assert "Items: 100 succeeded, 0 failed" in r.stdout
    rt.cli("data", "create", "custs-cli", "--path", uri)
    assert json.loads(rt.cli("data", "show", "custs-cli:1").stdout)["properties"]["dataUri"] \
        == uri
    for bad in ("azureml://datastores/other/paths/weekly/custs/",
                "azureml://datastores/workspaceblobstore/paths/weekly/nope/"):
        invoke(rt, "churn-batch", bad, expect=400)
    assert rt.http("PUT", "ws:/data/x/versions/1", {"properties": {
        "dataType": "uri_folder", "dataUri": "azureml://datastores/other/paths/a"}})[0] == 400


# ---- invocation and output --------------------------------------------------


def test_invoke_folder_output_as_azure_writes_it(runtime, tmp_path):
    rt = runtime
    key = setup_batch(rt, miniBatchSize=2, maxConcurrencyPerInstance=2)
    folder = make_folder(str(tmp_path / "in"), 5, 200)
    os.makedirs(os.path.join(folder, "nested"))  # nested folders are not traversed
    write_csv(os.path.join(folder, "nested", "x.csv"), 5)
    write_csv(os.path.join(folder, ".hidden.csv"), 5)
    # an endpoint key names the folder through a data asset (a host path takes the admin key)
    ok(rt.http("PUT", "ws:/data/custs/versions/1",
               {"properties": {"dataType": "uri_folder", "dataUri": folder}}))
    j = invoke(rt, "churn-batch", "azureml:custs:1", key=key)
    assert j["properties"]["status"] == "Queued"
    assert j["properties"]["jobType"] == "Pipeline"
    assert j["properties"]["inputs"]["customers"]["jobInputType"] == "uri_folder"
    assert j["properties"]["tags"]["azureml.deploymentname"] == "blue"
    done = wait_job(rt, j["name"])
    assert done["properties"]["status"] == "Completed", done
    f = figures(done)
    assert f == {"totalItems": 1000, "succeededItems": 1000, "failedItems": 0,
                 "totalMiniBatches": 3, "completedMiniBatches": 3, "failedMiniBatches": 0}
    rows = read_output(done)
    assert len(rows) == 1000
    assert all(len(r) == 3 for r in rows)
    # in mini-batch order, then file, then row; row = index within its file
    assert [(r[2], int(r[0])) for r in rows] == \
        [("part-%03d.csv" % i, n) for i in range(5) for n in range(200)]
    # prediction = what online scoring answers for that row, to the character
    with open(os.path.join(folder, "part-003.csv")) as fh:
        data = [[float(x) for x in line.split(",")] for line in fh.readlines()[1:6]]
    ok(rt.http("PUT", "ws:/environments/native/versions/1",
               {"properties": {"environmentKind": "native"}}))
    ok(rt.http("PUT", "ws:/onlineEndpoints/churn-online", {"properties": {"authMode": "Key"}}))
    ok(rt.http("PUT", "ws:/onlineEndpoints/churn-online/deployments/blue", {"properties": {
        "model": "azureml:churn:1", "environmentId": "azureml:native:1"}}))
    rt.wait_deployment("churn-online", "blue")
    okey = ok(rt.http("POST", "ws:/onlineEndpoints/churn-online/listKeys"))["primaryKey"]
    req = urllib.request.Request(rt.url + "/endpoints/churn-online/score",
                                 data=json.dumps({"data": data}).encode(), method="POST",
                                 headers={"Authorization": "Bearer " + okey,
                                          "azureml-model-deployment": "blue",
                                          "Content-Type": "application/json"})
    with urllib.request.urlopen(req, timeout=30) as r:
        text = r.read().decode()
    mine = [r[1] for r in rows if r[2] == "part-003.csv"][:5]
    assert "[" + ",".join(mine) + "]" == text
    # Azure's log layout
    logs = os.path.join(job_dir(rt, j["name"]), "logs")
    with open(os.path.join(logs, "sys", "job_report", "processed_mini-batches.csv")) as fh:
        lines = fh.read().splitlines()
    assert lines[0].startswith("Mini-batch Id,Picked Count,Process,Start Time,Total,Succeeded,"
                               "Failed,Elapsed Seconds,Process Seconds,Run Method Seconds,"
                               "Status,Error Category,Error Message,Mini-batch Detail")
    assert sorted(l.split(",")[10] for l in lines[1:]) == ["RUN_DONE"] * 3
    with open(os.path.join(logs, "job_progress_overview.txt")) as fh:
        assert "3 mini-batches (tasks) created" in fh.read()
    assert not os.path.exists(os.path.join(job_dir(rt, j["name"]), "parts"))


def test_invoke_file_keys_and_overrides(runtime, tmp_path):
    rt = runtime
    key = setup_batch(rt)
    one = str(tmp_path / "one.csv")
    write_csv(one, 50)
    # the SDK's spelling, the deployment header, overrides as the SDK sends them
    body = {"properties": {"inputData": {"x": {"jobInputType": "uri_file", "uri": "file://" + one}},
                           "miniBatchSize": "3", "outputFileName": "scores.csv",
                           "retrySettings": {"maxRetries": 1, "timeout": "PT10S"},
                           "errorThreshold": 5, "compute": {"instanceCount": 2}}}
    s, h, j = rt.http("POST", "/batch/churn-batch/jobs", body, auth=False,
                      headers={"Authorization": "Bearer " + rt.admin_key,
                               "azureml-model-deployment": "blue"})
    assert s == 201, j
    assert h["azureml-model-deployment"] == "blue"
    st = j["properties"]["settings"]
    assert (st["miniBatchSize"], st["outputFileName"], st["errorThreshold"],
            st["retrySettings"], st["resources"]["instanceCount"]) == \
        (3, "scores.csv", 5, {"maxRetries": 1, "timeout": "PT10S"}, 2)
    done = wait_job(rt, j["name"])
    assert done["properties"]["status"] == "Completed"
    assert len(read_output(done, "scores.csv")) == 50
    # the deployment's own settings did not change
    d = ok(rt.http("GET", "ws:/batchEndpoints/churn-batch/deployments/blue"))["properties"]
    assert d["miniBatchSize"] == 10 and d["outputFileName"] == "predictions.csv"
    # credentials: the other key, the admin key; nothing else
    # (a host path takes the admin key; an endpoint key names a data asset)
    ok(rt.http("PUT", "ws:/data/one/versions/1",
               {"properties": {"dataType": "uri_file", "dataUri": one}}))
    sec = ok(rt.http("POST", "ws:/batchEndpoints/churn-batch/listkeys"))["secondaryKey"]
    invoke(rt, "churn-batch", "azureml:one:1", "UriFile", key=key)
    invoke(rt, "churn-batch", "azureml:one:1", "UriFile", key=sec)
    invoke(rt, "churn-batch", one, "UriFile", key=rt.admin_key)
    invoke(rt, "churn-batch", one, "UriFile", key="wrong", expect=401)
    invoke(rt, "nope-ep", one, "UriFile", expect=404)
    s, _, b = rt.http("POST", "/batch/churn-batch/jobs", auth=False,
                      body={"properties": {}})
    assert s == 401
    # the credential is checked before any byte of the body is read
    head = ("POST /batch/churn-batch/jobs HTTP/1.1\r\nHost: x\r\nContent-Type: application/json"
            "\r\nContent-Length: 100000000\r\n\r\n").encode()
    assert raw_exchange(rt, head).startswith(b"HTTP/1.1 401")
    # wrong input type, missing path, remote URL, unknown deployment, no default
    invoke(rt, "churn-batch", one, "UriFolder", expect=400)
    invoke(rt, "churn-batch", str(tmp_path), "UriFile", expect=400)
    invoke(rt, "churn-batch", str(tmp_path / "missing"), expect=400)
    invoke(rt, "churn-batch", "https://example.com/data", expect=400)
    invoke(rt, "churn-batch", one, "UriFile", headers={"azureml-model-deployment": "nope"},
           expect=404)
    ok(rt.http("PATCH", "ws:/batchEndpoints/churn-batch",
               {"properties": {"defaults": {"deploymentName": None}}}))
    invoke(rt, "churn-batch", one, "UriFile", expect=400)


def test_invoke_data_asset_and_jsonl_xgboost(runtime, tmp_path):
    rt = runtime
    setup_batch(rt, model=XGB_MULTI, mtype="xgboost")
    folder = str(tmp_path / "jsonl")
    os.makedirs(folder)
    with open(repo_path("tests", "data", "xgb_multi.input.json")) as fh:
        rows = json.load(fh)["data"]
    with open(repo_path("tests", "data", "xgb_multi.expected.json")) as fh:
        expected = json.load(fh)
    with open(os.path.join(folder, "a.jsonl"), "w") as fh:
        for r in rows[:30]:
            fh.write(json.dumps(r) + "\n")
        fh.write("\n")  # blank lines are not rows
    with open(os.path.join(folder, "b.json"), "w") as fh:  # objects: the first one's keys
        for r in rows[30:]:
            fh.write(json.dumps({"c%d" % i: v for i, v in enumerate(r)}) + "\n")
    ok(rt.http("PUT", "ws:/data/digits/versions/3",
               {"properties": {"dataType": "uri_folder", "dataUri": folder}}))
    for uri in ("azureml:digits:3", "azureml:digits@latest", "azureml:digits",
                rt.ws + "/data/digits/versions/3"):
        done = wait_job(rt, invoke(rt, "churn-batch", uri)["name"])
        assert done["properties"]["status"] == "Completed", done
        out = read_output(done)
        assert len(out) == len(rows)
        got = [json.loads(r[1]) for r in out]
        for g, e in zip(got, expected):
            assert g == pytest.approx(e, rel=1e-6)
    invoke(rt, "churn-batch", "azureml:digits:9", expect=404)
    invoke(rt, "churn-batch", "azureml:digits:3", "UriFile", expect=400)  # asset is a folder


# ---- failures, thresholds, retries, timeouts --------------------------------


def poisoned_folder(root):
    """4 files: good, one malformed line, a dangling link, an unreadable entry."""
    os.makedirs(root)
    write_csv(os.path.join(root, "a.csv"), 20, seed=1)
    with open(os.path.join(root, "b.csv"), "w") as f:
        f.write(",".join("f%d" % i for i in range(12)) + "\n")
        for r in range(10):
            if r == 4:
                f.write("1,2,three,4,5,6,7,8,9,10,11,12\n")  # malformed: one failed item
            else:
                f.write(",".join(str(r + i) for i in range(12)) + "\n")
    os.symlink(os.path.join(root, "gone.csv"), os.path.join(root, "c.csv"))  # missing file
    os.symlink("d.csv", os.path.join(root, "d.csv"))  # a loop: cannot be opened
    return root


def test_bad_input_is_one_failed_item_each(runtime, tmp_path):
    rt = runtime
    setup_batch(rt, miniBatchSize=1)
    folder = poisoned_folder(str(tmp_path / "in"))
    done = wait_job(rt, invoke(rt, "churn-batch", folder)["name"])
    assert done["properties"]["status"] == "Completed", done
    f = figures(done)
    assert f["totalItems"] == 20 + 10 + 1 + 1
    assert f["failedItems"] == 3 and f["succeededItems"] == 29
    out = read_output(done)
    assert [r[0] for r in out if r[2] == "b.csv"] == ["0", "1", "2", "3", "5", "6", "7", "8", "9"]
    with open(os.path.join(job_dir(rt, done["name"]), "logs", "user", "error.txt")) as fh:
        errors = fh.read()
    assert "file b.csv, row 4: column 3 is not a number" in errors
    assert "file c.csv: No such file or directory" in errors
    assert "file d.csv: Too many levels of symbolic links" in errors
    assert "three" not in errors  # never the file's content
    # an input folder that cannot be read is refused at once, with the reason
    os.symlink("loop", str(tmp_path / "loop"))
    s, _, b = rt.http("POST", "/batch/churn-batch/jobs", {"properties": {"InputData": {
        "x": {"JobInputType": "UriFolder", "Uri": str(tmp_path / "loop")}}}})
    assert s == 400 and "Too many levels of symbolic links" in b["error"]["message"]


def test_error_threshold(runtime, tmp_path):
    rt = runtime
    setup_batch(rt, miniBatchSize=1)
    folder = poisoned_folder(str(tmp_path / "in"))
    at3 = wait_job(rt, invoke(rt, "churn-batch", folder, extra={"errorThreshold": 3})["name"])
    assert at3["properties"]["status"] == "Completed"  # 3 failures do not exceed 3
    at2 = wait_job(rt, invoke(rt, "churn-batch", folder, extra={"errorThreshold": 2})["name"])
    assert at2["properties"]["status"] == "Failed"
    err = at2["properties"]["properties"]["error"]
    assert "errorThreshold 2 exceeded: 3 items failed" in err
    assert not os.path.exists(output_path(at2))  # never half-written
    at0 = wait_job(rt, invoke(rt, "churn-batch", folder, extra={"errorThreshold": 0})["name"])
    assert at0["properties"]["status"] == "Failed"


def test_timeout_and_retries(runtime, tmp_path):
    rt = runtime
    setup_batch(rt, miniBatchSize=1)
    folder = str(tmp_path / "in")
    os.makedirs(folder)
    write_csv(os.path.join(folder, "big.csv"), 200000)  # takes far more than 1 ms
    write_csv(os.path.join(folder, "small.csv"), 10)
    j = invoke(rt, "churn-batch", folder, extra={
        "retrySettings": {"maxRetries": 2, "timeout": "PT0.001S"}})
    done = wait_job(rt, j["name"])
    f = figures(done)
    assert f["failedMiniBatches"] >= 1  # big.csv timed out on every attempt
    with open(os.path.join(job_dir(rt, j["name"]), "logs", "sys", "job_report",
                           "processed_mini-batches.csv")) as fh:
        rows = list(csv_rows(fh.read()))
    big = [r for r in rows if r["Mini-batch Detail"] == "big.csv"]
    assert big and big[0]["Status"] == "RUN_TIMEOUT" and big[0]["Picked Count"] == "3"
    with open(os.path.join(job_dir(rt, j["name"]), "logs", "user", "error.txt")) as fh:
        text = fh.read()
    assert "attempt 1 of 3: RUN_TIMEOUT" in text and "attempt 3 of 3: RUN_TIMEOUT" in text


def csv_rows(text):
    import csv
    import io
    return csv.DictReader(io.StringIO(text))


def test_existing_output_is_never_replaced(runtime, tmp_path):
    rt = runtime
    key = setup_batch(rt)
    one = str(tmp_path / "one.csv")
    write_csv(one, 5)
    out = tmp_path / "out"
    out.mkdir()
    (out / "predictions.csv").write_text("precious\n")
    out_data = {"OutputData": {"score": {"JobOutputType": "UriFolder", "Uri": str(out)}}}
    done = wait_job(rt, invoke(rt, "churn-batch", one, "UriFile", extra=out_data)["name"])
    assert done["properties"]["status"] == "Failed"
    assert "already exists" in done["properties"]["properties"]["error"]
    assert (out / "predictions.csv").read_text() == "precious\n"
    # a fresh folder works, and the output lands there
    fresh = {"OutputData": {"score": {"Uri": "file://" + str(tmp_path / "out2")}}}
    done = wait_job(rt, invoke(rt, "churn-batch", one, "UriFile", extra=fresh)["name"])
    assert done["properties"]["status"] == "Completed"
    assert len((tmp_path / "out2" / "predictions.csv").read_text().splitlines()) == 5
    # a local output folder needs the admin key, not an endpoint key
    invoke(rt, "churn-batch", one, "UriFile", key=key, extra=fresh, expect=403)


# ---- jobs: list, cancel, delete ---------------------------------------------


def test_cancel_and_job_list(make_runtime, tmp_path):
    rt = make_runtime(extra_args=["--max-batch-jobs", "1"]).start()
    setup_batch(rt, miniBatchSize=1)
    folder = make_folder(str(tmp_path / "in"), 500, 20000)
    first = invoke(rt, "churn-batch", folder)["name"]
    second = invoke(rt, "churn-batch", folder)["name"]  # waits: one job at a time
    wait_job(rt, first, ("Running",))
    assert job(rt, second)["properties"]["status"] == "Queued"
    # cancel the queued one: it never runs
    s, _, _ = rt.http("POST", "ws:/jobs/%s/cancel" % second)
    assert s == 202
    assert job(rt, second)["properties"]["status"] == "Canceled"
    # cancel the running one: it stops
    t0 = time.monotonic()
    assert rt.http("POST", "ws:/jobs/%s/cancel" % first)[0] == 202
    done = wait_job(rt, first, ("Canceled", "Completed", "Failed"))
    stopped = time.monotonic() - t0
    assert done["properties"]["status"] == "Canceled", done
    assert figures(done)["completedMiniBatches"] < 500
    assert not os.path.exists(output_path(done))
    print("cancel took %.3f s" % stopped)
    # a terminal job: cancel is a no-op, delete works; an active one cannot be deleted
    assert rt.http("POST", "ws:/jobs/%s/cancel" % first)[0] == 200
    names = [x["name"] for x in ok(rt.http("GET", "ws:/jobs"))["value"]]
    assert names == [second, first] or set(names) == {first, second}
    mine = ok(rt.http("GET", "ws:/jobs?properties=azureml.endpointname=churn-batch"))["value"]
    assert len(mine) == 2
    assert ok(rt.http("GET", "ws:/jobs?properties=azureml.endpointname=other"))["value"] == []
    ok(rt.http("DELETE", "ws:/jobs/" + first))
    assert rt.http("GET", "ws:/jobs/" + first)[0] == 404
    assert not os.path.exists(job_dir(rt, first))
    assert rt.stop() == 0


# ---- durability -------------------------------------------------------------


def done_records(home, name):
    db = sqlite3.connect(os.path.join(home, "state.db"))
    try:
        rows = db.execute("SELECT value FROM records WHERE kind='jobs' AND key=?",
                          (name,)).fetchall()
    finally:
        db.close()
    done = set()
    for (v,) in rows:  # {"mbs":[{"mb":ID,"st":"RUN_DONE",...},...]}
        done |= {m["mb"] for m in json.loads(v).get("mbs", []) if m.get("st") == "RUN_DONE"}
    return done


def test_kill9_mid_job_resumes_without_loss_or_duplicates(make_runtime, tmp_path):
    home = str(tmp_path / "home")
    rt = make_runtime(home=home).start()
    setup_batch(rt, miniBatchSize=1, maxConcurrencyPerInstance=2)
    # 5 M rows: the job must outlast the 0.25 s after its 5th mini-batch by far
    # (a native job scores some 2 M rows/s here); the output is checked as a stream
    files, rows = 200, 25000
    folder = make_folder(str(tmp_path / "in"), files, rows)
    name = invoke(rt, "churn-batch", folder)["name"]
    deadline = time.monotonic() + 120
    while figures(job(rt, name))["completedMiniBatches"] < 5:
        assert time.monotonic() < deadline
        assert job(rt, name)["properties"]["status"] in ("Queued", "Preparing", "Running")
        time.sleep(0.02)
    time.sleep(0.25)  # records are appended every 0.1 s
    rt.kill9()
    before = done_records(home, name)  # the store is the runtime's alone while it runs
    assert 5 <= len(before) < files, "the job finished before the kill"
    with open(os.path.join(home, "jobs", name, "logs", "sys", "job_report",
                           "processed_mini-batches.csv")) as fh:
        logged_before = len(fh.read().splitlines()) - 1
    rt2 = make_runtime(home=home).start()
    rt2.wait_log("job %s: resumed" % name)
    done = wait_job(rt2, name, timeout=240)
    assert done["properties"]["status"] == "Completed", done
    f = figures(done)
    assert f["totalItems"] == files * rows and f["succeededItems"] == files * rows
    # every row once (nothing lost, nothing twice), each file's rows in the input's order
    seen = {"part-%03d.csv" % i: bytearray(rows) for i in range(files)}
    first, lines = [], 0
    with open(output_path(done)) as fh:
        for line in fh:
            r = line.rstrip("\n").split(" ")
            seen[r[2]][int(r[0])] += 1
            if len(first) <= rows:
                first.append((r[2], int(r[0])))
            lines += 1
    assert lines == files * rows
    assert all(b.count(1) == rows for b in seen.values())
    assert first == [("part-000.csv", i) for i in range(rows)] + [("part-001.csv", 0)]
    # mini-batches recorded before the kill were not run again
    with open(os.path.join(home, "jobs", name, "logs", "sys", "job_report",
                           "processed_mini-batches.csv")) as fh:
        after = list(csv_rows(fh.read()))[logged_before:]
    assert not before & {int(r["Mini-batch Id"]) for r in after}
    assert rt2.stop() == 0


def test_full_disk_fails_the_job_and_keeps_the_rest(make_runtime, tmp_path):
    home = str(tmp_path / "home")
    os.makedirs(os.path.join(home, "jobs"), mode=0o700)
    os.chmod(home, 0o700)
    mnt = os.path.join(home, "jobs")
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=256k,mode=0700", "tmpfs", mnt],
                   check=True)
    try:
        rt = make_runtime(home=home).start()
        setup_batch(rt, miniBatchSize=1)
        folder = make_folder(str(tmp_path / "in"), 4, 4000)  # ~200 KB of output per file
        done = wait_job(rt, invoke(rt, "churn-batch", folder)["name"])
        assert done["properties"]["status"] == "Failed", done
        assert "No space left on device" in done["properties"]["properties"]["error"]
        # earlier state is intact and the runtime works: a small job completes
        small = str(tmp_path / "small.csv")
        write_csv(small, 20)
        ok_job = wait_job(rt, invoke(rt, "churn-batch", small, "UriFile")["name"])
        assert ok_job["properties"]["status"] == "Completed", ok_job
        assert len(read_output(ok_job)) == 20
        assert ok(rt.http("GET", "ws:/batchEndpoints/churn-batch"))["name"] == "churn-batch"
        assert rt.stop() == 0
        rt2 = make_runtime(home=home).start()  # and it all reloads
        assert job(rt2, done["name"])["properties"]["status"] == "Failed"
        assert job(rt2, ok_job["name"])["properties"]["status"] == "Completed"
        assert rt2.stop() == 0
    finally:
        subprocess.run(["umount", "-l", mnt], check=False)


# ---- schedules ----------------------------------------------------------------


def schedule_body(ep_id, uri, trigger, enabled=True):
    return {"properties": {
        "displayName": "weekly churn", "isEnabled": enabled, "trigger": trigger,
        "action": {"actionType": "InvokeBatchEndpoint", "endpointInvocationDefinition": {
            "endpoint": "azureml:" + ep_id,
            "inputs": {"customers": {"jobInputType": "uri_folder", "uri": uri}}}}}}


def scheduled_jobs(rt, name):
    return ok(rt.http("GET", "ws:/jobs?properties=azureml.schedulename=" + name))["value"]


def test_schedules(make_runtime, tmp_path):
    home = str(tmp_path / "home")
    rt = make_runtime(home=home).start()
    setup_batch(rt)
    folder = make_folder(str(tmp_path / "in"), 2, 10)
    ep_id = rt.ws + "/batchEndpoints/churn-batch"
    # a short recurrence: every minute from a start two seconds away fires at its start
    start = time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(time.time() + 2))
    body = schedule_body(ep_id, folder, {"triggerType": "Recurrence", "frequency": "Minute",
                                         "interval": 1, "startTime": start,
                                         "timeZone": "UTC"})
    s = ok(rt.http("PUT", "ws:/schedules/minutely", body))
    assert s["properties"]["trigger"]["frequency"] == "Minute"
    assert s["properties"]["nextRunTime"] == start + "Z"
    deadline = time.monotonic() + 60
    while not scheduled_jobs(rt, "minutely"):
        assert time.monotonic() < deadline, rt.logtext()[-2000:]
        time.sleep(0.1)
    j = wait_job(rt, scheduled_jobs(rt, "minutely")[0]["name"])
    assert j["properties"]["status"] == "Completed"
    assert j["properties"]["properties"]["azureml.schedulename"] == "minutely"
    assert ok(rt.http("DELETE", "ws:/schedules/minutely")) is None
    # cron with seconds (NCrontab), in a Windows time zone; disable stops it
    body = schedule_body(ep_id, folder, {"triggerType": "Cron", "expression": "*/2 * * * * *",
                                         "timeZone": "Pacific Standard Time"})
    ok(rt.http("PUT", "ws:/schedules/often", body))
    deadline = time.monotonic() + 60
    while len(scheduled_jobs(rt, "often")) < 2:
        assert time.monotonic() < deadline, rt.logtext()[-2000:]
        time.sleep(0.1)
    body["properties"]["isEnabled"] = False
    ok(rt.http("PUT", "ws:/schedules/often", body))
    assert ok(rt.http("GET", "ws:/schedules"))["value"] == []  # EnabledOnly by default
    assert len(ok(rt.http("GET", "ws:/schedules?listViewType=All"))["value"]) == 1
    time.sleep(1)  # a fire that began before the change may still land
    n = len(scheduled_jobs(rt, "often"))
    time.sleep(2.5)
    assert len(scheduled_jobs(rt, "often")) == n
    # trigger runs it now, enabled or not
    t = ok(rt.http("POST", "ws:/schedules/often/trigger",
                   {"scheduleTime": "2024-06-01T00:00:00Z"}))
    assert t["scheduleActionType"] == "InvokeBatchEndpoint"
    assert wait_job(rt, t["submissionId"])["properties"]["status"] == "Completed"
    # refusals
    for trig in ({"triggerType": "Cron", "expression": "61 * * * *"},
                 {"triggerType": "Cron", "expression": "* * * * *", "timeZone": "Mars/Base"},
                 {"triggerType": "Recurrence", "frequency": "Fortnight", "interval": 1},
                 {"triggerType": "Recurrence", "frequency": "Minute", "interval": 1,
                  "schedule": {"hours": [1], "minutes": [0]}}):
        assert rt.http("PUT", "ws:/schedules/bad", schedule_body(ep_id, folder, trig))[0] == 400
    bad = schedule_body(ep_id, folder, {"triggerType": "Cron", "expression": "* * * * *"})
    bad["properties"]["action"]["actionType"] = "CreateJob"
    assert rt.http("PUT", "ws:/schedules/bad", bad)[0] == 400
    assert rt.stop() == 0


def test_missed_runs_coalesce_into_one(make_runtime, tmp_path):
    home = str(tmp_path / "home")
    rt = make_runtime(home=home).start()
    setup_batch(rt)
    folder = make_folder(str(tmp_path / "in"), 1, 5)
    ep_id = rt.ws + "/batchEndpoints/churn-batch"
    ok(rt.http("PUT", "ws:/schedules/often", schedule_body(
        ep_id, folder, {"triggerType": "Cron", "expression": "*/2 * * * * *"})))
    deadline = time.monotonic() + 60
    while not scheduled_jobs(rt, "often"):
        assert time.monotonic() < deadline
        time.sleep(0.1)
    assert rt.stop() == 0
    before = len(scheduled_jobs_offline(home))
    time.sleep(7)  # three or four fire times pass while it is down
    rt2 = make_runtime(home=home).start()
    log = rt2.wait_log("runs were due while the runtime was down; running once now")
    ok(rt2.http("PUT", "ws:/schedules/often", schedule_body(
        ep_id, folder, {"triggerType": "Cron", "expression": "*/2 * * * * *"}, enabled=False)))
    after = scheduled_jobs(rt2, "often")
    assert len(after) >= before + 1
    assert len(after) <= before + 3  # one for the gap, maybe one or two since start
    assert rt2.stop() == 0


def scheduled_jobs_offline(home):
    db = sqlite3.connect(os.path.join(home, "state.db"))
    try:
        rows = db.execute("SELECT value FROM rows WHERE kind='jobs'").fetchall()
    finally:
        db.close()
    return [v for (v,) in rows if json.loads(v).get("schedule") == "often"]


# ---- score.py: Azure's batch contract in Python workers ---------------------

SCORE = repo_path("tests", "data", "score")


def setup_script(rt, script, **props):
    ok(rt.http("PUT", "ws:/models/scripted/versions/1",
               {"properties": {"modelType": "custom_model", "modelUri": LINEAR}}))
    ok(rt.http("PUT", "ws:/environments/pyenv/versions/1",
               {"properties": {"environmentKind": "python", "interpreterPath": "/usr/bin/python3"}}))
    ok(rt.http("PUT", "ws:/batchEndpoints/py-batch", {"properties": {}}))
    p = {"model": "azureml:scripted:1", "environmentId": "azureml:pyenv:1",
         "codeConfiguration": {"codeId": SCORE, "scoringScript": script}}
    p.update(props)
    ok(rt.http("PUT", "ws:/batchEndpoints/py-batch/deployments/pydep", {"properties": p}))
    ok(rt.http("PATCH", "ws:/batchEndpoints/py-batch",
               {"properties": {"defaults": {"deploymentName": "pydep"}}}))


def test_score_py_run_on_mini_batches(runtime, tmp_path):
    rt = runtime
    setup_script(rt, "batch_rows.py", miniBatchSize=2, maxConcurrencyPerInstance=2)
    folder = str(tmp_path / "in")
    os.makedirs(folder)
    for i, n in enumerate((3, 4, 5, 6, 7)):
        write_csv(os.path.join(folder, "f%d.csv" % i), n)
    write_csv(os.path.join(folder, "skip-me.csv"), 2)  # run() returns no row for it
    done = wait_job(rt, invoke(rt, "py-batch", folder)["name"])
    assert done["properties"]["status"] == "Completed", done
    f = figures(done)
    assert (f["totalItems"], f["succeededItems"], f["failedItems"], f["totalMiniBatches"]) == \
        (6, 5, 1, 3)
    assert sorted(tuple(r) for r in read_output(done)) == sorted(
        ("f%d.csv" % i, str(n), "ok") for i, n in enumerate((3, 4, 5, 6, 7)))
    with open(os.path.join(job_dir(rt, done["name"]), "logs", "job_progress_overview.txt")) as fh:
        assert "scored f0.csv" in fh.read()  # the script's prints reach the job's log


def test_score_py_long_result(runtime, tmp_path):
    """A run() result longer than the write buffer is written whole."""
    rt = runtime
    setup_script(rt, "batch_rows.py", miniBatchSize=2)
    folder = str(tmp_path / "in")
    os.makedirs(folder)
    write_csv(os.path.join(folder, "a-big.csv"), 3)
    write_csv(os.path.join(folder, "b.csv"), 2)
    write_csv(os.path.join(folder, "c-big.csv"), 1)
    done = wait_job(rt, invoke(rt, "py-batch", folder)["name"])
    assert done["properties"]["status"] == "Completed", done
    assert read_output(done) == [["a-big.csv", "3", "x" * 400000], ["b.csv", "2", "ok"],
                                 ["c-big.csv", "1", "x" * 400000]]


def test_score_py_dataframe(runtime, tmp_path):
    rt = runtime
    setup_script(rt, "batch_frame.py")
    folder = str(tmp_path / "in")
    os.makedirs(folder)
    write_csv(os.path.join(folder, "a.csv"), 4)
    write_csv(os.path.join(folder, "b.csv"), 9)
    done = wait_job(rt, invoke(rt, "py-batch", folder)["name"])
    assert done["properties"]["status"] == "Completed", done
    assert read_output(done) == [["a.csv", "4", "2.0"], ["b.csv", "9", "4.5"]]  # no header


def test_score_py_from_a_code_asset(runtime, tmp_path):
    """codeId may be a code asset (its ARM id, as the SDK sends after uploading
    ./src, or azureml:NAME:V), as for online deployments: the job runs the
    asset's folder; the GET answers the ARM id; the version in use stays."""
    rt = runtime
    store = ok(rt.http("GET", "ws:/datastores/workspaceblobstore"))["properties"]
    src = os.path.join(rt.home, "blobs", store["containerName"], "LocalUpload", "bsrc")
    os.makedirs(src)
    with open(os.path.join(SCORE, "batch_rows.py")) as f, \
            open(os.path.join(src, "score.py"), "w") as out:
        out.write(f.read())
    ok(rt.http("PUT", "ws:/codes/bsrc/versions/1", {"properties": {
        "codeUri": "azureml://datastores/workspaceblobstore/paths/LocalUpload/bsrc/"}}))
    arm = rt.ws + "/codes/bsrc/versions/1"
    setup_script(rt, "score.py", codeConfiguration={"codeId": arm, "scoringScript": "score.py"})
    got = ok(rt.http("GET", "ws:/batchEndpoints/py-batch/deployments/pydep"))
    assert got["properties"]["codeConfiguration"] == {"codeId": arm, "scoringScript": "score.py"}
    ok(rt.http("PUT", "ws:/batchEndpoints/py-batch/deployments/short", {"properties": {
        "model": "azureml:scripted:1", "environmentId": "azureml:pyenv:1",
        "codeConfiguration": {"codeId": "azureml:bsrc:1", "scoringScript": "score.py"}}}))
    got = ok(rt.http("GET", "ws:/batchEndpoints/py-batch/deployments/short"))
    assert got["properties"]["codeConfiguration"]["codeId"] == arm
    folder = str(tmp_path / "in")
    os.makedirs(folder)
    for i, n in enumerate((3, 5)):
        write_csv(os.path.join(folder, "f%d.csv" % i), n)
    for dep in ("pydep", "short"):
        done = wait_job(rt, invoke(rt, "py-batch", folder,
                                   headers={"azureml-model-deployment": dep})["name"])
        assert done["properties"]["status"] == "Completed", done
        assert sorted(read_output(done)) == [["f0.csv", "3", "ok"], ["f1.csv", "5", "ok"]]
    # a code asset that is not there: as the online path answers
    for code, status in (("azureml:bsrc:9", 404), ("bsrc/versions", 400)):
        s, _, body = rt.http("PUT", "ws:/batchEndpoints/py-batch/deployments/nocode", {
            "properties": {"model": "azureml:scripted:1", "environmentId": "azureml:pyenv:1",
                           "codeConfiguration": {"codeId": code, "scoringScript": "score.py"}}})
        assert s == status, (code, s, body)
    # the version in use stays until no deployment uses it
    s, _, body = rt.http("DELETE", "ws:/codes/bsrc/versions/1")
    assert s == 409 and "batch endpoint" in body["error"]["message"], (s, body)
    ok(rt.http("DELETE", "ws:/batchEndpoints/py-batch/deployments/short"), 200, 202, 204)
    s, _, body = rt.http("DELETE", "ws:/codes/bsrc/versions/1")
    assert s == 409, (s, body)  # pydep still uses it


def test_score_py_failures_retries_timeout_cancel(runtime, tmp_path):
    rt = runtime
    setup_script(rt, "batch_rows.py", miniBatchSize=1,
                 retrySettings={"maxRetries": 1, "timeout": "PT2S"})
    folder = str(tmp_path / "in")
    os.makedirs(folder)
    write_csv(os.path.join(folder, "a.csv"), 3)
    write_csv(os.path.join(folder, "b-poison.csv"), 3)
    write_csv(os.path.join(folder, "c-slow.csv"), 3)
    done = wait_job(rt, invoke(rt, "py-batch", folder)["name"])
    assert done["properties"]["status"] == "Completed", done
    f = figures(done)
    assert (f["succeededItems"], f["failedItems"], f["failedMiniBatches"]) == (1, 2, 2)
    with open(os.path.join(job_dir(rt, done["name"]), "logs", "sys", "job_report",
                           "processed_mini-batches.csv")) as fh:
        rows = {r["Mini-batch Detail"]: r for r in csv_rows(fh.read())}
    assert rows["b-poison.csv"]["Status"] == "RUN_EXCEPTION"
    assert "run() raised ValueError: poisoned file b-poison.csv" in \
        rows["b-poison.csv"]["Error Message"]
    assert rows["b-poison.csv"]["Picked Count"] == "2"
    assert rows["c-slow.csv"]["Status"] == "RUN_TIMEOUT"
    assert read_output(done) == [["a.csv", "3", "ok"]]
    # a run() that does not return is stopped by cancel, its worker killed
    only_slow = str(tmp_path / "slow")
    os.makedirs(only_slow)
    write_csv(os.path.join(only_slow, "x-slow.csv"), 3)
    name = invoke(rt, "py-batch", only_slow, extra={"retrySettings": {"timeout": "PT60S"}})["name"]
    wait_job(rt, name, ("Running",))
    time.sleep(0.5)  # run() is sleeping now
    t0 = time.monotonic()
    assert rt.http("POST", "ws:/jobs/%s/cancel" % name)[0] == 202
    done = wait_job(rt, name, timeout=30)
    assert done["properties"]["status"] == "Canceled", done
    print("score.py cancel took %.3f s" % (time.monotonic() - t0))


def test_crash_between_output_and_its_record(make_runtime, tmp_path, monkeypatch):
    """The output is linked, then the runtime dies before recording it: the
    resumed job finds its own output (not someone else's) and completes."""
    home = str(tmp_path / "home")
    monkeypatch.setenv("MLDECK_TEST_CRASH", "after-link")
    rt = make_runtime(home=home).start()
    setup_batch(rt, miniBatchSize=1)
    folder = make_folder(str(tmp_path / "in"), 3, 50)
    name = invoke(rt, "churn-batch", folder)["name"]
    rt.proc.wait(60)  # it dies right after the link
    rt.log.close()
    monkeypatch.delenv("MLDECK_TEST_CRASH")
    out = os.path.join(home, "jobs", name, "outputs", "score", "predictions.csv")
    assert os.path.exists(out)
    rt2 = make_runtime(home=home).start()
    done = wait_job(rt2, name)
    assert done["properties"]["status"] == "Completed", done
    assert len(read_output(done)) == 150
    assert [f for f in os.listdir(os.path.dirname(out)) if f.endswith(".tmp")] == []
    assert rt2.stop() == 0


# ---- the command line -----------------------------------------------------------


def test_cli_batch_workflow(runtime, tmp_path):
    rt = runtime
    folder = make_folder(str(tmp_path / "in"), 3, 100)
    rt.cli("model", "register", "churn", "--path", LINEAR, "--type", "linear")
    rt.cli("batch-endpoint", "create", "churn-batch", "--description", "weekly")
    out = rt.cli("-o", "table", "batch-deployment", "create", "churn-batch", "nightly", "--model",
                 "churn:1", "--mini-batch-size", "2", "--max-concurrency-per-instance", "2",
                 "--timeout", "90", "--set-default").stdout
    assert "mini-batch size  2" in out and "timeout          PT1M30S" in out
    eps = json.loads(rt.cli("batch-endpoint", "list").stdout)
    assert eps[0]["properties"]["defaults"]["deploymentName"] == "nightly"
    table = rt.cli("-o", "table", "batch-endpoint", "list").stdout
    assert "churn-batch" in table and "/batch/churn-batch/jobs" in table
    rt.cli("data", "create", "customers", "--path", folder)
    assert json.loads(rt.cli("data", "show", "customers:1").stdout)["properties"]["dataUri"] == folder
    # invoke and follow: plain lines, then the summary; exit 0 on Completed
    r = rt.cli("-o", "table", "batch-endpoint", "invoke", "churn-batch", "--input",
               "azureml:customers:1", "--mini-batch-size", "1", "--stream")
    assert "RunId: batchjob-" in r.stdout
    assert "Completed       3/3 mini-batches  300 items" in r.stdout
    assert "Execution Summary" in r.stdout and "Items: 300 succeeded, 0 failed" in r.stdout
    name = r.stdout.split("RunId: ")[1].split()[0]
    jobs = json.loads(rt.cli("job", "list", "--endpoint", "churn-batch").stdout)
    assert [j["name"] for j in jobs] == [name]
    assert "Completed" in rt.cli("-o", "table", "job", "list").stdout
    shown = rt.cli("-o", "table", "job", "show", name).stdout
    assert "succeeded     300" in shown
    # download the output and the logs
    rt.cli("job", "download", name, "--download-path", str(tmp_path / "dl"), "--all")
    got = tmp_path / "dl" / name
    assert len((got / "outputs" / "score" / "predictions.csv").read_text().splitlines()) == 300
    assert (got / "logs" / "sys" / "job_report" / "processed_mini-batches.csv").exists()
    # a failing job exits 1 from stream, with its reason
    bad = str(tmp_path / "bad")
    os.makedirs(bad)
    with open(os.path.join(bad, "x.csv"), "w") as f:
        f.write("a\n1\n")
    r = rt.cli("-o", "table", "batch-endpoint", "invoke", "churn-batch", "--input", bad,
               "--error-threshold", "0", "--stream", check=False)
    assert r.returncode == 1 and "Status: Failed" in r.stdout
    assert "errorThreshold 0 exceeded" in r.stdout
    # a local output folder, sent with the admin key
    r = rt.cli("batch-endpoint", "invoke", "churn-batch", "--input", folder, "--output-path",
               str(tmp_path / "out"), "--output-file-name", "s.csv", "--stream")
    assert len((tmp_path / "out" / "s.csv").read_text().splitlines()) == 300
    # usage errors are 2
    assert rt.cli("batch-endpoint", "invoke", "churn-batch", check=False).returncode == 2
    assert rt.cli("batch-deployment", "create", "churn-batch", "x2", check=False).returncode == 2


def test_cli_schedules_and_cancel(runtime, tmp_path):
    rt = runtime
    folder = make_folder(str(tmp_path / "in"), 2, 10)
    setup_batch(rt)
    out = rt.cli("-o", "table", "schedule", "create", "nightly", "--endpoint", "churn-batch",
                 "--input", folder, "--frequency", "day", "--hours", "3", "--minutes", "15",
                 "--time-zone", "Pacific Standard Time").stdout
    assert "next run (UTC)" in out and ("T10:15:00Z" in out or "T11:15:00Z" in out)
    rt.cli("schedule", "create", "often", "--endpoint", "churn-batch", "--input", folder,
           "--cron", "0 */6 * * *", "--disabled")
    table = rt.cli("-o", "table", "schedule", "list").stdout
    assert "nightly" in table and "often" in table
    rt.cli("schedule", "disable", "nightly")
    assert json.loads(rt.cli("schedule", "show", "nightly").stdout)["properties"]["isEnabled"] is False
    rt.cli("schedule", "enable", "nightly")
    trig = json.loads(rt.cli("schedule", "trigger", "often").stdout)
    assert wait_job(rt, trig["submissionId"])["properties"]["status"] == "Completed"
    assert [j["name"] for j in json.loads(rt.cli("job", "list", "--schedule", "often").stdout)] \
        == [trig["submissionId"]]
    assert rt.cli("schedule", "create", "bad", "--endpoint", "churn-batch", "--input", folder,
                  check=False).returncode == 2  # neither --cron nor --frequency
    assert rt.cli("schedule", "create", "bad", "--endpoint", "churn-batch", "--input", folder,
                  "--cron", "61 * * * *", check=False).returncode == 1
    rt.cli("schedule", "delete", "often", "--yes")
    # cancel from the command line
    big = make_folder(str(tmp_path / "big"), 300, 20000)
    j = invoke(rt, "churn-batch", big, extra={"miniBatchSize": 1})
    wait_job(rt, j["name"], ("Running",))
    rt.cli("job", "cancel", j["name"])
    assert wait_job(rt, j["name"])["properties"]["status"] == "Canceled"
    r = rt.cli("job", "stream", j["name"], check=False)
    assert r.returncode == 1
    # read-only refuses every change before it is sent
    r = rt.cli("--readonly", "batch-endpoint", "create", "other-ep", check=False)
    assert r.returncode == 2
    assert rt.http("GET", "ws:/batchEndpoints/other-ep")[0] == 404
