"""Who gets which article: the samples, leases, overlap, undo; concurrent labelers over real HTTP;
review."""

from __future__ import annotations

import threading
import time
from collections import Counter, defaultdict

from label_support import (
    GUIDE,
    add_labeler,
    current_answers,
    demo_store,
    login,
    prepare,
    serving,
)

from newsclf.label.queue import highlight, kind_order, lease_next
from newsclf.model.data import examples_from_store
from newsclf.store import Annotation, Store


def test_samples_are_disjoint_stratified_and_topped_up_not_redrawn(tmp_path):
    store = demo_store(tmp_path / "q.db")
    added = prepare(store, reliability=18, estimation=20, seed=10)
    assert added == {"reliability": 18, "estimation": 20, "seed": 10}
    kinds = {
        k: {q["article_id"] for q in store.queued(k)} for k in ("reliability", "estimation", "seed")
    }
    assert not (kinds["reliability"] & kinds["estimation"]) and not (
        kinds["seed"] & kinds["reliability"]
    )
    outlets = Counter(store.get_article(a).outlet for a in kinds["reliability"])
    assert (
        len(outlets) == 9 and max(outlets.values()) - min(outlets.values()) <= 1
    )  # 9 outlets, 2 each
    assert prepare(store, reliability=18, estimation=20, seed=10) == {
        "reliability": 0,
        "estimation": 0,
        "seed": 0,
    }
    assert prepare(store, reliability=20, estimation=20, seed=10)["reliability"] == 2


def test_leases_overlap_lapses_and_undo(tmp_path):
    store = demo_store(tmp_path / "q.db")
    store.enqueue(
        [
            ("3bcd53f1ea5083c6", "reliability", 1.0, None),
            ("039f5f8439a4cd4f", "estimation", 1.0, None),
        ]
    )
    rel, est = "3bcd53f1ea5083c6", "039f5f8439a4cd4f"
    order = ["reliability", "estimation"]
    assert lease_next(store, "a", order, 2, 60) == (rel, "reliability")
    assert lease_next(store, "a", order, 2, 60) == (
        rel,
        "reliability",
    )  # a reload shows the same article
    assert lease_next(store, "b", order, 2, 60) == (rel, "reliability")
    assert lease_next(store, "c", order, 2, 60) == (est, "estimation")  # two coders hold it: full
    assert lease_next(store, "d", order, 2, 60) is None
    # b's lease lapses and d takes the slot; b cannot save any more, and is not given it again.
    store.conn.execute("UPDATE assignments SET leased_until = 0 WHERE labeler = 'b'")
    assert lease_next(store, "d", order, 2, 60) == (rel, "reliability")

    def anns(who: str) -> list[Annotation]:
        return [
            Annotation(rel, "topics", ("labor",), who),
            Annotation(rel, "stance", ("neutral",), who, "OpenAI"),
        ]

    store.finish_item("a", rel, anns("a"), 3.0, "done", 2)
    store.finish_item("d", rel, anns("d"), 3.0, "done", 2)
    try:
        store.finish_item("b", rel, anns("b"), 3.0, "done", 2)
        raise AssertionError("a lapsed lease over a full article must not save")
    except Exception as exc:  # InputError
        assert "ran out" in str(exc)
    assert lease_next(store, "b", order, 2, 60) is None  # estimation item is c's
    assert sorted({a.labeler for a in store.annotations(article_id=rel)}) == ["a", "d"]
    # Labels coded on the page carry the sample their queue kind names (reports rectify with
    # 'estimation' only).
    assert {a.sample for a in store.annotations(article_id=rel)} == {"reliability"}
    store.finish_item("c", est, [Annotation(est, "topics", ("labor",), "c")], 2.0, "done", 2)
    assert [a.sample for a in store.annotations(article_id=est)] == ["estimation"]
    # Undo gives the article back to its coder and removes their labels, and only theirs.
    assert store.undo_last("a", 60) == rel
    assert sorted({a.labeler for a in store.annotations(article_id=rel)}) == ["d"]
    assert lease_next(store, "a", order, 2, 60) == (rel, "reliability")
    assert store.undo_last("zed", 60) is None


def test_kind_order_rotates_and_mentions_are_whole_words():
    assert kind_order(0)[:2] == ["reliability", "estimation"]
    assert (
        kind_order(1)[0] == "estimation"
        and kind_order(2)[0] == "active"
        and kind_order(3) == kind_order(0)
    )
    assert highlight("OpenAI and openai, not OpenAIish.", ["OpenAI"]) == [
        ("OpenAI", "OpenAI"),
        (" and ", ""),
        ("openai", "OpenAI"),
        (", not OpenAIish.", ""),
    ]
    assert highlight("plain", []) == [("plain", "")]


class FakeModel:
    """Suggests 'labor' and 'against' for everything."""

    classifiers = {"topics": None, "stance": None}

    def predict(self, articles):
        return [{"labels": {"topics": ["labor"], "stance": ["against"]}} for _ in articles]


def test_suggestions_are_marked_and_never_shown_in_the_reliability_sample(tmp_path):
    db = tmp_path / "q.db"
    store = demo_store(db)
    store.enqueue(
        [("3bcd53f1ea5083c6", "reliability", 2.0, None), ("039f5f8439a4cd4f", "active", 1.0, None)]
    )
    token = add_labeler(store, "ana")
    with serving(db, model=FakeModel()) as url:
        s, csrf = login(url, token)
        page = s.get(url + "/code", timeout=10).text
        assert 'data-article-id="3bcd53f1ea5083c6"' in page and "model suggests" not in page
        s.post(
            url + "/code/skip",
            data={"article_id": "3bcd53f1ea5083c6", "csrf_token": csrf},
            timeout=10,
        )
        page = s.get(url + "/code", timeout=10).text
        assert 'data-article-id="039f5f8439a4cd4f"' in page
        assert page.count('class="label suggested"') == 2  # labor, against, each with its badge
        assert "checked" not in page  # suggestions are highlighted, not chosen for the coder


def test_concurrent_labelers_never_repeat_and_overlap_is_exact(tmp_path):
    db = tmp_path / "q.db"
    store = demo_store(db)
    prepare(store, reliability=12, estimation=10, seed=10)
    names = ["ana", "budi", "citra"]
    tokens = {n: add_labeler(store, n) for n in names}
    served: dict[str, list[str]] = defaultdict(list)
    errors: list[str] = []
    with serving(db, overlap=2) as url:

        def work(name: str) -> None:
            try:
                s, csrf = login(url, tokens[name])
                for _ in range(60):
                    item, form = current_answers(s, url)
                    if item is None:
                        return
                    served[name].append(item)
                    r = s.post(
                        url + "/code/submit",
                        data=form + [("article_id", item), ("seconds", "1"), ("csrf_token", csrf)],
                        timeout=10,
                    )
                    if r.status_code != 200:
                        errors.append(f"{name}: {r.status_code} {r.text[:200]}")
                        return
            except Exception as exc:  # noqa: BLE001 - reported below
                errors.append(f"{name}: {exc!r}")

        threads = [threading.Thread(target=work, args=(n,)) for n in names]
        start = time.monotonic()
        for t in threads:
            t.start()
        for t in threads:
            t.join(60)
        assert time.monotonic() - start < 60
    assert errors == []
    for name in names:
        assert len(served[name]) == len(set(served[name])), f"{name} got an article twice"
    coders: dict[str, set[str]] = defaultdict(set)
    for ann in Store(db).annotations():
        coders[ann.article_id].add(ann.labeler)
    reliability = {q["article_id"] for q in store.queued("reliability")}
    others = {q["article_id"] for k in ("estimation", "seed") for q in store.queued(k)}
    assert {a: len(c) for a, c in coders.items() if a in reliability} == {a: 2 for a in reliability}
    assert {a: len(c) for a, c in coders.items() if a in others} == {a: 1 for a in others}
    assert set(coders) == reliability | others


def test_review_settles_a_disagreement_as_gold_and_keeps_who_decided(tmp_path):
    db = tmp_path / "q.db"
    store = demo_store(db)
    a, b = "3bcd53f1ea5083c6", "039f5f8439a4cd4f"
    store.add_annotations(
        [
            Annotation(a, "topics", ("labor",), "ana"),
            Annotation(a, "topics", ("labor", "safety"), "budi"),
            Annotation(a, "topics", ("labor",), "citra"),
            Annotation(b, "stance", ("favor",), "ana", "OpenAI"),
            Annotation(b, "stance", ("against",), "budi", "OpenAI"),
            Annotation(b, "topics", ("industry",), "ana"),
            Annotation(b, "topics", ("industry",), "budi"),
        ]
    )
    token = add_labeler(store, "rita", "reviewer")
    with serving(db) as url:
        s, csrf = login(url, token)
        page = s.get(url + "/review", timeout=10).text
        assert "Item 1 of 2" in page and a in page
        assert 'value="topics:labor" data-key="1" checked' in page  # majority preselected
        r = s.post(
            url + "/review/decide",
            data={
                "article_id": a,
                "scheme": "topics",
                "target": "",
                "label": ["labor"],
                "csrf_token": csrf,
            },
            timeout=10,
        )
        assert r.status_code == 200 and "Item 1 of 1" in r.text and b in r.text
        s.post(
            url + "/review/decide",
            data={
                "article_id": b,
                "scheme": "stance",
                "target": "OpenAI",
                "label": ["neutral"],
                "csrf_token": csrf,
            },
            timeout=10,
        )
        assert "No disagreements left" in s.get(url + "/review", timeout=10).text
        again = s.post(
            url + "/review/decide",
            data={
                "article_id": b,
                "scheme": "stance",
                "target": "OpenAI",
                "label": ["favor"],
                "csrf_token": csrf,
            },
            timeout=10,
        )
        assert again.status_code == 200  # a reviewer may revise their own decision
    reviews = store.reviews()
    assert [(r["article_id"], r["reviewer"], r["labels"], r["method"]) for r in reviews] == [
        (a, "rita", ["labor"], "accepted majority"),
        (b, "rita", ["neutral"], "chosen by reviewer"),
        (b, "rita", ["favor"], "chosen by reviewer"),
    ]
    assert reviews[1]["coder_labels"] == {"ana": ["favor"], "budi": ["against"]}
    gold = [x for x in store.annotations() if x.gold]
    assert {(x.article_id, x.scheme, x.labels, x.labeler) for x in gold} == {
        (a, "topics", ("labor",), "rita"),
        (b, "stance", ("favor",), "rita"),
    }
    stance = {e.article.id: e.labels for e in examples_from_store(store, GUIDE)["stance"]}
    assert stance[b] == ["favor"]  # training uses the reviewer's decision


def test_a_target_recorded_as_not_mentioned_neither_votes_nor_trains():
    from newsclf.model.data import resolve

    stance = GUIDE.scheme("stance")
    absent = [
        Annotation("a", "stance", (), "ana", "Elon Musk"),
        Annotation("a", "stance", (), "budi", "Elon Musk"),
    ]
    assert resolve(absent, stance) is None
    assert resolve(
        absent + [Annotation("a", "stance", ("favor",), "citra", "Elon Musk")], stance
    ) == ["favor"]
    none_of_these = [Annotation("a", "topics", (), "rita", gold=True)]
    assert resolve(none_of_these, GUIDE.scheme("topics")) == []
