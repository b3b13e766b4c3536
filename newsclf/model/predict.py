"""Load a trained model directory and label articles with it."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Sequence

import joblib

from newsclf.article import Article
from newsclf.errors import ModelError
from newsclf.guide import Guide, parse_guide
from newsclf.model.classifier import SchemeClassifier
from newsclf.model.features import as_doc
from newsclf.model.train import GUIDE_FILE, META_FILE, MODEL_FILE, MODEL_FORMAT, file_digest


class Model:
    """A trained newsclf model: one SchemeClassifier per scheme plus the guide it was trained for."""

    def __init__(self, path: Path, meta: dict[str, Any], classifiers: dict[str, SchemeClassifier], guide: Guide):
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

    def predict(self, articles: Sequence[Article], targets: Sequence[str | None] | None = None,
                batch_size: int = 512) -> list[dict[str, Any]]:
        """Per article: {"cats": {scheme: {label: p}}, "labels": {scheme: [...]}, "targets": {scheme: t}}."""
        if targets is not None and len(targets) != len(articles):
            raise ValueError(f"predict: {len(targets)} targets for {len(articles)} articles")
        targets = list(targets) if targets is not None else [None] * len(articles)
        results: list[dict[str, Any]] = [{"cats": {}, "labels": {}, "targets": {}} for _ in articles]
        for start in range(0, len(articles), batch_size):
            chunk = range(start, min(start + batch_size, len(articles)))
            for name, clf in self.classifiers.items():
                scheme = self.guide.scheme(name)
                chunk_targets = [scheme.effective_target(targets[i]) for i in chunk]
                docs = [as_doc(articles[i], t) for i, t in zip(chunk, chunk_targets)]
                P = clf.predict_proba(docs)
                for row, i, labels, target in zip(P, chunk, clf.decide(P), chunk_targets):
                    results[i]["cats"][name] = {str(c): round(float(p), 4) for c, p in zip(clf.classes_, row)}
                    results[i]["labels"][name] = labels
                    if target:
                        results[i]["targets"][name] = target
        return results


def load_model(path: str | Path) -> Model:
    """Load MODEL_DIR written by `newsclf train`."""
    path = Path(path)
    for name in (META_FILE, MODEL_FILE, GUIDE_FILE):
        if not (path / name).is_file():
            raise ModelError(f"{path}: not a newsclf model directory ({name} is missing); "
                             "train one with `newsclf train --guide G --out DIR`")
    meta = json.loads((path / META_FILE).read_text(encoding="utf-8"))
    if meta.get("model_format", 1) != MODEL_FORMAT:
        raise ModelError(f"{path}: model format {meta.get('model_format', 1)} was written by another newsclf "
                         f"(version {meta.get('newsclf_version', '?')}); this one reads format {MODEL_FORMAT}. "
                         "Retrain it with `newsclf train`")
    for name, digest in (meta.get("files") or {}).items():  # models from before #35 carry no digests
        if not (path / name).is_file() or file_digest(path / name) != digest:
            raise ModelError(f"{path}: {name} is not the file model {meta.get('model_id')} was written with "
                             "(the directory mixes files of different trainings); retrain with `newsclf train` "
                             "or restore the whole directory")
    guide = parse_guide((path / GUIDE_FILE).read_text(encoding="utf-8"), str(path / GUIDE_FILE))
    classifiers = joblib.load(path / MODEL_FILE)
    return Model(path, meta, classifiers, guide)


def classify_records(model: Model, articles: Iterable[Article], targets: Iterable[str | None]) -> list[dict[str, Any]]:
    """Output rows of `newsclf classify`: id, title, cats and labels per article."""
    articles, targets = list(articles), list(targets)
    rows = []
    for article, target, result in zip(articles, targets, model.predict(articles, targets)):
        row: dict[str, Any] = {"id": article.id, "title": article.title, "outlet": article.outlet,
                               "published": article.published, "lang": article.lang, "model": model.id}
        row.update(result)
        rows.append(row)
    return rows


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
        out[name] = scheme_metrics(gold, clf.decide(P), scheme.label_ids, scheme.kind)
        out[name]["calibration"] = reliability(gold, P, [str(c) for c in clf.classes_], scheme.kind)
        out[name]["split"] = "held-out file"
    return out


def mark_uncertain(model: Model, rows: list[dict[str, Any]], min_confidence: float) -> None:
    """Add `uncertain: {scheme: [labels]}` and an overall `uncertainty` score to classify output rows."""
    import numpy as np

    from newsclf.model.active import uncertain_labels, uncertainty

    for name, clf in model.classifiers.items():
        kind = model.guide.scheme(name).kind
        P = np.array([[row["cats"][name][str(c)] for c in clf.classes_] for row in rows]).reshape(len(rows), -1)
        flags = uncertain_labels(P, clf.classes_, kind, min_confidence)
        scores = uncertainty(P, kind, getattr(clf, "thresholds_", None))
        for row, flagged, score in zip(rows, flags, scores):
            row.setdefault("uncertain", {})[name] = flagged
            row["uncertainty"] = round(max(row.get("uncertainty", 0.0), float(score)), 4)
