"""The warehouse: named tables of pseudonymised data, replaced only all at once.

Two layouts, one interface:

- a **DuckDB file** (``warehouse.duckdb``, the embedded default): new tables are written under
  pending names and renamed into place in one transaction;
- a **Parquet dataset** (a folder, what Spark reads and writes): each table version is a folder
  of part files, and ``catalog.json`` names the current version of every table; it is replaced
  with one atomic rename.

Either way a run that fails or is killed before :meth:`Warehouse.publish` leaves the previous
warehouse readable and unchanged; its leftovers are removed when the warehouse is next opened.
"""

from __future__ import annotations

import json
import os
import shutil
import uuid
from abc import ABC, abstractmethod
from pathlib import Path

import ibis.expr.types as ir

from kotoeval.errors import SpecError
from kotoeval.warehouse.engine import Engine, EngineName, connect, scratch_folder

PENDING = "_pending_"
CATALOG = "catalog.json"


class Warehouse(ABC):
    """Tables by name; writes stay pending until :meth:`publish` swaps them in together."""

    def __init__(self, path: Path, engine: Engine) -> None:
        self.path = path
        self.engine = engine
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


class DuckDBFile(Warehouse):
    """A warehouse in one DuckDB file."""

    def _stored(self) -> list[str]:
        """Tables in the file itself (not the scratch tables of this connection)."""
        rows = self.con.raw_sql(
            "SELECT table_name FROM duckdb_tables() "
            "WHERE database_name = current_database() AND NOT temporary"
        ).fetchall()
        return [row[0] for row in rows]

    def tables(self) -> list[str]:  # noqa: D102
        return sorted(t for t in self._stored() if not t.startswith(PENDING))

    def table(self, name: str) -> ir.Table:  # noqa: D102
        if not self.has(name):
            raise SpecError(f"the warehouse {self.path} has no table {name!r}")
        return self.con.table(name)

    def _write(self, name: str, expr: ir.Table) -> None:
        self.con.raw_sql(f'DROP TABLE IF EXISTS "{PENDING}{name}"')
        self.con.create_table(PENDING + name, expr)

    def _swap(self, names: list[str]) -> None:
        sql = ["BEGIN TRANSACTION"]
        for name in names:
            sql += [
                f'DROP TABLE IF EXISTS "{name}"',
                f'ALTER TABLE "{PENDING}{name}" RENAME TO "{name}"',
            ]
        sql.append("COMMIT")
        for statement in sql:
            self.con.raw_sql(statement)
        self.con.raw_sql("CHECKPOINT")

    def discard(self) -> None:  # noqa: D102
        for table in self._stored():
            if table.startswith(PENDING):
                self.con.raw_sql(f'DROP TABLE "{table}"')
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
    path: Path, engine: EngineName = "duckdb", memory_limit: str | None = None
) -> Warehouse:
    """Open (or create) the warehouse at ``path`` and remove what a killed run left behind.

    A path ending in ``.duckdb`` is a DuckDB file; any other path is a Parquet dataset folder.
    """
    scratch = scratch_folder(path)
    if path.suffix == ".duckdb":
        warehouse: Warehouse = DuckDBFile(path, connect(engine, scratch, path, memory_limit))
    else:
        if path.exists() and not path.is_dir():
            raise SpecError(
                f"{path} is a file; a warehouse is a .duckdb file or a folder of Parquet datasets"
            )
        path.mkdir(parents=True, exist_ok=True)
        warehouse = ParquetDataset(path, connect(engine, scratch, None, memory_limit))
    warehouse.discard()
    return warehouse
