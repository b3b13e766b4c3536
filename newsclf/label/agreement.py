"""Inter-coder agreement: percent agreement, Krippendorff's alpha, Gwet's AC2, Cohen's kappa,
confusions, drift.

Units are (article, scheme, target). A `single` scheme is nominal data with one value per coder
and unit. A `multi` scheme is scored per label as binary data (chosen / not chosen), and for the
whole scheme by pooling every (unit, label) pair as a binary unit: the usual reading of alpha for
multi-label coding. Units coded by fewer than two coders carry no information and are left out.
Gwet's AC2 is computed with identity weights, so for nominal data it equals AC1.
"""

from __future__ import annotations

import itertools
from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Any, Hashable, Iterable, Sequence

import numpy as np

from newsclf.guide import Guide, Scheme
from newsclf.store import Annotation

Unit = dict[str, Hashable]  # coder -> value
BOOTSTRAP_ROUNDS = 500


def _paired(units: Sequence[Unit]) -> list[Unit]:
    return [u for u in units if len(u) >= 2]


def percent_agreement(units: Sequence[Unit]) -> float:
    """Share of agreeing coder pairs, over all pairs within units."""
    agree = total = 0
    for unit in _paired(units):
        for a, b in itertools.combinations(unit.values(), 2):
            agree += a == b
            total += 1
    return agree / total if total else float("nan")


def krippendorff_alpha(units: Sequence[Unit]) -> float:
    """Krippendorff's alpha for nominal data (missing values allowed), from the coincidence
    matrix."""
    units = _paired(units)
    values = sorted({v for u in units for v in u.values()}, key=str)
    if not units or len(values) < 2:
        return float("nan") if not units else 1.0
    index = {v: i for i, v in enumerate(values)}
    o = np.zeros((len(values), len(values)))
    for unit in units:
        m = len(unit)
        counts = Counter(unit.values())
        for c, nc in counts.items():
            for k, nk in counts.items():
                pairs = nc * (nk - 1) if c == k else nc * nk
                o[index[c], index[k]] += pairs / (m - 1)
    n_c = o.sum(axis=1)
    n = n_c.sum()
    disagree_observed = o.sum() - np.trace(o)
    disagree_expected = (n_c.sum() ** 2 - (n_c**2).sum()) / (n - 1)
    return float(1.0 - disagree_observed / disagree_expected) if disagree_expected else 1.0


def gwet_ac2(units: Sequence[Unit], categories: Sequence[Hashable] | None = None) -> float:
    """Gwet's AC2 with identity weights (AC1) for several coders and missing values (Gwet 2014, ch.
    2)."""
    rated = [u for u in units if len(u) >= 1]
    categories = (
        list(categories) if categories else sorted({v for u in rated for v in u.values()}, key=str)
    )
    q = len(categories)
    paired = _paired(rated)
    if not paired:
        return float("nan")
    if q < 2:
        return 1.0
    index = {c: i for i, c in enumerate(categories)}
    r = np.zeros((len(rated), q))
    for i, unit in enumerate(rated):
        for value in unit.values():
            r[i, index[value]] += 1
    r_i = r.sum(axis=1)
    two = r_i >= 2
    p_a = float(((r[two] * (r[two] - 1)).sum(axis=1) / (r_i[two] * (r_i[two] - 1))).mean())
    pi = (r / r_i[:, None]).mean(axis=0)
    p_e = float((pi * (1 - pi)).sum() / (q - 1))
    return (p_a - p_e) / (1 - p_e) if p_e < 1 else 1.0


def cohen_kappa(pairs: Sequence[tuple[Hashable, Hashable]]) -> float:
    """Cohen's kappa for two coders over the units both coded."""
    if not pairs:
        return float("nan")
    a, b = zip(*pairs)
    labels = sorted(set(a) | set(b), key=str)
    if len(labels) < 2:
        return 1.0
    idx = {v: i for i, v in enumerate(labels)}
    M = np.zeros((len(labels), len(labels)))
    for x, y in pairs:
        M[idx[x], idx[y]] += 1
    n = M.sum()
    p_o = np.trace(M) / n
    p_e = (M.sum(axis=0) * M.sum(axis=1)).sum() / n**2
    return float((p_o - p_e) / (1 - p_e)) if p_e < 1 else 1.0


def bootstrap(
    units: Sequence[Unit], statistic: Any, rounds: int = BOOTSTRAP_ROUNDS, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of a statistic over units resampled with replacement."""
    units = _paired(units)
    if len(units) < 2:
        return (float("nan"), float("nan"))
    values = [statistic([units[i] for i in draw]) for draw in _resamples(len(units), rounds, seed)]
    return _percentile_interval(np.array(values, dtype=float))


def _resamples(n: int, rounds: int, seed: int) -> np.ndarray:
    """(rounds, n) unit indices, a resample a row, drawn as the per-round loop always drew them."""
    rng = np.random.default_rng(seed)
    return np.stack([rng.integers(0, n, n) for _ in range(rounds)])


def _percentile_interval(values: np.ndarray) -> tuple[float, float]:
    values = values[~np.isnan(values)]
    if not values.size:
        return (float("nan"), float("nan"))
    low, high = np.percentile(values, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def _weights(n: int, rounds: int, seed: int) -> np.ndarray:
    """(rounds, n): how many times each unit is drawn in each resample of `_resamples`."""
    draws = _resamples(n, rounds, seed)
    flat = (np.arange(rounds)[:, None] * n + draws).ravel()
    return np.bincount(flat, minlength=rounds * n).reshape(rounds, n).astype(float)


def _counts(units: Sequence[Unit], values: Sequence[Hashable]) -> np.ndarray:
    """(units, values): how many coders gave each value to each unit."""
    index = {v: i for i, v in enumerate(values)}
    r = np.zeros((len(units), len(values)))
    for i, unit in enumerate(units):
        for value in unit.values():
            r[i, index[value]] += 1
    return r


def alpha_resampled(units: Sequence[Unit], W: np.ndarray) -> np.ndarray:
    """krippendorff_alpha of every resample at once; W[b, u] is unit u's count in resample b.

    A resample's coincidence matrix is the W-weighted sum of the units' own, so the units' matrices
    are built once and each replicate costs one matrix product instead of a pass over its units.
    """
    values = sorted({v for u in units for v in u.values()}, key=str)
    if len(values) < 2:
        return np.ones(len(W))
    r = _counts(units, values)
    m = r.sum(axis=1)
    per_unit = (r[:, :, None] * r[:, None, :] - r[:, :, None] * np.eye(len(values))) / (m - 1)[
        :, None, None
    ]
    o = (W @ per_unit.reshape(len(units), -1)).reshape(len(W), len(values), len(values))
    n_c = o.sum(axis=2)
    n = n_c.sum(axis=1)
    observed = o.sum(axis=(1, 2)) - np.trace(o, axis1=1, axis2=2)
    expected = (n**2 - (n_c**2).sum(axis=1)) / (n - 1)
    with np.errstate(divide="ignore", invalid="ignore"):
        return np.where(expected > 0, 1.0 - observed / expected, 1.0)


def ac2_resampled(
    units: Sequence[Unit], W: np.ndarray, categories: Sequence[Hashable] | None = None
) -> np.ndarray:
    """gwet_ac2 of every resample at once (paired units, as the bootstrap draws them)."""
    if categories is None:
        # gwet_ac2 then takes the categories a resample shows: q varies between resamples.
        categories = sorted({v for u in units for v in u.values()}, key=str)
        r = _counts(units, categories)
        q = ((W @ (r > 0)) > 0).sum(axis=1).astype(float)
    else:
        r = _counts(units, categories)
        q = np.full(len(W), float(len(categories)))
    r_i = r.sum(axis=1)
    total = W.sum(axis=1)
    p_a = W @ ((r * (r - 1)).sum(axis=1) / (r_i * (r_i - 1))) / total
    pi = (W @ (r / r_i[:, None])) / total[:, None]
    with np.errstate(divide="ignore", invalid="ignore"):
        p_e = (pi * (1 - pi)).sum(axis=1) / (q - 1)
        ac2 = np.where(p_e < 1, (p_a - p_e) / (1 - p_e), 1.0)
    return np.where(q < 2, 1.0, ac2)


def _bootstrap_both(
    units: Sequence[Unit], categories: Sequence[Hashable] | None, rounds: int, seed: int
) -> tuple[tuple[float, float], tuple[float, float]]:
    """Alpha's and AC2's intervals from the same resamples `bootstrap` would draw for each."""
    if len(units) < 2:
        nan = (float("nan"), float("nan"))
        return nan, nan
    W = _weights(len(units), rounds, seed)
    return (
        _percentile_interval(alpha_resampled(units, W)),
        _percentile_interval(ac2_resampled(units, W, categories)),
    )


@dataclass
class Figures:
    """Agreement figures for one scheme or label."""

    items: int
    coders: int
    percent: float
    alpha: float
    alpha_ci: tuple[float, float]
    ac2: float
    ac2_ci: tuple[float, float]

    def as_dict(self) -> dict[str, Any]:
        """Rounded, for JSON and tables."""
        r = lambda x: None if x is None or np.isnan(x) else round(float(x), 4)  # noqa: E731
        return {
            "items": self.items,
            "coders": self.coders,
            "percent_agreement": r(self.percent),
            "alpha": r(self.alpha),
            "alpha_ci95": [r(x) for x in self.alpha_ci],
            "ac2": r(self.ac2),
            "ac2_ci95": [r(x) for x in self.ac2_ci],
        }


def figures(
    units: Sequence[Unit], categories: Sequence[Hashable] | None = None, seed: int = 0
) -> Figures:
    """All the reliability figures for one set of units."""
    paired = _paired(units)
    coders = {c for u in paired for c in u}
    alpha_ci, ac2_ci = _bootstrap_both(paired, categories, BOOTSTRAP_ROUNDS, seed)
    return Figures(
        items=len(paired),
        coders=len(coders),
        percent=percent_agreement(paired),
        alpha=krippendorff_alpha(paired),
        alpha_ci=alpha_ci,
        ac2=gwet_ac2(paired, categories),
        ac2_ci=ac2_ci,
    )


def _coded_units(
    annotations: Iterable[Annotation], scheme: Scheme
) -> dict[tuple[str, str], dict[str, tuple[str, ...]]]:
    units: dict[tuple[str, str], dict[str, tuple[str, ...]]] = defaultdict(dict)
    for ann in annotations:
        # a reviewer's final label is not a coder's judgement
        if ann.scheme == scheme.name and not ann.gold:
            units[(ann.article_id, ann.target)][ann.labeler] = tuple(sorted(ann.labels))
    return units


def scheme_agreement(
    annotations: Sequence[Annotation], scheme: Scheme, seed: int = 0
) -> dict[str, Any]:
    """Figures for one scheme: overall, per label, pairwise kappa, most confused label pairs, drift
    by month."""
    units = _coded_units(annotations, scheme)
    created = {
        (a.article_id, a.target, a.labeler): (a.created_at or "")[:7]
        for a in annotations
        if a.scheme == scheme.name
    }
    per_label = {}
    if scheme.kind == "single":
        nominal = [{c: v[0] for c, v in u.items() if v} for u in units.values()]
        overall = figures(nominal, scheme.label_ids, seed)
        for label in scheme.label_ids:
            binary = [{c: v == label for c, v in u.items()} for u in nominal]
            per_label[label] = figures(binary, [False, True], seed).as_dict()
    else:
        pooled: list[Unit] = []
        for label in scheme.label_ids:
            binary = [{c: label in v for c, v in u.items()} for u in units.values()]
            per_label[label] = figures(binary, [False, True], seed).as_dict()
            pooled += binary
        overall = figures(pooled, [False, True], seed)
        overall.items = len(_paired(list(units.values())))
    coders = sorted({c for u in units.values() for c in u})
    kappas = []
    for a, b in itertools.combinations(coders, 2):
        shared = [(u[a], u[b]) for u in units.values() if a in u and b in u]
        if scheme.kind == "single":
            kappa = cohen_kappa([(x[0], y[0]) for x, y in shared])
        else:  # mean of the per-label binary kappas
            ks = [
                cohen_kappa([(lab in x, lab in y) for x, y in shared]) for lab in scheme.label_ids
            ]
            ks = [k for k in ks if not np.isnan(k)]
            kappa = float(np.mean(ks)) if ks else float("nan")
        kappas.append(
            {
                "coders": [a, b],
                "items": len(shared),
                "kappa": None if np.isnan(kappa) else round(kappa, 4),
            }
        )
    # Which labels stand in for each other when two coders differ: the input for revising the guide.
    confused: Counter = Counter()
    for u in units.values():
        for x, y in itertools.combinations(u.values(), 2):
            only_x, only_y = set(x) - set(y) or {"(none)"}, set(y) - set(x) or {"(none)"}
            if only_x != only_y:
                for p, q in itertools.product(only_x, only_y):
                    confused[tuple(sorted((p, q)))] += 1
    drift: dict[str, dict[str, float]] = defaultdict(dict)
    for coder in coders:
        by_month: dict[str, list[int]] = defaultdict(list)
        for (article_id, target), u in units.items():
            if coder in u and len(u) >= 2:
                month = created.get((article_id, target, coder), "")
                by_month[month] += [int(u[coder] == v) for c, v in u.items() if c != coder]
        for month, hits in sorted(by_month.items()):
            drift[coder][month or "unknown"] = round(sum(hits) / len(hits), 4)
    return {
        "scheme": scheme.name,
        "kind": scheme.kind,
        **overall.as_dict(),
        "labels": per_label,
        "pairwise_kappa": kappas,
        "most_confused": [{"labels": list(k), "times": v} for k, v in confused.most_common(10)],
        "drift": dict(drift),
    }


def agreement_report(
    annotations: Sequence[Annotation], guide: Guide, seed: int = 0
) -> dict[str, Any]:
    """Agreement for every scheme of the guide."""
    return {scheme.name: scheme_agreement(annotations, scheme, seed) for scheme in guide.schemes}


def methods_table(report: dict[str, Any]) -> str:
    """A Markdown table for a paper's methods section."""
    fmt = lambda x: "–" if x is None else f"{x:.2f}"  # noqa: E731
    lines = [
        (
            "| scheme / label | items | coders | % agreement | Krippendorff's α [95% CI] | Gwet's"
            " AC2 [95% CI] |"
        ),
        "|---|---|---|---|---|---|",
    ]
    for name, s in report.items():
        rows = [(f"**{name}**", s)] + [(f"{name}: {label}", f) for label, f in s["labels"].items()]
        for title, f in rows:
            pct = "–" if f["percent_agreement"] is None else f"{100 * f['percent_agreement']:.1f}"
            lines.append(
                f"| {title} | {f['items']} | {f['coders']} | {pct} | {fmt(f['alpha'])} "
                f"[{fmt(f['alpha_ci95'][0])}, {fmt(f['alpha_ci95'][1])}] | {fmt(f['ac2'])} "
                f"[{fmt(f['ac2_ci95'][0])}, {fmt(f['ac2_ci95'][1])}] |"
            )
    return "\n".join(lines) + "\n"
