"""The floor under the ingest benchmark: DuckDB alone reads a delivery and stores it, unchecked.

Every CSV of a world is read with DuckDB's own type detection (bad values skipped) and stored
as a table of a DuckDB file, with the warehouse's settings; nothing is validated, pseudonymised,
linked or quarantined. What ingest takes beyond this is the price of those steps.

    .venv/bin/python benchmarks/floor.py WORLD_FOLDER
"""

from __future__ import annotations

import argparse
import tempfile
import time
import tomllib
from pathlib import Path

import duckdb

from kotoeval.warehouse.engine import default_memory_limit


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("world", type=Path, help="a folder written by `kotoeval synth`")
    args = parser.parse_args()
    registers = tomllib.loads((args.world / "delivery.toml").read_text())["registers"]
    with tempfile.TemporaryDirectory() as scratch:
        con = duckdb.connect(
            str(Path(scratch) / "floor.duckdb"),
            config={"memory_limit": default_memory_limit(), "preserve_insertion_order": True},
        )
        con.execute("SET disabled_compression_methods = 'fsst,dict_fsst'")
        total = 0.0
        for name, spec in registers.items():
            options = (
                f"header = true, ignore_errors = true, delim = '{spec['delimiter']}', "
                f"decimal_separator = '{spec['decimal']}', "
                f"encoding = '{'latin-1' if spec['encoding'] == 'cp1252' else 'utf-8'}'"
            )
            start = time.perf_counter()
            con.execute(
                f"CREATE TABLE {name} AS SELECT * FROM read_csv('{args.world / spec['file']}', "
                f"{options})"
            )
            con.execute("CHECKPOINT")
            seconds = time.perf_counter() - start
            total += seconds
            rows = con.execute(f"SELECT count(*) FROM {name}").fetchone()
            print(f"{name:20} {rows[0] if rows else 0:>12,} rows {seconds:7.1f} s", flush=True)
        print(f"{'all':20} {'':>12}      {total:7.1f} s")


if __name__ == "__main__":
    main()
