"""Income as a sum of factors.

A weighted regression of annual earnings on the factors that shape it — vocational education
completed or dropped, the programme, Finnish level, years in Finland, age, sex, education and
world region of birth — on the compared clients and comparisons. Its coefficients are shown as
the expected income of a reference person (an unemployed newcomer without a registered degree
or a language test) built up factor by factor, and give the graduation and dropout premia.
The share of the programme's earnings effect that runs through completing vocational education
is the programme's effect on completion times the graduation premium, over its earnings effect.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

from kotoeval.estimate.effects import clustered_covariance, wls

Floats = npt.NDArray[np.float64]

#: The reference person's values; categorical factors take their most common level.
REFERENCE = {"age": 35.0, "female": 0.0, "years_in_finland": 3.0}
#: Steps of the build-up: id (named in the translation catalogue), and the factor values that
#: change from the reference person (35 years old, male, three years in Finland).
STEPS: tuple[tuple[str, dict[str, float]], ...] = (
    ("completed", {"completed": 1.0}),  # completed vocational education
    (
        "language_b1",
        {"language_level": 6.0, "language_missing": 0.0},
    ),  # Finnish at B1, not untested
    ("five_more_years", {"years_in_finland": 8.0}),  # five more years in Finland
    ("client", {"client": 1.0}),  # took part in the programme
)


@dataclass(frozen=True)
class Decomposition:
    """Coefficients, the factor-by-factor build-up and the education premia."""

    coefficients: pd.DataFrame
    build_up: pd.DataFrame
    premia: pd.DataFrame


def _design(factors: pd.DataFrame) -> tuple[pd.DataFrame, dict[str, float]]:
    """Numeric terms and the reference person's value of each."""
    terms = pd.DataFrame(index=factors.index)
    reference: dict[str, float] = {}
    for name in ("completed", "dropped", "client", "age", "female", "years_in_finland"):
        terms[name] = factors[name].astype(np.float64)
        reference[name] = REFERENCE.get(name, 0.0)
    level = factors["language_level"].astype(np.float64)
    terms["language_missing"] = level.isna().astype(np.float64)
    terms["language_level"] = level.fillna(0.0)
    reference.update(language_missing=1.0, language_level=0.0)
    for name in ("education_level", "world_region"):
        labels = factors[name].astype(str)
        base = "none" if name == "education_level" else labels.value_counts().index[0]
        for value in sorted(set(labels) - {base}):
            terms[f"{name}={value}"] = (labels == value).astype(np.float64)
            reference[f"{name}={value}"] = 0.0
    terms = terms.loc[:, terms.std() > 0]
    return terms, {k: v for k, v in reference.items() if k in terms.columns}


def income_factors(
    earnings: Floats,
    factors: pd.DataFrame,
    weights: Floats,
    cluster: npt.NDArray[np.int64],
    level: float = 0.95,
    persons: npt.NDArray[Any] | None = None,
) -> Decomposition:
    """Decompose ``earnings`` over ``factors``.

    ``factors`` has the columns completed, dropped, client, age, female, years_in_finland,
    language_level, education_level and world_region. ``persons`` identifies the person of
    each row (rows otherwise): each coefficient says how many persons it rests on (with a
    non-zero value of its term) and the fit's residual degrees of freedom, for output checking.
    """
    keep = ~np.isnan(earnings) & (weights > 0)
    terms, reference = _design(factors.loc[keep].reset_index(drop=True))
    D = np.column_stack([np.ones(int(keep.sum())), terms.to_numpy()])
    names = ["intercept", *terms.columns]
    beta, influence = wls(earnings[keep], D, weights[keep])
    vcov = clustered_covariance(influence, cluster[keep])
    z = float(stats.norm.ppf(0.5 + level / 2))
    se = np.sqrt(np.diag(vcov))
    who = np.arange(len(earnings)) if persons is None else np.asarray(persons)
    who = who[keep]
    coefficients = pd.DataFrame(
        {"term": names, "estimate": beta, "se": se, "ci_low": beta - z * se,
         "ci_high": beta + z * se,
         "persons": [np.unique(who[D[:, j] != 0]).size for j in range(D.shape[1])],
         "residual_df": D.shape[0] - D.shape[1]},
    )  # fmt: skip

    position = {n: i for i, n in enumerate(names)}
    current = np.zeros(len(names))
    current[0] = 1.0
    for name, value in reference.items():
        current[position[name]] = value
    rows = [("reference", float(current @ beta), float("nan"), float(current @ beta),
             "|".join(n for n, v in zip(names, current, strict=True) if v))]  # fmt: skip
    for label, change in STEPS:
        after = current.copy()
        for name, value in change.items():
            if name in position:
                after[position[name]] = value
        delta = after - current
        terms = "|".join(n for n, d in zip(names, delta, strict=True) if d)
        rows.append((label, float(delta @ beta), float(np.sqrt(delta @ vcov @ delta)),
                     float(after @ beta), terms))  # fmt: skip
        current = after
    build_up = pd.DataFrame(rows, columns=["step", "change", "se", "expected_earnings", "terms"])
    premia = coefficients[coefficients["term"].isin(["completed", "dropped"])].replace(
        {"term": {"completed": "graduation", "dropped": "dropout"}}
    )
    return Decomposition(coefficients, build_up, premia.reset_index(drop=True))


def mediated_share(effect_on_completion: float, premium: float, effect_on_earnings: float) -> float:
    """Share of the earnings effect that runs through completing vocational education."""
    if effect_on_earnings == 0 or np.isnan(effect_on_earnings):
        return float("nan")
    return effect_on_completion * premium / effect_on_earnings
