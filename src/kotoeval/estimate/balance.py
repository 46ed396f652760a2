"""Covariate balance between treated and (weighted) comparison units.

Statistics follow MatchIt's ``summary()`` and cobalt for the ATT:

- standardised mean difference: (treated mean − comparison mean) / standard deviation of the
  treated *before* matching, so that before and after are on one scale;
- variance ratio: treated variance / comparison variance (continuous covariates only);
- eCDF mean and maximum: the mean and largest absolute difference of the two empirical
  distribution functions over the pooled values.

A covariate is balanced when |SMD| < 0.1 and, for continuous covariates, the variance ratio lies
within 0.5–2 (Rubin 2001; Stuart 2010).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final

import numpy as np
import numpy.typing as npt
import pandas as pd

Floats = npt.NDArray[np.float64]
SMD_LIMIT: Final = 0.1
VARIANCE_RATIO_LIMITS: Final = (0.5, 2.0)


def weighted_mean(x: Floats, w: Floats) -> float:
    """Mean of ``x`` with weights ``w``."""
    return float(np.sum(w * x) / np.sum(w))


def weighted_var(x: Floats, w: Floats) -> float:
    """Weighted variance with the unbiased frequency correction MatchIt and cobalt use.

    With weights all 1 it is the ordinary sample variance (denominator n − 1).
    """
    sw = np.sum(w)
    mean = np.sum(w * x) / sw
    denom = sw - np.sum(w**2) / sw
    return float(np.sum(w * (x - mean) ** 2) / denom) if denom > 0 else float("nan")


def ecdf_stats(x: Floats, t: npt.NDArray[np.bool_], w: Floats) -> tuple[float, float]:
    """Mean and maximum absolute difference of the weighted eCDFs of treated and comparison."""
    values = np.unique(x)
    if len(values) < 2:
        return 0.0, 0.0
    cdf = []
    for group in (t, ~t):
        xs, ws = x[group], w[group]
        order = np.argsort(xs, kind="stable")
        cum = np.concatenate([[0.0], np.cumsum(ws[order]) / ws.sum()])
        cdf.append(cum[np.searchsorted(xs[order], values, side="right")])
    diff = np.abs(cdf[0] - cdf[1])
    return float(diff.mean()), float(diff.max())


@dataclass(frozen=True)
class Balance:
    """Balance of every covariate (one row each), before or after adjustment."""

    table: pd.DataFrame
    """Columns: covariate, binary, treated_mean, comparison_mean, smd, variance_ratio,
    ecdf_mean, ecdf_max, balanced."""

    @property
    def ok(self) -> bool:
        """Every covariate balanced."""
        return bool(self.table["balanced"].all())


def balance(
    X: pd.DataFrame,
    treated: npt.NDArray[np.bool_],
    weights: Floats,
    scale: pd.Series | None = None,
) -> Balance:
    """Balance of the columns of ``X`` (numeric, one per covariate term).

    ``weights`` are the matching or weighting weights (rows with weight 0 are left out);
    ``scale`` is the treated standard deviation of each column before adjustment (computed
    here when not given, which is right for the unadjusted sample).
    """
    treated = np.asarray(treated, bool)
    weights = np.asarray(weights, np.float64)
    inside = weights > 0
    scale = treated_sd(X, treated) if scale is None else scale
    rows = []
    for name in X.columns:
        x = X[name].to_numpy(np.float64)
        binary = bool(np.isin(x, (0.0, 1.0)).all())
        t, c = treated & inside, ~treated & inside
        mt, mc = weighted_mean(x[t], weights[t]), weighted_mean(x[c], weights[c])
        sd = float(scale[name])
        smd = (mt - mc) / sd if sd > 0 else (0.0 if mt == mc else float("inf"))
        ratio = float("nan")
        if not binary:
            vc = weighted_var(x[c], weights[c])
            ratio = weighted_var(x[t], weights[t]) / vc if vc > 0 else float("inf")
        e_mean, e_max = ecdf_stats(x[inside], treated[inside], weights[inside])
        ok = abs(smd) < SMD_LIMIT and (
            binary or VARIANCE_RATIO_LIMITS[0] <= ratio <= VARIANCE_RATIO_LIMITS[1]
        )
        rows.append((name, binary, mt, mc, smd, ratio, e_mean, e_max, ok))
    columns = [
        "covariate", "binary", "treated_mean", "comparison_mean", "smd", "variance_ratio",
        "ecdf_mean", "ecdf_max", "balanced",
    ]  # fmt: skip
    return Balance(pd.DataFrame(rows, columns=columns))


def treated_sd(X: pd.DataFrame, treated: npt.NDArray[np.bool_]) -> pd.Series:
    """Standard deviation of each column among the treated: the SMD's denominator.

    Where the treated do not vary (say, no client lacks a permit), the SD of the whole sample
    is used instead, so the difference still has a finite scale.
    """
    sd = X[np.asarray(treated, bool)].std(ddof=1)
    return sd.where(sd > 0, X.std(ddof=1))
