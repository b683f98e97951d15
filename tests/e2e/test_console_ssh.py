"""The console on an ssh:// profile (issue 8 items 1, 2, 4): lists, changes
traffic and sends a test request through the tunnel; a killed ssh shows
`reconnecting`, then recovers; a SIGSTOPped remote runtime leaves keys
answered and `q` quitting at once."""

import os
import re
import shutil
import signal
import time
import urllib.parse

import pytest

from conftest import Runtime, repo_path
from recorder import Recorder
from sshd import short_tmp
from test_console import deck_factory, put  # noqa: F401 (fixture)
from test_remote import Client, master_of, ready, remote, sshd, wait_for  # noqa: F401 (fixtures)


@pytest.fixture
def laptop(sshd, remote):
    c = Client(sshd, remote.home)
    ready(c)
    c.cli("deployment", "create", "edge-ep", "green", "--model", "logit:1", "--env", "native:1")
    yield c
    c.cleanup()


def console(laptop, deck_factory):
    env = {k: laptop.env[k] for k in ("PATH", "XDG_CONFIG_HOME", "XDG_RUNTIME_DIR")}
    d = deck_factory(env, args=["--profile", "edge"])
    s = d.wait("edge-ep", "connected", timeout=60)
    assert "ssh://" in s.splitlines()[0]
    return d


def test_lists_changes_traffic_and_tests_through_the_tunnel(laptop, deck_factory):
    d = console(laptop, deck_factory)
    d.keys("Enter")
    d.wait("Deployments/edge-ep", "blue", "green", "100%")
    d.keys("Down", "L", "Enter")
    d.wait("traffic applied", timeout=15)
    assert laptop.js("endpoint", "show", "edge-ep")["properties"]["traffic"] == \
        {"blue": 90, "green": 10}
    d.keys("Escape", "t")
    d.wait("TEST REQUEST  endpoint edge-ep")
    d.keys("i", "C-u")
    d.type('{"data": [[0.1, 0.2, 0.3, 0.4]]}')
    d.keys("Enter", "Enter")
    s = d.wait("status   ", timeout=15)
    assert "POST http://localhost/endpoints/edge-ep/score" in s, s  # the tunnel's route


def test_killed_ssh_shows_reconnecting_then_recovers(laptop, deck_factory):
    d = console(laptop, deck_factory)
    first = master_of(d.pid())
    os.kill(first, signal.SIGKILL)
    d.wait("reconnecting", timeout=30)
    d.wait("edge-ep", "connected", absent=("reconnecting",), timeout=60)
    d.keys("q")
    assert d.exit_code() == 0


def test_stopped_remote_runtime_keys_answer_and_q_quits(laptop, remote, deck_factory):
    d = console(laptop, deck_factory)
    os.kill(remote.proc.pid, signal.SIGSTOP)
    try:
        d.keys("r", "2")
        d.wait("| Models", timeout=3)
        d.keys("1")
        d.wait("| Endpoints", "edge-ep", timeout=3)
        t0 = time.monotonic()
        d.keys("q")
        assert d.exit_code(timeout=5) == 0
        assert time.monotonic() - t0 < 5
    finally:
        os.kill(remote.proc.pid, signal.SIGCONT)


def test_bench_key_goes_through_the_tunnel(laptop, deck_factory):
    d = console(laptop, deck_factory)
    d.keys("b")
    d.wait("bench edge-ep done", timeout=60)
    d.keys("v")  # the message is longer than 80 columns
    s = d.wait("transport errors")
    m = re.search(r"done: (\d+) requests.* (\d+) transport errors", s.replace("\n", " "))
    assert m and int(m.group(1)) > 0 and m.group(2) == "0", s


class RecordedHome:
    """A home of its own (the profile's) whose socket stands in front of the
    runtime's: every request that reaches the runtime passes there."""

    def __init__(self, runtime_home):
        self.home = short_tmp("rec")
        shutil.copy(os.path.join(runtime_home, "admin.key"), self.home)
        self.rec = Recorder.unix(os.path.join(self.home, "mldeck.sock"),
                                 os.path.join(runtime_home, "mldeck.sock"))

    def count(self):
        return len(self.rec.lines())

    def models(self, since=0):
        return sum(1 for line in self.rec.lines(since) if " /subscriptions/" in line and
                   "/models" in line)

    def metrics(self, since=0):
        """The /v1/metrics queries received after the first `since` requests:
        each as its endpoints list (None when it names none: every endpoint)."""
        out = []
        for line in self.rec.lines(since):
            u = urllib.parse.urlsplit(line.split()[1])
            if u.path == "/v1/metrics":
                q = urllib.parse.parse_qs(u.query, keep_blank_values=True)
                out.append(q["endpoints"][0].split(",") if "endpoints" in q else None)
        return out

    def close(self):
        self.rec.close()
        shutil.rmtree(self.home, ignore_errors=True)


def rows_on_screen(screen):
    return re.findall(r"^(ep-\d\d) ", screen, re.M)


def test_asks_metrics_only_for_the_rows_on_screen(sshd, remote, deck_factory):
    """Over ssh://, the Endpoints screen asks the runtime for the figures of
    the rows it shows (and the selected one's detail), not for every
    endpoint's; a screen without live figures asks for none."""
    put(remote, "/models/logit/versions/1",
        {"properties": {"modelUri": repo_path("tests", "data", "logistic.json"),
                        "modelType": "linear"}})
    put(remote, "/environments/native/versions/1", {"properties": {"environmentKind": "native"}})
    names = ["ep-%02d" % i for i in range(30)]
    for ep in names:
        put(remote, "/onlineEndpoints/" + ep, {"properties": {"authMode": "Key"}})
        put(remote, "/onlineEndpoints/%s/deployments/blue" % ep,
            {"properties": {"model": "logit:1", "environmentId": "native:1"},
             "sku": {"capacity": 1}})
    rec = RecordedHome(remote.home)
    laptop = Client(sshd, rec.home)
    try:
        d = deck_factory({k: laptop.env[k] for k in ("PATH", "XDG_CONFIG_HOME",
                                                      "XDG_RUNTIME_DIR")},
                         args=["--profile", "edge"])
        shown = rows_on_screen(d.wait("ep-00", "ep-05", "connected", timeout=60))
        assert 0 < len(shown) < len(names)
        wait_for(lambda: [q for q in rec.metrics() if q and set(q) == set(shown)], 30,
                 "a metrics query for the rows on screen " + repr(shown))

        d.keys("G")  # to the last row: other rows on screen, other figures asked for
        shown = rows_on_screen(d.wait("ep-29"))
        assert "ep-00" not in shown
        wait_for(lambda: [q for q in rec.metrics() if q and set(q) == set(shown)], 30,
                 "a metrics query for the rows at the bottom " + repr(shown))
        assert None not in rec.metrics(), rec.metrics()  # never every endpoint

        d.keys("2")  # Models: no live figures there, none asked for
        d.wait("| Models")
        start = rec.count()
        for i in range(1, 4):  # r: the list again (and, before, every endpoint's figures)
            d.keys("r")
            wait_for(lambda: rec.models(start) > i, 30, "the Models screen's list again")
        # at most the one that was on its way when the key came
        assert len(rec.metrics(start)) <= 1, rec.rec.lines(start)
    finally:
        laptop.cleanup()
        rec.close()


def test_an_unchanged_endpoint_list_is_one_conditional_request(sshd, deck_factory):
    """Over ssh:// the Endpoints list is refreshed every 2 s: on an mldeck
    runtime it is asked for in one page however long it is, and with the
    ETag of the answer the workers hold together (If-None-Match), so an
    unchanged list costs one 304, not pages of JSON."""
    base = short_tmp("pages")
    rt = Runtime(os.path.join(base, "home"), extra_args=["--page-size", "10"]).start()
    rec = RecordedHome(rt.home)
    laptop = Client(sshd, rec.home)
    try:
        for i in range(25):
            put(rt, "/onlineEndpoints/ep-%02d" % i, {"properties": {"authMode": "Key"}})
        d = deck_factory({k: laptop.env[k] for k in ("PATH", "XDG_CONFIG_HOME",
                                                      "XDG_RUNTIME_DIR")},
                         args=["--profile", "edge"])
        d.wait("Endpoints (25)", "connected", timeout=60)

        def lists():
            return [(line, h) for line, h in rec.rec.requests()
                    if line.split()[1].split("?")[0].endswith("/onlineEndpoints")]
        wait_for(lambda: len(lists()) >= 5, 60, "five refreshes of the list")
        seen = lists()
        assert not [line for line, _ in seen if "skipToken" in line], seen  # one page
        assert all("if-none-match" in h for _, h in seen[1:]), seen
    finally:
        laptop.cleanup()
        rec.close()
        rt.stop()
        shutil.rmtree(base, ignore_errors=True)
