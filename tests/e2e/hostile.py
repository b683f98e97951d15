"""Helpers for the adversarial suites (tests/e2e/test_hostile_*.py): raw sockets,
descriptor limits, the kernel's view of a server's connections, polling.

Every helper is bounded in time; every socket goes to 127.0.0.1 only."""

import os
import resource
import socket
import time


def raise_nofile(need):
    """Raises this process's soft RLIMIT_NOFILE to at least need (up to the hard
    limit); returns the soft limit now in force."""
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    want = min(max(soft, need), hard)
    if want > soft:
        resource.setrlimit(resource.RLIMIT_NOFILE, (want, hard))
    return want


def port_of(rt):
    return int(rt.url.rsplit(":", 1)[1])


def connect(rt, timeout=5.0, source=None):
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.settimeout(timeout)
    if source:
        s.bind((source, 0))
    s.connect(("127.0.0.1", port_of(rt)))
    return s


def read_answer(s, timeout=10.0):
    """Reads until the end of one answer's head and its Content-Length body, or EOF.
    Returns the bytes (b"" when the server closed without a word)."""
    s.settimeout(timeout)
    data = b""
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if b"\r\n\r\n" in data:
            head, _, body = data.partition(b"\r\n\r\n")
            n = 0
            for line in head.split(b"\r\n")[1:]:
                k, _, v = line.partition(b":")
                if k.strip().lower() == b"content-length":
                    n = int(v.strip())
            if len(body) >= n:
                return data
        try:
            got = s.recv(65536)
        except socket.timeout:
            break
        except OSError:
            break
        if not got:
            break
        data += got
    return data


def exchange(rt, raw, timeout=10.0, source=None):
    """Sends raw bytes on a new connection and returns the answer (see read_answer)."""
    s = connect(rt, timeout, source)
    try:
        try:
            s.sendall(raw)
        except OSError:
            pass
        return read_answer(s, timeout)
    finally:
        s.close()


def status_of(answer):
    try:
        return int(answer.split(b" ", 2)[1])
    except (IndexError, ValueError):
        return None


def headers_of(answer):
    head = answer.partition(b"\r\n\r\n")[0].decode("latin1")
    out = {}
    for line in head.split("\r\n")[1:]:
        k, _, v = line.partition(":")
        out[k.strip().lower()] = v.strip()
    return out


def closed_by_server(s, timeout):
    """True when the server closes s (EOF or reset) within timeout seconds."""
    s.settimeout(0.2)
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        try:
            if s.recv(65536) == b"":
                return True
        except socket.timeout:
            continue
        except OSError:
            return True
    return False


TCP_STATES = {"01": "ESTABLISHED", "08": "CLOSE_WAIT", "0A": "LISTEN"}


def server_sockets(port, state):
    """How many sockets with local port `port` are in `state` (e.g. "CLOSE_WAIT"),
    from /proc/net/tcp{,6}."""
    n = 0
    for table in ("/proc/net/tcp", "/proc/net/tcp6"):
        if not os.path.exists(table):
            continue
        with open(table) as f:
            next(f)
            for line in f:
                cols = line.split()
                local, st = cols[1], cols[3]
                if int(local.rsplit(":", 1)[1], 16) == port and TCP_STATES.get(st) == state:
                    n += 1
    return n


def wait_for(cond, timeout, step=0.1):
    """Polls cond() until it is true or timeout passes; returns its last value."""
    deadline = time.monotonic() + timeout
    while True:
        v = cond()
        if v or time.monotonic() >= deadline:
            return v
        time.sleep(step)


def healthz_answered(rt, timeout=2.0, source=None):
    """One fresh client asks /healthz: True when answered 200 within timeout."""
    try:
        a = exchange(rt, b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n",
                     timeout, source)
    except OSError:
        return False
    return status_of(a) == 200


def rss_kib(pid):
    with open("/proc/%d/status" % pid) as f:
        for line in f:
            if line.startswith("VmRSS:"):
                return int(line.split()[1])
    return 0
