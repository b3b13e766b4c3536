"""Export the store's articles as JSONL, CSV or Parquet, with coders' labels and model predictions
beside them.

Filters pick articles by outlet, publication day, language and final label (`ExportFilter`).
"""

from __future__ import annotations

import csv
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

from newsclf.article import ARTICLE_FIELDS, JSON_CSV_FIELDS, Article
from newsclf.errors import InputError
from newsclf.guide import Guide
from newsclf.store import Store

EXPORT_FORMATS = ("jsonl", "csv", "parquet")
PARQUET_BATCH = 1000  # rows per Parquet row group: memory stays flat on a large store


def final_labels(
    store: Store, guide: Guide, scheme_name: str, article_id: str
) -> list[tuple[str, list[str], str]]:
    """(target, labels, source) per target of one article's scheme: gold, majority or one coder's,
    else predicted.

    A tie between coders gives no human label; the latest prediction then stands in, named as such.
    """
    from newsclf.model.data import resolve

    scheme = guide.scheme(scheme_name)
    by_target: dict[str, list[Any]] = {}
    for ann in store.annotations(scheme=scheme_name, article_id=article_id):
        by_target.setdefault(scheme.effective_target(ann.target) or "", []).append(ann)
    out: dict[str, tuple[str, list[str], str]] = {}
    for target, anns in by_target.items():
        labels = resolve(anns, scheme)
        if labels is not None:
            source = (
                "gold" if any(a.gold for a in anns) else "coder" if len(anns) == 1 else "majority"
            )
            out[target] = (target, labels, source)
    latest: dict[str, dict[str, Any]] = {}
    for p in store.predictions(article_id=article_id):
        if p["scheme"] == scheme_name and (p["target"] or "") not in out:
            if (p["target"] or "") not in latest or p["created_at"] >= latest[p["target"] or ""][
                "created_at"
            ]:
                latest[p["target"] or ""] = p
    for target, p in latest.items():
        out[target] = (target, list(p["labels"]), "predicted")
    return sorted(out.values())


def parse_label_filters(
    specs: tuple[str, ...] | list[str], guide: Guide | None
) -> tuple[tuple[str, str], ...]:
    """`scheme=label` filters checked against the guide; InputError naming what is wrong."""
    out = []
    for spec in specs:
        scheme, sep, label = (part.strip() for part in spec.partition("="))
        if not sep or not scheme or not label:
            raise InputError(f"--label takes SCHEME=LABEL such as topics=labor, not {spec!r}")
        if guide is None:
            raise InputError(
                "--label needs --guide (to know each scheme's labels and how coders' labels"
                " combine)"
            )
        try:
            known = guide.scheme(scheme).label_ids
        except KeyError as exc:
            raise InputError(str(exc.args[0])) from None
        if label not in known:
            raise InputError(
                f"scheme {scheme!r} has no label {label!r}; its labels are {', '.join(known)}"
            )
        out.append((scheme, label))
    return tuple(out)


@dataclass
class ExportFilter:
    """Which articles to export: any of these outlets and languages, published within the days, with
    these labels."""

    outlets: tuple[str, ...] = ()
    since: str | None = None  # first publication day, YYYY-MM-DD
    until: str | None = None  # last publication day, YYYY-MM-DD
    langs: tuple[str, ...] = ()
    labels: tuple[
        tuple[str, str], ...
    ] = ()  # (scheme, label): the article's final label includes it
    guide: Guide | None = None

    def keeps(self, store: Store, article: Article) -> bool:
        """True if the article passes every filter given (an undated article fails a day filter)."""
        from newsclf.fields import outlet_key

        if self.outlets and outlet_key(article.outlet or "") not in {
            outlet_key(o) for o in self.outlets
        }:
            return False
        day = (article.published or "")[:10]
        if (self.since or self.until) and not day:
            return False
        if (self.since and day < self.since) or (self.until and day > self.until):
            return False
        if self.langs and (article.lang or "") not in self.langs:
            return False
        for scheme, label in self.labels:
            assert self.guide is not None  # parse_label_filters insists on one
            if not any(
                label in labels
                for _, labels, _ in final_labels(store, self.guide, scheme, article.id)
            ):
                return False
        return True


def _rows(
    store: Store, with_labels: bool, with_predictions: bool, keep: ExportFilter | None
) -> Iterator[tuple[Article, dict[str, Any]]]:
    for article in store.iter_articles():
        if keep is not None and not keep.keeps(store, article):
            continue
        row: dict[str, Any] = article.to_dict()
        if with_labels:
            row["annotations"] = [
                {
                    "scheme": a.scheme,
                    "target": a.target or None,
                    "labels": list(a.labels),
                    "labeler": a.labeler,
                    "gold": a.gold,
                    "seconds": a.seconds,
                    "created_at": a.created_at,
                    "guide_version": a.guide_version,
                }
                for a in store.annotations(article_id=article.id)
            ]
        if with_predictions:
            row["predictions"] = [
                {
                    k: p[k]
                    for k in (
                        "model_id",
                        "scheme",
                        "target",
                        "probabilities",
                        "labels",
                        "created_at",
                    )
                }
                for p in store.predictions(article_id=article.id)
            ]
        yield article, row


def export_articles(
    store: Store,
    fh: TextIO,
    fmt: str = "jsonl",
    with_labels: bool = False,
    with_predictions: bool = False,
    keep: ExportFilter | None = None,
) -> int:
    """Write the stored articles `keep` passes (all by default) as JSONL or CSV; returns how many.

    Labels go under 'annotations', predictions under 'predictions' (JSON cells in CSV).
    """
    extra = (["annotations"] if with_labels else []) + (["predictions"] if with_predictions else [])
    writer = None
    if fmt == "csv":
        writer = csv.DictWriter(fh, fieldnames=list(ARTICLE_FIELDS) + extra)
        writer.writeheader()
    n = 0
    for article, row in _rows(store, with_labels, with_predictions, keep):
        if writer is None:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        else:
            cells = article.to_csv_row()
            cells.update({k: json.dumps(row[k], ensure_ascii=False) for k in extra})
            writer.writerow(cells)
        n += 1
    return n


def export_parquet(
    store: Store,
    path: str | Path,
    with_labels: bool = False,
    with_predictions: bool = False,
    keep: ExportFilter | None = None,
) -> int:
    """Write the stored articles `keep` passes as a Parquet file (lists and objects as JSON
    strings); returns how many."""
    import pyarrow as pa

    extra = (["annotations"] if with_labels else []) + (["predictions"] if with_predictions else [])
    names = list(ARTICLE_FIELDS) + extra
    schema = pa.schema([(name, pa.int64() if name == "pages" else pa.string()) for name in names])
    json_fields = set(JSON_CSV_FIELDS) | set(extra)
    rows = (
        {k: json.dumps(row[k], ensure_ascii=False) if k in json_fields else row[k] for k in names}
        for _, row in _rows(store, with_labels, with_predictions, keep)
    )
    return _write_parquet(rows, schema, path)


def _write_parquet(rows: Iterable[dict[str, Any]], schema: Any, path: str | Path) -> int:
    """Write rows to a Parquet file in row groups of PARQUET_BATCH; returns how many."""
    import pyarrow as pa
    import pyarrow.parquet as pq

    n, batch = 0, []
    with pq.ParquetWriter(str(path), schema) as writer:
        for row in rows:
            batch.append(row)
            n += 1
            if len(batch) == PARQUET_BATCH:
                writer.write_table(pa.Table.from_pylist(batch, schema=schema))
                batch = []
        if batch or n == 0:
            writer.write_table(pa.Table.from_pylist(batch, schema=schema))
    return n


def flat_table(
    store: Store, guide: Guide, keep: ExportFilter | None = None
) -> tuple[list[str], list[dict[str, Any]]]:
    """(columns, rows) of the report's flat article table (with each article's text) for the
    articles `keep` keeps.

    Per scheme, and per scheme and stance target (`stance_openai`), the final labels (';'-joined),
    their source (gold, reviewer, majority, coder, predicted) and the model's probability.
    """
    from newsclf.report.tables import article_table

    ids = {a.id for a in store.iter_articles() if keep is None or keep.keeps(store, a)}
    return article_table(store, guide, ids=ids, with_text=True)


def write_flat(
    rows: Iterable[dict[str, Any]],
    columns: list[str],
    fmt: str,
    out: str | Path | None,
    fh: TextIO | None = None,
) -> int:
    """Write flat rows as CSV or JSONL (to fh) or Parquet (to out, every column a string); returns
    how many."""
    if fmt == "parquet":
        import pyarrow as pa

        text = ({c: None if r.get(c) is None else str(r[c]) for c in columns} for r in rows)
        return _write_parquet(text, pa.schema([(c, pa.string()) for c in columns]), out)
    assert fh is not None
    writer = csv.DictWriter(fh, fieldnames=columns) if fmt == "csv" else None
    if writer is not None:
        writer.writeheader()
    n = 0
    for row in rows:
        if writer is not None:
            writer.writerow(row)
        else:
            fh.write(json.dumps(row, ensure_ascii=False) + "\n")
        n += 1
    return n
