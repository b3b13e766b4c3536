from __future__ import annotations

import json

import numpy as np
from conftest import GUIDE, write_jsonl
from support import make_rows, train_cli

from newsclf.article import Article
from newsclf.guide import load_guide
from newsclf.model.active import (
    label_errors,
    random_sample,
    uncertain_labels,
    uncertainty,
)
from newsclf.model.data import Example
from newsclf.store import Annotation, Store


def test_uncertainty_and_abstention_by_hand():
    P = np.array([[0.9, 0.05, 0.05], [0.4, 0.35, 0.25]])
    assert np.allclose(uncertainty(P, "single"), [1 - 0.85, 1 - 0.05])
    assert uncertain_labels(P, ["a", "b", "c"], "single", 0.8) == [[], ["a"]]
    M = np.array([[0.95, 0.5, 0.1]])
    assert uncertain_labels(M, ["x", "y", "z"], "multi", 0.8) == [["y"]]
    assert uncertainty(M, "multi")[0] == 1.0  # y sits exactly on its threshold


def test_random_sample_is_stratified_by_outlet():
    items = [Article(id=f"{o}{i}", text="t", outlet=o) for o in "abc" for i in range(10)]
    picks = random_sample(items, 6, seed=1)
    assert sorted(p.article.outlet for p in picks) == ["a", "a", "b", "b", "c", "c"]


def test_confident_learning_flags_a_flipped_label():
    scheme = load_guide(GUIDE).scheme("stance")
    examples = [
        Example(Article(id=f"e{i}", text="t"), "OpenAI", [lab])
        for i, lab in enumerate(["favor"] * 5 + ["against"] * 5)
    ]
    P = np.zeros((10, 4))
    P[:5, 0], P[:5, 1] = 0.8, 0.2
    P[5:, 1], P[5:, 0] = 0.8, 0.2
    P[4] = [0.05, 0.9, 0.05, 0.0]  # gold says favor, the model is sure it is against
    rows = label_errors(scheme, examples, P, np.arange(10))
    assert [(r["id"], r["given"], r["model_says"]) for r in rows] == [
        ("e4", ["favor"], ["against"])
    ]


def test_classify_min_confidence_queues_uncertain_articles(run, tmp_path):
    train = write_jsonl(tmp_path / "train.jsonl", make_rows(60, 1))
    assert train_cli(run, train, tmp_path / "m", "--folds", "3").exit_code == 0
    rows = make_rows(20, 5)
    rows[0]["text"] = "Nothing here matches any topic at all, a quiet afternoon in the park."
    new = write_jsonl(tmp_path / "new.jsonl", rows)
    result = run(
        "classify",
        "--model",
        str(tmp_path / "m"),
        str(new),
        "--min-confidence",
        "0.9",
        "--queue",
        "--out",
        str(tmp_path / "p.jsonl"),
    )
    assert result.exit_code == 0, result.output
    out = [json.loads(line) for line in (tmp_path / "p.jsonl").read_text().splitlines()]
    assert all("uncertain" in r and 0 <= r["uncertainty"] <= 1 for r in out)
    flagged = {r["id"] for r in out if any(r["uncertain"].values())}
    assert rows[0]["id"] in flagged
    with Store(tmp_path / "newsclf.db") as store:
        assert {q["article_id"] for q in store.queued("uncertain")} == flagged


def test_suggest_picks_unlabeled_articles_across_outlets(run, tmp_path):
    labeled = make_rows(40, 1)
    unlabeled = [
        {
            **{k: v for k, v in r.items() if k not in ("labels", "target")},
            "outlet": f"outlet{i % 3}",
        }
        for i, r in enumerate(make_rows(30, 9))
    ]
    write_jsonl(tmp_path / "l.jsonl", labeled)
    write_jsonl(tmp_path / "u.jsonl", unlabeled)
    assert (
        run(
            "import", str(tmp_path / "l.jsonl"), str(tmp_path / "u.jsonl"), "--guide", str(GUIDE)
        ).exit_code
        == 0
    )
    assert (
        run("train", "--guide", str(GUIDE), "--out", str(tmp_path / "m"), "--folds", "3").exit_code
        == 0
    )
    result = run(
        "suggest",
        "--model",
        str(tmp_path / "m"),
        "--n",
        "6",
        "--queue",
        "--out",
        str(tmp_path / "s.jsonl"),
    )
    assert result.exit_code == 0, result.output
    picks = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert len(picks) == 6 and {p["id"] for p in picks} <= {r["id"] for r in unlabeled}
    assert {p["outlet"] for p in picks} == {"outlet0", "outlet1", "outlet2"}
    assert all(
        p["reason"].endswith("; diverse batch") for p in picks
    )  # 30 candidates clustered into 6
    with Store(tmp_path / "newsclf.db") as store:
        assert len(store.queued("active")) == 6
    everything = run(
        "suggest", "--model", str(tmp_path / "m"), "--n", "50", "--out", str(tmp_path / "all.jsonl")
    )
    assert everything.exit_code == 0, everything.output
    rows = [json.loads(line) for line in (tmp_path / "all.jsonl").read_text().splitlines()]
    # The 6 queued are not suggested again; the other 24 are all there is, so nothing is left to
    # choose among.
    assert len(rows) == 24 and not {r["id"] for r in rows} & {p["id"] for p in picks}
    assert not any("diverse" in r["reason"] for r in rows)
    assert "24 of 24 unlabeled, unqueued articles suggested" in everything.output


def test_suggest_measures_each_article_for_its_own_target(run, tmp_path):
    """A record's own stance target (as `classify` takes one) is the target its uncertainty is
    measured for."""
    import pytest

    from newsclf.model.active import suggest
    from newsclf.model.features import as_doc
    from newsclf.model.predict import load_model

    train = write_jsonl(tmp_path / "train.jsonl", make_rows(60, 1))
    assert train_cli(run, train, tmp_path / "m", "--folds", "3").exit_code == 0
    model = load_model(tmp_path / "m")
    articles = [
        Article(id=r["id"], text=r["text"], title=r["title"], lang="en") for r in make_rows(12, 7)
    ]
    targets = [None if i % 2 else "Google" for i in range(len(articles))]
    expected = np.zeros(len(articles))
    for name, clf in model.classifiers.items():
        scheme = model.guide.scheme(name)
        P = clf.predict_proba(
            [as_doc(a, scheme.effective_target(t)) for a, t in zip(articles, targets)]
        )
        expected += uncertainty(P, scheme.kind, getattr(clf, "thresholds_", None)) / len(
            model.classifiers
        )
    own = {
        p.article.id: p.score
        for p in suggest(model, articles, len(articles), diverse=False, targets=targets)
    }
    guide_only = {
        p.article.id: p.score for p in suggest(model, articles, len(articles), diverse=False)
    }
    assert own == pytest.approx({a.id: e for a, e in zip(articles, expected)}, abs=1e-4)
    # Untargeted articles score as before; those with a target the texts never mention do not.
    assert all(own[a.id] == guide_only[a.id] for a, t in zip(articles, targets) if t is None)
    assert any(own[a.id] != guide_only[a.id] for a, t in zip(articles, targets) if t)
    with pytest.raises(ValueError, match="3 targets for 12 articles"):
        suggest(model, articles, 2, targets=["Google"] * 3)
    # too many, not only too few
    with pytest.raises(ValueError, match="13 targets for 12 articles"):
        model.predict(articles, targets=["Google"] * 13)


def test_label_errors_cli_finds_planted_flips(run, tmp_path):
    rows = make_rows(60, 2)
    for r in rows[:3]:
        r["labels"]["stance"] = ["favor" if r["labels"]["stance"] == ["against"] else "against"]
    data = write_jsonl(tmp_path / "d.jsonl", rows)
    result = run(
        "label-errors",
        "--guide",
        str(GUIDE),
        "--data",
        str(data),
        "--folds",
        "5",
        "--out",
        str(tmp_path / "e.jsonl"),
    )
    assert result.exit_code == 0, result.output
    flagged = {
        (json.loads(line)["id"], json.loads(line)["scheme"])
        for line in (tmp_path / "e.jsonl").read_text().splitlines()
    }
    assert all((r["id"], "stance") in flagged for r in rows[:3])
    assert len(flagged) <= 6  # few false alarms among 120 labeled items


def test_diverse_subset_takes_one_per_cluster_not_the_top_copies():
    import scipy.sparse as sp

    from newsclf.model.active import diverse_subset

    rng = np.random.default_rng(0)
    centres = np.eye(3, 30) * 5
    X = np.vstack([centres[c] + rng.normal(0, 0.05, 30) for c in (0,) * 12 + (1,) * 4 + (2,) * 4])
    weights = np.r_[np.full(12, 0.9), np.full(8, 0.5)]  # the big cluster is the most uncertain
    picks = diverse_subset(sp.csr_matrix(X), weights, 3)
    assert sorted(0 if i < 12 else 1 if i < 16 else 2 for i in picks) == [0, 1, 2]
    assert len(set(picks)) == 3
    assert diverse_subset(sp.csr_matrix(X[:2]), weights[:2], 3) == [0, 1]


def test_diverse_subset_keeps_every_outlet_when_content_alone_would_not():
    import scipy.sparse as sp

    from newsclf.model.active import diverse_subset

    rng = np.random.default_rng(1)
    X = np.vstack(
        [np.eye(3, 20)[c] * 5 + rng.normal(0, 0.05, 20) for c in (0,) * 8 + (1,) * 8 + (2,) * 8]
    )
    X[3] += rng.normal(0, 0.4, 20)  # inside cluster 0, but never the row nearest its centre
    outlets = ["a"] * 16 + ["b"] * 8
    outlets[3] = "c"
    X, weights = sp.csr_matrix(X), np.full(24, 0.5)
    plain = diverse_subset(X, weights, 3)
    assert sorted(outlets[i] for i in plain) == ["a", "a", "b"]
    picks = diverse_subset(X, weights, 3, strata=outlets)
    assert sorted(outlets[i] for i in picks) == ["a", "b", "c"] and 3 in picks
    assert (
        diverse_subset(X, weights, 3, strata=["x"] * 24) == plain
    )  # nothing to swap: the same picks


def test_candidates_are_the_most_uncertain_plus_each_missing_outlets_best():
    from newsclf.model.active import _with_every_outlet

    articles = [Article(id=str(i), text="t", outlet=o) for i, o in enumerate("aaabacb")]
    order = [0, 1, 2, 4, 3, 5, 6]  # by falling uncertainty
    assert _with_every_outlet(order[:3], order, articles) == [
        0,
        1,
        2,
        3,
        5,
    ]  # b's and c's best added
    assert _with_every_outlet(order[:5], order, articles) == [0, 1, 2, 4, 3, 5]


def _topic_pool() -> list[Article]:
    """30 articles on three topics (20, 5, 5) with their own words, from outlets a and b, plus
    outlet c's one."""
    words = {
        "chip": "chip wafer foundry semiconductor fab",
        "law": "law regulation parliament senate bill",
        "work": "labeler wage contractor annotator pay",
    }
    rng = np.random.default_rng(0)
    pool = []
    for topic, count in (("chip", 20), ("law", 5), ("work", 5)):
        vocab = words[topic].split()
        for i in range(count):
            text = " ".join(rng.choice(vocab, 12)) + f" story{topic}{i}"
            pool.append(Article(id=f"{topic}{i}", text=text, title=topic, outlet="ab"[i % 2]))
    pool[3] = Article(
        id="chip3", text=pool[3].text, title="chip", outlet="c"
    )  # a small outlet, on the big topic
    return pool


def test_representative_first_batch_covers_every_topic_and_outlet():
    from newsclf.model.active import representative

    pool = _topic_pool()
    picks = representative(pool, 3)
    assert sorted(p.article.id.rstrip("0123456789") for p in picks) == ["chip", "law", "work"]
    assert all("representative" in p.reason for p in picks)
    assert [p.score for p in picks] == sorted(
        (p.score for p in picks), reverse=True
    )  # served in pick order
    # Three outlets in four picks: the lone outlet-c article gets in, even though its topic has a
    # pick.
    assert "c" in {p.article.outlet for p in representative(pool, 4)}
    # A random first batch of 3 from this pool misses a topic more often than not.
    topics_in_random = [
        len({p.article.id.rstrip("0123456789") for p in random_sample(pool, 3, seed=s)})
        for s in range(20)
    ]
    assert sum(t < 3 for t in topics_in_random) >= 10


def test_representative_one_per_duplicate_group_and_a_clear_fallback():
    from newsclf.model.active import FIRST_BATCH_CLUSTERS, representative

    pool = _topic_pool()
    groups = {
        f"chip{i}": "chip-wire" for i in range(20)
    }  # the 20 chip stories are one syndicated story
    picks = representative(pool, 6, groups)
    assert (
        sum(p.article.id.startswith("chip") for p in picks) <= 1
        and len({p.article.id for p in picks}) == 6
    )
    wire = {a.id: "wire" + a.id[0] for a in pool}  # three stories, each in many copies
    assert sorted(p.article.id for p in representative(pool, 5, wire)) == ["chip0", "law0", "work0"]
    assert len(representative(pool, 100)) == 30  # asked for more than there is: all of it
    unrelated = [
        Article(id=str(i), text=w, outlet="x")
        for i, w in enumerate(["alpha", "beta", "gamma", "delta"])
    ]
    fallback = representative(unrelated, 2)  # no word in two texts: nothing to cluster on
    assert len(fallback) == 2 and all(p.reason == "random, stratified by outlet" for p in fallback)
    assert FIRST_BATCH_CLUSTERS >= 50


def test_suggest_without_a_model_queues_a_first_batch(run, tmp_path):
    rows = [
        {"id": a.id, "title": a.title, "text": a.text, "outlet": a.outlet, "lang": "en"}
        for a in _topic_pool()
    ]
    write_jsonl(tmp_path / "u.jsonl", rows)
    assert run("import", str(tmp_path / "u.jsonl"), "--guide", str(GUIDE)).exit_code == 0
    result = run("suggest", "--n", "3", "--queue", "--out", str(tmp_path / "s.jsonl"))
    assert result.exit_code == 0, result.output
    picks = [json.loads(line) for line in (tmp_path / "s.jsonl").read_text().splitlines()]
    assert sorted(p["id"].rstrip("0123456789") for p in picks) == ["chip", "law", "work"]
    with Store(tmp_path / "newsclf.db") as store:
        assert {q["article_id"] for q in store.queued("seed")} == {p["id"] for p in picks}
        assert not store.queued("active")


def test_representative_tops_a_batch_bigger_than_its_cluster_cap_up_at_random(monkeypatch):
    import newsclf.model.active as active

    monkeypatch.setattr(active, "FIRST_BATCH_CLUSTERS", 2)
    picks = active.representative(_topic_pool(), 5)
    assert [p.reason.startswith("representative") for p in picks] == [
        True,
        True,
        False,
        False,
        False,
    ]
    assert all(p.reason == "random, stratified by outlet" for p in picks[2:])
    assert len({p.article.id for p in picks}) == 5 and [p.score for p in picks] == [5, 4, 3, 2, 1]


def test_suggest_samples_a_pool_above_the_cap_and_says_so(run, tmp_path, monkeypatch):
    import newsclf.label.queue as queue

    monkeypatch.setattr(queue, "SAMPLE_POOL_CAP", 12)
    rows = [
        {"id": a.id, "title": a.title, "text": a.text, "outlet": a.outlet, "lang": "en"}
        for a in _topic_pool()
    ]
    write_jsonl(tmp_path / "u.jsonl", rows)
    assert run("import", str(tmp_path / "u.jsonl"), "--guide", str(GUIDE)).exit_code == 0
    result = run("suggest", "--n", "3", "--out", str(tmp_path / "s.jsonl"))
    assert result.exit_code == 0, result.output
    assert (
        "3 of 30 unlabeled, unqueued articles suggested (picked from a random 12)" in result.output
    )
    assert len((tmp_path / "s.jsonl").read_text().splitlines()) == 3


def test_suggest_help_names_the_pool_cap_in_force(run):
    # The help text spells the cap out by hand: this keeps it in step with the constant.
    from newsclf.label.queue import SAMPLE_POOL_CAP

    result = run("suggest", "--help")
    assert result.exit_code == 0
    assert f"more than {SAMPLE_POOL_CAP:,} is sampled" in " ".join(result.output.split())


def test_label_errors_from_the_store_refits_only_the_scheme_whose_labels_changed(
    run, tmp_path, monkeypatch
):
    import newsclf.model.train as train_module

    rows = make_rows(40, 3)
    assert run("import", str(write_jsonl(tmp_path / "d.jsonl", rows)), "--guide", str(GUIDE))
    fitted: list[str] = []
    real = train_module.out_of_fold

    def counting(scheme, *args, **kwargs):
        fitted.append(scheme.name)
        return real(scheme, *args, **kwargs)

    monkeypatch.setattr(train_module, "out_of_fold", counting)
    args = ("label-errors", "--guide", str(GUIDE), "--folds", "3")
    first = run(*args)
    assert first.exit_code == 0, first.output
    assert sorted(fitted) == ["stance", "topics"]
    second = run(*args)
    assert second.output == first.output and len(fitted) == 2  # nothing changed: nothing refitted
    # A reviewer's gold label on one article changes the stance items only.
    flipped = "favor" if rows[0]["labels"]["stance"] == ["against"] else "against"
    with Store(tmp_path / "newsclf.db") as store:
        store.upsert_annotation(
            Annotation(rows[0]["id"], "stance", (flipped,), "rita", target="OpenAI", gold=True)
        )
    del fitted[:]
    assert run(*args).exit_code == 0 and fitted == ["stance"]
    assert run(*args[:-1], "4").exit_code == 0 and len(fitted) == 3  # other folds: fitted anew
