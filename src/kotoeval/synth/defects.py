"""Realistic faults planted in the registers, each listed so ingest can be held to account.

A planted row carries exactly one fault. Row numbers in ``defects.json`` are 1-based data rows
of the register's file (a CSV line number is the row plus one, for the header). Exact
duplicates list the inserted copy; conflicting duplicates list both rows of the key; an
overlapping job-seeker period lists the later period, whose start was moved into its
predecessor.
"""

from __future__ import annotations

from collections.abc import Callable
from dataclasses import dataclass, field
from typing import Any, Final

import numpy as np
import pyarrow as pa
import pyarrow.compute as pc

from kotoeval.registers import Register
from kotoeval.registers.hetu import CHECK_CHARACTERS
from kotoeval.registers.reference import load

#: A column whose value a conflicting duplicate changes, per register (none: rule not planted).
CONFLICT_COLUMN: Final = {
    "population": "disposable_income",
    "residence_permits": "permit_type",
    "earnings": "wages_eur",
    "benefits": "amount_eur",
    "service_plans": "municipality",
    "services": "provider",
    "education": "field",
    "language_tests": "level",
}
_IMPOSSIBLE_DAYS: Final = ("02-30", "02-31", "04-31", "06-31", "09-31", "11-31")


@dataclass
class Planted:
    """Rows to change and rows to insert, decided before the table is rebuilt."""

    register: Register
    replace: dict[str, dict[int, str]] = field(default_factory=dict)
    insert_after: dict[int, dict[str, str]] = field(default_factory=dict)
    """Source row → changed values of its copy (empty: an exact duplicate)."""
    records: list[tuple[int, str, str, bool]] = field(default_factory=list)
    """(row, rule, column, row is the inserted copy)."""

    def set(self, row: int, column: str, value: str, rule: str) -> None:
        """Give ``row`` the faulty ``value`` in ``column``."""
        self.replace.setdefault(column, {})[row] = value
        self.records.append((row, rule, column, False))


def _other(value: str, options: tuple[str, ...], rng: np.random.Generator) -> str:
    choices = [o for o in options if o != value]
    return choices[int(rng.integers(len(choices)))]


def _date_columns(reg: Register) -> list[str]:
    return [c.name for c in reg.columns if c.type == "date"]


def _code_columns(reg: Register) -> list[str]:
    return [c.name for c in reg.columns if c.codes is not None or c.reference is not None]


def _amount_columns(reg: Register) -> list[str]:
    return [c.name for c in reg.columns if c.type == "decimal" and c.minimum == 0]


def _rules(reg: Register) -> list[str]:
    rules = ["hetu_checksum", "unknown_code", "duplicate_row"]
    if _date_columns(reg):
        rules.append("impossible_date")
    if reg.name == "population":
        rules.append("hetu_sex_mismatch")
    if reg.periods:
        rules.append("end_before_start")
    if _amount_columns(reg):
        rules.append("negative_amount")
    if reg.name == "benefits":
        rules.append("days_out_of_range")
    if any(c.type == "month" for c in reg.columns):
        rules.append("month_out_of_range")
    if reg.name in CONFLICT_COLUMN:
        rules.append("conflicting_duplicate")
    if reg.non_overlapping:
        rules.append("overlapping_period")
    return rules


def plan_defects(reg: Register, table: pa.Table, rate: float, rng: np.random.Generator) -> Planted:
    """Choose rows and faults for one chunk of a register."""
    planted = Planted(reg)
    n = table.num_rows
    k = int(rng.binomial(n, rate)) if n else 0
    if k == 0:
        return planted
    rules = _rules(reg)
    rows = np.sort(rng.choice(n, size=min(k, n), replace=False))
    # A row next to a planted one is left clean, so every fault stays attributable.
    rows = rows[np.r_[True, np.diff(rows) > 1]]
    chosen = rng.integers(len(rules), size=len(rows))
    columns = {name: table.column(name) for name in table.column_names}
    for row, rule_index in zip(rows.tolist(), chosen.tolist(), strict=True):
        if not _PLANTERS[rules[rule_index]](planted, columns, row, rng):
            # The row cannot carry this fault (e.g. it has no end date): break its check character.
            _hetu_checksum(planted, columns, row, rng)
    return planted


def _value(columns: dict[str, pa.ChunkedArray], column: str, row: int) -> str | None:
    value = columns[column][row].as_py()
    return None if value is None else str(value)


def _hetu_checksum(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    code = _value(cols, "hetu", row) or ""
    p.set(row, "hetu", code[:-1] + _other(code[-1], tuple(CHECK_CHARACTERS), rng), "hetu_checksum")
    return True


def _sex_mismatch(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    p.set(row, "sex", "2" if _value(cols, "sex", row) == "1" else "1", "hetu_sex_mismatch")
    return True


def _impossible_date(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    present = [c for c in _date_columns(p.register) if _value(cols, c, row)]
    if not present:
        return False
    column = present[int(rng.integers(len(present)))]
    year = (_value(cols, column, row) or "")[:4]
    p.set(
        row,
        column,
        f"{year}-{_IMPOSSIBLE_DAYS[int(rng.integers(len(_IMPOSSIBLE_DAYS)))]}",
        "impossible_date",
    )
    return True


def _end_before_start(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    for start_col, end_col in p.register.periods:
        start, end = _value(cols, start_col, row), _value(cols, end_col, row)
        if start and end:
            earlier = np.datetime64(start) - np.timedelta64(int(rng.integers(1, 60)), "D")
            p.set(row, end_col, str(earlier), "end_before_start")
            return True
    return False


def _unknown_code(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    present = [c for c in _code_columns(p.register) if _value(cols, c, row)]
    if not present:
        return False
    column = present[int(rng.integers(len(present)))]
    spec = p.register.column(column)
    value = _value(cols, column, row) or ""
    if spec.reference == "municipalities":
        bogus = "999"
    elif spec.type == "int":
        bogus = "77"
    else:
        bogus = f"x_{value}"
    p.set(row, column, bogus, "unknown_code")
    return True


def _negative_amount(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    column = _amount_columns(p.register)[0]
    value = _value(cols, column, row)
    if not value or float(value) == 0:
        return False
    p.set(row, column, f"-{value}", "negative_amount")
    return True


def _days_out_of_range(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    p.set(row, "days", str(int(rng.integers(32, 60))), "days_out_of_range")
    return True


def _month_out_of_range(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    year = (_value(cols, "month", row) or "2020")[:4]
    p.set(row, "month", f"{year}-{'13' if rng.random() < 0.5 else '00'}", "month_out_of_range")
    return True


def _duplicate(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    p.insert_after[row] = {}
    p.records.append((row, "duplicate_row", "", True))
    return True


def _conflict(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    column = CONFLICT_COLUMN[p.register.name]
    value = _value(cols, column, row)
    if value is None:
        return False
    spec = p.register.column(column)
    if spec.codes is not None:
        changed = _other(value, spec.codes, rng)
    elif spec.reference is not None:
        changed = _other(value, load(spec.reference).codes, rng)
    elif spec.type == "decimal":
        changed = f"{float(value) + 25 + int(rng.integers(100)):.2f}"
    else:
        changed = f"{value}-B"
    p.insert_after[row] = {column: changed}
    p.records.append((row, "conflicting_duplicate", column, False))
    p.records.append((row, "conflicting_duplicate", column, True))
    return True


def _overlap(
    p: Planted, cols: dict[str, pa.ChunkedArray], row: int, rng: np.random.Generator
) -> bool:
    if row == 0 or _value(cols, "hetu", row) != _value(cols, "hetu", row - 1):
        return False
    prev_start, prev_end = _value(cols, "start_date", row - 1), _value(cols, "end_date", row - 1)
    if not prev_start or not prev_end:
        return False
    gap = (np.datetime64(prev_end) - np.datetime64(prev_start)).astype(int)
    if gap < 2:
        return False
    moved = np.datetime64(prev_start) + np.timedelta64(int(rng.integers(1, gap)), "D")
    p.set(row, "start_date", str(moved), "overlapping_period")
    return True


_PLANTERS: Final[
    dict[str, Callable[[Planted, dict[str, pa.ChunkedArray], int, np.random.Generator], bool]]
] = {
    "hetu_checksum": _hetu_checksum,
    "hetu_sex_mismatch": _sex_mismatch,
    "impossible_date": _impossible_date,
    "end_before_start": _end_before_start,
    "unknown_code": _unknown_code,
    "negative_amount": _negative_amount,
    "days_out_of_range": _days_out_of_range,
    "month_out_of_range": _month_out_of_range,
    "duplicate_row": _duplicate,
    "conflicting_duplicate": _conflict,
    "overlapping_period": _overlap,
}


def _replaced(column: pa.ChunkedArray, changes: dict[int, str]) -> pa.Array:
    """The column with the values at the given rows replaced."""
    col = column.combine_chunks()
    if not changes:
        return col
    rows = np.array(sorted(changes))
    mask = np.zeros(len(col), dtype=bool)
    mask[rows] = True
    return pc.replace_with_mask(
        col, pa.array(mask), pa.array([changes[i] for i in rows], pa.string())
    )


def apply_defects(
    table: pa.Table, planted: Planted, first_row: int
) -> tuple[pa.Table, list[dict[str, Any]]]:
    """Rebuild the table with the planted faults; return it and the records with file rows.

    ``first_row`` is the 1-based file row of the table's first row.
    """
    n = table.num_rows
    arrays = {
        name: _replaced(table.column(name), planted.replace.get(name, {}))
        for name in table.column_names
    }
    sources = np.array(sorted(planted.insert_after), dtype=np.int64)
    # Each source row is followed by its copy: the copy's position shifts by the copies before.
    order = np.arange(n)
    if len(sources):
        order = np.insert(order, sources + 1, sources)
    rebuilt = pa.table({k: v.take(pa.array(order)) for k, v in arrays.items()})
    position = np.empty(n, dtype=np.int64)
    is_copy = np.zeros(len(order), dtype=bool)
    if len(sources):
        is_copy[sources + 1 + np.arange(len(sources))] = True
    position[order[~is_copy]] = np.flatnonzero(~is_copy)
    copy_position = dict(zip(sources.tolist(), np.flatnonzero(is_copy).tolist(), strict=True))
    copy_changes: dict[str, dict[int, str]] = {}
    for source, changed in planted.insert_after.items():
        for column, value in changed.items():
            copy_changes.setdefault(column, {})[copy_position[source]] = value
    for column, changes in copy_changes.items():
        rebuilt = rebuilt.set_column(
            rebuilt.column_names.index(column), column, _replaced(rebuilt.column(column), changes)
        )
    records = []
    for row, rule, column, copy in planted.records:
        at = copy_position[row] if copy else int(position[row])
        records.append(
            {
                "register": planted.register.name,
                "row": first_row + at,
                "rule": rule,
                "column": column,
            }
        )
    return rebuilt, records
