"""Disclosure control of a study's results folder: every table and the run summary."""

from __future__ import annotations

from collections.abc import Mapping
from dataclasses import dataclass
from typing import Any

import numpy as np
import pandas as pd

from kotoeval.disclose.audit import margin, protect
from kotoeval.disclose.counts import Decision
from kotoeval.disclose.outputs import (
    SUPPRESSION,
    partition_secondary,
    refuse_extremes,
    row_reasons,
    strip_facts,
    suppress_rows,
)
from kotoeval.disclose.rules import RuleSet
from kotoeval.errors import DisclosureError

REQUIRED = (
    "effects", "balance", "trajectories", "event_study", "phases", "subgroups",
    "income_coefficients", "income_build_up", "education_premia",
)  # fmt: skip


@dataclass(frozen=True)
class Checked:
    """Tables and summary fit for release, and every decision taken on the way."""

    tables: dict[str, pd.DataFrame]
    summary: dict[str, Any]
    decisions: list[Decision]


def check_results(
    tables: Mapping[str, pd.DataFrame], summary: Mapping[str, Any], rules: RuleSet
) -> Checked:
    """Apply ``rules`` to every table of a study's results and to its summary."""
    missing = [name for name in REQUIRED if name not in tables]
    if missing:
        raise DisclosureError(
            f"the results lack tables {', '.join(missing)}; run the study again to write them"
        )
    for name, table in tables.items():
        refuse_extremes(name, table)
    decisions: list[Decision] = []
    out: dict[str, pd.DataFrame] = {}

    def rows(
        name: str,
        table: pd.DataFrame,
        keys: list[str],
        reasons: list[str],
        kind: str,
        keep: tuple[str, ...] = (),
    ) -> pd.DataFrame:
        checked, made = suppress_rows(name, table, reasons, keys, keep, kind=kind)
        decisions.extend(made)
        return checked

    effects = tables["effects"]
    out["effects"] = rows("effects", effects, ["outcome"], row_reasons(effects, rules), "primary")

    traj = tables["trajectories"]
    out["trajectories"] = rows(
        "trajectories", traj, ["variable", "month"], row_reasons(traj, rules), "primary"
    )
    hidden = out["trajectories"].loc[out["trajectories"][SUPPRESSION] != "", ["variable", "month"]]
    hidden_points = set(map(tuple, hidden.to_numpy().tolist()))
    study = tables["event_study"]
    out["event_study"] = rows(
        "event_study", study, ["variable", "month"],
        ["its trajectory point is suppressed" if (v, m) in hidden_points else ""
         for v, m in zip(study["variable"], study["month"], strict=True)],
        "secondary",
    )  # fmt: skip
    phases = tables["phases"]
    out["phases"] = rows(
        "phases", phases, ["variable", "phase"],
        ["a month of the phase is suppressed"
         if any((v, m) in hidden_points for m in range(int(a), int(b) + 1)) else ""
         for v, a, b in zip(phases["variable"], phases["first_month"], phases["last_month"],
                            strict=True)],
        "secondary", keep=("first_month", "last_month"),
    )  # fmt: skip

    # Levels of a subgroup variable add up to the study's clients of that outcome.
    everyone = effects.set_index("outcome")["sdc_treated_persons"]
    sub = tables["subgroups"].assign(_all=lambda s: s["outcome"].map(everyone))
    out["subgroups"] = _partitioned(
        "subgroups", sub, ["variable", "level", "outcome"], ["variable", "outcome"],
        [("sdc_treated_persons", "_all")], rules, complete=True, decisions=decisions,
    ).drop(columns="_all")  # fmt: skip
    balance = tables["balance"].assign(
        variable=lambda b: b["covariate"].str.split("=").str[0],
        _categorical=lambda b: b["covariate"].str.contains("=", regex=False),
    )
    # Categories of a covariate add up to everyone with the reference category left out.
    out["balance"] = _partitioned(
        "balance", balance, ["covariate", "sample"], ["sample", "variable"],
        [(f"sdc_{side}_positive", f"sdc_{side}_persons") for side in ("treated", "comparison")],
        rules, complete=False, decisions=decisions, only=balance["_categorical"].to_numpy(),
    ).drop(columns=["variable", "_categorical"])  # fmt: skip

    coefficients, premia, build_up = _regression(
        tables["income_coefficients"], tables["education_premia"], tables["income_build_up"],
        rules, decisions,
    )  # fmt: skip
    out |= {"income_coefficients": coefficients, "education_premia": premia,
            "income_build_up": build_up}  # fmt: skip
    for name in tables:
        if name not in out:
            raise DisclosureError(f"no disclosure check is known for table {name!r}")
    released = {name: strip_facts(table) for name, table in out.items()}
    return Checked(released, _summary(summary, released["effects"], rules, decisions), decisions)


def _partitioned(
    name: str,
    table: pd.DataFrame,
    keys: list[str],
    groups: list[str],
    sides: list[tuple[str, str]],
    rules: RuleSet,
    complete: bool,
    decisions: list[Decision],
    only: np.ndarray | None = None,
) -> pd.DataFrame:
    """Primary suppression, then secondary within each group of rows that are parts of a whole.

    ``sides`` pairs a column of the parts' counts with the column whose group maximum is the
    whole (for subgroups: treated persons of each level and of the study; for a categorical
    covariate: persons with each category and all persons). ``only`` marks the partitioned rows.
    """
    reasons = row_reasons(table, rules)
    checked, made = suppress_rows(name, table, reasons, keys)
    decisions.extend(made)
    marked = table.assign(**{SUPPRESSION: checked[SUPPRESSION]})
    index = np.flatnonzero(np.ones(len(table), bool) if only is None else only)
    part = marked.iloc[index].reset_index(drop=True)
    secondary = [""] * len(table)
    for counts, whole in sides:
        maxima = part.groupby(groups, sort=False)[whole].max().astype(float)
        totals = {k if isinstance(k, tuple) else (k,): v for k, v in maxima.items()}
        found = partition_secondary(part, groups, counts, totals, rules, complete)
        for i, reason in enumerate(found):
            if reason:
                secondary[index[i]] = reason
    checked, made = suppress_rows(name, checked, secondary, keys, kind="secondary")
    decisions.extend(made)
    return checked


def _regression(
    coefficients: pd.DataFrame,
    premia: pd.DataFrame,
    build_up: pd.DataFrame,
    rules: RuleSet,
    decisions: list[Decision],
) -> tuple[pd.DataFrame, pd.DataFrame, pd.DataFrame]:
    """Coefficients need residual df and enough persons on both sides of each term."""
    t = rules.threshold
    everyone = int(coefficients["persons"].max())
    reasons = []
    for term, persons, df in zip(
        coefficients["term"], coefficients["persons"], coefficients["residual_df"], strict=True
    ):
        if df < rules.min_residual_df:
            reasons.append(f"{df} residual degrees of freedom < {rules.min_residual_df}")
        elif term != "intercept" and (persons < t or 0 < everyone - persons < t):
            reasons.append(f"the term rests on fewer than {t} persons")
        else:
            reasons.append("")
    coef, made = suppress_rows("income_coefficients", coefficients, reasons, ["term"],
                               keep=["persons", "residual_df"])  # fmt: skip
    decisions.extend(made)
    hidden = set(coef.loc[coef[SUPPRESSION] != "", "term"])
    names = {"graduation": "completed", "dropout": "dropped"}
    pre, made = suppress_rows(
        "education_premia", premia,
        ["its coefficient is suppressed" if names.get(t_, t_) in hidden else ""
         for t_ in premia["term"]],
        ["term"], kind="secondary",
    )  # fmt: skip
    decisions.extend(made)
    step_hidden = [bool(set(str(terms).split("|")) & hidden) for terms in build_up["terms"]]
    from_here = np.maximum.accumulate(np.asarray(step_hidden, bool))
    build, made = suppress_rows(
        "income_build_up", build_up,
        ["rests on a suppressed coefficient" if h else "" for h in from_here],
        ["step"], keep=["terms"], kind="secondary",
    )  # fmt: skip
    decisions.extend(made)
    return coef, pre, build


FLOW_TIES = (
    ("clients_in_window", ("clients_meeting_rules", "clients_excluded")),
    ("clients_meeting_rules", ("treated",)),  # the same persons, counted twice
    ("treated", ("treated_outside_support", "treated_unmatched", "treated_compared")),
    ("comparison_rows", ("comparison_rows_outside_support", "comparison_rows_used",
                         "comparison_rows_unused")),
)  # fmt: skip
"""Counts of the flow that add up (unpublished parts are derived, and protected too)."""


def _summary(
    summary: Mapping[str, Any], effects: pd.DataFrame, rules: RuleSet, decisions: list[Decision]
) -> dict[str, Any]:
    """The run summary with the flow of persons protected and headlines from checked effects."""
    flow = dict(summary.get("flow", {}))
    names = list(flow)
    derived = {}
    for whole, parts in FLOW_TIES:
        unknown = [p for p in parts if p not in flow]
        if whole in flow and len(unknown) == 1:  # the one part the flow leaves out
            derived[unknown[0]] = flow[whole] - sum(flow[p] for p in parts if p in flow)
    cells = names + list(derived)
    value = np.asarray([flow.get(c, derived.get(c)) for c in cells], np.float64)
    position = {c: i for i, c in enumerate(cells)}
    equations = [
        margin(position[w], [position[p] for p in parts])
        for w, parts in FLOW_TIES
        if w in position and all(p in position for p in parts)
    ]
    small = (value > 0) & (value < rules.threshold)
    unpublished = np.asarray([c in derived for c in cells])
    proof = protect(
        value, equations, small, np.full(len(cells), float(rules.threshold)), unpublished
    )
    released = {}
    for c in names:
        i = position[c]
        released[c] = None if proof.hidden[i] else int(value[i])
        if proof.hidden[i]:
            kind = "primary" if small[i] else "secondary"
            decisions.append(Decision("flow", c, f"threshold {rules.threshold}", kind,
                                      "count of persons or rows hidden"))  # fmt: skip
    for c in derived:
        if small[position[c]]:
            decisions.append(Decision("flow", c, f"threshold {rules.threshold}", "primary",
                                      "derived count protected by hiding its margins"))  # fmt: skip
    headline = {
        o: effects.loc[effects["outcome"] == o].iloc[0].to_dict()
        for o in summary.get("headline", {})
        if (effects["outcome"] == o).any()
    }
    return {**summary, "flow": released, "headline": headline, "rules": rules.describe()}
