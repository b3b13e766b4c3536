"""One scheme's classifier: a scikit-learn estimator over docs, multi-label or single-label."""

from __future__ import annotations

from typing import Any, Sequence

import numpy as np
from sklearn.base import BaseEstimator, ClassifierMixin, clone
from sklearn.feature_extraction.text import TfidfVectorizer
from sklearn.linear_model import LogisticRegression
from sklearn.model_selection import KFold
from sklearn.pipeline import FeatureUnion, Pipeline
from threadpoolctl import threadpool_limits

from newsclf.model.features import DocText, RawText, TargetFeatures, TargetName, TargetWindow, split_tokens


def build_features(target_aware: bool, word_ngrams: tuple[int, int] = (1, 2),
                   char_ngrams: tuple[int, int] = (2, 5), max_features: int | None = 200_000) -> FeatureUnion:
    """TF-IDF on language-aware word n-grams and char n-grams; for stance, target windows and target id too."""
    parts: list[tuple[str, Any]] = [
        ("words", Pipeline([("tok", DocText()), ("tfidf", TfidfVectorizer(
            tokenizer=split_tokens, token_pattern=None, lowercase=False, ngram_range=word_ngrams,
            sublinear_tf=True, min_df=1, max_features=max_features, dtype=np.float32))])),
        ("chars", Pipeline([("raw", RawText()), ("tfidf", TfidfVectorizer(
            analyzer="char_wb", ngram_range=char_ngrams, sublinear_tf=True, min_df=2,
            max_features=max_features, dtype=np.float32))])),
    ]
    if target_aware:
        parts += [
            ("window", Pipeline([("win", TargetWindow()), ("tfidf", TfidfVectorizer(
                tokenizer=split_tokens, token_pattern=None, lowercase=False, ngram_range=(1, 2),
                sublinear_tf=True, dtype=np.float32))])),
            ("target", Pipeline([("name", TargetName()), ("tfidf", TfidfVectorizer(
                tokenizer=split_tokens, token_pattern=None, lowercase=False, use_idf=False, dtype=np.float32))])),
            ("mentions", TargetFeatures()),
        ]
    return FeatureUnion(parts)


def best_f1_threshold(y_true: np.ndarray, scores: np.ndarray, default: float = 0.5) -> float:
    """The probability cut-off that maximises F1 on out-of-fold scores (default when there are no positives)."""
    if y_true.sum() == 0:
        return default
    best_t, best_f1 = default, -1.0
    for t in np.unique(np.round(scores, 4)):
        pred = scores >= t
        tp = float((pred & (y_true == 1)).sum())
        f1 = 2 * tp / (pred.sum() + y_true.sum()) if pred.sum() + y_true.sum() else 0.0
        if f1 > best_f1 + 1e-12:
            best_t, best_f1 = float(t), f1
    return best_t


class SchemeClassifier(BaseEstimator, ClassifierMixin):
    """Classifier for one guide scheme; `fit(docs, label_lists)`, `predict_proba(docs)`, `predict(docs)`.

    multi: one logistic regression per label, each with its own F1-optimal threshold chosen on
    out-of-fold predictions of the training data. single: one multinomial logistic regression;
    for stance, also one per target that has at least `per_target_min` examples (what is said
    for or against one target is not what is said about another), the shared model serving
    targets with fewer.
    """

    def __init__(self, kind: str = "multi", labels: Sequence[str] = (), target_aware: bool = False,
                 C: float = 10.0, threshold_folds: int = 3, random_state: int = 0, per_target_min: int = 100):
        self.kind = kind
        self.labels = labels
        self.target_aware = target_aware
        self.C = C
        self.threshold_folds = threshold_folds
        self.random_state = random_state
        self.per_target_min = per_target_min

    def _indicator(self, y: Sequence[Sequence[str]]) -> np.ndarray:
        index = {label: i for i, label in enumerate(self.classes_)}
        Y = np.zeros((len(y), len(self.classes_)), dtype=int)
        for row, labels in enumerate(y):
            for label in labels:
                Y[row, index[label]] = 1
        return Y

    def fit(self, docs: Sequence[dict[str, str]], y: Sequence[Sequence[str]]) -> "SchemeClassifier":
        """Fit on docs and their label lists."""
        # Small dense BLAS calls inside the solver run slower on several threads than on one (measured
        # 6x on two cores); parallelism belongs to processes (cross-validation folds, batch workers).
        with threadpool_limits(1):
            return self._fit(docs, y)

    def _fit(self, docs: Sequence[dict[str, str]], y: Sequence[Sequence[str]]) -> "SchemeClassifier":
        self.classes_ = np.asarray(list(self.labels) or sorted({x for labels in y for x in labels}))
        self.features_ = build_features(self.target_aware)
        X = self.features_.fit_transform(docs)
        Y = self._indicator(y)
        self.n_train_ = len(docs)
        if self.kind == "single":
            ys = Y.argmax(axis=1)
            self.present_ = np.unique(ys)
            if len(self.present_) < 2:
                self.constant_ = int(self.present_[0])
                return self
            self.constant_ = None
            self.model_ = LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000).fit(X, ys)
            self.target_models_ = {}
            if self.target_aware:
                targets = np.array([d["target"] for d in docs])
                for target in np.unique(targets):
                    rows = targets == target
                    if rows.sum() >= self.per_target_min and len(np.unique(ys[rows])) >= 2:
                        self.target_models_[str(target)] = LogisticRegression(
                            C=self.C, class_weight="balanced", max_iter=3000).fit(X[rows], ys[rows])
            return self
        self.models_: list[Any] = []
        for j in range(Y.shape[1]):
            if Y[:, j].min() == Y[:, j].max():
                self.models_.append(float(Y[0, j]))  # a label always (or never) present: predict it as such
            else:
                self.models_.append(LogisticRegression(C=self.C, class_weight="balanced", max_iter=3000)
                                    .fit(X, Y[:, j]))
        self.thresholds_ = self._choose_thresholds(docs, Y)
        return self

    def _choose_thresholds(self, docs: Sequence[dict[str, str]], Y: np.ndarray) -> np.ndarray:
        folds = min(self.threshold_folds, int(Y.sum(axis=0)[Y.sum(axis=0) > 0].min(initial=0)), len(docs))
        if folds < 2:
            return np.full(Y.shape[1], 0.5)
        oof = np.zeros(Y.shape, dtype=float)
        splitter = KFold(folds, shuffle=True, random_state=self.random_state)
        for train, test in splitter.split(docs):
            inner = clone(self).set_params(threshold_folds=0)
            inner.fit([docs[i] for i in train], [[str(c) for c, v in zip(self.classes_, Y[i]) if v] for i in train])
            oof[test] = inner.predict_proba([docs[i] for i in test])
        return np.array([best_f1_threshold(Y[:, j], oof[:, j]) for j in range(Y.shape[1])])

    def predict_proba(self, docs: Sequence[dict[str, str]]) -> np.ndarray:
        """Probability per doc and label, columns in `classes_` order."""
        with threadpool_limits(1):
            return self._predict_proba(docs)

    def _predict_proba(self, docs: Sequence[dict[str, str]]) -> np.ndarray:
        X = self.features_.transform(docs)
        n = X.shape[0]
        if self.kind == "single":
            P = np.zeros((n, len(self.classes_)))
            if self.constant_ is not None:
                P[:, self.constant_] = 1.0
                return P
            P[:, self.model_.classes_] = self.model_.predict_proba(X)
            by_target = getattr(self, "target_models_", {})
            if by_target:
                targets = np.array([d["target"] for d in docs])
                for target, model in by_target.items():
                    rows = np.flatnonzero(targets == target)
                    if len(rows):
                        P[rows] = 0.0
                        P[np.ix_(rows, model.classes_)] = model.predict_proba(X[rows])
            return P
        cols = [np.full(n, m) if isinstance(m, float) else m.predict_proba(X)[:, 1] for m in self.models_]
        return np.column_stack(cols) if cols else np.zeros((n, 0))

    def decide(self, P: np.ndarray) -> list[list[str]]:
        """Labels from probabilities: argmax for single; per-label thresholds for multi (at least one label)."""
        if self.kind == "single":
            return [[str(self.classes_[i])] for i in P.argmax(axis=1)]
        thresholds = getattr(self, "thresholds_", np.full(P.shape[1], 0.5))
        out = []
        for row in P:
            chosen = [str(c) for c, p, t in zip(self.classes_, row, thresholds) if p >= t]
            out.append(chosen or [str(self.classes_[row.argmax()])])  # every article has some topic
        return out

    def predict(self, docs: Sequence[dict[str, str]]) -> list[list[str]]:
        """Label lists per doc."""
        return self.decide(self.predict_proba(docs))
