"""Guardrails: which estimates are too thin or too unstable to read, and why, in words.

A cell is flagged when it holds fewer than `min_n` articles or its 95% interval is wider than
`max_width`; a predicted share that no estimation item could correct is flagged too. Flagged
cells are drawn hollow and grey in the figures and listed by name at the top of the report; a
scheme whose model's cross-validated macro-F1 is below MIN_MACRO_F1 gets a warning of its own
(and PPI does not use that model: `newsclf.report.estimate.uses_model`).
"""

from __future__ import annotations

from typing import Any, Sequence

from newsclf.report.coverage import GROUP_FIELDS, PERIODS
from newsclf.report.estimate import MIN_MACRO_F1

__all__ = ["MIN_MACRO_F1"]  # defined beside the estimator, which reads it too
WEAK_RECALL = 0.5
LISTED = (
    60  # flagged cells named in the HTML and on the terminal; the rest are in tables/coverage.csv
)


def scheme_warnings(
    metrics: dict[str, Any], min_f1: float = MIN_MACRO_F1, estimator: str = "ppi"
) -> list[str]:
    """One sentence per scheme whose model's cross-validated macro-F1 is below `min_f1`.

    With `ppi` such a model is not used at all (`estimate.uses_model`), and the sentence says so.
    """
    out = []
    for name, m in sorted(metrics.items()):
        f1 = m.get("macro_f1")
        if f1 is None or f1 >= min_f1:
            continue
        if estimator == "ppi":
            out.append(
                f"{name}: shares rest on the estimation sample alone: the model's cross-validated"
                f" macro-F1 {f1:.2f} is below {min_f1:g}, so PPI does not use its predictions"
                " (lambda 0) and the intervals are as wide as the sample's own. Cells with too"
                " few estimation items of their own still fall back to pooled PACC, which uses"
                " the model (flagged when wide)."
            )
        else:
            out.append(
                f"{name}: the model's cross-validated macro-F1 is {f1:.2f} (below {min_f1:.2f});"
                " its labels alone would mislead, so its shares rest on the gold labels and the"
                " estimation sample, and their intervals are wide."
            )
    return out


def estimation_leak_warning(annotations: Sequence[Any], model_created: str | None) -> str | None:
    """A warning when estimation-sample labels existed before the model was trained (it may have
    learned them)."""
    if not model_created:
        return None
    early = {
        (a.article_id, a.scheme)
        for a in annotations
        if a.sample == "estimation" and a.created_at and a.created_at < model_created
    }
    if not early:
        return None
    return (
        f"{len(early)} labels of the estimation sample were stored before the model was trained"
        f" ({model_created[:19]}): if it was trained on them, it looks better on them than it is"
        " and the corrected shares' intervals are too narrow. Train without the estimation sample,"
        " or code a fresh one."
    )


def label_weakness(metrics: dict[str, Any] | None, label: str) -> str | None:
    """Why the model is weak on a label, in words (cross-validated recall below WEAK_RECALL), or
    None."""
    stats = ((metrics or {}).get("labels") or {}).get(label)
    if not stats or stats.get("recall") is None or stats["recall"] >= WEAK_RECALL:
        return None
    recall = stats["recall"]
    conf = (metrics or {}).get("confusion") or {}
    if "matrix" in conf and label in conf.get("labels", []):
        i = conf["labels"].index(label)
        row = [
            (count, other)
            for j, (count, other) in enumerate(zip(conf["matrix"][i], conf["labels"]))
            if j != i
        ]
        count, other = max(row) if row else (0, None)
        if other is not None and count > 0:
            return (
                f"the model cannot tell {label} from {other}: cross-validated recall {recall:.2f}"
            )
    return f"the model misses most {label} articles: cross-validated recall {recall:.2f}"


def flag_rows(
    rows: Sequence[dict[str, Any]], metrics: dict[str, Any], min_n: int, max_width: float
) -> None:
    """Set each row's `flagged` and `flag_reason` (reasons in words, joined by '; ')."""
    for row in rows:
        reasons = []
        if row["items"] < min_n:
            reasons.append(
                f"{row['items']} article{'s' if row['items'] != 1 else ''} (fewer than {min_n})"
            )
        width = row["ci_high"] - row["ci_low"]
        if width > max_width:
            reasons.append(
                f"95% interval {row['ci_low']:.2f}-{row['ci_high']:.2f} is {width:.2f} wide "
                f"(more than {max_width:.2f})"
            )
        if row["predicted_items"] and not row["corrected"] and row["estimator"] == "raw":
            reasons.append(
                "no estimation sample to correct the model's labels with: the share is uncorrected"
            )
        if reasons and row["predicted_items"]:
            weak = label_weakness(metrics.get(row["scheme"]), row["label"])
            if weak:
                reasons.append(weak)
        row["flagged"] = bool(reasons)
        row["flag_reason"] = "; ".join(reasons)


def cell_name(row: dict[str, Any], with_label: bool = True) -> str:
    """A cell as a reader names it: 'stance toward OpenAI, against, Northgate Times, 2023-03'."""
    about = f" toward {row['target']}" if row.get("target") else ""
    where = [str(row[k]) for k in (*GROUP_FIELDS, *PERIODS) if row.get(k) is not None]
    label = f", {row['label']}" if with_label else ""
    return f"{row['scheme']}{about}{label}, " + (", ".join(where) or "all articles")


def flag_lines(rows: Sequence[dict[str, Any]], limit: int = LISTED) -> list[str]:
    """'<cell>: <reason>' for flagged rows, at most `limit`, then how many more."""
    flagged = [r for r in rows if r.get("flagged")]
    lines = [f"{cell_name(r)}: {r['flag_reason']}" for r in flagged[:limit]]
    if len(flagged) > limit:
        lines.append(
            f"... and {len(flagged) - limit} more flagged cells (tables/coverage.csv, column"
            " flag_reason)"
        )
    return lines
