"""Nothing cut without a way to read it (issue 8 item 6): text that does not
fit ends in an ellipsis and `v` opens the whole of it (a refusal, the
backend's state, the selected row, a test answer), wrapped and scrollable;
test answers are pretty-printed and scroll (item 4)."""

import json
import os

from conftest import repo_path
from test_console import deck_factory, rt_env, workspace  # noqa: F401 (fixtures)
from test_console_profiles import free_port

ELLIPSIS = "\u2026"


def test_long_refusal_ends_in_ellipsis_and_v_shows_it(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("2")
    d.wait("churn-linear")
    d.keys("C-d", "Tab", "Enter")
    s = d.wait("refused (409")
    message = s.splitlines()[-2]
    assert message.rstrip().endswith(ELLIPSIS), message
    assert "update that deployment first" not in s
    d.keys("v")
    d.wait("used by deployment 'blue'", "endpoint 'churn'", "update that deployment first")
    d.keys("Escape")
    d.wait("| Models", "churn-linear")


def test_unreachable_reason_in_full(deck_factory):
    d = deck_factory({"MLDECK_URL": "http://127.0.0.1:%d" % free_port(),
                      "MLDECK_ADMIN_KEY": "k"})
    s = d.wait("UNREACHABLE", timeout=15)
    assert s.splitlines()[0].rstrip().endswith(ELLIPSIS), s.splitlines()[0]
    d.keys("v")
    d.wait("backend: UNREACHABLE", "connect to server")


def test_selected_row_as_json(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("v")
    d.wait("Endpoints: churn", '"authMode": "Key"', '"provisioningState": "Succeeded"')


def test_answer_pretty_printed_and_scrollable(workspace, deck_factory, tmp_path):
    demo = tmp_path / "demo"
    (demo / "models").mkdir(parents=True)
    (demo / "requests").mkdir()
    rows = json.load(open(repo_path("demo", "requests", "churn.json")))["data"]
    (demo / "requests" / "churn.json").write_text(json.dumps({"data": rows * 14}))
    d = deck_factory(dict(rt_env(workspace), MLDECK_DEMO_DIR=str(demo)))
    d.wait("churn")
    d.keys("t")
    d.wait("TEST REQUEST", "data\": [[0.6894")
    d.keys("Enter")
    s = d.wait("status   200")
    lines = s.splitlines()
    at = next(i for i, l in enumerate(lines) if "status   200" in l)
    assert lines[at + 1].strip() == "[", s  # 42 predictions, one per line
    assert not any(l.strip() == "]" for l in lines), s  # longer than the screen
    d.keys("G")  # scroll to the end of the answer
    s = d.wait("\n]")
    assert s.splitlines()[at + 1].strip() != "["
    d.keys("i", "C-u")
    d.type('{"data": [[1,2]]}')
    d.keys("Enter", "Enter")
    d.wait("status   400", '"error": {', '"message": ')
