"""The flat article table: one row per article, plain columns, its final label(s) per scheme and
where they came from.

What R's `read.csv` and `pandas.read_csv` read with no JSON to parse: id, url, outlet, published,
lang, title, story (the near-duplicate group) and, per scheme (per scheme and stance target:
`stance_openai`), the final labels (';'-joined), their source and the model's probability.

Sources, strongest first: `gold` (final labels imported as such), `reviewer` (a reviewer's decision
on the labeling page), `majority` (most of several coders), `coder` (the only coder), `predicted`
(the model; only where no coder's label settles the article). Coders who tie settle nothing.
"""

from __future__ import annotations

import re
from collections import defaultdict
from typing import Any

from newsclf.guide import Guide, Scheme
from newsclf.model.data import resolve
from newsclf.store import Annotation, Store

BASE_COLUMNS = ("id", "url", "outlet", "published", "lang", "title", "story")


def column_prefix(scheme: Scheme, target: str) -> str:
    """The columns' stem: the scheme's name, plus the stance target as a plain word
    (stance_openai)."""
    if not target:
        return scheme.name
    return f"{scheme.name}_{re.sub(r'[^0-9a-z]+', '_', target.lower()).strip('_')}"


def final_labels(
    anns: list[Annotation], scheme: Scheme, reviewed: set[tuple[str, str, str, str]]
) -> tuple[list[str], str] | None:
    """(labels, source) from one unit's coders, or None when they settle nothing (a tie, or no
    coder)."""
    if not anns:
        return None
    labels = resolve(anns, scheme)
    if labels is None:
        return None
    gold = [a for a in anns if a.gold]
    if gold:
        chosen = max(gold, key=lambda a: a.created_at or "")
        key = (chosen.article_id, chosen.scheme, chosen.target, chosen.labeler)
        return labels, "reviewer" if key in reviewed else "gold"
    return labels, "coder" if len(anns) == 1 else "majority"


def article_rows(store: Store, guide: Guide, model_id: str | None = None) -> list[dict[str, Any]]:
    """One plain row per stored article: its fields and, per scheme and target, final labels,
    source, probability."""
    return article_table(store, guide, model_id)[1]


def article_table(
    store: Store,
    guide: Guide,
    model_id: str | None = None,
    ids: set[str] | None = None,
    with_text: bool = False,
) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) of the flat table, for the articles in `ids` (all when None); `export --flat`
    writes it too."""
    model_id = model_id or store.latest_prediction_model()
    reviewed = {(r["article_id"], r["scheme"], r["target"], r["reviewer"]) for r in store.reviews()}
    groups = store.dup_groups()
    units: dict[str, dict[tuple[str, str], dict[str, Any]]] = defaultdict(
        dict
    )  # article -> (scheme, target) -> cell
    columns: list[tuple[Scheme, str]] = []
    for scheme in guide.schemes:
        by_unit: dict[tuple[str, str], list[Annotation]] = defaultdict(list)
        for ann in store.annotations(scheme=scheme.name):
            by_unit[(ann.article_id, scheme.effective_target(ann.target))].append(ann)
        targets = {t for _, t in by_unit}
        for (article_id, target), anns in by_unit.items():
            settled = final_labels(anns, scheme, reviewed)
            if settled is not None:
                units[article_id][(scheme.name, target)] = {
                    "labels": settled[0],
                    "source": settled[1],
                }
        if model_id is not None:
            for pred in store.predictions(model_id=model_id):
                if pred["scheme"] != scheme.name:
                    continue
                target = scheme.effective_target(pred["target"])
                targets.add(target)
                cell = units[pred["article_id"]].get((scheme.name, target))
                if cell is None:
                    probs = pred["probabilities"]
                    units[pred["article_id"]][(scheme.name, target)] = {
                        "labels": list(pred["labels"]),
                        "source": "predicted",
                        "probability": [
                            round(float(probs.get(lab, 0.0)), 4) for lab in pred["labels"]
                        ],
                    }
        if not targets:
            targets = {scheme.effective_target(None)}
        columns += [(scheme, t) for t in sorted(targets)]
    names = list(BASE_COLUMNS) + (["text"] if with_text else [])
    for scheme, target in columns:
        stem = column_prefix(scheme, target)
        names += [stem, f"{stem}_source", f"{stem}_probability"]
    rows = []
    for article in store.iter_articles(sorted(ids) if ids is not None else None):
        row: dict[str, Any] = {
            "id": article.id,
            "url": article.url,
            "outlet": article.outlet,
            "published": article.published,
            "lang": article.lang,
            "title": article.title,
            "story": groups.get(article.id, article.id),
        }
        if with_text:
            row["text"] = article.text
        for scheme, target in columns:
            stem = column_prefix(scheme, target)
            cell = units.get(article.id, {}).get((scheme.name, target))
            probs = (cell or {}).get("probability")
            row[stem] = ";".join(cell["labels"]) if cell else None
            row[f"{stem}_source"] = cell["source"] if cell else None
            # One number for a single-label scheme; ';'-joined, in label order, for several labels.
            row[f"{stem}_probability"] = (
                None
                if not probs
                else probs[0]
                if scheme.kind == "single"
                else ";".join(f"{p:.4f}" for p in probs)
            )
        rows.append(row)
    return names, rows
