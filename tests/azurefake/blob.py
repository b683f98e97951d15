"""Azure Blob Storage, the subset uploads use: Put Blob, Put Block, Put
Block List, Set Blob Metadata, Get/Head Blob. Requests are authorised as
Azure does: Shared Key (the string-to-sign of the Storage REST docs, HMAC
with the account key) or a SAS the fake issued through listSecrets.
Content-MD5 is checked against the bytes received."""

import base64
import hashlib
import hmac
import re
import threading
import time
import urllib.parse
import xml.etree.ElementTree as ET

from .web import Response

MAX_BLOCK = 100 << 20


def berror(status, code, message):
    body = ('<?xml version="1.0" encoding="utf-8"?><Error><Code>%s</Code><Message>%s</Message>'
            "</Error>" % (code, message))
    return Response(status, body, {"x-ms-error-code": code}, "application/xml")


def string_to_sign(req, account):
    h = req.headers
    length = h.get("content-length", "")
    fields = [req.method, h.get("content-encoding", ""), h.get("content-language", ""),
              "" if length == "0" else length, h.get("content-md5", ""), h.get("content-type", ""),
              h.get("date", ""), h.get("if-modified-since", ""), h.get("if-match", ""),
              h.get("if-none-match", ""), h.get("if-unmodified-since", ""), h.get("range", "")]
    xms = sorted((k, " ".join(v.split())) for k, v in h.items() if k.startswith("x-ms-"))
    canon = "".join("%s:%s\n" % kv for kv in xms)
    res = "/" + account + req.raw_path
    for k in sorted(req.query, key=str.lower):
        res += "\n%s:%s" % (k.lower(), ",".join(sorted(req.query[k])))
    return "\n".join(fields) + "\n" + canon + res


class Blob:
    def __init__(self, fake, account, container, key):
        self.fake = fake
        self.account, self.container = account, container
        self.key = key  # base64 account key
        self.blobs = {}  # name -> {"data", "md5", "meta"}
        self.blocks = {}  # name -> {block id: bytes}
        self.lock = threading.Lock()
        self.puts = []  # (kind, name, size) of every write, for tests

    def sas(self, lifetime=3600):
        se = time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime(time.time() + lifetime))
        q = {"sv": "2021-12-02", "sr": "c", "sp": "racwl", "se": se}
        q["sig"] = self._sas_sig(q)
        return urllib.parse.urlencode(q)

    def _sas_sig(self, q):
        msg = "\n".join([self.container, q.get("sp", ""), q.get("se", ""), q.get("sv", "")])
        return base64.b64encode(hmac.new(base64.b64decode(self.key), msg.encode(),
                                         hashlib.sha256).digest()).decode()

    def _authorised(self, req):
        if "sig" in req.query:
            q = {k: v[0] for k, v in req.query.items()}
            if not hmac.compare_digest(q["sig"], self._sas_sig(q)):
                return "Signature did not match."
            if time.strftime("%Y-%m-%dT%H:%M:%SZ", time.gmtime()) > q.get("se", ""):
                return "Signed expiry time has to be after signed start time."
            return None
        auth = req.headers.get("authorization", "")
        m = re.fullmatch(r"SharedKey ([^:]+):(.+)", auth)
        if not m or m.group(1) != self.account:
            return "Server failed to authenticate the request. Make sure the value of " \
                   "Authorization header is formed correctly including the signature."
        want = base64.b64encode(hmac.new(base64.b64decode(self.key),
                                         string_to_sign(req, self.account).encode("utf-8"),
                                         hashlib.sha256).digest()).decode()
        if not hmac.compare_digest(want, m.group(2)):
            return "The MAC signature found in the HTTP request '%s' is not the same as any " \
                   "computed signature." % m.group(2)
        if "x-ms-date" not in req.headers or "x-ms-version" not in req.headers:
            return "x-ms-date and x-ms-version are required"
        return None

    def handle(self, req):
        parts = req.path.lstrip("/").split("/", 1)
        if parts[0] != self.container or len(parts) < 2 or not parts[1]:
            return berror(404, "ContainerNotFound", "The specified container does not exist.")
        why = self._authorised(req)
        if why is not None:
            return berror(403, "AuthenticationFailed", why)
        name, comp = parts[1], req.q("comp")
        if req.method in ("GET", "HEAD"):
            return self._get(req, name)
        if req.method != "PUT":
            return berror(405, "UnsupportedHttpVerb", "The resource doesn't support the verb.")
        if comp == "metadata":
            return self._metadata(req, name)
        md5 = req.headers.get("content-md5")
        got = base64.b64encode(hashlib.md5(req.body).digest()).decode()
        if md5 is not None and md5 != got:
            return berror(400, "Md5Mismatch", "The MD5 value specified in the request did not "
                          "match with the MD5 value calculated by the server.")
        if comp == "block":
            return self._block(req, name)
        if comp == "blocklist":
            return self._blocklist(req, name)
        if req.headers.get("x-ms-blob-type") != "BlockBlob":
            return berror(400, "MissingRequiredHeader", "x-ms-blob-type is required")
        return self._store(req, name, req.body, md5 or got, "blob")

    def _meta(self, req):
        return {k[len("x-ms-meta-"):]: v for k, v in req.headers.items()
                if k.startswith("x-ms-meta-")}

    def _store(self, req, name, data, md5, kind):
        with self.lock:
            if req.headers.get("if-none-match") == "*" and name in self.blobs:
                return berror(409, "BlobAlreadyExists", "The specified blob already exists.")
            self.blobs[name] = {"data": data, "md5": md5, "meta": self._meta(req)}
            self.blocks.pop(name, None)
            self.puts.append((kind, name, len(data)))
        return Response(201, b"", {"Content-MD5": md5, "ETag": '"0x%x"' % hash(md5),
                                   "x-ms-request-server-encrypted": "true"})

    def _block(self, req, name):
        bid = req.q("blockid")
        if not bid or len(req.body) > MAX_BLOCK:
            return berror(400, "InvalidQueryParameterValue", "blockid")
        with self.lock:
            self.blocks.setdefault(name, {})[bid] = req.body
            self.puts.append(("block", name, len(req.body)))
        return Response(201, b"", {"Content-MD5": req.headers.get("content-md5", "")})

    def _blocklist(self, req, name):
        try:
            ids = [e.text for e in ET.fromstring(req.body)]
        except ET.ParseError:
            return berror(400, "InvalidXmlDocument", "XML specified is not syntactically valid.")
        with self.lock:
            have = self.blocks.get(name, {})
            if any(i not in have for i in ids):
                return berror(400, "InvalidBlockList", "The specified block list is invalid.")
            data = b"".join(have[i] for i in ids)
        md5 = req.headers.get("x-ms-blob-content-md5") or \
            base64.b64encode(hashlib.md5(data).digest()).decode()
        return self._store(req, name, data, md5, "blocklist")

    def _metadata(self, req, name):
        with self.lock:
            b = self.blobs.get(name)
            if b is None:
                return berror(404, "BlobNotFound", "The specified blob does not exist.")
            b["meta"] = self._meta(req)
        return Response(200, b"")

    def _get(self, req, name):
        with self.lock:
            b = self.blobs.get(name)
        if b is None:
            return berror(404, "BlobNotFound", "The specified blob does not exist.")
        h = {"Content-MD5": b["md5"], "x-ms-blob-type": "BlockBlob"}
        h.update(("x-ms-meta-" + k, v) for k, v in b["meta"].items())
        return Response(200, b["data"], h, "application/octet-stream")

    def exists(self, prefix):
        with self.lock:
            return any(n == prefix or n.startswith(prefix.rstrip("/") + "/") for n in self.blobs)
