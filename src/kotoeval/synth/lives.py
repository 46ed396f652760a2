"""Lives month by month, in two potential worlds at once.

World 0 is the world without the programmes; world 1 is the world with them, which is the one
the registers record. Both are driven by the same random draws, so for everyone who never takes
part they are identical, and for every client the difference between them is the programme's
true effect on that person. Selection into a programme looks only at world 0 up to the entry
month (where both worlds still agree) and at covariates the registers record, unless an
unobserved confounder is asked for.

The loop runs over the 156 months with vector operations over persons and worlds: there is no
Python loop per person or per person-month.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kotoeval.registers.codes import LANGUAGE_LEVELS
from kotoeval.synth.background import Background
from kotoeval.synth.calendar import NEVER
from kotoeval.synth.params import (
    ESPOO,
    ESPOO_RESIDENTS,
    FIRST_YEAR,
    GROUNDS,
    HUMANITARIAN,
    MUNICIPALITIES,
    N_MONTHS,
    ProgrammeParameters,
    WorldParameters,
)
from kotoeval.synth.people import People

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
WORLDS = 2
WITHOUT, WITH = 0, 1

#: Job-seeker status codes of the simulation (refined on output).
IDLE, UNEMPLOYED, IN_SERVICES = 0, 1, 2
#: Vocational programmes started in the loop: upper secondary, or further qualifications.
VOCATIONAL_UPPER, VOCATIONAL_FURTHER = 0, 1


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


@dataclass
class Vocational:
    """Vocational study rights started in the loop, in one world."""

    person: Ints
    kind: Ints
    start: Ints
    end: Ints
    completed: Bools


@dataclass
class Lives:
    """Monthly states of a chunk in both worlds (arrays: worlds × persons × months)."""

    employed: Bools
    expert: Bools
    status: npt.NDArray[np.int8]
    studying: Bools
    """In any study right (pre-drawn or vocational from the loop)."""
    degree: npt.NDArray[np.int16]
    language: npt.NDArray[np.float32]
    completed_at: Ints
    """Month of the first vocational completion per world and person (``NEVER``: none)."""
    dropped_at: Ints
    vocational: tuple[Vocational, Vocational]
    participation: Participation


@dataclass
class _Context:
    """Per-person arrays the loop reads every month, computed once (months on the first axis)."""

    born: Ints
    start: Ints
    end: Ints
    arrival: Ints
    move: Ints
    municipality_before: npt.NDArray[np.int16]
    municipality_after: npt.NDArray[np.int16]
    shock: npt.NDArray[np.float32]
    studying: Bools
    training: Bools
    observed_language: npt.NDArray[np.int8]
    vocational_field: npt.NDArray[np.int16]

    @classmethod
    def of(cls, people: People, bg: Background) -> _Context:
        return cls(
            born=people.born_month,
            start=people.start,
            end=people.end,
            arrival=people.arrival,
            move=people.move,
            municipality_before=people.municipality_before,
            municipality_after=people.municipality_after,
            shock=np.ascontiguousarray(bg.shock.T),
            studying=np.ascontiguousarray(bg.studying.T),
            training=np.ascontiguousarray(bg.training.T),
            observed_language=np.ascontiguousarray(bg.observed_language.T),
            vocational_field=bg.vocational_field.astype(np.int16),
        )

    def resident(self, m: int) -> Bools:
        return (self.start <= m) & (m < self.end)

    def in_espoo(self, m: int, espoo: int) -> Bools:
        return np.where(m < self.move, self.municipality_before, self.municipality_after) == espoo


def _months_last(a: npt.NDArray) -> npt.NDArray:
    """(months, worlds, persons) → (worlds, persons, months) as a view."""
    return np.moveaxis(a, 0, -1)


def simulate(
    people: People, bg: Background, params: WorldParameters, rng: np.random.Generator
) -> Lives:
    """Simulate a chunk's monthly lives in both potential worlds.

    Only newcomers who arrived as adults can enter a programme or start vocational education in
    the loop; everyone else's months follow in one vectorised pass, identical in both worlds.
    """
    n = len(people)
    months = np.arange(N_MONTHS)
    resident = (people.start[:, None] <= months) & (months < people.end[:, None])
    in_espoo = np.where(
        months < people.move[:, None],
        people.municipality_before[:, None],
        people.municipality_after[:, None],
    ) == MUNICIPALITIES.index(ESPOO)
    espoo_residents = (resident & in_espoo).sum(axis=0)
    occupation_draw = rng.random(n)
    loop = np.flatnonzero(bg.adult_immigrant)
    rest = np.flatnonzero(~bg.adult_immigrant)
    inner = _integrating(
        people.take(loop), bg.persons(loop), params, occupation_draw[loop], espoo_residents, rng
    )
    settled = _settled(people.take(rest), bg.persons(rest), params, occupation_draw[rest])
    return _merge(n, (loop, inner), (rest, settled))


def _settled(
    people: People,
    bg: Background,
    params: WorldParameters,
    occupation_draw: npt.NDArray[np.float64],
) -> Lives:
    """Lives of those who grew up here or speak Finnish or Swedish: no programme, no loop."""
    n = len(people)
    months = np.arange(N_MONTHS)
    age = months[None, :] - people.born_month[:, None]
    resident = (people.start[:, None] <= months) & (months < people.end[:, None])
    working_age = resident & (age >= 18 * 12) & (age < bg.retire_age[:, None])
    index = (
        bg.base_index[:, None]
        - 0.6 * (age >= 60 * 12)
        - 1.6 * bg.studying
        + 0.5 * params.confounding * bg.confounder[:, None]
    )
    emp = working_age & (index + bg.shock > 0)
    expert = emp & (occupation_draw < bg.expert_propensity)[:, None]
    idle = working_age & ~emp & ~bg.studying & bg.registers_when_idle[:, None]
    status = np.where(idle, UNEMPLOYED, IDLE).astype(np.int8)
    never = np.full((WORLDS, n), NEVER)
    empty = _collect([])

    def both(a: npt.NDArray) -> npt.NDArray:
        return np.broadcast_to(a[None], (WORLDS, *a.shape))

    return Lives(
        employed=both(emp),
        expert=both(expert),
        status=both(status),
        studying=both(bg.studying & resident),
        degree=both(bg.degree),
        language=both(bg.language),
        completed_at=never,
        dropped_at=never.copy(),
        vocational=(empty, empty),
        participation=Participation(
            programme=np.full(n, -1),
            entry=np.full(n, NEVER),
            end=np.full(n, NEVER),
            effect_scale=np.ones(n),
            eligible_first=np.full((n, len(params.programmes)), NEVER),
        ),
    )


def _merge(n: int, *parts: tuple[Ints, Lives]) -> Lives:
    """Put the lives of disjoint subsets of a chunk back in the chunk's person order."""
    first = parts[0][1]

    def months(name: str) -> npt.NDArray:
        like = getattr(first, name)
        out = np.empty((WORLDS, n, N_MONTHS), dtype=like.dtype)
        for index, lives in parts:
            out[:, index, :] = getattr(lives, name)
        return out

    def persons(get: Callable[[Lives], npt.NDArray], axis: int = 0) -> npt.NDArray:
        like = get(first)
        shape = list(like.shape)
        shape[axis] = n
        out = np.empty(shape, dtype=like.dtype)
        for index, lives in parts:
            np.moveaxis(out, axis, 0)[index] = np.moveaxis(get(lives), axis, 0)
        return out

    vocational = []
    for w in range(WORLDS):
        rows = [(index, lives.vocational[w]) for index, lives in parts]
        vocational.append(
            Vocational(
                person=np.concatenate([index[v.person] for index, v in rows]),
                kind=np.concatenate([v.kind for _, v in rows]),
                start=np.concatenate([v.start for _, v in rows]),
                end=np.concatenate([v.end for _, v in rows]),
                completed=np.concatenate([v.completed for _, v in rows]),
            )
        )
    return Lives(
        employed=months("employed"),
        expert=months("expert"),
        status=months("status"),
        studying=months("studying"),
        degree=months("degree"),
        language=months("language"),
        completed_at=persons(lambda x: x.completed_at, 1),
        dropped_at=persons(lambda x: x.dropped_at, 1),
        vocational=(vocational[0], vocational[1]),
        participation=Participation(
            programme=persons(lambda x: x.participation.programme),
            entry=persons(lambda x: x.participation.entry),
            end=persons(lambda x: x.participation.end),
            effect_scale=persons(lambda x: x.participation.effect_scale),
            eligible_first=persons(lambda x: x.participation.eligible_first),
        ),
    )


def _integrating(
    people: People,
    bg: Background,
    params: WorldParameters,
    occupation_draw: npt.NDArray[np.float64],
    espoo_residents: Ints,
    rng: np.random.Generator,
) -> Lives:
    """The monthly loop for newcomers who arrived as adults, in both worlds."""
    n = len(people)
    T = N_MONTHS
    ctx = _Context.of(people, bg)
    shape = (T, WORLDS, n)  # months first: each month's slice is contiguous
    employed = np.zeros(shape, dtype=bool)
    expert = np.zeros(shape, dtype=bool)
    status = np.zeros(shape, dtype=np.int8)
    studying = np.zeros(shape, dtype=bool)
    degree = np.ascontiguousarray(np.broadcast_to(bg.degree.T[:, None, :], shape))
    language = np.ascontiguousarray(np.broadcast_to(bg.language.T[:, None, :], shape))
    unemployed0 = np.zeros((T + 1, n), dtype=np.int16)  # cumulative unemployed months, world 0
    employed0 = np.zeros((T + 1, n), dtype=np.int16)

    programmes = params.programmes
    part = Participation(
        programme=np.full(n, -1),
        entry=np.full(n, NEVER),
        end=np.full(n, NEVER),
        effect_scale=np.ones(n),
        eligible_first=np.full((n, len(programmes)), NEVER),
    )
    voc_in = np.zeros((WORLDS, n), dtype=bool)
    voc_end = np.full((WORLDS, n), NEVER)
    voc_will_complete = np.zeros((WORLDS, n), dtype=bool)
    completed_at = np.full((WORLDS, n), NEVER)
    dropped_at = np.full((WORLDS, n), NEVER)
    voc_rows: list[list[Ints]] = [[], []]  # per world: person, kind, start, end, completed

    selection = _Selection.of(people, params, espoo_residents)
    in_world_1 = (np.arange(WORLDS) == WITH)[:, None]
    immigrant = bg.adult_immigrant
    conf = params.confounding * bg.confounder

    for m in range(T):
        age = m - ctx.born
        resident = ctx.resident(m)
        working_age = resident & (age >= 18 * 12) & (age < bg.retire_age)
        in_pre_study = ctx.studying[m]
        training = ctx.training[m]

        # Vocational study rights end (completed or dropped) at the end of their last month.
        ending = voc_in & (voc_end < m)
        voc_in &= ~ending
        completed_at = np.where(
            ending & voc_will_complete & (completed_at == NEVER), m, completed_at
        )
        dropped_at = np.where(ending & ~voc_will_complete & (dropped_at == NEVER), m, dropped_at)
        upgraded = (completed_at <= m) & (degree[m] < 3 * 16)
        degree[m] = np.where(upgraded, 3 * 16 + ctx.vocational_field[None, :], degree[m])

        # Selection looks at world 0 up to last month, where both worlds still agree.
        selection.draw(m, ctx, bg, part, status, degree, unemployed0, employed0, resident, rng)
        in_programme = (part.entry <= m) & (m < part.end)

        # ---- programme effects (world 1 only) ----
        effect_index, gain, expert_gain = _programme_effects(m, part, programmes, in_programme)
        language[m, WITH] += gain.astype(np.float32)
        lang = language[m]

        # ---- employment ----
        study_now = in_pre_study[None, :] | voc_in
        years_here = (m - ctx.arrival) / 60
        index = (
            bg.base_index[None, :]
            + np.where(immigrant, 0.16 * (lang - 5) - 1.3 * np.clip(1 - years_here, 0, 1), 0.0)
            - 0.6 * (age >= 60 * 12)
            - 1.6 * study_now
            - 2.0 * training[None, :]
            + params.vocational_completed_employment * (completed_at <= m)
            + params.vocational_dropped_employment * ((dropped_at <= m) & (completed_at > m))
            + in_world_1 * effect_index[None, :]
            + 0.5 * conf
        )
        emp = working_age[None, :] & (index + ctx.shock[m][None, :] > 0)
        employed[m] = emp
        p_expert = np.minimum(bg.expert_propensity[None, :] + in_world_1 * expert_gain[None, :], 1)
        p_expert = p_expert * np.where(immigrant, np.clip((lang - 2) / 6, 0.2, 1.0), 1.0)
        expert[m] = emp & (occupation_draw[None, :] < p_expert)

        # ---- job seeking ----
        idle = working_age[None, :] & ~emp & ~study_now & bg.registers_when_idle[None, :]
        services = (training[None, :] | (in_programme[None, :] & in_world_1)) & resident & ~emp
        status[m] = np.where(services, IN_SERVICES, np.where(idle, UNEMPLOYED, IDLE))
        studying[m] = study_now & resident
        unemployed0[m + 1] = unemployed0[m] + (status[m, WITHOUT] == UNEMPLOYED)
        employed0[m + 1] = employed0[m] + emp[WITHOUT]

        # ---- vocational education starts ----
        multiplier = np.ones((WORLDS, n))
        for k, prog in enumerate(programmes):
            window = (part.programme == k) & (m >= part.entry) & (m < part.entry + 24)
            excess = (prog.vocational_start_multiplier - 1) * part.effect_scale
            multiplier[WITH] = np.where(window, 1 + excess, multiplier[WITH])
        previous_emp = employed[m - 1] if m > 0 else np.zeros((WORLDS, n), dtype=bool)
        candidate = (
            (
                immigrant
                & resident
                & (age >= 18 * 12)
                & (age < 55 * 12)
                & ~in_pre_study
                & ~training
                & (people.education <= 1)
            )[None, :]
            & ~voc_in
            & ~previous_emp
        )
        logit = (
            params.vocational_hazard_intercept
            + 0.6 * (people.education == 0)
            + 0.25 * (lang - 4)
            - 0.035 * (age / 12 - 30)
            + 0.3 * bg.ability
            - 0.7 * (dropped_at <= m)
            - 1.2 * (completed_at <= m)
            + params.vocational_unemployed_shift * (status[m - 1] != IDLE if m > 0 else 0)
            + 0.5 * conf
        )
        hazard = multiplier / (1 + np.exp(-logit))
        u_start, u_kind, u_length, u_outcome = rng.random((4, n))
        starts = candidate & (u_start[None, :] < hazard)
        if not starts.any():
            continue
        kind = np.where(u_kind < 0.8, VOCATIONAL_UPPER, VOCATIONAL_FURTHER)
        length = np.where(kind == VOCATIONAL_UPPER, 12 + u_length * 13, 6 + u_length * 10).astype(
            np.int64
        )
        quality = params.vocational_completion_intercept + 0.3 * (lang - 5) + 0.4 * bg.ability
        completes = u_outcome[None, :] < 1 / (1 + np.exp(-quality))
        planned_end = m + length[None, :] - 1
        drop_month = m + 2 + (u_length * np.maximum(length - 3, 1)).astype(np.int64)
        end = np.minimum(np.where(completes, planned_end, drop_month), ctx.end[None, :] - 1)
        completes &= end == planned_end
        voc_in |= starts
        voc_end = np.where(starts, end, voc_end)
        voc_will_complete = np.where(starts, completes, voc_will_complete)
        for w in range(WORLDS):
            who = np.flatnonzero(starts[w])
            voc_rows[w].append(
                np.stack([who, kind[who], np.full(len(who), m), end[w, who], completes[w, who]])
            )

    vocational = tuple(_collect(rows) for rows in voc_rows)
    return Lives(
        employed=_months_last(employed),
        expert=_months_last(expert),
        status=_months_last(status),
        studying=_months_last(studying),
        degree=_months_last(degree),
        language=_months_last(language),
        completed_at=completed_at,
        dropped_at=dropped_at,
        vocational=(vocational[0], vocational[1]),
        participation=part,
    )


def _programme_effects(
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


def _collect(rows: list[Ints]) -> Vocational:
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Vocational(empty, empty, empty, empty, empty.astype(bool))
    a = np.concatenate(rows, axis=1)
    return Vocational(a[0], a[1], a[2], a[3], a[4].astype(bool))


@dataclass
class _Selection:
    """Entry into the programmes: who is eligible, and hazards on observed covariates."""

    params: WorldParameters
    female: Bools
    humanitarian: Bools
    labour_ground: Bools
    espoo: int
    espoo_residents: Ints
    """Residents of Espoo in the whole chunk by month: the programmes' capacity scales with it."""

    @classmethod
    def of(cls, people: People, params: WorldParameters, espoo_residents: Ints) -> _Selection:
        def grounds(*names: str) -> Bools:
            return np.isin(people.ground, [GROUNDS.index(g) for g in names])

        return cls(
            params=params,
            female=people.sex == 2,
            humanitarian=grounds(*HUMANITARIAN, "family"),
            labour_ground=grounds("work", "study"),
            espoo=MUNICIPALITIES.index(ESPOO),
            espoo_residents=espoo_residents,
        )

    def draw(
        self,
        m: int,
        ctx: _Context,
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
            scale = scale * np.where(self.female, p.effect_female, 1.0)
            scale = scale * np.where(
                observed_level < LANGUAGE_LEVELS.index("A2.1"), p.effect_low_language, 1.0
            )
            part.effect_scale[enters] = scale[enters]
