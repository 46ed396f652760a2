"""Weighting for the ATT: inverse probability weights, coarsened exact matching, entropy balancing.

Each returns weights over the rows (treated 1, comparisons ≥ 0); rows with weight 0 are out.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import optimize

from kotoeval.errors import SpecError

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


def ipw_att(score: Floats, treated: Bools) -> Floats:
    """Odds weights: treated 1, comparisons e/(1−e), so comparisons resemble the treated."""
    t = np.asarray(treated, bool)
    return np.where(t, 1.0, score / (1.0 - score))


def cem(X: pd.DataFrame, treated: Bools, bins: int = 5) -> Floats:
    """Coarsened exact matching (Iacus, King & Porro): exact strata of coarsened covariates.

    Numeric columns with more than ``bins`` distinct values are cut into ``bins`` quantile
    bins; others are used as they are. Strata without both groups are dropped; comparisons are
    weighted (n_t,s / n_c,s) · (N_c / N_t) over the kept strata, as in MatchIt.
    """
    if bins < 2:
        raise SpecError(f"CEM needs at least 2 bins, not {bins}")
    t = np.asarray(treated, bool)
    keys = []
    for name in X.columns:
        x = X[name].to_numpy(np.float64)
        if len(np.unique(x)) > bins:
            edges = np.unique(np.quantile(x, np.linspace(0, 1, bins + 1)[1:-1]))
            x = np.searchsorted(edges, x, side="right").astype(np.float64)
        keys.append(x)
    _, stratum = np.unique(np.column_stack(keys), axis=0, return_inverse=True)
    stratum = stratum.ravel()
    n_t = np.bincount(stratum, weights=t.astype(float))
    n_c = np.bincount(stratum, weights=(~t).astype(float))
    both = (n_t > 0) & (n_c > 0)
    kept = both[stratum]
    total_t, total_c = t[kept].sum(), (~t)[kept].sum()
    w = np.zeros(len(t))
    w[kept & t] = 1.0
    ratio = np.divide(n_t, n_c, out=np.zeros_like(n_t), where=n_c > 0)
    sel = kept & ~t
    w[sel] = ratio[stratum[sel]] * total_c / total_t
    return w


def entropy_balance(X: pd.DataFrame, treated: Bools, tolerance: float = 1e-6) -> Floats:
    """Entropy balancing (Hainmueller 2012).

    The comparison weights closest to uniform whose means of every column equal the treated
    means exactly. Solved through its convex dual; fails clearly when the treated means lie
    outside what the comparisons can reach.
    """
    t = np.asarray(treated, bool)
    Z = X.to_numpy(np.float64)
    sd = Z[~t].std(axis=0)
    keep = sd > 0
    Z = (Z[:, keep] - Z[t][:, keep].mean(axis=0)) / sd[keep]
    C = Z[~t]

    def dual(lam: Floats) -> tuple[float, Floats]:
        a = C @ lam
        shift = a.max()
        e = np.exp(a - shift)
        total = e.sum()
        return float(np.log(total) + shift), (C.T @ e) / total

    fit = optimize.minimize(dual, np.zeros(C.shape[1]), jac=True, method="BFGS",
                            options={"gtol": tolerance, "maxiter": 1000})  # fmt: skip
    a = C @ fit.x
    e = np.exp(a - a.max())
    q = e / e.sum()
    if np.abs(C.T @ q).max() > 1e-3:
        raise SpecError(
            "entropy balancing did not converge: the treated means of some covariates lie "
            "outside what the comparison group can reach; drop or coarsen those covariates"
        )
    w = np.ones(len(t))
    w[~t] = q * (~t).sum()
    return w
