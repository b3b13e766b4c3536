"""Search benchmark: index build rate, store size with and without the index, and query latency.

    python -m bench.search [--articles 100000] [--articles 1000000]

Articles are synthesised by resampling the demo corpus's sentences (each article takes one
language's sentences, 12 to 30 of them, a random outlet and a date in 2023), so the vocabulary and
its frequencies are a real news corpus's. For each size it builds two stores in a temporary folder:
the same articles without the index (the anchor) and with it (`newsclf` as shipped), then times
20 typical queries (first page of results, 20 articles, and the match count) and counts by month,
each 5 times. Goals: results in under 50 ms (p95) at 100,000 articles; p95 under 200 ms at
1,000,000.
"""

from __future__ import annotations

import argparse
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
    index."""
    from newsclf.store import Store

    store = Store(db)
    if not with_index:
        for name in ("articles_fts_insert", "articles_fts_delete", "articles_fts_update"):
            store.conn.execute(f"DROP TRIGGER {name}")
        store.conn.execute("DROP TABLE articles_fts")
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


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, action="append", help="store sizes (default 100,000)")
    ap.add_argument("--repeat", type=int, default=5)
    args = ap.parse_args(argv)
    from newsclf.search import to_match
    from newsclf.store import Store

    print(
        "| articles | store without index MB | with index MB | load without index s | with index s"
        " | index cost articles/s | search p50 ms | search p95 ms | count-by-month p50 ms | p95"
        " ms |"
    )
    print("|---|---|---|---|---|---|---|---|---|---|")
    for n in args.articles or [100_000]:
        with tempfile.TemporaryDirectory() as tmp:
            plain, indexed = Path(tmp) / "plain.db", Path(tmp) / "indexed.db"
            t_plain = load(plain, n, with_index=False)
            t_index = load(indexed, n, with_index=True)
            extra = t_index - t_plain
            store = Store(indexed)
            search_ms, count_ms = [], []
            for _ in range(args.repeat):
                for q in QUERIES:
                    match = to_match(q)
                    t = time.perf_counter()
                    store.search_articles(match, limit=20)
                    store.search_count(match)
                    search_ms.append(1000 * (time.perf_counter() - t))
                    t = time.perf_counter()
                    store.search_counts(match, "month")
                    count_ms.append(1000 * (time.perf_counter() - t))
            store.close()
            print(
                f"| {n:,} | {size_mb(plain):,.0f} | {size_mb(indexed):,.0f} | {t_plain:,.1f} |"
                f" {t_index:,.1f} | {n / extra if extra > 0 else float('inf'):,.0f} |"
                f" {statistics.median(search_ms):.1f} | {pct(search_ms, 95):.1f} |"
                f" {statistics.median(count_ms):.1f} | {pct(count_ms, 95):.1f} |"
            )
    return 0


if __name__ == "__main__":
    sys.exit(main())
