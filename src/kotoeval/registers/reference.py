"""Reference classifications shipped with the package (``registers/data/*.csv``).

Municipalities (with employment area and ELY region), employment areas, ELY regions, countries
and their world regions, world-region names, ISCO major groups, ISCED levels and fields. The
files are public classifications as of 2025; a user can point :func:`load` at the official files
of another year with the same columns.
"""

from __future__ import annotations

import csv
from dataclasses import dataclass
from functools import cache
from importlib import resources
from pathlib import Path
from typing import Literal

from kotoeval.errors import SpecError

Classification = Literal[
    "municipalities",
    "employment_areas",
    "ely_regions",
    "countries",
    "world_regions",
    "isco_major_groups",
    "isced_levels",
    "isced_fields",
]
CLASSIFICATIONS: tuple[Classification, ...] = (
    "municipalities",
    "employment_areas",
    "ely_regions",
    "countries",
    "world_regions",
    "isco_major_groups",
    "isced_levels",
    "isced_fields",
)

_KEY_COLUMN = "code"


@dataclass(frozen=True)
class ReferenceTable:
    """One classification: rows keyed by ``code``, every other column as text."""

    name: str
    columns: tuple[str, ...]
    rows: dict[str, dict[str, str]]

    @property
    def codes(self) -> tuple[str, ...]:
        """All codes, in file order."""
        return tuple(self.rows)

    def attribute(self, column: str) -> dict[str, str]:
        """Map every code to the value of ``column`` (e.g. municipality → employment area)."""
        if column not in self.columns:
            raise SpecError(
                f"classification {self.name!r} has no column {column!r}; "
                f"it has {', '.join(self.columns)}"
            )
        return {code: row[column] for code, row in self.rows.items()}


def _read(name: str, text: str) -> ReferenceTable:
    reader = csv.DictReader(text.splitlines())
    columns = tuple(reader.fieldnames or ())
    if _KEY_COLUMN not in columns:
        raise SpecError(f"classification {name!r} must have a {_KEY_COLUMN!r} column")
    rows: dict[str, dict[str, str]] = {}
    for line, row in enumerate(reader, start=2):
        code = row[_KEY_COLUMN]
        if code in rows:
            raise SpecError(f"classification {name!r} repeats code {code!r} on line {line}")
        rows[code] = row
    return ReferenceTable(name=name, columns=columns, rows=rows)


def load(name: Classification, path: Path | None = None) -> ReferenceTable:
    """Load a classification, from the package or from ``path`` (an official file)."""
    if name not in CLASSIFICATIONS:
        raise SpecError(
            f"unknown classification {name!r}; choose one of {', '.join(CLASSIFICATIONS)}"
        )
    if path is not None:
        return _read(name, Path(path).read_text(encoding="utf-8-sig"))
    return _packaged(name)


@cache
def _packaged(name: str) -> ReferenceTable:
    text = resources.files("kotoeval.registers").joinpath("data", f"{name}.csv").read_text("utf-8")
    return _read(name, text)


def world_region_of(country: str) -> str:
    """World region of an ISO 3166-1 alpha-2 country code (``unknown`` when not classified)."""
    return load("countries").rows.get(country, {}).get("world_region", "unknown")
