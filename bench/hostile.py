#!/usr/bin/python3
"""The runtime under hostile load, measured (issue 7): not a test, it prints figures for
docs/performance.md.

    /usr/bin/python3 bench/hostile.py [--bin ./mldeck] [--flood 8000] [--slow 4200]
                                      [--preauth 1000]

1. flood: FLOOD connections each send `GET /healthz HTTP/1.1\\r\\nHost: x\\r\\n` and close at
   once; then, every 0.5 s for 10 s: connections the server holds in CLOSE-WAIT, and how long
   a fresh client waits for /healthz.
2. slowloris: SLOW connections each send a partial request and stay open; a fresh client's
   wait for /healthz, and how many slow connections the server still holds.
3. pre-auth memory: PREAUTH connections each announce a 4 MiB scoring body without a
   credential and send 1 MiB of it; the server's RSS before and after.
Each against a fresh `mldeck serve` (default limits) on 127.0.0.1; give --bin twice to compare
two binaries.
"""
import argparse
import os
import resource
import shutil
import socket
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "tests",
                                "e2e"))
from hostile import rss_kib, server_sockets  # noqa: E402


def start(binary, tmp):
    home = os.path.join(tmp, "home")
    out = open(os.path.join(tmp, "serve.log"), "wb")
    proc = subprocess.Popen([binary, "serve", "--listen", "127.0.0.1:0", "--home", home],
                            stdout=out, stderr=out, stdin=subprocess.DEVNULL)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        with open(os.path.join(tmp, "serve.log"), "rb") as f:
            text = f.read()
        if b"listening on http://127.0.0.1:" in text:
            port = int(text.split(b"listening on http://127.0.0.1:")[1].split()[0])
            return proc, port
        time.sleep(0.05)
    proc.kill()
    raise SystemExit("mldeck serve did not start")


def probe(port, timeout=5.0):
    """Seconds a fresh client waits for /healthz (None: no answer within timeout)."""
    t = time.monotonic()
    try:
        s = socket.create_connection(("127.0.0.1", port), timeout=timeout)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\nConnection: close\r\n\r\n")
        ok = s.recv(64).startswith(b"HTTP/1.1 200")
        s.close()
        return time.monotonic() - t if ok else None
    except OSError:
        return None


def fmt(x):
    return "no answer in 5 s" if x is None else "%.1f ms" % (x * 1000)


def flood(port, n):
    t = time.monotonic()
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
        s.close()
    print("  %d half-requests sent in %.1f s" % (n, time.monotonic() - t))
    for i in range(5):
        time.sleep(1.5 if i else 0.5)
        print("  t+%4.1fs  CLOSE-WAIT %5d  fresh client: %s"
              % (time.monotonic() - t, server_sockets(port, "CLOSE_WAIT"), fmt(probe(port))))


def slowloris(port, n):
    held = []
    for _ in range(n):
        try:
            s = socket.create_connection(("127.0.0.1", port), timeout=5)
            s.sendall(b"GET /healthz HTTP/1.1\r\nHost: x\r\n")
            held.append(s)
        except OSError:
            break
    time.sleep(1)
    print("  %d slow clients connected; fresh client: %s; server holds %d ESTABLISHED"
          % (len(held), fmt(probe(port)), server_sockets(port, "ESTABLISHED")))
    for s in held:
        s.close()


def preauth(proc, port, n):
    before = rss_kib(proc.pid)
    socks = []
    for _ in range(n):
        s = socket.create_connection(("127.0.0.1", port), timeout=5)
        s.sendall(b"POST /endpoints/any/score HTTP/1.1\r\nHost: x\r\nContent-Type: "
                  b"application/json\r\nContent-Length: 4194000\r\n\r\n")
        s.setblocking(False)
        try:
            s.send(b"[" * (1 << 20))
        except OSError:
            pass
        socks.append(s)
    time.sleep(2)
    after = rss_kib(proc.pid)
    print("  %d unauthenticated 4 MiB bodies: RSS %.1f MB -> %.1f MB"
          % (n, before / 1024, after / 1024))
    for s in socks:
        s.close()


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", action="append")
    ap.add_argument("--flood", type=int, default=8000)
    ap.add_argument("--slow", type=int, default=4200)
    ap.add_argument("--preauth", type=int, default=1000)
    args = ap.parse_args()
    soft, hard = resource.getrlimit(resource.RLIMIT_NOFILE)
    resource.setrlimit(resource.RLIMIT_NOFILE, (hard, hard))
    for binary in args.bin or ["./mldeck"]:
        print("== %s" % binary)
        for name, fn in (("flood", lambda p, pr: flood(p, args.flood)),
                         ("slowloris", lambda p, pr: slowloris(p, args.slow)),
                         ("pre-auth memory", lambda p, pr: preauth(pr, p, args.preauth))):
            tmp = tempfile.mkdtemp(prefix="mldeck-hostile-")
            proc, port = start(binary, tmp)
            try:
                print(" %s" % name)
                fn(port, proc)
            finally:
                proc.kill()
                proc.wait()
                shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
