"""Magnitude cells (sums and means of euros): threshold, (n, k)-dominance and the p % rule.

A cell is described by the contributions of its persons. Only a few order statistics are
needed, so the secure zone keeps :class:`Contributions` beside each aggregate and the rules
decide from them alone.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kotoeval.disclose.rules import RuleSet

TOP = 3
"""Largest contributions kept per cell: enough for dominance with n ≤ 3 and the p % rule."""


@dataclass(frozen=True)
class Contributions:
    """What the rules need to know of a cell's contributions (absolute values)."""

    persons: int
    total: float
    top: tuple[float, ...]
    """The largest contributions, largest first (at most :data:`TOP`)."""

    @classmethod
    def of(cls, values: npt.ArrayLike) -> Contributions:
        """From the persons' values (NaN ignored)."""
        v = np.abs(np.asarray(values, dtype=np.float64))
        v = v[~np.isnan(v)]
        k = min(TOP, len(v))
        top = np.sort(np.partition(v, len(v) - k)[len(v) - k :])[::-1] if k else v
        return cls(int(len(v)), float(v.sum()), tuple(float(x) for x in top))


def sensitive(cell: Contributions, rules: RuleSet) -> str | None:
    """The rule a magnitude cell breaks, or None when it may be published."""
    if cell.persons < rules.threshold:
        return f"threshold {rules.threshold}: {cell.persons} persons"
    if cell.total <= 0:
        return None  # all zero: nothing about anyone's amount stands out
    if rules.dominance is not None:
        n, k = rules.dominance
        if n > TOP:
            raise ValueError(f"dominance over more than {TOP} contributors is not kept")
        share = 100 * sum(cell.top[:n]) / cell.total
        if share > k:
            return f"dominance ({n}, {k:g}): the largest {n} make up {share:.0f} %"
    if rules.p_percent is not None and len(cell.top) >= 1:
        second = cell.top[1] if len(cell.top) > 1 else 0.0
        rest = cell.total - cell.top[0] - second
        if rest < rules.p_percent / 100 * cell.top[0]:
            return f"p % rule (p = {rules.p_percent:g}): the others hide the largest by too little"
    return None
