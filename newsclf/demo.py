"""`newsclf demo`: the whole job on the bundled corpus, offline: import, train on earlier months,
label later ones.

Of the later months' articles, a random ESTIMATION_SHARE keep their coders' labels as the random
estimation sample (imported after training, so the model never saw them): the report corrects
the model's shares with them, and the demo scores those estimates against the gold labels of all.
"""

from __future__ import annotations

import json
import random
import shutil
import sqlite3
import time
from collections import defaultdict
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from newsclf.classify import classify_records, save_predictions
from newsclf.errors import InputError
from newsclf.guide import Guide, load_guide
from newsclf.model.data import Example, examples_from_store
from newsclf.model.evaluate import format_metrics
from newsclf.model.predict import evaluate_model, load_model
from newsclf.model.train import let_through, train
from newsclf.records import ImportReport, import_file
from newsclf.report.build import build_report
from newsclf.store import Store

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = PROJECT / "corpora" / "ai-discourse-demo"
DEFAULT_GUIDE = PROJECT / "label_guides" / "ai-discourse.yaml"
TRAIN_SHARE = 0.65
ESTIMATION_SHARE = 0.5


def score_estimates(
    rows: list[dict], truth: dict[tuple[str, str, str, str], float]
) -> dict[str, float]:
    """How the report's per-period shares of cells with predictions compare with the gold labels of
    every article."""
    scored = [
        (r, truth[key])
        for r in rows
        if r["table"] == "time"
        and r["predicted_items"]
        and (key := (r["scheme"], r["target"] or "", r["month"], r["label"])) in truth
    ]
    if not scored:
        return {"cells": 0}
    return {
        "cells": len(scored),
        "covered": sum(r["ci_low"] - 1e-9 <= t <= r["ci_high"] + 1e-9 for r, t in scored),
        "error": sum(abs(r["share"] - t) for r, t in scored) / len(scored),
        "raw_error": sum(abs(r["raw_share"] - t) for r, t in scored) / len(scored),
    }


def true_shares(examples: dict[str, list[Example]]) -> dict[tuple[str, str, str, str], float]:
    """(scheme, target, month, label) -> the share of the label among every gold-labeled article of
    that month."""
    from newsclf.report.coverage import period_of

    cells: dict[tuple[str, str, str], list[list[str]]] = defaultdict(list)
    for scheme, items in examples.items():
        for e in items:
            cells[(scheme, e.target, period_of(e.article.published, "month"))].append(e.labels)
    out = {}
    for (scheme, target, month), labelings in cells.items():
        for label in {lab for labels in labelings for lab in labels} | {"__none__"}:
            out[(scheme, target, month, label)] = sum(
                label in labels for labels in labelings
            ) / len(labelings)
    return out


def split_by_time(
    examples: dict[str, list[Example]], share: float = TRAIN_SHARE
) -> tuple[str, dict, dict]:
    """Cut at the date before which `share` of the articles were published: train before it, test
    from it on."""
    when = lambda e: e.article.published_utc or datetime.min.replace(tzinfo=timezone.utc)  # noqa: E731
    dates = sorted({when(e) for items in examples.values() for e in items})
    cut = dates[int(len(dates) * share)]
    train_part = {k: [e for e in v if when(e) < cut] for k, v in examples.items()}
    test_part = {k: [e for e in v if when(e) >= cut] for k, v in examples.items()}
    return cut.isoformat(), train_part, test_part


def import_demo(
    db: Path, corpus: Path, guide: Guide, echo: Callable[[str], None] = print
) -> tuple[str, dict, dict]:
    """Import the corpus into the store at `db`, with coders' labels for the earlier months only.

    Returns (cut date, train examples, held-out examples). The truth for scoring comes from all
    labels; the store gets labels only for the earlier months, as if coders had labeled those so far
    and the model (or the labeling page) must label the rest.
    """
    label_files = [
        corpus / "labels" / f"{name}.jsonl" for name in ("coder_a", "coder_b", "adjudicated")
    ]
    with Store(":memory:") as everything:
        for path in [corpus / "articles.jsonl", *label_files]:
            import_file(everything, path, guide)
        cut, train_part, test_part = split_by_time(examples_from_store(everything, guide))
    train_ids = {e.article.id for v in train_part.values() for e in v}
    test_ids = {e.article.id for v in test_part.values() for e in v}
    report = ImportReport()
    with Store(db) as store:
        import_file(store, corpus / "articles.jsonl", guide, report=report)
        for path in label_files:
            import_file(store, path, guide, report=report, only_ids=train_ids)
        echo(f"imported {store.count_articles()} articles from {corpus.name}: {report.summary()}")
        for path, lineno, reason in report.rejected:
            echo(f"  {path}:{lineno}: {reason}")
    echo(
        f"split by time at {cut[:10]}: {len(train_ids)} labeled articles to train on,"
        f" {len(test_ids)} later ones for the model to label (their gold labels are kept aside for"
        " scoring)"
    )
    return cut, train_part, test_part


def start_over(workdir: Path, corpus: Path, echo: Callable[[str], None] = print) -> None:
    """Remove an earlier demo run's store and model from workdir, so held-out scores stay held out.

    A kept store already holds the later articles' estimation labels (imported after training), and
    training on them would score the model on articles it has seen. A store holding any article the
    corpus lacks is not the demo's: InputError, and nothing is removed.
    """
    db = workdir / "newsclf.db"
    if not db.exists():
        return
    with (corpus / "articles.jsonl").open(encoding="utf-8") as fh:
        ours = {json.loads(line)["id"] for line in fh if line.strip()}
    with sqlite3.connect(db) as conn:
        stored = {row[0] for row in conn.execute("SELECT id FROM articles")}
    if not stored <= ours:
        raise InputError(
            f"{db} holds articles the demo corpus lacks: not an earlier demo's store, so it is"
            " kept; give --workdir a folder of its own"
        )
    for path in (db, db.with_name(db.name + "-wal"), db.with_name(db.name + "-shm")):
        path.unlink(missing_ok=True)
    shutil.rmtree(workdir / "model", ignore_errors=True)
    echo(f"starting over in {workdir}: the earlier demo run's store and model removed")


def run_demo(
    workdir: Path, corpus: Path | None = None, echo: Callable[[str], None] = print
) -> dict:
    """Run the demo in `workdir`; returns the held-out metrics per scheme."""
    started = time.perf_counter()
    corpus = corpus or DEFAULT_CORPUS
    guide_path = corpus / "guide.yaml" if (corpus / "guide.yaml").is_file() else DEFAULT_GUIDE
    guide = load_guide(guide_path)
    workdir.mkdir(parents=True, exist_ok=True)
    start_over(workdir, corpus, echo)
    label_files = [
        corpus / "labels" / f"{name}.jsonl" for name in ("coder_a", "coder_b", "adjudicated")
    ]
    cut, train_part, test_part = import_demo(workdir / "newsclf.db", corpus, guide, echo)
    all_examples = {name: train_part[name] + test_part[name] for name in train_part}
    test_ids = sorted({e.article.id for v in test_part.values() for e in v})
    with Store(workdir / "newsclf.db") as store:
        model_dir = workdir / "model"
        train(guide, examples_from_store(store, guide), model_dir, with_learning_curve=True)
        model = load_model(model_dir)
        # The estimation sample: a random part of the later articles, coded as the page's estimation
        # queue
        # would have them coded, and imported only now that the model is trained.
        estimation_ids = set(
            random.Random(0).sample(test_ids, int(len(test_ids) * ESTIMATION_SHARE))
        )
        report = ImportReport()
        for path in label_files:
            import_file(
                store, path, guide, report=report, only_ids=estimation_ids, sample="estimation"
            )
        for path, lineno, reason in report.rejected:
            echo(f"  {path}:{lineno}: {reason}")
        echo(
            f"estimation sample: {len(estimation_ids)} of the {len(test_ids)} later articles keep"
            " their coders' labels (a random sample: the report corrects the model's shares"
            " with it)"
        )
        metrics = evaluate_model(model, test_part)
        echo("\nheld-out results (articles published after the cut, never seen in training):")
        for name, m in metrics.items():
            echo(format_metrics(name, m))
        if guide.gate is not None and metrics.get(guide.gate.name, {}).get("confusion"):
            # What scope costs a study: off-topic articles the gate lets through get AI topics.
            echo(
                let_through(
                    metrics[guide.gate.name]["confusion"], guide.gate.gate, "held out"
                ).split(". Each")[0]
                + " (only those let through get topics and stances)"
            )
        # Label every held-out article as `classify --save` does: the gate first, then a stance
        # toward
        # each target the article mentions; articles the gate closes are stored as skipped, with
        # why.
        articles = list(store.iter_articles(test_ids))
        rows = [row for _, chunk in classify_records(model, articles) for row in chunk]
        save_predictions(store, model.id, rows)
        echo("\na few held-out articles as the model labels them:")
        shown = [
            r
            for r in rows
            if any(s["labels"] for stances in r.get("stances", {}).values() for s in stances)
        ]
        for row in shown[:: max(1, len(shown) // 5)][:5]:
            stance = ", ".join(
                f"{s['target']}: {s['labels'][0]} ({max(s['cats'].values()):.2f})"
                for stances in row["stances"].values()
                for s in stances
                if s["labels"]
            )
            echo(
                f"- [{row['outlet']}, {(row['published'] or '')[:10]}, {row['lang']}]"
                f" {row['title']}\n    topics: {', '.join(row['labels'].get('topics', []))}; stance"
                f" {stance}"
            )
        result = build_report(
            store, guide, workdir / "report", model_dir, ("outlet", "month"), hourly_rate=15.0
        )
    # the store's record of this model's skips: the held-out articles it did not label
    if result.not_labeled:
        echo(
            f"({sum(result.not_labeled.values())} of the {len(rows)} held-out articles were not"
            " labeled: "
            + ", ".join(f"{n} {why}" for why, n in sorted(result.not_labeled.items()))
            + ")"
        )
    echo("\nthe report opens with these cautions:")
    for warning in result.warnings:
        echo(f"  warning: {warning}")
    for line in result.flagged[:8]:
        echo(f"  flagged: {line}")
    if len(result.flagged) > 8:
        echo(f"  ... {len(result.flagged) - 8} more flagged estimates in the report")
    score = score_estimates(result.rows, true_shares(all_examples))
    if score["cells"]:
        echo(
            f"\nestimates scored against every article's gold labels ({score['cells']} label shares"
            f" per month with model-labeled articles): 95% intervals cover {score['covered']} of"
            f" {score['cells']}; mean absolute error {score['error']:.3f} (raw, uncorrected:"
            f" {score['raw_error']:.3f})"
        )
    echo(
        f"\nreport: {result.html} ({len([f for f in result.figures if f.suffix == '.png'])}"
        f" figures; tables in {result.html.parent / 'tables'})"
    )
    echo(
        "macro-F1 per scheme (held out): "
        + ", ".join(f"{name} {m['macro_f1']:.3f}" for name, m in metrics.items())
    )
    echo(
        f"store: {workdir / 'newsclf.db'}; model: {model_dir} (card.md, metrics.json); "
        f"{time.perf_counter() - started:.1f} s"
    )
    return metrics
