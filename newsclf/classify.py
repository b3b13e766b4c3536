"""The one classify path: records and a model in, output rows (and why a record went unlabeled) out.

`newsclf classify` (via `classify_inputs`), `newsclf run` (batch/run.py), `newsclf batch`
(batch/shards.py, on the local pool and on Dask workers alike) and the demo all call
`classify_records`; the CLI only reads options and prints.

    for records, rows in classify_records(model, articles):   # chunk by chunk
        save_predictions(store, model.id, rows)
"""

from __future__ import annotations

import json
from dataclasses import dataclass, field
from typing import Any, Callable, Iterable, Iterator, TextIO, TypeVar

from newsclf.article import Article
from newsclf.model.predict import Model, mark_uncertain, prediction_rows, skip_kind
from newsclf.records import MAX_RECORD_BYTES, LabeledRecord, LineResult, read_records, source_name

CLASSIFY_CHUNK = 1000  # records classified (and, where a caller stores them, stored) together
PREDICT_BATCH = 512  # texts per Model.predict batch

R = TypeVar("R")


def output_row(
    model_id: str, article: Article, result: dict[str, Any], with_url: bool = False
) -> dict[str, Any]:
    """An output row: the article's id (url), title, outlet, published, lang, model; `result`."""
    row: dict[str, Any] = {"id": article.id}
    if with_url:
        row["url"] = article.url
    row.update(
        title=article.title,
        outlet=article.outlet,
        published=article.published,
        lang=article.lang,
        model=model_id,
    )
    row.update(result)
    return row


def _article_and_target(record: Any) -> tuple[Article, str | None]:
    if isinstance(record, Article):
        return record, None
    return record.article, record.target


def classify_chunk(
    model: Model,
    records: list[Any],
    *,
    any_language: bool = False,
    batch_size: int = PREDICT_BATCH,
    with_url: bool = False,
    out_of_scope: dict[str, int] | None = None,
) -> list[dict[str, Any]]:
    """The output rows of one chunk of records (see `classify_records`), in their order."""
    units = [_article_and_target(r) for r in records]
    articles = [a for a, _ in units]
    results = model.predict(
        articles, [t for _, t in units], batch_size=batch_size, any_language=any_language
    )
    rows = [output_row(model.id, a, r, with_url) for a, r in zip(articles, results, strict=True)]
    if out_of_scope is not None:
        tally_out_of_scope(rows, out_of_scope)
    return rows


def classify_records(
    model: Model,
    records: Iterable[R],
    *,
    any_language: bool = False,
    chunk_size: int | None = None,
    batch_size: int = PREDICT_BATCH,
    with_url: bool = False,
    out_of_scope: dict[str, int] | None = None,
) -> Iterator[tuple[list[R], list[dict[str, Any]]]]:
    """Classify records chunk by chunk; yield each chunk of records with its output rows, in order.

    A record is an Article or anything with `.article` and `.target` (its own stance target). A
    row the model did not label (language, relevance gate) says why in `skipped`; `out_of_scope`
    counts those by kind. Chunks (`chunk_size`, default CLASSIFY_CHUNK) keep memory flat on a file
    of millions, and let a caller write or store each before the next is read.
    """
    size = chunk_size or CLASSIFY_CHUNK
    options = dict(
        any_language=any_language,
        batch_size=batch_size,
        with_url=with_url,
        out_of_scope=out_of_scope,
    )
    chunk: list[R] = []
    for record in records:
        chunk.append(record)
        if len(chunk) >= size:
            yield chunk, classify_chunk(model, chunk, **options)
            chunk = []
    if chunk:
        yield chunk, classify_chunk(model, chunk, **options)


def tally_out_of_scope(rows: Iterable[dict[str, Any]], counts: dict[str, int]) -> None:
    """Count the rows the model did not label into `counts`, by kind (language, gate)."""
    for row in rows:
        kind = skip_kind(row.get("skipped"))
        if kind:
            counts[kind] = counts.get(kind, 0) + 1


def save_predictions(store: Any, model_id: str, rows: list[dict[str, Any]]) -> None:
    """Store the rows' predictions, and for the rows not labeled, why (a rerun replaces both)."""
    store.add_predictions(p for row in rows for p in prediction_rows(model_id, row["id"], row))
    store.add_skipped((row["id"], model_id, row["skipped"]) for row in rows if row.get("skipped"))


def read_checked(
    path: str,
    guide: Any = None,
    options: Any = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    on_error: Callable[[str], None] | None = None,
) -> Iterator[LineResult]:
    """`read_records`, telling `on_error` of each rejected line as 'FILE:LINE: why'."""
    for result in read_records(path, guide, options, max_record_bytes=max_record_bytes):
        if result.error and on_error is not None:
            on_error(f"{source_name(path)}:{result.lineno}: {result.error}")
        yield result


@dataclass
class ClassifySummary:
    """What `classify_inputs` did, for the closing line and the exit code."""

    classified: int = 0
    rejected: int = 0  # input lines that were not articles to classify
    queued: int = 0
    out_of_scope: dict[str, int] = field(default_factory=dict)  # classified, not labeled: why


def classify_inputs(
    model: Model,
    inputs: Iterable[str],
    out: TextIO,
    *,
    store: Any = None,
    stored_ids: list[str] | None = None,
    options: Any = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    on_error: Callable[[str], None] | None = None,
    save: bool = False,
    min_confidence: float | None = None,
    queue_uncertain: bool = False,
    any_language: bool = False,
    on_progress: Callable[[int], None] | None = None,
) -> ClassifySummary:
    """`newsclf classify` as a function: label the INPUT files' records, then the stored articles
    `stored_ids`, into JSONL `out`; with `save`, store each chunk before the next is read.

    An interrupted run keeps (and with `save`, has stored) every chunk before the one it was in;
    a rerun replaces, never duplicates.
    """
    summary = ClassifySummary()
    save = save or queue_uncertain

    def from_files() -> Iterator[LabeledRecord]:
        for path in inputs:
            for result in read_checked(path, None, options, max_record_bytes, on_error):
                if result.record is None or result.record.article is None:
                    summary.rejected += 1
                else:
                    yield result.record

    sources = [(from_files(), True)]
    if stored_ids:
        sources.append((store.iter_articles(stored_ids), False))
    for records, new_articles in sources:
        for chunk, rows in classify_records(
            model, records, any_language=any_language, out_of_scope=summary.out_of_scope
        ):
            if min_confidence is not None:
                mark_uncertain(model, rows, min_confidence)
            for row in rows:
                out.write(json.dumps(row, ensure_ascii=False) + "\n")
            out.flush()
            if save:
                if new_articles:  # the store's own articles are there already
                    store.add_articles(r.article for r in chunk)
                save_predictions(store, model.id, rows)
                if queue_uncertain:
                    summary.queued += store.enqueue(
                        (row["id"], "uncertain", row["uncertainty"], _unsure(row))
                        for row in rows
                        if any(row["uncertain"].values())
                    )
            summary.classified += len(rows)
            if on_progress is not None:
                on_progress(len(rows))
    return summary


def _unsure(row: dict[str, Any]) -> str:
    """The queue's reason for an uncertain row: the schemes and labels the model doubts."""
    doubts = (f"{s}/{'|'.join(labels)}" for s, labels in row["uncertain"].items() if labels)
    return "model unsure: " + ", ".join(doubts)
