"""Coverage tables: counts and shares of each label per group and period, with 95% intervals.

Gold labels are used where coders labeled an article, model predictions elsewhere (each row says
how many of each). A classifier's raw counts are biased by its errors, so the predicted part is
corrected by one of the estimators (`estimate.py`): by default prediction-powered inference, whose
rectifier (gold minus prediction) comes from the random estimation sample only; or adjusted
classify-and-count (Forman 2008, `acc`): with the model's cross-validated true- and false-positive
rates, share = (observed - fpr) / (tpr - fpr), clipped to [0, 1]; for single-label schemes the
observed distribution is unmixed through the cross-validated confusion matrix. ACC intervals: a
parametric bootstrap that redraws the observed proportions (Jeffreys posteriors) and the error
rates (Beta/Dirichlet posteriors of the confusion counts). Cells with gold labels only keep their
Wilson interval. Near-duplicate copies (same dup_group) count once, as one story.
"""

from __future__ import annotations

from collections import defaultdict
from dataclasses import dataclass, field
from datetime import datetime
from typing import Any, Iterable, Sequence

import numpy as np

from newsclf.article import Article
from newsclf.guide import Guide, Scheme
from newsclf.model.data import resolve
from newsclf.report.estimate import Estimate, combine, pacc, ppi_cell, wilson
from newsclf.store import Store

PERIODS = ("day", "week", "month", "year")
GROUP_FIELDS = ("outlet", "lang")
ROUNDS = 1000
ESTIMATORS = ("raw", "acc", "pacc", "ppi")
MIN_OWN_RECTIFIER = (
    30  # a cell's own estimation items needed before its rectifier stops borrowing the pooled one
)


def period_of(published: str | None, period: str) -> str:
    """The period label of an ISO date: 2023-05-12 (day), 2023-W19 (week), 2023-05 (month), 2023
    (year)."""
    if not published:
        return "unknown"
    try:
        dt = datetime.fromisoformat(published.replace("Z", "+00:00"))
    except ValueError:
        return "unknown"
    if period == "day":
        return dt.strftime("%Y-%m-%d")
    if period == "week":
        year, week, _ = dt.isocalendar()
        return f"{year}-W{week:02d}"
    if period == "month":
        return dt.strftime("%Y-%m")
    return str(dt.year)


@dataclass
class Item:
    """One coded unit: an article (and stance target) with its labels and where they came from."""

    article: Article
    target: str
    labels: list[str]
    source: str  # "gold" or "predicted"
    sample: str | None = (
        None  # for gold items, the sample the article was drawn in ('estimation', ...)
    )
    probabilities: dict[str, float] | None = None  # the model's, when it predicted this item
    predicted: list[str] | None = None

    def score(self, label: str) -> float:
        """The model's probability for a label (its 0/1 prediction when no probabilities were
        stored)."""
        if self.probabilities and label in self.probabilities:
            return float(self.probabilities[label])
        return float(label in (self.predicted or []))

    @property
    def in_estimation(self) -> bool:
        """A gold item of the random estimation sample with a prediction to compare: fit for a
        rectifier."""
        return self.source == "gold" and self.sample == "estimation" and self.predicted is not None


@dataclass
class ErrorRates:
    """A scheme's cross-validated confusion: per label (tp, fp, fn, tn) for multi, a matrix for
    single."""

    kind: str
    labels: list[str]
    binary: dict[str, tuple[int, int, int, int]] = field(default_factory=dict)
    matrix: np.ndarray | None = None

    @classmethod
    def from_metrics(cls, scheme: Scheme, metrics: dict[str, Any] | None) -> "ErrorRates | None":
        """From a model's metrics.json entry for the scheme (None when there is none)."""
        conf = (metrics or {}).get("confusion")
        if not conf:
            return None
        if scheme.kind == "single":
            return cls("single", conf["labels"], matrix=np.asarray(conf["matrix"], dtype=float))
        return cls(
            "multi",
            scheme.label_ids,
            binary={k: (v["tp"], v["fp"], v["fn"], v["tn"]) for k, v in conf.items()},
        )


def collect_items(store: Store, guide: Guide, scheme: Scheme, model_id: str | None) -> list[Item]:
    """Gold items where coders labeled, predicted items elsewhere; one per duplicate group."""
    groups = store.dup_groups()
    by_unit: dict[tuple[str, str], list[Any]] = defaultdict(list)
    for ann in store.annotations(scheme=scheme.name):
        by_unit[(ann.article_id, scheme.effective_target(ann.target))].append(ann)
    items: dict[tuple[str, str], Item] = {}
    articles: dict[str, Article] = {}

    def article(article_id: str) -> Article | None:
        if article_id not in articles:
            found = store.get_article(article_id)
            if found is None:
                return None
            articles[article_id] = found
        return articles[article_id]

    for (article_id, target), anns in by_unit.items():
        labels = resolve(anns, scheme)
        a = article(article_id)
        if labels is not None and a is not None:
            samples = {ann.sample for ann in anns if ann.sample}
            # Estimation wins: reviewers' or extra coders' labels on a random article keep it
            # random.
            sample = (
                "estimation"
                if "estimation" in samples
                else (sorted(samples)[0] if samples else None)
            )
            items[(article_id, target)] = Item(a, target, labels, "gold", sample)
    if model_id is not None:
        for pred in store.predictions(model_id=model_id):
            if pred["scheme"] != scheme.name:
                continue
            key = (pred["article_id"], scheme.effective_target(pred["target"]))
            a = article(pred["article_id"])
            if key in items:
                items[key].probabilities, items[key].predicted = (
                    pred["probabilities"],
                    list(pred["labels"]),
                )
            elif a is not None:
                items[key] = Item(
                    a,
                    key[1],
                    list(pred["labels"]),
                    "predicted",
                    None,
                    pred["probabilities"],
                    list(pred["labels"]),
                )
    # One story, one count: keep the earliest copy of each near-duplicate group (gold preferred).
    kept: dict[tuple[str, str], Item] = {}
    for item in sorted(
        items.values(), key=lambda i: (i.source != "gold", i.article.published or "", i.article.id)
    ):
        key = (groups.get(item.article.id, item.article.id), item.target)
        kept.setdefault(key, item)
    return list(kept.values())


def _group_key(item: Item, by: Sequence[str]) -> tuple[str, ...]:
    out = []
    for field_name in by:
        if field_name in PERIODS:
            out.append(period_of(item.article.published, field_name))
        else:
            out.append(getattr(item.article, field_name, None) or "unknown")
    return tuple(out)


def unmix_single(observed: np.ndarray, matrix: np.ndarray) -> np.ndarray:
    """True label distribution p with p @ C ~= observed, C = row-normalised confusion (true x
    predicted)."""
    rows = matrix.sum(axis=1, keepdims=True)
    C = np.divide(matrix, rows, out=np.eye(len(matrix)), where=rows > 0)
    p, *_ = np.linalg.lstsq(C.T, observed, rcond=None)
    p = np.clip(p, 0, None)
    return p / p.sum() if p.sum() > 0 else observed


def adjusted_share(
    label: str,
    observed: float,
    n_pred: int,
    rates: ErrorRates | None,
    observed_all: np.ndarray | None = None,
) -> float:
    """Corrected share of a label among predicted items."""
    if rates is None or n_pred == 0:
        return observed
    if rates.kind == "multi":
        tp, fp, fn, tn = rates.binary.get(label, (0, 0, 0, 0))
        tpr = tp / (tp + fn) if tp + fn else 1.0
        fpr = fp / (fp + tn) if fp + tn else 0.0
        if tpr - fpr <= 0.05:  # a model no better than chance cannot be corrected for
            return observed
        return float(min(1.0, max(0.0, (observed - fpr) / (tpr - fpr))))
    p = unmix_single(observed_all, rates.matrix)
    return float(p[rates.labels.index(label)])


def _unmix_many(Q: np.ndarray, M: np.ndarray) -> np.ndarray:
    """unmix_single over stacked rounds: Q (rounds x labels), M (rounds x labels x labels)."""
    rows = M.sum(axis=2, keepdims=True)
    C = M / np.where(rows > 0, rows, 1)
    P = np.einsum("rij,rj->ri", np.linalg.pinv(np.transpose(C, (0, 2, 1))), Q)
    P = np.clip(P, 0, None)
    total = P.sum(axis=1, keepdims=True)
    return np.where(total > 0, P / np.where(total > 0, total, 1), Q)


def _bootstrap_cell(
    n_gold: int,
    k_gold: dict[str, int],
    n_pred: int,
    observed: dict[str, int],
    rates: ErrorRates | None,
    labels: Sequence[str],
    rng: np.random.Generator,
) -> dict[str, tuple[float, float]]:
    """95% intervals of every label's combined (gold + corrected predicted) share in one cell."""
    n = n_gold + n_pred
    # Proportions are drawn from Jeffreys posteriors, Beta(k + 1/2, n - k + 1/2), not by resampling
    # at the
    # observed proportion: a cell where 0 of 5 carry a label must not get an interval of zero width.
    gold = {
        lab: (
            rng.beta(k_gold[lab] + 0.5, n_gold - k_gold[lab] + 0.5, ROUNDS) * n_gold
            if n_gold
            else np.zeros(ROUNDS)
        )
        for lab in labels
    }
    shares: dict[str, np.ndarray] = {}
    if rates is not None and rates.kind == "single":
        counts = np.array([observed.get(lab, 0) for lab in rates.labels], dtype=float)
        Q = rng.dirichlet(counts + 0.5, ROUNDS)
        # Redraw each true label's row of the confusion matrix from its Dirichlet posterior.
        M = np.stack([rng.dirichlet(row + 1, ROUNDS) for row in rates.matrix], axis=1)
        P = _unmix_many(Q, M)
        for lab in labels:
            shares[lab] = (gold[lab] + P[:, rates.labels.index(lab)] * n_pred) / n
    else:
        for lab in labels:
            q = rng.beta(observed[lab] + 0.5, n_pred - observed[lab] + 0.5, ROUNDS)
            if rates is not None:
                tp, fp, fn, tn = rates.binary.get(lab, (0, 0, 0, 0))
                tpr, fpr = rng.beta(tp + 1, fn + 1, ROUNDS), rng.beta(fp + 1, tn + 1, ROUNDS)
                ok = (tpr - fpr) > 0.05
                q = np.where(ok, np.clip((q - fpr) / np.where(ok, tpr - fpr, 1), 0, 1), q)
            shares[lab] = (gold[lab] + q * n_pred) / n
    return {
        lab: tuple(float(x) for x in np.percentile(v, [2.5, 97.5])) for lab, v in shares.items()
    }


def cells_of(
    items: Iterable[Item], by: Sequence[str]
) -> dict[tuple[str, tuple[str, ...]], list[Item]]:
    """The items behind each cell: (target, group values in `by` order) -> items."""
    cells: dict[tuple[str, tuple[str, ...]], list[Item]] = defaultdict(list)
    for item in items:
        cells[(item.target, _group_key(item, by))].append(item)
    return cells


def cell_key(row: dict[str, Any], by: Sequence[str]) -> tuple[str, tuple[str, ...]]:
    """The cells_of key of a coverage row."""
    return (row["target"] or "", tuple(str(row[f]) for f in by))


def _rectified(
    method: str,
    label: str,
    own: list[Item],
    pooled: list[Item],
    pred: list[Item],
    seed: int,
    model_f1: float | None = None,
) -> tuple[Estimate, str, int]:
    """PPI or PACC for the predicted items of a cell: (estimate, rectifier 'own'/'pooled'/'none',
    items used).

    A cell with MIN_OWN_RECTIFIER estimation items of its own gets PPI++ from them, which assumes
    nothing about other cells. Below that, all cells' estimation items are pooled, and pooled
    they feed PACC, not PPI's additive rectifier: PACC assumes the model scores articles with (and
    without) the label alike in every cell, whatever the label's share there (prior shift), where
    a pooled mean of gold - prediction assumes the model's error is the same size in every cell,
    which fails as soon as shares differ (bench/estimates: coverage near 0 for a weak model).
    PPI does not use a model whose cross-validated macro-F1 `model_f1` is below MIN_MACRO_F1
    (`ppi_cell`): the cell's own estimation items alone then give its share.
    """
    rect, where = (own, "own") if len(own) >= MIN_OWN_RECTIFIER else (pooled, "pooled")
    if len(rect) < 2:
        return Estimate(float("nan"), float("nan"), float("nan")), "none", len(rect)
    y = [float(label in i.labels) for i in rect]
    f = [i.score(label) for i in rect]
    fu = [i.score(label) for i in pred]
    if method == "ppi" and where == "own":
        est = ppi_cell(y, f, fu, model_f1=model_f1)
    else:
        est = pacc(y, f, fu, seed=seed)
    return est, where, len(rect)


def coverage_table(
    items: Iterable[Item],
    scheme: Scheme,
    by: Sequence[str],
    rates: ErrorRates | None,
    seed: int = 0,
    estimator: str = "ppi",
    model_f1: float | None = None,
) -> list[dict[str, Any]]:
    """One row per (target, group..., label): counts, raw and corrected shares with 95% intervals.

    `model_f1`, the model's cross-validated macro-F1: below MIN_MACRO_F1, PPI does not use it.

    With `ppi` and `pacc` the correction comes from the cell's own estimation items when it has
    MIN_OWN_RECTIFIER of them, else from all the target's estimation items pooled, through PACC
    (see `_rectified`); each row says which and how many. Without any estimation item the
    predicted share stays raw (`rectifier` 'none').
    """
    if estimator not in ESTIMATORS:
        raise ValueError(f"estimator must be one of {', '.join(ESTIMATORS)}, not {estimator!r}")
    rng = np.random.default_rng(seed)
    items = list(items)
    cells = cells_of(items, by)
    pooled: dict[str, list[Item]] = defaultdict(list)
    for item in items:
        if item.in_estimation:
            pooled[item.target].append(item)
    rows = []
    for (target, key), members in sorted(cells.items()):
        gold = [m for m in members if m.source == "gold"]
        pred = [m for m in members if m.source == "predicted"]
        own = [m for m in gold if m.in_estimation]
        n, n_gold, n_pred = len(members), len(gold), len(pred)
        observed = {label: sum(label in m.labels for m in pred) for label in scheme.label_ids}
        observed_vec = None
        if rates is not None and rates.kind == "single" and n_pred:
            observed_vec = (
                np.array([observed.get(lab, 0) for lab in rates.labels], dtype=float) / n_pred
            )
        k_golds = {label: sum(label in m.labels for m in gold) for label in scheme.label_ids}
        intervals = (
            _bootstrap_cell(n_gold, k_golds, n_pred, observed, rates, scheme.label_ids, rng)
            if n_pred and rates is not None and estimator == "acc"
            else {}
        )
        for label in scheme.label_ids:
            k_gold = k_golds[label]
            k_pred = observed[label]
            raw = (k_gold + k_pred) / n
            low, high = wilson(k_gold + k_pred, n)
            share, alow, ahigh, lam, rectifier, n_rect = raw, low, high, None, "none", 0
            if n_pred and estimator == "acc" and rates is not None:
                adj_pred = adjusted_share(label, k_pred / n_pred, n_pred, rates, observed_vec)
                share = (k_gold + adj_pred * n_pred) / n
                alow, ahigh = intervals[label]
                rectifier = "cross-validation"
            elif n_pred and estimator in ("ppi", "pacc"):
                est, rectifier, n_rect = _rectified(
                    estimator, label, own, pooled[target], pred, seed, model_f1
                )
                if rectifier != "none":
                    whole = combine(k_gold, n_gold, est, n_pred)
                    share, alow, ahigh, lam = whole.share, whole.low, whole.high, whole.lam
            row = {"scheme": scheme.name, "target": target or None}
            row.update(dict(zip(by, key)))
            row.update(
                {
                    "label": label,
                    "items": n,
                    "gold_items": n_gold,
                    "predicted_items": n_pred,
                    "estimation_items": len(own),
                    "count": k_gold + k_pred,
                    "raw_share": round(raw, 4),
                    "raw_ci_low": round(low, 4),
                    "raw_ci_high": round(high, 4),
                    "share": round(share, 4),
                    "ci_low": round(min(alow, share), 4),
                    "ci_high": round(max(ahigh, share), 4),
                    "estimator": estimator if rectifier != "none" or not n_pred else "raw",
                    "rectifier": rectifier if n_pred else "",
                    "rectifier_items": n_rect,
                    "lambda": None if lam is None else round(lam, 3),
                    "corrected": bool(n_pred and rectifier != "none"),
                }
            )
            rows.append(row)
    return rows


def attention_table(
    store: Store, items: Iterable[Item], group: str | None, period: str
) -> list[dict[str, Any]]:
    """Stories per period (overall, and per group): in the report's population and among all stored
    articles.

    share_of_all is the population's share of every stored story in the cell (Media Cloud's
    normalised attention), with its Wilson interval; it is 1 where the store holds nothing more.
    """
    groups = store.dup_groups()
    population = {(groups.get(i.article.id, i.article.id)): i.article for i in items}
    stored = {groups.get(a.id, a.id): a for a in store.iter_articles()}
    fields = [(period,)] + ([(group, period)] if group else [])
    rows = []
    for by in fields:

        def key(article: Article, by: tuple[str, ...] = by) -> tuple[str, ...]:
            return _group_key(Item(article, "", [], ""), by)

        counts: dict[tuple[str, ...], list[int]] = defaultdict(lambda: [0, 0])
        for story, article in stored.items():
            counts[key(article)][1] += 1
            counts[key(article)][0] += story in population
        for k, (n, total) in sorted(counts.items()):
            low, high = wilson(n, total)
            row: dict[str, Any] = dict(zip(by, k))
            if len(by) == 1 and group:
                row[group] = None
            row.update(
                {
                    "articles": n,
                    "all_articles": total,
                    "share_of_all": round(n / total, 4) if total else None,
                    "ci_low": round(low, 4),
                    "ci_high": round(high, 4),
                }
            )
            rows.append(row)
    return rows
