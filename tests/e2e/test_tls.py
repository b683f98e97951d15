"""`mldeck serve --tls`: a certificate generated in the home on first start
(with libcrypto), kept across restarts, trusted by clients that name it; or one
given with --tls-cert/--tls-key; https required for any non-loopback address."""

import os
import socket
import ssl
import stat
import subprocess
import urllib.error
import urllib.request

import pytest

from conftest import Runtime


def cert_text(path):
    return subprocess.run(["openssl", "x509", "-in", path, "-noout", "-text"],
                          capture_output=True, text=True, check=True).stdout


def get(url, ctx):
    with urllib.request.urlopen(url + "/healthz", timeout=10, context=ctx) as r:
        return r.status


def test_generated_certificate(make_runtime):
    rt = make_runtime(extra_args=["--tls"]).start()
    assert rt.url.startswith("https://127.0.0.1:")
    cert = os.path.join(rt.home, "tls-cert.pem")
    key = os.path.join(rt.home, "tls-key.pem")
    assert stat.S_IMODE(os.stat(key).st_mode) == 0o600
    text = cert_text(cert)
    for want in ("IP Address:127.0.0.1", "DNS:localhost", "TLS Web Server Authentication",
                 "CA:TRUE"):
        assert want in text, want
    assert "generated now" in rt.wait_log("tls: certificate")
    ctx = ssl.create_default_context(cafile=cert)
    assert get(rt.url, ctx) == 200
    # by name too: localhost is in the certificate
    assert get(rt.url.replace("127.0.0.1", "localhost"), ctx) == 200
    # without trusting it, verification fails; plain http to the port gets nothing
    with pytest.raises(urllib.error.URLError):
        get(rt.url, ssl.create_default_context())
    with pytest.raises((urllib.error.URLError, ConnectionError, OSError)):
        urllib.request.urlopen(rt.url.replace("https:", "http:") + "/healthz", timeout=5).read()
    # a restart keeps the same certificate
    before = open(cert).read()
    assert rt.stop() == 0
    rt2 = Runtime(rt.home, extra_args=["--tls"]).start()
    try:
        assert open(cert).read() == before
        assert "generated now" not in rt2.wait_log("tls: certificate")
        assert get(rt2.url, ctx) == 200
    finally:
        assert rt2.stop() == 0


def test_given_certificate_and_key(make_runtime, tmp_path):
    cert, key = str(tmp_path / "c.pem"), str(tmp_path / "k.pem")
    subprocess.run(["openssl", "req", "-x509", "-newkey", "ec", "-pkeyopt",
                    "ec_paramgen_curve:P-256", "-nodes", "-keyout", key, "-out", cert, "-days", "2",
                    "-subj", "/CN=given", "-addext", "subjectAltName=IP:127.0.0.1"],
                   capture_output=True, check=True)
    rt = make_runtime(extra_args=["--tls-cert", cert, "--tls-key", key]).start()
    assert get(rt.url, ssl.create_default_context(cafile=cert)) == 200
    assert not os.path.exists(os.path.join(rt.home, "tls-cert.pem"))
    # one without the other is a usage problem, said at start
    bad = make_runtime(extra_args=["--tls-cert", cert])
    with pytest.raises(RuntimeError) as e:
        bad.start()
    assert "--tls-key" in str(e.value)


def test_non_loopback_needs_tls(make_runtime):
    rt = make_runtime()
    with pytest.raises(RuntimeError) as e:
        rt.start(listen="0.0.0.0:0")
    assert "--tls" in str(e.value)
    rt = make_runtime(extra_args=["--tls"]).start(listen="0.0.0.0:0")
    port = int(rt.url.rsplit(":", 1)[1])
    ctx = ssl.create_default_context(cafile=os.path.join(rt.home, "tls-cert.pem"))
    assert get("https://127.0.0.1:%d" % port, ctx) == 200
    # the certificate names this host's addresses (listening on all of them)
    addr = socket.gethostbyname(socket.gethostname())
    if not addr.startswith("127."):
        assert "IP Address:%s" % addr in cert_text(os.path.join(rt.home, "tls-cert.pem"))
