#!/usr/bin/python3
"""Writes customers for the churn model's batch demo: CSV files with a header and the 12
features demo/models/churn-linear.json takes, one customer per row.

    /usr/bin/python3 demo/make_customers.py [--rows N] [--files K] [OUTDIR]

Defaults: 6,000 rows in 4 files into demo/data/customers (what the demo workspace scores);
`--rows 1000000 --files 20 /tmp/customers` makes the million rows of README's example.
Deterministic (a fixed seed), standard library only.
"""
import argparse
import os
import random

HERE = os.path.dirname(os.path.abspath(__file__))
FEATURES = 12


def main():
    ap = argparse.ArgumentParser()
    ap.add_argument("--rows", type=int, default=6000)
    ap.add_argument("--files", type=int, default=4)
    ap.add_argument("outdir", nargs="?", default=os.path.join(HERE, "data", "customers"))
    args = ap.parse_args()
    os.makedirs(args.outdir, exist_ok=True)
    rnd = random.Random(7)
    header = ",".join("f%d" % i for i in range(FEATURES)) + "\n"
    per = -(-args.rows // args.files)
    left = args.rows
    for k in range(args.files):
        n = min(per, left)
        left -= n
        with open(os.path.join(args.outdir, "customers-%03d.csv" % k), "w") as f:
            f.write(header)
            for _ in range(n):
                f.write(",".join("%.3f" % rnd.gauss(0, 1.6) for _ in range(FEATURES)) + "\n")
    print("%d rows in %d files in %s" % (args.rows, args.files, args.outdir))


if __name__ == "__main__":
    main()
