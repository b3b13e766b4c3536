"""Report numbers against hand-computed values on a small fixture, and the HTML in a real
browser."""

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
from newsclf.report.estimate import (
    MIN_MACRO_F1,
    combine,
    gold_only,
    pacc,
    ppi_cell,
    ppi_mean,
    uses_model,
)
from newsclf.report.guardrails import scheme_warnings
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
    "topics": {
        "macro_f1": 0.8,
        "confusion": {
            "a": {"tp": 8, "fp": 2, "fn": 2, "tn": 8},
            "b": {"tp": 5, "fp": 0, "fn": 0, "tn": 15},
        },
    },
    "stance": {
        "macro_f1": 0.8,
        "confusion": {"labels": ["favor", "against"], "matrix": [[8, 2], [2, 8]]},
    },
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
            store.add_article(
                Article(
                    id=f"x{i}",
                    text=f"story x{i}",
                    outlet="X",
                    published=f"2023-01-0{i + 1}T10:00:00+07:00",
                )
            )
            store.add_annotations([Annotation(f"x{i}", "topics", labels, "ana", seconds=60.0)])
        # A syndicated copy of x0 in another outlet: same group, must count once.
        store.add_article(
            Article(
                id="x0copy",
                text="story x0 reprinted",
                outlet="X",
                published="2023-01-05T10:00:00+07:00",
            )
        )
        store.add_annotations([Annotation("x0copy", "topics", ("a",), "ana", seconds=30.0)])
        store.set_dup_groups({"x0copy": "x0", "x0": "x0"})
        # Outlet Y, February: 10 articles labeled by the model only: a predicted on 6; stance favor
        # on 6.
        for i in range(10):
            store.add_article(
                Article(
                    id=f"y{i}",
                    text=f"story y{i}",
                    outlet="Y",
                    published=f"2023-02-1{i}T10:00:00+00:00",
                )
            )
        store.add_predictions(
            [
                (
                    f"y{i}",
                    "m1",
                    "topics",
                    "",
                    {"a": 0.9 if i < 6 else 0.1, "b": 0.1},
                    ["a"] if i < 6 else ["b"],
                )
                for i in range(10)
            ]
        )
        store.add_predictions(
            [
                (
                    f"y{i}",
                    "m1",
                    "stance",
                    "T",
                    {"favor": 0.8 if i < 6 else 0.2, "against": 0.2},
                    ["favor"] if i < 6 else ["against"],
                )
                for i in range(10)
            ]
        )
    return guide_path, model


def rows_of(out: Path) -> list[dict]:
    with open(out / "tables" / "coverage.csv", newline="", encoding="utf-8") as fh:
        return list(csv.DictReader(fh))


def pick(rows, **kw):
    [row] = [r for r in rows if all(r.get(k) == v for k, v in kw.items())]
    return row


def topics_cell(out: Path, outlet: str, month: str) -> dict:
    """The coverage row of label a of the topics scheme for one outlet and month of report OUT."""
    return pick(rows_of(out), table="main", scheme="topics", outlet=outlet, month=month, label="a")


def report_of(run, tmp_path: Path, guide_path: Path, out: str):
    """`newsclf report` with the model in tmp_path/model into tmp_path/OUT; the CLI's result."""
    return run(
        "report",
        "--guide",
        str(guide_path),
        "--model",
        str(tmp_path / "model"),
        "--out",
        str(tmp_path / out),
    )


def test_hand_computed_counts_shares_intervals_and_corrections(run, tmp_path):
    guide_path, model = build_fixture(tmp_path)
    result = run(
        "report",
        "--guide",
        str(guide_path),
        "--model",
        str(model),
        "--by",
        "outlet,month",
        "--out",
        str(tmp_path / "r"),
        "--hourly-rate",
        "20",
        "--estimator",
        "acc",
    )
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "r")
    # Gold cell: 3 of 4 stories carry a (the reprint of x0 is not counted again).
    gx = pick(rows, table="main", scheme="topics", outlet="X", month="2023-01", label="a")
    assert (gx["items"], gx["gold_items"], gx["predicted_items"], gx["count"]) == (
        "4",
        "4",
        "0",
        "3",
    )
    assert (
        float(gx["raw_share"]) == 0.75 and float(gx["share"]) == 0.75 and gx["corrected"] == "False"
    )
    # Wilson 95% for 3/4, worked by hand: centre (0.75 + 1.96^2/8) / (1 + 1.96^2/4) = 0.6275,
    # half-width 0.3269.
    assert math.isclose(float(gx["ci_low"]), 0.3006, abs_tol=1e-4) and math.isclose(
        float(gx["ci_high"]), 0.9544, abs_tol=1e-4
    )
    # Predicted cell: raw 6/10; corrected (0.6 - fpr 0.2) / (tpr 0.8 - fpr 0.2) = 2/3.
    py = pick(rows, table="main", scheme="topics", outlet="Y", month="2023-02", label="a")
    assert float(py["raw_share"]) == 0.6 and math.isclose(float(py["share"]), 0.6667, abs_tol=1e-4)
    assert py["corrected"] == "True" and float(py["ci_low"]) <= 0.6667 <= float(py["ci_high"])
    # A label the model never confuses (b: tpr 1, fpr 0) keeps its raw share.
    assert (
        float(
            pick(rows, table="main", scheme="topics", outlet="Y", month="2023-02", label="b")[
                "share"
            ]
        )
        == 0.4
    )
    # Single-label stance toward T: p favor with p*0.8 + (1-p)*0.2 = 0.6 gives 2/3.
    sy = pick(
        rows, table="main", scheme="stance", target="T", outlet="Y", month="2023-02", label="favor"
    )
    assert math.isclose(float(sy["share"]), 0.6667, abs_tol=1e-4) and float(sy["raw_share"]) == 0.6
    # The by-period table pools outlets: January 3/4 gold, February corrected.
    assert (
        float(pick(rows, table="time", scheme="topics", month="2023-01", label="a")["share"])
        == 0.75
    )
    # Ledger: 5 annotations by ana, 4 x 60 s + 30 s = 270 s = 0.075 h, cost at 20/h = 1.50.
    with open(tmp_path / "r" / "tables" / "ledger.csv", newline="") as fh:
        [ledger] = list(csv.DictReader(fh))
    assert (ledger["labeler"], ledger["items"], ledger["hours"], ledger["cost"]) == (
        "ana",
        "5",
        "0.075",
        "1.5",
    )
    html = (tmp_path / "r" / "report.html").read_text()
    assert "data:image/png;base64," in html and "Codebook" in html and "Model card" in html
    # The model card and agreement are HTML (tables as tables), not Markdown in <pre>; no curve, no
    # curve figure.
    assert "<h1>Model card: m1</h1>" in html and "<pre>" not in html and "<th>Krippendorff" in html
    assert "section left out: need at least two learning-curve points" in html
    assert (tmp_path / "r" / "tables" / "coverage.parquet").exists()


def test_unmixing_and_wilson_helpers():
    assert wilson(0, 0) != wilson(0, 0)  # nan for an empty cell
    low, high = wilson(0, 5)
    assert low == 0.0 and 0.4 < high < 0.5
    p = unmix_single([0.6, 0.4], __import__("numpy").array([[8, 2], [2, 8]]))
    assert math.isclose(p[0], 2 / 3, abs_tol=1e-9)
    assert ErrorRates.from_metrics(parse_guide(GUIDE).scheme("topics"), {}) is None


# The small case worked by hand: 8 estimation items, gold 1,1,0,0 twice, the model's 0/1 prediction
# 1,0,0,0 twice; 10 unlabeled articles, 2 of them predicted positive.
Y, F, FU = [1, 1, 0, 0] * 2, [1, 0, 0, 0] * 2, [1, 1] + [0] * 8


# The same case four times over (n = 32), worked by hand once for test_ppi_cell_by_hand and the
# report test.
# lam_hat = cov / var(f) = (1/8) / (3/16) = 2/3 as for n = 8. Least-squares residuals y - 1/2 - 2/3
# (f - 1/4):
# 0, 2/3, -1/3, -1/3 in each block of four, sum of squares 8 * 2/3 = 16/3; s^2 = 16/3 / (n - 2) =
# 8/45;
# se(lam_hat)^2 = s^2 / (n var f) = 8/45 / 6 = 4/135. t(0.975, 30 df) = 2.042272: lam = 2/3 -
# 2.042272 * sqrt(4/135)
# = 0.315125, the lower end of lam's 95% interval (power_tuning).
LAM32 = 2 / 3 - 2.042272 * math.sqrt(4 / 135)
# Estimate = lam * mean(fu) 0.2 + mean(y - lam f) (1/2 - lam/4) = 1/2 - lam/20.
SHARE32 = 0.5 - LAM32 / 20
# Interval: the rectifier 1 - lam (8 times), 1 (8), 0 (16), and half a pseudo-article at each corner
# (gold,
# prediction) = (1,1), (1,0), (0,1), (0,0): 1 - lam, 1, -lam, 0. Weight 34, sum 17 - 9 lam; sum of
# squares
# 8.5 (1 - lam)^2 + 8.5 + 0.5 lam^2; variance (ddof 1) over 33. Centre lam * 0.2 + mean; t(0.975, 31
# df) = 2.039513.
_M32 = (17 - 9 * LAM32) / 34
_VAR32 = (8.5 * (1 - LAM32) ** 2 + 8.5 + 0.5 * LAM32**2 - 34 * _M32**2) / 33
HALF32 = 2.039513 * math.sqrt(_VAR32 * (1 / 32 + 1 / 10))
CENTRE32 = LAM32 * 0.2 + _M32


def test_ppi_cell_by_hand():
    # n = 8: mean y 1/2, mean f 1/4; cov(y, f) = (.5*.75 + .5*-.25 + -.5*-.25 + -.5*-.25) / 4 = 1/8;
    # var(f) = 3/16:
    # lam_hat = (1/8) / (3/16) = 2/3. Its least-squares residuals sum to squares 4/3; s^2 = 4/3 / 6
    # = 2/9;
    # se^2 = 2/9 / (8 * 3/16) = 4/27, se = 0.3849; t(0.975, 6 df) = 2.446912: the lower bound 2/3 -
    # 0.9418 < 0, so
    # lam = 0: eight items cannot show that this model's correction is worth fitting. The estimate
    # is the sample's
    # share, 1/2; the interval's corners add one pseudo-success and one pseudo-failure (centre 5/10,
    # variance
    # 10 * 1/4 / 9 = 5/18), se = sqrt(5/18 * (1/8 + 1/10)) = 1/4, t(0.975, 7 df) = 2.364624: 1/2 -/+
    # 0.5912, clipped.
    est = ppi_cell(Y, F, FU)
    assert (est.lam, est.share, est.low, est.high) == (0.0, 0.5, 0.0, 1.0)
    assert 0.5 - 2.364624 / 4 < 0 and 0.5 + 2.364624 / 4 > 1
    # The whole cell: 3 of 5 known gold plus 10 estimated: (3 + 10 * 1/2) / 15, exactly the sample's
    # share.
    assert math.isclose(combine(3, 5, est, 10).share, 8 / 15)
    # n = 32 (worked above): lam 0.315125, share 0.484244, interval 0.4796 -/+ 0.3313.
    est = ppi_cell(Y * 4, F * 4, FU)
    assert math.isclose(est.lam, LAM32, abs_tol=1e-6) and math.isclose(
        est.share, SHARE32, abs_tol=1e-7
    )
    assert round(LAM32, 6) == 0.315125 and round(SHARE32, 6) == 0.484244
    assert math.isclose(est.low, CENTRE32 - HALF32, abs_tol=1e-6)
    assert math.isclose(est.high, CENTRE32 + HALF32, abs_tol=1e-6)
    assert (round(est.low, 4), round(est.high, 4)) == (0.1483, 0.8110)
    whole = combine(3, 5, est, 10)
    assert math.isclose(whole.share, (3 + 10 * est.share) / 15) and math.isclose(
        whole.low, (3 + 10 * est.low) / 15
    )


def test_ppi_mean_by_hand_as_ppi_py_computes_it():
    # lam = cov_biased(y, f) / ((1 + n/N) var(all f, ddof 1)): 1/8 / (1.8 * (18 * 2/9 * 7/9 / 17)) =
    # 0.37946.
    lam = 0.125 / (1.8 * (18 * (2 / 9) * (7 / 9) / 17))
    est = ppi_mean(Y, F, FU)
    assert math.isclose(est.lam, lam) and math.isclose(est.share, lam * 0.2 + 0.5 - lam * 0.25)
    # se^2 = var(lam fu) / N + var(y - lam f) / n, both ddof 0.
    r = [1 - lam, 1, 0, 0] * 2
    var_r = sum(x * x for x in r) / 8 - (sum(r) / 8) ** 2
    se = math.sqrt(lam * lam * 0.16 / 10 + var_r / 8)
    assert math.isclose(est.high - est.share, 1.959964 * se, rel_tol=1e-6)
    assert (round(est.share, 4), round(est.low, 4), round(est.high, 4)) == (0.481, 0.1707, 0.7914)
    # lam = 0 is the estimation sample alone; a model that knows nothing gets lam 0.
    assert ppi_mean(Y, F, FU, lam=0).share == 0.5 and ppi_cell(Y, [0.3] * 8, FU).lam == 0.0
    assert gold_only(Y).share == 0.5 and pacc(Y, F, FU).low <= pacc(Y, F, FU).share
    # With lam = 0 the corners add one pseudo-success and one pseudo-failure: 8 of 32 -> share 1/4,
    # centre 9/34,
    # variance (9 * (25/34)^2 + 25 * (9/34)^2) / 33 = 75/374; t(0.975, 31 df) = 2.039513: 9/34 -/+
    # 0.3308, so
    # -0.0662 (clipped to 0) and 0.5956, a shade higher than around the share itself.
    flat = ppi_cell([1, 0, 0, 0] * 8, [0.3] * 32, FU)
    half = 2.039513 * math.sqrt(75 / 374 * (1 / 32 + 1 / 10))
    assert flat.lam == 0.0 and flat.share == 0.25
    assert (
        flat.low == 0.0
        and math.isclose(flat.high, 9 / 34 + half, abs_tol=1e-6)
        and round(flat.high, 4) == 0.5956
    )


def _estimation_fixture(tmp_path: Path, run) -> Path:
    """Outlet Z, March: 32 articles imported as the estimation sample (the small case four times),
    10 the model alone labeled."""
    guide_path, _ = build_fixture(tmp_path)
    rows = [
        {
            "id": f"z{i}",
            "text": f"story z{i}",
            "outlet": "Z",
            "published": f"2023-03-{i % 28 + 1:02d}",
            "labels": {"topics": ["a"] if y else ["b"]},
        }
        for i, y in enumerate(Y * 4)
    ]
    path = tmp_path / "estimation.jsonl"
    path.write_text("".join(json.dumps(r) + "\n" for r in rows), encoding="utf-8")
    assert (
        run("import", str(path), "--guide", str(guide_path), "--sample", "estimation").exit_code
        == 0
    )
    with Store(tmp_path / "newsclf.db") as store:
        assert {
            a.sample for a in store.annotations(scheme="topics") if a.article_id.startswith("z")
        } == {"estimation"}
        for i in range(10):
            store.add_article(
                Article(id=f"u{i}", text=f"story u{i}", outlet="Z", published=f"2023-03-1{i}")
            )
        preds = [(f"z{i}", f) for i, f in enumerate(F * 4)] + [
            (f"u{i}", f) for i, f in enumerate(FU)
        ]
        store.add_predictions(
            [
                (aid, "m1", "topics", "", {"a": float(f), "b": 1.0 - f}, ["a"] if f else ["b"])
                for aid, f in preds
            ]
        )
    return guide_path


def test_default_ppi_report_uses_the_estimation_sample(run, tmp_path):
    guide_path = _estimation_fixture(tmp_path, run)
    assert report_of(run, tmp_path, guide_path, "r").exit_code == 0
    z = topics_cell(tmp_path / "r", "Z", "2023-03")
    # 16 of 32 known gold carry a; the 10 predicted get PPI's share from the cell's own 32
    # estimation items,
    # worked by hand above (LAM32, SHARE32, CENTRE32 -/+ HALF32).
    assert (
        z["items"],
        z["gold_items"],
        z["estimation_items"],
        z["rectifier"],
        z["rectifier_items"],
    ) == ("42", "32", "32", "own", "32")
    assert z["estimator"] == "ppi" and math.isclose(
        float(z["share"]), (16 + 10 * SHARE32) / 42, abs_tol=1e-4
    )
    assert math.isclose(float(z["ci_low"]), (16 + 10 * (CENTRE32 - HALF32)) / 42, abs_tol=1e-4)
    assert math.isclose(float(z["ci_high"]), (16 + 10 * (CENTRE32 + HALF32)) / 42, abs_tol=1e-4)
    # Outlet Y has no estimation item of its own: the pooled 32 correct it through PACC:
    # E[f | a] = 1/2, E[f | not a] = 0, Y's mean f for a is 0.58 -> (0.58 - 0) / (1/2 - 0) = 1.16,
    # clipped to 1.
    y = topics_cell(tmp_path / "r", "Y", "2023-02")
    assert (y["rectifier"], y["rectifier_items"], y["estimation_items"]) == ("pooled", "32", "0")
    assert float(y["share"]) == 1.0 and float(y["ci_low"]) < 1.0
    # Active-learning and seed labels never enter the rectifier: marked 'active', the z items stop
    # counting.
    with Store(tmp_path / "newsclf.db") as store:
        store.add_annotations(
            [
                Annotation(f"z{i}", "topics", ("a",) if y else ("b",), "import", sample="active")
                for i, y in enumerate(Y * 4)
            ]
        )
    assert report_of(run, tmp_path, guide_path, "r2").exit_code == 0
    z2 = topics_cell(tmp_path / "r2", "Z", "2023-03")
    assert (z2["rectifier"], z2["estimator"], z2["share"]) == ("none", "raw", z2["raw_share"])


def test_a_model_below_the_guardrails_macro_f1_is_left_out_of_ppi():
    # The small case of n = 32 (LAM32 above) with a model whose cross-validated macro-F1 is below
    # the weak-model guardrail's 0.5: lam 0, exactly the estimation sample's share (16 of 32),
    # whatever the predictions say; at 0.5 and above (or unknown) the same model is used as before.
    assert MIN_MACRO_F1 == 0.5 and not uses_model(0.49) and uses_model(0.5) and uses_model(None)
    off = ppi_cell(Y * 4, F * 4, FU, model_f1=0.49)
    assert (off.lam, off.share) == (0.0, gold_only(Y * 4).share) == (0.0, 0.5)
    assert off == ppi_cell(Y * 4, [0.3] * 32, FU)  # the same as a model that knows nothing
    for f1 in (0.5, 0.93, None):
        on = ppi_cell(Y * 4, F * 4, FU, model_f1=f1)
        assert on == ppi_cell(Y * 4, F * 4, FU) and math.isclose(on.lam, LAM32, abs_tol=1e-6)
    (warning,) = scheme_warnings({"stance": {"macro_f1": 0.42}, "topics": {"macro_f1": 0.5}})
    assert warning.startswith(
        "stance: shares rest on the estimation sample alone: the model's cross-validated"
        " macro-F1 0.42 is below 0.5"
    )
    assert "does not use" in warning and not scheme_warnings({"topics": {"macro_f1": 0.81}})
    # ACC's wording is unchanged: the rule is PPI's.
    (acc,) = scheme_warnings({"stance": {"macro_f1": 0.42}}, estimator="acc")
    assert "estimation sample alone" not in acc


def test_the_report_leaves_a_weak_model_out_of_ppi_and_says_so(run, tmp_path):
    guide_path = _estimation_fixture(tmp_path, run)
    metrics = json.loads((tmp_path / "model" / "metrics.json").read_text())
    metrics["topics"]["macro_f1"] = 0.3
    (tmp_path / "model" / "metrics.json").write_text(json.dumps(metrics))
    result = report_of(run, tmp_path, guide_path, "r")
    assert result.exit_code == 0, result.output
    z = topics_cell(tmp_path / "r", "Z", "2023-03")
    # 16 of 32 known gold carry a; the 10 predicted get the estimation sample's share, 1/2, not
    # PPI's SHARE32 with the model: (16 + 10 * 1/2) / 42.
    assert (z["rectifier"], z["estimator"], z["lambda"]) == ("own", "ppi", "0.0")
    assert math.isclose(float(z["share"]), (16 + 10 * 0.5) / 42, abs_tol=1e-4)
    said = (
        "topics: shares rest on the estimation sample alone: the model's cross-validated"
        " macro-F1 0.30 is below 0.5"
    )
    assert "warning: " + said in result.output
    assert said.replace("'", "&#x27;") in (tmp_path / "r" / "report.html").read_text()


def test_a_model_trained_after_the_estimation_sample_was_stored_is_warned_about(run, tmp_path):
    guide_path = _estimation_fixture(tmp_path, run)
    meta = json.loads((tmp_path / "model" / "meta.json").read_text())
    meta["created_at"] = (
        "2999-01-01T00:00:00+00:00"  # trained after every label was stored: it may have seen them
    )
    (tmp_path / "model" / "meta.json").write_text(json.dumps(meta))
    result = report_of(run, tmp_path, guide_path, "r")
    assert (
        result.exit_code == 0
        and "32 labels of the estimation sample were stored before the model was trained"
        in result.output
    )
    meta["created_at"] = "2000-01-01T00:00:00+00:00"
    (tmp_path / "model" / "meta.json").write_text(json.dumps(meta))
    result = report_of(run, tmp_path, guide_path, "r")
    assert "estimation sample were stored before" not in result.output


def test_bad_sample_is_rejected_with_its_line(run, tmp_path):
    guide_path, _ = build_fixture(tmp_path)
    path = tmp_path / "bad.jsonl"
    path.write_text(
        json.dumps({"id": "q1", "text": "t", "labels": {"topics": ["a"]}, "sample": "lucky"}) + "\n"
    )
    result = run("import", str(path), "--guide", str(guide_path))
    assert (
        result.exit_code == 1
        and "bad.jsonl:1" in result.output
        and '"sample" must be one of' in result.output
    )


def test_bad_by_and_dates_are_usage_errors(run, tmp_path):
    guide_path, _ = build_fixture(tmp_path)
    assert (
        run(
            "report",
            "--guide",
            str(guide_path),
            "--by",
            "outlet,moon",
            "--out",
            str(tmp_path / "r"),
        ).exit_code
        == 2
    )
    assert (
        run(
            "report",
            "--guide",
            str(guide_path),
            "--since",
            "May 2023",
            "--out",
            str(tmp_path / "r"),
        ).exit_code
        == 2
    )


CHROMIUM = shutil.which("chromium") or "/usr/bin/chromium"


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)"
)
def test_every_figure_loads_in_headless_chromium(run, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    guide_path, model = build_fixture(tmp_path)
    assert (
        run(
            "report",
            "--guide",
            str(guide_path),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "r"),
        ).exit_code
        == 0
    )
    with playwright.sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page()
        page.goto((tmp_path / "r" / "report.html").as_uri())
        sizes = page.eval_on_selector_all(
            "img", "imgs => imgs.map(i => [i.complete, i.naturalWidth])"
        )
        page.screenshot(path=str(tmp_path / "r" / "screenshot.png"), full_page=True)
        browser.close()
    assert len(sizes) >= 4 and all(done and width > 100 for done, width in sizes)


def _chromium(p):
    return p.chromium.launch(
        executable_path=CHROMIUM,
        headless=True,
        args=[
            "--headless=new",
            "--no-sandbox",
            "--disable-gpu",
            "--disable-background-networking",
            "--disable-component-update",
            "--disable-sync",
            "--no-first-run",
        ],
    )


@pytest.mark.skipif(
    not Path(CHROMIUM).exists(), reason="Debian chromium is not installed (.ci/run installs it)"
)
def test_a_flagged_cell_drills_down_to_exactly_its_articles_in_chromium(run, tmp_path):
    playwright = pytest.importorskip("playwright.sync_api")
    guide_path = _estimation_fixture(tmp_path, run)
    assert report_of(run, tmp_path, guide_path, "r").exit_code == 0
    with playwright.sync_playwright() as p:
        browser = _chromium(p)
        page = browser.new_page()
        page.goto((tmp_path / "r" / "report.html").as_uri())
        # The reader's way in: the warning list at the top names the thin cell, in words.
        assert "topics, a, X, 2023-01: 4 articles (fewer than 10)" in page.inner_text("div.flags")
        # Its row in the estimates table is marked as flagged (greyed, said in words) ...
        row = (
            page.locator("table.estimates tr", has_text="2023-01")
            .filter(has_text="X")
            .filter(has=page.locator("td", has_text="4 articles (fewer than 10)"))
            .first
        )
        assert row.get_attribute("data-flagged") == "1" and "(flagged)" in row.inner_text()
        assert (
            page.evaluate("r => getComputedStyle(r).color", row.element_handle())
            == "rgb(119, 119, 119)"
        )
        # ... and its share is a link: follow it, as a reader clicks.
        row.locator("a.share").click()
        target = page.locator("section.drill:target")
        assert target.count() == 1 and "4 articles" in target.locator("h4").inner_text()
        ids = target.locator("tr.article td:first-child").all_inner_texts()
        # Exactly the four stories behind X's January cell; the reprint x0copy counts once, as x0.
        assert sorted(ids) == ["x0", "x1", "x2", "x3"]
        assert set(target.locator("tr.article td:nth-child(6)").all_inner_texts()) == {"gold"}
        # A PPI cell drills down to its 42 articles: 32 gold (the estimation sample), 10 predicted
        # with probabilities.
        zrow = page.locator("table.estimates tr", has_text="2023-03").filter(has_text="Z").first
        zrow.locator("a.share").click()
        z = page.locator("section.drill:target")
        sources = z.locator("tr.article td:nth-child(6)").all_inner_texts()
        assert (sources.count("gold"), sources.count("predicted")) == (32, 10)
        browser.close()


def test_guardrails_flag_thin_and_wide_cells_and_weak_models(run, tmp_path):
    guide_path, model = build_fixture(tmp_path)
    metrics = json.loads((model / "metrics.json").read_text())
    metrics["stance"].update(
        {"macro_f1": 0.3, "labels": {"against": {"recall": 0.06}, "favor": {"recall": 0.9}}}
    )
    (model / "metrics.json").write_text(json.dumps(metrics))
    result = run(
        "report",
        "--guide",
        str(guide_path),
        "--model",
        str(model),
        "--out",
        str(tmp_path / "r"),
        "--estimator",
        "acc",
    )
    assert result.exit_code == 0, result.output
    rows = rows_of(tmp_path / "r")
    # Outlet X, January: 4 stories, below the default --min-n of 10.
    gx = pick(rows, table="main", scheme="topics", outlet="X", month="2023-01", label="a")
    assert gx["flagged"] == "True" and gx["flag_reason"].startswith("4 articles (fewer than 10)")
    # Stance toward T in February: 10 predicted articles; the model's against recall is 0.06, said
    # in words.
    sy = pick(rows, table="time", scheme="stance", month="2023-02", label="against")
    assert (
        sy["flagged"] == "True"
        and "the model cannot tell against from favor: cross-validated recall 0.06"
        in sy["flag_reason"]
    )
    html = (tmp_path / "r" / "report.html").read_text()
    assert (
        'class="warning"' in html
        and "stance: the model&#x27;s cross-validated macro-F1 is 0.30" in html
    )
    assert "topics, a, 2023-01: 4 articles (fewer than 10)" in html
    # The CLI prints the same warnings.
    assert "warning: stance: the model's cross-validated macro-F1 is 0.30" in result.output
    assert "topics, a, 2023-01: 4 articles (fewer than 10)" in result.output
    # With --min-n 3 and a wide --max-width nothing about X's size is flagged.
    assert (
        run(
            "report",
            "--guide",
            str(guide_path),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "r2"),
            "--min-n",
            "3",
            "--max-width",
            "1",
            "--estimator",
            "acc",
        ).exit_code
        == 0
    )
    assert topics_cell(tmp_path / "r2", "X", "2023-01")["flagged"] == "False"


def test_flat_article_table_final_labels_by_hand(run, tmp_path):
    guide_path, model = build_fixture(tmp_path)
    with Store(tmp_path / "newsclf.db") as store:
        # y0: two coders say b, one says a -> majority b, beating the model's a (0.9).
        store.add_annotations(
            [
                Annotation("y0", "topics", ("b",), "ana"),
                Annotation("y0", "topics", ("b",), "budi"),
                Annotation("y0", "topics", ("a",), "citra"),
            ]
        )
        # y1: a coder says b, a gold (final) label says a -> gold a.
        store.add_annotations(
            [
                Annotation("y1", "topics", ("b",), "ana"),
                Annotation("y1", "topics", ("a",), "lead", gold=True),
            ]
        )
        # y2: coders tie (a vs b) -> nothing settled, the model's a (0.9) stands.
        store.add_annotations(
            [Annotation("y2", "topics", ("a",), "ana"), Annotation("y2", "topics", ("b",), "budi")]
        )
        # y3: a reviewer decided 'a, b' on the page.
        store.add_review(
            Annotation("y3", "topics", ("a", "b"), "rita", gold=True), "chose", {"ana": ["a"]}
        )
    assert (
        run(
            "report",
            "--guide",
            str(guide_path),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "r"),
        ).exit_code
        == 0
    )
    with open(tmp_path / "r" / "tables" / "articles.csv", newline="", encoding="utf-8") as fh:
        reader = csv.DictReader(fh)
        columns, table = reader.fieldnames, {r["id"]: r for r in reader}
    got = {
        i: (table[i]["topics"], table[i]["topics_source"])
        for i in ["x0", "y0", "y1", "y2", "y3", "y9"]
    }
    assert got == {
        "x0": ("a", "coder"),
        "y0": ("b", "majority"),
        "y1": ("a", "gold"),
        "y2": ("a", "predicted"),
        "y3": ("a;b", "reviewer"),
        "y9": ("b", "predicted"),
    }
    # Probabilities only where the model decided: y2's a at 0.9; y9's b at 0.1 (topics is
    # multi-label).
    assert table["y2"]["topics_probability"] == "0.9000" and table["y0"]["topics_probability"] == ""
    # Stance toward T: one plain column per target, a number for a single-label scheme.
    assert table["y0"]["stance_t"] == "favor" and float(table["y0"]["stance_t_probability"]) == 0.8
    assert table["x0copy"]["story"] == "x0"
    assert columns[:7] == ["id", "url", "outlet", "published", "lang", "title", "story"]
    import pyarrow.parquet as pq

    parquet = pq.read_table(tmp_path / "r" / "tables" / "articles.parquet").to_pydict()
    assert len(parquet["id"]) == len(table) == 15
    assert set(parquet["topics_source"]) - {None} == {
        "coder",
        "majority",
        "gold",
        "predicted",
        "reviewer",
    }


def test_attention_counts_stories_and_their_share_of_all_stored(run, tmp_path):
    guide_path, model = build_fixture(tmp_path)
    with Store(tmp_path / "newsclf.db") as store:  # one February article no scheme reports on
        store.add_article(
            Article(
                id="w1",
                text="a story on farming",
                outlet="Y",
                published="2023-02-27T08:00:00+00:00",
            )
        )
    assert (
        run(
            "report",
            "--guide",
            str(guide_path),
            "--model",
            str(model),
            "--out",
            str(tmp_path / "r"),
        ).exit_code
        == 0
    )
    with open(tmp_path / "r" / "tables" / "attention.csv", newline="") as fh:
        rows = list(csv.DictReader(fh))
    overall = {r["month"]: r for r in rows if not r["outlet"]}
    # January: 4 stories (the reprint counts once), all in the report; February: 10 of 11 stored.
    assert (overall["2023-01"]["articles"], overall["2023-01"]["all_articles"]) == ("4", "4")
    assert (overall["2023-02"]["articles"], overall["2023-02"]["all_articles"]) == ("10", "11")
    assert math.isclose(float(overall["2023-02"]["share_of_all"]), 10 / 11, abs_tol=1e-4)
    low, high = wilson(10, 11)
    assert math.isclose(float(overall["2023-02"]["ci_low"]), low, abs_tol=1e-4)
    assert math.isclose(float(overall["2023-02"]["ci_high"]), high, abs_tol=1e-4)
    assert {(r["outlet"], r["month"], r["articles"]) for r in rows if r["outlet"]} == {
        ("X", "2023-01", "4"),
        ("Y", "2023-02", "10"),
    }
    assert (tmp_path / "r" / "figures" / "attention.png").exists()
