"""Row rules as Ibis expressions: the same code on DuckDB and on Spark.

Row rules look at one row: types, required values, code lists, ranges, dates, the identity code
and the sex it implies, period order. A row breaking several is quarantined for the first, in
the order of :func:`checked_rows` (the identity code first, then the columns in contract order,
then rules across columns). The rules across rows are in :mod:`kotoeval.ingest.cross_row`.
"""

from __future__ import annotations

from collections.abc import Collection
from dataclasses import dataclass

import ibis
import ibis.expr.datatypes as dt
import ibis.expr.types as ir
import pyarrow as pa
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.registers import Column, Register
from kotoeval.registers.reference import load
from kotoeval.warehouse import Engine

_INT = r"^[+-]?[0-9]+$"
_DECIMAL = r"^[+-]?[0-9]+(\.[0-9]+)?$"
_DATE = r"^[0-9]{4}-[0-9]{2}-[0-9]{2}$"
_MONTH = r"^[0-9]{4}-[0-9]{2}$"
#: Rules an identity code breaks, as the person map names them (``problem``).
_HETU_PROBLEMS = ("hetu_checksum", "hetu_invalid")
_NON_ASCII = r"[^\x00-\x7f]"  # valid in RE2 and Java regular expressions
EARLIEST = "1900-01-01"
LATEST = "2100-12-31"


@dataclass(frozen=True)
class Check:
    """A row fails ``rule`` in ``column`` where ``failed`` is true."""

    failed: ir.BooleanValue
    rule: str
    column: str


def compact_code(raw: ir.StringValue) -> ir.StringValue:
    """An identity code as stdnum compacts it: surrounding white space removed, upper case."""
    return raw.strip().upper().nullif("")


def person_codes(engine: Engine, raw: ir.Table, name: str) -> ir.Table:
    """``raw`` (distinct delivered identity codes) with ``code``: each as stdnum compacts it.

    The engine compacts ASCII text (:func:`compact_code`). The rare text with other characters
    (a no-break space, an en dash for the hyphen) is compacted by stdnum itself, which reads
    those as their ASCII forms: such a code then gets the same pseudonym as its plain form,
    instead of a second one for the same person.
    """
    unusual = raw.filter(raw.raw.re_search(_NON_ASCII)).raw.to_pyarrow().to_pylist()
    if not unusual:
        return raw.mutate(code=compact_code(raw.raw))
    compacted = [stdnum_hetu.compact(value) or None for value in unusual]
    fixes = engine.append_arrow(
        f"unusual_{name}", pa.table({"_unusual": unusual, "_compact": compacted})
    )
    joined = raw.left_join(fixes, raw.raw == fixes._unusual)
    code = ibis.ifelse(joined._unusual.isnull(), compact_code(joined.raw), joined._compact)
    return engine.materialise(f"codes_{name}", joined.select("raw", code=code))


def typed(column: Column, value: ir.StringValue, decimal: str) -> ir.Value:
    """The value of ``column`` in its contract type (null where it cannot be read).

    Only rows that pass :func:`column_checks` are loaded, so the format is checked there, once;
    the cast here need not repeat it.
    """
    if column.type == "int":
        return value.try_cast("int64")
    if column.type == "decimal":
        return _decimal_text(value, decimal).try_cast("float64")
    if column.type == "date":
        return value.try_cast("date")
    if column.type == "month":
        return value.concat("-01").try_cast("date")
    return value


def _decimal_text(value: ir.StringValue, decimal: str) -> ir.StringValue:
    return value.replace(",", ".") if decimal == "," else value


def column_checks(column: Column, value: ir.StringValue, decimal: str) -> list[Check]:
    """Every rule of one column, in the order they are tried.

    ``value`` is staged text: trimmed, empty as null.
    """
    name = column.name
    checks = []
    if column.required:
        checks.append(Check(value.isnull(), "missing_value", name))
    if column.type == "int":
        checks.append(Check(not_whole_match(value, _INT), "invalid_value", name))
    elif column.type == "decimal":
        checks.append(
            Check(~_decimal_text(value, decimal).re_search(_DECIMAL), "invalid_value", name)
        )
    elif column.type == "date":
        date = typed(column, value, decimal)
        checks += [
            Check(not_whole_match(value, _DATE), "invalid_value", name),
            Check(
                ~not_whole_match(value, _DATE)
                & (date.isnull() | (date < ibis.date(EARLIEST)) | (date > ibis.date(LATEST))),
                "impossible_date",
                name,
            ),
        ]
    elif column.type == "month":
        month_number = value.substr(5, 2).try_cast("int64")
        checks += [
            Check(not_whole_match(value, _MONTH), "invalid_value", name),
            Check((month_number < 1) | (month_number > 12), "month_out_of_range", name),
        ]
    if column.pattern is not None:
        checks.append(Check(not_whole_match(value, column.pattern), "invalid_value", name))
    number = typed(column, value, decimal) if column.type in ("int", "decimal") else None
    if column.codes is not None:
        allowed = column.codes if number is None else [int(c) for c in column.codes]
        coded = value if number is None else number
        checks.append(Check(not_one_of(coded, allowed), "unknown_code", name))
    if column.reference is not None:
        checks.append(Check(not_one_of(value, load(column.reference).codes), "unknown_code", name))
    if number is not None and column.minimum is not None:
        checks.append(Check(number < column.minimum, column.range_rule, name))
    if number is not None and column.maximum is not None:
        checks.append(Check(number > column.maximum, column.range_rule, name))
    return checks


# The two tests below are written as functions of one column, not as a pattern search and an IN
# list: DuckDB evaluates such a function once per distinct value of a dictionary-encoded column
# (as the staged copy's code columns are), where it runs a search on every row and turns a long
# IN list into a join. On the population register's code columns this made each test four to
# eight times cheaper. Both are null where the value is null, and a null check is not failed:
# a missing value breaks ``missing_value`` or nothing.


def not_whole_match(value: ir.StringValue, pattern: str) -> ir.BooleanValue:
    """Whether ``value`` is not, as a whole, a match of ``pattern``.

    ``value`` is staged text, never empty (an empty field is null): the empty text would
    compare equal to the empty result of no match.
    """
    return value.re_extract(f"^(?:{pattern})$", 0) != value


def not_one_of(value: ir.Value, codes: Collection[str] | Collection[int]) -> ir.BooleanValue:
    """Whether ``value`` is not one of ``codes`` (null where it is null)."""
    listed = ibis.literal(list(codes), type=dt.Array(value.type()))
    return ibis.ifelse(value.isnull(), ibis.null("boolean"), ~listed.contains(value))


def checked_per_value(column: Column) -> bool:
    """Whether ``column`` is checked once per distinct value instead of once per row.

    Dates and months: each takes a pattern, a calendar cast and a range check, and a register
    of millions of rows holds only a few thousand distinct ones. (Codes are a cheap set lookup
    per row; checking them per value would cost a join for little.)
    """
    return column.pseudonym is None and column.type in ("date", "month")


def _hetu_checks(row: ir.Table) -> list[Check]:
    """The identity code's rules; ``row`` carries ``problem`` from the person map."""
    missing = Check(row.hetu.isnull(), "missing_value", "hetu")
    return [missing] + [Check(row.problem == p, p, "hetu") for p in _HETU_PROBLEMS]


def _column_checks(reg: Register, row: ir.Table, decimal: str) -> list[tuple[Column, list[Check]]]:
    """The checks of each column but the identity code, in the order they are tried."""
    return [
        (c, column_checks(c, row[c.name], decimal)) for c in reg.columns if c.pseudonym != "person"
    ]


def _cross_checks(reg: Register, row: ir.Table, value: dict[str, ir.Value]) -> list[Check]:
    """Rules across columns, tried after those of single columns; ``value`` holds typed values."""
    checks = []
    if "sex" in reg.column_names:
        checks.append(Check(value["sex"] != row.hetu_sex, "hetu_sex_mismatch", "sex"))
    for start, end in reg.periods:
        checks.append(Check(value[end] < value[start], "end_before_start", end))
    return checks


def _first_broken(checks: list[Check], offset: int) -> ir.IntegerValue:
    """Index (from ``offset``) of the first of ``checks`` that fails, or null.

    A check that is null is not failed (a case is taken only where its condition is true).
    """
    if not checks:
        return ibis.null("int64")
    return ibis.cases(
        *[(c.failed, offset + i) for i, c in enumerate(checks)],
        else_=ibis.null("int64"),
    )


def value_checks(
    engine: Engine, reg: Register, staged: ir.Table, decimal: str
) -> dict[str, ir.Table]:
    """For each column :func:`checked_per_value`: its distinct delivered values, checked and typed.

    Each table has ``raw`` (the staged text), ``first`` (the index of the first rule the value
    breaks, numbered as in :func:`checked_rows`, or null) and ``typed``. Joining the verdict
    back is cheaper than running the pattern and the casts on every row. A missing value is not
    in the table; :func:`checked_rows` checks it in place. The tables are computed once, as
    scratch tables named after the register and column.
    """
    tables = {}
    offset = 1 + len(_HETU_PROBLEMS)  # the identity code's rules come first
    for column, checks in _column_checks(reg, staged, decimal):
        if checked_per_value(column):
            values = staged.select(raw=staged[column.name]).filter(ibis._.raw.notnull()).distinct()
            verdicts = values.mutate(
                first=_first_broken(column_checks(column, values.raw, decimal), offset),
                typed=typed(column, values.raw, decimal),
            )
            tables[column.name] = engine.materialise(f"verdicts_{reg.name}_{column.name}", verdicts)
        offset += len(checks)
    return tables


@dataclass(frozen=True)
class Checked:
    """Rows after the row rules, and what each value of their ``_check`` column means."""

    rows: ir.Table
    """``_part``, ``_row``, ``pkey`` of the person, the employer and family keys (by the
    column's name), the other columns in their contract types, ``_check``: the index of the
    first check failed, or null, and ``_delivered``: on rows that failed, the delivered text of
    those other columns (a list, in contract order) for the quarantine. One list, null where a
    row passed, costs what one column of text costs, not one per value column (population has
    twelve). Keys are numbers of the run's pseudonym maps: the pseudonyms themselves (32
    characters each) are joined only to the rows written out."""
    labels: tuple[tuple[str, str], ...]
    """(rule, column) of every check, by index."""

    def rule_and_column(self, check: ir.IntegerValue) -> tuple[ir.StringValue, ir.StringValue]:
        """The rule and the column of a ``_check`` value."""
        rule = ibis.cases(*[(check == i, r) for i, (r, _) in enumerate(self.labels)])
        column = ibis.cases(*[(check == i, c) for i, (_, c) in enumerate(self.labels)])
        return rule, column


def checked_rows(
    reg: Register,
    staged: ir.Table,
    links: dict[str, ir.Table],
    values: dict[str, ir.Table],
    decimal: str,
) -> Checked:
    """Staged rows with identifiers replaced by their keys, typed, and their first rule broken.

    ``links`` maps each identifier column to its distinct delivered values (``raw``) and their
    ``pkey`` in the run's pseudonym map; the identity code's also carries ``problem`` and
    ``sex``.
    ``values`` are the tables of :func:`value_checks` (empty: every rule is checked per row). A
    row's ``_check`` is the first rule broken: columns are tried in contract order, so it is the
    first non-null of the columns' own first failures.
    """
    person = links["hetu"]
    right = person.select(
        _raw=person.raw, pkey=person.pkey, problem=person.problem, hetu_sex=person.sex
    )
    rows = staged.left_join(right, staged.hetu == right._raw).drop("_raw")
    for name, link in links.items():
        if name != "hetu":
            right = link.select(_raw=link.raw, **{f"_{name}_key": link.pkey})
            rows = rows.left_join(right, rows[name] == right._raw).drop("_raw")
    for name, table in values.items():
        right = table.select(
            _raw=table.raw, **{f"_{name}_first": table.first, f"_{name}_typed": table.typed}
        )
        rows = rows.left_join(right, rows[name] == right._raw).drop("_raw")
    value_columns = [c for c in reg.columns if c.pseudonym is None]
    value = {
        c.name: rows[f"_{c.name}_typed"] if c.name in values else typed(c, rows[c.name], decimal)
        for c in value_columns
    }
    hetu = _hetu_checks(rows)
    firsts = [_first_broken(hetu, 0)]
    labels = [(c.rule, c.column) for c in hetu]
    for column, checks in _column_checks(reg, rows, decimal):
        offset = len(labels)
        if column.name in values:
            missing = ibis.literal(offset if column.required else None, "int64")
            firsts.append(
                ibis.ifelse(rows[column.name].isnull(), missing, rows[f"_{column.name}_first"])
            )
        else:
            firsts.append(_first_broken(checks, offset))
        labels += [(c.rule, c.column) for c in checks]
    cross = _cross_checks(reg, rows, value)
    firsts.append(_first_broken(cross, len(labels)))
    labels += [(c.rule, c.column) for c in cross]
    rows = rows.mutate(_check=ibis.coalesce(*firsts))
    delivered = ibis.array([rows[c.name] for c in value_columns])
    others = [name for name in links if name != "hetu"]
    out = rows.select(
        "_part",
        "_row",
        "pkey",
        *[rows[f"_{name}_key"].name(name) for name in others],
        *[value[c.name].name(c.name) for c in value_columns],
        "_check",
        _delivered=ibis.ifelse(rows._check.notnull(), delivered, ibis.null(delivered.type())),
    )
    return Checked(out, tuple(labels))
