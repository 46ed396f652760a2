"""The warehouse: named tables of pseudonymised data, replaced only all at once.

Two layouts, one interface:

- a **DuckDB file** (``warehouse.duckdb``, the embedded default): new tables are staged as
  Parquet and loaded by a separate process in one transaction (see :class:`DuckDBFile`);
- a **Parquet dataset** (a folder, what Spark reads and writes): each table version is a folder
  of part files, and ``catalog.json`` names the current version of every table; it is replaced
  with one atomic rename.

Either way a run that fails or is killed before :meth:`Warehouse.publish` leaves the previous
warehouse readable and unchanged; its leftovers are removed when the warehouse is next opened.
"""

from __future__ import annotations

import fcntl
import json
import os
import shutil
import subprocess  # noqa: S404 - runs kotoeval's publisher, fixed arguments
import sys
import uuid
from abc import ABC, abstractmethod
from pathlib import Path
from typing import IO

import ibis.expr.types as ir

from kotoeval.errors import SpecError
from kotoeval.warehouse.engine import (
    Engine,
    EngineName,
    connect,
    default_memory_limit,
    scratch_folder,
)
from kotoeval.warehouse.publish import WAIT_SECONDS, sql_text

CATALOG = "catalog.json"


class Warehouse(ABC):
    """Tables by name; writes stay pending until :meth:`publish` swaps them in together."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
        self.lock: IO[bytes] | None = None  # held by a writer, see open_warehouse
        self._pending: list[str] = []

    @property
    def con(self):  # type: ignore[no-untyped-def]  # the Ibis backend
        """The Ibis backend."""
        return self.engine.con

    @abstractmethod
    def tables(self) -> list[str]:
        """Names of the published tables."""

    @abstractmethod
    def table(self, name: str) -> ir.Table:
        """A published table."""

    @abstractmethod
    def _write(self, name: str, expr: ir.Table) -> None: ...

    @abstractmethod
    def _swap(self, names: list[str]) -> None: ...

    @abstractmethod
    def discard(self) -> None:
        """Forget pending writes, including those left behind by a killed run."""

    def has(self, name: str) -> bool:
        """Whether a table of that name is published."""
        return name in self.tables()

    def write(self, name: str, expr: ir.Table) -> None:
        """Compute ``expr`` into a pending version of table ``name``."""
        self._write(name, expr)
        if name not in self._pending:
            self._pending.append(name)

    def publish(self) -> list[str]:
        """Make every pending table current at once; return their names."""
        names, self._pending = self._pending, []
        if names:
            self._swap(names)
        return names

    def close(self) -> None:
        """Discard what was not published and release the engine."""
        try:
            if self._pending:
                self.discard()
        finally:
            self.engine.close()
            if self.lock is not None:
                self.lock.close()


class DuckDBFile(Warehouse):
    """A warehouse in one DuckDB file, which only a fresh process ever writes.

    The engine works in memory and reads the file attached read-only. New tables are staged as
    Parquet in scratch and :meth:`publish` hands them to :mod:`kotoeval.warehouse.publish` in a
    new process: DuckDB may copy stray bytes of its memory into the file it writes, and the
    engine's memory holds identity codes while an ingest runs.
    """

    ALIAS = "warehouse"

    def __init__(self, path: Path, engine: Engine, memory_limit: str) -> None:
        super().__init__(path, engine)
        self.memory_limit = memory_limit
        self._staged = engine.scratch / "publish"
        self._attach()

    def _attach(self) -> None:
        if not self.path.exists():
            return
        import duckdb

        try:
            self.con.raw_sql(f"ATTACH {sql_text(str(self.path))} AS {self.ALIAS} (READ_ONLY)")
        except duckdb.IOException as error:
            if "lock" in str(error).lower():
                raise SpecError(
                    f"{self.path} is being written by another process (an ingest?); "
                    "wait for it to finish"
                ) from None
            raise

    def _attached(self) -> bool:
        rows = self.con.raw_sql("SELECT database_name FROM duckdb_databases()").fetchall()
        return (self.ALIAS,) in rows

    def tables(self) -> list[str]:  # noqa: D102
        if not self._attached():
            return []
        tables = "SELECT table_name FROM duckdb_tables() WHERE database_name = ?"
        rows = self.con.raw_sql(tables, parameters=[self.ALIAS]).fetchall()
        return sorted(row[0] for row in rows)

    def table(self, name: str) -> ir.Table:  # noqa: D102
        if not self.has(name):
            raise SpecError(f"the warehouse {self.path} has no table {name!r}")
        return self.con.table(name, database=self.ALIAS)

    def _write(self, name: str, expr: ir.Table) -> None:
        folder = self._staged / name
        shutil.rmtree(folder, ignore_errors=True)
        self.engine.write_parquet(expr, folder, compression="snappy")  # read once, soon

    def _swap(self, names: list[str]) -> None:
        manifest = self._staged / "manifest.json"
        spec = {
            "warehouse": str(self.path),
            "tables": {name: str(self._staged / name) for name in names},
            "memory_limit": self.memory_limit,
            "spill": str(self.engine.scratch / "spill"),
            "wait": WAIT_SECONDS,
        }
        manifest.write_text(json.dumps(spec), encoding="utf-8")
        if self._attached():
            self.con.raw_sql(f"DETACH {self.ALIAS}")
        command = [sys.executable, "-m", "kotoeval.warehouse.publish", str(manifest)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise SpecError(f"{self.path} could not be written and is as it was: {reason}")
        self.discard()
        self._attach()

    def discard(self) -> None:  # noqa: D102
        shutil.rmtree(self._staged, ignore_errors=True)
        self._pending = []


class ParquetDataset(Warehouse):
    """A warehouse as a folder of Parquet datasets named by ``catalog.json``."""

    def __init__(self, path: Path, engine: Engine) -> None:
        super().__init__(path, engine)
        self._versions: dict[str, str] = {}
        self._cache: dict[str, ir.Table] = {}

    def _catalog(self) -> dict[str, str]:
        file = self.path / CATALOG
        if not file.exists():
            return {}
        tables: dict[str, str] = json.loads(file.read_text(encoding="utf-8"))["tables"]
        return tables

    def tables(self) -> list[str]:  # noqa: D102
        return sorted(self._catalog())

    def table(self, name: str) -> ir.Table:  # noqa: D102
        version = self._catalog().get(name)
        if version is None:
            raise SpecError(f"the warehouse {self.path} has no table {name!r}")
        key = f"{name}/{version}"
        if key not in self._cache:
            self._cache[key] = self.engine.read_parquet(
                f"wh_{name}_{uuid.uuid4().hex[:6]}", self.path / "tables" / name / version
            )
        return self._cache[key]

    def _write(self, name: str, expr: ir.Table) -> None:
        version = f"v{uuid.uuid4().hex[:12]}"
        self.engine.write_parquet(expr, self.path / "tables" / name / version)
        self._versions[name] = version

    def _swap(self, names: list[str]) -> None:
        catalog = self._catalog()
        old = {name: catalog.get(name) for name in names}
        catalog.update({name: self._versions.pop(name) for name in names})
        temporary = self.path / f".{CATALOG}.{os.getpid()}"
        temporary.write_text(json.dumps({"tables": catalog}, indent=2), encoding="utf-8")
        os.replace(temporary, self.path / CATALOG)
        for name, version in old.items():
            if version is not None:
                shutil.rmtree(self.path / "tables" / name / version, ignore_errors=True)

    def discard(self) -> None:  # noqa: D102
        current = self._catalog()
        tables = self.path / "tables"
        if tables.exists():
            for folder in tables.iterdir():
                for version in folder.iterdir():
                    if current.get(folder.name) != version.name:
                        shutil.rmtree(version, ignore_errors=True)
        self._versions = {}
        self._pending = []


def open_warehouse(
    path: Path,
    engine: EngineName = "duckdb",
    memory_limit: str | None = None,
    *,
    writer: bool = False,
) -> Warehouse:
    """Open (or create) the warehouse at ``path`` and remove what a killed run left behind.

    A path ending in ``.duckdb`` is a DuckDB file; any other path is a Parquet dataset folder.
    A ``writer`` (an ingest) holds the warehouse's lock until it closes: one writer at a time.
    """
    lock = _writer_lock(path) if writer else None
    limit = memory_limit or default_memory_limit()
    try:
        if path.suffix == ".duckdb":
            if engine == "spark":
                raise SpecError(
                    "the Spark engine keeps its warehouse as a Parquet folder, not a .duckdb file"
                )
            con = connect(engine, scratch_folder(path), limit)
            try:
                warehouse: Warehouse = DuckDBFile(path, con, limit)
            except BaseException:
                con.close()
                raise
        else:
            if path.exists() and not path.is_dir():
                raise SpecError(
                    f"{path} is a file; a warehouse is a .duckdb file or a folder of Parquet "
                    "datasets"
                )
            path.mkdir(parents=True, exist_ok=True)
            warehouse = ParquetDataset(path, connect(engine, scratch_folder(path), limit))
    except BaseException:
        if lock is not None:
            lock.close()
        raise
    warehouse.lock = lock
    warehouse.discard()
    return warehouse


def _writer_lock(path: Path) -> IO[bytes]:
    """An exclusive lock on ``.NAME.lock`` beside the warehouse (released when closed)."""
    path.parent.mkdir(parents=True, exist_ok=True)
    handle = (path.parent / f".{path.name}.lock").open("ab")
    try:
        fcntl.flock(handle, fcntl.LOCK_EX | fcntl.LOCK_NB)
    except BlockingIOError:
        handle.close()
        raise SpecError(
            f"{path} is being written by another ingest; wait for it to finish"
        ) from None
    return handle
