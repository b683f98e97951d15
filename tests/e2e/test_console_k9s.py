"""k9s habits (issue 8 item 8): the filter and the row count in the title,
Esc back on every screen, Tab completion of ":" commands, config.ini picked
up when it changes (or on :reload), --theme NAME checked as :theme is."""

import subprocess

from conftest import BIN, repo_path
from test_console import deck_factory, put, rt_env, workspace  # noqa: F401 (fixtures)
from test_console_profiles import write_config


def endpoint(rt, name):
    put(rt, "/onlineEndpoints/" + name, {"location": "local", "properties": {"authMode": "Key"}})


def test_title_counts_rows_and_shows_the_filter(workspace, deck_factory):
    endpoint(workspace, "aardvark")
    endpoint(workspace, "zebra")
    d = deck_factory(rt_env(workspace))
    d.wait("| Endpoints (3) |", "zebra")
    d.keys("/")
    d.type("a")
    d.wait("| Endpoints (2/3) /a |", absent=("churn ",))
    d.keys("Enter")
    d.wait("| Endpoints (2/3) /a |")
    d.keys("Escape")  # clears the filter
    d.wait("| Endpoints (3) |", "churn")


def test_esc_goes_back_on_every_screen(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("2")
    d.wait("| Models")
    d.keys("3")
    d.wait("| Environments")
    d.keys("4")
    d.wait("| Profiles")
    d.keys("Escape")
    d.wait("| Environments")
    d.keys("Escape")
    d.wait("| Models")
    d.keys("Escape")
    d.wait("| Endpoints", "churn")
    d.keys("Escape")  # nothing before: stays
    d.keys("?")
    d.wait("KEYS")
    d.keys("Escape")
    d.wait("| Endpoints", "churn")


def test_commands_complete_with_tab(workspace, deck_factory, tmp_path):
    write_config(tmp_path, "[mldeck]\ndefault_profile = first\n"
                 "[profile first]\nbackend = local\nurl = %s\nhome = %s\n"
                 "[profile second]\nbackend = local\nurl = %s\nhome = %s\n"
                 % (workspace.url, workspace.home, workspace.url, workspace.home))
    d = deck_factory({})
    d.wait("churn")
    d.keys(":")
    d.type("en")
    d.keys("Tab")
    d.wait(":env")
    d.keys("Enter")
    d.wait("| Environments")
    d.keys(":")
    d.type("dep ch")
    d.keys("Tab")
    d.wait(":dep churn")
    d.keys("Enter")
    d.wait("Deployments/churn", "blue")
    d.keys(":")
    d.type("pro")
    d.keys("Tab")
    d.type("s")
    d.keys("Tab")
    d.wait(":profile second")
    d.keys("C-u")
    d.type("theme ")
    d.keys("Tab")  # several: listed on the hint line
    d.wait("default  high-contrast  light")


def test_config_changes_are_picked_up(workspace, deck_factory, tmp_path):
    text = ("[mldeck]\ndefault_profile = first\n"
            "[profile first]\nbackend = local\nurl = %s\nhome = %s\n"
            % (workspace.url, workspace.home))
    write_config(tmp_path, text)
    d = deck_factory({})
    s = d.wait("churn", " first ")
    assert "READ-ONLY" not in s
    write_config(tmp_path, text + "readonly = true\n[profile third]\nurl = http://127.0.0.1:9\n")
    d.wait("READ-ONLY", timeout=15)  # seen on its own, no key pressed
    d.keys("4")
    d.wait("| Profiles (3)", "third")
    d.keys(":")
    d.type("reload")
    d.keys("Enter")
    d.wait("config.ini reloaded (3 profiles)")
    write_config(tmp_path, text + "[profile broken\n")
    d.wait("config.ini not reloaded", timeout=15)  # the old profiles stay
    d.wait("third")


def test_unknown_theme_flag_is_an_error(tmp_path):
    env = {"PATH": "/usr/bin:/bin", "HOME": str(tmp_path), "TERM": "xterm-256color",
           "XDG_CONFIG_HOME": str(tmp_path / "config"), "MLDECK_THEMES": repo_path("themes")}
    r = subprocess.run([BIN, "--theme", "nope"], stdin=subprocess.DEVNULL, capture_output=True,
                       text=True, env=env, timeout=30)
    assert r.returncode == 2, (r.returncode, r.stderr)
    assert "no theme 'nope'" in r.stderr and "light" in r.stderr, r.stderr
