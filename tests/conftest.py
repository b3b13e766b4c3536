"""Shared test helpers: run the real CLI in temporary folders against real SQLite files."""

from __future__ import annotations

import hashlib
import json
import shutil
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsclf.cli import main

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "label_guides" / "ai-discourse.yaml"
CORPUS = ROOT / "corpora" / "ai-discourse-demo"

pytest_plugins = ["localserver"]  # the real HTTP server on 127.0.0.1 (fixture: local_server)


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke `newsclf ...` in tmp_path with its own store; returns click's Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def _run(*args: str, db: str | None = None):
        full = (["--db", db] if db else ["--db", str(tmp_path / "newsclf.db")]) + [
            str(a) for a in args
        ]
        return runner.invoke(main, full, catch_exceptions=False)

    return _run


def write_jsonl(path: Path, rows: list) -> Path:
    """Write rows (dicts, or raw strings for malformed lines) as JSONL."""
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path


@pytest.fixture(scope="session")
def batch_model(pytestconfig) -> Path:
    """A small model trained on part of the demo corpus, cached between test sessions (keyed by its
    inputs)."""
    from newsclf.guide import load_guide
    from newsclf.model.data import examples_from_store
    from newsclf.model.train import train
    from newsclf.records import import_file
    from newsclf.store import Store

    sources = [
        CORPUS / "articles.jsonl",
        CORPUS / "labels" / "adjudicated.jsonl",
        GUIDE,
        *sorted((ROOT / "newsclf" / "model").glob("*.py")),
    ]
    key = hashlib.sha1(b"".join(p.read_bytes() for p in sources)).hexdigest()[:12]
    cache = Path(pytestconfig.cache.mkdir("newsclf-batch-model"))
    model_dir = cache / key
    if (model_dir / "meta.json").is_file():
        return model_dir
    guide = load_guide(GUIDE)
    work = cache / f"{key}-work"
    shutil.rmtree(work, ignore_errors=True)
    with Store(work / "train.db") as store:
        import_file(store, CORPUS / "articles.jsonl", guide)
        import_file(store, CORPUS / "labels" / "adjudicated.jsonl", guide)
        examples = examples_from_store(store, guide)
    train(
        guide,
        {name: items[:30] for name, items in examples.items()},
        work / "model",
        folds=2,
        split="random",
    )
    (work / "model").rename(model_dir)
    shutil.rmtree(work, ignore_errors=True)
    return model_dir
