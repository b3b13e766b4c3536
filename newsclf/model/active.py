"""Making every label count: abstention, active-learning picks, and gold labels the model doubts."""

from __future__ import annotations

import dataclasses
import functools
import hashlib
import io
import json
import random
from collections import Counter, defaultdict
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Sequence

import numpy as np

from newsclf.article import Article
from newsclf.guide import Guide, Scheme
from newsclf.model.data import Example
from newsclf.model.features import as_doc
from newsclf.store import Store
from newsclf.version import __version__


def uncertainty(P: np.ndarray, kind: str, thresholds: np.ndarray | None = None) -> np.ndarray:
    """0 (sure) .. 1 (a coin toss) per row: 1 - margin for single; the least certain label for
    multi."""
    if P.shape[0] == 0:
        return np.zeros(0)
    if kind == "single":
        top = np.sort(P, axis=1)[:, ::-1]
        second = top[:, 1] if P.shape[1] > 1 else np.zeros(P.shape[0])
        return 1.0 - (top[:, 0] - second)
    t = np.full(P.shape[1], 0.5) if thresholds is None else np.asarray(thresholds)
    # Distance from the label's own decision threshold, scaled so the far ends are 0.
    scale = np.maximum(t, 1 - t)
    return (1.0 - np.abs(P - t) / scale).max(axis=1)


def uncertain_labels(
    P: np.ndarray, classes: Sequence[str], kind: str, min_confidence: float
) -> list[list[str]]:
    """Per row, the labels the model is not sure enough about to assert or deny at
    `min_confidence`."""
    out = []
    for row in P:
        if kind == "single":
            out.append([] if row.max() >= min_confidence else [str(classes[int(row.argmax())])])
        else:
            out.append(
                [str(c) for c, p in zip(classes, row) if 1 - min_confidence < p < min_confidence]
            )
    return out


@dataclass
class Pick:
    """An article suggested for labeling, and why."""

    article: Article
    score: float
    reason: str


CANDIDATES_PER_PICK = (
    10  # the batch is spread over the 10n most uncertain (Zhdanov 2019, "Diverse mini-batch AL")
)
EMBED_DIMS = 100  # SVD dimensions the candidates are clustered in
FIRST_BATCH_POOL = (
    20000  # a first batch is clustered from at most this many articles (a random sample of more)
)
FIRST_BATCH_CLUSTERS = (
    200  # k-means' cost grows with clusters x articles: a bigger first batch is topped up at random
)


def suggest(
    model: Any,
    articles: Sequence[Article],
    n: int,
    groups: dict[str, str] | None = None,
    diverse: bool = True,
    seed: int = 0,
    targets: Sequence[str | None] | None = None,
) -> list[Pick]:
    """The n articles whose labels would teach the model most: uncertain, unlike each other, spread
    across outlets.

    The most uncertain articles alone are often near-copies of one confusing story: labeling ten of
    them teaches what one would. So the batch comes from the 10n most uncertain (one per
    near-duplicate group, plus the most uncertain of each outlet not among them), clustered into n
    groups by content (k-means weighted by uncertainty, in an SVD of the model's own features); the
    article nearest each cluster's centre is picked, while every outlet among the candidates keeps
    at least one pick (n allowing).
    `diverse=False`: the n most uncertain, round-robin over outlets.
    `targets`: each article's own stance target (as `classify_records` takes them; None: the
    guide's).
    """
    if not articles or n <= 0:
        return []
    if targets is not None and len(targets) != len(articles):
        raise ValueError(f"suggest: {len(targets)} targets for {len(articles)} articles")
    own = list(targets) if targets is not None else [None] * len(articles)
    scores = np.zeros(len(articles))
    docs_per_scheme = []
    for name, clf in model.classifiers.items():
        scheme = model.guide.scheme(name)
        docs = [as_doc(a, scheme.effective_target(t)) for a, t in zip(articles, own)]
        docs_per_scheme.append((clf, docs))
        P = clf.predict_proba(docs)
        scores += uncertainty(P, scheme.kind, getattr(clf, "thresholds_", None))
    scores /= max(1, len(model.classifiers))
    # Tried and not kept: weighting uncertainty by how rare the predicted class is among the labels
    # so
    # far (to find a small class sooner). IndoSum, random dev split carved from train, 3 seeds:
    # labels
    # to 95% of full-data macro-F1 per seed 137 / 178 / 94 against 139 / 150 / 100 without it.
    by_score = _one_per_group(np.argsort(-scores, kind="stable"), articles, groups or {})
    ranked = _round_robin(by_score, articles, scores)
    clustered = False
    if diverse and len(ranked) > n:
        # The most uncertain overall, not round-robin over outlets (which fills the pool with an
        # outlet's
        # sure articles; IndoSum dev split, labels to 95%: 0.27 -> about 0.22 of random's), plus
        # each other
        # outlet's most uncertain, so that every outlet can keep a pick.
        candidates = _with_every_outlet(by_score[: CANDIDATES_PER_PICK * n], by_score, articles)
        X = _features(docs_per_scheme, candidates)
        outlets = [articles[i].outlet or "" for i in candidates]
        clustered = X is not None
        chosen = (
            ranked[:n]
            if X is None
            else [
                candidates[i]
                for i in diverse_subset(X, scores[candidates], n, seed, strata=outlets)
            ]
        )
        ranked = _round_robin(sorted(chosen, key=lambda i: -scores[i]), articles, scores)
    # Only a batch that was clustered by content says so (fewer candidates than n, or a model
    # without
    # a feature pipeline, leave the plain uncertainty order).
    reason = "uncertainty {:.2f}" + ("; diverse batch" if clustered else "")
    return [
        Pick(articles[i], round(float(scores[i]), 4), reason.format(scores[i])) for i in ranked[:n]
    ]


def representative(
    articles: Sequence[Article], n: int, groups: dict[str, str] | None = None, seed: int = 0
) -> list[Pick]:
    """A first batch for when no model exists yet: n articles that stand for the pool's content and
    outlets.

    The pool (one article per near-duplicate group) is clustered into n groups by its words (TF-IDF,
    k-means in an SVD, as `diverse_subset`) and the article nearest each centre is picked, every
    outlet keeping at least one where n allows. A random first batch spends labels on whatever is
    common and may miss whole topics. On an IndoSum dev split carved from train (3 seeds), this one
    scored 38.6 macro-F1 at 50 labels against random's 36.1, and with the rounds of `suggest` after
    it, 95% of full-data macro-F1 took 0.13, 0.13 and 0.20 of random order's labels per seed,
    against
    0.23, 0.23 and 0.19 after a random first batch (on BBC's, 2 seeds, worse: 1.05 -> 1.39, the
    uncertain round after it dips at 100 labels).
    Tried and not kept: serving the batch in greedy facility-location order (each prefix covering
    the
    pool best) instead of k-means' cluster order. BBC dev split carved from train, 3 seeds, macro-F1
    of
    the first 15 / 30 / 35 picks: 55.5 / 75.2 / 76.3, against 62.3 / 80.4 / 85.2 in cluster order.
    A pool larger than FIRST_BATCH_POOL is sampled at random first; picks beyond
    FIRST_BATCH_CLUSTERS
    are a random sample stratified by outlet, as is the whole batch when the texts share no words.
    """
    if not articles or n <= 0:
        return []
    pool = _one_per_group(range(len(articles)), articles, groups or {})
    if len(pool) > FIRST_BATCH_POOL:
        pool = sorted(random.Random(seed).sample(pool, FIRST_BATCH_POOL))
    if len(pool) <= n:
        return [
            Pick(articles[i], float(len(pool) - j), "representative: the whole pool")
            for j, i in enumerate(pool)
        ]
    X = _word_features([articles[i] for i in pool])
    if X is None:
        return random_sample([articles[i] for i in pool], n, seed)
    k = min(n, FIRST_BATCH_CLUSTERS)
    rows = diverse_subset(
        X, np.ones(len(pool)), k, seed, strata=[articles[i].outlet or "" for i in pool]
    )
    # Score falls with the pick order, so that a queue serves the batch in it.
    picks = [
        Pick(
            articles[pool[r]],
            float(n - j),
            "representative: nearest its content cluster's centre (no model yet)",
        )
        for j, r in enumerate(rows)
    ]
    if n > k:
        taken = {pool[r] for r in rows}
        rest = random_sample([articles[i] for i in pool if i not in taken], n - k, seed)
        picks += [Pick(p.article, float(n - k - j), p.reason) for j, p in enumerate(rest)]
    return picks


def _word_features(articles: Sequence[Article]) -> Any:
    """TF-IDF of each article's title and text (words seen in at least 2 articles, in at most half);
    None: no such word."""
    from sklearn.feature_extraction.text import TfidfVectorizer

    texts = [f"{a.title or ''}\n{a.text or ''}" for a in articles]
    try:
        return TfidfVectorizer(sublinear_tf=True, min_df=2, max_df=0.5).fit_transform(texts)
    except ValueError:  # no word passes both bounds (a tiny or uniform pool)
        return None


def diverse_subset(
    X: Any, weights: np.ndarray, n: int, seed: int = 0, strata: Sequence[str] | None = None
) -> list[int]:
    """n rows of X spread over its content: weighted k-means into n clusters, the row nearest each
    centre.

    With `strata` (e.g. each row's outlet), every stratum keeps at least one row when n allows: a
    missing one takes over the cluster where its nearest row costs the least extra distance.
    """
    from sklearn.cluster import KMeans
    from sklearn.decomposition import TruncatedSVD
    from sklearn.preprocessing import normalize

    m = X.shape[0]
    if m <= n:
        return list(range(m))
    dims = min(EMBED_DIMS, X.shape[1] - 1, m - 1)
    Z = (
        normalize(TruncatedSVD(dims, random_state=seed).fit_transform(X))
        if dims >= 2
        else X.toarray()
    )
    # Uncertainty as sample weight pulls centres towards the informative part of each cluster.
    km = KMeans(n_clusters=n, n_init=1, random_state=seed).fit(
        Z, sample_weight=np.maximum(weights, 1e-6)
    )
    distance = km.transform(Z)
    pick_of: dict[int, int] = {}
    for c in range(n):
        members = np.flatnonzero(km.labels_ == c)
        if len(members):
            pick_of[c] = int(members[distance[members, c].argmin()])
    if strata is not None:
        _cover_strata(pick_of, km.labels_, distance, weights, list(strata))
    picks = list(pick_of.values())
    # k-means may leave clusters empty on duplicate rows: fill up with the most uncertain left.
    taken = set(picks)
    rest = [i for i in np.argsort(-weights, kind="stable") if i not in taken]
    return picks + [int(i) for i in rest[: n - len(picks)]]


def _cover_strata(
    pick_of: dict[int, int],
    labels: np.ndarray,
    distance: np.ndarray,
    weights: np.ndarray,
    strata: list[str],
) -> None:
    """Swap cluster picks in place so that each stratum has one, taking only from strata that have
    several."""
    best_weight: dict[str, float] = {}
    for i, s in enumerate(strata):
        best_weight[s] = max(best_weight.get(s, -1.0), float(weights[i]))
    for stratum in sorted(best_weight, key=lambda s: -best_weight[s]):
        count = Counter(strata[i] for i in pick_of.values())
        if count[stratum]:
            continue
        options = [
            (distance[r, labels[r]] - distance[pick_of[labels[r]], labels[r]], r)
            for r in range(len(strata))
            if strata[r] == stratum
            and labels[r] in pick_of
            and count[strata[pick_of[labels[r]]]] > 1
        ]
        if options:
            _, row = min(options)
            pick_of[int(labels[row])] = row


def _features(docs_per_scheme: list[tuple[Any, list[dict[str, str]]]], rows: Sequence[int]) -> Any:
    """The models' own feature rows for `rows` side by side (None when a model has no feature
    pipeline)."""
    import scipy.sparse as sp

    blocks = []
    for clf, docs in docs_per_scheme:
        # An encoder backend (minilm, minilm-frozen) clusters in the features of the linear model it
        # blends with.
        features = getattr(clf, "features_", None) or getattr(
            getattr(clf, "linear_", None), "features_", None
        )
        if features is None:
            return None
        blocks.append(sp.csr_matrix(features.transform([docs[i] for i in rows])))
    return sp.hstack(blocks).tocsr() if blocks else None


def _with_every_outlet(
    top: list[int], order: Sequence[int], articles: Sequence[Article]
) -> list[int]:
    """`top`, then the first article in `order` of each outlet that `top` lacks."""
    seen = {articles[i].outlet or "" for i in top}
    extra = []
    for i in order:
        outlet = articles[i].outlet or ""
        if outlet not in seen:
            seen.add(outlet)
            extra.append(i)
    return list(top) + extra


def _one_per_group(
    order: Sequence[int], articles: Sequence[Article], groups: dict[str, str]
) -> list[int]:
    """`order` keeping the first article of each near-duplicate group: a label on one copy teaches
    the others'."""
    seen: set[str] = set()
    out = []
    for i in order:
        group = groups.get(articles[i].id, articles[i].id)
        if group not in seen:
            seen.add(group)
            out.append(int(i))
    return out


def _round_robin(
    order: Sequence[int], articles: Sequence[Article], scores: np.ndarray
) -> list[int]:
    """`order` interleaved over outlets: one per outlet a round, the outlet with the best next score
    first."""
    by_outlet: dict[str, list[int]] = defaultdict(list)
    for i in order:
        by_outlet[articles[i].outlet or ""].append(i)
    queues = {outlet: iter(items) for outlet, items in by_outlet.items()}
    heads = {outlet: next(q) for outlet, q in queues.items()}
    out = []
    while heads:
        for outlet in sorted(heads, key=lambda o: -scores[heads[o]]):
            out.append(heads[outlet])
            nxt = next(queues[outlet], None)
            if nxt is None:
                del heads[outlet]
            else:
                heads[outlet] = nxt
    return out


def random_sample(articles: Sequence[Article], n: int, seed: int = 0) -> list[Pick]:
    """A random sample stratified by outlet (the seed set before a model exists, or an estimation
    sample)."""
    rng = random.Random(seed)
    by_outlet: dict[str, list[Article]] = defaultdict(list)
    for article in articles:
        by_outlet[article.outlet or ""].append(article)
    for items in by_outlet.values():
        rng.shuffle(items)
    picks: list[Pick] = []
    outlets = sorted(by_outlet)
    while len(picks) < n and any(by_outlet.values()):
        for outlet in outlets:
            if by_outlet[outlet] and len(picks) < n:
                picks.append(Pick(by_outlet[outlet].pop(), 0.0, "random, stratified by outlet"))
    return picks


def label_errors(
    scheme: Scheme, examples: list[Example], P: np.ndarray, tested: np.ndarray
) -> list[dict[str, Any]]:
    """Gold items whose label the out-of-fold model contradicts with confidence (confident
    learning).

    A class's confidence threshold is the model's mean probability for it over the items that carry
    it; an item is flagged when its given label falls below that class's threshold while another
    label clears its own.
    """
    labels = scheme.label_ids
    index = {label: j for j, label in enumerate(labels)}
    rows: list[dict[str, Any]] = []
    tested = np.asarray(tested)
    if scheme.kind == "single":
        given = np.array([index[examples[i].labels[0]] for i in tested])
        Pt = P[tested]
        thresholds = np.array(
            [Pt[given == j, j].mean() if (given == j).any() else 1.0 for j in range(len(labels))]
        )
        for row, i in enumerate(tested):
            g = given[row]
            above = [j for j in range(len(labels)) if j != g and Pt[row, j] >= thresholds[j]]
            if Pt[row, g] < thresholds[g] and above:
                j = max(above, key=lambda k: Pt[row, k])
                rows.append(
                    _error_row(
                        examples[i],
                        scheme,
                        [labels[g]],
                        [labels[j]],
                        float(Pt[row, j] - Pt[row, g]),
                    )
                )
        return sorted(rows, key=lambda r: -r["margin"])
    Y = np.zeros((len(examples), len(labels)), dtype=int)
    for i, e in enumerate(examples):
        for label in e.labels:
            Y[i, index[label]] = 1
    Yt, Pt = Y[tested], P[tested]
    for j, label in enumerate(labels):
        pos, neg = Yt[:, j] == 1, Yt[:, j] == 0
        if not pos.any() or not neg.any():
            continue
        t_pos, t_neg = Pt[pos, j].mean(), (1 - Pt[neg, j]).mean()
        for row, i in enumerate(tested):
            p = Pt[row, j]
            if pos[row] and p < t_pos and (1 - p) >= t_neg:
                rows.append(
                    _error_row(examples[i], scheme, [label], [f"not {label}"], float((1 - p) - p))
                )
            elif neg[row] and (1 - p) < t_neg and p >= t_pos:
                rows.append(
                    _error_row(examples[i], scheme, [f"not {label}"], [label], float(p - (1 - p)))
                )
    return sorted(rows, key=lambda r: -r["margin"])


def _error_row(
    example: Example, scheme: Scheme, given: list[str], suggested: list[str], margin: float
) -> dict[str, Any]:
    return {
        "id": example.article.id,
        "title": example.article.title,
        "scheme": scheme.name,
        "target": example.target or None,
        "gold": example.labels,
        "given": given,
        "model_says": suggested,
        "margin": round(margin, 4),
    }


def out_of_fold_key(
    scheme: Scheme, examples: list[Example], folds: int, split: str, seed: int
) -> str:
    """A hash of everything label-errors' out-of-fold predictions depend on.

    The scheme as the guide defines it, the fold settings, each example's feature input and labels
    in order (the folds are drawn from the labels), and the model code itself: newsclf's version
    and the source of newsclf/model, so an upgrade that fits differently never serves old results.
    """
    h = hashlib.sha256()
    h.update(_model_code_digest().encode())
    h.update(
        json.dumps(
            [__version__, dataclasses.asdict(scheme), folds, split, seed], default=str
        ).encode()
    )
    for e in examples:
        h.update(json.dumps([e.article.id, e.labels, e.doc], sort_keys=True).encode())
        h.update(b"\n")
    return h.hexdigest()


@functools.lru_cache(maxsize=1)
def _model_code_digest() -> str:
    h = hashlib.sha256()
    for path in sorted(Path(__file__).parent.glob("*.py")):
        h.update(path.name.encode() + b"\0" + path.read_bytes())
    return h.hexdigest()


def _pack(P: np.ndarray, tested: np.ndarray) -> bytes:
    buffer = io.BytesIO()
    np.savez(buffer, P=P, tested=tested)
    return buffer.getvalue()


def _unpack(value: bytes) -> tuple[np.ndarray, np.ndarray]:
    with np.load(io.BytesIO(value)) as data:
        return data["P"], data["tested"]


def all_label_errors(
    guide: Guide,
    examples: dict[str, list[Example]],
    folds: int = 5,
    seed: int = 0,
    store: Store | None = None,
) -> list[dict[str, Any]]:
    """label_errors over every scheme, from random-fold out-of-fold predictions (one per item).

    With a `store`, each scheme's out-of-fold predictions are kept in it and reused while the
    scheme, its labeled items, the fold settings and the model code are unchanged (see
    out_of_fold_key): rerunning after reviewing nothing refits nothing.
    """
    from newsclf.model.train import out_of_fold

    rows: list[dict[str, Any]] = []
    for scheme in guide.schemes:
        items = examples.get(scheme.name, [])
        if len(items) < 4 or len({label for e in items for label in e.labels}) < 2:
            continue
        name = f"label-errors:{scheme.name}"
        key = out_of_fold_key(scheme, items, folds, "random", seed)
        value = store.cached(name, key) if store is not None else None
        if value is not None:
            P, tested = _unpack(value)
        else:
            P, tested, _, _, _ = out_of_fold(scheme, items, folds=folds, split="random", seed=seed)
            if store is not None:
                store.set_cached(name, key, _pack(P, tested))
        rows += label_errors(scheme, items, P, tested)
    return sorted(rows, key=lambda r: -r["margin"])
