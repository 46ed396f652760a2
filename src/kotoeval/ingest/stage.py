"""Staging: a delivered register as a scratch Parquet copy of text, each row with its file and row.

Every dialect ends here in one shape: ``_part`` (index of the file in ``Source.files``),
``_row`` (1-based data row of that file; a CSV line is the row plus one, for the header) and
the contract's columns as text with surrounding spaces removed, empty values as null. Columns
outside the contract are left out. Validation then works on one shape whatever the delivery
looked like.

The copy is on disk, not in memory: ingest reads it several times (identifier values, the
rules, the rows to load, the rows to quarantine), and a national register held in memory as
text would spill tens of gigabytes. Parquet also reads back far faster than CSV parses.

The SQL here is composed from file paths and header names, each escaped as a literal or quoted
as an identifier; no value of the data ever enters it.

DuckDB writes the copy itself (in parallel, keeping file order, so a row's position in the copy
is its row number); Spark's copy is written by pyarrow, with the row numbers as a column.
"""

from __future__ import annotations

import codecs
import re
import shutil
from collections.abc import Iterator
from pathlib import Path

import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kotoeval.errors import DeliveryError
from kotoeval.ingest.delivery import Source
from kotoeval.warehouse import Engine

#: Bytes re-encoded at a time when a file is not UTF-8.
_TRANSCODE_BLOCK = 1 << 22
_BATCH_ROWS = 1 << 20


def stage(engine: Engine, source: Source) -> ir.Table:
    """The register of ``source`` as a scratch table of text with ``_part`` and ``_row``."""
    folder = _folder(engine, source)
    folder.mkdir()
    for i, path in enumerate(source.files):
        out = folder / f"part-{i:05d}.parquet"
        if engine.name == "duckdb":
            _copy_duckdb(engine, source, path, i, out)
        else:
            _write_text_parquet(source, path, i, out)
    if engine.name == "duckdb":
        columns = ", ".join(_quote(c) for c in _columns(source))
        return engine.con.sql(
            f"SELECT _part, CAST(file_row_number + 1 AS BIGINT) AS _row, {columns} "
            f"FROM read_parquet({_literal(str(folder / '*.parquet'))}, file_row_number = true)"
        )
    return engine.con.read_parquet(str(folder), table_name=f"stage_{source.register.name}")


def unstage(engine: Engine, source: Source) -> None:
    """Remove the scratch copy :func:`stage` made of a register's files."""
    shutil.rmtree(_folder(engine, source), ignore_errors=True)
    for path in engine.scratch.glob(f"utf8-{source.register.name}-*"):
        path.unlink()


def _folder(engine: Engine, source: Source) -> Path:
    return engine.scratch / f"stage-{source.register.name}"


def _columns(source: Source) -> list[str]:
    return list(source.register.column_names)


def _copy_duckdb(engine: Engine, source: Source, path: Path, index: int, out: Path) -> None:
    """Copy one file, trimmed, to Parquet in the file's row order (``_row`` is the position)."""
    columns = _columns(source)
    if source.format == "parquet":
        text = ", ".join(
            f"{_trimmed_sql(f'CAST({_quote(c)} AS VARCHAR)')} AS {_quote(c)}" for c in columns
        )
        read = f"read_parquet({_literal(str(path))})"
    else:
        text = ", ".join(f"{_trimmed_sql(_quote(c))} AS {_quote(c)}" for c in columns)
        declared = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in source.columns)
        read = (
            f"read_csv({_literal(str(_utf8(engine, source, path)))}, header = true, "
            f"auto_detect = false, delim = {_literal(source.delimiter)}, quote = '\"', "
            f"escape = '\"', columns = {{{declared}}}, strict_mode = true, "
            "null_padding = false, nullstr = '')"
        )
    try:
        engine.con.raw_sql(
            f"COPY (SELECT CAST({index} AS INTEGER) AS _part, {text} FROM {read}) "
            f"TO {_literal(str(out))} (FORMAT parquet)"
        )
    except Exception as error:  # duckdb.Error; its text may quote the row, so only keep the line
        if source.format == "parquet":
            raise DeliveryError(
                f"{path} cannot be read as Parquet; export the register again"
            ) from None
        raise DeliveryError(_unreadable(path, str(error))) from None


def _quote(column: str) -> str:
    return '"' + column.replace('"', '""') + '"'


def _trimmed_sql(value: str) -> str:
    """Spaces around ``value`` removed and empty as null; TRIM only where needed (it is slow)."""
    padded = f"({value} LIKE ' %' OR {value} LIKE '% ')"
    return f"NULLIF(CASE WHEN {padded} THEN TRIM({value}) ELSE {value} END, '')"


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"


def _unreadable(path: Path, message: str) -> str:
    line = re.search(r"[Ll]ine:? (\d+)", message)
    where = f"line {line.group(1)}" if line else "a line"
    return (
        f"{path}: {where} cannot be read as a row of the header's columns (a wrong number of "
        "fields or an unclosed quote); correct the file and deliver it again"
    )


def _utf8(engine: Engine, source: Source, path: Path) -> Path:
    """``path`` itself if it is UTF-8, else a UTF-8 copy in scratch (DuckDB reads UTF-8)."""
    if codecs.lookup(source.encoding).name == "utf-8":
        return path
    copy = engine.scratch / f"utf8-{source.register.name}-{path.name}"
    decoder = codecs.getincrementaldecoder(source.encoding)()
    with path.open("rb") as raw, copy.open("w", encoding="utf-8") as out:
        offset = 0
        while block := raw.read(_TRANSCODE_BLOCK):
            try:
                out.write(decoder.decode(block))
            except UnicodeDecodeError as error:
                raise DeliveryError(
                    f"{path}: byte {offset + error.start} is not valid {source.encoding}; "
                    "declare the file's encoding in delivery.toml"
                ) from None
            offset += len(block)
        out.write(decoder.decode(b"", final=True))
    return copy


def _write_text_parquet(source: Source, path: Path, part: int, out: Path) -> None:
    """Copy one file to Parquet as text, with ``_part`` and ``_row``, batch by batch."""
    columns = _columns(source)
    schema = pa.schema(
        [("_part", pa.int32()), ("_row", pa.int64())] + [(c, pa.string()) for c in columns]
    )
    row = 1
    with pq.ParquetWriter(out, schema, compression="zstd") as writer:
        for batch in _text_batches(source, path):
            n = batch.num_rows
            arrays = [
                pa.array([part] * n, pa.int32()),
                pa.array(range(row, row + n), pa.int64()),
            ] + [_trimmed(batch.column(c)) for c in columns]
            writer.write_batch(pa.record_batch(arrays, schema=schema))
            row += n


def _trimmed(values: pa.Array) -> pa.Array:
    """Text with surrounding spaces removed and empty as null, as DuckDB's staging does."""
    text = pc.utf8_trim(values.cast(pa.string()), characters=" ")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _text_batches(source: Source, path: Path) -> Iterator[pa.RecordBatch]:
    if source.format == "parquet":
        yield from pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS)
        return
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=source.encoding, block_size=1 << 24),
            parse_options=pacsv.ParseOptions(delimiter=source.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in source.columns},
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
        yield from reader
    except pa.ArrowInvalid as error:
        raise DeliveryError(_unreadable(path, str(error))) from None
