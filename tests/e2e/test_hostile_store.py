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
import time

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


def break_saves(home):
    """Makes the state's next writes fail, whatever the store's format: the file-based
    store of older versions wrote state.json.tmp (a directory there stops it); the SQLite
    store refuses a state.db that is not the file it opened. Returns an undo."""
    os.mkdir(os.path.join(home, "state.json.tmp"))
    undo = swap_state_file(home) if os.path.exists(os.path.join(home, "state.db")) else None

    def restore():
        os.rmdir(os.path.join(home, "state.json.tmp"))
        if undo:
            undo()
    return restore


def artifact_files(home, model):
    """Every file under HOME/models/MODEL, relative to the home."""
    out = []
    for d, _, files in os.walk(os.path.join(home, "models", model)):
        out += [os.path.relpath(os.path.join(d, f), home) for f in files]
    return sorted(out)


def register(rt, name, version, path):
    return rt.http("PUT", "ws:/models/%s/versions/%s" % (name, version),
                   {"properties": {"modelUri": path, "modelType": "linear"}})


def deploy_native(rt, ep, model):
    """Endpoint ep with a deployment blue of model (NAME:VERSION) on a native environment, up."""
    rt.http("PUT", "ws:/environments/native/versions/1", {"properties": {"environmentKind": "native"}})
    rt.http("PUT", "ws:/onlineEndpoints/" + ep, {"properties": {"authMode": "Key"}})
    s, _, d = rt.http("PUT", "ws:/onlineEndpoints/%s/deployments/blue" % ep,
                      {"properties": {"model": model, "environmentId": "native:1"}})
    assert s == 201, d
    assert rt.wait_deployment(ep, "blue")["properties"]["provisioningState"] == "Succeeded"


def sha256_of(path):
    import hashlib
    with open(path, "rb") as f:
        return hashlib.sha256(f.read()).hexdigest()


def test_failed_reregistration_keeps_the_acknowledged_artifact(make_runtime, tmp_path):
    """Item 3: the new file goes to a new place, the state commit decides, and only then is
    the old one removed; a failed save leaves the registry and the files as acknowledged,
    and no orphan, for a re-registration and for a new version alike."""
    a, b = tmp_path / "a.json", tmp_path / "b.json"
    a.write_text(json.dumps({"coefficients": [1.0], "intercept": 0.0}))
    b.write_text(json.dumps({"coefficients": [2.0], "intercept": 5.0}))
    rt = make_runtime().start()
    s, _, m = register(rt, "churn", "1", str(a))
    assert s == 201, m
    sha_a = m["properties"]["properties"]["sha256"]
    before = artifact_files(rt.home, "churn")
    assert len(before) == 1 and sha256_of(os.path.join(rt.home, before[0])) == sha_a

    restore = break_saves(rt.home)
    s, _, e = register(rt, "churn", "1", str(b))
    assert s == 500, (s, e)
    s, _, e = register(rt, "churn", "2", str(b))
    assert s == 500, (s, e)
    restore()

    s, _, m = rt.http("GET", "ws:/models/churn/versions/1")
    assert m["properties"]["properties"]["sha256"] == sha_a
    assert artifact_files(rt.home, "churn") == before  # the old file, and nothing else
    assert sha256_of(os.path.join(rt.home, before[0])) == sha_a
    s, _, _ = rt.http("GET", "ws:/models/churn/versions/2")
    assert s == 404
    deploy_native(rt, "churn-ep", "churn:1")  # the acknowledged version still loads

    # a re-registration that succeeds replaces the file and removes the old one
    s, _, m = register(rt, "churn", "3", str(b))
    assert s == 201, m
    s, _, m = register(rt, "churn", "3", str(a))
    assert s == 200 and m["properties"]["properties"]["sha256"] == sha_a, m
    assert len(artifact_files(rt.home, "churn")) == 2  # versions 1 and 3, one file each

    # what a crash leaves behind (no model version names it) is swept at start
    os.makedirs(os.path.join(rt.home, "models", "churn", "1", "ZZZZZZ"))
    with open(os.path.join(rt.home, "models", "churn", "1", "ZZZZZZ", "b.json"), "w") as f:
        f.write("orphan")
    os.makedirs(os.path.join(rt.home, "models", "ghost", "1"))
    assert rt.stop() == 0
    rt = make_runtime(home=rt.home).start()
    rt.wait_log("artifact directories no model version names")
    assert not os.path.exists(os.path.join(rt.home, "models", "ghost"))
    assert len(artifact_files(rt.home, "churn")) == 2
    s, _, m = rt.http("GET", "ws:/models/churn/versions/1")
    assert m["properties"]["properties"]["sha256"] == sha_a


@pytest.fixture
def small_disk(tmp_path):
    """A 2 MiB tmpfs, private to root, mounted for the test and unmounted after."""
    d = tmp_path / "disk"
    d.mkdir()
    subprocess.run(["mount", "-t", "tmpfs", "-o", "size=2m,mode=0700", "tmpfs", str(d)],
                   check=True)
    yield str(d)
    subprocess.run(["umount", "-l", str(d)], check=False)


def fill(path, leave):
    """Writes path until the disk is full, then gives back `leave` bytes, so that the next
    big write is cut short (a short write, then ENOSPC) rather than refused at once.
    Returns a function that frees the disk."""
    chunk = b"\1" * 65536
    with open(path, "wb") as f:
        try:
            while True:
                f.write(chunk)
                f.flush()
        except OSError as e:
            assert e.errno == 28, e  # ENOSPC
    with open(path, "r+b") as f:
        f.truncate(os.path.getsize(path) - leave)
    return lambda: os.unlink(path)


def test_full_disk_reports_the_real_error_and_changes_nothing(make_runtime, small_disk, tmp_path):
    """Item 14: on a full disk every failed write says "No space left on device" (the errno
    of the call that failed, never a stale one such as "File exists"), and the change that
    failed is not half made."""
    model = tmp_path / "big.json"
    model.write_text(json.dumps({"coefficients": [0.5] * 150000, "intercept": 0.0}))
    rt = make_runtime(home=small_disk).start()
    s, _, b = rt.http("PUT", "ws:/onlineEndpoints/before", {"properties": {"authMode": "Key"}})
    assert s == 201, b
    free = fill(os.path.join(small_disk, "filler"), 210_000)

    s, _, b = register(rt, "big", "1", str(model))
    assert s == 500, (s, b)
    assert b["error"]["code"] == "StorageError", b
    assert b["error"]["message"].endswith(": No space left on device"), b
    assert "File exists" not in b["error"]["message"]
    s, _, b = rt.http("PUT", "ws:/onlineEndpoints/during",
                      {"properties": {"authMode": "Key", "description": "x" * 1_000_000}})
    assert s == 500, (s, b)
    assert "No space left on device" in b["error"]["message"], b
    s, _, _ = rt.http("GET", "ws:/onlineEndpoints/during")
    assert s == 404  # rolled back
    s, _, _ = rt.http("GET", "ws:/models/big/versions/1")
    assert s == 404
    assert os.listdir(os.path.join(small_disk, "tmp")) == []
    assert not os.path.exists(os.path.join(small_disk, "models", "big"))

    free()
    s, _, b = register(rt, "big", "1", str(model))
    assert s == 201, b
    s, _, b = rt.http("PUT", "ws:/onlineEndpoints/during", {"properties": {"authMode": "Key"}})
    assert s == 201, b
    assert rt.stop() == 0
    rt = make_runtime(home=small_disk).start()
    _, _, body = rt.http("GET", "ws:/onlineEndpoints")
    assert sorted(e["name"] for e in body["value"]) == ["before", "during"]
    assert rt.stop() == 0


SLOW_INIT = """
import os, time

def init():
    time.sleep(float(os.environ["INIT_SECONDS"]))

def run(raw_data):
    return {"ok": True}
"""


def score(rt, ep, key):
    return rt.http("POST", "/endpoints/%s/score" % ep, {"data": [[1]]}, auth=False,
                   headers={"Authorization": "Bearer " + key})


def test_after_restart_deployments_say_they_are_loading(make_runtime, tmp_path):
    """Item 13: after a restart a deployment is Updating (not Succeeded) for as long as it
    answers 503, and Succeeded once it serves."""
    code = tmp_path / "code"
    code.mkdir()
    (code / "score.py").write_text(SLOW_INIT)
    (tmp_path / "m.json").write_text("{}")
    rt = make_runtime().start()
    rt.http("PUT", "ws:/models/slow/versions/1",
            {"properties": {"modelUri": str(tmp_path / "m.json"), "modelType": "custom_model"}})
    rt.http("PUT", "ws:/environments/pyenv/versions/1",
            {"properties": {"environmentKind": "python", "interpreterPath": PY}})
    rt.http("PUT", "ws:/onlineEndpoints/slow-ep", {"properties": {"authMode": "Key"}})
    s, _, d = rt.http("PUT", "ws:/onlineEndpoints/slow-ep/deployments/blue", {
        "properties": {"model": "slow:1", "environmentId": "pyenv:1",
                       "codeConfiguration": {"codeId": str(code), "scoringScript": "score.py"},
                       "environmentVariables": {"INIT_SECONDS": "3"}}})
    assert s == 201, d
    assert rt.wait_deployment("slow-ep", "blue")["properties"]["provisioningState"] == "Succeeded"
    rt.http("PATCH", "ws:/onlineEndpoints/slow-ep", {"properties": {"traffic": {"blue": 100}}})
    _, _, keys = rt.http("POST", "ws:/onlineEndpoints/slow-ep/listKeys")
    assert score(rt, "slow-ep", keys["primaryKey"])[0] == 200
    assert rt.stop() == 0

    rt = make_runtime(home=rt.home).start()
    s, _, d = rt.http("GET", "ws:/onlineEndpoints/slow-ep/deployments/blue")
    state = d["properties"]["provisioningState"]
    answer = score(rt, "slow-ep", keys["primaryKey"])[0]
    assert answer == 503, answer  # init() is still sleeping
    assert state == "Updating", state
    d = rt.wait_deployment("slow-ep", "blue")
    assert d["properties"]["provisioningState"] == "Succeeded", d
    assert score(rt, "slow-ep", keys["primaryKey"])[0] == 200


def test_state_json_of_an_older_version_is_migrated_once(make_runtime, tmp_path):
    """Item 12: a home an older mldeck wrote (state.json) is migrated into state.db on the
    first start, the old file kept as a backup, and the log says so."""
    home = tmp_path / "old-home"
    home.mkdir(mode=0o700)
    key = "k" * 43
    (home / "state.json").write_text(json.dumps({
        "format": 1, "workspace": "local", "models": [], "environments": [],
        "endpoints": [{"name": "legacy-ep", "auth": "Key", "traffic": {}, "mirror": {},
                       "primary_key": key, "secondary_key": key, "key_generation": 0,
                       "state": "Succeeded", "tags": {}, "created": 1700000000}],
        "deployments": []}))
    rt = make_runtime(home=str(home)).start()
    rt.wait_log("migrated %s/state.json into %s/state.db; the old file is kept as "
                "%s/state.json.migrated" % (home, home, home))
    s, _, keys = rt.http("POST", "ws:/onlineEndpoints/legacy-ep/listKeys")
    assert s == 200 and keys["primaryKey"] == key
    assert not (home / "state.json").exists() and (home / "state.json.migrated").exists()
    assert rt.stop() == 0
    rt = make_runtime(home=str(home)).start()
    assert rt.http("GET", "ws:/onlineEndpoints/legacy-ep")[0] == 200
    assert "migrated" not in rt.logtext()  # once


def test_runtime_starts_on_a_disk_with_not_a_byte_free(make_runtime, small_disk, tmp_path):
    """Item 14: a full disk stops writes, not the runtime: it starts (nothing needs writing
    to open the state), serves what was acknowledged, and records the deployments' state
    once it can."""
    small = tmp_path / "small.json"
    small.write_text(json.dumps({"coefficients": [1.0], "intercept": 0.0}))
    rt = make_runtime(home=small_disk).start()
    assert register(rt, "small", "1", str(small))[0] == 201
    deploy_native(rt, "full-ep", "small:1")
    _, _, keys = rt.http("POST", "ws:/onlineEndpoints/full-ep/listKeys")
    assert rt.stop() == 0
    free = fill(os.path.join(small_disk, "filler"), 0)
    rt = make_runtime(home=small_disk).start()
    rt.wait_log("cannot record the deployments' state at start")
    deadline = time.monotonic() + 60
    while True:
        s, _, b = rt.http("POST", "/endpoints/full-ep/score", {"data": [[1.0]]}, auth=False,
                          headers={"Authorization": "Bearer " + keys["primaryKey"],
                                   "azureml-model-deployment": "blue"})
        if s == 200 or time.monotonic() > deadline:
            break
        time.sleep(0.05)
    assert s == 200, (s, b)
    free()
    assert rt.stop() == 0
