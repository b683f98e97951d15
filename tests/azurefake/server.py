"""The fake Azure: three loopback ports.

  arm   (https)  management.azure.com and login.microsoftonline.com: ARM for
                 one workspace, Azure Monitor metrics, Entra ID's token
                 endpoints; /_fake/config switches faults at run time
  data  (https)  {ep}.{region}.inference.ml.azure.com (scoring) and
                 {account}.blob.core.windows.net (Blob), told apart by Host
  imds  (http)   IMDS (/metadata/identity/oauth2/token) and App Service's
                 IDENTITY_ENDPOINT (/msi/token)

Clients reach the https ports by name with curl-style connect-to rules
(connect_to()) and trust them through the test CA (ca).
"""

import base64
import json
import os
import random
import secrets
import threading
import time
import uuid

from . import certs
from .arm import Arm
from .blob import Blob
from .identity import ARM, ML, Identity
from .web import Faults, Response, Routes, Server, error, jresp, reset_connection

DEFAULTS = dict(region="westus2", lro_seconds=1.5, lro_running_status="Updating", retry_after=1,
                page_size=2, op_timeout="PT30M", token_lifetime=3600, aml_token_lifetime=86400,
                aml_token_refresh=43200, device_pending_polls=2, device_interval=1,
                blob_auth="key", quota=20, read_bucket=250, read_refill=25.0,
                write_bucket=200, write_refill=10.0)


class Bucket:
    """ARM's token bucket for one kind of request (reads, writes)."""

    def __init__(self, size, refill):
        self.size, self.refill = size, refill
        self.level, self.t = float(size), time.monotonic()

    def take(self):
        """(remaining, seconds to wait or 0)."""
        now = time.monotonic()
        self.level = min(self.size, self.level + (now - self.t) * self.refill)
        self.t = now
        if self.level < 1:
            return 0, (1 - self.level) / self.refill
        self.level -= 1
        return int(self.level), 0


class Fake:
    def __init__(self, certdir, sub="00000000-1111-2222-3333-444444444444", rg="mldeck-rg",
                 ws="mldeck-ws", **config):
        self.sub, self.rg, self.ws = sub, rg, ws
        self.config = dict(DEFAULTS, **config)
        self.faults = Faults()
        self.identity = Identity(self)
        self.blob = Blob(self, "mldeckfakestore", "azureml-blobstore-" + str(uuid.UUID(int=0x5EED)),
                         base64.b64encode(secrets.token_bytes(64)).decode())
        self.arm = Arm(self)
        self.requests = []  # (port name, method, host, path, query, status)
        self.lock = threading.Lock()
        self.buckets = {"reads": Bucket(self.config["read_bucket"], self.config["read_refill"]),
                        "writes": Bucket(self.config["write_bucket"],
                                         self.config["write_refill"])}
        r = Routes()
        self.arm.routes(r)
        self.identity.routes(r)
        r.add("POST", r"/_fake/config", self.set_config)
        self.arm_routes = r
        self.imds_routes = Routes()
        self.identity.imds_routes(self.imds_routes)
        self.ca = certs.make_ca(certdir)
        region = self.config["region"]
        self.servers = {
            "arm": Server(self.serve_arm, certs.make_leaf(certdir, "arm", [
                "management.azure.com", "login.microsoftonline.com", "127.0.0.1", "localhost"])),
            "data": Server(self.serve_data, certs.make_leaf(certdir, "data-" + region, [
                "*.%s.inference.ml.azure.com" % region, "*.blob.core.windows.net"])),
            "imds": Server(self.serve_imds)}

    # ---- life ------------------------------------------------------------------
    def start(self):
        for s in self.servers.values():
            s.start()
        return self

    def stop(self):
        for s in self.servers.values():
            s.stop()

    def port(self, name):
        return self.servers[name].port

    def connect_to(self):
        """curl --connect-to rules that send Azure's host names here."""
        a, d = self.port("arm"), self.port("data")
        return ("management.azure.com:443:127.0.0.1:%d,login.microsoftonline.com:443:127.0.0.1:%d,"
                ":443:127.0.0.1:%d" % (a, a, d))

    # ---- helpers for tests --------------------------------------------------------
    def add_client(self, client_id, secret):
        self.identity.clients[client_id] = secret

    def token(self, aud=ARM, lifetime=3600, subject="test", kind="aad"):
        return self.identity.tokens.mint(aud, lifetime, subject, kind)

    def arm_calls(self, method=None, contains=""):
        with self.lock:
            return [r for r in self.requests if r[0] == "arm" and r[3].startswith("/subscriptions")
                    and (method is None or r[1] == method) and contains in r[3]]

    def set_config(self, req):
        body = req.json() or {}
        for k, v in body.items():
            if hasattr(self.faults, k):
                setattr(self.faults, k, v)
            elif k in self.config:
                self.config[k] = v
            else:
                return error(400, "BadArgument", "unknown setting " + k)
        return jresp(200, dict(self.config, delay=self.faults.delay))

    # ---- the three ports ------------------------------------------------------------
    def _log(self, port, req, resp):
        with self.lock:
            self.requests.append((port, req.method, req.host, req.path, req.raw_query,
                                  resp.status if resp is not None else 0))

    def _fault(self, req, handler):
        kind = self.faults.pick(req)
        ra = {"Retry-After": str(self.faults.retry_after)}
        if kind == "reset":
            reset_connection(handler)
            return None, True
        if kind == "429":
            return error(429, "TooManyRequests", "The request is being throttled.", ra), True
        if kind == "503":
            return error(503, "ServiceUnavailable", "The service is unavailable.", ra), True
        return None, False

    def _dispatch(self, routes, req):
        fn, groups = routes.find(req.method, req.path)
        if fn is None:
            return error(405 if groups else 404, "NotFound",
                         "No route for %s %s" % (req.method, req.path))
        return fn(req, **groups)

    def serve_arm(self, req, handler):
        if req.path.startswith("/_fake/"):
            return self._dispatch(self.arm_routes, req)
        if self.faults.delay:
            time.sleep(self.faults.delay)
        resp = self._serve_arm(req, handler)
        self._log("arm", req, resp)
        return resp

    def _serve_arm(self, req, handler):
        if not req.path.startswith("/subscriptions/"):
            return self._dispatch(self.arm_routes, req)  # Entra ID
        resp, faulted = self._fault(req, handler)
        if faulted:
            return resp
        if len(req.query.get("api-version", [])) != 1:
            return error(400, "MissingApiVersionParameter" if "api-version" not in req.query
                         else "InvalidApiVersionParameter",
                         "The api-version query parameter (?api-version=) is required once "
                         "for all requests, not %r." % req.query.get("api-version"))
        why = self.identity.tokens.check(req.bearer(), ARM)
        if why is not None:
            code = "ExpiredAuthenticationToken" if "expired" in why else \
                "InvalidAuthenticationToken"
            return error(401, code, "The access token is invalid: " + why, {
                "WWW-Authenticate": 'Bearer authorization_uri="https://login.microsoftonline.com/'
                                    'common", error="invalid_token"'})
        kind = "reads" if req.method == "GET" else "writes"
        with self.lock:
            left, wait = self.buckets[kind].take()
        hdr = {"x-ms-ratelimit-remaining-subscription-" + kind: str(left),
               "x-ms-request-id": str(uuid.uuid4()),
               "x-ms-correlation-request-id": str(uuid.uuid4()), "Cache-Control": "no-cache"}
        if wait:
            hdr["Retry-After"] = str(int(wait) + 1)
            return error(429, "TooManyRequests", "Number of '%s' requests for subscription "
                         "'%s' actor '...' exceeded." % (kind, self.sub), hdr)
        resp = self._dispatch(self.arm_routes, req)
        resp.headers.update(hdr)
        return resp

    def serve_data(self, req, handler):
        if self.faults.delay:
            time.sleep(self.faults.delay)
        host = req.hostname.lower()
        if host == "%s.blob.core.windows.net" % self.blob.account:
            resp, faulted = self._fault(req, handler)
            if not faulted:
                resp = self.blob.handle(req)
        elif host.endswith(".%s.inference.ml.azure.com" % self.config["region"]):
            resp = self.score(req, host.split(".")[0])
        else:
            resp = Response(404, "no such host here: " + host, ctype="text/plain")
        self._log("data", req, resp)
        return resp

    def serve_imds(self, req, handler):
        if self.faults.delay:
            time.sleep(self.faults.delay)
        resp = self._dispatch(self.imds_routes, req)
        self._log("imds", req, resp)
        return resp

    # ---- scoring -----------------------------------------------------------------------
    def _score_auth(self, req, ep, mode):
        tok = req.bearer() or ""
        if mode == "Key":
            ok = tok in self.arm.keys.get(ep, [])
        elif mode == "AMLToken":
            ok = self.identity.tokens.check(tok, "endpoint:" + ep, kinds=("aml",)) is None
        else:
            ok = self.identity.tokens.check(tok, ML) is None
        return ok

    def score(self, req, ep):
        t0 = time.monotonic()
        with self.arm.lock:
            self.arm.settle()
            res = self.arm.endpoints.get(ep)
            if res is None or res["properties"]["provisioningState"] == "Creating":
                return Response(404, json.dumps({"message": "endpoint %s not found" % ep}))
            p = res["properties"]
            if not self._score_auth(req, ep, p["authMode"]):
                return Response(401, json.dumps({"message": "Invalid authentication: the "
                                                 "bearer is not a valid %s for %s" %
                                                 (p["authMode"], ep)}))
            live = {d: w for d, w in p["traffic"].items()
                    if w > 0 and self.arm.deployments.get((ep, d), {}).get(
                        "properties", {}).get("provisioningState") == "Succeeded"}
            d = req.headers.get("azureml-model-deployment")
            if d is None and live:
                d = random.choices(list(live), weights=list(live.values()))[0]
            dep = self.arm.deployments.get((ep, d or ""))
        if dep is None:
            return Response(404, json.dumps({"message": "No valid deployments to route to. "
                                             "Please check that the endpoint has at least one "
                                             "deployment with positive weight values or use a "
                                             "deployment specific header to route."}))
        delay = dep["properties"]["environmentVariables"].get("FAKE_LATENCY_MS")
        if delay:
            time.sleep(float(delay) / 1000)
        try:
            rows = json.loads(req.body)["data"]
            status, body = 200, json.dumps([sum(r) for r in rows])
        except (ValueError, KeyError, TypeError):
            status, body = 400, json.dumps({"message": "expected {\"data\": [[numbers]]}"})
        self.arm.record(ep, d, (time.monotonic() - t0) * 1000, status)
        return Response(status, body, {"azureml-model-deployment": d, "x-request-id":
                                       req.headers.get("x-request-id") or str(uuid.uuid4())})


def main():
    import argparse
    ap = argparse.ArgumentParser(description=__doc__,
                                 formatter_class=argparse.RawDescriptionHelpFormatter)
    ap.add_argument("--dir", required=True, help="where the test CA and certificates go")
    ap.add_argument("--config", default="{}", help="JSON settings (see DEFAULTS)")
    a = ap.parse_args()
    fake = Fake(os.path.abspath(a.dir), **json.loads(a.config)).start()
    tok = fake.token(lifetime=86400)
    print(json.dumps({"arm": fake.port("arm"), "data": fake.port("data"),
                      "imds": fake.port("imds"), "ca": fake.ca, "connect_to": fake.connect_to(),
                      "subscription": fake.sub, "resource_group": fake.rg, "workspace": fake.ws,
                      "AZURE_ACCESS_TOKEN": tok}), flush=True)
    try:
        while True:
            time.sleep(3600)
    except KeyboardInterrupt:
        fake.stop()
