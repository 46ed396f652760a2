"""Checks of estimates: effects, trajectories, subgroups, balance, regressions, flows.

Each aggregate row carries ``sdc_*`` facts (see ``kotoeval.study.facts``): distinct persons on
each side, persons with a positive value and the largest contributions. A row is suppressed
when it rests on fewer persons than the threshold, when a share reveals a small count (a binary
mean whose yes or no count is small), or when a mean of euros fails dominance or the p % rule.
Rows that partition a published whole (subgroup levels, categories of a covariate) get
secondary suppression so that the whole minus the others does not give a hidden row back.
"""

from __future__ import annotations

import re
from collections.abc import Mapping, Sequence
from typing import Any

import numpy as np
import pandas as pd

from kotoeval.disclose.audit import margin, protect
from kotoeval.disclose.counts import Decision
from kotoeval.disclose.magnitude import TOP, Contributions, sensitive
from kotoeval.disclose.rules import RuleSet
from kotoeval.errors import DisclosureError

SUPPRESSION = "suppression"
_EXTREMES = re.compile(r"(^|_)(min|max|minimum|maximum)($|_)")
_NOT_EXTREMES = frozenset({"ecdf_max"})
"""Named like extremes but not a person's value (the largest gap between two eCDFs)."""


def strip_facts(table: pd.DataFrame) -> pd.DataFrame:
    """The table without its ``sdc_*`` facts (they never leave the secure zone)."""
    return table.drop(columns=[c for c in table.columns if c.startswith("sdc_")])


def refuse_extremes(name: str, table: pd.DataFrame) -> None:
    """Minima and maxima are single persons' values: never released."""
    bad = [c for c in table.columns if _EXTREMES.search(c) and c not in _NOT_EXTREMES]
    if bad:
        raise DisclosureError(
            f"table {name}: columns {', '.join(bad)} hold minima or maxima, which are single "
            "persons' values; drop them before release"
        )


def row_reasons(table: pd.DataFrame, rules: RuleSet) -> list[str]:
    """Why each row must be suppressed ('' when it may be published)."""
    t = rules.threshold
    reasons = []
    for row in table.to_dict("records"):
        why = []
        for side in ("treated", "comparison"):
            persons = int(row[f"sdc_{side}_persons"])
            positive = int(row[f"sdc_{side}_positive"])
            if persons < t:
                why.append(f"{side}: {persons} < {t} persons")
                continue
            if row["sdc_binary"]:
                small = [n for n in (positive, persons - positive) if 0 < n < t]
                if small:
                    why.append(f"{side}: a share reveals {small[0]} < {t} persons")
                continue
            top = tuple(float(row[f"sdc_{side}_top{i + 1}"]) for i in range(TOP))
            cell = Contributions(persons, float(row[f"sdc_{side}_total"]), top)
            if (broken := sensitive(cell, rules)) is not None:
                why.append(f"{side}: {broken}")
        reasons.append("; ".join(why))
    return reasons


def suppress_rows(
    name: str,
    table: pd.DataFrame,
    reasons: Sequence[str],
    keys: Sequence[str],
    keep: Sequence[str] = (),
    kind: str = "primary",
) -> tuple[pd.DataFrame, list[Decision]]:
    """Blank every value of the rows with a reason (all but ``keys`` and ``keep``)."""
    out = table.copy()
    hide = np.asarray([bool(r) for r in reasons])
    values = [c for c in out.columns if c not in (*keys, *keep, SUPPRESSION)]
    for c in values:
        if pd.api.types.is_bool_dtype(out[c]) or pd.api.types.is_integer_dtype(out[c]):
            out[c] = out[c].astype("object")
        out.loc[hide, c] = None
    previous = out[SUPPRESSION] if SUPPRESSION in out else pd.Series("", index=out.index)
    out[SUPPRESSION] = np.where(hide & (previous == ""), kind, previous)
    decisions = [
        Decision(name, _cell(row, keys), reason, kind, "row suppressed")
        for row, reason, h in zip(out.to_dict("records"), reasons, hide, strict=True)
        if h and reason
    ]
    return out, decisions


def partition_secondary(
    table: pd.DataFrame,
    groups: Sequence[str],
    counts: str,
    totals: Mapping[Any, float],
    rules: RuleSet,
    complete: bool,
) -> list[str]:
    """Secondary reasons for rows that would let a hidden sibling be recomputed.

    Rows sharing ``groups`` are parts of a published whole of ``totals[(group values…)]``.
    ``complete``: the rows cover the whole (subgroup levels); otherwise the difference is an
    unpublished part (the reference category of a covariate).
    """
    reasons = [""] * len(table)
    hidden = (table[SUPPRESSION] != "").to_numpy()
    for key, index in table.groupby(list(groups), sort=False).indices.items():
        if not hidden[index].any():
            continue
        parts = table[counts].to_numpy(np.float64)[index]
        whole = float(totals[key if isinstance(key, tuple) else (key,)])
        rest = max(whole - float(parts.sum()), 0.0)
        # cells: 0 the whole, 1 the rest (persons in no listed row), 2… the rows
        values = np.concatenate([[whole, rest], parts])
        unpublished = np.zeros(len(values), bool)
        unpublished[1] = not complete
        sens = np.concatenate(
            [[False, False], hidden[index] & (parts > 0)]
        )  # empty: nothing to hide
        required = np.full(len(values), float(rules.threshold))
        proof = protect(
            values, [margin(0, list(range(1, len(values))))], sens, required, unpublished
        )
        if proof.secondary[0]:  # the whole is too small to hide its parts in: hide them all
            for i in index:
                reasons[i] = "" if hidden[i] else "the whole is too small to protect its parts"
            continue
        for i in np.flatnonzero(proof.secondary[2:]):
            reasons[index[i]] = "would let a hidden row be recomputed from the whole"
    return reasons


def _cell(row: Mapping[str, Any], keys: Sequence[str]) -> str:
    return ", ".join(f"{k}={row[k]}" for k in keys)
