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
    rng = np.random.default_rng(seed)
    values = []
    for _ in range(rounds):
        sample = [units[i] for i in rng.integers(0, len(units), len(units))]
        v = statistic(sample)
        if not np.isnan(v):
            values.append(v)
    if not values:
        return (float("nan"), float("nan"))
    low, high = np.percentile(values, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


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
    return Figures(
        items=len(paired),
        coders=len(coders),
        percent=percent_agreement(paired),
        alpha=krippendorff_alpha(paired),
        alpha_ci=bootstrap(paired, krippendorff_alpha, seed=seed),
        ac2=gwet_ac2(paired, categories),
        ac2_ci=bootstrap(paired, lambda s: gwet_ac2(s, categories), seed=seed),
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
