"""Register rows about money: earnings by payer and month, and benefits."""

from __future__ import annotations

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kotoeval.registers.codes import BENEFITS
from kotoeval.synth.calendar import month_text, year_of
from kotoeval.synth.chunk import Chunk, codes_text, stable_hash, text
from kotoeval.synth.context import IN_SERVICES, UNEMPLOYED, WITH
from kotoeval.synth.money import BASIC_ALLOWANCE, EARNINGS_RELATED, LABOUR_MARKET_SUBSIDY
from kotoeval.synth.params import N_MONTHS

Ints = npt.NDArray[np.int64]

EXPERT_OCCUPATIONS = (
    "1120",
    "1211",
    "1321",
    "2141",
    "2142",
    "2211",
    "2221",
    "2310",
    "2330",
    "2411",
    "2511",
    "2512",
    "2513",
    "2611",
    "3112",
    "3113",
    "3313",
    "3322",
    "3411",
    "3512",
)
OTHER_OCCUPATIONS = (
    "4110",
    "4311",
    "4321",
    "5120",
    "5131",
    "5223",
    "5230",
    "5321",
    "5322",
    "5414",
    "7112",
    "7115",
    "7126",
    "7212",
    "7231",
    "8322",
    "8332",
    "9112",
    "9121",
    "9411",
    "9412",
    "9622",
)
UNEMPLOYMENT_BENEFIT_NAMES = {
    LABOUR_MARKET_SUBSIDY: "labour_market_subsidy",
    BASIC_ALLOWANCE: "basic_unemployment_allowance",
    EARNINGS_RELATED: "earnings_related_allowance",
}


def business_ids(count: int) -> pa.Array:
    """``count`` valid Finnish business IDs: 7 digits, a hyphen and the mod-11 check digit."""
    number = (1_000_000 + stable_hash(np.arange(count)) % np.uint64(8_999_999)).astype(np.int64)
    weights = np.array([7, 9, 10, 5, 8, 4, 2])
    while True:
        digits = (number[:, None] // 10 ** np.arange(6, -1, -1)) % 10
        remainder = (digits * weights).sum(axis=1) % 11
        bad = remainder == 1  # no valid check digit: take the next number
        if not bad.any():
            break
        number = np.where(bad, number + 1, number)
    check = np.where(remainder == 0, 0, 11 - remainder)
    return pa.array(np.char.add(np.char.add(number.astype(str), "-"), check.astype(str)))


def earnings(c: Chunk, employers: pa.Array) -> pa.Table:
    """One row per person, month and payer: the main job, and sometimes a second payer."""
    employed = np.ascontiguousarray(c.recorded("employed"))
    starts = employed & ~np.concatenate(
        [np.zeros((len(employed), 1), bool), employed[:, :-1]], axis=1
    )
    spell = np.cumsum(starts, axis=1)
    person, month = np.nonzero(employed)
    gid = c.first_person + person
    pool = len(employers)
    main = (stable_hash(gid, spell[person, month]) % np.uint64(pool)).astype(np.int64)
    expert = c.recorded("expert")[person, month]
    missing = c.money.occupation_missing[person, month]
    h = stable_hash(gid, np.full(len(gid), 7))
    occupation = np.where(
        expert,
        (h % np.uint64(len(EXPERT_OCCUPATIONS))).astype(np.int64),
        len(EXPERT_OCCUPATIONS)
        + ((h >> np.uint64(20)) % np.uint64(len(OTHER_OCCUPATIONS))).astype(np.int64),
    )
    wages = c.money.wages[WITH][person, month]
    second_wages = c.money.second_wages[WITH][person, month]
    two = second_wages > 0
    second = (
        main[two] + 1 + (stable_hash(gid[two], month[two]) % np.uint64(pool - 1)).astype(np.int64)
    ) % pool

    rows_person = np.concatenate([person, person[two]])
    rows_month = np.concatenate([month, month[two]])
    employer = np.concatenate([main, second])
    amount = np.concatenate([wages, second_wages[two]])
    occ = np.concatenate([occupation, occupation[two]])
    occ_missing = np.concatenate([missing, np.ones(int(two.sum()), dtype=bool)])
    order = np.lexsort((np.arange(len(rows_person)), rows_month, rows_person))
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(rows_person[order])),
            "month": month_text(rows_month[order]),
            "employer": employers.take(pa.array(employer[order])),
            "wages_eur": text(amount[order]),
            "occupation": codes_text(
                EXPERT_OCCUPATIONS + OTHER_OCCUPATIONS, occ[order], occ_missing[order]
            ),
        }
    )


def benefits(c: Chunk) -> pa.Table:
    """Unemployment benefits, and housing allowance, social assistance and student grants."""
    p = c.people
    n = len(p)
    gid = c.first_person + np.arange(n)
    trait = stable_hash(gid, np.full(n, 11))
    seeking = (c.recorded("status") == UNEMPLOYED) | (c.recorded("status") == IN_SERVICES)
    parts: list[tuple[Ints, Ints, Ints, npt.NDArray[np.float64], Ints]] = []

    def add(
        person: Ints, month: Ints, name: str | Ints, amount: npt.ArrayLike, days: npt.ArrayLike
    ) -> None:
        code = np.full(len(person), BENEFITS.index(name)) if isinstance(name, str) else name
        parts.append(
            (
                person,
                month,
                code,
                np.broadcast_to(amount, len(person)),
                np.broadcast_to(days, len(person)),
            )
        )

    benefit = c.money.benefit[WITH]
    person, month = np.nonzero(benefit > 0)
    kind = c.money.benefit_kind[WITH][person, month]
    names = np.array([BENEFITS.index(UNEMPLOYMENT_BENEFIT_NAMES[k]) for k in range(3)])[kind]
    add(person, month, names, benefit[person, month], c.money.benefit_days[person, month])

    housing_level = 220 + (trait % np.uint64(250)).astype(np.float64)
    person, month = np.nonzero(seeking & (trait % np.uint64(2) == 0)[:, None])
    add(person, month, "housing_allowance", housing_level[person], 0)
    assistance = c.bg.adult_immigrant & ((trait >> np.uint64(8)) % np.uint64(4) == 0)
    person, month = np.nonzero(seeking & assistance[:, None])
    add(person, month, "social_assistance", 150 + c.rng.random(len(person)) * 450, 0)
    months = np.arange(N_MONTHS)
    age = months[None, :] - p.born_month[:, None]
    grant_eligible = (
        (age >= 17 * 12) & (age < 30 * 12) & ((trait >> np.uint64(16)) % np.uint64(10) < 6)[:, None]
    )
    person, month = np.nonzero(c.recorded("studying") & grant_eligible)
    add(person, month, "student_grant", np.where(year_of(month) >= 2023, 279.38, 250.28), 0)

    person, month, code, amount, days = (np.concatenate([x[i] for x in parts]) for i in range(5))
    order = np.lexsort((code, month, person))
    return pa.table(
        {
            "hetu": c.hetu.take(pa.array(person[order])),
            "month": month_text(month[order]),
            "benefit": codes_text(BENEFITS, code[order]),
            "amount_eur": text(amount[order]),
            "days": text(days[order]),
        }
    )
