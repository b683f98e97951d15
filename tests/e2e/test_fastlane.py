"""The server's fast lane (runtime/server.c, runtime/httpfast.h): small plain
scoring requests answered on the server's own loop, everything else on the
same connection handed to libmicrohttpd with its bytes unread. What a client
sees must not depend on which of the two answered: these tests speak raw HTTP
on one kept-alive connection and mix both, split requests into pieces,
pipeline them, stall them, park them on a Python worker, and read a large
answer slowly. Every wait has a deadline; every socket goes to 127.0.0.1."""

import json
import os
import re
import socket
import time

from hostile import closed_by_server, connect, healthz_answered, status_of
from test_hostile_net import ROW, scoring, setup_scoring, started  # noqa: F401 (fixture)
from test_hostile_workers import python_deployment, python_setup


def score_request(key, body, ep="churn", extra=""):
    data = json.dumps(body).encode() if not isinstance(body, bytes) else body
    return ("POST /endpoints/%s/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\n%sContent-Length: %d\r\n\r\n"
            % (ep, key, extra, len(data))).encode() + data


class Reader:
    """Answers read off one connection in order, however the bytes arrive."""

    def __init__(self, s):
        self.s, self.data = s, b""

    def answer(self, timeout=20.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            head, sep, rest = self.data.partition(b"\r\n\r\n")
            if sep:
                n = 0
                for line in head.split(b"\r\n")[1:]:
                    k, _, v = line.partition(b":")
                    if k.strip().lower() == b"content-length":
                        n = int(v.strip())
                if len(rest) >= n:
                    self.data = rest[n:]
                    return head, rest[:n]
            self.s.settimeout(max(0.05, deadline - time.monotonic()))
            try:
                got = self.s.recv(1 << 16)
            except socket.timeout:
                break
            if not got:
                break
            self.data += got
        raise AssertionError("no whole answer; got %r" % self.data[:300])


def status(head):
    return status_of(head + b"\r\n\r\n")


def answers(rt):
    """mldeck_http_answers_total by path, from /metrics."""
    status_, _, text = rt.http("GET", "/metrics")
    assert status_ == 200
    got = dict(re.findall(r'^mldeck_http_answers_total\{path="(\w+)"\} (\d+)$', text, re.M))
    return {k: int(v) for k, v in got.items()}


def test_fast_and_full_server_requests_share_one_connection(scoring):
    """A scoring request (fast lane), a liveness GET (handed over), scoring
    again (now libmicrohttpd's): one connection, three right answers, and the
    counters say which path read each."""
    before = answers(scoring)
    s = connect(scoring)
    r = Reader(s)
    try:
        s.sendall(score_request(scoring.key, ROW))
        head, body = r.answer()
        assert status(head) == 200 and len(json.loads(body)) == 1
        assert b"azureml-model-deployment: blue" in head
        s.sendall(b"GET /endpoints/churn/ HTTP/1.1\r\nHost: x\r\n\r\n")
        head, body = r.answer()
        assert status(head) == 200 and json.loads(body)["status"] == "Healthy"
        s.sendall(score_request(scoring.key, ROW))
        head, body = r.answer()
        assert status(head) == 200 and len(json.loads(body)) == 1
    finally:
        s.close()
    after = answers(scoring)
    assert after["fast"] == before["fast"] + 1
    assert after["full"] == before["full"] + 3  # the GET, the score, /metrics before


def test_pipelined_requests_each_get_their_answer_in_order(scoring):
    rows = [{"data": [[float(i)] * 30]} for i in range(4)]
    one = [json.loads(json.dumps(rw)) for rw in rows]
    s = connect(scoring)
    r = Reader(s)
    try:
        # four scoring requests and a control-plane one in a single write
        s.sendall(b"".join(score_request(scoring.key, rw, extra="x-request-id: req-%d\r\n" % i)
                           for i, rw in enumerate(one)) +
                  b"GET /healthz HTTP/1.1\r\nHost: x\r\n\r\n")
        for i in range(4):
            head, body = r.answer()
            assert status(head) == 200
            assert b"x-request-id: req-%d" % i in head
        head, body = r.answer()
        assert status(head) == 200 and json.loads(body)["status"] == "ok"
    finally:
        s.close()


def test_a_request_in_pieces_is_answered(scoring):
    raw = score_request(scoring.key, ROW)
    cut = raw.index(b"\r\n\r\n")
    pieces = [raw[:7], raw[7:40], raw[40:cut + 2], raw[cut + 2:cut + 10],
              raw[cut + 10:cut + 20], raw[cut + 20:]]
    s = connect(scoring)
    r = Reader(s)
    try:
        for p in pieces:
            s.sendall(p)
            time.sleep(0.15)
        head, body = r.answer()
        assert status(head) == 200 and len(json.loads(body)) == 1
    finally:
        s.close()


def test_a_request_in_many_pieces_goes_to_the_full_server(scoring):
    """Each look of the lane copies the whole request again: one that comes in
    many pieces (a byte at a time, say) is handed to libmicrohttpd, which reads
    each byte once, and answered there."""
    raw = score_request(scoring.key, ROW)
    before = answers(scoring)
    s = connect(scoring)
    r = Reader(s)
    try:
        step = len(raw) // 20 + 1
        for i in range(0, len(raw), step):
            s.sendall(raw[i:i + step])
            time.sleep(0.05)
        head, body = r.answer()
        assert status(head) == 200 and len(json.loads(body)) == 1
    finally:
        s.close()
    after = answers(scoring)
    assert after["fast"] == before["fast"]
    assert after["full"] == before["full"] + 2  # the score, and /metrics before


def test_wrong_key_is_refused_before_the_body(scoring):
    """As on libmicrohttpd: the credential is checked when the head is in; the
    body never comes, the refusal does, and the connection closes."""
    s = connect(scoring)
    r = Reader(s)
    try:
        raw = score_request("not-the-key", ROW)
        s.sendall(raw[:raw.index(b"\r\n\r\n") + 4])  # the head alone
        head, body = r.answer(10)
        assert status(head) == 401
        assert b"connection: close" in head.lower()
        assert closed_by_server(s, 10)
    finally:
        s.close()


def test_a_stalled_body_is_cut_at_the_io_timeout(make_runtime):
    rt = started(make_runtime, "--io-timeout", 1)
    key = setup_scoring(rt)
    s = connect(rt)
    try:
        raw = score_request(key, ROW)
        s.sendall(raw[:-5])  # all but the last bytes of the body
        assert closed_by_server(s, 15), "a stalled body held its connection"
    finally:
        s.close()
    s = connect(rt)
    r = Reader(s)
    try:
        s.sendall(score_request(key, ROW))
        head, _ = r.answer()
        assert status(head) == 200
    finally:
        s.close()


def test_python_answers_come_back_on_the_fast_lane(runtime):
    """A custom_model answer comes from a worker, later: the connection reads
    nothing meanwhile, then answers and goes on."""
    python_setup(runtime)
    runtime.http("PUT", "ws:/onlineEndpoints/pyecho", {"properties": {"authMode": "Key"}})
    python_deployment(runtime, "pyecho", "blue", "echo.py", concurrent=4)
    assert runtime.http("PATCH", "ws:/onlineEndpoints/pyecho",
                        {"properties": {"traffic": {"blue": 100}}})[0] == 200
    key = runtime.http("POST", "ws:/onlineEndpoints/pyecho/listKeys")[2]["primaryKey"]
    s = connect(runtime)
    r = Reader(s)
    try:
        for i in range(3):
            s.sendall(score_request(key, {"data": [[i, 1]], "sleep": 0.2}, ep="pyecho"))
            head, body = r.answer(30)
            assert status(head) == 200, body
            assert json.loads(body)["sum"] == i + 1
        # two at once on the same connection: the second waits for the first
        s.sendall(score_request(key, {"data": [[5]], "sleep": 0.3}, ep="pyecho") +
                  score_request(key, {"data": [[7]]}, ep="pyecho"))
        assert json.loads(r.answer(30)[1])["sum"] == 5
        assert json.loads(r.answer(30)[1])["sum"] == 7
    finally:
        s.close()


def test_a_large_answer_reaches_a_slow_reader_whole(runtime, tmp_path):
    """An answer larger than the socket can hold waits for room, whole and in
    order, and the connection serves the next request after it."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "big.py").write_text(
        "import json\n"
        "def init():\n    pass\n"
        "def run(raw):\n"
        "    n = json.loads(raw)['n']\n"
        "    return {'text': ''.join(chr(97 + i % 26) for i in range(n))}\n")
    python_setup(runtime)
    runtime.http("PUT", "ws:/onlineEndpoints/big", {"properties": {"authMode": "Key"}})
    python_deployment(runtime, "big", "blue", "big.py", code=str(code))
    assert runtime.http("PATCH", "ws:/onlineEndpoints/big",
                        {"properties": {"traffic": {"blue": 100}}})[0] == 200
    key = runtime.http("POST", "ws:/onlineEndpoints/big/listKeys")[2]["primaryKey"]
    n = 4 << 20
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 4096)
    s.settimeout(10)
    s.connect(("127.0.0.1", int(runtime.url.rsplit(":", 1)[1])))
    r = Reader(s)
    try:
        s.sendall(score_request(key, {"n": n}, ep="big"))
        time.sleep(2)  # let the server fill the socket and wait for room
        head, body = r.answer(60)
        assert status(head) == 200
        text = json.loads(body)["text"]
        assert len(text) == n and text[:26] == "abcdefghijklmnopqrstuvwxyz"
        assert text == "".join(chr(97 + i % 26) for i in range(n))
        s.sendall(score_request(key, {"n": 3}, ep="big"))
        assert json.loads(r.answer(30)[1])["text"] == "abc"
    finally:
        s.close()


def test_the_access_log_line_is_the_same_on_both_paths(scoring):
    """The fast lane's request and the same request through libmicrohttpd
    (sent with Expect: 100-continue, which only libmicrohttpd takes) each write
    one line, alike but for the request id and the time taken."""
    shapes = []
    for i, extra in enumerate(("", "Expect: 100-continue\r\n")):
        rid = "both-paths-%d" % i
        s = connect(scoring)
        r = Reader(s)
        try:
            raw = score_request(scoring.key, ROW, extra=extra + "x-request-id: %s\r\n" % rid)
            cut = raw.index(b"\r\n\r\n") + 4
            if extra:
                s.sendall(raw[:cut])
                head, _ = r.answer(10)
                assert status(head) == 100
                s.sendall(raw[cut:])
            else:
                s.sendall(raw)
            head, body = r.answer()
            assert status(head) == 200 and len(json.loads(body)) == 1
            assert b"x-request-id: " + rid.encode() in head
        finally:
            s.close()
        log = scoring.wait_log("rid=" + rid)
        line = next(ln for ln in log.splitlines() if "rid=" + rid in ln)
        # time, peer, method, path, status, milliseconds, ids
        shape = re.sub(r"^\S+ ", "", line)
        shape = re.sub(r" \d+\.\d\dms ", " MSms ", shape).replace(rid, "RID")
        shapes.append(shape)
    assert shapes[0] == shapes[1], shapes
    assert shapes[0] == "127.0.0.1 POST /endpoints/churn/score 200 MSms rid=RID deployment=blue"


def open_fds(rt):
    return len(os.listdir("/proc/%d/fd" % rt.proc.pid))


def test_unfinished_heads_are_closed_when_no_more_can_come(make_runtime):
    """A head the lane waits on, then the peer's FIN or the guard's header
    deadline: a peek still sees the bytes that came, but no more will: the
    connection must close (it held its descriptor for good)."""
    rt = started(make_runtime, "--header-timeout", 2)
    base = open_fds(rt)
    socks = []
    try:
        for i in range(40):
            s = connect(rt)
            s.sendall(b"POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\n")
            if i % 2 == 0:
                s.shutdown(socket.SHUT_WR)  # half of them say goodbye at once
            socks.append(s)
        assert all(closed_by_server(s, 15) for s in socks)
    finally:
        for s in socks:
            s.close()
    deadline = time.monotonic() + 15
    while open_fds(rt) > base and time.monotonic() < deadline:
        time.sleep(0.1)
    assert open_fds(rt) <= base


def test_a_burst_of_handed_over_connections_leaves_the_server_whole(make_runtime):
    """More connections handed to libmicrohttpd at once than its share per
    worker: 0.9.75 refuses such an added connection holding a mutex, and the
    worker deadlocks (every later request reset, stop hung). The server must
    keep answering and stop."""
    rt = started(make_runtime, "--max-connections", 10)
    socks = []
    try:
        for _ in range(20):
            s = connect(rt)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            socks.append(s)
        time.sleep(1)
    finally:
        for s in socks:
            s.close()
    time.sleep(1)
    for _ in range(6):
        assert healthz_answered(rt, timeout=5)
    rt.proc.terminate()
    rt.proc.wait(20)  # raises when the stop hangs
    assert rt.proc.returncode == 0


def test_a_slow_reader_past_the_keepalive_timeout_gets_the_whole_answer(make_runtime, tmp_path):
    """While an answer still moves, the connection is busy, not idle: the
    keep-alive timeout must not cut it (only --io-timeout's silence does)."""
    rt = started(make_runtime, "--keepalive-timeout", 1)
    code = tmp_path / "code"
    code.mkdir()
    (code / "big.py").write_text(
        "import json\n"
        "def init():\n    pass\n"
        "def run(raw):\n"
        "    return {'text': 'x' * json.loads(raw)['n']}\n")
    python_setup(rt)
    rt.http("PUT", "ws:/onlineEndpoints/big", {"properties": {"authMode": "Key"}})
    python_deployment(rt, "big", "blue", "big.py", code=str(code))
    assert rt.http("PATCH", "ws:/onlineEndpoints/big",
                   {"properties": {"traffic": {"blue": 100}}})[0] == 200
    key = rt.http("POST", "ws:/onlineEndpoints/big/listKeys")[2]["primaryKey"]
    n = 12 << 20  # well past what the kernel's send buffer holds (4 MiB at most)
    s = socket.socket(socket.AF_INET, socket.SOCK_STREAM)
    s.setsockopt(socket.SOL_SOCKET, socket.SO_RCVBUF, 65536)
    s.settimeout(10)
    s.connect(("127.0.0.1", int(rt.url.rsplit(":", 1)[1])))
    got = b""
    try:
        s.sendall(score_request(key, {"n": n}, ep="big"))
        deadline = time.monotonic() + 90
        while time.monotonic() < deadline:  # ~3 MB a second: seconds past 1 s
            try:
                chunk = s.recv(65536)
            except socket.timeout:
                break
            if not chunk:
                break
            got += chunk
            head, sep, body = got.partition(b"\r\n\r\n")
            if sep and len(body) >= n + 12:  # {"text": "..."}
                break
            time.sleep(0.02)
    finally:
        s.close()
    head, _, body = got.partition(b"\r\n\r\n")
    assert status(head) == 200
    assert len(json.loads(body)["text"]) == n
