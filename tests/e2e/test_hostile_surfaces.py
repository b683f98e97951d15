"""The surfaces that landed after the first hostile pass, attacked as a hostile
tester would: batch invocation with only an endpoint key, batch inputs that
are not files, the datastore's Blob endpoint, the managed-identity and
connect-info routes, and the clients against a hostile server. Each test
shows a failure the code had; bounded in requests and time; every socket goes
to 127.0.0.1. Helpers: hostile.py."""

import os

import pytest

from test_batch import (invoke, job, make_folder, ok, setup_batch, setup_script, wait_job,
                        write_csv)


def jobs_of(rt, ep="churn-batch"):
    s, _, b = rt.http("GET", "ws:/jobs?properties=azureml.endpointname%3D" + ep)
    assert s == 200, b
    return b["value"]


# ---- batch invocation with an endpoint key --------------------------------------


def test_endpoint_key_cannot_name_host_paths(runtime, tmp_path):
    """An endpoint key held by a partner system must not turn into read access
    to every file the runtime's user can read (as root: /etc/shadow), nor into
    an oracle of which paths exist: host paths need the admin key, and the
    answer is the same whether the path exists or not."""
    rt = runtime
    key = setup_batch(rt)
    folder = make_folder(str(tmp_path / "in"), 2, 10)
    for uri, kind in (("/etc/passwd", "UriFile"), ("file:///etc/passwd", "UriFile"),
                      (os.path.join(rt.home, "admin.key"), "UriFile"),
                      (os.path.join(rt.home, "state.db"), "UriFile"),
                      ("/proc/self/environ", "UriFile"), (rt.home, "UriFolder"),
                      ("/nonexistent/x.csv", "UriFile"), (folder, "UriFolder")):
        b = invoke(rt, "churn-batch", uri, kind, key=key, expect=403)
        assert b["error"]["code"] == "Forbidden" and "admin key" in b["error"]["message"]
        assert rt.home not in b["error"]["message"] and uri not in b["error"]["message"]
    assert jobs_of(rt) == []
    # what the key may name: a data asset (the admin chose its files) and the datastore
    ok(rt.http("PUT", "ws:/data/custs/versions/1",
               {"properties": {"dataType": "uri_folder", "dataUri": folder}}))
    done = wait_job(rt, invoke(rt, "churn-batch", "azureml:custs:1", key=key)["name"])
    assert done["properties"]["status"] == "Completed", done
    # the admin key may name host paths, as before
    done = wait_job(rt, invoke(rt, "churn-batch", folder)["name"])
    assert done["properties"]["status"] == "Completed", done


def test_endpoint_key_cannot_raise_the_workers(runtime, tmp_path):
    """instanceCount x maxConcurrencyPerInstance is how many score.py processes
    (or threads) a job starts: an endpoint key that could override them to
    64 x 64 would start 4,096 Python workers. The deployment's figures are the
    admin's budget: a key may lower them, only the admin key raise them."""
    rt = runtime
    key = setup_batch(rt, resources={"instanceCount": 2})
    one = str(tmp_path / "one.csv")
    write_csv(one, 20)
    ok(rt.http("PUT", "ws:/data/one/versions/1",
               {"properties": {"dataType": "uri_file", "dataUri": one}}))
    for extra in ({"compute": {"instanceCount": 64}, "maxConcurrencyPerInstance": 64},
                  {"compute": {"instanceCount": 3}}, {"maxConcurrencyPerInstance": 2},
                  {"resources": {"instanceCount": 4}}):
        b = invoke(rt, "churn-batch", "azureml:one:1", "UriFile", key=key, extra=extra,
                   expect=403)
        assert "admin key" in b["error"]["message"], b
    assert jobs_of(rt) == []
    # lowering is the key's to choose; the admin key may raise
    j = invoke(rt, "churn-batch", "azureml:one:1", "UriFile", key=key,
               extra={"compute": {"instanceCount": 1}})
    assert j["properties"]["settings"]["resources"]["instanceCount"] == 1
    j = invoke(rt, "churn-batch", "azureml:one:1", "UriFile",
               extra={"compute": {"instanceCount": 3}, "maxConcurrencyPerInstance": 2})
    assert j["properties"]["settings"]["resources"]["instanceCount"] == 3
    assert wait_job(rt, j["name"])["properties"]["status"] == "Completed"


def test_jobs_waiting_are_bounded(make_runtime, tmp_path):
    """A key holder looping on invoke made 6,659 jobs in 20 s (and 300 schedules
    firing every second as many): each a row and a folder, the queue without
    end. Past --max-queued-jobs jobs waiting, an invocation is 429 with
    Retry-After, before anything is stored; a place comes back when one starts
    or is canceled."""
    rt = make_runtime(extra_args=["--max-batch-jobs", "1", "--max-queued-jobs", "2"]).start()
    setup_script(rt, "batch_rows.py", retrySettings={"maxRetries": 0, "timeout": "PT60S"})
    slow = str(tmp_path / "slow")
    os.makedirs(slow)
    write_csv(os.path.join(slow, "x-slow.csv"), 3)
    ok(rt.http("PUT", "ws:/data/slow/versions/1",
               {"properties": {"dataType": "uri_folder", "dataUri": slow}}))
    key = ok(rt.http("POST", "ws:/batchEndpoints/py-batch/listkeys"))["primaryKey"]
    running = invoke(rt, "py-batch", "azureml:slow:1", key=key)["name"]
    wait_job(rt, running, ("Running",))
    waiting = [invoke(rt, "py-batch", "azureml:slow:1", key=key)["name"] for _ in range(2)]
    s, h, b = rt.http("POST", "/batch/py-batch/jobs", auth=False,
                      headers={"Authorization": "Bearer " + key},
                      body={"properties": {"InputData": {"x": {
                          "JobInputType": "UriFolder", "Uri": "azureml:slow:1"}}}})
    assert s == 429 and b["error"]["code"] == "TooManyJobs" and int(h["retry-after"]) > 0, b
    assert len(jobs_of(rt, "py-batch")) == 3  # nothing stored for the refused one
    # the admin key and schedules meet the same bound
    invoke(rt, "py-batch", slow, expect=429)
    assert rt.http("POST", "ws:/jobs/%s/cancel" % waiting[0])[0] in (200, 202)
    waiting.append(invoke(rt, "py-batch", "azureml:slow:1", key=key)["name"])
    for name in [running] + waiting[1:]:
        rt.http("POST", "ws:/jobs/%s/cancel" % name)
    for name in [running] + waiting[1:]:
        assert wait_job(rt, name, timeout=60)["properties"]["status"] == "Canceled"
    assert rt.stop() == 0
