"""What a cohort is made of: the treatment, the population rules and the measures to take.

Plain frozen values; the study room validates a TOML spec into them.
"""

from __future__ import annotations

import re
from dataclasses import dataclass
from typing import Final, Literal

from kotoeval.errors import SpecError

Pool = Literal["never_treated", "not_yet_treated"]

#: Covariates measured at the index month (month m): static or from the latest register state.
POINT_COVARIATES: Final = {
    "age": "age in whole years at the index month",
    "female": "1 for women (sex from the identity code)",
    "world_region": "world region of the country of birth",
    "language_group": "registered mother tongue",
    "permit_ground": "ground of the first residence permit ('none' without a permit)",
    "years_in_finland": "years since the first immigration, at the index month",
    "education_level": "ISCED level of the highest registered degree at the index month: the "
    "previous 31 December's, or one completed since in the education register ('none' without "
    "one)",
    "education_field": "ISCED-F broad field of that degree ('none')",
    "language_level": "rank of the latest overall Finnish or Swedish test before the index "
    "month (0 pre-A1 … 12 C2; missing without a test)",
    "children": "children under 18 in the family on the previous 31 December",
    "municipality": "municipality of residence on the previous 31 December",
    "index_year": "calendar year of the index month",
    "index_month": "the index month itself (for exact matching on entry period)",
}
#: Covariates over the N months before the index month: ``<measure>_<N>m``.
WINDOW_COVARIATES: Final = {
    "earnings": "earnings (euros) in the N months before",
    "employed_months": "months with earnings in the N months before",
    "unemployed_months": "months registered unemployed or fully laid off in the N months before",
    "unemployment_benefit_eur": "unemployment benefits (euros) in the N months before",
    "previous_services": "service episodes started in the N months before",
}
_WINDOW = re.compile(r"^(?P<measure>[a-z_]+)_(?P<months>\d+)m$")


def window_of(name: str) -> tuple[str, int] | None:
    """``("earnings", 12)`` for ``earnings_12m``; None for a point covariate."""
    if name in POINT_COVARIATES:
        return None
    match = _WINDOW.match(name)
    if not match or match["measure"] not in WINDOW_COVARIATES:
        known = [*POINT_COVARIATES, *(f"{m}_<N>m" for m in WINDOW_COVARIATES)]
        raise SpecError(f"unknown covariate {name!r}; known: {', '.join(known)}")
    months = int(match["months"])
    if not 1 <= months <= 120:
        raise SpecError(f"covariate {name!r}: the window must be 1–120 months")
    return match["measure"], months


@dataclass(frozen=True)
class Population:
    """Who may be in the study at a month: every rule must hold at the index month."""

    municipalities: tuple[str, ...] = ()
    """Residence on the previous 31 December; empty: anywhere."""
    age: tuple[int, int] = (18, 64)
    immigrants: bool = True
    """Only persons with an immigration date."""
    foreign_language: bool = True
    """Only persons whose registered mother tongue is not Finnish or Swedish."""
    min_age_at_immigration: int = 16
    min_months_since_immigration: int = 0
    jobseeker_status: tuple[str, ...] = ()
    """Job-seeker status in the month before the index month; empty: no rule."""
    education_levels: tuple[int, ...] | None = None
    """Allowed ISCED levels of the highest registered degree at the index month (as the
    ``education_level`` covariate reads it); None: any."""
    no_degree: bool = True
    """Persons without a registered degree are allowed."""
    not_studying_in: tuple[str, ...] = ()
    """No study right of these education programmes in force in the index month."""
    not_in_services: tuple[str, ...] = ()
    """No episode of these services in force in the index month."""
    not_earlier_clients_of: tuple[str, ...] = ()
    """No episode of these services started before the index month."""


@dataclass(frozen=True)
class CohortSpec:
    """A cohort: clients of ``service`` entering in the window, and the comparison pool."""

    service: str
    entry_from: str
    """First entry month, ``YYYY-MM``."""
    entry_to: str
    population: Population = Population()
    pool: Pool = "never_treated"
    covariates: tuple[str, ...] = ()

    def __post_init__(self) -> None:
        for name in self.covariates:
            window_of(name)
        if month_index(self.entry_to) < month_index(self.entry_from):
            raise SpecError(f"entry window {self.entry_from}…{self.entry_to} is empty")


def month_index(text: str) -> int:
    """Months since year 0 of a ``YYYY-MM`` text (the integer month the cohort computes in)."""
    match = re.fullmatch(r"(\d{4})-(\d{2})", text.strip())
    if not match or not 1 <= int(match[2]) <= 12:
        raise SpecError(f"{text!r} is not a month; write YYYY-MM")
    return int(match[1]) * 12 + int(match[2]) - 1


def month_text(index: int) -> str:
    """``YYYY-MM`` of a month index."""
    return f"{index // 12:04d}-{index % 12 + 1:02d}"
