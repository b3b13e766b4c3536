from __future__ import annotations

import numpy as np
import pytest

from newsclf.article import Article
from newsclf.errors import InputError
from newsclf.model.evaluate import bootstrap_macro_f1, indicator, scheme_metrics
from newsclf.model.splits import make_folds, resolve_split


def test_metrics_match_a_hand_computed_example():
    gold = [["a"], ["a"], ["b"], ["b"], ["c"]]
    pred = [["a"], ["b"], ["b"], ["b"], ["a"]]
    m = scheme_metrics(gold, pred, ["a", "b", "c", "d"], kind="single")
    # a: P 1/2, R 1/2, F1 .5; b: P 2/3, R 1, F1 .8; c: 0; d never occurs and is never predicted:
    # left out.
    assert (
        m["labels"]["a"]["f1"] == 0.5
        and m["labels"]["b"]["f1"] == 0.8
        and m["labels"]["c"]["f1"] == 0.0
    )
    assert m["macro_f1"] == round((0.5 + 0.8 + 0.0) / 3, 4)
    assert m["confusion"]["matrix"][0] == [1, 1, 0, 0] and m["confusion"]["matrix"][2] == [
        1,
        0,
        0,
        0,
    ]
    low, high = m["macro_f1_ci95"]
    assert 0.0 <= low <= m["macro_f1"] <= high <= 1.0


def test_multi_label_confusion_counts():
    m = scheme_metrics([["x", "y"], ["y"]], [["x"], ["x", "y"]], ["x", "y"])
    assert m["confusion"]["x"] == {"tp": 1, "fp": 1, "fn": 0, "tn": 0}
    assert m["confusion"]["y"] == {"tp": 1, "fp": 0, "fn": 1, "tn": 0}


def test_bootstrap_interval_is_degenerate_for_a_perfect_model():
    T = indicator([["a"], ["b"]] * 20, ["a", "b"])
    assert bootstrap_macro_f1(T, T) == (1.0, 1.0)


def arts(n):
    return [
        Article(
            id=f"a{i}",
            text="t",
            outlet=f"o{i % 4}",
            published=f"2023-0{1 + i % 9}-01T00:00:00+00:00",
        )
        for i in range(n)
    ]


def test_outlet_split_never_puts_an_outlet_on_both_sides():
    items = arts(40)
    folds = make_folds(items, ["x"] * 40, "outlet", 4)
    assert len(folds) == 4
    for train, test in folds:
        assert not {items[i].outlet for i in train} & {items[i].outlet for i in test}


def test_time_split_tests_only_on_later_articles():
    items = arts(40)
    for train, test in make_folds(items, ["x"] * 40, "time", 3):
        assert max(items[i].published for i in train) <= min(items[i].published for i in test)


def test_auto_split_prefers_outlet_then_time_and_bad_names_are_clear():
    assert resolve_split("auto", arts(40), 4) == "outlet"
    assert (
        resolve_split(
            "auto", [Article(id=str(i), text="t", published="2023-01-01") for i in range(20)], 5
        )
        == "time"
    )
    assert resolve_split("auto", [Article(id=str(i), text="t") for i in range(20)], 5) == "random"
    with pytest.raises(InputError, match="unknown split 'by-moon'"):
        resolve_split("by-moon", arts(4), 2)
    with pytest.raises(InputError, match="at least 2 distinct values of 'lang'"):
        make_folds(arts(10), ["x"] * 10, "group:lang", 3)


def test_reliability_bins_and_ece_match_hand_computation():
    from newsclf.model.evaluate import reliability

    # single: predicted-label confidences .95 (right), .95 (wrong), .65 (right), .65 (right)
    P = np.array([[0.95, 0.05], [0.95, 0.05], [0.35, 0.65], [0.35, 0.65]])
    gold = [["a"], ["b"], ["b"], ["b"]]
    cal = reliability(gold, P, ["a", "b"], "single")
    assert [(b["low"], b["n"], b["observed"]) for b in cal["bins"]] == [
        (0.6, 2, 1.0),
        (0.9, 2, 0.5),
    ]
    # ECE = 2/4 * |1 - .65| + 2/4 * |.5 - .95| = .175 + .225
    assert cal["ece"] == pytest.approx(0.4)
    multi = reliability([["x"], []], np.array([[0.8], [0.2]]), ["x"], "multi")
    assert multi["ece"] == pytest.approx(0.2)  # (|1-.8| + |0-.2|) / 2
