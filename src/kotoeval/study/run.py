"""Run a study: cohort → design (without outcomes) → panel of the compared rows → effects.

The results folder holds tables (CSV and Parquet) of person-level *aggregates* only, the
validated spec and a run summary. They stay in the secure zone until disclosure control
releases them (``kotoeval release``).
"""

from __future__ import annotations

import dataclasses
import json
import logging
import time
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pandas as pd

from kotoeval import __version__
from kotoeval.cohort.build import candidates
from kotoeval.cohort.panel import data_months, panel
from kotoeval.estimate.breakdown import TRAJECTORY_VARIABLES, subgroups, trajectories
from kotoeval.estimate.censoring import censoring_weights, entry_hazard, remaining_probability
from kotoeval.estimate.compare import Adjusted, adjust, effects
from kotoeval.estimate.decomposition import Decomposition, income_factors, mediated_share
from kotoeval.estimate.event_study import event_study
from kotoeval.outcomes import OUTCOMES, Outcome, RatioOutcome, evaluate
from kotoeval.outcomes.subgroups import SUBGROUP_VARIABLES
from kotoeval.study.facts import balance_facts, effect_facts, subgroup_facts, trajectory_facts
from kotoeval.study.spec import StudySpec
from kotoeval.warehouse.store import Warehouse, open_warehouse

log = logging.getLogger("kotoeval.study")
Progress = Callable[[str], None]


@dataclass(frozen=True)
class StudyResult:
    """What a run produced: the tables and the summary written to ``folder``."""

    folder: Path
    summary: dict[str, Any]
    effects: pd.DataFrame
    compared_clients: frozenset[str]
    """Pseudonyms of the clients the study compared, for checks against a known truth (the
    synthetic world's); held in memory only, never written."""


def run_study(
    spec: StudySpec,
    warehouse: Path,
    out: Path,
    engine: str = "duckdb",
    progress: Progress | None = None,
) -> StudyResult:
    """Run ``spec`` on the warehouse and write the results folder ``out``."""
    say = progress or (lambda _: None)
    started = time.monotonic()
    wh = open_warehouse(warehouse, engine)  # type: ignore[arg-type]
    try:
        say("cohort: clients and comparison person-months")
        cand = candidates(wh.table, wh.engine, spec.cohort())
        table = cand.rows.to_pandas()
        say(f"design: {spec.matching.method} on {len(table):,} rows")
        adjusted = adjust(table, "treated", spec.covariates, spec.options(), person="pid")
        used = adjusted.used
        sample = _restrict(adjusted, used)
        say(f"panel: {int(used.sum()):,} compared rows")
        first, last = spec.trajectories.first_month, spec.trajectories.last_month
        months = np.arange(first, last + 1)
        observed = data_months(wh.table)
        inputs = _inputs(wh)
        rows = sample.table
        pan = panel(wh.table, rows, first, last, observed, rows["end_m"].to_numpy(np.float64))
    finally:
        wh.close()

    say("effects")
    values = {
        o.id: evaluate(o, pan, months)
        for o in (OUTCOMES[i] for i in spec.outcomes)
        if isinstance(o, Outcome)
    }
    ratios = {}
    for oid in spec.outcomes:
        o = OUTCOMES[oid]
        if isinstance(o, RatioOutcome):
            for part in (o.numerator, o.denominator):
                values.setdefault(part, evaluate(OUTCOMES[part], pan, months))  # type: ignore[arg-type]
            ratios[oid] = (o.numerator, o.denominator)
    weights_until = _censoring(spec, adjusted, sample, last)
    cws = {
        name: w
        for name in values
        if (w := weights_until(OUTCOMES[name].last_month)) is not None  # type: ignore[union-attr]
    }
    eff = effects(sample, values, ratios, comparison_weights=cws or None)
    eff = eff[eff["outcome"].isin(spec.outcomes)].reset_index(drop=True)
    eff = eff.merge(effect_facts(sample, values, ratios, cws or None), on="outcome", how="left")
    traj = trajectories(sample, pan, months, weights_until)
    traj = traj.merge(
        trajectory_facts(sample, pan, months, TRAJECTORY_VARIABLES, weights_until),
        on=["variable", "month"], how="left",
    )  # fmt: skip
    say("event study")
    monthly, ph = event_study(
        pan, months, sample.treated, sample.table["weight"].to_numpy(np.float64),
        sample.table["cluster"].to_numpy(np.int64), spec.trajectories.phases, weights_until,
        level=spec.estimation.level, person=sample.table["person_code"].to_numpy(np.int64),
    )  # fmt: skip
    headline = {name: values[name] for name in spec.headline if name in values}
    for name in spec.headline:  # a ratio outcome needs its parts
        if name in ratios:
            headline.update({part: values[part] for part in ratios[name]})
    headline_ratios = {name: ratios[name] for name in spec.headline if name in ratios}
    variables = [v for v in spec.subgroups.variables if v in SUBGROUP_VARIABLES]
    sub = subgroups(
        sample, headline, headline_ratios, variables, cws or None, spec.subgroups.min_treated
    )
    sub = sub.merge(
        subgroup_facts(sample, headline, headline_ratios, variables, cws or None),
        on=["variable", "level", "outcome"], how="left",
    )  # fmt: skip
    sub = sub[sub["outcome"].isin(spec.headline)].reset_index(drop=True)
    say("income factors")
    income = _income_factors(sample, pan, months, weights_until, spec.estimation.level)

    summary = {
        "study": spec.name,
        "title": spec.title,
        "status": adjusted.status,
        "kotoeval_version": __version__,
        "engine": engine,
        "seconds": round(time.monotonic() - started, 1),
        "inputs": inputs,
        "flow": {**cand.flow, **adjusted.flow},
        "caliper_logit": adjusted.caliper,
        "levels_pooled": dict(adjusted.pooled),
        "imbalanced_covariates": adjusted.balance_after.table.loc[
            ~adjusted.balance_after.table["balanced"], "covariate"
        ].tolist(),
        "headline": {o: eff.loc[eff["outcome"] == o].iloc[0].to_dict() for o in spec.headline},
        "share_of_earnings_effect_through_completion": income.share,
    }
    _write(out, spec, summary, {
        "effects": eff,
        "balance": _balance(adjusted).merge(
            balance_facts(adjusted), on=["covariate", "sample"], how="left"
        ),
        "trajectories": traj,
        "event_study": monthly,
        "phases": ph,
        "subgroups": sub,
        "income_coefficients": income.decomposition.coefficients,
        "income_build_up": income.decomposition.build_up,
        "education_premia": income.decomposition.premia,
    })  # fmt: skip
    log.info("study %s: %s in %.1f s", spec.name, adjusted.status, summary["seconds"])
    compared = sample.table.loc[sample.treated, "pid"]
    return StudyResult(out, summary, eff, frozenset(compared.astype(str)))


@dataclass(frozen=True)
class _Income:
    decomposition: Decomposition
    share: float


def _income_factors(
    sample: Adjusted,
    pan: dict[str, np.ndarray],
    months: np.ndarray,
    weights_until: Callable[[int], np.ndarray | None],
    level: float,
) -> _Income:
    """Earnings in year 3 over the factors, with vocational education ended in years 1–2."""
    first_two_years = {
        name: evaluate(Outcome(name, name, variable, "any", 0, 23, "share"), pan, months)
        for name, variable in (("completed", "vocational_completed"),
                               ("dropped", "vocational_dropped"))
    }  # fmt: skip
    earnings = evaluate(OUTCOMES["earnings_y3"], pan, months)  # type: ignore[arg-type]
    table = sample.table
    factors = pd.DataFrame(
        {
            "completed": first_two_years["completed"],
            "dropped": (first_two_years["dropped"] > 0) & (first_two_years["completed"] == 0),
            "client": sample.treated,
            **{c: table[c] for c in ("age", "female", "years_in_finland", "language_level",
                                     "education_level", "world_region")},
        }
    )  # fmt: skip
    weights = table["weight"].to_numpy(np.float64)
    censoring = weights_until(OUTCOMES["earnings_y3"].last_month)  # type: ignore[union-attr]
    if censoring is not None:
        weights = np.where(sample.treated, weights, weights * censoring)
    cluster = table["cluster"].to_numpy(np.int64)
    decomposition = income_factors(
        earnings, factors, weights, cluster, level, table["pid"].to_numpy()
    )
    on_completion = effects(
        sample, {"completed": first_two_years["completed"]},
        comparison_weights=None if censoring is None else {"completed": weights_until(23)},  # type: ignore[dict-item]
    )["att"].iloc[0]  # fmt: skip
    on_earnings = effects(
        sample, {"earnings": earnings},
        comparison_weights=None if censoring is None else {"earnings": censoring},
    )["att"].iloc[0]  # fmt: skip
    premium = decomposition.premia.set_index("term")["estimate"].get("graduation", float("nan"))
    return _Income(decomposition, mediated_share(on_completion, premium, on_earnings))


def _inputs(wh: Warehouse) -> dict[str, dict[str, str]]:
    """The fingerprint of each register's current load (for the release manifest)."""
    if not wh.has("loads"):
        return {}
    loads = wh.table("loads").select("register", "loaded_at", "fingerprint").to_pandas()
    latest = loads.sort_values("loaded_at").groupby("register").tail(1)
    return {
        row.register: {"fingerprint": row.fingerprint, "loaded_at": row.loaded_at}
        for row in latest.sort_values("register").itertuples()
    }


def _restrict(adjusted: Adjusted, rows: np.ndarray) -> Adjusted:
    """The adjusted design on the rows in the sample only (matched sets renumbered)."""
    index = np.flatnonzero(rows)
    position = np.full(len(rows), -1, np.int64)
    position[index] = np.arange(len(index))
    table = adjusted.table.iloc[index].reset_index(drop=True)
    sub = table["subclass"].to_numpy(np.int64)
    table["subclass"] = np.where(sub >= 0, position[np.maximum(sub, 0)], -1)
    return dataclasses.replace(
        adjusted, table=table, treated=adjusted.treated[index],
        X=adjusted.X.iloc[index].reset_index(drop=True),
    )  # fmt: skip


def _censoring(
    spec: StudySpec, adjusted: Adjusted, sample: Adjusted, horizon: int
) -> Callable[[int], np.ndarray | None]:
    """Censoring weights of the comparison rows by month (None when not censoring)."""
    if not (spec.comparison.censor_later_entry and spec.comparison.pool == "not_yet_treated"):
        return lambda _k: None
    rows = sample.table
    table = adjusted.table
    score = table["score"].to_numpy(np.float64)
    logit = np.log(score / (1 - score))
    hazard = entry_hazard(logit, adjusted.treated, table["m"].to_numpy(np.int64))
    hazards = pd.DataFrame({"pid": table["pid"], "m": table["m"], "score": hazard})
    remaining = remaining_probability(rows, hazards, horizon)
    later = (rows["later_entry_m"] - rows["m"]).to_numpy(np.float64)
    return lambda k: censoring_weights(remaining, later, k)


def _balance(adjusted: Adjusted) -> pd.DataFrame:
    before = adjusted.balance_before.table.assign(sample="before")
    after = adjusted.balance_after.table.assign(sample="after")
    return pd.concat([before, after], ignore_index=True)


def _write(
    out: Path, spec: StudySpec, summary: dict[str, Any], tables: dict[str, pd.DataFrame]
) -> None:
    out.mkdir(parents=True, exist_ok=True)
    for name, table in tables.items():
        table.to_csv(out / f"{name}.csv", index=False)
        table.to_parquet(out / f"{name}.parquet", index=False)
    (out / "spec.json").write_text(spec.model_dump_json(indent=2), encoding="utf-8")
    (out / "summary.json").write_text(
        json.dumps(summary, indent=2, default=_plain), encoding="utf-8"
    )


def _plain(value: Any) -> Any:
    if isinstance(value, np.generic):
        return value.item()
    return str(value)
