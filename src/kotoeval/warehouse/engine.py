"""Ibis backends: DuckDB embedded (the default) and local PySpark, and scratch space beside them.

Everything engine-specific lives here and in :mod:`kotoeval.warehouse.store`: how to connect,
where intermediate tables go, how Parquet is written and read. Transformations elsewhere are Ibis
expressions that run unchanged on either engine.
"""

from __future__ import annotations

import os
import re
import shutil
import stat
import uuid
from pathlib import Path
from typing import Any, Literal

import ibis
import ibis.expr.types as ir
import pyarrow as pa
import pyarrow.parquet as pq
from ibis.backends import BaseBackend

from kotoeval.errors import SpecError

EngineName = Literal["duckdb", "spark"]
ENGINES: tuple[EngineName, ...] = ("duckdb", "spark")


def default_memory_limit() -> str:
    """A quarter of the machine's memory: DuckDB spills beyond it instead of growing."""
    try:
        total = os.sysconf("SC_PAGE_SIZE") * os.sysconf("SC_PHYS_PAGES")
    except (ValueError, OSError):
        return "4GB"
    return f"{max(1, total // 4 // 2**30)}GB"


class Engine:
    """An Ibis backend with a private scratch folder for intermediate, person-level tables.

    The scratch folder (mode 0700) may hold identity codes while an ingest runs; it is removed
    on :meth:`close`, and a run killed before that leaves it to be removed by the next one.
    """

    def __init__(self, name: EngineName, con: BaseBackend, scratch: Path) -> None:
        self.name = name
        self.con = con
        self.scratch = scratch
        self._files: dict[str, Path] = {}
        #: Whether a window ordered over a whole table (no partition) runs in parallel: DuckDB
        #: sorts on every core, Spark moves every row into one task for it.
        self.sorts_whole_tables = name == "duckdb"

    def materialise(self, name: str, expr: ir.Table) -> ir.Table:
        """Compute ``expr`` once and keep it as a scratch table: a Parquet file in scratch.

        On disk and compressed, not in the engine's memory: a national register's intermediate
        tables, held uncompressed as DuckDB holds tables in memory, would spill tens of
        gigabytes (about 40 bytes a row for the verdicts of 477 million earnings rows).
        """
        self.drop(name)
        path = self.scratch / f"{name}-{uuid.uuid4().hex[:8]}"
        self._files[name] = path
        self.con.to_parquet(expr, path)
        return self.con.read_parquet(str(path), table_name=name)

    def append_arrow(self, name: str, table: pa.Table) -> ir.Table:
        """Add ``table``'s rows to the scratch table ``name`` (created by the first call)."""
        folder = self._files.setdefault(name, self.scratch / name)
        folder.mkdir(exist_ok=True)
        pq.write_table(table, folder / f"part-{len(list(folder.iterdir())):05d}.parquet")
        # A new view each time, over every part written so far.
        return self.con.read_parquet(str(folder), table_name=f"{name}_{uuid.uuid4().hex[:6]}")

    def drop(self, name: str) -> None:
        """Remove a scratch table made by :meth:`materialise` or :meth:`append_arrow`."""
        path = self._files.pop(name, None)
        if path is None:
            return
        self.con.drop_view(name, force=True)
        if path.is_dir():
            shutil.rmtree(path)
        else:
            path.unlink()

    def write_parquet(self, expr: ir.Table, folder: Path, compression: str = "zstd") -> None:
        """Write ``expr`` as a Parquet dataset (a folder of part files)."""
        if self.name == "duckdb":
            folder.mkdir(parents=True)
            self.con.to_parquet(expr, folder / "part-0.parquet", compression=compression)
        else:
            self.con.to_parquet(expr, folder)

    def read_parquet(self, name: str, folder: Path) -> ir.Table:
        """A Parquet dataset written by :meth:`write_parquet`, as a table."""
        if self.name == "duckdb":
            return self.con.read_parquet(str(folder / "*.parquet"), table_name=name)
        return self.con.read_parquet(str(folder), table_name=name)

    def close(self) -> None:
        """Disconnect and remove the scratch folder."""
        try:
            self.con.disconnect()
        finally:
            shutil.rmtree(self.scratch, ignore_errors=True)
            _IN_USE.discard(self.scratch)


def scratch_folder(beside: Path) -> Path:
    """A fresh private folder next to ``beside``; stale ones of killed runs are removed."""
    parent = beside.parent
    parent.mkdir(parents=True, exist_ok=True)
    prefix = f".{beside.name}.scratch-"
    for stale in parent.glob(prefix + "*"):
        pid = stale.name.removeprefix(prefix).split("-")[0]
        if stale not in _IN_USE and not (pid.isdigit() and _alive(int(pid))):
            shutil.rmtree(stale, ignore_errors=True)
    folder = parent / f"{prefix}{os.getpid()}-{uuid.uuid4().hex[:8]}"
    folder.mkdir(mode=stat.S_IRWXU)
    _IN_USE.add(folder)
    return folder


#: Scratch folders of this process's open engines (a killed run's may carry the same pid).
_IN_USE: set[Path] = set()


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except PermissionError:
        return True
    return pid != os.getpid()


def connect(name: EngineName, scratch: Path, memory_limit: str | None = None) -> Engine:
    """An engine with its scratch folder; DuckDB works in memory and spills into the folder."""
    if name == "duckdb":
        return Engine(name, _duckdb(scratch, memory_limit), scratch)
    if name == "spark":
        return Engine(name, _spark(scratch, memory_limit), scratch)
    raise SpecError(f"unknown engine {name!r}; choose one of {', '.join(ENGINES)}")


def _duckdb(scratch: Path, memory_limit: str | None) -> BaseBackend:
    config: dict[str, Any] = {
        "memory_limit": memory_limit or default_memory_limit(),
        "temp_directory": str(scratch / "spill"),
        "preserve_insertion_order": True,  # rows come back in the order they were written
    }
    con = ibis.duckdb.connect(":memory:", **config)
    con.raw_sql("SET enable_progress_bar = false")  # kotoeval shows its own progress
    return con


def _java_memory(limit: str) -> str:
    """DuckDB's way of writing memory (``6GB``, ``512MB``) in Java's (``6144m``)."""
    match = re.fullmatch(r"\s*(\d+(?:\.\d+)?)\s*([KMGT]?)I?B?\s*", limit.upper())
    if match is None:
        raise SpecError(f"memory limit {limit!r} is not a size such as 6GB or 512MB")
    number, unit = float(match.group(1)), match.group(2)
    megabytes = number * {"": 2**-20, "K": 2**-10, "M": 1, "G": 2**10, "T": 2**20}[unit]
    return f"{max(1, int(megabytes))}m"


def _spark(scratch: Path, memory_limit: str | None) -> BaseBackend:
    from pyspark.sql import SparkSession

    if shutil.which("java") is None and "JAVA_HOME" not in os.environ:
        raise SpecError(
            "the Spark engine needs Java 17 or newer; install it (Debian: "
            "openjdk-17-jre-headless) or use --engine duckdb"
        )
    session = (
        SparkSession.builder.master("local[*]")
        .appName("kotoeval")
        .config("spark.ui.enabled", "false")
        .config("spark.ui.showConsoleProgress", "false")
        .config("spark.sql.session.timeZone", "UTC")
        .config("spark.sql.ansi.enabled", "false")
        .config("spark.local.dir", str(scratch / "spill"))
        .config("spark.driver.memory", _java_memory(memory_limit or default_memory_limit()))
        .config("spark.sql.shuffle.partitions", str(max(2, (os.cpu_count() or 2) * 2)))
        .config("spark.sql.parquet.compression.codec", "zstd")
        .getOrCreate()
    )
    session.sparkContext.setLogLevel("ERROR")
    return ibis.pyspark.connect(session)
