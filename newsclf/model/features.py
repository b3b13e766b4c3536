"""Feature extraction: language-aware tokens, character n-grams, and stance-target conditioning.

Inputs are "docs": dicts with keys text, title, lang and target (see `as_doc`). Every transformer
here follows scikit-learn's estimator API so a whole scheme model is one picklable Pipeline.
"""

from __future__ import annotations

import hashlib
import re
from bisect import bisect_right
from collections import OrderedDict
from contextlib import contextmanager, suppress
from dataclasses import dataclass
from functools import lru_cache, update_wrapper
from itertools import repeat
from typing import Any, Callable, Iterable, Iterator, Self, Sequence

import numpy as np
import scipy.sparse as sp
from sklearn.base import BaseEstimator, TransformerMixin
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.preprocessing import normalize

from newsclf.article import Article

# spaCy's blank pipelines ship their tokenizer rules with the package: no model download needed.
SPACY_LANGS = {"en", "id"}
_TOKENIZERS: dict[str, Any] = {}
# Sentence breaks: whitespace after . ! ? …, or newlines; i.e. (?<=[.!?…])\s+|\n+, written to
# begin with \s so the regex engine skips ahead to whitespace (2x faster, the same matches).
_SENTENCE_SPLIT = re.compile(r"\s(?:(?<=[.!?…]\s)\s*|(?<=\n)\n*)")
# The same breaks found from the punctuation mark or first newline, rarer than whitespace: the
# break is group 1 after a mark, else the whole match (~3x faster again on long articles).
_SENTENCE_BREAK = re.compile(r"[.!?…\n](?:(?<=\n)\n*|(\s+))")
# Title and lead carry the topic of a long article; repeating them weights them in TF-IDF.
TITLE_REPEAT = 2


def as_doc(article: Article | dict[str, Any], target: str | None = None) -> dict[str, str]:
    """The fields features read, from an Article or a record dict."""
    if isinstance(article, Article):
        text, title, lang = article.text, article.title, article.lang
    else:
        text, title, lang = article.get("text", ""), article.get("title"), article.get("lang")
        target = target or article.get("target")
    doc = {
        "text": text or "",
        "title": title or "",
        "lang": (lang or "xx").split("-")[0].lower(),
        "target": target or "",
    }
    span = None if isinstance(article, Article) else article.get("target_span")
    if span and target == article.get("target"):  # a span locates the record's own target only
        doc["target_span"] = span
    return doc


def spacy_tokenizer(lang: str) -> Any:
    """spaCy's rule-based tokenizer for a language (the multi-language one when spaCy has none)."""
    lang = lang if lang in SPACY_LANGS else "xx"
    if lang not in _TOKENIZERS:
        # imported late: it costs a second at start-up and only training/predicting needs it
        import spacy

        _TOKENIZERS[lang] = spacy.blank(lang).tokenizer
    return _TOKENIZERS[lang]


# Cross-validation tokenizes the same texts once per fold; remembering recent results (as joined
# strings, a few KB each) saves most of that work at a bounded cost in memory.
_TOKEN_CACHE: dict[tuple[str, str], str] = {}
TOKEN_CACHE_SIZE = 5_000


def tokenize_docs(texts: Sequence[str], langs: Sequence[str]) -> list[str]:
    """Lowercased tokens per text joined by spaces, each text tokenized by its own language's
    rules."""
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


# Word tokens for bag-of-words features: Unicode letters/digits runs, which for English and
# Indonesian give the same n-gram features as spaCy's rules up to clitics ("n't") at ~40x the
# speed (spaCy's tokenizer alone runs ~400 full-length articles/s per core; this ~17,000).
_WORD = re.compile(r"\w+")
_WORD_CHAR = re.compile(r"\w")
# Where a text's non-ASCII characters are all non-word ones (curly quotes, dashes, no-break
# spaces: ~96% of FNC-1 bodies, ~75% of id_stance articles), its \w+ runs are the ASCII
# [A-Za-z0-9_] runs once those characters are spaces, which bytes.translate and split find
# several times faster than the regex.
_NON_ASCII = re.compile(r"[^\x00-\x7f]")
_ASCII_WORD_BYTES = bytes(c if c < 128 and _WORD_CHAR.match(chr(c)) else 32 for c in range(256))


def word_tokens(text: str) -> list[str]:
    """The \\w+ runs of a text, as `_WORD.findall(text)` gives them."""
    if not text.isascii():
        for ch in set(_NON_ASCII.findall(text)):
            if _WORD_CHAR.match(ch):  # a non-ASCII letter or digit: only the regex knows them all
                return _WORD.findall(text)
            text = text.replace(ch, " ")
    return text.encode("ascii").translate(_ASCII_WORD_BYTES).decode("ascii").split()


def regex_tokenize_docs(texts: Sequence[str]) -> list[str]:
    """Lowercased word tokens per text joined by spaces (the fast default tokenizer)."""
    return [" ".join(word_tokens(t.lower())) for t in texts]


def split_tokens(text: str) -> list[str]:
    """Split pre-tokenized text on spaces (a named function, so pipelines pickle)."""
    return text.split(" ")


_HASHTAG = re.compile(r"#([^\W\d_]\w*)")  # a tag starts with a letter: not "#1", not "&#39;"
_PLAIN_WORD = re.compile(r"(?<![#@\w])[^\W\d_]+")  # a word not inside a hashtag or @handle
_MAX_WORD = 20
_MAX_TAG = 60  # longer 'tags' (junk, pasted runs) stay whole: the split costs len x _MAX_WORD steps


def packed_words(words: Sequence[str]) -> str:
    """Whitespace-free words as one string, for pickling.

    joblib writes a model with Python's own pickler, about 10 microseconds a dict entry: the word
    dictionaries of a final model (AG News: 19,000 tokens and 19,000 hashtag words) were half of
    the 0.4 s its model file took. One string pickles at once.
    """
    return " ".join(words)


def unpacked_words(packed: str) -> list[str]:
    """The words `packed_words` joined."""
    return packed.split(" ") if packed else []


class HashtagWords:
    """Hashtags split into the words the training texts use (#AbortionIsMurder -> abortion is
    murder).

    A unigram model over the training texts' plain words picks the most likely split (Viterbi);
    a piece it has never seen costs more the longer it is, so an unknown tag stays whole. Stance
    in tweets is often carried by a tag, and the same words written out are what the word features
    know: SemEval-2016 train, 5-fold CV, F_avg 67.31 -> 68.25 (macro-F1 66.68 -> 67.53).
    """

    def __init__(self, texts: Iterable[str]):
        counts: dict[str, int] = {}
        for text in texts:
            for word in _PLAIN_WORD.findall(text.lower()):
                counts[word] = counts.get(word, 0) + 1
        log_total = float(np.log(sum(counts.values()) or 1))
        # A known word's cost (-log of its share) once here, not at every piece of every split.
        self.cost = {word: log_total - float(np.log(count)) for word, count in counts.items()}
        self._splits: dict[str, list[str]] = {}

    def __getstate__(self) -> dict[str, Any]:
        # The splits found so far are a cache, not the model. The costs go as one string of words
        # and one array (see packed_words).
        words = list(self.cost)
        return {"words": packed_words(words), "costs": np.array([self.cost[w] for w in words])}

    def __setstate__(self, state: dict[str, Any]) -> None:
        if "cost" in state:  # written before the costs were packed
            self.cost = state["cost"]
        else:
            self.cost = dict(zip(unpacked_words(state["words"]), state["costs"].tolist()))
        self._splits = {}

    def split(self, tag: str) -> list[str]:
        """The most likely words of one hashtag (lowercase, without '#'); one longer than _MAX_TAG
        stays whole."""
        # Tweets repeat their tags (every SemEval-2016 tweet carries #SemST): each is split once.
        found = self._splits.get(tag)
        if found is None:
            found = self._splits[tag] = self._split(tag)
        return found

    def _split(self, tag: str) -> list[str]:
        n = len(tag)
        if n > _MAX_TAG:
            return [tag]
        best = [0.0] + [float("inf")] * n
        start = [0] * (n + 1)
        for i in range(1, n + 1):
            for j in range(max(0, i - _MAX_WORD), i):
                cost = self.cost.get(tag[j:i])
                if cost is None:  # an unknown piece: dearer the longer it is
                    cost = 10.0 + 2.0 * (i - j)
                if best[j] + cost < best[i]:
                    best[i], start[i] = best[j] + cost, j
        words, i = [], n
        while i > 0:
            words.append(tag[start[i] : i])
            i = start[i]
        return words[::-1]

    def words(self, text: str) -> str:
        """The words of every hashtag in the text, joined by spaces ('' when it has none)."""
        if "#" not in text:
            return ""
        return " ".join(w for tag in _HASHTAG.findall(text.lower()) for w in self.split(tag))


class Stateless(BaseEstimator, TransformerMixin):
    """A transformer that learns nothing from the training docs: fit returns it as it is."""

    def fit(self, docs: Sequence[Any], y: Any = None) -> Self:
        return self


class DocText(BaseEstimator, TransformerMixin):
    """Title (weighted) plus body text, tokenized and joined by spaces; hashtags also as their
    words.

    tokenizer "regex" (default, fast) or "spacy" (spaCy's rules for the doc's language).
    `hashtags`: split hashtags into words (see HashtagWords) when the training texts have any.
    """

    def __init__(
        self,
        title_repeat: int = TITLE_REPEAT,
        tokenizer: str = "regex",
        mask_mentions: bool = False,
        hashtags: bool = True,
    ):
        self.title_repeat = title_repeat
        self.tokenizer = tokenizer
        self.mask_mentions = mask_mentions
        self.hashtags = hashtags

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "DocText":
        # News articles rarely carry hashtags: then nothing is learned and transform costs nothing
        # extra.
        has_tags = self.hashtags and any(_HASHTAG.search(d["text"]) for d in docs)
        self.hashtag_words_ = HashtagWords(d["text"] for d in docs) if has_tags else None
        return self

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        body = [masked_mentions(d) if self.mask_mentions else d["text"] for d in docs]
        texts = [((d["title"] + "\n") * self.title_repeat) + text for d, text in zip(docs, body)]
        if self.tokenizer == "spacy":
            out = tokenize_docs(texts, [d["lang"] for d in docs])
        else:
            out = regex_tokenize_docs(texts)
        tags = getattr(
            self, "hashtag_words_", None
        )  # unfitted: plain text, as before hashtags were split
        if tags is None:
            return out
        return [t + " " + w if (w := tags.words(d["text"])) else t for t, d in zip(out, docs)]


class RawText(Stateless):
    """Title plus body as raw text, for character n-grams."""

    def __init__(self, max_chars: int = 1000):
        self.max_chars = max_chars

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        # The lead of a long article says most; capping also bounds the cost of char n-grams.
        return [(d["title"] + "\n" + d["text"])[: self.max_chars].lower() for d in docs]


# ------------------------------------------------------------------------------ character n-grams
#
# scikit-learn's char analyzer builds every n-gram as a Python string: ~1,000 full-length articles
# per second per core at 1,000 characters each, too slow for batch labeling. Here an n-gram of up
# to five characters is packed exactly into one 64-bit integer (12 bits per character, the length
# in the top bits), so n-grams of all texts in a batch come from a few numpy operations and the
# vocabulary is a sorted integer array. No hashing, so no collisions: the features are the same
# as a vocabulary of character n-grams would give.
_CHAR_BITS = 12
_MAX_CODE = (1 << _CHAR_BITS) - 1  # code points above U+0FFF (rare in en/id news) share one value
_SPACES = re.compile(r"\s+")
_CHUNK = 2_000  # texts per numpy pass: bounds memory on large training sets


def char_ngram_keys(
    texts: Sequence[str], ngram_range: tuple[int, int]
) -> tuple[np.ndarray, np.ndarray]:
    """(text index, n-gram key) for every character n-gram of the texts (whitespace collapsed,
    padded)."""
    lo, hi = ngram_range
    if not 1 <= lo <= hi <= 5:
        raise ValueError(f"char n-gram range must lie within 1..5, got {ngram_range}")
    # Texts are joined with NUL as separator; NULs inside a text become spaces first.
    collapsed = (_SPACES.sub(" ", t.replace("\0", " ")).strip() for t in texts)
    joined = "\0".join(f" {t} " if t else " " for t in collapsed)
    codes = np.frombuffer(joined.encode("utf-32-le"), dtype=np.uint32).astype(np.int64)
    np.minimum(codes, _MAX_CODE, out=codes)
    is_sep = codes == 0
    seps_before = np.concatenate([[0], np.cumsum(is_sep)])
    doc_of = seps_before[:-1]
    rows, keys = [], []
    key = np.zeros(len(codes), dtype=np.int64)
    for n in range(1, hi + 1):
        m = len(codes) - n + 1
        if m <= 0:
            break
        key = (key[:m] << _CHAR_BITS) | codes[
            n - 1 :
        ]  # the (n-1)-gram at i, extended by one character
        if n < lo:
            continue
        valid = seps_before[n : n + m] == seps_before[:m]  # no separator inside the window
        rows.append(doc_of[:m][valid])
        keys.append(key[valid] | (np.int64(n) << 60))
    if not rows:
        return np.zeros(0, np.int64), np.zeros(0, np.int64)
    return np.concatenate(rows), np.concatenate(keys)


class PackedNgrams(BaseEstimator, TransformerMixin):
    """TF-IDF (sublinear tf, smooth idf, l2 rows) over n-grams packed as int64 keys; subclasses say
    how to pack.

    Keeps n-grams seen in at least `min_df` texts, the `max_features` with the highest document
    frequency (scikit-learn ranks by total count; for sublinear tf, presence is what counts).
    A subclass is a dataclass of `ngram_range`, `min_df` and `max_features` with its defaults: the
    generated __init__ lists and stores them, as scikit-learn's get_params and clone need.
    """

    def _keys(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        raise NotImplementedError

    def _learn(self, texts: Sequence[str]) -> None:
        """Anything the packing needs from the training texts (e.g. a token dictionary)."""

    def fit(self, texts: Sequence[str], y: Any = None) -> "PackedNgrams":
        """Learn the n-gram vocabulary and document frequencies."""
        self._learn(texts)
        return self._fit_keys(
            (self._keys(texts[start : start + _CHUNK]) for start in range(0, len(texts), _CHUNK)),
            len(texts),
        )

    def fit_transform(self, texts: Sequence[str], y: Any = None) -> sp.csr_matrix:
        """fit, then transform; each text's n-grams read once (or not at all: see NgramIndex)."""
        index = _SHARED_INDEXES.get(self._index_key())
        rows = index.rows(texts) if index is not None else None
        if index is None or rows is None:
            return self._fit_rows(NgramIndex(self, texts), None)
        X = self._fit_rows(index, rows)
        self.__dict__["_fitted_from"] = index  # so transform may read it too (never pickled)
        return X

    def _index_key(self) -> tuple[Any, ...]:
        """The NgramIndex that serves this block: built by its class and n-grams. Its vocabulary
        limits take no part in the index but tell apart the blocks of one union (words, window)."""
        return type(self).__name__, tuple(self.ngram_range), self.min_df, self.max_features

    def _fit_rows(self, index: "NgramIndex", rows: np.ndarray | None) -> sp.csr_matrix:
        """Fit on the index's texts at `rows` (None: all of them); their TF-IDF rows."""
        counts = index.counts if rows is None else index.counts[rows]
        n_texts = counts.shape[0]
        df = np.bincount(counts.indices, minlength=len(index.keys))
        chosen = self._choose(index.keys, df, n_texts)
        self.__dict__.update(index.learned)
        return self._select(counts, chosen)

    def _select(self, counts: sp.csr_matrix, chosen: np.ndarray) -> sp.csr_matrix:
        """TF-IDF rows from counts over an index's keys; `chosen`: the vocabulary's places there."""
        n_texts = counts.shape[0]
        column = np.full(counts.shape[1], -1, dtype=np.int64)
        column[chosen] = np.arange(len(chosen))
        cols = column[counts.indices]  # increasing in the key, so each row's order is kept
        hit = cols >= 0
        row_of = np.repeat(np.arange(n_texts), np.diff(counts.indptr))
        per_row = np.bincount(row_of[hit], minlength=n_texts)
        indptr = np.concatenate([[0], np.cumsum(per_row)]).astype(counts.indptr.dtype)
        X = sp.csr_matrix(
            (counts.data[hit], cols[hit].astype(counts.indices.dtype), indptr),
            shape=(n_texts, len(chosen)),
        )
        return normalize(self._weigh(X)).astype(np.float32, copy=False)

    def _fit_keys(
        self, passes: Iterable[tuple[np.ndarray, np.ndarray]], n_texts: int
    ) -> "PackedNgrams":
        """The vocabulary and idf from (text index, key) pairs, one pair of arrays per pass over the
        texts."""
        parts_keys, parts_df = [], []
        for rows, keys in passes:
            order = np.lexsort((rows, keys))
            rows, keys = rows[order], keys[order]
            first = np.ones(len(keys), dtype=bool)
            first[1:] = (keys[1:] != keys[:-1]) | (
                rows[1:] != rows[:-1]
            )  # one count per (text, n-gram)
            uk, df = np.unique(keys[first], return_counts=True)
            parts_keys.append(uk)
            parts_df.append(df)
        allk = np.concatenate(parts_keys) if parts_keys else np.zeros(0, np.int64)
        uk, inverse = np.unique(allk, return_inverse=True)
        df = np.bincount(
            inverse, weights=np.concatenate(parts_df) if parts_df else None, minlength=len(uk)
        )
        self._choose(uk, df, n_texts)
        return self

    def _choose(self, keys: np.ndarray, df: np.ndarray, n_texts: int) -> np.ndarray:
        """Set vocabulary and idf from sorted keys and their document frequencies; kept places."""
        chosen = np.flatnonzero(df >= max(self.min_df, 1))
        if self.max_features is not None and len(chosen) > self.max_features:
            # most frequent; ties by key, deterministic
            top = np.lexsort((keys[chosen], -df[chosen]))[: self.max_features]
            top.sort()
            chosen = chosen[top]
        self.vocabulary_ = keys[chosen]
        self.idf_ = (np.log((1 + n_texts) / (1 + df[chosen])) + 1).astype(np.float32)
        return chosen

    def transform(self, texts: Sequence[str]) -> sp.csr_matrix:
        """TF-IDF rows for the texts."""
        index = self.__dict__.get("_fitted_from")
        if index is not None and _SHARED_INDEXES.get(self._index_key()) is index:
            rows = index.rows(texts)
            if rows is not None:  # a fold's test docs: the same rows, read from the index
                counts = index.counts[rows]
                return self._select(counts, np.searchsorted(index.keys, self.vocabulary_))
        starts = range(0, max(len(texts), 1), _CHUNK)
        chunks = [texts[start : start + _CHUNK] for start in starts]
        return self._tfidf(
            (self._keys(c) if len(c) else (np.zeros(0, np.int64),) * 2 for c in chunks),
            [len(c) for c in chunks],
        )

    def _tfidf(
        self, passes: Iterable[tuple[np.ndarray, np.ndarray]], sizes: list[int]
    ) -> sp.csr_matrix:
        """TF-IDF rows from (text index, key) pairs per pass; `sizes`: the texts in each pass."""
        blocks = []
        for (rows, keys), size in zip(passes, sizes):
            cols = self._table().lookup(keys)
            hit = cols >= 0
            blocks.append(
                self._weigh(count_matrix(rows[hit], cols[hit], size, len(self.vocabulary_)))
            )
        X = sp.vstack(blocks).tocsr() if len(blocks) > 1 else blocks[0]
        return normalize(X).astype(np.float32, copy=False)

    def _weigh(self, X: sp.csr_matrix) -> sp.csr_matrix:
        """Counts to sublinear tf times idf, in place."""
        np.log(X.data, out=X.data)
        X.data += 1.0
        X.data *= self.idf_[X.indices]
        return X

    def _learned(self) -> dict[str, Any]:
        """What `_learn` set, by attribute name, for an NgramIndex to hand to its fits."""
        return {}

    def _table(self) -> "KeyTable":
        """The vocabulary's hash table, built on first use (not pickled: it is rebuilt in
        milliseconds)."""
        table = self.__dict__.get("_key_table")
        if table is None or table.vocabulary is not self.vocabulary_:
            table = self.__dict__["_key_table"] = KeyTable(self.vocabulary_)
        return table

    def __getstate__(self) -> dict[str, Any]:
        state = dict(
            super().__getstate__()
        )  # a copy: object.__getstate__ hands out the live __dict__
        state.pop("_key_table", None)
        state.pop("_fitted_from", None)
        return state


class KeyTable:
    """Open-addressing hash table from int64 keys (>= 0) to their positions in a sorted vocabulary.

    np.searchsorted into a vocabulary of ~200,000 keys costs ~60 ns per look-up (18 dependent cache
    misses); a multiplicative hash with linear probing at load <= 0.5 resolves most keys in one
    vectorised probe, ~2.5x faster on the millions of n-grams of a batch.
    """

    _MULTIPLIER = np.uint64(0x9E3779B97F4A7C15)  # Fibonacci hashing: spreads consecutive keys

    def __init__(self, vocabulary: np.ndarray):
        self.vocabulary = vocabulary
        self.bits = max(int(np.ceil(np.log2(max(2 * len(vocabulary), 2)))), 1)
        self.mask = (1 << self.bits) - 1
        self.keys = np.full(1 << self.bits, -1, dtype=np.int64)
        self.values = np.full(
            1 << self.bits, -1, dtype=np.int32
        )  # half the memory traffic of int64
        slot = self._slot(vocabulary)
        pending = np.arange(len(vocabulary))
        while len(pending):  # each round places one key per free slot; the rest probe the next slot
            s = slot[pending]
            free = self.keys[s] == -1
            taken, first = np.unique(s[free], return_index=True)
            placed = pending[free][first]
            self.keys[taken], self.values[taken] = vocabulary[placed], placed
            is_placed = np.zeros(len(vocabulary), dtype=bool)
            is_placed[placed] = True
            pending = pending[~is_placed[pending]]
            slot[pending] = (slot[pending] + 1) & self.mask

    def _slot(self, keys: np.ndarray) -> np.ndarray:
        return ((keys.view(np.uint64) * self._MULTIPLIER) >> np.uint64(64 - self.bits)).astype(
            np.intp
        )

    def lookup(self, keys: np.ndarray) -> np.ndarray:
        """Each key's vocabulary position, -1 for a key not in the vocabulary."""
        keys = np.ascontiguousarray(keys, dtype=np.int64)
        slot = self._slot(keys)
        found = self.keys[slot]
        miss = found != keys
        out = self.values[slot]
        out[miss] = -1
        pending = np.flatnonzero(miss & (found != -1))  # collided with another key: probe on
        slot = slot[pending]
        while len(pending):
            slot = (slot + 1) & self.mask
            found = self.keys[slot]
            match = found == keys[pending]
            out[pending[match]] = self.values[slot[match]]
            more = ~match & (found != -1)
            pending, slot = pending[more], slot[more]
        return out


def count_matrix(
    rows: np.ndarray, cols: np.ndarray, n_rows: int, n_cols: int, descending: bool = True
) -> sp.csr_matrix:
    """Float32 CSR of (row, col) occurrence counts, columns in descending (else ascending) order
    within each row.

    Descending is the order the former `X @ diags(idf)` product left; keeping it keeps every float
    sum downstream (row norms, decision values) bit-identical. Built by two counting-sort passes
    (coo -> csr of the transpose, then transposing back), O(nnz): the per-row comparison sort of
    `sum_duplicates` on unsorted indices cost twice as much.
    """
    flipped = n_cols - 1 - cols if descending else cols
    M = sp.csr_matrix(
        (np.ones(len(cols), dtype=np.float32), (flipped, rows)), shape=(n_cols, n_rows)
    )
    X = M.T.tocsr()  # rows ascending, (flipped) columns ascending within a row, duplicates adjacent
    X.has_sorted_indices = True
    X.sum_duplicates()
    if descending:
        X.indices = (n_cols - 1 - X.indices).astype(X.indices.dtype, copy=False)
        X.has_sorted_indices = False
    return X


def text_digests(texts: Sequence[str]) -> list[bytes]:
    """A short digest per text: what an NgramIndex knows its texts by (it crosses processes)."""
    return [
        hashlib.blake2b(t.encode("utf-8", "surrogatepass"), digest_size=12).digest() for t in texts
    ]


class NgramIndex:
    """Every text's n-gram counts over the union of all their n-grams, read once.

    A fit on some of these texts (a cross-validation fold, the final fit) then takes its
    vocabulary, document frequencies and counts from the rows it names, instead of reading its
    texts again: the outer folds and the final fit of `newsclf train` each read the same
    articles, and reading them (n-gram keys, one sort of millions of keys per fit) was most of a
    fit on long articles (BBC, 800 docs: 19 of 28 s). For character n-grams the fit is the same
    bit for bit. For word n-grams the token ids come from all the index's texts, so a fit on a
    subset may break ties at `max_features` otherwise (same n-grams, other ties); a fit on all
    of them is the same bit for bit.
    """

    def __init__(self, block: "PackedNgrams", texts: Sequence[str]):
        block._learn(texts)
        self.learned = block._learned()
        passes = [
            block._keys(texts[start : start + _CHUNK]) for start in range(0, len(texts), _CHUNK)
        ]
        # Sorted unique keys (a plain sort and a mask: several times faster than np.unique with
        # inverse or a lexsort by text), then each key's position through the hash table.
        uniques = []
        for _, keys in passes:
            k = np.sort(keys)
            uniques.append(k[np.concatenate([[True], k[1:] != k[:-1]])] if len(k) else k)
        if len(uniques) == 1:
            self.keys = uniques[0]
        else:
            self.keys = np.unique(np.concatenate(uniques)) if uniques else np.zeros(0, np.int64)
        table = KeyTable(self.keys)
        blocks = [
            count_matrix(rows, table.lookup(keys), min(_CHUNK, len(texts) - start), len(self.keys))
            for start, (rows, keys) in zip(range(0, len(texts), _CHUNK), passes, strict=True)
        ]
        if not blocks:
            self.counts = sp.csr_matrix((0, len(self.keys)), dtype=np.float32)
        else:
            self.counts = sp.vstack(blocks, format="csr") if len(blocks) > 1 else blocks[0]
        self._digests: list[bytes] | None = None
        self._texts: Sequence[str] | None = texts

    def rows(self, texts: Sequence[str]) -> np.ndarray | None:
        """The row of each text, or None when the index lacks any of them."""
        row_of = self._row_of()
        rows = [row_of.get(d) for d in text_digests(texts)]
        if any(r is None for r in rows):
            return None
        return np.array(rows, dtype=np.int64)

    def _row_of(self) -> dict[bytes, int]:
        if self._digests is None:
            self._digests = text_digests(self._texts or [])
        row_of = self.__dict__.get("_row_map")
        if row_of is None:
            row_of = self.__dict__["_row_map"] = {d: i for i, d in enumerate(self._digests)}
        return row_of

    def __getstate__(self) -> dict[str, Any]:
        # Digests, not texts: the index is sent to worker processes.
        self._row_of()
        return {k: v for k, v in self.__dict__.items() if k not in ("_texts", "_row_map")}

    def __setstate__(self, state: dict[str, Any]) -> None:
        self.__dict__.update(state)
        self._texts = None


# The indexes that PackedNgrams.fit_transform consults (see shared_ngrams), by `_index_key`.
_SHARED_INDEXES: dict[tuple[Any, ...], NgramIndex] = {}


@contextmanager
def shared_ngrams(indexes: dict[tuple[Any, ...], NgramIndex] | None) -> Iterator[None]:
    """Within the block, fits of n-gram blocks read texts that an index holds from the index."""
    saved = dict(_SHARED_INDEXES)
    _SHARED_INDEXES.update(indexes or {})
    try:
        yield
    finally:
        _SHARED_INDEXES.clear()
        _SHARED_INDEXES.update(saved)


@dataclass(eq=False, repr=False)
class CharNgrams(PackedNgrams):
    """TF-IDF over character n-grams, like TfidfVectorizer(analyzer="char") on whitespace-collapsed,
    padded text."""

    ngram_range: tuple[int, int] = (2, 5)
    min_df: int = 2
    max_features: int | None = 200_000

    def _keys(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        return char_ngram_keys(texts, tuple(self.ngram_range))


@dataclass(eq=False, repr=False)
class WordNgrams(PackedNgrams):
    """TF-IDF over word 1..2-grams of space-separated tokens, like TfidfVectorizer(ngram_range=(1,
    2)).

    Tokens get ids from a dictionary of every training token; a bigram is its two ids in one int64.
    A token never seen in training drops out with the bigrams it is part of, as in scikit-learn.
    scikit-learn builds each bigram as a Python string; this runs ~3x faster on long articles.
    """

    ngram_range: tuple[int, int] = (1, 2)
    min_df: int = 1
    max_features: int | None = 200_000

    def _learn(self, texts: Sequence[str]) -> None:
        tokens: dict[str, int] = {}
        for text in texts:
            for token in text.split():
                tokens.setdefault(token, len(tokens))
        self.tokens_ = tokens

    def _learned(self) -> dict[str, Any]:
        return {"tokens_": self.tokens_}

    def __getstate__(self) -> dict[str, Any]:
        state = super().__getstate__()
        tokens = state.get("tokens_")
        # Ids are positions in first-seen order (_learn), so the order of the words keeps them.
        if isinstance(tokens, dict) and all(i == j for j, i in enumerate(tokens.values())):
            state["tokens_"] = packed_words(list(tokens))
        return state

    def __setstate__(self, state: dict[str, Any]) -> None:
        if isinstance(state.get("tokens_"), str):
            words = unpacked_words(state["tokens_"])
            state = dict(state, tokens_=dict(zip(words, range(len(words)))))
        super().__setstate__(state)

    def _keys(self, texts: Sequence[str]) -> tuple[np.ndarray, np.ndarray]:
        lo, hi = self.ngram_range
        if not 1 <= lo <= hi <= 2:
            raise ValueError(f"word n-gram range must lie within 1..2, got {self.ngram_range}")
        get, ids_list = self.tokens_.get, []
        # One id array for all texts: -1 for an unknown token, -2 between texts. map() keeps the
        # per-token dictionary look-up in C (a generator here costs ~3x more).
        for text in texts:
            ids_list.extend(map(get, text.split(), repeat(-1)))
            ids_list.append(-2)
        ids = np.array(ids_list, dtype=np.int64)
        is_sep = ids == -2
        doc_of = np.concatenate([[0], np.cumsum(is_sep)])[:-1]
        ids[is_sep] = -1
        rows, keys = [], []
        if lo == 1:
            known = ids >= 0
            rows.append(doc_of[known])
            keys.append(ids[known])
        if hi == 2 and len(ids) > 1:
            a, b = ids[:-1], ids[1:]
            both = (a >= 0) & (b >= 0)
            rows.append(doc_of[:-1][both])
            keys.append(
                ((a[both] + 1) << 31) | b[both]
            )  # > any unigram id: the two kinds never collide
        if not rows:
            return np.zeros(0, np.int64), np.zeros(0, np.int64)
        return np.concatenate(rows), np.concatenate(keys)


NO_MENTION = "__nomention__"  # the token of a window when the text never mentions the target


def target_stems(target: str) -> list[str]:
    """Word stems that mark a mention of the target, e.g. 'AI regulation' -> ['regul'] (also matches
    'regulasi')."""
    words = [w.lower() for w in re.findall(r"\w+", target)]
    stems = [w[:5] for w in words if len(w) >= 3]
    return stems or words


@lru_cache(maxsize=1024)
def mention_pattern(target: str) -> re.Pattern[str] | None:
    """One regex for a mention of the target: any of its stems at the start of a word (None: no
    target)."""
    stems = target_stems(target) if target else []
    if not stems:
        return None
    return re.compile(r"\b(?:" + "|".join(re.escape(s) for s in stems) + r")\w*", re.IGNORECASE)


# Finding mentions with `mention_pattern` costs a case-insensitive regex scan of the text, and
# compiling that regex for each new target (FNC-1: a headline per pair) costs more than the scan.
# For ASCII stems, substring search in the lowercased text finds the same spans, except where
# str.lower() and re.IGNORECASE disagree: "İ" lowers to two characters (offsets would shift), "ı"
# and "ſ" match "i" and "s" under IGNORECASE but lower to themselves. Texts holding one of them
# take the regex. (tests/test_classifier.py checks this list against every code point.)
_CASE_TRAPS = ("\u0130", "\u0131", "\u017f")


@lru_cache(maxsize=1024)
def _ascii_stems(target: str) -> tuple[str, ...] | None:
    """The target's distinct stems when all are ASCII (None otherwise, or without a target)."""
    stems = target_stems(target) if target else []
    return tuple(dict.fromkeys(stems)) if stems and all(s.isascii() for s in stems) else None


def find_mentions(target: str, text: str) -> tuple[tuple[int, int], ...]:
    """Spans of `mention_pattern(target)`'s matches in the text, found the fast way where that is
    exact."""
    stems = _ascii_stems(target)
    if stems is not None and not any(c in text for c in _CASE_TRAPS):
        lowered = text.lower()
        if len(lowered) == len(text):
            return _stem_words(lowered, stems)
    pattern = mention_pattern(target)
    return tuple(m.span() for m in pattern.finditer(text)) if pattern is not None else ()


def _stem_words(lowered: str, stems: tuple[str, ...]) -> tuple[tuple[int, int], ...]:
    """Spans of the words that begin with one of the stems: what `\\b(?:stems)\\w*` matches."""
    starts = set()
    for stem in stems:
        i = lowered.find(stem)
        while i >= 0:
            if i == 0 or not _WORD_CHAR.match(lowered, i - 1):  # a word starts here
                starts.add(i)
            i = lowered.find(stem, i + 1)
    return tuple((i, _WORD.match(lowered, i).end()) for i in sorted(starts))


class TextMemo:
    """functools.lru_cache for a function of a doc's texts, with room that `memo_room` widens.

    The stance blocks ask for a doc's mentions and sentences several times (masking, windows,
    counts, valence). Prediction passes PREDICT_CHUNK docs, which a few thousand entries hold. A
    fit passes all its training docs through one block after another, and an LRU smaller than
    them misses every time: each block scans the docs in the same order, evicting each entry
    before the next block asks for it (NewsMTSC, 8,739 sentences, one process: 343,000 mention
    searches for 52,000 docs fitted).
    """

    def __init__(self, fn: Callable[..., Any], maxsize: int, per_doc: int):
        self.fn, self.default, self.per_doc = fn, maxsize, per_doc
        self.maxsize = maxsize
        self.cache: OrderedDict[tuple[Any, ...], Any] = OrderedDict()
        update_wrapper(self, fn)

    def __call__(self, *args: Any) -> Any:
        cache = self.cache
        value = cache.get(args, _MISSING)
        if value is _MISSING:
            value = cache[args] = self.fn(*args)
            self._trim()
        else:
            with suppress(KeyError):  # another thread (the labeling server's) evicted it
                cache.move_to_end(args)
        return value

    def fit_room(self, docs: int) -> None:
        """Room for `docs` docs' entries at least; back to the default room (the newest kept)
        for 0."""
        self.maxsize = max(self.default, self.per_doc * docs)
        self._trim()

    def _trim(self) -> None:
        with suppress(KeyError):  # emptied by another thread meanwhile
            while len(self.cache) > self.maxsize:
                self.cache.popitem(last=False)


_MISSING = object()
_MEMOS: list[TextMemo] = []


def text_memo(maxsize: int, per_doc: int = 1) -> Callable[[Callable[..., Any]], TextMemo]:
    """Decorator: memoise a function of texts in a TextMemo of `maxsize` entries, `per_doc` of
    them per doc (title and text, say) when a fit widens it."""

    def wrap(fn: Callable[..., Any]) -> TextMemo:
        memo = TextMemo(fn, maxsize, per_doc)
        _MEMOS.append(memo)
        return memo

    return wrap


_ROOMS: list[int] = []  # the docs of each memo_room in force (threads may overlap them)


@contextmanager
def memo_room(docs: int) -> Iterator[None]:
    """Within the block, the text memos keep every entry of `docs` docs: a fit's blocks then find
    each doc's mentions and sentences once. Overlapping blocks (nested, or in other threads) get
    the widest room in force; when none is, the memos go back to their default room (a batch
    worker's memory stays bounded)."""
    _ROOMS.append(docs)
    _fit_rooms()
    try:
        yield
    finally:
        _ROOMS.remove(docs)
        _fit_rooms()


def _fit_rooms() -> None:
    room = max(_ROOMS, default=0)
    for memo in _MEMOS:
        memo.fit_room(room)


# Stance features look at the sentences of a doc several times over (windows, counts); splitting
# once per text is remembered for the few transformers of one batch.
@text_memo(maxsize=2048, per_doc=2)
def sentence_spans(text: str) -> tuple[tuple[int, int], ...]:
    """(start, end) of each non-empty sentence of a text: the pieces `_SENTENCE_SPLIT.split`
    gives."""
    spans, last = [], 0
    for m in _SENTENCE_BREAK.finditer(text):
        whole, mark_break = m.regs
        start, end = mark_break if mark_break[0] >= 0 else whole
        if text[last:start].strip():
            spans.append((last, start))
        last = end
    if text[last:].strip():
        spans.append((last, len(text)))
    return tuple(spans)


def sentences_of(text: str) -> tuple[str, ...]:
    """The non-empty sentences of a text."""
    return tuple(text[a:b] for a, b in sentence_spans(text))


@text_memo(maxsize=2048)
def target_sentences(target: str, title: str, text: str) -> tuple[int, tuple[str, ...], bool]:
    """For title + ". " + text: its number of sentences, those that mention the target, and whether
    the title does.

    One scan for mentions over title and text (the text's is shared with masking and the mention
    window), each mention placed in its sentence by position: ~10x cheaper than searching every
    sentence. A match never spans ". " or the whitespace between sentences, so the two agree.
    """
    full = title + ". " + text
    spans = sentence_spans(full)
    title_mentions = _stem_mentions(target, title)
    offset = len(title) + 2
    starts = [a for a, _ in title_mentions] + [a + offset for a, _ in _stem_mentions(target, text)]
    sentence_starts = [a for a, _ in spans] if starts else []
    hits: list[int] = []
    for pos in starts:
        i = bisect_right(sentence_starts, pos) - 1
        if not hits or hits[-1] != i:  # mentions come in text order: one entry per sentence
            hits.append(i)
    return len(spans), tuple(full[spans[i][0] : spans[i][1]] for i in hits), bool(title_mentions)


class TargetWindow(Stateless):
    """The sentences that mention the stance target, prefixed by the target's id; empty when it is
    absent.

    Stance is about what is said near the target, so these sentences get their own features.
    """

    def __init__(self, max_sentences: int = 12, tokenizer: str = "regex"):
        self.max_sentences = max_sentences
        self.tokenizer = tokenizer

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        windows = []
        for d in docs:
            _, hit_sentences, _ = target_sentences(d["target"], d["title"], d["text"])
            windows.append(" ".join(hit_sentences[: self.max_sentences]))
        if self.tokenizer == "spacy":
            tokens = tokenize_docs(windows, [d["lang"] for d in docs])
        else:
            tokens = regex_tokenize_docs(windows)
        # No mention at all is a signal of its own (a tweet against a movement that never names it).
        return [t or NO_MENTION for t in tokens]


def mention_spans(doc: dict[str, Any]) -> list[tuple[int, int]]:
    """Character spans of the target's mentions: the record's own `target_span` if given, else stem
    matches."""
    span = doc.get("target_span")
    if span:
        return [(int(span[0]), int(span[1]))]
    return list(_stem_mentions(doc["target"], doc["text"]))


# Masking, the mention window and the sentence features all need a doc's mentions: find them once
# per (target, text); a batch asks for its titles' too, hence room for two entries per doc.
@text_memo(maxsize=4096, per_doc=2)
def _stem_mentions(target: str, text: str) -> tuple[tuple[int, int], ...]:
    return find_mentions(target, text)


def masked_mentions(doc: dict[str, Any]) -> str:
    """The text with each target mention replaced by one placeholder word, so words learn what is
    said, not who."""
    text, out, last = doc["text"], [], 0
    for start, end in sorted(mention_spans(doc)):
        if start >= last:
            out += [text[last:start], " targetmention "]
            last = end
    return "".join(out) + text[last:]


def side_words(
    text: str, start: int, end: int, width: int, tokenize: Callable[[str], list[str]]
) -> tuple[list[str], list[str]]:
    """The `width` lowercased words before text[start:end] and the `width` after it."""
    # 20 characters a word is room enough, and keeps a long text from being tokenized whole per
    # mention.
    left = tokenize(text[max(0, start - 20 * width) : start].lower())[-width:]
    right = tokenize(text[end : end + 20 * width].lower())[:width]
    return left, right


class MentionWindow(Stateless):
    """The words just before and after each mention of the target, marked by side (L_word, R_word).

    In a sentence about several people, the words next to the target's name say what is said of it;
    the sentence as a whole may be about someone else.
    """

    def __init__(self, width: int = 4, max_mentions: int = 10):
        self.width = width
        self.max_mentions = max_mentions

    def transform(self, docs: Sequence[dict[str, Any]]) -> list[str]:
        out = []
        for d in docs:
            text, words = d["text"], []
            for start, end in mention_spans(d)[: self.max_mentions]:
                left, right = side_words(text, start, end, self.width, word_tokens)
                words += ["L_" + w for w in left] + ["R_" + w for w in right]
            out.append(" ".join(words) or NO_MENTION)
        return out


class TargetFeatures(Stateless):
    """Dense target features: mention count (log), share of sentences mentioning it, and whether it
    appears at all."""

    def transform(self, docs: Sequence[dict[str, str]]) -> np.ndarray:
        rows = []
        for d in docs:
            n_sentences, hit_sentences, title_hit = target_sentences(
                d["target"], d["title"], d["text"]
            )
            n_hits = len(hit_sentences)
            rows.append(
                [
                    np.log1p(n_hits),
                    n_hits / max(n_sentences, 1),
                    float(n_hits > 0),
                    float(title_hit),
                ]
            )
        return np.asarray(rows, dtype=float)


SIMILARITY_BINS = np.array([0.02, 0.05, 0.1, 0.15, 0.2, 0.3, 0.4, 0.5, 0.7])


def _leads(text: str, sentences: int = 3) -> str:
    return " ".join(_SENTENCE_SPLIT.split(text, maxsplit=sentences)[:sentences])


class TargetSimilarity(BaseEstimator, TransformerMixin):
    """How much a text is about its target: TF-IDF cosine of target vs text and vs lead, target
    words found.

    For short targets ("Hillary Clinton") this says whether and how much the text discusses it; for
    a headline as target (FNC-1 style) it separates related from unrelated bodies. Cosines also come
    one-hot binned, so a linear model can use them non-linearly.
    """

    def __init__(self, weight: float = 3.0):
        self.weight = weight

    def fit(self, docs: Sequence[dict[str, str]], y: Any = None) -> "TargetSimilarity":
        """Learn word IDF over the distinct targets and texts."""
        corpus = list(dict.fromkeys([d["target"] for d in docs] + [d["text"] for d in docs]))
        self.vectorizer_ = TfidfVectorizer(sublinear_tf=True, dtype=np.float32).fit(corpus)
        return self

    def _cosines(
        self, T: sp.csr_matrix, parts: list[tuple[str, ...]], memo: dict[str, np.ndarray]
    ) -> np.ndarray:
        """Row-wise cosine of the targets' TF-IDF rows T and those of each doc's text
        ("\\n".join(parts))."""
        uniq = list(dict.fromkeys(parts))
        where = {p: i for i, p in enumerate(uniq)}
        B = normalize(self._tfidf(uniq, memo))[[where[p] for p in parts]]
        return np.asarray(T.multiply(B).sum(axis=1)).ravel()

    def _tfidf(self, parts: list[tuple[str, ...]], memo: dict[str, np.ndarray]) -> sp.csr_matrix:
        """`self.vectorizer_.transform(["\\n".join(p) for p in parts])`, float for float.

        scikit-learn counts tokens in a Python dict loop, ~2/3 of this block's time on long texts;
        here the counting is numpy's. A newline splits tokens and lowercasing alike, so a text's
        tokens are its parts' tokens, and each distinct part (an FNC-1 body serves several
        headlines) is tokenized once per batch via `memo`.
        """
        vec = self.vectorizer_
        analyze, get = vec.build_analyzer(), vec.vocabulary_.get
        pieces, lengths = [], np.zeros(len(parts), dtype=np.int64)
        for i, doc_parts in enumerate(parts):
            for part in doc_parts:
                ids = memo.get(part)
                if ids is None:
                    ids = memo[part] = np.array(
                        list(map(get, analyze(part), repeat(-1))), dtype=np.int64
                    )
                pieces.append(ids)
                lengths[i] += len(ids)
        cols = np.concatenate(pieces) if pieces else np.zeros(0, np.int64)
        rows = np.repeat(np.arange(len(parts)), lengths)
        known = cols >= 0
        X = count_matrix(
            rows[known], cols[known], len(parts), len(vec.vocabulary_), descending=False
        )
        # The steps of TfidfTransformer.transform, in its order, so the floats match.
        if vec.sublinear_tf:
            np.log(X.data, X.data)
            X.data += 1.0
        if vec.use_idf:
            X.data *= vec.idf_[X.indices]
        return normalize(X, norm=vec.norm, copy=False) if vec.norm is not None else X

    def transform(self, docs: Sequence[dict[str, str]]) -> np.ndarray:
        """Dense similarity features, one row per doc."""
        memo: dict[str, np.ndarray] = {}
        T = normalize(self._tfidf([(d["target"],) for d in docs], memo))
        cos_text = self._cosines(T, [(d["title"], d["text"]) for d in docs], memo)
        cos_lead = self._cosines(T, [(_leads(d["text"]),) for d in docs], memo)
        found = [words_found(d["target"], d["text"]) for d in docs]
        n_bins = len(SIMILARITY_BINS) + 1
        F = np.zeros((len(docs), 3 + 2 * n_bins))
        F[:, 0], F[:, 1], F[:, 2] = cos_text, cos_lead, found
        rows = np.arange(len(docs))
        F[rows, 3 + np.searchsorted(SIMILARITY_BINS, cos_text)] = 1
        F[rows, 3 + n_bins + np.searchsorted(SIMILARITY_BINS, cos_lead)] = 1
        return F.astype(np.float32) * self.weight


def words_found(target: str, text: str) -> float:
    """The share of the target's distinct words (\\w+, lowercased) that occur as words in the
    text."""
    target_words = set(_WORD.findall(target.lower()))
    if not target_words:
        return 0.0
    lowered = text.lower()
    return sum(1 for w in target_words if _has_word(lowered, w)) / len(target_words)


def _has_word(text: str, word: str) -> bool:
    """Whether `word` (a maximal run of word characters) is one of the \\w+ runs of the text."""
    start = text.find(word)
    # a substring search in C; a hit counts only with no word character on either side
    while start >= 0:
        end = start + len(word)
        if (start == 0 or not _WORD_CHAR.match(text, start - 1)) and not _WORD_CHAR.match(
            text, end
        ):
            return True
        start = text.find(word, start + 1)
    return False


class TargetName(Stateless):
    """The target as a single token, so the model can learn per-target priors."""

    def transform(self, docs: Sequence[dict[str, str]]) -> list[str]:
        return ["target=" + re.sub(r"\s+", "_", d["target"].lower()) for d in docs]


def docs_from(
    items: Iterable[Article | dict[str, Any]], targets: Iterable[str | None] | None = None
) -> list[dict[str, str]]:
    """as_doc over many items, with an optional parallel list of targets."""
    items = list(items)
    targets = list(targets) if targets is not None else [None] * len(items)
    return [as_doc(item, target) for item, target in zip(items, targets)]
