"""A trained newsclf model as a spaCy pipeline component: `spacy.load(DIR)(text).cats` holds the
labels.

The component is registered as the spaCy factory "newsclf_textcat" (also through the
`spacy_factories` entry point, so `spacy.load` finds it in a fresh process with newsclf installed).
`doc.cats` keys are "scheme:label"; `doc._.newsclf_labels` holds the decided labels per scheme.
Set `doc._.newsclf_target` (stance target), `doc._.newsclf_lang` and `doc._.newsclf_title` before
calling the component when they are known, as `newsclf classify` reads them from the record.
"""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any, Iterable, Iterator

import joblib
from spacy.language import Language
from spacy.tokens import Doc

from newsclf.guide import Guide, parse_guide
from newsclf.model.features import as_doc

FACTORY = "newsclf_textcat"
for _name in ("newsclf_target", "newsclf_lang", "newsclf_title", "newsclf_labels"):
    if not Doc.has_extension(_name):
        Doc.set_extension(_name, default=None)


class NewsclfTextcat:
    """Runs each scheme's scikit-learn estimator on a Doc's text and writes doc.cats."""

    def __init__(self, name: str, lang: str):
        self.name = name
        self.lang = lang
        self.classifiers: dict[str, Any] = {}
        self.guide: Guide | None = None

    def _docs(self, docs: list[Doc], scheme_name: str) -> list[dict[str, str]]:
        scheme = self.guide.scheme(scheme_name)
        return [
            as_doc(
                {"text": d.text, "title": d._.newsclf_title, "lang": d._.newsclf_lang or self.lang},
                scheme.effective_target(d._.newsclf_target),
            )
            for d in docs
        ]

    def _apply(self, docs: list[Doc]) -> list[Doc]:
        for doc in docs:
            doc._.newsclf_labels = {}
        for name, clf in self.classifiers.items():
            P = clf.predict_proba(self._docs(docs, name))
            for doc, row, labels in zip(docs, P, clf.decide(P)):
                for label, p in zip(clf.classes_, row):
                    doc.cats[f"{name}:{label}"] = float(p)
                doc._.newsclf_labels[name] = labels
        return docs

    def __call__(self, doc: Doc) -> Doc:
        return self._apply([doc])[0]

    def pipe(self, stream: Iterable[Doc], batch_size: int = 256) -> Iterator[Doc]:
        batch: list[Doc] = []
        for doc in stream:
            batch.append(doc)
            if len(batch) >= batch_size:
                yield from self._apply(batch)
                batch = []
        if batch:
            yield from self._apply(batch)

    def to_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> None:
        path = Path(path)
        path.mkdir(parents=True, exist_ok=True)
        joblib.dump(self.classifiers, path / "classifiers.joblib", compress=3)
        (path / "guide.yaml").write_text(self.guide_text, encoding="utf-8")
        (path / "meta.json").write_text(
            json.dumps({"schemes": list(self.classifiers)}), encoding="utf-8"
        )

    def from_disk(self, path: str | Path, exclude: Iterable[str] = ()) -> "NewsclfTextcat":
        path = Path(path)
        self.classifiers = joblib.load(path / "classifiers.joblib")
        self.guide_text = (path / "guide.yaml").read_text(encoding="utf-8")
        self.guide = parse_guide(self.guide_text, str(path / "guide.yaml"))
        return self


@Language.factory(FACTORY, default_config={"lang": "en"})
def make_component(nlp: Language, name: str, lang: str) -> NewsclfTextcat:
    """spaCy factory for the newsclf component."""
    return NewsclfTextcat(name, lang)


def export_spacy(model: Any, out_dir: str | Path, lang: str | None = None) -> Path:
    """Write MODEL as a spaCy pipeline directory that `spacy.load` can open."""
    import spacy

    lang = lang or (model.guide.languages[0] if model.guide.languages else "en")
    nlp = spacy.blank("xx")  # the component tokenizes per article language itself
    component = nlp.add_pipe(FACTORY, config={"lang": lang})
    component.classifiers = model.classifiers
    component.guide = model.guide
    component.guide_text = (Path(model.path) / "guide.yaml").read_text(encoding="utf-8")
    nlp.meta["name"] = "newsclf_" + model.guide.name.replace("-", "_")
    nlp.meta["version"] = "0.0.0"
    nlp.meta["description"] = (
        f"newsclf model {model.id} for guide {model.guide.name} {model.guide.version}"
    )
    out = Path(out_dir)
    nlp.to_disk(out)
    return out
