"""The `azureml` backend against a fake of the real service (tests/azurefake):
every CLI verb, the blue/green workflow as on the local runtime, long-running
operations, paging, throttling and resets, uploads, the data plane on its own
host, and each way of signing in."""

import json
import os
import select
import socket
import socketserver
import stat
import threading

import pytest

from azure_env import azure, azure_certs  # noqa: F401 (fixtures)

CONDA = "name: churn\ndependencies:\n  - python=3.10\n  - pip:\n    - scikit-learn\n"


def files(tmp_path):
    """A model file, a model folder, a code folder, a conda file, a request."""
    m = tmp_path / "churn.pkl"
    m.write_bytes(b"model-bytes " * 500)
    folder = tmp_path / "mlflow-model"
    (folder / "data").mkdir(parents=True)
    (folder / "MLmodel").write_text("flavors: {}\n")
    (folder / "data" / "model.pkl").write_bytes(b"w" * 3000)
    code = tmp_path / "src"
    code.mkdir()
    (code / "score.py").write_text("def init():\n    pass\n\ndef run(data):\n    return data\n")
    conda = tmp_path / "conda.yml"
    conda.write_text(CONDA)
    req = tmp_path / "req.json"
    req.write_text('{"data": [[1, 2, 3], [4, 5, 6]]}')
    return m, folder, code, conda, req


def setup_blue(az, tmp_path, auth="key"):
    m, folder, code, conda, req = files(tmp_path)
    az.cli("model", "register", "churn", "--path", m, "--type", "custom_model")
    az.cli("env", "create", "sklearn", "--image", "mcr.microsoft.com/azureml/sklearn:1",
           "--conda-file", conda)
    az.cli("endpoint", "create", "churn-ep", "--auth", auth)
    az.cli("deployment", "create", "churn-ep", "blue", "--model", "churn:1", "--env",
           "sklearn:1", "--code", code, "--scoring-script", "score.py", "--all-traffic")
    return req


@pytest.mark.parametrize("throttled", [False, True], ids=["calm", "throttled"])
def test_blue_green_workflow(azure, tmp_path, throttled):
    az, fake = azure, azure.fake
    if throttled:  # every 4th ARM or Blob request is 429, every 9th 503: all retried
        fake.faults.throttle_every, fake.faults.unavailable_every = 4, 9
        fake.faults.retry_after = 0
    m, folder, code, conda, req = files(tmp_path)
    # models: a file, the same file again (the upload is reused), a folder
    r = az.cli("model", "register", "churn", "--path", m, "--type", "custom_model")
    assert "Uploaded LocalUpload/" in r.stderr
    v1 = json.loads(r.stdout)
    assert v1["name"] == "1"
    assert v1["properties"]["modelUri"].startswith(
        "azureml://subscriptions/%s/resourceGroups/%s/workspaces/%s/datastores/"
        "workspaceblobstore/paths/LocalUpload/" % (fake.sub, fake.rg, fake.ws))
    puts = len(fake.blob.puts)
    r = az.cli("model", "register", "churn", "--path", m, "--type", "custom_model")
    assert "Reusing the identical upload" in r.stderr
    assert len(fake.blob.puts) == puts  # nothing sent again
    v2 = json.loads(r.stdout)
    assert v2["name"] == "2" and v2["properties"]["modelUri"] == v1["properties"]["modelUri"]
    r = az.js("model", "register", "churn-mlflow", "--path", folder, "--type", "mlflow_model")
    assert r["properties"]["modelUri"].endswith("/mlflow-model")
    assert fake.blob.exists(r["properties"]["modelUri"].split("/paths/")[1] + "/data/model.pkl")
    # types Azure does not serve are refused before anything is sent
    r = az.cli("model", "register", "x", "--path", m, "--type", "xgboost", check=False)
    assert r.returncode == 2 and "custom_model" in r.stderr
    # environment: an image and a conda file; the local kinds are refused
    env = az.js("env", "create", "sklearn", "--image", "mcr.microsoft.com/azureml/sklearn:1",
                "--conda-file", conda)
    assert env["properties"]["image"] == "mcr.microsoft.com/azureml/sklearn:1"
    assert env["properties"]["condaFile"] == CONDA
    assert az.cli("env", "create", "n", "--native", check=False).returncode == 2
    # endpoint in the workspace's region (GET {workspace} first)
    ep = az.js("endpoint", "create", "churn-ep")
    assert ep["location"] == "westus2" and ep["properties"]["provisioningState"] == "Succeeded"
    assert ep["properties"]["scoringUri"] == "https://churn-ep.westus2.inference.ml.azure.com/score"
    assert fake.arm_calls("GET", "/workspaces/" + fake.ws)
    # blue with code uploaded as a code asset, all traffic
    r = az.cli("deployment", "create", "churn-ep", "blue", "--model", "churn:1", "--env",
               "sklearn:1", "--code", code, "--scoring-script", "score.py", "--all-traffic")
    assert "Uploaded code LocalUpload/" in r.stderr
    assert "deployment blue: Succeeded" in r.stderr and "traffic of churn-ep: Succeeded" in r.stderr
    blue = fake.arm.deployments[("churn-ep", "blue")]["properties"]
    assert "/codes/" in blue["codeConfiguration"]["codeId"]
    assert blue["model"].endswith("/models/churn/versions/1")
    assert fake.arm.endpoints["churn-ep"]["properties"]["traffic"] == {"blue": 100}
    # scoring on the scoring host with the endpoint's key
    r = az.cli("invoke", "churn-ep", "--request-file", req)
    assert json.loads(r.stdout) == [6, 15]
    # green at 0 %, then 90/10 and a mirror, each a full PUT of the endpoint
    az.cli("deployment", "create", "churn-ep", "green", "--model", "churn:2", "--env",
           "sklearn:1", "--code", code, "--scoring-script", "score.py")
    assert fake.arm.endpoints["churn-ep"]["properties"]["traffic"] == {"blue": 100}
    t = az.js("traffic", "churn-ep", "blue=90", "green=10")
    assert t["properties"]["traffic"] == {"blue": 90, "green": 10}
    assert not fake.arm_calls("PATCH")
    r = az.cli("invoke", "churn-ep", "--request-file", req, "--deployment", "green")
    assert json.loads(r.stdout) == [6, 15]
    fake.config["page_size"] = 1
    deps = az.js("deployment", "list", "churn-ep")
    assert sorted(d["name"] for d in deps) == ["blue", "green"]
    assert any("skipToken" in c[4] for c in fake.arm_calls("GET", "/deployments"))
    assert "deployment green is ready" in az.cli("deployment", "logs", "churn-ep", "green").stdout
    r = az.cli("deployment", "logs", "churn-ep", "green", "--container", "storage-initializer")
    assert "Downloading model" in r.stdout
    # roll forward, remove blue, then the endpoint
    az.cli("traffic", "churn-ep", "green=100")
    r = az.cli("-o", "table", "deployment", "delete", "churn-ep", "blue", "--yes")
    assert "Deleted deployment blue" in r.stdout and "deployment blue: Succeeded" in r.stderr
    assert ("churn-ep", "blue") not in fake.arm.deployments
    az.cli("endpoint", "delete", "churn-ep", "--yes")
    assert "churn-ep" not in fake.arm.endpoints
    assert az.js("endpoint", "list") == []
    assert bool(fake.faults.injected) == throttled


def test_uploads_with_a_sas_and_in_blocks(azure, tmp_path):
    az, fake = azure, azure.fake
    fake.config["blob_auth"] = "sas"  # listSecrets gives a SAS instead of the account key
    big = tmp_path / "big.bin"
    big.write_bytes(os.urandom(9 << 20))  # past one Put Blob: three 4 MiB blocks
    r = az.js("model", "register", "big", "--path", big, "--type", "custom_model")
    assert [k for k, _, _ in fake.blob.puts] == ["block", "block", "block", "blocklist"]
    name = r["properties"]["modelUri"].split("/paths/")[1]
    assert fake.blob.blobs[name]["data"] == big.read_bytes()
    assert not [c for c in fake.requests if c[2].endswith("blob.core.windows.net") and c[5] >= 400
                and c[1] != "HEAD"]


def test_every_read_verb_and_keys(azure, tmp_path):
    az, fake = azure, azure.fake
    setup_blue(az, tmp_path)
    fake.config["page_size"] = 1
    for extra in ("a", "b"):
        az.cli("model", "register", "m-" + extra, "--path", tmp_path / "churn.pkl", "--type",
               "custom_model")
    assert [m["name"] for m in az.js("model", "show", "churn")] == ["1"]
    assert len(az.js("model", "list")) == 3
    assert az.js("model", "show", "churn:1")["properties"]["modelType"] == "custom_model"
    assert len(az.js("env", "list")) == 1 and az.js("env", "show", "sklearn:1")["name"] == "1"
    az.cli("env", "create", "spare", "--image", "mcr.microsoft.com/azureml/minimal:1")
    az.cli("env", "delete", "spare:1")
    assert len(az.js("env", "list")) == 1
    assert [e["name"] for e in az.js("endpoint", "list")] == ["churn-ep"]
    assert az.js("endpoint", "show", "churn-ep")["properties"]["authMode"] == "Key"
    assert az.js("deployment", "show", "churn-ep", "blue")["sku"]["capacity"] == 1
    keys = az.js("endpoint", "keys", "churn-ep")
    az.cli("endpoint", "regenerate-keys", "churn-ep", "--key-type", "primary")
    assert az.js("endpoint", "keys", "churn-ep")["primaryKey"] != keys["primaryKey"]
    assert az.js("traffic", "churn-ep")["properties"]["traffic"] == {"blue": 100}
    d = az.js("deployment", "update", "churn-ep", "blue", "--instances", "3")
    assert d["sku"]["capacity"] == 3 and d["properties"]["provisioningState"] == "Succeeded"
    assert fake.arm_calls("GET", "mfeOperationResults")  # PATCH: 202 + Location, followed
    az.cli("model", "delete", "m-a:1")
    assert len(az.js("model", "list")) == 2
    r = az.cli("bench", "churn-ep", "--request-file", tmp_path / "req.json", "-n", "20")
    assert json.loads(r.stdout)["statuses"] == {"200": 20}
    # every list went page by page, each nextLink followed as given (api-version once)
    assert not [c for c in fake.requests if c[5] == 400]


def test_operation_failed_reports_the_service_error(azure, tmp_path):
    az, fake = azure, azure.fake
    setup_blue(az, tmp_path)
    fake.config["lro_running_status"] = "InProgress"
    r = az.cli("deployment", "create", "churn-ep", "big", "--model", "churn:1", "--env",
               "sklearn:1", "--instances", "50", check=False)
    assert r.returncode == 1
    assert "deployment big: InProgress" in r.stderr  # a plain line per state, not a tty
    assert "OutOfQuota" in r.stderr and "Not enough quota" in r.stderr
    assert json.loads(r.stdout)["properties"]["provisioningState"] == "Failed"


def test_operation_no_wait_and_timeout(azure, tmp_path):
    az, fake = azure, azure.fake
    setup_blue(az, tmp_path)
    fake.config["lro_seconds"] = 30
    r = az.cli("deployment", "create", "churn-ep", "green", "--model", "churn:1", "--env",
               "sklearn:1", "--no-wait")
    assert json.loads(r.stdout)["properties"]["provisioningState"] == "Updating"
    assert "Succeeded" not in r.stderr
    fake.config["op_timeout"] = "PT2S"
    r = az.cli("deployment", "delete", "churn-ep", "blue", "--yes", check=False)
    assert r.returncode == 1 and "traffic" in r.stderr  # Azure refuses: blue has traffic
    r = az.cli("endpoint", "create", "other-ep", check=False)
    assert r.returncode == 1 and "still" in r.stderr and "timeout" in r.stderr


def test_throttling_unavailable_and_resets_are_retried(azure, tmp_path):
    az, fake = azure, azure.fake
    req = setup_blue(az, tmp_path)
    fake.faults.count = 0
    fake.faults.throttle_every = 4
    fake.faults.unavailable_every = 5
    fake.faults.reset_every = 6
    r = az.cli("-v", "traffic", "churn-ep", "blue=100")
    assert json.loads(r.stdout)["properties"]["traffic"] == {"blue": 100}
    log = r.stderr
    log += az.cli("-v", "deployment", "list", "churn-ep").stderr
    assert az.cli("invoke", "churn-ep", "--request-file", req).returncode == 0
    kinds = {k for k, _, _ in fake.faults.injected}
    assert kinds == {"429", "503", "reset"}, fake.faults.injected
    # every retry is visible with -v, with the server's Retry-After honoured
    assert "HTTP 429 (throttled): retry 1 of 5 in 1.0 s (Retry-After)" in log, log
    assert "reads left" in log


def test_throttled_without_end_fails_with_the_reason(azure, tmp_path):
    az, fake = azure, azure.fake
    fake.faults.throttle_every = 1
    fake.faults.retry_after = 0
    r = az.cli("-v", "endpoint", "list", check=False)
    assert r.returncode == 1 and "throttled" in r.stderr
    assert r.stderr.count("retry ") == 5  # bounded


class ConnectProxy(socketserver.ThreadingTCPServer):
    """An HTTPS proxy (CONNECT only) that records where it was asked to go."""

    daemon_threads = True
    allow_reuse_address = True

    def __init__(self):
        self.targets = []

        class H(socketserver.BaseRequestHandler):
            def handle(h):
                line = h.request.recv(65536).decode().split("\r\n")[0]
                host, port = line.split()[1].rsplit(":", 1)
                self.targets.append(host)
                up = socket.create_connection(("127.0.0.1", int(port)))
                h.request.sendall(b"HTTP/1.1 200 Connection established\r\n\r\n")
                socks = [h.request, up]
                while True:
                    r, _, _ = select.select(socks, [], [], 10)
                    if not r:
                        break
                    for s in r:
                        data = s.recv(65536)
                        if not data:
                            up.close()
                            return
                        (up if s is h.request else h.request).sendall(data)

        super().__init__(("127.0.0.1", 0), H)
        threading.Thread(target=self.serve_forever, daemon=True).start()


def test_https_proxy_no_proxy_and_ca_file(azure):
    az = azure
    proxy = ConnectProxy()
    url = "http://127.0.0.1:%d" % proxy.server_address[1]
    try:
        assert az.cli("endpoint", "list", env={"HTTPS_PROXY": url}).returncode == 0
        assert proxy.targets, "the request did not go through HTTPS_PROXY"
        n = len(proxy.targets)
        az.cli("endpoint", "list", env={"HTTPS_PROXY": url, "NO_PROXY": "management.azure.com"})
        assert len(proxy.targets) == n
    finally:
        proxy.shutdown()
    # the fake's CA: from ca_file, else SSL_CERT_FILE; with neither, TLS refuses it
    az.write_profile(ca_file=None)
    r = az.cli("endpoint", "list", check=False, env={"SSL_CERT_FILE": None})
    assert r.returncode == 1 and "certificate" in r.stderr.lower()
    assert az.cli("endpoint", "list", env={"SSL_CERT_FILE": az.fake.ca}).returncode == 0


def no_token(env=None):
    e = {"AZURE_ACCESS_TOKEN": None}
    e.update(env or {})
    return e


def test_credential_service_principal_cached_until_expiry(azure, tmp_path):
    az, fake = azure, azure.fake
    fake.add_client("app-1", "s3cret")
    del az.env["AZURE_ACCESS_TOKEN"]
    az.env.update(AZURE_TENANT_ID="contoso", AZURE_CLIENT_ID="app-1", AZURE_CLIENT_SECRET="s3cret")
    setup_blue(az, tmp_path)  # many requests, one process each
    grants = [g for g in fake.identity.grants if g[0] == "client_credentials"]
    assert len(grants) == 4  # one token per process, reused for all its calls
    r = az.cli("-v", "deployment", "show", "churn-ep", "blue")
    assert "oauth2/v2.0/token" in r.stderr and "s3cret" not in r.stderr
    for tok in list(fake.identity.tokens.items):
        assert tok not in r.stderr and tok not in r.stdout
    # a token about to expire is not kept: each request gets a fresh one
    fake.config["token_lifetime"] = 200
    n = len(fake.identity.grants)
    az.cli("deployment", "list", "churn-ep")
    assert len(fake.identity.grants) == n + 1
    az.cli("endpoint", "create", "churn-ep")
    assert len(fake.identity.grants) >= n + 4
    # a wrong secret stops the chain with Entra ID's words
    r = az.cli("endpoint", "list", check=False, env={"AZURE_CLIENT_SECRET": "wrong"})
    assert r.returncode == 1 and "AADSTS7000215" in r.stderr


def test_credential_authority_host_workload_identity(azure, tmp_path):
    az, fake = azure, azure.fake
    fake.add_client("app-2", "pw")
    authority = "https://127.0.0.1:%d" % fake.port("arm")
    env = no_token({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "app-2",
                    "AZURE_CLIENT_SECRET": "pw", "AZURE_AUTHORITY_HOST": authority})
    az.cli("endpoint", "list", env=env)
    assert any(c[2].startswith("127.0.0.1") and "/oauth2/" in c[3] for c in fake.requests)
    assertion = tmp_path / "federated-token"
    assertion.write_text(fake.token(aud="api://AzureADTokenExchange", kind="federated"))
    env = no_token({"AZURE_TENANT_ID": "t", "AZURE_CLIENT_ID": "app-2",
                    "AZURE_FEDERATED_TOKEN_FILE": str(assertion)})
    az.cli("endpoint", "list", env=env)
    assert ("client_assertion", "wi:app-2") in fake.identity.grants


def test_credential_managed_identity(azure):
    az, fake = azure, azure.fake
    imds = "http://127.0.0.1:%d" % fake.port("imds")
    az.cli("endpoint", "list", env=no_token({"AZURE_POD_IDENTITY_AUTHORITY_HOST": imds}))
    assert ("managed_identity", "mi:system") in fake.identity.grants
    fake.identity.mi_client_ids.add("uami-1")
    az.cli("endpoint", "list", env=no_token({"AZURE_POD_IDENTITY_AUTHORITY_HOST": imds,
                                            "AZURE_CLIENT_ID": "uami-1"}))
    assert ("managed_identity", "mi:uami-1") in fake.identity.grants
    env = no_token({"IDENTITY_ENDPOINT": imds + "/msi/token",
                    "IDENTITY_HEADER": fake.identity.app_service_secret})
    az.cli("endpoint", "list", env=env)
    assert ("managed_identity", "mi:appservice") in fake.identity.grants
    # Arc names a key file; one outside its directory is refused, never read
    fake.identity.arc_realm = "/etc/shadow"
    r = az.cli("endpoint", "list", check=False,
               env=no_token({"IDENTITY_ENDPOINT": imds + "/arc/token", "IMDS_ENDPOINT": imds}))
    assert r.returncode == 1 and "refused" in r.stderr


def test_credential_azure_cli_and_none(azure):
    az, fake = azure, azure.fake
    r = az.cli("endpoint", "list", check=False, env=no_token())
    assert r.returncode == 1
    for source in ("AZURE_ACCESS_TOKEN", "AZURE_CLIENT_SECRET", "managed identity",
                   "mldeck login", "Azure CLI"):
        assert source in r.stderr, r.stderr
    az_cli = os.path.join(az.bindir, "az")
    with open(az_cli, "w") as f:
        f.write("#!/bin/sh\ncase \"$*\" in *get-access-token*https://management.azure.com*)"
                "\n  echo '%s';;\n*) exit 1;;\nesac\n" % json.dumps(
                    {"accessToken": fake.token(subject="cli"), "expires_on": 4102444800,
                     "tokenType": "Bearer"}))
    os.chmod(az_cli, 0o755)
    assert az.cli("endpoint", "list", env=no_token()).returncode == 0


def test_login_device_code(azure):
    az, fake = azure, azure.fake
    r = az.cli("login", "--device-code", "--tenant", "contoso", env=no_token())
    assert "https://microsoft.com/devicelogin" in r.stderr
    assert "enter the code F" in r.stderr
    cache = os.path.join(az.tmp, "state", "mldeck", "azure-login.json")
    assert stat.S_IMODE(os.stat(cache).st_mode) == 0o600
    assert stat.S_IMODE(os.stat(os.path.dirname(cache)).st_mode) == 0o700
    assert ("device_code", "user:device") in fake.identity.grants
    assert az.cli("endpoint", "list", env=no_token()).returncode == 0
    assert not [g for g in fake.identity.grants if g[0] == "refresh_token"]  # cached token used
    fake.config["token_lifetime"] = 200  # the next token is too short-lived to keep
    with open(cache) as f:
        doc = json.load(f)
    doc["expiresOn"] = 0
    with open(cache, "w") as f:
        json.dump(doc, f)
    assert az.cli("endpoint", "list", env=no_token()).returncode == 0
    assert [g for g in fake.identity.grants if g[0] == "refresh_token"]
    os.chmod(cache, 0o644)  # others could read it: refused
    r = az.cli("endpoint", "list", check=False, env=no_token())
    assert r.returncode == 1 and "chmod 600" in r.stderr
    az.cli("logout")
    assert not os.path.exists(cache)


def test_expired_access_token_is_named(azure):
    r = azure.cli("endpoint", "list", check=False,
                  env={"AZURE_ACCESS_TOKEN": azure.fake.token(lifetime=-10)})
    assert r.returncode == 1 and "AZURE_ACCESS_TOKEN expired" in r.stderr


def test_data_plane_aml_token_and_arm_token_refused(azure, tmp_path):
    az, fake = azure, azure.fake
    req = setup_blue(az, tmp_path, auth="aml_token")
    tok = az.js("endpoint", "token", "churn-ep")
    assert tok["tokenType"] == "Bearer" and tok["refreshAfterTimeUtc"] > 0
    r = az.cli("invoke", "churn-ep", "--request-file", req)
    assert json.loads(r.stdout) == [6, 15]
    assert fake.arm_calls("POST", "/token")
    # the scoring host refuses the ARM token (what the CLI never sends there)
    import ssl
    import urllib.request
    ctx = ssl.create_default_context(cafile=fake.ca)
    rq = urllib.request.Request("https://127.0.0.1:%d/score" % fake.port("data"),
                                data=req.read_bytes(), method="POST",
                                headers={"Host": "churn-ep.westus2.inference.ml.azure.com",
                                         "Authorization": "Bearer " + az.env["AZURE_ACCESS_TOKEN"]})
    ctx.check_hostname = False
    with pytest.raises(urllib.error.HTTPError) as e:
        urllib.request.urlopen(rq, context=ctx)
    assert e.value.code == 401


def test_metrics_from_azure_monitor_labelled(azure, tmp_path):
    az, fake = azure, azure.fake
    req = setup_blue(az, tmp_path)
    for _ in range(3):
        az.cli("invoke", "churn-ep", "--request-file", req)
    doc = az.js("metrics", "churn-ep", "--minutes", "5")
    assert doc["source"] == "Azure Monitor" and doc["grainSeconds"] == 60
    ep = doc["endpoints"][0]
    blue = ep["deployments"][0]
    assert blue["name"] == "blue" and sum(blue["series"]["requests"]) == 3
    assert len(blue["series"]["p99"]) == 5 and blue["p99"] >= 0
    calls = fake.arm_calls("GET", "/providers/microsoft.insights/metrics")
    assert len(calls) == 1 and "interval=PT1M" in calls[0][4]  # one ARM read, 1-minute grain
    out = az.cli("-o", "table", "metrics", "churn-ep").stdout
    assert out.startswith("Azure Monitor, 1 min:") and "P95 ms" in out and "blue" in out


def test_metrics_of_the_local_runtime_labelled(runtime):
    runtime.cli("endpoint", "create", "loc-ep")
    out = runtime.cli("-o", "table", "metrics", "loc-ep").stdout
    assert out.startswith("mldeck runtime, 1 s:")
    assert json.loads(runtime.cli("metrics", "loc-ep").stdout)["source"] == "mldeck runtime"


def test_data_plane_token_refreshed_during_bench(azure, tmp_path):
    az, fake = azure, azure.fake
    req = setup_blue(az, tmp_path, auth="aml_token")
    fake.config.update(aml_token_refresh=1, aml_token_lifetime=3)
    r = az.js("bench", "churn-ep", "--request-file", req, "-d", "4")
    assert r["statuses"] == {"200": r["requests"]} and r["requests"] > 0, r
    assert len(fake.arm_calls("POST", "/token")) >= 3  # a new token before each expired


def test_data_plane_aad_token_with_the_ml_scope(azure, tmp_path):
    az, fake = azure, azure.fake
    fake.add_client("app-3", "pw")
    del az.env["AZURE_ACCESS_TOKEN"]
    az.env.update(AZURE_TENANT_ID="t", AZURE_CLIENT_ID="app-3", AZURE_CLIENT_SECRET="pw")
    req = setup_blue(az, tmp_path, auth="aad_token")
    r = az.cli("invoke", "churn-ep", "--request-file", req)
    assert json.loads(r.stdout) == [6, 15]
    assert not fake.arm_calls("POST", "/token")  # no AML token: an Entra token for ml.azure.com


def test_operation_progress_on_a_terminal(azure, tmp_path):
    from test_console import Deck
    az, fake = azure, azure.fake
    setup_blue(az, tmp_path)
    fake.config["lro_seconds"] = 3
    env = {k: v for k, v in az.env.items() if k in (
        "XDG_CONFIG_HOME", "XDG_STATE_HOME", "HOME", "PATH", "AZURE_ACCESS_TOKEN",
        "AZURE_POD_IDENTITY_AUTHORITY_HOST")}
    deck = Deck(tmp_path, env, args=("deployment", "create", "churn-ep", "green", "--model",
                                     "churn:1", "--env", "sklearn:1"), size=(100, 30), keep=True)
    try:
        s = deck.wait("deployment green: Updating (1 s)")
        assert s.count("deployment green:") == 1  # one line, redrawn in place
        s = deck.wait("deployment green: Succeeded after", "CONSOLE-EXITED", timeout=20)
        assert "Updating" not in s and "green" in s.split("Succeeded after")[1]  # then the table
    finally:
        deck.close()


def test_batch_deployment_names_assets_and_code_as_online_ones_do(azure, tmp_path):
    """`batch-deployment create` on Azure names its model and environment by ARM id and
    uploads --code as a code asset, as `deployment create` does (Azure refuses a host path
    or an azureml: shorthand in the REST body); one rule for both nouns."""
    az, fake = azure, azure.fake
    m, folder, code, conda, req = files(tmp_path)
    az.cli("model", "register", "churn", "--path", m, "--type", "custom_model")
    az.cli("env", "create", "sklearn", "--image", "mcr.microsoft.com/azureml/sklearn:1",
           "--conda-file", conda)
    az.cli("batch-endpoint", "create", "churn-batch")
    r = az.cli("batch-deployment", "create", "churn-batch", "nightly", "--model", "churn:1",
               "--env", "sklearn:1", "--code", code, "--scoring-script", "score.py")
    assert "Uploaded code LocalUpload/" in r.stderr, r.stderr
    p = fake.arm.batch_deployments[("churn-batch", "nightly")]["properties"]
    assert p["model"]["assetId"] == fake.arm.ws_path() + "/models/churn/versions/1"
    assert p["environmentId"] == fake.arm.ws_path() + "/environments/sklearn/versions/1"
    assert "/codes/" in p["codeConfiguration"]["codeId"], p
    assert p["codeConfiguration"]["scoringScript"] == "score.py"
