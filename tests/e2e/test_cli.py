"""The command line against a real runtime: every verb, output formats, exit
codes (0 ok, 1 backend error, 2 usage), generated --help, confirmations."""

import json
import os
import subprocess

import pytest

from conftest import BIN, repo_path

MODEL = repo_path("tests", "data", "logistic.json")
REQUEST = repo_path("tests", "data", "logistic.input.json")

NOUN_VERBS = {
    "model": ["register", "list", "show", "delete"],
    "env": ["create", "list", "show", "delete"],
    "endpoint": ["create", "list", "show", "delete", "keys", "regenerate-keys", "token"],
    "deployment": ["create", "list", "show", "update", "delete", "logs"],
    "profile": ["list", "check", "use"],
}
SINGLE = ["traffic", "invoke", "bench"]


def js(r):
    return json.loads(r.stdout)


def ready(rt, ep="cli-ep", dep="blue", all_traffic=True):
    """Model, environment, endpoint and one deployment through the CLI."""
    rt.cli("model", "register", "logit", "--path", MODEL, "--type", "linear")
    rt.cli("env", "create", "native", "--native")
    rt.cli("endpoint", "create", ep)
    args = ["deployment", "create", ep, dep, "--model", "logit:1", "--env", "native:1"]
    if all_traffic:
        args.append("--all-traffic")
    rt.cli(*args)


def run(args, env=None):
    e = dict(os.environ)
    e.update(env or {})
    return subprocess.run([BIN] + args, capture_output=True, text=True, env=e, timeout=60)


# --- help and usage --------------------------------------------------------


def test_top_help_lists_faces_nouns_and_globals():
    r = run(["--help"])
    assert r.returncode == 0
    for word in ["serve", "--profile", "-o", "--readonly"] + list(NOUN_VERBS) + SINGLE:
        assert word in r.stdout


@pytest.mark.parametrize("noun", list(NOUN_VERBS) + SINGLE)
def test_noun_help(noun):
    r = run([noun, "--help"])
    assert r.returncode == 0, r.stderr
    assert "mldeck " + noun in r.stdout


@pytest.mark.parametrize("noun,verb", [(n, v) for n, vs in NOUN_VERBS.items() for v in vs])
def test_verb_help(noun, verb):
    r = run([noun, verb, "--help"])
    assert r.returncode == 0, r.stderr
    assert "usage: mldeck %s %s" % (noun, verb) in r.stdout


def test_version():
    r = run(["--version"])
    assert r.returncode == 0 and r.stdout.startswith("mldeck ")


@pytest.mark.parametrize("args", [
    ["model", "register"],                                            # missing NAME
    ["model", "register", "logit", "--path", MODEL, "--type", "nope"],  # bad --type
    ["model", "register", "logit", "--type", "linear"],               # missing --path
    ["traffic", "cli-ep", "blue"],                                    # not NAME=PCT
    ["traffic", "cli-ep", "blue=101"],                                # out of range
    ["traffic", "cli-ep", "blue=x"],
    ["endpoint", "create", "e1", "--auth", "password"],
    ["env", "create", "e1"],                                          # neither --native nor --python
    ["deployment", "create", "ep"],
    ["deployment", "create", "cli-ep", "d1", "--model", "m:1", "--env", "e:1", "--var", "NOEQUALS"],
    ["model", "frobnicate"],
    ["nosuchnoun", "list"],
    ["model", "list", "--bogus"],
    ["-o", "yaml", "model", "list"],
])
def test_usage_errors_exit_2(runtime, args):
    r = runtime.cli(*args, check=False)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert r.stderr.startswith("mldeck: ")


# --- verbs -----------------------------------------------------------------


def test_model_verbs(runtime):
    r = runtime.cli("-o", "json", "model", "register", "logit", "--path", MODEL, "--type",
                    "linear", "--description", "lr")
    m = js(r)
    assert m["name"] == "1" and m["properties"]["modelType"] == "linear"
    # without --version: the next one
    m2 = js(runtime.cli("model", "register", "logit", "--path", MODEL, "--type", "linear"))
    assert m2["name"] == "2"
    m5 = js(runtime.cli("model", "register", "logit", "--path", MODEL, "--type", "linear",
                        "--version", "5"))
    assert m5["name"] == "5"
    lst = js(runtime.cli("model", "list"))
    assert sorted(x["name"] for x in lst) == ["1", "2", "5"]
    t = runtime.cli("-o", "table", "model", "list").stdout.splitlines()
    assert t[0].split() == ["NAME", "VERSION", "TYPE", "SIZE", "SHA256"]
    assert any(line.split()[:3] == ["logit", "1", "linear"] for line in t[1:])
    assert js(runtime.cli("model", "show", "logit:2"))["name"] == "2"
    assert len(js(runtime.cli("model", "show", "logit"))) == 3
    runtime.cli("model", "delete", "logit:5")
    assert len(js(runtime.cli("model", "list"))) == 2
    r = runtime.cli("model", "show", "logit:5", check=False)
    assert r.returncode == 1 and r.stderr.startswith("mldeck: ")
    r = runtime.cli("model", "delete", "logit", check=False)  # needs NAME:V
    assert r.returncode == 2


def test_env_verbs(runtime):
    e = js(runtime.cli("env", "create", "native", "--native"))
    assert e["properties"]["environmentKind"] == "native"
    p = js(runtime.cli("env", "create", "pyenv", "--python", "/usr/bin/python3", "--require",
                       "json", "--require", "math"))
    assert p["properties"]["interpreterPath"] == "/usr/bin/python3"
    assert p["properties"]["requiredModules"] == ["json", "math"]
    t = runtime.cli("-o", "table", "env", "list").stdout.splitlines()
    assert t[0].split() == ["NAME", "VERSION", "KIND", "PYTHON"]
    assert len(t) == 3
    assert js(runtime.cli("env", "show", "pyenv:1"))["name"] == "1"
    runtime.cli("env", "delete", "pyenv:1")
    assert len(js(runtime.cli("env", "list"))) == 1


def test_endpoint_verbs(runtime):
    ep = js(runtime.cli("endpoint", "create", "cli-ep", "--description", "d"))
    assert ep["name"] == "cli-ep" and ep["properties"]["authMode"] == "Key"
    tok = js(runtime.cli("endpoint", "create", "tok-ep", "--auth", "aml_token"))
    assert tok["properties"]["authMode"] == "AMLToken"
    assert {e["name"] for e in js(runtime.cli("endpoint", "list"))} == {"cli-ep", "tok-ep"}
    t = runtime.cli("-o", "table", "endpoint", "list").stdout.splitlines()
    assert t[0].split() == ["NAME", "AUTH", "TRAFFIC", "MIRROR", "STATE"]
    assert js(runtime.cli("endpoint", "show", "cli-ep"))["properties"]["scoringUri"]
    keys = js(runtime.cli("endpoint", "keys", "cli-ep"))
    runtime.cli("endpoint", "regenerate-keys", "cli-ep", "--key-type", "secondary")
    keys2 = js(runtime.cli("endpoint", "keys", "cli-ep"))
    assert keys2["primaryKey"] == keys["primaryKey"]
    assert keys2["secondaryKey"] != keys["secondaryKey"]
    assert js(runtime.cli("endpoint", "token", "tok-ep"))["accessToken"]
    r = runtime.cli("endpoint", "regenerate-keys", "cli-ep", "--key-type", "tertiary",
                    check=False)
    assert r.returncode == 2
    # deletion needs --yes without a terminal
    r = runtime.cli("endpoint", "delete", "tok-ep", check=False)
    assert r.returncode == 2 and "--yes" in r.stderr
    runtime.cli("endpoint", "delete", "tok-ep", "--yes")
    assert [e["name"] for e in js(runtime.cli("endpoint", "list"))] == ["cli-ep"]
    r = runtime.cli("endpoint", "show", "tok-ep", check=False)
    assert r.returncode == 1


def test_deployment_verbs_traffic_and_invoke(runtime):
    ready(runtime)
    d = js(runtime.cli("deployment", "show", "cli-ep", "blue"))
    assert d["properties"]["provisioningState"] == "Succeeded"
    ep = js(runtime.cli("endpoint", "show", "cli-ep"))
    assert ep["properties"]["traffic"] == {"blue": 100}
    g = js(runtime.cli("deployment", "create", "cli-ep", "green", "--model", "logit:1",
                       "--env", "native:1", "--instances", "2", "--max-concurrent", "4",
                       "--timeout-ms", "2500", "--var", "WORKER_COUNT=3", "--var", "A=b=c"))
    assert g["properties"]["provisioningState"] == "Succeeded"
    assert g["sku"]["capacity"] == 2
    assert g["properties"]["environmentVariables"] == {"WORKER_COUNT": "3", "A": "b=c"}
    t = runtime.cli("-o", "table", "deployment", "list", "cli-ep").stdout.splitlines()
    assert t[0].split() == ["NAME", "MODEL", "ENV", "INSTANCES", "STATE", "TRAFFIC"]
    rows = {line.split()[0]: line.split() for line in t[1:]}
    assert rows["blue"][1:3] == ["logit:1", "native:1"] and rows["blue"][5] == "100%"
    assert rows["green"][3] == "2" and rows["green"][5] == "0%"

    r = js(runtime.cli("traffic", "cli-ep", "blue=90", "green=10"))
    assert r["properties"]["traffic"] == {"blue": 90, "green": 10}
    r = runtime.cli("traffic", "cli-ep", "blue=90", "green=20", check=False)
    assert r.returncode == 1 and r.stderr.startswith("mldeck: ")   # sum is not 100
    r = js(runtime.cli("traffic", "cli-ep", "blue=100", "--mirror", "green=10"))
    assert r["properties"]["mirrorTraffic"] == {"green": 10}
    assert r["properties"]["traffic"].get("green", 0) == 0

    out = runtime.cli("invoke", "cli-ep", "--request-file", REQUEST).stdout
    assert isinstance(json.loads(out), list)
    out = runtime.cli("invoke", "cli-ep", "--request-file", REQUEST, "--deployment",
                      "green").stdout
    assert isinstance(json.loads(out), list)
    bad = os.path.join(os.path.dirname(runtime.home), "bad.json")
    with open(bad, "w") as f:
        f.write("not json")
    r = runtime.cli("invoke", "cli-ep", "--request-file", bad, check=False)
    assert r.returncode == 1 and "400" in r.stderr

    u = js(runtime.cli("deployment", "update", "cli-ep", "green", "--instances", "3"))
    assert u["sku"]["capacity"] == 3
    logs = runtime.cli("-o", "json", "deployment", "logs", "cli-ep", "green", "--lines", "5")
    assert "content" in js(logs)

    # green is mirrored: refused by the server (409) -> 1; then without traffic it goes
    r = runtime.cli("deployment", "delete", "cli-ep", "green", "--yes", check=False)
    assert r.returncode == 1
    r = runtime.cli("deployment", "delete", "cli-ep", "green", check=False)
    assert r.returncode == 2 and "--yes" in r.stderr
    runtime.cli("traffic", "cli-ep", "blue=100", "--mirror", "green=0")
    runtime.cli("deployment", "delete", "cli-ep", "green", "--yes")
    assert [x["name"] for x in js(runtime.cli("deployment", "list", "cli-ep"))] == ["blue"]


def test_identical_create_twice_does_not_stick_in_scaling(runtime):
    """The demo's second run: the same `deployment create` again used to answer
    Scaling and never finish (issue 9)."""
    ready(runtime)
    args = ["deployment", "create", "cli-ep", "blue", "--model", "logit:1", "--env", "native:1",
            "--all-traffic"]
    again = js(runtime.cli(*args, timeout=60))
    assert again["properties"]["provisioningState"] == "Succeeded"
    listed = js(runtime.cli("deployment", "list", "cli-ep"))
    assert [d["properties"]["provisioningState"] for d in listed] == ["Succeeded"]
    # a variable changes the engine: Updating while it reloads, then Succeeded
    s, _, d = runtime.http("PATCH", "ws:/onlineEndpoints/cli-ep/deployments/blue",
                           {"properties": {"environmentVariables": {"A": "1"}}})
    assert s == 200 and d["properties"]["provisioningState"] == "Updating"
    assert runtime.wait_deployment("cli-ep", "blue")["properties"]["provisioningState"] == \
        "Succeeded"
    assert "[runtime] loading model" in runtime.cli("deployment", "logs", "cli-ep", "blue").stdout


def test_mlflow_model_deploys_without_an_environment(runtime, tmp_path):
    """An MLflow model folder (xgboost flavour) registered and deployed with no
    --env and no script, as Azure's no-code deployment."""
    import numpy
    import xgboost

    folder = tmp_path / "mlflow-xgb"
    folder.mkdir()
    x = numpy.random.RandomState(3).rand(40, 2)
    booster = xgboost.train({"objective": "reg:squarederror", "max_depth": 2},
                            xgboost.DMatrix(x, label=x[:, 0] * 4), num_boost_round=10)
    booster.save_model(str(folder / "model.json"))
    (folder / "MLmodel").write_text("flavors:\n  xgboost:\n    data: model.json\n"
                                    "    model_format: json\n")
    runtime.cli("model", "register", "churn-mlflow", "--path", str(folder), "--type",
                "mlflow_model")
    runtime.cli("endpoint", "create", "mlflow-ep")
    d = js(runtime.cli("deployment", "create", "mlflow-ep", "blue", "--model", "churn-mlflow:1",
                       "--all-traffic"))
    assert d["properties"]["provisioningState"] == "Succeeded"
    assert "environmentId" not in d["properties"] or not d["properties"]["environmentId"]
    req = tmp_path / "req.json"
    req.write_text(json.dumps({"input_data": [[0.5, 0.5], [0.25, 0.1]]}))
    got = json.loads(runtime.cli("invoke", "mlflow-ep", "--request-file", str(req)).stdout)
    want = booster.predict(xgboost.DMatrix(numpy.array([[0.5, 0.5], [0.25, 0.1]])))
    assert numpy.allclose(got, want, rtol=1e-6), (got, want)


def test_cli_over_https_trusts_the_home_certificate(make_runtime, tmp_path):
    rt = make_runtime(extra_args=["--tls"]).start()
    assert rt.url.startswith("https://")
    # MLDECK_CA_FILE names the certificate; without it the system store refuses it
    r = rt.cli("endpoint", "list", check=False)
    assert r.returncode == 1 and "certificate" in r.stderr.lower(), r.stderr
    rt.cli("endpoint", "create", "tls-ep", env={"MLDECK_CA_FILE": rt.ca_file()})
    # a local profile on an https URL trusts HOME/tls-cert.pem by itself
    cfg = tmp_path / "config"
    (cfg / "mldeck").mkdir(parents=True)
    (cfg / "mldeck" / "config.ini").write_text(
        "[profile tls]\nbackend = local\nurl = %s\nhome = %s\n" % (rt.url, rt.home))
    r = run(["--profile", "tls", "-o", "json", "endpoint", "list"],
            env={"XDG_CONFIG_HOME": str(cfg), "MLDECK_URL": "", "MLDECK_ADMIN_KEY": ""})
    assert r.returncode == 0, r.stderr
    assert [e["name"] for e in json.loads(r.stdout)] == ["tls-ep"]


def test_failed_deployment_exits_1(runtime):
    runtime.cli("model", "register", "logit", "--path", MODEL, "--type", "linear")
    runtime.cli("endpoint", "create", "cli-ep")
    r = runtime.cli("deployment", "create", "cli-ep", "blue", "--model", "logit:1", "--env",
                    "nope:1", check=False)
    assert r.returncode == 1 and r.stderr.startswith("mldeck: ")


def test_bench(runtime):
    ready(runtime)
    r = js(runtime.cli("bench", "cli-ep", "--request-file", REQUEST, "-c", "2", "-n", "50"))
    assert r["requests"] == 50 and r["errors"] == 0
    assert r["statuses"] == {"200": 50}
    assert 0 < r["p50Ms"] <= r["p99Ms"] <= r["maxMs"]
    t = runtime.cli("-o", "table", "bench", "cli-ep", "--request-file", REQUEST, "-n", "5")
    assert "p99" in t.stdout and "200: 5" in t.stdout
    r = runtime.cli("bench", "cli-ep", "--request-file", REQUEST, "-n", "5", "-d", "1",
                    check=False)
    assert r.returncode == 2


# --- credentials, profiles, output -----------------------------------------


def test_wrong_admin_key_is_backend_error(runtime):
    r = runtime.cli("endpoint", "list", check=False, env={"MLDECK_ADMIN_KEY": "wrong"})
    assert r.returncode == 1
    assert r.stderr.startswith("mldeck: ") and len(r.stderr.strip()) > len("mldeck: ")


def test_unreachable_url(runtime):
    r = runtime.cli("endpoint", "list", check=False,
                    env={"MLDECK_URL": "http://127.0.0.1:9"})
    assert r.returncode == 1 and "cannot reach" in r.stderr


def test_profile_from_config_without_env_overrides(runtime, tmp_path):
    cfg = tmp_path / "cfg"
    (cfg / "mldeck").mkdir(parents=True)
    (cfg / "mldeck" / "config.ini").write_text(
        "[profile mine]\nbackend = local\nurl = %s\nhome = %s\n" % (runtime.url, runtime.home))
    env = dict(os.environ)
    env.pop("MLDECK_URL", None)
    env.pop("MLDECK_ADMIN_KEY", None)
    env["XDG_CONFIG_HOME"] = str(cfg)
    env.pop("MLDECK_PROFILE", None)
    base = [BIN, "-o", "json"]
    r = subprocess.run(base + ["--profile", "mine", "endpoint", "list"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert json.loads(r.stdout) == []
    # profile use rewrites default_profile, then no --profile is needed
    r = subprocess.run(base + ["profile", "use", "mine"], env=env, capture_output=True,
                       text=True, timeout=60)
    assert r.returncode == 0, r.stderr
    assert "default_profile = mine" in (cfg / "mldeck" / "config.ini").read_text()
    r = subprocess.run(base + ["endpoint", "list"], env=env, capture_output=True, text=True,
                       timeout=60)
    assert r.returncode == 0, r.stderr
    profiles = json.loads(subprocess.run(base + ["profile", "list"], env=env,
                                         capture_output=True, text=True).stdout)
    assert {p["name"]: p["selected"] for p in profiles} == {"local": False, "mine": True}
    r = subprocess.run(base + ["--profile", "nope", "endpoint", "list"], env=env,
                       capture_output=True, text=True, timeout=60)
    assert r.returncode == 1 and "nope" in r.stderr


def test_broken_config_names_the_line(runtime, tmp_path):
    cfg = tmp_path / "cfg"
    (cfg / "mldeck").mkdir(parents=True)
    (cfg / "mldeck" / "config.ini").write_text("[profile a]\nbackend = local\ncolour = red\n")
    r = runtime.cli("endpoint", "list", check=False, env={"XDG_CONFIG_HOME": str(cfg)})
    assert r.returncode == 1
    assert "config.ini:3" in r.stderr and "colour" in r.stderr


def test_readonly_refuses_changes(runtime):
    r = runtime.cli("--readonly", "endpoint", "create", "cli-ep", check=False)
    assert r.returncode == 2
    assert runtime.cli("--readonly", "endpoint", "list").returncode == 0


def test_json_is_default_when_not_a_tty_and_globals_after_noun(runtime):
    runtime.cli("endpoint", "create", "cli-ep")
    assert isinstance(js(runtime.cli("endpoint", "list")), list)
    t = runtime.cli("endpoint", "list", "-o", "table").stdout
    assert t.split()[:5] == ["NAME", "AUTH", "TRAFFIC", "MIRROR", "STATE"]
