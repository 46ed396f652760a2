"""Design matrices and propensity scores.

A covariate is numeric (used as it is) or categorical (one indicator per level but the most
common). A missing numeric value becomes 0 with a ``<name>_missing`` indicator, so that "no
language test" or "no degree" is information rather than a dropped row.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

import numpy as np
import numpy.typing as npt
import pandas as pd
from sklearn.ensemble import HistGradientBoostingClassifier
from sklearn.linear_model import LogisticRegression

from kotoeval.errors import SpecError

Model = Literal["logit", "gbm"]
MODELS: Final = ("logit", "gbm")
Floats = npt.NDArray[np.float64]


def design(table: pd.DataFrame, covariates: list[str]) -> pd.DataFrame:
    """Numeric design matrix of ``covariates`` (no intercept), one column per term."""
    missing = [c for c in covariates if c not in table.columns]
    if missing:
        raise SpecError(f"covariates not in the table: {', '.join(missing)}")
    parts: dict[str, pd.Series] = {}
    for name in covariates:
        col = table[name]
        if pd.api.types.is_bool_dtype(col):
            parts[name] = col.astype(np.float64)
        elif pd.api.types.is_numeric_dtype(col):
            values = col.astype(np.float64)
            if values.isna().any():
                parts[f"{name}_missing"] = values.isna().astype(np.float64)
                values = values.fillna(0.0)
            parts[name] = values
        else:
            labels = col.astype("string").fillna("(missing)")
            levels = labels.value_counts().index.tolist()
            for level in sorted(levels[1:]):
                parts[f"{name}={level}"] = (labels == level).astype(np.float64)
    X = pd.DataFrame(parts, index=table.index)
    constant = [c for c in X.columns if X[c].nunique() < 2]
    return X.drop(columns=constant)


@dataclass(frozen=True)
class Propensity:
    """Fitted propensity scores and their logit (the matching distance)."""

    score: Floats
    logit: Floats
    model: Model


def propensity(
    X: pd.DataFrame, treated: npt.NDArray[np.bool_], model: Model = "logit"
) -> Propensity:
    """Probability of treatment given the covariates.

    ``logit`` is an unpenalised logistic regression (the maximum-likelihood fit R's ``glm``
    gives); ``gbm`` is histogram gradient boosting, for selection that is far from linear.
    """
    t = np.asarray(treated, bool)
    if t.all() or not t.any():
        raise SpecError("the propensity model needs both treated and comparison rows")
    if model == "logit":
        z = X.to_numpy(np.float64)
        mean, sd = z.mean(axis=0), z.std(axis=0)
        sd[sd == 0] = 1.0
        fit = LogisticRegression(C=np.inf, max_iter=5000, tol=1e-7)
        fit.fit((z - mean) / sd, t)
        score = fit.predict_proba((z - mean) / sd)[:, 1]
    elif model == "gbm":
        gbm = HistGradientBoostingClassifier(max_iter=200, learning_rate=0.05, random_state=0)
        gbm.fit(X.to_numpy(np.float64), t)
        score = gbm.predict_proba(X.to_numpy(np.float64))[:, 1]
    else:
        raise SpecError(f"propensity model must be one of {', '.join(MODELS)}, not {model!r}")
    score = np.clip(score, 1e-12, 1 - 1e-12)
    return Propensity(score=score, logit=np.log(score / (1 - score)), model=model)


def common_support(score: Floats, treated: npt.NDArray[np.bool_]) -> npt.NDArray[np.bool_]:
    """Rows inside the region where both groups have scores (MatchIt's ``discard = "both"``)."""
    t = np.asarray(treated, bool)
    low = max(score[t].min(), score[~t].min())
    high = min(score[t].max(), score[~t].max())
    return (score >= low) & (score <= high)
