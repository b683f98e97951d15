"""The `azureml` backend's test bench: the fake Azure (tests/azurefake) on
loopback ports, a profile that points mldeck at it by Azure's own host names
(connect_to) and trusts its test CA (ca_file), and a CLI runner with a clean
environment (no real credential, no real IMDS, no az)."""

import json
import os
import subprocess
import sys

import pytest

from conftest import BIN, REPO

sys.path.insert(0, os.path.join(REPO, "tests"))
from azurefake import Fake  # noqa: E402

CLEAN = ("MLDECK_", "AZURE_", "IDENTITY_", "IMDS_", "MSI_", "HTTPS_PROXY", "HTTP_PROXY",
         "https_proxy", "http_proxy", "NO_PROXY", "no_proxy", "ALL_PROXY", "all_proxy")


class AzureEnv:
    def __init__(self, fake, tmp):
        self.fake = fake
        self.tmp = tmp
        cfg = os.path.join(tmp, "config", "mldeck")
        os.makedirs(cfg, exist_ok=True)
        self.profile = dict(backend="azureml", url="https://management.azure.com",
                            subscription=fake.sub, resource_group=fake.rg, workspace=fake.ws,
                            ca_file=fake.ca, connect_to=fake.connect_to())
        self.write_profile()
        self.env = {k: v for k, v in os.environ.items() if not k.startswith(CLEAN)}
        bindir = os.path.join(tmp, "bin")
        os.makedirs(bindir, exist_ok=True)
        self.env.update(XDG_CONFIG_HOME=os.path.join(tmp, "config"),
                        XDG_STATE_HOME=os.path.join(tmp, "state"), HOME=tmp,
                        PATH=bindir + ":/usr/bin:/bin",
                        # IMDS answers nothing here unless a test says otherwise
                        AZURE_POD_IDENTITY_AUTHORITY_HOST="http://127.0.0.1:9",
                        AZURE_ACCESS_TOKEN=fake.token(lifetime=86400))
        self.bindir = bindir

    def write_profile(self, **changes):
        self.profile.update(changes)
        body = "[mldeck]\ndefault_profile = cloud\n[profile cloud]\n" + "".join(
            "%s = %s\n" % kv for kv in self.profile.items() if kv[1] is not None)
        with open(os.path.join(self.tmp, "config", "mldeck", "config.ini"), "w") as f:
            f.write(body)

    def cli(self, *args, check=True, env=None, timeout=120):
        e = dict(self.env)
        for k, v in (env or {}).items():
            if v is None:
                e.pop(k, None)
            else:
                e[k] = v
        r = subprocess.run([BIN] + [str(a) for a in args], env=e, capture_output=True,
                           text=True, timeout=timeout, stdin=subprocess.DEVNULL)
        if check and r.returncode != 0:
            raise AssertionError("mldeck %s -> %d\nstdout: %s\nstderr: %s"
                                 % (" ".join(map(str, args)), r.returncode, r.stdout, r.stderr))
        return r

    def js(self, *args, **kw):
        r = self.cli("-o", "json", *args, **kw)
        return json.loads(r.stdout) if r.stdout.strip() else None


@pytest.fixture(scope="session")
def azure_certs(tmp_path_factory):
    return str(tmp_path_factory.mktemp("azure-ca"))


@pytest.fixture
def azure(azure_certs, tmp_path):
    fake = Fake(azure_certs, lro_seconds=0.5).start()
    try:
        yield AzureEnv(fake, str(tmp_path))
    finally:
        fake.stop()
