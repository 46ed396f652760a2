"""Register rows about persons: population, residence permits, education and language tests."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kotoeval.registers.codes import (
    ASSESSMENTS,
    EDUCATION_FIELDS,
    LANGUAGE_LEVELS,
    PROGRAMMES,
    SKILLS,
)
from kotoeval.synth.calendar import NEVER, date_in_month, date_text, month_start
from kotoeval.synth.chunk import Chunk, codes_text, stable_hash, text
from kotoeval.synth.context import IN_SERVICES, UNEMPLOYED, WITH
from kotoeval.synth.lives import VOCATIONAL_UPPER
from kotoeval.synth.params import (
    COUNTRIES,
    FIRST_YEAR,
    GROUNDS,
    LANGUAGES,
    LAST_YEAR,
    MUNICIPALITIES,
    N_MONTHS,
)
from kotoeval.synth.people import NATIVE

YEARS = np.arange(FIRST_YEAR, LAST_YEAR + 1)
PENSION = 21_000.0
STUDENT_SUPPORT = 3_200.0


def population(c: Chunk) -> pa.Table:
    """One row per person and year when resident on 31 December."""
    p = c.people
    december = (YEARS - FIRST_YEAR) * 12 + 11
    resident = p.resident(december[:, None]).T
    person, y = np.nonzero(resident)
    m = december[y]
    age = m - p.born_month[person]
    employed = c.recorded("employed")[person, m]
    status = c.recorded("status")[person, m]
    studying = c.recorded("studying")[person, m]
    activity = np.select(
        [
            age < 15 * 12,
            employed,
            (status == UNEMPLOYED) | (status == IN_SERVICES),
            studying,
            age >= c.bg.retire_age[person],
        ],
        [21, 11, 12, 22, 24],
        default=29,
    )
    conscript = (p.group[person] == NATIVE) & (p.sex[person] == 1) & (age // 12 == 19)
    activity = np.where(conscript & (activity == 29), 25, activity)
    degree = c.recorded("degree")[person, m]
    citizenship = np.where(
        m >= p.naturalisation[person], COUNTRIES.index("FI"), p.citizenship[person]
    )

    # Children under 18 in the family, counted per household and year.
    child = age < 18 * 12
    key = p.household[person] * len(YEARS) + y
    uniq, inverse = np.unique(key, return_inverse=True)
    children = np.bincount(inverse, weights=child, minlength=len(uniq))[inverse].astype(np.int64)

    year_of_rows = y[:, None] * 12 + np.arange(12)[None, :]
    earnings = c.money.earnings[WITH][person[:, None], year_of_rows].sum(axis=1)
    benefits = c.money.benefit[WITH][person[:, None], year_of_rows].sum(axis=1)
    income = 0.76 * earnings + 0.9 * benefits
    income += np.where(activity == 24, PENSION, 0.0) + np.where(
        activity == 22, STUDENT_SUPPORT, 0.0
    )
    income = np.where(age < 15 * 12, 0.0, income)
    immigrated = p.arrival[person] > -NEVER
    arrival_date = date_in_month(np.maximum(p.arrival[person], -NEVER + 1), p.arrival_day[person])
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(person)),
            "year": codes_text(tuple(str(year) for year in YEARS), y),
            "municipality": codes_text(
                MUNICIPALITIES,
                p.municipality(m, person),
            ),
            "sex": text(p.sex[person]),
            "country_of_birth": codes_text(COUNTRIES, p.country_of_birth[person]),
            "citizenship": codes_text(COUNTRIES, citizenship),
            "language": codes_text(LANGUAGES, p.language[person]),
            "immigration_date": date_text(arrival_date, ~immigrated),
            "education_level": codes_text(
                tuple(str(i) for i in range(9)), degree // 16, degree < 0
            ),
            "education_field": codes_text(EDUCATION_FIELDS, degree % 16, degree < 0),
            "main_activity": text(activity),
            "family_id": _family_ids(p.household).take(pa.array(person)),
            "children": text(children),
            "disposable_income": text(np.round(income, 0)),
        }
    )


def _family_ids(household: npt.NDArray[np.int64]) -> pa.Array:
    """The statistics office's family identifier of each person (``PK`` + 9 digits)."""
    return pa.array(np.char.add("PK", np.char.zfill(household.astype(str), 9)))


def residence_permits(c: Chunk) -> pa.Table:
    """Permits of the foreign-born.

    EU citizens register their right of residence; others hold a temporary, then a continuous
    and perhaps a permanent permit. A permit lapses on emigration or naturalisation.
    """
    p = c.people
    rng = c.rng
    who = np.flatnonzero((p.ground >= 0) & (p.arrival > -NEVER))
    ground = p.ground[who]
    eu = ground == GROUNDS.index("eu_registration")
    tp = ground == GROUNDS.index("temporary_protection")
    arrive = date_in_month(p.arrival[who], p.arrival_day[who])
    lapse_month = np.minimum(np.minimum(p.end[who], p.naturalisation[who]), N_MONTHS + 24)
    lapse = month_start(lapse_month) - np.timedelta64(1, "D")
    stays_48 = (p.end[who] - p.arrival[who] >= 48) & (rng.random(len(who)) < 0.7) & ~eu & ~tp

    rows = []  # (person, start, end, ground, type)
    first_end = np.where(eu | tp, lapse, np.minimum(arrive + np.timedelta64(364, "D"), lapse))
    first_type = np.where(eu, "eu_right_of_residence", "temporary")
    rows.append((who, arrive, first_end, ground, first_type, eu | tp))
    renew = ~eu & ~tp & (first_end < lapse)
    cont_start = first_end + np.timedelta64(1, "D")
    perm_start = month_start(p.arrival[who] + 48)
    cont_end = np.where(stays_48, perm_start - np.timedelta64(1, "D"), lapse)
    rows.append(
        (
            who[renew],
            cont_start[renew],
            cont_end[renew],
            ground[renew],
            np.full(int(renew.sum()), "continuous"),
            np.zeros(int(renew.sum()), bool),
        )
    )
    perm = stays_48 & renew & (perm_start < lapse)
    rows.append(
        (
            who[perm],
            perm_start[perm],
            lapse[perm],
            ground[perm],
            np.full(int(perm.sum()), "permanent"),
            np.zeros(int(perm.sum()), bool),
        )
    )

    person = np.concatenate([r[0] for r in rows])
    start = np.concatenate([r[1] for r in rows])
    end = np.concatenate([r[2] for r in rows])
    grounds = np.concatenate([r[3] for r in rows])
    kinds = np.concatenate([r[4] for r in rows])
    # A permit still valid when the data were extracted has no end date.
    open_end = end >= month_start(N_MONTHS)
    order = np.lexsort((start, person))
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(person[order])),
            "permit_start": date_text(start[order]),
            "permit_end": date_text(end[order], open_end[order]),
            "ground": codes_text(GROUNDS, grounds[order]),
            "permit_type": text(kinds[order]),
        }
    )


def education(c: Chunk) -> pa.Table:
    """Study rights: those drawn beforehand and the vocational ones started in the loop."""
    e = c.bg.episodes
    v = c.lives.vocational[WITH]
    programme = np.concatenate(
        [
            e.programme,
            np.where(
                v.kind == VOCATIONAL_UPPER,
                PROGRAMMES.index("vocational_upper_secondary"),
                PROGRAMMES.index("vocational_further"),
            ),
        ]
    )
    person = np.concatenate([e.person, v.person])
    field = np.concatenate([e.field, c.bg.vocational_field[v.person]])
    start = np.concatenate([e.start, v.start])
    end = np.concatenate([e.end, v.end])
    outcome = np.concatenate([e.outcome, np.where(v.completed, "completed", "dropped_out")])
    ongoing = end >= N_MONTHS
    outcome = np.where(ongoing, "ongoing", outcome)
    day = c.rng.random((2, len(person)))
    start_date = date_in_month(start, day[0] * 0.5)
    end_date = date_in_month(np.minimum(end, N_MONTHS - 1), 0.5 + day[1] * 0.5)
    order = np.lexsort((start, person))
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(person[order])),
            "programme": codes_text(PROGRAMMES, programme[order]),
            "field": text(field[order]),
            "start_date": date_text(start_date[order]),
            "end_date": date_text(end_date[order], ongoing[order]),
            "outcome": text(outcome[order]),
        }
    )


def language_tests(c: Chunk) -> pa.Table:
    """Every test writes an overall level; course-end and YKI tests also write four skills."""
    t = c.bg.tests
    gain = c.lives.language[WITH][t.person, t.month] - c.lives.language[0][t.person, t.month]
    rank = np.clip(t.rank + np.round(gain).astype(np.int64), 0, len(LANGUAGE_LEVELS) - 1)
    per_skill = t.assessment != ASSESSMENTS.index("initial_assessment")
    repeat = np.where(per_skill, len(SKILLS), 1)
    idx = np.repeat(np.arange(len(t.person)), repeat)
    skill = np.concatenate([np.arange(k) for k in repeat]) if len(repeat) else np.zeros(0, np.int64)
    jitter = np.where(skill == 0, 0, c.rng.integers(-1, 2, len(idx)))
    level = np.clip(rank[idx] + jitter, 0, len(LANGUAGE_LEVELS) - 1)
    # One newcomer in twenty learns Swedish rather than Finnish.
    swedish = stable_hash(c.first_person + t.person[idx]) % np.uint64(20) == 0
    test_date = date_in_month(t.month[idx], t.day[idx])
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(t.person[idx])),
            "test_date": date_text(test_date),
            "language": text(np.where(swedish, "sv", "fi")),
            "skill": codes_text(SKILLS, skill),
            "level": codes_text(LANGUAGE_LEVELS, level),
            "assessment": codes_text(ASSESSMENTS, t.assessment[idx]),
        }
    )
