"""Shard processing over many files, on a local process pool or on Dask, behind one small executor
interface.

A shard is one input file, or a range of its records (`shard_size` of them) when the format can
be split. Each shard is one task: a worker reads its records, extracts WARC pages on the fly,
classifies the texts in batches with the model (loaded by path once per worker process) and
writes one output file, rows sorted by (id, record number) so every engine writes the same bytes.

Rerun safety: an output is written to a temporary name and renamed, then a `.done` marker
(also written atomically) records the shard's record and row counts. A rerun skips a shard whose
marker and output both exist and agree; a kill between the two only means that shard is done
again. `DIR/_batch.json` holds the model id and shard size a folder was started with, so a rerun
with other settings cannot mix two kinds of shard in one folder. Inputs are taken to be immutable:
a file that grows between runs gets a last shard with another range (append to new files instead).

    engine = make_engine("dask", workers=4)            # or "local"; Dask may join scheduler="tcp://..."
    for result in engine.map_unordered(fn, tasks):      # results as tasks finish
        ...
    engine.close()
"""

from __future__ import annotations

import hashlib
import json
import multiprocessing
import os
import re
import sys
import threading
import time
from dataclasses import dataclass, field, replace
from pathlib import Path
from typing import Any, Callable, Iterable, Iterator, Protocol

from newsclf.batch.inputs import SPLITTABLE, count_records, input_format, iter_items
from newsclf.batch.outputs import atomic_write_bytes, write_rows
from newsclf.errors import InputError, NewsclfError
from newsclf.records import MAX_RECORD_BYTES, is_json_array

SETTINGS_FILE = "_batch.json"
DEFAULT_SHARD_SIZE = 2000
DEFAULT_BATCH_SIZE = 256
ENGINES = ("local", "dask")


# --- executors ----------------------------------------------------------------------------------


class Engine(Protocol):
    """What run_batch needs of an executor: run fn over tasks, yield results as they finish."""

    workers: int
    startup_seconds: float

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]: ...

    def close(self) -> None: ...


def _exit_with_parent(parent: int) -> None:
    """Worker initializer: die with the parent, so a SIGKILLed batch leaves no orphan workers."""
    try:  # Linux: the kernel sends SIGKILL when the parent dies
        import ctypes
        import signal

        ctypes.CDLL("libc.so.6", use_errno=True).prctl(1, signal.SIGKILL)  # PR_SET_PDEATHSIG
    except Exception:
        pass

    def watch() -> None:  # elsewhere (and as a fallback): poll for the parent
        while os.getppid() == parent:
            time.sleep(1.0)
        os._exit(1)

    threading.Thread(target=watch, daemon=True).start()
    if os.getppid() != parent:
        os._exit(1)


def _init_worker(parent: int, threads: int) -> None:
    """Worker initializer: die with the parent, and share the cores with the other workers."""
    _exit_with_parent(parent)
    # n workers x all cores would oversubscribe. The variables size the pools a spawned worker
    # starts; a pool a
    # forked worker inherits keeps its size (torch's is set below; the linear model caps BLAS
    # itself).
    for var in ("OMP_NUM_THREADS", "MKL_NUM_THREADS", "OPENBLAS_NUM_THREADS"):
        os.environ[var] = str(threads)
    if "torch" in sys.modules:  # inherited from a forked parent
        sys.modules["torch"].set_num_threads(threads)


def forks_safely(model_path: str | Path) -> bool:
    """Whether workers forked after the parent loaded this model work: not an encoder's (torch's
    OpenMP
    thread pool, started by the parent's first prediction, leaves a forked child hung in its first
    one).
    """
    try:
        meta = _model_meta(model_path)
    except (OSError, ValueError):
        return True  # not a model folder: loading it fails with the real error
    return meta.get("backend", "linear") == "linear"


def _model_meta(model_path: str | Path) -> dict[str, Any]:
    """The model folder's meta.json (OSError or ValueError when missing or unreadable)."""
    from newsclf.model.files import META_FILE

    return json.loads((Path(model_path) / META_FILE).read_text(encoding="utf-8"))


class LocalEngine:
    """A concurrent.futures.ProcessPoolExecutor with `workers` processes.

    Given `model_path`, a linear model is loaded here once and inherited by forked workers
    (copy-on-write,
    no per-worker load); an encoder model is loaded by each worker, started with spawn.
    """

    def __init__(self, workers: int = 0, model_path: str | Path | None = None):
        from concurrent.futures import ProcessPoolExecutor

        started = time.perf_counter()
        self.workers = workers or os.cpu_count() or 1
        context = None
        if model_path is not None and multiprocessing.get_start_method() == "fork":
            if forks_safely(model_path):
                get_model(str(model_path))
            else:
                context = multiprocessing.get_context("spawn")
        threads = max(1, (os.cpu_count() or 1) // self.workers)
        self._pool = ProcessPoolExecutor(
            max_workers=self.workers,
            mp_context=context,
            initializer=_init_worker,
            initargs=(os.getpid(), threads),
        )
        self.startup_seconds = time.perf_counter() - started

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        from concurrent.futures import as_completed

        futures = [self._pool.submit(fn, task) for task in tasks]
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        self._pool.shutdown(wait=True, cancel_futures=True)


class DaskEngine:
    """A dask.distributed Client on a new LocalCluster (one thread per worker process) or an
    existing scheduler."""

    def __init__(self, workers: int = 0, scheduler: str | None = None):
        try:
            import logging

            from dask.distributed import Client, LocalCluster
        # dask is a dependency, but a trimmed install may lack it
        except ImportError:  # pragma: no cover
            raise NewsclfError(
                "--engine dask needs dask.distributed: pip install 'dask[distributed]'"
            ) from None
        started = time.perf_counter()
        self.cluster = None
        if scheduler:
            self.client = Client(scheduler)
            self.workers = len(self.client.scheduler_info().get("workers", {})) or workers or 1
        else:
            self.workers = workers or os.cpu_count() or 1
            self.cluster = LocalCluster(
                n_workers=self.workers,
                threads_per_worker=1,
                processes=True,
                dashboard_address=None,
                silence_logs=logging.ERROR,
            )
            self.client = Client(self.cluster)
            self.client.wait_for_workers(self.workers)
        self.startup_seconds = time.perf_counter() - started

    def map_unordered(self, fn: Callable[[Any], Any], tasks: Iterable[Any]) -> Iterator[Any]:
        from dask.distributed import as_completed

        tasks = list(tasks)
        if not tasks:
            return
        # pure=False: two tasks never share a result; retries=1 survives a worker lost mid-task.
        futures = self.client.map(fn, tasks, pure=False, retries=1)
        for future in as_completed(futures):
            yield future.result()

    def close(self) -> None:
        self.client.close()
        if self.cluster is not None:
            self.cluster.close()


def make_engine(
    name: str, workers: int = 0, scheduler: str | None = None, model_path: str | Path | None = None
) -> Engine:
    """The executor called `name` ('local' or 'dask'); `model_path` lets the local one preload a
    model."""
    if name == "local":
        if scheduler:
            raise InputError("--scheduler needs --engine dask")
        return LocalEngine(workers, model_path)
    if name == "dask":
        return DaskEngine(workers, scheduler)
    raise InputError(f"unknown engine {name!r}; use local or dask")


# --- shards -------------------------------------------------------------------------------------


@dataclass(frozen=True)
class Shard:
    """Records start <= i < stop of one input file, and where its output goes."""

    path: str
    fmt: str
    start: int
    stop: int
    name: str  # output file name without suffix

    def output(self, out_dir: Path, out_fmt: str) -> Path:
        return out_dir / f"{self.name}.{out_fmt}"

    def marker(self, out_dir: Path) -> Path:
        return out_dir / f"{self.name}.done"


@dataclass(frozen=True)
class Task:
    """A shard plus what a worker needs to process it (picklable; sent to the worker)."""

    shard: Shard
    model_path: str
    out_dir: str
    out_fmt: str
    batch_size: int
    any_language: bool = False
    keep_non_articles: bool = False
    # ReadOptions for JSONL/CSV inputs (encoding, delimiter, column map, dates), without on_notice
    read: Any = None
    max_record_bytes: int = MAX_RECORD_BYTES


@dataclass(kw_only=True)
class Tally:
    """What records came to: counted per shard, summed over a batch."""

    records: int = 0  # records read (articles, bad records and non-article pages)
    rows: int = 0  # articles classified and written
    rejected: int = 0  # bad records (malformed JSON, no text, ...)
    not_articles: int = 0  # WARC pages with no article text, or not a 200 answer
    # classified, but not labeled: why (language, gate) -> how many
    out_of_scope: dict[str, int] = field(default_factory=dict)
    examples: list[str] = field(default_factory=list)  # the first few problems, for the report
    # why records were not classified or labeled, by kind -> how many
    reasons: dict[str, int] = field(default_factory=dict)
    seconds: float = 0.0


@dataclass(kw_only=True)
class ShardResult(Tally):
    """What one shard gave."""

    name: str
    error: str | None = None  # the shard failed as a whole (unreadable file, ...)
    skipped: bool = False  # finished by an earlier run


def _shard_name(path: Path, start: int, stop: int, splittable: bool) -> str:
    key = hashlib.sha1(str(path.resolve()).encode("utf-8")).hexdigest()[:8]
    base = "".join(c if c.isalnum() or c in "-_." else "_" for c in path.name)
    return f"{base}~{key}" + (f".{start:09d}-{stop:09d}" if splittable else "")


def plan_shards(
    inputs: Iterable[str | Path], shard_size: int = DEFAULT_SHARD_SIZE
) -> tuple[list[Shard], list[str], int]:
    """Shards of every input, in input order; a warning per file that is partly unreadable; damaged
    parts skipped."""
    shards: list[Shard] = []
    warnings: list[str] = []
    damaged_parts = 0
    for raw in inputs:
        path = Path(raw)
        fmt = input_format(path)
        if not path.is_file():
            raise InputError(f"{path}: no such file")
        if fmt == "jsonl" and is_json_array(path):
            fmt = "json"  # one JSON array (a .json export): read whole as one shard, as CSV is
        total, warning, damaged = count_records(path, fmt)
        if warning:
            warnings.append(warning)
            damaged_parts += damaged
        if fmt not in SPLITTABLE:
            shards.append(Shard(str(path), fmt, 0, sys.maxsize, _shard_name(path, 0, 0, False)))
            continue
        for start in range(0, max(total, 1), shard_size):
            stop = min(start + shard_size, total)
            shards.append(Shard(str(path), fmt, start, stop, _shard_name(path, start, stop, True)))
    return shards, warnings, damaged_parts


def select_shards(shards: list[Shard], index: int | None, count: int | None) -> list[Shard]:
    """This job's share when the work is split over `count` jobs (e.g. a Slurm job array): every
    count-th shard."""
    if count is None:
        return shards
    return [s for i, s in enumerate(shards) if i % count == index]


def is_done(shard: Shard, out_dir: Path, out_fmt: str) -> ShardResult | None:
    """The recorded result of a finished shard, or None if it has to be (re)done."""
    marker, output = shard.marker(out_dir), shard.output(out_dir, out_fmt)
    try:
        data = json.loads(marker.read_text(encoding="utf-8"))
        size = output.stat().st_size
    except (OSError, ValueError):
        return None
    if data.get("bytes") != size or data.get("format") != out_fmt:
        return None
    return ShardResult(
        name=shard.name,
        records=data["records"],
        rows=data["rows"],
        rejected=data["rejected"],
        not_articles=data["not_articles"],
        out_of_scope=data.get("out_of_scope", {}),
        reasons=data.get("reasons", {}),
        skipped=True,
    )


# --- the worker side ----------------------------------------------------------------------------

_MODELS: dict[str, Any] = {}  # model directory -> loaded Model, once per worker process


def get_model(path: str) -> Any:
    """The model at `path`, loaded on first use in this process."""
    key = str(Path(path).resolve())
    if key not in _MODELS:
        from newsclf.article import Article
        from newsclf.model.predict import load_model

        model = load_model(key)
        # Warm up: the tokenizers, trafilatura and the language-id model load on first use; do it
        # now,
        # once per worker, not inside the first shard (a spawned Dask worker would pay it there).
        model.predict(
            [
                Article(id="warm-en", text="warm up", lang="en"),
                Article(id="warm-id", text="pemanasan", lang="id"),
            ]
        )
        _warm_extraction()
        _MODELS[key] = model
    return _MODELS[key]


def _warm_extraction() -> None:
    from newsclf.collect.extract import ExtractionError, extract

    page = (
        "<html><head><title>Warm up</title></head><body><article><p>"
        + "This short page exists to load the extraction and language-id libraries once. " * 4
        + "</p></article></body></html>"
    )
    try:
        extract(page, "https://warm-up.invalid/page")
    except ExtractionError:
        pass  # only the imports and model loads matter here


def warm_worker(model_path: str) -> int:
    """Load the model in this worker (e.g. `client.run(warm_worker, path)` on Dask); returns the
    worker's pid."""
    get_model(model_path)
    return os.getpid()


def reason_kind(reason: str) -> str:
    """A reason's kind, for counting: 'not an article: a site's home page', without the page's own
    details."""
    reason = re.sub(r"^\S+://\S+: ", "", reason)  # the page's URL
    reason = re.sub(r"^line \d+: ", "", reason)
    reason = re.sub(
        r",? [\d,.]+ (?:characters|words|links)\b[^,;(]*", "", reason
    )  # a page's own measures
    return re.split(r" \(|; |: (?=\S+://)", reason, maxsplit=1)[0][:120]


def reasons_file(out_dir: Path, shard_name: str) -> Path:
    """Where a shard lists every record it did not classify or label, with why (JSON lines).

    In a folder of their own, so `cat OUT/*.jsonl` still reads the classified rows alone.
    """
    return out_dir / "reasons" / f"{shard_name}.jsonl"


def process_shard(task: Task) -> ShardResult:
    """Read, extract, classify and write one shard; never raises (a failure is in the result)."""
    started = time.perf_counter()
    shard = task.shard
    result = ShardResult(name=shard.name)
    out_dir = Path(task.out_dir)
    source = Path(shard.path).name
    try:
        from newsclf.classify import classify_records
        from newsclf.model.predict import skip_kind

        model = get_model(task.model_path)
        rows: list[dict[str, Any]] = []
        problems: list[dict[str, Any]] = []  # every record not classified or not labeled, and why

        def articles() -> Iterator[Any]:
            for item in iter_items(
                Path(shard.path),
                shard.fmt,
                shard.start,
                shard.stop,
                task.read,
                task.keep_non_articles,
                task.max_record_bytes,
            ):
                result.records += 1
                if not (item.error or item.not_article):
                    yield item
                    continue
                if item.error:
                    result.rejected += 1
                else:
                    result.not_articles += 1
                if len(result.examples) < 5:
                    result.examples.append(f"{shard.path}: {item.error or item.not_article}")
                why = ("rejected: " if item.error else "") + reason_kind(
                    item.error or item.not_article
                )
                problems.append(
                    {"record": item.index, "why": why, "reason": item.error or item.not_article}
                )

        for items, predicted in classify_records(
            model,
            articles(),
            any_language=task.any_language,
            chunk_size=task.batch_size,
            batch_size=task.batch_size,
            with_url=True,
            out_of_scope=result.out_of_scope,
        ):
            for item, row in zip(items, predicted):
                kind = skip_kind(row.get("skipped"))
                if kind:
                    problems.append(
                        {
                            "record": item.index,
                            "id": item.article.id,
                            "url": item.article.url,
                            "why": f"not labeled: {kind}",
                            "reason": row["skipped"],
                        }
                    )
                rows.append({**row, "source": source, "record": item.index})
        rows.sort(key=lambda r: (r["id"], r["record"]))
        result.rows = len(rows)
        output = shard.output(out_dir, task.out_fmt)
        write_rows(output, rows, task.out_fmt)
        problems.sort(key=lambda r: r["record"])
        for problem in problems:
            result.reasons[problem["why"]] = result.reasons.get(problem["why"], 0) + 1
        reasons_file(out_dir, shard.name).parent.mkdir(exist_ok=True)
        atomic_write_bytes(
            reasons_file(out_dir, shard.name),
            "".join(json.dumps(r, ensure_ascii=False) + "\n" for r in problems).encode("utf-8"),
        )
        marker = {
            "input": shard.path,
            "start": shard.start,
            "stop": shard.stop,
            "format": task.out_fmt,
            "records": result.records,
            "rows": result.rows,
            "rejected": result.rejected,
            "not_articles": result.not_articles,
            "out_of_scope": result.out_of_scope,
            "reasons": result.reasons,
            "bytes": output.stat().st_size,
            "model": model.id,
        }
        atomic_write_bytes(
            shard.marker(out_dir), (json.dumps(marker, indent=1) + "\n").encode("utf-8")
        )
    except (NewsclfError, OSError) as exc:
        result.error = f"{shard.path}: {exc}"
    except Exception as exc:  # a shard's failure is reported, the others go on
        result.error = f"{shard.path}: {type(exc).__name__}: {exc}"
    result.seconds = time.perf_counter() - started
    return result


# --- the driver ---------------------------------------------------------------------------------


@dataclass(kw_only=True)
class BatchSummary(Tally):
    """What a batch run did, for the closing line and the exit code: its shards' tallies summed."""

    shards: int = 0
    skipped: int = 0  # shards finished by an earlier run
    failed: list[str] = field(default_factory=list)
    warnings: list[str] = field(default_factory=list)
    damaged: int = 0  # damaged parts of WARC files skipped (the records around them were read)
    startup_seconds: float = 0.0
    workers: int = 0
    out_dir: str = ""

    def add(self, r: ShardResult) -> None:
        if r.error:
            self.failed.append(r.error)
            return
        self.skipped += r.skipped
        self.records += r.records
        self.rows += r.rows
        self.rejected += r.rejected
        self.not_articles += r.not_articles
        for kind, n in r.out_of_scope.items():
            self.out_of_scope[kind] = self.out_of_scope.get(kind, 0) + n
        self.examples += r.examples[: max(0, 20 - len(self.examples))]
        for why, n in r.reasons.items():
            self.reasons[why] = self.reasons.get(why, 0) + n

    def line(self) -> str:
        rate = self.rows / self.seconds if self.seconds else 0.0
        return (
            f"batch: {self.shards} shards ({self.skipped} already done), {self.records} records, "
            f"{self.rows} classified"
            + "".join(f" ({n} {kind})" for kind, n in sorted(self.out_of_scope.items()))
            + f", {self.not_articles} not articles, {self.rejected} rejected, "
            + (f"{self.damaged} damaged WARC parts skipped, " if self.damaged else "")
            + f"{len(self.failed)} shards failed; {self.seconds:.1f} s"
            + (f", {rate:.1f} articles/s on {self.workers} workers" if self.workers else "")
            + f" -> {self.out_dir}"
        )


def _model_id(model_path: str) -> str:
    try:
        return _model_meta(model_path)["model_id"]
    except (OSError, ValueError, KeyError):
        raise NewsclfError(
            f"{model_path}: not a newsclf model directory (meta.json missing or unreadable); "
            "train one with `newsclf train --guide G --out DIR`"
        ) from None


def _check_settings(out_dir: Path, settings: dict[str, Any]) -> None:
    path = out_dir / SETTINGS_FILE
    if path.is_file():
        try:
            old = json.loads(path.read_text(encoding="utf-8"))
        except ValueError:
            old = None
        if old is not None and old != settings:
            diff = ", ".join(
                f"{k} {old.get(k)!r} (now {v!r})" for k, v in settings.items() if old.get(k) != v
            )
            raise InputError(
                f"{out_dir} holds shards of another batch setting: {diff}; "
                "use a new --out folder, or the same settings to finish that run"
            )
        if old == settings:
            return
    atomic_write_bytes(path, (json.dumps(settings, indent=1) + "\n").encode("utf-8"))


def run_batch(
    model_path: str | Path,
    inputs: Iterable[str | Path],
    out_dir: str | Path,
    *,
    engine: str = "local",
    workers: int = 0,
    scheduler: str | None = None,
    batch_size: int = DEFAULT_BATCH_SIZE,
    shard_size: int = DEFAULT_SHARD_SIZE,
    shard_index: int | None = None,
    shard_count: int | None = None,
    out_fmt: str = "jsonl",
    progress: Any = None,
    engine_obj: Engine | None = None,
    any_language: bool = False,
    keep_non_articles: bool = False,
    read: Any = None,
    max_record_bytes: int = MAX_RECORD_BYTES,
) -> BatchSummary:
    """Classify every record of `inputs` into shard files in `out_dir`; finished shards of earlier
    runs are skipped.

    `read` (ReadOptions) says how to read JSONL and CSV inputs; its on_notice is not sent to
    workers.

    `progress(total)` makes a tqdm-like bar (total records, None when unknown); `engine_obj` reuses
    a
    started engine (its start-up is then not counted).
    """
    started = time.perf_counter()
    out = Path(out_dir)
    out.mkdir(parents=True, exist_ok=True)
    model_id = _model_id(str(model_path))
    _check_settings(out, {"model": model_id, "shard_size": shard_size, "format": out_fmt})
    shards, warnings, damaged = plan_shards(inputs, shard_size)
    shards = select_shards(shards, shard_index, shard_count)
    summary = BatchSummary(shards=len(shards), warnings=warnings, damaged=damaged, out_dir=str(out))
    known = all(s.stop != sys.maxsize for s in shards)
    bar = progress(sum(s.stop - s.start for s in shards) if known else None) if progress else None
    todo = []
    for shard in shards:
        done = is_done(shard, out, out_fmt)
        if done is not None:
            summary.add(done)
            if bar is not None:
                bar.update(done.records)
        else:
            # Left by a killed run of this shard: a half-written output, or a marker killed before
            # its rename.
            for name in (shard.output(out, out_fmt).name, shard.marker(out).name):
                for tmp in out.glob(f".{name}.*.tmp"):
                    tmp.unlink(missing_ok=True)
            todo.append(
                Task(
                    shard,
                    str(Path(model_path).resolve()),
                    str(out.resolve()),
                    out_fmt,
                    batch_size,
                    any_language,
                    keep_non_articles,
                    replace(read, on_notice=None) if read is not None else None,
                    max_record_bytes,
                )
            )
    if todo:
        own = engine_obj is None
        eng = engine_obj or make_engine(engine, workers, scheduler, model_path)
        summary.startup_seconds = eng.startup_seconds if own else 0.0
        summary.workers = eng.workers
        try:
            for result in eng.map_unordered(process_shard, todo):
                summary.add(result)
                if bar is not None:
                    bar.update(result.records)
        finally:
            if own:
                eng.close()
    if bar is not None:
        bar.close()
    summary.seconds = time.perf_counter() - started
    return summary


def output_files(out_dir: str | Path) -> list[Path]:
    """The finished shard outputs of a batch folder, sorted by name."""
    out = Path(out_dir)
    files = []
    for marker in sorted(out.glob("*.done")):
        try:
            fmt = json.loads(marker.read_text(encoding="utf-8"))["format"]
        except (OSError, ValueError, KeyError):
            continue
        output = marker.with_suffix("." + fmt)
        if output.is_file():
            files.append(output)
    return files
