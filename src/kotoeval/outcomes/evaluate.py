"""Reference evaluation of the outcome definitions on in-memory panels (numpy).

A panel is a mapping from panel variable to an array of shape (persons, relative months) whose
columns are the relative months ``months``; NaN marks a month outside the observed data. A
person whose outcome window is not fully observed has no value (NaN) for that outcome. The
synthetic world computes its ground truth with these functions; tests use them to check the
warehouse implementation of the same definitions.
"""

from __future__ import annotations

from collections.abc import Mapping

import numpy as np
import numpy.typing as npt

from kotoeval.errors import SpecError
from kotoeval.outcomes.definitions import OUTCOMES, STANDARD_OUTCOMES, Outcome, RatioOutcome

Array = npt.NDArray[np.floating] | npt.NDArray[np.integer] | npt.NDArray[np.bool_]
Panel = Mapping[str, Array]
Values = Mapping[str, npt.NDArray[np.float64]]


def evaluate(
    outcome: Outcome, panel: Panel, months: npt.NDArray[np.integer]
) -> npt.NDArray[np.float64]:
    """Value of ``outcome`` for every person of ``panel`` (NaN where not fully observed)."""
    if outcome.variable not in panel:
        raise SpecError(f"outcome {outcome.id!r} needs panel variable {outcome.variable!r}")
    inside = (months >= outcome.first_month) & (months <= outcome.last_month)
    if inside.sum() != outcome.last_month - outcome.first_month + 1:
        raise SpecError(
            f"outcome {outcome.id!r} needs relative months {outcome.first_month}…"
            f"{outcome.last_month}; the panel covers {months.min()}…{months.max()}"
        )
    window = np.asarray(panel[outcome.variable])[:, inside].astype(np.float64)
    if outcome.aggregate == "any":
        value = np.asarray((window > 0).any(axis=1), dtype=np.float64)
    else:
        value = np.asarray(window.sum(axis=1), dtype=np.float64)
    value[np.isnan(window).any(axis=1)] = np.nan
    return value


def evaluate_all(
    panel: Panel, months: npt.NDArray[np.integer]
) -> dict[str, npt.NDArray[np.float64]]:
    """Values of every standard (non-ratio) outcome."""
    return {o.id: evaluate(o, panel, months) for o in STANDARD_OUTCOMES if isinstance(o, Outcome)}


def observed(values: Values, outcome_id: str) -> npt.NDArray[np.bool_]:
    """Persons with a value of the outcome (for a ratio: of both its parts)."""
    outcome = OUTCOMES[outcome_id]
    if isinstance(outcome, RatioOutcome):
        return observed(values, outcome.numerator) & observed(values, outcome.denominator)
    return ~np.isnan(values[outcome_id])


def group_mean(values: Values, outcome_id: str, rows: npt.NDArray[np.bool_]) -> float:
    """Mean of an outcome over ``rows``; a ratio outcome is the ratio of the group sums."""
    outcome = OUTCOMES[outcome_id]
    if isinstance(outcome, RatioOutcome):
        denominator = float(values[outcome.denominator][rows].sum())
        numerator = float(values[outcome.numerator][rows].sum())
        return numerator / denominator if denominator > 0 else float("nan")
    selected = values[outcome_id][rows]
    return float(selected.mean()) if len(selected) else float("nan")
