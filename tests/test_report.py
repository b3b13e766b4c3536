"""Report numbers against hand-computed values on a small fixture, and the HTML in a real browser."""

from __future__ import annotations

import csv
import json
import math
import shutil
from pathlib import Path

import pytest

from newsclf.article import Article
from newsclf.guide import parse_guide
from newsclf.report.coverage import ErrorRates, unmix_single, wilson
from newsclf.store import Annotation, Store

GUIDE = """\
name: tiny
version: "1"
schemes:
  - name: topics
    kind: multi
    labels:
      - {id: a, name: A, key: "1", definition: Topic A.}
      - {id: b, name: B, key: "2", definition: Topic B.}
  - name: stance
    kind: single
    target: T
    labels:
      - {id: favor, name: Favor, key: p, definition: For.}
      - {id: against, name: Against, key: c, definition: Against.}
"""
METRICS = {
    "topics": {"macro_f1": 0.8, "confusion": {"a": {"tp": 8, "fp": 2, "fn": 2, "tn": 8},
                                              "b": {"tp": 5, "fp": 0, "fn": 0, "tn": 15}}},
    "stance": {"macro_f1": 0.8, "confusion": {"labels": ["favor", "against"], "matrix": [[8, 2], [2, 8]]}},
}


def build_fixture(tmp_path: Path) -> tuple[Path, Path]:
    guide_path = tmp_path / "tiny.yaml"
    guide_path.write_text(GUIDE, encoding="utf-8")
    model = tmp_path / "model"
    model.mkdir()
    (model / "meta.json").write_text(json.dumps({"model_id": "m1"}))
    (model / "metrics.json").write_text(json.dumps(METRICS))
    (model / "card.md").write_text("# Model card: m1\n")
    db = tmp_path / "newsclf.db"
    with Store(db) as store:
        # Outlet X, January: 4 articles coded by a coder (gold): topic a on 3, b on 1.
        for i, labels in enumerate([("a",), ("a",), ("a", "b"), ("b",)]):
            store.add_article(Article(id=f"x{i}", text=f"story x{i}", outlet="X", published=f"2023-01-0{i + 1}T10:00:00+07:00"))
            store.add_annotations([Annotation(f"x{i}", "topics", labels, "ana", seconds=60.0)])
        # A syndicated copy of x0 in another outlet: same group, must count once.
        store.add_article(Article(id="x0copy", text="story x0 reprinted", outlet="X", published="2023-01-05T10:00:00+07:00"))
        store.add_annotations([Annotation("x0copy", "topics", ("a",), "ana", seconds=30.0)])
        store.set_dup_groups({"x0copy": "x0", "x0": "x0"})
        # Outlet Y, February: 10 articles labeled by the model only: a predicted on 6; stance favor on 6.
        for i in range(10):
            store.add_article(Article(id=f"y{i}", text=f"story y{i}", outlet="Y", published=f"2023-02-1{i}T10:00:00+00:00"))
        store.add_predictions([(f"y{i}", "m1", "topics", "", {"a": 0.9 if i < 6 else 0.1, "b": 0.1},
                                ["a"] if i < 6 else ["b"]) for i in range(10)])
        store.add_predictions([(f"y{i}", "m1", "stance", "T", {"favor": 0.8 if i < 6 else 0.2, "against": 0.2},
                                ["favor"] if i < 6 else ["against"]) for i in range(10)])
    return guide_path, model


def rows_of(out: Path) -> list[dict]:
    with open(out / "tables" / "coverage.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def pick(rows, **kw):
    [row] = [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
    return row


def test_hand_computed_counts_shares_intervals_and_corrections(run, tmp_path):
    guide_path, model = build_fixture(tmp_path)
    result = run("report", "--guide", str(guide_path), "--model", str(model), "--by", "outlet,month",
                 "--out", str(tmp_path / "r"), "--hourly-rate", "20")
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "r")
    # Gold cell: 3 of 4 stories carry a (the reprint of x0 is not counted again).
    gx = pick(rows, table="main", scheme="topics", outlet="X", month="2023-01", label="a")
    assert (gx["items"], gx["gold_items"], gx["predicted_items"], gx["count"]) == ("4", "4", "0", "3")
    assert float(gx["raw_share"]) == 0.75 and float(gx["share"]) == 0.75 and gx["corrected"] == "False"
    # Wilson 95% for 3/4, worked by hand: centre (0.75 + 1.96^2/8) / (1 + 1.96^2/4) = 0.6275, half-width 0.3269.
    assert math.isclose(float(gx["ci_low"]), 0.3006, abs_tol=1e-4) and math.isclose(float(gx["ci_high"]), 0.9544, abs_tol=1e-4)
    # Predicted cell: raw 6/10; corrected (0.6 - fpr 0.2) / (tpr 0.8 - fpr 0.2) = 2/3.
    py = pick(rows, table="main", scheme="topics", outlet="Y", month="2023-02", label="a")
    assert float(py["raw_share"]) == 0.6 and math.isclose(float(py["share"]), 0.6667, abs_tol=1e-4)
    assert py["corrected"] == "True" and float(py["ci_low"]) <= 0.6667 <= float(py["ci_high"])
    # A label the model never confuses (b: tpr 1, fpr 0) keeps its raw share.
    assert float(pick(rows, table="main", scheme="topics", outlet="Y", month="2023-02", label="b")["share"]) == 0.4
    # Single-label stance toward T: p favor with p*0.8 + (1-p)*0.2 = 0.6 gives 2/3.
    sy = pick(rows, table="main", scheme="stance", target="T", outlet="Y", month="2023-02", label="favor")
    assert math.isclose(float(sy["share"]), 0.6667, abs_tol=1e-4) and float(sy["raw_share"]) == 0.6
    # The by-period table pools outlets: January 3/4 gold, February corrected.
    assert float(pick(rows, table="time", scheme="topics", month="2023-01", label="a")["share"]) == 0.75
    # Ledger: 5 annotations by ana, 4 x 60 s + 30 s = 270 s = 0.075 h, cost at 20/h = 1.50.
    with open(tmp_path / "r" / "tables" / "ledger.csv", newline="") as fh:
        [ledger] = list(csv.DictReader(fh))
    assert (ledger["labeler"], ledger["items"], ledger["hours"], ledger["cost"]) == ("ana", "5", "0.075", "1.5")
    html = (tmp_path / "r" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Codebook" in html and "Model card" in html
    assert (tmp_path / "r" / "tables" / "coverage.parquet").exists()


def test_unmixing_and_wilson_helpers():
    assert wilson(0, 0) != wilson(0, 0)  # nan for an empty cell
    low, high = wilson(0, 5)
    assert low == 0.0 and 0.4 < high < 0.5
    p = unmix_single([0.6, 0.4], __import__("numpy").array([[8, 2], [2, 8]]))
    assert math.isclose(p[0], 2 / 3, abs_tol=1e-9)
    assert ErrorRates.from_metrics(parse_guide(GUIDE).scheme("topics"), {}) is None


def test_bad_by_and_dates_are_usage_errors(run, tmp_path):
    guide_path, _ = build_fixture(tmp_path)
    assert run("report", "--guide", str(guide_path), "--by", "outlet,moon", "--out", str(tmp_path / "r")).exit_code == 2
    assert run("report", "--guide", str(guide_path), "--since", "May 2023", "--out", str(tmp_path / "r")).exit_code == 2


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)")
def test_every_figure_loads_in_headless_chromium(run, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    guide_path, model = build_fixture(tmp_path)
    assert run("report", "--guide", str(guide_path), "--model", str(model), "--out", str(tmp_path / "r")).exit_code == 0
    with playwright.sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=[
            "--headless=new", "--no-sandbox", "--disable-gpu", "--disable-background-networking",
            "--disable-component-update", "--disable-sync", "--no-first-run"])
        page = browser.new_page()
        page.goto((tmp_path / "r" / "report.html").as_uri())
        sizes = page.eval_on_selector_all("img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])")
        page.screenshot(path=str(tmp_path / "r" / "screenshot.png"), full_page=True)
        browser.close()
    assert len(sizes) >= 4 and all(done and width > 100 for done, width in sizes)
