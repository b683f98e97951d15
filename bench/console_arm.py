"""ARM requests an idle console makes on an azureml profile, per screen, over
one minute, counted by the fake Azure (tests/azurefake). Run from the
repository: MLDECK_BIN=$PWD/mldeck /usr/bin/python3 bench/console_arm.py"""

import collections
import os
import pathlib
import sys
import tempfile
import time

HERE = os.path.dirname(os.path.abspath(__file__))
sys.path.insert(0, os.path.join(HERE, "..", "tests", "e2e"))

from azure_env import AzureEnv, Fake  # noqa: E402
from test_azure_backend import setup_blue  # noqa: E402
from test_azure_console import console  # noqa: E402


def main():
    tmp = pathlib.Path(tempfile.mkdtemp())
    fake = Fake(str(tmp / "ca"), lro_seconds=0.5).start()
    az = AzureEnv(fake, str(tmp))
    setup_blue(az, tmp)
    az.cli("deployment", "create", "churn-ep", "green", "--model", "churn:1", "--env",
           "sklearn:1")
    d = console(az, tmp)
    try:
        d.wait("churn-ep", "Succeeded")
        for screen, keys in (("Endpoints", []), ("Deployments", ["Enter"])):
            d.keys(*keys)
            time.sleep(3)
            n0, t0 = len(fake.arm_calls()), time.time()
            time.sleep(60)
            calls = fake.arm_calls()[n0:]
            what = collections.Counter(
                "%s %s" % (c[1], "metrics" if "metrics" in c[3] else c[3].rsplit("/", 1)[1])
                for c in calls)
            print("%-12s %3d ARM requests in %.0f s (%.2f/s): %s"
                  % (screen, len(calls), time.time() - t0, len(calls) / (time.time() - t0),
                     ", ".join("%s x%d" % kv for kv in sorted(what.items()))))
    finally:
        d.close()
        fake.stop()


if __name__ == "__main__":
    main()
