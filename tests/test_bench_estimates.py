"""bench/estimates without the shared data: its simulation on synthetic scores and its summary
against issue #37."""

from __future__ import annotations

import math

import numpy as np

from bench.estimates import METHODS, excess_z, goals, simulate
from newsclf.report.estimate import combine, gold_only, ppi_cell


def test_simulate_on_a_synthetic_model():
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    f = np.clip(np.where(y, 0.75, 0.2) + rng.normal(0, 0.15, 400), 0, 1)
    hard = f > 0.5
    rates = (
        int((y & hard).sum()),
        int((~y & hard).sum()),
        int((y & ~hard).sum()),
        int((~y & ~hard).sum()),
    )
    s = simulate(y, {"f": f, "hard": hard, "rates": rates}, 0.3, 100, 60, 1000, seed=1)
    assert set(s) == set(METHODS)
    assert s["ppi"]["coverage"] >= 0.9 and s["ppi"]["rmse"] < s["gold"]["rmse"]
    assert s["ppi"]["width"] < s["gold"]["width"]


def test_goals_counts_the_conditions():
    def row(f1: str, cov_ppi: float, rmse_ppi: float) -> list[str]:
        # cov raw/acc/ppi/gold, width raw/acc/ppi/gold, rmse raw/acc/ppi/gold
        nums = [0.1, 0.9, cov_ppi, 0.95, 0.04, 0.3, 0.05, 0.1, 0.2, 0.1, rmse_ppi, 0.03]
        return ["bbc", "25", f1, "0.1", "50"] + [str(x) for x in nums]

    lines = goals([row("0.90", 0.95, 0.02), row("0.40", 0.92, 0.031)])
    assert lines[0].startswith("PPI coverage: min 0.920, mean 0.935; 1 of 2 conditions")
    assert "below: bbc 25 (F1 0.40) prev 0.1 n 50: 0.920" in lines[0]
    assert lines[1].startswith("PPI RMSE <= gold-only's in 1 of 2 conditions")
    assert "above: bbc 25 (F1 0.40) prev 0.1 n 50: 0.0310 against 0.0300" in lines[1]
    assert lines[-1].startswith(
        "macro-F1 >= 0.8: PPI narrower than gold-only in 1 of 1 conditions (0.50 to 0.50"
    )
    # With the paired z printed: the critical value for two conditions is the one-sided
    # 2.5% point, 1.96; a z of +1.2 is within Monte Carlo error, +2.5 beyond it.
    lines = goals([row("0.90", 0.95, 0.02) + ["-3.0"], row("0.40", 0.95, 0.031) + ["+1.2"]])
    assert "0.0310 against 0.0300, paired z +1.2" in lines[1]
    assert lines[2].startswith(
        "PPI MSE above gold-only's beyond Monte Carlo error (paired z > 1.96: one-sided 5% over "
        "2 conditions) in 0 of 2; 0 with z > 2; largest z +1.2 (bbc 25 (F1 0.40)"
    )
    lines = goals([row("0.40", 0.95, 0.031) + ["+2.5"]])
    assert "(paired z > 1.64: one-sided 5% over 1 conditions) in 1 of 1" in lines[2]


def test_excess_z_by_hand():
    # Squared errors 0.04, 0.01, 0.09 against 0.01 each: differences 0.03, 0, 0.08, mean 11/300;
    # sd (ddof 1) sqrt(((0.03 - m)^2 + m^2 + (0.08 - m)^2) / 2); z = m / (sd / sqrt(3)).
    rows = [(0.2, 0, 1, 0.0), (0.1, 0, 1, 0.0), (0.3, 0, 1, 0.0)]
    base = [(0.1, 0, 1, 0.0)] * 3
    m = 0.11 / 3
    sd = math.sqrt(((0.03 - m) ** 2 + m**2 + (0.08 - m) ** 2) / 2)
    assert math.isclose(excess_z(rows, base), m / (sd / math.sqrt(3)))
    assert excess_z(base, base) == 0.0


def test_a_model_that_knows_nothing_leaves_exactly_the_gold_only_estimate():
    # f is the same for every article: var(f) = 0, so lam = 0 and PPI's share is the estimation
    # sample's own
    # share, (k + k/n * N) / (n + N) = k/n, in every replicate: the same RMSE as gold-only (up to
    # float rounding).
    y = np.arange(400) % 10 < 3
    f = np.full(400, 0.3)
    hard = f > 0.5
    rates = (0, 0, int(y.sum()), int((~y).sum()))
    s = simulate(y, {"f": f, "hard": hard, "rates": rates}, 0.3, 50, 40, 1000, seed=2)
    assert math.isclose(s["ppi"]["rmse"], s["gold"]["rmse"], rel_tol=1e-12)
    assert s["ppi"]["excess_z"] == 0.0


def test_lam_zero_is_exactly_the_gold_only_share():
    # A model whose scores vary but do not track gold: the estimation sample cannot show that it
    # helps, so lam = 0, and the whole-cell PPI share equals the gold-only share exactly: the
    # corner pseudo-articles move PPI's interval, never its point estimate.
    rng = np.random.default_rng(5)
    seen = 0
    for n in (50, 100, 200, 400):
        for _ in range(25):
            y = (rng.random(2000) < 0.1).astype(float)
            f = rng.random(2000)
            est = ppi_cell(y[:n], f[:n], f[n:])
            if est.lam == 0:
                seen += 1
                whole = combine(int(y[:n].sum()), n, est, 2000 - n)
                assert abs(whole.share - gold_only(y[:n]).share) < 1e-15
    assert seen > 50


def test_the_report_rule_leaves_a_weak_model_out_and_prints_its_cost():
    # The synthetic model of the first test is good, but its cross-validated macro-F1 says 0.3:
    # the report's rule leaves it out, so PPI is the estimation sample's share in every replicate
    # (the same RMSE as gold-only, z 0), and `rmse_kept` is what PPI gives using it (the rule's
    # cost here). At 0.5 the model is used and `rmse_kept` is not computed.
    rng = np.random.default_rng(0)
    y = rng.random(400) < 0.3
    f = np.clip(np.where(y, 0.75, 0.2) + rng.normal(0, 0.15, 400), 0, 1)
    level = {"f": f, "hard": f > 0.5, "rates": (1, 1, 1, 1)}
    off = simulate(y, {**level, "cv_macro_f1": 0.3}, 0.3, 100, 60, 1000, seed=1)
    on = simulate(y, {**level, "cv_macro_f1": 0.5}, 0.3, 100, 60, 1000, seed=1)
    assert math.isclose(off["ppi"]["rmse"], off["gold"]["rmse"], rel_tol=1e-12)
    assert off["ppi"]["excess_z"] == 0.0 and math.isnan(on["ppi"]["rmse_kept"])
    assert off["ppi"]["rmse_kept"] == on["ppi"]["rmse"] < off["ppi"]["rmse"]

    def row(rmse_ppi: float, kept: str, cv: str) -> list[str]:
        nums = [0.1, 0.9, 0.95, 0.95, 0.04, 0.3, 0.05, 0.1, 0.2, 0.1, rmse_ppi, 0.03]
        return ["bbc", "25", "0.40", "0.1", "50"] + [str(x) for x in nums] + ["+0.0", kept, cv]

    lines = goals([row(0.03, "0.0200", "0.30"), row(0.03, "0.0310", "0.30"), row(0.02, "-", "0.6")])
    assert (
        "model left out (CV macro-F1 below the guardrail's threshold) in 2 of 3 conditions;"
        " RMSE above PPI's with the model in 1 (worst 1.500, mean 1.500)" in "\n".join(lines)
    )
