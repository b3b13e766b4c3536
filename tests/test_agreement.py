from __future__ import annotations

import math

import pytest
from conftest import GUIDE

from newsclf.guide import load_guide
from newsclf.label.agreement import (
    agreement_report,
    bootstrap,
    cohen_kappa,
    figures,
    gwet_ac2,
    krippendorff_alpha,
    methods_table,
    percent_agreement,
)
from newsclf.store import Annotation


def units_from_rows(rows):
    """Coder rows (None = missing) -> units."""
    coders = "ABCD"
    return [
        {coders[c]: row[u] for c, row in enumerate(rows) if row[u] is not None}
        for u in range(len(rows[0]))
    ]


def test_krippendorff_canonical_example():
    # Krippendorff's textbook reliability data: 4 coders, 12 units, missing values; nominal alpha =
    # 0.743.
    rows = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    assert round(krippendorff_alpha(units_from_rows(rows)), 3) == 0.743


@pytest.mark.parametrize("categories", [None, [1, 2, 3, 4, 5]])
def test_vectorised_bootstrap_gives_the_per_resample_loops_intervals(categories):
    # figures() bootstraps every resample at once; the plain loop over resamples is the reference.
    rows = [
        [1, 2, 3, 3, 2, 1, 4, 1, 2, None, None, None],
        [1, 2, 3, 3, 2, 2, 4, 1, 2, 5, None, 3],
        [None, 3, 3, 3, 2, 3, 4, 2, 2, 5, 1, None],
        [1, 2, 3, 3, 2, 4, 4, 1, 2, 5, 1, None],
    ]
    units = units_from_rows(rows)
    for seed in range(5):
        f = figures(units, categories, seed=seed)
        assert f.alpha_ci == bootstrap(units, krippendorff_alpha, seed=seed)
        assert f.ac2_ci == bootstrap(units, lambda s: gwet_ac2(s, categories), seed=seed)


def test_two_coder_example_computed_by_hand():
    units = [{"a": "A", "b": "A"}, {"a": "A", "b": "A"}, {"a": "A", "b": "B"}, {"a": "B", "b": "B"}]
    assert percent_agreement(units) == 0.75
    assert math.isclose(
        krippendorff_alpha(units), 1 - 7 * 2 / 30
    )  # (n-1) * o_AB+o_BA / sum n_c n_k
    assert math.isclose(gwet_ac2(units), (0.75 - 0.46875) / (1 - 0.46875))
    assert math.isclose(cohen_kappa([("A", "A"), ("A", "A"), ("A", "B"), ("B", "B")]), 0.5)


def test_perfect_and_single_coder_cases():
    assert krippendorff_alpha([{"a": 1, "b": 1}, {"a": 2, "b": 2}]) == 1.0
    assert math.isnan(krippendorff_alpha([{"a": 1}]))  # nobody to agree with


def test_report_from_annotations_per_scheme_label_pair_and_drift():
    guide = load_guide(GUIDE)
    anns = []
    stance = [
        ("favor", "favor"),
        ("against", "neutral"),
        ("neutral", "neutral"),
        ("against", "against"),
    ]
    for i, (a, b) in enumerate(stance):
        anns += [
            Annotation(
                f"x{i}", "stance", (a,), "ana", target="OpenAI", created_at=f"2023-0{1 + i // 2}-01"
            ),
            Annotation(
                f"x{i}",
                "stance",
                (b,),
                "budi",
                target="OpenAI",
                created_at=f"2023-0{1 + i // 2}-01",
            ),
        ]
    anns.append(
        Annotation("x1", "stance", ("against",), "rev", target="OpenAI", gold=True)
    )  # not a coder
    topics = [
        ({"labor"}, {"labor"}),
        ({"labor", "industry"}, {"labor"}),
        ({"safety"}, {"regulation"}),
    ]
    for i, (a, b) in enumerate(topics):
        anns += [
            Annotation(f"x{i}", "topics", tuple(a), "ana"),
            Annotation(f"x{i}", "topics", tuple(b), "budi"),
        ]
    report = agreement_report(anns, guide)
    st = report["stance"]
    assert st["items"] == 4 and st["coders"] == 2 and st["percent_agreement"] == 0.75
    assert (
        st["pairwise_kappa"][0]["coders"] == ["ana", "budi"]
        and st["pairwise_kappa"][0]["items"] == 4
    )
    assert st["most_confused"][0] == {"labels": ["against", "neutral"], "times": 1}
    assert st["drift"]["ana"] == {"2023-01": 0.5, "2023-02": 1.0}
    tp = report["topics"]
    assert tp["items"] == 3 and tp["labels"]["labor"]["percent_agreement"] == 1.0
    assert {"labels": ["regulation", "safety"], "times": 1} in tp["most_confused"]
    assert {"labels": ["(none)", "industry"], "times": 1} in tp["most_confused"]
    table = methods_table(report)
    assert "| **stance** | 4 | 2 | 75.0 |" in table


def test_agreement_cli(run, tmp_path):
    from conftest import CORPUS

    for name in ("articles.jsonl", "labels/coder_a.jsonl", "labels/coder_b.jsonl"):
        assert run("import", str(CORPUS / name), "--guide", str(GUIDE)).exit_code == 0
    out = tmp_path / "agreement.json"
    result = run(
        "agreement", "--guide", str(GUIDE), "--json", str(out), "--markdown", str(tmp_path / "a.md")
    )
    assert result.exit_code == 0, result.output
    assert "Krippendorff" in result.output and "| **topics** |" in (tmp_path / "a.md").read_text()
    import json

    data = json.loads(out.read_text())
    assert 0.5 < data["stance"]["alpha"] < 1.0 and data["stance"]["coders"] == 2
