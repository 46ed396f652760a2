"""Secondary suppression over linear relations, proved by linear programming.

A set of published tables is a vector of cells tied by equations (a margin equals the sum of
its parts, along every hierarchy, across every table that shares the cell). Suppressing a small
cell is not enough when the equations let an intruder recompute it; this module finds further
cells to suppress until, for every sensitive cell, the interval of values consistent with
everything published (the LP minimum and maximum, cells ≥ 0) is at least its required width.
"""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
from scipy.optimize import linprog
from scipy.sparse import csr_matrix

from kotoeval.errors import DisclosureError

Floats = npt.NDArray[np.float64]
Bools = npt.NDArray[np.bool_]


@dataclass(frozen=True)
class Equation:
    """``Σ coefficient × cell = 0``."""

    cells: tuple[int, ...]
    coefficients: tuple[float, ...]


def margin(total: int, parts: Sequence[int]) -> Equation:
    """``total = Σ parts``."""
    return Equation((total, *parts), (1.0, *([-1.0] * len(parts))))


@dataclass(frozen=True)
class Protection:
    """The cells to hide and the intervals that prove them safe."""

    hidden: Bools
    """Cells not published: sensitive, secondary and cells never published at all."""
    secondary: Bools
    low: Floats
    """Smallest value of each sensitive cell consistent with the published cells (else NaN)."""
    high: Floats


def feasible_interval(
    values: Floats, equations: Sequence[Equation], hidden: Bools, cell: int, integer: bool
) -> tuple[float, float]:
    """Min and max of ``cell`` over all non-negative fillings of the hidden cells."""
    unknown = np.flatnonzero(hidden)
    if not hidden[cell]:
        return float(values[cell]), float(values[cell])
    column = np.full(len(values), -1)
    column[unknown] = np.arange(len(unknown))
    rows: list[int] = []
    cols: list[int] = []
    coef: list[float] = []
    rhs: list[float] = []
    for eq in equations:
        idx = np.asarray(eq.cells)
        c = np.asarray(eq.coefficients)
        mask = hidden[idx]
        if not mask.any():
            continue
        r = len(rhs)
        rows.extend([r] * int(mask.sum()))
        cols.extend(column[idx[mask]].tolist())
        coef.extend(c[mask].tolist())
        rhs.append(-float(np.dot(c[~mask], values[idx[~mask]])))
    a_eq = csr_matrix((coef, (rows, cols)), shape=(len(rhs), len(unknown))) if rhs else None
    objective = np.zeros(len(unknown))
    objective[column[cell]] = 1.0
    bounds = []
    for sign in (1.0, -1.0):
        result = linprog(
            sign * objective, A_eq=a_eq, b_eq=np.asarray(rhs) if rhs else None,
            bounds=(0, None), method="highs",
        )  # fmt: skip
        if result.status == 3:  # unbounded: no maximum (cells ≥ 0 always have a minimum)
            bounds.append(-sign * np.inf)
        elif result.status != 0:
            raise DisclosureError(
                f"the disclosure audit could not solve its linear programme ({result.message}); "
                "the published tables are inconsistent with their margins"
            )
        else:
            bounds.append(sign * result.fun)
    low, high = bounds[0] + 0.0, bounds[1] + 0.0  # no negative zero
    if integer:
        low, high = np.ceil(low - 1e-9) + 0.0, np.floor(high + 1e-9) + 0.0
    return float(low), float(high)


def protect(
    values: Floats,
    equations: Sequence[Equation],
    sensitive: Bools,
    required: Floats,
    unpublished: Bools | None = None,
    integer: bool = True,
) -> Protection:
    """Hide sensitive cells and as few others as it takes, proved by LP intervals.

    Greedy: while a sensitive cell's interval is narrower than ``required``, hide the smallest
    published cell that shares an equation with it (or with the hidden cells it is tied to),
    then audit again. Every sensitive cell ends with ``high − low ≥ required``; if even hiding
    everything cannot achieve that, a :class:`DisclosureError` says so.
    """
    values = np.asarray(values, dtype=np.float64)
    n = len(values)
    never = np.zeros(n, dtype=bool) if unpublished is None else np.asarray(unpublished)
    hidden = sensitive | never
    secondary = np.zeros(n, dtype=bool)
    touching: list[list[int]] = [[] for _ in range(n)]
    for k, eq in enumerate(equations):
        for c in eq.cells:
            touching[c].append(k)
    low, high = np.full(n, np.nan), np.full(n, np.nan)
    todo = [int(c) for c in np.flatnonzero(sensitive)]
    while todo:
        cell = todo[0]
        lo, hi = feasible_interval(values, equations, hidden, cell, integer)
        low[cell], high[cell] = lo, hi
        if hi - lo >= required[cell]:
            todo.pop(0)
            continue
        extra = _next_to_hide(cell, values, equations, touching, hidden)
        if extra is None:
            raise DisclosureError(
                "a sensitive cell cannot be protected even with every related cell suppressed; "
                "publish fewer margins or coarser categories"
            )
        hidden[extra] = secondary[extra] = True
    # Hiding more only widens intervals: report each sensitive cell's final one.
    for cell in (int(c) for c in np.flatnonzero(sensitive)):
        low[cell], high[cell] = feasible_interval(values, equations, hidden, cell, integer)
    return Protection(hidden, secondary, low, high)


def _next_to_hide(
    cell: int,
    values: Floats,
    equations: Sequence[Equation],
    touching: list[list[int]],
    hidden: Bools,
) -> int | None:
    """The published cell to hide next so that ``cell`` can no longer be recomputed.

    Walks out from ``cell`` through hidden cells, equation by equation. The candidates are the
    published cells of the nearest equation holding a single hidden cell (such an equation gives
    that cell away); if there is none, those of the equations next to ``cell``.
    """
    reached, frontier, seen_eq = {cell}, [cell], set()
    fallback: set[int] = set()
    while frontier:
        exposing: set[int] = set()
        nxt: list[int] = []
        for c in frontier:
            for k in touching[c]:
                if k in seen_eq:
                    continue
                seen_eq.add(k)
                cells = equations[k].cells
                published = {o for o in cells if not hidden[o]}
                if len(cells) - len(published) == 1:
                    exposing |= published
                if not fallback or c == cell:
                    fallback |= published
                for other in cells:
                    if hidden[other] and other not in reached:
                        reached.add(other)
                        nxt.append(other)
        if exposing:
            return _cheapest(exposing, values, touching)
        frontier = nxt
    return _cheapest(fallback, values, touching) if fallback else None


def _cheapest(candidates: set[int], values: Floats, touching: list[list[int]]) -> int:
    """The candidate whose hiding loses least.

    Smallest positive value first, then the cell in the fewest equations (an inner cell rather
    than a margin), then the lowest index.
    """
    return min(candidates, key=lambda c: (values[c] <= 0, values[c], len(touching[c]), c))
