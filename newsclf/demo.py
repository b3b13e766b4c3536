"""`newsclf demo`: the whole job on the bundled corpus, offline: import, train on earlier months, label later ones."""

from __future__ import annotations

import time
from datetime import datetime, timezone
from pathlib import Path
from typing import Callable

from newsclf.guide import load_guide
from newsclf.model.data import Example, examples_from_store
from newsclf.model.evaluate import format_metrics
from newsclf.model.predict import classify_records, evaluate_model, load_model
from newsclf.model.train import train
from newsclf.records import ImportReport, import_file
from newsclf.store import Store

PROJECT = Path(__file__).resolve().parents[1]
DEFAULT_CORPUS = PROJECT / "corpora" / "ai-discourse-demo"
DEFAULT_GUIDE = PROJECT / "label_guides" / "ai-discourse.yaml"
TRAIN_SHARE = 0.65


def split_by_time(examples: dict[str, list[Example]], share: float = TRAIN_SHARE) -> tuple[str, dict, dict]:
    """Cut at the date before which `share` of the articles were published: train before it, test from it on."""
    when = lambda e: e.article.published_utc or datetime.min.replace(tzinfo=timezone.utc)  # noqa: E731
    dates = sorted({when(e) for items in examples.values() for e in items})
    cut = dates[int(len(dates) * share)]
    train_part = {k: [e for e in v if when(e) < cut] for k, v in examples.items()}
    test_part = {k: [e for e in v if when(e) >= cut] for k, v in examples.items()}
    return cut.isoformat(), train_part, test_part


def run_demo(workdir: Path, corpus: Path | None = None, echo: Callable[[str], None] = print) -> dict:
    """Run the demo in `workdir`; returns the held-out metrics per scheme."""
    started = time.perf_counter()
    corpus = corpus or DEFAULT_CORPUS
    guide_path = corpus / "guide.yaml" if (corpus / "guide.yaml").is_file() else DEFAULT_GUIDE
    guide = load_guide(guide_path)
    workdir.mkdir(parents=True, exist_ok=True)
    report = ImportReport()
    with Store(workdir / "newsclf.db") as store:
        import_file(store, corpus / "articles.jsonl", guide, report=report)
        for coder in ("coder_a", "coder_b"):
            import_file(store, corpus / "labels" / f"{coder}.jsonl", guide, report=report)
        import_file(store, corpus / "labels" / "adjudicated.jsonl", guide, report=report)
        echo(f"imported {store.count_articles()} articles from {corpus.name}: {report.summary()}")
        for path, lineno, reason in report.rejected:
            echo(f"  {path}:{lineno}: {reason}")
        examples = examples_from_store(store, guide)
        cut, train_part, test_part = split_by_time(examples)
        n_train = len({e.article.id for v in train_part.values() for e in v})
        n_test = len({e.article.id for v in test_part.values() for e in v})
        echo(f"split by time at {cut[:10]}: {n_train} articles to train on, {n_test} later ones held out")
        model_dir = workdir / "model"
        train(guide, train_part, model_dir)
        model = load_model(model_dir)
        metrics = evaluate_model(model, test_part)
        echo("\nheld-out results (articles published after the cut, never seen in training):")
        for name, m in metrics.items():
            echo(format_metrics(name, m))
        test_ids = sorted({e.article.id for v in test_part.values() for e in v})
        articles = list(store.iter_articles(test_ids))
        # Show each article with the stance target its coders used, not only the guide's default.
        targets = {e.article.id: e.target for items in test_part.values() for e in reversed(items) if e.target}
        rows = classify_records(model, articles, [targets.get(a.id) for a in articles])
        store.add_predictions((r["id"], model.id, s, r["targets"].get(s, ""), r["cats"][s], r["labels"][s])
                              for r in rows for s in r["labels"])
        echo("\na few held-out articles as the model labels them:")
        for row in rows[:: max(1, len(rows) // 5)][:5]:
            stance = ", ".join(f"{row['targets'].get(s, '')}: {row['labels'][s][0]} ({max(row['cats'][s].values()):.2f})"
                               for s in row["labels"] if guide.scheme(s).kind == "single")
            echo(f"- [{row['outlet']}, {(row['published'] or '')[:10]}, {row['lang']}] {row['title']}\n"
                 f"    topics: {', '.join(row['labels'].get('topics', []))}; stance {stance}")
    echo(f"\nmacro-F1 per scheme (held out): "
         + ", ".join(f"{name} {m['macro_f1']:.3f}" for name, m in metrics.items()))
    echo(f"store: {workdir / 'newsclf.db'}; model: {model_dir} (card.md, metrics.json); "
         f"{time.perf_counter() - started:.1f} s")
    return metrics
