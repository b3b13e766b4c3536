"""Duplicates: exact copies by content hash, near-copies (syndicated wire stories with small edits)
by MinHash.

Near-duplicate candidates come from MinHash signatures split into LSH bands (only articles that
share a band are compared, so the cost grows with the number of articles, not its square); each
candidate pair is then verified exactly on word shingles by containment, which tolerates a
reprint that trims a sentence or adds a local paragraph.
"""

from __future__ import annotations

import hashlib
import re
from collections import defaultdict
from datetime import datetime, timezone
from typing import Iterable, Sequence

import numpy as np

from newsclf.article import Article, normalize_text

SHINGLE = 4  # words per shingle
PERMUTATIONS = 128  # MinHash signature length
BANDS = 64  # LSH bands of 2 rows: pairs from ~25% Jaccard almost surely become candidates
CONTAINMENT = 0.7  # share of the shorter text's shingles found in the other: same story
_PRIME = (1 << 61) - 1
_rng = np.random.RandomState(20230512)
_A = _rng.randint(1, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)
_B = _rng.randint(0, 1 << 32, size=PERMUTATIONS, dtype=np.uint64)


def shingles(text: str, size: int = SHINGLE) -> set[int]:
    """Hashed word n-grams of the normalized text (32-bit, stable across runs and machines)."""
    words = re.findall(r"\w+", normalize_text(text))
    if len(words) < size:
        grams = [" ".join(words)] if words else []
    else:
        grams = [" ".join(words[i : i + size]) for i in range(len(words) - size + 1)]
    return {
        int.from_bytes(hashlib.blake2b(g.encode(), digest_size=4).digest(), "little") for g in grams
    }


def minhash(items: set[int]) -> np.ndarray:
    """MinHash signature of a shingle set."""
    if not items:
        return np.full(PERMUTATIONS, _PRIME, dtype=np.uint64)
    x = np.fromiter(items, dtype=np.uint64, count=len(items))
    # a*x stays below 2**64 because both are below 2**32; reduce before adding b.
    hashed = ((np.outer(_A, x) % _PRIME) + _B[:, None]) % _PRIME
    return hashed.min(axis=1)


def containment(a: set[int], b: set[int]) -> float:
    """|a & b| / min(|a|, |b|): 1.0 when the shorter text is wholly inside the longer."""
    if not a or not b:
        return 0.0
    return len(a & b) / min(len(a), len(b))


class _UnionFind:
    def __init__(self) -> None:
        self.parent: dict[str, str] = {}

    def find(self, x: str) -> str:
        self.parent.setdefault(x, x)
        while self.parent[x] != x:
            self.parent[x] = self.parent[self.parent[x]]
            x = self.parent[x]
        return x

    def union(self, a: str, b: str) -> None:
        ra, rb = self.find(a), self.find(b)
        if ra != rb:
            self.parent[max(ra, rb)] = min(ra, rb)


def duplicate_groups(articles: Iterable[Article], threshold: float = CONTAINMENT) -> dict[str, str]:
    """Map each article id to its group's id (the earliest published member); singletons map to
    themselves."""
    latest = datetime.max.replace(tzinfo=timezone.utc)
    items: list[Article] = sorted(articles, key=lambda a: (a.published_utc or latest, a.id))
    uf = _UnionFind()
    by_hash: dict[str, str] = {}
    sets: dict[str, set[int]] = {}
    buckets: dict[tuple[int, bytes], list[str]] = defaultdict(list)
    rows = PERMUTATIONS // BANDS
    for article in items:
        uf.find(article.id)
        if article.content_hash in by_hash:  # exact copy
            uf.union(by_hash[article.content_hash], article.id)
            continue
        by_hash[article.content_hash] = article.id
        sets[article.id] = shingles(article.text or article.title or "")  # reprints often retitle
        signature = minhash(sets[article.id])
        for band in range(BANDS):
            key = (band, signature[band * rows : (band + 1) * rows].tobytes())
            for other in buckets[key]:
                if (
                    uf.find(other) != uf.find(article.id)
                    and containment(sets[other], sets[article.id]) >= threshold
                ):
                    uf.union(other, article.id)
            buckets[key].append(article.id)
    order = {a.id: i for i, a in enumerate(items)}
    members: dict[str, list[str]] = defaultdict(list)
    for article in items:
        members[uf.find(article.id)].append(article.id)
    groups = {}
    for ids in members.values():
        head = min(ids, key=order.__getitem__)
        for article_id in ids:
            groups[article_id] = head
    return groups


def count_unique(groups: dict[str, str], ids: Sequence[str] | None = None) -> int:
    """How many distinct stories a set of article ids holds once duplicates are grouped."""
    ids = list(groups) if ids is None else ids
    return len({groups.get(i, i) for i in ids})
