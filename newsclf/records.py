"""Labeled records: an Article plus labels per scheme, read from JSONL or CSV line by line.

A labeled JSONL line is `{"id", "text", "title"?, "lang"?, "outlet"?, "published"?, "target"?,
"labels": {"<scheme>": ["label", ...]}}`; a record's own `target` overrides the scheme's default.
Readers yield a result per line so one bad line is reported and the rest still import.
"""

from __future__ import annotations

import csv
import gzip
import io
import itertools
import json
import re
import sys
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any, Iterable, Iterator, TextIO

from newsclf.article import Article, clean_value
from newsclf.errors import InputError
from newsclf.fields import OutletNames, ReadOptions
from newsclf.guide import Guide
from newsclf.store import SAMPLES, Annotation, Store
from newsclf.textfiles import has_undecodable, open_decoded, sniff_delimiter, undecodable_message

MAX_RECORD_BYTES = (
    10_000_000  # --max-record-bytes: one record (line, array item, CSV row) at most this long
)
_CHUNK = 1 << 16  # characters read at a time by the JSON array scanner
_SKIP = 1 << 20  # characters read at a time through an over-long line


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
        given = {
            "target": self.target,
            "labels": self.labels,
            "labeler": self.labeler,
            "gold": self.gold,
            "sample": self.sample,
        }
        d.update((key, value) for key, value in given.items() if value)  # empty ones are left out
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
            raise InputError(f"labels of scheme {scheme!r} must be a list of label ids")
        out[str(scheme)] = labels
    return out


def record_from_dict(data: dict[str, Any]) -> LabeledRecord:
    """Build a LabeledRecord from a parsed JSON object."""
    if not isinstance(data, dict):
        raise InputError(f"expected a JSON object, got {type(data).__name__}")
    data = clean_value(
        data
    )  # lone surrogates replaced, hostile nesting refused, before anything recurses
    label_only = (
        "text" not in data and isinstance(data.get("id"), (str, int)) and data.get("labels")
    )
    if not label_only and not isinstance(data.get("text"), str):
        raise InputError(
            'missing "text" (a string); a line with only labels needs "id" and "labels"'
        )
    target = data.get("target")
    if target is not None and not isinstance(target, str):
        raise InputError('"target" must be a string')
    seconds = data.get("seconds")
    if seconds is not None and not isinstance(seconds, (int, float)):
        raise InputError('"seconds" must be a number')
    sample = data.get("sample") or None
    if sample is not None and sample not in SAMPLES:
        raise InputError(f'"sample" must be one of {", ".join(SAMPLES)}; got {sample!r}')
    return LabeledRecord(
        article=None if label_only else Article.from_dict(data),
        article_id=str(data.get("id", "")),
        labels=_labels_from(data.get("labels")),
        target=target or None,
        labeler=data.get("labeler") or None,
        gold=bool(data.get("gold", False)),
        seconds=seconds,
        sample=sample,
    )


def check_labels(guide: Guide, scheme_name: str, labels: list[str]) -> None:
    """Raise InputError if the guide lacks the scheme or a label, or a single-choice scheme gets
    other than one."""
    try:
        scheme = guide.scheme(scheme_name)
    except KeyError as exc:
        raise InputError(str(exc.args[0])) from None
    unknown = [x for x in labels if x not in scheme.label_ids]
    if unknown:
        raise InputError(
            f"scheme {scheme_name!r} has no label {unknown[0]!r}; "
            f"its labels are {', '.join(scheme.label_ids)}"
        )
    if scheme.kind == "single" and len(labels) != 1:
        raise InputError(f"scheme {scheme_name!r} takes exactly one label, got {len(labels)}")
    alone = [x for x in labels if x in scheme.exclusive_ids]
    if alone and len(set(labels)) > 1:
        raise InputError(
            f"label {alone[0]!r} of scheme {scheme_name!r} is never combined with another label "
            f"(the guide marks it exclusive); got {', '.join(labels)}"
        )


def validate_labels(record: LabeledRecord, guide: Guide) -> None:
    """Raise InputError if a record names a scheme or label the guide lacks, or breaks a single
    scheme."""
    for scheme_name, labels in record.labels.items():
        check_labels(guide, scheme_name, labels)


def open_text(path: str | Path) -> TextIO:
    """Open a (possibly gzipped) UTF-8 text file; undecodable bytes become U+FFFD rather than a
    crash."""
    path = Path(path)
    if path.suffix == ".gz":
        return io.TextIOWrapper(
            gzip.open(path, "rb"), encoding="utf-8", errors="replace", newline=""
        )
    return open(path, encoding="utf-8-sig", errors="replace", newline="")


def file_format(path: str | Path) -> str:
    """'jsonl' or 'csv' by the file's suffix (before .gz)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".jsonl", ".ndjson", ".json")):
        return "jsonl"
    if name.endswith((".csv", ".tsv")):
        return "csv"
    raise InputError(f"{path}: unknown format; name the file .jsonl or .csv (optionally .gz)")


STDIN = "-"  # the path that names standard input (read as JSONL), so that commands sit in a pipe


def source_name(path: str | Path) -> str:
    """How messages name an input: its path, or <stdin>."""
    return "<stdin>" if str(path) == STDIN else str(path)


def read_records(
    path: str | Path,
    guide: Guide | None = None,
    options: ReadOptions | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> Iterator[LineResult]:
    """Yield a LineResult per record of a JSONL or CSV file (`-`: JSONL on stdin), labels checked
    against `guide`.

    `options` say how to read a researcher's file: encoding, CSV delimiter, column map, date order
    and zone.
    A record longer than `max_record_bytes` is skipped (reported) while streaming, never held whole.
    """
    options = options or ReadOptions()
    stdin = str(path) == STDIN
    fmt = "jsonl" if stdin else file_format(path)
    cap = max_record_bytes
    with open_decoded(path, options.encoding, options.on_notice) as fh:
        if fmt == "jsonl":
            source = _json_records(fh, cap)
        else:
            tabs = str(path).lower().endswith((".tsv", ".tsv.gz"))
            source = _csv_rows(fh, tabs, options.delimiter, cap)
        for lineno, data, error in source:
            if error is None:
                try:
                    record = checked_record(data, guide, options)
                except InputError as exc:
                    error = str(exc)
            yield LineResult(lineno, None, error) if error else LineResult(lineno, record)


def checked_record(
    data: Any, guide: Guide | None = None, options: ReadOptions | None = None
) -> LabeledRecord:
    """One parsed line as a record: bytes its encoding could not read, columns, date and labels
    checked."""
    options = options or ReadOptions()
    if has_undecodable(data):
        raise InputError(undecodable_message(options.encoding))
    data = options.prepare(data)
    try:
        record = record_from_dict(data)
    except InputError as exc:
        if isinstance(data, dict) and "text" not in data and str(exc).startswith('missing "text"'):
            columns = ", ".join(list(map(str, data))[:12])
            raise InputError(
                f"{exc}; this line has {columns}: name the text column with --map text=COLUMN"
            ) from None
        raise
    if guide is not None:
        validate_labels(record, guide)
    return record


def too_long(cap: int) -> str:
    """The message for a record over the cap."""
    return f"the record is longer than {cap:,} bytes (--max-record-bytes); it was skipped"


def capped_lines(fh: TextIO, cap: int = MAX_RECORD_BYTES, first: str = "") -> Iterator[str | None]:
    """Each line of fh (`first` is put before the first), or None for a line over `cap` characters.

    An over-long line is read through in chunks and dropped, so a 2 GiB line (or a gz bomb of one)
    costs the cap plus a chunk of memory, and the lines after it are still read.
    """
    line = first + fh.readline(max(1, cap + 1 - len(first))) if first else fh.readline(cap + 1)
    while line:
        if len(line) > cap and not line.endswith(("\n", "\r")):
            while (rest := fh.readline(_SKIP)) and not rest.endswith(("\n", "\r")):
                pass
            yield None
        else:
            yield line
        line = fh.readline(cap + 1)


def _sniff(fh: TextIO) -> tuple[int, str]:
    """(newlines skipped, the first non-blank character or '') read off the start of fh, in constant
    memory."""
    newlines = 0
    while (c := fh.read(1)) and c.isspace():
        newlines += c == "\n"
    return newlines, c


def is_json_array(path: str | Path) -> bool:
    """True when the file's first non-blank character is '[': one JSON array of records, not
    JSONL."""
    with open_text(path) as fh:
        return _sniff(fh)[1] == "["


def _json_records(fh: TextIO, cap: int = MAX_RECORD_BYTES) -> Iterator[tuple[int, Any, str | None]]:
    """(line, object, error) per JSONL line; or per item when the file is one JSON array (its first
    character '[')."""
    skipped, first = _sniff(fh)
    if first == "[":
        # Many tools export `[{...}, {...}]` and name it .json: streamed item by item, each under
        # the cap.
        yield from _json_array_items(fh, cap, 1 + skipped)
    elif first:
        yield from _jsonl_lines(capped_lines(fh, cap, first), 1 + skipped, cap)


# Possessive (*+) throughout: a string with no closing quote in this chunk stops the match at its
# quote at once instead of backtracking.
_STRING = r'"[^"\\]*+(?:\\.[^"\\]*+)*+"'
_SKIP_TOP = re.compile(
    r'(?:[^"\[\]{},]++|' + _STRING + r")*+", re.S
)  # up to a bracket, comma or open string
_SKIP_NESTED = re.compile(
    r'(?:[^"\[\]{}]++|' + _STRING + r")*+", re.S
)  # inside an item: commas too
_STRING_REST = re.compile(
    r'[^"\\]*+(?:\\.[^"\\]*+)*+"', re.S
)  # the end of a string begun in an earlier chunk


def _odd_backslashes(chunk: str, start: int) -> bool:
    """Whether chunk[start:] ends in an odd run of backslashes (its last one escapes the next
    chunk's first)."""
    tail = chunk[start:]
    return (len(tail) - len(tail.rstrip("\\"))) % 2 == 1


class _ArrayItem:
    """The text of one top-level array item as it streams in; dropped (only counted) once it passes
    the cap."""

    def __init__(self, cap: int, line: int) -> None:
        self.cap, self.start, self.line, self.first_line = cap, line, line, 0
        self.parts: list[str] = []
        self.size = 0

    def take(self, text: str) -> None:
        if not self.first_line and (stripped := text.lstrip()):
            self.first_line = self.line + text.count("\n", 0, len(text) - len(stripped))
        self.line += text.count("\n")
        self.size += len(text)
        if self.size > self.cap:
            self.parts.clear()
        else:
            self.parts.append(text)

    def result(self) -> tuple[tuple[int, Any, str | None], bool]:
        """((line, item or None, error), whether the error ends the file)."""
        line = self.first_line or self.line
        if self.size > self.cap:
            return (
                line,
                None,
                too_long(self.cap),
            ), False  # its structure was followed: the next item is sound
        text = "".join(self.parts)
        if not text.strip():
            return (
                line,
                None,
                "not valid JSON (an empty item between commas); the rest of the file was not read",
            ), True
        try:
            return (line, json.loads(text), None), False
        except json.JSONDecodeError as exc:
            return (
                self.start + exc.lineno - 1,
                None,
                (
                    f"not valid JSON ({exc.msg} at column {exc.colno}); the rest of the file was"
                    " not read"
                ),
            ), True
        except RecursionError:
            return (
                line,
                None,
                "not valid JSON (nested too deeply); the rest of the file was not read",
            ), True


def _json_array_items(fh: TextIO, cap: int, line: int) -> Iterator[tuple[int, Any, str | None]]:
    """(line where the item starts, item or None, error) per item of a JSON array whose '[' was read
    off fh.

    A scanner follows strings and brackets chunk by chunk to find the top-level commas, so memory
    is one item (at most the cap) whatever the file's size; an item over the cap is skipped and
    reported, and a syntax error ends the file (its structure is lost from there), named by line.
    """
    item = _ArrayItem(cap, line)
    depth, in_string, escape = 0, False, False
    while chunk := fh.read(_CHUNK):
        pos = start = 0  # start: where the part of this chunk not yet given to `item` begins
        if in_string:
            m = (
                _STRING_REST.match(chunk, int(escape)) if '"' in chunk else None
            )  # `in`: a fast scan
            if m is None:  # the string goes on past this chunk
                escape = _odd_backslashes(chunk, int(escape))
                item.take(chunk)
                continue
            in_string, escape, pos = False, False, m.end()
        while True:
            # Past everything but brackets (and, at the top level, commas) in one C-level match.
            pos = (_SKIP_TOP if depth == 0 else _SKIP_NESTED).match(chunk, pos).end()
            if pos == len(chunk):
                item.take(chunk[start:])
                break
            c = chunk[pos]
            if c == '"':  # a string that ends in a later chunk
                in_string, escape = True, _odd_backslashes(chunk, pos + 1)
                item.take(chunk[start:])
                break
            if depth == 0 and c in ",]":
                item.take(chunk[start:pos])
                if item.first_line or c == ",":
                    result, fatal = item.result()
                    yield result
                    if fatal:
                        return
                if c == "]":
                    yield from _after_array(item.line, chunk[pos + 1 :], fh)
                    return
                item, pos = _ArrayItem(cap, item.line), pos + 1
                start = pos
                continue
            depth = depth + 1 if c in "[{" else max(0, depth - 1)
            pos += 1
    yield (
        item.first_line or item.line,
        None,
        "the JSON array is not closed (no ']'); the rest of the file was not read",
    )


def _after_array(line: int, rest: str, fh: TextIO) -> Iterator[tuple[int, Any, str | None]]:
    while True:
        if rest.strip():
            yield line, None, "text after the JSON array's closing ']' was not read"
            return
        line += rest.count("\n")
        if not (rest := fh.read(_CHUNK)):
            return


def _jsonl_lines(
    lines: Iterable[str | None], start: int = 1, cap: int = MAX_RECORD_BYTES
) -> Iterator[tuple[int, Any, str | None]]:
    """(line, object, error) per non-blank line; None stands for a line over the cap (see
    capped_lines)."""
    for lineno, line in enumerate(lines, start):
        if line is None:
            yield lineno, None, too_long(cap)
            continue
        if not line.strip():
            continue
        try:
            yield lineno, json.loads(line), None
        except json.JSONDecodeError as exc:
            yield lineno, None, f"not valid JSON ({exc.msg} at column {exc.colno})"
        except RecursionError:
            yield lineno, None, "not valid JSON (nested too deeply)"


def _csv_rows(
    fh: TextIO, tabs: bool, delimiter: str | None = None, cap: int = MAX_RECORD_BYTES
) -> Iterator[tuple[int, Any, str | None]]:
    """(line where the row starts, row as a dict, error) per CSV row; the delimiter sniffed from the
    header unless given.

    The cap holds per physical line (an over-long one is read through and stands as a blank line,
    reported) and per cell (csv's field size limit, so a quoted cell spanning lines is capped too).
    """
    long_lines: list[int] = []

    def lines() -> Iterator[str]:
        for n, line in enumerate(capped_lines(fh, cap), 1):
            if line is None:
                long_lines.append(n)
            yield "\n" if line is None else line

    csv.field_size_limit(min(cap, sys.maxsize))
    physical = lines()
    header = next(physical, "")
    if delimiter is None:
        delimiter = sniff_delimiter(header) if header.strip() or not tabs else "\t"
        if tabs and "\t" in header:
            delimiter = "\t"
    # strict: a quote opened and never closed is an error, not the rest of the file read into one
    # cell.
    reader = csv.DictReader(itertools.chain([header], physical), delimiter=delimiter, strict=True)
    next_start = (
        2  # the header is line 1; a quoted cell may span lines, so report where a row starts
    )
    while True:
        try:
            row = next(reader)
        except StopIteration:
            break
        except csv.Error as exc:  # the reader goes on at the next line
            lineno, next_start = next_start, reader.line_num + 1
            if "unexpected end of data" in str(exc):
                yield (
                    lineno,
                    None,
                    (
                        "not valid CSV: a quoted cell that starts in this row is never closed, so "
                        'the rest of the file was not read; close the quote (or double it: "")'
                    ),
                )
            elif "field larger than field limit" in str(exc):
                # Inside a quoted cell over the cap the reader cannot find where the row ends: stop
                # here.
                yield (
                    lineno,
                    None,
                    (
                        f"not valid CSV ({exc}); a cell is longer than --max-record-bytes, so the "
                        "rest of the file was not read"
                    ),
                )
                break
            else:
                yield lineno, None, f"not valid CSV ({exc}); the rest of the row was not read"
            continue
        while long_lines:
            yield long_lines.pop(0), None, too_long(cap)
        lineno, next_start = next_start, reader.line_num + 1
        if None in row:
            yield (
                lineno,
                None,
                (
                    "the row has more cells than the header has columns "
                    f"(read with delimiter {delimiter!r}; --delimiter to force another)"
                ),
            )
            continue
        try:
            yield lineno, _csv_row_to_dict(row), None
        except InputError as exc:
            yield lineno, None, str(exc)
    for n in long_lines:
        yield n, None, too_long(cap)


def _csv_row_to_dict(row: dict[str, str]) -> dict[str, Any]:
    # Labels come as a JSON "labels" cell or as "labels.<scheme>" cells of ';'-separated ids.
    data: dict[str, Any] = {}
    labels: dict[str, list[str]] = {}
    for key, value in row.items():
        key = key.strip()
        if key.startswith("labels."):
            if value and value.strip():
                labels[key[len("labels.") :]] = [
                    x.strip() for x in value.replace("|", ";").split(";") if x.strip()
                ]
        elif key in ("labels", "authors", "metadata") and value and value.strip():
            try:
                data[key] = json.loads(value)
            except json.JSONDecodeError:
                if key == "authors":
                    data[key] = [a.strip() for a in value.split(";") if a.strip()]
                else:
                    raise InputError(f"column {key!r} is not valid JSON") from None
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
    return [
        Annotation(
            article_id=record.article_id,
            scheme=scheme_name,
            labels=tuple(labels),
            labeler=record.labeler or labeler,
            target=guide.scheme(scheme_name).effective_target(record.target),
            seconds=share,
            guide_version=guide.version,
            gold=record.gold,
            sample=record.sample,
        )
        for scheme_name, labels in record.labels.items()
    ]


CONFLICT_POLICIES = ("keep", "replace", "error")


@dataclass
class ImportReport:
    """What an import did: article and annotation counts, conflicts, and each rejected line with its
    reason."""

    articles: dict[str, int] = field(
        default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0}
    )
    annotations: dict[str, int] = field(
        default_factory=lambda: {"new": 0, "updated": 0, "unchanged": 0}
    )
    rejected: list[tuple[str, int, str]] = field(default_factory=list)
    conflicts: list[tuple[str, int, str]] = field(
        default_factory=list
    )  # (file, line, what was done)

    def summary(self) -> str:
        """One line for the terminal."""
        a, n = self.articles, self.annotations
        return (
            f"articles: {a['new']} new, {a['updated']} updated, {a['unchanged']} unchanged, "
            f"{len(self.conflicts)} conflicts; "
            f"annotations: {n['new']} new, {n['updated']} updated, {n['unchanged']} unchanged; "
            f"rejected lines: {len(self.rejected)}"
        )


def _fill_language(article: Article) -> None:
    """Identify the language of an article whose record gives none, so reports do not count it as
    unknown."""
    if article.lang is None:
        from newsclf.language import detect_language

        article.lang = detect_language(f"{article.title or ''}\n{article.text}")
        if article.lang:
            article.metadata["lang_detected"] = True  # said so, since the record did not


def _canonical_outlet(article: Article, outlets: OutletNames) -> None:
    """Give the article its outlet's canonical name, keeping the spelling the file had in
    metadata."""
    if article.outlet:
        name = outlets.canonical(article.outlet)
        if name != article.outlet:
            article.metadata.setdefault("outlet_original", article.outlet)
            article.outlet = name


def import_file(
    store: Store,
    path: str | Path,
    guide: Guide | None = None,
    labeler: str = "import",
    gold: bool = False,
    report: ImportReport | None = None,
    batch_size: int = 500,
    progress: Any = None,
    only_ids: set[str] | None = None,
    options: ReadOptions | None = None,
    on_conflict: str = "keep",
    outlets: OutletNames | None = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
    sample: str | None = None,
) -> ImportReport:
    """Import a JSONL/CSV file of articles (and labels) into the store; bad lines are reported, good
    ones kept.

    Lines are committed in batches: a killed import keeps every batch it finished, and a rerun
    changes nothing for lines already imported. `only_ids` keeps just the lines of those articles.
    An id already stored (or earlier in the file) with another title or text is a conflict:
    `on_conflict` keep (the stored one, reported), replace (reported) or error (the line is
    rejected).
    Outlet names are made canonical by `outlets` (case, spaces and `www.` folded; aliases).
    `sample` names the sample of every label that does not name its own.
    """
    if on_conflict not in CONFLICT_POLICIES:
        raise InputError(
            f"on_conflict must be one of {', '.join(CONFLICT_POLICIES)}, not {on_conflict!r}"
        )
    report = report or ImportReport()
    if outlets is None:
        outlets = OutletNames()
    outlets.learn(store.outlet_names())
    source = source_name(path)
    first_line: dict[str, int] = {}  # article id -> the line of this file that brought it
    batch: list[tuple[int, LabeledRecord]] = []

    def conflict(lineno: int, record: LabeledRecord) -> bool:
        """True when the line is to be skipped: its id is stored (or earlier in the file) with other
        content."""
        article = record.article
        old = store.get_article(article.id)
        if old is None or old.content_hash == article.content_hash:
            return False
        earlier = (
            f"line {first_line[article.id]} of this file"
            if article.id in first_line
            else "the stored article"
        )
        what = f"id {article.id!r} has another title or text than {earlier}"
        if on_conflict == "error":
            report.rejected.append(
                (source, lineno, f"{what} (--on-conflict keep or replace to go on)")
            )
            return True
        if on_conflict == "keep":
            report.conflicts.append(
                (
                    source,
                    lineno,
                    f"{what}; kept the stored one (--on-conflict replace to take this line's)",
                )
            )
            return True
        report.conflicts.append((source, lineno, f"{what}; replaced it with this line's"))
        return False

    def flush() -> None:
        if not batch:
            return
        with store.transaction():
            for lineno, record in batch:
                if record.article is not None:
                    if conflict(lineno, record):
                        continue
                    first_line.setdefault(record.article.id, lineno)
                    report.articles[store.upsert_article(record.article)] += 1
                for ann in annotations_from_record(record, guide, labeler) if guide else []:
                    report.annotations[store.upsert_annotation(ann)] += 1
        batch.clear()

    for result in read_records(path, guide, options, max_record_bytes):
        if progress is not None:
            progress.update(1)
        record = result.record
        if record is not None and only_ids is not None and record.article_id not in only_ids:
            continue
        if record is not None and record.labels and guide is None:
            result = LineResult(
                result.lineno,
                None,
                "the line has labels; pass --guide to check them against a label guide",
            )
        elif record is not None and gold:
            record.gold = True
        if record is not None and sample and not record.sample:
            record.sample = sample
        if (
            record is not None
            and record.article is None
            and store.get_article(record.article_id) is None
            and not any(
                r.article_id == record.article_id and r.article is not None for _, r in batch
            )
        ):
            result = LineResult(
                result.lineno,
                None,
                f"labels for unknown article id {record.article_id!r}; "
                "import the article (with its text) first",
            )
        if result.error is not None:
            report.rejected.append((source, result.lineno, result.error))
            continue
        if result.record.article is not None:
            _fill_language(result.record.article)  # here, not inside the store's write transaction
            _canonical_outlet(result.record.article, outlets)
        batch.append((result.lineno, result.record))
        if len(batch) >= batch_size:
            flush()
    flush()
    return report
