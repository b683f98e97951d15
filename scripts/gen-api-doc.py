#!/usr/bin/python3
"""Writes docs/api.md from real exchanges with a real runtime: every route is
called once and the request and answer shown are exactly what went over the
wire (ids and keys shortened). Run: scripts/gen-api-doc.py [MLDECK_BIN]"""

import json
import os
import re
import subprocess
import sys
import tempfile
import time
import urllib.error
import urllib.request

REPO = os.path.dirname(os.path.dirname(os.path.abspath(__file__)))
BIN = sys.argv[1] if len(sys.argv) > 1 else os.path.join(REPO, "mldeck")
WS = ("/subscriptions/00000000-0000-0000-0000-000000000000/resourceGroups/local/providers/"
      "Microsoft.MachineLearningServices/workspaces/local")
MODEL = os.path.join(REPO, "demo", "models", "churn-linear.json")
SCORE = os.path.join(REPO, "demo", "azure-sdk", "model-1", "onlinescoring", "score.py")
CONDA = """name: model-env
channels:
  - conda-forge
dependencies:
  - python=3.11
  - numpy
  - pip
  - pip:
    - joblib
"""


def pretty(obj):
    """Indented JSON with arrays of numbers kept on one line."""
    s = json.dumps(obj, indent=2)
    return re.sub(r"\[\s+([-0-9.eE+,\s]+?)\s+\]",
                  lambda m: "[" + ", ".join(x.strip() for x in m.group(1).split(",")) + "]", s)


class Doc:
    def __init__(self, url, key):
        self.url, self.key, self.out = url, key, []
        self.secrets = {key: "ADMIN_KEY"}

    def text(self, s):
        self.out.append(s)

    def hide(self, s):
        for secret, name in self.secrets.items():
            s = s.replace(secret, name)
        s = s.replace(self.url, "http://127.0.0.1:5800")
        s = s.replace(self.url.split("//")[1], "127.0.0.1:5800")
        s = re.sub(r"SharedKey ([^:]*):[A-Za-z0-9+/=]+", r"SharedKey \1:SIGNATURE", s)
        s = re.sub(r"(x-ms-date|Date): [A-Z][a-z]{2}, [^\n]* GMT", r"\1: Sun, 22 Nov 2026 10:00:00 GMT", s)
        s = re.sub(r'"expires_on": [0-9]+', '"expires_on": 1795341600', s)
        s = re.sub(r"(mfeOperation(?:sStatus|Results)/|\"name\": \")o([de]):[0-9a-f]{32}",
                   r"\1o\2:OPERATION_ID", s)
        s = re.sub(r'("startTime"|"endTime"): "[^"]*"', r'\1: "2026-11-22T10:00:00Z"', s)
        s = s.replace(REPO, "/src/mldeck")
        s = re.sub(r"churn-monitor-[0-9]{14}-[0-9a-f]{8}", "churn-monitor-20261122100000-3f2a9c1e", s)
        s = re.sub(r'"(id|correlationid)": "[0-9a-f]{8}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{4}-[0-9a-f]{12}"',
                   r'"\1": "5d1c2b3a-4e5f-4a6b-8c7d-9e0f1a2b3c4d"', s)
        s = re.sub(r'"(time|lastModified|startTimeUtc|endTimeUtc|nextRun|start|end|windowStart|'
                   r'windowEnd)": '
                   r'"20[0-9]{2}-[0-9]{2}-[0-9]{2}T[0-9:.]+Z"', r'"\1": "2026-11-22T10:00:00Z"', s)
        s = re.sub(r"/tmp/mldeck-apidoc-[A-Za-z0-9_]+/", "/var/lib/mldeck/", s)
        s = re.sub(r"modelDataCollector/churn-ep/blue/([a-z_]+)/[0-9/]+/[0-9a-f]{16}",
                   r"modelDataCollector/churn-ep/blue/\1/2026/11/22/10/7e3d2a91c4b5f608", s)
        s = re.sub(r'ETag: "0x[0-9A-F]+"', 'ETag: "0x8DD0A1B2C3D4E5F"', s)
        s = re.sub(r'("createdAt"|"lastModifiedAt"): "[^"]*"', r'\1: "2026-11-22T10:00:00Z"', s)
        s = re.sub(r'"accessToken": "[^"]*"', '"accessToken": "eyJhbGciOi..."', s)
        s = re.sub(r'("startTimeUtc"|"endTimeUtc"|"nextRunTime"): "[^"]*"',
                   r'\1: "2026-11-22T10:00:00Z"', s)
        return s

    def call(self, title, method, path, body=None, auth="admin", headers=None, raw=None,
             show=True, raw_label=None):
        hdrs = dict(headers or {}) if not callable(headers) else {}
        if auth == "admin":
            hdrs["Authorization"] = "Bearer " + self.key
        elif auth:
            hdrs["Authorization"] = "Bearer " + auth
        data = raw
        if body is not None:
            data = json.dumps(body).encode()
            hdrs["Content-Type"] = "application/json"
        full = path.replace("{ws}", WS)
        if callable(headers):  # signed over the final request (Blob SharedKey)
            hdrs = headers(method, full, hdrs, raw)
        req = urllib.request.Request(self.url + full, data=data, method=method, headers=hdrs)
        try:
            with urllib.request.urlopen(req) as r:
                status, rh, text = r.status, r.headers, r.read().decode(errors="replace")
        except urllib.error.HTTPError as e:
            status, rh, text = e.code, e.headers, e.read().decode(errors="replace")
        try:
            parsed = json.loads(text) if text else None
        except ValueError:
            parsed = text
        self.last_headers = {k.lower(): v for k, v in rh.items()}
        if show:
            self.text("### %s\n" % title)
            lines = ["%s %s" % (method, full.replace(WS, "{ws}"))]
            for k, v in hdrs.items():
                if k != "Content-Type":
                    lines.append("%s: %s" % (k, v))
            if body is not None:
                lines.append("")
                lines.append(pretty(body))
            elif raw is not None:
                lines.append("")
                lines.append(raw_label or "<%d bytes of the model file>" % len(raw))
            self.text("```http\n" + self.hide("\n".join(lines)) + "\n```\n")
            ans = ["HTTP/1.1 %d" % status]
            for k in ("x-request-id", "azureml-model-deployment", "location",
                      "azure-asyncoperation", "x-ms-async-operation-timeout", "retry-after",
                      "x-ms-error-code", "etag", "content-md5"):
                if rh.get(k):
                    ans.append("%s: %s" % (HEADER_CASE.get(k, k), rh.get(k)))
            if parsed is not None:
                ans.append("")
                ans.append(pretty(parsed) if not isinstance(parsed, str) else parsed)
            self.text("```http\n" + self.hide("\n".join(ans)) + "\n```\n")
        return status, parsed


HEADER_CASE = {"location": "Location", "azure-asyncoperation": "Azure-AsyncOperation",
               "retry-after": "Retry-After", "etag": "ETag", "content-md5": "Content-MD5"}


def shared_key(key):
    """Azure Storage's SharedKey signature (what the Azure SDK sends) as a
    headers function for Doc.call."""
    import base64
    import email.utils
    import hashlib
    import hmac
    import urllib.parse

    def sign(method, path, hdrs, raw):
        h = dict(hdrs)
        h["x-ms-date"] = email.utils.formatdate(usegmt=True)
        h["x-ms-version"] = "2021-08-06"
        if raw is not None:
            h["Content-Type"] = "application/octet-stream"
            h["Content-Length"] = str(len(raw))
            h["Content-MD5"] = base64.b64encode(hashlib.md5(raw).digest()).decode()
            h["x-ms-blob-type"] = "BlockBlob"
        u = urllib.parse.urlsplit(path)
        std = [h.get(n, "") for n in ("Content-Encoding", "Content-Language", "Content-Length",
                                      "Content-MD5", "Content-Type", "Date", "If-Modified-Since",
                                      "If-Match", "If-None-Match", "If-Unmodified-Since",
                                      "Range")]
        ms = "".join("%s:%s\n" % (k.lower(), v) for k, v in sorted(h.items()) if
                     k.lower().startswith("x-ms-"))
        res = "/mldeck" + u.path + "".join(
            "\n%s:%s" % (k.lower(), v) for k, v in sorted(urllib.parse.parse_qsl(u.query)))
        sts = method + "\n" + "\n".join(std) + "\n" + ms + res
        mac = hmac.new(base64.b64decode(key), sts.encode(), hashlib.sha256).digest()
        h["Authorization"] = "SharedKey mldeck:" + base64.b64encode(mac).decode()
        return h
    return sign


def wait_up(doc, ep, name):
    for _ in range(200):
        _, d = doc.call("", "GET", "{ws}/onlineEndpoints/%s/deployments/%s" % (ep, name), show=False)
        if d["properties"]["provisioningState"] in ("Succeeded", "Failed"):
            return
        time.sleep(0.05)


def wait_job(doc, name):
    for _ in range(600):
        _, j = doc.call("", "GET", "{ws}/jobs/" + name, show=False)
        if j["properties"]["status"] in ("Completed", "Failed", "Canceled"):
            return
        time.sleep(0.05)


def batch(d, home, sign, container):
    """Batch endpoints, invocation, jobs and schedules (docs/batch.md). The
    input is the data asset customers:1 registered above: a folder of the
    datastore, filled here through the Blob endpoint as the SDK would."""
    rows = json.load(open(os.path.join(REPO, "demo", "requests", "churn.json")))["data"]
    text = ",".join("f%d" % k for k in range(12)) + "\n"
    text += "".join(",".join(str(v) for v in r) + "\n" for r in rows)
    for i in range(2):
        d.call("", "PUT", "/mldeck.blob.core.windows.net/%s/customers/customers-%d.csv"
               % (container, i), raw=text.encode(), auth=None, headers=sign, show=False)
    d.secrets[os.path.realpath(home)] = "/home/me/.local/share/mldeck"
    d.secrets[home] = "/home/me/.local/share/mldeck"
    d.call("", "PUT", "{ws}/models/churn-scorer/versions/1",
           {"properties": {"modelType": "linear", "modelUri": MODEL}}, show=False)
    d.text("## Batch endpoints\n\nSee [batch.md](batch.md) for how jobs run.\n")
    d.call("Create a batch endpoint", "PUT", "{ws}/batchEndpoints/churn-batch",
           {"properties": {"authMode": "AADToken", "description": "weekly churn scores"}})
    d.call("Add a deployment (Azure's defaults fill what the body leaves out)", "PUT",
           "{ws}/batchEndpoints/churn-batch/deployments/nightly",
           {"properties": {"model": {"referenceType": "Id", "assetId": "azureml:churn-scorer:1"},
                           "miniBatchSize": 1, "maxConcurrencyPerInstance": 2}})
    d.call("Make it the default", "PATCH", "{ws}/batchEndpoints/churn-batch",
           {"properties": {"defaults": {"deploymentName": "nightly"}}})
    _, keys = d.call("List its keys", "POST", "{ws}/batchEndpoints/churn-batch/listkeys")
    d.secrets[keys["primaryKey"]] = "BATCH_PRIMARY_KEY"
    d.secrets[keys["secondaryKey"]] = "BATCH_SECONDARY_KEY"
    d.call("List batch endpoints", "GET", "{ws}/batchEndpoints")
    d.call("List its deployments", "GET", "{ws}/batchEndpoints/churn-batch/deployments")
    d.text("## Invoking a batch endpoint (data plane)\n")
    _, job = d.call("Start a job on a data asset (the key, or the admin key)", "POST",
                    "/batch/churn-batch/jobs",
                    {"properties": {"InputData": {"customers": {
                        "JobInputType": "UriFolder", "Uri": "azureml:customers:1"}},
                        "errorThreshold": 10}},
                    auth=keys["primaryKey"])
    d.secrets[job["name"]] = "batchjob-3f2a9c1e-0d4b-4e8a-9a51-7c0e5b2d6f10"
    wait_job(d, job["name"])
    d.text("## Jobs\n")
    d.call("Poll a job (its figures are live while it runs)", "GET", "{ws}/jobs/" + job["name"])
    d.call("List the jobs of an endpoint", "GET",
           "{ws}/jobs?properties=azureml.endpointname=churn-batch")
    d.call("Cancel (a finished job: nothing to do)", "POST",
           "{ws}/jobs/%s/cancel" % job["name"])
    d.text("## Schedules\n")
    d.call("Score every Monday at 03:15 in Seattle", "PUT", "{ws}/schedules/weekly-churn",
           {"properties": {"displayName": "weekly churn", "isEnabled": True,
                           "trigger": {"triggerType": "Recurrence", "frequency": "Week",
                                       "interval": 1,
                                       "schedule": {"hours": [3], "minutes": [15],
                                                    "weekDays": ["Monday"]},
                                       "timeZone": "Pacific Standard Time"},
                           "action": {"actionType": "InvokeBatchEndpoint",
                                      "endpointInvocationDefinition": {
                                          "endpoint": "azureml:" + WS +
                                          "/batchEndpoints/churn-batch",
                                          "inputs": {"customers": {
                                              "jobInputType": "uri_folder",
                                              "uri": "azureml:customers:1"}}}}}})
    d.call("A cron trigger (NCrontab)", "PUT", "{ws}/schedules/hourly",
           {"properties": {"trigger": {"triggerType": "Cron", "expression": "0 * * * *"},
                           "isEnabled": False,
                           "action": {"actionType": "InvokeBatchEndpoint",
                                      "endpointInvocationDefinition": {
                                          "endpoint": "azureml:churn-batch",
                                          "inputs": {"customers": {
                                              "jobInputType": "uri_folder",
                                              "uri": "azureml:customers:1"}}}}}})
    d.call("List schedules (all of them)", "GET", "{ws}/schedules?listViewType=All")
    _, trig = d.call("Run a schedule now", "POST", "{ws}/schedules/weekly-churn/trigger",
                     {"scheduleTime": "2026-11-23T03:15:00"})
    d.secrets[trig["submissionId"]] = "batchjob-5c9d1b2e-8f47-4a06-b3d1-2e6f90c4a7b8"
    wait_job(d, trig["submissionId"])
    d.call("Delete a schedule", "DELETE", "{ws}/schedules/hourly")
    d.call("The default deployment cannot be deleted", "DELETE",
           "{ws}/batchEndpoints/churn-batch/deployments/nightly")
    d.call("", "DELETE", "{ws}/schedules/weekly-churn", show=False)
    d.call("Delete a batch endpoint (and its deployments)", "DELETE",
           "{ws}/batchEndpoints/churn-batch")


INTRO = """# The runtime's HTTP API

This page is generated by `scripts/gen-api-doc.py` from real exchanges with a real
`mldeck serve`: every request and answer below went over the wire (timestamps, keys and tokens
are shortened). The resource API is Azure Machine Learning's ARM API, api-version 2024-04-01,
served locally; `{ws}` stands for the workspace prefix

    /subscriptions/{sub}/resourceGroups/{rg}/providers/Microsoft.MachineLearningServices/workspaces/{ws}

accepted for any `{sub}` and `{rg}` (resource ids in the answers echo the request's);
`{ws}` is the runtime's workspace (`--workspace`, default `local`). `?api-version=` is accepted
and ignored. `mldeck serve --tls` serves the same over https (required off loopback); Azure's own
Python SDK drives it unchanged: [azure-compat.md](azure-compat.md) lists every operation it
uses and what still differs from Azure.

## Conventions

- Control-plane auth: `Authorization: Bearer <admin key>` (from `$MLDECK_HOME/admin.key`, mode
  0600), on everything but `GET /healthz`, the data plane, the Blob endpoint (its own SharedKey
  or SAS) and `/MSI/auth` (its `secret` header). Keys are compared in constant time.
- Errors are Azure's shape `{"error": {"code": ..., "message": ...}}`; the message names the
  field and the reason. 400 invalid input, 401 credential, 404 missing resource, 405 wrong
  method, 409 a rule forbids it (traffic still on a deployment, a version in use), 413 body over
  the limit (4 MiB for JSON; raw model uploads and Blob bodies up to `--max-upload`).
- As Azure Resource Manager answers: a PUT creating a resource is 201 (with `Location` for
  assets), an update 200. Endpoint and deployment PUTs (and PATCHes) are long-running
  operations: the answer carries `Azure-AsyncOperation` (an operation-status resource, always
  200, that reads `Updating` until the deployment is up, then `Succeeded` or `Failed` with the
  error), `Location` (202 while running, then 200) and `x-ms-async-operation-timeout`. DELETE of
  an endpoint or deployment is 202 with `Location` (what is deleted is already gone), DELETE of
  an asset 200; deleting what is not there is 204.
- Deployments come up asynchronously: `provisioningState` `Creating`, then `Succeeded`, or
  `Failed` with the reason in `properties.error` and in getLogs. A change of instance count goes
  through `Scaling`; any other change through `Updating` (the old instance serves until the new
  one is up); an identical PUT changes nothing. After a restart every deployment is loaded
  again and shows `Updating` (`Creating` if it never came up) until it serves.
- Lists page as Azure's do: `count` (default `--page-size`, 100; at most 10,000) items a
  page, then `nextLink` (the same URL with `$skipToken`); `$top` caps the whole list. Asset lists take
  `$orderBy=createdtime desc|asc`, `listViewType=ActiveOnly|ArchivedOnly|All` and `isArchived`.
- Names: endpoints and deployments 3-32 characters (a letter first, then letters, digits and
  single dashes, not ending in a dash), asset names (models, environments, codes, data, jobs,
  schedules) the spec's `^[a-zA-Z0-9][a-zA-Z0-9\-_]{0,254}$`; asset versions are strings of
  1-64 letters, digits, `.`, `_`, `-` starting with a letter or digit, no `..` ("the latest" is
  the one registered last).
- Credentials are checked when the headers are complete, before the body is read: a refused
  request is answered at once (401, 403, 404, 405, 413) with `Connection: close`. Over a budget:
  503 with `Retry-After` (bodies in memory, uploads in flight), 507 (an upload would leave less
  than the reserve free). Malformed framing: 400 (two Content-Lengths, both Content-Length and
  Transfer-Encoding, HTTP/1.1 without Host, a NUL or control byte in the path or query), 501
  (a transfer coding other than chunked). See [security.md](security.md).
- Every acknowledged change is on disk (fsync) before the answer is sent.
- Every answer carries `x-request-id` (the client's, echoed, or a generated one).

## Local extensions (kept small)

- Model versions: `properties.modelUri` is a path of the workspace's datastore (what the Azure
  SDK uploads: `azureml://datastores/workspaceblobstore/paths/...` or the Blob URL), a path on
  the runtime's host or a `file://` URI (the runtime copies the file or directory into its home
  and records sha256 and size), or the body is the file itself with `Content-Type:
  application/octet-stream` (query `modelType=`, `filename=`, `description=`, or headers
  `x-mldeck-model-type`, `x-mldeck-filename`). `properties.modelType` is `xgboost`, `linear`,
  `mlp`, `custom_model` or `mlflow_model` (Azure's `CustomModel`/`MLFlowModel` too; an MLmodel
  file's flavours are read into `properties.flavors`).
- `POST {ws}/models/{name}/versions` (and likewise environments, codes, data) registers the
  next version.
- Environment versions: Azure's `image` and `condaFile` (a Python environment: the image picks an
  interpreter through `HOME/runtime.ini`, the conda file's packages are checked there; see
  [azure-compat.md](azure-compat.md)), or `properties.environmentKind` `native` or `python`,
  `properties.interpreterPath`, `properties.environmentVariables`, `properties.requiredModules`.
- Deployments: `properties.model` / `environmentId` take `azureml:NAME:VERSION`, `NAME:VERSION`
  or an ARM id; `codeConfiguration.codeId` names a code asset (ARM id or `azureml:NAME:VERSION`)
  or a directory on the runtime's host; an `mlflow_model` needs neither code nor environment.
  Capacity is Azure's: `sku.capacity` x `maxConcurrentRequestsPerInstance` requests run at once,
  twice that wait (until `requestTimeout`), the rest get 429; a custom_model runs `WORKER_COUNT`
  (an environment variable of the deployment or environment, default 1) Python processes per
  instance, for which admitted requests queue, each limited to `MLDECK_WORKER_MEMORY_MB` MiB
  (likewise a variable; default the runtime's `--worker-memory-mb`, 4096; 0: none).
- Endpoints: PATCH also takes `properties.traffic` and `properties.mirrorTraffic`.
- `/MSI/auth`: an Azure ML compute instance's managed-identity endpoint, so that
  `DefaultAzureCredential()` works unchanged (`MSI_ENDPOINT`, `MSI_SECRET` = the admin key).
- Batch endpoints are invoked at `POST /batch/{endpoint}/jobs` (their `scoringUri`) with one of
  their keys or the admin key (Azure takes a Microsoft Entra token); input URIs may be data
  assets, datastore paths or, with the admin key, paths on the runtime's host; jobs expose their figures
  and a local `nextRunTime` on schedules. See [batch.md](batch.md).

"""


def main():
    home = tempfile.mkdtemp(prefix="mldeck-apidoc-")
    proc = subprocess.Popen([BIN, "serve", "--listen", "127.0.0.1:0", "--home", home],
                            stderr=subprocess.PIPE, text=True)
    url = None
    for line in proc.stderr:
        m = re.search(r"listening on (http://[0-9.:]+)", line)
        if m:
            url = m.group(1)
            break
    key = open(os.path.join(home, "admin.key")).read().strip()
    d = Doc(url, key)
    d.text(INTRO)
    try:
        d.text("## Health\n")
        d.call("Liveness of the runtime (no auth)", "GET", "/healthz", auth=None)
        _, ws = d.call("", "GET", "{ws}", show=False)
        d.secrets[ws["properties"]["workspaceId"]] = "WORKSPACE_ID"
        _, sec = d.call("", "POST", "{ws}/datastores/workspaceblobstore/listSecrets", show=False)
        d.secrets[sec["key"]] = "ACCOUNT_KEY"
        d.text("## The workspace and its datastore\n")
        d.call("The workspace (the Azure SDK reads its location)", "GET", "{ws}")
        _, ds = d.call("The default datastore", "GET", "{ws}/datastores/workspaceblobstore")
        d.call("Its credentials (an account key on loopback, else a container SAS)", "POST",
               "{ws}/datastores/workspaceblobstore/listSecrets")
        d.text("## Models\n")
        d.call("Register a model version from a path", "PUT", "{ws}/models/churn/versions/1",
               {"properties": {"modelType": "linear", "modelUri": "file://" + MODEL,
                               "description": "churn logistic regression"}})
        d.call("Upload a model version raw", "PUT",
               "{ws}/models/churn/versions/2?modelType=linear&filename=churn.json",
               raw=open(MODEL, "rb").read(), headers={"Content-Type": "application/octet-stream"})
        d.call("Register the next version", "POST", "{ws}/models/churn/versions",
               {"properties": {"modelType": "linear", "modelUri": MODEL}})
        d.call("List models (containers)", "GET", "{ws}/models")
        d.call("Show a model container", "GET", "{ws}/models/churn")
        d.call("List a model's versions", "GET", "{ws}/models/churn/versions")
        d.call("Show a model version", "GET", "{ws}/models/churn/versions/1")
        d.call("Delete a model version", "DELETE", "{ws}/models/churn/versions/3")
        d.call("A bad request names the field", "PUT", "{ws}/models/churn/versions/4",
               {"properties": {"modelType": "pytorch", "modelUri": MODEL}})
        d.call("Versions are strings", "PUT", "{ws}/models/churn/versions/2024.11-rc1",
               {"properties": {"modelType": "linear", "modelUri": MODEL}})
        d.call("The latest version (the one registered last), as the Azure SDK asks", "GET",
               "{ws}/models/churn/versions?$orderBy=createdtime%20desc&$top=1")
        d.call("", "PUT", "{ws}/models/churn-2019/versions/1",
               {"properties": {"modelType": "linear", "modelUri": MODEL}}, show=False)
        d.call("Archive a model (its container)", "PUT", "{ws}/models/churn-2019",
               {"properties": {"isArchived": True}})
        d.call("Archived models are listed on request", "GET",
               "{ws}/models?listViewType=ArchivedOnly")
        d.text("## Environments\n")
        d.call("Create a native environment", "PUT", "{ws}/environments/native/versions/1",
               {"properties": {"environmentKind": "native"}})
        d.call("Create a python environment", "PUT", "{ws}/environments/sklearn/versions/1",
               {"properties": {"environmentKind": "python", "interpreterPath": "/usr/bin/python3",
                               "requiredModules": ["numpy"],
                               "environmentVariables": {"OMP_NUM_THREADS": "1"}}})
        d.call("List environments", "GET", "{ws}/environments")
        d.call("Show an environment container", "GET", "{ws}/environments/native")
        d.call("List an environment's versions", "GET", "{ws}/environments/sklearn/versions")
        d.call("Show an environment version", "GET", "{ws}/environments/sklearn/versions/1")
        d.call("An environment as Azure's: an image and a conda file", "PUT",
               "{ws}/environments/sklearn-conda/versions/1",
               {"properties": {"image": "mcr.microsoft.com/azureml/openmpi4.1.0-ubuntu20.04:latest",
                               "condaFile": CONDA}})
        d.text("## Code assets and the Blob endpoint\n")
        d.text("The Azure SDK uploads a deployment's code folder (and a local model) to the "
               "default datastore with the Blob REST API, then registers a code version naming "
               "the folder. The runtime serves that Blob endpoint itself: the account is "
               "`HOST:PORT/mldeck`, so requests arrive path-style as "
               "`/mldeck.blob.core.windows.net/CONTAINER/NAME`, signed with the key from "
               "listSecrets (SharedKey) or carrying a SAS.\n")
        container = ds["properties"]["containerName"]
        d.secrets[container] = "azureml-blobstore-WORKSPACE_ID"
        folder = "/mldeck.blob.core.windows.net/%s/LocalUpload/0a1b2c3d/onlinescoring" % container
        score = open(SCORE, "rb").read()
        d.call("Upload a file (PUT blob)", "PUT", folder + "/score.py", raw=score, auth=None,
               headers=shared_key(sec["key"]), raw_label="<score.py, %d bytes>" % len(score))
        d.call("Read its properties (HEAD blob)", "HEAD", folder + "/score.py", auth=None,
               headers=shared_key(sec["key"]))
        d.call("A wrong signature is 403", "GET", folder + "/score.py", auth=None,
               headers={"x-ms-date": "Sun, 22 Nov 2026 10:00:00 GMT",
                        "Authorization": "SharedKey mldeck:AAAA"})
        d.call("Register a code version naming the uploaded folder", "PUT",
               "{ws}/codes/score/versions/1", {"properties": {"codeUri": d.url + folder}})
        d.text("## Data assets\n")
        d.text("Data assets are versioned as models are (string versions, latest, archive, "
               "list views). `dataType` is `uri_file` or `uri_folder`; `dataUri` is a path of "
               "the datastore (`azureml://datastores/workspaceblobstore/paths/...` or the Blob "
               "URL), a path on the runtime's host or a `file://` URI: what batch jobs read.\n")
        d.call("Register a data asset in the datastore", "PUT", "{ws}/data/customers/versions/1",
               {"properties": {"dataType": "uri_folder", "dataUri":
                               "azureml://datastores/workspaceblobstore/paths/customers/"}})
        d.call("Show a data container", "GET", "{ws}/data/customers")
        d.call("List data assets", "GET", "{ws}/data")
        d.text("## Online endpoints\n")
        d.call("Create an endpoint", "PUT", "{ws}/onlineEndpoints/churn-ep",
               {"properties": {"authMode": "Key", "description": "churn scoring"},
                "location": "local"})
        d.call("List endpoints", "GET", "{ws}/onlineEndpoints")
        _, keys = d.call("List its keys", "POST", "{ws}/onlineEndpoints/churn-ep/listKeys")
        d.secrets[keys["primaryKey"]] = "PRIMARY_KEY"
        d.secrets[keys["secondaryKey"]] = "SECONDARY_KEY"
        d.text("## Deployments\n")
        d.call("Create a deployment (asynchronous)", "PUT",
               "{ws}/onlineEndpoints/churn-ep/deployments/blue",
               {"properties": {"model": "azureml:churn:1", "environmentId": "azureml:native:1",
                               "requestSettings": {"maxConcurrentRequestsPerInstance": 4,
                                                   "requestTimeout": "PT5S"}},
                "sku": {"name": "Default", "capacity": 1}})
        op = d.last_headers["azure-asyncoperation"][len(d.url):]
        wait_up(d, "churn-ep", "blue")
        d.call("Follow its operation (Azure-AsyncOperation)", "GET", op)
        d.call("Show it once it is up", "GET", "{ws}/onlineEndpoints/churn-ep/deployments/blue")
        d.call("A second deployment", "PUT", "{ws}/onlineEndpoints/churn-ep/deployments/green",
               {"properties": {"model": "azureml:churn:2", "environmentId": "azureml:native:1"},
                "sku": {"capacity": 1}}, show=False)
        wait_up(d, "churn-ep", "green")
        d.call("List deployments", "GET", "{ws}/onlineEndpoints/churn-ep/deployments")
        d.call("Lists page with nextLink", "GET", "{ws}/onlineEndpoints/churn-ep/deployments?count=1")
        d.call("Scale (PATCH the instance count)", "PATCH",
               "{ws}/onlineEndpoints/churn-ep/deployments/blue", {"sku": {"capacity": 2}})
        wait_up(d, "churn-ep", "blue")
        d.text("## Traffic\n")
        d.call("Split live traffic and mirror a share", "PATCH", "{ws}/onlineEndpoints/churn-ep",
               {"properties": {"traffic": {"blue": 90, "green": 10}}})
        d.call("A rule refuses with the reason", "PATCH", "{ws}/onlineEndpoints/churn-ep",
               {"properties": {"traffic": {"blue": 90, "green": 20}}})
        d.call("Mirror may not target a deployment with live traffic", "PATCH",
               "{ws}/onlineEndpoints/churn-ep", {"properties": {"mirrorTraffic": {"green": 10}}})
        d.call("Show the endpoint", "GET", "{ws}/onlineEndpoints/churn-ep")
        d.text("## Scoring (data plane)\n")
        req = json.load(open(os.path.join(REPO, "demo", "requests", "churn.json")))
        d.call("Score by the split", "POST", "/endpoints/churn-ep/score", req, auth=keys["primaryKey"],
               headers={"x-request-id": "my-request-1"})
        d.call("Score on a named deployment", "POST", "/endpoints/churn-ep/score", req,
               auth=keys["primaryKey"], headers={"azureml-model-deployment": "green"})
        d.call("Bad input is a 400 with the reason", "POST", "/endpoints/churn-ep/score",
               {"data": [[1, 2, 3]]}, auth=keys["primaryKey"])
        d.call("A wrong key is a 401", "POST", "/endpoints/churn-ep/score", req, auth="nope")
        d.call("Endpoint liveness", "GET", "/endpoints/churn-ep/", auth=None)
        d.text("## Logs, keys, tokens\n")
        d.call("A deployment's log", "POST",
               "{ws}/onlineEndpoints/churn-ep/deployments/blue/getLogs", {"tail": 5})
        d.call("Regenerate a key (the old one stops working at once)", "POST",
               "{ws}/onlineEndpoints/churn-ep/regenerateKeys", {"keyType": "Secondary"})
        d.call("An AMLToken endpoint", "PUT", "{ws}/onlineEndpoints/fraud-ep",
               {"properties": {"authMode": "AMLToken"}})
        d.call("Get a token", "POST", "{ws}/onlineEndpoints/fraud-ep/token")
        d.call("A managed-identity token for DefaultAzureCredential (MSI_ENDPOINT)", "GET",
               "/MSI/auth?api-version=2017-09-01&resource=https://management.azure.com",
               auth=None, headers={"secret": key})
        d.text("## Metrics\n")
        d.call("Live metrics for the console", "GET", "/v1/metrics?window=5&endpoint=churn-ep")
        d.text("### Prometheus\n\n`GET /metrics` (admin key) answers the Prometheus text format with "
               "`mldeck_requests_total{endpoint,deployment,code}` and "
               "`mldeck_request_duration_seconds_bucket{endpoint,deployment,le}`, `_sum`, `_count`, "
               "and the HTTP layer's `mldeck_http_answers_total{path}`; "
               "see [metrics.md](metrics.md).\n")
        batch(d, home, shared_key(sec["key"]), container)
        d.text("## Model monitoring\n")
        d.text("A deployment's `dataCollector` writes Azure's JSONL records to the datastore "
               "(`modelDataCollector/...`) and registers each collection as a data asset; a "
               "monitor is a schedule with the `CreateMonitor` action whose runs are jobs; see "
               "[monitoring.md](monitoring.md).\n")
        collect = {"collections": {"model_inputs": {"dataCollectionMode": "Enabled",
                                                    "samplingRate": 1.0},
                                   "model_outputs": {"dataCollectionMode": "Enabled",
                                                     "samplingRate": 1.0}},
                   "rollingRate": "Hour"}
        d.call("Collect a deployment's inputs and outputs", "PUT",
               "{ws}/onlineEndpoints/churn-ep/deployments/blue",
               {"properties": {"model": "azureml:churn:1", "environmentId": "azureml:native:1",
                               "dataCollector": collect},
                "sku": {"name": "Default", "capacity": 2}})
        wait_up(d, "churn-ep", "blue")
        rows = [list(map(float, l.split(","))) for l in
                open(os.path.join(REPO, "demo", "data", "churn-train.csv")).read().split()[1:201]]
        for i in range(0, 200, 10):
            d.call("", "POST", "/endpoints/churn-ep/score", {"data": rows[i:i + 10]},
                   auth=keys["primaryKey"], headers={"azureml-model-deployment": "blue",
                                                     "x-request-id": "req-%03d" % i},
                   show=False)
        time.sleep(0.5)  # the collector writes every 100 ms
        d.call("The last record a collection wrote (NDJSON, as in its file)", "GET",
               "/v1/collected?endpoint=churn-ep&deployment=blue&collection=model_outputs&lines=1")
        d.call("Each collection is a data asset", "GET",
               "{ws}/data/churn-ep-blue-model_inputs/versions/1")
        d.call("The training data as the reference", "PUT", "{ws}/data/churn-train/versions/1",
               {"properties": {"dataType": "uri_file", "dataUri":
                               os.path.join(REPO, "demo", "data", "churn-train.csv")}})
        production = {"inputDataType": "Rolling", "jobInputType": "uri_folder",
                      "uri": "azureml:churn-ep-blue-model_inputs:1", "windowSize": "P1D",
                      "windowOffset": "P0D"}
        reference = {"inputDataType": "Fixed", "jobInputType": "uri_file",
                     "uri": "azureml:churn-train:1"}
        feats = {"filterType": "FeatureSubset", "features": ["7", "10"]}
        d.call("A monitor: a schedule with the CreateMonitor action", "PUT",
               "{ws}/schedules/churn-monitor",
               {"properties": {
                   "isEnabled": True,
                   "trigger": {"triggerType": "Recurrence", "frequency": "Day", "interval": 1,
                               "schedule": {"hours": [3], "minutes": [15]}, "timeZone": "UTC"},
                   "action": {"actionType": "CreateMonitor", "monitorDefinition": {
                       "monitoringTarget": {
                           "taskType": "Classification",
                           "deploymentId": WS + "/onlineEndpoints/churn-ep/deployments/blue"},
                       "signals": {
                           "drift": {"signalType": "DataDrift", "productionData": production,
                                     "referenceData": reference, "features": feats},
                           "quality": {"signalType": "DataQuality",
                                       "productionData": production,
                                       "referenceData": reference, "features": feats}},
                       "alertNotificationSettings": {"webhookNotificationSettings": {
                           "urls": ["http://127.0.0.1:9/alerts"]}}}}}})
        _, sub = d.call("Run it now", "POST", "{ws}/schedules/churn-monitor/trigger", {})
        job = sub["submissionId"]
        wait_job(d, job)
        d.call("The run is a job; its results are in its outputs", "GET", "{ws}/jobs/" + job)
        d.call("Monitors, live drift and alerts for the console", "GET",
               "/v1/monitors?endpoint=churn-ep&deployment=blue")
        d.text("### Prometheus\n\nWith a monitor, `GET /metrics` also has "
               "`mldeck_feature_drift{endpoint,deployment,signal,feature,metric}`, "
               "`mldeck_data_quality{endpoint,deployment,feature,metric}`, "
               "`mldeck_collector_records_total`, `mldeck_collector_lost_records_total` and "
               "`mldeck_monitor_webhooks_total`; see [monitoring.md](monitoring.md).\n")
        d.call("Delete the monitor (its runs stay as jobs)", "DELETE",
               "{ws}/schedules/churn-monitor")
        d.text("## Deleting\n")
        d.call("A deployment with traffic cannot be deleted", "DELETE",
               "{ws}/onlineEndpoints/churn-ep/deployments/blue")
        d.call("A model version in use cannot be deleted", "DELETE", "{ws}/models/churn/versions/1")
        d.call("Deleting an endpoint deletes its deployments", "DELETE",
               "{ws}/onlineEndpoints/churn-ep")
        d.call("Deleting what is not there is 204", "DELETE", "{ws}/onlineEndpoints/churn-ep")
        d.call("Delete an environment version", "DELETE", "{ws}/environments/sklearn/versions/1")
        d.call("Delete a model and all its versions", "DELETE", "{ws}/models/churn")
    finally:
        proc.terminate()
        proc.wait()
    with open(os.path.join(REPO, "docs", "api.md"), "w") as f:
        f.write(d.hide("\n".join(d.out)))


if __name__ == "__main__":
    main()
