"""The console on an `azureml` profile, in a real terminal (tmux), against the
fake Azure: lists, operations shown as a row state that updates while the
console stays usable, Azure Monitor latency labelled with its grain, and a
backend that takes seconds for every answer."""

import time

from azure_env import azure, azure_certs  # noqa: F401 (fixtures)
from conftest import repo_path
from test_azure_backend import setup_blue
from test_console import Deck


def console(az, tmp_path):
    env = {k: v for k, v in az.env.items() if k in (
        "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME", "PATH", "AZURE_ACCESS_TOKEN",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST")}
    requests = tmp_path / "demo" / "requests"
    requests.mkdir(parents=True, exist_ok=True)
    (tmp_path / "demo" / "models").mkdir(exist_ok=True)  # what makes it a demo directory
    (requests / "churn-ep.json").write_text('{"data": [[1, 2, 3]]}')
    env.update(TERM="xterm-256color", LANG="C.UTF-8", LC_ALL="C.UTF-8",
               MLDECK_THEMES=repo_path("themes"), MLDECK_DEMO_DIR=str(tmp_path / "demo"))
    return Deck(tmp_path, env, size=(120, 32))


def test_console_operations_and_azure_monitor(azure, tmp_path):
    az, fake = azure, azure.fake
    req = setup_blue(az, tmp_path)
    az.cli("deployment", "create", "churn-ep", "green", "--model", "churn:1", "--env",
           "sklearn:1")
    az.cli("deployment", "create", "churn-ep", "canary", "--model", "churn:1", "--env",
           "sklearn:1")
    for _ in range(3):
        az.cli("invoke", "churn-ep", "--request-file", req)
    fake.config["lro_seconds"] = 3
    d = console(az, tmp_path)
    try:
        d.wait("churn-ep", "Succeeded")
        # the selected endpoint's latency comes from Azure Monitor, and says so
        d.wait("p99 per minute (Azure Monitor, 1 min)", timeout=15)
        # a test request goes to the scoring host with the endpoint's key
        d.keys("t")
        d.wait("TEST REQUEST", "churn-ep.json")
        d.keys("Enter")
        d.wait("status   200", "deployment blue", "[6]", timeout=15)
        d.keys("Escape")
        d.keys("l")  # the log of its busiest deployment, through getLogs
        d.wait("LOGS churn-ep/blue", "(following)", "POST /score 200", timeout=15)
        d.keys("Escape")
        d.wait("Endpoints")
        d.keys("Enter")
        d.wait("Deployments/churn-ep", "canary", "green", "100%")
        d.keys("Down", "Down", "L")  # blue, canary, green: green +10, blue gives 10
        d.wait("pending change")
        d.keys("Enter")
        s = d.wait("endpoint     Updating", timeout=10)  # the operation, in the pane
        d.keys("j")  # the console answers while it runs
        d.wait("traffic applied (after", timeout=20)
        props = fake.arm.endpoints["churn-ep"]["properties"]
        assert props["traffic"] == {"blue": 90, "green": 10, "canary": 0}
        assert not fake.arm_calls("PATCH")  # traffic is a full PUT on Azure
        # a delete is an operation too: the row shows it while it runs
        d.keys("Up", "C-d")
        d.wait("Delete deployment canary of churn-ep?")
        d.keys("Tab", "Enter")
        s = d.wait("Deleting", timeout=10)
        assert "canary" in [ln for ln in s.splitlines() if "Deleting" in ln][0]
        d.wait("deleted: deployment canary", timeout=20)
        assert ("churn-ep", "canary") not in fake.arm.deployments
    finally:
        d.close()
    # Azure Monitor was asked once a minute at most, and lists every 10 s at most
    monitor = fake.arm_calls("GET", "microsoft.insights/metrics")
    assert 1 <= len(monitor) <= 2, monitor


def test_console_stays_responsive_when_azure_is_slow(azure, tmp_path):
    az, fake = azure, azure.fake
    setup_blue(az, tmp_path)
    d = console(az, tmp_path)
    try:
        d.wait("churn-ep", "Succeeded")
        fake.faults.delay = 4  # every answer from now on takes 4 s
        d.keys("r")
        d.wait("waiting", timeout=10)
        t0 = time.monotonic()
        d.keys("?")
        d.wait("Help")
        d.keys("Escape")
        d.keys("2")
        d.wait("Models")
        assert time.monotonic() - t0 < 3  # keys were answered while the backend stalled
        t0 = time.monotonic()
        d.keys("q")
        assert d.exit_code(timeout=10) == 0
        assert time.monotonic() - t0 < 3  # quitting does not wait for the backend
    finally:
        d.close()
