"""The input contract as code agrees with the design, its docs and the real classifications."""

from __future__ import annotations

import re
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.errors import SpecError
from kotoeval.registers import REGISTERS, codes, hetu, reference, register
from kotoeval.registers.docs import render

ROOT = Path(__file__).resolve().parents[1]


def _design_tables(text: str) -> dict[str, list[tuple[str, str, str]]]:
    """(column, type, content) rows of every register section of REGISTERS.md."""
    tables: dict[str, list[tuple[str, str, str]]] = {}
    current = None
    for line in text.splitlines():
        heading = re.match(r"### (\w+) —", line)
        if heading:
            current = heading.group(1)
            tables[current] = []
        elif current and line.startswith("| ") and not line.startswith("| column"):
            cells = [c.strip() for c in line.strip("|").split("|")]
            tables[current].append((cells[0], cells[1], cells[2]))
        elif line.startswith("## "):
            current = None
    return tables


def test_schemas_match_the_design_contract(shared: Path) -> None:
    design = _design_tables((shared / "design" / "REGISTERS.md").read_text(encoding="utf-8"))
    assert set(design) == set(REGISTERS)
    for name, rows in design.items():
        schema = REGISTERS[name]
        assert [r[0] for r in rows] == list(schema.column_names), name
        assert [r[1] for r in rows] == [c.type for c in schema.columns], name


def test_codes_named_in_the_design_are_allowed(shared: Path) -> None:
    import pyarrow as pa

    from tests.helpers import column_violations

    design = _design_tables((shared / "design" / "REGISTERS.md").read_text(encoding="utf-8"))
    checked = 0
    for name, rows in design.items():
        for column, _, content in rows:
            spec = REGISTERS[name].column(column)
            named = re.findall(r"`([^`]+)`", content)
            if not named or column in ("hetu",) or spec.type == "date":
                continue
            bad = column_violations(spec, pa.array(named))
            assert not bad.any(), f"{name}.{column}: {np.array(named)[bad]}"
            checked += len(named)
    assert checked > 60


def test_generated_docs_are_committed_and_current() -> None:
    committed = (ROOT / "docs" / "registers.md").read_text(encoding="utf-8")
    assert committed == render(), "regenerate with: kotoeval docs --out docs"


def test_every_register_has_a_key_of_its_own_columns() -> None:
    for reg in REGISTERS.values():
        assert set(reg.key) <= set(reg.column_names)
        assert reg.column_names[0] == "hetu"
        for start, end in reg.periods:
            assert reg.column(start).type == reg.column(end).type == "date"


def test_unknown_register_and_column_errors_name_the_choices() -> None:
    with pytest.raises(SpecError, match="the contract has population"):
        register("salaries")
    with pytest.raises(SpecError, match="no column 'wage'"):
        REGISTERS["earnings"].column("wage")


def test_language_levels_are_ordered() -> None:
    assert codes.level_rank("pre_A1") == 0
    assert codes.level_rank("B1.1") > codes.level_rank("A2.2") > codes.level_rank("A1.3")
    assert codes.level_rank("C2") == len(codes.LANGUAGE_LEVELS) - 1


def test_reference_classifications_are_consistent() -> None:
    municipalities = reference.load("municipalities")
    names = municipalities.attribute("name_fi")
    assert names["049"] == "Espoo" and names["091"] == "Helsinki"
    assert names["092"] == "Vantaa" and names["235"] == "Kauniainen"
    assert municipalities.attribute("name_sv")["049"] == "Esbo"
    areas = set(reference.load("employment_areas").codes)
    ely = set(reference.load("ely_regions").codes)
    assert set(municipalities.attribute("employment_area").values()) <= areas
    assert set(municipalities.attribute("ely_region").values()) <= ely
    regions = set(reference.load("world_regions").codes)
    assert set(reference.load("countries").attribute("world_region").values()) <= regions
    assert reference.world_region_of("SO") == "sub_saharan_africa"
    assert reference.world_region_of("ZZ") == "unknown"
    expert = reference.load("isco_major_groups").attribute("expert")
    assert [g for g, e in expert.items() if e == "true"] == list(codes.EXPERT_ISCO_MAJOR_GROUPS)
    assert reference.load("isced_fields").codes == codes.EDUCATION_FIELDS


def test_a_user_can_replace_a_classification(tmp_path: Path) -> None:
    official = tmp_path / "kunnat.csv"
    official.write_text("code,name_fi\n005,Alajärvi\n", encoding="utf-8")
    table = reference.load("municipalities", official)
    assert table.codes == ("005",)
    official.write_text("code,name_fi\n005,A\n005,B\n", encoding="utf-8")
    with pytest.raises(SpecError, match="repeats code '005' on line 3"):
        reference.load("municipalities", official)


def test_known_identity_code() -> None:
    code = hetu.compose(np.array([1952]), np.array([10]), np.array([13]), np.array([308]))
    assert code[0] == "131052-308T"


@given(
    st.dates(
        min_value=__import__("datetime").date(1800, 1, 1),
        max_value=__import__("datetime").date(2099, 12, 31),
    ),
    st.integers(min_value=2, max_value=899),
    st.integers(min_value=0, max_value=5),
)
def test_composed_codes_are_valid_for_stdnum(day, individual: int, sign: int) -> None:
    code = hetu.compose(
        np.array([day.year]), np.array([day.month]), np.array([day.day]), np.array([individual]),
        np.array([sign]),
    )[0]  # fmt: skip
    assert stdnum_hetu.validate(code) == code
    assert code[6] in hetu.CENTURY_SIGNS[day.year // 100 * 100]
    expected_sex = 1 if individual % 2 else 2
    assert hetu.sex_of_individual_number(np.array([individual]))[0] == expected_sex
