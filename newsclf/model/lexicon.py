"""English sentiment near a stance target's mentions, from the VADER lexicon (Hutto & Gilbert 2014).

VADER ships its 7,500 human-rated words inside the `vaderSentiment` package, so nothing is
downloaded. What a sentence says of a person named in it is mostly carried by a few evaluative
words next to the name; the lexicon knows the rare ones a few thousand training sentences never
show, and VADER's rules read "not good" and "very good" right.
"""

from __future__ import annotations

import random
import re
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from newsclf.model.features import mention_spans, side_words

_LEXICON_WORD = re.compile(r"[\w']+")  # VADER's entries keep apostrophes ("can't")
N_FEATURES = 9


@lru_cache(maxsize=1)
def _analyzer() -> Any:
    from vaderSentiment.vaderSentiment import SentimentIntensityAnalyzer

    return SentimentIntensityAnalyzer()


def uses_lexicon(docs: Sequence[dict[str, Any]], min_share: float = 0.5) -> bool:
    """True when the docs are mostly English and mostly name their target: lexicon valence then
    informs.

    Tweets that argue against a movement without naming it (most of SemEval-2016) have no words next
    to a mention to read; there the features only add noise (measured on a dev split: -1.6 F_avg).
    """
    if not docs:
        return False
    english = english_share(docs)
    mentioned = np.mean([bool(mention_spans(d)) for d in docs])
    return bool(english >= min_share and mentioned >= min_share)


LANGID_SAMPLE = (
    200  # docs that do not say their language: the English share is estimated from this many
)


def english_share(docs: Sequence[dict[str, Any]]) -> float:
    """Share of the docs in English: by their `lang`, and for those without one ("xx"), by language
    id of a sample.

    A labeled file without a "lang" field must not switch the lexicon off unseen.
    """
    unknown = [i for i, d in enumerate(docs) if (d.get("lang") or "xx") == "xx"]
    english = float(sum(d.get("lang") == "en" for d in docs))
    if unknown:
        from newsclf.language import detect_language

        sample = random.Random(0).sample(unknown, min(LANGID_SAMPLE, len(unknown)))
        english += len(unknown) * float(
            np.mean([detect_language(docs[i].get("text") or "") == "en" for i in sample])
        )
    return english / len(docs)


# Windows whose VADER scores are kept: training reads each doc in every fold and at every C (11
# times on a 5-fold run), and VADER was a fifth of NewsMTSC's training time. Keyed by the window
# (a few hundred characters), never the whole text, so the cache stays small (about 20 MB full).
POLARITY_CACHE = 65536


@lru_cache(maxsize=POLARITY_CACHE)
def _polarity(window: str) -> tuple[float, float, float]:
    """VADER's (compound, pos, neg) scores of a window of text."""
    scores = _analyzer().polarity_scores(window)
    return scores["compound"], scores["pos"], scores["neg"]


class MentionSentiment(BaseEstimator, TransformerMixin):
    """Dense valence features around the target's mentions: VADER scores of the text around the
    first
    mention, and the summed and counted lexicon valence of the words on each side of every mention.
    """

    def __init__(self, radius: int = 100, width: int = 8, max_mentions: int = 10):
        self.radius = radius
        self.width = width
        self.max_mentions = max_mentions

    def fit(self, docs: Sequence[dict[str, Any]], y: Any = None) -> "MentionSentiment":
        """Learn the mean row of the training docs that mention their target (what an unmentioned
        doc gets)."""
        self.fit_transform(docs)
        return self

    def fit_transform(
        self, docs: Sequence[dict[str, Any]], y: Any = None, **fit_params: Any
    ) -> np.ndarray:
        """fit, then transform the same docs, reading each doc once (VADER is most of this block's
        cost)."""
        rows, mentioned = self._rows(docs)
        self.mean_ = (
            rows[mentioned].mean(axis=0)
            if mentioned.any()
            else np.zeros(N_FEATURES, dtype=np.float32)
        )
        return self._fill(rows, mentioned)

    def transform(self, docs: Sequence[dict[str, Any]]) -> np.ndarray:
        """One row of N_FEATURES per doc; the training mean for a doc that never mentions its
        target."""
        return self._fill(*self._rows(docs))

    def _fill(self, rows: np.ndarray, mentioned: np.ndarray) -> np.ndarray:
        # Zeros would read as "neither praised nor blamed", which a model trained only on docs with
        # mentions may map to one side with confidence; the mean adds nothing either way.
        rows[~mentioned] = self.mean_
        return rows

    def _rows(self, docs: Sequence[dict[str, Any]]) -> tuple[np.ndarray, np.ndarray]:
        analyzer = _analyzer()
        rows = np.zeros((len(docs), N_FEATURES), dtype=np.float32)
        mentioned = np.zeros(len(docs), dtype=bool)
        for i, d in enumerate(docs):
            spans = mention_spans(d)[: self.max_mentions]
            if not spans:
                continue
            mentioned[i] = True
            text = d["text"]
            start, end = spans[0]
            scores = _polarity(text[max(0, start - self.radius) : end + self.radius])
            # No "has a mention" column: TargetFeatures has one, and here a column that is 1 on
            # every
            # training doc would act as a second intercept that unmentioned docs lose.
            rows[i, :3] = scores
            rows[i, 3:] = self._side_valence(analyzer.lexicon, text, spans)
        return rows, mentioned

    def _side_valence(
        self, lexicon: dict[str, float], text: str, spans: list[tuple[int, int]]
    ) -> list[float]:
        """Summed valence left and right of the mentions (squashed), and log counts of positive and
        negative words."""
        total = {"L": 0.0, "R": 0.0}
        pos = {"L": 0, "R": 0}
        neg = {"L": 0, "R": 0}
        for start, end in spans:
            left, right = side_words(text, start, end, self.width, _LEXICON_WORD.findall)
            for side, words in (("L", left), ("R", right)):
                for word in words:
                    v = lexicon.get(word, 0.0)
                    total[side] += v
                    pos[side] += v > 0
                    neg[side] += v < 0
        # tanh(sum / 4): a few strong words saturate, as VADER's own compound score does.
        return [
            np.tanh(total["L"] / 4),
            np.tanh(total["R"] / 4),
            np.log1p(pos["L"]),
            np.log1p(neg["L"]),
            np.log1p(pos["R"]),
            np.log1p(neg["R"]),
        ]
