"""Microsoft Entra ID as the fake plays it: the v2 token endpoint (client
credentials, client assertion, device code with authorization_pending,
refresh tokens), the VM's IMDS token endpoint and App Service's
IDENTITY_ENDPOINT. Every token is JWT-shaped and remembered with its
audience and expiry, so the other planes can check what they are shown."""

import base64
import json
import secrets
import threading
import time

from .web import Response, jresp

ARM = "https://management.azure.com"
ML = "https://ml.azure.com"
CLI_CLIENT_ID = "04b07795-8ddb-461a-bbee-02f9e1bf7b46"  # Azure CLI's public client


def audience(scope_or_resource):
    """"https://management.azure.com/.default" or ".../" -> the audience."""
    s = scope_or_resource.split()[0] if scope_or_resource else ""
    if s.endswith("/.default"):
        s = s[: -len("/.default")]
    return s.rstrip("/")


def _b64(obj):
    return base64.urlsafe_b64encode(json.dumps(obj).encode()).rstrip(b"=").decode()


class Tokens:
    def __init__(self):
        self.items = {}
        self.lock = threading.Lock()

    def mint(self, aud, lifetime, subject, kind="aad"):
        now = int(time.time())
        claims = {"aud": aud, "iat": now, "exp": now + int(lifetime), "sub": subject,
                  "tid": "72f988bf-0000-0000-0000-000000000000", "n": secrets.token_hex(8)}
        tok = "%s.%s.%s" % (_b64({"alg": "RS256", "typ": "JWT"}), _b64(claims),
                            secrets.token_urlsafe(32))
        with self.lock:
            self.items[tok] = dict(claims, kind=kind)
        return tok

    def check(self, tok, aud, kinds=("aad",)):
        """None when tok is a live token for aud, else the reason."""
        with self.lock:
            c = self.items.get(tok or "")
        if c is None:
            return "the token is not one this service issued"
        if c["kind"] not in kinds:
            return "a %s token is not valid here" % c["kind"]
        if c["aud"] != aud:
            return "the audience %s is not %s" % (c["aud"], aud)
        if c["exp"] <= time.time():
            return "the token expired at %d" % c["exp"]
        return None

    def claims(self, tok):
        with self.lock:
            return self.items.get(tok)


def oauth_error(status, code, desc):
    return jresp(status, {"error": code, "error_description": desc, "error_codes": [0],
                          "timestamp": time.strftime("%Y-%m-%d %H:%M:%SZ", time.gmtime())})


class Identity:
    """Routes for the AAD host (on the ARM port) and the IMDS port."""

    def __init__(self, fake):
        self.fake = fake
        self.tokens = Tokens()
        self.clients = {}  # client_id -> secret (service principals)
        self.devices = {}  # device_code -> {user_code, polls, scope}
        self.refresh = {}  # refresh token -> {scope, subject}
        self.mi_client_ids = set()  # user-assigned identities IMDS knows
        self.app_service_secret = secrets.token_hex(16)
        self.arc_realm = "/var/opt/azcmagent/tokens/fake.key"  # the key file Arc names
        self.arc_key = None  # its content, when a test can put it there
        self.grants = []  # (grant kind, subject) of every token issued

    def routes(self, r):
        r.add("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/token", self.token)
        r.add("POST", r"/(?P<tenant>[^/]+)/oauth2/v2\.0/devicecode", self.devicecode)

    def imds_routes(self, r):
        r.add("GET", r"/metadata/identity/oauth2/token", self.imds)
        r.add("GET", r"/msi/token", self.app_service)
        r.add("GET", r"/arc/token", self.arc)

    def _issue(self, scope, subject, grant, refresh=False):
        life = self.fake.config["token_lifetime"]
        tok = self.tokens.mint(audience(scope), life, subject)
        self.grants.append((grant, subject))
        out = {"token_type": "Bearer", "expires_in": life, "ext_expires_in": life,
               "refresh_in": life // 2, "access_token": tok, "scope": scope}
        if refresh:
            rt = secrets.token_urlsafe(40)
            self.refresh[rt] = {"scope": scope, "subject": subject}
            out["refresh_token"] = rt
        return jresp(200, out)

    def token(self, req, tenant):
        f = req.form()
        grant = f.get("grant_type", "")
        scope = " ".join(s for s in f.get("scope", "").split() if s != "offline_access")
        offline = "offline_access" in f.get("scope", "").split()
        if grant == "client_credentials":
            cid = f.get("client_id", "")
            if "client_assertion" in f:
                c = self.tokens.claims(f["client_assertion"])
                if c is None or c["kind"] != "federated" or c["exp"] <= time.time():
                    return oauth_error(401, "invalid_client",
                                       "AADSTS700024: Client assertion is not within its valid time range.")
                return self._issue(scope, "wi:" + cid, "client_assertion")
            if cid not in self.clients or self.clients[cid] != f.get("client_secret"):
                return oauth_error(401, "invalid_client",
                                   "AADSTS7000215: Invalid client secret provided. Ensure the secret "
                                   "being sent in the request is the client secret value, not the "
                                   "client secret ID, for a secret added to app '%s'." % cid)
            return self._issue(scope, "sp:" + cid, "client_credentials")
        if grant == "urn:ietf:params:oauth:grant-type:device_code":
            d = self.devices.get(f.get("device_code", ""))
            if d is None:
                return oauth_error(400, "expired_token", "AADSTS70020: The provided value for the "
                                   "input parameter 'device_code' is not valid.")
            d["polls"] += 1
            if d["polls"] <= self.fake.config["device_pending_polls"]:
                return oauth_error(400, "authorization_pending", "AADSTS70016: OAuth 2.0 device "
                                   "flow error. Authorization is pending. Continue polling.")
            del self.devices[f["device_code"]]
            return self._issue(d["scope"], "user:device", "device_code", refresh=d["offline"])
        if grant == "refresh_token":
            r = self.refresh.get(f.get("refresh_token", ""))
            if r is None:
                return oauth_error(400, "invalid_grant", "AADSTS70000: The refresh token is invalid.")
            return self._issue(scope or r["scope"], r["subject"], "refresh_token", refresh=True)
        return oauth_error(400, "unsupported_grant_type", "AADSTS70003: unsupported grant " + grant)

    def devicecode(self, req, tenant):
        f = req.form()
        code, user = secrets.token_urlsafe(24), "F" + secrets.token_hex(4).upper()
        scopes = f.get("scope", "").split()
        self.devices[code] = {"user_code": user, "polls": 0,
                              "scope": " ".join(s for s in scopes if s != "offline_access"),
                              "offline": "offline_access" in scopes}
        uri = "https://microsoft.com/devicelogin"
        return jresp(200, {"user_code": user, "device_code": code, "verification_uri": uri,
                           "expires_in": 900, "interval": self.fake.config["device_interval"],
                           "message": "To sign in, use a web browser to open the page %s and "
                           "enter the code %s to authenticate." % (uri, user)})

    def _mi_answer(self, resource, subject, expires_in_field):
        life = self.fake.config["token_lifetime"]
        tok = self.tokens.mint(audience(resource), life, subject)
        self.grants.append(("managed_identity", subject))
        out = {"access_token": tok, "expires_on": str(int(time.time()) + life),
               "resource": resource, "token_type": "Bearer"}
        if expires_in_field:
            out.update(expires_in=str(life), refresh_token="", not_before=str(int(time.time())))
        return jresp(200, out)

    def imds(self, req):
        if req.headers.get("metadata", "").lower() != "true":
            return jresp(400, {"error": "invalid_request",
                               "error_description": "Required metadata header not specified"})
        cid = req.q("client_id")
        if cid is not None and cid not in self.mi_client_ids:
            return jresp(400, {"error": "invalid_request",
                               "error_description": "Identity not found"})
        return self._mi_answer(req.q("resource", ""), "mi:" + (cid or "system"), True)

    def app_service(self, req):
        if req.headers.get("x-identity-header") != self.app_service_secret:
            return Response(401, b"", {})
        if req.q("api-version") != "2019-08-01":
            return jresp(400, {"error": "invalid_request"})
        return self._mi_answer(req.q("resource", ""), "mi:appservice", False)

    def arc(self, req):
        """Azure Arc: a 401 naming a key file; its content comes back as Basic."""
        auth = req.headers.get("authorization", "")
        if self.arc_key is None or auth != "Basic " + self.arc_key:
            return Response(401, b"", {"WWW-Authenticate": "Basic realm=" + self.arc_realm})
        return self._mi_answer(req.q("resource", ""), "mi:arc", True)
