"""Point the views of a DuckDB warehouse file at new Parquet tables, in a process of its own.

A DuckDB warehouse is a catalogue: each table is a view of a Parquet dataset kept beside the
file (``<file>.files/<table>/<version>/``), given by a path relative to that folder. The
ingest writes the Parquet files; this module (``python -m kotoeval.warehouse.publish MANIFEST``)
replaces the views in one transaction, so a failure or a kill leaves the file as it was.

Loading the rows into the file instead took as long as a fifth of the whole ingest (DuckDB
compressing 477 million national earnings rows took 230 s) for a second copy of the data.

The file is still written by a process of its own: DuckDB can write leftover bytes of its
memory into the unused tail of blocks of a database file (duckdb/duckdb#23382), and the
ingest's engine holds the identity codes it has just checked. This process never held them.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

#: How long to wait for readers (a study, say) to close the warehouse before giving up.
WAIT_SECONDS = 600.0


_KINDS = """
    SELECT table_name, 'TABLE' FROM duckdb_tables() WHERE database_name = current_database()
    UNION ALL
    SELECT view_name, 'VIEW' FROM duckdb_views()
    WHERE database_name = current_database() AND NOT internal
"""


def publish(
    warehouse: Path,
    files: Path,
    tables: dict[str, str],
    memory_limit: str,
    spill: Path,
    wait: float,
) -> None:
    """Make each Parquet dataset in ``tables`` the view of its name in ``warehouse``, at once.

    ``tables`` gives each dataset's files as a glob relative to the folder ``files``.
    """
    con = _open(warehouse, files, memory_limit, spill, wait)
    try:
        con.execute("BEGIN TRANSACTION")
        # A warehouse written before its tables were views held them inside the file.
        kinds = dict(con.execute(_KINDS).fetchall())
        for name, glob in tables.items():  # names are kotoeval's own
            if name in kinds:
                con.execute(f'DROP {kinds[name]} "{name}"')
            con.execute(f'CREATE VIEW "{name}" AS FROM read_parquet({sql_text(glob)})')  # noqa: S608
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _open(warehouse: Path, files: Path, memory_limit: str, spill: Path, wait: float) -> Any:
    import duckdb

    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": str(spill),
        "file_search_path": str(files),  # the views name their files relative to it
    }
    deadline = time.monotonic() + wait
    while True:
        try:
            return duckdb.connect(str(warehouse), config=config)
        except duckdb.IOException as error:
            if "lock" not in str(error).lower() or time.monotonic() > deadline:
                raise
            time.sleep(1.0)


def sql_text(text: str) -> str:
    """``text`` as an SQL string literal."""
    return "'" + text.replace("'", "''") + "'"


def main(manifest: Path) -> int:
    """Run the publication a manifest (JSON written by the warehouse) describes."""
    spec = json.loads(manifest.read_text(encoding="utf-8"))
    try:
        publish(
            Path(spec["warehouse"]),
            Path(spec["files"]),
            spec["tables"],
            spec["memory_limit"],
            Path(spec["spill"]),
            float(spec["wait"]),
        )
    except Exception as error:  # the parent reports it; the tables hold pseudonyms only
        print(f"{type(error).__name__}: {error}", file=sys.stderr)
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main(Path(sys.argv[1])))
