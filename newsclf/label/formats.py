"""Moving labels in and out: newsclf's annotation JSONL, Prodigy's JSONL and Label Studio's JSON
tasks.

- **newsclf JSONL** (`annotation_lines`): one line per coder and article, importable again with
  `newsclf import --guide G`: `{"id", "labeler", "labels": {scheme: [...]}, "target"?, "gold"?,
  "seconds"?, "guide_version"?, "created_at"?}` (with `--with-text`, the article's fields too).
  A coder who coded one article for two stance targets gets one line per target.
- **Prodigy** (`to_prodigy` / `from_prodigy`): one task per coder, article and scheme, in the form
  of `textcat.manual` with several labels: `{"text", "meta": {"id", "scheme", "target", ...},
  "options": [{"id", "text"}], "accept": [...], "answer": "accept", "_view_id": "choice",
  "_annotator_id", "_session_id", "config": {"choice_style"}}`. Reading also takes binary tasks
  (`"label"` with `"answer": "accept"`). Tasks answered "reject" or "ignore" carry no labels and
  are reported, not imported.
- **Label Studio** (`to_label_studio` / `from_label_studio`): a JSON list of tasks
  `{"data": {"text", "title", "newsclf_id", ...}, "annotations": [{"completed_by", "result":
  [{"from_name": scheme, "to_name": "text", "type": "choices", "value": {"choices": [...]}}],
  "lead_time", "ground_truth"}]}`; `label_studio_config(guide)` writes the matching labeling
  config (one <Choices> per scheme). Cancelled annotations are skipped.
"""

from __future__ import annotations

import hashlib
import json
from collections import defaultdict
from dataclasses import dataclass, field
from typing import Any, Iterable, Iterator
from xml.sax.saxutils import escape, quoteattr

from newsclf.article import Article
from newsclf.errors import InputError
from newsclf.guide import Guide
from newsclf.records import check_labels
from newsclf.store import Annotation, Store

FORMATS = ("newsclf", "prodigy", "label-studio")


# --- newsclf JSONL -------------------------------------------------------------------------------


def annotation_lines(
    store: Store, guide: Guide | None = None, gold: bool | None = None, with_text: bool = False
) -> Iterator[dict[str, Any]]:
    """One dict per coder and article (and stance target): all annotations, or only gold (True) /
    coders' (False)."""
    groups: dict[tuple[str, str, bool], list[Annotation]] = defaultdict(list)
    for ann in store.annotations():
        if guide is not None and ann.scheme not in guide.scheme_names:
            continue
        if gold is None or ann.gold == gold:
            groups[(ann.article_id, ann.labeler, ann.gold)].append(ann)
    for (article_id, labeler, is_gold), anns in sorted(groups.items()):
        plain = [a for a in anns if not a.target]
        by_target: dict[str, list[Annotation]] = defaultdict(list)
        for a in anns:
            if a.target:
                by_target[a.target].append(a)
        chunks = [(t, items) for t, items in sorted(by_target.items())] or [("", [])]
        article = store.get_article(article_id) if with_text else None
        for i, (target, items) in enumerate(chunks):
            members = items + (plain if i == 0 else [])
            line: dict[str, Any] = article.to_dict() if article is not None else {"id": article_id}
            line["labeler"] = labeler
            line["labels"] = {
                a.scheme: list(a.labels) for a in sorted(members, key=lambda a: a.scheme)
            }
            if target:
                line["target"] = target
            if is_gold:
                line["gold"] = True
            seconds = [a.seconds for a in members if a.seconds is not None]
            if seconds:
                line["seconds"] = round(sum(seconds), 2)
            versions = {a.guide_version for a in members if a.guide_version}
            if len(versions) == 1:
                line["guide_version"] = versions.pop()
            line["created_at"] = max((a.created_at or "" for a in members), default="") or None
            yield line


# --- common import path --------------------------------------------------------------------------


@dataclass
class Imported:
    """Annotations read from a foreign file, with the articles they need, and what was rejected."""

    articles: dict[str, Article] = field(default_factory=dict)
    annotations: list[Annotation] = field(default_factory=list)
    rejected: list[tuple[int, str]] = field(default_factory=list)

    def save(self, store: Store) -> dict[str, int]:
        """Write to the store in one transaction; returns counts of articles and annotations by
        outcome."""
        counts = {
            "articles_new": 0,
            "annotations_new": 0,
            "annotations_updated": 0,
            "annotations_unchanged": 0,
        }
        with store.transaction():
            for article in self.articles.values():
                if store.upsert_article(article) == "new":
                    counts["articles_new"] += 1
            for ann in self.annotations:
                counts["annotations_" + store.upsert_annotation(ann)] += 1
        return counts


def _article(store: Store | None, article_id: str | None, data: dict[str, Any]) -> Article:
    """The stored article, or one built from the task's text and metadata."""
    if article_id and store is not None:
        stored = store.get_article(article_id)
        if stored is not None:
            return stored
    text = data.get("text")
    if not isinstance(text, str) or not text:
        raise InputError(f"article {article_id!r} is not in the store and the task has no text")
    fields = {
        k: data.get(k)
        for k in ("title", "outlet", "published", "lang", "url")
        if isinstance(data.get(k), str)
    }
    return Article.from_dict({**({"id": article_id} if article_id else {}), "text": text, **fields})


def _hash(*parts: Any) -> int:
    # Prodigy's hashes are signed 32-bit ints; ours are stable ones of the same range.
    digest = hashlib.sha1(json.dumps(parts, sort_keys=True, ensure_ascii=False).encode()).digest()
    return int.from_bytes(digest[:4], "big", signed=True)


# --- Prodigy -------------------------------------------------------------------------------------


def to_prodigy(store: Store, guide: Guide, gold: bool | None = None) -> Iterator[dict[str, Any]]:
    """Prodigy choice tasks (textcat.manual style), one per coder, article and scheme."""
    for ann in store.annotations():
        if ann.scheme not in guide.scheme_names or (gold is not None and ann.gold != gold):
            continue
        scheme = guide.scheme(ann.scheme)
        article = store.get_article(ann.article_id)
        meta = {
            "id": article.id,
            "scheme": scheme.name,
            "title": article.title,
            "outlet": article.outlet,
            "published": article.published,
            "lang": article.lang,
            "url": article.url,
        }
        if ann.target:
            meta["target"] = ann.target
        if ann.gold:
            meta["gold"] = True
        if ann.guide_version:
            meta["guide_version"] = ann.guide_version
        if ann.seconds is not None:
            meta["seconds"] = ann.seconds
        input_hash = _hash(article.text)
        yield {
            "text": article.text,
            "meta": {k: v for k, v in meta.items() if v is not None},
            "options": [{"id": lab.id, "text": lab.name} for lab in scheme.labels],
            "accept": list(ann.labels),
            "answer": "accept",
            "_view_id": "choice",
            "config": {"choice_style": "single" if scheme.kind == "single" else "multiple"},
            "_input_hash": input_hash,
            "_task_hash": _hash(input_hash, scheme.name, ann.target),
            "_annotator_id": ann.labeler,
            "_session_id": ann.labeler,
        }


def from_prodigy(
    lines: Iterable[tuple[int, Any]],
    guide: Guide,
    store: Store | None = None,
    scheme: str | None = None,
    labeler: str = "prodigy",
) -> Imported:
    """Read Prodigy tasks ((line number, parsed JSON) pairs); the scheme comes from meta.scheme,
    `scheme`, or the labels."""
    out = Imported()
    binary: dict[tuple[str, str, str, str], set[str]] = defaultdict(set)
    meta_of: dict[tuple[str, str, str, str], tuple[bool, float | None]] = {}
    for lineno, task in lines:
        try:
            if not isinstance(task, dict):
                raise InputError("expected a JSON object (a Prodigy task)")
            answer = task.get("answer", "accept")
            if answer != "accept":
                raise InputError(f"answer is {answer!r}: no labels to import")
            meta = task.get("meta") if isinstance(task.get("meta"), dict) else {}
            if "accept" in task:
                labels = task["accept"]
            elif isinstance(task.get("label"), str):
                labels = [task["label"]]
            else:
                raise InputError(
                    'a Prodigy textcat task needs "accept" (choice) or "label" (binary)'
                )
            if not isinstance(labels, list) or not all(isinstance(x, str) for x in labels):
                raise InputError('"accept" must be a list of label ids')
            name = meta.get("scheme") or scheme or _infer_scheme(guide, labels)
            article = _article(
                store,
                str(meta["id"]) if meta.get("id") is not None else None,
                {**{k: v for k, v in meta.items() if k != "id"}, "text": task.get("text")},
            )
            who = str(task.get("_annotator_id") or task.get("_session_id") or labeler)
            target = (
                guide.scheme(name).effective_target(meta.get("target"))
                if name in guide.scheme_names
                else ""
            )
            key = (article.id, name, target, who)
            if "accept" not in task:  # binary: accepted labels of one item come on several lines
                if labels[0] not in guide.scheme(name).label_ids:
                    raise InputError(f"scheme {name!r} has no label {labels[0]!r}")
                binary[key] |= set(labels)
            else:
                check_labels(guide, name, labels)
                seconds, gold = _num(meta.get("seconds")), bool(meta.get("gold"))
                out.annotations.append(
                    _annotation(article.id, name, labels, who, target, guide, meta, seconds, gold)
                )
            meta_of[key] = (bool(meta.get("gold")), _num(meta.get("seconds")))
            out.articles.setdefault(article.id, article)
        except (InputError, KeyError) as exc:
            out.rejected.append((lineno, str(exc.args[0]) if exc.args else str(exc)))
    for (article_id, name, target, who), labels in binary.items():
        try:
            check_labels(guide, name, sorted(labels))
        except InputError as exc:
            out.rejected.append((0, f"{article_id}: {exc}"))
            continue
        is_gold, seconds = meta_of[(article_id, name, target, who)]
        out.annotations.append(
            Annotation(
                article_id,
                name,
                tuple(sorted(labels)),
                who,
                target,
                seconds=seconds,
                guide_version=guide.version,
                gold=is_gold,
            )
        )
    return out


def _infer_scheme(guide: Guide, labels: list[str]) -> str:
    fits = [s.name for s in guide.schemes if labels and all(x in s.label_ids for x in labels)]
    if len(fits) != 1:
        raise InputError(
            "cannot tell which scheme the task is for; add meta.scheme or pass --scheme"
        )
    return fits[0]


def _num(value: Any) -> float | None:
    return float(value) if isinstance(value, (int, float)) and not isinstance(value, bool) else None


# --- Label Studio --------------------------------------------------------------------------------


def label_studio_config(guide: Guide) -> str:
    """A Label Studio labeling config: the text, and one <Choices> per scheme with the guide's
    labels."""
    lines = ["<View>", '  <Header value="$title"/>', '  <Text name="text" value="$text"/>']
    for scheme in guide.schemes:
        choice = "single" if scheme.kind == "single" else "multiple"
        lines.append(f"  <Header value={quoteattr(scheme.question or scheme.name)}/>")
        lines.append(
            f'  <Choices name={quoteattr(scheme.name)} toName="text" choice="{choice}"'
            ' showInline="false">'
        )
        for lab in scheme.labels:
            lines.append(
                f"    <Choice value={quoteattr(lab.id)} alias={quoteattr(lab.id)}"
                f" hotkey={quoteattr(lab.key)}>{escape(lab.name)}</Choice>"
            )
        lines.append("  </Choices>")
    lines.append("</View>")
    return "\n".join(lines) + "\n"


def to_label_studio(store: Store, guide: Guide, gold: bool | None = None) -> list[dict[str, Any]]:
    """Label Studio tasks: one per article and stance target, with one annotation per coder."""
    grouped: dict[tuple[str, str], dict[tuple[str, bool], list[Annotation]]] = defaultdict(
        lambda: defaultdict(list)
    )
    for ann in store.annotations():
        if ann.scheme in guide.scheme_names and (gold is None or ann.gold == gold):
            grouped[(ann.article_id, ann.target)][(ann.labeler, ann.gold)].append(ann)
    # Schemes without a target ride along with the article's first target, as in the JSONL export.
    merged: dict[str, list[tuple[str, dict[tuple[str, bool], list[Annotation]]]]] = defaultdict(
        list
    )
    for (article_id, target), coders in sorted(grouped.items()):
        merged[article_id].append((target, coders))
    coder_ids: dict[str, int] = {}
    tasks = []
    for article_id, parts in merged.items():
        plain = next((c for t, c in parts if not t), {})
        targeted = [(t, c) for t, c in parts if t] or [("", {})]
        article = store.get_article(article_id)
        for i, (target, coders) in enumerate(targeted):
            combined: dict[tuple[str, bool], list[Annotation]] = defaultdict(list)
            for key, anns in coders.items():
                combined[key] += anns
            if i == 0:
                for key, anns in plain.items():
                    combined[key] += anns
            annotations = []
            for (who, is_gold), anns in sorted(combined.items()):
                coder_ids.setdefault(who, len(coder_ids) + 1)
                seconds = [a.seconds for a in anns if a.seconds is not None]
                annotations.append(
                    {
                        "completed_by": {"id": coder_ids[who], "email": who},
                        "result": [
                            {
                                "id": f"{a.scheme}-{coder_ids[who]}",
                                "from_name": a.scheme,
                                "to_name": "text",
                                "type": "choices",
                                "origin": "manual",
                                "value": {"choices": list(a.labels)},
                            }
                            for a in sorted(anns, key=lambda a: a.scheme)
                        ],
                        "was_cancelled": False,
                        "ground_truth": is_gold,
                        "lead_time": round(sum(seconds), 2) if seconds else None,
                        "created_at": max(a.created_at or "" for a in anns) or None,
                        "meta": {
                            "guide_version": next(
                                (a.guide_version for a in anns if a.guide_version), None
                            )
                        },
                    }
                )
            data = {
                "text": article.text,
                "title": article.title or "",
                "newsclf_id": article.id,
                "outlet": article.outlet,
                "published": article.published,
                "lang": article.lang,
                "url": article.url,
            }
            if target:
                data["target"] = target
            tasks.append(
                {
                    "data": {k: v for k, v in data.items() if v is not None},
                    "annotations": annotations,
                    "predictions": [],
                }
            )
    return tasks


def read_label_studio(path: str, cap: int) -> tuple[Any, list[tuple[int, str]]]:
    """(tasks, rejected) of a Label Studio export, streamed task by task: a task over `cap` is None,
    reported."""
    from newsclf.records import _json_array_items, _sniff, open_text, too_long

    with open_text(path) as fh:
        skipped, first = _sniff(fh)
        if first != "[":  # one task on its own
            rest = fh.read(cap)
            if len(first) + len(rest) > cap:
                return None, [(1, too_long(cap))]
            try:
                return json.loads(first + rest), []
            except json.JSONDecodeError as exc:
                raise InputError(
                    f"{path}: not valid JSON ({exc.msg} at line {exc.lineno + skipped})"
                ) from None
        tasks: list[Any] = []
        rejected: list[tuple[int, str]] = []
        for number, (line, task, error) in enumerate(_json_array_items(fh, cap, 1 + skipped), 1):
            tasks.append(task if error is None else None)
            if error is not None:
                rejected.append((number, f"line {line}: {error}"))
        return tasks, rejected


def from_label_studio(
    tasks: Any, guide: Guide, store: Store | None = None, labeler: str = "label-studio"
) -> Imported:
    """Read a Label Studio JSON export (a list of tasks, or one task); choices results become
    annotations."""
    out = Imported()
    if isinstance(tasks, dict):
        tasks = [tasks]
    if not isinstance(tasks, list):
        out.rejected.append((0, "expected a JSON list of Label Studio tasks"))
        return out
    for number, task in enumerate(tasks, 1):
        if task is None:
            continue  # rejected while reading (see read_label_studio): numbers stay the file's
        try:
            if not isinstance(task, dict) or not isinstance(task.get("data"), dict):
                raise InputError('a task needs "data" with the text')
            data = task["data"]
            raw_id = data.get("newsclf_id", data.get("id"))
            article = _article(store, str(raw_id) if raw_id is not None else None, data)
            anns = []
            for ann in task.get("annotations") or task.get("completions") or []:
                if not isinstance(ann, dict) or ann.get("was_cancelled"):
                    continue
                who = _coder(ann.get("completed_by"), labeler)
                per_scheme: dict[str, list[str]] = {}
                for result in ann.get("result") or []:
                    if not isinstance(result, dict) or result.get("type") != "choices":
                        continue
                    choices = (result.get("value") or {}).get("choices")
                    if not isinstance(choices, list) or not all(
                        isinstance(c, str) for c in choices
                    ):
                        raise InputError(
                            f"task {number}: result for {result.get('from_name')!r} has no list of"
                            " choices"
                        )
                    per_scheme[str(result.get("from_name"))] = choices
                results = [
                    r
                    for r in ann.get("result") or []
                    if isinstance(r, dict) and r.get("type") == "choices"
                ]
                lead = _num(ann.get("lead_time"))
                meta = ann.get("meta") if isinstance(ann.get("meta"), dict) else {}
                for name, labels in per_scheme.items():
                    check_labels(guide, name, labels)
                    target = guide.scheme(name).effective_target(
                        data.get("target") if isinstance(data.get("target"), str) else None
                    )
                    # Label Studio times a whole task: each of its choices gets an equal share.
                    seconds = (
                        round(lead / len(results), 2) if lead is not None and results else None
                    )
                    gold = bool(ann.get("ground_truth"))
                    anns.append(
                        _annotation(
                            article.id, name, labels, who, target, guide, meta, seconds, gold
                        )
                    )
            out.articles.setdefault(article.id, article)
            out.annotations += anns
        except InputError as exc:
            out.rejected.append((number, str(exc)))
    return out


def _annotation(
    article_id: str,
    name: str,
    labels: list[str],
    who: str,
    target: str,
    guide: Guide,
    meta: dict[str, Any],
    seconds: float | None,
    gold: bool,
) -> Annotation:
    """An imported annotation, of the guide's version unless the file's `meta` names another."""
    version = meta.get("guide_version") or guide.version
    return Annotation(
        article_id,
        name,
        tuple(labels),
        who,
        target,
        seconds=seconds,
        guide_version=version,
        gold=gold,
    )


def _coder(value: Any, default: str) -> str:
    if isinstance(value, dict):
        for key in ("email", "username", "first_name", "id"):
            if value.get(key) not in (None, ""):
                return str(value[key])
    if isinstance(value, (str, int)) and not isinstance(value, bool):
        return str(value)
    return default
