"""Scope benchmark: how much off-topic news the demo's model labels as AI coverage, and what it
keeps.

The gate keywords of guide 1.3 were written with the demo's held-out misses in view and checked
against
these public sets (none names a term): say so beside any figure taken from here.

    python -m bench.scope [--model DIR]

The model is the one `make demo` trains (trained here into a temporary folder by the demo's own
code,
unless --model names one). It then labels:

- off-topic news it never saw, from public sets in /work/shared/data/topic (never used to train it):
  BBC sport, entertainment and politics articles, and IndoSum's Indonesian headline news (economy,
  law, politics), sport and entertainment (test splits);
- the demo's held-out later months (articles its coders coded as about AI, and the rest);
- the real Common Crawl WARC pages in /work/shared/data/warc, through `newsclf batch`.

It prints the share of off-topic articles that get an AI topic (goal: at most 10%), the share of
held-out AI articles that still get one (recall; before the relevance gate every article got a
topic, so the goal is at least 95%), and the batch run's verdict on every WARC page. Skips cleanly
without /work/shared/data.
"""

from __future__ import annotations

import argparse
import json
import subprocess
import sys
import tempfile
from collections import Counter
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
DATA = Path("/work/shared/data")
AI_TOPICS = {"labor", "safety", "regulation", "industry", "products"}
OFF_TOPIC = {
    "bbc": ["sport", "entertainment", "politics"],
    "id_indosum": ["tajuk utama", "olahraga", "hiburan", "showbiz"],
}


def off_topic_sets() -> dict[str, list]:
    """{name: articles} of the public off-topic sets that are present."""
    from newsclf.article import Article

    out: dict[str, list] = {}
    for folder, labels in OFF_TOPIC.items():
        path = DATA / "topic" / folder / "test.jsonl"
        if not path.is_file():
            continue
        for line in path.read_text(encoding="utf-8").splitlines():
            row = json.loads(line)
            label = row["labels"][0]
            if label in labels:
                lang = row.get("lang") or ("id" if folder == "id_indosum" else "en")
                out.setdefault(f"{folder} {label}", []).append(
                    Article(id=row["id"], title=row.get("title"), text=row["text"], lang=lang)
                )
    return out


def ai_topic(result: dict) -> bool:
    return bool(AI_TOPICS & set(result["labels"].get("topics", [])))


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--model", help="a model directory (default: train the demo's model here)")
    args = ap.parse_args(argv)
    sets = off_topic_sets()
    if not sets:
        print(f"skipping: no public topic sets under {DATA / 'topic'}")
        return 0
    from newsclf.demo import DEFAULT_CORPUS, DEFAULT_GUIDE, import_demo
    from newsclf.guide import load_guide
    from newsclf.model.predict import load_model

    with tempfile.TemporaryDirectory() as tmp:
        work = Path(tmp)
        if args.model:
            model_dir = Path(args.model)
        else:
            print("training the demo's model (newsclf demo) ...", file=sys.stderr)
            subprocess.run(
                [sys.executable, "-m", "newsclf.cli", "demo", "--workdir", str(work / "demo")],
                check=True,
                stdout=subprocess.DEVNULL,
            )
            model_dir = work / "demo" / "model"
        model = load_model(model_dir)
        guide = load_guide(DEFAULT_GUIDE)
        _, _, test_part = import_demo(work / "held.db", DEFAULT_CORPUS, guide, echo=lambda _: None)
        gate = guide.gate
        held_ai, held_off = {}, {}
        for name, items in test_part.items():
            for e in items:
                if gate is not None and name == gate.name:
                    (held_ai if e.labels == [gate.gate] else held_off)[e.article.id] = e.article
                elif gate is None and name == "topics":
                    held_ai[e.article.id] = e.article
        rows = []
        for name, articles in sorted(sets.items()) + [
            ("demo held-out, coded not about AI", list(held_off.values()))
        ]:
            if not articles:
                continue
            results = model.predict(articles)
            reasons = Counter((r.get("skipped") or "labeled").split(":")[0] for r in results)
            rows.append((name, len(articles), sum(map(ai_topic, results)), dict(reasons)))
        off_n = sum(n for name, n, _, _ in rows if not name.startswith("demo"))
        off_ai = sum(k for name, _, k, _ in rows if not name.startswith("demo"))
        ai_articles = list(held_ai.values())
        ai_results = model.predict(ai_articles)
        kept = sum(map(ai_topic, ai_results))
        print(f"\nScope of the demo's model ({model.id}); off-topic sets never used in training")
        if model.guide.gate is not None and model.guide.gate.keywords:
            print(
                "(the gate's keywords were written with the demo's held-out misses in view and"
                " checked against these sets: figures on data the rule was designed with)"
            )
        print()
        print("| set | articles | given an AI topic | share | why not labeled |")
        print("|---|---|---|---|---|")
        for name, n, k, reasons in rows:
            print(
                f"| {name} | {n} | {k} | {k / n:.1%} |"
                f" {', '.join(f'{r} {c}' for r, c in sorted(reasons.items()))} |"
            )
        print(
            f"| **all public off-topic** | {off_n} | {off_ai} | **{off_ai / max(1, off_n):.1%}**"
            " (goal <= 10%) | |"
        )
        print(
            f"| demo held-out, coded about AI (recall) | {len(ai_articles)} | {kept} | "
            f"**{kept / max(1, len(ai_articles)):.1%}** (goal >= 95%) | |"
        )
        warcs = sorted((DATA / "warc").glob("*.warc.gz"))
        if warcs:
            out = work / "batch"
            r = subprocess.run(
                [
                    sys.executable,
                    "-m",
                    "newsclf.cli",
                    "batch",
                    "--model",
                    str(model_dir),
                    *map(str, warcs),
                    "--out",
                    str(out),
                    "--workers",
                    "1",
                ],
                capture_output=True,
                text=True,
            )
            labeled = [
                json.loads(line)
                for p in sorted(out.glob("*.jsonl"))
                for line in p.read_text().splitlines()
            ]
            print(
                f"\n`newsclf batch` on {len(warcs)} WARC files: exit {r.returncode}; "
                f"{sum(map(ai_topic, labeled))} pages given an AI topic"
            )
            print(r.stdout.strip())
            for line in r.stderr.splitlines():
                if line.startswith(("skipped:", "warning:", "failed:")):
                    print("  " + line[:160])
            for row in labeled:
                print(
                    f"  classified, not labeled: {row.get('url', '')[:70]}:"
                    f" {row.get('skipped', 'LABELED')}"
                )
    return 0


if __name__ == "__main__":
    sys.exit(main())
