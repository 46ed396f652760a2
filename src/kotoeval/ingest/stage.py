"""Staging: a delivered register as a scratch Parquet copy of text, each row with its file and row.

Every dialect ends here in one shape: ``_part`` (index of the file in ``Source.files``),
``_row`` (1-based data row of that file; a CSV line is the row plus one, for the header) and
the contract's columns as text with surrounding spaces removed, empty values as null. Columns
outside the contract are left out. Validation then works on one shape whatever the delivery
looked like.

The copy is on disk, not in memory: ingest reads it several times (identifier values, the
rules, the rows to load, the rows to quarantine), and a national register held in memory as
text would spill tens of gigabytes. Parquet also reads back far faster than CSV parses.

The copy is made the same way for every engine: Arrow reads the file block by block and a
second thread writes each block while the next is parsed, numbering the rows as they come.
(DuckDB's own copy has to keep the file's order to number the rows, and keeping order slowed it
threefold on a national register: 335 s against 109 s for 20 GB of earnings.)
"""

from __future__ import annotations

import codecs
import queue
import re
import shutil
import threading
from collections.abc import Iterator
from pathlib import Path

import ibis.expr.types as ir
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kotoeval.errors import DeliveryError
from kotoeval.ingest.delivery import Source
from kotoeval.warehouse import Engine

#: Bytes of CSV parsed at a time (a block becomes one row group of the copy).
_BLOCK_BYTES = 1 << 24
_BATCH_ROWS = 1 << 20
#: Blocks parsed ahead of the writer: bounds the memory held between the two threads.
_AHEAD = 2


def stage_files(scratch: Path, source: Source, cancelled: threading.Event) -> None:
    """Write the scratch copy of the register of ``source`` into the folder ``scratch``.

    Files and Arrow only, no engine: ingest runs it in a thread of its own, for the registers
    ahead while the engine checks an earlier one. It stops, leaving a partial copy, once
    ``cancelled`` is set.
    """
    folder = _folder(scratch, source)
    folder.mkdir()
    schema = _schema(source)
    # Text is dictionary-encoded: the engine then checks each distinct code once (see
    # kotoeval.ingest.validate). Not amounts: nearly all distinct, their dictionary would be
    # built only to be dropped.
    coded = ["_part"] + [c.name for c in source.register.columns if c.type != "decimal"]
    for part, path in enumerate(source.files):
        batches = _staged_batches(source, path, part, schema)
        _write_parquet(batches, schema, coded, folder / f"part-{part:05d}.parquet", cancelled)


def staged_table(engine: Engine, source: Source) -> ir.Table:
    """The copy :func:`stage_files` wrote, as a table of text with ``_part`` and ``_row``."""
    return engine.read_parquet(f"stage_{source.register.name}", _folder(engine.scratch, source))


def unstage(engine: Engine, source: Source) -> None:
    """Remove the scratch copy :func:`stage_files` made of a register's files."""
    shutil.rmtree(_folder(engine.scratch, source), ignore_errors=True)


def _folder(scratch: Path, source: Source) -> Path:
    return scratch / f"stage-{source.register.name}"


def _schema(source: Source) -> pa.Schema:
    columns = source.register.column_names
    return pa.schema(
        [("_part", pa.int32()), ("_row", pa.int64())] + [(c, pa.string()) for c in columns]
    )


def _staged_batches(
    source: Source, path: Path, part: int, schema: pa.Schema
) -> Iterator[pa.RecordBatch]:
    """The rows of one file as staged: place first, then the contract's columns, trimmed."""
    row = 1
    for batch in _text_batches(source, path):
        n = batch.num_rows
        arrays = [
            pa.array(np.full(n, part, np.int32)),
            pa.array(np.arange(row, row + n, dtype=np.int64)),
        ] + [_trimmed(batch.column(c)) for c in source.register.column_names]
        yield pa.record_batch(arrays, schema=schema)
        row += n


def _write_parquet(
    batches: Iterator[pa.RecordBatch],
    schema: pa.Schema,
    coded: list[str],
    out: Path,
    cancelled: threading.Event,
) -> None:
    """Write ``batches`` to one Parquet file, in a second thread while the next batch is read.

    The columns ``coded`` are dictionary-encoded.

    Parsing and writing each take about half the time; overlapped, the copy takes the longer of
    the two. The writer's failure stops the reading, and the reader's stops the writing. A file
    without rows still gets its (empty) copy.
    """
    pending: queue.Queue[pa.RecordBatch | None] = queue.Queue(maxsize=_AHEAD)
    failed: list[BaseException] = []

    def write() -> None:
        try:
            with pq.ParquetWriter(
                out,
                schema,
                compression="snappy",  # read back soon and then removed
                use_dictionary=coded,
                column_encoding={"_row": "DELTA_BINARY_PACKED"},  # consecutive: almost free
                # The copy is read whole, never filtered on its text: the text's minimum and
                # maximum per page would cost the writer a quarter of its time.
                write_statistics=["_part", "_row"],
            ) as writer:
                while (batch := pending.get()) is not None:
                    writer.write_batch(batch)
        except BaseException as error:  # handed to the reading thread, which raises it
            failed.append(error)
            while pending.get() is not None:  # let the reader finish putting
                pass

    writer = threading.Thread(target=write, name="kotoeval-stage-writer", daemon=True)
    writer.start()
    try:
        for batch in batches:
            if failed or cancelled.is_set():
                break
            pending.put(batch)
    finally:
        pending.put(None)
        writer.join()
    if failed:
        raise failed[0]


def _trimmed(values: pa.Array) -> pa.Array:
    """Text with surrounding spaces removed and empty as null (checked first: trimming is slow)."""
    text = values.cast(pa.string())
    padded = pc.or_(pc.starts_with(text, " "), pc.ends_with(text, " "))
    if not pc.any(padded).as_py():
        return text
    text = pc.utf8_trim(text, characters=" ")
    return pc.if_else(pc.equal(text, ""), pa.scalar(None, pa.string()), text)


def _text_batches(source: Source, path: Path) -> Iterator[pa.RecordBatch]:
    columns = list(source.register.column_names)
    if source.format == "parquet":
        try:
            yield from pq.ParquetFile(path).iter_batches(batch_size=_BATCH_ROWS, columns=columns)
        except (pa.ArrowException, OSError):
            raise DeliveryError(
                f"{path} cannot be read as Parquet; export the register again"
            ) from None
        return
    try:
        reader = pacsv.open_csv(
            path,
            read_options=pacsv.ReadOptions(encoding=source.encoding, block_size=_BLOCK_BYTES),
            parse_options=pacsv.ParseOptions(delimiter=source.delimiter),
            convert_options=pacsv.ConvertOptions(
                column_types={c: pa.string() for c in columns},
                include_columns=columns,
                strings_can_be_null=True,
                null_values=[""],
                quoted_strings_can_be_null=True,
            ),
        )
        yield from reader
    except UnicodeDecodeError:  # raised by the codec of a declared encoding
        raise DeliveryError(_not_encoded(source, path)) from None
    except pa.ArrowInvalid as error:
        if "invalid UTF8" in str(error):  # Arrow's own check of UTF-8 text
            raise DeliveryError(_not_encoded(source, path)) from None
        raise DeliveryError(_unreadable(source, path)) from None


def _not_encoded(source: Source, path: Path) -> str:
    return (
        f"{path}: some bytes are not valid {source.encoding}; declare the file's encoding in "
        "delivery.toml"
    )


def _unreadable(source: Source, path: Path) -> str:
    """What to say of a CSV file Arrow could not parse, with the line DuckDB finds at fault.

    Arrow's message quotes the row, which may hold an identity code, and does not number it, so
    it is not passed on. DuckDB's strict reader names the line.
    """
    line = _faulty_line(source, path)
    where = f"line {line}" if line else "a line"
    return (
        f"{path}: {where} cannot be read as a row of the header's columns (a wrong number of "
        "fields or an unclosed quote); correct the file and deliver it again"
    )


#: Encodings whose bytes DuckDB can read for finding a faulty line: delimiters, quotes and
#: line ends are the same bytes in every single-byte Latin encoding.
_LOCATABLE = {
    "utf-8": "utf-8",
    "utf-8-sig": "utf-8",
    "cp1252": "latin-1",
    "iso8859-1": "latin-1",
    "iso8859-15": "latin-1",
}


def _faulty_line(source: Source, path: Path) -> int | None:
    import duckdb

    encoding = _LOCATABLE.get(codecs.lookup(source.encoding).name)
    if encoding is None:
        return None
    declared = ", ".join(f"{_literal(c)}: 'VARCHAR'" for c in source.columns)
    read = (
        f"read_csv({_literal(str(path))}, header = true, auto_detect = false, "
        f"delim = {_literal(source.delimiter)}, quote = '\"', escape = '\"', "
        f"encoding = {_literal(encoding)}, columns = {{{declared}}}, strict_mode = true, "
        "null_padding = false)"
    )
    try:
        with duckdb.connect() as con:
            con.sql(f"SELECT count(*) FROM {read}").fetchall()  # noqa: S608 - literals escaped
    except duckdb.Error as error:  # its text may quote the row: only the number is kept
        found = re.search(r"[Ll]ine:? (\d+)", str(error))
        return int(found.group(1)) if found else None
    return None


def _literal(text: str) -> str:
    return "'" + text.replace("'", "''") + "'"
