"""Throwaway TLS material for the fake: one test CA and leaf certificates
signed by it, made with the openssl command line (EC P-256, fast)."""

import os
import subprocess


def _openssl(*args, cwd):
    subprocess.run(["openssl"] + list(args), cwd=cwd, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.PIPE)


def make_ca(d):
    """DIR/ca.pem and DIR/ca.key; returns the CA certificate's path."""
    os.makedirs(d, exist_ok=True)
    if not os.path.exists(os.path.join(d, "ca.pem")):
        _openssl("req", "-x509", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1",
                 "-nodes", "-keyout", "ca.key", "-out", "ca.pem", "-days", "2",
                 "-subj", "/CN=mldeck test CA", cwd=d)
    return os.path.join(d, "ca.pem")


def make_leaf(d, name, sans):
    """DIR/NAME.pem (certificate) and DIR/NAME.key for the DNS names and IP
    addresses in sans, signed by DIR's CA. Returns (cert, key)."""
    make_ca(d)
    cert, key = os.path.join(d, name + ".pem"), os.path.join(d, name + ".key")
    if os.path.exists(cert):
        return cert, key
    alt = ",".join(("IP:" if s[0].isdigit() else "DNS:") + s for s in sans)
    with open(os.path.join(d, name + ".ext"), "w") as f:
        f.write("subjectAltName=%s\nextendedKeyUsage=serverAuth\n" % alt)
    _openssl("req", "-newkey", "ec", "-pkeyopt", "ec_paramgen_curve:prime256v1", "-nodes",
             "-keyout", name + ".key", "-out", name + ".csr", "-subj", "/CN=" + sans[0], cwd=d)
    _openssl("x509", "-req", "-in", name + ".csr", "-CA", "ca.pem", "-CAkey", "ca.key",
             "-CAcreateserial", "-days", "2", "-extfile", name + ".ext", "-out", name + ".pem",
             cwd=d)
    return cert, key
