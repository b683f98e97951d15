"""Azure's own Python SDK (azure-ai-ml 1.4.0, Debian's python3-azure) against
`mldeck serve --tls`, unchanged apart from the base URL (AZUREML_DEV_URL_MFE)
and the certificate (REQUESTS_CA_BUNDLE): each operation of the online-endpoint
workflow, then the documented blue/green rollout. Status codes, headers and
shapes are checked against the recordings of the real service
(../shared/fixtures/azureml-recordings) where they apply.

Debian has no pydash, which azure-ai-ml imports: tests/shims/pydash stands in
(only what the SDK calls; see tests/shims/README.md)."""

import ast
import json
import os
import shutil
import sys
import time
import urllib.request

import pytest

from conftest import REPO, Runtime

sys.path.insert(0, os.path.join(REPO, "tests", "shims"))

from azure.ai.ml import MLClient  # noqa: E402
from azure.ai.ml.constants import AssetTypes  # noqa: E402
from azure.ai.ml.entities import (CodeConfiguration, Environment, ManagedOnlineDeployment,  # noqa: E402
                                  ManagedOnlineEndpoint, Model)
from azure.core.credentials import AccessToken  # noqa: E402
from azure.core.exceptions import HttpResponseError, ResourceNotFoundError  # noqa: E402

SUB = "6a1f9c43-0000-4000-8000-00000000c0de"
RG = "rg-offline"
DEMO = os.path.join(REPO, "demo", "azure-sdk")
DATA = os.path.join(DEMO, "model-1")  # the files of Azure's sample
RECORDINGS = os.path.normpath(os.path.join(REPO, "..", "..", "shared", "fixtures",
                                           "azureml-recordings"))
if not os.path.isdir(RECORDINGS):  # the main checkout sits one level higher
    RECORDINGS = "/work/shared/fixtures/azureml-recordings"


class AdminKey:
    """A TokenCredential that hands the SDK the runtime's admin key (Azure would
    use DefaultAzureCredential; the local runtime has no AAD)."""

    def __init__(self, key):
        self.key = key

    def get_token(self, *scopes, **kwargs):
        return AccessToken(self.key, int(time.time()) + 3600)


def recording(name):
    with open(os.path.join(RECORDINGS, name)) as f:
        return json.load(f)["Entries"]


OD = "test_online_deployment.pyTestOnlineDeploymenttest_online_deployment.json"


@pytest.fixture(scope="module")
def tls_runtime(tmp_path_factory):
    rt = Runtime(str(tmp_path_factory.mktemp("sdk") / "home"), extra_args=["--tls"]).start()
    yield rt
    assert rt.stop() == 0, rt.logtext()[-4000:]


def sdk_client(rt, sub=SUB, rg=RG):
    os.environ["AZUREML_DEV_URL_MFE"] = rt.url
    os.environ["REQUESTS_CA_BUNDLE"] = rt.ca_file()
    return MLClient(AdminKey(rt.admin_key), sub, rg, rt.workspace, show_progress=False)


ENV = ("AZUREML_DEV_URL_MFE", "REQUESTS_CA_BUNDLE")


@pytest.fixture(autouse=True)
def sdk_env(request):
    """requests reads REQUESTS_CA_BUNDLE at each request: every test runs with the
    variables of the runtime it drives, and a test that starts its own runtime
    leaves them as it found them."""
    saved = {k: os.environ.get(k) for k in ENV}
    if "tls_runtime" in request.fixturenames:
        rt = request.getfixturevalue("tls_runtime")
        os.environ["AZUREML_DEV_URL_MFE"] = rt.url
        os.environ["REQUESTS_CA_BUNDLE"] = rt.ca_file()
    yield
    for k, v in saved.items():
        if v is None:
            os.environ.pop(k, None)
        else:
            os.environ[k] = v


@pytest.fixture(scope="module")
def ml(tls_runtime):
    return sdk_client(tls_runtime)


def sklearn_model(folder, scale):
    """FOLDER/model/sklearn_regression_model.pkl as in Azure's sample, prediction =
    scale * sum of the row (the demo's train())."""
    sys.path.insert(0, DEMO)
    from safe_rollout import train
    return train(folder, scale)


def raw(rt, method, path, body=None, headers=None):
    """The runtime over https, as the SDK's pipeline would send it."""
    if path.startswith("ws:"):
        path = ("/subscriptions/%s/resourceGroups/%s/providers/"
                "Microsoft.MachineLearningServices/workspaces/%s%s" % (SUB, RG, rt.workspace, path[3:]))
    if "?" not in path and path.startswith("/subscriptions"):
        path += "?api-version=2022-02-01-preview"
    return rt.http(method, path, body, headers=headers)


# ---- the workspace and its datastore -------------------------------------------------------


def test_workspace_get_echoes_subscription_and_group(ml, tls_runtime):
    ws = ml.workspaces.get(tls_runtime.workspace)
    assert ws.location == "local"
    assert ws.id == ("/subscriptions/%s/resourceGroups/%s/providers/"
                     "Microsoft.MachineLearningServices/workspaces/local" % (SUB, RG))
    assert ws.resource_group == RG
    # the fields Azure sends (recording E3) that the SDK reads are all there
    want = recording(OD)[3]["ResponseBody"]
    s, _, got = raw(tls_runtime, "GET", "ws:")
    assert s == 200
    assert set(want) - set(got) <= {"etag"}, set(want) - set(got)
    for k in ("friendlyName", "storageAccount", "workspaceId", "hbiWorkspace",
              "provisioningState", "publicNetworkAccess"):
        assert k in got["properties"], k


def test_default_azure_credential_through_the_msi_endpoint(tls_runtime, monkeypatch):
    """The documented code's DefaultAzureCredential() works unchanged: the runtime
    serves an Azure ML compute instance's managed-identity endpoint (MSI_ENDPOINT,
    MSI_SECRET), whose token is the admin key."""
    from azure.identity import DefaultAzureCredential

    for k in [k for k in os.environ if k.startswith(("AZURE_", "IDENTITY_"))]:
        monkeypatch.delenv(k)
    monkeypatch.setenv("MSI_ENDPOINT", tls_runtime.url + "/MSI/auth")
    monkeypatch.setenv("MSI_SECRET", tls_runtime.admin_key)
    monkeypatch.setenv("AZUREML_DEV_URL_MFE", tls_runtime.url)
    monkeypatch.setenv("REQUESTS_CA_BUNDLE", tls_runtime.ca_file())
    ml = MLClient(DefaultAzureCredential(), SUB, RG, tls_runtime.workspace)
    assert ml.workspaces.get(tls_runtime.workspace).location == "local"
    # the endpoint itself: the secret is checked, the answer has what azure-identity reads
    q = "/MSI/auth?api-version=2017-09-01&resource=https://management.azure.com"
    s, _, got = tls_runtime.http("GET", q, headers={"secret": tls_runtime.admin_key}, auth=False)
    assert s == 200 and got["access_token"] == tls_runtime.admin_key
    assert got["token_type"] == "Bearer" and got["resource"] == "https://management.azure.com"
    assert got["expires_on"] > time.time() + 3600
    s, _, _ = tls_runtime.http("GET", q, headers={"secret": "wrong"}, auth=False)
    assert s == 401
    s, _, _ = tls_runtime.http("GET", q, auth=False)
    assert s == 401


def test_default_datastore_and_secrets(ml, tls_runtime):
    ds = ml.datastores.get_default()
    assert ds.name == "workspaceblobstore" and ds.type == "AzureBlob"
    host = tls_runtime.url.split("//")[1]
    assert ds.account_name == host + "/mldeck"
    assert ds.container_name.startswith("azureml-blobstore-")
    secret = ml.datastores.get("workspaceblobstore", include_secrets=True).credentials.account_key
    # recordings E8/E9: the same members, AccountKey secrets
    rec = recording(OD)
    s, _, got = raw(tls_runtime, "GET", "ws:/datastores/workspaceblobstore?api-version=2022-05-01")
    assert s == 200
    assert set(rec[8]["ResponseBody"]["properties"]) == set(got["properties"])
    s, _, sec = raw(tls_runtime, "POST", "ws:/datastores/workspaceblobstore/listSecrets"
                    "?api-version=2022-05-01")
    assert s == 200 and set(sec) == set(rec[9]["ResponseBody"]) and sec["key"] == secret
    s, _, _ = raw(tls_runtime, "GET", "ws:/datastores/other?api-version=2022-05-01")
    assert s == 404


# ---- assets --------------------------------------------------------------------------------


def test_model_file_and_folder_names_versions_and_latest(ml, tls_runtime, tmp_path):
    folder = sklearn_model(str(tmp_path / "m"), 2.0)
    names = ["py", "my_model", "1model", "n" * 100]
    for n in names:
        m = ml.models.create_or_update(Model(name=n, path=folder, version="1.0",
                                             type=AssetTypes.CUSTOM_MODEL))
        assert m.name == n and m.version == "1.0"
        assert m.path.startswith("azureml://") and "workspaceblobstore/paths/LocalUpload/" in m.path
    one = ml.models.create_or_update(Model(name="py", version="2", path=os.path.join(
        folder, "sklearn_regression_model.pkl")))
    # "latest" is the most recently created (the SDK asks $orderBy=createdtime desc&$top=1)
    assert ml.models.get("py", label="latest").version == "2"
    assert sorted(v.version for v in ml.models.list(name="py")) == ["1.0", "2"]
    assert "my_model" in [c.name for c in ml.models.list()]
    # the flavors, systemData and modelUri the SDK reads back without None checks
    got = ml.models.get("py", version="2")
    assert got.flavors is None or got.flavors == {}
    assert got.creation_context is not None and got.creation_context.created_at is not None
    # the SDK's get-modify-put: the same modelUri again keeps the artifact (200)
    got.description = "again"
    again = ml.models.create_or_update(got)
    assert again.description == "again" and again.path == one.path


def test_model_archive_and_list_views(ml, tmp_path):
    from azure.ai.ml._restclient.v2022_02_01_preview.models import ListViewType

    path = os.path.join(sklearn_model(str(tmp_path / "m"), 1.0), "sklearn_regression_model.pkl")
    for v in ("1", "2"):
        ml.models.create_or_update(Model(name="arch", version=v, path=path))
    ml.models.archive("arch", version="1")
    assert [m.version for m in ml.models.list(name="arch")] == ["2"]
    assert [m.version for m in ml.models.list(name="arch", list_view_type=ListViewType.ARCHIVED_ONLY)] == ["1"]
    assert sorted(m.version for m in ml.models.list(name="arch", list_view_type=ListViewType.ALL)) == ["1", "2"]
    ml.models.restore("arch", version="1")
    assert sorted(m.version for m in ml.models.list(name="arch")) == ["1", "2"]
    ml.models.archive("arch")  # the whole container
    assert "arch" not in [c.name for c in ml.models.list()]
    assert "arch" in [c.name for c in ml.models.list(list_view_type=ListViewType.ARCHIVED_ONLY)]
    ml.models.restore("arch")
    assert "arch" in [c.name for c in ml.models.list()]


def test_data_assets_upload_archive_and_feed_a_batch_job(ml, tls_runtime, tmp_path):
    """ml.data uploads a folder to the datastore and registers it with the
    versions machinery models use (latest, archive, list views); a batch job
    reads that data asset from the datastore, by name and by datastore path."""
    from azure.ai.ml._restclient.v2022_02_01_preview.models import ListViewType
    from azure.ai.ml.entities import Data

    rt = tls_runtime
    folder = tmp_path / "customers"
    folder.mkdir()
    for i in range(3):
        (folder / ("part-%d.csv" % i)).write_text(
            ",".join("f%d" % k for k in range(12)) + "\n" +
            "".join(",".join("%d.5" % ((r + k) % 3) for k in range(12)) + "\n" for r in range(4)))
    for v in ("1", "2"):
        d = ml.data.create_or_update(Data(name="customers", version=v, path=str(folder),
                                          type=AssetTypes.URI_FOLDER))
        assert d.version == v and "workspaceblobstore/paths/LocalUpload/" in d.path, d.path
    assert ml.data.get("customers", label="latest").version == "2"
    ml.data.archive("customers", version="2")
    assert [x.version for x in ml.data.list(name="customers")] == ["1"]
    assert sorted(x.version for x in ml.data.list(
        name="customers", list_view_type=ListViewType.ALL)) == ["1", "2"]
    ml.data.restore("customers", version="2")
    uri = ml.data.get("customers", version="1").path

    def ok(resp):
        assert resp[0] in (200, 201), resp
        return resp[2]

    linear = os.path.join(REPO, "demo", "models", "churn-linear.json")
    ok(raw(rt, "PUT", "ws:/models/churn/versions/1",
           {"properties": {"modelType": "linear", "modelUri": linear}}))
    ok(raw(rt, "PUT", "ws:/batchEndpoints/churn-batch", {"properties": {}}))
    ok(raw(rt, "PUT", "ws:/batchEndpoints/churn-batch/deployments/blue",
           {"properties": {"model": "azureml:churn:1"}}))
    ok(raw(rt, "PATCH", "ws:/batchEndpoints/churn-batch",
           {"properties": {"defaults": {"deploymentName": "blue"}}}))
    for input_uri in ("azureml:customers:1", uri):
        s, _, j = rt.http("POST", "/batch/churn-batch/jobs", {"properties": {"InputData": {
            "customers": {"JobInputType": "UriFolder", "Uri": input_uri}}}})
        assert s == 201, (s, j)
        deadline = time.monotonic() + 120
        while j["properties"]["status"] not in ("Completed", "Failed", "Canceled"):
            assert time.monotonic() < deadline, j
            time.sleep(0.1)
            j = ok(rt.http("GET", "ws:/jobs/" + j["name"]))
        assert j["properties"]["status"] == "Completed", j
        assert j["properties"]["properties"]["succeededItems"] == "12", j


def test_batch_deployment_code_configuration_uploads_a_code_asset(ml, tls_runtime, tmp_path):
    """BatchDeployment(code_configuration=CodeConfiguration(code="./src", ...)):
    the SDK uploads the folder as a code asset and sends its ARM id as codeId;
    the job runs that folder's score.py; the GET gives the ARM id back."""
    from azure.ai.ml.entities import BatchDeployment, BatchEndpoint

    rt = tls_runtime
    src = tmp_path / "src"
    src.mkdir()
    shutil.copy(os.path.join(REPO, "tests", "data", "score", "batch_rows.py"), src / "score.py")
    linear = os.path.join(REPO, "demo", "models", "churn-linear.json")
    assert raw(rt, "PUT", "ws:/models/scripted/versions/1", {"properties": {
        "modelType": "custom_model", "modelUri": linear}})[0] in (200, 201)
    assert raw(rt, "PUT", "ws:/environments/pyenv/versions/1", {"properties": {
        "environmentKind": "python", "interpreterPath": "/usr/bin/python3"}})[0] in (200, 201)
    ml.batch_endpoints.begin_create_or_update(BatchEndpoint(name="sdk-code-batch")).result()
    dep = BatchDeployment(name="blue", endpoint_name="sdk-code-batch", model="azureml:scripted:1",
                          environment="azureml:pyenv:1", mini_batch_size=2,
                          code_configuration=CodeConfiguration(code=str(src),
                                                               scoring_script="score.py"))
    ml.batch_deployments.begin_create_or_update(dep).result()
    got = ml.batch_deployments.get(name="blue", endpoint_name="sdk-code-batch")
    code_id = got.code_configuration.code
    assert "/codes/" in code_id and "/versions/" in code_id, code_id
    assert got.code_configuration.scoring_script == "score.py"
    s, _, body = raw(rt, "GET", "ws:/batchEndpoints/sdk-code-batch/deployments/blue")
    assert s == 200 and body["properties"]["codeConfiguration"]["codeId"].startswith(
        "/subscriptions/%s/resourceGroups/%s/" % (SUB, RG)), body
    folder = tmp_path / "in"
    folder.mkdir()
    for i, n in enumerate((2, 4)):
        (folder / ("f%d.csv" % i)).write_text("a,b\n" + "1,2\n" * n)
    s, _, j = rt.http("POST", "/batch/sdk-code-batch/jobs", {"properties": {
        "InputData": {"d": {"JobInputType": "UriFolder", "Uri": str(folder)}}}},
        headers={"azureml-model-deployment": "blue"})
    assert s == 201, (s, j)
    deadline = time.monotonic() + 120
    while j["properties"]["status"] not in ("Completed", "Failed", "Canceled"):
        assert time.monotonic() < deadline, j
        time.sleep(0.1)
        j = rt.http("GET", "ws:/jobs/" + j["name"])[2]
    assert j["properties"]["status"] == "Completed", j
    out = j["properties"]["outputs"]["score"]["uri"][len("file://"):]
    with open(os.path.join(out, "predictions.csv")) as f:
        assert sorted(f.read().split("\n")) == ["", "f0.csv 2 ok", "f1.csv 4 ok"]
    # the uploaded version is in use by the deployment: a DELETE is 409
    name, version = code_id.split("/codes/")[1].split("/versions/")
    s, _, body = raw(rt, "DELETE", "ws:/codes/%s/versions/%s" % (name, version))
    assert s == 409, (s, body)


def test_environments_keep_image_and_conda_file(ml, tls_runtime):
    conda = os.path.join(DATA, "environment", "conda.yaml")
    image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
    env = ml.environments.create_or_update(Environment(name="sklearn-env", version="1",
                                                       image=image, conda_file=conda))
    assert env.image == image and env.conda_file["name"] == "model-env"
    env2 = ml.environments.create_or_update(Environment(name="sklearn-env", version="2",
                                                        image=image, conda_file=conda))
    assert ml.environments.get("sklearn-env", label="latest").version == env2.version
    assert sorted(e.version for e in ml.environments.list(name="sklearn-env")) == ["1", "2"]
    got = ml.environments.get("sklearn-env", version="1")
    assert got.image == image and got.conda_file == env.conda_file
    # recording envc E0: the members Azure returns, condaFile as text
    s, _, body = raw(tls_runtime, "GET", "ws:/environments/sklearn-env/versions/1")
    assert s == 200 and isinstance(body["properties"]["condaFile"], str)
    want = recording("test_environment.pyTestEnvironmenttest_environment_create_conda.json")[0]
    assert set(want["ResponseBody"]["properties"]) <= set(body["properties"])
    assert set(body["systemData"]) >= {"createdAt", "createdBy", "createdByType", "lastModifiedAt"}
    # archive and restore, a version and the whole environment
    ml.environments.archive("sklearn-env", version="1")
    assert [e.version for e in ml.environments.list(name="sklearn-env")] == ["2"]
    ml.environments.restore("sklearn-env", version="1")
    ml.environments.archive("sklearn-env")
    assert "sklearn-env" not in [e.name for e in ml.environments.list()]
    ml.environments.restore("sklearn-env")
    assert "sklearn-env" in [e.name for e in ml.environments.list()]


def test_datastores_list(ml):
    assert [d.name for d in ml.datastores.list()] == ["workspaceblobstore"]
    with pytest.raises(ResourceNotFoundError):
        ml.datastores.get("otherstore")


def test_asset_puts_answer_as_azure(tls_runtime):
    """Asset versions are synchronous: 201 + Location when new, 200 without when existing."""
    body = {"properties": {"image": "python:3.11", "isAnonymous": False, "isArchived": False}}
    s, h, _ = raw(tls_runtime, "PUT", "ws:/environments/e-put/versions/1?api-version=2022-05-01", body)
    assert s == 201 and h["location"].endswith("/environments/e-put/versions/1?api-version=2024-04-01")
    s, h, _ = raw(tls_runtime, "PUT", "ws:/environments/e-put/versions/1?api-version=2022-05-01", body)
    assert s == 200 and "location" not in h
    # an anonymous environment's 32-hex version, as the SDK sends it
    s, _, b = raw(tls_runtime, "PUT", "ws:/environments/CliV2AnonymousEnvironment/versions/"
                  "0d0b44ad5b7ef2fbcbfea27dbdc3a7a1?api-version=2022-05-01", body)
    assert s == 201 and b["name"] == "0d0b44ad5b7ef2fbcbfea27dbdc3a7a1"
    assert raw(tls_runtime, "DELETE", "ws:/environments/e-put/versions/7")[0] == 204


# ---- endpoints, keys, tokens ----------------------------------------------------------------


def test_endpoint_lro_headers_match_the_recordings(tls_runtime):
    rec = recording(OD)
    s, h, body = raw(tls_runtime, "PUT", "ws:/onlineEndpoints/lro-ep",
                     rec[4]["RequestBody"])
    assert s == 201
    want = {k.lower() for k in rec[4]["ResponseHeaders"]}
    for k in ("azure-asyncoperation", "location", "x-ms-async-operation-timeout"):
        assert k in want and k in h, k
    assert h["x-ms-async-operation-timeout"] == "PT30M"
    assert "/mfeOperationsStatus/oe:" in h["azure-asyncoperation"]
    assert h["location"].split("?")[0].endswith("/onlineEndpoints/lro-ep")
    status_url = h["azure-asyncoperation"].split(tls_runtime.url, 1)[1]
    s, _, st = tls_runtime.http("GET", status_url)
    assert s == 200 and set(st) == set(rec[5]["ResponseBody"]) and st["status"] == "Succeeded"
    # an update is 200, a delete 202 with Location, deleting what is gone 204
    s, _, _ = raw(tls_runtime, "PUT", "ws:/onlineEndpoints/lro-ep", rec[4]["RequestBody"])
    assert s == 200
    s, h, body = raw(tls_runtime, "DELETE", "ws:/onlineEndpoints/lro-ep")
    assert (s, body) == (rec[88]["StatusCode"], None)
    assert "/mfeOperationResults/oe:" in h["location"]
    res_url = h["location"].split(tls_runtime.url, 1)[1]
    assert tls_runtime.http("GET", res_url)[0] == 200
    assert raw(tls_runtime, "DELETE", "ws:/onlineEndpoints/lro-ep")[0] == 204


def test_keys_tokens_and_regenerate(ml, tls_runtime):
    ep = ml.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name="keys-ep", auth_mode="key")).result()
    assert ep.provisioning_state == "Succeeded" and ep.scoring_uri.startswith("https://")
    k1 = ml.online_endpoints.get_keys("keys-ep")
    # the SDK sends the key it wants replaced as keyValue: a new one comes back
    ml.online_endpoints.begin_regenerate_keys("keys-ep", key_type="primary").result()
    k2 = ml.online_endpoints.get_keys("keys-ep")
    assert k2.primary_key != k1.primary_key and k2.secondary_key == k1.secondary_key
    ml.online_endpoints.begin_regenerate_keys("keys-ep", key_type="secondary").result()
    assert ml.online_endpoints.get_keys("keys-ep").secondary_key != k1.secondary_key
    tok = ml.online_endpoints.begin_create_or_update(
        ManagedOnlineEndpoint(name="token-ep", auth_mode="aml_token")).result()
    assert tok.auth_mode.lower() == "aml_token"
    t = ml.online_endpoints.get_keys("token-ep")
    assert t.access_token and t.expiry_time_utc > time.time()
    assert {e.name for e in ml.online_endpoints.list()} >= {"keys-ep", "token-ep"}
    ml.online_endpoints.begin_delete("token-ep").result()
    ml.online_endpoints.begin_delete("keys-ep").result()
    with pytest.raises(ResourceNotFoundError):
        ml.online_endpoints.get("keys-ep")


# ---- the documented blue/green rollout ------------------------------------------------------


def invoke(ml, ep, deployment=None):
    return json.loads(ml.online_endpoints.invoke(
        endpoint_name=ep, deployment_name=deployment,
        request_file=os.path.join(DATA, "sample-request.json")))


def score_many(ml, rt, ep, n):
    """n requests to the scoring URI with the endpoint's key, as any client sends
    them. (The SDK's invoke() keeps the last deployment_name it was given in a
    shared header dict, so after invoke(..., deployment_name=X) every invoke goes
    to X: an SDK quirk, the same against Azure; see docs/azure-compat.md.)"""
    import ssl

    endpoint = ml.online_endpoints.get(ep)
    key = ml.online_endpoints.get_keys(ep).primary_key
    with open(os.path.join(DATA, "sample-request.json"), "rb") as f:
        body = f.read()
    ctx = ssl.create_default_context(cafile=rt.ca_file())
    seen = []
    for _ in range(n):
        req = urllib.request.Request(endpoint.scoring_uri, data=body, method="POST", headers={
            "Authorization": "Bearer " + key, "Content-Type": "application/json"})
        with urllib.request.urlopen(req, timeout=30, context=ctx) as r:
            seen.append(round(json.loads(r.read())[0]))
    return set(seen)


def set_traffic(ml, ep, traffic, mirror=None):
    """The documented way: get the endpoint, set traffic, update it."""
    endpoint = ml.online_endpoints.get(ep)
    endpoint.traffic = traffic
    if mirror is not None:
        endpoint.mirror_traffic = mirror
    return ml.online_endpoints.begin_create_or_update(endpoint).result()


def test_blue_green_workflow(ml, tls_runtime, tmp_path):
    name = "sdk-blue-green"
    env = Environment(conda_file=os.path.join(DATA, "environment", "conda.yaml"),
                      image="mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest")
    code = CodeConfiguration(code=os.path.join(DATA, "onlinescoring"), scoring_script="score.py")
    blue_model = Model(path=sklearn_model(str(tmp_path / "model-1"), 1.0))
    green_model = Model(path=sklearn_model(str(tmp_path / "model-2"), 2.0))

    endpoint = ManagedOnlineEndpoint(name=name, description="blue/green", auth_mode="key")
    poller = ml.online_endpoints.begin_create_or_update(endpoint)
    assert poller.result().provisioning_state == "Succeeded" and poller.status() == "Succeeded"

    blue = ManagedOnlineDeployment(name="blue", endpoint_name=name, model=blue_model,
                                   environment=env, code_configuration=code,
                                   instance_type="Standard_DS3_v2", instance_count=1)
    got = ml.online_deployments.begin_create_or_update(blue).result()
    assert got.provisioning_state == "Succeeded" and got.instance_count == 1
    assert got.scale_settings.type == "default"
    set_traffic(ml, name, {"blue": 100})
    rows = invoke(ml, name)
    assert len(rows) == 2 and abs(rows[0] - 55.0) < 1e-6  # 1.0 x (1 + ... + 10)
    logs = ml.online_deployments.get_logs(name="blue", endpoint_name=name, lines=200)
    # the environment maps to /usr/bin/python3; its conda file was checked there
    assert "[environment] interpreter /usr/bin/python3 for image mcr.microsoft.com/" in logs
    assert "[environment] found: scipy" in logs
    assert "[environment] warning: scikit-learn 0.24.2 asked for" in logs
    assert "warning: the conda file asks for python" not in logs  # python=3.11 matches

    # scale blue the documented way: change instance_count and update
    blue.instance_count = 2
    got = ml.online_deployments.begin_create_or_update(blue).result()
    assert got.instance_count == 2 and got.provisioning_state == "Succeeded"

    green = ManagedOnlineDeployment(name="green", endpoint_name=name, model=green_model,
                                    environment=env, code_configuration=code,
                                    instance_type="Standard_DS3_v2", instance_count=1)
    ml.online_deployments.begin_create_or_update(green).result()
    assert ml.online_endpoints.get(name).traffic == {"blue": 100, "green": 0}
    assert abs(invoke(ml, name, "green")[0] - 110.0) < 1e-6
    assert abs(invoke(ml, name, "blue")[0] - 55.0) < 1e-6

    set_traffic(ml, name, {"blue": 90, "green": 10})
    assert score_many(ml, tls_runtime, name, 200) == {55, 110}

    set_traffic(ml, name, {"blue": 100, "green": 0}, {"green": 10})
    assert ml.online_endpoints.get(name).mirror_traffic == {"green": 10}
    assert score_many(ml, tls_runtime, name, 20) == {55}

    set_traffic(ml, name, {"blue": 0, "green": 100}, {})
    assert score_many(ml, tls_runtime, name, 20) == {110}
    assert abs(invoke(ml, name, "green")[0] - 110.0) < 1e-6
    assert sorted(d.name for d in ml.online_deployments.list(endpoint_name=name)) == ["blue", "green"]

    ml.online_deployments.begin_delete(name="blue", endpoint_name=name).result()
    assert [d.name for d in ml.online_deployments.list(endpoint_name=name)] == ["green"]
    ml.online_endpoints.begin_delete(name=name).result()
    with pytest.raises(ResourceNotFoundError):
        ml.online_endpoints.get(name)
    # the code asset the SDK uploaded is a code version in the workspace
    s, _, codes = raw(tls_runtime, "GET", "ws:/codes?api-version=2022-05-01")
    assert s == 200 and codes["value"], codes


def test_readme_safe_rollout_script(tls_runtime):
    """README's "Use the Azure SDK": Azure's documented safe rollout, as a script
    that knows nothing of mldeck (DefaultAzureCredential, a subscription and a
    resource group of its own), pointed at the runtime by the environment only."""
    import subprocess

    env = {k: v for k, v in os.environ.items() if not k.startswith(("AZURE_", "IDENTITY_"))}
    env.update(AZUREML_DEV_URL_MFE=tls_runtime.url, REQUESTS_CA_BUNDLE=tls_runtime.ca_file(),
               MSI_ENDPOINT=tls_runtime.url + "/MSI/auth", MSI_SECRET=tls_runtime.admin_key,
               PYTHONPATH=os.path.join(REPO, "tests", "shims"))
    p = subprocess.run([sys.executable, os.path.join(DEMO, "safe_rollout.py"),
                        "--workspace", tls_runtime.workspace], env=env, capture_output=True,
                       text=True, timeout=300)
    assert p.returncode == 0, p.stdout + p.stderr
    out = [line.lstrip(".") for line in p.stdout.splitlines()]  # the pollers print dots
    assert "blue: [55.0" in out[0] and out[0].count(",") == 1, out  # 1 x (1+...+10), 2 rows
    assert any(line.startswith("green: [110.0") for line in out), out
    assert [ast.literal_eval(line[9:]) for line in out if line.startswith("traffic: {")] == \
        [{"blue": 0, "green": 100}], out
    name = out[-1].split()[-1]
    s, _, _ = raw(tls_runtime, "GET", "ws:/onlineEndpoints/" + name)
    assert s == 404


def test_deployment_lro_status_and_recorded_shape(ml, tls_runtime, tmp_path):
    """The status resource of a deployment: Updating while it loads, then
    Succeeded; its members as recorded (od E21..E76); the deployment body has
    every member of recording E77 the SDK reads."""
    rec = recording(OD)
    ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name="shape-ep")).result()
    dep = ManagedOnlineDeployment(
        name="shape", endpoint_name="shape-ep",
        model=Model(path=sklearn_model(str(tmp_path / "m"), 1.0)),
        environment=Environment(image="python:3.11"),
        code_configuration=CodeConfiguration(code=os.path.join(DATA, "onlinescoring"),
                                             scoring_script="score.py"),
        instance_type="Standard_DS3_v2", instance_count=1)
    poller = ml.online_deployments.begin_create_or_update(dep)
    poller.result()
    s, _, body = raw(tls_runtime, "GET", "ws:/onlineEndpoints/shape-ep/deployments/shape")
    want = rec[77]["ResponseBody"]
    assert set(want) <= set(body)
    assert set(want["properties"]) <= set(body["properties"]), set(want["properties"]) - set(
        body["properties"])
    assert body["properties"]["codeConfiguration"]["codeId"].startswith(
        "/subscriptions/%s/resourceGroups/%s/" % (SUB, RG))
    # an identical PUT keeps it Succeeded (it used to stick in Scaling)
    s, h, again = raw(tls_runtime, "PUT", "ws:/onlineEndpoints/shape-ep/deployments/shape",
                      {"properties": body["properties"], "sku": body["sku"]})
    assert s == 200 and again["properties"]["provisioningState"] == "Succeeded"
    status_url = h["azure-asyncoperation"].split(tls_runtime.url, 1)[1]
    s, _, st = tls_runtime.http("GET", status_url)
    assert st["status"] == "Succeeded" and set(st) == set(rec[76]["ResponseBody"])
    ml.online_endpoints.begin_delete("shape-ep").result()


def test_missing_conda_packages_fail_the_deployment_and_say_which(ml, tmp_path):
    conda = tmp_path / "conda.yaml"
    conda.write_text("name: broken\ndependencies:\n  - python=3.11\n  - pip:\n"
                     "    - surely-not-installed-mldeck-pkg==1.0\n    - joblib\n")
    ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name="broken-ep")).result()
    dep = ManagedOnlineDeployment(
        name="broken", endpoint_name="broken-ep",
        model=Model(path=sklearn_model(str(tmp_path / "m"), 1.0)),
        environment=Environment(image="python:3.11", conda_file=str(conda)),
        code_configuration=CodeConfiguration(code=os.path.join(DATA, "onlinescoring"),
                                             scoring_script="score.py"),
        instance_type="Standard_DS3_v2", instance_count=1)
    with pytest.raises(HttpResponseError) as e:
        ml.online_deployments.begin_create_or_update(dep).result()
    assert "surely-not-installed-mldeck-pkg" in str(e.value)
    got = ml.online_deployments.get("broken", "broken-ep")
    assert got.provisioning_state == "Failed"
    logs = ml.online_deployments.get_logs("broken", "broken-ep", lines=100)
    assert "[environment] missing: surely-not-installed-mldeck-pkg (pip)" in logs
    assert "[environment] found: joblib" in logs
    ml.online_endpoints.begin_delete("broken-ep").result()


def test_lists_page_with_next_link(tmp_path):
    rt = Runtime(str(tmp_path / "home"), extra_args=["--tls", "--page-size", "2"]).start()
    try:
        ml = sdk_client(rt)
        for i in range(5):
            rt.http("PUT", rt.ws + "/onlineEndpoints/page-%d" % i, {"properties": {"authMode": "Key"}})
        s, _, first = rt.http("GET", rt.ws + "/onlineEndpoints?api-version=2024-04-01")
        assert s == 200 and len(first["value"]) == 2
        assert "$skipToken=2" in first["nextLink"] and first["nextLink"].startswith(rt.url)
        # the SDK's pager follows nextLink
        assert sorted(e.name for e in ml.online_endpoints.list()) == ["page-%d" % i for i in range(5)]
        s, _, capped = rt.http("GET", rt.ws + "/onlineEndpoints?count=1")
        assert len(capped["value"]) == 1 and "count=1" in capped["nextLink"]
        # the client's page size is taken past --page-size (one answer for a console)
        s, _, big = rt.http("GET", rt.ws + "/onlineEndpoints?count=4")
        assert len(big["value"]) == 4 and "$skipToken=4" in big["nextLink"]
        s, _, whole = rt.http("GET", rt.ws + "/onlineEndpoints?count=10000")
        assert [e["name"] for e in whole["value"]] == ["page-%d" % i for i in range(5)]
        assert "nextLink" not in whole
        # the CLI follows it too
        r = rt.cli("-o", "json", "endpoint", "list", env={"MLDECK_CA_FILE": rt.ca_file()})
        assert sorted(e["name"] for e in json.loads(r.stdout)) == [
            "page-%d" % i for i in range(5)]
        # the batch side's lists page the same way
        for i in range(3):
            rt.http("PUT", rt.ws + "/batchEndpoints/batch-%d" % i, {"properties": {}})
        s, _, first = rt.http("GET", rt.ws + "/batchEndpoints")
        assert s == 200 and len(first["value"]) == 2 and "$skipToken=2" in first["nextLink"]
        assert sorted(e.name for e in ml.batch_endpoints.list()) == [
            "batch-%d" % i for i in range(3)]
    finally:
        assert rt.stop() == 0


# ---- MLflow models, deployed without a scoring script ---------------------------------------


MLMODEL_SKLEARN = """artifact_path: model
flavors:
  python_function:
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.sklearn
    model_path: model.pkl
    predict_fn: predict
    python_version: 3.11.2
  sklearn:
    code: null
    pickled_model: model.pkl
    serialization_format: pickle
    sklearn_version: 1.2.1
mlflow_version: 2.3.0
model_uuid: 8f0b1c2e9d0a4a36a0f9f0d6c1b1e0aa
"""

MLMODEL_XGBOOST = """artifact_path: model
flavors:
  python_function:
    data: model.json
    env:
      conda: conda.yaml
      virtualenv: python_env.yaml
    loader_module: mlflow.xgboost
    python_version: 3.11.2
  xgboost:
    code: null
    data: model.json
    model_class: xgboost.core.Booster
    model_format: json
    xgb_version: 1.7.4
mlflow_version: 2.3.0
"""


def mlflow_sklearn(folder):
    import pickle

    import numpy
    from sklearn.linear_model import LinearRegression

    os.makedirs(folder)
    x = numpy.random.RandomState(1).rand(40, 3)
    with open(os.path.join(folder, "model.pkl"), "wb") as f:
        pickle.dump(LinearRegression().fit(x, 3 * x[:, 0] + 1), f)
    with open(os.path.join(folder, "MLmodel"), "w") as f:
        f.write(MLMODEL_SKLEARN)
    return folder


def mlflow_xgboost(folder):
    import numpy
    import xgboost

    os.makedirs(folder)
    x = numpy.random.RandomState(2).rand(60, 3)
    booster = xgboost.train({"objective": "reg:squarederror", "max_depth": 2},
                            xgboost.DMatrix(x, label=x[:, 1] * 10), num_boost_round=20)
    booster.save_model(os.path.join(folder, "model.json"))
    with open(os.path.join(folder, "MLmodel"), "w") as f:
        f.write(MLMODEL_XGBOOST)
    return folder, booster


def test_mlflow_models_deploy_without_a_script(ml, tls_runtime, tmp_path):
    import numpy
    import xgboost

    sk = ml.models.create_or_update(Model(name="mlflow-sk", path=mlflow_sklearn(
        str(tmp_path / "sk")), type=AssetTypes.MLFLOW_MODEL))
    assert sk.type == "mlflow_model"
    assert sk.flavors["sklearn"]["pickled_model"] == "model.pkl"  # read from MLmodel
    assert "python_function" in sk.flavors
    folder, booster = mlflow_xgboost(str(tmp_path / "xgb"))
    xg = ml.models.create_or_update(Model(name="mlflow-xgb", path=folder,
                                          type=AssetTypes.MLFLOW_MODEL))
    assert xg.flavors["xgboost"]["data"] == "model.json"

    ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name="mlflow-ep")).result()
    for name, model in (("skl", sk), ("xgb", xg)):
        d = ml.online_deployments.begin_create_or_update(ManagedOnlineDeployment(
            name=name, endpoint_name="mlflow-ep", model=model,
            instance_type="Standard_DS3_v2", instance_count=1)).result()
        assert d.provisioning_state == "Succeeded" and d.environment is None
    rows = [[0.5, 0.1, 0.2], [0.25, 0.9, 0.3]]
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"input_data": {"columns": ["a", "b", "c"], "index": [0, 1],
                                              "data": rows}}))
    got = json.loads(ml.online_endpoints.invoke("mlflow-ep", deployment_name="skl",
                                                request_file=str(req)))
    assert [round(v, 6) for v in got] == [2.5, 1.75]
    got = json.loads(ml.online_endpoints.invoke("mlflow-ep", deployment_name="xgb",
                                                request_file=str(req)))
    want = booster.predict(xgboost.DMatrix(numpy.array(rows)))
    assert numpy.allclose(got, want, rtol=1e-6), (got, want)
    logs = ml.online_deployments.get_logs("xgb", "mlflow-ep", lines=50)
    assert "the xgboost flavor, scored in process" in logs
    # a flavor nothing here serves is refused when deploying, with its name
    other = tmp_path / "onnx"
    other.mkdir()
    (other / "MLmodel").write_text("flavors:\n  onnx:\n    data: model.onnx\n")
    (other / "model.onnx").write_bytes(b"\0")
    onnx = ml.models.create_or_update(Model(name="mlflow-onnx", path=str(other),
                                            type=AssetTypes.MLFLOW_MODEL))
    with pytest.raises(HttpResponseError) as e:
        ml.online_deployments.begin_create_or_update(ManagedOnlineDeployment(
            name="onnx-d", endpoint_name="mlflow-ep", model=onnx,
            instance_type="Standard_DS3_v2", instance_count=1)).result()
    assert "xgboost nor a sklearn flavor" in str(e.value)
    ml.online_endpoints.begin_delete("mlflow-ep").result()


def test_images_map_to_interpreters(tmp_path):
    """HOME/runtime.ini maps image patterns to interpreters; the first match wins,
    no match means /usr/bin/python3; the choice is in the deployment's log."""
    home = tmp_path / "home"
    home.mkdir(mode=0o700)
    venv = tmp_path / "venv" / "bin"
    venv.mkdir(parents=True)
    os.symlink("/usr/bin/python3", str(venv / "python"))
    (home / "runtime.ini").write_text(
        '[image "mcr.microsoft.com/azureml/openmpi*"]\npython = %s\n'
        '[image "*"]\npython = /usr/bin/python3\n' % (venv / "python"))
    rt = Runtime(str(home), extra_args=["--tls"]).start()
    try:
        ml = sdk_client(rt)
        ml.online_endpoints.begin_create_or_update(ManagedOnlineEndpoint(name="img-ep")).result()
        folder = sklearn_model(str(tmp_path / "m"), 1.0)
        for dep, image in (("mapped", "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:1"),
                           ("default", "python:3.11")):
            ml.online_deployments.begin_create_or_update(ManagedOnlineDeployment(
                name=dep, endpoint_name="img-ep", model=Model(path=folder),
                environment=Environment(image=image),
                code_configuration=CodeConfiguration(code=os.path.join(DATA, "onlinescoring"),
                                                     scoring_script="score.py"),
                instance_type="Standard_DS3_v2", instance_count=1)).result()
        assert "interpreter %s for image mcr." % (venv / "python") in \
            ml.online_deployments.get_logs("mapped", "img-ep", lines=50)
        assert "interpreter /usr/bin/python3 for image python:3.11" in \
            ml.online_deployments.get_logs("default", "img-ep", lines=50)
    finally:
        assert rt.stop() == 0


def test_the_mgmt_client_reads_and_writes_every_kind(tmp_path):
    """azure-mgmt-machinelearningservices (the generated ARM client, api-version
    2022-10-01) against the runtime: every read deserialises, the long-running
    operations finish through Azure-AsyncOperation, and its pagers follow
    nextLink (a runtime with pages of 2)."""
    from azure.mgmt.machinelearningservices import MachineLearningServicesMgmtClient
    from azure.mgmt.machinelearningservices import models as m

    rt = Runtime(str(tmp_path / "home"), extra_args=["--tls", "--page-size", "2"]).start()
    try:
        os.environ["REQUESTS_CA_BUNDLE"] = rt.ca_file()
        c = MachineLearningServicesMgmtClient(AdminKey(rt.admin_key), SUB, base_url=rt.url,
                                              polling_interval=0.05)
        ws = rt.workspace
        assert c.workspaces.get(RG, ws).location == "local"
        assert [d.name for d in c.datastores.list(RG, ws)] == ["workspaceblobstore"]
        assert c.datastores.list_secrets(RG, ws, "workspaceblobstore").secrets_type == "AccountKey"
        model = os.path.join(REPO, "demo", "models", "churn-linear.json")
        for v in ("1", "1.1", "2"):
            c.model_versions.create_or_update(RG, ws, "churn", v, m.ModelVersion(
                properties=m.ModelVersionProperties(model_uri=model, model_type="linear")))
        got = c.model_versions.get(RG, ws, "churn", "1.1")
        assert got.properties.flavors == {} and got.system_data.created_at is not None
        assert sorted(x.name for x in c.model_versions.list(RG, ws, "churn")) == ["1", "1.1", "2"]
        latest = c.model_versions.list(RG, ws, "churn", order_by="createdtime desc", top=1)
        assert [x.name for x in latest] == ["2"]
        assert c.model_containers.get(RG, ws, "churn").properties.latest_version == "2"
        image = "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest"
        env = c.environment_versions.create_or_update(RG, ws, "py", "1", m.EnvironmentVersion(
            properties=m.EnvironmentVersionProperties(image=image, conda_file="dependencies:\n  - pip\n")))
        assert env.properties.image == image and "pip" in env.properties.conda_file
        assert c.environment_containers.get(RG, ws, "py").system_data is not None

        for name in ("mg-a", "mg-b", "mg-c"):
            ep = c.online_endpoints.begin_create_or_update(RG, ws, name, m.OnlineEndpoint(
                location="local", properties=m.OnlineEndpointProperties(auth_mode="Key"))).result()
            assert ep.properties.provisioning_state == "Succeeded"
        # three endpoints, two a page: the pager follows nextLink
        assert sorted(e.name for e in c.online_endpoints.list(RG, ws)) == ["mg-a", "mg-b", "mg-c"]
        k1 = c.online_endpoints.list_keys(RG, ws, "mg-a")
        c.online_endpoints.begin_regenerate_keys(RG, ws, "mg-a", m.RegenerateEndpointKeysRequest(
            key_type="Primary", key_value=k1.primary_key)).result()
        assert c.online_endpoints.list_keys(RG, ws, "mg-a").primary_key != k1.primary_key

        # a native environment (mldeck's own kind, which the generated models cannot say)
        s, _, _ = rt.http("PUT", "ws:/environments/native/versions/1",
                          {"properties": {"environmentKind": "native"}})
        assert s == 201
        prefix = ("/subscriptions/%s/resourceGroups/%s/providers/Microsoft.MachineLearning"
                  "Services/workspaces/%s" % (SUB, RG, ws))
        d = c.online_deployments.begin_create_or_update(RG, ws, "mg-a", "blue", m.OnlineDeployment(
            location="local", sku=m.Sku(name="Default", capacity=1),
            properties=m.ManagedOnlineDeployment(
                model=prefix + "/models/churn/versions/1",
                environment_id=prefix + "/environments/native/versions/1",
                environment_variables={"A": "1"}))).result()
        assert d.properties.provisioning_state == "Succeeded", d.properties
        assert d.properties.scale_settings.scale_type == "Default" and d.sku.capacity == 1
        assert [x.name for x in c.online_deployments.list(RG, ws, "mg-a")] == ["blue"]
        logs = c.online_deployments.get_logs(RG, ws, "mg-a", "blue", m.DeploymentLogsRequest(tail=20))
        assert "deployment is up" in logs.content
        c.online_deployments.begin_delete(RG, ws, "mg-a", "blue").result()
        for name in ("mg-a", "mg-b", "mg-c"):
            c.online_endpoints.begin_delete(RG, ws, name).result()
        assert list(c.online_endpoints.list(RG, ws)) == []
    finally:
        assert rt.stop() == 0, rt.logtext()[-4000:]
