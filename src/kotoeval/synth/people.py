"""Who lives in the world: families, births, arrivals, moves, departures and identity codes.

The skeleton is drawn for the whole world at once (a few arrays per person, ~1 GB at national
scale) because identity codes must be unique across it; lives are then simulated in chunks of
whole families.
"""

from __future__ import annotations

from dataclasses import dataclass, fields

import numpy as np
import numpy.typing as npt

from kotoeval.registers import hetu
from kotoeval.registers.reference import load
from kotoeval.synth.calendar import NEVER, month_of
from kotoeval.synth.params import (
    COUNTRIES,
    COUNTRY_LANGUAGE,
    ESPOO,
    FIRST_YEAR,
    GROUNDS,
    HUMANITARIAN,
    LANGUAGES,
    LAST_YEAR,
    MUNICIPALITIES,
    N_MONTHS,
    ORIGIN_GROUPS,
    Scale,
)

NATIVE = -1
HEAD, PARTNER, CHILD = 0, 1, 2
#: Share of households with an immigrant head among all households that ever live here.
IMMIGRANT_HOUSEHOLDS = {False: 0.222, True: 0.105}
#: Neighbours that Espoo-scale families move between (Helsinki, Vantaa, Kauniainen, …).
ESPOO_NEIGHBOURS = {"091": 0.45, "092": 0.3, "235": 0.05, "257": 0.12, "245": 0.08}
#: Share of each permit ground's families that leave Finland again.
EMIGRATION = {
    "work": 0.35,
    "study": 0.5,
    "eu_registration": 0.35,
    "family": 0.15,
    "finnish_origin": 0.1,
    "temporary_protection": 0.25,
    "international_protection": 0.1,
    "quota_refugee": 0.08,
    "other": 0.1,
}
NATIVE_EMIGRATION = 0.03

Ints = npt.NDArray[np.int64]
Codes = npt.NDArray[np.int16]


@dataclass
class People:
    """One entry per person, ordered by household. Coded columns index the code books."""

    household: Ints
    role: Ints
    sex: Ints
    birth: npt.NDArray[np.datetime64]
    group: Ints
    """Index into ``ORIGIN_GROUPS``; ``NATIVE`` for persons of Finnish background."""
    country_of_birth: Codes
    citizenship: Codes
    language: Codes
    ground: Codes
    """Residence-permit ground (index into ``GROUNDS``); -1 for those who need none."""
    arrival: Ints
    """Month of immigration; ``-NEVER`` for the Finnish-born."""
    arrival_day: npt.NDArray[np.float64]
    emigration: Ints
    death: Ints
    naturalisation: Ints
    municipality_before: Codes
    municipality_after: Codes
    move: Ints
    education: Ints
    """True education: 0 basic or less, 1 upper secondary, 2 tertiary (foreign or Finnish)."""
    hetu: npt.NDArray[np.bytes_]

    def __len__(self) -> int:
        return len(self.household)

    def take(self, index: slice | Ints) -> People:
        """The persons at ``index``."""
        return People(**{f.name: getattr(self, f.name)[index] for f in fields(self)})

    @property
    def born_month(self) -> Ints:
        """Month index of birth."""
        return month_of(self.birth)

    @property
    def start(self) -> Ints:
        """First month of residence in Finland."""
        return np.maximum(self.born_month, self.arrival)

    @property
    def end(self) -> Ints:
        """First month no longer resident (emigrated or died)."""
        return np.minimum(self.emigration, self.death)

    @property
    def immigrant(self) -> npt.NDArray[np.bool_]:
        """Foreign-born (arrived from abroad)."""
        return self.arrival > -NEVER

    def resident(self, m: int | Ints) -> npt.NDArray[np.bool_]:
        """Resident during month ``m`` (per person; a column of months gives months × persons)."""
        return (self.start <= m) & (m < self.end)

    def municipality(self, m: int | Ints, person: Ints | None = None) -> Codes:
        """Municipality of residence in month ``m`` (index into ``MUNICIPALITIES``).

        Of every person, or of the persons ``person`` with ``m`` aligned to them.
        """
        who = slice(None) if person is None else person
        return np.where(
            m < self.move[who], self.municipality_before[who], self.municipality_after[who]
        )


def _draw(
    rng: np.random.Generator, options: dict[str, float], book: tuple[str, ...], n: int
) -> Codes:
    """Draw ``n`` codes with the given weights, as indices into ``book``."""
    keys = np.array([book.index(k) for k in options], dtype=np.int16)
    p = np.array(list(options.values()), dtype=np.float64)
    return keys[rng.choice(len(keys), size=n, p=p / p.sum())]


def _municipalities(
    rng: np.random.Generator, immigrant: npt.NDArray[np.bool_], sc: Scale
) -> tuple[Codes, Codes, Ints]:
    n = len(immigrant)
    movers = rng.random(n) < (0.15 if sc.national else 0.25)
    move = np.where(movers, rng.integers(1, N_MONTHS, n), NEVER)
    if sc.national:
        rows = load("municipalities").rows
        pop = {c: float(r["population_2023"]) for c, r in rows.items()}
        share = {c: float(r["foreign_language_share"]) for c, r in rows.items()}
        before = np.empty(n, dtype=np.int16)
        for is_imm in (False, True):
            weight = {c: pop[c] * (share[c] if is_imm else 1 - share[c]) for c in rows}
            sel = immigrant == is_imm
            before[sel] = _draw(rng, weight, MUNICIPALITIES, int(sel.sum()))
        after = np.where(movers, _draw(rng, pop, MUNICIPALITIES, n), before)
        return before, after, move
    # Espoo scale: every family lives in Espoo at some point; movers come from or go to a neighbour.
    espoo = MUNICIPALITIES.index(ESPOO)
    neighbour = _draw(rng, ESPOO_NEIGHBOURS, MUNICIPALITIES, n)
    moving_in = movers & (rng.random(n) < 0.5)
    before = np.where(moving_in, neighbour, espoo).astype(np.int16)
    after = np.where(movers & ~moving_in, neighbour, espoo).astype(np.int16)
    return before, after, move


def _arrivals(rng: np.random.Generator, group: Ints) -> tuple[Ints, Codes]:
    """Arrival month and permit ground of the households of each origin group."""
    n = len(group)
    arrival = np.full(n, -NEVER, dtype=np.int64)
    ground = np.full(n, -1, dtype=np.int16)
    tp_from = (2022 - FIRST_YEAR) * 12 + 2  # temporary protection from March 2022
    for g, og in enumerate(ORIGIN_GROUPS):
        sel = np.flatnonzero(group == g)
        years = np.arange(og.arrival_from, LAST_YEAR + 1)
        weight = np.exp(og.arrival_growth * (years - FIRST_YEAR))
        if og.name == "ukrainian":
            weight = np.where(years >= 2022, weight * 12, weight)
        year = rng.choice(years, size=len(sel), p=weight / weight.sum())
        arrival[sel] = (year - FIRST_YEAR) * 12 + rng.integers(0, 12, len(sel))
        ground[sel] = _draw(rng, og.grounds, GROUNDS, len(sel))
        if og.name == "ukrainian":
            ground[sel[arrival[sel] >= tp_from]] = GROUNDS.index("temporary_protection")
    return arrival, ground


def _emigration(rng: np.random.Generator, ground: Codes, arrival: Ints) -> Ints:
    rate = np.array([EMIGRATION.get(g, 0.1) for g in GROUNDS] + [NATIVE_EMIGRATION])
    leaves = rng.random(len(ground)) < rate[ground]  # ground -1 picks the native rate
    when_native = rng.integers(-120, N_MONTHS, len(ground))
    when_immigrant = arrival + 13 + rng.exponential(48, len(ground)).astype(np.int64)
    return np.where(leaves, np.where(ground < 0, when_native, when_immigrant), NEVER)


def draw_people(sc: Scale, rng: np.random.Generator) -> People:
    """Draw every person who lives in the world at some point in 2012–2024."""
    h = sc.households
    immigrant_h = rng.random(h) < IMMIGRANT_HOUSEHOLDS[sc.national]
    weights = np.array([g.weight for g in ORIGIN_GROUPS])
    drawn_group = rng.choice(len(ORIGIN_GROUPS), h, p=weights / weights.sum())
    group_h = np.where(immigrant_h, drawn_group, NATIVE)
    arrival_h, ground_h = _arrivals(rng, group_h)

    # Household heads: natives of every adult age; immigrants arrive aged 18–62.
    head_birth_native = rng.integers(1925, 2003, h) * 12 + rng.integers(0, 12, h)
    arrival_age = np.clip(rng.gamma(6.0, 5.0, h) + 4, 18, 62).astype(np.int64)
    head_birth_imm = (FIRST_YEAR * 12 + arrival_h) - arrival_age * 12 - rng.integers(0, 12, h)
    head_birth = np.where(immigrant_h, head_birth_imm, head_birth_native)  # months since year 0
    partnered = rng.random(h) < np.where(immigrant_h, 0.62, 0.55)
    humanitarian = np.isin(ground_h, [GROUNDS.index(g) for g in HUMANITARIAN])
    mean_children = np.where(humanitarian, 2.0, np.where(immigrant_h, 1.3, 0.9))
    n_children = np.minimum(rng.poisson(mean_children), 6)

    size = 1 + partnered + n_children
    household = np.repeat(np.arange(h), size)
    first = np.cumsum(size) - size
    position = np.arange(len(household)) - first[household]
    is_partner = (position == 1) & partnered[household]
    role = np.where(position == 0, HEAD, np.where(is_partner, PARTNER, CHILD))
    n = len(household)

    birth_abs = head_birth[household].copy()
    birth_abs[is_partner] += rng.integers(-48, 49, int(is_partner.sum()))
    is_child = role == CHILD
    birth_abs[is_child] += rng.integers(24 * 12, 42 * 12, int(is_child.sum()))
    head_sex = rng.integers(1, 3, h)
    sex = np.where(is_partner, 3 - head_sex[household], head_sex[household])
    sex = np.where(is_child, rng.integers(1, 3, n), sex)
    birth = (birth_abs - 1970 * 12).astype("datetime64[M]").astype("datetime64[D]")
    birth = birth + rng.integers(0, 28, n).astype("timedelta64[D]")

    group = group_h[household]
    arrival = arrival_h[household]
    born_here = (group != NATIVE) & (month_of(birth) > arrival)
    arrival = np.where(born_here, -NEVER, arrival)
    ground = np.where(born_here, -1, ground_h[household]).astype(np.int16)
    # Spouses and children of labour, study and returnee migrants come on family grounds.
    follows = np.isin(ground, [GROUNDS.index(g) for g in ("work", "study", "finnish_origin")])
    ground[follows & (role != HEAD)] = GROUNDS.index("family")

    country_h = np.full(h, COUNTRIES.index("FI"), dtype=np.int16)
    tongue_h = np.full(h, LANGUAGES.index("fi"), dtype=np.int16)
    swedish = rng.random(h) < (0.05 if sc.national else 0.07)
    tongue_h[swedish] = LANGUAGES.index("sv")
    for g, og in enumerate(ORIGIN_GROUPS):
        in_g = group_h == g
        country_h[in_g] = _draw(rng, og.countries, COUNTRIES, int(in_g.sum()))
        by_country = np.full(len(COUNTRIES), LANGUAGES.index(og.language), dtype=np.int16)
        for c, lang in COUNTRY_LANGUAGE.items():
            by_country[COUNTRIES.index(c)] = LANGUAGES.index(lang)
        tongue_h[in_g] = by_country[country_h[in_g]]
    language = tongue_h[household]
    # The Finnish-born children of immigrants have their parents' citizenship at birth.
    citizenship = country_h[household]
    country = np.where(born_here, COUNTRIES.index("FI"), citizenship).astype(np.int16)

    emigration = _emigration(rng, ground_h, arrival_h)[household]
    death_age = np.clip(rng.normal(84, 8, n), 45, 105)
    death = month_of(birth) + (death_age * 12).astype(np.int64)
    naturalises = (arrival > -NEVER) & (rng.random(n) < 0.55)
    naturalisation = np.where(naturalises, arrival + rng.integers(60, 130, n), NEVER)

    before_h, after_h, move_h = _municipalities(rng, immigrant_h, sc)
    people = People(
        household=household,
        role=role,
        sex=sex,
        birth=birth,
        group=group,
        country_of_birth=country,
        citizenship=citizenship,
        language=language,
        ground=ground,
        arrival=arrival,
        arrival_day=rng.random(n),
        emigration=emigration,
        death=death,
        naturalisation=naturalisation,
        municipality_before=before_h[household],
        municipality_after=after_h[household],
        move=move_h[household],
        education=_education(rng, group, arrival, birth),
        hetu=np.empty(n, dtype="S11"),
    )
    # The world holds everyone resident on some 31 December of the window, so that every person
    # in any register is also in the population register.
    december = np.arange(11, N_MONTHS, 12)
    start, end = people.start, people.end
    first_december = december[np.minimum(np.searchsorted(december, start), len(december) - 1)]
    counted = (first_december >= start) & (first_december < end)
    people = people.take(np.flatnonzero(counted))
    people.hetu = _identity_codes(rng, people)
    return people


def _education(
    rng: np.random.Generator, group: Ints, arrival: Ints, birth: npt.NDArray[np.datetime64]
) -> Ints:
    education = rng.choice(3, size=len(group), p=[0.12, 0.45, 0.43])
    for g, og in enumerate(ORIGIN_GROUPS):
        sel = group == g
        education[sel] = rng.choice(3, size=int(sel.sum()), p=list(og.education))
    # Those who arrive as children are schooled in Finland, with near-native chances.
    schooled_here = (group != NATIVE) & ((arrival - month_of(birth)) < 16 * 12)
    education[schooled_here] = rng.choice(3, size=int(schooled_here.sum()), p=[0.2, 0.5, 0.3])
    return education


def _identity_codes(rng: np.random.Generator, people: People) -> npt.NDArray[np.bytes_]:
    """Unique, valid codes: individual numbers are ranked within birth date and sex."""
    n = len(people)
    days = people.birth.astype(np.int64)
    order = np.lexsort((rng.random(n), people.sex, days))
    key = days[order] * 2 + people.sex[order]
    new_group = np.r_[True, key[1:] != key[:-1]]
    group_start = np.maximum.accumulate(np.where(new_group, np.arange(n), 0))
    rank = np.empty(n, dtype=np.int64)
    rank[order] = np.arange(n) - group_start
    slots = (hetu.LAST_PERMANENT_INDIVIDUAL_NUMBER - hetu.FIRST_INDIVIDUAL_NUMBER + 1) // 2
    if rank.max() >= slots:
        raise RuntimeError("too many persons share a birth date and sex for unique identity codes")
    offset = rng.integers(0, slots, n)
    # Same offset within a (date, sex) group keeps ranks distinct after the rotation.
    offset = offset[order][group_start][np.argsort(order)]
    individual = hetu.FIRST_INDIVIDUAL_NUMBER + 2 * ((rank + offset) % slots) + (people.sex == 1)
    y = people.birth.astype("datetime64[Y]").astype(np.int64) + 1970
    mo = people.birth.astype("datetime64[M]").astype(np.int64) % 12 + 1
    d = (people.birth - people.birth.astype("datetime64[M]").astype("datetime64[D]")).astype(
        np.int64
    ) + 1
    # Codes issued from 2023 on use the new century signs (Y, X, … and B, C, …).
    issued = np.maximum(people.born_month, people.arrival)
    new_sign = np.where(issued >= (2023 - FIRST_YEAR) * 12, rng.integers(1, 6, n), 0)
    return np.asarray(hetu.compose(y, mo, d, individual, new_sign), dtype="S11")
