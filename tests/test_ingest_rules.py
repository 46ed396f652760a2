"""Each validation rule on a hand-made delivery whose right answer is known row by row."""

from __future__ import annotations

import datetime
import re
import tempfile
from pathlib import Path

import ibis
import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.ingest.cross_row import repeated_keys
from kotoeval.ingest.pseudonym import person_map
from kotoeval.ingest.run import ingest
from kotoeval.ingest.validate import (
    checked_rows,
    compact_code,
    not_one_of,
    not_whole_match,
    value_checks,
)
from kotoeval.registers import REGISTERS
from kotoeval.warehouse.engine import Engine, connect
from tests.helpers import open_warehouse_file

# Valid identity codes: the check character is "0123456789ABCDEFHJKLMNPRSTUVWXY"[ddmmyynnn % 31];
# an odd individual number (123) is a man, an even one (244) a woman.
ANNA = "010190-123M"
ANNA_SEX = "1"
BEN = "020285-244P"
BEN_SEX = "2"
CARL = "150305A123B"  # born in 2005, never in the population register
POPULATION_HEADER = (
    "hetu,year,municipality,sex,country_of_birth,citizenship,language,immigration_date,"
    "education_level,education_field,main_activity,family_id,children,disposable_income"
)


def _population_row(code: str, year: str, sex: str, **changes: str) -> str:
    values = {
        "hetu": code, "year": year, "municipality": "049", "sex": sex,
        "country_of_birth": "SO", "citizenship": "SO", "language": "so",
        "immigration_date": "2015-06-01", "education_level": "", "education_field": "",
        "main_activity": "12", "family_id": "F1", "children": "2", "disposable_income": "14500.50",
    }  # fmt: skip
    values.update(changes)
    return ",".join(values.values())


@pytest.fixture
def delivery(tmp_path: Path) -> Path:
    folder = tmp_path / "delivery"
    folder.mkdir()
    population = [
        POPULATION_HEADER,
        _population_row(ANNA, "2020", ANNA_SEX),  # 1 loaded
        _population_row(ANNA, "2021", ANNA_SEX),  # 2 loaded
        _population_row(ANNA, "2021", ANNA_SEX),  # 3 exact copy of row 2
        _population_row(BEN, "2020", "1"),  # 4 sex disagrees with the code
        _population_row(BEN, "2021", BEN_SEX, municipality="999"),  # 5 unknown municipality
        _population_row(BEN[:-1] + "R", "2022", BEN_SEX),  # 6 wrong check character
        _population_row(BEN, "2022", BEN_SEX, immigration_date="2015-02-30"),  # 7 no such day
        _population_row(" " + BEN.lower() + " ", "2023", BEN_SEX),  # 8 loaded: spaces, case
        _population_row(BEN, "2024", BEN_SEX, children="-1"),  # 9 out of range
        _population_row(BEN, "20x5", BEN_SEX),  # 10 not a number
        # 11 loaded: row 4 has the same key but failed a row rule, so nothing conflicts
        _population_row(BEN, "2020", BEN_SEX, disposable_income="99"),
    ]
    (folder / "population.csv").write_text("\n".join(population) + "\n")
    periods = [
        "hetu,start_date,end_date,status,employment_area",
        f"{ANNA},2020-01-01,2020-03-31,unemployed,espoo",  # 1 loaded
        f"{ANNA},2020-03-15,2020-05-31,unemployed,espoo",  # 2 starts before 1 ended
        f"{ANNA},2020-06-01,,in_services,espoo",  # 3 loaded (ongoing)
        f"{BEN},2020-05-01,2020-04-01,unemployed,espoo",  # 4 ends before it starts
        f"{CARL},2020-01-01,2020-02-01,unemployed,espoo",  # 5 not in the population register
        f"{BEN},2021-01-01,2021-02-01,,espoo",  # 6 status missing
    ]
    (folder / "jobseeker_periods.csv").write_text("\n".join(periods) + "\n")
    benefits = [
        "hetu,month,benefit,amount_eur,days",
        f"{ANNA},2020-01,labour_market_subsidy,700.25,21",  # 1 loaded
        f"{ANNA},2020-13,labour_market_subsidy,700.25,21",  # 2 month 13
        f"{ANNA},2020-02,labour_market_subsidy,-5,21",  # 3 negative
        f"{ANNA},2020-03,labour_market_subsidy,10,32",  # 4 days
        f"{ANNA},2020-04,labour_market_subsidy,10,2",  # 5 conflict with 6
        f"{ANNA},2020-04,labour_market_subsidy,11,2",  # 6 conflict with 5
        f"{ANNA},2020-05,labour_market_subsidy,1.5e3,2",  # 7 not a decimal number
    ]
    (folder / "benefits.csv").write_text("\n".join(benefits) + "\n")
    return folder


EXPECTED = {
    ("population", 3, "duplicate_row", None),
    ("population", 4, "hetu_sex_mismatch", "sex"),
    ("population", 5, "unknown_code", "municipality"),
    ("population", 6, "hetu_checksum", "hetu"),
    ("population", 7, "impossible_date", "immigration_date"),
    ("population", 9, "value_out_of_range", "children"),
    ("population", 10, "invalid_value", "year"),
    ("jobseeker_periods", 2, "overlapping_period", "start_date"),
    ("jobseeker_periods", 4, "end_before_start", "end_date"),
    ("jobseeker_periods", 5, "unlinked", "hetu"),
    ("jobseeker_periods", 6, "missing_value", "status"),
    ("benefits", 2, "month_out_of_range", "month"),
    ("benefits", 3, "negative_amount", "amount_eur"),
    ("benefits", 4, "days_out_of_range", "days"),
    ("benefits", 5, "conflicting_duplicate", "amount_eur"),
    ("benefits", 6, "conflicting_duplicate", "amount_eur"),
    ("benefits", 7, "invalid_value", "amount_eur"),
}


def test_every_rule_on_known_rows(delivery: Path, key: Path, tmp_path: Path) -> None:
    warehouse = tmp_path / "w.duckdb"
    report = ingest(delivery, warehouse, key)
    with open_warehouse_file(warehouse) as con:
        found = set(con.sql('SELECT register, row, rule, "column" FROM quarantine').fetchall())
        lines = con.sql("SELECT DISTINCT line - row FROM quarantine").fetchall()
        population = con.sql(
            "SELECT year, municipality, sex, immigration_date, disposable_income, family_id "
            "FROM population ORDER BY year, sex"
        ).fetchall()
        ongoing = con.sql(
            "SELECT count(*) FROM jobseeker_periods WHERE end_date IS NULL"
        ).fetchall()
        amount = con.sql("SELECT month, amount_eur, days FROM benefits").fetchall()
    assert found == EXPECTED
    assert lines == [(1,)]
    loads = {load.register: load for load in report.loads}
    assert (loads["population"].rows_in, loads["population"].loaded) == (11, 4)
    assert loads["population"].duplicates == 1 and loads["population"].quarantined == 6
    assert (loads["jobseeker_periods"].loaded, loads["jobseeker_periods"].orphan_rows) == (2, 1)
    assert loads["jobseeker_periods"].persons == 1
    assert [row[:5] for row in population] == [
        (2020, "049", 1, _date("2015-06-01"), 14500.5),
        (2020, "049", 2, _date("2015-06-01"), 99.0),
        (2021, "049", 1, _date("2015-06-01"), 14500.5),
        (2023, "049", 2, _date("2015-06-01"), 14500.5),
    ]
    assert all(len(row[5]) == 32 for row in population)  # the family id is pseudonymised
    assert ongoing == [(1,)]
    assert amount == [(_date("2020-01-01"), 700.25, 21)]


def _date(text: str) -> datetime.date:
    return datetime.date.fromisoformat(text)


def test_the_finnish_spreadsheet_dialect_reads_decimal_commas(tmp_path: Path, key: Path) -> None:
    folder = tmp_path / "d"
    folder.mkdir()
    rows = [POPULATION_HEADER.replace(",", ";"), _population_row(ANNA, "2020", ANNA_SEX)]
    rows[1] = rows[1].replace(",", ";").replace("14500.50", "14500,50")
    (folder / "population.csv").write_bytes(("\r\n".join(rows) + "\r\n").encode("cp1252"))
    (folder / "delivery.toml").write_text(
        '[registers.population]\nencoding = "cp1252"\ndelimiter = ";"\ndecimal = ","\n'
    )
    warehouse = tmp_path / "w.duckdb"
    ingest(folder, warehouse, key)
    with open_warehouse_file(warehouse) as con:
        assert con.sql("SELECT disposable_income FROM population").fetchall() == [(14500.5,)]


raw_codes = st.text(alphabet="0123456789-+ABCDEFUVWXY abcdef", min_size=0, max_size=14)


@settings(max_examples=300)
@given(st.lists(raw_codes, min_size=1, max_size=40))
def test_the_engine_compacts_codes_as_stdnum_does(values: list[str]) -> None:
    table = ibis.memtable({"raw": values})
    compacted = ibis.duckdb.connect().to_pyarrow(table.select(code=compact_code(table.raw)))
    expected = [stdnum_hetu.compact(v) or None for v in values]
    assert compacted.column("code").to_pylist() == expected


@settings(max_examples=300)
@given(st.lists(raw_codes.map(stdnum_hetu.compact).filter(bool), min_size=1, max_size=40))
def test_the_map_classifies_codes_as_stdnum_does(codes: list[str]) -> None:
    mapped = person_map(bytes(32), codes).to_pylist()
    for code, row in zip(codes, mapped, strict=True):
        try:
            stdnum_hetu.validate(code, allow_temporary=True)
            expected = None
        except InvalidChecksum:
            expected = "hetu_checksum"
        except ValidationError:
            expected = "hetu_invalid"
        assert row["problem"] == expected
        assert (row["sex"] is None) == (expected is not None)


#: The contract's patterns, the types' own, and one whose first alternative is a prefix of
#: the second (a search finds "A" in "AB"; the whole value is a match of the second).
PATTERNS = sorted(
    {c.pattern for r in REGISTERS.values() for c in r.columns if c.pattern}
    | {r"^[+-]?[0-9]+$", r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$", r"^[0-9]{4}-[0-9]{2}$", "A|AB"}
)
# Staged values are never empty (an empty field is null); digits of other scripts must fail.
staged_texts = st.one_of(
    st.none(), st.text(alphabet="0123456789+-ABCDSOXYabso \n\u0663", min_size=1, max_size=8)
)


@settings(max_examples=200, deadline=None)
@given(st.lists(staged_texts, min_size=1, max_size=30))
@example(["AB", "A", "SO", "2", None])
def test_patterns_match_whole_values_and_codes_whole_codes(values: list[str | None]) -> None:
    """The row rules' own forms of a pattern and of a code list (written so that DuckDB checks
    each distinct value once) say what Python's full match and ``in`` say; null stays null."""
    table = ibis.memtable({"v": values}, schema={"v": "string"})
    codes = ("1", "2", "SO", "ab")
    columns = {f"p{i}": not_whole_match(table.v, p) for i, p in enumerate(PATTERNS)}
    columns["codes"] = not_one_of(table.v, codes)
    columns["number"] = table.v.try_cast("int64")
    columns["numbers"] = not_one_of(columns["number"], [1, 2])
    got = ibis.duckdb.connect().to_pyarrow(table.select(**columns)).to_pydict()
    for i, pattern in enumerate(PATTERNS):
        expected = [None if v is None else not re.fullmatch(pattern, v, re.ASCII) for v in values]
        assert got[f"p{i}"] == expected, pattern
    assert got["codes"] == [None if v is None else v not in codes for v in values]
    assert got["numbers"] == [None if n is None else n not in (1, 2) for n in got["number"]]


def test_a_code_written_with_unicode_look_alikes_links_to_the_same_person(
    tmp_path: Path, key: Path
) -> None:
    """A no-break space around the code or an en dash for its hyphen: stdnum reads them as the
    plain code, so the rows get the plain code's pseudonym, not a second one."""
    en_dash, no_break = "\u2013", "\u00a0"
    dashed = ANNA.replace("-", en_dash)
    folder = tmp_path / "delivery"
    folder.mkdir()
    population = [POPULATION_HEADER, _population_row(ANNA, "2020", ANNA_SEX)]
    (folder / "population.csv").write_text("\n".join(population) + "\n", encoding="utf-8")
    benefits = [
        "hetu,month,benefit,amount_eur,days",
        f"{ANNA},2020-01,labour_market_subsidy,700.25,21",
        f"{dashed},2020-02,labour_market_subsidy,700.25,21",
        f"{no_break}{ANNA}{no_break},2020-03,labour_market_subsidy,700.25,21",
        f"{dashed.lower()},2020-04,labour_market_subsidy,700.25,21",
    ]
    (folder / "benefits.csv").write_text("\n".join(benefits) + "\n", encoding="utf-8")
    warehouse = tmp_path / "w.duckdb"
    ingest(folder, warehouse, key)
    with open_warehouse_file(warehouse) as con:
        assert con.sql("SELECT count(*) FROM quarantine").fetchone() == (0,)
        pids = con.sql("SELECT DISTINCT pid FROM benefits").fetchall()
        assert pids == con.sql("SELECT DISTINCT pid FROM population").fetchall()
        assert con.sql("SELECT count(*) FROM persons").fetchone() == (1,)


date_texts = st.sampled_from(
    ["2020-01-31", "2020-02-30", "1899-12-31", "2101-01-01", "2020-1-05", "20200105", "x", None]
)
month_texts = st.sampled_from(["2020-01", "2020-12", "2020-13", "2020-00", "2020-1", "x", None])


@settings(max_examples=200)
@given(
    st.lists(
        st.tuples(st.integers(-3, 3), st.sampled_from([None, None, 4])), min_size=0, max_size=30
    )
)
def test_repeated_keys_are_found_alike_by_sorting_and_by_grouping(
    rows: list[tuple[int, int | None]],
) -> None:
    """Both ways of finding repeated key hashes give the rows that passed the row rules and
    share their hash with another such row; rows that failed a rule neither count nor come out.
    """
    table = ibis.memtable(
        {
            "_row": list(range(len(rows))),
            "_h": [h for h, _ in rows],
            "_check": [c for _, c in rows],
        },
        schema={"_row": "int64", "_h": "int64", "_check": "int64"},
    )
    valid = [h for h, check in rows if check is None]
    expected = [i for i, (h, check) in enumerate(rows) if check is None and valid.count(h) > 1]
    con = ibis.duckdb.connect()
    for by_sorting in (True, False):
        found = con.to_pyarrow(repeated_keys(table, by_sorting).order_by("_row"))
        assert found.column("_row").to_pylist() == expected, by_sorting


@settings(max_examples=25, deadline=None)
@given(
    st.lists(
        st.tuples(date_texts, date_texts, st.sampled_from(["integration_plan", "unknown", None])),
        min_size=1,
        max_size=12,
    ),
    st.lists(month_texts, min_size=1, max_size=12),
)
def test_checking_dates_per_distinct_value_gives_the_per_row_verdicts(
    periods: list[tuple[str | None, str | None, str | None]], months: list[str | None]
) -> None:
    """Dates and months are checked once per distinct value and the verdict joined back; the
    first rule broken and the typed values must be those of checking every row itself."""
    with tempfile.TemporaryDirectory() as scratch:
        engine = connect("duckdb", Path(scratch))
        try:
            _compare_per_value_and_per_row(engine, periods, months)
        finally:
            engine.close()


def _compare_per_value_and_per_row(
    engine: Engine,
    periods: list[tuple[str | None, str | None, str | None]],
    months: list[str | None],
) -> None:
    con = engine.con
    person = ibis.memtable(
        {"raw": [ANNA], "pkey": [0], "pid": ["p0"], "problem": [None], "sex": [1]},
        schema={
            "raw": "string",
            "pkey": "int64",
            "pid": "string",
            "problem": "string",
            "sex": "int64",
        },
    )
    cases = {
        "service_plans": {
            "plan": [p[2] for p in periods],
            "start_date": [p[0] for p in periods],
            "end_date": [p[1] for p in periods],
            "municipality": ["049"] * len(periods),
        },
        "benefits": {
            "month": months,
            "benefit": ["housing_allowance"] * len(months),
            "amount_eur": ["10.5"] * len(months),
            "days": ["3"] * len(months),
        },
    }
    for name, columns in cases.items():
        reg = REGISTERS[name]
        n = len(next(iter(columns.values())))
        staged = ibis.memtable(
            {"_part": [0] * n, "_row": list(range(1, n + 1)), "hetu": [ANNA] * n, **columns},
            schema={"_part": "int32", "_row": "int64", **dict.fromkeys(reg.column_names, "string")},
        )
        per_value = value_checks(engine, reg, staged, ".")
        assert per_value  # the register has dates or months
        per_row = checked_rows(reg, staged, {"hetu": person}, {}, ".")
        joined = checked_rows(reg, staged, {"hetu": person}, per_value, ".")
        assert joined.labels == per_row.labels
        expected = con.to_pyarrow(per_row.rows.order_by("_row"))
        assert con.to_pyarrow(joined.rows.order_by("_row")).equals(expected), name
