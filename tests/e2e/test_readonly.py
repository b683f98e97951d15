"""Read-only is decided in one place, the CLI dispatcher's verb table: every
verb that may change the workspace is refused (exit 2, nothing changed) with
--readonly and with a profile that says `readonly = true`, one test per verb.
The list of such verbs comes from `mldeck --help` (generated from the same
table), so a new changing verb without a case here fails the suite."""

import json
import subprocess

import pytest

from conftest import BIN, Runtime, repo_path

MODEL = repo_path("tests", "data", "logistic.json")

# One call per verb that may change the workspace, on the fixture's resources.
CHANGES = {
    "model register": ["model", "register", "other", "--path", MODEL, "--type", "linear"],
    "model delete": ["model", "delete", "logit:1"],
    "env create": ["env", "create", "other", "--native"],
    "env delete": ["env", "delete", "spare:1"],
    "endpoint create": ["endpoint", "create", "other-ep"],
    "endpoint delete": ["endpoint", "delete", "ro-ep", "--yes"],
    "endpoint regenerate-keys": ["endpoint", "regenerate-keys", "ro-ep", "--key-type", "primary"],
    "deployment create": ["deployment", "create", "ro-ep", "green", "--model", "logit:1",
                          "--env", "native:1"],
    "deployment update": ["deployment", "update", "ro-ep", "blue", "--instances", "2"],
    "deployment delete": ["deployment", "delete", "ro-ep", "spare", "--yes"],
    "traffic": ["traffic", "ro-ep", "blue=0", "spare=100"],
    "batch-endpoint create": ["batch-endpoint", "create", "other-batch"],
    "batch-endpoint delete": ["batch-endpoint", "delete", "ro-batch", "--yes"],
    "batch-endpoint invoke": ["batch-endpoint", "invoke", "ro-batch", "--input", "azureml:rows:1"],
    "batch-deployment create": ["batch-deployment", "create", "ro-batch", "other", "--model",
                                "logit:1"],
    "batch-deployment update": ["batch-deployment", "update", "ro-batch", "nightly",
                                "--mini-batch-size", "3"],
    "batch-deployment delete": ["batch-deployment", "delete", "ro-batch", "spare", "--yes"],
    "data create": ["data", "create", "rows", "--path", "/tmp"],
    "job cancel": ["job", "cancel", "some-job"],
    "schedule create": ["schedule", "create", "other", "--endpoint", "ro-batch", "--input",
                        "azureml:rows:1", "--cron", "0 0 * * *"],
    "schedule enable": ["schedule", "enable", "ro-sched"],
    "schedule disable": ["schedule", "disable", "ro-sched"],
    "schedule trigger": ["schedule", "trigger", "ro-sched"],
    "schedule delete": ["schedule", "delete", "ro-sched", "--yes"],
    "monitor create": ["monitor", "create", "other-mon", "ro-ep", "blue", "--reference",
                       "/nowhere/train.jsonl"],
    "monitor run": ["monitor", "run", "ro-mon"],
    "monitor delete": ["monitor", "delete", "ro-mon", "--yes"],
}
# Calls of those verbs that only read (traffic without changes shows the split).
READS = [["traffic", "ro-ep"], ["endpoint", "list"]]


def changing_verbs():
    """The verbs `mldeck --help` marks with '*' (may change the workspace)."""
    r = subprocess.run([BIN, "--help"], capture_output=True, text=True, timeout=30)
    verbs = []
    for line in r.stdout.splitlines():
        if line.startswith("* mldeck "):
            words = line[len("* mldeck "):].split()
            verbs.append(" ".join(w for w in words[:2] if w.islower() and w.replace("-", "").isalpha()))
    return verbs


@pytest.fixture(scope="module")
def rt(tmp_path_factory):
    base = tmp_path_factory.mktemp("ro")
    r = Runtime(str(base / "home")).start()
    r.cli("model", "register", "logit", "--path", MODEL, "--type", "linear")
    r.cli("env", "create", "native", "--native")
    r.cli("env", "create", "spare", "--native")
    r.cli("endpoint", "create", "ro-ep")
    for d in ("blue", "spare"):
        r.cli("deployment", "create", "ro-ep", d, "--model", "logit:1", "--env", "native:1")
    r.cli("traffic", "ro-ep", "blue=100")
    r.cli("batch-endpoint", "create", "ro-batch")
    r.cli("batch-deployment", "create", "ro-batch", "nightly", "--model", "logit:1",
          "--set-default")
    r.cli("batch-deployment", "create", "ro-batch", "spare", "--model", "logit:1")
    r.cli("data", "create", "rows", "--path", str(base), "--version", "1")
    r.cli("schedule", "create", "ro-sched", "--endpoint", "ro-batch", "--input", "azureml:rows:1",
          "--cron", "0 0 1 1 *")
    r.cli("monitor", "create", "ro-mon", "ro-ep", "blue", "--reference", "/nowhere/train.jsonl")
    cfg = base / "cfg" / "mldeck"
    cfg.mkdir(parents=True)
    (cfg / "config.ini").write_text("[profile ro]\nurl = %s\nhome = %s\nreadonly = true\n"
                                    % (r.url, r.home))
    r.ro_env = {"XDG_CONFIG_HOME": str(base / "cfg")}
    yield r
    assert r.stop() == 0


def snapshot(r):
    """Everything the verbs could change."""
    out = {}
    for path in ["/models", "/environments", "/onlineEndpoints",
                 "/onlineEndpoints/ro-ep/deployments", "/batchEndpoints",
                 "/batchEndpoints/ro-batch/deployments", "/data", "/jobs",
                 "/schedules?listViewType=All"]:
        s, _, doc = r.http("GET", "ws:" + path)
        assert s == 200, doc
        out[path] = doc
    out["versions"] = [r.http("GET", "ws:/%s/versions" % a)[2]
                       for a in ("models/logit", "environments/native", "environments/spare")]
    out["keys"] = r.http("POST", "ws:/onlineEndpoints/ro-ep/listKeys")[2]
    return json.dumps(out, sort_keys=True)


def test_every_changing_verb_has_a_case():
    assert sorted(changing_verbs()) == sorted(CHANGES)


@pytest.mark.parametrize("how", ["--readonly", "readonly = true"])
@pytest.mark.parametrize("verb", sorted(CHANGES))
def test_read_only_refuses(rt, verb, how):
    before = snapshot(rt)
    if how == "--readonly":
        r = rt.cli("--readonly", *CHANGES[verb], check=False)
    else:
        r = rt.cli("--profile", "ro", *CHANGES[verb], check=False, env=rt.ro_env)
    assert r.returncode == 2, (r.stdout, r.stderr)
    assert "read-only mode: `%s` would change the workspace" % verb in r.stderr
    assert snapshot(rt) == before


@pytest.mark.parametrize("args", READS)
def test_read_only_still_reads(rt, args):
    assert rt.cli("--profile", "ro", *args, env=rt.ro_env).returncode == 0
    assert rt.cli("--readonly", *args).returncode == 0


def test_without_read_only_the_same_call_changes(rt):
    """The cases above are real changes: the traffic one goes through when allowed."""
    before = snapshot(rt)
    rt.cli("traffic", "ro-ep", "blue=0", "spare=100")
    assert snapshot(rt) != before
    rt.cli("traffic", "ro-ep", "blue=100")
