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

from kotoeval.synth.background import Background
from kotoeval.synth.calendar import NEVER
from kotoeval.synth.context import IDLE, IN_SERVICES, UNEMPLOYED, WITH, WITHOUT, WORLDS, Context
from kotoeval.synth.params import (
    ESPOO,
    MUNICIPALITIES,
    N_MONTHS,
    WorldParameters,
)
from kotoeval.synth.people import People
from kotoeval.synth.programmes import Participation, Selection, programme_effects

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]
#: Vocational programmes started in the loop: upper secondary, or further qualifications.
VOCATIONAL_UPPER, VOCATIONAL_FURTHER = 0, 1


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
    employed_without_degree: Bools
    """Recorded world, had vocational education left no mark on work (persons × months)."""
    expert_without_degree: Bools


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
    resident = people.resident(months[:, None]).T
    in_espoo = MUNICIPALITIES.index(ESPOO) == people.municipality(months[:, None]).T
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
    resident = people.resident(months[:, None]).T
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
        participation=Participation.none(n, len(params.programmes)),
        employed_without_degree=emp,
        expert_without_degree=expert,
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
        employed_without_degree=persons(lambda x: x.employed_without_degree),
        expert_without_degree=persons(lambda x: x.expert_without_degree),
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
    ctx = Context.of(people, bg)
    shape = (T, WORLDS, n)  # months first: each month's slice is contiguous
    employed = np.zeros(shape, dtype=bool)
    expert = np.zeros(shape, dtype=bool)
    employed_no_degree = np.zeros((T, n), dtype=bool)
    expert_no_degree = np.zeros((T, n), dtype=bool)
    status = np.zeros(shape, dtype=np.int8)
    studying = np.zeros(shape, dtype=bool)
    # A copy, not ascontiguousarray: that returns the read-only view itself when it is empty.
    degree = np.broadcast_to(bg.degree.T[:, None, :], shape).copy()
    language = np.broadcast_to(bg.language.T[:, None, :], shape).copy()
    unemployed0 = np.zeros((T + 1, n), dtype=np.int16)  # cumulative unemployed months, world 0
    employed0 = np.zeros((T + 1, n), dtype=np.int16)

    programmes = params.programmes
    part = Participation.none(n, len(programmes))
    voc_in = np.zeros((WORLDS, n), dtype=bool)
    voc_end = np.full((WORLDS, n), NEVER)
    voc_will_complete = np.zeros((WORLDS, n), dtype=bool)
    completed_at = np.full((WORLDS, n), NEVER)
    dropped_at = np.full((WORLDS, n), NEVER)
    voc_rows: list[list[Ints]] = [[], []]  # per world: person, kind, start, end, completed

    selection = Selection.of(people, params, espoo_residents)
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
        effect_index, gain, expert_gain = programme_effects(m, part, programmes, in_programme)
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
            + in_world_1 * effect_index[None, :]
            + 0.5 * conf
        )
        degree_boost = params.vocational_completed_employment * (
            completed_at <= m
        ) + params.vocational_dropped_employment * ((dropped_at <= m) & (completed_at > m))
        emp = working_age[None, :] & (index + degree_boost + ctx.shock[m][None, :] > 0)
        employed[m] = emp
        p_expert = np.minimum(bg.expert_propensity[None, :] + in_world_1 * expert_gain[None, :], 1)
        p_expert = p_expert * np.where(immigrant, np.clip((lang - 2) / 6, 0.2, 1.0), 1.0)
        expert[m] = emp & (occupation_draw[None, :] < p_expert)
        # The same month had the degree left no mark: for the truth of the education premium.
        employed_no_degree[m] = working_age & (index[WITH] + ctx.shock[m] > 0)
        expert_no_degree[m] = employed_no_degree[m] & (occupation_draw < p_expert[WITH])

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
            immigrant & resident & (age >= 18 * 12) & (age < 55 * 12) & ~in_pre_study & ~training
        )[None, :] & ~voc_in
        # Working adults study too (apprenticeships), though less often than job seekers.
        logit = (
            params.vocational_hazard_intercept
            - 1.0 * previous_emp
            + 0.6 * (people.education == 0)
            - 1.2 * (people.education == 2)
            + 0.25 * (lang - 4)
            - 0.02 * (age / 12 - 30)
            + 0.1 * bg.ability
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
        length = np.where(kind == VOCATIONAL_UPPER, 10 + u_length * 11, 6 + u_length * 10).astype(
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
        employed_without_degree=employed_no_degree.T,
        expert_without_degree=expert_no_degree.T,
    )


def _collect(rows: list[Ints]) -> Vocational:
    if not rows:
        empty = np.zeros(0, dtype=np.int64)
        return Vocational(empty, empty, empty, empty, empty.astype(bool))
    a = np.concatenate(rows, axis=1)
    return Vocational(a[0], a[1], a[2], a[3], a[4].astype(bool))
