"""Terminals (issue 8 item 5): no tty, TERMs this machine has no terminfo
for, escape sequences the terminfo lacks (tmux sends \\e[4~ for End whatever
TERM says), F1/F10, Ctrl-Z."""

import subprocess

from conftest import BIN
from test_console import deck_factory, put, rt_env, workspace  # noqa: F401 (fixtures)
from test_console_profiles import free_port, write_config


def test_no_tty_says_so_and_exits_2(tmp_path):
    home = tmp_path / "h"
    write_config(tmp_path, "[profile local]\nurl = http://127.0.0.1:%d\nhome = %s\n"
                 % (free_port(), home))
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm-256color",
           "XDG_CONFIG_HOME": str(tmp_path / "config")}
    r = subprocess.run([BIN], stdin=subprocess.DEVNULL, capture_output=True, text=True,
                       env=env, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "needs a terminal" in r.stderr and "mldeck --help" in r.stderr, r.stderr
    assert not home.exists()  # nothing was started


def test_unknown_term_falls_back_and_runs(workspace, deck_factory):
    d = deck_factory(dict(rt_env(workspace), TERM="xterm-kitty"), keep=True)
    d.wait("Endpoints", "churn")
    d.keys("q")
    s = d.wait("CONSOLE-EXITED")
    assert "no terminfo entry for TERM=xterm-kitty here; using xterm-256color" in s, s
    assert d.exit_code() == 0


def two_endpoints(rt):
    put(rt, "/onlineEndpoints/zebra", {"location": "local", "properties": {"authMode": "Key"}})


def test_home_end_in_tmux_with_xterm_terminfo(workspace, deck_factory):
    two_endpoints(workspace)
    d = deck_factory(dict(rt_env(workspace), TERM="xterm-256color"))
    d.wait("churn", "zebra")
    d.keys("End")  # tmux sends \e[4~; xterm's terminfo says \eOF
    d.wait("/endpoints/zebra/score", timeout=3)
    d.keys("Home")  # \e[1~ against \eOH
    s = d.wait("/endpoints/churn/score", timeout=3)
    assert "| Endpoints" in s.splitlines()[0] and "Profiles" not in s.splitlines()[0]


def test_pgup_on_deployments_with_vt100(workspace, deck_factory):
    d = deck_factory(dict(rt_env(workspace), TERM="vt100", LANG="C", LC_ALL="C"))
    d.wait("churn", "Succeeded")
    d.keys("Enter")
    d.wait("Deployments/churn", "100%")
    d.keys("Down", "PPage")  # vt100 has no kpp: \e[5~ must not be Esc (discard/back)
    s = d.wait("pending change", "90%", "10%", timeout=3)
    assert "Deployments/churn" in s


def test_unknown_sequences_are_dropped(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.tmux("send-keys", "-H", "1b", "5b", "32", "30", "30", "7e")  # \e[200~ (paste start)
    d.tmux("send-keys", "-H", "1b", "5b", "33", "3b", "35", "7e")  # \e[3;5~ (ctrl-Del)
    d.tmux("send-keys", "-H", "1b", "4f", "32", "53")  # \eO2S (shift-F4, rxvt)
    d.keys("?")  # keys are handled in order: once help shows, the above were handled
    d.wait("KEYS", "everywhere")
    d.keys("Escape")  # back to where the sequences left us: Endpoints, had none leaked
    s = d.wait("churn", absent=("KEYS",))
    assert "| Endpoints" in s.splitlines()[0], s


def test_f1_help_and_f10_quit(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("F1")
    d.wait("KEYS", "everywhere")
    d.keys("F10")
    assert d.exit_code() == 0


def test_ctrl_z_suspends_and_fg_restores(workspace, deck_factory):
    # in an interactive shell (job control), where people press Ctrl-Z
    d = deck_factory(rt_env(workspace), command="env PS1='$ ' bash --norc --noprofile -i",
                     size=(100, 30))
    d.wait("$")
    d.type(d.command.split(";")[0])  # the console alone, not its exit-code bookkeeping
    d.keys("Enter")
    d.wait("churn")
    d.keys("C-z")
    d.wait("Stopped", absent=("NAME  ",))
    d.type("fg")
    d.keys("Enter")
    d.wait("churn", absent=("Stopped",))
    d.keys("q")
    d.wait("$ ", absent=("NAME  ",))
    d.type("echo EXITED-$?")
    d.keys("Enter")
    d.wait("EXITED-0")
