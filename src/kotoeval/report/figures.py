"""Figures drawn from aggregate tables (never from person-level rows).

They take the tables a study writes and a release bundle carries, so the report and the
secure-zone results folder draw them the same way.
"""

from __future__ import annotations

from pathlib import Path

import matplotlib

matplotlib.use("Agg")  # files only, no display

import matplotlib.pyplot as plt  # noqa: E402 - after choosing the backend
import pandas as pd  # noqa: E402

SMD_LIMIT = 0.1


def love_plot(balance: pd.DataFrame, out: Path, title: str = "Covariate balance") -> Path:
    """Absolute standardised mean differences before and after matching, one row per term.

    ``balance`` has the columns covariate, smd and sample (``before`` / ``after``).
    """
    wide = balance.pivot_table(index="covariate", columns="sample", values="smd").abs()
    wide = wide.sort_values("before")
    fig, ax = plt.subplots(figsize=(7, max(3.0, 0.22 * len(wide) + 1.2)))
    ax.scatter(wide["before"], range(len(wide)), marker="o", facecolors="none",
               edgecolors="#888888", label="before")  # fmt: skip
    ax.scatter(wide["after"], range(len(wide)), marker="o", color="#1f5fa8", label="after")
    ax.axvline(SMD_LIMIT, color="#b22222", linestyle="--", linewidth=1)
    ax.set_yticks(range(len(wide)), wide.index, fontsize=7)
    ax.set_xlabel("absolute standardised mean difference")
    ax.set_title(title)
    ax.legend(loc="lower right", frameon=False)
    fig.tight_layout()
    fig.savefig(out, dpi=120)
    plt.close(fig)
    return out
