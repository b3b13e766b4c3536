"""Feature extraction: language-aware tokens, character n-grams, and stance-target conditioning.

Inputs are "docs": dicts with keys text, title, lang and target (see `as_doc`). Every transformer
here follows scikit-learn's estimator API so a whole scheme model is one picklable Pipeline.
"""

from __future__ import annotations

import re
from typing import Any, Iterable, Sequence

import numpy as np
from sklearn.base import BaseEstimator, TransformerMixin

from newsclf.article import Article

# spaCy's blank pipelines ship their tokenizer rules with the package: no model download needed.
SPACY_LANGS = {"en", "id"}
_TOKENIZERS: dict[str, Any] = {}
_SENTENCE_SPLIT = re.compile(r"(?<=[.!?…])\s+|\n+")
# Title and lead carry the topic of a long article; repeating them weights them in TF-IDF.
TITLE_REPEAT = 2


def as_doc(article: Article | dict[str, Any], target: str | None = None) -> dict[str, str]:
    """The fields features read, from an Article or a record dict."""
    if isinstance(article, Article):
        text, title, lang = article.text, article.title, article.lang
    else:
        text, title, lang = article.get("text", ""), article.get("title"), article.get("lang")
        target = target or article.get("target")
    return {"text": text or "", "title": title or "", "lang": (lang or "xx").split("-")[0].lower(),
            "target": target or ""}


def spacy_tokenizer(lang: str) -> Any:
    """spaCy's rule-based tokenizer for a language (the multi-language one when spaCy has none)."""
    lang = lang if lang in SPACY_LANGS else "xx"
    if lang not in _TOKENIZERS:
        import spacy  # imported late: it costs a second at start-up and only training/predicting needs it

        _TOKENIZERS[lang] = spacy.blank(lang).tokenizer
    return _TOKENIZERS[lang]


# Cross-validation tokenizes the same texts once per fold; remembering recent results (as joined
# strings, a few KB each) saves most of that work at a bounded cost in memory.
_TOKEN_CACHE: dict[tuple[str, str], str] = {}
TOKEN_CACHE_SIZE = 5_000


def tokenize_docs(texts: Sequence[str], langs: Sequence[str]) -> list[str]:
    """Lowercased tokens per text joined by spaces, each text tokenized by its own language's rules."""
    out: list[str] = ["" for _ in texts]
    by_lang: dict[str, list[int]] = {}
    for i, lang in enumerate(langs):
        lang = lang if lang in SPACY_LANGS else "xx"
        cached = _TOKEN_CACHE.get((lang, texts[i]))
        if cached is not None:
            out[i] = cached
        else:
            by_lang.setdefault(lang, []).append(i)
    for lang, idx in by_lang.items():
        tok = spacy_tokenizer(lang)
        for i, doc in zip(idx, tok.pipe((texts[i] for i in idx), batch_size=256)):
            out[i] = " ".join(t.lower_ for t in doc if not t.is_space and not t.is_punct)
            if len(_TOKEN_CACHE) >= TOKEN_CACHE_SIZE:
                _TOKEN_CACHE.clear()  # crude but bounded; batch prediction streams past it anyway
            _TOKEN_CACHE[(lang, texts[i])] = out[i]
    return out


def split_tokens(text: str) -> list[str]:
    """Split pre-tokenized text on spaces (a named function, so pipelines pickle)."""
    return text.split(" ")


class DocText(BaseEstimator, TransformerMixin):
    """Title (weighted) plus body text, tokenized per language and joined by spaces."""

    def __init__(self, title_repeat: int = TITLE_REPEAT):
        self.title_repeat = title_repeat

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "DocText":
        return self

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        texts = [((d["title"] + "\n") * self.title_repeat) + d["text"] for d in docs]
        return tokenize_docs(texts, [d["lang"] for d in docs])


class RawText(BaseEstimator, TransformerMixin):
    """Title plus body as raw text, for character n-grams."""

    def __init__(self, max_chars: int = 6000):
        self.max_chars = max_chars

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "RawText":
        return self

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        # The lead of a long article says most; capping also bounds the cost of char n-grams.
        return [(d["title"] + "\n" + d["text"])[: self.max_chars].lower() for d in docs]


def target_stems(target: str) -> list[str]:
    """Word stems that mark a mention of the target, e.g. 'AI regulation' -> ['regul'] (also matches 'regulasi')."""
    words = [w.lower() for w in re.findall(r"\w+", target)]
    stems = [w[:5] for w in words if len(w) >= 3]
    return stems or words


class TargetWindow(BaseEstimator, TransformerMixin):
    """The sentences that mention the stance target, prefixed by the target's id; empty when it is absent.

    Stance is about what is said near the target, so these sentences get their own features.
    """

    def __init__(self, max_sentences: int = 12):
        self.max_sentences = max_sentences

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "TargetWindow":
        return self

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        windows = []
        for d in docs:
            stems = target_stems(d["target"]) if d["target"] else []
            hits = []
            if stems:
                for sentence in _SENTENCE_SPLIT.split(d["title"] + ". " + d["text"]):
                    lowered = sentence.lower()
                    if any(re.search(r"\b" + re.escape(s), lowered) for s in stems):
                        hits.append(sentence)
                        if len(hits) >= self.max_sentences:
                            break
            windows.append(" ".join(hits))
        return tokenize_docs(windows, [d["lang"] for d in docs])


class TargetFeatures(BaseEstimator, TransformerMixin):
    """Dense target features: mention count (log), share of sentences mentioning it, and whether it appears at all."""

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "TargetFeatures":
        return self

    def transform(self, docs: Sequence[dict[str, str]]) -> np.ndarray:
        rows = []
        for d in docs:
            stems = target_stems(d["target"]) if d["target"] else []
            sentences = [s for s in _SENTENCE_SPLIT.split(d["title"] + ". " + d["text"]) if s.strip()] or [""]
            hits = sum(1 for s in sentences if stems and any(re.search(r"\b" + re.escape(st), s.lower()) for st in stems))
            title_hit = bool(stems) and any(re.search(r"\b" + re.escape(st), d["title"].lower()) for st in stems)
            rows.append([np.log1p(hits), hits / len(sentences), float(hits > 0), float(title_hit)])
        return np.asarray(rows, dtype=float)


class TargetName(BaseEstimator, TransformerMixin):
    """The target as a single token, so the model can learn per-target priors."""

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "TargetName":
        return self

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        return ["target=" + re.sub(r"\s+", "_", d["target"].lower()) for d in docs]


def docs_from(items: Iterable[Article | dict[str, Any]], targets: Iterable[str | None] | None = None) -> list[dict[str, str]]:
    """as_doc over many items, with an optional parallel list of targets."""
    items = list(items)
    targets = list(targets) if targets is not None else [None] * len(items)
    return [as_doc(item, target) for item, target in zip(items, targets)]
