"""The warehouse file: written only by a process that never held what the engine held."""

from __future__ import annotations

import threading
import time
from pathlib import Path

import ibis
import pytest

from kotoeval.errors import SpecError
from kotoeval.warehouse import EngineName, data_folder, open_warehouse


def test_what_the_engine_held_never_reaches_the_warehouse_file(tmp_path: Path) -> None:
    # DuckDB copies stray bytes of its memory into the unused tails of compressed blocks it
    # writes (duckdb/duckdb#23382). An engine that writes its own file leaked thousands of
    # these secrets; the warehouse has a fresh process write it.
    path = tmp_path / "w.duckdb"
    wh = open_warehouse(path, writer=True)
    try:
        secrets = "'SECRET' || lpad(CAST(i AS VARCHAR), 8, '0')"
        wh.con.raw_sql(f"CREATE TEMP TABLE s AS SELECT {secrets} AS code FROM range(1000000) t(i)")
        wh.con.raw_sql("SELECT count(DISTINCT code) FROM s").fetchall()
        wh.con.raw_sql("DROP TABLE s")
        pids = wh.con.sql("SELECT md5(CAST(i % 5000 AS VARCHAR)) AS pid FROM range(2000000) t(i)")
        wh.write("persons", pids)
        wh.publish()
        assert wh.table("persons").count().to_pyarrow().as_py() == 2_000_000
    finally:
        wh.close()
    parquet = list(data_folder(path).rglob("*.parquet"))
    assert parquet  # the view's data, written by the engine (its Parquet writer leaks nothing)
    for file in [path, *parquet]:
        assert file.read_bytes().count(b"SECRET") == 0


def test_one_writer_at_a_time_and_readers_see_published_tables(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    writer = open_warehouse(path, writer=True)
    try:
        with pytest.raises(SpecError, match="another ingest"):
            open_warehouse(path, writer=True)
        writer.write("t", ibis.memtable({"x": [1, 2]}))
        reader = open_warehouse(path)
        try:
            assert reader.tables() == []  # nothing published yet
        finally:
            reader.close()
        writer.publish()
        assert writer.tables() == ["t"]
    finally:
        writer.close()
    reader = open_warehouse(path)
    try:
        assert reader.table("t").x.sum().to_pyarrow().as_py() == 3
    finally:
        reader.close()
    open_warehouse(path, writer=True).close()  # the lock went with the writer


def test_a_failed_publication_leaves_the_file_as_it_was(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    wh = open_warehouse(path, writer=True)
    try:
        wh.write("a", ibis.memtable({"x": [1]}))
        wh.publish()
        before = path.read_bytes()
        versions = set(data_folder(path).glob("*/*"))
        wh.write("a", ibis.memtable({"x": [2]}))
        wh.write("b", ibis.memtable({"y": [3]}))
        for part in data_folder(path).glob("b/*/*.parquet"):
            part.write_bytes(b"not parquet")  # the second table breaks after the first is in
        with pytest.raises(SpecError, match="could not be written and is as it was"):
            wh.publish()
        assert wh.table("a").x.sum().to_pyarrow().as_py() == 1
    finally:
        wh.close()
    assert path.read_bytes() == before
    assert set(data_folder(path).glob("*/*")) == versions  # the refused versions are gone


@pytest.mark.parametrize("layout", ["w.duckdb", "w"])
def test_versions_are_kept_while_pending_and_removed_once_replaced(
    tmp_path: Path, layout: str
) -> None:
    path = tmp_path / layout
    data = data_folder(path) if path.suffix else path / "tables"
    writer = open_warehouse(path, writer=True)
    try:
        writer.write("t", ibis.memtable({"x": [1]}))
        writer.publish()
        first = set(data.glob("t/*"))
        writer.write("t", ibis.memtable({"x": [2]}))
        pending = set(data.glob("t/*")) - first
        assert len(first) == 1 and len(pending) == 1
        open_warehouse(path).close()  # a reader opening meanwhile must not take it for litter
        assert set(data.glob("t/*")) == first | pending
        writer.publish()
        assert set(data.glob("t/*")) == pending  # the replaced version is removed
    finally:
        writer.close()


def test_a_moved_and_renamed_warehouse_reads_its_tables_from_beside_it(tmp_path: Path) -> None:
    path = tmp_path / "a" / "w.duckdb"
    wh = open_warehouse(path, writer=True)
    try:
        wh.write("t", ibis.memtable({"x": [1, 2]}))
        wh.publish()
    finally:
        wh.close()
    moved = tmp_path / "b" / "x.duckdb"  # with its folder, x.duckdb.files
    moved.parent.mkdir()
    path.rename(moved)
    data_folder(path).rename(data_folder(moved))
    reader = open_warehouse(moved)
    try:
        assert reader.table("t").x.sum().to_pyarrow().as_py() == 3
    finally:
        reader.close()


def test_publication_waits_for_a_reader_to_close(tmp_path: Path) -> None:
    path = tmp_path / "w.duckdb"
    writer = open_warehouse(path, writer=True)
    try:
        writer.write("t", ibis.memtable({"x": [1]}))
        writer.publish()
        writer.write("t", ibis.memtable({"x": [2]}))
        reader = open_warehouse(path)  # a study, say, holding the file open
        closing = threading.Timer(2.0, reader.close)
        closing.start()
        started = time.monotonic()
        writer.publish()
        closing.join()
        assert time.monotonic() - started >= 2.0
        assert writer.table("t").x.sum().to_pyarrow().as_py() == 2
    finally:
        writer.close()


@pytest.mark.parametrize("engine", ["duckdb", "spark"])
def test_scratch_tables_live_on_disk_and_are_removed_when_dropped(
    tmp_path: Path, engine: EngineName
) -> None:
    # DuckDB keeps in-memory tables uncompressed: national intermediates held that way spilled
    # tens of gigabytes. Scratch tables are compressed files in the scratch folder instead.
    path = tmp_path / ("w.duckdb" if engine == "duckdb" else "w")
    wh = open_warehouse(path, engine)
    try:
        rows = ibis.memtable({"pkey": list(range(200_000)), "rule": [None, 3] * 100_000})
        table = wh.engine.materialise("verdicts", rows)
        more = wh.engine.append_arrow("map", rows.to_pyarrow())
        more = wh.engine.append_arrow("map", rows.to_pyarrow())
        assert table.filter(table.rule.notnull()).count().to_pyarrow().as_py() == 100_000
        assert more.count().to_pyarrow().as_py() == 400_000
        files = {p.name.split("-")[0] for p in wh.engine.scratch.iterdir()}
        assert {"verdicts", "map"} <= files
        if engine == "duckdb":
            held = wh.con.raw_sql(
                "SELECT sum(memory_usage_bytes) FROM duckdb_memory() WHERE tag = 'IN_MEMORY_TABLE'"
            ).fetchall()[0][0]
            assert held < 1_000_000
        wh.engine.drop("verdicts")
        wh.engine.drop("map")
        assert not [p for p in wh.engine.scratch.iterdir() if p.name != "spill"]
    finally:
        wh.close()
