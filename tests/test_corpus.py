"""The bundled demo corpus: big enough, covers every label, and its built files are current."""

from __future__ import annotations

import filecmp
import importlib.util
import json
from collections import Counter

from conftest import CORPUS, GUIDE
from newsclf.article import Article
from newsclf.guide import load_guide


def load(name):
    return [json.loads(line) for line in (CORPUS / name).read_text(encoding="utf-8").splitlines() if line.strip()]


def test_corpus_meets_the_foundation_brief():
    articles = [Article.from_dict(d) for d in load("articles.jsonl")]
    assert len(articles) >= 80
    assert sum(a.lang == "id" for a in articles) >= 30
    assert len({a.outlet for a in articles}) >= 8
    assert len({a.published[:7] for a in articles}) >= 5  # several months
    assert sum(a.pages > 1 for a in articles) >= 10
    guide = load_guide(GUIDE)
    for coder in ("coder_a", "coder_b"):
        counts = Counter((s, label) for line in load(f"labels/{coder}.jsonl") for s, labels in line["labels"].items()
                         for label in labels)
        for scheme in guide.schemes:
            for label in scheme.label_ids:
                assert counts[(scheme.name, label)] >= 3, (coder, scheme.name, label)


def test_two_coders_disagree_on_some_items_and_every_disagreement_is_adjudicated():
    a = {(x["id"], x["target"]): x["labels"] for x in load("labels/coder_a.jsonl")}
    b = {(x["id"], x["target"]): x["labels"] for x in load("labels/coder_b.jsonl")}
    assert a.keys() == b.keys()
    disagreements = {key[0] for key in a if a[key] != b[key]}
    assert 5 <= len(disagreements) <= len(a) // 3
    adjudicated = {x["id"] for x in load("labels/adjudicated.jsonl")}
    assert disagreements == adjudicated


def test_some_articles_are_coded_for_two_targets_with_different_stances():
    by_article = {}
    for line in load("labels/adjudicated.jsonl") + load("labels/coder_a.jsonl"):
        by_article.setdefault(line["id"], {})[line["target"]] = line["labels"]["stance"][0]
    assert sum(len(set(v.values())) > 1 for v in by_article.values()) >= 5


def test_built_files_are_current(tmp_path):
    spec = importlib.util.spec_from_file_location("build_site", CORPUS / "build_site.py")
    module = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(module)
    module.main(tmp_path)
    for name in ("articles.jsonl", "labels/coder_a.jsonl", "labels/coder_b.jsonl", "labels/adjudicated.jsonl"):
        assert (tmp_path / name).read_text(encoding="utf-8") == (CORPUS / name).read_text(encoding="utf-8"), name
    cmp = filecmp.dircmp(tmp_path / "site", CORPUS / "site")

    def same(c):
        return not (c.left_only or c.right_only or c.diff_files) and all(same(s) for s in c.subdirs.values())

    assert same(cmp), "the site is stale: run `make corpus` and commit"
