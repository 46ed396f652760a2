"""Internal consistency of simulated lives, checked on one chunk of a small world."""

from __future__ import annotations

import numpy as np
import pyarrow as pa
import pytest

from kotoeval.synth import out_services
from kotoeval.synth.calendar import month_text
from kotoeval.synth.chunk import Chunk, runs
from kotoeval.synth.context import IN_SERVICES, UNEMPLOYED, WITH, WITHOUT
from kotoeval.synth.params import (
    ESPOO,
    LANGUAGES,
    MUNICIPALITIES,
    N_MONTHS,
    OSKE,
    WorldParameters,
    scale,
)
from kotoeval.synth.people import draw_people

MONTHS = np.arange(N_MONTHS)


@pytest.fixture(scope="module")
def chunk() -> Chunk:
    people = draw_people(scale("small"), np.random.default_rng(11))
    return Chunk.simulate(
        people.take(slice(0, 40_000)), WorldParameters(), 0, np.random.SeedSequence(5)
    )


def _resident(c: Chunk) -> np.ndarray:
    return (c.people.start[:, None] <= MONTHS) & (c.people.end[:, None] > MONTHS)


def test_no_work_money_or_services_outside_residence(chunk: Chunk) -> None:
    resident = _resident(chunk)
    for world in (WITHOUT, WITH):
        assert not (chunk.lives.employed[world] & ~resident).any()
        assert not ((chunk.lives.status[world] > 0) & ~resident).any()
        assert not ((chunk.money.earnings[world] > 0) & ~resident).any()
        assert not ((chunk.money.benefit[world] > 0) & ~resident).any()
    age = MONTHS[None, :] - chunk.people.born_month[:, None]
    assert not (chunk.lives.employed[WITH] & (age < 18 * 12)).any()


def test_benefits_only_while_seeking_work(chunk: Chunk) -> None:
    status = chunk.lives.status[WITH]
    paid = chunk.money.benefit[WITH] > 0
    assert not (paid & ~np.isin(status, [UNEMPLOYED, IN_SERVICES])).any()
    assert not (paid & chunk.lives.employed[WITH]).any()


def test_plans_only_for_residents(chunk: Chunk) -> None:
    bg = chunk.bg
    planned = bg.plan_start < N_MONTHS
    start = bg.plan_start[planned]
    assert (start >= chunk.people.start[planned]).all()
    assert (start < chunk.people.end[planned]).all()
    assert (bg.plan_end[planned] <= chunk.people.end[planned]).all()


def test_worlds_differ_only_for_clients(chunk: Chunk) -> None:
    clients = chunk.lives.participation.programme >= 0
    assert clients.sum() > 10
    same = (chunk.lives.employed[WITH] == chunk.lives.employed[WITHOUT]).all(axis=1)
    assert same[~clients].all()
    assert not same[clients].all()
    # Before entry the two worlds agree for clients too.
    entry = chunk.lives.participation.entry
    before = MONTHS[None, :] < entry[:, None]
    diff = chunk.money.earnings[WITH] != chunk.money.earnings[WITHOUT]
    assert not (diff & before).any()


def test_clients_are_eligible_when_they_enter(chunk: Chunk) -> None:
    part = chunk.lives.participation
    p = chunk.people
    who = np.flatnonzero(part.programme >= 0)
    entry = part.entry[who]
    municipality = np.where(
        entry < p.move[who], p.municipality_before[who], p.municipality_after[who]
    )
    assert (municipality == MUNICIPALITIES.index(ESPOO)).all()
    assert (entry >= (OSKE.first_year - 2012) * 12).all()
    assert (chunk.lives.status[WITHOUT][who, entry - 1] == UNEMPLOYED).all()
    assert chunk.bg.adult_immigrant[who].all()


def test_runs_finds_every_spell() -> None:
    flags = np.array([[0, 1, 1, 0, 2, 2], [3, 0, 0, 0, 0, 3]], dtype=np.int8)
    row, first, last, value = runs(flags)
    assert row.tolist() == [0, 0, 1, 1]
    assert first.tolist() == [1, 4, 0, 5]
    assert last.tolist() == [2, 5, 0, 5]
    assert value.tolist() == [1, 2, 3, 3]


def test_unobserved_confounding_when_asked() -> None:
    people = draw_people(scale("small"), np.random.default_rng(11)).take(slice(0, 40_000))
    seed = np.random.SeedSequence(5)
    clean = Chunk.simulate(people, WorldParameters(), 0, seed)
    confounded = Chunk.simulate(people, WorldParameters(confounding=1.5), 0, seed)
    gaps = []
    for c in (clean, confounded):
        clients = c.lives.participation.programme >= 0
        gaps.append(c.bg.confounder[clients].mean() - c.bg.confounder[c.bg.adult_immigrant].mean())
    assert abs(gaps[0]) < 0.15  # without confounding, the unobserved trait plays no part
    assert gaps[1] > gaps[0] + 0.15  # with it, clients are selected on it


def test_finnish_comes_faster_to_some(chunk: Chunk) -> None:
    """Time to B1.1 varies with education and origin (Estonian speakers learn fastest)."""
    bg, p = chunk.bg, chunk.people
    reached = (bg.language >= 6).argmax(axis=1).astype(float)
    reached[~(bg.language >= 6).any(axis=1)] = np.nan
    months = reached - np.maximum(p.arrival, 0)
    newcomers = bg.adult_immigrant & (p.arrival >= 0) & (p.arrival < 60)
    by_education = [np.nanmedian(months[newcomers & (p.education == e)]) for e in (0, 2)]
    assert by_education[1] < by_education[0]
    estonian, somali = (LANGUAGES.index(code) for code in ("et", "so"))
    fast = np.nanmedian(months[newcomers & (p.language == estonian)])
    slow = np.nanmedian(months[newcomers & (p.language == somali)])
    assert fast < slow


def test_integration_plans_last_at_most_three_years(chunk: Chunk) -> None:
    planned = chunk.bg.plan_start < N_MONTHS
    length = chunk.bg.plan_end[planned] - chunk.bg.plan_start[planned]
    assert (length <= 36).all() and (length > 0).all()


def test_a_chunk_without_adult_newcomers_simulates() -> None:
    """A chunk may hold no adult immigrant at all (it happened at small scale, seed 57)."""
    people = draw_people(scale("tiny"), np.random.default_rng(3))
    natives = people.take(np.flatnonzero(~people.immigrant)[:500])
    c = Chunk.simulate(natives, WorldParameters(), 0, np.random.SeedSequence(1))
    assert not c.bg.adult_immigrant.any()
    assert (c.lives.participation.programme < 0).all()


def test_service_and_plan_registers_do_not_look_ahead(chunk: Chunk) -> None:
    """What the service registers say began before a month does not change with what follows.

    Ending every spell of job seeking at ``cut`` must leave the services and plans that began
    earlier as they were; a register that placed them knowing how long a spell would last would
    let a study's covariates foretell its outcomes.
    """
    status = out_services.job_seeking(chunk)
    subsidies = out_services.wage_subsidies(chunk, status)
    cut = N_MONTHS - 40
    ended = status.copy()
    ended[:, cut:] = 0

    cut_month = month_text(np.array([cut]))[0].as_py()

    def begun_before_cut(table: pa.Table, column: str, kinds: list[str]) -> set[tuple[str, ...]]:
        t = table.to_pandas()
        month = t["start_date"].str[:7]
        t = t[t[column].isin(kinds) & (month < cut_month)]
        return set(zip(t["hetu"], t[column], month[t.index], strict=True))

    def services(s: np.ndarray) -> pa.Table:
        return out_services.services(chunk, s, subsidies)

    def plans(s: np.ndarray) -> pa.Table:
        return out_services.service_plans(chunk, s)

    for build, column, kinds in (
        (services, "service", list(out_services.OTHER_SERVICES)),
        (plans, "plan", ["employment_plan", "multisectoral_plan"]),
    ):
        before = begun_before_cut(build(status), column, kinds)
        assert len(before) > 1_000
        assert begun_before_cut(build(ended), column, kinds) == before
