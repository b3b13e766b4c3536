"""The optional frozen-embedding backend (`newsclf train --backend minilm-frozen`), with the real
packaged encoder."""

from __future__ import annotations

import json
import random

import joblib
import numpy as np
from conftest import write_jsonl
from support import (
    assert_spacy_export_labels_as_classify,
    classify_cli,
    make_rows,
    needs_backend,
    train_cli,
)

from newsclf.batch.shards import forks_safely
from newsclf.model.embedding import EmbeddingClassifier

# Training texts say it one way; the texts to label say the same with other words, which only an
# encoder trained on other text can know are the same.
TRAIN_WORDS = {
    "sport": [
        "football team won the match",
        "striker scored a late goal",
        "coach praised the players",
    ],
    "money": [
        "bank raised interest rates",
        "shares fell on the stock market",
        "inflation hit savings",
    ],
}
NEW_WORDS = {
    "sport": [
        "the squad triumphed in the soccer game",
        "the forward netted in the final minute",
        "the manager lauded his athletes",
    ],
    "money": [
        "the lender increased borrowing costs",
        "equities dropped on wall street",
        "rising prices eroded deposits",
    ],
}


def worded(words: dict[str, list[str]], n: int, seed: int) -> tuple[list[dict], list[list[str]]]:
    rng = random.Random(seed)
    docs, labels = [], []
    for i in range(n):
        label = rng.choice(sorted(words))
        docs.append(
            {
                "title": "",
                "lang": "en",
                "target": "",
                "text": f"Report {i}: the {rng.choice(words[label])}.",
            }
        )
        labels.append([label])
    return docs, labels


def test_the_embedding_head_labels_texts_whose_words_training_never_saw(tmp_path, monkeypatch):
    needs_backend()
    from newsclf.model import embedding

    monkeypatch.setattr(
        embedding, "BLEND_WEIGHTS", (0.2,)
    )  # the head in the blend, whatever the data says
    docs, y = worded(TRAIN_WORDS, 80, 0)
    clf = EmbeddingClassifier(kind="single", labels=["money", "sport"]).fit(docs, y)
    assert clf.uses_encoder and clf.linear_weight_ == 0.2 and clf.head_C_ in embedding.HEAD_C_GRID
    new, gold = worded(NEW_WORDS, 30, 1)
    linear_hits = np.mean([p == g for p, g in zip(clf.linear_.predict(new), gold)])
    hits = np.mean([p == g for p, g in zip(clf.predict(new), gold)])
    assert hits >= 0.9 and hits > linear_hits, (hits, linear_hits)
    P = clf.predict_proba(new)
    assert P.shape == (30, 2) and np.allclose(P.sum(axis=1), 1.0)
    joblib.dump(clf, tmp_path / "m.joblib")
    assert (
        tmp_path / "m.joblib"
    ).stat().st_size < 5_000_000  # the frozen encoder comes from the package, not the file
    assert np.array_equal(joblib.load(tmp_path / "m.joblib").predict_proba(new), P)


def test_where_the_blend_is_no_better_the_linear_model_serves_alone():
    needs_backend()
    docs, y = worded(
        TRAIN_WORDS, 80, 0
    )  # the linear model is already right on every out-of-fold doc
    clf = EmbeddingClassifier(kind="single", labels=["money", "sport"]).fit(docs, y)
    assert (
        not clf.uses_encoder
        and clf.linear_weight_ == 1.0
        and clf.head_C_ is None
        and clf.temperature_ == 1.0
    )
    assert np.array_equal(clf.predict_proba(docs[:5]), clf.linear_.predict_proba(docs[:5]))


def test_hashtags_reach_the_encoder_as_words_and_stance_gets_weights_per_frequent_target():
    needs_backend()
    docs = [
        {
            "title": "",
            "lang": "en",
            "target": "Alice" if i % 3 else "Bob",
            "text": (
                f"{'great' if i % 2 else 'awful'} day as the city council met: #CityCouncil"
                f" vote {i}"
            ),
        }
        for i in range(60)
    ]
    y = [["pos"] if i % 2 else ["neg"] for i in range(60)]
    clf = EmbeddingClassifier(
        kind="single", labels=["neg", "pos"], target_aware=True, per_target_min=30
    ).fit(docs, y)
    assert clf.targets_ == ["Alice"]  # 40 docs; Bob's 20 are served by the shared weights
    assert clf._texts(docs[:1]) == ["awful day as the city council met: city council vote 0"]
    X = clf._design(clf.embed(docs[:2]), docs[:2])
    assert X.shape == (2, 2 * 384 + 1)
    assert not X[0, 384:768].any() and X[1, 384:768].any()  # doc 0 is about Bob, doc 1 about Alice


def test_multi_label_blend_calibrates_and_thresholds_every_label(monkeypatch):
    needs_backend()
    from newsclf.model import embedding

    monkeypatch.setattr(
        embedding, "BLEND_WEIGHTS", (0.5,)
    )  # the head in the blend, whatever the data says
    rows = make_rows(90, 2)
    docs = [{"title": r["title"], "text": r["text"], "lang": "en", "target": ""} for r in rows]
    y = [r["labels"]["topics"] for r in rows]
    labels = sorted({x for labels in y for x in labels}) + ["never"]  # a label no training doc has
    clf = EmbeddingClassifier(kind="multi", labels=labels).fit(docs, y)
    assert clf.uses_encoder and clf.linear_weight_ == 0.5 and len(clf.platt_) == len(labels)
    assert (
        clf.thresholds_.shape == (len(labels),)
        and ((clf.thresholds_ > 0) & (clf.thresholds_ < 1)).all()
    )
    new = make_rows(30, 3)
    P = clf.predict_proba(
        [{"title": r["title"], "text": r["text"], "lang": "en", "target": ""} for r in new]
    )
    assert P[:, labels.index("never")].max() < 0.05  # calibrated to its prior, not left to fire
    hits = np.mean([set(p) == set(r["labels"]["topics"]) for p, r in zip(clf.decide(P), new)])
    assert hits >= 0.7, hits


def test_each_text_is_encoded_once_and_a_cached_vector_equals_a_fresh_one(monkeypatch):
    needs_backend()
    from newsclf.model import embedding

    docs, _ = worded(TRAIN_WORDS, 20, 5)
    clf = EmbeddingClassifier(kind="single")
    clf.hashtag_words_ = None
    monkeypatch.setattr(embedding, "_EMBEDDINGS", embedding.OrderedDict())
    encoded = []
    real = EmbeddingClassifier._encode
    monkeypatch.setattr(
        EmbeddingClassifier,
        "_encode",
        lambda self, texts: encoded.extend(texts) or real(self, texts),
    )
    first = clf.embed(docs)
    again = clf.embed(docs[::-1] + docs[:3])
    assert len(encoded) == len(
        {d["text"] for d in docs}
    )  # the second call found every text in the cache
    assert np.array_equal(again[:20], first[::-1]) and np.array_equal(again[20:], first[:3])
    assert np.allclose(
        first, real(clf, clf._texts(docs)), atol=1e-5
    )  # batched by length or not: the same vector
    monkeypatch.setattr(embedding, "EMBEDDING_CACHE", 5)
    clf.embed(worded(NEW_WORDS, 10, 6)[0])
    assert len(embedding._EMBEDDINGS) == 5  # the oldest are dropped


def test_too_few_items_leave_the_linear_model_alone():
    needs_backend()
    docs, y = worded(TRAIN_WORDS, 30, 3)
    clf = EmbeddingClassifier(kind="single", labels=["money", "sport"]).fit(docs, y)
    assert not clf.uses_encoder and clf.linear_weight_ == 1.0
    assert np.array_equal(clf.predict_proba(docs[:5]), clf.linear_.predict_proba(docs[:5]))


def test_a_class_of_one_doc_leaves_the_fold_without_it_out_of_the_choice(monkeypatch):
    needs_backend()
    from newsclf.model import embedding

    chosen_on = []
    monkeypatch.setattr(
        embedding, "blend_quality", lambda kind, Y, P: chosen_on.append(len(Y)) or 0.0
    )
    docs, y = worded(TRAIN_WORDS, 60, 4)
    y[0] = ["other"]  # one doc: no stratified folds, and the one holding it out trains without it
    clf = EmbeddingClassifier(kind="single", labels=["money", "other", "sport"]).fit(docs, y)
    rows = clf.linear_.out_of_fold_[0]
    assert (
        0 in rows
    )  # the linear model's selection kept it (a training part there needs only two classes)
    assert chosen_on and all(n < len(rows) for n in chosen_on)  # its fold's rows are not judged
    P = clf.predict_proba(docs[:3])
    assert P.shape == (3, 3) and np.allclose(P.sum(axis=1), 1.0)


def test_cli_trains_minilm_frozen_and_the_spacy_export_labels_the_same(run, tmp_path):
    needs_backend()
    train = write_jsonl(tmp_path / "train.jsonl", make_rows(120, 5))
    result = train_cli(run, train, tmp_path / "m", "--folds", "2", "--backend", "minilm-frozen")
    assert result.exit_code == 0, result.output
    assert json.loads((tmp_path / "m" / "meta.json").read_text())["backend"] == "minilm-frozen"
    assert "frozen all-MiniLM-L6-v2 sentence embeddings" in (tmp_path / "m" / "card.md").read_text()
    metrics = json.loads((tmp_path / "m" / "metrics.json").read_text())
    assert set(metrics) == {"topics", "stance"} and all(
        "head_C" in m["encoder"] for m in metrics.values()
    )
    data = write_jsonl(tmp_path / "new.jsonl", make_rows(12, 6))
    classified = classify_cli(run, tmp_path / "m", data, tmp_path / "c.jsonl")
    assert len(classified) == 12
    assert not forks_safely(
        tmp_path / "m"
    )  # torch runs in it: batch workers start by spawn, as for minilm
    assert_spacy_export_labels_as_classify(run, tmp_path, data, classified)


def test_an_unknown_backend_is_refused_with_the_choices(run, tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", make_rows(20, 7))
    result = train_cli(run, train, tmp_path / "m", "--backend", "minilm-thawed")
    assert result.exit_code == 2 and "minilm-frozen" in result.output


def test_suggest_spreads_an_encoder_models_batch_over_content_in_its_linear_features():
    needs_backend()
    from types import SimpleNamespace

    from newsclf.article import Article
    from newsclf.model.active import suggest

    docs, y = worded(TRAIN_WORDS, 80, 0)
    clf = EmbeddingClassifier(kind="single", labels=["money", "sport"]).fit(docs, y)
    scheme = SimpleNamespace(kind="single", effective_target=lambda target: target)
    model = SimpleNamespace(
        classifiers={"topic": clf}, guide=SimpleNamespace(scheme=lambda name: scheme)
    )
    pool = [
        Article(id=str(i), text=d["text"], lang="en")
        for i, d in enumerate(worded(NEW_WORDS, 40, 7)[0])
    ]
    picks = suggest(model, pool, 5)
    assert len({p.article.id for p in picks}) == 5
    assert all(p.reason.endswith("; diverse batch") for p in picks), [p.reason for p in picks]
