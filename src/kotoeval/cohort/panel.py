"""The person × relative-month panel of the study rows.

Variables are measured as :mod:`kotoeval.outcomes` defines them. Only the rows that the
estimation uses (clients and their comparisons) are measured: the engine aggregates the
registers over each row's months, and the panel comes back as one array per variable
(rows × relative months), NaN where a month lies outside the registers.
"""

from __future__ import annotations

import ibis
import ibis.expr.types as ir
import numpy as np
import numpy.typing as npt
import pandas as pd

from kotoeval.cohort.build import Tables, end_month_of, month_of
from kotoeval.registers.codes import (
    EXPERT_ISCO_MAJOR_GROUPS,
    UNEMPLOYMENT_BENEFITS,
    VOCATIONAL_PROGRAMMES,
)

Floats = npt.NDArray[np.float64]


def data_months(wh_table: Tables) -> tuple[int, int]:
    """First and last month of the monthly registers (the span of earnings)."""
    e = wh_table("earnings")
    span = e.aggregate(first=month_of(e.month).min(), last=month_of(e.month).max()).execute()
    return int(span["first"].iloc[0]), int(span["last"].iloc[0])


def panel(
    wh_table: Tables,
    rows: pd.DataFrame,
    first: int,
    last: int,
    observed: tuple[int, int],
    end_m: npt.NDArray[np.float64] | None = None,
) -> dict[str, Floats]:
    """Panel of ``rows`` (columns ``pid`` and ``m``) over relative months ``first…last``.

    ``observed`` is the span of months the registers cover; ``end_m`` the month participation
    ended for clients (NaN otherwise), for the in-programme status.
    """
    n, width = len(rows), last - first + 1
    keys = ibis.memtable(
        pd.DataFrame({"row": np.arange(n), "pid": rows["pid"].to_numpy(), "m": rows["m"]})
    )
    people = keys.select("pid").distinct()

    def window(monthly: ir.Table, **values: ir.Value) -> pd.DataFrame:
        j = keys.join(
            monthly,
            [keys.pid == monthly.pid, monthly.mm >= keys.m + first, monthly.mm <= keys.m + last],
        )
        return j.select(row=j.row, rel=j.mm - j.m, **{k: j[k] for k in values}).to_pandas()

    e = wh_table("earnings").semi_join(people, "pid")
    e = e.mutate(mm=month_of(e.month))
    em = e.group_by(["pid", "mm"]).aggregate(
        earnings=e.wages_eur.sum(),
        occupation=e.occupation.argmax(e.wages_eur),
    )
    em = em.mutate(
        expert_employed=(
            (em.earnings > 0) & em.occupation.substr(0, 1).isin(EXPERT_ISCO_MAJOR_GROUPS)
        )
        .fill_null(False)
        .cast("int64")
    )
    b = wh_table("benefits").semi_join(people, "pid")
    b = b.filter(b.benefit.isin(UNEMPLOYMENT_BENEFITS)).mutate(mm=month_of(b.month))
    bm = b.group_by(["pid", "mm"]).aggregate(unemployment_benefit_eur=b.amount_eur.sum())

    out = {name: np.zeros((n, width)) for name in _VARIABLES}
    for frame in (
        window(em, earnings=1, expert_employed=1),
        window(bm, unemployment_benefit_eur=1),
    ):
        r, c = frame["row"].to_numpy(), frame["rel"].to_numpy() - first
        for name in frame.columns[2:]:
            out[name][r, c] = frame[name].to_numpy(np.float64)
    out["employed"] = (out["earnings"] > 0).astype(np.float64)
    out["unemployment_benefit"] = (out["unemployment_benefit_eur"] > 0).astype(np.float64)

    ed = wh_table("education").semi_join(people, "pid")
    ed = ed.select(
        "pid", vocational=ed.programme.isin(VOCATIONAL_PROGRAMMES), outcome=ed.outcome,
        s_m=month_of(ed.start_date), e_m=end_month_of(ed.end_date),
    ).to_pandas()  # fmt: skip
    _education(out, rows, ed, first, width)

    months = rows["m"].to_numpy()[:, None] + np.arange(first, last + 1)[None, :]
    if end_m is not None:
        rel_end = np.asarray(end_m, np.float64)[:, None] - rows["m"].to_numpy()[:, None]
        rel = np.arange(first, last + 1)[None, :]
        out["in_programme"] = ((rel >= 0) & (rel <= rel_end)).astype(np.float64)
    outside = (months < observed[0]) | (months > observed[1])
    for name in out:
        out[name][outside] = np.nan
    return out


_VARIABLES = (
    "earnings", "expert_employed", "unemployment_benefit_eur", "vocational_started",
    "vocational_completed", "vocational_dropped", "in_education", "in_programme",
)  # fmt: skip


def _education(
    out: dict[str, Floats], rows: pd.DataFrame, ed: pd.DataFrame, first: int, width: int
) -> None:
    """Vocational start, completion and dropout events, and months with a study right."""
    position: dict[str, list[int]] = {pid: [] for pid in rows["pid"]}
    for i, pid in enumerate(rows["pid"]):
        position[pid].append(i)
    m0 = rows["m"].to_numpy()
    for rec in ed.itertuples(index=False):
        for i in position.get(rec.pid, ()):
            lo, hi = rec.s_m - m0[i] - first, rec.e_m - m0[i] - first
            if hi >= 0 and lo < width:
                out["in_education"][i, max(lo, 0) : min(hi, width - 1) + 1] = 1.0
            if not rec.vocational:
                continue
            if 0 <= lo < width:
                out["vocational_started"][i, lo] = 1.0
            if 0 <= hi < width and rec.outcome in ("completed", "dropped_out"):
                name = (
                    "vocational_completed" if rec.outcome == "completed" else "vocational_dropped"
                )
                out[name][i, hi] = 1.0
