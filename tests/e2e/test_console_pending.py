"""Pending traffic changes are never lost silently (issue 8 item 7): leaving
the Deployments screen, switching profile or quitting with pending shares
asks Apply / Discard / Stay, with Stay focused."""

from test_console import deck_factory, rt_env, traffic, workspace  # noqa: F401 (fixtures)
from test_console_profiles import write_config


def pending_green_10(d):
    d.wait("churn")
    d.keys("Enter")
    d.wait("Deployments/churn", "100%")
    d.keys("Down", "L")
    d.wait("pending change", "90%", "10%")


def test_leaving_asks_and_stay_keeps_the_changes(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    pending_green_10(d)
    d.keys("2")
    s = d.wait("Pending traffic changes", "[ Apply ]", "[ Discard ]", "[ Stay ]")
    assert "blue 100->90" in s and "green 0->10" in s
    d.keys("Enter")  # Stay has the focus
    s = d.wait("still pending", absent=("[ Stay ]",))
    assert "Deployments/churn" in s and "90%" in s and "10%" in s
    d.keys("1")
    d.wait("[ Stay ]")
    d.keys("Escape")  # Esc is Stay too
    d.wait("still pending", "Deployments/churn", absent=("[ Stay ]",))
    assert traffic(workspace)[0] == {"blue": 100, "green": 0}


def test_leaving_and_discard(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    pending_green_10(d)
    d.keys("t")  # the test screen is leaving too
    d.wait("[ Stay ]")
    d.keys("Left", "Enter")  # Discard
    d.wait("TEST REQUEST", absent=("[ Stay ]",))
    assert traffic(workspace)[0] == {"blue": 100, "green": 0}
    d.keys("Escape")
    d.wait("Deployments/churn", "100%", absent=("pending change",))


def test_quit_asks_and_apply_then_quits(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    pending_green_10(d)
    d.keys("q")
    d.wait("Pending traffic changes", "[ Stay ]")
    d.keys("Left", "Left", "Enter")  # Apply
    assert d.exit_code(timeout=15) == 0
    assert traffic(workspace)[0] == {"blue": 90, "green": 10}


def test_profile_switch_asks(workspace, deck_factory, tmp_path):
    write_config(
        tmp_path, "[mldeck]\ndefault_profile = first\n"
        "[profile first]\nbackend = local\nurl = %s\nhome = %s\n"
        "[profile second]\nbackend = local\nurl = %s\nhome = %s\n"
        % (workspace.url, workspace.home, workspace.url, workspace.home))
    d = deck_factory({})
    pending_green_10(d)
    d.keys(":")
    d.type("profile second")
    d.keys("Enter")
    d.wait("[ Stay ]")
    d.keys("Enter")
    s = d.wait("still pending", absent=("[ Stay ]",))
    assert " first " in s.splitlines()[0]
    d.keys(":")
    d.type("q")
    d.keys("Enter")
    d.wait("[ Stay ]")
    d.keys("Left", "Enter")  # Discard, then quit
    assert d.exit_code(timeout=15) == 0
    assert traffic(workspace)[0] == {"blue": 100, "green": 0}
