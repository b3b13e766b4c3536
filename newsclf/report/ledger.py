"""The labeling ledger: coders' hours, labels per hour and cost, and what reaching a target macro-F1
would take."""

from __future__ import annotations

import math
from collections import defaultdict
from typing import Any, Sequence

import numpy as np

from newsclf.store import Annotation


def ledger(annotations: Sequence[Annotation], hourly_rate: float = 0.0) -> list[dict[str, Any]]:
    """Per labeler and scheme: items coded, hours (from recorded seconds), labels per hour, cost."""
    cells: dict[tuple[str, str], list[Annotation]] = defaultdict(list)
    for ann in annotations:
        cells[(ann.labeler, ann.scheme)].append(ann)
    rows = []
    for (labeler, scheme), anns in sorted(cells.items()):
        timed = [a.seconds for a in anns if a.seconds is not None]
        hours = sum(timed) / 3600 if timed else None
        rate = len(timed) / hours if hours else None
        rows.append(
            {
                "labeler": labeler,
                "scheme": scheme,
                "items": len(anns),
                "timed_items": len(timed),
                "hours": None if hours is None else round(hours, 3),
                "labels_per_hour": None if rate is None else round(rate, 1),
                "median_seconds": None if not timed else round(float(np.median(timed)), 1),
                "cost": None if hours is None else round(hours * hourly_rate, 2),
                "gold": any(a.gold for a in anns),
            }
        )
    return rows


def project_labels(curve: Sequence[dict[str, float]], target_f1: float) -> dict[str, Any]:
    """Labels needed for a target macro-F1, from a learning curve fitted as F1 = a + b * ln(labels).

    A log-linear fit is crude but stable on the three to five points a small project has; the
    projection says so, and returns None when the curve is flat or falling.
    """
    points = [(p["labels"], p["macro_f1"]) for p in curve if p["labels"] > 0]
    if len(points) < 2:
        return {
            "target_f1": target_f1,
            "labels": None,
            "note": "need at least two learning-curve points",
        }
    x = np.log([p[0] for p in points])
    y = np.array([p[1] for p in points])
    b, a = np.polyfit(x, y, 1)
    current = max(p[0] for p in points)
    if max(y) >= target_f1:
        return {
            "target_f1": target_f1,
            "labels": int(min(p[0] for p in points if p[1] >= target_f1)),
            "fit": {"a": round(float(a), 4), "b": round(float(b), 4)},
            "note": "already reached",
        }
    if b <= 1e-6:
        return {
            "target_f1": target_f1,
            "labels": None,
            "fit": {"a": round(float(a), 4), "b": round(float(b), 4)},
            "note": "the learning curve is flat; more labels of the same kind will not get there",
        }
    needed = math.exp((target_f1 - a) / b)
    note = "extrapolated from a log-linear fit"
    if needed > 100 * current:
        note += f"; more than 100x the {current} labels behind the curve, treat as out of reach"
    return {
        "target_f1": target_f1,
        "labels": int(math.ceil(needed)),
        "fit": {"a": round(float(a), 4), "b": round(float(b), 4)},
        "note": note,
    }
