"""The Monitor screen in a real terminal (issue 12 item 6): the Deployments screen marks a
deployment whose monitor fails, `D` opens its Monitor screen: features ranked by drift with a
bar against the threshold, data quality, last and next run, the last alert; readable at 80x24,
with NO_COLOR and in ASCII."""

import os
import subprocess

import numpy as np
import pytest

import test_console as tc
from conftest import repo_path
from monitor_env import (collector, data_asset, monitor_body, native_deployment, put,
                         reference_file, score, trigger, wait_job, wait_live, wait_records)

pytestmark = tc.pytestmark


@pytest.fixture
def deck(tmp_path):
    made = []

    def make(env, **kw):
        base = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
                "MLDECK_THEMES": repo_path("themes"), "MLDECK_DEMO_DIR": repo_path("demo"),
                "HOME": str(tmp_path)}
        base.update(env)
        d = tc.Deck(tmp_path, base, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


@pytest.fixture
def drifting(runtime, tmp_path):
    """churn/blue, monitored, whose feature 5 moved: its last run failed and alerted."""
    rt = runtime
    rng = np.random.default_rng(5)
    key = native_deployment(rt, data_collector=collector(outputs=None))
    data_asset(rt, "train", reference_file(tmp_path / "t.jsonl",
                                           rng.normal(0, 1, (1000, 30)).round(4).tolist()))
    put(rt, "/schedules/churn-watch", monitor_body(rt, "churn", "blue", "azureml:train:1"))
    rows = rng.normal(0, 1, (1200, 30)).round(4)  # live drift waits for 1,000 rows
    rows[:, 5] += 2.0
    for i in range(0, 1200, 10):
        score(rt, "churn", rows[i:i + 10].tolist(), key)
    wait_records(rt, "churn", "blue", "model_inputs", 120)
    job = wait_job(rt, trigger(rt, "churn-watch"))
    assert job["properties"]["properties"]["monitorStatus"] == "Failed"
    return rt


def test_monitor_screen_from_the_deployments_marker(drifting, deck):
    d = deck(tc.rt_env(drifting))
    d.wait("churn", "Succeeded")
    d.keys("Enter")
    d.wait("Deployments/churn", "! blue")             # the marker of a failing monitor
    d.keys("D")
    s = d.wait("MONITOR churn/blue", "monitor churn-watch", "Failed", "LAST ALERT",
               "W1/sd", "FAIL", timeout=20)
    lines = s.splitlines()
    assert len(lines) <= 24 and all(len(l) <= 80 for l in lines)
    feat = [l for l in lines if l[:13].strip() and l.split()[0].isdigit()]
    assert feat and feat[0].split()[0] == "5", s     # ranked: the moved feature first
    assert "quality:" in s and "out of bounds" in s
    assert "Monitor churn-watch on churn/blue: signal drift failed" in s
    d.keys("Escape")
    d.wait("Deployments/churn")
    d.keys("q")
    assert d.exit_code() == 0


def test_monitor_screen_says_when_requests_go_uncollected(drifting, deck, tmp_path):
    rt = drifting
    s, _, v = rt.http("GET", "/v1/monitors?endpoint=churn&deployment=blue")
    assert s == 200 and v["collected"] == {"collection": "model_inputs", "records": 120,
                                           "dropped": 0, "failed": 0}, v.get("collected")
    d = deck(tc.rt_env(rt))
    d.wait("churn", "Succeeded")
    d.keys(":")
    d.type("monitor churn/blue")
    d.keys("Enter")
    s = d.wait("MONITOR churn/blue", "FAIL", timeout=20)
    assert "collection failing" not in s and "collecting" not in s
    # the disk fills (here: ulimit -f on the runtime): records fail, the screen says so
    files = [os.path.join(p, f) for p, _, fs in os.walk(rt.home) for f in fs]
    limit = max(os.path.getsize(f) for f in files + [rt.log_path]) + 64 * 1024
    subprocess.run(["prlimit", "--pid", str(rt.proc.pid), "--fsize=%d:" % limit], check=True)
    key = rt.http("POST", "ws:/onlineEndpoints/churn/listKeys")[2]["primaryKey"]
    rows = np.random.default_rng(1).normal(0, 1, (100, 30)).round(4).tolist()
    try:
        for _ in range(limit // (50 * 1024) + 4):
            score(rt, "churn", rows, key)
        s = d.wait("collection failing: records not written", timeout=20)
    finally:
        subprocess.run(["prlimit", "--pid", str(rt.proc.pid), "--fsize=unlimited:"], check=True)
    lines = s.splitlines()
    assert len(lines) <= 24 and all(len(l) <= 80 for l in lines)
    v = rt.http("GET", "/v1/monitors?endpoint=churn&deployment=blue")[2]["collected"]
    assert v["failed"] > 0 and v["records"] >= 120, v
    d.keys("q")
    assert d.exit_code() == 0


def test_monitor_screen_no_color_ascii(drifting, deck):
    d = deck(dict(tc.rt_env(drifting), NO_COLOR="1", TERM="vt100", LANG="C", LC_ALL="C"))
    d.wait("churn", "Succeeded")
    d.keys(":")
    d.type("monitor churn/blue")
    d.keys("Enter")
    s = d.wait("MONITOR churn/blue", "FAIL", timeout=20)
    line5 = next(l for l in s.splitlines() if l.startswith("5 "))
    assert "#" in line5 and "|" in line5             # ASCII bar and its threshold mark
    assert all(ord(ch) < 128 for ch in s)
    d.keys("q")
    assert d.exit_code() == 0


def test_demo_drifts_and_alerts(runtime, deck):
    """The demo monitors churn/blue; its load moves feature 10 (here one standard deviation
    every 10 s instead of 10 minutes): live drift ranks it first and fails, a run fails and
    alerts, and the Monitor screen shows both."""
    rt = runtime
    d = deck(dict(tc.rt_env(rt), MLDECK_DEMO_DRIFT_SECONDS="10"), args=["--demo"])
    d.wait("demo workspace ready", timeout=120)
    s, _, sc = rt.http("GET", "ws:/schedules/churn-drift")
    assert s == 200 and sc["properties"]["action"]["actionType"] == "CreateMonitor", sc
    assert sc["properties"]["trigger"]["frequency"] == "Minute"
    s, _, data = rt.http("GET", "ws:/data/churn-train/versions/1")
    assert s == 200 and data["properties"]["dataUri"].endswith("churn-train.csv"), data

    def moved(live):
        f = live["features"]
        return live["rows"] >= 1000 and f[0]["feature"] == "10" and not f[0]["passed"]
    wait_live(rt, "churn", "blue", moved, timeout=240)  # ~15 rows/s of demo load
    job = wait_job(rt, trigger(rt, "churn-drift"))
    props = job["properties"]["properties"]
    assert props["monitorStatus"] == "Failed", job
    res = job["properties"]["outputs"]["results"]["value"]["signals"]
    failed = [f["feature"] for sig in res.values() for f in sig["features"] if not f["passed"]]
    assert "10" in failed, res
    d.keys(":")
    d.type("monitor churn/blue")
    d.keys("Enter")
    s = d.wait("MONITOR churn/blue", "monitor churn-drift", "LAST ALERT", timeout=20)
    first = next(l for l in s.splitlines() if l[:2].strip().isdigit())
    assert first.split()[0] == "10" and "FAIL" in first, s
    d.keys("q")
    assert d.exit_code(timeout=30) == 0
