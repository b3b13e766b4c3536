"""The demo end to end, as `make demo` runs it: the installed console script in a temporary
folder."""

from __future__ import annotations

import json
import re
import sqlite3
import subprocess
import sys
from pathlib import Path

from newsclf.article import Article
from newsclf.store import Store


def newsclf_command() -> list[str]:
    script = Path(sys.executable).with_name("newsclf")
    return [str(script)] if script.exists() else [sys.executable, "-m", "newsclf.cli"]


def test_demo_imports_trains_and_labels_held_out_articles(tmp_path):
    work = tmp_path / "demo"
    done = subprocess.run(
        newsclf_command() + ["demo", "--workdir", str(work)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert done.returncode == 0, done.stderr
    out = done.stdout
    found = dict(
        re.findall(
            r"(\w+) ([01]\.\d{3})", out.split("macro-F1 per scheme (held out):")[1].splitlines()[0]
        )
    )
    assert set(found) == {"about_ai", "topics", "stance"}
    assert all(0.0 < float(v) <= 1.0 for v in found.values())
    assert "rejected lines: 0" in out and "held out" in out
    # The report's estimates rest on a random estimation sample and are scored against all gold
    # labels.
    covered = re.search(r"95% intervals cover (\d+) of (\d+);", out)
    assert (
        "estimation sample:" in out and "the report opens with these cautions:" in out and covered
    )
    assert int(covered.group(2)) >= 10 and int(covered.group(1)) >= 0.8 * int(covered.group(2))
    metrics = json.loads((work / "model" / "metrics.json").read_text())
    assert set(metrics) == {"about_ai", "topics", "stance"}
    with sqlite3.connect(work / "newsclf.db") as conn:
        articles = conn.execute("SELECT COUNT(*) FROM articles").fetchone()[0]
        predicted = conn.execute("SELECT COUNT(DISTINCT article_id) FROM predictions").fetchone()[0]
    assert (
        articles == 149 and 0 < predicted < articles
    )  # only the held-out part is labeled by the model
    # Running it again starts from a fresh store: a kept one would hold the later articles'
    # estimation labels, and training on them would inflate the held-out scores.
    again = subprocess.run(
        newsclf_command() + ["demo", "--workdir", str(work)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert again.returncode == 0 and "starting over in" in again.stdout
    assert f"articles: {articles} new, 0 updated, 0 unchanged" in again.stdout
    held_out = out.split("macro-F1 per scheme (held out):")[1].splitlines()[0]
    assert again.stdout.split("macro-F1 per scheme (held out):")[1].splitlines()[0] == held_out
    # A folder whose store is not the demo's is refused, and its store kept.
    other = tmp_path / "other"
    other.mkdir()
    with Store(other / "newsclf.db") as store:
        store.upsert_article(Article(id="mine", title="Mine", text="A study's own article."))
    refused = subprocess.run(
        newsclf_command() + ["demo", "--workdir", str(other)],
        capture_output=True,
        text=True,
        timeout=300,
    )
    assert refused.returncode != 0 and "not an earlier demo's store" in refused.stderr
    with Store(other / "newsclf.db") as store:
        assert store.count_articles() == 1
