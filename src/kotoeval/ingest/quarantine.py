"""The quarantine: every delivered row that was not loaded, with where it came from and why.

A quarantined row keeps its values as delivered, except that identifiers are replaced by their
pseudonyms, and anything still shaped like an identity code is masked, so the quarantine is as
safe to open as the rest of the warehouse.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir

from kotoeval.ingest.delivery import Source
from kotoeval.registers import Register

QUARANTINE = ibis.schema(
    {
        "register": "string",
        "file": "string",
        "row": "int64",
        "line": "int64",
        "rule": "string",
        "column": "string",
        "value": "string",
        "pid": "string",
        "record": "string",
    }
)
"""Columns of the ``quarantine`` table. ``row`` is the 1-based data row of the file; ``line``
the line of a CSV file (row + 1, for the header), empty for Parquet."""

#: Anything shaped like a Finnish identity code, whatever its check character.
HETU_LIKE = r"[0-9]{6}[-+A-FU-Y][0-9]{3}[0-9A-Za-z]"
MASK = "<identity code>"
_SEPARATOR = "; "


def quarantine_rows(
    reg: Register,
    checked: ir.Table,
    rejected: ir.Table,
    source: Source,
) -> ir.Table:
    """Quarantine rows of one register, in the shape of :data:`QUARANTINE`.

    ``checked`` holds every staged row (see :class:`~kotoeval.ingest.validate.Checked`);
    ``rejected`` the ``_part``/``_row``/``_rule``/``_column`` of every row that is not loaded.
    A value is shown as delivered where the row broke a row rule, else as it was read.
    """
    rows = rejected.join(checked.drop("_check"), ["_part", "_row"])
    shown: dict[str, ir.StringValue] = {"hetu": rows.pid}
    values = [c for c in reg.columns if c.pseudonym is None]  # the order of ``_delivered``
    for c in reg.columns:
        if c.pseudonym in ("employer", "family"):
            shown[c.name] = rows[f"_{c.name}_pid"]
        elif c.pseudonym is None:
            read = rows[c.name]
            as_read = read.strftime("%Y-%m") if c.type == "month" else read.cast("string")
            shown[c.name] = rows._delivered[values.index(c)].fill_null(as_read)
    record = ibis.literal("")
    for i, c in enumerate(reg.columns):
        label = "pid" if c.name == "hetu" else c.name
        record = record.concat(f"{_SEPARATOR if i else ''}{label}=", shown[c.name].fill_null(""))
    offending = ibis.cases(
        *[(rows._column == name, value) for name, value in shown.items()],
        else_=ibis.null("string"),
    )
    file = ibis.cases(
        *[(rows._part == i, path.name) for i, path in enumerate(source.files)],
        else_=ibis.null("string"),
    )
    line = rows._row + 1 if source.format == "csv" else ibis.null("int64")
    return rows.select(
        register=ibis.literal(reg.name),
        file=file,
        row=rows._row,
        line=line,
        rule=rows._rule,
        column=rows._column,
        value=offending.re_replace(HETU_LIKE, MASK),
        pid=rows.pid,
        record=record.re_replace(HETU_LIKE, MASK),
    ).cast(QUARANTINE)
