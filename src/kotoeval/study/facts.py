"""The facts disclosure control needs, kept beside each aggregate of a results folder.

Output checking decides from counts of distinct persons and the largest contributions to each
mean, which only the person-level rows know. They travel in ``sdc_*`` columns of the results
tables, never leave the secure zone (the release drops them), and are computed here, next to the
estimates they describe.
"""

from __future__ import annotations

import dataclasses
from collections.abc import Callable, Mapping

import numpy as np
import numpy.typing as npt
import pandas as pd

from kotoeval.disclose.magnitude import TOP, Contributions
from kotoeval.estimate.breakdown import subgroup_rows
from kotoeval.estimate.compare import Adjusted, before_weights

Floats = npt.NDArray[np.float64]
GROUPS = ("treated", "comparison")


def fact_columns() -> list[str]:
    """The ``sdc_*`` columns, in order."""
    per_group = ["persons", "positive", "total", *[f"top{i + 1}" for i in range(TOP)]]
    return ["sdc_binary", *[f"sdc_{g}_{c}" for g in GROUPS for c in per_group]]


def facts(
    sample: Adjusted,
    values: Mapping[str, Floats],
    rows: npt.NDArray[np.bool_] | None = None,
    comparison_weights: Mapping[str, Floats] | None = None,
) -> pd.DataFrame:
    """Per named value array: persons, persons with a positive value and top contributions.

    The comparison side counts distinct persons among rows with weight, and takes each
    person's contribution as their weighted sum over rows (a person may serve in several
    matched sets).
    """
    table = sample.table
    # Persons as integer codes: counting them with bincount avoids sorting pseudonym strings,
    # which took most of a study's time when done per value and group.
    person, persons = pd.factorize(table["pid"])
    k = len(persons)
    base = table["weight"].to_numpy(np.float64)
    if rows is not None:
        base = np.where(rows, base, 0.0)
    out = []
    for name, y in values.items():
        y = np.asarray(y, np.float64)
        w = base
        if comparison_weights is not None and name in comparison_weights:
            w = np.where(sample.treated, base, base * comparison_weights[name])
        seen = ~np.isnan(y) & (w > 0)
        record: dict[str, object] = {
            "name": name,
            "sdc_binary": bool(np.isin(y[seen], (0, 1)).all()),
        }
        for group, mask in zip(GROUPS, (sample.treated, ~sample.treated), strict=True):
            use = seen & mask
            present = np.bincount(person[use], minlength=k) > 0
            amounts = np.bincount(person[use], weights=np.abs(y[use]) * w[use], minlength=k)
            c = Contributions.of(amounts[present])
            positive = np.count_nonzero(np.bincount(person[use & (y > 0)], minlength=k))
            record |= {
                f"sdc_{group}_persons": int(present.sum()),
                f"sdc_{group}_positive": positive,
                f"sdc_{group}_total": c.total,
            }
            for i in range(TOP):
                record[f"sdc_{group}_top{i + 1}"] = c.top[i] if i < len(c.top) else 0.0
        out.append(record)
    return pd.DataFrame(out, columns=["name", *fact_columns()])


def effect_facts(
    sample: Adjusted,
    values: Mapping[str, Floats],
    ratios: Mapping[str, tuple[str, str]],
    comparison_weights: Mapping[str, Floats] | None,
    rows: npt.NDArray[np.bool_] | None = None,
) -> pd.DataFrame:
    """Facts per outcome (a ratio outcome has its numerator's), keyed by ``outcome``."""
    named = dict(values)
    for name, (numerator, _) in ratios.items():
        named[name] = values[numerator]
    weights = dict(comparison_weights or {})
    for name, (numerator, _) in ratios.items():
        if numerator in weights:
            weights[name] = weights[numerator]
    return facts(sample, named, rows, weights).rename(columns={"name": "outcome"})


def trajectory_facts(
    sample: Adjusted,
    panel: Mapping[str, Floats],
    months: npt.NDArray[np.int64],
    variables: tuple[str, ...],
    weights_until: Callable[[int], Floats | None],
) -> pd.DataFrame:
    """Facts per variable and month, keyed by ``variable`` and ``month``."""
    frames = []
    for j, month in enumerate(months):
        cw = weights_until(int(month))
        named = {v: panel[v][:, j] for v in variables if v in panel}
        f = facts(sample, named, None, None if cw is None else dict.fromkeys(named, cw))
        frames.append(f.rename(columns={"name": "variable"}).assign(month=int(month)))
    return pd.concat(frames, ignore_index=True)


def subgroup_facts(
    sample: Adjusted,
    values: Mapping[str, Floats],
    ratios: Mapping[str, tuple[str, str]],
    variables: list[str],
    comparison_weights: Mapping[str, Floats] | None,
) -> pd.DataFrame:
    """Facts per subgroup variable, level and outcome."""
    frames = [
        effect_facts(sample, values, ratios, comparison_weights, rows).assign(
            variable=var, level=level
        )
        for var, level, rows in subgroup_rows(sample, variables)
    ]
    return pd.concat(frames, ignore_index=True)


def balance_facts(adjusted: Adjusted) -> pd.DataFrame:
    """Facts per covariate column, before (as the balance table has it) and after adjustment."""
    weights = before_weights(adjusted.treated, adjusted.table["weight"].to_numpy(np.float64))
    unweighted = dataclasses.replace(adjusted, table=adjusted.table.assign(weight=weights))
    columns = {c: adjusted.X[c].to_numpy(np.float64) for c in adjusted.X.columns}
    return pd.concat(
        [facts(unweighted, columns).assign(sample="before"),
         facts(adjusted, columns).assign(sample="after")],
        ignore_index=True,
    ).rename(columns={"name": "covariate"})  # fmt: skip
