"""Kill `newsclf run` and `newsclf batch` with SIGKILL mid-way, run them again: every article once,
none twice.

The real console script runs in a subprocess against the demo site served on 127.0.0.1. The
normal run makes a few kills at chosen points (mid-collect, mid-export, mid-batch); the
`slow` trials kill at random moments many times (NEWSCLF_KILL_TRIALS, default 10).
"""

from __future__ import annotations

import json
import os
import random
import signal
import sqlite3
import subprocess
import sys
import time
from collections import Counter
from pathlib import Path
from typing import Callable

import pytest
from conftest import CORPUS, GUIDE
from support import ARTICLES, site_pages

from newsclf.batch.inputs import write_warc
from newsclf.batch.outputs import read_rows
from newsclf.batch.run import RunLock, export_pending, lock_path, reconcile
from newsclf.batch.shards import output_files
from newsclf.errors import EXIT_LOCKED
from newsclf.guide import load_guide
from newsclf.store import Store

NEWSCLF = Path(sys.executable).parent / "newsclf"
GOLD_IDS = {a.id for a in ARTICLES}
STANCE = load_guide(GUIDE).scheme("stance")


def spawn(*args: object, cwd: Path) -> subprocess.Popen:
    return subprocess.Popen(
        [str(NEWSCLF), *map(str, args)],
        cwd=cwd,
        stdout=subprocess.PIPE,
        stderr=subprocess.PIPE,
        text=True,
        start_new_session=True,
    )


def finish(proc: subprocess.Popen, timeout: float = 120) -> tuple[int, str, str]:
    out, err = proc.communicate(timeout=timeout)
    return proc.returncode, out, err


def kill_when(
    proc: subprocess.Popen, ready: Callable[[], bool], delay: float = 0.0, timeout: float = 90
) -> bool:
    """SIGKILL the process `delay` seconds after ready() first holds; False if it finished first."""
    deadline = time.monotonic() + timeout
    while proc.poll() is None and time.monotonic() < deadline:
        if ready():
            time.sleep(delay)
            if proc.poll() is not None:
                break
            proc.send_signal(signal.SIGKILL)
            proc.communicate()
            # the pool's workers die with their parent (PR_SET_PDEATHSIG); make sure in any case
            try:
                os.killpg(proc.pid, signal.SIGKILL)
            except ProcessLookupError:
                pass
            return True
        time.sleep(0.02)
    proc.communicate()
    return False


def count(db: Path, sql: str) -> int:
    if not db.exists():
        return 0
    try:
        with sqlite3.connect(f"file:{db}?mode=ro", uri=True, timeout=1) as conn:
            return conn.execute(sql).fetchone()[0]
    except sqlite3.Error:
        return 0


def parts(out: Path) -> list[Path]:
    return sorted(p for fmt in ("jsonl", "csv", "parquet") for p in out.glob(f"day=*/part-*.{fmt}"))


def check_run_outputs(db: Path, out: Path) -> None:
    ids = Counter(row["id"] for part in parts(out) for row in read_rows(part))
    assert set(ids) == GOLD_IDS and max(ids.values()) == 1, [i for i, n in ids.items() if n > 1]
    # Every article answers the gate once; the ones it lets through get one topics row and one
    # stance row
    # per target they mention (the guide declares three); the rest are recorded as skipped, with
    # why.
    with sqlite3.connect(db) as conn:
        gate = dict(
            conn.execute(
                "SELECT article_id, labels FROM predictions WHERE scheme = 'about_ai'"
            ).fetchall()
        )
        topics = [
            r[0] for r in conn.execute("SELECT article_id FROM predictions WHERE scheme = 'topics'")
        ]
        skipped = dict(conn.execute("SELECT article_id, reason FROM skipped").fetchall())
    assert set(gate) == GOLD_IDS
    through = {a for a, labels in gate.items() if json.loads(labels) == ["yes"]}
    assert sorted(topics) == sorted(through) and len(GOLD_IDS) // 4 < len(through) < len(GOLD_IDS)
    assert set(skipped) == GOLD_IDS - through and all(
        r.startswith("about_ai: no") for r in skipped.values()
    )
    mentions = sum(
        len(STANCE.mentioned_targets(f"{a.title or ''}\n{a.text}"))
        for a in ARTICLES
        if a.id in through
    )
    assert count(db, "SELECT COUNT(*) FROM predictions WHERE scheme = 'stance'") == mentions > 0
    assert list(out.glob("day=*/.*.tmp")) == []


@pytest.fixture
def feed_job(local_server, batch_model, tmp_path):
    local_server.serve_dir("/", CORPUS / "site")
    feeds = tmp_path / "feeds.txt"
    feeds.write_text(local_server.url("/feed.xml") + "\n", encoding="utf-8")
    db, out = tmp_path / "feeds.db", tmp_path / "out"
    args = (
        "--db",
        db,
        "run",
        "--feeds",
        feeds,
        "--model",
        batch_model,
        "--out",
        out,
        "--min-interval",
        "0",
    )
    return db, out, args


def test_run_killed_mid_collect_and_mid_export_then_rerun_exports_every_article_once(
    feed_job, tmp_path
):
    db, out, args = feed_job
    # 1. killed while collecting (some articles stored, feed not finished)
    assert kill_when(
        spawn(*args, cwd=tmp_path), lambda: count(db, "SELECT COUNT(*) FROM articles") >= 20
    )
    assert 20 <= count(db, "SELECT COUNT(*) FROM articles") < len(GOLD_IDS)
    # 2. killed as soon as the first part file appears (mid-export)
    assert kill_when(spawn(*args, cwd=tmp_path), lambda: bool(parts(out)))
    # 3. runs to the end: reconciles, exports the rest, once
    code, stdout, stderr = finish(spawn(*args, cwd=tmp_path))
    assert code == 0, stderr
    assert stdout.startswith("run: ") and stdout.count("\n") == 1
    check_run_outputs(db, out)
    # 4. nothing new: nothing fetched, classified or exported
    code, stdout, _ = finish(spawn(*args, cwd=tmp_path))
    assert code == 0 and "new 0," in stdout and "classified 0; exported 0 in 0 parts" in stdout


def test_reconcile_adopts_a_part_written_but_not_recorded_and_reexports_a_deleted_one(
    tmp_path, batch_model
):
    from newsclf.batch.run import classify_pending
    from newsclf.batch.shards import get_model

    model = get_model(str(batch_model))
    out = tmp_path / "out"
    with Store(tmp_path / "s.db") as store:
        store.add_articles(ARTICLES[:10])
        classify_pending(store, model)
        export_pending(store, out, model.id, "csv")
        first = parts(out)
        key = str(out.resolve())
        # a kill between the rename and the ledger: the file is there, the store does not know it
        store.forget_export_parts(key, [str(first[0].relative_to(out))])
        deleted = len(read_rows(first[1]))
        first[1].unlink()  # a part deleted by hand: its articles must be exported again
        reconcile(store, out)
        assert export_pending(store, out, model.id, "csv") == (deleted, 1)
    ids = Counter(row["id"] for part in parts(out) for row in read_rows(part))
    assert set(ids) == {a.id for a in ARTICLES[:10]} and max(ids.values()) == 1


def test_second_run_while_one_holds_the_lock_exits_75(feed_job, tmp_path):
    db, out, args = feed_job
    with RunLock(lock_path(db)):
        code, stdout, stderr = finish(spawn(*args, cwd=tmp_path))
    assert code == EXIT_LOCKED == 75
    assert "another newsclf run holds the lock" in stderr and str(lock_path(db)) in stderr
    assert f"pid {os.getpid()}" in stderr and stdout == ""
    assert count(db, "SELECT COUNT(*) FROM articles") == 0


@pytest.fixture
def batch_inputs(tmp_path) -> list[Path]:
    jsonl = tmp_path / "all.jsonl"
    jsonl.write_text("".join(a.to_json() + "\n" for a in ARTICLES), encoding="utf-8")
    warc = tmp_path / "site.warc.gz"
    write_warc(warc, site_pages())
    return [jsonl, warc]


def check_batch_outputs(out: Path, n_pages: int) -> None:
    rows = [row for path in output_files(out) for row in read_rows(path)]
    keys = Counter((row["source"], row["record"]) for row in rows)
    assert max(keys.values()) == 1
    assert Counter(row["id"] for row in rows if row["source"] == "all.jsonl") == Counter(GOLD_IDS)
    assert (
        sum(1 for row in rows if row["source"] == "site.warc.gz") == n_pages - 1
    )  # all but the menu page
    assert [p for p in out.iterdir() if p.name.endswith(".tmp")] == []


def batch_trial(batch_model, inputs, out, cwd, ready, delay=0.0) -> None:
    args = (
        "batch",
        "--model",
        batch_model,
        *inputs,
        "--out",
        out,
        "--workers",
        "2",
        "--shard-size",
        "8",
        "--batch-size",
        "4",
    )
    kill_when(spawn(*args, cwd=cwd), ready, delay)
    code, stdout, stderr = finish(spawn(*args, cwd=cwd))
    assert code == 0, stderr
    assert "0 shards failed" in stdout
    check_batch_outputs(out, len(site_pages()))


def test_batch_killed_after_its_first_shard_then_rerun_writes_every_record_once(
    batch_model, batch_inputs, tmp_path
):
    out = tmp_path / "out"
    batch_trial(batch_model, batch_inputs, out, tmp_path, lambda: any(out.glob("*.done")))


KILL_TRIALS = int(os.environ.get("NEWSCLF_KILL_TRIALS", "10"))


@pytest.mark.slow
def test_kill_and_rerun_trials_at_random_moments(feed_job, batch_model, batch_inputs, tmp_path):
    rng = random.Random(int(os.environ.get("NEWSCLF_KILL_SEED", "4")))
    db, out, args = feed_job
    for trial in range(KILL_TRIALS):
        for path in (db, Path(str(db) + "-wal"), Path(str(db) + "-shm")):
            path.unlink(missing_ok=True)
        for part in parts(out):
            part.unlink()
        for _ in range(rng.randint(1, 3)):
            kill_when(spawn(*args, cwd=tmp_path), lambda: True, delay=rng.uniform(0.5, 8.0))
        code, _, stderr = finish(spawn(*args, cwd=tmp_path))
        assert code == 0, (trial, stderr)
        check_run_outputs(db, out)
        bout = tmp_path / f"batch-{trial}"
        batch_trial(
            batch_model, batch_inputs, bout, tmp_path, lambda: True, delay=rng.uniform(0.5, 6.0)
        )
    print(
        f"kill-and-rerun trials: {KILL_TRIALS} run + {KILL_TRIALS} batch, all outputs exactly once"
    )
