"""Export the store's articles as JSONL or CSV, with coders' labels and model predictions beside them."""

from __future__ import annotations

import csv
import json
from typing import Any, TextIO

from newsclf.article import ARTICLE_FIELDS
from newsclf.store import Store


def export_articles(store: Store, fh: TextIO, fmt: str = "jsonl", with_labels: bool = False,
                    with_predictions: bool = False) -> int:
    """Write every stored article; labels go under 'annotations', predictions under 'predictions'."""
    extra = (["annotations"] if with_labels else []) + (["predictions"] if with_predictions else [])
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(fh, fieldnames=list(ARTICLE_FIELDS) + extra)
        writer.writeheader()
    n = 0
    for article in store.iter_articles():
        row: dict[str, Any] = article.to_dict()
        if with_labels:
            row["annotations"] = [
                {"scheme": a.scheme, "target": a.target or None, "labels": list(a.labels), "labeler": a.labeler,
                 "gold": a.gold, "seconds": a.seconds, "created_at": a.created_at, "guide_version": a.guide_version}
                for a in store.annotations(article_id=article.id)]
        if with_predictions:
            row["predictions"] = [
                {k: p[k] for k in ("model_id", "scheme", "target", "probabilities", "labels", "created_at")}
                for p in store.predictions(article_id=article.id)]
        if writer is None:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            cells = article.to_csv_row()
            cells.update({k: json.dumps(row[k], ensure_ascii=False) for k in extra})
            writer.writerow(cells)
        n += 1
    return n
