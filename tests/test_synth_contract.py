"""The clean synthetic world is written exactly in the input contract, and deterministically."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.registers import REGISTERS
from kotoeval.synth import WorldSummary, generate
from tests.helpers import column_violations, end_before_start, read_register


def test_every_register_is_written_in_the_contract(tiny: WorldSummary) -> None:
    for name, reg in REGISTERS.items():
        table = read_register(tiny.out, name)
        assert table.column_names == list(reg.column_names), name
        assert table.num_rows == tiny.rows[name] > 0, name
        for column in reg.columns:
            bad = column_violations(column, table[column.name].combine_chunks())
            assert not bad.any(), f"{name}.{column.name}: {bad.sum()} bad values"
        assert not end_before_start(name, table).any(), name


def test_keys_are_unique_and_periods_do_not_overlap(tiny: WorldSummary) -> None:
    for name, reg in REGISTERS.items():
        table = read_register(tiny.out, name)
        keys = table.group_by(list(reg.key)).aggregate([([], "count_all")])
        assert keys.num_rows == table.num_rows, f"{name}: duplicate keys"
    periods = read_register(tiny.out, "jobseeker_periods")
    hetu = np.asarray(periods["hetu"]).astype(str)
    start = np.asarray(periods["start_date"]).astype("datetime64[D]")
    end = np.asarray(periods["end_date"].fill_null("2100-01-01")).astype("datetime64[D]")
    same = hetu[1:] == hetu[:-1]
    assert (start[1:][same] > end[:-1][same]).all(), "a period starts before its predecessor ends"


def test_identity_codes_are_valid_and_agree_with_sex(tiny: WorldSummary) -> None:
    population = read_register(tiny.out, "population")
    codes = np.unique(np.asarray(population["hetu"]).astype(str))
    # Counts, not codes, in assertions: no identity code in a test report.
    assert sum(not stdnum_hetu.is_valid(c) for c in codes) == 0
    individual = pc.utf8_slice_codeunits(population["hetu"], 7, 10)
    odd = np.asarray(pc.cast(individual, "int64")) % 2 == 1
    sex = np.asarray(population["sex"]).astype(str)
    assert ((sex == "1") != odd).sum() == 0
    # Every person in any register is in the population register (no orphans in a clean world).
    for name in REGISTERS:
        others = np.unique(np.asarray(read_register(tiny.out, name)["hetu"]).astype(str))
        assert (~np.isin(others, codes)).sum() == 0, f"{name}: persons not in the population"


def test_population_is_realistic(tiny: WorldSummary) -> None:
    population = read_register(tiny.out, "population")
    year = np.asarray(population["year"]).astype(int)
    language = np.asarray(population["language"]).astype(str)
    municipality = np.asarray(population["municipality"]).astype(str)
    here = (year == 2020) & (municipality == "049")
    foreign = ~np.isin(language, ["fi", "sv"])
    share = (here & foreign).sum() / here.sum()
    assert 0.14 < share < 0.23, share
    activity = np.asarray(population["main_activity"]).astype(int)
    born = np.asarray(pc.utf8_slice_codeunits(population["hetu"], 4, 6)).astype(int)
    assert set(np.unique(activity)) <= {11, 12, 21, 22, 24, 25, 29}
    employed_share = (activity[here] == 11).mean()
    assert 0.35 < employed_share < 0.6, employed_share
    assert born.size == year.size
    immigrated = np.asarray(population["immigration_date"].is_valid())
    assert (immigrated[foreign]).mean() > 0.6  # most foreign-language residents were born abroad


def test_money_has_real_magnitudes(tiny: WorldSummary) -> None:
    earnings = read_register(tiny.out, "earnings")
    wages = np.asarray(pc.cast(earnings["wages_eur"], "float64"))
    assert 2_000 < np.median(wages) < 4_500
    occupation = np.asarray(earnings["occupation"].fill_null("")).astype(str)
    assert 0.01 < (occupation == "").mean() < 0.1
    benefits = read_register(tiny.out, "benefits")
    kind = np.asarray(benefits["benefit"]).astype(str)
    amount = np.asarray(pc.cast(benefits["amount_eur"], "float64"))
    days = np.asarray(pc.cast(benefits["days"], "int64"))
    month = np.asarray(benefits["month"]).astype(str)
    subsidy = (kind == "labour_market_subsidy") & (month >= "2023-01") & (days > 0)
    assert np.allclose(amount[subsidy] / days[subsidy], 37.21)  # €37.21 a day in 2023–2024
    assert set(np.unique(days[subsidy])) <= set(range(19, 24))  # about five days a week


def _digest(folder: Path) -> dict[str, str]:
    return {f.name: hashlib.sha256(f.read_bytes()).hexdigest() for f in sorted(folder.iterdir())}


def test_same_seed_same_bytes_whatever_the_workers(tiny: WorldSummary, tmp_path: Path) -> None:
    again = generate("tiny", 3, tmp_path / "again", workers=2)
    assert _digest(again.out) == _digest(tiny.out)
    other = generate("tiny", 4, tmp_path / "other", workers=1)
    assert _digest(other.out)["population.csv"] != _digest(tiny.out)["population.csv"]


def test_parquet_holds_the_same_registers(tiny: WorldSummary, tmp_path: Path) -> None:
    parquet = generate("tiny", 3, tmp_path / "parquet", fmt="parquet", workers=1)
    for name in REGISTERS:
        assert read_register(parquet.out, name).equals(read_register(tiny.out, name)), name


def test_a_new_world_replaces_the_old_one(tmp_path: Path) -> None:
    generate("tiny", 5, tmp_path, defects=0.01, workers=1)
    assert (tmp_path / "defects.json").exists()
    generate("tiny", 5, tmp_path, fmt="parquet", workers=1)
    assert not (tmp_path / "defects.json").exists()
    assert not list(tmp_path.glob("*.csv"))
