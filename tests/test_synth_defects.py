"""defects.json lists exactly the faults planted: nothing more, nothing less."""

from __future__ import annotations

import json
import tomllib
from collections import Counter

import numpy as np
import pyarrow as pa
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.registers import REGISTERS
from kotoeval.registers.rules import PLANTED
from kotoeval.synth import WorldSummary
from tests.helpers import column_violations, end_before_start, read_register


def _rows(table: pa.Table, columns: list[str]) -> list[tuple]:
    return list(zip(*(table[c].to_pylist() for c in columns), strict=True))


def test_defects_are_exactly_the_differences_from_the_clean_world(
    tiny: WorldSummary, tiny_defects: WorldSummary
) -> None:
    listed = json.loads((tiny_defects.out / "defects.json").read_text())["rows"]
    by_register: dict[str, list[dict]] = {}
    for record in listed:
        by_register.setdefault(record["register"], []).append(record)
    for name, reg in REGISTERS.items():
        columns = list(reg.column_names)
        clean = _rows(read_register(tiny.out, name), columns)
        dirty = _rows(read_register(tiny_defects.out, name), columns)
        records = by_register.get(name, [])
        copies = {r["row"] for r in records if r["rule"] == "duplicate_row"}
        conflict_rows = sorted(r["row"] for r in records if r["rule"] == "conflicting_duplicate")
        # Of each conflicting pair, the second listed row is the inserted copy.
        copies |= set(conflict_rows[1::2])
        changed = {r["row"]: r for r in records if r["row"] not in copies}
        assert len(dirty) == len(clean) + len(copies), name
        originals = [row for i, row in enumerate(dirty, start=1) if i not in copies]
        assert len(originals) == len(clean)
        position = 0
        for i, row in enumerate(dirty, start=1):
            if i in copies:
                continue
            expected = clean[position]
            position += 1
            if i in changed and changed[i]["rule"] != "conflicting_duplicate":
                differs = [c for c, a, b in zip(columns, row, expected, strict=True) if a != b]
                assert differs == [changed[i]["column"]], (name, i, changed[i]["rule"])
            else:
                assert row == expected, (name, i)
        for i in copies:
            source = dirty[i - 2]
            copy = dirty[i - 1]
            differs = [c for c, a, b in zip(columns, copy, source, strict=True) if a != b]
            assert len(differs) <= 1, (name, i)


def test_each_planted_row_breaks_its_rule(tiny_defects: WorldSummary) -> None:
    listed = json.loads((tiny_defects.out / "defects.json").read_text())["rows"]
    tables = {name: read_register(tiny_defects.out, name) for name in REGISTERS}
    for record in listed:
        name, rule, row = record["register"], record["rule"], record["row"] - 1
        table, reg = tables[name], REGISTERS[name]
        one = table.slice(row, 1)
        if rule == "hetu_checksum":
            code = one["hetu"][0].as_py()
            assert not stdnum_hetu.is_valid(code)
        elif rule == "hetu_sex_mismatch":
            odd = int(one["hetu"][0].as_py()[7:10]) % 2 == 1
            assert (one["sex"][0].as_py() == "1") != odd
        elif rule in ("impossible_date", "unknown_code", "negative_amount", "days_out_of_range",
                      "month_out_of_range"):  # fmt: skip
            column = reg.column(record["column"])
            assert column_violations(column, one[column.name].combine_chunks()).all(), record
        elif rule == "end_before_start":
            assert end_before_start(name, one).all()
        elif rule == "overlapping_period":
            previous = table.slice(row - 1, 1)
            assert previous["hetu"][0] == one["hetu"][0]
            assert previous["end_date"][0].as_py() >= one["start_date"][0].as_py()
        elif rule in ("duplicate_row", "conflicting_duplicate"):
            key = list(reg.key)
            assert _rows(one, key) == _rows(table.slice(row - 1, 1), key) or _rows(
                one, key
            ) == _rows(table.slice(row + 1, 1), key)
        else:
            raise AssertionError(f"unknown rule {rule}")


def test_every_rule_and_file_fault_is_planted(tiny_defects: WorldSummary) -> None:
    document = json.loads((tiny_defects.out / "defects.json").read_text())
    rules = Counter(r["rule"] for r in document["rows"])
    assert set(rules) == set(PLANTED), set(PLANTED) - set(rules)
    assert tiny_defects.defects == len(document["rows"])
    files = {f["rule"]: f for f in document["files"]}
    manifest = tomllib.loads((tiny_defects.out / "delivery.toml").read_text())
    dialect = manifest["registers"][files["finnish_spreadsheet_dialect"]["register"]]
    assert (dialect["encoding"], dialect["delimiter"], dialect["decimal"]) == ("cp1252", ";", ",")
    raw = (tiny_defects.out / dialect["file"]).read_bytes()
    assert raw.split(b"\n", 1)[0].count(b";") == len(REGISTERS["services"].columns) - 1
    assert "ä".encode("cp1252") in raw  # provider names written in cp1252, not UTF-8
    extra = files["extra_column"]
    header = read_register(tiny_defects.out, extra["register"]).column_names
    assert header[-1] == extra["column"]


def test_rates_are_about_as_asked(tiny_defects: WorldSummary) -> None:
    total = sum(tiny_defects.rows.values())
    assert 0.015 < tiny_defects.defects / total < 0.045
    assert np.isfinite(tiny_defects.defects)
