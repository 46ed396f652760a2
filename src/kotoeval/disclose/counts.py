"""Frequency tables: margins along hierarchies, primary and secondary suppression.

A table is long: one column per dimension and ``persons`` (distinct persons in the cell).
Margins carry :data:`TOTAL` (or a parent code of the dimension's hierarchy, e.g. municipality
→ employment area → ELY centre → the country). Tables passed together to :func:`check_counts`
describe the same persons, so a cell they share (say, Espoo × all sexes and Espoo × all ages)
is one cell, and no table may reveal what another hides.
"""

from __future__ import annotations

import itertools
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import Final

import numpy as np
import pandas as pd

from kotoeval.disclose.audit import Equation, margin, protect
from kotoeval.disclose.rules import RuleSet
from kotoeval.errors import DisclosureError

TOTAL: Final = "total"
PERSONS: Final = "persons"
Hierarchy = Mapping[str, str]
"""Child code → parent code; codes without a parent roll up into :data:`TOTAL`."""


@dataclass(frozen=True)
class Decision:
    """One line of the checking log."""

    table: str
    cell: str
    rule: str
    kind: str
    """``primary`` or ``secondary``."""
    detail: str


@dataclass(frozen=True)
class CountTable:
    """A frequency table with its dimensions (and their hierarchies)."""

    name: str
    cells: pd.DataFrame
    dims: tuple[str, ...]
    hierarchies: Mapping[str, Hierarchy]


def with_margins(
    leaves: pd.DataFrame, dims: Sequence[str], hierarchies: Mapping[str, Hierarchy] | None = None
) -> pd.DataFrame:
    """Every cell of the full table: leaves, and their sums up every hierarchy to the total.

    Combinations absent from ``leaves`` are cells of zero persons.
    """
    hierarchies = hierarchies or {}
    frame = leaves[[*dims, PERSONS]].astype({d: str for d in dims})
    for dim in dims:
        up = _ancestors(frame[dim].unique(), hierarchies.get(dim, {}))
        frame = frame.merge(up.rename(columns={"node": dim, "to": f"{dim}__to"}), on=dim)
        frame = frame.drop(columns=dim).rename(columns={f"{dim}__to": dim})
    summed = frame.groupby(list(dims), as_index=False)[PERSONS].sum()
    nodes = [summed[d].unique() for d in dims]
    full = pd.DataFrame(list(itertools.product(*nodes)), columns=list(dims))
    full = full.merge(summed, on=list(dims), how="left").fillna({PERSONS: 0})
    return full.astype({PERSONS: np.int64})


def _ancestors(leaves: np.ndarray, hierarchy: Hierarchy) -> pd.DataFrame:
    rows = []
    for leaf in leaves:
        node, seen = leaf, {leaf}
        rows.append((leaf, leaf))
        while node in hierarchy:
            node = hierarchy[node]
            if node in seen:
                raise DisclosureError(f"the hierarchy loops at {node!r}")
            seen.add(node)
            rows.append((leaf, node))
        if node != TOTAL:
            rows.append((leaf, TOTAL))
    return pd.DataFrame(rows, columns=["node", "to"])


def check_counts(
    tables: Sequence[CountTable], rules: RuleSet
) -> tuple[dict[str, pd.DataFrame], list[Decision]]:
    """Suppress small cells and every cell that would let them be recomputed.

    Returns each table with ``persons`` missing where suppressed and a ``suppression`` column
    (``primary``, ``secondary`` or empty), and the decisions for the checking log.
    """
    keys: dict[frozenset[tuple[str, str]], int] = {}
    values: list[int] = []
    where: list[tuple[str, str]] = []
    positions: dict[str, np.ndarray] = {}
    for table in tables:
        pos = np.empty(len(table.cells), dtype=np.int64)
        for i, row in enumerate(table.cells.itertuples(index=False)):
            record = row._asdict()
            key = frozenset((d, str(record[d])) for d in table.dims if record[d] != TOTAL)
            persons = int(record[PERSONS])
            if key in keys:
                if values[keys[key]] != persons:
                    raise DisclosureError(
                        f"tables {where[keys[key]][0]} and {table.name} disagree on "
                        f"{_label(key)} ({values[keys[key]]} vs {persons} persons); tables "
                        "checked together must describe the same persons"
                    )
            else:
                keys[key] = len(values)
                values.append(persons)
                where.append((table.name, _label(key)))
            pos[i] = keys[key]
        positions[table.name] = pos
    equations = [eq for t in tables for eq in _equations(t, positions[t.name])]
    counts = np.asarray(values, dtype=np.float64)
    sensitive = (counts > 0) & (counts < rules.threshold)
    required = np.full(len(counts), float(rules.threshold))
    protection = protect(counts, equations, sensitive, required)
    decisions = [
        Decision(where[c][0], where[c][1], f"threshold {rules.threshold}", "primary",
                 f"{int(counts[c])} < {rules.threshold} persons; feasible "
                 f"{protection.low[c]:g}…{protection.high[c]:g}")
        for c in np.flatnonzero(sensitive)
    ] + [
        Decision(where[c][0], where[c][1], "recomputable from margins", "secondary",
                 "hidden so that no small cell can be recomputed")
        for c in np.flatnonzero(protection.secondary)
    ]  # fmt: skip
    checked = {}
    for t in tables:
        pos = positions[t.name]
        out = t.cells.copy()
        out[PERSONS] = out[PERSONS].astype("Int64").mask(protection.hidden[pos])
        out["suppression"] = np.where(
            sensitive[pos], "primary", np.where(protection.secondary[pos], "secondary", "")
        )
        checked[t.name] = out
    return checked, decisions


def _equations(table: CountTable, pos: np.ndarray) -> list[Equation]:
    """Parent = Σ children along each dimension, for every combination of the others."""
    index = {
        tuple(str(v) for v in row): pos[i]
        for i, row in enumerate(table.cells[list(table.dims)].itertuples(index=False))
    }
    equations = []
    for d, dim in enumerate(table.dims):
        present = {key[d] for key in index}
        hierarchy = table.hierarchies.get(dim, {})
        children: dict[str, list[str]] = {}
        for node in present - {TOTAL}:
            children.setdefault(hierarchy.get(node, TOTAL), []).append(node)
        for key, cell in index.items():
            kids = children.get(key[d])
            if not kids:
                continue
            parts = [index.get((*key[:d], k, *key[d + 1 :])) for k in kids]
            if any(p is None for p in parts):
                raise DisclosureError(f"table {table.name}: a margin of {dim} lacks some parts")
            equations.append(margin(int(cell), [int(p) for p in parts]))  # type: ignore[arg-type]
    return equations


def _label(key: frozenset[tuple[str, str]]) -> str:
    return ", ".join(f"{d}={v}" for d, v in sorted(key)) or "all persons"
