"""Azure's batch contract: init() once per worker, run(mini_batch) with a list
of file paths, one result per file (a list: each element one line)."""
import os

SUFFIX = None


def init():
    global SUFFIX
    SUFFIX = os.path.basename(os.environ["AZUREML_MODEL_DIR"].rstrip("/")) and "ok"


def run(mini_batch):
    out = []
    for path in mini_batch:
        name = os.path.basename(path)
        if "poison" in name:
            raise ValueError("poisoned file " + name)
        if "slow" in name:
            import time
            time.sleep(60)
        if "skip" in name:
            continue  # no row for it: a failed item, as Azure counts them
        with open(path) as f:
            rows = sum(1 for _ in f) - 1
        print("scored", name)
        if "big" in name:  # one line longer than the runtime's write buffer
            out.append("%s %d %s" % (name, rows, "x" * 400000))
            continue
        out.append("%s %d %s" % (name, rows, SUFFIX))
    return out
