"""The console's batch screens in a real terminal (tmux): Batch endpoints with
their schedules' next run, Jobs with live progress, a job's mini-batches and
logs, cancel behind a question focused on No, Schedules (issue 11 item 7)."""

import os
import time

from test_batch import (invoke, job, ok, schedule_body, setup_batch, setup_script, wait_job,
                        write_csv)
from test_console import TMUX, deck_factory, rt_env  # noqa: F401 (fixture)

import pytest

pytestmark = pytest.mark.skipif(
    os.system("which %s >/dev/null 2>&1" % TMUX) != 0, reason="no tmux")


def wait_status(rt, name, status, timeout=10):
    deadline = time.monotonic() + timeout
    while job(rt, name)["properties"]["status"] != status:
        assert time.monotonic() < deadline, job(rt, name)["properties"]
        time.sleep(0.05)


def test_batch_screens(runtime, deck_factory, tmp_path):  # noqa: F811
    rt = runtime
    setup_batch(rt, miniBatchSize=1)
    setup_script(rt, "batch_rows.py", miniBatchSize=1, maxConcurrencyPerInstance=1,
                 retrySettings={"maxRetries": 0, "timeout": "PT300S"})
    done_in = str(tmp_path / "customers")
    os.makedirs(done_in)
    for i in range(3):
        write_csv(os.path.join(done_in, "c%d.csv" % i), 50)
    ep_id = rt.ws + "/batchEndpoints/churn-batch"
    ok(rt.http("PUT", "ws:/schedules/nightly", schedule_body(
        ep_id, done_in, {"triggerType": "Recurrence", "frequency": "Day", "interval": 1,
                         "schedule": {"hours": [3], "minutes": [15]},
                         "timeZone": "Pacific Standard Time"})))
    completed = wait_job(rt, invoke(rt, "churn-batch", done_in)["name"])
    assert completed["properties"]["status"] == "Completed"
    slow_in = str(tmp_path / "slow")
    os.makedirs(slow_in)
    write_csv(os.path.join(slow_in, "a.csv"), 5)
    write_csv(os.path.join(slow_in, "b-slow.csv"), 5)  # run() sleeps on it
    slow = invoke(rt, "py-batch", slow_in)["name"]

    d = deck_factory(rt_env(rt), size=(110, 30))
    d.wait("Endpoints")  # the first screen
    d.keys("5")
    s = d.wait("Batch endpoints", "churn-batch", "py-batch", "Completed")
    d.keys("/")
    d.type("churn-batch")
    d.keys("Enter")
    s = d.wait("nightly", "every 1 Day", "Pacific Standard Time", "next 20")
    assert "/batch/churn-batch/jobs" in s  # the invocation URI

    # Jobs: the running score.py job first (newest), with its bar, then the completed one
    d.keys("6")
    s = d.wait(slow[:18], completed["name"][:18], "Running", "1/2", "Completed", "3/3",
               timeout=30)
    d.keys("/")
    d.type("py-batch")
    d.keys("Enter")  # the slow job alone
    d.wait("Jobs (1/2)")
    d.keys("c")
    d.wait("Cancel job %s?" % slow, "[ No ]", "[ Yes ]")
    d.keys("Enter")  # No has the focus
    d.wait("not canceled")
    time.sleep(0.3)
    assert job(rt, slow)["properties"]["status"] == "Running"
    d.keys("c")
    d.wait("Cancel job")
    d.keys("Tab", "Enter")  # Yes
    d.wait("cancel requested")
    wait_status(rt, slow, "Canceled", timeout=5)
    d.wait("Canceled", timeout=10)  # refreshed on screen

    # a job: its mini-batches and its log
    d.keys("Escape")  # clears the filter
    d.keys("/")
    d.type("churn-batch")
    d.keys("Enter", "Enter")
    s = d.wait("Job/" + completed["name"], "MINI-BATCHES", "RUN_DONE", "c2.csv")
    d.keys("G")
    d.wait("PROGRESS LOG", "the job completed")
    d.keys("Escape")
    d.wait("Jobs")

    # Schedules
    d.type(":schedules")
    d.keys("Enter")
    d.wait("Schedules", "nightly", "yes", "every 1 Day at h 3 m 15")
    d.keys("Enter")  # its jobs (none yet: the schedule has not fired)
    d.wait("Jobs/schedule:nightly")
    d.keys("q")
    assert d.exit_code() == 0
