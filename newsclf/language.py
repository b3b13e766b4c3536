"""Language identification with the model py3langid ships (nothing downloaded), for texts that do
not say theirs."""

from __future__ import annotations

from typing import Any

_LANGID: Any = None


def detect_language(text: str) -> str | None:
    """ISO 639-1 code of the text's language from its first 3,000 characters; None when too short or
    unsure."""
    global _LANGID
    sample = text[:3000]
    if len(sample.strip()) < 20:
        return None
    try:
        if _LANGID is None:
            import py3langid

            _LANGID = py3langid
        ranked = _LANGID.rank(sample)
    except Exception:  # a language guess is optional; a broken model must not break its caller
        return None
    if not ranked:
        return None
    top, score = ranked[0]
    # Indonesian and Malay are close; the model leans to Malay on short Indonesian text
    if top == "ms":
        scores = dict(ranked)
        if "id" in scores and scores["ms"] - scores["id"] < 0.03 * abs(scores["ms"]):
            return "id"
    return top
