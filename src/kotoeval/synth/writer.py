"""Streaming writers of a delivery: one file per register, appended chunk by chunk.

CSV files follow the contract's default (UTF-8, ``,``, ``.``); a register asked for in the
Finnish spreadsheet dialect is written with ``;``, decimal comma and cp1252, and declared so in
``delivery.toml``. Parquet files hold the same text columns as the CSV.
"""

from __future__ import annotations

import io
import shutil
from dataclasses import dataclass, field
from pathlib import Path
from typing import BinaryIO, Literal

import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kotoeval.registers import REGISTERS
from kotoeval.synth.params import EXTRACTION_DATE

Format = Literal["csv", "parquet"]


@dataclass(frozen=True)
class Dialect:
    """How a CSV file is written and declared."""

    delimiter: str = ","
    decimal: str = "."
    encoding: str = "utf-8"


DEFAULT = Dialect()
FINNISH_SPREADSHEET = Dialect(delimiter=";", decimal=",", encoding="cp1252")


def write_part(path: Path, register: str, table: pa.Table, fmt: Format, dialect: Dialect) -> None:
    """Write one chunk of a register to its own part file (no CSV header)."""
    if fmt == "parquet":
        pq.write_table(table, path, compression="zstd")
        return
    with path.open("wb") as handle:
        _write_csv(handle, register, table, dialect)


@dataclass
class _Open:
    handle: BinaryIO | None = None
    parquet: pq.ParquetWriter | None = None
    rows: int = 0


@dataclass
class DeliveryWriter:
    """Assembles the registers of one delivery in ``out`` from part files, in chunk order."""

    out: Path
    format: Format = "csv"
    dialects: dict[str, Dialect] = field(default_factory=dict)
    _open: dict[str, _Open] = field(default_factory=dict)

    def path(self, register: str) -> Path:
        """File of a register."""
        return self.out / f"{register}.{self.format}"

    def dialect(self, register: str) -> Dialect:
        """How a register's CSV file is written."""
        return self.dialects.get(register, DEFAULT)

    def rows_written(self, register: str) -> int:
        """Data rows written so far to a register's file."""
        return self._open[register].rows if register in self._open else 0

    def append(self, register: str, part: Path, columns: list[str], rows: int) -> None:
        """Append a part file (written by :func:`write_part`) and delete it."""
        state = self._open.setdefault(register, _Open())
        if self.format == "parquet":
            table = pq.read_table(part)
            if state.parquet is None:
                state.parquet = pq.ParquetWriter(
                    self.path(register), table.schema, compression="zstd"
                )
            state.parquet.write_table(table)
        else:
            if state.handle is None:
                dialect = self.dialect(register)
                state.handle = self.path(register).open("wb")
                state.handle.write(
                    (dialect.delimiter.join(columns) + "\n").encode(dialect.encoding)
                )
            with part.open("rb") as source:
                shutil.copyfileobj(source, state.handle, 16 * 1024 * 1024)
        part.unlink()
        state.rows += rows

    def close(self) -> None:
        """Close every file."""
        for state in self._open.values():
            if state.handle is not None:
                state.handle.close()
            if state.parquet is not None:
                state.parquet.close()

    def manifest(self) -> str:
        """``delivery.toml``: how each register's file is to be read."""
        lines = [
            "# A delivery of registers in the kotoeval input contract (REGISTERS.md).",
            "[delivery]",
            'source = "kotoeval synthetic register world"',
            f'extraction_date = "{EXTRACTION_DATE}"',
            "",
        ]
        for name, reg in REGISTERS.items():
            dialect = self.dialects.get(name, DEFAULT)
            lines += [
                f"[registers.{name}]",
                f'file = "{self.path(name).name}"',
                f'format = "{self.format}"',
                f'source_organisation = "{reg.source}"',
            ]
            if self.format == "csv":
                lines += [
                    f'encoding = "{dialect.encoding}"',
                    f'delimiter = "{dialect.delimiter}"',
                    f'decimal = "{dialect.decimal}"',
                ]
            lines.append("")
        return "\n".join(lines)


def _write_csv(handle: BinaryIO, register: str, table: pa.Table, dialect: Dialect) -> None:
    if dialect.decimal != ".":
        decimals = [c.name for c in REGISTERS[register].columns if c.type == "decimal"]
        for name in decimals:
            if name in table.column_names:
                i = table.column_names.index(name)
                table = table.set_column(
                    i, name, pc.replace_substring(table.column(i), ".", dialect.decimal)
                )
    options = pacsv.WriteOptions(
        include_header=False, delimiter=dialect.delimiter, quoting_style="none"
    )
    if dialect.encoding == "utf-8":
        pacsv.write_csv(table, handle, write_options=options)
        return
    buffer = io.BytesIO()  # pyarrow writes UTF-8 only: re-encode this register's chunk
    pacsv.write_csv(table, buffer, write_options=options)
    handle.write(buffer.getvalue().decode("utf-8").encode(dialect.encoding))
