"""Azure Resource Manager for one Azure ML workspace, as the recordings show
it: the workspace resource with its region, versioned assets (models,
environments, codes), the default datastore and its secrets, online
endpoints and deployments as long-running operations (201 +
Azure-AsyncOperation while "Updating"; 202 + Location + Retry-After for
deletes), lists in pages of config["page_size"] with nextLink, keys and
AML tokens, getLogs, and Azure Monitor metrics computed from the scoring
requests the data plane really served."""

import base64
import hashlib
import json
import math
import re
import secrets
import threading
import time
import urllib.parse
import uuid

from .web import error, iso, jresp

PROVIDER = "Microsoft.MachineLearningServices"
NAME_RX = re.compile(r"[a-zA-Z][a-zA-Z0-9-]{1,30}[a-zA-Z0-9]")
ASSET_RX = re.compile(r"[a-zA-Z0-9][a-zA-Z0-9\-_.]{0,254}")
TERMINAL = ("Succeeded", "Failed", "Canceled")
METRICS = {"RequestLatency_P50": 50, "RequestLatency_P90": 90, "RequestLatency_P95": 95,
           "RequestLatency_P99": 99, "RequestsPerMinute": None}
ASSET_KINDS = ("models", "environments", "codes")


def _system(t):
    return {"createdAt": iso(t), "createdBy": "fake", "createdByType": "Application",
            "lastModifiedAt": iso(t), "lastModifiedBy": "fake",
            "lastModifiedByType": "Application"}


def _percentile(xs, p):
    xs = sorted(xs)
    return xs[min(len(xs) - 1, max(0, int(math.ceil(p / 100.0 * len(xs))) - 1))]


def _iso_time(s):
    return time.mktime(time.strptime(s[:19], "%Y-%m-%dT%H:%M:%S")) - time.timezone


class Arm:
    def __init__(self, fake):
        self.fake = fake
        self.cfg = fake.config
        self.lock = threading.RLock()
        self.wsid = str(uuid.UUID(int=0x5EED))
        self.assets = {k: {} for k in ASSET_KINDS}  # kind -> name -> {version: resource}
        self.endpoints, self.deployments = {}, {}  # name / (ep, name) -> resource
        self.batch_endpoints, self.batch_deployments = {}, {}  # the same, batch
        self.keys, self.ops = {}, {}
        self.samples = []  # (time, ep, deployment, latency ms, status)
        self.logs = {}  # (ep, d) -> [lines]

    # ---- plumbing ---------------------------------------------------------
    def ws_path(self):
        f = self.fake
        return "/subscriptions/%s/resourceGroups/%s/providers/%s/workspaces/%s" % (
            f.sub, f.rg, PROVIDER, f.ws)

    def routes(self, r):
        ws = r"/subscriptions/(?P<sub>[^/]+)/resourceGroups/(?P<rg>[^/]+)/providers/" \
             r"Microsoft\.MachineLearningServices/workspaces/(?P<ws>[^/]+)"
        ep, dep = ws + r"/onlineEndpoints/(?P<ep>[^/]+)", r"/deployments/(?P<d>[^/]+)"
        bep = ws + r"/batchEndpoints/(?P<ep>[^/]+)"
        loc = r"/subscriptions/(?P<sub>[^/]+)/providers/Microsoft\.MachineLearningServices/" \
              r"locations/(?P<loc>[^/]+)"
        asset = ws + r"/(?P<kind>models|environments|codes)"
        for m, p, fn in (
                ("GET", ws, self.workspace),
                ("GET", ws + r"/datastores", self.datastores),
                ("GET", ws + r"/datastores/(?P<name>[^/]+)", self.datastore),
                ("POST", ws + r"/datastores/(?P<name>[^/]+)/listSecrets", self.secrets),
                ("GET", asset, self.asset_list),
                ("GET", asset + r"/(?P<name>[^/]+)", self.asset_container),
                ("GET", asset + r"/(?P<name>[^/]+)/versions", self.version_list),
                ("GET", asset + r"/(?P<name>[^/]+)/versions/(?P<v>[^/]+)", self.version_get),
                ("PUT", asset + r"/(?P<name>[^/]+)/versions/(?P<v>[^/]+)", self.version_put),
                ("DELETE", asset + r"/(?P<name>[^/]+)/versions/(?P<v>[^/]+)", self.version_del),
                ("GET", ws + r"/onlineEndpoints", self.ep_list),
                ("GET", ep, self.ep_get), ("PUT", ep, self.ep_put),
                ("PATCH", ep, self.ep_patch), ("DELETE", ep, self.ep_delete),
                ("POST", ep + r"/listKeys", self.ep_keys),
                ("POST", ep + r"/regenerateKeys", self.ep_regen),
                ("POST", ep + r"/token", self.ep_token),
                ("GET", ep + r"/deployments", self.dep_list),
                ("GET", ep + dep, self.dep_get), ("PUT", ep + dep, self.dep_put),
                ("PATCH", ep + dep, self.dep_patch), ("DELETE", ep + dep, self.dep_delete),
                ("POST", ep + dep + r"/getLogs", self.dep_logs),
                ("GET", bep, self.bep_get), ("PUT", bep, self.bep_put),
                ("GET", bep + dep, self.bdep_get), ("PUT", bep + dep, self.bdep_put),
                ("GET", loc + r"/mfeOperationsStatus/(?P<op>[^/]+)", self.op_status),
                ("GET", loc + r"/mfeOperationResults/(?P<op>[^/]+)", self.op_result),
                ("GET", r"(?P<res>/subscriptions/.+)/providers/microsoft\.insights/metrics",
                 self.metrics)):
            r.add(m, p, self._guard(fn))

    def _guard(self, fn):
        """Checks the workspace in the path, settles finished operations,
        then runs fn with the lock held."""
        def run(req, sub=None, rg=None, ws=None, **kw):
            f = self.fake
            if sub is not None and sub != f.sub:
                return error(404, "SubscriptionNotFound",
                             "The subscription '%s' could not be found." % sub)
            if rg is not None and rg.lower() != f.rg.lower():
                return error(404, "ResourceGroupNotFound",
                             "Resource group '%s' could not be found." % rg)
            if ws is not None and ws.lower() != f.ws.lower():
                return error(404, "ResourceNotFound", "The Resource '%s/workspaces/%s' under "
                             "resource group '%s' was not found." % (PROVIDER, ws, rg))
            with self.lock:
                self.settle()
                return fn(req, **kw)
        return run

    def url(self, req, path, **query):
        q = {"api-version": req.q("api-version", "2024-04-01")}
        q.update(query)
        return req.base() + path + "?" + urllib.parse.urlencode(q)

    def page(self, req, items):
        """One page of items; nextLink carries the whole query plus a skip token."""
        skip = int(base64.urlsafe_b64decode(req.q("$skipToken", "MA==")).decode() or 0)
        size = self.cfg["page_size"]
        if req.q("$top"):
            size = min(size, int(req.q("$top")))
        out = {"value": items[skip:skip + size]}
        if skip + size < len(items):
            q = [(k, v) for k, vs in req.query.items() if k != "$skipToken" for v in vs]
            q.append(("$skipToken", base64.urlsafe_b64encode(str(skip + size).encode()).decode()))
            out["nextLink"] = req.base() + req.raw_path + "?" + urllib.parse.urlencode(q)
        return jresp(200, out)

    # ---- long-running operations -----------------------------------------
    def start_op(self, req, prefix, finish, delete=False):
        """An operation that ends lro_seconds from now by calling finish()
        (which returns None or an error dict). Returns its LRO headers:
        Location is the resource (PUT) or the operation's result (delete)."""
        opid = "%s:%s:%s" % (prefix, self.wsid, uuid.uuid4())
        loc = "/subscriptions/%s/providers/%s/locations/%s" % (self.fake.sub, PROVIDER,
                                                               self.cfg["region"])
        t = time.time()
        self.ops[opid] = {"id": loc + "/mfeOperationsStatus/" + opid, "name": opid,
                          "start": t, "end": t + self.cfg["lro_seconds"], "finish": finish,
                          "status": self.cfg["lro_running_status"], "error": None}
        h = {"Azure-AsyncOperation": self.url(req, loc + "/mfeOperationsStatus/" + opid),
             "x-ms-async-operation-timeout": self.cfg["op_timeout"]}
        if delete:
            h["Location"] = self.url(req, loc + "/mfeOperationResults/" + opid)
            h["Retry-After"] = str(self.cfg["retry_after"])
        else:
            h["Location"] = req.base() + req.raw_path + "?" + req.raw_query
        return h

    def settle(self):
        now = time.time()
        for op in self.ops.values():
            if op["status"] not in TERMINAL and now >= op["end"]:
                op["error"] = op["finish"]()
                op["status"] = "Failed" if op["error"] else "Succeeded"
                op["endTime"] = now

    def op_status(self, req, loc, op):
        o = self.ops.get(op)
        if o is None:
            return error(404, "NotFound", "operation %s not found" % op)
        body = {"id": o["id"], "name": o["name"], "status": o["status"],
                "percentComplete": 100.0 if o["status"] in TERMINAL else 0.0,
                "startTime": iso(o["start"])}
        if "endTime" in o:
            body["endTime"] = iso(o["endTime"])
        if o["error"]:
            body["error"] = o["error"]
        return jresp(200, body)

    def op_result(self, req, loc, op):
        o = self.ops.get(op)
        if o is None:
            return error(404, "NotFound", "operation %s not found" % op)
        if o["status"] not in TERMINAL:
            return jresp(202, None, {"Location": req.base() + req.raw_path + "?" + req.raw_query,
                                     "Retry-After": str(self.cfg["retry_after"])})
        if o["error"]:
            return jresp(400, {"error": o["error"]})
        return jresp(204)

    # ---- workspace and datastore -----------------------------------------
    def workspace(self, req):
        w = self.ws_path()
        return jresp(200, {
            "id": w, "name": self.fake.ws, "type": PROVIDER + "/workspaces",
            "location": self.cfg["region"], "tags": {}, "sku": {"name": "Basic", "tier": "Basic"},
            "identity": {"type": "SystemAssigned"},
            "properties": {"friendlyName": self.fake.ws, "workspaceId": self.wsid,
                           "provisioningState": "Succeeded",
                           "storageAccount": "/subscriptions/%s/resourceGroups/%s/providers/"
                           "Microsoft.Storage/storageAccounts/%s" % (
                               self.fake.sub, self.fake.rg, self.fake.blob.account),
                           "discoveryUrl": "https://%s.api.azureml.ms/discovery" %
                           self.cfg["region"]},
            "systemData": _system(0)})

    def _datastore(self):
        b = self.fake.blob
        return {"id": self.ws_path() + "/datastores/workspaceblobstore",
                "name": "workspaceblobstore", "type": PROVIDER + "/workspaces/datastores",
                "properties": {"isDefault": True, "datastoreType": "AzureBlob",
                               "credentials": {"credentialsType": "AccountKey"
                                               if self.cfg["blob_auth"] == "key" else "Sas"},
                               "accountName": b.account, "containerName": b.container,
                               "endpoint": "core.windows.net", "protocol": "https",
                               "serviceDataAccessAuthIdentity":
                                   "WorkspaceSystemAssignedIdentity"}}

    def datastores(self, req):
        return self.page(req, [self._datastore()])

    def datastore(self, req, name):
        if name != "workspaceblobstore":
            return error(404, "UserError", "Datastore %s not found" % name)
        return jresp(200, self._datastore())

    def secrets(self, req, name):
        if name != "workspaceblobstore":
            return error(404, "UserError", "Datastore %s not found" % name)
        if self.cfg["blob_auth"] == "key":
            return jresp(200, {"secretsType": "AccountKey", "key": self.fake.blob.key})
        return jresp(200, {"secretsType": "Sas", "sasToken": self.fake.blob.sas()})

    # ---- versioned assets -------------------------------------------------
    def asset_list(self, req, kind):
        items = []
        for name, vers in sorted(self.assets[kind].items()):
            latest = max(vers.values(), key=lambda v: v["_t"])["name"] if vers else None
            nums = [int(v) for v in vers if v.isdigit()]
            items.append({"id": self.ws_path() + "/%s/%s" % (kind, name), "name": name,
                          "type": PROVIDER + "/workspaces/" + kind,
                          "properties": {"description": None, "tags": {}, "properties": {},
                                         "isArchived": False, "latestVersion": latest,
                                         "nextVersion": str(max(nums + [0]) + 1)}})
        return self.page(req, items)

    def asset_container(self, req, kind, name):
        r = self.asset_list(req, kind)
        for it in json.loads(r.body)["value"]:
            if it["name"] == name:
                return jresp(200, it)
        return error(404, "UserError", "%s container %s not found" % (kind, name))

    def _strip(self, v):
        return {k: x for k, x in v.items() if not k.startswith("_")}

    def version_list(self, req, kind, name):
        if name not in self.assets[kind] and kind != "codes":
            return error(404, "UserError", "%s container %s not found" % (kind, name))
        vers = list(self.assets[kind].get(name, {}).values())
        h = req.q("hash")
        if h:
            vers = [v for v in vers if v["properties"]["properties"].get("hash_sha256") == h]
        desc = "desc" in (req.q("$orderBy") or "").lower()
        vers.sort(key=lambda v: v["_t"], reverse=desc)
        return self.page(req, [self._strip(v) for v in vers])

    def version_get(self, req, kind, name, v):
        x = self.assets[kind].get(name, {}).get(v)
        if x is None:
            return error(404, "UserError", "Could not find asset with ID: azureml://locations/"
                         "%s/workspaces/%s/%s/%s/versions/%s" % (self.cfg["region"],
                                                                 self.wsid, kind, name, v))
        return jresp(200, self._strip(x))

    def _blob_path(self, uri):
        """The blob name an asset URI points into, or None when it is not ours."""
        b = self.fake.blob
        m = re.fullmatch(r"azureml://subscriptions/[^/]+/resource[gG]roups/[^/]+/workspaces/"
                         r"[^/]+/datastores/workspaceblobstore/paths/(.+)", uri or "")
        if m:
            return m.group(1)
        pre = "https://%s.blob.core.windows.net/%s/" % (b.account, b.container)
        return uri[len(pre):] if (uri or "").startswith(pre) else None

    def _check_asset(self, kind, p):
        if kind == "models":
            if p.get("modelType", "custom_model") not in ("custom_model", "mlflow_model",
                                                          "triton_model"):
                return "modelType %s is not supported" % p.get("modelType")
            uri = p.get("modelUri")
        elif kind == "codes":
            uri = p.get("codeUri")
        else:
            if not p.get("image") and not p.get("build"):
                return "Environment must specify either an image or a build context"
            return None
        path = self._blob_path(uri)
        if path is None or not self.fake.blob.exists(urllib.parse.unquote(path)):
            return "%s does not point at data uploaded to the workspace's datastore" % uri
        return None

    def version_put(self, req, kind, name, v):
        body = req.json() or {}
        p = body.get("properties") or {}
        if not ASSET_RX.fullmatch(name) or not ASSET_RX.fullmatch(v):
            return error(400, "UserError", "invalid asset name or version")
        why = self._check_asset(kind, p)
        if why:
            return error(400, "UserError", why)
        if kind == "models" and p.get("modelUri"):
            p["modelUri"] = p["modelUri"].replace("/resourcegroups/", "/resourceGroups/")
        vers = self.assets[kind].setdefault(name, {})
        old = vers.get(v)
        uri_key = {"models": "modelUri", "codes": "codeUri", "environments": "image"}[kind]
        if old is not None and old["properties"].get(uri_key) != p.get(uri_key):
            return error(409, "UserError", "Cannot update immutable property %s of %s %s:%s"
                         % (uri_key, kind, name, v))
        t = old["_t"] if old else time.time()
        props = {"description": None, "tags": {}, "properties": {}, "isArchived": False,
                 "isAnonymous": False}
        props.update(p)
        if kind == "codes":
            props["provisioningState"] = "Succeeded"
        res = {"id": self.ws_path() + "/%s/%s/versions/%s" % (kind, name, v), "name": v,
               "type": PROVIDER + "/workspaces/%s/versions" % kind, "properties": props,
               "systemData": _system(t), "_t": t}
        vers[v] = res
        if old is not None:
            return jresp(200, self._strip(res))
        return jresp(201, self._strip(res), {"Location": req.base() + req.raw_path + "?" +
                                             req.raw_query})

    def version_del(self, req, kind, name, v):
        vers = self.assets[kind].get(name, {})
        if v not in vers:
            return jresp(204)
        rid = vers[v]["id"].lower()
        for d in self.deployments.values():
            p = d["properties"]
            refs = [p.get("model"), p.get("environmentId"),
                    (p.get("codeConfiguration") or {}).get("codeId")]
            if any((r or "").lower() == rid for r in refs):
                return error(409, "UserError", "%s %s:%s is used by deployment %s"
                             % (kind, name, v, d["name"]))
        del vers[v]
        return jresp(200)

    def resolve(self, ref):
        """An ARM id of an asset version -> its resource, else None."""
        m = re.fullmatch(r"(?:azureml:)?/subscriptions/[^/]+/resourceGroups/[^/]+/providers/"
                         r"Microsoft\.MachineLearningServices/workspaces/[^/]+/"
                         r"(models|environments|codes)/([^/]+)/versions/([^/]+)", ref or "", re.I)
        if not m:
            return None
        return self.assets[m.group(1).lower()].get(m.group(2), {}).get(m.group(3))

    # ---- batch endpoints (what the CLI's create verbs send, checked as Azure does) ----
    def bep_get(self, req, ep):
        res = self.batch_endpoints.get(ep)
        return jresp(200, res) if res else error(404, "NotFound",
                                                 "The specified resource was not found.")

    def bep_put(self, req, ep):
        body = req.json() or {}
        p = dict(body.get("properties") or {})
        if not NAME_RX.fullmatch(ep):
            return error(400, "BadArgument", "Endpoint name %s is invalid" % ep)
        if (body.get("location") or "").replace(" ", "").lower() != self.cfg["region"]:
            return error(400, "LocationNotAvailableForResourceType",
                         "The provided location '%s' is not available" % body.get("location"))
        rid = self.ws_path() + "/batchEndpoints/" + ep
        p.update(provisioningState="Creating", authMode=p.get("authMode") or "AADToken",
                 scoringUri="https://%s.%s.inference.ml.azure.com/jobs" % (ep, self.cfg["region"]),
                 defaults=p.get("defaults") or {"deploymentName": None}, properties={})
        res = {"id": rid, "name": ep, "type": PROVIDER + "/workspaces/batchEndpoints",
               "location": self.cfg["region"], "tags": body.get("tags") or {},
               "systemData": _system(time.time()), "properties": p}
        self.batch_endpoints[ep] = res

        def finish():
            p["provisioningState"] = "Succeeded"
        return jresp(201, res, self.start_op(req, "be", finish))

    def bdep_get(self, req, ep, d):
        res = self.batch_deployments.get((ep, d))
        return jresp(200, res) if res else error(404, "NotFound",
                                                 "The specified resource was not found.")

    def bdep_put(self, req, ep, d):
        if ep not in self.batch_endpoints:
            return error(404, "NotFound", "The specified resource was not found.")
        body = req.json() or {}
        p = dict(body.get("properties") or {})
        model = (p.get("model") or {}).get("assetId")
        if self.resolve(model) is None:
            return error(400, "BadArgument", "model.assetId %s is not the ARM id of an existing "
                         "model version" % model)
        if p.get("environmentId") is not None and self.resolve(p["environmentId"]) is None:
            return error(400, "BadArgument", "environmentId %s is not the ARM id of an existing "
                         "environment version" % p["environmentId"])
        cc = p.get("codeConfiguration")
        if cc is not None and self.resolve(cc.get("codeId")) is None:
            return error(400, "BadArgument", "codeId %s is not the ARM id of an existing code "
                         "version" % cc.get("codeId"))
        p.update(provisioningState="Creating")
        res = {"id": self.ws_path() + "/batchEndpoints/%s/deployments/%s" % (ep, d), "name": d,
               "type": PROVIDER + "/workspaces/batchEndpoints/deployments",
               "location": self.cfg["region"], "tags": body.get("tags") or {},
               "systemData": _system(time.time()), "properties": p}
        self.batch_deployments[(ep, d)] = res

        def finish():
            p["provisioningState"] = "Succeeded"
        return jresp(201, res, self.start_op(req, "bd", finish))

    # ---- online endpoints ---------------------------------------------------
    def _ep_missing(self, ep):
        if ep in self.endpoints:
            return None
        return error(404, "NotFound", "The specified resource was not found.")

    def ep_list(self, req):
        return self.page(req, [self.endpoints[k] for k in sorted(self.endpoints)])

    def ep_get(self, req, ep):
        return self._ep_missing(ep) or jresp(200, self.endpoints[ep])

    def _busy(self, res):
        st = res["properties"]["provisioningState"]
        if st not in TERMINAL:
            return error(409, "Conflict", "%s is %s: another operation is in progress"
                         % (res["name"], st))
        return None

    def _check_traffic(self, ep, p):
        deps = {d for (e, d) in self.deployments if e == ep}
        tr, mi = p.get("traffic") or {}, p.get("mirrorTraffic") or {}
        for n in list(tr) + list(mi):
            if n not in deps:
                return "Deployment %s does not exist in endpoint %s" % (n, ep)
        if tr and sum(tr.values()) not in (0, 100):
            return "Traffic values must sum to 100 (or all be 0); they sum to %d" % \
                sum(tr.values())
        if any(v > 50 for v in mi.values()):
            return "Mirror traffic may be at most 50"
        return None

    def ep_put(self, req, ep):
        body = req.json() or {}
        p = body.get("properties") or {}
        loc = (body.get("location") or "").replace(" ", "").lower()
        if not NAME_RX.fullmatch(ep):
            return error(400, "BadArgument", "Endpoint name %s is invalid" % ep)
        if loc != self.cfg["region"]:
            return error(400, "LocationNotAvailableForResourceType",
                         "The provided location '%s' is not available for resource type '%s/"
                         "workspaces/onlineEndpoints'. List of available regions for the "
                         "resource type is '%s'." % (body.get("location"), PROVIDER,
                                                     self.cfg["region"]))
        mode = {"key": "Key", "amltoken": "AMLToken", "aadtoken": "AADToken"}.get(
            (p.get("authMode") or "").lower())
        if mode is None:
            return error(400, "BadArgument", "authMode must be Key, AMLToken or AADToken")
        old = self.endpoints.get(ep)
        if old is not None and self._busy(old):
            return self._busy(old)
        why = self._check_traffic(ep, p)
        if why:
            return error(400, "BadArgument", why)
        t = time.time()
        rid = self.ws_path() + "/onlineEndpoints/" + ep
        res = old or {"id": rid, "name": ep, "type": PROVIDER + "/workspaces/onlineEndpoints",
                      "location": self.cfg["region"], "kind": "Managed", "tags": {},
                      "identity": {"type": "SystemAssigned"}, "systemData": _system(t),
                      "properties": {"scoringUri": None, "swaggerUri": None, "traffic": {},
                                     "mirrorTraffic": {}, "publicNetworkAccess": "Enabled",
                                     "properties": {"azureml.onlineendpointid": rid.lower()}}}
        res["properties"].update(authMode=mode, description=p.get("description"),
                                 provisioningState="Updating" if old else "Creating")
        res["tags"] = body.get("tags") or {}
        self.endpoints[ep] = res
        self.keys.setdefault(ep, [secrets.token_urlsafe(24), secrets.token_urlsafe(24)])

        def finish():
            q = res["properties"]
            q["traffic"] = p.get("traffic") or {}
            q["mirrorTraffic"] = p.get("mirrorTraffic") or {}
            host = "%s.%s.inference.ml.azure.com" % (ep, self.cfg["region"])
            q["scoringUri"], q["swaggerUri"] = "https://%s/score" % host, \
                "https://%s/swagger.json" % host
            q["provisioningState"] = "Succeeded"
        h = self.start_op(req, "oe", finish)
        res["properties"]["properties"]["AzureAsyncOperationUri"] = h["Azure-AsyncOperation"]
        return jresp(201, res, h)

    def ep_patch(self, req, ep):
        # Azure's PATCH takes tags and identity only: properties are ignored.
        if self._ep_missing(ep):
            return self._ep_missing(ep)
        body = req.json() or {}
        if "tags" in body:
            self.endpoints[ep]["tags"] = body["tags"]
        h = self.start_op(req, "oe", lambda: None, delete=True)
        return jresp(202, None, {"Location": h["Location"], "Retry-After": h["Retry-After"]})

    def ep_delete(self, req, ep):
        if ep not in self.endpoints:
            return jresp(204)
        res = self.endpoints[ep]
        if self._busy(res):
            return self._busy(res)
        res["properties"]["provisioningState"] = "Deleting"

        def finish():
            self.endpoints.pop(ep, None)
            for k in [k for k in self.deployments if k[0] == ep]:
                del self.deployments[k]
        return jresp(202, None, self.start_op(req, "oe", finish, delete=True))

    def ep_keys(self, req, ep):
        if self._ep_missing(ep):
            return self._ep_missing(ep)
        if self.endpoints[ep]["properties"]["authMode"] != "Key":
            return error(400, "BadArgument", "Keys are only available for endpoints with "
                         "authMode Key")
        k = self.keys[ep]
        return jresp(200, {"primaryKey": k[0], "secondaryKey": k[1]})

    def ep_regen(self, req, ep):
        if self._ep_missing(ep):
            return self._ep_missing(ep)
        kt = ((req.json() or {}).get("keyType") or "").lower()
        if kt not in ("primary", "secondary"):
            return error(400, "BadArgument", "keyType must be Primary or Secondary")

        def finish():
            self.keys[ep][0 if kt == "primary" else 1] = secrets.token_urlsafe(24)
        h = self.start_op(req, "oe", finish, delete=True)
        return jresp(202, None, {"Location": h["Location"], "Retry-After": h["Retry-After"]})

    def ep_token(self, req, ep):
        if self._ep_missing(ep):
            return self._ep_missing(ep)
        if self.endpoints[ep]["properties"]["authMode"] != "AMLToken":
            return error(400, "BadArgument", "Tokens are only available for endpoints with "
                         "authMode AMLToken")
        now = int(time.time())
        life, refresh = self.cfg["aml_token_lifetime"], self.cfg["aml_token_refresh"]
        tok = self.fake.identity.tokens.mint("endpoint:" + ep, life, "aml", kind="aml")
        return jresp(200, {"accessToken": tok, "tokenType": "Bearer",
                           "expiryTimeUtc": now + life, "refreshAfterTimeUtc": now + refresh})

    # ---- deployments ------------------------------------------------------------
    def _dep_missing(self, ep, d):
        if self._ep_missing(ep) or (ep, d) in self.deployments:
            return self._ep_missing(ep)
        return error(404, "NotFound", "The specified resource was not found.")

    def dep_list(self, req, ep):
        if self._ep_missing(ep):
            return self._ep_missing(ep)
        return self.page(req, [v for k, v in sorted(self.deployments.items()) if k[0] == ep])

    def dep_get(self, req, ep, d):
        return self._dep_missing(ep, d) or jresp(200, self.deployments[(ep, d)])

    def _check_dep(self, p):
        for field in ("model", "environmentId"):
            if self.resolve(p.get(field)) is None:
                return "%s %s is not the ARM id of an existing asset version" % (
                    field, p.get(field))
        cc = p.get("codeConfiguration")
        if cc is not None:
            if self.resolve(cc.get("codeId")) is None:
                return "codeId %s is not the ARM id of an existing code version" % \
                    cc.get("codeId")
            if not cc.get("scoringScript"):
                return "codeConfiguration.scoringScript is required"
        if p.get("endpointComputeType", "Managed") == "Managed" and not p.get("instanceType"):
            return "instanceType is required for a managed online deployment"
        return None

    def dep_put(self, req, ep, d):
        if self._ep_missing(ep):
            return self._ep_missing(ep)
        body = req.json() or {}
        p = dict(body.get("properties") or {})
        if not NAME_RX.fullmatch(d):
            return error(400, "BadArgument", "Deployment name %s is invalid" % d)
        why = self._check_dep(p)
        if why:
            return error(400, "BadArgument", why)
        old = self.deployments.get((ep, d))
        if old is not None and self._busy(old):
            return self._busy(old)
        sku = {"name": "Default", "tier": "Standard", "capacity": 1}
        sku.update(body.get("sku") or {})
        rs = {"maxQueueWait": "PT0S", "requestTimeout": "PT0S",
              "maxConcurrentRequestsPerInstance": 1}
        rs.update(p.get("requestSettings") or {})
        p.update(requestSettings=rs, provisioningState="Updating", livenessProbe=None,
                 readinessProbe=None, properties={}, endpointComputeType="Managed")
        p.setdefault("environmentVariables", {})
        res = {"id": self.ws_path() + "/onlineEndpoints/%s/deployments/%s" % (ep, d),
               "name": d, "type": PROVIDER + "/workspaces/onlineEndpoints/deployments",
               "location": self.cfg["region"], "kind": "Managed", "tags": body.get("tags") or {},
               "sku": sku, "properties": p, "systemData": _system(time.time())}
        self.deployments[(ep, d)] = res
        self.logs.setdefault((ep, d), [])
        return jresp(201, res, self._dep_op(req, ep, d, res))

    def _dep_op(self, req, ep, d, res, results=False):
        def finish():
            p = res["properties"]
            cap = res["sku"]["capacity"]
            if cap > self.cfg["quota"]:
                p["provisioningState"] = "Failed"
                return {"code": "OutOfQuota", "message": "Not enough quota available for %s "
                        "in SubscriptionId %s. Current usage/limit: 0/%d. Additional needed: %d"
                        % (p.get("instanceType"), self.fake.sub, self.cfg["quota"], cap)}
            probe = {"failureThreshold": 30, "successThreshold": 1, "timeout": "PT2S",
                     "period": "PT10S", "initialDelay": "PT10S"}
            p.update(livenessProbe=probe, readinessProbe=dict(probe),
                     provisioningState="Succeeded")
            if p["requestSettings"]["requestTimeout"] == "PT0S":
                p["requestSettings"]["requestTimeout"] = "PT5S"
            self.logs[(ep, d)].append("%s | INFO | deployment %s is ready (%d instances)"
                                      % (iso(time.time()), d, cap))
            return None
        h = self.start_op(req, "od", finish, delete=results)
        res["properties"]["properties"]["AzureAsyncOperationUri"] = h["Azure-AsyncOperation"]
        return h

    def dep_patch(self, req, ep, d):
        if self._dep_missing(ep, d):
            return self._dep_missing(ep, d)
        res = self.deployments[(ep, d)]
        if self._busy(res):
            return self._busy(res)
        body = req.json() or {}
        res["sku"].update(body.get("sku") or {})
        res["tags"].update(body.get("tags") or {})
        res["properties"]["provisioningState"] = "Updating"
        h = self._dep_op(req, ep, d, res, results=True)
        return jresp(202, None, {"Location": h["Location"], "Retry-After": h["Retry-After"]})

    def dep_delete(self, req, ep, d):
        if self._ep_missing(ep) or (ep, d) not in self.deployments:
            return self._ep_missing(ep) or jresp(204)
        p = self.endpoints[ep]["properties"]
        if p["traffic"].get(d, 0) > 0 or p["mirrorTraffic"].get(d, 0) > 0:
            return error(400, "BadArgument", "Deployment %s has traffic; set its traffic to 0 "
                         "before deleting it" % d)
        res = self.deployments[(ep, d)]
        if self._busy(res):
            return self._busy(res)
        res["properties"]["provisioningState"] = "Deleting"

        def finish():
            self.deployments.pop((ep, d), None)
        return jresp(202, None, self.start_op(req, "od", finish, delete=True))

    def dep_logs(self, req, ep, d):
        if self._dep_missing(ep, d):
            return self._dep_missing(ep, d)
        body = req.json() or {}
        ctype = body.get("containerType", "InferenceServer")
        if ctype == "StorageInitializer":
            lines = ["Downloading model %s" % self.deployments[(ep, d)]["properties"]["model"],
                     "Download complete"]
        elif ctype == "InferenceServer":
            lines = self.logs[(ep, d)]
        else:
            return error(400, "BadArgument", "containerType must be InferenceServer or "
                         "StorageInitializer")
        tail = body.get("tail")
        if tail:
            lines = lines[-int(tail):]
        return jresp(200, {"content": "".join(ln + "\n" for ln in lines)})

    # ---- what the data plane reports -------------------------------------------
    def record(self, ep, d, ms, status):
        with self.lock:
            self.samples.append((time.time(), ep, d, ms, status))
            if (ep, d) in self.logs:
                self.logs[(ep, d)].append("%s | INFO | POST /score %d %.1f ms"
                                          % (iso(time.time()), status, ms))

    def metrics(self, req, res):
        if req.q("api-version") not in ("2023-10-01", "2019-07-01", "2018-01-01"):
            return error(400, "BadRequest", "api-version %s is not supported" %
                         req.q("api-version"))
        m = re.fullmatch(re.escape(self.ws_path()) + r"/onlineEndpoints/([^/]+)", res, re.I)
        if not m or m.group(1) not in self.endpoints:
            return error(404, "ResourceNotFound", "The Resource %s was not found." % res)
        ep = m.group(1)
        names = (req.q("metricnames") or "").split(",")
        bad = [n for n in names if n not in METRICS]
        if bad:
            return error(400, "BadRequest", "Failed to find metric configuration for provider: "
                         "%s, resource Type: onlineEndpoints, metric: %s" % (PROVIDER, bad[0]))
        if (req.q("interval") or "PT1M") != "PT1M":
            return error(400, "BadRequest", "this fake serves interval PT1M only")
        start, end = (_iso_time(x) for x in req.q("timespan").split("/"))
        split = "deployment eq '*'" in (req.q("$filter") or "")
        return jresp(200, {"cost": int((end - start) // 60), "timespan": req.q("timespan"),
                           "interval": "PT1M", "namespace": PROVIDER + "/workspaces/"
                           "onlineEndpoints", "resourceregion": self.cfg["region"],
                           "value": [self._metric(res, ep, n, start, end, split)
                                     for n in names]})

    def _metric(self, res, ep, name, start, end, split):
        mins = [start - start % 60 + 60 * i for i in range(int((end - start + 59) // 60))]
        groups = {}
        for t, e, d, ms, st in self.samples:
            if e == ep and start <= t < end:
                groups.setdefault(d if split else "", {}).setdefault(
                    int(t - t % 60), []).append(ms)
        series = []
        for d in sorted(groups) or ([] if split else [""]):
            data = []
            for m in mins:
                xs = groups.get(d, {}).get(int(m))
                pt = {"timeStamp": time.strftime("%Y-%m-%dT%H:%M:00Z", time.gmtime(m))}
                if xs:
                    p = METRICS[name]
                    pt["average"] = float(len(xs)) if p is None else _percentile(xs, p)
                data.append(pt)
            md = [{"name": {"value": "deployment", "localizedValue": "deployment"}, "value": d}]
            series.append({"metadatavalues": md if split else [], "data": data})
        return {"id": res + "/providers/Microsoft.Insights/metrics/" + name,
                "type": "Microsoft.Insights/metrics",
                "name": {"value": name, "localizedValue": name}, "displayDescription": "",
                "unit": "Count" if METRICS[name] is None else "MilliSeconds",
                "timeseries": series, "errorCode": "Success"}
