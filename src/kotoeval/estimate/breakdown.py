"""Effects broken down: month by month (trajectories) and by subgroup."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from kotoeval.estimate.compare import Adjusted, effects
from kotoeval.outcomes.subgroups import AGE_BANDS, EDUCATION_BANDS, LANGUAGE_BANDS, band

Floats = npt.NDArray[np.float64]
TRAJECTORY_VARIABLES = (
    "earnings", "employed", "unemployment_benefit_eur", "in_programme", "in_education",
)  # fmt: skip


def trajectories(
    adjusted: Adjusted,
    panel: Mapping[str, Floats],
    months: npt.NDArray[np.int64],
    weights_until: Callable[[int], Floats | None],
) -> pd.DataFrame:
    """Monthly means of clients and comparisons and the effect with its CI, per variable.

    ``weights_until(k)`` gives the comparison rows' censoring weights for month k (or None).
    """
    frames = []
    for var in TRAJECTORY_VARIABLES:
        if var not in panel:
            continue
        for j, month in enumerate(months):
            cw = weights_until(int(month))
            table = effects(
                adjusted, {var: panel[var][:, j]},
                comparison_weights=None if cw is None else {var: cw},
            )  # fmt: skip
            frames.append(table.assign(variable=var, month=int(month)))
    out = pd.concat(frames, ignore_index=True).drop(columns="outcome")
    return out[["variable", "month", *[c for c in out.columns if c not in ("variable", "month")]]]


def subgroup_labels(table: pd.DataFrame) -> dict[str, npt.NDArray[np.object_]]:
    """Subgroup labels of each row from its covariates at the index month."""
    labels: dict[str, npt.NDArray[np.object_]] = {}
    if "age" in table:
        labels["age_band"] = band(table["age"].to_numpy(np.int64), AGE_BANDS)
    if "female" in table:
        labels["sex"] = np.where(table["female"].to_numpy() == 1, "female", "male").astype(object)
    for name in ("world_region", "permit_ground"):
        if name in table:
            labels[name] = table[name].astype(str).to_numpy(object)
    if "language_level" in table:
        rank = table["language_level"].fillna(-1).to_numpy(np.int64)
        labels["language_level"] = band(rank, LANGUAGE_BANDS)
    if "education_level" in table:
        level = pd.to_numeric(table["education_level"], errors="coerce").fillna(-1)
        labels["education_level"] = band(level.to_numpy(np.int64), EDUCATION_BANDS)
    return labels


def subgroup_rows(
    adjusted: Adjusted, variables: list[str]
) -> Iterator[tuple[str, str, npt.NDArray[np.bool_]]]:
    """(variable, level, rows) of every subgroup level with clients.

    A comparison row belongs to the level of the client it was matched to (its matched set);
    with weighting it keeps its own.
    """
    table = adjusted.table
    labels = subgroup_labels(table)
    subclass = table["subclass"].to_numpy(np.int64)
    for var in variables:
        if var not in labels:
            continue
        own = labels[var]
        label = np.where(subclass >= 0, own[np.maximum(subclass, 0)], own)
        for level in sorted(set(own[adjusted.treated & adjusted.used])):
            yield var, str(level), label == level


def subgroups(
    adjusted: Adjusted,
    outcomes: Mapping[str, Floats],
    ratios: Mapping[str, tuple[str, str]],
    variables: list[str],
    comparison_weights: Mapping[str, Floats] | None,
    min_treated: int,
) -> pd.DataFrame:
    """Effects within each subgroup level, a test of heterogeneity and Holm-adjusted p-values.

    Levels as :func:`subgroup_rows` forms them; a level is *underpowered* with fewer than
    ``min_treated`` clients.
    """
    frames = []
    for var, level, rows in subgroup_rows(adjusted, variables):
        res = effects(adjusted, outcomes, ratios, rows=rows, comparison_weights=comparison_weights)
        frames.append(res.assign(variable=var, level=level))
    out = pd.concat(frames, ignore_index=True)
    out["underpowered"] = out["n_treated"] < min_treated
    out["heterogeneity_p"] = np.nan
    out["p_holm"] = np.nan
    for (_var, _outcome), idx in out.groupby(["variable", "outcome"]).groups.items():
        part = out.loc[idx]
        ok = part["se"] > 0
        if ok.sum() >= 2:
            w = 1 / part.loc[ok, "se"] ** 2
            mean = np.sum(w * part.loc[ok, "att"]) / w.sum()
            q = float(np.sum(w * (part.loc[ok, "att"] - mean) ** 2))
            out.loc[idx, "heterogeneity_p"] = float(stats.chi2.sf(q, ok.sum() - 1))
        out.loc[idx, "p_holm"] = _holm(part["p_value"].to_numpy())
    first = ["variable", "level", "outcome"]
    return out[[*first, *[c for c in out.columns if c not in first]]]


def _holm(p: Floats) -> Floats:
    """Holm's step-down adjustment (NaN stays NaN)."""
    out = np.full(len(p), np.nan)
    ok = ~np.isnan(p)
    q = p[ok]
    order = np.argsort(q)
    m = len(q)
    adjusted = np.maximum.accumulate((m - np.arange(m)) * q[order])
    back = np.empty(m)
    back[order] = np.minimum(adjusted, 1.0)
    out[ok] = back
    return out
