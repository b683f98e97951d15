"""The resource API over raw HTTP: Azure shapes, every rule, every status."""

import json
import os
import stat

import pytest

from conftest import raw_exchange, repo_path

LOGISTIC = repo_path("tests", "data", "logistic.json")


def put_model(rt, name="churn", version="1", path=LOGISTIC, mtype="linear"):
    return rt.http("PUT", "ws:/models/%s/versions/%s" % (name, version),
                   {"properties": {"modelType": mtype, "modelUri": path}})


def put_env(rt, name="native", version="1"):
    return rt.http("PUT", "ws:/environments/%s/versions/%s" % (name, version),
                   {"properties": {"environmentKind": "native"}})


def put_endpoint(rt, name="ep-one", auth="Key"):
    return rt.http("PUT", "ws:/onlineEndpoints/" + name, {"properties": {"authMode": auth}})


def put_deployment(rt, ep, name, model="churn:1", env="native:1", capacity=1):
    return rt.http("PUT", "ws:/onlineEndpoints/%s/deployments/%s" % (ep, name),
                   {"properties": {"model": "azureml:" + model,
                                   "environmentId": "azureml:" + env},
                    "sku": {"capacity": capacity}})


def setup_blue_green(rt):
    assert put_model(rt)[0] == 201
    assert put_env(rt)[0] == 201
    assert put_endpoint(rt)[0] == 201
    assert put_deployment(rt, "ep-one", "blue")[0] == 201
    assert put_deployment(rt, "ep-one", "green")[0] == 201
    rt.wait_deployment("ep-one", "blue")
    rt.wait_deployment("ep-one", "green")


def traffic(rt, live=None, mirror=None, ep="ep-one"):
    props = {}
    if live is not None:
        props["traffic"] = live
    if mirror is not None:
        props["mirrorTraffic"] = mirror
    return rt.http("PATCH", "ws:/onlineEndpoints/" + ep, {"properties": props})


def test_healthz_without_auth(runtime):
    s, _, body = runtime.http("GET", "/healthz", auth=False)
    assert s == 200 and body["status"] == "ok"


def test_admin_key_required(runtime):
    s, _, body = runtime.http("GET", "ws:/onlineEndpoints", auth=False)
    assert s == 401 and body["error"]["code"] == "Unauthorized"
    s, _, body = runtime.http("GET", "ws:/onlineEndpoints", auth=False,
                              headers={"Authorization": "Bearer wrong"})
    assert s == 401


def test_admin_key_file_mode(runtime):
    mode = stat.S_IMODE(os.stat(os.path.join(runtime.home, "admin.key")).st_mode)
    assert mode == 0o600


def test_any_subscription_and_group_accepted_but_not_other_workspace(runtime):
    p = ("/subscriptions/abc/resourceGroups/rg9/providers/"
         "Microsoft.MachineLearningServices/workspaces/local/onlineEndpoints?api-version=2024-04-01")
    s, _, body = runtime.http("GET", p)
    assert s == 200 and body == {"value": []}
    s, _, body = runtime.http("GET", p.replace("/local/", "/other/"))
    assert s == 404 and "other" in body["error"]["message"]


def test_model_register_copies_artifact_with_sha(runtime):
    s, _, body = put_model(runtime)
    assert s == 201
    props = body["properties"]
    assert body["name"] == "1" and props["modelType"] == "linear"
    import hashlib
    want = hashlib.sha256(open(LOGISTIC, "rb").read()).hexdigest()
    assert props["properties"]["sha256"] == want
    assert int(props["properties"]["size"]) == os.path.getsize(LOGISTIC)
    copied = [os.path.join(d, f) for d, _, fs in os.walk(os.path.join(runtime.home, "models"))
              for f in fs]
    assert len(copied) == 1 and open(copied[0], "rb").read() == open(LOGISTIC, "rb").read()
    s, _, body = runtime.http("GET", "ws:/models")
    assert s == 200 and [m["name"] for m in body["value"]] == ["churn"]
    assert body["value"][0]["properties"]["latestVersion"] == "1"


def test_model_upload_raw_and_next_version(runtime):
    data = open(LOGISTIC, "rb").read()
    s, _, body = runtime.http("PUT", "ws:/models/upl/versions/1?modelType=linear", raw=data,
                              headers={"Content-Type": "application/octet-stream",
                                       "x-mldeck-filename": "weights.json"})
    assert s == 201, body
    assert int(body["properties"]["properties"]["size"]) == len(data)
    s, _, body = runtime.http("POST", "ws:/models/upl/versions",
                              {"properties": {"modelType": "linear", "modelUri": "file://" + LOGISTIC}})
    assert s == 201 and body["name"] == "2"


def test_model_errors(runtime):
    s, _, body = put_model(runtime, path="/nonexistent/model.json")
    assert s == 400 and "/nonexistent/model.json" in body["error"]["message"]
    s, _, body = put_model(runtime, mtype="pytorch")
    assert s == 400 and "modelType" in body["error"]["message"]
    s, _, body = put_model(runtime, name="_bad")
    assert s == 400 and "name" in body["error"]["message"]
    s, _, body = put_model(runtime, version="1..0")
    assert s == 400 and "version" in body["error"]["message"]
    s, _, body = runtime.http("GET", "ws:/models/churn/versions/7")
    assert s == 404


@pytest.mark.parametrize("name", ["ab", "a" * 33, "-abc", "abc-", "a--b", "a_b", "a.b", "..",
                                  "%2e%2e", "a%20b"])
def test_bad_names_rejected(runtime, name):
    s, _, body = put_endpoint(runtime, name=name)
    assert s in (400, 404), (name, s, body)
    assert "error" in body


def test_path_traversal_never_escapes_home(runtime, tmp_path):
    s, _, _ = runtime.http("PUT", "ws:/models/..%2F..%2Fetc/versions/1",
                           {"properties": {"modelType": "linear", "modelUri": LOGISTIC}})
    assert s in (400, 404)
    assert not (tmp_path / "etc").exists()


def test_malformed_json_and_wrong_types(runtime):
    s, _, body = runtime.http("PUT", "ws:/onlineEndpoints/ep-one", raw=b"{not json",
                              headers={"Content-Type": "application/json"})
    assert s == 400 and "JSON" in body["error"]["message"]
    s, _, body = runtime.http("PUT", "ws:/onlineEndpoints/ep-one",
                              {"properties": {"authMode": "Password"}})
    assert s == 400 and "authMode" in body["error"]["message"]


def test_json_body_over_4mib_is_413(runtime):
    size = 4 * 1024 * 1024 + 10
    head = ("PUT %s/onlineEndpoints/ep-one HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (runtime.ws, runtime.admin_key, size)).encode()
    answer = raw_exchange(runtime, head, b"x" * 1024)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    # chunked, so the size is only known while reading
    head = ("PUT %s/onlineEndpoints/ep-one HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nTransfer-Encoding: chunked\r\n\r\n"
            % (runtime.ws, runtime.admin_key)).encode()
    chunk = b"100000\r\n" + b"x" * 0x100000 + b"\r\n"
    answer = raw_exchange(runtime, head, b"", [chunk] * 5 + [b"0\r\n\r\n"])
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert runtime.http("GET", "/healthz", auth=False)[0] == 200
    assert runtime.http("GET", "ws:/onlineEndpoints/ep-one")[0] == 404


def test_endpoint_lifecycle_and_keys(runtime):
    s, _, ep = put_endpoint(runtime)
    assert s == 201
    assert ep["properties"]["scoringUri"] == runtime.url + "/endpoints/ep-one/score"
    assert "keys" not in ep["properties"]
    s, _, keys = runtime.http("POST", "ws:/onlineEndpoints/ep-one/listKeys")
    assert s == 200 and keys["primaryKey"] != keys["secondaryKey"]
    s, _, _ = runtime.http("POST", "ws:/onlineEndpoints/ep-one/regenerateKeys",
                           {"keyType": "Primary"})
    assert s == 200
    _, _, keys2 = runtime.http("POST", "ws:/onlineEndpoints/ep-one/listKeys")
    assert keys2["primaryKey"] != keys["primaryKey"]
    assert keys2["secondaryKey"] == keys["secondaryKey"]
    s, _, body = runtime.http("POST", "ws:/onlineEndpoints/ep-one/regenerateKeys",
                              {"keyType": "Tertiary"})
    assert s == 400
    s, _, body = put_endpoint(runtime, auth="Key")
    assert s == 200
    # ARM: a delete is accepted (202 + Location), deleting what is gone is 204
    s, h, body = runtime.http("DELETE", "ws:/onlineEndpoints/ep-one")
    assert s == 202 and "mfeOperationResults/" in h["location"] and body is None
    assert runtime.http("GET", "ws:/onlineEndpoints/ep-one")[0] == 404
    assert runtime.http("DELETE", "ws:/onlineEndpoints/ep-one")[0] == 204


def test_token_for_amltoken_endpoint(runtime):
    put_endpoint(runtime, name="tok-ep", auth="AMLToken")
    s, _, tok = runtime.http("POST", "ws:/onlineEndpoints/tok-ep/token")
    assert s == 200 and tok["tokenType"] == "Bearer" and tok["accessToken"]
    assert tok["expiryTimeUtc"] > tok["refreshAfterTimeUtc"]


def test_deployment_states_and_references(runtime):
    put_model(runtime)
    put_env(runtime)
    put_endpoint(runtime)
    s, _, d = put_deployment(runtime, "ep-one", "blue")
    assert s == 201 and d["properties"]["provisioningState"] in ("Creating", "Succeeded")
    d = runtime.wait_deployment("ep-one", "blue")
    assert d["properties"]["provisioningState"] == "Succeeded"
    assert d["sku"]["capacity"] == 1
    s, _, body = put_deployment(runtime, "ep-one", "red", model="nope:1")
    assert s == 404 and "nope" in body["error"]["message"]
    s, _, body = put_deployment(runtime, "no-ep", "blue")
    assert s == 404
    s, _, body = runtime.http("GET", "ws:/onlineEndpoints/ep-one/deployments")
    assert [x["name"] for x in body["value"]] == ["blue"]


def test_deployment_fails_with_reason_on_bad_model(runtime, tmp_path):
    bad = tmp_path / "bad.json"
    bad.write_text('{"coefficients": "nope"}')
    put_model(runtime, name="broken", path=str(bad))
    put_env(runtime)
    put_endpoint(runtime)
    assert put_deployment(runtime, "ep-one", "blue", model="broken:1")[0] == 201
    d = runtime.wait_deployment("ep-one", "blue")
    assert d["properties"]["provisioningState"] == "Failed"
    assert d["properties"].get("error")
    s, _, logs = runtime.http("POST", "ws:/onlineEndpoints/ep-one/deployments/blue/getLogs",
                              {"tail": 50})
    assert s == 200 and "load failed" in logs["content"]


def test_new_deployment_starts_at_zero(runtime):
    setup_blue_green(runtime)
    _, _, ep = runtime.http("GET", "ws:/onlineEndpoints/ep-one")
    assert all(v == 0 for v in ep["properties"]["traffic"].values())


@pytest.mark.parametrize("live,mirror,status", [
    ({"blue": 90, "green": 10}, None, 200),
    ({"blue": 100}, {"green": 20}, 200),
    ({"blue": 0, "green": 0}, None, 200),
    ({"blue": 90, "green": 20}, None, 400),
    ({"blue": 50}, None, 400),
    ({"blue": -10, "green": 110}, None, 400),
    ({"blue": 50.5, "green": 49.5}, None, 400),
    ({"blue": 100, "purple": 0}, None, 400),
    ({"blue": 100}, {"green": 60}, 400),
    ({"blue": 100}, {"blue": 10}, 400),
    ({"blue": 90, "green": 10}, {"green": 10}, 400),
])
def test_traffic_rules(runtime, live, mirror, status):
    setup_blue_green(runtime)
    s, _, body = traffic(runtime, live, mirror)
    assert s in ((status,) if status == 200 else (400, 404, 409)), body
    if status != 200:
        assert body["error"]["message"]
        _, _, ep = runtime.http("GET", "ws:/onlineEndpoints/ep-one")
        assert all(v == 0 for v in ep["properties"]["traffic"].values())


def test_delete_rules(runtime):
    setup_blue_green(runtime)
    traffic(runtime, {"blue": 100}, {"green": 10})
    s, _, body = runtime.http("DELETE", "ws:/onlineEndpoints/ep-one/deployments/blue")
    assert s == 409 and "traffic" in body["error"]["message"]
    s, _, body = runtime.http("DELETE", "ws:/onlineEndpoints/ep-one/deployments/green")
    assert s == 409 and "mirror" in body["error"]["message"].lower()
    s, _, body = runtime.http("DELETE", "ws:/models/churn/versions/1")
    assert s == 409 and "blue" in body["error"]["message"]
    s, _, body = runtime.http("DELETE", "ws:/environments/native/versions/1")
    assert s == 409
    traffic(runtime, {"blue": 100}, {"green": 0})
    s, _, _ = runtime.http("DELETE", "ws:/onlineEndpoints/ep-one/deployments/green")
    assert s == 202
    assert runtime.http("DELETE", "ws:/onlineEndpoints/ep-one/deployments/green")[0] == 204
    s, _, _ = runtime.http("DELETE", "ws:/onlineEndpoints/ep-one")
    assert s == 202
    assert runtime.http("GET", "ws:/onlineEndpoints/ep-one/deployments/blue")[0] == 404
    s, _, _ = runtime.http("DELETE", "ws:/models/churn/versions/1")
    assert s == 200
    assert runtime.http("DELETE", "ws:/models/churn/versions/1")[0] == 204


def test_scale_with_patch(runtime):
    setup_blue_green(runtime)
    s, _, d = runtime.http("PATCH", "ws:/onlineEndpoints/ep-one/deployments/blue",
                           {"sku": {"capacity": 3}})
    assert s == 200 and d["properties"]["provisioningState"] in ("Scaling", "Succeeded")
    d = runtime.wait_deployment("ep-one", "blue")
    assert d["sku"]["capacity"] == 3 and d["properties"]["provisioningState"] == "Succeeded"


def test_second_runtime_on_same_home_refuses(runtime, make_runtime):
    other = make_runtime(home=runtime.home)
    with pytest.raises(RuntimeError) as e:
        other.start()
    assert "lock" in str(e.value) or "another" in str(e.value)
    assert other.proc.returncode == 1


def test_non_loopback_listen_refused(make_runtime):
    rt = make_runtime()
    with pytest.raises(RuntimeError) as e:
        rt.start(listen="0.0.0.0:0")
    assert "--tls" in str(e.value)


def test_restart_keeps_everything(make_runtime):
    rt = make_runtime().start()
    setup_blue_green(rt)
    traffic(rt, {"blue": 70, "green": 30})
    _, _, keys = rt.http("POST", "ws:/onlineEndpoints/ep-one/listKeys")
    assert rt.stop() == 0
    rt2 = make_runtime(home=rt.home).start()
    _, _, ep = rt2.http("GET", "ws:/onlineEndpoints/ep-one")
    assert ep["properties"]["traffic"] == {"blue": 70, "green": 30}
    assert rt2.http("POST", "ws:/onlineEndpoints/ep-one/listKeys")[2] == keys
    d = rt2.wait_deployment("ep-one", "blue")
    assert d["properties"]["provisioningState"] == "Succeeded"


def test_request_log_has_no_keys(runtime):
    setup_blue_green(runtime)
    _, _, keys = runtime.http("POST", "ws:/onlineEndpoints/ep-one/listKeys")
    runtime.http("POST", "/endpoints/ep-one/score", {"data": [[0] * 30]}, auth=False,
                 headers={"Authorization": "Bearer " + keys["primaryKey"]})
    log = runtime.wait_log("/endpoints/ep-one/score ")
    assert "listKeys 200" in log
    assert keys["primaryKey"] not in log and runtime.admin_key not in log


def test_azure_example_bodies_accepted(runtime):
    """Azure's own example bodies, with their placeholders, get clear answers, never a crash."""
    base = repo_path("tests", "data", "azure")
    ep_ex = json.load(open(os.path.join(base, "Workspace", "OnlineEndpoint", "createOrUpdate.json")))
    s, _, body = runtime.http("PUT", "ws:/onlineEndpoints/azure-ep", ep_ex["parameters"]["body"])
    # its traffic names a deployment "string" that does not exist: refused, with the reason
    assert s in (400, 404) and "string" in body["error"]["message"]
    dep_ex = json.load(open(os.path.join(base, "OnlineDeployment", "ManagedOnlineDeployment",
                                         "createOrUpdate.json")))
    put_endpoint(runtime, name="azure-ep")
    s, _, body = runtime.http("PUT", "ws:/onlineEndpoints/azure-ep/deployments/blue",
                              dep_ex["parameters"]["body"])
    assert s in (400, 404) and body["error"]["message"]
