"""The standard outcomes of an evaluation, defined once.

Every outcome is measured on a person × relative-month panel, month 0 being the index month
(entry into the programme, or the matched index month of a comparison person). The panel's
variables are defined from the registers as follows:

``earnings``
    Sum of ``earnings.wages_eur`` paid in the month, over all payers.
``employed``
    1 when ``earnings`` > 0 (an *employed month*).
``expert_employed``
    1 when employed and the occupation of the month's largest payment is in ISCO major
    groups 1–3 (managers, professionals, technicians and associate professionals).
``unemployment_benefit_eur``
    Sum of ``benefits.amount_eur`` of the unemployment benefits (labour market subsidy, basic
    and earnings-related allowance) paid for the month.
``unemployment_benefit``
    1 when ``unemployment_benefit_eur`` > 0.
``vocational_started`` / ``vocational_completed`` / ``vocational_dropped``
    1 when a vocational study right (upper secondary, further or specialist) starts in the
    month / ends ``completed`` in the month / ends ``dropped_out`` in the month.

Year *k* after entry is relative months ``12(k-1) … 12k-1``: year 1 includes the entry month
and so the lock-in of participation. The synthetic world computes its ground truth with
:func:`kotoeval.outcomes.evaluate`, and the cohort builder measures the same definitions on
the warehouse, so an estimate and its truth always mean the same thing.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

Aggregate = Literal["any", "sum"]

PANEL_VARIABLES: Final = (
    "earnings",
    "employed",
    "expert_employed",
    "unemployment_benefit_eur",
    "unemployment_benefit",
    "vocational_started",
    "vocational_completed",
    "vocational_dropped",
)

#: The default person × relative-month panel: 24 months before to 36 months after entry.
PANEL_FIRST_MONTH: Final = -24
PANEL_LAST_MONTH: Final = 36
FOLLOW_UP_YEARS: Final = 3


@dataclass(frozen=True)
class Outcome:
    """An outcome: a panel variable aggregated over a window of relative months (inclusive)."""

    id: str
    label: str
    variable: str
    aggregate: Aggregate
    first_month: int
    last_month: int
    unit: Literal["share", "eur", "months"]


@dataclass(frozen=True)
class RatioOutcome:
    """A ratio of two outcomes' group means (e.g. expert months over employed months)."""

    id: str
    label: str
    numerator: str
    denominator: str
    unit: Literal["share"] = "share"


def _year(k: int) -> tuple[int, int]:
    return 12 * (k - 1), 12 * k - 1


def _standard() -> tuple[Outcome | RatioOutcome, ...]:
    window = (0, 12 * FOLLOW_UP_YEARS - 1)
    items: list[Outcome | RatioOutcome] = [
        Outcome(
            "vocational_started_36m",
            "Started vocational education within 36 months",
            "vocational_started",
            "any",
            *window,
            "share",
        ),
        Outcome(
            "vocational_completed_36m",
            "Completed vocational education within 36 months",
            "vocational_completed",
            "any",
            *window,
            "share",
        ),
        Outcome(
            "vocational_dropped_36m",
            "Dropped out of vocational education within 36 months",
            "vocational_dropped",
            "any",
            *window,
            "share",
        ),
    ]
    for k in range(1, FOLLOW_UP_YEARS + 1):
        first, last = _year(k)
        items += [
            Outcome(
                f"earnings_y{k}", f"Earnings in year {k}", "earnings", "sum", first, last, "eur"
            ),
            Outcome(
                f"employed_months_y{k}",
                f"Employed months in year {k}",
                "employed",
                "sum",
                first,
                last,
                "months",
            ),
            Outcome(
                f"expert_months_y{k}",
                f"Months employed in expert occupations in year {k}",
                "expert_employed",
                "sum",
                first,
                last,
                "months",
            ),
            RatioOutcome(
                f"expert_share_y{k}",
                f"Share of employed months in expert occupations in year {k}",
                f"expert_months_y{k}",
                f"employed_months_y{k}",
            ),
            Outcome(
                f"unemployment_benefit_eur_y{k}",
                f"Unemployment benefits in year {k}",
                "unemployment_benefit_eur",
                "sum",
                first,
                last,
                "eur",
            ),
            Outcome(
                f"unemployment_benefit_months_y{k}",
                f"Months on unemployment benefit in year {k}",
                "unemployment_benefit",
                "sum",
                first,
                last,
                "months",
            ),
        ]
    return tuple(items)


STANDARD_OUTCOMES: Final = _standard()
OUTCOMES: Final = {o.id: o for o in STANDARD_OUTCOMES}

#: Panel variables whose monthly true effect paths the synthetic world records.
PATH_VARIABLES: Final = ("earnings", "employed", "unemployment_benefit_eur")
