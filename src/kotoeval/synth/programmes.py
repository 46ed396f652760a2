"""The programmes: who enters when, and what participating does in the world with them.

Entry hazards are log-linear in covariates the registers record (unless an unobserved
confounder is asked for), so that matching on those covariates can recover the truth.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kotoeval.registers.codes import LANGUAGE_LEVELS
from kotoeval.registers.reference import world_region_of
from kotoeval.synth.background import Background
from kotoeval.synth.calendar import NEVER
from kotoeval.synth.context import UNEMPLOYED, WITHOUT, Context
from kotoeval.synth.params import (
    COUNTRIES,
    ESPOO,
    ESPOO_RESIDENTS,
    FIRST_YEAR,
    GROUNDS,
    HUMANITARIAN,
    MUNICIPALITIES,
    ProgrammeParameters,
    WorldParameters,
)
from kotoeval.synth.people import People

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]


@dataclass
class Participation:
    """Who entered which programme when (indices into ``WorldParameters.programmes``)."""

    programme: Ints
    """-1 for non-clients."""
    entry: Ints
    end: Ints
    effect_scale: npt.NDArray[np.float64]
    """Heterogeneity multiplier of the effects for each client."""
    eligible_first: Ints
    """First month a non-client was eligible for each programme (persons × programmes)."""

    @classmethod
    def none(cls, n: int, programmes: int) -> Participation:
        """Nobody takes part."""
        return cls(
            programme=np.full(n, -1), entry=np.full(n, NEVER), end=np.full(n, NEVER),
            effect_scale=np.ones(n), eligible_first=np.full((n, programmes), NEVER),
        )  # fmt: skip


def programme_effects(
    m: int, part: Participation, programmes: tuple[ProgrammeParameters, ...], in_programme: Bools
) -> tuple[npt.NDArray[np.float64], npt.NDArray[np.float64], npt.NDArray[np.float64]]:
    """Employment-index shift, language gain and expert-occupation gain of clients in month m."""
    n = len(part.programme)
    effect_index, gain, expert_gain = np.zeros(n), np.zeros(n), np.zeros(n)
    since_end = m - part.end
    span = np.maximum(part.end - part.entry, 1)
    progress = np.clip((m - part.entry + 1) / span, 0, 1)
    for k, prog in enumerate(programmes):
        mine = part.programme == k
        if not mine.any():
            continue
        after = mine & (since_end >= 0)
        ramp = np.clip((since_end + 1) / prog.ramp_months, 0, 1)
        effect_index += np.where(mine & in_programme, prog.lock_in * part.effect_scale, 0.0)
        effect_index += np.where(after, prog.employment_effect * part.effect_scale * ramp, 0.0)
        gain += np.where(mine & (m >= part.entry), prog.language_gain * progress, 0.0)
        expert_gain += np.where(after, prog.expert_effect * ramp, 0.0)
    return effect_index, gain, expert_gain


@dataclass
class Selection:
    """Entry into the programmes: who is eligible, and hazards on observed covariates."""

    params: WorldParameters
    female: Bools
    humanitarian: Bools
    labour_ground: Bools
    origin_effect: npt.NDArray[np.float64]
    """Multiplier of the effects by world region of birth."""
    espoo: int
    espoo_residents: Ints
    """Residents of Espoo in the whole chunk by month: the programmes' capacity scales with it."""

    @classmethod
    def of(cls, people: People, params: WorldParameters, espoo_residents: Ints) -> Selection:
        """Selection rules for the persons of a chunk."""

        def grounds(*names: str) -> Bools:
            return np.isin(people.ground, [GROUNDS.index(g) for g in names])

        return cls(
            params=params,
            female=people.sex == 2,
            humanitarian=grounds(*HUMANITARIAN, "family"),
            labour_ground=grounds("work", "study"),
            origin_effect=_origin_effect(people, params),
            espoo=MUNICIPALITIES.index(ESPOO),
            espoo_residents=espoo_residents,
        )

    def draw(
        self,
        m: int,
        ctx: Context,
        bg: Background,
        part: Participation,
        status: npt.NDArray[np.int8],
        degree: npt.NDArray[np.int16],
        unemployed0: npt.NDArray[np.int16],
        employed0: npt.NDArray[np.int16],
        resident: Bools,
        rng: np.random.Generator,
    ) -> None:
        """Draw this month's entrants.

        Hazards are log-linear in observed covariates, scaled so that each programme takes its
        yearly clients per Espoo population.
        """
        n = len(ctx.born)
        in_espoo = resident & ctx.in_espoo(m, self.espoo)
        unemployed_24 = (unemployed0[m] - unemployed0[max(m - 24, 0)]) / 24
        employed_12 = (employed0[m] - employed0[max(m - 12, 0)]) / 12
        age_years = (m - ctx.born) / 12
        years_here = np.minimum((m - ctx.arrival) / 12, 15)
        observed_level = ctx.observed_language[m].astype(np.float64)
        level = degree[m, WITHOUT] // 16  # -1 // 16 is -1: no degree
        was_unemployed = status[m - 1, WITHOUT] == UNEMPLOYED if m > 0 else np.zeros(n, dtype=bool)
        common = (
            in_espoo
            & bg.adult_immigrant
            & (age_years >= 20)
            & (age_years < 63)
            & (m - ctx.arrival >= 6)
            & was_unemployed
            & ~ctx.studying[m]
            & ~ctx.training[m]
            & (part.programme < 0)
        )
        conf = self.params.confounding * bg.confounder
        draw = rng.random(n)
        for k, prog in enumerate(self.params.programmes):
            if m < (prog.first_year - FIRST_YEAR) * 12:
                continue
            education_ok = (level >= prog.min_education) & (level <= prog.max_education)
            if prog.min_education < 0:
                # Low or foreign education; some Finnish is favoured, not required.
                education_ok |= level < 0
                eligible = common & education_ok
                tested = observed_level >= 0
                score = (
                    1.2 * unemployed_24
                    - 0.9 * employed_12
                    - 0.045 * (age_years - 35)
                    + 0.3 * self.female
                    + np.where(tested, 0.45 * (observed_level - 4), -0.8)
                    + 0.5 * (level < 0)
                    + 0.4 * self.humanitarian
                    - 0.06 * years_here
                )
            else:
                eligible = common & education_ok
                score = (
                    1.0 * unemployed_24
                    - 0.8 * employed_12
                    - 0.03 * (age_years - 35)
                    + 0.2 * self.female
                    + 0.15 * np.maximum(observed_level, 0)
                    + 0.4 * self.labour_ground
                    - 0.05 * years_here
                )
            first = eligible & (part.eligible_first[:, k] == NEVER)
            part.eligible_first[first, k] = m
            if not eligible.any():
                continue
            weight = np.where(eligible, np.exp(score + conf), 0.0)
            expected = prog.clients_per_year / 12 * self.espoo_residents[m] / ESPOO_RESIDENTS
            enters = eligible & (draw < np.minimum(expected * weight / weight.sum(), 0.5))
            if not enters.any():
                continue
            lo, hi = prog.duration_months
            length = rng.integers(lo, hi + 1, n)
            part.programme[enters] = k
            part.entry[enters] = m
            part.end[enters] = np.minimum(m + length[enters], ctx.end[enters])
            p = self.params
            scale = np.where(
                age_years < 30, p.effect_young, np.where(age_years >= 45, p.effect_old, 1.0)
            )
            scale = scale * np.where(self.female, p.effect_female, 1.0) * self.origin_effect
            scale = scale * np.where(
                observed_level < LANGUAGE_LEVELS.index("A2.1"), p.effect_low_language, 1.0
            )
            part.effect_scale[enters] = scale[enters]


def _origin_effect(people: People, params: WorldParameters) -> npt.NDArray[np.float64]:
    factors = dict(params.effect_by_origin)
    by_country = np.array([factors.get(world_region_of(c), 1.0) for c in COUNTRIES])
    return by_country[people.country_of_birth]
