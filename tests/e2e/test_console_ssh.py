"""The console on an ssh:// profile (issue 8 items 1, 2, 4): lists, changes
traffic and sends a test request through the tunnel; a killed ssh shows
`reconnecting`, then recovers; a SIGSTOPped remote runtime leaves keys
answered and `q` quitting at once."""

import os
import re
import signal
import time

import pytest

from test_console import deck_factory  # noqa: F401 (fixture)
from test_remote import Client, master_of, ready, remote, sshd  # noqa: F401 (fixtures)


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
