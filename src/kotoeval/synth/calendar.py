"""The world's calendar: month indices, dates and their text forms.

Month index 0 is January 2012 (:data:`FIRST_YEAR`); a month index may be negative (before the
registers begin) or past the end (a future that never comes). Dates are numpy ``datetime64[D]``.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kotoeval.synth.params import FIRST_YEAR, N_MONTHS

NEVER: Final = 10_000
"""Month index of an event that does not happen (emigration of a stayer, …)."""

_EPOCH_MONTH: Final = (FIRST_YEAR - 1970) * 12

IntArray = npt.NDArray[np.int64]


def month_start(m: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    """First day of month index ``m``."""
    return (
        (np.asarray(m, dtype=np.int64) + _EPOCH_MONTH)
        .astype("datetime64[M]")
        .astype("datetime64[D]")
    )


def month_of(dates: npt.NDArray[np.datetime64]) -> IntArray:
    """Month index of each date."""
    return dates.astype("datetime64[M]").astype(np.int64) - _EPOCH_MONTH


def days_in_month(m: npt.ArrayLike) -> IntArray:
    """Number of days in month index ``m``."""
    return (month_start(np.asarray(m) + 1) - month_start(m)).astype(np.int64)


def date_in_month(m: npt.ArrayLike, day_fraction: npt.ArrayLike) -> npt.NDArray[np.datetime64]:
    """A day inside month ``m``: ``day_fraction`` in [0, 1) picks it."""
    days = days_in_month(m)
    offset = np.minimum((np.asarray(day_fraction) * days).astype(np.int64), days - 1)
    return month_start(m) + offset.astype("timedelta64[D]")


def year_of(m: npt.ArrayLike) -> IntArray:
    """Calendar year of month index ``m``."""
    return FIRST_YEAR + np.floor_divide(np.asarray(m, dtype=np.int64), 12)


def weekdays_per_month() -> IntArray:
    """Monday–Friday days of each month of the window: compensated days of a full month."""
    starts = month_start(np.arange(N_MONTHS + 1))
    return np.busday_count(starts[:-1], starts[1:]).astype(np.int64)


MONTH_LABELS: Final = pa.array(
    [f"{FIRST_YEAR + m // 12}-{m % 12 + 1:02d}" for m in range(N_MONTHS)], pa.string()
)


def month_text(m: IntArray) -> pa.Array:
    """``YYYY-MM`` text of month indices inside the window."""
    return MONTH_LABELS.take(pa.array(m, pa.int64()))


def date_text(
    dates: npt.NDArray[np.datetime64], missing: npt.NDArray[np.bool_] | None = None
) -> pa.Array:
    """``YYYY-MM-DD`` text of dates; ``missing`` marks empty fields."""
    arr = pa.array(dates.astype("datetime64[D]"), pa.date32(), mask=missing)
    return arr.cast(pa.string())
