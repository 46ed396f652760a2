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

from kotoeval.registers.codes import ASSESSMENTS, PROGRAMMES
from kotoeval.synth.calendar import NEVER
from kotoeval.synth.params import GROUNDS, LANGUAGES, N_MONTHS, ORIGIN_GROUPS, WorldParameters
from kotoeval.synth.people import People

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
VOCATIONAL_FIELDS = {"10": 0.25, "09": 0.27, "07": 0.25, "04": 0.13, "06": 0.10}


@dataclass
class Episodes:
    """Education episodes (study rights) drawn before the monthly simulation."""

    person: Ints
    programme: Ints
    """Index into ``PROGRAMMES``."""
    field: npt.NDArray[np.str_]
    start: Ints
    end: Ints
    """Month the study right ends (may lie past the window: ongoing)."""
    outcome: npt.NDArray[np.str_]
    level: Ints
    """ISCED level the degree gives when completed; -1 for none."""


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
    episodes = _schooling(people, adult_immigrant, rng)
    studying, degree = _study_months(people, adult_immigrant, episodes, rng)
    months = np.arange(N_MONTHS)
    training = (months >= training_start[:, None]) & (months < training_end[:, None])

    wage_level = np.log(2700) + 0.18 * (people.education - 1) + 0.12 * ability - 0.1 * female
    wage_level = wage_level - np.where(adult_immigrant, 0.12, 0.0)
    expert_propensity = 1 / (1 + np.exp(-(-1.4 + 1.6 * (people.education - 1) + 0.4 * ability)))
    expert_propensity = np.where(adult_immigrant, expert_propensity * 0.7, expert_propensity)
    vocational_field = _choose(rng, VOCATIONAL_FIELDS, n)
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


def _choose(rng: np.random.Generator, options: dict[str, float], n: int) -> npt.NDArray[np.str_]:
    p = np.array(list(options.values()))
    return np.array(list(options))[rng.choice(len(options), size=n, p=p / p.sum())]


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


def _schooling(people: People, adult: Bools, rng: np.random.Generator) -> Episodes:
    """Study rights of those who grow up here, and of newcomers who come to study."""
    n = len(people)
    born = people.born_month
    edu = people.education
    grows_up_here = ~adult
    rows: list[tuple[Ints, int | Ints, npt.NDArray[np.str_] | str, Ints, Ints, Floats, int]] = []
    # Upper secondary at 16: general for the academically bound, otherwise vocational.
    start = born + 16 * 12 + 7
    general = (edu == 2) | ((edu == 1) & (rng.random(n) < 0.35))
    starts_upper = grows_up_here & ((edu >= 1) | (rng.random(n) < 0.5))
    completes = edu >= 1
    idx = np.flatnonzero(starts_upper & general)
    rows.append(
        (
            idx,
            PROGRAMMES.index("general_upper_secondary"),
            "00",
            start[idx],
            start[idx] + 35,
            completes[idx].astype(float),
            3,
        )
    )
    idx = np.flatnonzero(starts_upper & ~general)
    rows.append(
        (
            idx,
            PROGRAMMES.index("vocational_upper_secondary"),
            _choose(rng, VOCATIONAL_FIELDS, len(idx)),
            start[idx],
            start[idx] + 35,
            completes[idx].astype(float),
            3,
        )
    )
    # Tertiary after a gap year: universities and universities of applied sciences.
    t_start = start + 36 + 13
    idx = np.flatnonzero(grows_up_here & (edu == 2))
    uni = rng.random(len(idx)) < 0.5
    fields = _choose(rng, {f"{i:02d}": 1.0 for i in range(1, 11)}, len(idx))
    rows.append(
        (
            idx[uni],
            PROGRAMMES.index("university_bachelor"),
            fields[uni],
            t_start[idx[uni]],
            t_start[idx[uni]] + 41,
            np.ones(int(uni.sum())),
            6,
        )
    )
    rows.append(
        (
            idx[~uni],
            PROGRAMMES.index("applied_sciences_bachelor"),
            fields[~uni],
            t_start[idx[~uni]],
            t_start[idx[~uni]] + 47,
            np.ones(int((~uni).sum())),
            6,
        )
    )
    continues = rng.random(int(uni.sum())) < 0.7
    masters = idx[uni][continues]
    m_start = t_start[masters] + 42
    rows.append(
        (
            masters,
            PROGRAMMES.index("university_master"),
            fields[uni][continues],
            m_start,
            m_start + 23,
            np.ones(len(masters)),
            7,
        )
    )
    # Newcomers with study permits start a master's programme on arrival.
    study = GROUNDS.index("study")
    idx = np.flatnonzero(adult & (people.ground == study))
    rows.append(
        (
            idx,
            PROGRAMMES.index("university_master"),
            _choose(rng, {"06": 0.4, "07": 0.3, "04": 0.3}, len(idx)),
            people.arrival[idx],
            people.arrival[idx] + 24,
            (rng.random(len(idx)) < 0.75).astype(float),
            7,
        )
    )
    # Adults with little schooling: basic education for adults.
    idx = np.flatnonzero(adult & (edu == 0) & (rng.random(n) < 0.25))
    b_start = people.arrival[idx] + rng.integers(10, 30, len(idx))
    rows.append(
        (
            idx,
            PROGRAMMES.index("basic_education_adults"),
            "00",
            b_start,
            b_start + 18,
            (rng.random(len(idx)) < 0.6).astype(float),
            -1,
        )
    )

    person = np.concatenate([r[0] for r in rows])
    programme = np.concatenate([np.broadcast_to(np.asarray(r[1]), len(r[0])) for r in rows])
    field = np.concatenate(
        [np.broadcast_to(np.asarray(r[2]), len(r[0])).astype("<U2") for r in rows]
    )
    s = np.concatenate([r[3] for r in rows])
    planned_end = np.concatenate([r[4] for r in rows])
    done = np.concatenate([r[5] for r in rows]).astype(bool)
    level = np.concatenate([np.full(len(r[0]), r[6]) for r in rows])
    # Dropouts leave part-way; an emigrant's study right ends when they leave.
    drop_at = s + (rng.random(len(s)) * (planned_end - s)).astype(np.int64)
    end = np.where(done, planned_end, drop_at)
    leaves = people.end[person] <= end
    end = np.where(leaves, people.end[person] - 1, end)
    outcome = np.where(done & ~leaves, "completed", "dropped_out").astype("<U11")
    outcome[end >= N_MONTHS] = "ongoing"
    transferred = (outcome == "dropped_out") & (rng.random(len(s)) < 0.08)
    outcome[transferred] = "transferred"
    keep = (end >= 0) & (s < N_MONTHS) & (s < people.end[person]) & (end >= s)
    keep &= s >= people.start[person]
    order = np.lexsort((s[keep], person[keep]))
    return Episodes(
        person=person[keep][order],
        programme=programme[keep][order],
        field=field[keep][order],
        start=s[keep][order],
        end=end[keep][order],
        outcome=outcome[keep][order],
        level=np.where(outcome[keep] == "completed", level[keep], -1)[order],
    )


def _study_months(
    people: People, adult: Bools, episodes: Episodes, rng: np.random.Generator
) -> tuple[Bools, npt.NDArray[np.int16]]:
    """Months in study, and the registered degree (level × 16 + field) by month."""
    n = len(people)
    change = np.zeros((n, N_MONTHS + 1), dtype=np.int16)
    first = np.clip(episodes.start, 0, N_MONTHS)
    after = np.clip(episodes.end + 1, 0, N_MONTHS)
    np.add.at(change, (episodes.person, first), 1)
    np.add.at(change, (episodes.person, after), -1)
    studying = np.cumsum(change, axis=1)[:, :N_MONTHS] > 0

    # Degrees finished before the window, or abroad and recorded in Finland.
    edu = people.education
    recorded = np.where(edu == 2, np.where(rng.random(n) < 0.55, 6, 7), np.where(edu == 1, 3, -1))
    recorded_abroad = rng.random(n) < np.where(edu == 2, 0.5, 0.3)
    schooled_before = ~adult & (people.born_month + 16 * 12 + 7 < -36)
    before = np.where(schooled_before | (adult & recorded_abroad), recorded, -1)
    before_field = rng.integers(0, 11, n)
    before_field[before == 3] = 0
    # A degree is coded level * 16 + field, so the running maximum is the highest degree.
    degree = np.full((n, N_MONTHS + 1), -1, dtype=np.int16)
    degree[:, 0] = np.where(before >= 0, before * 16 + before_field, -1)
    done = (episodes.level >= 0) & (episodes.end < N_MONTHS)
    code = episodes.level * 16 + episodes.field.astype(np.int64)
    np.maximum.at(
        degree, (episodes.person[done], np.maximum(episodes.end[done] + 1, 0)), code[done]
    )
    return studying, np.maximum.accumulate(degree[:, :N_MONTHS], axis=1)


def degree_level(degree: npt.NDArray[np.int16]) -> npt.NDArray[np.int16]:
    """ISCED level of coded degrees (-1: none)."""
    return np.where(degree >= 0, degree // 16, -1).astype(np.int16)
