#!/usr/bin/python3
"""Console benchmark (issue 4): the real console, in a real terminal (tmux),
against a runtime holding N endpoints with 3 deployments each.

Measures
  - first full screen: from the console's start to the first frame whose
    Endpoints table holds the endpoints, with live figures on its rows (the
    console's own MLDECK_TRACE clock);
  - redraw per key while scrolling: key handling plus the redraw it causes,
    over 400 `j` presses, median and p99;
  - resident memory of the console after scrolling (VmRSS);
  - idle output: bytes the console writes to the terminal per second at the
    default refresh (1 s), with nothing pressed and live latency changing
    (a light load of ~20 requests/s runs on a few endpoints);
  - key-to-screen latency while the backend is stalled (issue 8): the
    runtime is SIGSTOPped (it accepts and never answers), then keys switch
    between two screens; each is timed from `tmux send-keys` until the
    pane's header shows the new screen (capture-pane), and in-process (the
    key's handling plus its redraw, from the trace); then how long `q`
    takes to end the console with requests still unanswered.

With --ssh the console reaches the runtime through an ssh:// profile (a
private sshd on 127.0.0.1, tests/e2e/sshd.py): the first full screen then
includes the ssh connection (master, credential, forward), and the idle
figures add the bytes on the ssh connection itself (TCP counters of the
kernel, encrypted bytes both ways). The profile names the runtime's home, so
the socket is known and no remote command runs; --no-home leaves it out (the
remote command `mldeck serve --connect-info` says where it is). ssh's own
floor is measured too: `ssh -o ControlMaster=no HOST true` to the same sshd.
Each first screen is printed with the console's trace of how it came:
the connection's steps and each answer (MLDECK_TRACE's event lines).

Usage: bench/console.py [--endpoints N] [--idle-seconds S] [--stalled-keys K] [--bin PATH]
                        [--ssh [--no-home] [--ssh-option NAME=VALUE]...] [--first-runs N]
                        [--keep]
Creating 1,000 endpoints through the API takes a minute or two: every change
is fsynced before it is acknowledged.
"""

import argparse
import concurrent.futures
import json
import os
import re
import shutil
import signal
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
WS = ("/subscriptions/0/resourceGroups/bench/providers/"
      "Microsoft.MachineLearningServices/workspaces/local")


def http(url, key, method, path, body=None):
    data = json.dumps(body).encode() if body is not None else None
    req = urllib.request.Request(url + path.replace("{ws}", WS), data=data, method=method,
                                 headers={"Authorization": "Bearer " + key,
                                          "Content-Type": "application/json"})
    try:
        with urllib.request.urlopen(req, timeout=60) as r:
            text = r.read()
            return r.status, json.loads(text) if text else None
    except urllib.error.HTTPError as e:
        return e.code, e.read().decode()


def populate(url, key, n):
    model = os.path.join(REPO, "tests", "data", "logistic.json")
    assert http(url, key, "PUT", "{ws}/models/churn/versions/1",
                {"properties": {"modelType": "linear", "modelUri": model}})[0] == 201
    assert http(url, key, "PUT", "{ws}/environments/native/versions/1",
                {"properties": {"environmentKind": "native"}})[0] == 201

    def one(i):
        ep = "ep-%04d" % i
        s, b = http(url, key, "PUT", "{ws}/onlineEndpoints/" + ep,
                    {"properties": {"authMode": "Key"}})
        assert s == 201, b
        for d in ("blue", "green", "canary"):
            s, b = http(url, key, "PUT", "{ws}/onlineEndpoints/%s/deployments/%s" % (ep, d),
                        {"properties": {"model": "churn:1", "environmentId": "native:1"},
                         "sku": {"capacity": 1}})
            assert s == 201, b
        s, b = http(url, key, "PATCH", "{ws}/onlineEndpoints/" + ep,
                    {"properties": {"traffic": {"blue": 80, "green": 20, "canary": 0}}})
        assert s == 200, b

    t0 = time.monotonic()
    with concurrent.futures.ThreadPoolExecutor(4) as ex:
        list(ex.map(one, range(n)))
    return time.monotonic() - t0


def light_load(url, key, stop, endpoints):
    """About 20 requests/s spread over a few endpoints, so latency moves."""
    keys = {ep: http(url, key, "POST", "{ws}/onlineEndpoints/%s/listKeys" % ep)[1]["primaryKey"]
            for ep in endpoints}
    body = json.dumps({"data": [[0.1] * 30]}).encode()
    while not stop.is_set():
        for ep in endpoints:
            req = urllib.request.Request(url + "/endpoints/%s/score" % ep, data=body, method="POST",
                                         headers={"Authorization": "Bearer " + keys[ep]})
            try:
                urllib.request.urlopen(req, timeout=5).read()
            except urllib.error.URLError:
                pass
        stop.wait(len(endpoints) / 20.0)


def tmux(sock, *args):
    return subprocess.run(["tmux", "-L", sock] + list(args), capture_output=True, text=True,
                          check=False)


def frames(path):
    out = []
    if not os.path.exists(path):
        return out
    for line in open(path):
        m = re.match(r"frame ([0-9.]+) (\d+) (\d+) (\d+)(?: (\d+))?", line)
        if m:
            out.append((float(m.group(1)), int(m.group(2)), int(m.group(3)), int(m.group(4)),
                        int(m.group(5) or 1)))
    return out


def events(path, until):
    """The console's "event T what" lines (connection, answers) up to T = until."""
    out = []
    for line in open(path):
        m = re.match(r"event ([0-9.]+) (.*)", line)
        if m and float(m.group(1)) <= until:
            out.append((float(m.group(1)), m.group(2)))
    return out


def first_screen(sock, command, trace, rows, keep):
    """Starts the console; ms from its start to the first frame with the rows
    listed and live figures on screen, and what happened until then. The console is left running when keep."""
    if os.path.exists(trace):
        os.unlink(trace)
    tmux(sock, "new-session", "-d", "-x", "120", "-y", "40", command)
    tmux(sock, "set", "-g", "status", "off")
    first = wait_for(lambda: [f for f in frames(trace) if f[3] >= rows and f[4] > 0], 30)
    ms = first[0][0] if first else float("nan")
    seen = events(trace, ms) if first else []
    if not keep:
        tmux(sock, "send-keys", "q")
        wait_for(lambda: tmux(sock, "has-session").returncode != 0, 10)
        tmux(sock, "kill-server")
    return ms, seen


def ssh_true(sshd, runs):
    """`ssh -o ControlMaster=no HOST true` to the same sshd, ms each: ssh's own floor."""
    out = []
    for _ in range(runs):
        t0 = time.monotonic()
        subprocess.run([os.path.join(sshd.wrapper_dir(), "ssh"), "-o", "ControlMaster=no",
                        "-o", "BatchMode=yes", sshd.url(), "true"], check=True)
        out.append((time.monotonic() - t0) * 1000.0)
    return sorted(out)


def wait_for(pred, timeout, step=0.01):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = pred()
        if v:
            return v
        time.sleep(step)
    return None


def header(sock):
    return tmux(sock, "capture-pane", "-p", "-S", "0", "-E", "0").stdout


def pct(values, p):
    return values[min(len(values) - 1, int(len(values) * p))]


def stalled_keys(sock, trace, n):
    """Keys answered while the backend never answers: external and in-process."""
    outside = []
    before = len(frames(trace))
    for i in range(n):
        key, want = ("2", "| Models (") if i % 2 == 0 else ("1", "| Endpoints (")
        t0 = time.monotonic()
        tmux(sock, "send-keys", key)
        if not wait_for(lambda: want in header(sock), 10, step=0.0005):
            raise SystemExit("the console did not answer %r in 10 s" % key)
        outside.append((time.monotonic() - t0) * 1000.0)
    inside = sorted((f[1] + f[2]) / 1000.0 for f in frames(trace)[before:] if f[2] > 0)
    return sorted(outside), inside


def quit_time(sock):
    t0 = time.monotonic()
    tmux(sock, "send-keys", "q")
    wait_for(lambda: tmux(sock, "has-session").returncode != 0, 30, step=0.001)
    return (time.monotonic() - t0) * 1000.0


def ssh_profile(tmp, home, binary, no_home, options=()):
    """A private sshd, and [profile edge] = ssh:// to it with the runtime's home;
    or (no_home) without it, a remote mldeck whose default home is the runtime's,
    so the remote command has to be asked where the socket is."""
    sys.path.insert(0, os.path.join(REPO, "tests", "e2e"))
    from sshd import Sshd
    sshd = Sshd().start()
    for o in options:
        sshd.client_option(o.replace("=", " ", 1))
    os.makedirs(os.path.join(tmp, "cfg", "mldeck"), exist_ok=True)
    remote = binary
    if no_home:
        remote = os.path.join(tmp, "remote-mldeck")
        with open(remote, "w") as f:
            f.write('#!/bin/sh\nexec %s "$@" --home %s\n' % (binary, home))
        os.chmod(remote, 0o755)
    with open(os.path.join(tmp, "cfg", "mldeck", "config.ini"), "w") as f:
        f.write("[profile edge]\nurl = %s\n%sremote_mldeck = %s\n"
                % (sshd.url(), "" if no_home else "home = %s\n" % home, remote))
    return sshd


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--endpoints", type=int, default=1000)
    ap.add_argument("--idle-seconds", type=int, default=10)
    ap.add_argument("--stalled-keys", type=int, default=200)
    ap.add_argument("--bin", default=os.environ.get("MLDECK_BIN", os.path.join(REPO, "mldeck")))
    ap.add_argument("--ssh", action="store_true",
                    help="reach the runtime through an ssh:// profile (own sshd on 127.0.0.1)")
    ap.add_argument("--no-home", action="store_true",
                    help="with --ssh: the profile names no home (the remote command is run)")
    ap.add_argument("--ssh-option", action="append", default=[], metavar="NAME=VALUE",
                    help="with --ssh: an ssh client option for the host (e.g. "
                         "KexAlgorithms=curve25519-sha256), repeatable")
    ap.add_argument("--first-runs", type=int, default=1,
                    help="start the console this many times for the first full screen")
    ap.add_argument("--keep", action="store_true",
                    help="keep the temporary directory (the runtime's log, the console's trace)")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mldeck-console-bench-")
    home = os.path.join(tmp, "home")
    serve = subprocess.Popen([args.bin, "serve", "--listen", "127.0.0.1:0", "--home", home,
                              "--log", os.path.join(tmp, "serve.log")])
    url = wait_for(lambda: (re.search(r"listening on (http://[0-9.:]+)",
                                      open(os.path.join(tmp, "serve.log")).read())
                            if os.path.exists(os.path.join(tmp, "serve.log")) else None), 20)
    url = url.group(1)
    key = open(os.path.join(home, "admin.key")).read().strip()
    sock = "mldeck-bench-%d" % os.getpid()
    stop = threading.Event()
    sshd = None
    try:
        secs = populate(url, key, args.endpoints)
        print("populated %d endpoints x 3 deployments in %.1f s" % (args.endpoints, secs))
        trace = os.path.join(tmp, "trace")
        if args.ssh:
            sshd = ssh_profile(tmp, home, args.bin, args.no_home, args.ssh_option)
            env = "PATH=%s:%s MLDECK_TRACE=%s XDG_CONFIG_HOME=%s TERM=xterm-256color" % (
                sshd.wrapper_dir(), os.environ["PATH"], trace, os.path.join(tmp, "cfg"))
            console = args.bin + " --profile edge"
        else:
            env = "MLDECK_URL=%s MLDECK_ADMIN_KEY=%s MLDECK_TRACE=%s XDG_CONFIG_HOME=%s TERM=xterm-256color" % (
                url, key, trace, os.path.join(tmp, "cfg"))
            console = args.bin
        firsts = []
        for run in range(args.first_runs):
            ms, seen = first_screen(sock, "%s %s" % (env, console), trace, args.endpoints,
                                    run == args.first_runs - 1)
            firsts.append(ms)
            print("first full screen, run %d: %.1f ms (load %s)" % (
                run + 1, ms, os.getloadavg()[0]))
            for t, what in seen:
                print("    %8.1f ms  %s" % (t, what))
        first_ms = statistics.median(firsts)
        time.sleep(1.5)
        before = len(frames(trace))
        for _ in range(400):
            tmux(sock, "send-keys", "j")
        wait_for(lambda: len(frames(trace)) >= before + 400, 30)
        keyed = [f for f in frames(trace)[before:] if f[2] > 0]
        per_key = sorted((f[1] + f[2]) / 1000.0 for f in keyed)
        pid = tmux(sock, "list-panes", "-F", "#{pane_pid}").stdout.strip()
        rss_kb = 0
        for line in open("/proc/%s/status" % pid):
            if line.startswith("VmRSS:"):
                rss_kb = int(line.split()[1])
        loader = threading.Thread(target=light_load,
                                  args=(url, key, stop, ["ep-0000", "ep-0001", "ep-0002"]))
        loader.start()
        # back to the top: the loaded endpoints and the first one's detail pane
        # (deployments, sparklines) are on screen and change every second
        tmux(sock, "send-keys", "-N", "400", "k")
        time.sleep(3)
        out = os.path.join(tmp, "pipe")
        wire0 = sshd.bytes_on_the_wire() if sshd else 0
        tmux(sock, "pipe-pane", "-o", "cat >> " + out)
        time.sleep(args.idle_seconds)
        tmux(sock, "pipe-pane")
        wire = sshd.bytes_on_the_wire() - wire0 if sshd else 0
        idle = os.path.getsize(out) if os.path.exists(out) else 0
        print("first full screen: %.1f ms%s" % (
            first_ms, " (median of %d: %s)" % (len(firsts), ", ".join("%.0f" % v for v in firsts))
            if len(firsts) > 1 else ""))
        if sshd:
            floor = ssh_true(sshd, 5)
            print("ssh -o ControlMaster=no HOST true, 5 runs: median %.0f ms (%.0f-%.0f)"
                  % (statistics.median(floor), floor[0], floor[-1]))
        if per_key:
            print("redraw per key while scrolling: median %.2f ms, p99 %.2f ms, max %.2f ms (%d keys)"
                  % (statistics.median(per_key), per_key[int(len(per_key) * 0.99) - 1],
                     per_key[-1], len(per_key)))
        print("resident memory: %.1f MB" % (rss_kb / 1024.0))
        print("idle output with live latency updating: %.0f bytes/s over %d s"
              % (idle / args.idle_seconds, args.idle_seconds))
        if sshd:
            print("idle traffic on the ssh connection (both ways): %.0f bytes/s over %d s"
                  % (wire / args.idle_seconds, args.idle_seconds))
        stop.set()
        loader.join()
        os.kill(serve.pid, signal.SIGSTOP)  # accepts (the kernel does), never answers
        try:
            time.sleep(3)  # refreshes are now stuck in flight
            outside, inside = stalled_keys(sock, trace, args.stalled_keys)
            print("key to screen, backend stalled (SIGSTOP), %d keys: median %.1f ms, p99 %.1f ms, "
                  "max %.1f ms (tmux send-keys to capture-pane); in-process key + redraw: "
                  "median %.2f ms, p99 %.2f ms" % (len(outside), statistics.median(outside),
                                                   pct(outside, 0.99), outside[-1],
                                                   statistics.median(inside), pct(inside, 0.99)))
            print("q with the backend stalled: the console was gone in %.0f ms" % quit_time(sock))
        finally:
            os.kill(serve.pid, signal.SIGCONT)
    finally:
        stop.set()
        tmux(sock, "send-keys", "q")  # when it is still there
        time.sleep(0.5)
        tmux(sock, "kill-server")
        serve.terminate()
        serve.wait()
        if sshd:
            sshd.stop()
        if args.keep:
            print("kept", tmp)
        else:
            shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    sys.exit(main())
