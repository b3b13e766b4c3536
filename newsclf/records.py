"""Labeled records: an Article plus labels per scheme, read from JSONL or CSV line by line.

A labeled JSONL line is `{"id", "text", "title"?, "lang"?, "outlet"?, "published"?, "target"?,
"labels": {"<scheme>": ["label", ...]}}`; a record's own `target` overrides the scheme's default.
Readers yield a result per line so one bad line is reported and the rest still import.
"""

from __future__ import annotations

import contextlib
import csv
import gzip
import io
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, ContextManager, Iterable, Iterator, TextIO

from newsclf.article import Article
from newsclf.errors import InputError
from newsclf.guide import Guide
from newsclf.store import SAMPLES, Annotation, Store


@dataclass
class LabeledRecord:
    """An article with zero or more schemes' labels, as one line of a labeled file."""

    article: Article | None  # None for a label-only line that names a stored article by id
    labels: dict[str, list[str]] = field(default_factory=dict)
    target: str | None = None
    labeler: str | None = None
    gold: bool = False
    seconds: float | None = None
    article_id: str = ""
    sample: str | None = None

    def __post_init__(self) -> None:
        if self.article is not None:
            self.article_id = self.article.id

    def to_dict(self) -> dict[str, Any]:
        """The record as a labeled-JSONL object."""
        d = self.article.to_dict() if self.article is not None else {"id": self.article_id}
        if self.target:
            d["target"] = self.target
        if self.labels:
            d["labels"] = self.labels
        if self.labeler:
            d["labeler"] = self.labeler
        if self.gold:
            d["gold"] = True
        if self.sample:
            d["sample"] = self.sample
        return d


@dataclass
class LineResult:
    """What one input line gave: a record, or the reason it was rejected."""

    lineno: int
    record: LabeledRecord | None = None
    error: str | None = None


def _labels_from(value: Any) -> dict[str, list[str]]:
    if value is None:
        return {}
    if not isinstance(value, dict):
        raise InputError('"labels" must be an object like {"topics": ["labor"]}')
    out: dict[str, list[str]] = {}
    for scheme, labels in value.items():
        if isinstance(labels, str):
            labels = [labels]
        if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
            raise InputError(f'labels of scheme {scheme!r} must be a list of label ids')
        out[str(scheme)] = labels
    return out


def record_from_dict(data: dict[str, Any]) -> LabeledRecord:
    """Build a LabeledRecord from a parsed JSON object."""
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, got {type(data).__name__}")
    label_only = "text" not in data and isinstance(data.get("id"), (str, int)) and data.get("labels")
    if not label_only and not isinstance(data.get("text"), str):
        raise InputError('missing "text" (a string); a line with only labels needs "id" and "labels"')
    target = data.get("target")
    if target is not None and not isinstance(target, str):
        raise InputError('"target" must be a string')
    seconds = data.get("seconds")
    if seconds is not None and not isinstance(seconds, (int, float)):
        raise InputError('"seconds" must be a number')
    sample = data.get("sample") or None
    if sample is not None and sample not in SAMPLES:
        raise InputError(f'"sample" must be one of {", ".join(SAMPLES)}; got {sample!r}')
    return LabeledRecord(article=None if label_only else Article.from_dict(data), article_id=str(data.get("id", "")),
                         labels=_labels_from(data.get("labels")),
                         target=target or None, labeler=data.get("labeler") or None,
                         gold=bool(data.get("gold", False)), seconds=seconds, sample=sample)


def check_labels(guide: Guide, scheme_name: str, labels: list[str]) -> None:
    """Raise InputError if the guide lacks the scheme or a label, or a single-choice scheme gets other than one."""
    try:
        scheme = guide.scheme(scheme_name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    unknown = [x for x in labels if x not in scheme.label_ids]
    if unknown:
        raise InputError(f"scheme {scheme_name!r} has no label {unknown[0]!r}; "
                         f"its labels are {', '.join(scheme.label_ids)}")
    if scheme.kind == "single" and len(labels) != 1:
        raise InputError(f"scheme {scheme_name!r} takes exactly one label, got {len(labels)}")


def validate_labels(record: LabeledRecord, guide: Guide) -> None:
    """Raise InputError if a record names a scheme or label the guide lacks, or breaks a single scheme."""
    for scheme_name, labels in record.labels.items():
        check_labels(guide, scheme_name, labels)


def open_text(path: str | Path) -> TextIO:
    """Open a (possibly gzipped) UTF-8 text file; undecodable bytes become U+FFFD rather than a crash."""
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline="")
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def file_format(path: str | Path) -> str:
    """'jsonl' or 'csv' by the file's suffix (before .gz)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    raise InputError(f"{path}: unknown format; name the file .jsonl or .csv (optionally .gz)")


STDIN = "-"   # the path that names standard input (read as JSONL), so that commands sit in a pipe


def source_name(path: str | Path) -> str:
    """How messages name an input: its path, or <stdin>."""
    return "<stdin>" if str(path) == STDIN else str(path)


@contextlib.contextmanager
def _stdin_text() -> Iterator[TextIO]:
    # Detached, not closed, at the end: the process's stdin outlives one reader.
    fh = io.TextIOWrapper(sys.stdin.buffer, encoding="utf-8-sig", errors="replace", newline="")
    try:
        yield fh
    finally:
        fh.detach()


def read_records(path: str | Path, guide: Guide | None = None) -> Iterator[LineResult]:
    """Yield a LineResult per record of a JSONL or CSV file (`-`: JSONL on stdin), labels checked against `guide`."""
    stdin = str(path) == STDIN
    fmt = "jsonl" if stdin else file_format(path)
    opened: ContextManager[TextIO] = _stdin_text() if stdin else open_text(path)
    with opened as fh:
        source = _json_records(fh) if fmt == "jsonl" else _csv_rows(fh, str(path).lower().endswith((".tsv", ".tsv.gz")))
        for lineno, data, error in source:
            if error is None:
                try:
                    record = record_from_dict(data)
                    if guide is not None:
                        validate_labels(record, guide)
                except InputError as exc:
                    error = str(exc)
            yield LineResult(lineno, None, error) if error else LineResult(lineno, record)


def _head(fh: TextIO) -> list[str]:
    """The lines read up to and including the first non-blank one (all of them when every line is blank)."""
    head: list[str] = []
    for line in fh:
        head.append(line)
        if line.strip():
            break
    return head


def _opens_array(head: list[str]) -> bool:
    return bool(head) and head[-1].lstrip().startswith("[")


def is_json_array(path: str | Path) -> bool:
    """True when the file's first non-blank character is '[': one JSON array of records, not JSONL."""
    with open_text(path) as fh:
        return _opens_array(_head(fh))


def _json_records(fh: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    """(line, object, error) per JSONL line; or per item when the file is one JSON array (its first character '[')."""
    head = _head(fh)
    if _opens_array(head):
        # Many tools export `[{...}, {...}]` and name it .json: read it whole (it has no line structure to stream).
        yield from _json_array_items("".join(head) + fh.read())
    else:
        yield from _jsonl_lines(itertools.chain(head, fh))


def _json_array_items(text: str) -> Iterator[tuple[int, Any, str | None]]:
    """(line where the item starts, item, None) per item of a JSON array; a syntax error ends it, named by line."""
    decoder, ws = json.JSONDecoder(), re.compile(r"\s*")
    pos = ws.match(text, 0).end() + 1                   # just past the '['
    line = 1 + text.count("\n", 0, pos)
    expect_item = True
    while True:
        start = ws.match(text, pos).end()
        line += text.count("\n", pos, start)
        if start == len(text):
            yield line, None, "the JSON array is not closed (no ']'); the rest of the file was not read"
            return
        if text[start] == "]":
            if text[start + 1:].strip():
                yield line, None, "text after the JSON array's closing ']' was not read"
            return
        if not expect_item:
            if text[start] != ",":
                yield line, None, ("not valid JSON (expected ',' or ']' between array items); "
                                   "the rest of the file was not read")
                return
            pos, expect_item = start + 1, True
            continue
        try:
            item, end = decoder.raw_decode(text, start)
        except json.JSONDecodeError as exc:
            yield exc.lineno, None, (f"not valid JSON ({exc.msg} at column {exc.colno}); "
                                     "the rest of the file was not read")
            return
        except RecursionError:
            yield line, None, "not valid JSON (nested too deeply); the rest of the file was not read"
            return
        yield line, item, None
        line += text.count("\n", start, end)
        pos, expect_item = end, False


def _jsonl_lines(fh: Iterable[str]) -> Iterator[tuple[int, Any, str | None]]:
    for lineno, line in enumerate(fh, 1):
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield lineno, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:
            yield lineno, None, "not valid JSON (nested too deeply)"


def _csv_rows(fh: TextIO, tabs: bool) -> Iterator[tuple[int, Any, str | None]]:
    reader = csv.DictReader(fh, delimiter="\t" if tabs else ",")
    next_start = 2  # the header is line 1; a quoted cell may span lines, so report where a row starts
    try:
        for row in reader:
            lineno, next_start = next_start, reader.line_num + 1
            if None in row:
                yield lineno, None, "the row has more cells than the header has columns"
                continue
            try:
                yield lineno, _csv_row_to_dict(row), None
            except InputError as exc:
                yield lineno, None, str(exc)
    except csv.Error as exc:
        yield next_start, None, f"not valid CSV ({exc}); the rest of the file was not read"


def _csv_row_to_dict(row: dict[str, str]) -> dict[str, Any]:
    # Labels come as a JSON "labels" cell or as "labels.<scheme>" cells of ';'-separated ids.
    data: dict[str, Any] = {}
    labels: dict[str, list[str]] = {}
    for key, value in row.items():
        key = key.strip()
        if key.startswith("labels."):
            if value and value.strip():
                labels[key[len("labels."):]] = [x.strip() for x in value.replace("|", ";").split(";") if x.strip()]
        elif key in ("labels", "authors", "metadata") and value and value.strip():
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError:
                if key == "authors":
                    data[key] = [a.strip() for a in value.split(";") if a.strip()]
                else:
                    raise InputError(f"column {key!r} is not valid JSON")
        elif key == "gold":
            data[key] = value.strip().lower() in ("1", "true", "yes")
        elif key == "seconds":
            if value.strip():
                try:
                    data[key] = float(value)
                except ValueError:
                    raise InputError(f"column 'seconds' is not a number: {value!r}") from None
        else:
            data[key] = value
    if labels:
        data.setdefault("labels", {}).update(labels)
    return data


def annotations_from_record(record: LabeledRecord, guide: Guide, labeler: str) -> list[Annotation]:
    """The coder's annotations a labeled record carries, with stance targets resolved by the guide.

    A line's `seconds` covers all its schemes (one screen); it is split evenly so hours add up.
    """
    share = None if record.seconds is None else record.seconds / max(1, len(record.labels))
    return [Annotation(article_id=record.article_id, scheme=scheme_name, labels=tuple(labels),
                       labeler=record.labeler or labeler,
                       target=guide.scheme(scheme_name).effective_target(record.target),
                       seconds=share, guide_version=guide.version, gold=record.gold, sample=record.sample)
            for scheme_name, labels in record.labels.items()]


@dataclass
class ImportReport:
    """What an import did: article and annotation counts, and each rejected line with its reason."""

    articles: dict[str, int] = field(default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0})
    annotations: dict[str, int] = field(default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0})
    rejected: list[tuple[str, int, str]] = field(default_factory=list)

    def summary(self) -> str:
        """One line for the terminal."""
        a, n = self.articles, self.annotations
        return (f"articles: {a['new']} new, {a['updated']} updated, {a['unchanged']} unchanged; "
                f"annotations: {n['new']} new, {n['updated']} updated, {n['unchanged']} unchanged; "
                f"rejected lines: {len(self.rejected)}")


def _fill_language(article: Article) -> None:
    """Identify the language of an article whose record gives none, so reports do not count it as unknown."""
    if article.lang is None:
        from newsclf.language import detect_language

        article.lang = detect_language(f"{article.title or ''}\n{article.text}")
        if article.lang:
            article.metadata["lang_detected"] = True  # said so, since the record did not


def import_file(store: Store, path: str | Path, guide: Guide | None = None, labeler: str = "import",
                gold: bool = False, report: ImportReport | None = None, batch_size: int = 500,
                progress: Any = None, only_ids: set[str] | None = None, sample: str | None = None) -> ImportReport:
    """Import a JSONL/CSV file of articles (and labels) into the store; bad lines are reported, good ones kept.

    Lines are committed in batches: a killed import keeps every batch it finished, and a rerun
    changes nothing for lines already imported. `only_ids` keeps just the lines of those articles.
    `sample` names the sample of every label that does not name its own.
    """
    report = report or ImportReport()
    batch: list[LabeledRecord] = []

    def flush() -> None:
        if not batch:
            return
        with store.transaction():
            for record in batch:
                if record.article is not None:
                    report.articles[store.upsert_article(record.article)] += 1
                for ann in annotations_from_record(record, guide, labeler) if guide else []:
                    report.annotations[store.upsert_annotation(ann)] += 1
        batch.clear()

    for result in read_records(path, guide):
        if progress is not None:
            progress.update(1)
        record = result.record
        if record is not None and only_ids is not None and record.article_id not in only_ids:
            continue
        if record is not None and record.labels and guide is None:
            result = LineResult(result.lineno, None, "the line has labels; pass --guide to check them against a label guide")
        elif record is not None and gold:
            record.gold = True
        if record is not None and sample and not record.sample:
            record.sample = sample
        if record is not None and record.article is None and store.get_article(record.article_id) is None \
                and not any(r.article_id == record.article_id and r.article is not None for r in batch):
            result = LineResult(result.lineno, None, f"labels for unknown article id {record.article_id!r}; "
                                                     "import the article (with its text) first")
        if result.error is not None:
            report.rejected.append((source_name(path), result.lineno, result.error))
            continue
        if result.record.article is not None:
            _fill_language(result.record.article)  # here, not inside the store's write transaction
        batch.append(result.record)
        if len(batch) >= batch_size:
            flush()
    flush()
    return report
