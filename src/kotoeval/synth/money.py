"""Money by month: wages when employed and unemployment benefits when seeking work.

Computed for both potential worlds from the same draws, so a programme changes a client's money
only through what it changes in their life (employment, occupation, education).
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any

import numpy as np
import numpy.typing as npt

from kotoeval.synth.background import Background
from kotoeval.synth.calendar import NEVER, weekdays_per_month, year_of
from kotoeval.synth.context import IN_SERVICES, UNEMPLOYED
from kotoeval.synth.lives import Lives
from kotoeval.synth.params import DAILY_BASIC_ALLOWANCE, N_MONTHS, WorldParameters
from kotoeval.synth.people import People

Floats = npt.NDArray[Any]
"""Money arrays (float32 euros; float64 where summed)."""

#: Yearly growth of nominal wages (earnings index, rounded).
WAGE_GROWTH = 0.02
EXPERT_PREMIUM = 1.45
SECOND_JOB_SHARE = 0.04
#: Months of employment within the last 28 that open the right to the earnings-based allowances.
WORK_CONDITION = (12, 28)
LABOUR_MARKET_SUBSIDY, BASIC_ALLOWANCE, EARNINGS_RELATED = 0, 1, 2


@dataclass
class Money:
    """Monthly money of a chunk; world-dependent arrays are worlds × persons × months."""

    wages: Floats
    """Wages from the main employer."""
    second_wages: Floats
    """Wages from a second payer (0 where none)."""
    occupation_missing: npt.NDArray[np.bool_]
    """The payer reported no occupation (persons × months)."""
    benefit: Floats
    """Unemployment benefit euros."""
    benefit_kind: npt.NDArray[Any]
    earnings_without_degree: Floats
    """Recorded world's wages had vocational education left no mark (persons × months)."""
    benefit_days: npt.NDArray[np.int8]
    """Compensated days in the recorded world (persons × months)."""

    @property
    def earnings(self) -> Floats:
        """All wages of the month."""
        return self.wages + self.second_wages


def monthly_money(
    people: People, bg: Background, lives: Lives, params: WorldParameters, rng: np.random.Generator
) -> Money:
    """Wages and unemployment benefits of a chunk in both worlds.

    The worlds differ only for programme clients, so world 1 is world 0 with the clients'
    rows computed again.
    """
    n = len(people)
    months = np.arange(N_MONTHS)
    wage_index = (1 + WAGE_GROWTH) ** (year_of(months) - 2020)
    noise = rng.normal(0, 0.06, (n, N_MONTHS))
    base = np.exp(bg.wage_level[:, None] + noise) * wage_index[None, :]
    second = rng.random((n, N_MONTHS)) < SECOND_JOB_SHARE
    second_amount = np.round(np.where(second, rng.uniform(150, 800, (n, N_MONTHS)), 0), 2)
    fund_member = rng.random(n) < np.where(bg.adult_immigrant, 0.4, 0.75)
    missing = rng.random((n, N_MONTHS)) < 0.02

    everyone = np.arange(n)
    clients = np.flatnonzero(lives.participation.programme >= 0)
    world0 = _world(lives, params, 0, everyone, base, second_amount, fund_member)
    world1 = [a.copy() for a in world0]
    changed = _world(lives, params, 1, clients, base, second_amount, fund_member)
    for target, value in zip(world1, changed, strict=True):
        target[clients] = value
    wages, second_wages, benefit, kind = (
        np.stack([a, b]) for a, b in zip(world0, world1, strict=True)
    )
    days = weekdays_per_month()[None, :]
    # Those who finished or left vocational studies: their money without the degree's mark.
    learners = np.flatnonzero((lives.completed_at[1] < NEVER) | (lives.dropped_at[1] < NEVER))
    without_degree = wages[1] + second_wages[1]
    employed = lives.employed_without_degree[learners]
    premium = np.where(lives.expert_without_degree[learners], EXPERT_PREMIUM, 1.0)
    main = np.where(employed, np.round(base[learners] * premium, 2), 0.0)
    without_degree[learners] = main + np.where(employed, second_amount[learners], 0.0)
    return Money(
        earnings_without_degree=without_degree,
        wages=wages,
        second_wages=second_wages,
        occupation_missing=missing,
        benefit=benefit,
        benefit_kind=kind,
        benefit_days=np.where(benefit[1] > 0, days, 0).astype(np.int8),
    )


def _world(
    lives: Lives,
    params: WorldParameters,
    world: int,
    who: npt.NDArray[np.int64],
    base: Floats,
    second_amount: Floats,
    fund_member: npt.NDArray[np.bool_],
) -> tuple[Floats, Floats, Floats, Floats]:
    """(wages, second wages, unemployment benefit, benefit kind) of persons ``who`` in a world."""
    months = np.arange(N_MONTHS)
    employed = np.ascontiguousarray(lives.employed[world][who])
    completed = months[None, :] >= lives.completed_at[world][who][:, None]
    dropped = (months[None, :] >= lives.dropped_at[world][who][:, None]) & ~completed
    boost = (
        1 + params.vocational_completed_wage * completed + params.vocational_dropped_wage * dropped
    )
    premium = np.where(lives.expert[world][who], EXPERT_PREMIUM, 1.0)
    wages = np.where(employed, np.round(base[who] * boost * premium, 2), 0.0).astype(np.float32)
    second_wages = np.where(employed, second_amount[who], 0.0).astype(np.float32)

    status = lives.status[world][who]
    seeking = (status == UNEMPLOYED) | (status == IN_SERVICES)
    need, within = WORK_CONDITION
    lag = np.maximum(months - within, 0)
    worked = np.zeros((len(who), N_MONTHS + 1), dtype=np.int32)
    np.cumsum(employed, axis=1, out=worked[:, 1:])
    worked_recently = worked[:, months] - worked[:, lag]
    earned = np.zeros((len(who), N_MONTHS + 1))
    np.cumsum(wages, axis=1, out=earned[:, 1:])
    recent_wage = (earned[:, months] - earned[:, lag]) / np.maximum(worked_recently, 1)
    kind = np.where(
        worked_recently >= need,
        np.where(fund_member[who][:, None], EARNINGS_RELATED, BASIC_ALLOWANCE),
        LABOUR_MARKET_SUBSIDY,
    ).astype(np.int8)
    basic = np.array([DAILY_BASIC_ALLOWANCE[int(y)] for y in year_of(months)])[None, :]
    earnings_part = 0.45 * np.maximum(recent_wage / 21.5 - basic, 0)
    daily = np.where(kind == EARNINGS_RELATED, basic + earnings_part, basic)
    benefit = np.where(seeking, np.round(daily * weekdays_per_month()[None, :], 2), 0).astype(
        np.float32
    )
    return wages, second_wages, benefit, kind
