"""What is fixed before the monthly simulation: traits, schooling, integration and tests.

None of this depends on the programmes, so it is the same in both potential worlds: unobserved
traits, the schooling of those who grow up here, integration plans and training of newcomers,
language progress and the language tests that record it, and registered degrees.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt
from scipy.signal import lfilter

from kotoeval.registers.codes import ASSESSMENTS
from kotoeval.synth.calendar import NEVER
from kotoeval.synth.params import GROUNDS, LANGUAGES, N_MONTHS, ORIGIN_GROUPS, WorldParameters
from kotoeval.synth.people import People
from kotoeval.synth.schooling import (
    VOCATIONAL_FIELDS,
    Episodes,
    choose,
    draw_schooling,
    study_months,
)

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Share of newcomers who get an integration plan, by permit ground.
PLAN_SHARE = {
    "international_protection": 0.92,
    "quota_refugee": 0.95,
    "family": 0.75,
    "temporary_protection": 0.55,
    "finnish_origin": 0.6,
    "work": 0.2,
    "study": 0.2,
    "eu_registration": 0.3,
    "other": 0.5,
}
#: Employment-index shift of permit grounds (labour migrants came for a job).
GROUND_SHIFT = {
    "work": 0.9,
    "eu_registration": 0.5,
    "study": 0.0,
    "family": -0.2,
    "international_protection": -0.35,
    "quota_refugee": -0.45,
    "temporary_protection": -0.2,
    "finnish_origin": 0.0,
    "other": 0.0,
}


@dataclass
class Tests:
    """Language test events: one per person, date and kind (skills are added on output)."""

    person: Ints
    month: Ints
    day: Floats
    assessment: Ints
    """Index into ``ASSESSMENTS``."""
    rank: Ints


@dataclass
class Background:
    """Traits and pre-drawn events of one chunk of people."""

    ability: Floats
    confounder: Floats
    shock: npt.NDArray[np.float32]
    """Persistent employment shock, persons × months (AR(1), unit variance)."""
    adult_immigrant: Bools
    """Foreign-born, foreign-language, arrived aged 16 or older."""
    foreign_language: Bools
    base_index: Floats
    """Time-invariant part of the employment index."""
    language: npt.NDArray[np.float32]
    """Latent Finnish level (rank units) without any programme, persons × months."""
    observed_language: npt.NDArray[np.int8]
    """Latest overall test rank strictly before each month (-1: never tested)."""
    studying: Bools
    """In a pre-drawn study right, persons × months."""
    training: Bools
    """In integration training, persons × months."""
    training_start: Ints
    training_end: Ints
    plan_start: Ints
    plan_end: Ints
    degree: npt.NDArray[np.int16]
    """Highest registered degree by month from pre-drawn study rights, coded ISCED level × 16
    + ISCED-F field (-1: none), persons × months."""
    episodes: Episodes
    tests: Tests
    retire_age: Ints
    registers_when_idle: Bools
    wage_level: Floats
    expert_propensity: Floats
    vocational_field: npt.NDArray[np.str_]

    def persons(self, index: Ints) -> Background:
        """The same background for a subset of persons (events stay with the whole chunk)."""
        values = {}
        for f in fields(self):
            value = getattr(self, f.name)
            values[f.name] = value if f.name in ("episodes", "tests") else value[index]
        return Background(**values)


def draw_background(
    people: People, params: WorldParameters, rng: np.random.Generator
) -> Background:
    """Draw the traits and the programme-independent events of a chunk."""
    n = len(people)
    born = people.born_month
    fl_codes = [LANGUAGES.index("fi"), LANGUAGES.index("sv")]
    foreign_language = ~np.isin(people.language, fl_codes)
    age_at_arrival = people.arrival - born
    adult_immigrant = people.immigrant & foreign_language & (age_at_arrival >= 16 * 12)
    ability = rng.standard_normal(n)
    confounder = rng.standard_normal(n)

    rho = params.employment_persistence
    noise = rng.standard_normal((n, N_MONTHS)).astype(np.float32)
    noise[:, 0] /= np.sqrt(1 - rho**2)  # start in the stationary distribution
    shock = lfilter([np.sqrt(1 - rho**2)], [1, -rho], noise, axis=1).astype(np.float32)

    ground = np.where(people.ground >= 0, people.ground, 0)
    ground_shift = np.array([GROUND_SHIFT[g] for g in GROUNDS])[ground]
    group_shift = np.array([g.labour_market for g in ORIGIN_GROUPS] + [0.0])[people.group]
    female = people.sex == 2
    base_index = (
        np.where(
            adult_immigrant,
            0.55
            + group_shift
            + np.where(people.ground >= 0, ground_shift, 0.0)
            + 0.3 * (people.education - 1),
            1.0 + 0.35 * (people.education - 1),
        )
        + params.ability_loading * ability
        - 0.1 * female
    )

    plan_start, plan_end, training_start, training_end = _integration(people, adult_immigrant, rng)
    language = _language(
        people, adult_immigrant, foreign_language, ability, training_start, training_end, rng
    )
    tests = _tests(people, adult_immigrant, language, plan_start, training_end, rng)
    observed = _observed_level(tests, n)
    episodes = draw_schooling(people, adult_immigrant, rng)
    studying, degree = study_months(people, adult_immigrant, episodes, rng)
    months = np.arange(N_MONTHS)
    training = (months >= training_start[:, None]) & (months < training_end[:, None])

    wage_level = np.log(2700) + 0.18 * (people.education - 1) + 0.12 * ability - 0.1 * female
    wage_level = wage_level - np.where(adult_immigrant, 0.12, 0.0)
    expert_propensity = 1 / (1 + np.exp(-(-1.4 + 1.6 * (people.education - 1) + 0.4 * ability)))
    expert_propensity = np.where(adult_immigrant, expert_propensity * 0.7, expert_propensity)
    vocational_field = choose(rng, VOCATIONAL_FIELDS, n)
    return Background(
        ability=ability,
        confounder=confounder,
        shock=shock,
        adult_immigrant=adult_immigrant,
        foreign_language=foreign_language,
        base_index=base_index,
        language=language,
        observed_language=observed,
        studying=studying,
        training=training,
        training_start=training_start,
        training_end=training_end,
        plan_start=plan_start,
        plan_end=plan_end,
        degree=degree,
        episodes=episodes,
        tests=tests,
        retire_age=rng.integers(63 * 12, 68 * 12, n),
        registers_when_idle=rng.random(n) < np.where(adult_immigrant, 0.85, 0.65),
        wage_level=wage_level,
        expert_propensity=expert_propensity,
        vocational_field=vocational_field,
    )


def _integration(
    people: People, adult: Bools, rng: np.random.Generator
) -> tuple[Ints, Ints, Ints, Ints]:
    """Integration plans (from the first months after arrival) and integration training."""
    n = len(people)
    share = np.array([PLAN_SHARE[g] for g in GROUNDS] + [0.0])[people.ground]
    age = people.arrival - people.born_month
    gets_plan = adult & (age < 64 * 12) & (rng.random(n) < share) & (people.arrival >= -36)
    start = people.arrival + rng.integers(1, 9, n)
    gets_plan &= (start < people.end) & (start < N_MONTHS)
    # Plans last at most three years before 2025 and two from then on.
    plan_end = np.minimum(start + rng.integers(12, 37, n), people.end)
    plan_start = np.where(gets_plan, start, NEVER)
    plan_end = np.where(gets_plan, plan_end, NEVER)
    trains = gets_plan & (rng.random(n) < 0.8)
    t_start = plan_start + rng.integers(1, 4, n)
    t_end = np.minimum(t_start + rng.integers(6, 13, n), people.end)
    trains &= t_start < t_end
    return plan_start, plan_end, np.where(trains, t_start, NEVER), np.where(trains, t_end, NEVER)


def _language(
    people: People,
    adult: Bools,
    foreign: Bools,
    ability: Floats,
    training_start: Ints,
    training_end: Ints,
    rng: np.random.Generator,
) -> npt.NDArray[np.float32]:
    """Latent Finnish level in rank units (0 = pre-A1, 6 = B1.1, 12 = C2) by month."""
    n = len(people)
    months = np.arange(N_MONTHS)
    speed = np.array([g.learning_speed for g in ORIGIN_GROUPS] + [1.0])[people.group]
    speed = speed * (0.8 + 0.4 * people.education) * np.exp(0.25 * ability)
    years_here = np.clip((months[None, :] - people.arrival[:, None]) / 12, 0, 7)
    level = rng.normal(0.4, 0.5, n)[:, None] + speed[:, None] * years_here
    # Integration training teaches about two levels over its course.
    length = np.maximum(training_end - training_start, 1)
    progress = np.clip((months[None, :] - training_start[:, None]) / length[:, None], 0, 1)
    level = level + 2.0 * progress
    level = np.clip(level, 0, 12)
    return np.where((adult & foreign)[:, None], level, 12.0).astype(np.float32)


def _tests(
    people: People,
    adult: Bools,
    language: npt.NDArray[np.float32],
    plan_start: Ints,
    training_end: Ints,
    rng: np.random.Generator,
) -> Tests:
    """Initial assessments, course-end tests and national (YKI) tests."""
    n = len(people)
    yki_month = people.arrival + rng.integers(30, 90, n)
    yki = adult & (rng.random(n) < 0.25) & (yki_month < people.end)
    kinds = (
        ("initial_assessment", plan_start < NEVER, plan_start),
        ("course", training_end < NEVER, training_end - 1),
        ("yki", yki, yki_month),
    )
    person, month, assessment = [], [], []
    for name, has, when in kinds:
        ok = has & (when >= 0) & (when < N_MONTHS)
        idx = np.flatnonzero(ok)
        person.append(idx)
        month.append(when[idx])
        assessment.append(np.full(len(idx), ASSESSMENTS.index(name)))
    p, m = np.concatenate(person), np.concatenate(month)
    latent = language[p, m]
    rank = np.clip(np.floor(latent + rng.normal(0, 0.5, len(p))), 0, 12).astype(np.int64)
    order = np.lexsort((m, p))
    return Tests(
        p[order], m[order], rng.random(len(p)), np.concatenate(assessment)[order], rank[order]
    )


def forward_fill(values: npt.NDArray[np.int8] | npt.NDArray[np.int16], empty: int) -> npt.NDArray:
    """Carry the last non-empty value of each row forward along the months."""
    n, t = values.shape
    position = np.where(values != empty, np.arange(t), 0)
    np.maximum.accumulate(position, axis=1, out=position)
    filled = values[np.arange(n)[:, None], position]
    first_seen = np.maximum.accumulate(values != empty, axis=1)
    return np.where(first_seen, filled, empty)


def _observed_level(tests: Tests, n: int) -> npt.NDArray[np.int8]:
    """Latest overall test rank strictly before each month (-1 where none)."""
    marks = np.full((n, N_MONTHS + 1), -1, dtype=np.int8)
    # Tests are sorted by person and month, so the last of a month is written last.
    marks[tests.person, tests.month + 1] = tests.rank
    return forward_fill(marks[:, :N_MONTHS], -1).astype(np.int8)


def degree_level(degree: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """ISCED level of coded degrees (-1: none)."""
    return np.where(degree >= 0, degree // 16, -1).astype(np.int16)
