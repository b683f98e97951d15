"""Remote runtimes over ssh:// (api/transport.c) and the runtime's Unix socket.

The test starts its own sshd (tests/e2e/sshd.py: Debian's openssh-server on
127.0.0.1, a free port, a throwaway host key, as the current user) and a
runtime "on the remote side" with its own home; mldeck runs the system ssh
found on PATH, host key checking on."""

import http.client
import json
import os
import shutil
import signal
import socket
import stat
import subprocess
import threading
import time

import pytest

from conftest import BIN, Runtime, repo_path
from recorder import Recorder
from sshd import Sshd, keygen, short_tmp

MODEL = repo_path("tests", "data", "logistic.json")
REQUEST = repo_path("tests", "data", "logistic.input.json")


def wait_for(cond, timeout=30.0, what="condition"):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        v = cond()
        if v:
            return v
        time.sleep(0.05)
    raise AssertionError("timed out waiting for " + what)


@pytest.fixture(scope="module")
def sshd():
    s = Sshd().start()
    yield s
    s.stop()


@pytest.fixture
def remote():
    """The runtime on the "remote" side, with its own (short) home."""
    base = short_tmp("remote")
    try:
        rt = Runtime(os.path.join(base, "home")).start()
        yield rt
        assert rt.stop() == 0, rt.logtext()[-3000:]
    finally:
        shutil.rmtree(base, ignore_errors=True)


class Client:
    """The laptop side: config.ini with ssh:// profiles, its own runtime dir."""

    def __init__(self, sshd, remote_home, wrapper_dir=None, extra=""):
        self.dir = short_tmp("laptop")
        self.xdg_runtime = os.path.join(self.dir, "run")
        os.mkdir(self.xdg_runtime, 0o700)
        os.makedirs(os.path.join(self.dir, "cfg", "mldeck"))
        with open(os.path.join(self.dir, "cfg", "mldeck", "config.ini"), "w") as f:
            f.write("[profile edge]\nurl = %s\nhome = %s\nremote_mldeck = %s\n%s"
                    % (sshd.url(), remote_home, BIN, extra))
        wrapper_dir = wrapper_dir or sshd.wrapper_dir()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith("MLDECK_")}
        self.env.update(PATH=wrapper_dir + ":" + os.environ["PATH"],
                        XDG_CONFIG_HOME=os.path.join(self.dir, "cfg"),
                        XDG_RUNTIME_DIR=self.xdg_runtime)

    def cli(self, *args, check=True, timeout=120):
        r = subprocess.run([BIN, "--profile", "edge"] + [str(a) for a in args], env=self.env,
                           capture_output=True, text=True, timeout=timeout)
        if check and r.returncode != 0:
            raise AssertionError("mldeck %s -> %d\n%s%s" % (" ".join(map(str, args)),
                                                             r.returncode, r.stdout, r.stderr))
        return r

    def js(self, *args):
        return json.loads(self.cli("-o", "json", *args).stdout)

    def watch(self):
        return subprocess.Popen([BIN, "--profile", "edge", "-o", "table", "profile", "check",
                                 "--watch"], env=self.env, stdout=subprocess.PIPE,
                                stderr=subprocess.STDOUT, text=True)

    def socket_dirs(self):
        base = os.path.join(self.xdg_runtime, "mldeck")
        return sorted(os.listdir(base)) if os.path.isdir(base) else []

    def cleanup(self):
        shutil.rmtree(self.dir, ignore_errors=True)


@pytest.fixture
def laptop(sshd, remote):
    c = Client(sshd, remote.home)
    yield c
    c.cleanup()


class Lines:
    """Reads a process's output lines in a thread, for waiting on them."""

    def __init__(self, proc):
        self.proc = proc
        self.lines = []
        self.t = threading.Thread(target=self._read, daemon=True)
        self.t.start()

    def _read(self):
        for line in self.proc.stdout:
            self.lines.append(line.rstrip("\n"))

    def wait(self, text, after=0, timeout=60.0):
        def found():
            for i, line in enumerate(self.lines[after:], after):
                if text in line:
                    return i + 1
            return None
        try:
            return wait_for(found, timeout, repr(text))
        except AssertionError:
            raise AssertionError("no line with %r in:\n%s" % (text, "\n".join(self.lines)))


def children(pid):
    """Direct children of pid, as {pid: argv} (from /proc)."""
    out = {}
    for d in os.listdir("/proc"):
        if not d.isdigit():
            continue
        try:
            with open("/proc/%s/stat" % d) as f:
                ppid = int(f.read().rsplit(")", 1)[1].split()[1])
            if ppid != pid:
                continue
            with open("/proc/%s/cmdline" % d, "rb") as f:
                out[int(d)] = f.read().split(b"\0")
        except (OSError, IndexError, ValueError):
            continue
    return out


def master_of(pid):
    """The ssh ControlMaster mldeck pid started (its -M argument)."""
    def find():
        for cpid, argv in children(pid).items():
            if b"-M" in argv:
                return cpid
        return None
    return wait_for(find, 30, "the ssh master of %d" % pid)


def alive(pid):
    try:
        with open("/proc/%d/stat" % pid) as f:
            return f.read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError:
        return False


def ready(c, ep="edge-ep", auth=None):
    c.cli("model", "register", "logit", "--path", MODEL, "--type", "linear")
    c.cli("env", "create", "native", "--native")
    c.cli("endpoint", "create", ep, *(["--auth", auth] if auth else []))
    c.cli("deployment", "create", ep, "blue", "--model", "logit:1", "--env", "native:1",
          "--all-traffic")


# --- the runtime's Unix socket ----------------------------------------------


class UnixHTTP(http.client.HTTPConnection):
    def __init__(self, path):
        super().__init__("localhost", timeout=30)
        self.path = path

    def connect(self):
        self.sock = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        self.sock.settimeout(30)
        self.sock.connect(self.path)


def unix_get(path, url, key=None):
    c = UnixHTTP(path)
    c.request("GET", url, headers={"Authorization": "Bearer " + key} if key else {})
    r = c.getresponse()
    body = r.read()
    c.close()
    return r.status, body


def test_serve_listens_on_a_private_unix_socket_with_the_same_api(remote):
    sock = os.path.join(remote.home, "mldeck.sock")
    st = os.lstat(sock)
    assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
    assert unix_get(sock, "/healthz")[0] == 200
    assert unix_get(sock, remote.ws + "/onlineEndpoints")[0] == 401
    status, body = unix_get(sock, remote.ws + "/onlineEndpoints", remote.admin_key)
    assert status == 200 and json.loads(body) == {"value": []}
    # what ssh:// clients run there over ssh
    r = subprocess.run([BIN, "serve", "--connect-info", "--home", remote.home],
                       capture_output=True, text=True, timeout=30)
    assert r.returncode == 0, r.stderr
    assert r.stdout.splitlines() == ["mldeck-connect 1", "socket " + sock,
                                     "key " + remote.admin_key]


def test_connect_info_is_given_on_the_socket_to_the_runtimes_user_only(remote):
    """GET /v1/connect-info: what `serve --connect-info` prints, without a
    remote command, for a process of the runtime's own user on its socket."""
    sock = os.path.join(remote.home, "mldeck.sock")
    status, body = unix_get(sock, "/v1/connect-info")  # no key: the peer's uid is
    assert status == 200
    assert body.decode().splitlines() == ["mldeck-connect 1", "socket " + sock,
                                          "key " + remote.admin_key]
    s, _, b = remote.http("GET", "/v1/connect-info", auth=False)  # over TCP: never
    assert s == 403 and b["error"]["code"] == "Forbidden", b
    s, _, b = remote.http("GET", "/v1/connect-info")  # not even with the admin key
    assert s == 403, b
    c = UnixHTTP(sock)
    c.request("POST", "/v1/connect-info", body=b"")
    r = c.getresponse()
    assert r.status == 405 and b"key" not in r.read()
    c.close()


def test_socket_is_removed_at_stop_and_a_stale_one_replaced(tmp_path):
    base = short_tmp("sock")
    home = os.path.join(base, "home")
    sock = os.path.join(home, "mldeck.sock")
    try:
        rt = Runtime(home).start()
        assert rt.stop() == 0
        assert not os.path.exists(sock)
        rt = Runtime(home).start()
        rt.kill9()  # leaves its socket behind
        assert stat.S_ISSOCK(os.lstat(sock).st_mode)
        rt = Runtime(home).start()  # nothing answers on it: replaced
        assert unix_get(sock, "/healthz")[0] == 200
        assert rt.stop() == 0
        with open(sock, "w") as f:  # not a socket: never removed, a clear refusal
            f.write("mine")
        rt = Runtime(home)
        with pytest.raises(RuntimeError) as e:
            rt.start()
        assert "mldeck.sock exists and is not a socket" in str(e.value)
        with open(sock) as f:
            assert f.read() == "mine"
    finally:
        shutil.rmtree(base, ignore_errors=True)


def test_connect_info_says_what_to_run_when_no_runtime_serves():
    base = short_tmp("norun")
    try:
        r = subprocess.run([BIN, "serve", "--connect-info", "--home", base],
                           capture_output=True, text=True, timeout=30)
        assert r.returncode == 1 and r.stdout == ""
        assert "no mldeck runtime is serving %s" % base in r.stderr
        assert "mldeck serve --home %s" % base in r.stderr
    finally:
        shutil.rmtree(base, ignore_errors=True)


# --- ssh:// profiles ----------------------------------------------------------


def test_cli_over_ssh_lists_changes_traffic_invokes_and_benches(laptop, remote):
    assert laptop.js("endpoint", "list") == []
    ready(laptop)
    laptop.cli("deployment", "create", "edge-ep", "green", "--model", "logit:1", "--env",
               "native:1")
    t = laptop.js("traffic", "edge-ep", "blue=70", "green=30")
    assert t["properties"]["traffic"] == {"blue": 70, "green": 30}
    # the change is on the remote runtime itself
    s, _, ep = remote.http("GET", "ws:/onlineEndpoints/edge-ep")
    assert s == 200 and ep["properties"]["traffic"] == {"blue": 70, "green": 30}
    out = json.loads(laptop.cli("invoke", "edge-ep", "--request-file", REQUEST,
                                "--deployment", "green").stdout)
    assert isinstance(out, list) and len(out) > 0
    b = laptop.js("bench", "edge-ep", "--request-file", REQUEST, "-c", "2", "-n", "40")
    assert b["statuses"] == {"200": 40} and b["errors"] == 0
    # an AMLToken endpoint: the token, not listKeys, by the same function
    laptop.cli("endpoint", "create", "tok-ep", "--auth", "aml_token")
    laptop.cli("deployment", "create", "tok-ep", "blue", "--model", "logit:1", "--env",
               "native:1", "--all-traffic")
    assert isinstance(json.loads(laptop.cli("invoke", "tok-ep", "--request-file",
                                            REQUEST).stdout), list)
    # every scoring request came through the Unix socket (peer "-"), never to
    # the scoringUri the runtime reports (its TCP address)
    log = remote.wait_log("POST /endpoints/tok-ep/score")
    scores = [line for line in log.splitlines() if "/score " in line]
    assert len(scores) >= 42
    assert all(line.split()[1] == "-" for line in scores), scores[:3]
    # nothing left behind: no socket directory, no ssh
    assert laptop.socket_dirs() == []


def test_sockets_are_private_and_everything_goes_when_mldeck_ends(laptop):
    w = laptop.watch()
    out = Lines(w)
    try:
        out.wait("edge: connected (0 endpoints)")
        base = os.path.join(laptop.xdg_runtime, "mldeck")
        assert stat.S_IMODE(os.lstat(base).st_mode) == 0o700
        (d,) = laptop.socket_dirs()
        d = os.path.join(base, d)
        assert stat.S_IMODE(os.lstat(d).st_mode) == 0o700
        st = os.lstat(os.path.join(d, "api.sock"))
        assert stat.S_ISSOCK(st.st_mode) and stat.S_IMODE(st.st_mode) == 0o600
        master = master_of(w.pid)
        w.send_signal(signal.SIGTERM)
        assert w.wait(30) == 0
        wait_for(lambda: not alive(master), 30, "ssh to exit")
        assert laptop.socket_dirs() == []
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()


def test_ssh_dies_with_a_killed_mldeck_and_its_sockets_go_next_time(laptop):
    w = laptop.watch()
    out = Lines(w)
    try:
        out.wait("edge: connected")
        master = master_of(w.pid)
        (left,) = laptop.socket_dirs()
        w.kill()
        w.wait()
        wait_for(lambda: not alive(master), 30, "ssh to die with mldeck")
        assert laptop.socket_dirs() == [left]
        laptop.cli("endpoint", "list")  # the next run sweeps the dead one's directory
        assert laptop.socket_dirs() == []
    finally:
        if w.poll() is None:
            w.kill()
            w.wait()


def test_killed_ssh_reconnects_with_backoff_and_recovers(laptop):
    ready(laptop)
    w = laptop.watch()
    out = Lines(w)
    try:
        n = out.wait("edge: connected (1 endpoints)")
        first = master_of(w.pid)
        os.kill(first, signal.SIGKILL)
        n = out.wait("edge: reconnecting (attempt 1 in 1 s: ssh was killed by signal 9)", n)
        out.wait("edge: connected (1 endpoints)", n)  # an authenticated call, again
        second = master_of(w.pid)
        assert second != first
        # the same process keeps working through the new connection: a second drop
        os.kill(second, signal.SIGKILL)
        n = out.wait("edge: reconnecting (attempt 1", n)
        out.wait("edge: connected (1 endpoints)", n)
    finally:
        w.send_signal(signal.SIGTERM)
        assert w.wait(30) == 0
    assert laptop.socket_dirs() == []


def check_json(c, profile="edge"):
    """`profile check -o json` on profile, as a dict."""
    r = subprocess.run([BIN, "--profile", profile, "-o", "json", "profile", "check"],
                       env=c.env, capture_output=True, text=True, timeout=120)
    assert r.returncode == 0, r.stdout + r.stderr
    return json.loads(r.stdout)


def test_a_home_known_beforehand_needs_no_remote_command(sshd, remote):
    """With the remote home given as an absolute path the socket is known: the
    master forwards to it and the key comes through it, so no remote command
    runs (here there is none to run)."""
    c = Client(sshd, remote.home)
    try:
        with open(os.path.join(c.dir, "cfg", "mldeck", "config.ini"), "w") as f:
            f.write("[profile edge]\nurl = %s\nhome = %s\nremote_mldeck = /nonexistent/mldeck\n"
                    % (sshd.url(), remote.home))
        out = check_json(c)
        assert out["state"] == "connected" and out["answers"], out
        assert "credential" in out["took"] and "(by the socket)" in out["took"], out
        assert c.js("endpoint", "list") == []
    finally:
        c.cleanup()


def test_a_forced_command_that_ends_at_once_leaves_the_connection_up(remote):
    """An account whose key runs a forced command (here every session runs
    `true`): with the socket known nothing else has to run there, and the
    session that only keeps TCP_NODELAY on ending at once must not end the
    connection."""
    s = Sshd(extra_config="ForceCommand /bin/true\n").start()
    c = Client(s, remote.home)
    try:
        out = check_json(c)
        assert out["state"] == "connected" and out["answers"], out
        w = subprocess.Popen([BIN, "--profile", "edge", "-o", "json", "profile", "check",
                              "--watch"], env=c.env, stdout=subprocess.PIPE,
                             stderr=subprocess.STDOUT, text=True)
        lines = Lines(w)
        try:
            lines.wait('"state":"connected"')
            c.cli("endpoint", "create", "forced-ep")  # the same connection, later
            assert [e["name"] for e in c.js("endpoint", "list")] == ["forced-ep"]
            assert not [line for line in lines.lines if "reconnecting" in line], lines.lines
        finally:
            w.send_signal(signal.SIGTERM)
            w.wait(30)
    finally:
        c.cleanup()
        s.stop()


def test_a_socket_learned_by_the_remote_command_is_used_to_reconnect(sshd, remote):
    """Without a home in the profile the remote command says where the runtime
    is; reconnections go straight to that socket, and when the runtime has
    moved meanwhile, the command is asked again and the forward follows."""
    ready_home = os.path.join(short_tmp("which"), "home")
    wrapper = os.path.join(os.path.dirname(ready_home), "mldeck")
    with open(wrapper, "w") as f:  # a remote mldeck whose default home we choose
        f.write('#!/bin/sh\nexec %s "$@" --home "$(cat %s)"\n' % (BIN, ready_home))
    os.chmod(wrapper, 0o755)
    with open(ready_home, "w") as f:
        f.write(remote.home)
    c = Client(sshd, remote.home)
    base = short_tmp("moved")
    moved = stopped = None
    with open(os.path.join(c.dir, "cfg", "mldeck", "config.ini"), "w") as f:
        f.write("[profile edge]\nurl = %s\nremote_mldeck = %s\n" % (sshd.url(), wrapper))
    w = subprocess.Popen([BIN, "--profile", "edge", "-o", "json", "profile", "check", "--watch"],
                         env=c.env, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    out = Lines(w)

    def connected(after):
        n = out.wait('"state":"connected"', after)
        return n, json.loads(out.lines[n - 1])

    try:
        n, first = connected(0)
        assert "(by the socket)" not in first["took"], first  # asked the remote command
        os.kill(master_of(w.pid), signal.SIGKILL)
        n, second = connected(n)
        assert "(by the socket)" in second["took"], second  # went straight to it
        # the runtime moves to another home; the next connection finds it
        moved = Runtime(os.path.join(base, "home")).start()
        with open(ready_home, "w") as f:
            f.write(moved.home)
        stopped = remote.stop()
        assert stopped == 0
        os.kill(master_of(w.pid), signal.SIGKILL)
        n, third = connected(n)
        assert "(by the socket)" not in third["took"] and "forward" in third["took"], third
        assert third["answers"], third
    finally:
        w.send_signal(signal.SIGTERM)
        w.wait(30)
        if moved is not None:
            moved.stop()
        if stopped is not None:
            remote.start()  # the fixture stops it again
        c.cleanup()
        shutil.rmtree(base, ignore_errors=True)
        shutil.rmtree(os.path.dirname(ready_home), ignore_errors=True)


def test_wrong_host_key_fails_with_sshs_message(sshd, remote):
    other = keygen(os.path.join(sshd.dir, "other_key"))
    wrapper = sshd.write_client(os.path.join(sshd.dir, "wrong_known_hosts"), other)
    c = Client(sshd, remote.home, wrapper_dir=wrapper)
    try:
        r = c.cli("endpoint", "list", check=False)
        assert r.returncode == 1
        assert r.stderr.startswith("mldeck: cannot connect to %s: Host key verification "
                                   "failed." % sshd.url()), r.stderr
        assert "REMOTE HOST IDENTIFICATION HAS CHANGED" in r.stderr  # ssh's own warning
        assert "wrong_known_hosts:1" in r.stderr
        assert c.socket_dirs() == []
        # never accepted nor replaced: the known_hosts file is as it was
        with open(os.path.join(sshd.dir, "wrong_known_hosts")) as f:
            assert other[1] in f.read()
    finally:
        c.cleanup()


def test_remote_without_a_runtime_says_what_to_run(sshd):
    home = short_tmp("nohome")
    c = Client(sshd, home)
    try:
        r = c.cli("endpoint", "list", check=False)
        assert r.returncode == 1
        assert "no mldeck runtime is serving %s" % home in r.stderr
        assert "mldeck serve --home %s" % home in r.stderr
    finally:
        c.cleanup()
        shutil.rmtree(home, ignore_errors=True)


def test_remote_without_mldeck_says_so(sshd, remote):
    c = Client(sshd, remote.home)
    try:
        with open(os.path.join(c.dir, "cfg", "mldeck", "config.ini"), "a") as f:
            f.write("[profile nomldeck]\nurl = %s\nremote_mldeck = /nonexistent/mldeck\n"
                    % sshd.url())
        r = subprocess.run([BIN, "--profile", "nomldeck", "endpoint", "list"], env=c.env,
                           capture_output=True, text=True, timeout=120)
        assert r.returncode == 1
        assert "mldeck is missing or too old on the remote host" in r.stderr
        assert "remote_mldeck" in r.stderr
    finally:
        c.cleanup()


# --- the data plane goes through the profile's transport ----------------------


def test_invoke_and_bench_use_the_profile_url_not_the_scoring_uri(runtime):
    """Through a tunnel or proxy the runtime's own scoringUri names another
    address: the data plane must follow the profile, as the control plane does."""
    from test_cli import ready as cli_ready
    cli_ready(runtime)
    fwd = Recorder.tcp(int(runtime.url.rsplit(":", 1)[1]))
    try:
        env = {"MLDECK_URL": "http://127.0.0.1:%d" % fwd.port}
        runtime.cli("invoke", "cli-ep", "--request-file", REQUEST, env=env)
        runtime.cli("bench", "cli-ep", "--request-file", REQUEST, "-n", "5", env=env)
        scores = [line for line in fwd.seen if line.startswith("POST /endpoints/cli-ep/score")]
        assert len(scores) == 6, fwd.seen
    finally:
        fwd.close()


def test_remote_home_with_quotes_and_spaces_reaches_the_remote_shell_intact(sshd):
    """The remote command is built for the remote shell: quoted, never split."""
    base = short_tmp("quoted")
    rt = Runtime(os.path.join(base, "it's a home; $HOME")).start()
    c = Client(sshd, rt.home)
    try:
        c.cli("endpoint", "create", "quoted-ep")
        assert [e["name"] for e in c.js("endpoint", "list")] == ["quoted-ep"]
    finally:
        c.cleanup()
        assert rt.stop() == 0
        shutil.rmtree(base, ignore_errors=True)


def test_profile_check_on_a_direct_profile(runtime):
    r = runtime.cli("-o", "table", "profile", "check")
    assert r.stdout.strip() == "local: connected (0 endpoints)"
    r = runtime.cli("-o", "table", "profile", "check", check=False,
                    env={"MLDECK_URL": "http://127.0.0.1:9"})
    assert r.returncode == 1 and "cannot reach http://127.0.0.1:9" in r.stdout
