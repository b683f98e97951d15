"""The command line of monitoring (issue 12 item 6): monitor create|list|show|run|results|delete
and data collected, over the real binary against a real runtime."""

import json
import math

import numpy as np
import scipy.stats as st

from monitor_env import collector, data_asset, native_deployment, reference_file, score, wait_records


def test_monitor_verbs_end_to_end(runtime, tmp_path):
    rt = runtime
    rng = np.random.default_rng(3)
    key = native_deployment(rt, data_collector=collector(outputs=None))
    ref = rng.normal(0, 1, (1000, 30)).round(5)
    data_asset(rt, "train", reference_file(tmp_path / "t.jsonl", ref.tolist()))
    rows = rng.normal(0, 1, (200, 30)).round(5)
    rows[:, 3] += 1.5
    for i in range(0, 200, 4):
        score(rt, "churn", rows[i:i + 4].tolist(), key, headers={"x-request-id": "r%03d" % i})
    wait_records(rt, "churn", "blue", "model_inputs", 50)

    r = rt.cli("-o", "table", "monitor", "create", "churn-mon", "churn", "blue", "--reference",
               "azureml:train:1", "--signals", "drift", "--threshold", "0.3")
    assert "monitor churn-mon created" in r.stdout
    show = json.loads(rt.cli("-o", "json", "monitor", "show", "churn-mon").stdout)
    sig = show["properties"]["action"]["monitorDefinition"]["signals"]["drift"]
    assert sig["signalType"] == "DataDrift"
    assert sig["productionData"]["uri"] == "azureml:churn-blue-model_inputs:1"

    r = rt.cli("-o", "table", "monitor", "run", "churn-mon", "--wait")
    assert "Failed" in r.stdout.splitlines()[0]               # the run's status: a signal failed
    assert any(l.split()[:2] == ["drift", "3"] and l.rstrip().endswith("FAILED")
               for l in r.stdout.splitlines()), r.stdout
    res = json.loads(rt.cli("-o", "json", "monitor", "results", "churn-mon").stdout)
    by = {f["feature"]: f for f in res["signals"]["drift"]["features"]
          if f["metric"] == "NormalizedWassersteinDistance"}
    want = st.wasserstein_distance(ref[:, 3], rows[:, 3]) / np.std(ref[:, 3], ddof=1)
    assert math.isclose(by["3"]["value"], want, rel_tol=1e-9)

    lst = rt.cli("-o", "table", "monitor", "list").stdout.splitlines()
    assert lst[0].split() == ["NAME", "TARGET", "LAST", "RUN", "STATUS", "NEXT", "RUN"]
    assert lst[1].split()[:2] == ["churn-mon", "churn/blue"] and "Failed" in lst[1]

    out = rt.cli("-o", "table", "data", "collected", "churn", "blue", "--lines",
                 "3").stdout.splitlines()
    assert len(out) == 12                                     # 3 records of 4 rows
    assert out[-1].split()[1] == "r196"
    last = json.loads(out[-1].split(None, 2)[2])
    assert all(math.isclose(last[str(k)], v, rel_tol=1e-14)
               for k, v in enumerate(rows[199].tolist()))
    raw = rt.cli("-o", "json", "data", "collected", "churn", "blue", "--lines", "1").stdout
    rec = json.loads(raw)   # exactly as the collector wrote it: the numbers sent
    assert rec["type"] == "azureml.inference.model_inputs" and rec["xrequestid"] == "r196"
    assert rec["data"][-1] == {str(k): v for k, v in enumerate(rows[199].tolist())}
    assert rt.cli("data", "collected", "churn", "blue", "--collection", "response",
                  check=False).returncode == 1

    assert rt.cli("--readonly", "monitor", "delete", "churn-mon", "--yes",
                  check=False).returncode == 2
    rt.cli("monitor", "delete", "churn-mon", "--yes")
    assert rt.http("GET", "ws:/schedules/churn-mon")[0] == 404
    assert rt.cli("monitor", "create", "x", "churn", "blue", check=False).returncode == 2
