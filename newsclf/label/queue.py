"""What each labeler sees next: the three samples, the order they are served in, and model
suggestions.

Three kinds of items are kept apart in the store's `queue` table because they serve different ends:

- `reliability`: a random sample stratified by outlet, coded blind by `overlap` coders (never with
  model suggestions); the base of the agreement figures.
- `estimation`: a random sample stratified by outlet, one coder each; the unbiased base for the
  coverage shares researchers report.
- `active` (model picks by uncertainty, `newsclf.model.active.suggest`), `uncertain` (predictions
  the model abstained on, from `classify --queue`) and, before any model exists, `seed` (a first
  batch to train the first model on: one article per content cluster,
  `newsclf.model.active.representative`).

A labeler's n-th item comes from the kinds in a rotating order (reliability, estimation, learning;
then estimation, learning, reliability; ...), so every coder's work mixes the samples and the
reliability items are not recognisable. `lease_next` decides which article a labeler gets; the
store runs its SQL in one BEGIN IMMEDIATE transaction.
"""

from __future__ import annotations

import random
import time
from dataclasses import dataclass
from typing import Any, Sequence

from newsclf.guide import Guide, Target, mention_pattern
from newsclf.store import Store

LEARN_KINDS = ["active", "uncertain", "seed"]
# articles scored by the model (or clustered, for the first batch) when picking learning items
SAMPLE_POOL_CAP = 20000


@dataclass(frozen=True)
class _Stub:
    """Just enough of an Article for random_sample (id and outlet), so 100,000 texts need not be
    loaded."""

    id: str
    outlet: str


def top_up(
    store: Store, kind: str, size: int, seed: int = 0, within: set[str] | None = None
) -> int:
    """Add random articles (stratified by outlet, from those in no queue and unlabeled) until `kind`
    holds `size`.

    For the two random samples, 'reliability' and 'estimation' (the first batch is
    `add_seed_picks`).
    `within`: only these article ids (a query's population, `label serve --pool`).
    """
    from newsclf.model.active import random_sample

    missing = size - store.count_queued(kind)
    if missing <= 0:
        return 0
    pool = [_Stub(i, o) for i, o in store.sample_pool() if within is None or i in within]
    picks = random_sample(pool, missing, seed=seed + store.count_queued(kind))  # type: ignore[arg-type]
    reason = f"{kind} sample: random, stratified by outlet"
    # Priority falls with the draw order, so the sample is served in its (random) stratified order.
    return store.enqueue(
        (p.article.id, kind, float(missing - i), reason) for i, p in enumerate(picks)
    )


def add_seed_picks(store: Store, size: int, seed: int = 0, within: set[str] | None = None) -> int:
    """Top the 'seed' kind up to `size` with the articles that best represent the pool (no model
    yet)."""
    from newsclf.model.active import representative

    missing = size - store.count_queued("seed")
    if missing <= 0:
        return 0
    picks = representative(pool_articles(store, seed, within)[0], missing, store.dup_groups(), seed)
    return store.enqueue((p.article.id, "seed", p.score, p.reason) for p in picks)


def pool_articles(
    store: Store, seed: int = 0, within: set[str] | None = None
) -> tuple[list[Any], int]:
    """(articles, pool size): the unlabeled, unqueued articles picks come from, a random
    SAMPLE_POOL_CAP when there are more.

    Only the sampled ids' texts are loaded: a store of a million articles costs a million ids, not
    texts.
    `within`: only these article ids (a query's population).
    """
    pool_ids = [i for i, _ in store.sample_pool() if within is None or i in within]
    total = len(pool_ids)
    if total > SAMPLE_POOL_CAP:
        pool_ids = random.Random(seed).sample(pool_ids, SAMPLE_POOL_CAP)
    return list(store.iter_articles(pool_ids)), total


def add_active_picks(
    store: Store, model: Any, n: int, seed: int = 0, within: set[str] | None = None
) -> int:
    """Queue the model's n most informative unlabeled articles (kind 'active'), scoring at most
    SAMPLE_POOL_CAP."""
    from newsclf.model.active import suggest

    picks = suggest(model, pool_articles(store, seed, within)[0], n, store.dup_groups())
    return store.enqueue((p.article.id, "active", p.score, p.reason) for p in picks)


def prepare(
    store: Store,
    reliability_size: int,
    estimation_size: int,
    seed_size: int,
    model: Any = None,
    active_size: int = 0,
    seed: int = 0,
    within: set[str] | None = None,
) -> dict[str, int]:
    """Top up the samples before serving; returns how many articles each kind gained.

    `within` restricts every sample to those article ids (the population a query defines).
    """
    added = {
        "reliability": top_up(store, "reliability", reliability_size, seed, within),
        "estimation": top_up(store, "estimation", estimation_size, seed + 1, within),
    }
    if model is not None and active_size:
        added["active"] = add_active_picks(store, model, active_size, seed, within)
    else:
        added["seed"] = add_seed_picks(store, seed_size, seed + 2, within)
    return added


def kind_order(finished: int) -> list[str]:
    """The kinds to try, in order, for a labeler who has finished `finished` items."""
    groups: list[list[str]] = [["reliability"], ["estimation"], LEARN_KINDS]
    k = finished % len(groups)
    return [kind for group in groups[k:] + groups[:k] for kind in group]


def coders_needed(kind: str, overlap: int) -> int:
    """Coders an article of this kind needs: `overlap` in the reliability sample, else one."""
    return overlap if kind == "reliability" else 1


def lease_next(
    store: Store, labeler: str, kinds: list[str], overlap: int, lease_seconds: float
) -> tuple[str, str] | None:
    """Lease the labeler's next article as (article_id, kind), or None when nothing is left.

    The labeler's own live (or lapsed but still needed) lease comes first, so a reload shows the
    same article. Otherwise the first kind in `kinds` with an article this labeler has never
    been given and that still needs coders (`coders_needed`); an article in the reliability
    sample is served only as such. Runs under BEGIN IMMEDIATE, so two labelers asking at once
    never exceed the overlap.
    """
    now = time.time()
    with store.transaction():
        for article_id, kind in store.leases_held(labeler):
            if store.coders_besides(article_id, labeler, now) < coders_needed(kind, overlap):
                store.renew_lease(article_id, labeler, now + lease_seconds)
                return article_id, kind
            # Others filled it while the lease had lapsed: let it go (the labeler never coded it).
            store.release(article_id, labeler)
        for kind in kinds:
            not_in = None if kind == "reliability" else "reliability"
            article_id = store.next_open(kind, labeler, coders_needed(kind, overlap), now, not_in)
            if article_id is not None:
                store.add_lease(article_id, labeler, kind, now, now + lease_seconds)
                return article_id, kind
    return None


def highlight(text: str, targets: Sequence[Any]) -> list[tuple[str, str]]:
    """Split text into (segment, target) pieces: `target` names the stance target a mention belongs
    to, '' elsewhere.

    `targets` are guide Targets (a mention of any alias counts for its target) or plain names
    (case-insensitive, whole words). The template escapes every segment and wraps mentions in
    <mark>:
    the article's text is never inserted as HTML.
    """
    owner: dict[str, str] = {}
    for t in targets:
        for name in t.names if isinstance(t, Target) else (t,):
            if name and name.strip():
                owner.setdefault(name.casefold(), t.name if isinstance(t, Target) else t)
    pattern = mention_pattern(tuple(owner))
    if pattern is None or not text:
        return [(text, "")] if text else []
    out: list[tuple[str, str]] = []
    last = 0
    for m in pattern.finditer(text):
        if m.start() > last:
            out.append((text[last : m.start()], ""))
        out.append((m.group(0), owner.get(m.group(0).casefold(), m.group(0))))
        last = m.end()
    if last < len(text):
        out.append((text[last:], ""))
    return out


def suggestions(model: Any, guide: Guide, article: Any) -> dict[str, list[str]]:
    """The model's labels for the schemes whose `suggestions` the guide allows (empty without a
    model)."""
    if model is None:
        return {}
    allowed = [s.name for s in guide.schemes if s.suggestions and s.name in model.classifiers]
    if not allowed:
        return {}
    labels = model.predict([article])[0]["labels"]
    return {name: list(labels.get(name, [])) for name in allowed}
