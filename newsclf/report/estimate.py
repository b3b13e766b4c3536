"""Share estimators for one cell: raw (classify and count), ACC, PACC and prediction-powered
(PPI++).

A cell's articles split into *known* ones (a gold label from coders) and *unlabeled* ones (only the
model's prediction). Every estimator here estimates the share of a label among the unlabeled
articles; `combine` adds the known ones back. The methods differ in how they trust the model:

- raw: the model's labels as they are (Wilson interval); biased by every error the model makes.
- acc: adjusted classify-and-count (Forman 2008) with the model's cross-validated error rates
  (in coverage.py, which keeps its bootstrap).
- pacc: probabilistic ACC: the mean predicted probability unmixed through the mean probability
  the model gives articles that do and do not carry the label, both measured on the random
  estimation sample; bootstrap interval (expanded percentiles for small samples).
- ppi: prediction-powered inference with power tuning (PPI++; Angelopoulos, Duchi and Zrnic
  2023, checked against `ppi_py.ppi_mean_pointestimate` / `ppi_mean_ci` / `_calc_lam_glm`):
  estimate = lam * mean(f over unlabeled) + mean(gold - lam * f over the estimation sample), where
  the second term, the *rectifier*, comes only from a simple random sample with both a gold label
  and a prediction. With lam = 0 it is the estimation sample's own mean, so a useless model
  cannot make it worse than the gold labels alone (given how lam is chosen, below); a good model
  narrows it.

`ppi_mean` is PPI++ as published, for a mean over an infinite population. A report's cell is a
finite set of articles (what an outlet published in a month), so `ppi_cell` targets the share
among exactly the cell's unlabeled articles: their prediction errors do not average out over a
superpopulation, so its variance is var(gold - lam * f) * (1/n + 1/N) (exact for a simple random
sample drawn without replacement from the cell), which lam_opt = cov(gold, f) / var(f) minimises.
PPI++ plugs in the sample's cov / var; fitting it on the same n items costs about se(lam)^2 *
var(f), which with a useless model made the estimate worse than the estimation sample alone
(bench/estimates: RMSE up to 1.2% above it). `ppi_cell` therefore takes the lower end of lam_opt's
95% confidence interval, floored at 0 (`power_tuning`): with probability 0.975 a lam between 0
and lam_opt, where every lam beats the sample alone, and lam = 0 (exactly the sample's share)
whenever the sample cannot show that the model's correction is worth it. A model whose
cross-validated macro-F1 is below MIN_MACRO_F1 (the report's weak-model warning) is not used at
all (`uses_model`): lam = 0, which removes the little a fitted lam still costs where the model
knows nothing (bench/estimates: RMSE at or below the sample's in every condition). The interval is a
small-sample one (`_pseudo_rectifier`): as Agresti and Min (2005) do for a difference of matched
proportions, half a pseudo-article joins each of the four corners (gold 0/1 x prediction 0/1) in
the interval's centre and variance, not in the point estimate, so a sample of 50 that happened to
hold none of the model's rare errors still allows for them; with lam = 0 it is the
plus-one-success-one-failure interval for one proportion.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

import numpy as np

# scipy.special's t quantile and normal cdf are what scipy.stats' t.ppf and norm.cdf call, without
# scipy.stats' import (most of a second, on every report).
from scipy.special import ndtr, stdtrit

Z95 = 1.959963984540054
# A model whose cross-validated macro-F1 (over all its scheme's labels, on its own training data,
# as `newsclf train` stores it) is below this gets the report's weak-model warning, and PPI does
# not use it: lam = 0, the estimation sample's own share. Set for the warning before
# bench/estimates existed, not tuned on it.
MIN_MACRO_F1 = 0.5


@dataclass(frozen=True)
class Estimate:
    """A share with its 95% interval, and what it rests on."""

    share: float
    low: float
    high: float
    lam: float | None = None  # PPI++ power tuning: 0 = the estimation sample alone, 1 = plain PPI


NAN = Estimate(float("nan"), float("nan"), float("nan"))


def _arrays(*xs: object) -> list[np.ndarray]:
    return [np.asarray(x, dtype=float).ravel() for x in xs]


def ppi_mean(
    y: object, f_labeled: object, f_unlabeled: object, lam: float | None = None, z: float = Z95
) -> Estimate:
    """PPI++ mean (as ppi_py computes it): power-tuned point estimate and CLT 95% interval."""
    y, f, fu = _arrays(y, f_labeled, f_unlabeled)
    n, big_n = len(y), len(fu)
    if n < 2 or big_n < 1:
        return NAN
    if lam is None:
        cov = float(np.mean((y - y.mean()) * (f - f.mean())))
        var = float(np.var(np.concatenate([f, fu]), ddof=1))
        lam = float(np.clip(cov / ((1 + n / big_n) * var), 0, 1)) if var > 0 else 0.0
    est = lam * float(fu.mean()) + float(np.mean(y - lam * f))
    se = math.sqrt(float(np.var(lam * fu)) / big_n + float(np.var(y - lam * f)) / n)
    return Estimate(est, est - z * se, est + z * se, lam)


def ppi_cell(
    y: object,
    f_labeled: object,
    f_unlabeled: object,
    z: float | None = None,
    model_f1: float | None = None,
) -> Estimate:
    """PPI++ share among exactly these unlabeled articles (a finite cell), clipped to [0, 1].

    The interval uses Student's t with n - 1 degrees of freedom unless `z` is given, around the
    pseudo-article centre (`_pseudo_rectifier`); it always holds the point estimate.

    `model_f1` is the model's cross-validated macro-F1: below MIN_MACRO_F1 the model is not used
    (`uses_model`), lam = 0, and the estimate is exactly the estimation sample's share. Where a
    model knows nothing every lam > 0 adds lam**2 * var(f) to the variance, so a lam rule fitted
    on the sample alone stays, in expectation, a little worse than the sample there
    (`power_tuning`); this decides from what the model showed on its own training data instead.
    """
    y, f, fu = _arrays(y, f_labeled, f_unlabeled)
    n, big_n = len(y), len(fu)
    if n < 2 or big_n < 1:
        return NAN
    if z is None:
        z = float(stdtrit(n - 1, 0.975))
    lam = power_tuning(y, f) if uses_model(model_f1) else 0.0
    est = lam * float(fu.mean()) + float(np.mean(y - lam * f))
    centre, var = _pseudo_rectifier(y, f, lam)
    se = math.sqrt(var * (1 / n + 1 / big_n))
    low, high = lam * float(fu.mean()) + centre - z * se, lam * float(fu.mean()) + centre + z * se
    return Estimate(min(1.0, max(0.0, est)), max(0.0, min(low, est)), min(1.0, max(high, est)), lam)


def uses_model(model_f1: float | None) -> bool:
    """Whether PPI uses a model of this cross-validated macro-F1 (None: not known, used)."""
    return model_f1 is None or model_f1 >= MIN_MACRO_F1


def power_tuning(y: np.ndarray, f: np.ndarray) -> float:
    """lam: the lower end of the 95% confidence interval for the optimal cov(gold, f) / var(f), in
    [0, 1].

    Why not the plug-in lam_hat = cov / var(f) of PPI++. With a fixed lam the rectified estimate's
    variance is proportional to var(gold - lam * f) = var(gold) - (2 * lam * lam_opt - lam**2) *
    var(f): a parabola in lam, lowest at lam_opt = cov(gold, f) / var(f) and below its value at
    lam = 0 (the estimation sample alone) for every lam strictly between 0 and 2 * lam_opt. A lam
    fitted on the same n items misses lam_opt by about se(lam_hat) and gives back about
    se(lam_hat)**2 * var(f), which no saving offsets when the model knows nothing (lam_opt = 0):
    then the plug-in estimate is worse than the gold labels alone, by about 1/(2n) of the variance
    (bench/estimates: RMSE up to 1.2% above the estimation sample's share, weak models only).
    Taking instead the lower confidence bound lam_hat - t(0.975, n - 2) * se(lam_hat), with se from
    the least-squares regression of gold on f, floored at 0, gives a lam that lies in [0, lam_opt]
    with probability 0.975, where every lam beats lam = 0: the model is used only as far as the
    sample shows its correction is worth it. When the bound is 0 the estimate is exactly the
    estimation sample's share and its interval. This is soft thresholding of lam_hat at about two
    standard errors (Donoho and Johnstone 1994, Biometrika 81:425): in the normal approximation its
    worst excess over lam = 0 is 0.006 / n of the variance (at lam_opt = 0), against 0.5 / n for the
    plug-in, 0.18 / n for shrinking lam_hat by 1 - se**2 / lam_hat**2 (tried before) and 0.27 / n
    for a pre-test that keeps lam_hat only when its t exceeds 2 (the pre-test estimator's bump near
    the threshold: Bancroft 1944, Ann Math Stat 15:190). The price is two standard errors of lam
    where the model is good: at a slope t of 20, 10% of lam_hat.

    No rule that ever uses the model is never worse: where it knows nothing (cov = 0) every lam
    other than 0 adds lam**2 * var(f) to the variance. What is left here is below Monte Carlo
    error (bench/estimates prints the paired z). Tried on fresh replicates (README): a one-sided
    99.9% bound, a non-negative garrote at that level, an HC3 se and lam cross-fitted on halves
    still print weak models' RMSE a unit above gold-only's now and then (8 to 11 runs of 1,000 in
    288, against this rule's 13), and give up gain where the model is weak but real.
    """
    n = len(y)
    var_f = float(np.var(f))
    if n < 3 or var_f <= 0:
        return 0.0
    lam = float(np.mean((y - y.mean()) * (f - f.mean()))) / var_f
    if lam <= 0:
        return 0.0
    resid = y - y.mean() - lam * (f - f.mean())
    se = math.sqrt(float(np.sum(resid * resid)) / (n - 2) / (n * var_f))
    return float(np.clip(lam - float(stdtrit(n - 2, 0.975)) * se, 0.0, 1.0))


PSEUDO_WEIGHT = 0.5  # per corner of the gold x prediction table: Agresti and Min (2005)


def _pseudo_rectifier(y: np.ndarray, f: np.ndarray, lam: float) -> tuple[float, float]:
    """Mean and variance (ddof 1) of the rectifier gold - lam * f with four half pseudo-articles.

    The plain CLT interval from a few dozen items is too narrow in two ways measured in
    bench/estimates: a rare label (10% of 50 items: Wald covers about 88%), and a good model's
    rare errors, which a small sample often holds none of, so the residuals look smaller than
    they are (IndoSum's 0.73-F1 model at 10% and n = 50 covered 0.91 even with two pseudo-articles
    of each kind at the class mean prediction, the guard before this one). The rectifier is a
    difference of matched quantities, gold and lam * prediction, so we add what Agresti and Min
    (2005, Stat Med 24:729) add to a matched 2x2 table: half an article to each of its four
    corners, gold 1 or 0 with prediction 1 or 0 (rectifier 1 - lam, 1, -lam, 0). They move the
    centre (as Agresti-Coull's pseudo-counts do) and the variance, never the point estimate. With
    lam = 0 this is one pseudo-success and one pseudo-failure around the share; with a perfect
    model (lam = 1) they are two pseudo-errors, +1 and -1, which sum to 0: the centre barely
    moves and the interval widens.
    """
    corners = np.array([1 - lam, 1.0, -lam, 0.0])
    r = y - lam * f
    total = len(r) + PSEUDO_WEIGHT * len(corners)
    mean = (float(r.sum()) + PSEUDO_WEIGHT * float(corners.sum())) / total
    ss = float(np.sum((r - mean) ** 2)) + PSEUDO_WEIGHT * float(np.sum((corners - mean) ** 2))
    return mean, ss / (total - 1)


def gold_only(y: object, z: float = Z95) -> Estimate:
    """The estimation sample's own share with its Wilson interval: what a researcher has without a
    model."""
    (y,) = _arrays(y)
    if len(y) == 0:
        return NAN
    low, high = wilson(float(y.sum()), len(y), z)
    return Estimate(float(y.mean()), low, high, 0.0)


def wilson(k: float, n: int, z: float = Z95) -> tuple[float, float]:
    """Wilson score interval for k successes in n trials."""
    if n == 0:
        return (float("nan"), float("nan"))
    p = k / n
    centre = (p + z * z / (2 * n)) / (1 + z * z / n)
    half = z * math.sqrt(p * (1 - p) / n + z * z / (4 * n * n)) / (1 + z * z / n)
    return (max(0.0, centre - half), min(1.0, centre + half))


MIN_SEPARATION = (
    0.05  # E[f | label] - E[f | no label] below this: the model cannot separate, nothing to unmix
)


def pacc_point(y: np.ndarray, f: np.ndarray, fu: np.ndarray) -> float | None:
    """Probabilistic ACC: (mean f_unlabeled - E[f | no label]) / (E[f | label] - E[f | no label]) in
    [0, 1].

    None when the estimation sample lacks one kind of article or the model does not separate them.
    """
    pos, neg = f[y > 0.5], f[y <= 0.5]
    if len(pos) == 0 or len(neg) == 0:
        return None
    tpr, fpr = float(pos.mean()), float(neg.mean())
    if tpr - fpr <= MIN_SEPARATION:
        return None
    return min(1.0, max(0.0, (float(fu.mean()) - fpr) / (tpr - fpr)))


def pacc(
    y: object, f_labeled: object, f_unlabeled: object, rounds: int = 500, seed: int = 0
) -> Estimate:
    """PACC with a bootstrap 95% interval that resamples the estimation sample and the unlabeled
    articles.

    Its assumption is prior shift: the model's probabilities for articles with (and without) the
    label look alike in every cell, whatever the label's share. A resample where the model cannot
    separate the two counts as 'anything from 0 to 1', so a weak model widens the interval
    instead of hiding behind its raw share. Like `ppi_cell` it targets the share among exactly
    these unlabeled articles, so each draw also draws their labels (binomial).
    """
    y, f, fu = _arrays(y, f_labeled, f_unlabeled)
    if len(y) < 2 or len(fu) < 1:
        return NAN
    rng = np.random.default_rng(seed)
    point = pacc_point(y, f, fu)
    if point is None:
        return Estimate(float(fu.mean()), 0.0, 1.0)
    # All rounds at once: resampled estimation samples (rounds x n), and the unlabeled mean drawn
    # from its normal approximation (resampling a cell of 100,000 articles 500 times would not fit).
    idx = rng.integers(0, len(y), (rounds, len(y)))
    yi, fi = y[idx], f[idx]
    pos, neg = yi.sum(axis=1), (1 - yi).sum(axis=1)
    tpr = np.divide((fi * yi).sum(axis=1), pos, out=np.zeros(rounds), where=pos > 0)
    fpr = np.divide((fi * (1 - yi)).sum(axis=1), neg, out=np.zeros(rounds), where=neg > 0)
    mean_u = fu.mean() + rng.normal(0.0, float(fu.std()) / math.sqrt(len(fu)), rounds)
    ok = (pos > 0) & (neg > 0) & (tpr - fpr > MIN_SEPARATION)
    unmixed = np.clip((mean_u - fpr) / np.where(ok, tpr - fpr, 1.0), 0, 1)
    share = np.where(ok, unmixed, rng.uniform(size=rounds))
    # The target is the share among exactly these articles: each draw also draws their labels,
    # or a cell of two unlabeled articles would get an interval that excludes 0 and 1/2 alike.
    draws = rng.binomial(len(fu), share) / len(fu)
    # Hesterberg's expanded percentile interval (The American Statistician 69, 2015): the plain
    # percentile bootstrap is too narrow in small samples (z instead of t, and sd without n - 1),
    # measured in bench/estimates as 0.923-0.928 coverage for pooled samples of 50 over two cells.
    # The two tails together hold 2 * Phi(-sqrt(n / (n - 1)) * t(0.975, n - 1)) instead of 5%.
    n = len(y)
    tail = 100 * float(ndtr(-math.sqrt(n / (n - 1)) * stdtrit(n - 1, 0.975)))
    low, high = np.percentile(draws, [tail, 100 - tail])
    return Estimate(point, float(min(low, point)), float(max(high, point)))


def combine(k_gold: int, n_gold: int, unlabeled: Estimate, n_unlabeled: int) -> Estimate:
    """The whole cell's share: the known gold count plus the estimated share of the unlabeled
    articles."""
    n = n_gold + n_unlabeled
    if n == 0:
        return NAN
    if n_unlabeled == 0:
        share = k_gold / n
        return Estimate(share, share, share)

    def whole(x: float) -> float:
        return (k_gold + x * n_unlabeled) / n

    return Estimate(
        whole(unlabeled.share), whole(unlabeled.low), whole(unlabeled.high), unlabeled.lam
    )
