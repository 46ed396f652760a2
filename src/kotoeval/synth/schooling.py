"""Schooling drawn before the monthly simulation, and the degrees it leaves in the registers.

Those who grow up here go through upper secondary and, some, higher education; newcomers with
study permits start a master's programme; adults with little schooling may take basic
education for adults. Vocational education of adult newcomers is not here: it happens in the
monthly loop, where the programmes can change it.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kotoeval.registers.codes import PROGRAMMES
from kotoeval.synth.params import GROUNDS, N_MONTHS
from kotoeval.synth.people import People

Ints = npt.NDArray[np.int64]
Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]

#: Fields of vocational education of adult newcomers (ISCED-F broad fields) and their shares.
VOCATIONAL_FIELDS = {"10": 0.25, "09": 0.27, "07": 0.25, "04": 0.13, "06": 0.10}


def choose(rng: np.random.Generator, options: dict[str, float], n: int) -> npt.NDArray[np.str_]:
    """Draw ``n`` of the options' keys with the given weights."""
    p = np.array(list(options.values()))
    return np.array(list(options))[rng.choice(len(options), size=n, p=p / p.sum())]


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


def draw_schooling(people: People, adult: Bools, rng: np.random.Generator) -> Episodes:
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
            choose(rng, VOCATIONAL_FIELDS, len(idx)),
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
    fields = choose(rng, {f"{i:02d}": 1.0 for i in range(1, 11)}, len(idx))
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
            choose(rng, {"06": 0.4, "07": 0.3, "04": 0.3}, len(idx)),
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


def study_months(
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
