#!/usr/bin/python3
"""The server's hot path, A against B: in-process scoring on the event loop (linear model,
1 row, keep-alive) measured with wrk for two binaries in alternation, so that a change to the
HTTP layer can be checked for speed on a shared, noisy machine. Not a test: it measures.

    /usr/bin/python3 bench/hotpath.py --bin OLD --bin NEW [--runs 5] [--duration 3] [--conns 16]
                                      [--rows 1|100] [--model logistic|xgboost]

The body is written as bench/scoring.py writes it (compact JSON of the models' own rows), so
--rows 100 is its 100-row payload; GB/s of request body is printed beside req/s.

Prints requests/s per run and the median per binary, and the server's CPU time per request
(user + system, from /proc): on a shared machine throughput moves with the neighbours' load,
while CPU time per request says what the code costs. Server pinned to core 0, wrk to core 1
(as bench/scoring.py does); each binary is copied to a temp dir first.
"""
import argparse
import json
import os
import shutil
import statistics
import sys
import tempfile

sys.path.insert(0, os.path.dirname(os.path.abspath(__file__)))
import scoring  # noqa: E402  (the benchmark's server driver and wrk runner)


def cpu_seconds(pid):
    with open("/proc/%d/stat" % pid) as f:
        fields = f.read().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


MODELS = {"logistic": ("linear", "logistic.json"), "xgboost": ("xgboost", "xgb_binary.json")}


def one_server(binary, tmp, model):
    kind, path = MODELS[model]
    md = scoring.Mldeck(binary, tmp)
    md.put("ws:/environments/native/versions/1", {"properties": {"environmentKind": "native"}})
    md.put("ws:/models/%s/versions/1" % model,
           {"properties": {"modelType": kind, "modelUri": os.path.join(scoring.DATA, path)}})
    md.endpoint(model, {"blue": (model, "native", 64, None, None)}, {"blue": 100})
    return md


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--bin", action="append", required=True, help="binary (give two)")
    ap.add_argument("--runs", type=int, default=5)
    ap.add_argument("--duration", type=float, default=3.0)
    ap.add_argument("--conns", type=int, default=16)
    ap.add_argument("--rows", type=int, default=1)
    ap.add_argument("--model", choices=sorted(MODELS), default="logistic")
    args = ap.parse_args()
    tmp = tempfile.mkdtemp(prefix="mldeck-hotpath-")
    servers = []
    try:
        body = os.path.join(tmp, "body.json")
        with open(body, "w") as f:
            json.dump({"data": scoring.make_rows(args.rows)}, f, separators=(",", ":"))
        size = os.path.getsize(body)
        for i, b in enumerate(args.bin):
            d = os.path.join(tmp, "s%d" % i)
            os.makedirs(d)
            shutil.copy(b, os.path.join(d, "mldeck"))
            servers.append(one_server(os.path.join(d, "mldeck"), d, args.model))
        results = [[] for _ in servers]
        cpu = [[] for _ in servers]
        for md in servers:  # warm-up
            scoring.wrk(md.score_url(args.model), body, md.keys[args.model], args.conns, 1.0)
        for r in range(args.runs):
            for i, md in enumerate(servers):
                c0 = cpu_seconds(md.proc.pid)
                res, _ = scoring.wrk(md.score_url(args.model), body, md.keys[args.model],
                                     args.conns, args.duration)
                us = (cpu_seconds(md.proc.pid) - c0) * 1e6 / max(res["requests"], 1)
                results[i].append(res["rps"])
                cpu[i].append(us)
                print("run %d %-30s %8.0f req/s  p99 %.2f ms  non-2xx %d  %.2f us CPU/request"
                      % (r, args.bin[i], res["rps"], res["p99"], res["non2xx"], us), flush=True)
        print("body %d bytes; load average %.2f" % (size, os.getloadavg()[0]))
        for i, b in enumerate(args.bin):
            rps, us = statistics.median(results[i]), statistics.median(cpu[i])
            print("median %-30s %8.0f req/s (min %.0f, max %.0f); CPU/request %.2f us "
                  "(min %.2f); %.3f GB/s of body, %.3f GB/s if the core were all ours"
                  % (b, rps, min(results[i]), max(results[i]), us, min(cpu[i]),
                     rps * size / 1e9, size / (us * 1e3)))
    finally:
        for md in servers:
            md.close()
        shutil.rmtree(tmp, ignore_errors=True)


if __name__ == "__main__":
    main()
