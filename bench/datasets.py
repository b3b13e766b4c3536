"""Loaders for the shared benchmark data sets (read in place, never copied) into newsclf's record
format.

Every loader returns ``(train, test)``: lists of dicts
``{"id", "text", "title"?, "target"?, "labels": [...], "lang", "group"?, "outlet"?}`` plus any extra
fields a
data set needs (NewsMTSC keeps ``target_span`` and ``sentence_id``).  A loader returns ``None`` when
its folder is absent, so a clone without the shared data skips cleanly.

The data lives in ``../shared/data`` relative to the checkout (override with
``NEWSCLF_BENCH_DATA``).
"""

from __future__ import annotations

import json
import os
import random
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Callable, Iterator

Record = dict[str, Any]
Split = tuple[list[Record], list[Record]]

ROOT = Path(__file__).resolve().parents[1]
DATA = Path(os.environ.get("NEWSCLF_BENCH_DATA", ROOT.parent / "shared" / "data"))
FNC_SEED = 13  # the FNC-1 80/20 dev split (grouped by body) is fixed by this seed
FNC_DEV_SHARE = 0.2


def read_jsonl(path: Path) -> Iterator[Record]:
    with open(path, encoding="utf-8") as fh:
        for line in fh:
            if line.strip():
                yield json.loads(line)


def _record(
    raw: Record, group: Any = None, keep: tuple[str, ...] = (), outlet: bool = False
) -> Record:
    rec: Record = {
        "id": str(raw["id"]),
        "text": raw.get("text") or "",
        "labels": list(raw["labels"]),
        "lang": raw.get("lang") or "en",
    }
    if raw.get("title"):
        rec["title"] = raw["title"]
    if raw.get("target"):
        rec["target"] = raw["target"]
    if group is not None:
        rec["group"] = str(group)
        # the group is the record's outlet (not a story, event or body it shares with others)
        if outlet:
            rec["outlet"] = str(group)
    for key in keep:
        if key in raw:
            rec[key] = raw[key]
    return rec


def _plain(
    folder: str, group_field: str | None = None, keep: tuple[str, ...] = (), outlet: bool = False
) -> Callable[[], Split | None]:
    def load() -> Split | None:
        base = DATA / folder
        if not (base / "train.jsonl").is_file() or not (base / "test.jsonl").is_file():
            return None
        out = []
        for name in ("train.jsonl", "test.jsonl"):
            out.append(
                [
                    _record(r, r.get(group_field) if group_field else None, keep, outlet)
                    for r in read_jsonl(base / name)
                ]
            )
        return out[0], out[1]

    return load


def grouped_split(
    records: list[Record], share: float, seed: int, key: Callable[[Record], Any]
) -> Split:
    """Split so that no group lands on both sides; about `share` of the records go to the second
    part."""
    groups = sorted({key(r) for r in records}, key=str)
    random.Random(seed).shuffle(groups)
    sizes: dict[Any, int] = {}
    for r in records:
        sizes[key(r)] = sizes.get(key(r), 0) + 1
    held, count, want = set(), 0, share * len(records)
    for g in groups:
        if count >= want:
            break
        held.add(g)
        count += sizes[g]
    return [r for r in records if key(r) not in held], [r for r in records if key(r) in held]


def load_fnc1() -> Split | None:
    """FNC-1: the 49,972 official training pairs joined with their bodies; 80/20 dev split grouped
    by body_id.

    headline -> title and target (the stance target is the headline), body -> text, group = body_id.
    The official competition test set is not used (its labels are not in this folder).
    """
    base = DATA / "stance" / "fnc1"
    pairs_path, bodies_path = base / "train_pairs_full.jsonl", base / "train_bodies.jsonl"
    if not pairs_path.is_file() or not bodies_path.is_file():
        return None
    bodies = {int(b["body_id"]): b["text"] for b in read_jsonl(bodies_path)}
    records = []
    for p in read_jsonl(pairs_path):
        body_id = int(p["body_id"])
        headline = p.get("title") or p.get("target") or ""
        records.append(
            {
                "id": str(p["id"]),
                "title": headline,
                "target": headline,
                "text": bodies[body_id],
                "labels": list(p["labels"]),
                "lang": p.get("lang") or "en",
                "group": str(body_id),
            }
        )
    return grouped_split(records, FNC_DEV_SHARE, FNC_SEED, key=lambda r: r["group"])


def _newsmtsc_group(raw: Record) -> str:
    # ids look like "allsides_1000_401_25_<name>_<from>_<to>": source, article, story, sentence
    # index, ...
    # Group by story (AllSides puts several outlets' articles about one event under one story id).
    parts = str(raw.get("sentence_id") or raw["id"]).split("_")
    return parts[0] + "_story" + (parts[2] if len(parts) > 2 else "")


def load_newsmtsc() -> Split | None:
    base = DATA / "stance" / "newsmtsc"
    if not (base / "train.jsonl").is_file() or not (base / "test.jsonl").is_file():
        return None
    keep = ("target_span", "sentence_id")
    train = [_record(r, _newsmtsc_group(r), keep) for r in read_jsonl(base / "train.jsonl")]
    test = [
        _record(r, _newsmtsc_group(r), keep) for r in read_jsonl(base / "test.jsonl")
    ]  # test = devtest_rw
    return train, test


@dataclass(frozen=True)
class Dataset:
    name: str
    task: str  # "stance" or "topic"
    kind: str  # "single" or "multi"
    load: Callable[[], Split | None]
    folder: str
    target_aware: bool = False
    lang: str = "en"


DATASETS: list[Dataset] = [
    Dataset(
        "semeval2016_t6",
        "stance",
        "single",
        _plain("stance/semeval2016_t6", keep=("tweeteval_split",)),
        "stance/semeval2016_t6",
        target_aware=True,
    ),
    Dataset("newsmtsc", "stance", "single", load_newsmtsc, "stance/newsmtsc", target_aware=True),
    Dataset("fnc1", "stance", "single", load_fnc1, "stance/fnc1", target_aware=True),
    Dataset(
        "id_stance",
        "stance",
        "single",
        _plain("stance/id_stance", group_field="event"),
        "stance/id_stance",
        target_aware=True,
        lang="id",
    ),
    Dataset("bbc", "topic", "single", _plain("topic/bbc"), "topic/bbc"),
    Dataset(
        "ag_news_subset", "topic", "single", _plain("topic/ag_news_subset"), "topic/ag_news_subset"
    ),
    Dataset(
        "reuters21578_modapte",
        "topic",
        "multi",
        _plain("topic/reuters21578_modapte"),
        "topic/reuters21578_modapte",
    ),
    Dataset(
        "id_indosum",
        "topic",
        "single",
        _plain("topic/id_indosum", group_field="source", outlet=True),
        "topic/id_indosum",
        lang="id",
    ),
]
BY_NAME = {d.name: d for d in DATASETS}


def dev_split(train: list[Record], share: float = 0.2, seed: int = 0) -> Split:
    """A dev split carved from TRAIN (for prototyping; never touch test): grouped when records have
    a group."""
    if train and all("group" in r for r in train) and len({r["group"] for r in train}) >= 5:
        return grouped_split(train, share, seed, key=lambda r: r["group"])
    idx = list(range(len(train)))
    random.Random(seed).shuffle(idx)
    cut = int(round(len(idx) * (1 - share)))
    return [train[i] for i in sorted(idx[:cut])], [train[i] for i in sorted(idx[cut:])]
