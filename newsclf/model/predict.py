"""Load a trained model directory and label articles with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Sequence

import joblib

from newsclf.article import Article
from newsclf.errors import ModelError
from newsclf.guide import Guide, keyword_verdict, parse_guide
from newsclf.model.classifier import SchemeClassifier
from newsclf.model.features import as_doc
from newsclf.model.files import GUIDE_FILE, META_FILE, MODEL_FILE, MODEL_FORMAT, file_digest
from newsclf.model.skips import skip_kind as skip_kind  # re-exported: callers import it here


class Model:
    """A trained newsclf model: one SchemeClassifier per scheme plus the guide it was trained
    for."""

    def __init__(
        self,
        path: Path,
        meta: dict[str, Any],
        classifiers: dict[str, SchemeClassifier],
        guide: Guide,
    ):
        self.path = path
        self.meta = meta
        self.classifiers = classifiers
        self.guide = guide

    @property
    def id(self) -> str:
        """The model's id (guide name, version and a hash)."""
        return self.meta["model_id"]

    @property
    def schemes(self) -> list[str]:
        """The schemes this model labels."""
        return list(self.classifiers)

    def pipeline(self, scheme: str) -> SchemeClassifier:
        """The scikit-learn estimator of one scheme (fit/predict_proba over docs)."""
        return self.classifiers[scheme]

    def predict(
        self,
        articles: Sequence[Article],
        targets: Sequence[str | None] | None = None,
        batch_size: int = 512,
        any_language: bool = False,
    ) -> list[dict[str, Any]]:
        """Per article: {"cats": {scheme: {label: p}}, "labels": {scheme: [...]}, "targets":
        {scheme: t}, ...}.

        Scope, in order: an article in a language the guide does not cover gets no labels and a
        `skipped` reason (unless `any_language`); with a relevance gate, an article the gate keeps
        out gets the gate's labels only, empty ones for the other schemes, and `skipped` saying so.
        A stance scheme whose guide declares several `targets` is predicted toward each target the
        article mentions (by name or alias), unless the record names its own target: `stances` holds
        {scheme: [{"target", "cats", "labels"}, ...]}, and cats/labels/targets give the first of
        them
        (empty, and no target, when the article mentions none: no stance is read where no target is
        named).
        """
        if targets is not None and len(targets) != len(articles):
            raise ValueError(f"predict: {len(targets)} targets for {len(articles)} articles")
        targets = list(targets) if targets is not None else [None] * len(articles)
        results: list[dict[str, Any]] = [
            {"cats": {}, "labels": {}, "targets": {}} for _ in articles
        ]
        gate = (
            self.guide.gate
            if self.guide.gate and self.guide.gate.name in self.classifiers
            else None
        )
        # The gate first: its answer decides which articles the other schemes read.
        names = sorted(self.classifiers, key=lambda n: gate is None or n != gate.name)
        for start in range(0, len(articles), batch_size):
            chunk = range(start, min(start + batch_size, len(articles)))
            if not any_language:
                for i in chunk:
                    reason = language_scope(articles[i], self.guide)
                    if reason:
                        results[i]["skipped"] = reason
            for name in names:
                clf, scheme = self.classifiers[name], self.guide.scheme(name)
                open_ = [
                    i for i in chunk if "skipped" not in results[i]
                ]  # in scope, and let through by the gate
                units = self._units(scheme, articles, targets, open_)
                docs = [as_doc(articles[i], t) for i, t in units]
                P = clf.predict_proba(docs) if docs else []
                decided = clf.decide(P) if docs else []
                for row, (i, target), labels in zip(P, units, decided):
                    cats = {str(c): float(p) for c, p in zip(clf.classes_, row)}
                    one = {
                        "target": target,
                        "cats": {c: round(p, 4) for c, p in cats.items()},
                        "labels": keep_exclusive(labels, cats, scheme.exclusive_ids),
                    }
                    if scheme.targets and targets[i] is None:
                        results[i].setdefault("stances", {}).setdefault(name, []).append(one)
                    if name not in results[i]["labels"]:
                        results[i]["cats"][name], results[i]["labels"][name] = (
                            one["cats"],
                            one["labels"],
                        )
                        if target:
                            results[i]["targets"][name] = target
                # gated out, or a declared-targets scheme on an article that names none of them
                for i in chunk:
                    if name not in results[i]["labels"]:
                        results[i]["cats"][name], results[i]["labels"][name] = {}, []
                        if scheme.targets and targets[i] is None:
                            results[i].setdefault("stances", {})[name] = []
                if gate is not None and name == gate.name:
                    for i in open_:
                        _apply_keywords(results[i], articles[i], gate)
                        if results[i]["labels"][name] != [gate.gate]:
                            why = (
                                results[i].get("gate_rule", "").partition(": ")[2] or gate.question
                            )
                            results[i]["skipped"] = (
                                f"{gate.name}: {'/'.join(results[i]['labels'][name])} "
                                f"({why or 'the relevance gate'})"
                            )
        return results

    @staticmethod
    def _units(
        scheme: Any, articles: Sequence[Article], targets: list[str | None], chunk: Sequence[int]
    ) -> list[tuple[int, str]]:
        """(article index, target) pairs to predict for one scheme: per mentioned declared target,
        else one."""
        units: list[tuple[int, str]] = []
        for i in chunk:
            if scheme.targets and targets[i] is None:
                text = f"{articles[i].title or ''}\n{articles[i].text}"
                units += [(i, t.name) for t in scheme.mentioned_targets(text)]
            else:
                units.append((i, scheme.effective_target(targets[i])))
        return units


def language_scope(article: Article, guide: Guide) -> str | None:
    """Why the model must not label an article for its language, or None when the guide covers it.

    A guide without `languages` covers every language; an article without `lang` has it identified
    (py3langid), and one too short to tell is labeled.
    """
    if not guide.languages:
        return None
    lang = article.lang
    if not lang:
        from newsclf.language import detect_language

        lang = detect_language(f"{article.title or ''}\n{article.text}")
    if lang is None:
        return None
    base = lang.split("-")[0].lower()
    if base in {code.split("-")[0].lower() for code in guide.languages}:
        return None
    return f"language {lang} is not among the guide's ({', '.join(guide.languages)})"


def prediction_rows(
    model_id: str, article_id: str, result: dict[str, Any]
) -> list[tuple[Any, ...]]:
    """The store's prediction rows (article, model, scheme, target, cats, labels) of one
    `Model.predict` result.

    One row per scheme, and per mentioned target for a scheme with declared targets; none for a
    scheme the gate closed or a stance scheme on an article that mentions no target (and none at
    all for an article out of the guide's languages).
    """
    rows = []
    for scheme, labels in result["labels"].items():
        if not result["cats"][scheme]:
            continue  # gated out, or a stance scheme on an article that names none of its targets
        per_target = result.get("stances", {}).get(scheme)
        if per_target is not None:
            rows += [
                (article_id, model_id, scheme, s["target"], s["cats"], s["labels"])
                for s in per_target
            ]
        else:
            rows.append(
                (
                    article_id,
                    model_id,
                    scheme,
                    result["targets"].get(scheme, ""),
                    result["cats"][scheme],
                    labels,
                )
            )
    return rows


def keyword_labels(
    gate: Any, article: Article, cats: dict[str, float]
) -> tuple[list[str], str] | None:
    """(the gate's labels, why) where its keywords settle the answer, else None: the model's answer
    stands.

    A closed gate takes the most probable of its closing labels.
    """
    verdict = keyword_verdict(gate, article.title, article.text)
    if verdict is None:
        return None
    if verdict == "open":
        return [gate.gate], "names a gate keyword in its title or twice"
    closed = [x for x in gate.label_ids if x != gate.gate]
    return [max(closed, key=lambda x: cats.get(x, 0.0))], "names none of the gate's keywords"


def _apply_keywords(result: dict[str, Any], article: Article, gate: Any) -> None:
    """Overrule the gate's model where its keywords settle the answer; `gate_rule` says which way
    and why."""
    cats = result["cats"][gate.name]
    ruled = keyword_labels(gate, article, cats)
    if ruled is not None and ruled[0] != result["labels"][gate.name]:
        result["labels"][gate.name] = ruled[0]
        result["gate_rule"] = (
            f"{'/'.join(ruled[0])}: {ruled[1]} (the model said {max(cats, key=cats.get)})"
        )


def keep_exclusive(labels: list[str], cats: dict[str, float], exclusive: set[str]) -> list[str]:
    """Labels that obey the guide's exclusive labels: an exclusive label stands alone or not at all.

    When the thresholds pass an exclusive label beside others, the more probable side wins: the
    exclusive label alone if it beats every other passed label, else the others without it.
    """
    alone = [x for x in labels if x in exclusive]
    if not alone or len(labels) == 1:
        return labels
    best = max(alone, key=lambda x: cats.get(x, 0.0))
    others = [x for x in labels if x not in exclusive]
    if not others or cats.get(best, 0.0) > max(cats.get(x, 0.0) for x in others):
        return [best]
    return others


def load_model(path: str | Path) -> Model:
    """Load MODEL_DIR written by `newsclf train`."""
    path = Path(path)
    for name in (META_FILE, MODEL_FILE, GUIDE_FILE):
        if not (path / name).is_file():
            raise ModelError(
                f"{path}: not a newsclf model directory ({name} is missing); "
                "train one with `newsclf train --guide G --out DIR`"
            )
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    if meta.get("model_format", 1) != MODEL_FORMAT:
        raise ModelError(
            f"{path}: model format {meta.get('model_format', 1)} was written by another newsclf "
            f"(version {meta.get('newsclf_version', '?')}); this one reads format {MODEL_FORMAT}. "
            "Retrain it with `newsclf train`"
        )
    for name, digest in (
        meta.get("files") or {}
    ).items():  # models from before #35 carry no digests
        if not (path / name).is_file() or file_digest(path / name) != digest:
            raise ModelError(
                f"{path}: {name} is not the file model {meta.get('model_id')} was written with "
                "(the directory mixes files of different trainings); retrain with `newsclf train` "
                "or restore the whole directory"
            )
    guide = parse_guide((path / GUIDE_FILE).read_text(encoding="utf-8"), str(path / GUIDE_FILE))
    classifiers = joblib.load(path / MODEL_FILE)
    return Model(path, meta, classifiers, guide)


def evaluate_model(model: Model, examples: dict[str, list[Any]]) -> dict[str, Any]:
    """Metrics per scheme of the model on held-out examples (from `examples_from_records`)."""
    from newsclf.model.evaluate import reliability, scheme_metrics

    out = {}
    for name, items in examples.items():
        if name not in model.classifiers or not items:
            continue
        clf = model.classifiers[name]
        P = clf.predict_proba([e.doc for e in items])
        scheme = model.guide.scheme(name)
        gold = [e.labels for e in items]
        decided = clf.decide(P)
        # scored as predict() answers: the gate's keywords included
        if scheme.gate and scheme.keywords:
            for k, e in enumerate(items):
                ruled = keyword_labels(
                    scheme, e.article, {str(c): float(p) for c, p in zip(clf.classes_, P[k])}
                )
                if ruled is not None:
                    decided[k] = ruled[0]
        out[name] = scheme_metrics(gold, decided, scheme.label_ids, scheme.kind)
        out[name]["calibration"] = reliability(gold, P, [str(c) for c in clf.classes_], scheme.kind)
        out[name]["split"] = "held-out file"
    return out


def mark_uncertain(model: Model, rows: list[dict[str, Any]], min_confidence: float) -> None:
    """Add `uncertain: {scheme: [labels]}` and an overall `uncertainty` score to classify output
    rows."""
    import numpy as np

    from newsclf.model.active import uncertain_labels, uncertainty

    for name, clf in model.classifiers.items():
        kind = model.guide.scheme(name).kind
        # A stance scheme on an article that names none of its targets has no probabilities: nothing
        # to doubt.
        P = np.array(
            [
                [row["cats"][name].get(str(c), 1.0 / len(clf.classes_)) for c in clf.classes_]
                for row in rows
            ]
        ).reshape(len(rows), -1)
        flags = uncertain_labels(P, clf.classes_, kind, min_confidence)
        scores = uncertainty(P, kind, getattr(clf, "thresholds_", None))
        for row, flagged, score in zip(rows, flags, scores):
            if not row["cats"][name]:
                flagged, score = [], 0.0
            row.setdefault("uncertain", {})[name] = flagged
            row["uncertainty"] = round(max(row.get("uncertainty", 0.0), float(score)), 4)
