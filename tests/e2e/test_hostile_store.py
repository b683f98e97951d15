"""The store under faults and other local users (issue 7, items 3, 4, 11, 12, 13, 14):
writes that cost in proportion to the change, a lock that survives removing its file,
a state file replaced under a running runtime, a home other users could write to with a
link planted in it, artifacts that survive a failed re-registration, a full disk, and
deployments that say what they are doing after a restart."""

import http.client
import json
import os
import pwd
import shutil
import statistics
import subprocess
import tempfile

import pytest

from conftest import PY

WS_PATH = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local"
           "/providers/Microsoft.MachineLearningServices/workspaces/local")


class KeepAlive:
    """Many small control-plane requests over one connection."""

    def __init__(self, rt):
        host, port = rt.url.split("//")[1].split(":")
        self.conn = http.client.HTTPConnection(host, int(port), timeout=60)
        self.key = rt.admin_key

    def call(self, method, path, body=None):
        self.conn.request(method, WS_PATH + path,
                          body=json.dumps(body).encode() if body is not None else None,
                          headers={"Authorization": "Bearer " + self.key,
                                   "Content-Type": "application/json"})
        r = self.conn.getresponse()
        text = r.read()
        return r.status, json.loads(text) if text else None

    def close(self):
        self.conn.close()


def bytes_written(pid):
    """What the process handed to write(2) and friends so far (/proc/PID/io wchar)."""
    with open("/proc/%d/io" % pid) as f:
        for line in f:
            if line.startswith("wchar:"):
                return int(line.split()[1])
    raise AssertionError("no wchar in /proc/%d/io" % pid)


def test_write_costs_the_change_not_the_workspace(make_runtime):
    """Item 12: with thousands of resources, changing one writes that one row (a few
    database pages), never the whole state again."""
    rt = make_runtime().start()
    c = KeepAlive(rt)
    pad = "x" * 600
    for i in range(2000):
        s, b = c.call("PUT", "/onlineEndpoints/ep-%d" % i,
                      {"properties": {"authMode": "Key", "description": "%d %s" % (i, pad)}})
        assert s == 201, b
    state = sum(os.path.getsize(os.path.join(rt.home, f)) for f in os.listdir(rt.home)
                if f.startswith("state."))
    assert state > 1_000_000, state  # the workspace really is big
    deltas = []
    for i in range(7):
        before = bytes_written(rt.proc.pid)
        s, b = c.call("PATCH", "/onlineEndpoints/ep-1000",
                      {"properties": {"description": "change %d" % i}})
        assert s == 200, b
        deltas.append(bytes_written(rt.proc.pid) - before)
    # one row: a few 4 KiB pages in the log (the median keeps an occasional
    # checkpoint out); the whole state would be over a megabyte every time
    assert statistics.median(deltas) < 64 * 1024, (deltas, state)
    s, b = c.call("GET", "/onlineEndpoints/ep-1000")
    assert b["properties"]["description"] == "change 6"
    c.close()
    rt.stop()
    rt = make_runtime(home=rt.home).start()
    c = KeepAlive(rt)
    s, b = c.call("GET", "/onlineEndpoints/ep-1000")
    assert s == 200 and b["properties"]["description"] == "change 6"
    s, b = c.call("GET", "/onlineEndpoints/ep-1999")
    assert s == 200 and b["properties"]["description"].startswith("1999 ")
    c.close()


def test_removing_the_lock_file_does_not_let_a_second_runtime_in(make_runtime):
    """Item 11: the lock is held on the home itself; deleting HOME/lock frees nothing, and
    the second runtime's refusal says who holds it. Nothing acknowledged is lost."""
    a = make_runtime().start()
    s, _, b = a.http("PUT", "ws:/onlineEndpoints/kept-one", {"properties": {"authMode": "Key"}})
    assert s == 201, b
    os.unlink(os.path.join(a.home, "lock"))
    b_rt = make_runtime(home=a.home)
    try:
        b_rt.start(timeout=10)
        started = True
    except RuntimeError as e:
        started = False
        assert "another mldeck runtime holds the lock on %s" % a.home in str(e), str(e)
    if started:
        b_rt.http("PUT", "ws:/onlineEndpoints/intruder", {"properties": {"authMode": "Key"}})
        b_rt.stop()
    assert not started, "a second runtime started on a home in use"
    s, _, b = a.http("PUT", "ws:/onlineEndpoints/kept-two", {"properties": {"authMode": "Key"}})
    assert s == 201, b
    assert a.stop() == 0
    a = make_runtime(home=a.home).start()
    _, _, body = a.http("GET", "ws:/onlineEndpoints")
    assert sorted(e["name"] for e in body["value"]) == ["kept-one", "kept-two"]


def swap_state_file(home):
    """Another process puts a different file where the state is; returns an undo."""
    name = "state.db" if os.path.exists(os.path.join(home, "state.db")) else "state.json"
    path = os.path.join(home, name)
    aside = path + ".aside"
    os.rename(path, aside)
    with open(path, "w") as f:
        f.write("{}" if name == "state.json" else "")

    def undo():
        os.rename(aside, path)
    return undo


def test_a_replaced_state_file_is_never_written(runtime):
    """Item 11: before each write the runtime checks that the state file is still the one
    it opened; a replaced one is refused with a loud log line, reads go on, and once the
    file is back writes work again."""
    s, _, b = runtime.http("PUT", "ws:/onlineEndpoints/before", {"properties": {"authMode": "Key"}})
    assert s == 201, b
    undo = swap_state_file(runtime.home)
    s, _, b = runtime.http("PUT", "ws:/onlineEndpoints/during", {"properties": {"authMode": "Key"}})
    assert s == 500 and b["error"]["code"] == "StateFileReplaced", (s, b)
    assert "REFUSING TO WRITE" in b["error"]["message"]
    runtime.wait_log("REFUSING TO WRITE")
    s, _, b = runtime.http("GET", "ws:/onlineEndpoints/during")
    assert s == 404, b  # the refused change was rolled back
    s, _, b = runtime.http("GET", "ws:/onlineEndpoints/before")
    assert s == 200, b
    undo()
    s, _, b = runtime.http("PUT", "ws:/onlineEndpoints/after", {"properties": {"authMode": "Key"}})
    assert s == 201, b


NOBODY = pwd.getpwnam("nobody")


def as_nobody(script):
    """Runs a Python snippet as the user nobody: the other local user of item 4."""
    def drop():
        os.setgroups([])
        os.setgid(NOBODY.pw_gid)
        os.setuid(NOBODY.pw_uid)
    subprocess.run([PY, "-c", script], preexec_fn=drop, check=True, timeout=30)


@pytest.fixture
def shared_dir():
    """A directory like /tmp: everyone may create in it, the sticky bit protects entries."""
    d = tempfile.mkdtemp(prefix="mldeck-hostile-", dir="/tmp")
    os.chmod(d, 0o1777)
    yield d
    shutil.rmtree(d, ignore_errors=True)


def plant(home, victim, sink):
    """nobody plants links where the runtime writes: the state's temporary and the state
    itself to a file of root's (to overwrite it) and to one of nobody's (to read keys)."""
    as_nobody("""
import os
home = %r
os.makedirs(home, exist_ok=True)
for name, target in (("state.json.tmp", %r), ("state.json", %r), ("state.db", %r),
                     ("state.db-wal", %r), ("admin.key.tmp", %r)):
    try:
        os.symlink(target, os.path.join(home, name))
    except FileExistsError:
        pass
""" % (home, victim, sink, sink, sink, victim))


def refused(make_runtime, home):
    """Starts a runtime on home; returns its refusal, or fails after showing the damage."""
    rt = make_runtime(home=home)
    try:
        rt.start(timeout=10)
    except RuntimeError as e:
        assert rt.proc.returncode == 1
        return str(e)
    rt.http("PUT", "ws:/onlineEndpoints/victim-ep", {"properties": {"authMode": "Key"}})
    rt.stop()
    return None


def precious(shared_dir):
    victim = os.path.join(shared_dir, "root-owned")
    with open(victim, "w") as f:
        f.write("precious root data\n")
    os.chmod(victim, 0o644)
    sink = os.path.join(shared_dir, "sink")
    as_nobody("open(%r, 'w').close(); import os; os.chmod(%r, 0o666)" % (sink, sink))
    return victim, sink


def untouched(victim, sink):
    with open(victim) as f:
        assert f.read() == "precious root data\n"
    assert os.path.getsize(sink) == 0  # no keys leaked into nobody's file


def test_world_writable_home_with_planted_links_is_refused(make_runtime, shared_dir):
    """Item 4: a home others may write to is refused with the problem and the fix; the
    links another user planted in it are never followed."""
    victim, sink = precious(shared_dir)
    home = os.path.join(shared_dir, "home")
    os.mkdir(home)
    os.chmod(home, 0o777)
    plant(home, victim, sink)
    why = refused(make_runtime, home)
    untouched(victim, sink)
    assert why is not None, "the runtime used a world-writable home"
    assert "refusing the home %s: it is writable by others (mode 0777)" % home in why, why
    assert "chmod 700 %s" % home in why, why


def test_home_of_another_user_is_refused(make_runtime, shared_dir):
    """Item 4: a home another user created (and so controls) is refused too."""
    victim, sink = precious(shared_dir)
    home = os.path.join(shared_dir, "theirs")
    plant(home, victim, sink)
    as_nobody("import os; os.chmod(%r, 0o755)" % home)
    why = refused(make_runtime, home)
    untouched(victim, sink)
    assert why is not None, "the runtime used another user's home"
    assert "belongs to uid %d, not to you" % NOBODY.pw_uid in why, why


def test_home_under_another_users_directory_is_refused(make_runtime, shared_dir):
    """Item 4: nobody owns the parent, so nobody could swap the home for their own."""
    parent = os.path.join(shared_dir, "parent")
    as_nobody("import os; os.mkdir(%r, 0o755)" % parent)
    why = refused(make_runtime, os.path.join(parent, "home"))
    assert why is not None, "the runtime used a home another user can swap"
    assert "its parent %s belongs to uid %d" % (parent, NOBODY.pw_uid) in why, why


def test_new_home_is_private(make_runtime, tmp_path):
    (tmp_path / "fresh").mkdir()
    rt = make_runtime(home=str(tmp_path / "fresh" / "home")).start()
    for name in ("", "tmp", "models", "logs"):
        assert os.stat(os.path.join(rt.home, name)).st_mode & 0o777 == 0o700, name
    for name in ("state.db", "admin.key"):
        assert os.stat(os.path.join(rt.home, name)).st_mode & 0o777 == 0o600, name
    assert rt.stop() == 0
