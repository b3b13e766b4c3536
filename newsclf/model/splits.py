"""How to split labeled examples for honest evaluation: random, by outlet, by time, or by any field.

A model that learns an outlet's house style looks good only when that outlet sits on both sides
of the split; researchers need the outlet and time splits.
"""

from __future__ import annotations

import math
from collections import Counter
from typing import Any, Sequence

import numpy as np
from sklearn.model_selection import GroupKFold, KFold, StratifiedKFold

from newsclf.errors import InputError

SPLITS = ("auto", "random", "outlet", "time")


def group_value(article: Any, field: str) -> str:
    """The value of an Article field or metadata key, as a group label ('' when absent)."""
    value = getattr(article, field, None)
    if value is None:
        value = (article.metadata or {}).get(field)
    return "" if value is None else str(value)


def resolve_split(split: str, articles: Sequence[Any], folds: int) -> str:
    """Turn 'auto' into the most honest split the data allows: outlet, else time, else random."""
    if split != "auto":
        if split not in SPLITS and not split.startswith("group:"):
            raise InputError(f"unknown split {split!r}; use random, outlet, time or group:FIELD")
        return split
    if len({a.outlet for a in articles if a.outlet}) >= max(3, folds):
        return "outlet"
    if (
        sum(1 for a in articles if a.published) >= 0.9 * len(articles)
        and len(articles) >= 2 * folds
    ):
        return "time"
    return "random"


def make_folds(
    articles: Sequence[Any], first_labels: Sequence[str], split: str, folds: int, seed: int = 0
) -> list[tuple[np.ndarray, np.ndarray]]:
    """(train indices, test indices) per fold for a resolved split name."""
    n = len(articles)
    idx = np.arange(n)
    if split == "random":
        smallest = min(Counter(first_labels).values()) if first_labels else 0
        if smallest >= 2:
            splitter: Any = StratifiedKFold(min(folds, smallest), shuffle=True, random_state=seed)
            return list(splitter.split(idx, first_labels))
        return list(KFold(min(folds, n), shuffle=True, random_state=seed).split(idx))
    if split == "time":
        # Forward chaining: each test block is later than everything trained on before it.
        order = sorted(idx, key=lambda i: (articles[i].published or "", articles[i].id))
        blocks = np.array_split(np.array(order), folds + 1)
        return [
            (np.concatenate(blocks[:k]), blocks[k]) for k in range(1, folds + 1) if len(blocks[k])
        ]
    field = "outlet" if split == "outlet" else split.split(":", 1)[1]
    groups = [group_value(a, field) for a in articles]
    distinct = len(set(groups))
    if distinct < 2:
        raise InputError(
            f"split {split!r} needs at least 2 distinct values of {field!r}; the data has"
            f" {distinct}"
        )
    return list(GroupKFold(min(folds, distinct)).split(idx, groups=groups))


def describe(split: str, folds: list[tuple[np.ndarray, np.ndarray]]) -> str:
    """A sentence for the model card and metrics: which split, how many folds."""
    names = {
        "random": "random (stratified) folds",
        "outlet": "folds grouped by outlet (no outlet on both sides)",
        "time": "forward-chaining folds by publication date (test always later than train)",
    }
    text = names.get(split, f"folds grouped by {split.split(':', 1)[-1]}")
    return f"{len(folds)}-fold cross-validation, {text}"


def stratified_group_folds(
    n_splits: int, strata: np.ndarray, groups: np.ndarray, seed: int
) -> list[tuple[np.ndarray, np.ndarray]]:
    """StratifiedGroupKFold(n_splits, shuffle=True, random_state=seed).split(X, strata, groups),
    the same folds, its greedy placement scored for all folds at once.

    scikit-learn places the groups one by one, each against every fold in a Python loop (SemEval,
    800 tweets, 3 folds: 0.08 s, an eighth of an outer fold's fit); this is about 4x faster, with
    the same sums and ties.
    """
    _, y_inv, y_cnt = np.unique(strata, return_inverse=True, return_counts=True)
    _, groups_inv = np.unique(groups, return_inverse=True)
    n_groups = int(groups_inv.max()) + 1
    per_group = np.zeros((n_groups, len(y_cnt)))
    np.add.at(per_group, (groups_inv, y_inv), 1)
    perm = np.arange(n_groups)
    np.random.RandomState(seed).shuffle(perm)
    per_group = per_group[perm]
    inv_perm = np.empty_like(perm)
    inv_perm[perm] = np.arange(n_groups)
    groups_inv = inv_perm[groups_inv]
    per_fold = np.zeros((n_splits, len(y_cnt)))
    fold_of = np.empty(n_groups, dtype=int)
    each_fold = np.eye(n_splits)[:, :, None]  # candidate f adds the group to fold f only
    for g in np.argsort(-np.std(per_group, axis=1), kind="stable"):
        candidates = (per_fold[None] + each_fold * per_group[g]) / y_cnt
        scores = np.std(candidates, axis=1).mean(axis=1).tolist()
        sizes = per_fold.sum(axis=1).tolist()
        best, best_score, best_size = 0, math.inf, math.inf
        for f, (score, size) in enumerate(zip(scores, sizes)):
            # np.isclose(score, best_score) with its default tolerances, as scikit-learn's tie
            close = best_score != math.inf and abs(score - best_score) <= 1e-8 + 1e-5 * abs(
                best_score
            )
            if score < best_score or (close and size < best_size):
                best, best_score, best_size = f, score, size
        per_fold[best] += per_group[g]
        fold_of[g] = best
    doc_fold = fold_of[groups_inv]
    idx = np.arange(len(doc_fold))
    return [(idx[doc_fold != f], idx[doc_fold == f]) for f in range(n_splits)]
