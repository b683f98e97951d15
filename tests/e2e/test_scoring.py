"""The data plane over real HTTP: engines against Python's answers, the split,
mirror, credentials, every status code, workers that fail, restart."""

import concurrent.futures
import http.client
import json
import math
import os
import re
import threading
import time

import pytest

from conftest import PY, raw_exchange, repo_path

DATA = repo_path("tests", "data")
SCORE = os.path.join(DATA, "score")


def register(rt, name, path, mtype, version="1"):
    s, _, b = rt.http("PUT", "ws:/models/%s/versions/%s" % (name, version),
                      {"properties": {"modelType": mtype, "modelUri": path}})
    assert s in (200, 201), b


def env_native(rt):
    s, _, b = rt.http("PUT", "ws:/environments/native/versions/1",
                      {"properties": {"environmentKind": "native"}})
    assert s in (200, 201), b


def env_python(rt, modules=()):
    s, _, b = rt.http("PUT", "ws:/environments/pyenv/versions/1",
                      {"properties": {"environmentKind": "python", "interpreterPath": PY,
                                      "requiredModules": list(modules)}})
    assert s in (200, 201), b


def endpoint(rt, name, auth="Key"):
    s, _, b = rt.http("PUT", "ws:/onlineEndpoints/" + name, {"properties": {"authMode": auth}})
    assert s in (200, 201), b


def deploy(rt, ep, name, model, env="native:1", capacity=1, concurrent=1, timeout_ms=5000,
           script=None, wait=True, variables=None):
    props = {"model": "azureml:" + model, "environmentId": "azureml:" + env,
             "requestSettings": {"maxConcurrentRequestsPerInstance": concurrent,
                                 "requestTimeout": "PT%gS" % (timeout_ms / 1000.0)}}
    if script:
        props["codeConfiguration"] = {"codeId": SCORE, "scoringScript": script}
    if variables:
        props["environmentVariables"] = variables
    s, _, b = rt.http("PUT", "ws:/onlineEndpoints/%s/deployments/%s" % (ep, name),
                      {"properties": props, "sku": {"capacity": capacity}})
    assert s in (200, 201), b
    if wait:
        d = rt.wait_deployment(ep, name)
        assert d["properties"]["provisioningState"] == "Succeeded", d
        return d


def set_traffic(rt, ep, live, mirror=None):
    props = {"traffic": live}
    if mirror is not None:
        props["mirrorTraffic"] = mirror
    s, _, b = rt.http("PATCH", "ws:/onlineEndpoints/" + ep, {"properties": props})
    assert s == 200, b


def key_of(rt, ep):
    return rt.http("POST", "ws:/onlineEndpoints/%s/listKeys" % ep)[2]["primaryKey"]


def score(rt, ep, body, key, deployment=None, raw=None, headers=None, timeout=30):
    h = {"Authorization": "Bearer " + key} if key else {}
    if deployment:
        h["azureml-model-deployment"] = deployment
    h.update(headers or {})
    return rt.http("POST", "/endpoints/%s/score" % ep, body, raw=raw, auth=False, headers=h,
                   timeout=timeout)


def close(a, b, tol=1e-5):
    if isinstance(a, list):
        return len(a) == len(b) and all(close(x, y, tol) for x, y in zip(a, b))
    return math.isclose(a, b, rel_tol=tol, abs_tol=tol)


@pytest.fixture
def native(runtime):
    env_native(runtime)
    register(runtime, "logistic", os.path.join(DATA, "logistic.json"), "linear")
    register(runtime, "xgb", os.path.join(DATA, "xgb_binary.json"), "xgboost")
    endpoint(runtime, "churn")
    deploy(runtime, "churn", "blue", "logistic:1", concurrent=4)
    deploy(runtime, "churn", "green", "xgb:1", concurrent=4)
    set_traffic(runtime, "churn", {"blue": 100, "green": 0})
    runtime.key = key_of(runtime, "churn")
    return runtime


@pytest.mark.parametrize("model,mtype", [
    ("logistic", "linear"), ("softmax", "linear"), ("mlp_digits", "mlp"),
    ("xgb_binary", "xgboost"), ("xgb_multi", "xgboost"), ("xgb_regression", "xgboost")])
def test_engines_match_python(runtime, model, mtype):
    env_native(runtime)
    ext = ".json"
    register(runtime, "m-" + model.replace("_", "-"), os.path.join(DATA, model + ext), mtype)
    endpoint(runtime, "eng")
    deploy(runtime, "eng", "blue", "m-%s:1" % model.replace("_", "-"))
    set_traffic(runtime, "eng", {"blue": 100})
    rows = json.load(open(os.path.join(DATA, model + ".input.json")))
    want = json.load(open(os.path.join(DATA, model + ".expected.json")))
    rows = rows["data"] if isinstance(rows, dict) else rows
    want = want["predictions"] if isinstance(want, dict) else want
    s, h, got = score(runtime, "eng", {"data": rows}, key_of(runtime, "eng"))
    assert s == 200, got
    assert h["azureml-model-deployment"] == "blue"
    assert close(got, want), (got[:3], want[:3])


def test_request_id_echoed_or_generated(native):
    s, h, _ = score(native, "churn", {"data": [[0.0] * 30]}, native.key,
                    headers={"x-request-id": "abc-123"})
    assert s == 200 and h["x-request-id"] == "abc-123"
    s, h, _ = score(native, "churn", {"data": [[0.0] * 30]}, native.key)
    first = h["x-request-id"]
    s, h, _ = score(native, "churn", {"data": [[0.0] * 30]}, native.key)
    second = h["x-request-id"]
    # generated: the runtime's 8 hex digits, a dash, its request counter in 8 or more
    assert re.match(r"^[0-9a-f]{8}-[0-9a-f]{8,}$", first) and first != "abc-123", first
    assert second[:9] == first[:9] and int(second[9:], 16) > int(int(first[9:], 16))
    # the access log: time, peer, method, path, status, milliseconds, ids
    for rid in ("abc-123", first, second):
        log = native.wait_log("rid=" + rid)
        line = next(l for l in log.splitlines() if l.endswith("rid=%s deployment=blue" % rid))
        assert re.match(r"^\d{4}-\d\d-\d\dT\d\d:\d\d:\d\dZ 127\.0\.0\.1 POST "
                        r"/endpoints/churn/score 200 \d+\.\d\dms rid=", line), line


def test_bad_input_is_400_with_reason(native):
    s, h, b = score(native, "churn", None, native.key, raw=b"not json")
    assert s == 400 and b["error"]["message"] and h["azureml-model-deployment"] == "blue"
    s, _, b = score(native, "churn", {"data": [[1.0] * 29]}, native.key)
    assert s == 400 and "29" in b["error"]["message"] and "30" in b["error"]["message"]
    s, _, b = score(native, "churn", {"data": [["a"] * 30]}, native.key)
    assert s == 400 and "number" in b["error"]["message"]
    s, _, b = score(native, "churn", {"rows": []}, native.key)
    assert s == 400


def test_bodies_on_one_connection_answer_each_its_own(native):
    """Body buffers are reused between requests (server.c keeps spares): on one
    kept-alive connection, bodies growing, shrinking, chunked and empty each get
    the answer of their own rows, never of bytes an earlier body left behind."""
    rows = [[(r * 31 + c) % 17 / 4.0 - 2.0 for c in range(30)] for r in range(400)]
    want = score(native, "churn", {"data": rows}, native.key)[2]
    host, port = native.url.split("//")[1].split(":")
    conn = http.client.HTTPConnection(host, int(port), timeout=30)
    hdrs = {"Authorization": "Bearer " + native.key, "Content-Type": "application/json"}
    try:
        for n, chunked in ((400, False), (1, False), (200, True), (3, False), (400, True),
                           (399, False), (0, False)):
            body = json.dumps({"data": rows[:n]}).encode()
            if chunked:
                conn.request("POST", "/endpoints/churn/score", iter([body[:5000], body[5000:]]),
                             headers=hdrs, encode_chunked=True)
            else:
                conn.request("POST", "/endpoints/churn/score", body, headers=hdrs)
            r = conn.getresponse()
            got = json.loads(r.read())
            if n == 0:
                assert r.status == 400 and "no rows" in got["error"]["message"], got
            else:
                assert r.status == 200 and got == want[:n], (n, chunked, r.status)
    finally:
        conn.close()


def test_auth_401(native):
    assert score(native, "churn", {"data": [[0.0] * 30]}, None)[0] == 401
    assert score(native, "churn", {"data": [[0.0] * 30]}, "wrong-key")[0] == 401
    assert score(native, "churn", {"data": [[0.0] * 30]}, native.admin_key)[0] == 401


def test_key_regeneration_revokes_old_key_at_once(native):
    old = native.key
    secondary = native.http("POST", "ws:/onlineEndpoints/churn/listKeys")[2]["secondaryKey"]
    assert score(native, "churn", {"data": [[0.0] * 30]}, secondary)[0] == 200
    s, _, _ = native.http("POST", "ws:/onlineEndpoints/churn/regenerateKeys", {"keyType": "Primary"})
    assert s == 200
    assert score(native, "churn", {"data": [[0.0] * 30]}, old)[0] == 401
    assert score(native, "churn", {"data": [[0.0] * 30]}, key_of(native, "churn"))[0] == 200
    assert score(native, "churn", {"data": [[0.0] * 30]}, secondary)[0] == 200


def test_404_unknown_endpoint_and_no_traffic(native):
    assert score(native, "nope-ep", {"data": [[0.0] * 30]}, native.key)[0] == 404
    s, _, b = score(native, "churn", {"data": [[0.0] * 30]}, native.key, deployment="purple")
    assert s == 404
    set_traffic(native, "churn", {"blue": 0, "green": 0})
    s, _, b = score(native, "churn", {"data": [[0.0] * 30]}, native.key)
    assert s == 404 and "traffic" in b["error"]["message"]
    # a named deployment is reachable without traffic
    s, h, _ = score(native, "churn", {"data": [[0.0] * 30]}, native.key, deployment="green")
    assert s == 200 and h["azureml-model-deployment"] == "green"


def test_413_body_over_limit(native):
    size = 4 * 1024 * 1024 + 1
    head = ("POST /endpoints/churn/score HTTP/1.1\r\nHost: x\r\nAuthorization: Bearer %s\r\n"
            "Content-Type: application/json\r\nContent-Length: %d\r\n\r\n"
            % (native.key, size)).encode()
    answer = raw_exchange(native, head, b"{" * 4096)
    assert answer.startswith(b"HTTP/1.1 413"), answer[:200]
    assert b"x-request-id" in answer.lower()
    # just under the limit is read and answered on its merits (400: not a valid body)
    body = b'{"data": [[' + b"0," * (2 * 1024 * 1024 - 20) + b'0]]}'
    assert len(body) < 4 * 1024 * 1024
    s, _, b = score(native, "churn", None, native.key, raw=body)
    assert s == 400, b
    assert native.http("GET", "/healthz", auth=False)[0] == 200


def test_liveness(native):
    assert native.http("GET", "/endpoints/churn/", auth=False)[0] == 200
    set_traffic(native, "churn", {"blue": 0, "green": 0})
    assert native.http("GET", "/endpoints/churn/", auth=False)[0] == 503


def test_split_follows_weights(native):
    set_traffic(native, "churn", {"blue": 80, "green": 20})
    n, counts = 1000, {"blue": 0, "green": 0}
    for _ in range(n):
        s, h, _ = score(native, "churn", {"data": [[0.0] * 30]}, native.key)
        assert s == 200
        counts[h["azureml-model-deployment"]] += 1
    # binomial(1000, 0.2): sd = 12.6; 5 sigma
    assert abs(counts["green"] - 200) < 64, counts


def test_mirror_copies_share_and_discards_answer(native):
    set_traffic(native, "churn", {"blue": 100, "green": 0}, {"green": 50})
    n = 400
    for _ in range(n):
        s, h, _ = score(native, "churn", {"data": [[0.0] * 30]}, native.key)
        assert s == 200 and h["azureml-model-deployment"] == "blue"
    deadline = time.monotonic() + 10
    while time.monotonic() < deadline:
        _, _, m = native.http("GET", "/v1/metrics?window=60")
        deps = {d["name"]: d for e in m["endpoints"] for d in e["deployments"]}
        if deps.get("blue", {}).get("requests", 0) >= n and \
                deps.get("green", {}).get("requests", 0) >= 140:
            break
        time.sleep(0.1)
    assert deps["blue"]["requests"] == n
    # binomial(400, 0.5): sd = 10; 5 sigma
    assert abs(deps["green"]["requests"] - 200) < 50, deps["green"]["requests"]


def test_prometheus_metrics(native):
    for _ in range(5):
        score(native, "churn", {"data": [[0.0] * 30]}, native.key)
    score(native, "churn", {"data": [[0.0] * 29]}, native.key)
    s, h, text = native.http("GET", "/metrics")
    assert s == 200 and h["content-type"].startswith("text/plain")
    assert 'mldeck_requests_total{endpoint="churn",deployment="blue",code="200"} 5' in text
    assert 'mldeck_requests_total{endpoint="churn",deployment="blue",code="400"} 1' in text
    assert 'mldeck_request_duration_seconds_count{endpoint="churn",deployment="blue"} 6' in text
    assert 'le="+Inf"' in text
    s, _, m = native.http("GET", "/v1/metrics?window=30")
    ep = [e for e in m["endpoints"] if e["name"] == "churn"][0]
    assert ep["requests"] == 6 and ep["p99"] > 0 and len(ep["series"]["p99"]) == 30
    assert native.http("GET", "/metrics", auth=False)[0] == 401


def test_metrics_for_a_list_of_endpoints(native):
    """?endpoints=a,b: only those (a console asks for the rows it shows)."""
    endpoint(native, "other")
    deploy(native, "other", "blue", "logistic:1")
    score(native, "churn", {"data": [[0.0] * 30]}, native.key)

    def names(query):
        s, _, m = native.http("GET", "/v1/metrics?window=60" + query)
        assert s == 200, m
        return [e["name"] for e in m["endpoints"]]

    assert names("") == ["churn", "other"]
    assert names("&endpoints=other,nope") == ["other"]
    assert names("&endpoints=churn&summary=1") == ["churn"]
    assert names("&endpoints=") == []
    s, _, m = native.http("GET", "/v1/metrics?endpoints=churn&summary=1&detail=churn")
    assert [d["name"] for d in m["endpoints"][0]["deployments"]] == ["blue", "green"]
    for bad in ("endpoints=churn,../x", "endpoints=churn,,other", "endpoint=churn&endpoints=churn",
                "endpoints=" + ",".join("ep-%d" % i for i in range(1001))):
        s, _, m = native.http("GET", "/v1/metrics?" + bad)
        assert s == 400 and m["error"]["code"] == "ValidationError", (bad[:40], s, m)


def test_traffic_moves_under_load_without_failures(native):
    stop = threading.Event()
    failures, done = [], [0]

    def load():
        while not stop.is_set():
            s, _, b = score(native, "churn", {"data": [[0.0] * 30]}, native.key)
            if s != 200:
                failures.append((s, b))
            done[0] += 1

    threads = [threading.Thread(target=load) for _ in range(4)]
    for t in threads:
        t.start()
    for step in range(11):
        set_traffic(native, "churn", {"blue": 100 - 10 * step, "green": 10 * step})
        time.sleep(0.05)
    stop.set()
    for t in threads:
        t.join(30)
    assert not failures, failures[:3]
    assert done[0] > 50


def test_capacity_429_and_queue(runtime):
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "slow")
    deploy(runtime, "slow", "blue", "dummy:1", env="pyenv:1", script="hang.py", capacity=1,
           concurrent=1, timeout_ms=10000)
    set_traffic(runtime, "slow", {"blue": 100})
    key = key_of(runtime, "slow")
    # 1 running + 2 waiting fit; the rest are refused at once with 429
    with concurrent.futures.ThreadPoolExecutor(8) as ex:
        futs = [ex.submit(score, runtime, "slow", {"sleep": 0.5}, key) for _ in range(8)]
        codes = sorted(f.result()[0] for f in futs)
    assert codes.count(200) == 3 and codes.count(429) == 5, codes


def test_timeout_408_and_worker_replaced(runtime):
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "hang")
    deploy(runtime, "hang", "blue", "dummy:1", env="pyenv:1", script="hang.py", timeout_ms=500)
    set_traffic(runtime, "hang", {"blue": 100})
    key = key_of(runtime, "hang")
    t0 = time.monotonic()
    s, h, b = score(runtime, "hang", {"sleep": 30}, key)
    assert s == 408 and time.monotonic() - t0 < 10, b
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s, _, b = score(runtime, "hang", {"sleep": 0}, key)
        if s == 200:
            break
        time.sleep(0.1)
    assert s == 200 and b == "awake"
    d = runtime.wait_deployment("hang", "blue")
    assert d["properties"]["provisioningState"] == "Succeeded"


def test_424_script_failures_and_crash(runtime):
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "bad")
    deploy(runtime, "bad", "raise", "dummy:1", env="pyenv:1", script="raise_run.py")
    deploy(runtime, "bad", "crash", "dummy:1", env="pyenv:1", script="crash.py")
    deploy(runtime, "bad", "notjson", "dummy:1", env="pyenv:1", script="not_json.py")
    key = key_of(runtime, "bad")
    for dep, body in (("raise", {"fail": True}), ("crash", {"exit": 3}), ("crash", {"segv": True}),
                      ("notjson", {"bad": "set"})):
        s, h, b = score(runtime, "bad", body, key, deployment=dep)
        assert s == 424, (dep, s, b)
        assert h["azureml-model-deployment"] == dep and b["error"]["message"]
    # the crashed worker is replaced and serves again
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        s, _, b = score(runtime, "bad", {}, key, deployment="crash")
        if s == 200:
            break
        time.sleep(0.2)
    assert s == 200 and "pid" in b
    # the crashed worker is replaced; the deployment stays up
    assert runtime.wait_deployment("bad", "crash")["properties"]["provisioningState"] == "Succeeded"
    logs = runtime.http("POST", "ws:/onlineEndpoints/bad/deployments/crash/getLogs", {"tail": 200})[2]
    assert logs["content"]


def test_custom_model_init_failure_fails_deployment(runtime):
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "initf")
    deploy(runtime, "initf", "blue", "dummy:1", env="pyenv:1", script="raise_init.py", wait=False)
    d = runtime.wait_deployment("initf", "blue")
    assert d["properties"]["provisioningState"] == "Failed"
    assert d["properties"]["error"]
    s, _, b = score(runtime, "initf", {"data": [[1]]}, key_of(runtime, "initf"), deployment="blue")
    assert s == 503


def test_custom_model_missing_module_fails(runtime):
    s, _, b = runtime.http("PUT", "ws:/environments/pymiss/versions/1",
                           {"properties": {"environmentKind": "python", "interpreterPath": PY,
                                           "requiredModules": ["no_such_module_xyz"]}})
    assert s == 201, b
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "miss")
    deploy(runtime, "miss", "blue", "dummy:1", env="pymiss:1", script="echo.py", wait=False)
    d = runtime.wait_deployment("miss", "blue")
    assert d["properties"]["provisioningState"] == "Failed"
    assert "no_such_module_xyz" in d["properties"]["error"]


def test_custom_model_sklearn_matches_native(runtime):
    env_python(runtime, modules=["sklearn", "numpy"])
    env_native(runtime)
    register(runtime, "logistic", os.path.join(DATA, "logistic.json"), "custom_model")
    register(runtime, "lognative", os.path.join(DATA, "logistic.json"), "linear")
    endpoint(runtime, "both")
    deploy(runtime, "both", "python", "logistic:1", env="pyenv:1", script="sklearn_logistic.py")
    deploy(runtime, "both", "native", "lognative:1")
    rows = json.load(open(os.path.join(DATA, "logistic.input.json")))
    rows = rows["data"] if isinstance(rows, dict) else rows
    key = key_of(runtime, "both")
    s1, _, a = score(runtime, "both", {"data": rows}, key, deployment="python")
    s2, _, b = score(runtime, "both", {"data": rows}, key, deployment="native")
    assert s1 == 200 and s2 == 200 and close(a, b, 1e-6)


def test_custom_model_gets_headers_and_logs(runtime):
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "hdr")
    deploy(runtime, "hdr", "blue", "dummy:1", env="pyenv:1", script="headers.py")
    deploy(runtime, "hdr", "loud", "dummy:1", env="pyenv:1", script="prints.py")
    key = key_of(runtime, "hdr")
    s, _, b = score(runtime, "hdr", {"data": [[1]]}, key, deployment="blue",
                    headers={"x-custom": "hello"})
    assert s == 200 and "hello" in json.dumps(b)
    score(runtime, "hdr", {"data": [[1]]}, key, deployment="loud")
    deadline = time.monotonic() + 5
    while time.monotonic() < deadline:
        logs = runtime.http("POST", "ws:/onlineEndpoints/hdr/deployments/loud/getLogs",
                            {"tail": 100})[2]["content"]
        if "stdout" in logs:
            break
        time.sleep(0.1)
    assert "stdout" in logs


def test_amltoken_auth_and_expiry(make_runtime):
    rt = make_runtime(extra_args=["--token-ttl", "2"]).start()
    env_native(rt)
    register(rt, "logistic", os.path.join(DATA, "logistic.json"), "linear")
    endpoint(rt, "tok", auth="AMLToken")
    deploy(rt, "tok", "blue", "logistic:1")
    set_traffic(rt, "tok", {"blue": 100})
    tok = rt.http("POST", "ws:/onlineEndpoints/tok/token")[2]["accessToken"]
    assert score(rt, "tok", {"data": [[0.0] * 30]}, tok)[0] == 200
    endpoint(rt, "other", auth="AMLToken")
    assert score(rt, "other", {"data": [[0.0] * 30]}, tok)[0] == 401
    time.sleep(3.1)
    s, _, b = score(rt, "tok", {"data": [[0.0] * 30]}, tok)
    assert s == 401 and "expired" in b["error"]["message"]


def test_restart_brings_deployments_back(make_runtime):
    rt = make_runtime().start()
    env_native(rt)
    register(rt, "logistic", os.path.join(DATA, "logistic.json"), "linear")
    endpoint(rt, "back")
    deploy(rt, "back", "blue", "logistic:1")
    set_traffic(rt, "back", {"blue": 100})
    key = key_of(rt, "back")
    _, _, before = score(rt, "back", {"data": [[0.5] * 30]}, key)
    rt.stop()
    rt2 = make_runtime(home=rt.home).start()
    rt2.wait_deployment("back", "blue")
    s, _, after = score(rt2, "back", {"data": [[0.5] * 30]}, key)
    assert s == 200 and after == before


@pytest.mark.parametrize("code,script,reason", [
    ("/nonexistent/dir", "score.py", "not found in /nonexistent/dir"),
    (SCORE, "nope.py", "nope.py not found"),
])
def test_custom_model_missing_code_fails_with_reason(runtime, code, script, reason):
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "code")
    s, _, b = runtime.http("PUT", "ws:/onlineEndpoints/code/deployments/blue",
                           {"properties": {"model": "dummy:1", "environmentId": "pyenv:1",
                                           "codeConfiguration": {"codeId": code,
                                                                 "scoringScript": script}}})
    assert s == 201, b
    d = runtime.wait_deployment("code", "blue")
    assert d["properties"]["provisioningState"] == "Failed"
    assert reason in d["properties"]["error"]


@pytest.mark.parametrize("workers", [1, 2])
def test_worker_count_separate_from_concurrency(runtime, workers):
    """Azure's model: maxConcurrentRequestsPerInstance requests are admitted,
    WORKER_COUNT Python processes serve them; the rest wait for a worker
    instead of being refused."""
    env_python(runtime)
    register(runtime, "dummy", os.path.join(DATA, "logistic.json"), "custom_model")
    endpoint(runtime, "wcount")
    deploy(runtime, "wcount", "blue", "dummy:1", env="pyenv:1", script="echo.py", concurrent=6,
           timeout_ms=20000, variables={"WORKER_COUNT": str(workers)})
    set_traffic(runtime, "wcount", {"blue": 100})
    key = key_of(runtime, "wcount")
    with concurrent.futures.ThreadPoolExecutor(6) as ex:
        futs = [ex.submit(score, runtime, "wcount", {"sleep": 0.3, "data": [[1]]}, key)
                for _ in range(6)]
        answers = [f.result() for f in futs]
    assert [a[0] for a in answers] == [200] * 6, answers
    assert len({a[2]["pid"] for a in answers}) == workers


def test_xgboost_native_by_default(runtime):
    """The fraud model's deployment runs the native evaluator (its log says so); with
    MLDECK_XGBOOST=libxgboost it runs libxgboost, and both answer the same numbers, to the
    last bit, for rows with missing values."""
    env_native(runtime)
    register(runtime, "fraud", os.path.join(DATA, "xgb_binary.json"), "xgboost")
    register(runtime, "fraud-ubj", os.path.join(DATA, "xgb_binary.ubj"), "xgboost")
    endpoint(runtime, "fraud")
    deploy(runtime, "fraud", "native", "fraud:1")
    deploy(runtime, "fraud", "ubj", "fraud-ubj:1")
    deploy(runtime, "fraud", "lib", "fraud:1", variables={"MLDECK_XGBOOST": "libxgboost"})
    set_traffic(runtime, "fraud", {"native": 100, "ubj": 0, "lib": 0})
    key = key_of(runtime, "fraud")

    def log(d):
        return runtime.http("POST", "ws:/onlineEndpoints/fraud/deployments/%s/getLogs" % d,
                            {"tail": 50})[2]["content"]

    assert "[xgboost] native evaluator: 100 trees (deepest 6), 30 features" in log("native")
    assert "[xgboost] native evaluator" in log("ubj")
    assert "[xgboost] libxgboost 1.7" in log("lib")
    rows = json.load(open(os.path.join(DATA, "xgb_binary.input.json")))["data"]
    rows = [[None if (i + j) % 7 == 0 else v for j, v in enumerate(r)]
            for i, r in enumerate(rows)]
    body = json.dumps({"data": rows}).encode()
    answers = {}
    for d in ("native", "ubj", "lib"):
        s, _, got = score(runtime, "fraud", None, key, deployment=d, raw=body)
        assert s == 200, got
        answers[d] = got
    assert answers["native"] == answers["lib"] == answers["ubj"]  # exact float equality
    assert len(answers["native"]) == len(rows)
