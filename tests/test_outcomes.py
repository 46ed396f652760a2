"""Outcome definitions evaluated on hand-computed panels."""

from __future__ import annotations

import numpy as np
import pytest

from kotoeval.errors import SpecError
from kotoeval.outcomes import OUTCOMES, PANEL_FIRST_MONTH, PANEL_LAST_MONTH, evaluate, group_mean
from kotoeval.outcomes.evaluate import evaluate_all, observed
from kotoeval.outcomes.subgroups import AGE_BANDS, LANGUAGE_BANDS, band

MONTHS = np.arange(PANEL_FIRST_MONTH, PANEL_LAST_MONTH + 1)


def _panel(n: int) -> dict[str, np.ndarray]:
    zero = np.zeros((n, len(MONTHS)))
    return {v: zero.copy() for v in (
        "earnings", "employed", "expert_employed", "unemployment_benefit_eur",
        "unemployment_benefit", "vocational_started", "vocational_completed", "vocational_dropped",
    )}  # fmt: skip


def col(month: int) -> int:
    return month - PANEL_FIRST_MONTH


def test_year_windows_sum_the_right_months() -> None:
    p = _panel(2)
    p["earnings"][0, col(0)] = 100  # year 1 includes the entry month
    p["earnings"][0, col(11)] = 50
    p["earnings"][0, col(12)] = 7  # first month of year 2
    p["earnings"][0, col(-1)] = 999  # before entry: in no outcome
    p["earnings"][1, col(35)] = 3  # last month of year 3
    values = evaluate_all(p, MONTHS)
    assert values["earnings_y1"].tolist() == [150, 0]
    assert values["earnings_y2"].tolist() == [7, 0]
    assert values["earnings_y3"].tolist() == [0, 3]


def test_events_count_once_inside_the_window() -> None:
    p = _panel(3)
    p["vocational_completed"][0, col(35)] = 1  # month 35 is inside 36 months
    p["vocational_completed"][1, col(36)] = 1  # month 36 is not
    p["vocational_completed"][2, col(3)] = 1
    p["vocational_completed"][2, col(20)] = 1  # two completions: still one person
    v = evaluate(OUTCOMES["vocational_completed_36m"], p, MONTHS)  # type: ignore[arg-type]
    assert v.tolist() == [1, 0, 1]


def test_unobserved_months_leave_the_outcome_missing() -> None:
    p = _panel(2)
    p["employed"][0, col(24) :] = np.nan  # follow-up ends during year 3
    p["employed"][1, :] = 1
    values = evaluate_all(p, MONTHS)
    assert values["employed_months_y2"].tolist() == [0, 12]
    assert np.isnan(values["employed_months_y3"][0]) and values["employed_months_y3"][1] == 12
    assert observed(values, "employed_months_y3").tolist() == [False, True]


def test_share_is_a_ratio_of_group_sums() -> None:
    values = {
        "expert_months_y1": np.array([6.0, 0.0, 1.0]),
        "employed_months_y1": np.array([12.0, 0.0, 4.0]),
    }
    rows = np.array([True, True, True])
    # (6 + 0 + 1) / (12 + 0 + 4), not the mean of 0.5, undefined and 0.25
    assert group_mean(values, "expert_share_y1", rows) == pytest.approx(7 / 16)
    assert group_mean(values, "expert_months_y1", rows) == pytest.approx(7 / 3)


def test_a_panel_too_short_is_an_error() -> None:
    p = _panel(1)
    short = MONTHS[:30]
    with pytest.raises(SpecError, match="needs relative months 0…11"):
        evaluate(OUTCOMES["earnings_y1"], {k: v[:, :30] for k, v in p.items()}, short)  # type: ignore[arg-type]


def test_bands() -> None:
    assert band(np.array([18, 29, 30, 64, 65]), AGE_BANDS).tolist() == [
        "18_29", "18_29", "30_44", "45_64", "other",
    ]  # fmt: skip
    assert band(np.array([-1, 3, 4, 6]), LANGUAGE_BANDS).tolist() == [
        "none_or_a1", "none_or_a1", "a2", "b1_or_higher",
    ]  # fmt: skip
