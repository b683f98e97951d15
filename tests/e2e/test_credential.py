"""One data-plane credential path for both faces (api/scoring.c): the key for
Key endpoints, a token for AMLToken ones. The console's Test screen used to
ask listKeys whatever the authMode (`listKeys: 400` on AMLToken endpoints)
while `mldeck invoke` asked for a token."""

import json

from conftest import repo_path
from test_console import deck_factory, put, rt_env  # noqa: F401 (a fixture)

REQUEST = repo_path("demo", "requests", "churn.json")


def token_endpoint(rt):
    put(rt, "/models/churn-linear/versions/1",
        {"properties": {"modelUri": repo_path("demo", "models", "churn-linear.json"),
                        "modelType": "linear"}})
    put(rt, "/environments/native/versions/1", {"properties": {"environmentKind": "native"}})
    put(rt, "/onlineEndpoints/churn", {"location": "local",
                                       "properties": {"authMode": "AMLToken"}})
    put(rt, "/onlineEndpoints/churn/deployments/blue",
        {"location": "local", "sku": {"capacity": 1},
         "properties": {"model": "azureml:churn-linear:1", "environmentId": "azureml:native:1"}})
    rt.wait_deployment("churn", "blue")
    s, _, b = rt.http("PATCH", "ws:/onlineEndpoints/churn",
                      {"properties": {"traffic": {"blue": 100}}})
    assert s == 200, b


def test_cli_invoke_uses_a_token_on_aml_token_endpoints(runtime):
    token_endpoint(runtime)
    out = runtime.cli("invoke", "churn", "--request-file", REQUEST).stdout
    assert isinstance(json.loads(out), list)
    runtime.wait_log("POST /endpoints/churn/score 200")


def test_console_test_screen_uses_a_token_on_aml_token_endpoints(runtime, deck_factory):
    token_endpoint(runtime)
    d = deck_factory(rt_env(runtime))
    d.wait("churn")
    d.keys("t")
    d.wait("TEST REQUEST", "churn.json")
    d.keys("Enter")
    d.wait("status   200", "deployment blue", absent=("listKeys",))
