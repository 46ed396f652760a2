"""Figures drawn from released aggregate tables (never from person-level rows).

Every function takes a table a release bundle carries, the texts of one language and a path
(``.png`` or ``.svg``). Suppressed values are simply absent from the picture.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import numpy as np  # noqa: E402
import pandas as pd  # noqa: E402

from kotoeval.i18n import Texts  # noqa: E402

SMD_LIMIT = 0.1
CLIENTS, COMPARISON, EFFECT = "#1f5fa8", "#888888", "#b25d00"
TRAJECTORY_PANELS = ("earnings", "employed", "unemployment_benefit_eur")
plt.rcParams.update({"svg.fonttype": "none", "font.size": 9})  # SVG text stays text


def _save(fig: plt.Figure, out: Path) -> Path:
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out


def love_plot(balance: pd.DataFrame, out: Path, texts: Texts, title: str = "") -> Path:
    """Absolute standardised mean differences before and after matching, one row per term.

    ``balance`` has the columns covariate, smd and sample (``before`` / ``after``).
    """
    wide = balance.pivot_table(index="covariate", columns="sample", values="smd").abs()
    wide = wide.reindex(columns=["before", "after"]).sort_values("before")
    fig, ax = plt.subplots(figsize=(7, max(3.0, 0.22 * len(wide) + 1.2)))
    ax.scatter(wide["before"], range(len(wide)), marker="o", facecolors="none",
               edgecolors=COMPARISON, label=texts("report.column.smd_before"))  # fmt: skip
    ax.scatter(wide["after"], range(len(wide)), marker="o", color=CLIENTS,
               label=texts("report.column.smd_after"))  # fmt: skip
    ax.axvline(SMD_LIMIT, color="#b22222", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(wide)), wide.index, fontsize=7)
    ax.set_xlabel("|SMD|")
    if title:
        ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)
    return _save(fig, out)


def trajectory_plot(
    trajectories: pd.DataFrame, phases: pd.DataFrame, out: Path, texts: Texts
) -> Path:
    """Means of clients and comparisons by month (top) and their difference with CI (bottom)."""
    panels = [v for v in TRAJECTORY_PANELS if (trajectories["variable"] == v).any()]
    fig, axes = plt.subplots(2, len(panels), figsize=(4.2 * len(panels), 5.6), sharex=True,
                             squeeze=False, gridspec_kw={"height_ratios": [3, 2]})  # fmt: skip
    for j, var in enumerate(panels):
        t = trajectories[trajectories["variable"] == var].sort_values("month")
        month = t["month"].to_numpy(np.float64)
        top, bottom = axes[0, j], axes[1, j]
        spans = phases[phases["variable"] == var]
        for k, row in enumerate(spans.drop_duplicates("phase").itertuples()):
            for ax in (top, bottom):
                ax.axvspan(row.first_month - 0.5, row.last_month + 0.5,
                           color="#000000", alpha=0.04 + 0.04 * (k % 2), linewidth=0)  # fmt: skip
        top.plot(
            month, _num(t["treated_mean"]), color=CLIENTS, label=texts("report.series.clients")
        )
        top.plot(month, _num(t["comparison_mean"]), color=COMPARISON,
                 label=texts("report.series.comparison"))  # fmt: skip
        top.set_title(texts(f"report.variable.{var}"))
        bottom.fill_between(month, _num(t["ci_low"]), _num(t["ci_high"]), color=EFFECT, alpha=0.25,
                            linewidth=0)  # fmt: skip
        bottom.plot(month, _num(t["att"]), color=EFFECT, label=texts("report.series.difference"))
        bottom.axhline(0, color="#444444", linewidth=0.8)
        bottom.set_xlabel(texts("report.series.month"))
        if j == 0:
            top.legend(frameon=False, fontsize=8)
            bottom.legend(frameon=False, fontsize=8)
    return _save(fig, out)


def forest_plot(subgroups: pd.DataFrame, outcome: str, out: Path, texts: Texts) -> Path:
    """Effect and CI in each subgroup level of one outcome."""
    s = subgroups[subgroups["outcome"] == outcome].reset_index(drop=True)
    labels = [
        f"{texts.get(f'report.subgroup.{v}', v)}: {texts.get(f'report.subgroup.{lv}', str(lv))}"
        for v, lv in zip(s["variable"], s["level"], strict=True)
    ]
    y = np.arange(len(s))[::-1]
    fig, ax = plt.subplots(figsize=(7, max(2.5, 0.28 * len(s) + 1.2)))
    att, low, high = _num(s["att"]), _num(s["ci_low"]), _num(s["ci_high"])
    ax.hlines(y, low, high, color=CLIENTS, linewidth=1.4)
    ax.plot(att, y, "o", color=CLIENTS)
    ax.axvline(0, color="#444444", linewidth=0.8)
    ax.set_yticks(y, labels, fontsize=7)
    ax.set_title(texts.outcome(outcome))
    return _save(fig, out)


def waterfall(build_up: pd.DataFrame, out: Path, texts: Texts) -> Path:
    """Expected earnings of the reference person built up factor by factor."""
    b = build_up.reset_index(drop=True)
    change = _num(b["change"])
    start = np.concatenate([[0.0], _num(b["expected_earnings"])[:-1]])
    fig, ax = plt.subplots(figsize=(7, 3.6))
    colours = [
        CLIENTS if i == 0 else (EFFECT if c >= 0 else COMPARISON) for i, c in enumerate(change)
    ]
    ax.bar(range(len(b)), change, bottom=start, color=colours)
    ax.set_xticks(range(len(b)), [texts.get(f"report.step.{s}", str(s)) for s in b["step"]],
                  rotation=20, ha="right", fontsize=8)  # fmt: skip
    ax.set_ylabel(texts("report.series.earnings_axis"))
    return _save(fig, out)


def _num(column: pd.Series) -> np.ndarray:
    return pd.to_numeric(column, errors="coerce").to_numpy(np.float64)
