"""Average effects on the treated with cluster-robust uncertainty.

On a matched (or weighted) sample the ATT of an outcome is the treated mean minus the weighted
comparison mean. Its standard error is the one R users get from ``lm(y ~ treat, weights = w)``
with ``sandwich::vcovCL(cluster = ~subclass)`` (CR1: the factors G/(G−1) and (N−1)/(N−K)), as
MatchIt's documentation recommends: pairs of a matched set are not independent draws. When a
person may serve in several matched sets (rolling entry), the rows are clustered by person too
(two-way, see :func:`clustered_variance`). The computation goes through influence values,
which also serve ratio outcomes (a ratio of group sums, linearised) and the percentile cluster
bootstrap.

With ``adjust`` the ATT is the treatment coefficient of a weighted regression of the outcome
on the treatment and the covariates centred at the treated means (regression adjustment on
the matched sample, doubly robust).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

Floats = npt.NDArray[np.float64]
Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Effect:
    """The ATT of one outcome."""

    n_treated: int
    n_comparison: int
    treated_mean: float
    comparison_mean: float
    """The weighted comparison mean: the estimated counterfactual mean of the treated."""
    att: float
    se: float
    ci_low: float
    ci_high: float
    p_value: float

    @property
    def relative(self) -> float:
        """The ATT relative to the counterfactual mean (0.4: 40 % more)."""
        return self.att / self.comparison_mean if self.comparison_mean else float("nan")


def clustered_variance(
    psi: Floats, cluster: Ints, n_params: int = 2, person: Ints | None = None
) -> float:
    """CR1 variance of a statistic whose influence values are ``psi``.

    ``psi`` sums over the rows of each cluster; the small-sample factors are those of
    ``sandwich::vcovCL`` (type HC1) for a regression with ``n_params`` coefficients. With
    ``person``, rows are clustered two ways (Cameron, Gelbach & Miller 2011): a comparison
    person who serves in several matched sets, at different months, brings nearly the same
    outcome into each, and clustering by matched set alone would count those as independent.
    The variance is the matched-set part plus the person part minus their intersection, with
    G/(G−1) of the smaller G in every part, as fixest and pyfixest compute it; if that is not
    positive, the larger of the two one-way variances.
    """
    n = len(psi)
    ways = [group_codes(cluster)] if person is None else [group_codes(cluster), group_codes(person)]
    g = min(int(way.max()) + 1 for way in ways)
    if g < 2 or n <= n_params:
        return float("nan")
    parts = [float(np.sum(np.bincount(way, weights=psi) ** 2)) for way in ways]
    total = parts[0]
    if person is not None:
        both = group_codes(np.stack(ways))
        total = parts[0] + parts[1] - float(np.sum(np.bincount(both, weights=psi) ** 2))
        if not total > 0:
            total = max(parts)
    return float(g / (g - 1) * (n - 1) / (n - n_params) * total)


def group_codes(groups: Ints) -> Ints:
    """Groups numbered 0, 1, …; a 2-D ``groups`` (one row per way) by the combination of rows."""
    if groups.ndim == 1:
        return pd.factorize(groups)[0].astype(np.int64)
    code = np.zeros(groups.shape[1], np.int64)
    for row in groups:
        part = pd.factorize(row)[0]
        code = code * (int(part.max()) + 1) + part
    return pd.factorize(code)[0].astype(np.int64)


def cluster_crossproduct(scores: Floats, groups: Ints) -> Floats:
    """``S'S`` for S the column sums of ``scores`` (rows × terms) per group (see group_codes)."""
    codes = group_codes(groups)
    summed = np.zeros((int(codes.max()) + 1, scores.shape[1]))
    np.add.at(summed, codes, scores)
    return summed.T @ summed


def _mean_difference(
    y: Floats, t: Bools, w: Floats, denominator: Floats | None
) -> tuple[float, float, float, Floats]:
    """Treated mean, comparison mean, difference and influence values of the difference.

    With ``denominator`` the "mean" of each group is the ratio Σw·y / Σw·denominator.
    """
    b = np.ones_like(y) if denominator is None else denominator
    psi = np.zeros_like(y)
    means = []
    for group, sign in ((t, 1.0), (~t, -1.0)):
        wb = np.sum(w[group] * b[group])
        mu = float(np.sum(w[group] * y[group]) / wb) if wb > 0 else float("nan")
        psi[group] = sign * w[group] * (y[group] - mu * b[group]) / wb
        means.append(mu)
    return means[0], means[1], means[0] - means[1], psi


def wls(y: Floats, D: Floats, w: Floats) -> tuple[Floats, Floats]:
    """Weighted least squares: coefficients and each row's influence on them (rows × terms).

    :func:`clustered_covariance` turns the influence values into the covariance matrix.
    """
    WD = D * w[:, None]
    bread = np.linalg.pinv(D.T @ WD)
    beta = bread @ (WD.T @ y)
    residual = y - D @ beta
    return beta, (WD * residual[:, None]) @ bread.T


def clustered_covariance(influence: Floats, cluster: Ints) -> Floats:
    """CR1 covariance matrix of coefficients from their influence values (rows × terms)."""
    g = len(np.unique(cluster))
    n, k = influence.shape
    return g / (g - 1) * (n - 1) / (n - k) * cluster_crossproduct(influence, cluster)


def _regression_adjusted(
    y: Floats, t: Bools, w: Floats, X: Floats
) -> tuple[float, float, float, Floats, int]:
    """ATT as the treatment coefficient of y ~ 1 + t + (X − treated means), weighted."""
    centred = X - np.average(X[t], axis=0, weights=w[t])
    keep = centred.std(axis=0) > 0
    D = np.column_stack([np.ones_like(y), t.astype(np.float64), centred[:, keep]])
    beta, influence = wls(y, D, w)
    psi = influence[:, 1]
    treated_mean = float(np.average(y[t], weights=w[t]))
    return treated_mean, treated_mean - float(beta[1]), float(beta[1]), psi, D.shape[1]


def att(
    y: Floats,
    treated: Bools,
    weights: Floats,
    cluster: Ints,
    *,
    person: Ints | None = None,
    denominator: Floats | None = None,
    adjust: Floats | None = None,
    level: float = 0.95,
    bootstrap: int = 0,
    seed: int = 0,
) -> Effect:
    """ATT of outcome ``y`` on the rows with positive weight and an observed outcome.

    ``cluster`` is the matched set of each row (or the person, for weighting); ``person``, when
    persons may serve in several matched sets, clusters the rows by person too; ``denominator``
    makes ``y`` the numerator of a ratio outcome; ``adjust`` is a covariate matrix for
    regression adjustment; ``bootstrap`` > 0 gives a percentile CI from that many cluster
    resamples instead of the normal approximation.
    """
    y = np.asarray(y, np.float64)
    rows = (np.asarray(weights) > 0) & ~np.isnan(y)
    if denominator is not None:
        rows &= ~np.isnan(denominator)
    t, w, yy, cl = np.asarray(treated, bool)[rows], weights[rows], y[rows], cluster[rows]
    who = person[rows] if person is not None else None
    den = denominator[rows] if denominator is not None else None
    n_t, n_c = int(t.sum()), int((~t).sum())
    if n_t == 0 or n_c == 0:
        nan = float("nan")
        return Effect(n_t, n_c, nan, nan, nan, nan, nan, nan, nan)
    if adjust is not None and den is None:
        m1, m0, est, psi, k = _regression_adjusted(yy, t, w, np.asarray(adjust)[rows])
    else:
        m1, m0, est, psi = _mean_difference(yy, t, w, den)
        k = 2
    se = float(np.sqrt(clustered_variance(psi, cl, k, who)))
    z = float(stats.norm.ppf(0.5 + level / 2))
    low, high = est - z * se, est + z * se
    if bootstrap:
        draws = _bootstrap(yy, t, w, cl, den, bootstrap, seed)
        low, high = (float(q) for q in np.nanquantile(draws, [0.5 - level / 2, 0.5 + level / 2]))
        se = float(np.nanstd(draws, ddof=1))
    p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
    return Effect(n_t, n_c, m1, m0, est, se, low, high, p)


def _bootstrap(
    y: Floats, t: Bools, w: Floats, cluster: Ints, den: Floats | None, draws: int, seed: int
) -> Floats:
    """ATTs of cluster resamples (whole matched sets drawn with replacement)."""
    rng = np.random.default_rng(seed)
    _, groups = np.unique(cluster, return_inverse=True)
    g = int(groups.max()) + 1
    out = np.empty(draws)
    for b in range(draws):
        times = np.bincount(rng.integers(0, g, g), minlength=g)
        w_b = w * times[groups]
        sel = w_b > 0
        if not (t[sel].any() and (~t[sel]).any()):
            out[b] = np.nan
            continue
        out[b] = _mean_difference(y[sel], t[sel], w_b[sel], None if den is None else den[sel])[2]
    return out
