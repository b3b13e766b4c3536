"""Batch inputs: JSONL(.gz), CSV(.gz), Parquet and WARC(.gz) files as numbered records.

Each file is read as a sequence of records numbered from 0, so a shard is a file and a range
[start, stop) of record numbers. JSONL records are physical lines (blank lines are numbered but
yield nothing), CSV is never split (a quoted cell may span lines), Parquet rows are split by row
numbers, and WARC records are the HTML response records `iter_warc` yields (pages are extracted
in the worker with the collector's extractor).
"""

from __future__ import annotations

import codecs
import gzip
import json
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Iterator

from newsclf.article import Article
from newsclf.errors import InputError
from newsclf.records import MAX_RECORD_BYTES, file_format

FORMATS = ("jsonl", "csv", "parquet", "warc")
SPLITTABLE = ("jsonl", "parquet", "warc")


def input_format(path: str | Path) -> str:
    """jsonl, csv, parquet or warc by the file's name (before .gz)."""
    name = Path(path).name.lower().removesuffix(".gz")
    if name.endswith((".parquet", ".pq")):
        return "parquet"
    if name.endswith((".warc", ".arc")):
        return "warc"
    try:
        return file_format(path)  # the import formats, named as `newsclf import` names them
    except InputError:
        raise InputError(
            f"{path}: unknown input format; name the file .jsonl, .csv, .parquet or .warc "
            "(optionally .gz)"
        ) from None


@dataclass
class Item:
    """One numbered record: an article to classify, or why there is none."""

    index: int
    article: Article | None = None
    target: str | None = None
    error: str | None = None  # a bad record (counted as rejected)
    not_article: str | None = None  # a WARC page with no article text, or not a 200 answer


def count_records(path: Path, fmt: str) -> tuple[int, str | None, int]:
    """(how many numbered records the file has, a warning if part of it is unreadable, damaged parts
    skipped)."""
    if fmt == "jsonl":
        opener = gzip.open if path.name.lower().endswith(".gz") else open
        n, last = 0, b"\n"
        with opener(path, "rb") as fh:
            while chunk := fh.read(1 << 20):
                n += chunk.count(b"\n")
                last = chunk[-1:]
        return n + (0 if last == b"\n" else 1), None, 0
    if fmt in ("csv", "json"):
        return 1, None, 0  # never split: one shard covers the whole file
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return pq.ParquetFile(path).metadata.num_rows, None, 0
    if fmt == "warc":
        from newsclf.collect.warc import WarcDamage, iter_warc

        damage: list[WarcDamage] = []
        n = sum(1 for _ in iter_warc(path, strict=False, damage=damage))
        if not damage:
            return n, None, 0
        return (
            n,
            (
                f"{path}: {len(damage)} damaged part(s) of the WARC file skipped, the records"
                " around them read: " + "; ".join(d.describe() for d in damage[:5])
            ),
            len(damage),
        )
    raise InputError(f"{path}: unknown input format {fmt!r}")


def iter_items(
    path: Path,
    fmt: str,
    start: int,
    stop: int,
    options: Any = None,
    keep_non_articles: bool = False,
    cap: int = MAX_RECORD_BYTES,
) -> Iterator[Item]:
    """The records numbered start <= i < stop of one file; `options` (ReadOptions) say how to read
    JSONL/CSV.

    A JSONL/CSV/JSON record over `cap` bytes is rejected; WARC pages that are not articles are Items
    saying so.
    """
    if fmt == "jsonl":
        yield from _jsonl(path, start, stop, options, cap)
    elif fmt in ("csv", "json"):
        yield from _whole_file(path, by_item=fmt == "json", options=options, cap=cap)
    elif fmt == "parquet":
        yield from _parquet(path, start, stop)
    elif fmt == "warc":
        yield from _warc(path, start, stop, keep_non_articles)
    else:
        raise InputError(f"{path}: unknown input format {fmt!r}")


def _from_dict(index: int, data: Any, options: Any = None) -> Item:
    from newsclf.records import checked_record

    try:
        record = checked_record(data, None, options)
    except InputError as exc:
        return Item(index, error=str(exc))
    if record.article is None:
        return Item(index, error='the record has no "text"; batch inputs need the article text')
    return Item(index, record.article, record.target)


def _jsonl(
    path: Path, start: int, stop: int, options: Any = None, cap: int = MAX_RECORD_BYTES
) -> Iterator[Item]:
    from newsclf.records import capped_lines, too_long
    from newsclf.textfiles import open_decoded

    with open_decoded(path, options.encoding if options is not None else None) as fh:
        for index, line in enumerate(capped_lines(fh, cap)):
            if index < start:
                continue
            if index >= stop:
                break
            if line is None:
                yield Item(index, error=f"line {index + 1}: {too_long(cap)}")
                continue
            if not line.strip():
                continue
            try:
                data = json.loads(line)
            except json.JSONDecodeError as exc:
                yield Item(
                    index,
                    error=f"line {index + 1}: not valid JSON ({exc.msg} at column {exc.colno})",
                )
                continue
            except RecursionError:
                yield Item(index, error=f"line {index + 1}: not valid JSON (nested too deeply)")
                continue
            item = _from_dict(index, data, options)
            if item.error:
                item.error = f"line {index + 1}: {item.error}"
            yield item


def _whole_file(
    path: Path, by_item: bool, options: Any = None, cap: int = MAX_RECORD_BYTES
) -> Iterator[Item]:
    """A CSV's rows (numbered by line) or a JSON array's items (numbered in order: several may share
    a line)."""
    from newsclf.records import read_records

    for n, result in enumerate(read_records(path, options=options, max_record_bytes=cap)):
        index = n if by_item else result.lineno - 1
        if result.error:
            yield Item(index, error=f"line {result.lineno}: {result.error}")
        elif result.record is None or result.record.article is None:
            yield Item(index, error=f'line {result.lineno}: the record has no "text"')
        else:
            yield Item(index, result.record.article, result.record.target)


def _parquet(path: Path, start: int, stop: int) -> Iterator[Item]:
    import pyarrow.parquet as pq

    pf = pq.ParquetFile(path)
    offset = 0
    for batch in pf.iter_batches(batch_size=1024):
        n = batch.num_rows
        if offset + n <= start:
            offset += n
            continue
        if offset >= stop:
            break
        lo, hi = max(start - offset, 0), min(stop - offset, n)
        for i, row in enumerate(batch.slice(lo, hi - lo).to_pylist(), offset + lo):
            for name in ("authors", "metadata", "labels"):  # JSON cells, as in CSV
                if isinstance(row.get(name), str):
                    try:
                        row[name] = json.loads(row[name]) if row[name] else None
                    except json.JSONDecodeError:
                        pass
            row = {
                k: v.isoformat() if hasattr(v, "isoformat") else v
                for k, v in row.items()
                if v is not None
            }
            item = _from_dict(i, row)
            if item.error:
                item.error = f"row {i}: {item.error}"
            yield item
        offset += n


def _charset(content_type: str) -> str | None:
    for part in content_type.split(";")[1:]:
        key, _, value = part.partition("=")
        if key.strip().lower() == "charset" and value.strip():
            try:
                return codecs.lookup(value.strip().strip("\"'")).name
            except LookupError:
                return None
    return None


def _warc(path: Path, start: int, stop: int, keep_non_articles: bool = False) -> Iterator[Item]:
    from newsclf.collect.extract import ExtractionError, extract
    from newsclf.collect.warc import iter_warc

    for index, page in enumerate(iter_warc(path, strict=False)):
        if index < start:
            continue
        if index >= stop:
            break
        if page.status != 200:
            yield Item(index, not_article=f"{page.url}: HTTP {page.status}")
            continue
        ctype = next((v for k, v in page.headers.items() if k.lower() == "content-type"), "")
        try:
            # A crawl holds every kind of page: one must show an article's marks to be classified.
            article = extract(
                page.body,
                page.url or None,
                fetched_at=page.date or None,
                encoding=_charset(ctype),
                require_article_marks=True,
                keep_non_articles=keep_non_articles,
            )
            if page.truncated:
                article.metadata["truncated_at"] = len(page.body)
        except ExtractionError as exc:
            yield Item(index, not_article=str(exc))
            continue
        except Exception as exc:  # extraction must never stop a shard; the page is reported
            yield Item(index, not_article=f"{page.url}: {type(exc).__name__}: {exc}")
            continue
        yield Item(index, article)


def write_warc(
    path: str | Path, pages: list[tuple[str, bytes]], date: str = "2023-06-01T00:00:00Z"
) -> int:
    """Write (url, html bytes) pairs as WARC response records (gzip per record); for tests and
    benchmarks."""
    import io

    from warcio.statusandheaders import StatusAndHeaders
    from warcio.warcwriter import WARCWriter

    with open(path, "wb") as fh:
        writer = WARCWriter(fh, gzip=str(path).endswith(".gz"))
        for url, body in pages:
            headers = StatusAndHeaders(
                "200 OK",
                [("Content-Type", "text/html; charset=utf-8"), ("Content-Length", str(len(body)))],
                protocol="HTTP/1.1",
            )
            record = writer.create_warc_record(
                url,
                "response",
                payload=io.BytesIO(body),
                length=len(body),
                http_headers=headers,
                warc_headers_dict={"WARC-Date": date},
            )
            writer.write_record(record)
    return len(pages)
