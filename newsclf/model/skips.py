"""Why a model left an article unlabeled, in the summary's words; apart from predict.py, so a report
can name the reasons without importing the model stack (scikit-learn alone costs a second)."""

from __future__ import annotations


def skip_kind(reason: str | None) -> str | None:
    """The summary's name for a `skipped` reason: 'language not covered' or 'gated out' (None:
    labeled)."""
    if not reason:
        return None
    return "language not covered" if reason.startswith("language ") else "gated out"
