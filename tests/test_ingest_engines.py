"""One code path: dialects, Parquet and the Spark engine give the very same warehouse tables."""

from __future__ import annotations

import shutil
from pathlib import Path

import pyarrow as pa
import pyarrow.compute as pc
import pytest

from kotoeval.ingest.run import ingest
from kotoeval.registers import REGISTERS
from kotoeval.synth import WorldSummary, generate
from kotoeval.warehouse import open_warehouse

#: Tables whose contents depend only on the delivery and the key (``loads`` records times).
CONTENT = [*REGISTERS, "persons", "quarantine"]


def contents(warehouse: Path) -> dict[str, pa.Table]:
    """Every content table, rows in a canonical order, read with DuckDB whatever wrote it."""
    wh = open_warehouse(warehouse, "duckdb")
    try:
        return {name: _sorted(wh.table(name).to_pyarrow()) for name in CONTENT if wh.has(name)}
    finally:
        wh.close()


def _sorted(table: pa.Table) -> pa.Table:
    return table.take(pc.sort_indices(table, [(c, "ascending") for c in table.column_names]))


def assert_same(left: dict[str, pa.Table], right: dict[str, pa.Table]) -> None:
    assert left.keys() == right.keys()
    for name in left:
        assert left[name].schema == right[name].schema, name
        assert left[name].equals(right[name]), name


def _finnish_dialect(world: Path, out: Path) -> Path:
    """The delivery rewritten as a Finnish spreadsheet exports it: ``;``, decimal comma, cp1252."""
    out.mkdir()
    manifest = ["[delivery]", 'source = "test"', ""]
    for name, reg in REGISTERS.items():
        decimals = [i for i, c in enumerate(reg.columns) if c.type == "decimal"]
        lines = (world / f"{name}.csv").read_text(encoding="utf-8").splitlines()
        rewritten = [lines[0].replace(",", ";")]
        for line in lines[1:]:
            fields = line.split(",")
            for i in decimals:
                fields[i] = fields[i].replace(".", ",")
            rewritten.append(";".join(fields))
        (out / f"{name}.csv").write_bytes(("\r\n".join(rewritten) + "\r\n").encode("cp1252"))
        manifest += [f"[registers.{name}]", 'encoding = "cp1252"', 'delimiter = ";"']
        manifest += ['decimal = ","', ""]
    (out / "delivery.toml").write_text("\n".join(manifest), encoding="utf-8")
    return out


def test_finnish_dialect_and_parquet_load_to_the_same_tables(  # tiny is seed 3
    tiny: WorldSummary, key: Path, tmp_path: Path
) -> None:
    plain = tmp_path / "plain.duckdb"
    ingest(tiny.out, plain, key)
    expected = contents(plain)
    assert expected["earnings"].num_rows > 0
    finnish = _finnish_dialect(tiny.out, tmp_path / "finnish")
    ingest(finnish, tmp_path / "finnish.duckdb", key)
    assert_same(contents(tmp_path / "finnish.duckdb"), expected)
    parquet = generate("tiny", 3, tmp_path / "parquet_world", "parquet", workers=1)
    for path in parquet.out.glob("*.json"):
        path.unlink()
    ingest(parquet.out, tmp_path / "parquet.duckdb", key)
    assert_same(contents(tmp_path / "parquet.duckdb"), expected)


def test_spark_and_duckdb_give_identical_tables(
    tiny_defects: WorldSummary, key: Path, tmp_path: Path
) -> None:
    if shutil.which("java") is None:
        pytest.fail("Java is missing: `make test` installs it (openjdk-17-jre-headless)")
    duck = tmp_path / "duckdb"  # a Parquet dataset written by DuckDB …
    ingest(tiny_defects.out, duck, key)
    spark = tmp_path / "spark"  # … and one written by Spark
    report = ingest(tiny_defects.out, spark, key, engine="spark")
    assert all(load.reconciles for load in report.loads)
    assert_same(contents(spark), contents(duck))
