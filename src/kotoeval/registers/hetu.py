"""The Finnish personal identity code (HETU), as far as the contract needs to build one.

``DDMMYYCZZZQ``: birth date, century sign, individual number (odd male, even female; 900–999
temporary) and a check character, the remainder of ``DDMMYYZZZ`` modulo 31 looked up in
:data:`CHECK_CHARACTERS`. Validation at ingest uses python-stdnum; this module composes codes
(vectorised, for the synthetic world) and is cross-checked against stdnum in the tests.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

CHECK_CHARACTERS: Final = "0123456789ABCDEFHJKLMNPRSTUVWXY"

#: Century signs in force since 2023; the first of each century is the traditional one.
CENTURY_SIGNS: Final[dict[int, tuple[str, ...]]] = {
    1800: ("+",),
    1900: ("-", "Y", "X", "W", "V", "U"),
    2000: ("A", "B", "C", "D", "E", "F"),
}

#: Individual numbers 002–899 are permanent; 900–999 are temporary.
FIRST_INDIVIDUAL_NUMBER: Final = 2
LAST_PERMANENT_INDIVIDUAL_NUMBER: Final = 899


def check_characters(digits: npt.NDArray[np.int64]) -> npt.NDArray[np.str_]:
    """Check characters of ``DDMMYYZZZ`` read as one integer per code."""
    table = np.array(list(CHECK_CHARACTERS))
    return table[np.asarray(digits, dtype=np.int64) % 31]


def compose(
    year: npt.NDArray[np.integer],
    month: npt.NDArray[np.integer],
    day: npt.NDArray[np.integer],
    individual: npt.NDArray[np.integer],
    sign_choice: npt.NDArray[np.integer] | None = None,
) -> npt.NDArray[np.str_]:
    """Build valid codes from birth dates and individual numbers.

    ``sign_choice`` picks among the century signs of each century (0 = the traditional sign);
    by default the traditional one is used.
    """
    year = np.asarray(year, dtype=np.int64)
    individual = np.asarray(individual, dtype=np.int64)
    yy = year % 100
    digits = (np.asarray(day) * 10_000 + np.asarray(month) * 100 + yy) * 1000 + individual
    check = check_characters(digits)
    century = (year // 100) * 100
    choice = np.zeros_like(year) if sign_choice is None else np.asarray(sign_choice)
    sign = np.empty(year.shape, dtype="<U1")
    for c, signs in CENTURY_SIGNS.items():
        here = century == c
        sign[here] = np.array(signs)[choice[here] % len(signs)]
    dd_mm_yy = np.char.zfill(((np.asarray(day) * 100 + month) * 100 + yy).astype(str), 6)
    zzz = np.char.zfill(individual.astype(str), 3)
    return np.char.add(np.char.add(np.char.add(dd_mm_yy, sign), zzz), check)


def sex_of_individual_number(individual: npt.NDArray[np.integer]) -> npt.NDArray[np.int8]:
    """Contract sex code (1 male, 2 female) of individual numbers: odd is male."""
    return np.where(np.asarray(individual) % 2 == 1, 1, 2).astype(np.int8)
