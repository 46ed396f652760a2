"""What became of a delivery: per register, the reconciliation and the linkage report.

Kept in the ``loads`` table of the warehouse (one row per register per ingest) and printed by
``kotoeval ingest``.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from pathlib import Path

import pyarrow as pa

from kotoeval import __version__


@dataclass
class RegisterLoad:
    """What became of one register's rows."""

    register: str
    files: list[str]
    fingerprint: str
    rows_in: int
    loaded: int
    quarantined: int
    duplicates: int
    extra_columns: list[str]
    persons: int
    """Distinct pseudonyms among the rows that passed the row and cross-row rules."""
    linked: int | None
    """Of those, how many are in the population register (None: no population to link to)."""
    orphan_rows: int
    """Rows quarantined as ``unlinked`` (only in registers that require a resident)."""
    by_rule: dict[str, int] = field(default_factory=dict)

    @property
    def reconciles(self) -> bool:
        """Every row that came in is loaded, quarantined or a counted duplicate."""
        return self.rows_in == self.loaded + self.quarantined + self.duplicates

    @property
    def linked_share(self) -> float | None:
        """Share of the register's persons found in the population register."""
        if self.linked is None or self.persons == 0:
            return None
        return self.linked / self.persons


@dataclass
class IngestReport:
    """The result of :func:`ingest`."""

    warehouse: Path
    engine: str
    loads: list[RegisterLoad]
    seconds: float


LOADS = pa.schema(
    [
        ("register", pa.string()),
        ("loaded_at", pa.string()),
        ("engine", pa.string()),
        ("kotoeval_version", pa.string()),
        ("files", pa.string()),
        ("fingerprint", pa.string()),
        ("rows_in", pa.int64()),
        ("loaded", pa.int64()),
        ("quarantined", pa.int64()),
        ("duplicates", pa.int64()),
        ("extra_columns", pa.string()),
        ("persons", pa.int64()),
        ("linked_persons", pa.int64()),
        ("orphan_rows", pa.int64()),
    ]
)
"""The ``loads`` table: one row per register per ingest."""


def load_row(load: RegisterLoad, loaded_at: str, engine: str) -> dict[str, object]:
    """One row of the ``loads`` table."""
    return {
        "register": load.register,
        "loaded_at": loaded_at,
        "engine": engine,
        "kotoeval_version": __version__,
        "files": ", ".join(load.files),
        "fingerprint": load.fingerprint,
        "rows_in": load.rows_in,
        "loaded": load.loaded,
        "quarantined": load.quarantined,
        "duplicates": load.duplicates,
        "extra_columns": ", ".join(load.extra_columns),
        "persons": load.persons,
        "linked_persons": load.linked,
        "orphan_rows": load.orphan_rows,
    }
