"""English lexicon valence next to a stance target's mentions (VADER, shipped in its package)."""

from __future__ import annotations

import random

import numpy as np

from newsclf.model.classifier import SchemeClassifier
from newsclf.model.lexicon import MentionSentiment, uses_lexicon

PEOPLE = [
    "Alice Moreau",
    "Budi Santoso",
    "Carla Jensen",
    "Dewi Lestari",
    "Evan Price",
    "Farah Nasser",
]
FILLER = [
    "said on Tuesday",
    "in a statement",
    "according to the ministry",
    "before the vote",
    "after the hearing",
]


def doc(text: str, target: str, lang: str = "en") -> dict[str, str]:
    return {"text": text, "title": "", "lang": lang, "target": target}


def test_features_read_the_words_next_to_the_mention_and_the_mean_without_one():
    docs = [
        doc("Critics called Alice Moreau brilliant and admirable.", "Alice Moreau"),
        doc("Critics called Alice Moreau pathetic and dreadful.", "Alice Moreau"),
        doc("The committee met on Tuesday.", "Alice Moreau"),
    ]
    rows = MentionSentiment().fit(docs).transform(docs)
    assert rows.shape == (3, 9)
    assert rows[0, 0] > 0.5 > -0.5 > rows[1, 0]  # VADER compound around the mention
    assert rows[0, 4] > 0 > rows[1, 4]  # summed valence right of the mentions
    assert (
        rows[0, 7] > 0 == rows[0, 8] and rows[1, 8] > 0 == rows[1, 7]
    )  # positive / negative words on the right
    np.testing.assert_allclose(rows[2], rows[:2].mean(axis=0), atol=1e-6)


def test_lexicon_is_used_only_for_english_docs_that_name_their_target():
    named = [doc(f"{p} {f}.", p) for p in PEOPLE for f in FILLER]
    assert uses_lexicon(named)
    assert not uses_lexicon([doc(f"{p} {f}.", p, lang="id") for p in PEOPLE for f in FILLER])
    assert not uses_lexicon([doc(f"Nobody is named here {f}.", p) for p in PEOPLE for f in FILLER])
    assert not uses_lexicon([])
    # Docs that do not say their language ("xx", as a file without "lang" gives) are identified by
    # their text.
    english = [
        doc(f"Reporters said {f} that {p} had spoken to the committee.", p, lang="xx")
        for p in PEOPLE
        for f in FILLER
    ]
    assert uses_lexicon(english)
    indonesian = [
        doc(
            f"Wartawan mengatakan pada hari Selasa bahwa {p} telah berbicara kepada panitia tentang"
            " anggaran.",
            p,
            lang="xx",
        )
        for p in PEOPLE
        for _ in FILLER
    ]
    assert not uses_lexicon(indonesian)


def test_lexicon_carries_sentiment_words_never_seen_in_training():
    """Trained on one set of evaluative words, judged on others: only the lexicon knows the new
    ones."""
    rng = random.Random(0)
    train_words = {
        "favor": ["wonderful", "great", "excellent"],
        "against": ["terrible", "awful", "horrible"],
    }
    test_words = {
        "favor": ["superb", "magnificent", "brilliant"],
        "against": ["pathetic", "dreadful", "lousy"],
    }

    def rows(words: dict[str, list[str]], n: int) -> tuple[list[dict[str, str]], list[list[str]]]:
        docs, labels = [], []
        for i in range(n):
            label = "favor" if i % 2 else "against"
            person = rng.choice(PEOPLE)
            docs.append(
                doc(
                    f"Observers said {person} was {rng.choice(words[label])} {rng.choice(FILLER)}.",
                    person,
                )
            )
            labels.append([label])
        return docs, labels

    X, y = rows(train_words, 120)
    T, gold = rows(test_words, 60)
    accuracy = {}
    for lexicon in (True, False):
        model = SchemeClassifier(kind="single", target_aware=True, sentiment_lexicon=lexicon).fit(
            X, y
        )
        assert model.lexicon_ is lexicon
        accuracy[lexicon] = np.mean([p == g for p, g in zip(model.predict(T), gold)])
    assert accuracy[True] >= 0.9 and accuracy[False] <= 0.7, accuracy
    assert (
        SchemeClassifier(kind="single", target_aware=True).fit(X, y).lexicon_
    )  # "auto" turns it on here
