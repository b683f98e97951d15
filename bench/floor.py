#!/usr/bin/python3
"""The HTTP floor under scoring: mldeck against the least HTTP layer there is
(build/bench/httpfloor: the runtime's own XGBoost engine behind one epoll loop,
bench/httpfloor.c) and nginx's fixed answer, one row, in the same run. Not a
test: it measures where a request's time goes between the HTTP layer and the
model.

    make bench-floor
    /usr/bin/python3 bench/floor.py [--bin MLDECK ...] [--runs 5] [--duration 3]
                                    [--conns 16,64] [--model xgboost|logistic]

Per server and connection count: median req/s over the runs (alternated, so
neighbours' load falls on all alike) and the server's CPU time per request,
user and system apart (from /proc). Server pinned to core 0, wrk to core 1.
"""
import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import hotpath  # noqa: E402  (mldeck with one endpoint)
import scoring  # noqa: E402  (nginx, wrk, rows)

FLOOR = os.path.join(scoring.REPO, "build", "bench", "httpfloor")


def cpu(pid):
    """(user, system) CPU seconds of a process, from /proc."""
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    tick = os.sysconf("SC_CLK_TCK")
    return int(fields[11]) / tick, int(fields[12]) / tick


def start_floor(model, key, tmp):
    kind, path = hotpath.MODELS[model]
    out = open(os.path.join(tmp, "floor.out"), "w+")
    proc = subprocess.Popen(["taskset", "-c", scoring.SERVER_CPU, FLOOR, kind,
                             os.path.join(scoring.DATA, path), key],
                            stdin=subprocess.DEVNULL, stdout=out, stderr=out)
    deadline = time.monotonic() + 20
    while time.monotonic() < deadline:
        out.seek(0)
        m = re.search(r"listening on (http://[0-9.:]+)", out.read())
        if m:
            return proc, m.group(1) + "/endpoints/%s/score" % model
        if proc.poll() is not None:
            break
        time.sleep(0.05)
    out.seek(0)
    raise SystemExit("httpfloor did not start: " + out.read())


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", action="append", help="mldeck binary (default ./mldeck)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--conns", default="16,64")
    ap.add_argument("--model", choices=sorted(hotpath.MODELS), default="xgboost")
    args = ap.parse_args()
    if not os.access(FLOOR, os.X_OK):
        raise SystemExit("no %s (make bench-floor)" % FLOOR)
    bins = args.bin or [os.path.join(scoring.REPO, "mldeck")]
    tmp = tempfile.mkdtemp(prefix="mldeck-floor-")
    procs, servers = [], []
    try:
        body = os.path.join(tmp, "body.json")
        with open(body, "w") as f:
            json.dump({"data": scoring.make_rows(1)}, f, separators=(",", ":"))
        for i, b in enumerate(bins):
            d = os.path.join(tmp, "s%d" % i)
            os.makedirs(d)
            shutil.copy(b, os.path.join(d, "mldeck"))
            md = hotpath.one_server(os.path.join(d, "mldeck"), d, args.model)
            servers.append(md)
            answer = scoring.post(md.score_url(args.model), open(body, "rb").read(),
                                  md.keys[args.model])[1]
        targets = [("mldeck %s" % b, md.proc.pid, md.score_url(args.model), md.keys[args.model])
                   for b, md in zip(bins, servers)]
        fl, fl_url = start_floor(args.model, "floor-key", tmp)
        procs.append(fl)
        targets.append(("httpfloor", fl.pid, fl_url, "floor-key"))
        ng, ng_url = scoring.start_nginx(tmp, {1: answer, 100: answer})
        procs.append(ng)
        workers = subprocess.run(["pgrep", "-P", str(ng.pid)], capture_output=True,
                                 text=True).stdout.split()
        targets.append(("nginx", int(workers[0]), ng_url + "/score1", None))
        for c in [int(x) for x in args.conns.split(",")]:
            got = {name: [] for name, *_ in targets}
            for name, pid, url, key in targets:  # warm-up
                scoring.wrk(url, body, key, c, 1.0)
            for _ in range(args.runs):
                for name, pid, url, key in targets:
                    u0, s0 = cpu(pid)
                    r, _ = scoring.wrk(url, body, key, c, args.duration)
                    u1, s1 = cpu(pid)
                    n = max(r["requests"], 1)
                    got[name].append((r["rps"], (u1 - u0) * 1e6 / n, (s1 - s0) * 1e6 / n,
                                      r["non2xx"]))
            ref = statistics.median(x[0] for x in got["nginx"])
            print("%d connections, %s, 1 row, %d runs of %g s (load %.2f)"
                  % (c, args.model, args.runs, args.duration, os.getloadavg()[0]))
            for name, *_ in targets:
                v = got[name]
                rps = statistics.median(x[0] for x in v)
                print("  %-40s %8.0f req/s  %.2fx nginx  CPU/request user %.2f us, "
                      "system %.2f us%s" % (
                          name, rps, rps / ref, statistics.median(x[1] for x in v),
                          statistics.median(x[2] for x in v),
                          "  NON-2XX" if any(x[3] for x in v) else ""), flush=True)
    finally:
        for md in servers:
            md.close()
        for p in procs:
            scoring.stop(p)
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
