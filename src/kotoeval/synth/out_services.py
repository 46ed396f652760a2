"""Register rows about job seeking and services.

Job-seeker periods, service plans and service episodes (Skills Centres, integration training,
wage subsidies and other services of the unemployed).
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kotoeval.registers.codes import JOBSEEKER_STATUSES, PLANS, SERVICES
from kotoeval.registers.reference import load
from kotoeval.synth.calendar import date_in_month, date_text, month_of, month_start
from kotoeval.synth.chunk import Chunk, codes_text, runs, stable_hash, stable_uniform, text
from kotoeval.synth.context import IN_SERVICES, UNEMPLOYED, WITH
from kotoeval.synth.params import ESPOO, MUNICIPALITIES, N_MONTHS

Ints = npt.NDArray[np.int64]

#: Other services offered during unemployment: (share, shortest and longest months).
OTHER_SERVICES = {
    "labour_market_training": (0.25, 3, 8),
    "coaching": (0.2, 1, 3),
    "guidance_counselling": (0.2, 1, 1),
    "work_trial": (0.1, 1, 3),
    "self_motivated_study": (0.08, 6, 12),
    "talent_hub": (0.05, 1, 4),
    "rehabilitative_work": (0.07, 3, 9),
    "start_up_grant": (0.05, 6, 12),
}
#: Share of spells of unemployment offered one of them, and the chance each month after the
#: first that the offer begins (a geometric delay: four months on average).
_SERVICE_OFFER_SHARE = 0.4
_SERVICE_MONTHLY_CHANCE = 0.25
#: Providers of integration training in the capital region (names as providers write them).
TRAINING_PROVIDERS = ("Espoon työväenopisto", "Omnia", "Axxell", "Luksia", "Taitotalo",
                      "Keuda", "Careeria", "Edupoli", "Folkhälsan")  # fmt: skip
# Output status codes: index into JOBSEEKER_STATUSES plus one (0 = not a job seeker).
_UNEMPLOYED = JOBSEEKER_STATUSES.index("unemployed") + 1
_LAID_OFF = JOBSEEKER_STATUSES.index("laid_off") + 1
_IN_SERVICES = JOBSEEKER_STATUSES.index("in_services") + 1
_SUBSIDISED = JOBSEEKER_STATUSES.index("subsidised_employment") + 1


@dataclass
class ServiceRows:
    """Service episodes collected from several sources before they become one table."""

    person: list[Ints]
    service: list[Ints]
    provider: list[npt.NDArray[np.str_]]
    referral: list[npt.NDArray[np.datetime64]]
    start: list[npt.NDArray[np.datetime64]]
    end: list[npt.NDArray[np.datetime64]]
    ongoing: list[npt.NDArray[np.bool_]]
    reason: list[npt.NDArray[np.str_]]

    def add(
        self,
        person: Ints,
        service: str,
        provider: npt.ArrayLike,
        referral: npt.NDArray[np.datetime64],
        start: npt.NDArray[np.datetime64],
        end: npt.NDArray[np.datetime64],
        ongoing: npt.NDArray[np.bool_],
        reason: npt.ArrayLike,
    ) -> None:
        """Add episodes of one service."""
        k = len(person)
        self.person.append(person)
        self.service.append(np.full(k, SERVICES.index(service)))
        self.provider.append(np.broadcast_to(np.asarray(provider, dtype="<U40"), k))
        self.referral.append(referral)
        self.start.append(start)
        self.end.append(end)
        self.ongoing.append(ongoing)
        self.reason.append(
            np.where(ongoing, "", np.broadcast_to(np.asarray(reason, dtype="<U16"), k))
        )


def job_seeking(c: Chunk) -> npt.NDArray[np.int8]:
    """Output job-seeker status by month: laid-off starts and subsidised jobs refined."""
    status = c.recorded("status")
    out = np.where(
        status == UNEMPLOYED, _UNEMPLOYED, np.where(status == IN_SERVICES, _IN_SERVICES, 0)
    )
    out = out.astype(np.int8)
    employed = c.recorded("employed")
    gid = c.first_person + np.arange(len(c.people))
    trait = stable_hash(gid, np.full(len(gid), 13))
    # The first months after a job ends are a lay-off for some.
    row, first, last, _ = runs((out == _UNEMPLOYED).astype(np.int8))
    after_job = (
        (first > 0) & employed[row, np.maximum(first - 1, 0)] & (trait[row] % np.uint64(7) == 0)
    )
    for offset in range(3):
        m = first + offset
        sel = after_job & (m <= last)
        out[row[sel], m[sel]] = _LAID_OFF
    return out


def wage_subsidies(c: Chunk, status: npt.NDArray[np.int8]) -> tuple[Ints, Ints, Ints]:
    """Some jobs found after unemployment are wage-subsidised for their first months.

    Returns (person, first month, last month) of each subsidy and marks them in ``status``.
    """
    employed = c.recorded("employed").astype(np.int8)
    row, first, last, _ = runs(employed)
    from_unemployment = (first > 0) & (status[row, np.maximum(first - 1, 0)] == _UNEMPLOYED)
    chosen = from_unemployment & (stable_hash(c.first_person + row, first) % np.uint64(10) == 0)
    length = 6 + (stable_hash(row, first, np.full(len(row), 3)) % np.uint64(5)).astype(np.int64)
    end = np.minimum(first + length - 1, last)
    row, first, end = row[chosen], first[chosen], end[chosen]
    for offset in range(int((end - first).max(initial=-1)) + 1):
        m = first + offset
        sel = m <= end
        status[row[sel], m[sel]] = _SUBSIDISED
    return row, first, end


def _other_services(c: Chunk, status: npt.NDArray[np.int8], rows: ServiceRows) -> None:
    """Services offered a while into a spell of unemployment (coaching, training, work trials…).

    The delay from the spell's start is drawn without regard to how long the spell will last,
    and a spell that ends first gets no service. Registers written month by month cannot know
    the future: had services been spread over the whole spell, a service started before a month
    would tell that the spell ends soon, and a study matching on earlier services would select
    comparisons by what happens to them after the index month.
    """
    rng = c.rng
    unemployed = (status == _UNEMPLOYED) | (status == _LAID_OFF)
    row, first, last, _ = runs(unemployed.astype(np.int8))
    u_offer, u_delay, u_kind, u_length = (
        stable_uniform(c.first_person + row, first, np.full(len(row), salt))
        for salt in (5, 6, 7, 8)
    )
    delay = 1 + np.floor(np.log1p(-u_delay) / np.log1p(-_SERVICE_MONTHLY_CHANCE)).astype(np.int64)
    s_month = first + delay
    offered = (u_offer < _SERVICE_OFFER_SHARE) & (s_month <= last)
    names = list(OTHER_SERVICES)
    share = np.array([OTHER_SERVICES[s][0] for s in names])
    kind = np.minimum(np.searchsorted(np.cumsum(share / share.sum()), u_kind), len(names) - 1)
    for j, name in enumerate(names):
        sel = offered & (kind == j)
        n = int(sel.sum())
        _, lo, hi = OTHER_SERVICES[name]
        length = lo + (u_length[sel] * (hi - lo + 1)).astype(np.int64)
        e_month = np.minimum(s_month[sel] + length - 1, last[sel])
        start = date_in_month(s_month[sel], rng.random(n) * 0.5)
        stop = np.maximum(date_in_month(e_month, 0.5 + rng.random(n) * 0.5), start)
        referral = np.where(
            rng.random(n) < 0.3, np.datetime64("NaT"), start - np.timedelta64(10, "D")
        )
        rows.add(
            row[sel],
            name,
            "TE-SERVICES",
            referral,
            start,
            stop,
            e_month >= N_MONTHS - 1,
            "completed",
        )


def jobseeker_periods(c: Chunk, status: npt.NDArray[np.int8]) -> pa.Table:
    """Periods of constant status.

    Consecutive periods touch; a new registration starts mid-month.
    """
    row, first, last, value = runs(status)
    prev = np.where(first > 0, status[row, np.maximum(first - 1, 0)], 0)
    nxt = np.where(last < N_MONTHS - 1, status[row, np.minimum(last + 1, N_MONTHS - 1)], 0)
    day = c.rng.random((2, len(row)))
    start = np.where(prev > 0, month_start(first), date_in_month(first, day[0] * 0.5))
    end = np.where(
        nxt > 0,
        month_start(last + 1) - np.timedelta64(1, "D"),
        date_in_month(last, 0.5 + 0.5 * day[1]),
    )
    ongoing = last == N_MONTHS - 1
    p = c.people
    municipality = p.municipality(first, row)
    area = load("municipalities").attribute("employment_area")
    areas = np.array([area[code] for code in MUNICIPALITIES])
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(row)),
            "start_date": date_text(start),
            "end_date": date_text(end, ongoing),
            "status": codes_text(JOBSEEKER_STATUSES, value - 1),
            "employment_area": text(areas[municipality]),
        }
    )


def service_plans(c: Chunk, status: npt.NDArray[np.int8]) -> pa.Table:
    """Service plans of newcomers and of the unemployed.

    Newcomers get a skills assessment and an integration plan; the unemployed get employment
    plans, and the long-term unemployed sometimes a multisectoral plan.
    """
    p, bg = c.people, c.bg
    who = np.flatnonzero((bg.plan_start < N_MONTHS) & (bg.plan_start >= 0))
    d = c.rng.random((3, len(who)))
    assess_start = date_in_month(bg.plan_start[who], d[0] * 0.4)
    assess_end = assess_start + (d[1] * 21).astype("timedelta64[D]")
    plan_start = assess_end + np.timedelta64(1, "D")
    plan_end_month = bg.plan_end[who]
    plan_open = plan_end_month >= N_MONTHS
    plan_end = np.maximum(date_in_month(np.minimum(plan_end_month, N_MONTHS - 1), d[2]), plan_start)
    items = [
        (
            who,
            "skills_assessment",
            assess_start,
            assess_end,
            np.zeros(len(who), bool),
            bg.plan_start[who],
        ),
        (who, "integration_plan", plan_start, plan_end, plan_open, bg.plan_start[who]),
    ]
    unemployed = (status == _UNEMPLOYED) | (status == _LAID_OFF)
    row, first, last, _ = runs(unemployed.astype(np.int8))
    in_integration = (first >= bg.plan_start[row]) & (first < bg.plan_end[row])
    trait = stable_hash(c.first_person + row, first)
    # Plans are made while the spell lasts (in its second month; after a year for the
    # multisectoral one), so that a plan never tells how long the spell will go on.
    employment = (last - first >= 1) & ~in_integration & (trait % np.uint64(10) < 7)
    multi = (last - first >= 12) & ((trait >> np.uint64(9)) % np.uint64(100) < 15)
    d = c.rng.random((2, len(row)))
    for name, sel, offset in (
        ("employment_plan", employment, 1),
        ("multisectoral_plan", multi, 12),
    ):
        s_month = first[sel] + offset
        start = date_in_month(s_month, d[0][sel] * 0.5)
        ongoing = last[sel] == N_MONTHS - 1
        end = np.maximum(date_in_month(last[sel], 0.5 + 0.5 * d[1][sel]), start)
        items.append((row[sel], name, start, end, ongoing, s_month))

    person = np.concatenate([x[0] for x in items])
    plan = np.concatenate([np.full(len(x[0]), PLANS.index(x[1])) for x in items])
    start = np.concatenate([x[2] for x in items])
    end = np.concatenate([x[3] for x in items])
    ongoing = np.concatenate([x[4] for x in items])
    month = np.concatenate([x[5] for x in items])
    municipality = p.municipality(month, person)
    order = np.lexsort((plan, start, person))
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(person[order])),
            "plan": codes_text(PLANS, plan[order]),
            "start_date": date_text(start[order]),
            "end_date": date_text(end[order], ongoing[order]),
            "municipality": codes_text(MUNICIPALITIES, municipality[order]),
        }
    )


def services(
    c: Chunk, status: npt.NDArray[np.int8], subsidies: tuple[Ints, Ints, Ints]
) -> pa.Table:
    """Skills Centre episodes, integration training, wage subsidies and other services."""
    p, bg, rng = c.people, c.bg, c.rng
    rows = ServiceRows([], [], [], [], [], [], [], [])
    part = c.lives.participation
    employed = c.recorded("employed")
    voc = c.lives.vocational[WITH]
    for k, prog in enumerate(c.params.programmes):
        who = np.flatnonzero(part.programme == k)
        entry, end = part.entry[who], part.end[who] - 1
        start = date_in_month(entry, rng.random(len(who)) * 0.3)
        referral = start - rng.integers(7, 60, len(who)).astype("timedelta64[D]")
        ongoing = end >= N_MONTHS - 1
        stop = np.maximum(date_in_month(np.minimum(end, N_MONTHS - 1), rng.random(len(who))), start)
        client = voc.person
        during = (part.programme[client] == k) & (voc.start >= part.entry[client])
        during &= voc.start < part.end[client]
        went_to_school = np.zeros(len(p), dtype=bool)
        went_to_school[client[during]] = True
        reason = np.select(
            [
                p.end[who] <= part.end[who],
                rng.random(len(who)) < 0.08,
                went_to_school[who],
                employed[who, np.clip(end, 0, N_MONTHS - 1)],
            ],
            ["moved_away", "interrupted", "to_education", "employed"],
            "completed",
        )
        provider = f"ESPOO-{prog.service.upper()}"
        rows.add(who, prog.service, provider, referral, start, stop, ongoing, reason)

    who = np.flatnonzero((bg.training_start >= 0) & (bg.training_start < N_MONTHS))
    t_end = bg.training_end[who] - 1
    start = date_in_month(bg.training_start[who], rng.random(len(who)) * 0.3)
    stop = np.maximum(
        date_in_month(np.minimum(t_end, N_MONTHS - 1), 0.6 + rng.random(len(who)) * 0.4), start
    )
    school = stable_hash(c.first_person + who) % np.uint64(len(TRAINING_PROVIDERS))
    providers = np.array(TRAINING_PROVIDERS)[school.astype(np.int64)]
    reason = np.where(
        p.end[who] <= bg.training_end[who],
        "moved_away",
        np.where(rng.random(len(who)) < 0.1, "interrupted", "completed"),
    )
    rows.add(
        who,
        "integration_training",
        providers,
        start - np.timedelta64(30, "D"),
        start,
        stop,
        t_end >= N_MONTHS - 1,
        reason,
    )

    who, first, last = subsidies
    start = month_start(first)
    stop = month_start(last + 1) - np.timedelta64(1, "D")
    rows.add(
        who,
        "wage_subsidy",
        "TE-WAGE",
        start - np.timedelta64(14, "D"),
        start,
        stop,
        last >= N_MONTHS - 1,
        "completed",
    )

    _other_services(c, status, rows)

    person = np.concatenate(rows.person)
    service = np.concatenate(rows.service)
    start = np.concatenate(rows.start)
    referral = np.concatenate(rows.referral)
    ongoing = np.concatenate(rows.ongoing)
    municipality = p.municipality(month_of(start), person)
    is_programme = np.isin(service, [SERVICES.index("oske"), SERVICES.index("koske")])
    municipality = np.where(is_programme, MUNICIPALITIES.index(ESPOO), municipality)
    order = np.lexsort((service, start, person))
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(person[order])),
            "service": codes_text(SERVICES, service[order]),
            "provider": text(np.concatenate(rows.provider)[order]),
            "referral_date": date_text(referral[order], np.isnat(referral[order])),
            "start_date": date_text(start[order]),
            "end_date": date_text(np.concatenate(rows.end)[order], ongoing[order]),
            "end_reason": text(np.concatenate(rows.reason)[order], ongoing[order]),
            "municipality": codes_text(MUNICIPALITIES, municipality[order]),
        }
    )
