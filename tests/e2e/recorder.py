"""A forwarder in front of a server that keeps the request lines passing
through it: what the server received, for tests that assert on the requests
a client makes (tests/e2e/test_remote.py, test_console_ssh.py)."""

import os
import re
import socket
import threading

REQUEST = re.compile(rb"(?:GET|POST|PUT|PATCH|DELETE|HEAD) \S+ HTTP/1\.[01](?=\r\n)")


class Recorder:
    """Listens on srv (a bound socket); each connection is piped to a new
    connect() one. seen: the request lines, e.g. "GET /v1/metrics?x HTTP/1.1";
    heads: each request's line and headers (a dict, lowercase names)."""

    def __init__(self, srv, connect):
        self.srv = srv
        self.connect = connect
        self.seen = []
        self.heads = []
        self.lock = threading.Lock()
        self.srv.listen(16)
        threading.Thread(target=self._accept, daemon=True).start()

    @classmethod
    def tcp(cls, port):
        """On 127.0.0.1 (port in .port), in front of 127.0.0.1:port."""
        srv = socket.socket()
        srv.bind(("127.0.0.1", 0))
        r = cls(srv, lambda: socket.create_connection(("127.0.0.1", port)))
        r.port = srv.getsockname()[1]
        return r

    @classmethod
    def unix(cls, path, upstream):
        """On the Unix socket path, in front of the one at upstream."""
        srv = socket.socket(socket.AF_UNIX)
        srv.bind(path)
        os.chmod(path, 0o600)

        def connect():
            u = socket.socket(socket.AF_UNIX)
            u.connect(upstream)
            return u
        return cls(srv, connect)

    def _accept(self):
        while True:
            try:
                c, _ = self.srv.accept()
            except OSError:
                return
            u = self.connect()
            threading.Thread(target=self._pipe, args=(c, u, True), daemon=True).start()
            threading.Thread(target=self._pipe, args=(u, c, False), daemon=True).start()

    def _pipe(self, a, b, record):
        tail = b""
        try:
            while True:
                data = a.recv(65536)
                if not data:
                    break
                if record:
                    tail = self._record(tail + data)
                b.sendall(data)
        except OSError:
            pass
        finally:
            for s in (a, b):
                try:
                    s.shutdown(socket.SHUT_RDWR)
                except OSError:
                    pass

    def _record(self, buf):
        """Keeps the complete request heads in buf; returns what may start one."""
        end = 0
        for m in REQUEST.finditer(buf):
            stop = buf.find(b"\r\n\r\n", m.end())
            if stop < 0:
                return buf[m.start():][-65536:]
            fields = {}
            for h in buf[m.end() + 2:stop].decode(errors="replace").split("\r\n"):
                name, _, value = h.partition(":")
                fields[name.strip().lower()] = value.strip()
            with self.lock:
                self.seen.append(m.group(0).decode(errors="replace"))
                self.heads.append((self.seen[-1], fields))
            end = stop + 4
        return buf[end:][-8192:]

    def lines(self, since=0):
        with self.lock:
            return self.seen[since:]

    def requests(self, since=0):
        """[(request line, {header: value})] from the since-th on."""
        with self.lock:
            return self.heads[since:]

    def close(self):
        self.srv.close()
