"""Search benchmark: index build rate, store size with and without the index, and query latency.

    python -m bench.search [--articles 100000] [--articles 1000000] [--store DIR] [--per-query]

Articles are synthesised by resampling the demo corpus's sentences (each article takes one
language's sentences, 12 to 30 of them, a random outlet and a date in 2023), so the vocabulary and
its frequencies are a real news corpus's. For each size it builds two stores in a temporary folder:
the same articles without the index (the anchor) and with it (`newsclf` as shipped), then times
20 typical queries (first page of results, 20 articles, and the match count) and counts by month,
each 5 times. Goals: results in under 50 ms (p95) at 100,000 articles; p95 under 200 ms at
1,000,000.

Building the 1,000,000-article stores takes about 20 minutes: `--store DIR` keeps them (and the
seconds their loads took) in DIR and reuses them on the next run; a store made by an older newsclf
is upgraded by its migrations when opened, as a user's would be. `--per-query` prints each query's
median and worst times, to see which queries make the tail.
"""

from __future__ import annotations

import argparse
import json
import os
import random
import re
import statistics
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
CORPUS = ROOT / "corpora" / "ai-discourse-demo" / "articles.jsonl"
QUERIES = [
    "OpenAI",
    "chatbot AND upah",
    "pekerja*",
    '"kecerdasan buatan"',
    "labelers OR annotators",
    "title:OpenAI",
    "Musk AND NOT OpenAI",
    "regulation OR regulasi",
    "NEAR(data labelers, 5)",
    "anotator* AND (upah OR gaji)",
    "safety AND letter",
    "Kominfo",
    "wages AND contract*",
    '"open letter"',
    "Microsoft AND investment",
    "startup* AND pendanaan",
    "title:chatbot OR title:AI",
    "model AND (bias OR risk)",
    "moderator* OR moderat*",
    "Indonesia AND AI",
]


def sentences_by_lang() -> dict[str, list[str]]:
    from newsclf.article import read_jsonl

    pools: dict[str, list[str]] = {}
    with CORPUS.open(encoding="utf-8") as fh:
        for a in read_jsonl(fh):
            pools.setdefault(a.lang or "en", []).extend(
                s for s in re.split(r"(?<=[.!?])\s+", a.text) if len(s) > 30
            )
    return pools


def synthetic(n: int, seed: int = 0):
    from newsclf.article import Article

    rng = random.Random(seed)
    pools = sentences_by_lang()
    langs = sorted(pools)
    outlets = [f"Outlet {i}" for i in range(40)]
    for i in range(n):
        lang = rng.choice(langs)
        pool = pools[lang]
        text = " ".join(rng.choice(pool) for _ in range(rng.randint(12, 30)))
        day = rng.randint(0, 364)
        month, mday = 1 + day // 31 % 12, 1 + day % 28
        yield Article(
            id=f"s{i:07d}",
            title=rng.choice(pool)[:120],
            text=text,
            lang=lang,
            outlet=rng.choice(outlets),
            published=f"2023-{month:02d}-{mday:02d}T08:00:00+00:00",
        )


def load(db: Path, n: int, with_index: bool) -> float:
    """Seconds to store n synthetic articles (in batches of 5,000), with or without the search
    index (full text and counts by period)."""
    from newsclf.store import Store

    store = Store(db)
    if not with_index:  # the full-text index and the tables counts by period read
        for table in ("articles_fts", "search_facets"):
            for name in ("insert", "delete", "update"):
                store.conn.execute(f"DROP TRIGGER IF EXISTS {table}_{name}")
        for table in ("articles_fts", "search_facets", "search_totals"):
            store.conn.execute(f"DROP TABLE IF EXISTS {table}")
    start = time.perf_counter()
    batch = []
    for article in synthetic(n):
        batch.append(article)
        if len(batch) == 5000:
            store.add_articles(batch)
            batch.clear()
    store.add_articles(batch)
    seconds = time.perf_counter() - start
    store.conn.execute("PRAGMA wal_checkpoint(TRUNCATE)")
    store.close()
    return seconds


def size_mb(db: Path) -> float:
    return sum(p.stat().st_size for p in db.parent.glob(db.name + "*")) / 1e6


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def build(folder: Path, n: int) -> tuple[Path, Path, float, float]:
    """The two stores of n articles in folder (made unless there) and their load seconds."""
    plain, indexed = folder / f"plain-{n}.db", folder / f"indexed-{n}.db"
    record = folder / f"loads-{n}.json"
    if record.exists() and plain.exists() and indexed.exists():
        seconds = json.loads(record.read_text())
        return plain, indexed, seconds["plain"], seconds["indexed"]
    for db in (plain, indexed):
        for p in db.parent.glob(db.name + "*"):
            p.unlink()
    t_plain = load(plain, n, with_index=False)
    t_index = load(indexed, n, with_index=True)
    record.write_text(json.dumps({"plain": t_plain, "indexed": t_index}))
    return plain, indexed, t_plain, t_index


def first_page_and_count(store, match: str) -> None:
    store.search_articles(match, limit=20)
    store.search_count(match)


def counts_by_month(store, match: str) -> None:
    store.search_counts(match, "month")


def time_queries(store, repeat: int) -> tuple[dict, dict]:
    """(wall ms, CPU ms) of every call by kind, and each query's wall ms by kind.

    The CPU time shows what the code costs apart from waiting for a core on a shared machine.
    """
    from newsclf.search import to_match

    calls = {"search": first_page_and_count, "count": counts_by_month}
    times: dict[str, list[tuple[float, float]]] = {kind: [] for kind in calls}
    by_query = {q: {kind: [] for kind in calls} for q in QUERIES}
    for _ in range(repeat):
        for q in QUERIES:
            match = to_match(q)
            for kind, call in calls.items():
                wall, cpu = time.perf_counter(), time.process_time()
                call(store, match)
                wall, cpu = time.perf_counter() - wall, time.process_time() - cpu
                times[kind].append((1000 * wall, 1000 * cpu))
                by_query[q][kind].append(1000 * wall)
    return times, by_query


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, action="append", help="store sizes (default 100,000)")
    ap.add_argument("--repeat", type=int, default=5)
    ap.add_argument(
        "--store", type=Path, help="keep the built stores in this folder and reuse them"
    )
    ap.add_argument("--per-query", action="store_true", help="also print each query's times")
    args = ap.parse_args(argv)
    from newsclf.store import Store

    header = (
        "| articles | store without index MB | with index MB | load without index s "
        "| with index s | index cost articles/s | search p50 ms | search p95 ms "
        "| count-by-month p50 ms | p95 ms | CPU p95 ms: search, by month | load avg |"
    )
    rows, details = [], []
    for n in args.articles or [100_000]:
        with tempfile.TemporaryDirectory() as tmp:
            folder = args.store or Path(tmp)
            folder.mkdir(parents=True, exist_ok=True)
            plain, indexed, t_plain, t_index = build(folder, n)
            extra = t_index - t_plain
            t = time.perf_counter()
            store = Store(indexed)  # migrations bring a kept store up to date
            if time.perf_counter() - t > 1:
                print(f"opening (upgrading) the {n:,} store: {time.perf_counter() - t:.1f} s")
            load_before = os.getloadavg()[0]
            times, by_query = time_queries(store, args.repeat)
            load = f"{load_before:.1f}-{os.getloadavg()[0]:.1f}"
            store.close()
            search_ms, count_ms = ([w for w, _ in times[k]] for k in ("search", "count"))
            rows.append(
                f"| {n:,} | {size_mb(plain):,.0f} | {size_mb(indexed):,.0f} | {t_plain:,.1f} | "
                f"{t_index:,.1f} | {n / extra if extra > 0 else float('inf'):,.0f} | "
                f"{statistics.median(search_ms):.1f} | {pct(search_ms, 95):.1f} | "
                f"{statistics.median(count_ms):.1f} | {pct(count_ms, 95):.1f} | "
                f"{pct([c for _, c in times['search']], 95):.1f}, "
                f"{pct([c for _, c in times['count']], 95):.1f} | {load} |"
            )
            details += [
                f"| {n:,} | `{q}` | {statistics.median(t['search']):.1f} | "
                f"{max(t['search']):.1f} | {statistics.median(t['count']):.1f} | "
                f"{max(t['count']):.1f} |"
                for q, t in by_query.items()
            ]
    print(header)
    print("|---|---|---|---|---|---|---|---|---|---|---|---|")
    print("\n".join(rows))
    if args.per_query:
        print("\n| articles | query | search p50 ms | max ms | count-by-month p50 ms | max ms |")
        print("|---|---|---|---|---|---|")
        print("\n".join(details))
    return 0


if __name__ == "__main__":
    sys.exit(main())
