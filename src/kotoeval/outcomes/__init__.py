"""Outcome and subgroup definitions shared by the synthetic world's truth and the estimators."""

from kotoeval.outcomes.definitions import (
    OUTCOMES,
    PANEL_FIRST_MONTH,
    PANEL_LAST_MONTH,
    PANEL_VARIABLES,
    PATH_VARIABLES,
    STANDARD_OUTCOMES,
    Outcome,
    RatioOutcome,
)
from kotoeval.outcomes.evaluate import evaluate, evaluate_all, group_mean, observed

__all__ = [
    "OUTCOMES",
    "PANEL_FIRST_MONTH",
    "PANEL_LAST_MONTH",
    "PANEL_VARIABLES",
    "PATH_VARIABLES",
    "STANDARD_OUTCOMES",
    "Outcome",
    "RatioOutcome",
    "evaluate",
    "evaluate_all",
    "group_mean",
    "observed",
]
