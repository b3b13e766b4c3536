"""Kill `newsclf import` and `newsclf collect` with SIGKILL at random points, rerun: the store
equals a clean run's."""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from pathlib import Path

import pytest
from conftest import CORPUS, GUIDE

NEWSCLF = (
    [str(Path(sys.executable).with_name("newsclf"))]
    if Path(sys.executable).with_name("newsclf").exists()
    else [sys.executable, "-m", "newsclf.cli"]
)


def snapshot(db: Path) -> dict:
    with sqlite3.connect(db) as conn:
        articles = sorted(
            conn.execute(
                "SELECT id, url, canonical_url, title, text, pages, content_hash FROM articles"
            )
        )
        annotations = sorted(
            conn.execute("SELECT article_id, scheme, target, labels, labeler FROM annotations")
        )
        entries = sorted(conn.execute("SELECT feed_url, entry_key, article_id FROM feed_entries"))
    return {"articles": articles, "annotations": annotations, "entries": entries}


def kill_after(args: list[str], delay: float, env: dict, db: Path) -> None:
    """Start the command on a fresh store DB and SIGKILL it after `delay` seconds while it runs.

    The delay is a share of a clean run timed earlier; on a machine less loaded by then the command
    can finish first, and that run proves nothing: start over from an empty store, killing sooner.
    """
    for _ in range(5):
        for path in db.parent.glob(db.name + "*"):  # the store and its -wal and -shm files
            path.unlink()
        proc = subprocess.Popen(
            NEWSCLF + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
        )
        time.sleep(delay)
        if proc.poll() is None:
            os.kill(proc.pid, signal.SIGKILL)
            assert proc.wait() == -signal.SIGKILL
            return
        delay /= 2
    pytest.fail("the command finished before the kill five times: make the input larger")


def big_labeled_file(path: Path, n: int) -> Path:
    rng = random.Random(1)
    topics = ["labor", "safety", "regulation", "industry", "products"]
    with open(path, "w", encoding="utf-8") as fh:
        for i in range(n):
            fh.write(
                json.dumps(
                    {
                        "id": f"k{i}",
                        "title": f"Story {i}",
                        "text": f"Body of story {i}. " * 20,
                        "lang": "en",
                        "labels": {"topics": [rng.choice(topics)]},
                    }
                )
                + "\n"
            )
    return path


def trials(n_normal: int, n_slow: int) -> list:
    return [pytest.param(i, id=f"trial{i}") for i in range(n_normal)] + [
        pytest.param(i, id=f"trial{i}", marks=pytest.mark.slow)
        for i in range(n_normal, n_normal + n_slow)
    ]


@pytest.fixture(scope="module")
def clean_import(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("clean")
    data = big_labeled_file(tmp / "big.jsonl", 30000)
    db = tmp / "clean.db"
    started = time.monotonic()
    subprocess.run(
        NEWSCLF + ["--db", str(db), "import", str(data), "--guide", str(GUIDE)],
        check=True,
        capture_output=True,
    )
    return data, snapshot(db), time.monotonic() - started


@pytest.mark.parametrize("trial", trials(2, 18))
def test_import_killed_and_rerun_equals_clean(trial, clean_import, tmp_path):
    data, clean, clean_seconds = clean_import
    db = tmp_path / "k.db"
    args = ["--db", str(db), "import", str(data), "--guide", str(GUIDE)]
    # A share of the clean run's time: a fixed delay outlived the whole import once it got faster.
    kill_after(args, random.Random(trial).uniform(0.2, 0.8) * clean_seconds, dict(os.environ), db)
    done = subprocess.run(NEWSCLF + args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert snapshot(db) == clean


@pytest.mark.parametrize("trial", trials(1, 9))
def test_collect_killed_and_rerun_equals_clean(trial, local_server, tmp_path):
    local_server.serve_dir("/", CORPUS / "site")
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(local_server.url("/feed.xml") + "\n")
    clean_db = tmp_path / "clean.db"
    started = time.monotonic()
    subprocess.run(
        NEWSCLF + ["--db", str(clean_db), "collect", "--feeds", str(feeds), "--min-interval", "0"],
        check=True,
        capture_output=True,
    )
    clean_seconds = time.monotonic() - started
    db = tmp_path / "k.db"
    args = ["--db", str(db), "collect", "--feeds", str(feeds), "--min-interval", "0"]
    kill_after(
        args, random.Random(100 + trial).uniform(0.2, 0.8) * clean_seconds, dict(os.environ), db
    )
    done = subprocess.run(NEWSCLF + args, capture_output=True, text=True)
    assert done.returncode == 0, done.stderr
    assert snapshot(db) == snapshot(clean_db)
    assert len(snapshot(db)["articles"]) == 149


@pytest.mark.parametrize(
    "trial", trials(0, 5)
)  # slow only: make test has the mixed-directory test (test_model_cli)
def test_train_killed_over_a_model_leaves_a_whole_model_and_the_next_run_cleans_up(tmp_path, trial):
    """Issue #35: a kill while `train` overwrote a model left new weights beside the old
    meta.json."""
    from newsclf.model.predict import load_model

    data = big_labeled_file(tmp_path / "labeled.jsonl", 150)
    env = {**os.environ, "NEWSCLF_DB": str(tmp_path / "db.sqlite")}
    model = tmp_path / "model"
    args = [
        "train",
        "--guide",
        str(GUIDE),
        "--data",
        str(data),
        "--out",
        str(model),
        "--folds",
        "2",
    ]
    started = time.monotonic()
    subprocess.run(NEWSCLF + args, check=True, env=env, capture_output=True, timeout=300)
    seconds = time.monotonic() - started
    old = load_model(model).id
    # Late in the run, where the writing happens (from 60% of a run's time to its end).
    proc = subprocess.Popen(
        NEWSCLF + args, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL, env=env
    )
    time.sleep(seconds * random.Random(trial).uniform(0.6, 1.0))
    os.kill(proc.pid, signal.SIGKILL)
    proc.wait()
    loaded = load_model(
        model
    )  # refuses a directory mixing two trainings: the old model or the new, whole
    assert set(loaded.meta["files"]) >= {
        "model.joblib",
        "guide.yaml",
    }  # every file checked against meta.json
    subprocess.run(NEWSCLF + args, check=True, env=env, capture_output=True, timeout=300)
    assert load_model(model).id != old
    assert sorted(p.name for p in tmp_path.iterdir()) == [
        "labeled.jsonl",
        "model",
    ]  # no temporary dir left
