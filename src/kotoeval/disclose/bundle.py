"""Release bundles: the only thing that crosses from the secure zone to the open zone.

A bundle is a folder written once (into a temporary sibling, then renamed) and never changed:

- ``manifest.json``: what it is (kind, name, title, spec), the kotoeval version, the input
  fingerprints from ingest, the rule set, the time, the run summary and the SHA-256 of every
  other file, so that a reader can tell an altered bundle;
- ``tables/<name>.parquet`` and ``.csv``: checked aggregates;
- ``figures/<name>.png``;
- ``checking.log``: every suppression, its rule, primary or secondary.
"""

from __future__ import annotations

import hashlib
import json
import os
import shutil
import tempfile
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from pathlib import Path
from typing import Any, Final

import numpy as np
import pandas as pd

from kotoeval import __version__
from kotoeval.disclose.counts import Decision
from kotoeval.errors import DisclosureError

MANIFEST: Final = "manifest.json"
LOG: Final = "checking.log"
PERSON_COLUMNS: Final = frozenset({"pid", "hetu", "person", "person_id", "employer", "family"})
"""Columns that would make a table person-level: a bundle refuses them."""


@dataclass(frozen=True)
class Bundle:
    """A release bundle, read back and verified."""

    path: Path
    manifest: dict[str, Any]
    tables: dict[str, pd.DataFrame]
    figures: dict[str, Path]
    log: str


def write_bundle(
    out: Path,
    manifest: Mapping[str, Any],
    tables: Mapping[str, pd.DataFrame],
    decisions: Sequence[Decision],
    figures: Mapping[str, Path] | None = None,
) -> Path:
    """Write a new bundle at ``out`` (which must not exist) and return its path."""
    if out.exists():
        raise DisclosureError(f"{out} exists; bundles are immutable, so release into a new folder")
    for name, table in tables.items():
        _refuse_person_level(name, table)
    out.parent.mkdir(parents=True, exist_ok=True)
    tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}.", dir=out.parent))
    try:
        (tmp / "tables").mkdir()
        (tmp / "figures").mkdir()
        for name, table in tables.items():
            table.to_parquet(tmp / "tables" / f"{name}.parquet", index=False)
            table.to_csv(tmp / "tables" / f"{name}.csv", index=False)
        for name, path in (figures or {}).items():
            shutil.copyfile(path, tmp / "figures" / f"{name}.png")
        (tmp / LOG).write_text(_log(decisions), encoding="utf-8")
        files = {str(p.relative_to(tmp)): _sha256(p) for p in sorted(tmp.rglob("*")) if p.is_file()}
        full = {
            **manifest,
            "kotoeval_version": __version__,
            "released_at": datetime.now(UTC).isoformat(timespec="seconds"),
            "suppressed_cells": len(decisions),
            "files": files,
        }
        text = json.dumps(_finite(full), indent=2, default=_plain, allow_nan=False)
        (tmp / MANIFEST).write_text(text, encoding="utf-8")
        for p in tmp.rglob("*"):
            if p.is_file():
                p.chmod(0o444)
        tmp.chmod(0o755)  # mkdtemp made it private; a bundle is for others to read
        os.replace(tmp, out)
    except BaseException:
        shutil.rmtree(tmp, ignore_errors=True)
        raise
    return out


def read_bundle(path: Path) -> Bundle:
    """Read a bundle and verify that no file was changed since release."""
    manifest_file = path / MANIFEST
    if not manifest_file.is_file():
        raise DisclosureError(f"{path} is not a release bundle (no {MANIFEST})")
    manifest = json.loads(manifest_file.read_text(encoding="utf-8"))
    for name, digest in manifest.get("files", {}).items():
        file = path / name
        if not file.is_file() or _sha256(file) != digest:
            raise DisclosureError(
                f"{path}: {name} differs from its release; a bundle must not be edited — "
                "release again instead"
            )
    tables = {p.stem: pd.read_parquet(p) for p in sorted((path / "tables").glob("*.parquet"))}
    figures = {p.stem: p for p in sorted((path / "figures").glob("*.png"))}
    return Bundle(path, manifest, tables, figures, (path / LOG).read_text(encoding="utf-8"))


def remove_bundle(path: Path) -> None:
    """Delete a bundle (its files are read-only)."""
    for p in path.rglob("*"):
        if p.is_file():
            p.chmod(0o644)
    shutil.rmtree(path)


def _refuse_person_level(name: str, table: pd.DataFrame) -> None:
    bad = sorted(PERSON_COLUMNS & {c.lower() for c in table.columns})
    facts = [c for c in table.columns if c.startswith("sdc_")]
    if bad or facts:
        raise DisclosureError(
            f"table {name} has columns {', '.join(bad + facts)}: person identifiers and "
            "disclosure facts never leave the secure zone"
        )


def _log(decisions: Sequence[Decision]) -> str:
    lines = ["table\tcell\tkind\trule\tdetail"]
    lines += [f"{d.table}\t{d.cell}\t{d.kind}\t{d.rule}\t{d.detail}" for d in decisions]
    return "\n".join(lines) + "\n"


def _sha256(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def _finite(value: Any) -> Any:
    """JSON has no NaN: missing numbers (withheld or undefined) become null."""
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    if isinstance(value, np.generic):
        value = value.item()
    if isinstance(value, float) and value != value:
        return None
    return value


def _plain(value: Any) -> str:
    return str(value)
