"""Concurrency soak of the labeling page: 20 labelers, 500 labels each, real HTTP to a real server
on 127.0.0.1.

    python -m bench.label_soak [--labelers 20] [--labels 500]

Prints labels submitted, labels stored, lost (must be 0), items coded twice by one labeler (0),
items beyond the overlap setting (0), and p50/p95 latency of getting the next item and saving.
"""

from __future__ import annotations

import argparse
import sys
import tempfile
import threading
import time
from collections import Counter
from pathlib import Path

from bench.label import answers, pct, served, synthetic
from newsclf.label import auth, queue
from newsclf.store import Store

OVERLAP = 2


def main(argv: list[str] | None = None) -> int:
    """Run the soak; exit 1 when any label was lost or any limit broken."""
    import requests

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--labelers", type=int, default=20)
    ap.add_argument("--labels", type=int, default=500, help="labels each labeler saves")
    args = ap.parse_args(argv)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "soak.db"
        store = Store(db)
        store.add_articles(synthetic(args.labelers * args.labels + 2000))
        total = args.labelers * args.labels + 2000
        queue.prepare(
            store, 1000, 4000, total - 5000
        )  # the rest as a seed set: enough work for everyone
        tokens = {f"coder{i:02d}": auth.new_token() for i in range(args.labelers)}
        for name, token in tokens.items():
            store.add_labeler(name, "labeler", auth.token_hash(token))
        nexts: list[float] = []
        saves: list[float] = []
        submitted: Counter = Counter()
        errors: list[str] = []
        lock = threading.Lock()

        def code(name: str, url: str) -> None:
            s = requests.Session()
            page = s.get(url + "/login", timeout=60)
            csrf_login = page.text.split('name="csrf_token" value="')[1].split('"')[0]
            s.post(
                url + "/login",
                data={"token": tokens[name], "csrf_token": csrf_login},
                allow_redirects=False,
                timeout=60,
            )
            for _ in range(args.labels):
                t = time.perf_counter()
                r = s.get(url + "/code", timeout=60)
                took_next = 1000 * (time.perf_counter() - t)
                if 'data-article-id="' not in r.text:
                    with lock:
                        errors.append(f"{name}: no item served ({r.status_code})")
                    return
                item = r.text.split('data-article-id="')[1].split('"')[0]
                csrf = r.text.split('name="csrf-token" content="')[1].split('"')[0]
                t = time.perf_counter()
                r = s.post(
                    url + "/code/submit",
                    data=answers(r.text)
                    + [("article_id", item), ("seconds", "3"), ("csrf_token", csrf)],
                    allow_redirects=False,
                    timeout=60,
                )
                took_save = 1000 * (time.perf_counter() - t)
                with lock:
                    nexts.append(took_next)
                    saves.append(took_save)
                    if r.status_code == 303:
                        submitted[name] += 1
                    else:
                        errors.append(f"{name}: save answered {r.status_code}")

        started = time.perf_counter()
        with served(db) as url:
            threads = [threading.Thread(target=code, args=(name, url)) for name in tokens]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
        elapsed = time.perf_counter() - started
        stored = Counter(a.labeler for a in store.annotations(scheme="topics"))
        per_item: dict[str, list[str]] = {}
        for ann in store.annotations(scheme="topics"):
            per_item.setdefault(ann.article_id, []).append(ann.labeler)
        reliability = {q["article_id"] for q in store.queued("reliability")}
        twice = sum(len(c) - len(set(c)) for c in per_item.values())
        over = sum(1 for a, c in per_item.items() if len(c) > (OVERLAP if a in reliability else 1))
        lost = sum(max(0, submitted[n] - stored[n]) for n in tokens)
        print(
            "| labelers | labels submitted | labels stored | lost | coded twice | beyond overlap | "
            "next p50/p95 ms | save p50/p95 ms | seconds |"
        )
        print("|---|---|---|---|---|---|---|---|---|")
        print(
            f"| {len(tokens)} | {sum(submitted.values()):,} | {sum(stored.values()):,} | {lost} |"
            f" {twice} | {over} | {pct(nexts, 50):.1f} / {pct(nexts, 95):.1f} |"
            f" {pct(saves, 50):.1f} / {pct(saves, 95):.1f} | {elapsed:.0f} |"
        )
        for e in errors[:5]:
            print("error:", e, file=sys.stderr)
        store.close()
        return 1 if (lost or twice or over or errors) else 0


if __name__ == "__main__":
    sys.exit(main())
