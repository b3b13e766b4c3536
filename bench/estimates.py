"""Share estimators in simulation on real labeled data: do the report's 95% intervals cover the
truth?

    python -m bench.estimates [--reps 200] [--only bbc,ag_news_subset,...] [--pop 2000]
    python -m bench.estimates --only id_indosum --train all --prev 0.1 --n 50,100 --reps 4000 \\
        --seed 1
    # fit each data set's models once, reuse them:
    python -m bench.estimates --cache /tmp/est-models ...

`--train`, `--prev` and `--n` select conditions (training sizes as in TRAIN_SIZES, `all` for all of
train); `--seed` shifts every condition's random stream (0 reproduces the published table; another
value gives independent replicates of the same conditions, to tell a real shortfall from Monte
Carlo error). `--cache DIR` keeps each data set's fitted models (test probabilities, predictions,
cross-validated rates) as a pickle named by a digest of the fitting code and the data set's files.

For each data set in ../shared/data (skipped cleanly when absent) one label is the *focal* label
(the most frequent in test) and the question is its share in a population of articles:

- models of several qualities: TF-IDF + logistic regression trained on random subsets of TRAIN of
  growing size (so macro-F1 on test spans weak to strong); each model is fitted once per data set,
  and its cross-validated error rates (5 folds on its own training subset) are what ACC corrects
  with; its cross-validated macro-F1 over all the data set's labels on the same folds (what
  `newsclf train` stores and the report reads; the models are multi-class, not focal-vs-rest)
  decides, as in the report, whether PPI uses it at all (`newsclf.report.estimate.uses_model`:
  below the weak-model guardrail's MIN_MACRO_F1, lam = 0 and PPI is the sample's share).
- populations: POP articles resampled from TEST (never trained on) to a grid of focal-label
  prevalences (PREVALENCES), redrawn every replicate;
- a random estimation sample of n in EST_SIZES drawn from the population (its gold labels known,
  as in the report: they count as known, the rest carry predictions), redrawn every replicate.

Replicates are over populations and estimation samples (the models stay fixed: the interval is
about sampling, given the model one has). Per condition (data set x model x prevalence x n), over
REPS replicates: empirical coverage of the nominal 95% interval, mean width and RMSE, for
raw (classify and count, Wilson interval), ACC (cross-validated rates, the report's bootstrap),
PPI (the report's default: `newsclf.report.estimate.ppi_cell`) and gold-only (the estimation
sample alone, Wilson): the same functions `newsclf report` calls. PPI and gold-only see the same
replicates, so the last column is the paired z of their squared errors (PPI's minus gold-only's,
mean over its standard error): how far PPI's RMSE is above gold-only's in units of Monte Carlo
error. Where the rule leaves the model out the two estimates are the same number (z 0), and the
column after z gives PPI's RMSE had it used the model all the same (the rule's cost or gain).
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import hashlib  # noqa: E402
import inspect  # noqa: E402
import math  # noqa: E402
import pickle  # noqa: E402
import random  # noqa: E402
import sys  # noqa: E402
import time  # noqa: E402
from collections import Counter  # noqa: E402
from pathlib import Path  # noqa: E402
from typing import Any, Sequence  # noqa: E402

import numpy as np  # noqa: E402
from scipy.stats import norm  # noqa: E402

from bench.datasets import BY_NAME, DATA, Dataset, Record  # noqa: E402

SETS = ("bbc", "ag_news_subset", "id_indosum", "semeval2016_t6", "newsmtsc")
TRAIN_SIZES = (25, 60, 200, None)  # None: all of train
PREVALENCES = (0.1, 0.3, 0.5)
EST_SIZES = (50, 100, 200, 400)
METHODS = ("raw", "acc", "ppi", "gold")
POP = 2000
REPS = 200


def _text(r: Record, ds: Dataset) -> str:
    from bench.classify import anchor_text

    return anchor_text(r, ds)


def fit_levels(
    ds: Dataset,
    train: list[Record],
    test: list[Record],
    focal: str,
    seed: int = 0,
    sizes: Sequence[int | None] = TRAIN_SIZES,
) -> list[dict[str, Any]]:
    """One model per training size: its test macro-F1, P(focal) and hard focal prediction on test,
    CV rates."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.linear_model import LogisticRegression
    from sklearn.metrics import f1_score
    from sklearn.model_selection import KFold, cross_val_predict
    from sklearn.pipeline import make_pipeline

    test_x = [_text(r, ds) for r in test]
    test_y = [r["labels"][0] for r in test]
    levels = []
    for size in sizes:
        part = (
            train if size is None or size >= len(train) else random.Random(seed).sample(train, size)
        )
        x, y = [_text(r, ds) for r in part], [r["labels"][0] for r in part]
        if len(set(y)) < 2:
            continue

        def make() -> Any:
            return make_pipeline(
                TfidfVectorizer(
                    sublinear_tf=True, min_df=1, ngram_range=(1, 2), max_features=200_000
                ),
                LogisticRegression(C=10.0, max_iter=2000),
            )

        model = make().fit(x, y)
        classes = list(model.classes_)
        proba = model.predict_proba(test_x)
        f = proba[:, classes.index(focal)] if focal in classes else np.zeros(len(test))
        hard = np.array([classes[i] == focal for i in proba.argmax(axis=1)])
        cv = cross_val_predict(make(), x, y, cv=KFold(5, shuffle=True, random_state=seed))
        truth, said = np.array([t == focal for t in y]), np.array([c == focal for c in cv])
        rates = (
            int((truth & said).sum()),
            int((~truth & said).sum()),
            int((truth & ~said).sum()),
            int((~truth & ~said).sum()),
        )
        levels.append(
            {
                "size": len(part),
                "asked": size,
                "macro_f1": float(
                    f1_score(test_y, [classes[i] for i in proba.argmax(1)], average="macro")
                ),
                # What `newsclf train` stores and the report's guardrail reads: macro-F1 over all
                # the scheme's labels, out of fold on the model's own training items (not test).
                "cv_macro_f1": float(f1_score(y, cv, average="macro")),
                "f": f,
                "hard": hard,
                "rates": rates,
            }
        )
    return levels


def cached_levels(
    cache: Path | None,
    ds: Dataset,
    train: list[Record],
    test: list[Record],
    focal: str,
    sizes: Sequence[int | None],
) -> list[dict[str, Any]]:
    """`fit_levels`, each model kept in `cache` (when given) under a digest of the fitting code and
    the data."""
    if cache is None:
        return fit_levels(ds, train, test, focal, sizes=sizes)
    from bench.classify import anchor_text

    data = hashlib.sha256(repr(focal).encode())
    for code in (fit_levels, anchor_text):
        data.update(inspect.getsource(code).encode())
    for r in train + test:
        data.update(repr((r["id"], r["labels"], _text(r, ds))).encode())
    levels = []
    for size in sizes:
        path = cache / f"{ds.name}-{'all' if size is None else size}-{data.hexdigest()[:12]}.pkl"
        if path.is_file():
            with open(path, "rb") as fh:
                levels += pickle.load(fh)
            continue
        fitted = fit_levels(ds, train, test, focal, sizes=[size])
        cache.mkdir(parents=True, exist_ok=True)
        with open(path.with_suffix(".tmp"), "wb") as fh:
            pickle.dump(fitted, fh)
        path.with_suffix(".tmp").replace(path)
        levels += fitted
    return levels


def summarise(
    out: dict[str, list[tuple[float, float, float, float]]],
) -> dict[str, dict[str, float]]:
    """Per method, from (estimate, low, high, truth) per replicate: coverage, mean width, RMSE."""
    summary = {}
    for m, rows in out.items():
        a = np.array(rows)
        summary[m] = {
            "coverage": float(np.mean((a[:, 1] <= a[:, 3]) & (a[:, 3] <= a[:, 2]))),
            "width": float(np.mean(a[:, 2] - a[:, 1])),
            "rmse": float(np.sqrt(np.mean((a[:, 0] - a[:, 3]) ** 2))),
        }
    return summary


def excess_z(
    rows: list[tuple[float, float, float, float]], base: list[tuple[float, float, float, float]]
) -> float:
    """Paired z of the mean squared error of `rows` minus `base`'s (same replicates): > 0 worse.

    Both methods see the same populations and estimation samples, so the difference of their
    squared errors, replicate by replicate, carries the comparison's Monte Carlo error: its mean
    over its standard error. 0 when they never differ (PPI with lam = 0 is the sample's share).
    """
    a, b = np.array(rows), np.array(base)
    d = (a[:, 0] - a[:, 3]) ** 2 - (b[:, 0] - b[:, 3]) ** 2
    sd = float(np.std(d, ddof=1)) if len(d) > 1 else 0.0
    return float(np.mean(d)) / (sd / math.sqrt(len(d))) if sd > 0 else 0.0


def simulate(
    y_test: np.ndarray,
    level: dict[str, Any],
    prevalence: float,
    n: int,
    reps: int,
    pop: int,
    seed: int,
) -> dict[str, dict[str, float]]:
    """Coverage, mean width and RMSE of each method over `reps` populations and estimation
    samples."""
    from newsclf.report.coverage import ErrorRates, _bootstrap_cell, adjusted_share
    from newsclf.report.estimate import combine, gold_only, ppi_cell, uses_model, wilson

    rng = np.random.default_rng(seed)
    f1 = level.get("cv_macro_f1")
    ruled_out = not uses_model(f1)  # the report's rule: PPI leaves this model out (lam = 0)
    kept: list[tuple[float, float, float, float]] = []  # PPI using the model all the same
    pos, neg = np.flatnonzero(y_test), np.flatnonzero(~y_test)
    rates = ErrorRates("multi", ["focal"], binary={"focal": level["rates"]})
    out: dict[str, list[tuple[float, float, float, float]]] = {m: [] for m in METHODS}
    k = int(round(prevalence * pop))
    for _ in range(reps):
        idx = np.concatenate([rng.choice(pos, k), rng.choice(neg, pop - k)])
        y, f, hard = y_test[idx].astype(float), level["f"][idx], level["hard"][idx]
        truth = float(y.mean())
        chosen = np.zeros(pop, dtype=bool)
        chosen[rng.choice(pop, n, replace=False)] = True
        ys, fs, fu, hu = y[chosen], f[chosen], f[~chosen], hard[~chosen]
        k_gold, n_pred = int(ys.sum()), pop - n
        count = k_gold + int(hu.sum())
        low, high = wilson(count, pop)
        out["raw"].append((count / pop, low, high, truth))
        acc_u = adjusted_share("focal", float(hu.mean()), n_pred, rates)
        alow, ahigh = _bootstrap_cell(
            n, {"focal": k_gold}, n_pred, {"focal": int(hu.sum())}, rates, ["focal"], rng
        )["focal"]
        acc = (k_gold + acc_u * n_pred) / pop
        out["acc"].append((acc, min(alow, acc), max(ahigh, acc), truth))
        est = combine(k_gold, n, ppi_cell(ys, fs, fu, model_f1=f1), n_pred)
        out["ppi"].append((est.share, est.low, est.high, truth))
        if ruled_out:
            used = combine(k_gold, n, ppi_cell(ys, fs, fu), n_pred)
            kept.append((used.share, used.low, used.high, truth))
        g = gold_only(ys)
        out["gold"].append((g.share, g.low, g.high, truth))
    summary = summarise(out)
    summary["ppi"]["excess_z"] = excess_z(out["ppi"], out["gold"])
    # What the rule changes: PPI's RMSE had it used the model (the same where the rule keeps it).
    summary["ppi"]["rmse_kept"] = summarise({"k": kept})["k"]["rmse"] if kept else float("nan")
    return summary


POOLED_CELLS = (0.1, 0.5)  # two cells' prevalences when one estimation sample serves both


def simulate_pooled(
    y_test: np.ndarray, level: dict[str, Any], n: int, reps: int, pop: int, seed: int
) -> dict[str, dict[str, float]]:
    """Two cells (prevalence 0.1 and 0.5) share one random estimation sample: the report's pooled
    fallback.

    Each cell's share is estimated from the whole sample, as the report does when a cell has fewer
    than 30 estimation items of its own: with PACC (what the report uses) and, for comparison, with
    PPI's additive rectifier pooled (which assumes the model's error is the same size in both
    cells).
    """
    from newsclf.report.estimate import combine, pacc, ppi_cell

    rng = np.random.default_rng(seed)
    pos, neg = np.flatnonzero(y_test), np.flatnonzero(~y_test)
    half = pop // 2
    out: dict[str, list[tuple[float, float, float, float]]] = {
        f"{m} {p}": [] for m in ("pacc", "ppi-pooled") for p in POOLED_CELLS
    }
    for r in range(reps):
        cells = []
        for prevalence in POOLED_CELLS:
            k = int(round(prevalence * half))
            cells.append(np.concatenate([rng.choice(pos, k), rng.choice(neg, half - k)]))
        idx = np.concatenate(cells)
        y, f = y_test[idx].astype(float), level["f"][idx]
        chosen = np.zeros(len(idx), dtype=bool)
        chosen[rng.choice(len(idx), n, replace=False)] = True
        for c, prevalence in enumerate(POOLED_CELLS):
            inside = np.zeros(len(idx), dtype=bool)
            inside[c * half : (c + 1) * half] = True
            known, unknown = inside & chosen, inside & ~chosen
            truth = float(y[inside].mean())
            for m, est in (
                ("pacc", pacc(y[chosen], f[chosen], f[unknown], rounds=200, seed=seed + r)),
                ("ppi-pooled", ppi_cell(y[chosen], f[chosen], f[unknown])),
            ):
                whole = combine(int(y[known].sum()), int(known.sum()), est, int(unknown.sum()))
                out[f"{m} {prevalence}"].append((whole.share, whole.low, whole.high, truth))
    return summarise(out)


def goals(full: list[list[str]]) -> list[str]:
    """Issue #37's goals over the per-condition rows (as printed: data set, train, F1, prev, n,
    cov/width/rmse x METHODS)."""
    k = len(METHODS)
    col = {
        (key, m): 5 + i * k + j
        for i, key in enumerate(("coverage", "width", "rmse"))
        for j, m in enumerate(METHODS)
    }

    def get(row: list[str], key: str, m: str) -> float:
        return float(row[col[(key, m)]])

    zcol = 5 + 3 * k  # the paired z of PPI's squared error against gold-only's, when printed
    kcol, fcol = zcol + 1, zcol + 2  # PPI's RMSE had it used the model; the CV macro-F1

    def name(r: list[str]) -> str:
        cv = f", CV {r[fcol]}" if len(r) > fcol else ""
        return f"{r[0]} {r[1]} (F1 {r[2]}{cv}) prev {r[3]} n {r[4]}"

    def rmse_pair(r: list[str]) -> str:
        z = f", paired z {r[zcol]}" if len(r) > zcol else ""
        return f"{get(r, 'rmse', 'ppi'):.4f} against {get(r, 'rmse', 'gold'):.4f}{z}"

    cov = [get(r, "coverage", "ppi") for r in full]
    below = [f"{name(r)}: {c:.3f}" for r, c in zip(full, cov, strict=True) if c < 0.93]
    worse = [r for r in full if get(r, "rmse", "ppi") > get(r, "rmse", "gold")]
    ratio = [get(r, "rmse", "ppi") / get(r, "rmse", "gold") for r in full]
    strong = [r for r in full if float(r[2]) >= 0.8]
    widths = [get(r, "width", "ppi") / get(r, "width", "gold") for r in strong]
    lines = [
        f"PPI coverage: min {min(cov):.3f}, mean {np.mean(cov):.3f}; {len(full) - len(below)} of"
        f" {len(full)} conditions at 0.93 or more" + "".join(f"\n  below: {b}" for b in below),
        (
            f"PPI RMSE <= gold-only's in {len(full) - len(worse)} of {len(full)} conditions"
            f" (PPI/gold worst {max(ratio):.3f}, mean {np.mean(ratio):.3f})"
        )
        + "".join(f"\n  above: {name(r)}: {rmse_pair(r)}" for r in worse),
        (
            f"mean RMSE: PPI {np.mean([get(r, 'rmse', 'ppi') for r in full]):.4f}, ACC"
            f" {np.mean([get(r, 'rmse', 'acc') for r in full]):.4f}, gold-only"
            f" {np.mean([get(r, 'rmse', 'gold') for r in full]):.4f}, raw"
            f" {np.mean([get(r, 'rmse', 'raw') for r in full]):.4f}"
        ),
        (
            f"mean coverage: raw (Wilson) {np.mean([get(r, 'coverage', 'raw') for r in full]):.3f},"
            f" ACC {np.mean([get(r, 'coverage', 'acc') for r in full]):.3f}, gold-only (Wilson)"
            f" {np.mean([get(r, 'coverage', 'gold') for r in full]):.3f} (min"
            f" {min(get(r, 'coverage', 'gold') for r in full):.3f})"
        ),
    ]
    zs = [float(r[zcol]) for r in full if len(r) > zcol]
    if zs:
        # PPI and gold-only are scored on the same replicates: a condition is worse beyond Monte
        # Carlo error when the paired z clears the one-sided 5% level split over the conditions.
        crit = float(norm.ppf(1 - 0.05 / len(zs)))
        top = max(range(len(zs)), key=zs.__getitem__)
        lines.insert(
            2,
            f"PPI MSE above gold-only's beyond Monte Carlo error (paired z > {crit:.2f}: one-sided "
            f"5% over {len(zs)} conditions) in {sum(z > crit for z in zs)} of {len(zs)}; "
            f"{sum(z > 2 for z in zs)} with z > 2; largest z {zs[top]:+.1f} ({name(full[top])})",
        )
    off = [r for r in full if len(r) > kcol and r[kcol] != "-"]
    if off:
        # The rule's cost: where leaving the model out gave a larger RMSE than using it would.
        cost = [
            (get(r, "rmse", "ppi") / float(r[kcol]), r)
            for r in off
            if get(r, "rmse", "ppi") > float(r[kcol])
        ]
        lines.append(
            f"model left out (CV macro-F1 below the guardrail's threshold) in {len(off)} of"
            f" {len(full)} conditions; RMSE above PPI's with the model in {len(cost)}"
            + (
                f" (worst {max(c for c, _ in cost):.3f}, mean {np.mean([c for c, _ in cost]):.3f})"
                if cost
                else ""
            )
            + f"; PPI/gold RMSE with the model there: mean"
            f" {np.mean([float(r[kcol]) / get(r, 'rmse', 'gold') for r in off]):.3f}"
        )
    if strong:
        lines.append(
            f"macro-F1 >= 0.8: PPI narrower than gold-only in {sum(w < 1 for w in widths)} of"
            f" {len(strong)} conditions ({min(widths):.2f} to {max(widths):.2f} of its width)"
        )
    return lines


def main(argv: Sequence[str] | None = None) -> int:
    """Run the simulation and print the full and the summary tables."""
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--reps", type=int, default=REPS)
    ap.add_argument("--pop", type=int, default=POP)
    ap.add_argument("--only", default=",".join(SETS))
    ap.add_argument(
        "--sections",
        default="cells,pooled",
        help=(
            "cells: one estimation sample per cell; pooled: two cells sharing one (the report's"
            " fallback)"
        ),
    )
    ap.add_argument(
        "--train",
        default=None,
        help="training sizes to run, of "
        + ",".join("all" if t is None else str(t) for t in TRAIN_SIZES)
        + " (default: all of them)",
    )
    ap.add_argument(
        "--prev", default=None, help="prevalences to run, of " + ",".join(map(str, PREVALENCES))
    )
    ap.add_argument(
        "--n",
        default=None,
        help="estimation sample sizes to run, of " + ",".join(map(str, EST_SIZES)),
    )
    ap.add_argument(
        "--seed", type=int, default=0, help="shifts every condition's seed: independent replicates"
    )
    ap.add_argument("--cache", type=Path, default=None, help="keep fitted models in this folder")
    args = ap.parse_args(argv)
    sections = set(args.sections.split(","))

    def pick(option: str | None, grid: Sequence[Any], parse: Any) -> list[int]:
        """Indices into the grid (so each condition keeps its seed whatever else is selected)."""
        if option is None:
            return list(range(len(grid)))
        wanted = [parse(v) for v in option.split(",")]
        bad = [v for v in wanted if v not in grid]
        if bad:
            ap.error(f"{bad} not in {list(grid)}")
        return [i for i, g in enumerate(grid) if g in wanted]

    train_idx = pick(args.train, TRAIN_SIZES, lambda v: None if v == "all" else int(v))
    prev_idx = pick(args.prev, PREVALENCES, float)
    n_idx = pick(args.n, EST_SIZES, int)
    if not DATA.is_dir():
        print(f"skipped: {DATA} not found (the shared benchmark data is not part of a clone)")
        return 0
    from bench.classify import print_table

    started = time.perf_counter()
    full, summary, pooled = [], [], []
    for name in args.only.split(","):
        ds = BY_NAME[name]
        split = ds.load()
        if split is None:
            print(f"{name}: skipped: not found under {DATA}")
            continue
        train, test = split
        focal = Counter(r["labels"][0] for r in test).most_common(1)[0][0]
        y_test = np.array([r["labels"][0] == focal for r in test])
        t0 = time.perf_counter()
        sizes = [TRAIN_SIZES[i] for i in train_idx]
        levels = cached_levels(args.cache, ds, train, test, focal, sizes)
        print(
            f"{name}: focal label {focal!r} ({y_test.mean():.2f} of {len(test)} test items); "
            f"{len(levels)} models fitted in {time.perf_counter() - t0:.0f} s",
            flush=True,
        )
        for level in levels:
            li = TRAIN_SIZES.index(
                level["asked"]
            )  # the seed follows the grid (fit_levels skips one-label subsets)
            if "pooled" in sections:
                for ni in n_idx:
                    n = EST_SIZES[ni]
                    s = simulate_pooled(
                        y_test,
                        level,
                        n,
                        args.reps,
                        args.pop,
                        seed=7000 + 1000 * li + ni + 100_000 * args.seed,
                    )
                    pooled.append(
                        [name, str(level["size"]), f"{level['macro_f1']:.2f}", str(n)]
                        + [f"{s[c][k]:.3f}" for c in s for k in ("coverage", "width")]
                        + [f"{s[c]['rmse']:.4f}" for c in s]
                    )
            if "cells" not in sections:
                continue
            agg: dict[str, list[dict[str, float]]] = {m: [] for m in METHODS}
            for pi in prev_idx:
                for ni in n_idx:
                    prevalence, n = PREVALENCES[pi], EST_SIZES[ni]
                    s = simulate(
                        y_test,
                        level,
                        prevalence,
                        n,
                        args.reps,
                        args.pop,
                        seed=1000 * li + 10 * pi + ni + 100_000 * args.seed,
                    )
                    for m in METHODS:
                        agg[m].append(s[m])
                    full.append(
                        [
                            name,
                            str(level["size"]),
                            f"{level['macro_f1']:.2f}",
                            f"{prevalence:.1f}",
                            str(n),
                        ]
                        + [f"{s[m]['coverage']:.3f}" for m in METHODS]
                        + [f"{s[m]['width']:.3f}" for m in METHODS]
                        + [f"{s[m]['rmse']:.4f}" for m in METHODS]
                        + [f"{s['ppi']['excess_z']:+.1f}"]
                        + [
                            "-"
                            if math.isnan(s["ppi"]["rmse_kept"])
                            else f"{s['ppi']['rmse_kept']:.4f}",
                            f"{level['cv_macro_f1']:.2f}",
                        ]
                    )

            def mean(m: str, key: str, agg: dict = agg) -> float:
                return float(np.mean([c[key] for c in agg[m]]))

            ratio_gold = [
                p["rmse"] / g["rmse"] for p, g in zip(agg["ppi"], agg["gold"], strict=True)
            ]
            ratio_width = [
                p["width"] / g["width"] for p, g in zip(agg["ppi"], agg["gold"], strict=True)
            ]
            summary.append(
                [
                    name,
                    str(level["size"]),
                    f"{level['macro_f1']:.2f}",
                    f"{level['cv_macro_f1']:.2f}",
                    f"{min(c['coverage'] for c in agg['ppi']):.3f}",
                    f"{mean('ppi', 'coverage'):.3f}",
                    f"{mean('raw', 'coverage'):.3f}",
                    f"{mean('acc', 'coverage'):.3f}",
                    f"{mean('ppi', 'rmse'):.4f}",
                    f"{mean('gold', 'rmse'):.4f}",
                    f"{max(ratio_gold):.2f}",
                    f"{mean('acc', 'rmse'):.4f}",
                    f"{mean('raw', 'rmse'):.4f}",
                    f"{float(np.mean(ratio_width)):.2f}",
                ]
            )
    if pooled:
        print(
            f"\nPooled rectifier ({args.reps} replicates; two cells of {args.pop // 2}, prevalence "
            f"{POOLED_CELLS[0]} and {POOLED_CELLS[1]}, one estimation sample of n over both):"
        )
        cols = [f"{m} {p}" for m in ("pacc", "ppi-pooled") for p in POOLED_CELLS]
        print_table(
            pooled,
            ["data set", "train", "F1", "n"]
            + [f"{k} {c}" for c in cols for k in ("cov", "width")]
            + [f"rmse {c}" for c in cols],
        )
    if not full:
        print(f"\n{time.perf_counter() - started:.0f} s")
        return 0
    print(
        f"\nPer condition ({args.reps} replicates each; population {args.pop}; coverage of the"
        " nominal 95% interval):"
    )
    print_table(
        full,
        ["data set", "train", "F1", "prev", "n"]
        + [f"cov {m}" for m in METHODS]
        + [f"width {m}" for m in METHODS]
        + [f"rmse {m}" for m in METHODS]
        + ["z ppi-gold", "rmse ppi with model", "CV F1"],
    )
    print(
        "\nSummary per data set and model (over prevalences"
        f" {'/'.join(str(PREVALENCES[i]) for i in prev_idx)} and estimation samples"
        f" {'/'.join(str(EST_SIZES[i]) for i in n_idx)}):"
    )
    print_table(
        summary,
        [
            "data set",
            "train",
            "macro-F1",
            "CV macro-F1",
            "ppi cov min",
            "ppi cov",
            "raw cov",
            "acc cov",
            "ppi rmse",
            "gold rmse",
            "ppi/gold rmse max",
            "acc rmse",
            "raw rmse",
            "ppi/gold width",
        ],
    )
    print("\nAgainst issue #37's goals:")
    print("\n".join(goals(full)))
    print(f"\n{time.perf_counter() - started:.0f} s")
    return 0


if __name__ == "__main__":
    sys.exit(main())
