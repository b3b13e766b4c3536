"""Shared test helpers: run the real CLI in temporary folders against real SQLite files."""

from __future__ import annotations

import json
from pathlib import Path

import pytest
from click.testing import CliRunner

from newsclf.cli import main

ROOT = Path(__file__).resolve().parents[1]
GUIDE = ROOT / "label_guides" / "ai-discourse.yaml"
CORPUS = ROOT / "corpora" / "ai-discourse-demo"


@pytest.fixture
def run(tmp_path, monkeypatch):
    """Invoke `newsclf ...` in tmp_path with its own store; returns click's Result."""
    monkeypatch.chdir(tmp_path)
    runner = CliRunner()

    def _run(*args: str, db: str | None = None):
        full = (["--db", db] if db else ["--db", str(tmp_path / "newsclf.db")]) + [str(a) for a in args]
        return runner.invoke(main, full, catch_exceptions=False)

    return _run


def write_jsonl(path: Path, rows: list) -> Path:
    """Write rows (dicts, or raw strings for malformed lines) as JSONL."""
    with open(path, "w", encoding="utf-8") as fh:
        for row in rows:
            fh.write((row if isinstance(row, str) else json.dumps(row, ensure_ascii=False)) + "\n")
    return path
