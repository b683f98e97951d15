"""The generic part of the fake: threaded HTTP(S) servers on OS-chosen
loopback ports, one request object, a route table of (method, regex,
handler), JSON answers, and the faults every answer may suffer (delay,
throttling, connection resets)."""

import json
import re
import socket
import ssl
import struct
import threading
import time
import urllib.parse
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer


class Request:
    def __init__(self, h, body):
        self.method = h.command
        url = urllib.parse.urlsplit(h.path)
        self.raw_path = url.path
        self.path = urllib.parse.unquote(url.path)
        self.raw_query = url.query
        self.query = urllib.parse.parse_qs(url.query, keep_blank_values=True)
        self.headers = {k.lower(): v for k, v in h.headers.items()}
        self.host = self.headers.get("host", "")
        self.hostname = self.host.rsplit(":", 1)[0] if not self.host.startswith("[") else self.host
        self.body = body
        self.port = h.server.server_address[1]

    def q(self, name, default=None):
        v = self.query.get(name)
        return v[0] if v else default

    def json(self):
        try:
            return json.loads(self.body.decode() or "null")
        except ValueError:
            return None

    def form(self):
        return {k: v[0] for k, v in urllib.parse.parse_qs(self.body.decode()).items()}

    def bearer(self):
        a = self.headers.get("authorization", "")
        return a[7:] if a.lower().startswith("bearer ") else None

    def base(self):
        """scheme://host as the client addressed us (for links we hand out)."""
        return "https://" + self.host


class Response:
    def __init__(self, status, body=b"", headers=None, ctype="application/json; charset=utf-8"):
        self.status = status
        self.headers = dict(headers or {})
        if isinstance(body, (dict, list)) or body is None and ctype.startswith("application/json"):
            body = json.dumps(body).encode()
        elif isinstance(body, str):
            body = body.encode()
        self.body = body
        if body or status not in (204, 304):
            self.headers.setdefault("Content-Type", ctype)


def jresp(status, obj=None, headers=None):
    return Response(status, obj if obj is not None else b"", headers)


def error(status, code, message, headers=None):
    return jresp(status, {"error": {"code": code, "message": message}}, headers)


class Routes:
    """(method, pattern, handler) records, tried in order; patterns are
    full-match regexes on the decoded path, case-insensitive as ARM is."""

    def __init__(self):
        self.table = []

    def add(self, method, pattern, fn):
        self.table.append((method, re.compile(pattern, re.I), fn))

    def find(self, method, path):
        allowed = False
        for m, rx, fn in self.table:
            g = rx.fullmatch(path)
            if g:
                if m == method:
                    return fn, g.groupdict()
                allowed = True
        return None, allowed


class Faults:
    """Switchable misbehaviour. delay: seconds before every answer;
    throttle_every: every Nth counted request gets 429 + Retry-After;
    unavailable_every: 503 + Retry-After; reset_every: the connection is
    reset with no answer (idempotent methods only, so a retry is safe)."""

    def __init__(self):
        self.delay = 0.0
        self.throttle_every = 0
        self.unavailable_every = 0
        self.reset_every = 0
        self.retry_after = 1
        self.count = 0
        self.injected = []  # (kind, method, path) of every fault served
        self.lock = threading.Lock()

    def pick(self, req):
        with self.lock:
            self.count += 1
            n = self.count
        for kind, every in (("reset", self.reset_every), ("429", self.throttle_every),
                            ("503", self.unavailable_every)):
            if every and n % every == 0:
                if kind == "reset" and req.method not in ("GET", "HEAD", "PUT", "DELETE"):
                    continue
                self.injected.append((kind, req.method, req.path))
                return kind
        return None


def reset_connection(handler):
    """Closes with RST, no answer: what a dropped connection looks like."""
    sock = handler.connection
    try:
        sock.setsockopt(socket.SOL_SOCKET, socket.SO_LINGER, struct.pack("ii", 1, 0))
    except OSError:
        pass
    handler.close_connection = True
    try:
        sock.close()
    except OSError:
        pass


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_version = "azurefake"

    def log_message(self, fmt, *args):
        pass

    def setup(self):
        super().setup()
        # headers and body go out in separate writes: no Nagle delay between them
        self.connection.setsockopt(socket.IPPROTO_TCP, socket.TCP_NODELAY, 1)

    def _serve(self):
        n = int(self.headers.get("Content-Length") or 0)
        body = self.rfile.read(n) if n else b""
        req = Request(self, body)
        resp = self.server.app(req, self)
        if resp is None:  # connection reset
            return
        self.send_response(resp.status)
        for k, v in resp.headers.items():
            self.send_header(k, v)
        self.send_header("Content-Length", str(len(resp.body)))
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(resp.body)

    do_GET = do_PUT = do_POST = do_DELETE = do_PATCH = do_HEAD = _serve


class Server(ThreadingHTTPServer):
    """One listening port. app(req, handler) -> Response or None (reset)."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self, app, cert=None):
        super().__init__(("127.0.0.1", 0), _Handler)
        self.app = app
        self.ctx = None
        if cert:
            self.ctx = ssl.SSLContext(ssl.PROTOCOL_TLS_SERVER)
            self.ctx.load_cert_chain(*cert)
        self.port = self.server_address[1]
        self.thread = threading.Thread(target=self.serve_forever, daemon=True)

    def finish_request(self, request, client_address):
        # The TLS handshake runs on the connection's own thread, never in accept.
        if self.ctx is not None:
            request.settimeout(30)
            try:
                request = self.ctx.wrap_socket(request, server_side=True)
            except (ssl.SSLError, OSError):
                return
        super().finish_request(request, client_address)

    def start(self):
        self.thread.start()
        return self

    def stop(self):
        self.shutdown()
        self.server_close()


def now():
    return time.time()


def iso(t):
    return time.strftime("%Y-%m-%dT%H:%M:%S", time.gmtime(t)) + ".%07dZ" % int((t % 1) * 1e7)
