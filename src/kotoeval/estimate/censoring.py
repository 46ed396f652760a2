"""Comparisons who enter the programme later: censoring and inverse probability weights.

With rolling entry the comparison pool at a month holds people who have not entered *yet*:
excluding everyone who ever enters would select comparisons who escaped unemployment (a bias
that grows with the follow-up). Keeping them without more measures "entering now against
perhaps later". To estimate "entering now against never" (what the programme changed), a
comparison is censored at the month they enter, and those who remain are weighted by the
inverse of the probability of not having entered by then (Hernán & Robins' emulation of a
target trial). The monthly entry hazard comes from a discrete-time hazard model of entry: the
propensity score (a logistic regression on every eligible person-month) with an intercept for
each calendar month, since how many enter in a month depends on the month (capacity, the size
of the pool), not only on who is eligible.
"""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pandas as pd

Floats = npt.NDArray[np.float64]


def entry_hazard(
    logit: Floats, entered: npt.NDArray[np.bool_], month: npt.NDArray[np.int64]
) -> Floats:
    """Probability of entering in each row's month: the score's logit shifted per month.

    The model is logit h = score logit + δ(month), fitted by maximum likelihood with the
    score as an offset: δ(month) makes the expected entries of the month equal the observed
    ones (its score equation), found by bisection. A month without entries has hazard 0.
    """
    hazard = np.zeros(len(logit))
    for m in np.unique(month):
        rows = month == m
        observed = float(entered[rows].sum())
        if observed == 0:
            continue
        s = logit[rows]
        lo, hi = -40.0, 40.0
        for _ in range(60):  # bisection to well below a thousandth of an entry
            mid = (lo + hi) / 2
            expected = float(np.sum(1 / (1 + np.exp(-(s + mid)))))
            lo, hi = (mid, hi) if expected < observed else (lo, mid)
        hazard[rows] = 1 / (1 + np.exp(-(s + (lo + hi) / 2)))
    return hazard


def remaining_probability(rows: pd.DataFrame, hazards: pd.DataFrame, horizon: int) -> Floats:
    """Probability that each comparison row's person has not entered by each later month.

    ``rows``: ``pid`` and ``m`` of the matched comparison rows; ``hazards``: ``pid``, ``m`` and
    ``score`` of every eligible person-month (the entry hazard). Returns an array
    (rows × horizon + 1) whose column k is the probability of not entering in months
    m + 1 … m + k (column 0 is 1).
    """
    n = len(rows)
    keyed = rows[["pid", "m"]].reset_index(drop=True).assign(row=np.arange(n))
    later = keyed.merge(hazards[["pid", "m", "score"]], on="pid", suffixes=("", "_at"))
    rel = (later["m_at"] - later["m"]).to_numpy()
    keep = (rel >= 1) & (rel <= horizon)
    log_stay = np.zeros((n, horizon + 1))
    np.add.at(
        log_stay,
        (later["row"].to_numpy()[keep], rel[keep]),
        np.log1p(-np.clip(later["score"].to_numpy()[keep], 0.0, 1 - 1e-9)),
    )
    return np.exp(np.cumsum(log_stay, axis=1))


def censoring_weights(remaining: Floats, later_entry: Floats, window_end: int) -> Floats:
    """Weight of each comparison row for an outcome whose window ends at ``window_end``.

    The weight is 0 if the person entered by then (censored), else 1 / P(not entered).
    ``later_entry`` is the relative month in which the person entered (NaN: never).
    """
    entered = ~np.isnan(later_entry) & (later_entry <= window_end)
    k = min(max(window_end, 0), remaining.shape[1] - 1)
    return np.where(entered, 0.0, 1.0 / remaining[:, k])
