"""What a delivery holds: which register is in which files, and how to read them.

A delivery is a folder with one file per register (``earnings.csv`` or ``earnings.parquet``) or
a folder of parts (``earnings/part-*.csv``), and optionally ``delivery.toml`` declaring formats,
encodings, delimiters and decimal marks (the Finnish spreadsheet dialect: ``;``, decimal comma,
cp1252). Structural faults fail here, before anything is read, with one message that names the
file, the column or the line and says what to do.
"""

from __future__ import annotations

import hashlib
import tomllib
from collections.abc import Iterable
from dataclasses import dataclass
from pathlib import Path
from typing import Literal

import pyarrow as pa
import pyarrow.parquet as pq

from kotoeval.errors import DeliveryError
from kotoeval.registers import REGISTERS, Register

Format = Literal["csv", "parquet"]
MANIFEST = "delivery.toml"
#: Bytes of a CSV file checked against its declared encoding before loading.
ENCODING_SAMPLE = 1 << 20
_BOM = "\ufeff"


@dataclass(frozen=True)
class Source:
    """One register of a delivery, ready to be read."""

    register: Register
    files: tuple[Path, ...]
    format: Format
    encoding: str
    delimiter: str
    decimal: str
    columns: tuple[str, ...]
    """The header as delivered."""
    organisation: str | None

    @property
    def extra_columns(self) -> tuple[str, ...]:
        """Delivered columns outside the contract: dropped at ingest and counted."""
        return tuple(c for c in self.columns if c not in self.register.column_names)


def open_delivery(folder: Path) -> dict[str, Source]:
    """Every register found in ``folder``, checked for structural faults."""
    if not folder.is_dir():
        raise DeliveryError(f"{folder} is not a folder of register files")
    declared = _manifest(folder)
    found = _discover(folder, declared)
    if not found:
        raise DeliveryError(
            f"{folder} holds no register of the contract; expected files such as population.csv"
        )
    sources = {}
    for name, (files, fmt) in sorted(found.items()):
        spec = declared.get(name, {})
        sources[name] = _source(REGISTERS[name], files, fmt, spec)
    return sources


def fingerprint(files: Iterable[Path]) -> str:
    """SHA-256 over the files' names and bytes: the identity of what was loaded."""
    digest = hashlib.sha256()
    for path in files:
        digest.update(path.name.encode())
        with path.open("rb") as f:
            while block := f.read(1 << 22):
                digest.update(block)
    return digest.hexdigest()


def _manifest(folder: Path) -> dict[str, dict[str, str]]:
    path = folder / MANIFEST
    if not path.exists():
        return {}
    try:
        document = tomllib.loads(path.read_text(encoding="utf-8"))
    except (tomllib.TOMLDecodeError, UnicodeDecodeError) as error:
        raise DeliveryError(f"{path} is not valid TOML: {error}") from None
    registers = document.get("registers", {})
    for name, spec in registers.items():
        if name not in REGISTERS:
            raise DeliveryError(
                f"{path} declares an unknown register {name!r}; the contract has "
                f"{', '.join(REGISTERS)}"
            )
        if spec.get("format", "csv") not in ("csv", "parquet"):
            raise DeliveryError(f"{path}: [registers.{name}] format must be csv or parquet")
        if spec.get("decimal", ".") not in (".", ","):
            raise DeliveryError(f'{path}: [registers.{name}] decimal must be "." or ","')
    return {name: {k: str(v) for k, v in spec.items()} for name, spec in registers.items()}


def _discover(
    folder: Path, declared: dict[str, dict[str, str]]
) -> dict[str, tuple[list[Path], Format]]:
    found: dict[str, tuple[list[Path], Format]] = {}
    claimed: set[Path] = set()
    for name, spec in declared.items():
        if "file" in spec:
            path = folder / spec["file"]
            if not path.exists():
                raise DeliveryError(
                    f"{MANIFEST} names {spec['file']} for {name}, but it is missing"
                )
            found[name] = _files(path)
            claimed.add(path)
    for path in sorted(folder.iterdir()):
        if path in claimed or path.name.startswith(".") or path.name == MANIFEST:
            continue
        if path.is_file() and path.suffix not in (".csv", ".parquet"):
            continue  # truth.json, a README and the like are not registers
        stem = path.name.split(".")[0]
        if stem not in REGISTERS:
            raise DeliveryError(
                f"{path.name}: unknown register {stem!r}; the contract has "
                f"{', '.join(REGISTERS)}. Rename the file or remove it from the delivery."
            )
        if stem in found:
            raise DeliveryError(
                f"{stem} is delivered twice: {path.name} and {found[stem][0][0].name}"
            )
        found[stem] = _files(path)
    return found


def _files(path: Path) -> tuple[list[Path], Format]:
    if path.is_dir():
        parts = sorted(p for p in path.iterdir() if p.suffix in (".csv", ".parquet"))
        if not parts:
            raise DeliveryError(f"{path}/ holds no part files (part-*.csv or part-*.parquet)")
        kinds = {p.suffix for p in parts}
        if len(kinds) > 1:
            raise DeliveryError(f"{path}/ mixes CSV and Parquet parts; deliver one format")
        return parts, "parquet" if kinds == {".parquet"} else "csv"
    return [path], "parquet" if path.suffix == ".parquet" else "csv"


def _source(reg: Register, files: list[Path], fmt: Format, spec: dict[str, str]) -> Source:
    encoding = spec.get("encoding", "utf-8")
    delimiter = spec.get("delimiter", ",")
    headers = [_header(path, fmt, encoding, delimiter) for path in files]
    for path, header in zip(files, headers, strict=True):
        if header != headers[0]:
            raise DeliveryError(
                f"{path}: its columns differ from those of {files[0].name}; every part of "
                f"{reg.name} must have the same header"
            )
        missing = [c.name for c in reg.columns if c.name not in header]
        if missing:
            hint = " (is the delimiter declared in delivery.toml?)" if len(header) == 1 else ""
            raise DeliveryError(
                f"{path}: column {missing[0]!r} of {reg.name} is missing{hint}; the contract "
                f"needs {', '.join(reg.column_names)}"
            )
        duplicated = {c for c in header if header.count(c) > 1}
        if duplicated:
            raise DeliveryError(
                f"{path}: column {sorted(duplicated)[0]!r} appears twice in the header"
            )
    return Source(
        register=reg, files=tuple(files), format=fmt, encoding=encoding, delimiter=delimiter,
        decimal=spec.get("decimal", "."), columns=tuple(headers[0]),
        organisation=spec.get("source_organisation"),
    )  # fmt: skip


def _header(path: Path, fmt: Format, encoding: str, delimiter: str) -> list[str]:
    if fmt == "parquet":
        try:
            return list(pq.read_schema(path).names)
        except (OSError, pa.ArrowException) as error:
            raise DeliveryError(f"{path} is not a readable Parquet file: {error}") from None
    try:
        with path.open("rb") as f:
            sample = f.read(ENCODING_SAMPLE)
    except OSError as error:
        raise DeliveryError(f"{path} cannot be read: {error.strerror}") from None
    if len(sample) == ENCODING_SAMPLE:  # a multi-byte character may be cut at the end
        sample = sample[: sample.rfind(b"\n") + 1]
    try:
        text = sample.decode(encoding)
    except UnicodeDecodeError as error:
        line = sample[: error.start].count(b"\n") + 1
        raise DeliveryError(
            f"{path}: line {line} is not valid {encoding}; declare the file's encoding in "
            f"{MANIFEST} (Finnish spreadsheet exports are usually cp1252)"
        ) from None
    except LookupError:
        raise DeliveryError(
            f"{MANIFEST} declares an unknown encoding {encoding!r} for {path.name}"
        ) from None
    first = text.split("\n", 1)[0].rstrip("\r").removeprefix(_BOM)
    if not first:
        raise DeliveryError(f"{path} is empty: a register file starts with its header line")
    return [c.strip().strip('"') for c in first.split(delimiter)]
