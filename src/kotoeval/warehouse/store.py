"""The warehouse: named tables of pseudonymised data, replaced only all at once.

Two layouts, one interface:

- a **DuckDB file** (``warehouse.duckdb``, the embedded default): a catalogue whose tables are
  views of Parquet datasets in the folder beside it (``warehouse.duckdb.files``); a separate
  process replaces the views in one transaction (see :class:`DuckDBFile`);
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
from collections.abc import Callable
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
    """A warehouse in a DuckDB file whose tables are views of Parquet datasets beside it.

    Table ``t`` is the view ``t`` of ``t/<version>/*.parquet`` in the folder ``<file>.files``
    beside the file, a path relative to that folder, so the two can be moved or renamed
    together (a DuckDB session outside kotoeval sets ``file_search_path`` to the folder).

    The engine works in memory and reads the file attached read-only. :meth:`write` adds a
    version folder that no view names yet; :meth:`publish` has
    :mod:`kotoeval.warehouse.publish` point the views at the new versions in a new process:
    DuckDB may copy stray bytes of its memory into the file it writes, and the engine's memory
    holds identity codes while an ingest runs.
    """

    ALIAS = "warehouse"

    def __init__(self, path: Path, engine: Engine, memory_limit: str) -> None:
        super().__init__(path, engine)
        self.memory_limit = memory_limit
        self.files = data_folder(path)
        self._versions: dict[str, str] = {}
        self.con.raw_sql(f"SET file_search_path = {sql_text(str(self.files))}")
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

    def _definitions(self) -> dict[str, str]:
        """The SQL of each published table's view (tables for a file written before views)."""
        if not self._attached():
            return {}
        query = (
            "SELECT view_name, sql FROM duckdb_views() WHERE database_name = $1 UNION ALL "
            "SELECT table_name, '' FROM duckdb_tables() WHERE database_name = $1"
        )
        return dict(self.con.raw_sql(query, parameters=[self.ALIAS]).fetchall())

    def tables(self) -> list[str]:  # noqa: D102
        return sorted(self._definitions())

    def table(self, name: str) -> ir.Table:  # noqa: D102
        if not self.has(name):
            raise SpecError(f"the warehouse {self.path} has no table {name!r}")
        return self.con.table(name, database=self.ALIAS)

    def _glob(self, name: str, version: str) -> str:
        """The files of a table version, relative to the data folder."""
        return f"{name}/{version}/*.parquet"

    def _write(self, name: str, expr: ir.Table) -> None:
        version = f"v{uuid.uuid4().hex[:12]}"
        # Snappy writes a sixth faster than zstd; the files still take less room than the
        # same tables inside a DuckDB file (Espoo: 364 MB against 512 MB).
        self.engine.write_parquet(expr, self.files / name / version, compression="snappy")
        self._versions[name] = version

    def _swap(self, names: list[str]) -> None:
        versions = {name: self._versions.pop(name) for name in names}
        manifest = self.engine.scratch / "publish.json"
        spec = {
            "warehouse": str(self.path),
            "files": str(self.files),
            "tables": {name: self._glob(name, version) for name, version in versions.items()},
            "memory_limit": self.memory_limit,
            "spill": str(self.engine.scratch / "spill"),
            "wait": WAIT_SECONDS,
        }
        manifest.write_text(json.dumps(spec), encoding="utf-8")
        if self._attached():
            self.con.raw_sql(f"DETACH {self.ALIAS}")
        command = [sys.executable, "-m", "kotoeval.warehouse.publish", str(manifest)]
        done = subprocess.run(command, capture_output=True, text=True, check=False)  # noqa: S603
        self._attach()
        self.discard()  # the replaced versions, or the new ones if they were refused
        if done.returncode != 0:
            reason = (done.stderr.strip().splitlines() or ["no message"])[-1]
            raise SpecError(f"{self.path} could not be written and is as it was: {reason}")

    def discard(self) -> None:  # noqa: D102
        views = self._definitions()
        _remove_unlisted(self.files, lambda n, v: f"'{self._glob(n, v)}'" in views.get(n, ""))
        self._versions = {}
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
        _remove_unlisted(self.path / "tables", lambda n, v: current.get(n) == v)
        self._versions = {}
        self._pending = []


def data_folder(warehouse: Path) -> Path:
    """The folder beside a DuckDB warehouse file that holds its tables' Parquet files."""
    return warehouse.with_name(warehouse.name + ".files")


def _remove_unlisted(root: Path, listed: Callable[[str, str], bool]) -> None:
    """Remove every ``root/<table>/<version>`` folder that the catalogue does not list."""
    if root.exists():
        for table in root.iterdir():
            for version in table.iterdir():
                if not listed(table.name, version.name):
                    shutil.rmtree(version, ignore_errors=True)


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
    if writer:  # a reader must not take the pending versions of an ingest for leftovers
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
