"""run(mini_batch) returning a pandas DataFrame, as Azure's MNIST driver does."""
import os

import pandas as pd


def init():
    pass


def run(mini_batch):
    rows = []
    for path in mini_batch:
        with open(path) as f:
            n = sum(1 for _ in f) - 1
        rows.append({"file": os.path.basename(path), "rows": n, "half": n / 2})
    return pd.DataFrame(rows)
