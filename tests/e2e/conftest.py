"""Shared fixtures for the black-box tests: a real `mldeck serve` on a free
loopback port with a temporary home, driven over real HTTP and the real CLI."""

import json
import os
import re
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
import urllib.error
import urllib.request

import pytest

REPO = os.path.dirname(os.path.dirname(os.path.dirname(os.path.abspath(__file__))))
BIN = os.environ.get("MLDECK_BIN", os.path.join(REPO, "mldeck"))
PY = "/usr/bin/python3"


class Runtime:
    """One runtime process. start() waits for its "listening on" line."""

    def __init__(self, home, workspace="local", extra_args=()):
        self.home = home
        self.workspace = workspace
        self.extra_args = list(extra_args)
        self.proc = None
        self.url = None
        self.log_path = os.path.join(os.path.dirname(home), "serve-%d.log" % id(self))
        self.ws = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
                   "/providers/Microsoft.MachineLearningServices/workspaces/" + workspace)

    def start(self, listen="127.0.0.1:0", timeout=20.0):
        self.log = open(self.log_path, "ab")
        start = self.log.tell()
        self.proc = subprocess.Popen(
            [BIN, "serve", "--listen", listen, "--home", self.home,
             "--workspace", self.workspace] + self.extra_args,
            stdin=subprocess.DEVNULL, stdout=self.log, stderr=self.log)
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            with open(self.log_path, "rb") as f:
                f.seek(start)
                m = re.search(rb"listening on (https?://[0-9.:\[\]]+)", f.read())
            if m:
                self.url = m.group(1).decode()
                break
            if self.proc.poll() is not None:
                raise RuntimeError("mldeck serve exited %d:\n%s" % (self.proc.returncode, self.logtext()))
            time.sleep(0.02)
        else:
            raise RuntimeError("mldeck serve did not start:\n" + self.logtext())
        with open(os.path.join(self.home, "admin.key")) as f:
            self.admin_key = f.read().strip()
        return self

    def logtext(self):
        with open(self.log_path, "rb") as f:
            return f.read().decode(errors="replace")

    def wait_log(self, text, timeout=5.0):
        """The log once it holds text (request lines are flushed every 100 ms)."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            log = self.logtext()
            if text in log:
                return log
            time.sleep(0.02)
        raise AssertionError("log never showed %r:\n%s" % (text, self.logtext()[-2000:]))

    def stop(self, sig=signal.SIGTERM, timeout=20.0):
        if self.proc and self.proc.poll() is None:
            self.proc.send_signal(sig)
            try:
                self.proc.wait(timeout)
            except subprocess.TimeoutExpired:
                self.proc.kill()
                self.proc.wait()
        if getattr(self, "log", None):
            self.log.close()
        return self.proc.returncode if self.proc else None

    def kill9(self):
        self.proc.kill()
        self.proc.wait()
        self.log.close()

    def env(self, extra=None):
        e = dict(os.environ)
        e["MLDECK_URL"] = self.url
        e["MLDECK_ADMIN_KEY"] = self.admin_key
        e.setdefault("XDG_CONFIG_HOME", os.path.join(os.path.dirname(self.home), "config"))
        if extra:
            e.update(extra)
        return e

    def cli(self, *args, check=True, env=None, input=None, timeout=120):
        r = subprocess.run([BIN] + [str(a) for a in args], env=self.env(env), input=input,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("mldeck %s -> %d\nstdout: %s\nstderr: %s"
                                 % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
        return r

    def http(self, method, path, body=None, headers=None, raw=None, auth=True, timeout=30):
        """Raw HTTP. path is absolute ("/healthz") or workspace-relative ("ws:/models").
        Returns (status, lowercase headers, JSON or text)."""
        if path.startswith("ws:"):
            path = self.ws + path[3:]
        data = raw
        hdrs = {}
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        if auth:
            hdrs["Authorization"] = "Bearer " + self.admin_key
        hdrs.update(headers or {})
        req = urllib.request.Request(self.url + path, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req, timeout=timeout, context=self.ssl_context()) as r:
                status, h, text = r.status, r.headers, r.read()
        except urllib.error.HTTPError as e:
            status, h, text = e.code, e.headers, e.read()
        h = {k.lower(): v for k, v in h.items()}
        text = text.decode(errors="replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        return status, h, parsed

    def ca_file(self):
        """The certificate `serve --tls` generated in the home (clients trust it)."""
        return os.path.join(self.home, "tls-cert.pem")

    def ssl_context(self):
        if not self.url.startswith("https:"):
            return None
        return ssl.create_default_context(cafile=self.ca_file())

    def wait_deployment(self, ep, name, timeout=60.0):
        """Polls until the deployment leaves Creating/Updating/Scaling; returns its JSON."""
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            s, _, d = self.http("GET", "ws:/onlineEndpoints/%s/deployments/%s" % (ep, name))
            assert s == 200, d
            if d["properties"]["provisioningState"] in ("Succeeded", "Failed"):
                return d
            time.sleep(0.05)
        raise AssertionError("deployment %s/%s still provisioning" % (ep, name))


@pytest.fixture
def home(tmp_path):
    h = tmp_path / "home"
    return str(h)


@pytest.fixture
def runtime(home):
    rt = Runtime(home).start()
    yield rt
    # a clean stop: no crash, no sanitizer report (leaks exit 23) on the way out
    assert rt.stop() == 0, rt.logtext()[-4000:]


@pytest.fixture
def make_runtime(tmp_path):
    """Factory for tests that restart or run several runtimes."""
    made = []

    def make(home=None, **kw):
        rt = Runtime(home or str(tmp_path / ("home%d" % len(made))), **kw)
        made.append(rt)
        return rt

    yield make
    for rt in made:
        try:
            rt.stop()
        except Exception:
            pass


def raw_exchange(rt, head, body=b"", chunks=()):
    """Sends a request by hand and reads whatever answer comes, even early."""
    host, port = rt.url.split("//")[1].split(":")
    s = socket.create_connection((host, int(port)), timeout=10)
    try:
        s.sendall(head)
        try:
            s.sendall(body)
            for c in chunks:
                s.sendall(c)
        except OSError:
            pass  # the server may answer and close before reading it all
        data = b""
        while b"\r\n\r\n" not in data:
            got = s.recv(65536)
            if not got:
                break
            data += got
        return data
    finally:
        s.close()


def repo_path(*parts):
    return os.path.join(REPO, *parts)
