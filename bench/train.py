"""Training benchmark: wall time and held-out macro-F1 of `newsclf train` against a TF-IDF +
LinearSVC anchor.

    python -m bench.train [--only NAME,...] [--limit N] [--jobs N] [--no-demo]

Per data set found in ../shared/data (see bench/datasets.py; a missing folder gets a "skipped" row):
newsclf's training as `newsclf train` runs it (default settings: 5-fold cross-validation for its
metrics, then the final fit, written to a model directory), timed wall-clock, then its held-out
macro-F1 on test; beside it the anchor of bench/classify (TF-IDF word 1-2-grams + LinearSVC), fit
+ predict timed in the same run, and the ratio of the two times. `--limit N` samples N training
items (seed 0) so a run fits in minutes; test is always whole. The `demo` row times the train step
of `newsclf demo` on the bundled corpus (always available; the anchor fits the same docs).

`--limit 1000`, 2 shared cores (another job running), s and ratio to the anchor in the same run,
before (2e9686b) -> after (c15d25f): demo 72.9 s (180x) -> 6.9 s (21x); BBC 299.6 (100x)
-> 31.0 (15x); AG News 32.4 (43x) -> 5.6 (24x); IndoSum 501.9 (184x) -> 16.6 (8.6x); SemEval 128.6
(800x) -> 4.7 (58x); NewsMTSC 37.8 (262x) -> 3.7 (33x); FNC-1 408.0 (52x) -> 16.6 (2.4x). Held-out
macro-F1 equal or higher on every row (SemEval 57.3 -> 59.4).

Shared n-gram indexes, per-target spans (branch train-speed; `--only NAME` per process, load 7-12,
before 0b685ad -> after abba621 back to back): BBC 92.7 (10.1x) -> 29.9 (8.4x); AG News 30.4 (36x)
-> 23.4 (27x); IndoSum 100.1 (15x) -> 63.4 (10.3x); SemEval 31.6 (121x) -> 25.4 (105x); NewsMTSC
24.5 (49x) -> 23.2 (78x, anchor 0.50 -> 0.30 s); FNC-1 85.0 (4.2x) -> 70.7 (2.9x). The README's
"Training, measured" has the table.

Forked workers, VADER cached, span-or-columns by cost, newton-cg over columns (idle, one set per
process, before 46e3fcd -> after): AG News 22.3x -> 11.3x, SemEval 53.5x -> 47-55x, NewsMTSC 29.1x
-> 23.8x, BBC 5.3x -> 4.0x; whole SemEval 163.8 -> 34.5 s, whole AG News 84.3 -> 25.3 s; the
README's third round has the table.

Lean dense lbfgs fit, per-target spans from the Gram matrix, faster grouped folds, one hold-out
above 4,000 docs (quiet machine, one set per process, before 1bd0d30 -> after): SemEval 45.6x ->
31.9x, NewsMTSC 23.2x -> 14.3x, AG News 10.4x -> 9.1x; whole SemEval 35.4 -> 17.8 s, whole AG
News 28.2 -> 16.9 s, whole NewsMTSC 194.6 -> 104.7 s; the README's fourth round has the table.

Per-target models in their rows' span and newton-cg over merged columns, both only above the row
span's 4,000 docs (before 89244cb -> after, back to back): whole NewsMTSC 91.7 -> 56.6 s (44.4 s
with the columns ordered by use), FNC-1 at 5,000 pairs 138.0 -> 125.2 s; the README's fifth round.

The final fit warm-started from the inner models at the chosen C (ad3d41a -> 49f688a), then one
column merge per matrix (49f688a -> a858bfd), each pair back to back: whole AG News 14.9 -> 13.0,
then 13.3 -> 11.8 s; whole SemEval 18.2 -> 16.6 s; whole NewsMTSC 44.4 -> 45.9, then 41.9 -> 39.4
s; FNC-1 at 5,000 pairs 132.8 -> 130.7, then 122.9 -> 117.4 s; the README's sixth round.

Our own newton-cg over a CSC copy, span or columns recalibrated, the merge built by columns,
text memos sized for the fit (ff6ad2c -> b01427a, back to back): whole SemEval 15.8 -> 11.8 s,
whole AG News 11.1 -> 8.1 s, whole NewsMTSC 39.0 -> 29.7 s, FNC-1 at 5,000 pairs 112.9 -> 101.6
s, the 1,000-item rows unchanged (row span); the README's seventh round.
"""

from __future__ import annotations

import argparse
import inspect
import sys
import tempfile
import time
from collections.abc import Sequence
from pathlib import Path
from typing import Any

import joblib

from bench.classify import TfidfLinSVC, cap, fmt, labels_of, macro_f1, print_table
from bench.datasets import BY_NAME, DATA, Dataset, Record
from newsclf.article import Article
from newsclf.guide import Guide, Label, Scheme
from newsclf.model.data import Example
from newsclf.model.train import MODEL_FILE, train

# The data sets of issue #34's acceptance table, in its order.
TRAIN_SETS = ("bbc", "ag_news_subset", "id_indosum", "semeval2016_t6", "newsmtsc", "fnc1")
SCHEME = "label"


def bench_guide(ds: Dataset, labels: Sequence[str], target: str | None) -> Guide:
    """A one-scheme guide for a data set (a stance scheme gets a default target, so features are
    target-aware)."""
    scheme = Scheme(
        name=SCHEME,
        kind=ds.kind,
        target=target,
        labels=tuple(Label(id=label, name=label, definition=label, key="") for label in labels),
    )
    return Guide(name=ds.name, version="bench", schemes=(scheme,))


def example(r: Record, target: str | None) -> Example:
    """A record as newsclf's training example (its own target for stance sets)."""
    article = Article(
        id=r["id"], title=r.get("title"), text=r["text"], lang=r.get("lang"), outlet=r.get("outlet")
    )
    return Example(article, (r.get("target") or target or "") if target else "", list(r["labels"]))


def jobs_arg(jobs: int | None) -> dict[str, Any]:
    """{"jobs": jobs} where train() takes it: an older checkout (PYTHONPATH) is timed the same way,
    on one core."""
    return {"jobs": jobs} if "jobs" in inspect.signature(train).parameters else {}


def time_newsclf(
    guide: Guide, train_ex: list[Example], test_ex: list[Example], jobs: int | None, **kwargs: Any
) -> dict[str, Any]:
    """Train as `newsclf train` does into a temporary directory; wall time, CV and held-out
    macro-F1."""
    scheme = guide.schemes[0]
    with tempfile.TemporaryDirectory() as tmp:
        t = time.perf_counter()
        metrics = train(
            guide, {scheme.name: train_ex}, Path(tmp) / "model", **jobs_arg(jobs), **kwargs
        )
        took = time.perf_counter() - t
        clf = joblib.load(Path(tmp) / "model" / MODEL_FILE)[scheme.name]
    out = {"train_s": took, "cv_f1": 100 * metrics[scheme.name]["macro_f1"]}
    if test_ex:
        pred = clf.predict([e.doc for e in test_ex])
        out["test_f1"] = macro_f1([e.labels for e in test_ex], pred, scheme.label_ids)
    return out


def time_anchor(
    ds: Dataset, labels: Sequence[str], train_recs: list[Record], test_recs: list[Record]
) -> tuple[float, float]:
    """(fit + predict seconds, held-out macro-F1) of the TF-IDF + LinearSVC anchor."""
    t = time.perf_counter()
    pred = TfidfLinSVC(ds, labels).fit(train_recs).predict(test_recs)
    return time.perf_counter() - t, macro_f1([r["labels"] for r in test_recs], pred, labels)


def bench_dataset(ds: Dataset, limit: int | None, jobs: int | None) -> list[str]:
    """One table row for a data set."""
    split = ds.load()
    if split is None:
        return [ds.name, "skipped: not found"] + [""] * 7
    train_recs, test_recs = split
    train_recs = cap(train_recs, limit)
    labels = labels_of(list(train_recs) + list(test_recs))
    target = (train_recs[0].get("target") or "target") if ds.target_aware else None
    guide = bench_guide(ds, labels, target)
    anchor_s, anchor_f1 = time_anchor(ds, labels, train_recs, test_recs)
    print(
        f"[{ds.name}] anchor: {anchor_s:.1f}s, macro-F1 {anchor_f1:.1f}; newsclf train on"
        f" {len(train_recs)} ...",
        file=sys.stderr,
        flush=True,
    )
    ours = time_newsclf(
        guide,
        [example(r, target) for r in train_recs],
        [example(r, target) for r in test_recs],
        jobs,
    )
    return [
        ds.name,
        str(len(train_recs)),
        fmt(ours["train_s"]),
        fmt(ours["cv_f1"]),
        fmt(ours["test_f1"]),
        fmt(anchor_s, 2),
        fmt(anchor_f1),
        fmt(ours["train_s"] / anchor_s),
        "",
    ]


def bench_demo(jobs: int | None) -> list[str]:
    """The train step of `newsclf demo` (learning curve included, as the demo has it) on the bundled
    corpus."""
    from sklearn.feature_extraction.text import TfidfVectorizer
    from sklearn.svm import LinearSVC

    from newsclf.demo import DEFAULT_CORPUS, DEFAULT_GUIDE, import_demo
    from newsclf.guide import load_guide
    from newsclf.model.data import examples_from_store
    from newsclf.model.predict import evaluate_model, load_model
    from newsclf.store import Store

    guide = load_guide(DEFAULT_GUIDE)
    with tempfile.TemporaryDirectory() as tmp:
        _, _, test_part = import_demo(
            Path(tmp) / "demo.db", DEFAULT_CORPUS, guide, echo=lambda _: None
        )
        with Store(Path(tmp) / "demo.db") as store:
            examples = examples_from_store(store, guide)
        t = time.perf_counter()
        for items in examples.values():  # the anchor: one LinearSVC per scheme on the same docs
            texts = [" ".join((e.target, e.doc["title"], e.doc["text"])) for e in items]
            y = [e.labels[0] if e.labels else "" for e in items]
            if len(set(y)) > 1:
                vec = TfidfVectorizer(ngram_range=(1, 2), sublinear_tf=True)
                LinearSVC().fit(vec.fit_transform(texts), y).predict(vec.transform(texts))
        anchor_s = time.perf_counter() - t
        t = time.perf_counter()
        metrics = train(
            guide, examples, Path(tmp) / "model", with_learning_curve=True, **jobs_arg(jobs)
        )
        took = time.perf_counter() - t
        held = evaluate_model(load_model(Path(tmp) / "model"), test_part)
    n = sum(len(v) for v in examples.values())
    mean = lambda values: 100 * sum(values) / len(values)  # noqa: E731
    return [
        "demo (3 schemes)",
        str(n),
        fmt(took),
        fmt(mean([m["macro_f1"] for m in metrics.values()])),
        fmt(mean([m["macro_f1"] for m in held.values()])),
        fmt(anchor_s, 2),
        "",
        fmt(took / anchor_s),
        "learning curve incl.",
    ]


def main(argv: Sequence[str] | None = None) -> int:
    ap = argparse.ArgumentParser(prog="python -m bench.train", description=__doc__.split("\n\n")[0])
    ap.add_argument(
        "--only",
        default="",
        help="comma-separated data set names (default: " + ",".join(TRAIN_SETS) + "; also demo)",
    )
    ap.add_argument(
        "--limit", type=int, default=None, help="sample at most N training items per data set"
    )
    ap.add_argument(
        "--jobs", type=int, default=None, help="newsclf's training processes (default: all cores)"
    )
    ap.add_argument("--no-demo", action="store_true", help="skip the demo's train step")
    args = ap.parse_args(argv)
    only = [n.strip() for n in args.only.split(",") if n.strip()]
    unknown = [n for n in only if n not in BY_NAME and n != "demo"]
    if unknown:
        ap.error(
            f"unknown data set(s) {', '.join(unknown)}; choose from demo, {', '.join(BY_NAME)}"
        )
    names = [n for n in only if n != "demo"] if only else list(TRAIN_SETS)
    print(
        f"newsclf training benchmark (data: {DATA}; train "
        f"{'capped at %d' % args.limit if args.limit else 'whole'}; jobs: {args.jobs or 'default'})"
    )
    print()
    rows = []
    if (not only and not args.no_demo) or "demo" in only:
        rows.append(bench_demo(args.jobs))
    for name in names:
        rows.append(bench_dataset(BY_NAME[name], args.limit, args.jobs))
    print_table(
        rows,
        [
            "dataset",
            "train n",
            "newsclf train s",
            "CV macro-F1",
            "test macro-F1",
            "anchor fit+predict s",
            "anchor test macro-F1",
            "ratio",
            "note",
        ],
    )
    print()
    print(
        "newsclf train s: `newsclf train` with default settings (5-fold CV + final fit), wall"
        " clock; ratio = newsclf train s / anchor fit+predict s (the issue's acceptance: <= 10)."
    )
    return 0


if __name__ == "__main__":
    sys.exit(main())
