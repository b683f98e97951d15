"""The smaller defects of issue 8: the Test screen's request file follows the
endpoint, `:dep nope` never shows another endpoint's rows, the deletion
message has no stray '?'."""

from test_console import deck_factory, put, rt_env, workspace  # noqa: F401 (fixtures)


def test_request_file_follows_the_endpoint(workspace, deck_factory):
    put(workspace, "/onlineEndpoints/fraud", {"location": "local",
                                              "properties": {"authMode": "Key"}})
    d = deck_factory(rt_env(workspace))
    d.wait("churn", "fraud")
    d.keys("g", "t")  # churn is first
    d.wait("TEST REQUEST  endpoint churn", "requests/churn.json")
    d.keys("Escape")
    d.wait("| Endpoints")
    d.keys("j", "t")
    d.wait("TEST REQUEST  endpoint fraud", "requests/fraud.json")
    d.keys("f")  # the user's choice for this endpoint stays
    d.wait("requests/churn.json")
    d.keys("Escape", "t")
    d.wait("TEST REQUEST  endpoint fraud", "requests/churn.json")


def test_dep_of_an_unknown_endpoint_shows_no_other_rows(workspace, deck_factory):
    d = deck_factory(rt_env(workspace))
    d.wait("churn")
    d.keys("Enter")
    d.wait("Deployments/churn (2)", "blue", "green")
    d.keys(":")
    d.type("dep nope")
    d.keys("Enter")
    d.wait("Deployments/nope (0)", "404", absent=("blue", "green"))


def test_deleted_message_has_no_stray_question_mark(workspace, deck_factory):
    put(workspace, "/onlineEndpoints/printer", {"location": "local",
                                                "properties": {"authMode": "Key"}})
    d = deck_factory(rt_env(workspace))
    d.wait("printer")
    d.keys("/")
    d.type("printer")
    d.keys("Enter", "C-d")
    d.wait("Delete endpoint printer?")
    d.type("printer")
    d.keys("Tab", "Enter")
    s = d.wait("deleted: endpoint printer")
    assert "printer?" not in s.splitlines()[-2]
