"""The incremental feed job behind `newsclf run`: one pass, safe to start from cron every hour.

One pass: take the lock, poll the feeds with the Collector (feed state lives in the store, so
only new entries are fetched), classify every stored article that has no prediction from this
model, store the predictions, and append them to DIR partitioned by publication day (UTC):
DIR/day=2023-05-12/part-20230512T0800Z-4242-0001.jsonl.

Why a kill (SIGKILL, at any point) loses nothing and duplicates nothing:
- collect: a feed entry is marked seen only after its article is stored (see collector.py);
- classify: each batch's predictions are stored in one transaction, keyed by (article, model,
  scheme, target), and only articles without a prediction from this model are classified;
- export: each part file is written to a hidden temporary name and renamed; then the store's
  ledger (tables export_parts, exported) records which articles the part holds, in one
  transaction. At the start of every run the ledger is reconciled with the folder: a part on
  disk the ledger lacks (killed between rename and record) is adopted by reading its ids; a part
  the ledger names but the folder lacks (deleted by hand) is forgotten, so its articles are
  exported again; leftover temporary files are removed. Only then are the pending articles chosen.
- lock: fcntl.flock on `<store>.lock`; the OS drops it when the process dies, so a killed run
  never blocks the next one, and two runs never overlap (the second exits with EXIT_LOCKED).
"""

from __future__ import annotations

import fcntl
import os
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from pathlib import Path
from typing import Any, Callable, Iterator

from newsclf.batch.outputs import FORMATS, read_rows, write_rows
from newsclf.errors import NewsclfError
from newsclf.store import Store

CLASSIFY_BATCH = 256
UNDATED = "undated"


class LockHeld(NewsclfError):
    """Another `newsclf run` on the same store holds the lock."""


class RunLock:
    """An exclusive, non-blocking flock on a file; released on close or when the process dies."""

    def __init__(self, path: str | Path):
        self.path = Path(path)
        self._fd: int | None = None

    def acquire(self) -> "RunLock":
        self.path.parent.mkdir(parents=True, exist_ok=True)
        fd = os.open(self.path, os.O_RDWR | os.O_CREAT, 0o644)
        try:
            fcntl.flock(fd, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            try:
                holder = os.pread(fd, 200, 0).decode("utf-8", "replace").strip()
            finally:
                os.close(fd)
            raise LockHeld(
                f"another newsclf run holds the lock {self.path}"
                + (f" ({holder})" if holder else "")
                + "; this run did nothing, try again later"
            ) from None
        os.ftruncate(fd, 0)
        since = datetime.now(timezone.utc).isoformat(timespec="seconds")
        os.pwrite(fd, f"pid {os.getpid()}, since {since}\n".encode(), 0)
        self._fd = fd
        return self

    def release(self) -> None:
        if self._fd is not None:
            os.close(self._fd)  # closing the last descriptor drops the flock
            self._fd = None

    def __enter__(self) -> "RunLock":
        return self.acquire()

    def __exit__(self, *exc: object) -> None:
        self.release()


def lock_path(db: str | Path) -> Path:
    """The lock file next to the store."""
    return Path(str(db) + ".lock")


@dataclass
class RunSummary:
    """What one pass did."""

    collect_line: str = ""
    collect_failed: list[tuple[str, str]] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    classified: int = 0
    out_of_scope: dict[str, int] = field(default_factory=dict)  # classified but not labeled, by why
    exported: int = 0
    parts: int = 0
    adopted_parts: int = 0
    forgotten_parts: int = 0
    seconds: float = 0.0

    def line(self) -> str:
        """One line a cron log keeps."""
        extra = ""
        if self.adopted_parts or self.forgotten_parts:
            extra = (
                f" (reconciled: {self.adopted_parts} parts adopted, {self.forgotten_parts} missing"
                " re-exported)"
            )
        scope = "".join(f" ({n} {kind})" for kind, n in sorted(self.out_of_scope.items()))
        return (
            f"run: {self.collect_line}; classified {self.classified}{scope}; exported"
            f" {self.exported} in {self.parts} parts{extra}; {self.seconds:.1f} s"
        )


# --- export ---------------------------------------------------------------------------------------


def _part_files(out: Path) -> Iterator[Path]:
    for fmt in FORMATS:
        yield from out.glob(f"day=*/part-*.{fmt}")


def reconcile(store: Store, out: Path, summary: RunSummary | None = None) -> None:
    """Make the store's export ledger agree with the part files in `out` (see the module notes)."""
    key = str(out.resolve())
    for tmp in out.glob("day=*/.part-*.tmp"):  # half-written by a killed run; we hold the lock
        tmp.unlink(missing_ok=True)
    recorded = store.export_parts(key)
    on_disk = {str(p.relative_to(out)): p for p in _part_files(out)}
    missing = [part for part in recorded if part not in on_disk]
    if missing:
        store.forget_export_parts(key, missing)
    for part, path in sorted(on_disk.items()):
        if part in recorded:
            continue
        try:
            rows = read_rows(path)
        except (
            Exception
        ) as exc:  # not a whole part file: set it aside, its articles are exported again
            broken = path.with_name(path.name + ".broken")
            os.replace(path, broken)
            if summary is not None:
                summary.warnings.append(
                    f"{path}: unreadable part file ({exc}); moved to {broken.name}"
                )
            continue
        by_model: dict[str, list[str]] = {}
        for row in rows:
            by_model.setdefault(row.get("model") or "", []).append(row["id"])
        for model_id, ids in by_model.items():
            store.record_export_part(key, part, model_id, ids)
        if summary is not None:
            summary.adopted_parts += 1
    if summary is not None:
        summary.forgotten_parts += len(missing)


def _day(published: str | None) -> str:
    if not published:
        return UNDATED
    try:
        dt = datetime.fromisoformat(published.replace("Z", "+00:00"))
    except ValueError:
        return UNDATED
    return (dt.astimezone(timezone.utc) if dt.tzinfo else dt).date().isoformat()


def _export_row(article: Any, predictions: list[dict[str, Any]], model_id: str) -> dict[str, Any]:
    cats, labels, targets = {}, {}, {}
    for p in predictions:
        cats[p["scheme"]] = p["probabilities"]
        labels[p["scheme"]] = p["labels"]
        if p["target"]:
            targets[p["scheme"]] = p["target"]
    return {
        "id": article.id,
        "url": article.url,
        "title": article.title,
        "outlet": article.outlet,
        "published": article.published,
        "lang": article.lang,
        "model": model_id,
        "cats": cats,
        "labels": labels,
        "targets": targets,
    }


def export_pending(store: Store, out: Path, model_id: str, fmt: str) -> tuple[int, int]:
    """Append the predictions not yet in `out` as one new part per day; returns (articles,
    parts)."""
    key = str(out.resolve())
    ids = store.unexported_article_ids(key, model_id)
    by_day: dict[str, list[dict[str, Any]]] = {}
    for article in store.iter_articles(ids):
        row = _export_row(
            article, store.predictions(article_id=article.id, model_id=model_id), model_id
        )
        by_day.setdefault(_day(article.published), []).append(row)
    stamp = datetime.now(timezone.utc).strftime("%Y%m%dT%H%M%SZ")
    parts = 0
    for day, rows in sorted(by_day.items()):
        rows.sort(key=lambda r: (r["published"] or "", r["id"]))
        parts += 1
        part = f"day={day}/part-{stamp}-{os.getpid()}-{parts:04d}.{fmt}"
        path = out / part
        path.parent.mkdir(parents=True, exist_ok=True)
        write_rows(path, rows, fmt)  # .part-...tmp, fsync, rename
        store.record_export_part(key, part, model_id, [r["id"] for r in rows])
    return len(ids), parts


# --- the pass -------------------------------------------------------------------------------------


def classify_pending(
    store: Store,
    model: Any,
    batch_size: int = CLASSIFY_BATCH,
    on_progress: Callable[[int], None] | None = None,
    any_language: bool = False,
    out_of_scope: dict[str, int] | None = None,
) -> int:
    """Classify the stored articles without a prediction from `model`; each batch stored in one
    transaction.

    Articles the model may not label (language, gate) are counted by kind into `out_of_scope`.
    """
    from newsclf.classify import classify_records, save_predictions

    ids = store.unpredicted_article_ids(model.id)
    for articles, rows in classify_records(
        model,
        store.iter_articles(ids),
        any_language=any_language,
        chunk_size=batch_size,
        out_of_scope=out_of_scope,
    ):
        save_predictions(store, model.id, rows)
        if on_progress is not None:
            on_progress(len(articles))
    return len(ids)


def run_feeds(
    db: str | Path,
    feeds: str,
    model_dir: str | Path,
    out_dir: str | Path | None = None,
    fmt: str = "jsonl",
    min_interval: float = 5.0,
    contact: str | None = None,
    timeout: float = 20.0,
    on_progress: Callable[[str], None] | None = None,
    any_language: bool = False,
) -> RunSummary:
    """One incremental pass (see the module notes). Raises LockHeld if another pass holds the
    store's lock."""
    from newsclf.collect.collector import Collector
    from newsclf.collect.fetch import Fetcher
    from newsclf.model.predict import load_model

    started = time.perf_counter()
    if fmt not in FORMATS:
        raise NewsclfError(f"unknown output format {fmt!r}; use one of {', '.join(FORMATS)}")
    summary = RunSummary()
    progress = on_progress or (lambda _: None)
    with RunLock(lock_path(db)):
        model = load_model(model_dir)
        out = Path(out_dir) if out_dir else None
        with Store(db) as store:
            if out is not None:
                out.mkdir(parents=True, exist_ok=True)
                reconcile(store, out, summary)
            collector = Collector(
                store,
                Fetcher(contact=contact, min_interval=min_interval, timeout=timeout),
                on_progress=lambda article_id: progress("collect"),
            )
            collector.collect_feeds(feeds)
            summary.collect_line = collector.summary.line()
            summary.collect_failed = list(collector.summary.failed)
            summary.warnings += collector.summary.warnings
            summary.classified = classify_pending(
                store,
                model,
                on_progress=lambda n: progress("classify"),
                any_language=any_language,
                out_of_scope=summary.out_of_scope,
            )
            if out is not None:
                summary.exported, summary.parts = export_pending(store, out, model.id, fmt)
    summary.seconds = time.perf_counter() - started
    return summary
