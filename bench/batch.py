"""Batch benchmark: extract+classify throughput on WARCs, process pool vs Dask, 1 and 2 workers.

    python -m bench.batch [--records 2000] [--shard-size 250] [--no-real]
                          [--engines local,dask] [--workers 1,2]

Inputs: a WARC built from the demo corpus site (every page of corpora/ai-discourse-demo/site,
written as response records with warcio and replicated under distinct URLs to --records), and
the two real WARCs in ../shared/data/warc/ when present (their HTML pages replicated to ~500
records so timings mean something; a missing file gets a "skipped" row). The model is trained
inside the benchmark on the demo corpus labels (both coders plus the adjudicated file).

For each engine and worker count: start-up (engine start plus model loaded in every worker) is
timed apart; then the same inputs are run through `run_batch` on the warm engine into a fresh
folder. articles/s/core = records / seconds / workers (records include the pages that turn out
not to be articles; each was extracted). E(2) = T1 / (2 * T2). "per CPU s" divides the records
by the CPU seconds the whole process tree spent on them: on a machine other jobs share, wall time
counts their time too, CPU time far less. Memory is the RSS of the whole process tree (driver +
workers, + the in-process scheduler for Dask) after warm-up. Then newsclf.extract alone and
trafilatura's defaults, page by page in turn in this process, on the same records.

Runs BLAS/OpenMP single-threaded so a worker is one core. The machine's load average is printed
before and after: on a shared machine the figures are lower bounds.
"""

from __future__ import annotations

import os

for _var in ("OMP_NUM_THREADS", "OPENBLAS_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

import argparse  # noqa: E402
import shutil  # noqa: E402
import tempfile  # noqa: E402
import time  # noqa: E402
from pathlib import Path  # noqa: E402

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "ai-discourse-demo"
GUIDE = ROOT / "label_guides" / "ai-discourse.yaml"
REAL_WARCS = ROOT.parent / "shared" / "data" / "warc"


def train_model(work: Path) -> Path:
    from newsclf.guide import load_guide
    from newsclf.model.data import examples_from_store
    from newsclf.model.train import train
    from newsclf.records import import_file
    from newsclf.store import Store

    guide = load_guide(GUIDE)
    with Store(work / "train.db") as store:
        import_file(store, CORPUS / "articles.jsonl", guide)
        for name in ("coder_a", "coder_b", "adjudicated"):
            import_file(store, CORPUS / "labels" / f"{name}.jsonl", guide)
        examples = examples_from_store(store, guide)
    train(guide, examples, work / "model", folds=3)
    return work / "model"


def replicate(pages: list[tuple[str, bytes]], n: int) -> list[tuple[str, bytes]]:
    out = []
    for k in range(n):
        url, body = pages[k % len(pages)]
        copy = k // len(pages)
        out.append((url if copy == 0 else f"{url}{'&' if '?' in url else '?'}copy={copy}", body))
    return out


def demo_warc(work: Path, records: int) -> Path:
    from newsclf.batch.inputs import write_warc

    site = CORPUS / "site"
    pages = [
        (
            f"https://{p.relative_to(site).parts[0]}.example/{'/'.join(p.relative_to(site).parts[1:])}",
            p.read_bytes(),
        )
        for p in sorted(site.rglob("*.html"))
    ]
    path = work / "demo-site.warc.gz"
    write_warc(path, replicate(pages, records))
    return path


def real_warc(work: Path, name: str, records: int) -> Path | None:
    from newsclf.batch.inputs import write_warc
    from newsclf.collect.warc import iter_warc

    src = REAL_WARCS / name
    if not src.is_file():
        return None
    pages = [(p.url, p.body) for p in iter_warc(src, strict=False) if p.status == 200]
    if not pages:
        return None
    path = work / f"real-{name}"
    write_warc(path, replicate(pages, max(records, len(pages))))
    return path


def extract_anchor(path: Path) -> tuple[int, float, float]:
    """(records, seconds of newsclf.extract as batch runs it, seconds of trafilatura.extract)."""
    import trafilatura

    from newsclf.collect.extract import ExtractionError, extract
    from newsclf.collect.warc import iter_warc

    pages = [p for p in iter_warc(path, strict=False) if p.status == 200 and p.body]
    ours = theirs = 0.0
    for page in pages:  # in turn, so a busy machine slows both alike
        start = time.perf_counter()
        try:
            extract(page.body, page.url or None, require_article_marks=True)
        except ExtractionError:
            pass
        ours += time.perf_counter() - start
        start = time.perf_counter()
        trafilatura.extract(page.body, include_comments=False)
        theirs += time.perf_counter() - start
    return len(pages), ours, theirs


def _tree_sum(measure) -> float:
    """measure(process) summed over this process and its live children (one gone meanwhile: 0)."""
    import psutil

    me = psutil.Process()
    total = 0.0
    for proc in [me, *me.children(recursive=True)]:
        try:
            total += measure(proc)
        except psutil.Error:
            pass
    return total


def _cpu(proc) -> float:
    times = proc.cpu_times()
    return times.user + times.system


def _pss(proc) -> float:
    info = proc.memory_full_info()
    return getattr(info, "pss", info.rss)


def tree_cpu_seconds() -> float:
    """CPU seconds (user + system) used so far by this process and its live children."""
    return _tree_sum(_cpu)


def tree_rss_mb() -> float:
    """PSS of this process and its children: shared (forked, copy-on-write) pages counted once."""
    return _tree_sum(_pss) / 2**20


def start_engine(kind: str, workers: int, model: Path):
    from newsclf.batch import shards
    from newsclf.batch.shards import make_engine, warm_worker

    shards._MODELS.clear()  # every start-up pays for loading the model
    started = time.perf_counter()
    engine = make_engine(
        kind, workers, model_path=model
    )  # local: loads a linear model once, workers inherit it
    if kind == "dask":
        engine.client.run(warm_worker, str(model))  # load in every worker
    else:
        list(engine.map_unordered(warm_worker, [str(model)] * workers))
    return engine, time.perf_counter() - started


def measure(
    kind: str, workers: int, model: Path, inputs: list[Path], shard_size: int, work: Path
) -> dict:
    from newsclf.batch.shards import run_batch

    base_rss = tree_rss_mb()
    engine, startup = start_engine(kind, workers, model)
    rss = tree_rss_mb()
    out = {}
    try:
        for path in inputs:
            folder = Path(tempfile.mkdtemp(dir=work, prefix=f"out-{kind}{workers}-"))
            cpu = tree_cpu_seconds()
            summary = run_batch(
                model, [path], folder, engine=kind, shard_size=shard_size, engine_obj=engine
            )
            assert not summary.failed, summary.failed
            cpu = tree_cpu_seconds() - cpu  # on a busy machine wall time counts others' jobs
            out[path.name] = (
                summary.records,
                summary.rows,
                summary.not_articles,
                summary.seconds,
                cpu,
            )
            shutil.rmtree(folder)
    finally:
        engine.close()
    return {"startup": startup, "rss": rss, "base_rss": base_rss, "runs": out}


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--records", type=int, default=2000, help="Records in the demo-site WARC.")
    parser.add_argument(
        "--shard-size",
        type=int,
        default=250,
        help="Records per task: 250 gives 8 tasks per 2,000 records; at 100 per-task costs show",
    )
    parser.add_argument("--no-real", action="store_true", help="Skip the real WARCs.")
    parser.add_argument(
        "--engines", default="local,dask", help="Engines to measure, comma-separated (local,dask)."
    )
    parser.add_argument(
        "--workers", default="1,2", help="Worker counts to measure, comma-separated (1,2)."
    )
    args = parser.parse_args()
    load_before = os.getloadavg()
    work = Path(tempfile.mkdtemp(prefix="newsclf-bench-batch-"))
    try:
        t = time.perf_counter()
        model = train_model(work)
        print(f"trained on the demo corpus in {time.perf_counter() - t:.1f} s")
        inputs = [demo_warc(work, args.records)]
        skipped = []
        if not args.no_real:
            for name in ("resiliparse-warcfile.warc.gz", "warcio-example.warc.gz"):
                path = real_warc(work, name, 500)
                if path is None:
                    skipped.append(name)
                else:
                    inputs.append(path)
        engines = [e for e in ("local", "dask") if e in args.engines.split(",")]
        counts = [w for w in (1, 2) if str(w) in args.workers.split(",")]
        results = {}
        for kind in engines:
            for workers in counts:
                results[(kind, workers)] = measure(
                    kind, workers, model, inputs, args.shard_size, work
                )
        anchors = {path.name: extract_anchor(path) for path in inputs}
        load_after = os.getloadavg()
        print()
        print(
            f"machine: {os.cpu_count()} CPUs; load average before "
            f"{load_before[0]:.2f}/{load_before[1]:.2f}/{load_before[2]:.2f}, after "
            f"{load_after[0]:.2f}/{load_after[1]:.2f}/{load_after[2]:.2f} (1/5/15 min)"
        )
        print(
            "art/s/core: records extracted and classified per second per worker (every record, "
            "article or not, is extracted; 'articles' counts those classified); per CPU s: the "
            "same records per CPU second of the whole process tree, what an idle core would give"
        )
        header = (
            f"{'input':<34} {'engine':<6} {'workers':>7} {'records':>8} {'articles':>8} "
            f"{'seconds':>8} {'art/s/core':>10} {'per CPU s':>9} {'E(2)':>6} {'start s':>8} "
            f"{'PSS MB':>7}"
        )
        print(header)
        print("-" * len(header))
        for path in inputs:
            for kind in engines:
                for workers in counts:
                    r = results[(kind, workers)]
                    records, rows, not_articles, seconds, cpu = r["runs"][path.name]
                    eff = ""
                    if workers == 2 and 1 in counts:
                        eff = f"{results[(kind, 1)]['runs'][path.name][3] / (2 * seconds):.2f}"
                    print(
                        f"{path.name:<34} {kind:<6} {workers:>7} {records:>8} {rows:>8} "
                        f"{seconds:>8.1f} {records / seconds / workers:>10.1f} "
                        f"{records / cpu:>9.1f} {eff:>6} "
                        f"{r['startup']:>8.2f} {r['rss']:>7.0f}"
                    )
        for name in skipped:
            print(f"{name:<34} skipped: not found in {REAL_WARCS}")
        print()
        print("Extraction alone in this process, page by page in turn with trafilatura's defaults:")
        for name, (n, ours, theirs) in anchors.items():
            print(
                f"  {name:<34} {n:>5} records: newsclf.extract {n / ours:7.1f}/s, "
                f"trafilatura {n / theirs:7.1f}/s, ratio {theirs / ours:.2f}"
            )
        print()
        if len(engines) == 2:
            for workers in counts:
                local, dask = results[("local", workers)], results[("dask", workers)]
                print(
                    f"Dask overhead at {workers} worker(s): start-up "
                    f"{dask['startup'] - local['startup']:+.2f} s "
                    f"({dask['startup']:.2f} vs {local['startup']:.2f}), memory "
                    f"{dask['rss'] - local['rss']:+.0f} MB "
                    f"({dask['rss']:.0f} vs {local['rss']:.0f} MB PSS of the process tree)"
                )
    finally:
        shutil.rmtree(work, ignore_errors=True)


if __name__ == "__main__":
    main()
