"""Labeling page benchmark: time to serve the next article and to save a label, with 100,000
articles stored.

    python -m bench.label [--articles 100000] [--items 400] [--labelers 4] [--chromium 200]

Synthetic articles (9 outlets, ~900 characters each) go into a temporary SQLite store; the samples
are drawn as `newsclf label serve` would (reliability 2,000 with overlap 2, estimation 10,000,
seed 5,000). The app runs as deployed, `newsclf label serve` (uvicorn) in its own process on
127.0.0.1, and clients speak plain HTTP to it, as the page does:

- next item = GET /code (lease the next article under BEGIN IMMEDIATE, render the page),
- save      = POST /code/submit (check the lease and overlap, write one annotation per scheme),
              timed to its 303 answer (the browser's follow-up GET is the next "next item"),
- and in headless Chromium (Debian's, driven by Playwright), a scripted labeler's wait from pressing
  Enter on a coded article to the next article's page loaded: what a person feels. Goal: p95 < 150
  ms.

Labelers take turns (so reliability articles get their second coder), sequentially and then with
one thread per labeler at once. The calls under the page (queue.lease_next, store.finish_item) are
timed too, as the anchor for what HTTP, FastAPI and the template add. Goal: p95 under 50 ms.
"""

from __future__ import annotations

import argparse
import random
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
from contextlib import contextmanager
from pathlib import Path
from typing import Iterator

from newsclf.article import Article
from newsclf.guide import load_guide
from newsclf.label import auth, queue
from newsclf.store import Annotation, Store

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "label_guides" / "ai-discourse.yaml"
WORDS = (
    "model data labelers chatbot OpenAI regulation safety startup funding union wages contract "
    "court ministry policy investment chips cloud benchmark research"
).split()
OUTLETS = [f"Outlet {i}" for i in range(9)]


FIELD = re.compile(r'<input type="(?:radio|checkbox)" name="(label/[^"]+)" value="([^"]+)"')


def answers(html: str) -> list[tuple[str, str]]:
    """A complete answer to the coding form a page shows: its first label in every unit (a scripted
    labeler)."""
    first: dict[str, str] = {}
    for name, value in FIELD.findall(html):
        first.setdefault(name, value)
    return list(first.items())


def synthetic(n: int, seed: int = 0):
    rng = random.Random(seed)
    for i in range(n):
        text = " ".join(rng.choice(WORDS) for _ in range(130))
        yield Article.from_dict(
            {
                "id": f"a{i:06d}",
                "outlet": OUTLETS[i % 9],
                "title": f"Story {i}",
                "published": f"2023-{1 + i % 12:02d}-{1 + i % 28:02d}T08:00:00+00:00",
                "lang": "en",
                "text": text,
            }
        )


@contextmanager
def served(db: Path) -> Iterator[str]:
    """`newsclf label serve` in its own process (as deployed), on a free 127.0.0.1 port."""
    import requests

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        port = sock.getsockname()[1]
    proc = subprocess.Popen(
        [
            sys.executable,
            "-m",
            "newsclf.cli",
            "--db",
            str(db),
            "label",
            "serve",
            "--guide",
            str(GUIDE),
            "--port",
            str(port),
            "--seed-size",
            "0",
        ],
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    url = f"http://127.0.0.1:{port}"
    try:
        deadline = time.monotonic() + 60
        while True:
            try:
                requests.get(url + "/login", timeout=2)
                break
            except requests.ConnectionError:
                if time.monotonic() > deadline or proc.poll() is not None:
                    raise RuntimeError("the labeling server did not start") from None
                time.sleep(0.1)
        yield url
    finally:
        proc.terminate()
        proc.wait(10)


CHROMIUM = "/usr/bin/chromium"
CHROMIUM_ARGS = [
    "--headless=new",
    "--no-sandbox",
    "--disable-gpu",
    "--disable-background-networking",
    "--disable-component-update",
    "--disable-sync",
    "--no-first-run",
]


def chromium_labeler(url: str, token: str, n: int) -> list[float]:
    """Code n articles by keyboard in headless Chromium; ms from pressing Enter to the next
    article's page loaded.

    The time a person waits: the save's POST, its redirect, the next GET /code and the page's own
    script.
    """
    try:
        from playwright.sync_api import sync_playwright
    except ImportError:
        return []
    if not Path(CHROMIUM).exists():
        return []
    waits: list[float] = []
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=CHROMIUM_ARGS, headless=True)
        page = browser.new_page()
        page.goto(url + "/login")
        page.keyboard.type(token)
        with page.expect_navigation():
            page.keyboard.press("Enter")
        for _ in range(n):
            if page.locator("#article").count() == 0:
                break
            page.keyboard.press("1")  # a topic ...
            for _ in range(page.locator("fieldset[data-kind=single]").count()):
                page.keyboard.press("n")  # ... and a stance toward each target shown
            t = time.perf_counter()
            with page.expect_navigation(wait_until="load"):
                page.keyboard.press("Enter")
            waits.append(1000 * (time.perf_counter() - t))
        browser.close()
    return waits


def pct(values: list[float], q: float) -> float:
    values = sorted(values)
    return values[min(len(values) - 1, int(round(q / 100 * (len(values) - 1))))]


def row(name: str, ms: list[float]) -> str:
    return (
        f"| {name} | {len(ms)} | {statistics.median(ms):.1f} | {pct(ms, 95):.1f} | {max(ms):.1f} |"
    )


def main(argv: list[str] | None = None) -> int:
    import requests

    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--articles", type=int, default=100_000)
    ap.add_argument("--items", type=int, default=400, help="articles coded in each of the two runs")
    ap.add_argument("--labelers", type=int, default=4)
    ap.add_argument(
        "--chromium",
        type=int,
        default=200,
        help="articles a scripted labeler codes by keyboard in headless Chromium (0: skip)",
    )
    args = ap.parse_args(argv)
    guide = load_guide(GUIDE)
    with tempfile.TemporaryDirectory() as tmp:
        db = Path(tmp) / "bench.db"
        store = Store(db)
        t0 = time.perf_counter()
        batch: list[Article] = []
        for article in synthetic(args.articles):
            batch.append(article)
            if len(batch) == 5000:
                store.add_articles(batch)
                batch.clear()
        store.add_articles(batch)
        t1 = time.perf_counter()
        added = queue.prepare(store, 2000, 10_000, 5000)
        t2 = time.perf_counter()
        print(
            f"store: {store.count_articles():,} articles in {t1 - t0:.1f} s; samples {added} drawn"
            f" in {t2 - t1:.1f} s",
            file=sys.stderr,
        )
        tokens = {}
        for i in range(args.labelers * 2 + 1):
            tokens[f"coder{i}"] = auth.new_token()
            store.add_labeler(f"coder{i}", "labeler", auth.token_hash(tokens[f"coder{i}"]))

        # Store-level anchor.
        lease_ms, save_ms = [], []
        for i in range(args.items):
            who = f"direct{i % args.labelers}"
            t = time.perf_counter()
            item, kind = queue.lease_next(
                store, who, queue.kind_order(store.finished_count(who)), 2, 1800
            )
            lease_ms.append(1000 * (time.perf_counter() - t))
            anns = [
                Annotation(
                    item,
                    s.name,
                    (s.labels[0].id,),
                    who,
                    s.effective_target(None),
                    1.0,
                    None,
                    guide.version,
                )
                for s in guide.schemes
            ]
            t = time.perf_counter()
            store.finish_item(who, item, anns, 2.0, "done", 2)
            save_ms.append(1000 * (time.perf_counter() - t))

        results: dict[str, tuple[list[float], list[float]]] = {}
        with served(db) as url:

            def code(name: str, n: int, nexts: list[float], saves: list[float]) -> None:
                s = requests.Session()
                page = s.get(url + "/login", timeout=30)
                csrf_login = page.text.split('name="csrf_token" value="')[1].split('"')[0]
                r = s.post(
                    url + "/login",
                    data={"token": tokens[name], "csrf_token": csrf_login},
                    allow_redirects=False,
                    timeout=30,
                )
                assert r.status_code == 303, r.text[:300]
                for _ in range(n):
                    t = time.perf_counter()
                    r = s.get(url + "/code", timeout=30)
                    nexts.append(1000 * (time.perf_counter() - t))
                    item = r.text.split('data-article-id="')[1].split('"')[0]
                    csrf = r.text.split('name="csrf-token" content="')[1].split('"')[0]
                    t = time.perf_counter()
                    r = s.post(
                        url + "/code/submit",
                        data=answers(r.text)
                        + [("article_id", item), ("seconds", "3"), ("csrf_token", csrf)],
                        allow_redirects=False,
                        timeout=30,
                    )
                    saves.append(1000 * (time.perf_counter() - t))
                    assert r.status_code == 303, r.text[:300]

            nexts: list[float] = []
            saves: list[float] = []
            per = args.items // args.labelers
            for i in range(args.labelers):  # one client at a time
                code(f"coder{i}", per, nexts, saves)
            results["one labeler at a time"] = (nexts, saves)
            cn: list[float] = []
            cs: list[float] = []
            threads = [
                threading.Thread(target=code, args=(f"coder{args.labelers + i}", per, cn, cs))
                for i in range(args.labelers)
            ]
            for t in threads:
                t.start()
            for t in threads:
                t.join()
            results[f"{args.labelers} labelers at once"] = (cn, cs)
            chromium_ms = (
                chromium_labeler(url, tokens[f"coder{args.labelers * 2}"], args.chromium)
                if args.chromium
                else []
            )

        coders: dict[str, set[str]] = {}
        for ann in store.annotations(scheme="topics"):
            coders.setdefault(ann.article_id, set()).add(ann.labeler)
        reliability = {q["article_id"] for q in store.queued("reliability")}
        over = sum(1 for a, c in coders.items() if len(c) > (2 if a in reliability else 1))
        print(
            f"\nLabeling page with {store.count_articles():,} articles in the store (annotations"
            f" saved: {len(store.annotations()):,}; articles over their coder limit: {over})\n"
        )
        print("| operation | n | p50 ms | p95 ms | max ms |")
        print("|---|---|---|---|---|")
        print(row("queue.lease_next (anchor)", lease_ms))
        print(row("store.finish_item (anchor)", save_ms))
        for name, (n_ms, s_ms) in results.items():
            print(row(f"HTTP next item, GET /code ({name})", n_ms))
            print(row(f"HTTP save label, POST /code/submit ({name})", s_ms))
        if chromium_ms:
            print(
                row(
                    "Chromium: Enter on a coded article -> next article shown (scripted labeler)",
                    chromium_ms,
                )
            )
        elif args.chromium:
            print(f"(Chromium row skipped: {CHROMIUM} or playwright is missing)")
        store.close()
    return 0


if __name__ == "__main__":
    sys.exit(main())
