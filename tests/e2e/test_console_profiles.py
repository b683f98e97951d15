"""Embedded runtime rules in the console (issue 8 item 3): only the built-in
local profile (or one with `embedded = true`) may start the runtime
in-process; a remote or tunnelled profile that is down is shown as down,
never replaced; switching profiles stops the embedded runtime and frees its
port and home lock, and switching back starts it again."""

import socket
import subprocess
import time

from conftest import BIN
from test_console import deck_factory, put  # noqa: F401 (fixtures)


def free_port():
    s = socket.socket()
    s.bind(("127.0.0.1", 0))
    port = s.getsockname()[1]
    s.close()
    return port


def refused(port):
    try:
        socket.create_connection(("127.0.0.1", port), timeout=2).close()
    except ConnectionRefusedError:
        return True
    return False


def wait_until(pred, timeout=15.0):
    deadline = time.monotonic() + timeout
    while time.monotonic() < deadline:
        if pred():
            return True
        time.sleep(0.05)
    return False


def write_config(tmp_path, text):
    cfg = tmp_path / "config" / "mldeck"
    cfg.mkdir(parents=True, exist_ok=True)
    (cfg / "config.ini").write_text(text)


def test_tunnel_profile_that_is_down_is_not_replaced(deck_factory, tmp_path):
    port = free_port()
    key = tmp_path / "far.key"
    key.write_text("secret\n")
    write_config(tmp_path, "[mldeck]\ndefault_profile = tunnel\n"
                 "[profile tunnel]\nbackend = local\nurl = http://127.0.0.1:%d\n"
                 "home = %s\nadmin_key_file = %s\n" % (port, tmp_path / "h", key))
    d = deck_factory({})
    s = d.wait("tunnel", "UNREACHABLE", timeout=15)
    assert "embedded runtime" not in s
    assert refused(port)  # the tunnel can still bind its port
    assert not (tmp_path / "h" / "admin.key").exists()  # no runtime made a home there
    d.keys("q")
    assert d.exit_code() == 0


def test_profile_switch_to_a_down_tunnel_is_not_replaced(make_runtime, deck_factory, tmp_path):
    a = make_runtime().start()
    port = free_port()
    write_config(tmp_path, "[mldeck]\ndefault_profile = first\n"
                 "[profile first]\nbackend = local\nurl = %s\nhome = %s\n"
                 "[profile tunnel]\nbackend = local\nurl = http://127.0.0.1:%d\nhome = %s\n"
                 "admin_key_file = %s/admin.key\n" % (a.url, a.home, port, tmp_path / "t", a.home))
    d = deck_factory({})
    d.wait(" first ", "connected")
    d.keys(":")
    d.type("profile tunnel")
    d.keys("Enter")
    s = d.wait(" tunnel ", "UNREACHABLE", timeout=15)
    assert "embedded runtime" not in s
    assert refused(port)


def test_switch_away_frees_port_and_lock_and_back_restarts(make_runtime, deck_factory,
                                                           tmp_path):
    far = make_runtime().start()
    put(far, "/onlineEndpoints/only-far", {"location": "local",
                                           "properties": {"authMode": "Key"}})
    port = free_port()
    home = tmp_path / "embedded-home"
    write_config(tmp_path, "[profile local]\nbackend = local\nurl = http://127.0.0.1:%d\n"
                 "home = %s\n[profile far]\nbackend = local\nurl = %s\nhome = %s\n"
                 % (port, home, far.url, far.home))
    d = deck_factory({})
    d.wait("embedded runtime", timeout=15)
    d.wait("This workspace is empty", timeout=15)
    d.keys("n")
    d.keys(":")
    d.type("profile far")
    d.keys("Enter")
    d.wait(" far ", "only-far", timeout=15)
    # the embedded runtime is gone: its port is free and its home unlocked
    assert wait_until(lambda: refused(port))
    r = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:%d" % port, "--home", str(home)],
                         stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True)
    try:
        assert wait_until(lambda: not refused(port) or r.poll() is not None), "serve never bound"
        assert r.poll() is None, r.stdout.read()
    finally:
        r.terminate()
        r.wait(20)
    assert wait_until(lambda: refused(port))
    d.keys(":")
    d.type("profile local")
    d.keys("Enter")
    s = d.wait(" local ", "embedded runtime", timeout=15)
    assert "runtime failed" not in s
    assert not refused(port)
    d.keys("q")
    assert d.exit_code(timeout=30) == 0
    assert wait_until(lambda: refused(port))
