"""The monitoring statistics (runtime/monitor/stats.c) against SciPy, to 1e-9.

Driven through build/tools/statsprobe (tests/tools/statsprobe.c) on generated
samples with known shifts: normal and heavy-tailed data, ties, constant
columns, empty windows, missing values, categories the reference never saw,
and the p-value functions over grids that reach every branch SciPy takes.
The binning of JS/PSI for numbers is the one docs/monitoring.md documents:
Sturges' count on the smaller sample, equal widths over both samples' range.
"""

import json
import math
import os
import subprocess
import warnings
from math import gcd

import numpy as np
import pytest
import scipy.special as sp
import scipy.stats as st
from scipy.spatial.distance import jensenshannon
from scipy.stats._stats_py import _attempt_exact_2kssamp

from conftest import REPO

TOOLS = os.environ.get("MLDECK_TOOLS", os.path.join(REPO, "build", "tools"))
PROBE = os.path.join(TOOLS, "statsprobe")
TOL = 1e-9
pytestmark = pytest.mark.filterwarnings("ignore::RuntimeWarning")



def probe(obj):
    r = subprocess.run([PROBE], input=json.dumps(obj).encode(), capture_output=True,
                       timeout=120, check=True)
    return json.loads(r.stdout)


def agree(got, want):
    """got (from JSON: None for NaN, "inf") equals want within TOL, relative
    for values above 1e-300 (p-values reach 1e-200), absolute below."""
    if want is None or (isinstance(want, float) and math.isnan(want)):
        return got is None
    if math.isinf(want):
        return got == ("inf" if want > 0 else "-inf")
    if not isinstance(got, (int, float)):
        return False
    return abs(got - want) <= TOL * max(abs(want), 1e-300) or abs(got - want) < 1e-300


def assert_agree(got, want, what):
    bad = {k: (got.get(k), v) for k, v in want.items() if not agree(got.get(k), v)}
    assert not bad, "%s: (ours, SciPy) differ: %r" % (what, bad)


def numbers(x):
    return [None if v is None or math.isnan(v) else float(v) for v in x]


def scipy_numerical(a, b):
    a = np.array([v for v in a if v is not None and not math.isnan(v)], dtype=float)
    b = np.array([v for v in b if v is not None and not math.isnan(v)], dtype=float)
    if len(a) == 0 or len(b) == 0:
        keys = ("wasserstein", "normalized_wasserstein", "ks_statistic", "ks_pvalue",
                "jensen_shannon", "psi")
        return dict.fromkeys(keys, None)
    w = st.wasserstein_distance(a, b)
    sd = np.std(a, ddof=1) if len(a) > 1 else float("nan")
    norm = 0.001 if math.isnan(sd) or sd < 0.001 else sd
    ks = st.ks_2samp(a, b)
    lo, hi = min(a.min(), b.min()), max(a.max(), b.max())
    small = min(len(a), len(b))
    k = max(1, math.ceil(math.log2(small) + 1)) if small > 1 else 1
    if not hi > lo:
        k = 1

    def hist(x):
        if k == 1:
            return np.array([len(x)], dtype=float)
        idx = np.clip(np.floor((x - lo) / ((hi - lo) / k)), 0, k - 1).astype(int)
        return np.bincount(idx, minlength=k).astype(float)

    ha, hb = hist(a), hist(b)
    pa, pb = (ha + 1) / len(a), (hb + 1) / len(b)
    return {"wasserstein": w, "normalized_wasserstein": w / norm,
            "ks_statistic": ks.statistic, "ks_pvalue": ks.pvalue,
            "jensen_shannon": jensenshannon(ha / len(a), hb / len(b), base=2),
            "psi": float(np.sum((pb - pa) * np.log(pb / pa)))}


def check_numerical(a, b, what):
    assert_agree(probe({"a": numbers(a), "b": numbers(b)}), scipy_numerical(a, b), what)


RNG = np.random.default_rng(20261126)


@pytest.mark.parametrize("n1,n2,shift", [
    (100, 100, 0.0), (100, 120, 0.3), (1000, 800, 0.1), (5000, 5000, 0.05),
    (9000, 10000, 0.02),                       # exact KS, unequal sizes
    (20000, 15000, 0.01), (30000, 25000, 0.0),  # asymptotic KS (kstwo, Pelz-Good)
    (20000, 300, 0.2), (50000, 40, 0.5),        # asymptotic KS with small en
    (2000, 2000, 3.0),                          # a large shift: p underflows
])
def test_numerical_normal_shift(n1, n2, shift):
    check_numerical(RNG.normal(0, 1, n1), RNG.normal(shift, 1, n2), "normal shift %g" % shift)


def test_numerical_scale_and_heavy_tails():
    check_numerical(RNG.standard_t(2, 3000), RNG.standard_t(2, 2500) * 1.5, "t(2) scaled")
    check_numerical(RNG.lognormal(0, 2, 4000), RNG.lognormal(0.2, 2, 3500), "lognormal")


def test_numerical_ties_and_integers():
    check_numerical(RNG.integers(0, 5, 300), RNG.integers(0, 6, 400), "ties")
    check_numerical(RNG.integers(0, 3, 20000), RNG.integers(0, 3, 12000), "ties, asymptotic")
    check_numerical([1.0, 1.0, 2.0, 2.0, 2.0], [2.0, 2.0, 3.0], "few ties")


def test_numerical_constant_columns():
    check_numerical([3.0] * 50, [3.0] * 40, "constant, equal")
    check_numerical([3.0] * 50, [4.0] * 40, "constant, shifted")  # sd 0: norm 0.001
    check_numerical([0.0] * 10, RNG.normal(0, 1, 30), "constant reference")


def test_numerical_missing_values_are_left_out():
    a = list(RNG.normal(0, 1, 500))
    b = list(RNG.normal(0.2, 1, 400))
    a[::7] = [float("nan")] * len(a[::7])
    b[::5] = [None] * len(b[::5])
    check_numerical(a, b, "with missing values")


def test_numerical_empty_and_tiny_windows():
    got = probe({"a": numbers(RNG.normal(0, 1, 100)), "b": []})
    assert all(got[k] is None for k in ("wasserstein", "ks_pvalue", "jensen_shannon", "psi"))
    got = probe({"a": [], "b": [1.0]})
    assert got["wasserstein"] is None
    check_numerical([1.5], [2.5], "one value each")
    check_numerical(RNG.normal(0, 1, 1000), [0.3], "one production value")


def scipy_categorical(ca, cb):
    ca = [v for v in ca if v is not None]
    cb = [v for v in cb if v is not None]
    keys = sorted(set(ca) | set(cb))
    a = np.array([ca.count(k) for k in keys], dtype=float)
    b = np.array([cb.count(k) for k in keys], dtype=float)
    ra, rb = (a + 1) / len(ca), (b + 1) / len(cb)
    chi = st.chisquare(b, a / len(ca) * len(cb))
    return {"jensen_shannon": jensenshannon(a / len(ca), b / len(cb), base=2),
            "psi": float(np.sum((rb - ra) * np.log(rb / ra))),
            "chi2_statistic": chi.statistic,
            # one category: SciPy says nan, nothing can have drifted: 1
            "chi2_pvalue": 1.0 if len(keys) == 1 else chi.pvalue}


def check_categorical(ca, cb, what):
    assert_agree(probe({"ca": ca, "cb": cb}), scipy_categorical(ca, cb), what)


def test_categorical_shifted_proportions():
    cats = ["basic", "standard", "premium", "enterprise"]
    for trial in range(12):
        pa = RNG.dirichlet(np.ones(4))
        pb = pa if trial % 3 == 0 else RNG.dirichlet(np.ones(4))
        na, nb = int(RNG.integers(50, 5000)), int(RNG.integers(50, 5000))
        check_categorical(list(RNG.choice(cats, na, p=pa)), list(RNG.choice(cats, nb, p=pb)),
                          "trial %d" % trial)


def test_categorical_absent_from_reference_and_missing():
    ca = ["a"] * 40 + ["b"] * 60 + [None] * 5
    cb = ["a"] * 30 + ["b"] * 50 + ["c"] * 3 + [None]
    got = probe({"ca": ca, "cb": cb})
    assert got["chi2_statistic"] == "inf" and got["chi2_pvalue"] == 0
    check_categorical(ca, cb, "a category the reference never saw")
    check_categorical(["a"] * 10 + ["b"] * 5, ["a"] * 12, "a category production lacks")
    check_categorical(["x"] * 9, ["x"] * 4, "one category")


def probe_many(cases):
    """[(request, expected, label)]: one probe run for all."""
    answers = probe([c[0] for c in cases])
    for (_, want, what), got in zip(cases, answers):
        assert_agree(got, want, what)


def test_ks_pvalue_over_sizes_and_statistics():
    cases = []
    for n1 in (1, 2, 5, 17, 100, 999, 4000, 10000, 10001, 30000):
        for n2 in (1, 3, 8, 100, 2500, 10000, 12000):
            for d in (0.01, 0.05, 0.1, 0.3, 0.7, 1.0):
                m, n = sorted([float(n1), float(n2)], reverse=True)
                if max(n1, n2) <= 10000:
                    ok, dd, p = _attempt_exact_2kssamp(n1, n2, gcd(n1, n2), d, "two-sided")
                    if not ok:
                        p = st.kstwo.sf(dd, np.round(m * n / (m + n)))
                else:
                    dd, p = d, st.kstwo.sf(d, np.round(m * n / (m + n)))
                cases.append(({"ks": [d, n1, n2]},
                              {"pvalue": min(max(p, 0.0), 1.0), "statistic": dd},
                              "ks d=%g n1=%d n2=%d" % (d, n1, n2)))
    probe_many(cases)


def test_kstwo_smirnov_and_chi2_distributions():
    cases = []
    for n in (1, 2, 3, 10, 100, 140, 141, 1000, 20000, 200000, 2000000):
        for x in (0.001, 0.003, 0.01, 0.05, 0.1, 0.2, 0.45, 0.5, 0.6, 0.99):
            cases.append(({"kstwo": [n, x]}, {"sf": st.kstwo.sf(x, n)}, "kstwo %d %g" % (n, x)))
            cases.append(({"smirnov": [n, x]}, {"sf": sp.smirnov(n, x)},
                          "smirnov %d %g" % (n, x)))
    for df in (1, 2, 3, 10, 100, 1000):
        for x in (0.01, 0.5, 2, 10, 100, 1000, 3000):
            cases.append(({"chi2": [x, df]}, {"sf": st.chi2.sf(x, df)}, "chi2 %g %d" % (x, df)))
    probe_many(cases)


# ---- the monitor's path: files -> columns -> statistics ---------------------

def kind_of(v):
    if v is None or (isinstance(v, float) and math.isnan(v)):
        return None
    if isinstance(v, bool):
        return "bool"
    if isinstance(v, int):
        return "int"
    if isinstance(v, float):
        return "double"
    if isinstance(v, str):
        return "string"
    return "other"


def infer(values):
    kinds = {kind_of(v) for v in values} - {None}
    if not kinds:
        return "none"
    if kinds <= {"int", "double"}:
        return "double" if "double" in kinds else "long"
    if kinds == {"bool"}:
        return "boolean"
    return "string"


def as_number(v):
    k = kind_of(v)
    if k in ("int", "double", "bool"):
        return float(v)
    if k == "string":
        try:
            x = float(json.loads(v)) if v.strip() == v else None
            return x if x is not None and not math.isnan(x) else None
        except (ValueError, TypeError):
            return None
    return None


def oracle(ref_rows, prod_rows):
    """What docs/monitoring.md says, in Python: types, casts, quality, drift."""
    out = {}
    for col in ref_rows[0].keys():
        rv = [r.get(col) for r in ref_rows]
        pv = [r.get(col) for r in prod_rows]
        typ = infer(rv)
        ref = [v for v in rv if kind_of(v) is not None]
        present = [v for v in pv if kind_of(v) is not None]
        rows = len(pv)
        facts = {"type": typ, "null_rate": (rows - len(present)) / rows}
        if typ in ("long", "double"):
            a = [float(v) for v in ref]
            cast = [as_number(v) for v in present]
            b = [x for x in cast if x is not None]
            facts["type_error_rate"] = cast.count(None) / rows
            facts["out_of_bounds_rate"] = sum(1 for x in b if x < min(a) or x > max(a)) / rows
            distinct = len(set(a))
            facts["categorical"] = typ == "long" and distinct / len(a) < 0.05
            num = scipy_numerical(a, b)
            facts.update({"normalized_wasserstein": num["normalized_wasserstein"],
                          "ks_pvalue": num["ks_pvalue"],
                          "num_jensen_shannon": num["jensen_shannon"], "num_psi": num["psi"]})
            cat = scipy_categorical([repr(x) for x in a], [repr(x) for x in b])
        else:
            def text(v):
                return ("true" if v else "false") if isinstance(v, bool) else str(v)
            a = [text(v) for v in ref]
            ok = [v for v in present if kind_of(v) != "other"]
            b = [text(v) for v in ok]
            facts["categorical"] = True
            facts["type_error_rate"] = (len(present) - len(ok)) / rows
            facts["out_of_bounds_rate"] = (sum(1 for x in b if x not in set(a)) / rows
                                           if typ == "string" else 0.0)
            cat = scipy_categorical(a, b)
        facts.update({"cat_jensen_shannon": cat["jensen_shannon"], "cat_psi": cat["psi"],
                      "chi2_pvalue": cat["chi2_pvalue"]})
        out[col] = facts
    return out


def churn_rows(n, shift, rng):
    rows = []
    for _ in range(n):
        r = {"age": int(rng.integers(18, 80 + shift * 10)),
             "income": float(rng.normal(50000 + shift * 5000, 12000)),
             "plan": str(rng.choice(["basic", "plus", "pro"],
                                    p=[0.3, 0.3, 0.4] if shift else [0.5, 0.3, 0.2])),
             "tenure": int(rng.integers(0, 5)),
             "active": bool(rng.random() < 0.7),
             "score": float(np.round(rng.random(), 2))}
        if rng.random() < 0.05:
            r["income"] = None
        if rng.random() < 0.03:
            r["score"] = float("nan")
        if rng.random() < 0.02:
            del r["tenure"]
        if shift and rng.random() < 0.02:
            r["plan"] = "vip"          # a category the reference never saw
        if shift and rng.random() < 0.01:
            r["income"] = "n/a"        # a data type error
        if shift and rng.random() < 0.01:
            r["income"] = "61000.5"    # a string that casts
        rows.append(r)
    rows[0].setdefault("tenure", 1)    # the reference's first row names every column
    return rows


def compare_columns(got, want):
    assert set(got["columns"]) == set(want), got
    for col, w in want.items():
        g = dict(got["columns"][col])
        assert g["type"] == w["type"] and g["categorical"] == w["categorical"], (col, g, w)
        assert_agree(g, {k: v for k, v in w.items() if k not in ("type", "categorical")}, col)


def test_files_jsonl_rows_against_collector_records(tmp_path):
    rng = np.random.default_rng(11)
    ref, prod = churn_rows(3000, 0, rng), churn_rows(2000, 1, rng)
    (tmp_path / "ref.jsonl").write_text("".join(json.dumps(r) + "\n" for r in ref))
    with open(tmp_path / "prod.jsonl", "w") as f:
        for i in range(0, len(prod), 7):     # Azure's collector records, several rows each
            f.write(json.dumps({"specversion": "1.0", "id": str(i),
                                "type": "azureml.inference.model_inputs",
                                "time": "2026-11-26T10:00:00Z", "data": prod[i:i + 7]}) + "\n")
    got = probe({"files": [str(tmp_path / "ref.jsonl"), str(tmp_path / "prod.jsonl")],
                 "tmp": str(tmp_path)})
    assert got["ref_rows"] == 3000 and got["prod_rows"] == 2000
    compare_columns(got, oracle(ref, prod))


def test_files_csv(tmp_path):
    rng = np.random.default_rng(12)
    cols = ["age", "income", "plan", "active"]
    ref = [{k: r.get(k) for k in cols} for r in churn_rows(1500, 0, rng)]
    prod = [{k: r.get(k) for k in cols} for r in churn_rows(1200, 1, rng)]

    def cell(v):
        if v is None:
            return ""
        if isinstance(v, bool):
            return "true" if v else "false"
        return '"%s"' % v if isinstance(v, str) else repr(v)

    for name, rows in (("ref.csv", ref), ("prod.csv", prod)):
        with open(tmp_path / name, "w") as f:
            f.write(",".join(cols) + "\n")
            for r in rows:
                f.write(",".join(cell(r[k]) for k in cols) + "\n")
    got = probe({"files": [str(tmp_path / "ref.csv"), str(tmp_path / "prod.csv")],
                 "tmp": str(tmp_path)})
    # CSV reads "61000.5" back as a number, as Spark's inference does
    for r in prod:
        if r["income"] == "61000.5":
            r["income"] = 61000.5
    compare_columns(got, oracle(ref, prod))
