"""Test helpers: read a delivery as text tables, check values against the contract, run studies.

The checker is deliberately independent of the synthetic world's code: it reads the rules from
``kotoeval.registers`` and the files as a stranger would, through ``delivery.toml``.
"""

from __future__ import annotations

import json
import re
import tomllib
from dataclasses import dataclass
from pathlib import Path

import duckdb
import numpy as np
import pyarrow as pa
import pyarrow.compute as pc
import pyarrow.csv as pacsv
import pyarrow.parquet as pq

from kotoeval.cli.truth import compared_truth
from kotoeval.ingest.keys import load_key
from kotoeval.ingest.run import ingest
from kotoeval.registers import REGISTERS, Column
from kotoeval.registers.reference import load
from kotoeval.study.run import StudyResult, run_study
from kotoeval.study.spec import EXAMPLES, load_spec
from kotoeval.synth import WorldSummary
from kotoeval.warehouse import data_folder


def open_warehouse_file(warehouse: Path) -> duckdb.DuckDBPyConnection:
    """The warehouse file as a DuckDB user outside kotoeval opens it.

    Read-only, with its data folder as the search path of the files its views name.
    """
    config = {"file_search_path": str(data_folder(warehouse))}
    return duckdb.connect(str(warehouse), read_only=True, config=config)


def read_register(world: Path, name: str) -> pa.Table:
    """A register of a delivery as text columns (empty fields are null)."""
    manifest = tomllib.loads((world / "delivery.toml").read_text(encoding="utf-8"))
    spec = manifest["registers"][name]
    path = world / spec["file"]
    if spec["format"] == "parquet":
        return pq.read_table(path)
    data = path.read_bytes().decode(spec["encoding"]).encode("utf-8")
    header = data.split(b"\n", 1)[0].decode().split(spec["delimiter"])
    table = pacsv.read_csv(
        pa.BufferReader(data),
        parse_options=pacsv.ParseOptions(delimiter=spec["delimiter"]),
        convert_options=pacsv.ConvertOptions(
            column_types={c: pa.string() for c in header}, strings_can_be_null=True
        ),
    )
    if spec.get("decimal", ".") != ".":
        for c in REGISTERS[name].columns:
            if c.type == "decimal" and c.name in table.column_names:
                i = table.column_names.index(c.name)
                table = table.set_column(i, c.name, pc.replace_substring(table[c.name], ",", "."))
    return table


def _valid_dates(values: np.ndarray) -> np.ndarray:
    ok = np.array([bool(re.fullmatch(r"\d{4}-\d{2}-\d{2}", v)) for v in values], dtype=bool)
    parsed = np.zeros(len(values), dtype=bool)
    for i in np.flatnonzero(ok):
        try:
            np.datetime64(values[i], "D")
            y, m, d = (int(x) for x in values[i].split("-"))
            parsed[i] = np.datetime64(values[i], "D").astype(object).day == d
        except ValueError:
            parsed[i] = False
    return parsed


def column_violations(column: Column, values: pa.Array) -> np.ndarray:
    """Boolean mask of values that break the column's own rules (not cross-row rules)."""
    missing = np.asarray(values.is_null())
    present = np.asarray(values.fill_null("")).astype(str)
    bad = missing & column.required
    have = ~missing
    v = present[have]
    wrong = np.zeros(len(v), dtype=bool)
    if column.codes is not None:
        wrong |= ~np.isin(v, column.codes)
    if column.reference is not None:
        wrong |= ~np.isin(v, load(column.reference).codes)
    if column.pattern is not None:
        rx = re.compile(column.pattern)
        wrong |= np.array([rx.fullmatch(x) is None for x in v], dtype=bool)
    if column.type == "date":
        wrong |= ~_valid_dates(v)
    if column.type == "month":
        wrong |= ~np.array([bool(re.fullmatch(r"\d{4}-(0[1-9]|1[0-2])", x)) for x in v], dtype=bool)
    if column.type in ("int", "decimal"):
        number = np.array([_number(x) for x in v])
        wrong |= np.isnan(number)
        if column.type == "int":
            wrong |= ~np.array([bool(re.fullmatch(r"-?\d+", x)) for x in v], dtype=bool)
        if column.minimum is not None:
            wrong |= number < column.minimum
        if column.maximum is not None:
            wrong |= number > column.maximum
    bad[have] |= wrong
    return bad


def _number(text: str) -> float:
    try:
        return float(text)
    except ValueError:
        return float("nan")


def end_before_start(name: str, table: pa.Table) -> np.ndarray:
    """Rows whose period ends before it starts (ISO dates compare as text)."""
    bad = np.zeros(table.num_rows, dtype=bool)
    for start, end in REGISTERS[name].periods:
        s = np.asarray(table[start].fill_null("")).astype(str)
        e = np.asarray(table[end].fill_null("")).astype(str)
        both = (s != "") & (e != "")
        bad |= both & (e < s)
    return bad


@dataclass(frozen=True)
class Studied:
    """Studies run on one world, with the world's truth at hand."""

    world: WorldSummary
    results: dict[str, StudyResult]
    key: bytes

    def truth(self, study: str) -> dict[str, dict[str, float]]:
        """True effects over all the world's clients, with the naive differences."""
        data = json.loads((self.world.out / "truth.json").read_text(encoding="utf-8"))
        return data["programmes"][study]["effects"]  # type: ignore[no-any-return]

    def compared_truth(self, study: str) -> dict[str, dict[str, float | int]]:
        """True effects over the clients the study compared: what it estimates."""
        compared = self.results[study].compared_clients
        return compared_truth(self.world.out, study, self.key, compared)


def run_studies(world: WorldSummary, key: Path, folder: Path, names: tuple[str, ...]) -> Studied:
    """Ingest ``world`` into ``folder`` and run the example studies ``names`` on it."""
    warehouse = folder / "warehouse.duckdb"
    ingest(world.out, warehouse, key)
    results = {
        n: run_study(load_spec(EXAMPLES / f"{n}.toml"), warehouse, folder / n) for n in names
    }
    return Studied(world, results, load_key(key))
