"""Load staged Parquet tables into a DuckDB warehouse file, in a process of its own.

DuckDB can write leftover bytes of its memory into the unused tail of compressed blocks of a
database file (duckdb/duckdb#23382): whatever the writing instance held before, such as the
identity codes an ingest has just checked, may end up in the file. So the process that checks
and pseudonymises a delivery never writes the warehouse file. It stages the new tables as
Parquet and runs this module (``python -m kotoeval.warehouse.publish MANIFEST``) in a new
process, which reads only those pseudonymised tables and replaces the file's tables in one
transaction: a failure or a kill leaves the file as it was.
"""

from __future__ import annotations

import json
import sys
import time
from pathlib import Path
from typing import Any

#: How long to wait for readers (a study, say) to close the warehouse before giving up.
WAIT_SECONDS = 600.0


def publish(
    warehouse: Path, tables: dict[str, Path], memory_limit: str, spill: Path, wait: float
) -> None:
    """Make each Parquet dataset in ``tables`` the table of its name in ``warehouse``, at once."""
    con = _open(warehouse, memory_limit, spill, wait)
    try:
        con.execute("BEGIN TRANSACTION")
        for name, folder in tables.items():
            files = sql_text(str(folder / "*.parquet"))  # names are kotoeval's own tables
            con.execute(f'CREATE OR REPLACE TABLE "{name}" AS FROM read_parquet({files})')  # noqa: S608
        con.execute("COMMIT")
        con.execute("CHECKPOINT")
    finally:
        con.close()


def _open(warehouse: Path, memory_limit: str, spill: Path, wait: float) -> Any:
    import duckdb

    config: dict[str, Any] = {
        "memory_limit": memory_limit,
        "temp_directory": str(spill),
        # Keeping the staged order makes DuckDB write partial row groups and merge them at the
        # checkpoint: Espoo's tables took 44 s and left 190 MB free in the file, 30 s without.
        # No use of the warehouse depends on the order of its rows.
        "preserve_insertion_order": False,
        # FSST cannot shrink pseudonyms (random hex) and code columns end up dictionary-coded
        # anyway; not trying it saves a seventh of the time for 2 % more file.
        "disabled_compression_methods": "fsst,dict_fsst",
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
            {name: Path(folder) for name, folder in spec["tables"].items()},
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
