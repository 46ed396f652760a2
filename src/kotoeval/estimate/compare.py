"""Compare treated and comparison units on any table.

This is what R users get from ``matchit()`` and ``avg_comparisons()``:

>>> result = compare(table, "treated", ["age", "sex", "earnings_12m"], ["earnings_y2"])
>>> result.effects[["outcome", "att", "ci_low", "ci_high"]]

:func:`adjust` does the design part (propensity score, common support, matching or weighting,
balance) without looking at outcomes, as a study should; :func:`effects` then estimates the
ATT of each outcome on the adjusted sample. :func:`compare` is both in one call.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any, Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
import pyarrow as pa

from kotoeval.errors import SpecError
from kotoeval.estimate.balance import Balance, balance, treated_sd
from kotoeval.estimate.effects import Effect, att
from kotoeval.estimate.matching import Order, match_weights, nearest
from kotoeval.estimate.propensity import (
    Model,
    common_support,
    design,
    pool_rare_levels,
    propensity,
)
from kotoeval.estimate.weighting import cem, entropy_balance, ipw_att

Method = Literal["nearest", "ipw", "cem", "entropy"]
METHODS: Final = ("nearest", "ipw", "cem", "entropy")
Floats = npt.NDArray[np.float64]


@dataclass(frozen=True)
class Options:
    """How to adjust and estimate.

    Defaults are MatchIt's nearest-neighbour defaults, on the logit of the score with a 0.2 SD
    caliper (Austin 2011).
    """

    method: Method = "nearest"
    model: Model = "logit"
    splines: int = 0
    """Knots of the restricted cubic splines of numeric covariates in the logit (0: linear)."""
    rare_levels: int = 0
    """Pool the levels of categorical covariates held by fewer treated than this into one
    level, ``(other)``, in the score and the balance (0: keep every level)."""
    ratio: int = 1
    caliper: float | None = 0.2
    replace: bool = False
    order: Order = "largest"
    exact: tuple[str, ...] = ()
    trim: bool = True
    """Drop rows outside the common support of the score before adjusting."""
    leave_person_out: bool = False
    """Score each person's rows (each row, without ``person``) by the model fitted without
    them; off: in-sample, as MatchIt. With rolling entry a client's earlier months are
    comparison rows, and an in-sample score has seen the client enter."""
    once_per_person: bool = False
    """Without replacement, use a comparison person at most once over all their rows. Off by
    default: with rolling entry, limiting persons favours those eligible only briefly, who
    left unemployment soon after, and biases the comparison; each person-month is a unit."""
    adjust: bool = False
    """Regression adjustment of the effects on the covariates (doubly robust)."""
    bootstrap: int = 0
    level: float = 0.95
    seed: int = 0


@dataclass(frozen=True)
class Adjusted:
    """The design: who is compared with whom, with which weight, and how well it balances."""

    table: pd.DataFrame
    """The input rows with ``score``, ``weight`` (0: not used) and ``subclass`` (matched set;
    −1 where none) and ``cluster`` (the unit of the standard errors); with a ``person`` column,
    ``person_code`` too (persons numbered 0, 1, …: the second unit of the standard errors)."""
    treated: npt.NDArray[np.bool_]
    X: pd.DataFrame
    balance_before: Balance
    balance_after: Balance
    flow: dict[str, int]
    options: Options
    caliper: float = float("nan")
    pooled: Mapping[str, int] = field(default_factory=dict)
    """Levels pooled into ``(other)`` per categorical covariate (``Options.rare_levels``)."""

    @property
    def status(self) -> str:
        """``balanced`` when every covariate is balanced after adjustment, else ``imbalanced``."""
        return "balanced" if self.balance_after.ok else "imbalanced"

    @property
    def used(self) -> npt.NDArray[np.bool_]:
        """Rows in the adjusted sample (positive weight)."""
        return self.table["weight"].to_numpy() > 0


def _frame(table: pd.DataFrame | pa.Table) -> pd.DataFrame:
    if isinstance(table, pa.Table):
        return table.to_pandas()
    return table.reset_index(drop=True)


def adjust(
    table: pd.DataFrame | pa.Table,
    treatment: str,
    covariates: Sequence[str],
    options: Options = Options(),  # noqa: B008 - frozen, so a shared default is safe
    person: str | None = None,
) -> Adjusted:
    """Propensity score, common support, matching or weighting, and balance.

    ``person`` names a column identifying persons when a person may appear in several rows
    (rolling entry: one row per eligible month). It counts persons in the flow, is the unit of
    the standard errors of weighting designs (and a second one, beside the matched set, of
    matching designs), and with ``once_per_person`` limits a person to one match.
    """
    if options.method not in METHODS:
        raise SpecError(f"method must be one of {', '.join(METHODS)}, not {options.method!r}")
    df = _frame(table)
    if treatment not in df.columns:
        raise SpecError(f"treatment column {treatment!r} is not in the table")
    t = df[treatment].astype(bool).to_numpy()
    lumped, pooled = pool_rare_levels(df, list(covariates), t, options.rare_levels)
    X = design(lumped, list(covariates))
    people = (
        pd.factorize(df[person])[0].astype(np.int64)
        if person
        else np.arange(len(df), dtype=np.int64)
    )
    ps = propensity(
        X, t, options.model, options.splines,
        leave_out=people if options.leave_person_out else None, seed=options.seed,
    )  # fmt: skip
    flow = {"treated": int(t.sum()), "comparison_rows": int((~t).sum())}
    inside = common_support(ps.score, t) if options.trim else np.ones(len(t), bool)
    flow["treated_outside_support"] = int((t & ~inside).sum())
    flow["comparison_rows_outside_support"] = int((~t & ~inside).sum())
    strata = _strata(df, options.exact)

    weights = np.zeros(len(df))
    subclass = np.full(len(df), -1, np.int64)
    cluster = people.copy()
    caliper = float("nan")
    rows = np.flatnonzero(inside)
    if options.method == "nearest":
        m = nearest(
            ps.logit[rows], t[rows], ratio=options.ratio, caliper_sd=options.caliper,
            replace=options.replace, order=options.order, strata=strata[rows],
            person=people[rows] if options.once_per_person else None, seed=options.seed,
        )  # fmt: skip
        weights[rows] = match_weights(m, len(rows))
        caliper = m.caliper
        if not options.replace:
            subclass[rows[m.treated]] = rows[m.treated]
            subclass[rows[m.control]] = rows[m.subclass]
            cluster = np.where(subclass >= 0, subclass, cluster + len(df))
        flow["treated_unmatched"] = len(m.unmatched_treated)
    else:
        sub = X.iloc[rows]
        if options.method == "ipw":
            w = ipw_att(ps.score[rows], t[rows])
        elif options.method == "cem":
            w = cem(sub, t[rows])
        else:
            w = entropy_balance(sub, t[rows])
        weights[rows] = w
        flow["treated_unmatched"] = int((t[rows] & (w == 0)).sum())
    flow["treated_compared"] = int((t & (weights > 0)).sum())
    flow["comparison_rows_used"] = int((~t & (weights > 0)).sum())
    if person:
        flow["comparison_persons_used"] = int(len(np.unique(people[~t & (weights > 0)])))

    out = df.assign(score=ps.score, weight=weights, subclass=subclass, cluster=cluster)
    if person:
        out["person_code"] = people
    scale = treated_sd(X, t)
    # Before: the compared clients against every candidate row. Keeping the same clients on
    # both sides means the two balance tables cannot be differenced into the dropped few.
    before = balance(X, t, before_weights(t, weights), scale)
    after = balance(X, t, weights, scale)
    return Adjusted(out, t, X, before, after, flow, options, caliper, pooled)


def before_weights(treated: npt.NDArray[np.bool_], weights: Floats) -> Floats:
    """Weights of the balance before adjustment: compared clients and all comparison rows."""
    return np.where(treated, (weights > 0).astype(np.float64), 1.0)


def _strata(df: pd.DataFrame, exact: Sequence[str]) -> npt.NDArray[np.int64]:
    if not exact:
        return np.zeros(len(df), np.int64)
    missing = [c for c in exact if c not in df.columns]
    if missing:
        raise SpecError(f"exact-matching columns not in the table: {', '.join(missing)}")
    codes = pd.MultiIndex.from_frame(df[list(exact)].astype("string").fillna("")).codes
    key = np.zeros(len(df), np.int64)
    for c in codes:
        key = key * (int(c.max()) + 2) + (np.asarray(c) + 1)
    return pd.factorize(key)[0].astype(np.int64)


EFFECT_COLUMNS: Final = (
    "outcome", "n_treated", "n_comparison", "treated_mean", "comparison_mean", "att", "se",
    "ci_low", "ci_high", "p_value", "relative",
)  # fmt: skip


def effect_row(name: str, e: Effect) -> dict[str, Any]:
    """One row of an effects table."""
    return {"outcome": name, **{k: getattr(e, k) for k in EFFECT_COLUMNS[1:]}}


def effects(
    adjusted: Adjusted,
    outcomes: Mapping[str, Floats],
    ratios: Mapping[str, tuple[str, str]] | None = None,
    rows: npt.NDArray[np.bool_] | None = None,
    comparison_weights: Mapping[str, Floats] | None = None,
) -> pd.DataFrame:
    """ATT of every outcome (arrays aligned with ``adjusted.table``).

    ``ratios`` adds ratio outcomes as (numerator, denominator) names; ``rows`` restricts to a
    subset (a subgroup); ``comparison_weights`` multiplies the comparison rows' weights per
    outcome (censoring weights; a ratio outcome takes its numerator's).
    """
    o = adjusted.options
    w = adjusted.table["weight"].to_numpy(np.float64)
    if rows is not None:
        w = np.where(rows, w, 0.0)
    cluster = adjusted.table["cluster"].to_numpy(np.int64)
    person = (
        adjusted.table["person_code"].to_numpy(np.int64)
        if "person_code" in adjusted.table
        else None
    )
    X = adjusted.X.to_numpy(np.float64) if o.adjust else None

    def weights_for(name: str) -> Floats:
        if comparison_weights is None or name not in comparison_weights:
            return w
        return np.where(adjusted.treated, w, w * comparison_weights[name])

    out = []
    for name, y in outcomes.items():
        e = att(np.asarray(y, np.float64), adjusted.treated, weights_for(name), cluster,
                person=person, adjust=X, level=o.level, bootstrap=o.bootstrap,
                seed=o.seed)  # fmt: skip
        out.append(effect_row(name, e))
    for name, (num, den) in (ratios or {}).items():
        e = att(np.asarray(outcomes[num], np.float64), adjusted.treated, weights_for(num),
                cluster, person=person, denominator=np.asarray(outcomes[den], np.float64),
                level=o.level, bootstrap=o.bootstrap, seed=o.seed)  # fmt: skip
        out.append(effect_row(name, e))
    return pd.DataFrame(out, columns=list(EFFECT_COLUMNS))


@dataclass(frozen=True)
class Comparison:
    """Design and effects together."""

    adjusted: Adjusted
    effects: pd.DataFrame

    @property
    def status(self) -> str:
        """``balanced`` or ``imbalanced``.

        Effects of an imbalanced design are not to be read as effects of the treatment.
        """
        return self.adjusted.status


def compare(
    table: pd.DataFrame | pa.Table,
    treatment: str,
    covariates: Sequence[str],
    outcomes: Sequence[str],
    options: Options = Options(),  # noqa: B008 - frozen, so a shared default is safe
    *,
    ratios: Mapping[str, tuple[str, str]] | None = None,
    person: str | None = None,
) -> Comparison:
    """Match or weight on ``covariates``, check balance, and estimate the ATT of ``outcomes``."""
    adjusted = adjust(table, treatment, covariates, options, person)
    missing = [o for o in outcomes if o not in adjusted.table.columns]
    if missing:
        raise SpecError(f"outcomes not in the table: {', '.join(missing)}")
    values = {o: adjusted.table[o].to_numpy(np.float64) for o in outcomes}
    return Comparison(adjusted, effects(adjusted, values, ratios))
