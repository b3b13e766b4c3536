"""Training examples: one (article, target, labels) per scheme, from a labeled file or from coders'
labels in the store."""

from __future__ import annotations

from collections import Counter, defaultdict
from dataclasses import dataclass
from typing import Iterable

from newsclf.article import Article
from newsclf.guide import Guide, Scheme
from newsclf.records import LabeledRecord
from newsclf.store import Annotation, Store


@dataclass
class Example:
    """One training or test item for a scheme."""

    article: Article
    target: str
    labels: list[str]

    @property
    def doc(self) -> dict[str, str]:
        """The feature input for this example."""
        # Imported here: the report reads examples' labels, and features imports scikit-learn.
        from newsclf.model.features import as_doc

        return as_doc(self.article, self.target)


def resolve(annotations: list[Annotation], scheme: Scheme) -> list[str] | None:
    """The final labels of one item from its coders: a gold (reviewed) label wins; else the
    majority; None on a tie.

    For a single-choice scheme an annotation without a label records a stance target the article
    does not mention: it carries no judgement, so it neither votes nor makes an example.
    """
    if scheme.kind == "single":
        annotations = [a for a in annotations if a.labels]
        if not annotations:
            return None
    gold = [a for a in annotations if a.gold]
    if gold:
        return list(max(gold, key=lambda a: a.created_at or "").labels)
    if len(annotations) == 1:
        return list(annotations[0].labels)
    n = len(annotations)
    if scheme.kind == "single":
        counts = Counter(a.labels[0] for a in annotations if a.labels).most_common()
        if not counts or (len(counts) > 1 and counts[0][1] == counts[1][1]):
            return None
        return [counts[0][0]]
    votes = Counter(label for a in annotations for label in set(a.labels))
    chosen = [label for label in scheme.label_ids if votes[label] * 2 > n]
    return chosen or None


def examples_from_store(store: Store, guide: Guide) -> dict[str, list[Example]]:
    """Examples per scheme from the store's annotations, resolved across coders.

    With a relevance gate, an article whose gate resolves to anything but the gate's label gives no
    example to the other schemes (coders never coded them there); one whose gate was never coded
    does.
    """
    out: dict[str, list[Example]] = {}
    gated_out = gated_out_ids(store, guide)
    for scheme in guide.schemes:
        grouped: dict[tuple[str, str], list[Annotation]] = defaultdict(list)
        for ann in store.annotations(scheme=scheme.name):
            grouped[(ann.article_id, scheme.effective_target(ann.target))].append(ann)
        examples = []
        for (article_id, target), anns in grouped.items():
            labels = resolve(anns, scheme)
            article = store.get_article(article_id)
            if (
                labels is not None
                and article is not None
                and not (guide.gated(scheme.name) and article_id in gated_out)
            ):
                examples.append(Example(article, target, labels))
        out[scheme.name] = examples
    return out


def gated_out_ids(store: Store, guide: Guide) -> set[str]:
    """Ids of articles whose coded gate answer keeps them out of the other schemes (empty without a
    gate)."""
    gate = guide.gate
    if gate is None:
        return set()
    grouped: dict[str, list[Annotation]] = defaultdict(list)
    for ann in store.annotations(scheme=gate.name):
        grouped[ann.article_id].append(ann)
    return {a for a, anns in grouped.items() if (resolve(anns, gate) or [gate.gate]) != [gate.gate]}


def examples_from_records(
    records: Iterable[LabeledRecord], guide: Guide, store: Store | None = None
) -> dict[str, list[Example]]:
    """Examples per scheme from labeled records (a record without a scheme's labels is skipped for
    it).

    A label-only line (an id, no text) takes its article from `store` when given; without it, or
    when
    the store lacks that id, the line is skipped.
    """
    out: dict[str, list[Example]] = {s.name: [] for s in guide.schemes}
    gate = guide.gate
    for record in records:
        article = record.article
        if article is None and store is not None:
            article = store.get_article(record.article_id)
        if article is None:
            continue
        closed = gate is not None and record.labels.get(gate.name) not in (None, [gate.gate])
        for scheme in guide.schemes:
            labels = record.labels.get(scheme.name)
            if closed and guide.gated(scheme.name):
                continue  # the record's own gate answer ends it: other schemes' labels do not apply
            if labels:
                out[scheme.name].append(
                    Example(article, scheme.effective_target(record.target), list(labels))
                )
    return out


def published_between(
    examples: dict[str, list[Example]], since: str | None = None, until: str | None = None
) -> dict[str, list[Example]]:
    """The examples whose article was published from day `since` through day `until` (YYYY-MM-DD, as
    written).

    With either day given, undated articles are left out: they belong to neither side of a cut.
    """
    if not since and not until:
        return examples

    def inside(example: Example) -> bool:
        day = (example.article.published or "")[:10]
        return bool(day) and (not since or day >= since) and (not until or day <= until)

    return {name: [e for e in items if inside(e)] for name, items in examples.items()}
