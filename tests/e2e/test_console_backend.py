"""The console never waits on its backend (issue 8 item 1): with a server
that accepts and never answers, or a SIGSTOPped `mldeck serve`, keys still
take effect, `q` still quits, and the header says what the backend is doing
(waiting N s, UNREACHABLE with the reason, how old the data on screen is)."""

import os
import signal
import socket
import threading
import time

import pytest

from test_console import deck_factory, put, rt_env, workspace  # noqa: F401 (fixtures)

# The console's requests time out after 10 s: quitting well before that
# proves it did not wait for the stalled one.
QUIT_BOUND = 5.0


class Stalled:
    """A TCP server on 127.0.0.1 that accepts every connection, reads what
    comes and never answers."""

    def __init__(self):
        self.sock = socket.socket()
        self.sock.bind(("127.0.0.1", 0))
        self.sock.listen(64)
        self.url = "http://127.0.0.1:%d" % self.sock.getsockname()[1]
        self.conns = []
        self.accepted = threading.Event()
        self.stop = False
        threading.Thread(target=self.serve, daemon=True).start()

    def serve(self):
        self.sock.settimeout(0.2)
        while not self.stop:
            try:
                c, _ = self.sock.accept()
            except OSError:
                continue
            self.conns.append(c)
            self.accepted.set()

    def close(self):
        self.stop = True
        for c in self.conns:
            c.close()
        self.sock.close()


@pytest.fixture
def stalled():
    s = Stalled()
    yield s
    s.close()


def stalled_env(s):
    return {"MLDECK_URL": s.url, "MLDECK_ADMIN_KEY": "k"}


def test_stalled_server_keys_answer_and_q_quits(stalled, deck_factory):
    d = deck_factory(stalled_env(stalled))
    d.wait("mldeck", "Endpoints")
    assert stalled.accepted.wait(10)
    d.wait("waiting", timeout=8)  # the header says the backend is slow
    d.keys("2")
    d.wait("Models", absent=("| Endpoints",), timeout=3)
    d.keys("?")
    d.wait("KEYS", "everywhere", timeout=3)
    d.keys("4")
    d.wait("Profiles", "local", timeout=3)
    t0 = time.monotonic()
    d.keys("q")
    assert d.exit_code(timeout=QUIT_BOUND) == 0
    assert time.monotonic() - t0 < QUIT_BOUND


def test_sigstopped_runtime_keys_answer_and_q_quits(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn", "Succeeded", "connected")
    os.kill(workspace.proc.pid, signal.SIGSTOP)
    try:
        d.keys("r")  # a refresh that will never come back
        d.keys("Enter")
        d.wait("Deployments/churn", timeout=3)
        d.keys("Escape")
        d.wait("| Endpoints", "churn", timeout=3)  # the rows already shown stay
        d.keys("3")
        d.wait("Environments", timeout=3)
        d.wait("waiting", timeout=8)
        d.keys("1")
        d.wait("data", "s old", timeout=20)  # how old the rows on screen are
        t0 = time.monotonic()
        d.keys("q")
        assert d.exit_code(timeout=QUIT_BOUND) == 0
        assert time.monotonic() - t0 < QUIT_BOUND
    finally:
        os.kill(workspace.proc.pid, signal.SIGCONT)


def test_unreachable_says_why(make_runtime, deck_factory):
    rt = make_runtime().start()
    d = deck_factory(rt_env(rt))
    d.wait("connected", "Endpoints")
    rt.stop()
    d.wait("UNREACHABLE", timeout=15)
    d.keys("v")  # the reason in full: "Failed to connect ...: Couldn't connect to server"
    d.wait("backend: UNREACHABLE: Failed to connect", "connect to server")
    d.keys("Escape")
    rt.start(listen=rt.url.split("//")[1])
    d.wait("connected", absent=("UNREACHABLE",), timeout=15)
    d.keys("q")
    assert d.exit_code() == 0
