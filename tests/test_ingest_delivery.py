"""Reading what a delivery holds, and failing fast and clearly on structural faults."""

from __future__ import annotations

import shutil
from pathlib import Path

import pytest

from kotoeval.errors import DeliveryError
from kotoeval.ingest.delivery import fingerprint, open_delivery
from kotoeval.registers import REGISTERS
from kotoeval.synth import WorldSummary


@pytest.fixture
def delivery(tiny_defects: WorldSummary, tmp_path: Path) -> Path:
    """A writable copy of the tiny world with defects."""
    return Path(shutil.copytree(tiny_defects.out, tmp_path / "delivery"))


def test_every_register_is_found_with_its_dialect(delivery: Path) -> None:
    sources = open_delivery(delivery)
    assert set(sources) == set(REGISTERS)
    services = sources["services"]
    assert (services.encoding, services.delimiter, services.decimal) == ("cp1252", ";", ",")
    assert sources["earnings"].delimiter == "," and sources["earnings"].encoding == "utf-8"
    assert sources["residence_permits"].extra_columns == ("decision_number",)
    assert sources["population"].organisation == "Statistics Finland"


def test_parts_and_a_byte_order_mark(delivery: Path) -> None:
    (delivery / "delivery.toml").unlink()
    lines = (delivery / "earnings.csv").read_text(encoding="utf-8").splitlines(keepends=True)
    (delivery / "earnings.csv").unlink()
    parts = delivery / "earnings"
    parts.mkdir()
    half = len(lines) // 2
    (parts / "part-0.csv").write_text("\ufeff" + "".join(lines[:half]), encoding="utf-8")
    (parts / "part-1.csv").write_text(lines[0] + "".join(lines[half:]), encoding="utf-8")
    (delivery / "services.csv").unlink()  # cp1252 and ';' need the manifest
    sources = open_delivery(delivery)
    assert [p.name for p in sources["earnings"].files] == ["part-0.csv", "part-1.csv"]
    assert sources["earnings"].columns == REGISTERS["earnings"].column_names


def test_a_missing_column_names_file_and_column(delivery: Path) -> None:
    path = delivery / "benefits.csv"
    text = path.read_text(encoding="utf-8").replace("amount_eur", "amount", 1)
    path.write_text(text, encoding="utf-8")
    with pytest.raises(
        DeliveryError, match=r"benefits.csv: column 'amount_eur' of benefits is missing"
    ):
        open_delivery(delivery)


def test_an_undeclared_dialect_is_caught(delivery: Path) -> None:
    manifest = delivery / "delivery.toml"
    declared = manifest.read_text()
    manifest.write_text(declared.replace('encoding = "cp1252"', 'encoding = "utf-8"'))
    with pytest.raises(DeliveryError, match=r"services.csv: line \d+ is not valid utf-8"):
        open_delivery(delivery)
    manifest.write_text(declared.replace('delimiter = ";"', 'delimiter = ","'))
    with pytest.raises(DeliveryError, match="is the delimiter declared"):
        open_delivery(delivery)


def test_unknown_registers_and_double_deliveries(delivery: Path) -> None:
    (delivery / "salaries.csv").write_text("hetu,eur\n")
    with pytest.raises(DeliveryError, match="unknown register 'salaries'"):
        open_delivery(delivery)
    (delivery / "salaries.csv").unlink()
    shutil.copy(delivery / "education.csv", delivery / "education.parquet")
    with pytest.raises(DeliveryError, match="education is delivered twice"):
        open_delivery(delivery)


def test_fingerprints_change_with_content(delivery: Path) -> None:
    files = open_delivery(delivery)["population"].files
    before = fingerprint(files)
    assert fingerprint(files) == before
    with files[0].open("a") as f:
        f.write("\n")
    assert fingerprint(files) != before
