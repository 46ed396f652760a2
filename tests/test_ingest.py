"""Ingest end to end: every planted fault caught, counts reconciled, no person identifiable."""

from __future__ import annotations

import hashlib
import json
import re
import shutil
import signal
import subprocess
import sys
import time
from collections import Counter
from dataclasses import dataclass
from pathlib import Path

import pytest

from kotoeval.errors import DeliveryError, KeyFileError
from kotoeval.ingest.delivery import ENCODING_SAMPLE
from kotoeval.ingest.keys import generate_key
from kotoeval.ingest.quarantine import HETU_LIKE
from kotoeval.ingest.reconcile import IngestReport
from kotoeval.ingest.run import ingest, log_path
from kotoeval.registers import REGISTERS
from kotoeval.synth import WorldSummary
from kotoeval.warehouse import data_folder, open_warehouse
from tests.helpers import open_warehouse_file


@dataclass
class Ingested:
    world: WorldSummary
    warehouse: Path
    key: Path
    report: IngestReport


@pytest.fixture(scope="session")
def ingested(
    tiny_defects: WorldSummary, key: Path, tmp_path_factory: pytest.TempPathFactory
) -> Ingested:
    """The tiny world with planted defects, ingested into a DuckDB warehouse."""
    warehouse = tmp_path_factory.mktemp("warehouse") / "warehouse.duckdb"
    return Ingested(tiny_defects, warehouse, key, ingest(tiny_defects.out, warehouse, key))


@pytest.fixture
def warehouse(ingested: Ingested, tmp_path: Path) -> Path:
    """A private copy of the ingested warehouse, for a test to change."""
    copy = tmp_path / "w.duckdb"
    shutil.copy(ingested.warehouse, copy)
    shutil.copytree(data_folder(ingested.warehouse), data_folder(copy))
    return copy


def query(warehouse: Path, sql: str) -> list[tuple[object, ...]]:
    with open_warehouse_file(warehouse) as con:
        return con.sql(sql).fetchall()


def test_every_planted_fault_is_quarantined_with_its_rule_and_nothing_else(
    ingested: Ingested,
) -> None:
    defects = json.loads((ingested.world.out / "defects.json").read_text())
    planted = Counter((r["register"], r["row"], r["rule"]) for r in defects["rows"])
    found = Counter(query(ingested.warehouse, "SELECT register, row, rule FROM quarantine"))
    assert found == planted


def test_counts_reconcile_for_every_register(ingested: Ingested) -> None:
    assert {load.register for load in ingested.report.loads} == set(REGISTERS)
    for load in ingested.report.loads:
        assert load.reconciles, load
        assert load.rows_in == ingested.world.rows[load.register]  # rows written, copies included
        (stored,) = query(ingested.warehouse, f"SELECT count(*) FROM {load.register}")[0]
        assert stored == load.loaded
        (held,) = query(
            ingested.warehouse,
            f"SELECT count(*) FROM quarantine WHERE register = '{load.register}'",
        )[0]
        assert held == load.quarantined + load.duplicates
    recorded = query(
        ingested.warehouse,
        "SELECT count(*) FROM loads WHERE rows_in = loaded + quarantined + duplicates",
    )
    assert recorded == [(len(REGISTERS),)]


def test_the_quarantine_says_where_and_why(ingested: Ingested) -> None:
    rows = query(
        ingested.warehouse,
        'SELECT file, row, line, rule, "column", value, pid, record FROM quarantine '
        "WHERE register = 'earnings' AND rule = 'negative_amount' LIMIT 1",
    )
    file, row, line, rule, column, value, pid, record = rows[0]
    assert (file, rule, column) == ("earnings.csv", "negative_amount", "wages_eur")
    assert line == row + 1
    assert str(value).startswith("-")
    assert re.fullmatch(r"[0-9a-f]{32}", str(pid))
    assert str(record).startswith(f"pid={pid}; month=")
    services = query(
        ingested.warehouse, "SELECT DISTINCT file FROM quarantine WHERE register = 'services'"
    )
    assert services == [("services.csv",)]


def test_linkage_is_reported_and_persons_keep_only_birth_month_and_sex(
    ingested: Ingested,
) -> None:
    for load in ingested.report.loads:
        assert load.linked_share == 1.0, load.register
        assert load.orphan_rows == 0
    columns = [c for (c, *_) in query(ingested.warehouse, "DESCRIBE persons")]
    assert columns == ["pid", "birth_year", "birth_month", "sex"]
    population_columns = [c for (c, *_) in query(ingested.warehouse, "DESCRIBE population")]
    assert population_columns[0] == "pid" and "hetu" not in population_columns


def test_no_identity_code_or_key_anywhere(ingested: Ingested) -> None:
    codes = _delivered_codes(ingested.world.out)
    key_text = ingested.key.read_text().strip()
    hetu_like = re.compile(HETU_LIKE)
    with open_warehouse_file(ingested.warehouse) as con:
        tables = [t for (t,) in con.sql("SHOW TABLES").fetchall()]
        assert "quarantine" in tables and "persons" in tables
        for table in tables:
            for (text,) in con.sql(f"SELECT CAST(t AS VARCHAR) FROM {table} AS t").fetchall():
                assert not hetu_like.search(text), table
                assert key_text not in text
    log = log_path(ingested.warehouse).read_text()
    assert not hetu_like.search(log) and key_text not in log
    data = data_folder(ingested.warehouse)
    files = [ingested.warehouse, *(f for f in data.rglob("*") if f.is_file())]
    assert len(files) > len(tables)  # the file and the Parquet files its views read
    for file in files:  # free space and padding too, not only the values
        raw = file.read_bytes()
        assert key_text.encode() not in raw
        in_file = {code.decode() for code in re.findall(HETU_LIKE.encode(), raw)}
        assert len(in_file & codes) == 0, file.name
    scratch = list(ingested.warehouse.parent.glob(".*scratch*"))
    assert scratch == []


def _delivered_codes(folder: Path) -> set[str]:
    text = (f.read_bytes().decode("latin-1") for f in folder.glob("*.csv"))  # any encoding
    return {c for t in text for c in re.findall(HETU_LIKE, t)}


def test_a_second_run_replaces_and_another_key_is_refused(
    tiny_defects: WorldSummary, key: Path, warehouse: Path, tmp_path: Path
) -> None:
    before = _table_digests(warehouse)
    ingest(tiny_defects.out, warehouse, key)
    after = _table_digests(warehouse)
    assert {t: d for t, d in after.items() if t != "loads"} == {
        t: d for t, d in before.items() if t != "loads"
    }
    assert query(warehouse, "SELECT count(*) FROM loads") == [(2 * len(REGISTERS),)]
    other = tmp_path / "other.key"
    generate_key(other)
    with pytest.raises(KeyFileError, match="another key"):
        ingest(tiny_defects.out, warehouse, other)
    assert _table_digests(warehouse) == after


def test_a_partial_delivery_replaces_only_its_registers(
    tiny_defects: WorldSummary, key: Path, warehouse: Path, tmp_path: Path
) -> None:
    before = _table_digests(warehouse)
    earlier_others = query(
        warehouse,
        "SELECT count(*), bit_xor(hash(q)) FROM quarantine q WHERE register <> 'education'",
    )
    partial = tmp_path / "partial"
    partial.mkdir()
    lines = (tiny_defects.out / "education.csv").read_text().splitlines(keepends=True)
    (partial / "education.csv").write_text("".join(lines[:101]))
    report = ingest(partial, warehouse, key)
    assert [load.register for load in report.loads] == ["education"]
    after = _table_digests(warehouse)
    changed = {t for t in after if after[t] != before[t]}
    assert changed == {"education", "quarantine", "loads"}
    assert query(warehouse, "SELECT count(*) FROM education")[0][0] == report.loads[0].loaded
    others = "SELECT count(*), bit_xor(hash(q)) FROM quarantine q WHERE register <> 'education'"
    assert query(warehouse, others) == earlier_others


def test_a_register_delivered_empty_loads_no_rows(
    tiny_defects: WorldSummary, key: Path, warehouse: Path, tmp_path: Path
) -> None:
    partial = tmp_path / "partial"
    partial.mkdir()
    header = (tiny_defects.out / "education.csv").read_text().splitlines(keepends=True)[0]
    (partial / "education.csv").write_text(header)
    (load,) = ingest(partial, warehouse, key).loads
    assert (load.rows_in, load.loaded, load.quarantined, load.persons) == (0, 0, 0, 0)
    assert load.reconciles and load.linked == 0
    assert query(warehouse, "SELECT count(*) FROM education")[0][0] == 0


def _table_digests(warehouse: Path) -> dict[str, tuple[int, int]]:
    """Row count and an order-independent hash of the contents of every published table."""
    with open_warehouse_file(warehouse) as con:
        tables = [t for (t,) in con.sql("SHOW TABLES").fetchall()]
        return {
            t: con.sql(f"SELECT count(*), coalesce(bit_xor(hash(x)), 0) FROM {t} AS x").fetchone()  # type: ignore[misc]
            for t in tables
        }


#: A file of each dialect of the tiny world with defects: (file, encoding, delimiter).
DIALECTS = [("benefits.csv", "utf-8", ","), ("services.csv", "cp1252", ";")]


@pytest.fixture
def delivery(tiny_defects: WorldSummary, tmp_path: Path) -> Path:
    """A writable copy of the tiny world with defects."""
    return Path(shutil.copytree(tiny_defects.out, tmp_path / "delivery"))


@pytest.mark.parametrize(("file", "encoding", "delimiter"), DIALECTS)
def test_a_broken_file_fails_clearly_and_leaves_the_warehouse(
    delivery: Path, key: Path, warehouse: Path, file: str, encoding: str, delimiter: str
) -> None:
    before = _table_digests(warehouse)
    lines = (delivery / file).read_bytes().decode(encoding).splitlines(keepends=True)
    lines[500] = lines[500].rstrip("\r\n") + f"{delimiter}surplus\n"
    (delivery / file).write_bytes("".join(lines).encode(encoding))
    with pytest.raises(DeliveryError, match=rf"{file}: line 501 cannot be read") as caught:
        ingest(delivery, warehouse, key)
    assert not re.search(HETU_LIKE, str(caught.value))
    assert _table_digests(warehouse) == before


@pytest.mark.parametrize(("file", "encoding", "delimiter"), DIALECTS)
def test_bytes_of_another_encoding_past_the_checked_sample_fail_clearly(
    delivery: Path, key: Path, warehouse: Path, file: str, encoding: str, delimiter: str
) -> None:
    """The delivery check reads a sample of each file; staging catches what lies beyond it."""
    before = _table_digests(warehouse)
    header, *rows = (delivery / file).read_bytes().splitlines(keepends=True)
    body = b"".join(rows)
    padding = body * (ENCODING_SAMPLE // len(body) + 1)
    stray = {"utf-8": b"\xff", "cp1252": b"\x81"}[encoding]  # a byte neither can decode
    broken = rows[0].replace(delimiter.encode(), delimiter.encode() + stray, 1)
    (delivery / file).write_bytes(header + padding + broken)
    with pytest.raises(DeliveryError, match=rf"{file}: some bytes are not valid {encoding}"):
        ingest(delivery, warehouse, key)
    assert _table_digests(warehouse) == before


def test_a_killed_ingest_leaves_the_earlier_warehouse_readable_and_unchanged(
    tiny: WorldSummary, key: Path, warehouse: Path, tmp_path: Path
) -> None:
    file_before = hashlib.sha256(warehouse.read_bytes()).hexdigest()
    tables_before = _table_digests(warehouse)
    data = data_folder(warehouse)
    versions_before = set(data.glob("*/*"))
    log = log_path(warehouse)
    command = [sys.executable, "-m", "kotoeval", "ingest", "--source", str(tiny.out)]
    command += ["--warehouse", str(warehouse), "--key", str(key)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    try:
        deadline = time.monotonic() + 600  # generous: a busy machine is slow
        while not (log.exists() and "benefits: " in log.read_text()):  # earlier ones written
            assert process.poll() is None, "the ingest ended before it could be killed"
            assert time.monotonic() < deadline, "the ingest never reached the benefits register"
            time.sleep(0.05)
    finally:
        process.send_signal(signal.SIGKILL)
        process.wait()
    assert process.returncode == -signal.SIGKILL
    assert set(data.glob("*/*")) > versions_before, "the kill came before any table was written"
    assert hashlib.sha256(warehouse.read_bytes()).hexdigest() == file_before  # not a byte changed
    assert _table_digests(warehouse) == tables_before
    open_warehouse(warehouse).close()  # a reader leaves what may be another ingest's
    assert set(data.glob("*/*")) > versions_before
    open_warehouse(warehouse, writer=True).close()  # the next writer removes the leftovers
    assert set(data.glob("*/*")) == versions_before
    assert not list(tmp_path.glob(".*scratch*"))
    report = ingest(tiny.out, warehouse, key)
    assert all(load.reconciles for load in report.loads)
    assert not list(tmp_path.glob(".*scratch*"))


def test_identity_codes_pseudonymised_in_many_batches_give_the_same_tables(
    ingested: Ingested, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    # A national register holds millions of codes, more than one batch: every batch must be
    # pseudonymised, not only the first (a lost batch left most persons without a pseudonym).
    monkeypatch.setattr("kotoeval.ingest.run._CODE_BATCH", 97)
    warehouse = tmp_path / "batched.duckdb"
    ingest(ingested.world.out, warehouse, ingested.key)
    batched, default = _table_digests(warehouse), _table_digests(ingested.warehouse)
    assert batched.keys() == default.keys()
    for table, digest in batched.items():
        if table not in ("loads", "meta"):  # their times differ
            assert digest == default[table], table
    loads = "SELECT count(*) FROM loads"
    assert query(warehouse, loads) == query(ingested.warehouse, loads)
    assert query(warehouse, "SELECT count(*) FROM earnings WHERE pid IS NULL") == [(0,)]
