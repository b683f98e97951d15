"""One client for every backend: an `azureml` profile (subscription, resource
group, workspace, bearer token from AZURE_ACCESS_TOKEN) goes through the very
code path the local profile does. Here a runtime plays the Azure workspace, so
the requests it receives show what the client sends to Azure."""

import json
import os
import subprocess

from conftest import BIN, Runtime, repo_path

SUB = "00000000-1111-2222-3333-444444444444"


def run(args, env):
    return subprocess.run([BIN] + args, env=env, capture_output=True, text=True, timeout=60)


def test_azureml_profile_speaks_arm_paths(tmp_path):
    rt = Runtime(str(tmp_path / "home"), workspace="my-aml-ws").start()
    try:
        cfg = tmp_path / "cfg" / "mldeck"
        cfg.mkdir(parents=True)
        (cfg / "config.ini").write_text(
            "[profile cloud]\nbackend = azureml\nurl = %s\nsubscription = %s\n"
            "resource_group = test-rg\nworkspace = my-aml-ws\n" % (rt.url, SUB))
        env = {k: v for k, v in os.environ.items() if not k.startswith("MLDECK_")}
        env.update(XDG_CONFIG_HOME=str(tmp_path / "cfg"), AZURE_ACCESS_TOKEN=rt.admin_key,
                   PATH=os.environ.get("PATH", ""))
        # create asks the workspace for its region (GET {ws}), then PUTs and follows the operation
        r = run(["--profile", "cloud", "endpoint", "create", "cloud-ep"], env)
        assert r.returncode == 0, r.stderr
        r = run(["--profile", "cloud", "-o", "json", "endpoint", "list"], env)
        assert r.returncode == 0, r.stderr
        assert [e["name"] for e in json.loads(r.stdout)] == ["cloud-ep"]
        # the ARM path with the profile's subscription and group reached the server
        rt.wait_log("/subscriptions/%s/resourceGroups/test-rg/providers/"
                    "Microsoft.MachineLearningServices/workspaces/my-aml-ws/onlineEndpoints/cloud-ep"
                    % SUB)
        # a wrong token is the server's 401, reported with its message, exit 1
        env["AZURE_ACCESS_TOKEN"] = "expired-token"
        r = run(["--profile", "cloud", "endpoint", "list"], env)
        assert r.returncode == 1 and "admin key" in r.stderr
        # no credential at all: a clear message, not a crash
        del env["AZURE_ACCESS_TOKEN"]
        env["PATH"] = str(tmp_path)  # no `az` to ask
        r = run(["--profile", "cloud", "endpoint", "list"], env)
        assert r.returncode != 0 and "AZURE_ACCESS_TOKEN" in r.stderr
    finally:
        assert rt.stop() == 0
