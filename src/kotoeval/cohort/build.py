"""Cohorts with rolling entry, written once in Ibis (DuckDB by default, the same on Spark).

A client enters in the month their first episode of the service starts (the *index month*).
Every other person is a candidate comparison at *every* month of the entry window in which
they meet the population rules; each candidate row carries covariates measured just before its
own month, as R's rollmatch does, so clients and comparisons are compared at the same point of
their paths. Months are integers (year · 12 + month − 1) inside the engine.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass

import ibis
import ibis.expr.types as ir
import pandas as pd

from kotoeval.cohort.spec import (
    CohortSpec,
    month_index,
    window_of,
)
from kotoeval.registers.codes import (
    LANGUAGE_LEVELS,
    PROGRAMME_DEGREE_LEVELS,
    UNEMPLOYED_STATUSES,
    UNEMPLOYMENT_BENEFITS,
)
from kotoeval.registers.reference import load
from kotoeval.warehouse.engine import Engine

Tables = Callable[[str], ir.Table]
"""Register name → Ibis table (a warehouse's ``table`` method)."""

OPEN_END = 10**6
"""Month index standing for "still going" (an empty end date)."""


def month_of(date: ir.DateValue) -> ir.IntegerValue:
    """Month index of a date column."""
    return date.year().cast("int64") * 12 + date.month().cast("int64") - 1


def end_month_of(date: ir.DateValue) -> ir.IntegerValue:
    """Month index of an end date; an empty end is open."""
    return month_of(date).fill_null(OPEN_END)


@dataclass
class Candidates:
    """The analysis rows (clients at entry and comparison rows) and the flow of persons."""

    rows: ir.Table
    """pid, m (index month), treated, end_m (clients' end of participation), covariates."""
    flow: dict[str, int]


def _clients(services: ir.Table, service: str) -> ir.Table:
    """Each client's first episode of the service: entry month and its end month."""
    s = services.filter(services.service == service).mutate(
        start_m=month_of(services.start_date), end_m=end_month_of(services.end_date)
    )
    return s.group_by("pid").aggregate(entry_m=s.start_m.min(), end_m=s.end_m.argmin(s.start_m))


def _static(population: ir.Table, persons: ir.Table) -> ir.Table:
    """Attributes that do not change: from the latest population row and the identity code."""
    p = population
    latest = p.group_by("pid").aggregate(
        country=p.country_of_birth.argmax(p.year),
        language=p.language.argmax(p.year),
        immigration_m=month_of(p.immigration_date).argmax(p.year),
    )
    born = persons.mutate(born_m=persons.birth_year.cast("int64") * 12 + persons.birth_month - 1)
    return latest.join(born.select("pid", "born_m", "sex"), "pid")


def population_rows(wh_table: Tables, spec: CohortSpec) -> ir.Table:
    """Person-months of the entry window that meet every population rule."""
    rules = spec.population
    first, last = month_index(spec.entry_from), month_index(spec.entry_to)
    spine = ibis.memtable(
        pd.DataFrame({"m": range(first, last + 1)}).assign(prev_year=lambda d: d.m // 12 - 1)
    )
    pop = wh_table("population")
    yearly = pop.filter(pop.year.between(first // 12 - 1, last // 12 - 1))
    if rules.municipalities:
        yearly = yearly.filter(yearly.municipality.isin(rules.municipalities))
    yearly = yearly.select(
        "pid", "year", "municipality", "education_level", "education_field", "children"
    )
    static = _static(pop, wh_table("persons"))
    if rules.immigrants:
        static = static.filter(static.immigration_m.notnull())
        static = static.filter(
            static.immigration_m - static.born_m >= 12 * rules.min_age_at_immigration
        )
    if rules.foreign_language:
        static = static.filter(~static.language.isin(("fi", "sv")) | static.language.isnull())
    rows = yearly.join(spine, yearly.year == spine.prev_year).join(static, "pid")
    age = (rows.m - rows.born_m) // 12
    rows = rows.filter(age.between(*rules.age))
    if rules.immigrants and rules.min_months_since_immigration:
        rows = rows.filter(rows.m - rows.immigration_m >= rules.min_months_since_immigration)
    if rules.jobseeker_status:
        j = wh_table("jobseeker_periods")
        j = j.filter(j.status.isin(rules.jobseeker_status)).mutate(
            s_m=month_of(j.start_date), e_m=end_month_of(j.end_date)
        )
        rows = rows.semi_join(j, [rows.pid == j.pid, j.s_m <= rows.m - 1, j.e_m >= rows.m - 1])
    if rules.not_studying_in:
        e = wh_table("education")
        e = e.filter(e.programme.isin(rules.not_studying_in))
        e = e.mutate(s_m=month_of(e.start_date), e_m=end_month_of(e.end_date))
        rows = rows.anti_join(e, [rows.pid == e.pid, e.s_m <= rows.m, e.e_m >= rows.m])
    services = wh_table("services")
    if rules.not_in_services:
        s = services.filter(services.service.isin(rules.not_in_services))
        s = s.mutate(s_m=month_of(s.start_date), e_m=end_month_of(s.end_date))
        rows = rows.anti_join(s, [rows.pid == s.pid, s.s_m <= rows.m, s.e_m >= rows.m])
    if rules.not_earlier_clients_of:
        s = services.filter(services.service.isin(rules.not_earlier_clients_of))
        s = s.mutate(s_m=month_of(s.start_date))
        rows = rows.anti_join(s, [rows.pid == s.pid, s.s_m < rows.m])
    rows = degree_at_month(wh_table, rows)
    if rules.education_levels is not None:
        allowed = rows.education_level.isin(rules.education_levels)
        if rules.no_degree:
            allowed |= rows.education_level.isnull()
        rows = rows.filter(allowed)
    elif not rules.no_degree:
        rows = rows.filter(rows.education_level.notnull())
    return rows.drop("year", "prev_year")


def degree_at_month(wh_table: Tables, rows: ir.Table) -> ir.Table:
    """``rows`` with ``education_level`` and ``education_field`` of the degree held in month m.

    ``rows`` carry pid, m and the previous 31 December's level and field from the population
    register. A degree completed since then (a study right of a degree-giving programme that
    ended completed before month m) raises them. Without this, someone who completed a
    vocational qualification in the spring looks, all year, like a person without one and is
    compared as such, although the degree changes both their chances of entering a programme
    and their earnings: in the synthetic world such comparisons made the OSKE year-2 and
    year-3 earnings effects come out too low (see docs/study.md).
    """
    e = wh_table("education")
    # A right without an end date matches no month below, so it needs no filter of its own.
    done = e.filter((e.outcome == "completed") & e.programme.isin(list(PROGRAMME_DEGREE_LEVELS)))
    level = ibis.cases(*[(done.programme == p, lv) for p, lv in PROGRAMME_DEGREE_LEVELS.items()])
    done = done.select(
        "pid", done_m=month_of(done.end_date), level=level.cast("int64"), field=done.field
    )
    keys = rows.select("pid", "m")
    since = keys.join(
        done,
        [keys.pid == done.pid, done.done_m < keys.m, done.done_m >= keys.m - keys.m % 12],
    )
    # The highest degree completed since; of equal ones, the latest.
    latest = since.group_by([since.pid, since.m]).aggregate(
        _level=since.level.max(), _field=since.field.argmax(since.level * 10**7 + since.done_m)
    )
    rows = rows.left_join(latest, ["pid", "m"]).drop("pid_right", "m_right")
    raised = rows._level.notnull() & (rows._level > rows.education_level.fill_null(-1))
    return rows.mutate(
        education_level=ibis.ifelse(raised, rows._level, rows.education_level),
        education_field=ibis.ifelse(raised, rows._field, rows.education_field),
    ).drop("_level", "_field")


def candidates(wh_table: Tables, engine: Engine, spec: CohortSpec) -> Candidates:
    """Clients at their entry month and comparison rows, with their covariates (in the engine)."""
    first, last = month_index(spec.entry_from), month_index(spec.entry_to)
    clients = _clients(wh_table("services"), spec.service)
    in_window = clients.filter(clients.entry_m.between(first, last))
    rows = engine.materialise("cohort_population", population_rows(wh_table, spec))

    treated = (
        rows.join(in_window, [rows.pid == in_window.pid, rows.m == in_window.entry_m])
        .select(rows, in_window.end_m)
        .mutate(treated=ibis.literal(True))
    )
    if spec.pool == "never_treated":
        pool = rows.anti_join(clients, "pid")
    else:
        pool = rows.anti_join(clients, [rows.pid == clients.pid, clients.entry_m <= rows.m])
    later = clients.select("pid", later_entry_m=clients.entry_m)
    pool = pool.left_join(later, "pid").drop("pid_right")
    pool = pool.mutate(end_m=ibis.null("int64"), treated=ibis.literal(False))
    treated = treated.mutate(later_entry_m=ibis.null("int64"))
    analysis = engine.materialise("cohort_rows", treated.union(pool.select(treated.columns)))

    counts = analysis.aggregate(
        clients_meeting_rules=analysis.treated.cast("int64").sum(),
        comparison_rows=(~analysis.treated).cast("int64").sum(),
        comparison_persons=analysis.pid.nunique(where=~analysis.treated),
    ).to_pandas()
    flow = {"clients_in_window": int(in_window.count().execute())}
    flow.update({name: int(counts[name].iloc[0]) for name in counts.columns})
    with_covariates = add_covariates(wh_table, analysis, spec.covariates)
    return Candidates(engine.materialise("cohort_analysis", with_covariates), flow)


def _lookup(column: str, values: dict[str, str]) -> ir.Table:
    return ibis.memtable(pd.DataFrame({"key": list(values), column: list(values.values())}))


def add_covariates(wh_table: Tables, rows: ir.Table, names: tuple[str, ...]) -> ir.Table:
    """Every covariate of ``names`` for each row (pid, m), measured before month m."""
    out = rows
    windows: dict[str, int] = {}
    for name in names:
        w = window_of(name)
        if w:
            windows[w[0]] = max(windows.get(w[0], 0), w[1])
    keys = rows.select("pid", "m")
    people = keys.select("pid").distinct()

    monthly: dict[str, ir.Table] = {}
    if "earnings" in windows or "employed_months" in windows:
        e = wh_table("earnings").semi_join(people, "pid")
        e = e.mutate(mm=month_of(e.month))
        monthly["earnings"] = e.group_by(["pid", "mm"]).aggregate(value=e.wages_eur.sum())
    if "unemployment_benefit_eur" in windows:
        b = wh_table("benefits").semi_join(people, "pid")
        b = b.filter(b.benefit.isin(UNEMPLOYMENT_BENEFITS)).mutate(mm=month_of(b.month))
        monthly["benefits"] = b.group_by(["pid", "mm"]).aggregate(value=b.amount_eur.sum())
    if "previous_services" in windows:
        s = wh_table("services").semi_join(people, "pid")
        s = s.mutate(mm=month_of(s.start_date))
        monthly["services"] = s.group_by(["pid", "mm"]).aggregate(value=s.count())

    sources = {
        "earnings": ("earnings", "euros"),
        "employed_months": ("earnings", "count_positive"),
        "unemployment_benefit_eur": ("benefits", "euros"),
        "previous_services": ("services", "sum"),
    }
    for name in names:
        w = window_of(name)
        if not w or w[0] == "unemployed_months":
            continue
        source, how = sources[w[0]]
        mon = monthly[source]
        j = keys.join(mon, [keys.pid == mon.pid, mon.mm >= keys.m - w[1], mon.mm <= keys.m - 1])
        value = (j.value > 0).cast("int64") if how == "count_positive" else j.value
        total = value.sum()
        if how == "euros":
            # Euros to the cent: the engine adds in no fixed order, and the last bits of a sum
            # would otherwise differ from run to run (and move eCDF statistics over ties).
            total = total.round(2)
        agg = j.group_by([keys.pid, keys.m]).aggregate(**{name: total})
        out = out.left_join(agg, ["pid", "m"]).drop("pid_right", "m_right")
        out = out.mutate(**{name: out[name].fill_null(0)})
    unemployed = [n for n in names if (window_of(n) or ("",))[0] == "unemployed_months"]
    if unemployed:
        j = wh_table("jobseeker_periods").semi_join(people, "pid")
        j = j.filter(j.status.isin(UNEMPLOYED_STATUSES)).mutate(
            s_m=month_of(j.start_date), e_m=end_month_of(j.end_date)
        )
        for name in unemployed:
            n = window_of(name)[1]  # type: ignore[index]
            jj = keys.join(j, [keys.pid == j.pid, j.s_m <= keys.m - 1, j.e_m >= keys.m - n])
            overlap = ibis.least(jj.e_m, jj.m - 1) - ibis.greatest(jj.s_m, jj.m - n) + 1
            agg = jj.group_by([keys.pid, keys.m]).aggregate(**{name: overlap.sum()})
            out = out.left_join(agg, ["pid", "m"]).drop("pid_right", "m_right")
            out = out.mutate(**{name: out[name].fill_null(0)})
    return _point_covariates(wh_table, out, names, people)


def _point_covariates(
    wh_table: Tables, out: ir.Table, names: tuple[str, ...], people: ir.Table
) -> ir.Table:
    wanted = set(names)
    derived: dict[str, ir.Value] = {}
    if "age" in wanted:
        derived["age"] = (out.m - out.born_m) // 12
    if "female" in wanted:
        derived["female"] = (out.sex == 2).cast("int64")
    if "years_in_finland" in wanted:
        derived["years_in_finland"] = (out.m - out.immigration_m) / 12
    if "education_level" in wanted:
        derived["education_level"] = out.education_level.cast("string").fill_null("none")
    if "education_field" in wanted:
        derived["education_field"] = out.education_field.fill_null("none")
    if "language_group" in wanted:
        derived["language_group"] = out.language.fill_null("xx")
    if "index_year" in wanted:
        derived["index_year"] = out.m // 12
    if "index_month" in wanted:
        derived["index_month"] = out.m
    out = out.mutate(**derived)
    if "world_region" in wanted:
        regions = load("countries").attribute("world_region")
        r = _lookup("world_region", regions)
        out = out.left_join(r, out.country == r.key).drop("key")
        out = out.mutate(world_region=out.world_region.fill_null("unknown"))
    if "permit_ground" in wanted:
        p = wh_table("residence_permits").semi_join(people, "pid")
        first = p.group_by("pid").aggregate(permit_ground=p.ground.argmin(p.permit_start))
        out = out.left_join(first, "pid").drop("pid_right")
        out = out.mutate(permit_ground=out.permit_ground.fill_null("none"))
    if "language_level" in wanted:
        ranks = ibis.memtable(
            pd.DataFrame({"level": list(LANGUAGE_LEVELS), "rank": range(len(LANGUAGE_LEVELS))})
        )
        t = wh_table("language_tests").semi_join(people, "pid")
        t = t.filter(t.skill == "overall").join(ranks, "level")
        t = t.mutate(tm=month_of(t.test_date))
        keys = out.select("pid", "m")
        j = keys.join(t, [keys.pid == t.pid, t.tm < keys.m])
        latest = j.group_by([keys.pid, keys.m]).aggregate(
            language_level=j["rank"].argmax(j.test_date)
        )
        out = out.left_join(latest, ["pid", "m"]).drop("pid_right", "m_right")
    return out
