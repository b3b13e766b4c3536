"""The scheme classifier's parts: exact char n-grams, calibration, C chosen by inner
cross-validation."""

from __future__ import annotations

import pickle
import random
import re

import numpy as np
import pytest
from sklearn.feature_extraction.text import TfidfVectorizer

from newsclf.model.classifier import (
    SchemeClassifier,
    _macro_f1_single,
    fit_class_bias,
    fit_platt,
    fit_temperature,
    long_targets,
)
from newsclf.model.features import (
    CharNgrams,
    KeyTable,
    TargetSimilarity,
    char_ngram_keys,
    count_matrix,
)

TEXTS = [
    "Hello  world, Halo dunia!",
    "AI regulation: the EU Act",
    "dunia AI",
    "Ünïcode façade — test",
    "",
    "x\0y",
]


def _padded(text: str) -> str:
    text = re.sub(r"\s+", " ", text.replace("\0", " ")).strip()
    return f" {text} " if text else " "


def assert_same_rows(A: np.ndarray, B: np.ndarray) -> None:
    """Same features up to column order (strings vs packed integers): each row's multiset of weights
    matches."""
    assert A.shape == B.shape
    for a, b in zip(A, B):
        np.testing.assert_allclose(np.sort(a), np.sort(b), atol=1e-6)


def test_char_ngrams_equal_scikit_learns_char_analyzer():
    ref = TfidfVectorizer(
        analyzer="char",
        ngram_range=(2, 5),
        sublinear_tf=True,
        lowercase=False,
        preprocessor=_padded,
        dtype=np.float32,
    ).fit(TEXTS)
    ours = CharNgrams(ngram_range=(2, 5), min_df=1, max_features=None).fit(TEXTS)
    assert_same_rows(ref.transform(TEXTS).toarray(), ours.transform(TEXTS).toarray())


def test_char_ngrams_never_cross_text_boundaries_and_keep_frequent_ones():
    rows, keys = char_ngram_keys(["ab", "cd"], (2, 2))
    assert rows.tolist().count(0) == 3 and rows.tolist().count(1) == 3
    assert len(keys) == 6  # " a", "ab", "b " and " c", "cd", "d ": nothing spans "b\0c"
    vec = CharNgrams(ngram_range=(2, 2), min_df=2, max_features=1).fit(["aaa", "aab", "xyz"])
    assert len(vec.vocabulary_) == 1
    assert vec.transform(["aa"]).nnz == 1 and vec.transform(["zz"]).nnz == 0
    with pytest.raises(ValueError):
        char_ngram_keys(["abc"], (2, 6))


def test_key_table_finds_what_searchsorted_finds_even_when_keys_collide():
    rng = np.random.default_rng(0)
    vocab = np.unique(
        np.concatenate([rng.integers(0, 1 << 62, 3000), np.arange(500) << 40])
    )  # clustered keys too
    keys = np.concatenate([vocab, rng.integers(0, 1 << 62, 5000), vocab[::7] + 1])
    pos = np.minimum(np.searchsorted(vocab, keys), len(vocab) - 1)
    expected = np.where(vocab[pos] == keys, pos, -1)
    assert np.array_equal(KeyTable(vocab).lookup(keys), expected)
    assert KeyTable(np.zeros(0, np.int64)).lookup(keys[:3]).tolist() == [-1, -1, -1]


def test_the_lookup_table_is_rebuilt_after_unpickling_not_stored():
    import pickle

    vec = CharNgrams(ngram_range=(2, 3), min_df=1).fit(TEXTS)
    before = vec.transform(TEXTS).toarray()
    assert "_key_table" in vec.__dict__
    restored = pickle.loads(pickle.dumps(vec))
    assert (
        "_key_table" in vec.__dict__ and "_key_table" not in restored.__dict__
    )  # pickling leaves vec alone
    assert np.array_equal(restored.transform(TEXTS).toarray(), before)


def test_count_matrix_counts_pairs_with_columns_descending_in_each_row():
    X = count_matrix(np.array([1, 0, 1, 1, 0]), np.array([2, 0, 2, 0, 3]), n_rows=3, n_cols=4)
    assert X.toarray().tolist() == [[1, 0, 0, 1], [1, 0, 2, 0], [0, 0, 0, 0]]
    assert X.indices.tolist() == [3, 0, 2, 0]


def test_temperature_and_platt_fix_overconfident_scores():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 2, 4000)
    true_logit = np.where(y == 1, 1.0, -1.0) + rng.normal(0, 1.5, 4000)
    overconfident = np.column_stack([-true_logit, true_logit]) * 4  # 4x too sharp
    # The calibrated log-odds are 2 * 1 / 1.5**2 = 0.889 per unit of logit; the scores give 8 (2 x
    # 4).
    assert fit_temperature(overconfident, y) == pytest.approx(8 / 0.889, rel=0.1)
    a, b = fit_platt(true_logit * 4, y)
    assert a == pytest.approx(0.889 / 4, rel=0.1) and abs(b) < 0.1


def test_class_offsets_undo_a_constant_lean_towards_one_class():
    rng = np.random.default_rng(0)
    y = rng.integers(0, 3, 600)
    leaning = np.eye(3)[y] * 2 + rng.normal(0, 1, (600, 3)) + np.array([1.5, 0.0, 0.0])
    bias = fit_class_bias(leaning, y)
    assert bias[0] - bias[1:].mean() == pytest.approx(-1.5, abs=0.2)
    before, after = (_macro_f1_single(y, z.argmax(axis=1), 3) for z in (leaning, leaning + bias))
    assert after > before + 0.1, (before, after)


def test_class_offsets_that_would_lower_held_out_macro_f1_are_not_kept():
    # One held-out doc of class 2, scored as class 0: class-balanced, it weighs as much as the 20 of
    # each other class, and the offset that rescues it would take class 0's docs over.
    rng = np.random.default_rng(1)
    y = np.array([0] * 20 + [1] * 20 + [2])
    logits = np.zeros((41, 3))
    logits[:20, 0] = logits[20:40, 1] = 2.0
    logits[:40] += rng.normal(0, 0.7, (40, 3))
    logits[40] = [3.0, 0.0, -3.0]
    bias = fit_class_bias(logits, y)
    assert _macro_f1_single(y, (logits + bias).argmax(axis=1), 3) < _macro_f1_single(
        y, logits.argmax(axis=1), 3
    )
    clf = SchemeClassifier(kind="single")
    clf.classes_ = np.array(["a", "b", "c"])
    assert not clf._class_bias(logits, y).any()


def _skewed_docs(counts: dict[str, int], seed: int) -> tuple[list[dict[str, str]], list[list[str]]]:
    """Docs of three classes, each told by 3 of its own 20 made-up words among common ones."""
    made_up = random.Random(7)
    vocab = {
        c: [
            "".join(
                made_up.choice("bcdfghjklmnpqrstvwz") + made_up.choice("aeiou") for _ in range(3)
            )
            for _ in range(20)
        ]
        for c in sorted(counts)
    }
    common = ["the", "news", "today", "city", "report", "ai", "said", "new"]
    rng = random.Random(seed)
    docs, y = [], []
    for label, n in counts.items():
        for _ in range(n):
            words = rng.sample(vocab[label], 3) + [rng.choice(common) for _ in range(6)]
            docs.append({"text": " ".join(words), "title": "", "lang": "en", "target": ""})
            y.append([label])
    return docs, y


def test_a_topic_model_on_few_labels_does_not_lean_towards_the_class_it_saw_most(monkeypatch):
    docs, y = _skewed_docs({"alpha": 24, "beta": 6, "gamma": 6}, 0)
    test_docs, test_y = _skewed_docs({"alpha": 30, "beta": 30, "gamma": 30}, 100)
    labels = ["alpha", "beta", "gamma"]
    clf = SchemeClassifier(kind="single", labels=labels).fit(docs, y)
    monkeypatch.setattr(
        SchemeClassifier, "_class_bias", lambda self, logits, y: np.zeros(len(self.classes_))
    )
    plain = SchemeClassifier(kind="single", labels=labels).fit(docs, y)
    leaned, fixed = plain.predict(test_docs), clf.predict(test_docs)
    assert sum(p == ["alpha"] for p in leaned) > 45 and sum(p == ["alpha"] for p in fixed) < 40
    assert clf.class_bias_[0] < 0

    def hits(pred: list) -> float:
        return np.mean([p == t for p, t in zip(pred, test_y)])

    assert hits(fixed) > hits(plain.predict(test_docs)) + 0.08, (hits(fixed), hits(leaned))
    P = clf.predict_proba(test_docs)
    assert np.allclose(P.sum(axis=1), 1.0)
    rows, oof = (
        clf.out_of_fold_
    )  # held-out probabilities (the model card's reliability) carry the offsets too
    assert np.allclose(oof.sum(axis=1), 1.0) and len(rows) == len(docs)


def _topic_docs(n: int, seed: int = 0) -> tuple[list[dict[str, str]], list[list[str]]]:
    rng = random.Random(seed)
    words = {
        "labor": "wage labeler contractor pay shift",
        "regulation": "law act parliament rule ban",
    }
    docs, y = [], []
    for i in range(n):
        label = "labor" if i % 2 else "regulation"
        noise = " ".join(
            rng.choice(["the", "news", "today", "city", "report", "ai"]) for _ in range(8)
        )
        text = " ".join(rng.sample(words[label].split(), 3)) + " " + noise
        docs.append({"text": text, "title": "", "lang": "en", "target": ""})
        y.append([label])
    return docs, y


@pytest.mark.parametrize("kind", ["single", "multi"])
def test_c_is_chosen_from_the_grid_and_probabilities_are_calibrated(kind):
    docs, y = _topic_docs(80)
    clf = SchemeClassifier(kind=kind, labels=["labor", "regulation"], C_grid=(0.01, 10.0)).fit(
        docs, y
    )
    assert clf.C_ in (0.01, 10.0)
    test_docs, test_y = _topic_docs(40, seed=1)
    assert sum(p == t for p, t in zip(clf.predict(test_docs), test_y)) >= 38, clf.C_
    P = clf.predict_proba(test_docs)
    assert P.shape == (40, 2) and np.all((P >= 0) & (P <= 1))
    if kind == "single":
        assert np.allclose(P.sum(axis=1), 1.0) and clf.temperature_ > 0
    else:
        assert clf.platt_ is not None and len(clf.thresholds_) == 2


def test_a_fixed_c_skips_the_search_and_tiny_data_falls_back_to_the_default():
    docs, y = _topic_docs(30)
    assert (
        SchemeClassifier(kind="single", labels=["labor", "regulation"], C=2.0).fit(docs, y).C_
        == 2.0
    )
    tiny = SchemeClassifier(kind="single", labels=["labor", "regulation"]).fit(docs[:3], y[:3])
    assert tiny.C_ == 10.0 and tiny.temperature_ == 1.0


def test_similarity_features_switch_on_for_headline_targets_only():
    names = [{"text": "t", "title": "", "lang": "en", "target": "OpenAI"}] * 3
    headlines = [
        {"text": "t", "title": "", "lang": "en", "target": "Apple to buy a small chip maker"}
    ] * 3
    assert not long_targets(names) and long_targets(headlines)
    docs = [
        {
            "text": "The chip maker agreed to the sale. Shares rose.",
            "title": "",
            "lang": "en",
            "target": "Apple to buy chip maker",
        },
        {
            "text": "Rain is expected over the weekend.",
            "title": "",
            "lang": "en",
            "target": "Apple to buy chip maker",
        },
    ]
    F = TargetSimilarity(weight=1.0).fit(docs).transform(docs)
    assert F[0, 0] > F[1, 0] == 0.0  # cosine of target and text
    assert (
        F[0, 2] == pytest.approx(3 / 5) and F[1, 2] == 0.0
    )  # share of target words found in the text


def test_word_ngrams_equal_scikit_learns_on_seen_tokens_and_drop_unseen_ones():
    from newsclf.model.features import WordNgrams, split_tokens

    train = ["the model labels news", "news about the labelers", "the the model"]
    test = train + ["unseen model news words", ""]
    ref = TfidfVectorizer(
        tokenizer=split_tokens,
        token_pattern=None,
        lowercase=False,
        ngram_range=(1, 2),
        sublinear_tf=True,
        dtype=np.float32,
    ).fit(train)
    ours = WordNgrams(ngram_range=(1, 2), min_df=1, max_features=None).fit(train)
    B = ours.transform(test).toarray()
    assert_same_rows(ref.transform(test).toarray(), B)
    assert B[-1].sum() == 0  # an empty text has no features
    # df: the 3, model 2, news 2 (a tie, broken by first appearance): the two kept are 'the' and
    # 'model'
    assert WordNgrams(max_features=2).fit(train).transform(["the model news"]).nnz == 2


def test_mention_windows_mark_sides_mask_the_mention_and_say_when_it_is_absent():
    from newsclf.model.features import (
        NO_MENTION,
        DocText,
        MentionWindow,
        TargetWindow,
        masked_mentions,
    )

    doc = {
        "text": "Critics said OpenAI cut corners. Rain fell.",
        "title": "",
        "lang": "en",
        "target": "OpenAI",
    }
    assert MentionWindow(width=2).transform([doc]) == ["L_critics L_said R_cut R_corners"]
    assert masked_mentions(doc) == "Critics said  targetmention  cut corners. Rain fell."
    assert "openai" not in DocText(mask_mentions=True).transform([doc])[0]
    assert TargetWindow().transform([doc]) == ["critics said openai cut corners"]
    absent = dict(doc, text="Rain fell on the city.")
    assert MentionWindow().transform([absent]) == [NO_MENTION] == TargetWindow().transform([absent])
    spanned = {
        "text": "She said the plan was bold.",
        "title": "",
        "lang": "en",
        "target": "She",
        "target_span": [0, 3],
    }
    assert MentionWindow(width=2).transform([spanned]) == ["R_said R_the"]


def test_lowercased_mention_matching_is_exact_outside_the_listed_case_traps():
    import sys

    from newsclf.model.features import _CASE_TRAPS, find_mentions, mention_pattern

    ascii_word = re.compile(r"[a-z0-9_]", re.IGNORECASE)
    word = re.compile(r"\w")
    for cp in range(sys.maxunicode + 1):
        ch = chr(cp)
        if ch in _CASE_TRAPS:
            continue
        lowered = ch.lower()
        assert len(lowered) == 1, hex(cp)
        # IGNORECASE matches an ASCII stem character exactly when str.lower() gives that character
        lowers_to_ascii_word = lowered.isascii() and bool(ascii_word.fullmatch(lowered))
        assert bool(ascii_word.fullmatch(ch)) == lowers_to_ascii_word, hex(cp)
        assert bool(word.match(ch)) == bool(word.match(lowered)), hex(cp)
    for target, text in [
        ("Straße İstanbul", "İstanbul ıstanbul straſse STRASSE"),
        ("the", "_the the_ xthe The. THE!"),
        ("Ünïcode façade", "ÜNÏCODE FAÇADE ünïcode"),
        ("Kelvin", "\u212aelvin KELVIN"),
        ("", "x"),
    ]:
        pattern = mention_pattern(target)
        assert find_mentions(target, text) == (
            tuple(m.span() for m in pattern.finditer(text)) if pattern else ()
        )


def test_the_sentence_splitter_matches_its_plain_form():
    from newsclf.model.features import _SENTENCE_SPLIT, sentence_spans, sentences_of

    plain = re.compile(r"(?<=[.!?…])\s+|\n+")
    texts = [
        "a.\n\n b",
        ". \n",
        "…  x",
        "x!\t\ny",
        "\n",
        "",
        "a. b.  c",
        "a\u2028b. \u00a0c",
        "end.",
        "x.\r\ny",
        "No break here\tor here. Break! Again? \n\n\nDone",
        "Title. Body text.\nNew line",
        "x\n.\n y",
        "..\n",
        ".\n\n.\n",
        "\n\n.",
        "!\n",
        "a.b",
        "…\n x",
    ]
    for text in texts:
        assert _SENTENCE_SPLIT.split(text) == plain.split(text)
        assert sentences_of(text) == tuple(s for s in plain.split(text) if s.strip())
        assert [text[a:b] for a, b in sentence_spans(text)] == list(sentences_of(text))


def test_word_tokens_equal_the_regexs_on_mixed_scripts_and_punctuation():
    from newsclf.model.features import word_tokens

    rng = random.Random(0)
    alphabet = list("ab Z_9.,'\n\t-") + [
        "\u2019",
        "\u201c",
        "\u00a0",
        "\u2014",
        "é",
        "ß",
        "\u0661",
        "\u00b2",
        "中",
        "\U0001f600",
    ]
    texts = [
        "",
        "plain ascii, words_2 and 3.5",
        "don\u2019t \u201cquote\u201d\u00a0x",
        "café naïve",
        "x\u00b2 \u0661\u0662",
    ]
    texts += ["".join(rng.choice(alphabet) for _ in range(rng.randint(0, 40))) for _ in range(2000)]
    for text in texts:
        assert word_tokens(text) == re.findall(r"\w+", text), text


def test_a_rare_label_is_not_predicted_everywhere():
    # Two articles of 80 carry "rare": in inner folds that lack both, its model does not exist, and
    # those folds must not teach the calibration that low scores mean "rare" (they once did: every
    # article then got the label).
    docs, y = _topic_docs(80)
    for i in (3, 40):  # one text twice: grouped by text, both land in one inner test fold
        docs[i] = dict(docs[3], text=docs[3]["text"] + " volcano eruption ash")
        y[i] = [y[3][0], "rare"]
    clf = SchemeClassifier(kind="multi", labels=["labor", "regulation", "rare"]).fit(docs, y)
    test_docs, _ = _topic_docs(40, seed=1)
    assert sum("rare" in labels for labels in clf.predict(test_docs)) <= 2
    assert all(a > 0 for a, _ in clf.platt_)


def test_predicting_in_chunks_gives_the_same_probabilities(monkeypatch):
    import newsclf.model.classifier as classifier

    docs, y = _topic_docs(60)
    for d in docs:
        d["target"] = "regulation"
    clf = SchemeClassifier(kind="single", labels=["labor", "regulation"], target_aware=True).fit(
        docs, y
    )
    test_docs, _ = _topic_docs(25, seed=2)
    for d in test_docs:
        d["target"] = "regulation"
    whole = clf.predict_proba(test_docs)
    monkeypatch.setattr(classifier, "PREDICT_CHUNK", 7)
    np.testing.assert_array_equal(clf.predict_proba(test_docs), whole)
    assert clf.predict_proba([]).shape == (0, 2)


def test_a_warm_start_along_the_c_grid_reaches_the_cold_fit_of_each_c():
    # Choosing C compares fits warm-started from the previous C; if the solver stops at the start
    # (too loose a tolerance), every C scores like the first and the grid's smallest always wins.
    docs, y = _topic_docs(300)
    rng = random.Random(3)
    y = [
        [rng.choice(["labor", "regulation"])] if rng.random() < 0.2 else labels for labels in y
    ]  # label noise
    clf = SchemeClassifier(kind="single", labels=["labor", "regulation"], C=1.0).fit(docs, y)
    X = clf.features_.transform(docs).tocsr()
    ys = np.array([0 if labels == ["labor"] else 1 for labels in y])
    targets = np.array([""] * len(docs))

    def proba(core):
        return core[0].predict_proba(X)[:, 1]

    warm = clf._fit_core(X, ys, targets, 1.0)
    previous_cold = proba(warm)
    for C in (3.0, 10.0, 30.0):
        warm = clf._fit_core(X, ys, targets, C, previous=warm)
        cold = proba(clf._fit_core(X, ys, targets, C))
        to_own, to_previous = (
            np.abs(proba(warm) - cold).mean(),
            np.abs(proba(warm) - previous_cold).mean(),
        )
        assert to_own < to_previous / 8, (
            C,
            to_own,
            to_previous,
        )  # measured: >= 16x at 1e-4, 2.9x at 1e-3
        previous_cold = cold


def test_hashtags_are_split_into_the_words_training_texts_use():
    """#AbortionIsMurder carries the stance; written out, its words meet the word features learned
    elsewhere."""
    from newsclf.model.features import DocText, HashtagWords

    words = HashtagWords(
        ["abortion is murder, they said", "the pro life youth rally", "feminism is for everyone"]
    )
    assert words.split("abortionismurder") == ["abortion", "is", "murder"]
    assert words.split("prolifeyouth") == ["pro", "life", "youth"]
    assert words.split("semst") == ["semst"]  # nothing known inside: the tag stays whole
    assert words.split("pro" * 30) == ["pro" * 30]  # longer than any tag: not split (bounded cost)
    # Splits are remembered per tag, asked again the same, and not saved with the model.
    assert words.split("abortionismurder") == ["abortion", "is", "murder"]
    restored = pickle.loads(pickle.dumps(words))
    assert restored.cost == words.cost and restored._splits == {} and words._splits
    assert restored.split("prolifeyouth") == ["pro", "life", "youth"]
    docs = [
        {"text": t, "title": "", "lang": "en", "target": ""}
        for t in [
            "abortion is murder, they said",
            "Rock on #AbortionIsMurder",
            "the pro life youth rally",
        ]
    ]
    text = DocText().fit(docs)
    assert text.transform(docs[1:2]) == ["rock on abortionismurder abortion is murder"]
    # Training texts without a hashtag (news) learn nothing, and the text is what it was.
    plain = DocText().fit([docs[0], docs[2]])
    assert plain.hashtag_words_ is None and plain.transform(docs[1:2]) == [
        "rock on abortionismurder"
    ]
    assert DocText(hashtags=False).fit(docs).transform(docs[1:2]) == ["rock on abortionismurder"]


def test_the_model_card_states_the_class_offsets_it_applies():
    from types import SimpleNamespace

    from newsclf.model.train import model_card

    meta = {
        "model_id": "m1",
        "created_at": "2026-12-04",
        "newsclf_version": "0",
        "python": "3",
        "backend": "linear",
        "schemes": {
            "topic": {
                "kind": "single",
                "target": None,
                "train_items": 36,
                "label_counts": {"alpha": 24, "beta": 6, "gamma": 6},
            }
        },
    }
    metrics = {
        "topic": {
            "split": "random",
            "macro_f1": 0.8,
            "macro_f1_ci95": [0.7, 0.9],
            "micro_f1": 0.8,
            "exact_match": 0.8,
            "C": 10.0,
            "class_offsets": {"alpha": -1.12, "beta": 0.38, "gamma": 0.74},
            "labels": {
                c: {"precision": 0.8, "recall": 0.8, "f1": 0.8} for c in ("alpha", "beta", "gamma")
            },
        }
    }
    card = model_card(SimpleNamespace(name="g", version="1"), meta, metrics)
    assert (
        "Class offsets added to the logits" in card
        and "alpha -1.12, beta +0.38, gamma +0.74." in card
    )
    del metrics["topic"]["class_offsets"]
    assert "Class offsets" not in model_card(SimpleNamespace(name="g", version="1"), meta, metrics)


@pytest.mark.parametrize(
    "labels, cats, expected",
    [
        (
            ["labor", "other"],
            {"labor": 0.9, "other": 0.6},
            ["labor"],
        ),  # the others are more probable
        (
            ["labor", "other"],
            {"labor": 0.55, "other": 0.8},
            ["other"],
        ),  # the exclusive label wins alone
        (["other"], {"other": 0.7}, ["other"]),
        (["labor", "safety"], {"labor": 0.7, "safety": 0.6}, ["labor", "safety"]),
    ],
)
def test_a_prediction_never_combines_an_exclusive_label(labels, cats, expected):
    from newsclf.model.predict import keep_exclusive

    assert keep_exclusive(labels, cats, {"other"}) == expected


def test_a_multi_label_model_may_answer_none_of_these_only_when_coders_did():
    from newsclf.model.classifier import decide_labels

    P = np.array([[0.2, 0.1], [0.7, 0.1]])
    classes, t = np.array(["labor", "safety"]), np.array([0.5, 0.5])
    assert decide_labels(P, classes, "multi", t) == [["labor"], ["labor"]]
    assert decide_labels(P, classes, "multi", t, allow_empty=True) == [[], ["labor"]]


def test_training_from_a_store_with_none_of_these_answers_folds_and_learns_them(run, tmp_path):
    """A labeler's `0` (none of these) is an empty label set: cross-validation must stratify it, not
    crash."""
    from conftest import GUIDE, write_jsonl
    from support import make_rows

    from newsclf.model.predict import load_model
    from newsclf.store import Annotation, Store

    rows = make_rows(40, 7)
    assert run("import", write_jsonl(tmp_path / "a.jsonl", rows), "--guide", GUIDE).exit_code == 0
    extra = [
        {
            "id": f"none{i}",
            "title": "Harvest",
            "text": f"Farmers in valley {i} expect a good rice harvest.",
            "lang": "en",
            "published": "2023-03-0{}T08:00:00+00:00".format(1 + i % 9),
        }
        for i in range(8)
    ]
    assert run("import", write_jsonl(tmp_path / "b.jsonl", extra)).exit_code == 0
    with Store(
        tmp_path / "newsclf.db"
    ) as store:  # as the page stores key 0: the scheme answered, no label
        store.add_annotations(Annotation(r["id"], "topics", (), "ana", "") for r in extra)
    result = run(
        "train", "--guide", GUIDE, "--out", tmp_path / "m", "--folds", "3", "--split", "random"
    )
    assert result.exit_code == 0, result.output
    assert load_model(tmp_path / "m").classifiers["topics"].allow_empty_
