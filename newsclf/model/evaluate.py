"""Metrics: per-label precision, recall and F1, and macro-F1, for multi- and single-label schemes."""

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


def scheme_metrics(y_true: Sequence[Sequence[str]], y_pred: Sequence[Sequence[str]], labels: Sequence[str]) -> dict[str, Any]:
    """Per-label P/R/F1/support, macro-F1 over labels present in gold or prediction, micro-F1 and accuracy."""
    T, P = indicator(y_true, labels), indicator(y_pred, labels)
    p, r, f, s = precision_recall_fscore_support(T, P, average=None, zero_division=0)
    mp, mr, mf, _ = precision_recall_fscore_support(T, P, average="micro", zero_division=0)
    # A label no item has and none was predicted says nothing about the model; leave it out of the mean.
    used = (T.sum(axis=0) + P.sum(axis=0)) > 0
    per_label = {label: {"precision": round(float(p[j]), 4), "recall": round(float(r[j]), 4),
                         "f1": round(float(f[j]), 4), "support": int(s[j])} for j, label in enumerate(labels)}
    return {
        "n": len(y_true),
        "macro_f1": round(float(f[used].mean()) if used.any() else 0.0, 4),
        "micro_f1": round(float(mf), 4),
        "exact_match": round(float((T == P).all(axis=1).mean()) if len(T) else 0.0, 4),
        "labels": per_label,
    }


def format_metrics(name: str, metrics: dict[str, Any]) -> str:
    """A plain-text table of one scheme's metrics."""
    lines = [f"scheme {name}: macro-F1 {metrics['macro_f1']:.3f}  micro-F1 {metrics['micro_f1']:.3f}  "
             f"exact {metrics['exact_match']:.3f}  (n={metrics['n']})",
             f"  {'label':<14}{'precision':>10}{'recall':>8}{'F1':>8}{'support':>9}"]
    for label, m in metrics["labels"].items():
        lines.append(f"  {label:<14}{m['precision']:>10.3f}{m['recall']:>8.3f}{m['f1']:>8.3f}{m['support']:>9d}")
    return "\n".join(lines)
