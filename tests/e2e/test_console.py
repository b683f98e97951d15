"""The console in a real terminal: tmux send-keys / capture-pane against a
runtime started for the test (DESIGN.md "Console", issue 4)."""

import os
import shlex
import signal
import subprocess
import time
import uuid

import pytest

from conftest import BIN, Runtime, repo_path

TMUX = "tmux"
pytestmark = pytest.mark.skipif(
    subprocess.run(["which", TMUX], capture_output=True).returncode != 0, reason="no tmux")


class Deck:
    """One console in a detached tmux session of its own server."""

    def __init__(self, tmp_path, env, args=(), size=(80, 24), keep=False, command=None):
        self.sock = "mldeck-test-" + uuid.uuid4().hex[:10]
        conf = tmp_path / ("tmux-%s.conf" % self.sock)
        conf.write_text("set -g status off\nset -g escape-time 0\n")
        self.conf = str(conf)
        self.done = str(tmp_path / ("exit-%s" % self.sock))
        cmd = "env %s %s %s; echo $? > %s" % (
            " ".join(shlex.quote("%s=%s" % kv) for kv in env.items()),
            shlex.quote(BIN), " ".join(shlex.quote(a) for a in args), shlex.quote(self.done))
        if keep:
            cmd += "; echo CONSOLE-EXITED; sleep 30"
        self.command = cmd
        self.tmux("new-session", "-d", "-x", str(size[0]), "-y", str(size[1]), command or cmd)

    def tmux(self, *args, check=True):
        return subprocess.run([TMUX, "-L", self.sock, "-f", self.conf] + list(args),
                              capture_output=True, text=True, check=check)

    def keys(self, *keys):
        for k in keys:
            self.tmux("send-keys", k)
            time.sleep(0.05)

    def type(self, text):
        self.tmux("send-keys", "-l", text)

    def screen(self):
        r = self.tmux("capture-pane", "-p", check=False)
        return r.stdout

    def wait(self, *texts, timeout=8.0, absent=()):
        deadline = time.monotonic() + timeout
        s = ""
        while time.monotonic() < deadline:
            s = self.screen()
            if all(t in s for t in texts) and not any(t in s for t in absent):
                return s
            time.sleep(0.05)
        raise AssertionError("screen lacks %r (or shows %r):\n%s" % (texts, absent, s))

    def exit_code(self, timeout=10.0):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if os.path.exists(self.done):
                with open(self.done) as f:
                    return int(f.read().strip() or "-1")
            time.sleep(0.05)
        raise AssertionError("console did not exit:\n" + self.screen())

    def pid(self):
        r = self.tmux("list-panes", "-F", "#{pane_pid}")
        shell = int(r.stdout.split()[0])
        out = subprocess.run(["pgrep", "-P", str(shell)], capture_output=True, text=True).stdout
        for p in out.split():
            return int(p)
        return None

    def close(self):
        self.tmux("kill-server", check=False)


@pytest.fixture
def deck_factory(tmp_path):
    made = []

    def make(env, args=(), **kw):
        base = {"TERM": "xterm-256color", "LANG": "C.UTF-8", "LC_ALL": "C.UTF-8",
                "XDG_CONFIG_HOME": str(tmp_path / "config"),
                "MLDECK_THEMES": repo_path("themes"), "MLDECK_DEMO_DIR": repo_path("demo"),
                "HOME": str(tmp_path)}
        base.update(env)
        d = Deck(tmp_path, base, args, **kw)
        made.append(d)
        return d

    yield make
    for d in made:
        d.close()


def rt_env(rt):
    return {"MLDECK_URL": rt.url, "MLDECK_ADMIN_KEY": rt.admin_key}


def put(rt, path, body):
    s, _, b = rt.http("PUT", "ws:" + path, body)
    assert s in (200, 201), b
    return b


@pytest.fixture
def workspace(runtime):
    """Endpoint 'churn' with blue (100 %) and green (0 %) deployments."""
    put(runtime, "/models/churn-linear/versions/1",
        {"properties": {"modelUri": repo_path("demo", "models", "churn-linear.json"),
                        "modelType": "linear"}})
    put(runtime, "/environments/native/versions/1",
        {"properties": {"environmentKind": "native"}})
    put(runtime, "/onlineEndpoints/churn", {"location": "local",
                                            "properties": {"authMode": "Key"}})
    for d in ("blue", "green"):
        put(runtime, "/onlineEndpoints/churn/deployments/" + d,
            {"location": "local", "sku": {"capacity": 1},
             "properties": {"model": "azureml:churn-linear:1",
                            "environmentId": "azureml:native:1"}})
        runtime.wait_deployment("churn", d)
    s, _, b = runtime.http("PATCH", "ws:/onlineEndpoints/churn",
                           {"properties": {"traffic": {"blue": 100, "green": 0}}})
    assert s == 200, b
    return runtime


def traffic(rt, ep="churn"):
    s, _, b = rt.http("GET", "ws:/onlineEndpoints/" + ep)
    assert s == 200, b
    return b["properties"]["traffic"], b["properties"].get("mirrorTraffic", {})


def test_navigate_screens(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    s = d.wait("Endpoints", "churn", "Succeeded")
    assert "READ-ONLY" not in s
    lines = s.splitlines()
    assert lines[0].lstrip().startswith("mldeck")
    assert "? help" in lines[-1] and "q quit" in lines[-1]
    d.keys("2")
    d.wait("Models", "churn-linear", "linear")
    d.keys("3")
    d.wait("Environments", "native")
    d.keys("4")
    d.wait("Profiles", "local")
    d.keys("?")
    d.wait("KEYS", "traffic", "everywhere")
    d.keys("Escape", "1")
    d.wait("Endpoints", "churn")
    d.keys(":")
    d.type("model")
    d.keys("Enter")
    d.wait("Models", "churn-linear")
    d.keys(":")
    d.type("ep")
    d.keys("Enter")
    d.wait("Endpoints")
    d.keys("Enter")
    s = d.wait("Deployments/churn", "blue", "green", "100%")
    d.keys("q")
    assert d.exit_code() == 0


def test_filter_and_sort(workspace, deck_factory):
    put(workspace, "/onlineEndpoints/aardvark", {"location": "local",
                                                "properties": {"authMode": "Key"}})
    d = deck_factory(rt_env(workspace))
    d.wait("churn", "aardvark")
    d.keys("/")
    d.type("chu")
    d.keys("Enter")
    d.wait("churn", absent=("aardvark",))
    d.keys("Escape")
    s = d.wait("churn", "aardvark")
    d.keys("s", "S")
    s = d.wait("descending")
    rows = [l.split()[0] for l in s.splitlines()[2:4]]
    assert rows == ["churn", "aardvark"], s


def test_traffic_slider_apply_and_discard(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("Enter")
    d.wait("Deployments/churn", "100%")
    d.keys("Down", "L")  # green +10: blue gives
    s = d.wait("pending change", "90%", "10%")
    assert traffic(workspace)[0] == {"blue": 100, "green": 0}
    d.keys("Escape")
    d.wait("discarded", "100%")
    assert traffic(workspace)[0] == {"blue": 100, "green": 0}
    d.keys("L", "l", "l", "Right")  # +13
    d.wait("87%", "13%")
    d.keys("Enter")
    d.wait("traffic applied")
    assert traffic(workspace)[0] == {"blue": 87, "green": 13}


def test_mirror_share(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("Enter")
    d.wait("Deployments/churn", "100%")
    d.keys("m")
    d.wait("MIRROR share")
    d.keys("l")  # blue has live traffic: refused locally
    d.wait("mirror goes only to a deployment with 0% live traffic")
    d.keys("Down", "L", "L", "L", "L", "L", "L")  # capped at 50
    d.wait("50%", "pending change")
    d.keys("Enter")
    d.wait("traffic applied")
    assert traffic(workspace) == ({"blue": 100, "green": 0}, {"green": 50})


def test_refused_change_shows_server_message(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("Enter")
    d.wait("Deployments/churn", "100%")
    # the server deletes green behind the console's back: the PATCH names it
    s, _, b = workspace.http("DELETE", "ws:/onlineEndpoints/churn/deployments/green")
    assert s in (200, 202, 204), b
    d.keys("Down", "L", "Enter")
    s = d.wait("refused (")
    assert traffic(workspace)[0] == {"blue": 100}


def test_delete_dialog(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("C-d")
    d.wait("Delete endpoint churn?", "[ Cancel ]", "Type the endpoint's name")
    d.keys("Enter")  # Cancel has the focus
    d.wait("cancelled: nothing deleted")
    assert workspace.http("GET", "ws:/onlineEndpoints/churn")[0] == 200
    d.keys("C-d")
    d.wait("Delete endpoint churn?")
    d.type("chur")
    d.keys("Tab", "Enter")  # name not typed in full: refused
    d.wait("type the endpoint's name exactly")
    assert workspace.http("GET", "ws:/onlineEndpoints/churn")[0] == 200
    d.type("n")
    d.keys("Enter")
    d.wait("deleted")
    deadline = time.monotonic() + 10
    while workspace.http("GET", "ws:/onlineEndpoints/churn")[0] != 404:
        assert time.monotonic() < deadline
        time.sleep(0.05)


def test_delete_refused_as_server_said(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("Enter")
    d.wait("Deployments/churn", "blue")
    d.keys("C-d")
    d.wait("Delete deployment blue of churn?")
    d.keys("Tab", "Enter")
    d.wait("refused (409")
    assert workspace.http("GET", "ws:/onlineEndpoints/churn/deployments/blue")[0] == 200
    d.keys("2")
    d.wait("churn-linear")
    d.keys("C-d", "Tab", "Enter")
    d.wait("refused (409")


def test_readonly(workspace, deck_factory):
    d = deck_factory(rt_env(workspace), args=["--readonly"])
    s = d.wait("READ-ONLY", "churn")
    hint = s.splitlines()[-1]
    assert "delete" not in hint and "bench" not in hint, hint
    d.keys("C-d")
    d.wait("read-only")
    assert "Delete endpoint" not in d.screen()
    d.keys("Enter")
    s = d.wait("Deployments/churn", "100%")
    hint = s.splitlines()[-1]
    assert "+1%" not in hint and "mirror" not in hint, hint
    d.keys("Down", "L")
    d.wait("read-only: 'L/PgUp'")
    d.keys("Enter")  # nothing pending: Enter opens the logs, changes nothing
    d.wait("LOGS churn/green")
    assert traffic(workspace)[0] == {"blue": 100, "green": 0}
    d.keys("?")
    s = d.wait("KEYS (read-only")
    assert "^D" not in s


def test_test_request_and_logs(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("t")
    d.wait("TEST REQUEST", "churn.json", "the traffic split")
    d.keys("Enter")
    d.wait("status   200", "deployment blue")
    d.keys("d", "d", "Enter")  # target green explicitly
    d.wait("target   green", "deployment green")
    d.keys("i", "C-u")
    d.type('{"data": [[1,2]]}')
    d.keys("Enter", "Enter")
    d.wait("status   400")
    d.keys("Escape")
    d.wait("Endpoints")
    d.keys("l")
    d.wait("LOGS churn/blue", "(following)")


def test_theme_switch_and_bad_theme(workspace, deck_factory, tmp_path):
    themes = tmp_path / "themes"
    themes.mkdir()
    for n in ("default", "light"):
        (themes / (n + ".ini")).write_text(open(repo_path("themes", n + ".ini")).read())
    (themes / "broken.ini").write_text("header = white blue\nheadr = red default\n"
                                       "cursor = mauve default\n")
    d = deck_factory(dict(rt_env(workspace), MLDECK_THEMES=str(themes)))
    d.wait("churn")
    d.keys(":")
    d.type("theme light")
    d.keys("Enter")
    d.wait("theme light")
    d.keys(":")
    d.type("theme")
    d.keys("Enter")
    s = d.wait("Themes", "* light", "broken")
    d.keys("g", "Enter")  # broken is first: reported, the rest applies
    d.wait("theme broken: line 2: unknown element 'headr'", "* broken")


def test_profile_switch(make_runtime, deck_factory, tmp_path):
    a = make_runtime().start()
    b = make_runtime().start()
    put(b, "/onlineEndpoints/only-on-b", {"location": "local", "properties": {"authMode": "Key"}})
    cfg = tmp_path / "config" / "mldeck"
    cfg.mkdir(parents=True)
    (cfg / "config.ini").write_text(
        "[mldeck]\ndefault_profile = first\n"
        "[profile first]\nbackend = local\nurl = %s\nhome = %s\n"
        "[profile second]\nbackend = local\nurl = %s\nhome = %s\ntheme = light\n"
        % (a.url, a.home, b.url, b.home))
    d = deck_factory({})
    d.wait("first", a.url)
    d.keys("4")
    d.wait("Profiles", "first", "second")
    d.keys("/")
    d.type("second")
    d.keys("Enter", "Enter")
    d.wait(" second ", b.url, "only-on-b")
    d.keys(":")
    d.type("profile first")
    d.keys("Enter")
    d.wait(" first ", a.url, absent=("only-on-b",))


def test_resize_and_too_small(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.tmux("resize-window", "-x", "60", "-y", "20")
    d.wait("needs a terminal of at least 80x24")
    d.tmux("resize-window", "-x", "120", "-y", "40")
    s = d.wait("churn", "P99ms")
    assert "\u2500" * 120 in s  # the detail pane's rule spans the new width
    d.tmux("resize-window", "-x", "200", "-y", "60")
    d.wait("churn", "DEPLOYMENT")
    d.keys("q")
    assert d.exit_code() == 0


def test_no_color_and_vt100(workspace, deck_factory):
    d = deck_factory(dict(rt_env(workspace), NO_COLOR="1", TERM="vt100", LANG="C", LC_ALL="C"))
    d.wait("mldeck", "churn", "Succeeded")
    d.keys("Enter")
    s = d.wait("Deployments/churn")
    assert "#" in s  # ASCII slider without a UTF-8 locale
    d.keys("q")
    assert d.exit_code() == 0


def test_sigterm_restores_terminal(workspace, deck_factory):
    d = deck_factory(rt_env(workspace), keep=True)
    d.wait("churn")
    pid = d.pid()
    assert pid
    os.kill(pid, signal.SIGTERM)
    s = d.wait("CONSOLE-EXITED")
    assert "Endpoints" not in s  # the alternate screen is gone


def test_embedded_runtime_and_demo(deck_factory, tmp_path):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    home = tmp_path / "embedded-home"
    cfg = tmp_path / "config" / "mldeck"
    cfg.mkdir(parents=True)
    (cfg / "config.ini").write_text(
        "[profile local]\nbackend = local\nurl = http://127.0.0.1:%d\nhome = %s\n" % (port, home))
    d = deck_factory({}, args=["--demo"])
    d.wait("embedded runtime", timeout=15)
    d.wait("demo workspace ready", "digits", "fraud", "churn", timeout=90)
    # the batch side: an endpoint, customers, a weekly schedule and one job run
    rt = Runtime(str(home))
    rt.url = "http://127.0.0.1:%d" % port
    rt.admin_key = (home / "admin.key").read_text().strip()
    sched = rt.http("GET", "ws:/schedules/weekly-churn")[2]
    assert sched["properties"]["trigger"]["timeZone"] == "Pacific Standard Time"
    deadline = time.monotonic() + 60
    while True:
        jobs = rt.http("GET", "ws:/jobs?tag=azureml.batchrun")[2]["value"]  # not monitor runs
        if jobs and jobs[0]["properties"]["status"] == "Completed":
            break
        assert time.monotonic() < deadline, jobs
        time.sleep(0.1)
    assert jobs[0]["properties"]["properties"]["succeededItems"] == "6000"
    d.keys("q")
    assert d.exit_code(timeout=30) == 0
    assert (home / "admin.key").exists()
    with pytest.raises(OSError):
        socket.create_connection(("127.0.0.1", port), timeout=1).close()


def test_first_run_offers_demo(deck_factory, tmp_path):
    import socket
    sock = socket.socket()
    sock.bind(("127.0.0.1", 0))
    port = sock.getsockname()[1]
    sock.close()
    cfg = tmp_path / "config" / "mldeck"
    cfg.mkdir(parents=True)
    (cfg / "config.ini").write_text(
        "[profile local]\nbackend = local\nurl = http://127.0.0.1:%d\nhome = %s\n"
        % (port, tmp_path / "fresh-home"))
    d = deck_factory({})
    d.wait("This workspace is empty", "[y] yes", timeout=15)
    d.keys("n")
    d.wait("no demo", absent=("This workspace is empty",))
    d.keys("q")
    assert d.exit_code(timeout=30) == 0


def test_backend_gone_marks_header(make_runtime, deck_factory):
    rt = make_runtime().start()
    d = deck_factory(rt_env(rt))
    d.wait("connected", "Endpoints")
    rt.stop()
    d.wait("UNREACHABLE", timeout=15)
    d.keys("q")
    assert d.exit_code() == 0
