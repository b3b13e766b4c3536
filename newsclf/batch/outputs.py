"""Output files of batch jobs: rows of predictions as JSONL, CSV or Parquet, each file written
atomically.

A file is written under a temporary name in the same folder, flushed to disk, and renamed over
its final name (`os.replace` is atomic on POSIX), so a reader, or a rerun after a kill, sees a
whole file or none. Nested values (`cats`, `labels`, `targets`, `stances`) are JSON cells in CSV and
Parquet, so every format has the same flat columns.
"""

from __future__ import annotations

import csv
import io
import json
import os
from pathlib import Path
from typing import Any, Iterable

FORMATS = ("jsonl", "csv", "parquet")
# Column order of CSV and Parquet files (JSONL lines carry the same keys, those present).
ROW_FIELDS = (
    "id",
    "url",
    "title",
    "outlet",
    "published",
    "lang",
    "model",
    "cats",
    "labels",
    "targets",
    "stances",
    "source",
    "record",
)
JSON_FIELDS = ("cats", "labels", "targets", "stances")


def tmp_name(path: Path) -> Path:
    """Where a file is written before it is renamed to `path` (hidden, unique to this process)."""
    return path.with_name(f".{path.name}.{os.getpid()}.tmp")


def _fsync_dir(directory: Path) -> None:
    try:
        fd = os.open(directory, os.O_RDONLY)
    except OSError:
        return
    try:
        os.fsync(fd)
    except OSError:
        pass
    finally:
        os.close(fd)


def atomic_write_bytes(path: Path, data: bytes) -> None:
    """Write `data` to `path` all at once or not at all (temporary file, fsync, rename)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    tmp = tmp_name(path)
    with open(tmp, "wb") as fh:
        fh.write(data)
        fh.flush()
        os.fsync(fh.fileno())
    os.replace(tmp, path)
    _fsync_dir(path.parent)


def encode_rows(rows: list[dict[str, Any]], fmt: str) -> bytes:
    """Rows as the bytes of a JSONL, CSV or Parquet file."""
    if fmt == "jsonl":
        return "".join(
            json.dumps(row, ensure_ascii=False, sort_keys=False) + "\n" for row in rows
        ).encode("utf-8")
    flat = [_flat(row) for row in rows]
    if fmt == "csv":
        buf = io.StringIO()
        writer = csv.DictWriter(
            buf, fieldnames=list(ROW_FIELDS), extrasaction="ignore", lineterminator="\n"
        )
        writer.writeheader()
        writer.writerows(flat)
        return buf.getvalue().encode("utf-8")
    if fmt == "parquet":
        import pyarrow as pa
        import pyarrow.parquet as pq

        schema = pa.schema(
            [(name, pa.int64() if name == "record" else pa.string()) for name in ROW_FIELDS]
        )
        table = pa.Table.from_pylist(flat, schema=schema)
        sink = pa.BufferOutputStream()
        pq.write_table(table, sink)
        return sink.getvalue().to_pybytes()
    raise ValueError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")


def _flat(row: dict[str, Any]) -> dict[str, Any]:
    out: dict[str, Any] = {}
    for name in ROW_FIELDS:
        value = row.get(name)
        if name in JSON_FIELDS and value is not None:
            value = json.dumps(value, ensure_ascii=False, sort_keys=True)
        out[name] = value
    return out


def write_rows(path: Path, rows: list[dict[str, Any]], fmt: str) -> None:
    """Write rows to `path` atomically in the given format."""
    atomic_write_bytes(path, encode_rows(rows, fmt))


def read_ids(path: Path, fmt: str) -> list[str]:
    """The `id` of every row of an output file, in file order."""
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line)["id"] for line in fh if line.strip()]
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as fh:
            return [row["id"] for row in csv.DictReader(fh)]
    if fmt == "parquet":
        import pyarrow.parquet as pq

        return [str(x) for x in pq.read_table(path, columns=["id"]).column("id").to_pylist()]
    raise ValueError(f"unknown output format {fmt!r}")


def read_rows(path: Path) -> list[dict[str, Any]]:
    """Rows of an output file of any format (JSON cells decoded), for tests and readers."""
    fmt = path.suffix.lstrip(".")
    if fmt == "jsonl":
        with open(path, encoding="utf-8") as fh:
            return [json.loads(line) for line in fh if line.strip()]
    if fmt == "csv":
        with open(path, encoding="utf-8", newline="") as fh:
            rows: Iterable[dict[str, Any]] = list(csv.DictReader(fh))
    elif fmt == "parquet":
        import pyarrow.parquet as pq

        rows = pq.read_table(path).to_pylist()
    else:
        raise ValueError(f"{path}: unknown output format")
    out = []
    for row in rows:
        row = dict(row)
        for name in JSON_FIELDS:
            if row.get(name):
                row[name] = json.loads(row[name])
        out.append(row)
    return out
