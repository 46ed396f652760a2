"""Event study: the effect in each month relative to entry, with person fixed effects.

``y ~ i(month, treated, ref=-1) | person + month`` on the person × relative-month panel of the
compared rows, weighted by the matching (and censoring) weights, with standard errors
clustered by matched set (pyfixest, CRV1). The coefficient of month k is the difference between
clients and comparisons in month k relative to that difference in the month before entry.
Phase summaries average the coefficients of a phase, with the variance of the average taken
from the full covariance matrix.
"""

from __future__ import annotations

import logging
from collections.abc import Callable, Iterator, Mapping
from contextlib import contextmanager

import numpy as np
import numpy.typing as npt
import pandas as pd
from scipy import stats

Floats = npt.NDArray[np.float64]
REFERENCE_MONTH = -1


@contextmanager
def _root_logger_kept() -> Iterator[None]:
    """Undo pyfixest's root-logger setup.

    One of its modules, imported on first use, calls ``logging.basicConfig(level=INFO)``, which
    would print every INFO record of every library to the terminal; kotoeval decides itself
    what it prints.
    """
    root = logging.getLogger()
    handlers, level = list(root.handlers), root.level
    try:
        yield
    finally:
        root.handlers[:] = handlers
        root.setLevel(level)


def _fit(
    y: Floats,
    months: npt.NDArray[np.int64],
    treated: npt.NDArray[np.bool_],
    weights: Floats,
    cluster: npt.NDArray[np.int64],
) -> tuple[dict[int, int], pd.DataFrame]:
    n, width = y.shape
    frame = pd.DataFrame(
        {
            "y": y.ravel(),
            "unit": np.repeat(np.arange(n), width),
            "month": np.tile(months, n),
            "treat": np.repeat(treated.astype(np.int64), width),
            "w": weights.ravel(),
            "cluster": np.repeat(cluster, width),
        }
    )
    frame = frame[(frame["w"] > 0) & frame["y"].notna()]
    with _root_logger_kept():
        import pyfixest as pf

        fit = pf.feols(
            f"y ~ i(month, treat, ref={REFERENCE_MONTH}) | unit + month",
            data=frame, weights="w", vcov={"CRV1": "cluster"},
        )  # fmt: skip
    coef = fit.coef()
    names = list(coef.index)
    # Coefficients are named "month::<k>:treat".
    index = {int(name.split("::")[1].split(":")[0]): i for i, name in enumerate(names)}
    # pyfixest has no public accessor for the whole covariance matrix (only for its diagonal).
    vcov = np.asarray(fit._vcov)
    return index, pd.DataFrame(vcov, index=names, columns=names).assign(coef=coef.to_numpy())


def event_study(
    panel: Mapping[str, Floats],
    months: npt.NDArray[np.int64],
    treated: npt.NDArray[np.bool_],
    weights: Floats,
    cluster: npt.NDArray[np.int64],
    phases: Mapping[str, tuple[int, int]],
    weights_until: Callable[[int], Floats | None] = lambda _k: None,
    variables: tuple[str, ...] = ("earnings", "employed", "unemployment_benefit_eur"),
    level: float = 0.95,
) -> tuple[pd.DataFrame, pd.DataFrame]:
    """Monthly estimates and phase summaries of each variable.

    ``weights_until(k)`` gives the comparison rows' censoring weights for month k (None: no
    censoring); clients keep their weight in every month.
    """
    z = float(stats.norm.ppf(0.5 + level / 2))
    w = np.repeat(weights[:, None], len(months), axis=1)
    for j, month in enumerate(months):
        cw = weights_until(int(month))
        if cw is not None:
            w[:, j] = np.where(treated, w[:, j], w[:, j] * cw)
    monthly, summary = [], []
    for var in variables:
        index, table = _fit(np.asarray(panel[var], np.float64), months, treated, w, cluster)
        coef = table["coef"].to_numpy()
        vcov = table.drop(columns="coef").to_numpy()
        for month in months:
            if int(month) == REFERENCE_MONTH:
                monthly.append((var, int(month), 0.0, 0.0, 0.0, 0.0, float("nan")))
                continue
            i = index.get(int(month))
            if i is None:
                continue
            se = float(np.sqrt(vcov[i, i]))
            p = float(2 * stats.norm.sf(abs(coef[i] / se))) if se > 0 else float("nan")
            monthly.append((var, int(month), coef[i], se, coef[i] - z * se, coef[i] + z * se, p))
        for phase, (lo, hi) in phases.items():
            picked = [index[m] for m in range(lo, hi + 1) if m in index]
            if not picked:
                continue
            a = np.zeros(len(coef))
            a[picked] = 1 / len(picked)
            est, se = float(a @ coef), float(np.sqrt(a @ vcov @ a))
            p = float(2 * stats.norm.sf(abs(est / se))) if se > 0 else float("nan")
            summary.append((var, phase, lo, hi, est, se, est - z * se, est + z * se, p))
    columns = ["estimate", "se", "ci_low", "ci_high", "p_value"]
    return (
        pd.DataFrame(monthly, columns=["variable", "month", *columns]),
        pd.DataFrame(summary, columns=["variable", "phase", "first_month", "last_month", *columns]),
    )
