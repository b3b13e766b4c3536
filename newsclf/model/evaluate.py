"""Metrics: per-label precision, recall and F1, and macro-F1, for multi- and single-label
schemes."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.metrics import precision_recall_fscore_support


def indicator(label_lists: Sequence[Sequence[str]], labels: Sequence[str]) -> np.ndarray:
    """A 0/1 matrix (items x labels)."""
    index = {label: j for j, label in enumerate(labels)}
    Y = np.zeros((len(label_lists), len(labels)), dtype=int)
    for i, row in enumerate(label_lists):
        for label in row:
            if label in index:
                Y[i, index[label]] = 1
    return Y


def bootstrap_macro_f1(
    T: np.ndarray, P: np.ndarray, rounds: int = 1000, seed: int = 0
) -> tuple[float, float]:
    """95% percentile interval of macro-F1 over items resampled with replacement."""
    n = T.shape[0]
    if n < 2:
        return (float("nan"), float("nan"))
    rng = np.random.default_rng(seed)
    # Each round's item weights (how often each item was drawn) give its per-label counts at once.
    W = rng.multinomial(n, np.full(n, 1.0 / n), size=rounds).astype(float)
    tp, fp, fn = W @ (T & P), W @ ((1 - T) & P), W @ (T & (1 - P))
    denom = 2 * tp + fp + fn
    used = denom > 0
    f1 = np.divide(2 * tp, denom, out=np.zeros_like(tp), where=used)
    macro = np.where(
        used.any(axis=1), (f1 * used).sum(axis=1) / np.maximum(used.sum(axis=1), 1), 0.0
    )
    low, high = np.percentile(macro, [2.5, 97.5])
    return round(float(low), 4), round(float(high), 4)


def confusion(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    labels: Sequence[str],
    kind: str,
) -> dict[str, Any]:
    """single: gold x predicted counts; multi: per label true/false positives/negatives."""
    if kind == "single":
        index = {label: j for j, label in enumerate(labels)}
        M = np.zeros((len(labels), len(labels)), dtype=int)
        for t, p in zip(y_true, y_pred):
            if t and p and t[0] in index and p[0] in index:
                M[index[t[0]], index[p[0]]] += 1
        return {
            "labels": list(labels),
            "matrix": M.tolist(),
            "rows": "gold",
            "columns": "predicted",
        }
    T, P = indicator(y_true, labels), indicator(y_pred, labels)
    return {
        label: {
            "tp": int((T[:, j] & P[:, j]).sum()),
            "fp": int(((1 - T[:, j]) & P[:, j]).sum()),
            "fn": int((T[:, j] & (1 - P[:, j])).sum()),
            "tn": int(((1 - T[:, j]) & (1 - P[:, j])).sum()),
        }
        for j, label in enumerate(labels)
    }


def scheme_metrics(
    y_true: Sequence[Sequence[str]],
    y_pred: Sequence[Sequence[str]],
    labels: Sequence[str],
    kind: str = "multi",
) -> dict[str, Any]:
    """Per-label P/R/F1/support, macro-F1 (with a bootstrap 95% interval), micro-F1, exact match,
    confusion."""
    T, P = indicator(y_true, labels), indicator(y_pred, labels)
    p, r, f, s = precision_recall_fscore_support(T, P, average=None, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(T, P, average="micro", zero_division=0)
    # A label no item has and none was predicted says nothing about the model; leave it out of the
    # mean.
    used = (T.sum(axis=0) + P.sum(axis=0)) > 0
    per_label = {
        label: {
            "precision": round(float(p[j]), 4),
            "recall": round(float(r[j]), 4),
            "f1": round(float(f[j]), 4),
            "support": int(s[j]),
        }
        for j, label in enumerate(labels)
    }
    return {
        "n": len(y_true),
        "macro_f1": round(float(f[used].mean()) if used.any() else 0.0, 4),
        "macro_f1_ci95": bootstrap_macro_f1(T, P),
        "micro_f1": round(float(mf), 4),
        "exact_match": round(float((T == P).all(axis=1).mean()) if len(T) else 0.0, 4),
        "labels": per_label,
        "confusion": confusion(y_true, y_pred, labels, kind),
    }


def reliability(
    y_true: Sequence[Sequence[str]], P: np.ndarray, labels: Sequence[str], kind: str, bins: int = 10
) -> dict[str, Any]:
    """Reliability curve and expected calibration error (ECE) of probabilities P (items x labels).

    single: the probability of the predicted label against whether it was right; multi: every
    (item, label) probability against whether the item has the label. Equal-width bins; ECE is
    the item-weighted mean gap |observed - mean predicted| over bins.
    """
    T = indicator(y_true, labels)
    if kind == "single":
        pred = P.argmax(axis=1)
        conf, hit = P[np.arange(len(P)), pred], T[np.arange(len(T)), pred].astype(float)
    else:
        conf, hit = P.ravel(), T.ravel().astype(float)
    which = np.minimum((conf * bins).astype(int), bins - 1)
    rows, ece = [], 0.0
    for b in range(bins):
        sel = which == b
        if not sel.any():
            continue
        mean_p, observed = float(conf[sel].mean()), float(hit[sel].mean())
        ece += sel.sum() / max(len(conf), 1) * abs(observed - mean_p)
        rows.append(
            {
                "low": b / bins,
                "high": (b + 1) / bins,
                "n": int(sel.sum()),
                "mean_p": round(mean_p, 4),
                "observed": round(observed, 4),
            }
        )
    return {
        "what": "predicted label" if kind == "single" else "every item and label",
        "bins": rows,
        "ece": round(float(ece), 4),
    }


def format_metrics(name: str, metrics: dict[str, Any]) -> str:
    """A plain-text table of one scheme's metrics."""
    low, high = metrics.get("macro_f1_ci95", (float("nan"), float("nan")))
    lines = [
        (
            f"scheme {name}: macro-F1 {metrics['macro_f1']:.3f} (95% CI {low:.3f}-{high:.3f}) "
            f" micro-F1 {metrics['micro_f1']:.3f}  exact {metrics['exact_match']:.3f} "
            f" (n={metrics['n']})"
        ),
        f"  {'label':<14}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}",
    ]
    for label, m in metrics["labels"].items():
        scores = f"{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9d}"
        lines.append(f"  {label:<14}{scores}")
    conf = metrics.get("confusion")
    if conf and "matrix" in conf:
        lines.append(
            "  confusion (rows gold, columns predicted): "
            + " ".join(f"{name[:8]:>8}" for name in conf["labels"])
        )
        for label, row in zip(conf["labels"], conf["matrix"]):
            lines.append(f"  {label:<14}" + " " * 28 + " ".join(f"{v:>8d}" for v in row))
    if metrics.get("calibration"):
        lines.append(
            f"  expected calibration error ({metrics['calibration']['what']}):"
            f" {metrics['calibration']['ece']:.3f}"
        )
    if "split" in metrics:
        lines.append(f"  evaluated on: {metrics['split']}")
    return "\n".join(lines)
