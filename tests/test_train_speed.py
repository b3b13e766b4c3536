"""Training in parallel (--jobs) gives the same model as in one process; --no-cv keeps the previous metrics, marked."""

from __future__ import annotations

import json
import os

import numpy as np
import pytest
from click.testing import CliRunner

from conftest import GUIDE, write_jsonl
from newsclf.article import Article
from newsclf.cli import main
from newsclf.model.features import as_doc
from newsclf.model.predict import load_model
from newsclf.model.train import run_tasks
from test_model_cli import make_rows


def _pid(*_: object) -> int:
    return os.getpid()


def _train(tmp, train_file, out, *extra):
    result = CliRunner().invoke(main, ["--db", str(tmp / "db.sqlite"), "train", "--guide", str(GUIDE),
                                       "--data", str(train_file), "--out", str(out), "--folds", "3", *extra],
                                catch_exceptions=False)
    assert result.exit_code == 0, result.output
    return result


@pytest.fixture(scope="module")
def data(tmp_path_factory):
    tmp = tmp_path_factory.mktemp("speed")
    return tmp, write_jsonl(tmp / "train.jsonl", make_rows(60, 1)), make_rows(20, 2)


def test_run_tasks_uses_other_processes_only_when_asked():
    tasks = [(_pid, (None, None, [0] * 10))] * 4
    assert set(run_tasks(tasks, jobs=1)) == {os.getpid()}
    assert os.getpid() not in run_tasks(tasks, jobs=2)


def test_jobs_1_and_2_train_the_same_model_and_metrics(data):
    tmp, train_file, test_rows = data
    _train(tmp, train_file, tmp / "one", "--jobs", "1")
    _train(tmp, train_file, tmp / "two", "--jobs", "2")
    one, two = (json.loads((tmp / d / "metrics.json").read_text()) for d in ("one", "two"))
    assert set(one) == {"topics", "stance"}
    assert one == two
    m1, m2 = load_model(tmp / "one"), load_model(tmp / "two")
    docs = [as_doc(Article(id=r["id"], title=r["title"], text=r["text"], lang="en"), "OpenAI") for r in test_rows]
    for scheme in ("topics", "stance"):
        c1, c2 = m1.pipeline(scheme), m2.pipeline(scheme)
        assert c1.C_ == c2.C_
        np.testing.assert_array_equal(c1.predict_proba(docs), c2.predict_proba(docs))
