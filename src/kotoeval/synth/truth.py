"""The ground truth: what each programme really did to its clients.

For every client both potential worlds are known, so the true average effect on the treated is
the mean over clients of (outcome with the programme − outcome without it), for every standard
outcome of :mod:`kotoeval.outcomes`, overall, by subgroup and month by month. Beside it the
*naive* difference (clients against every eligible non-client, measured from the month they
first became eligible) shows how biased a comparison without matching is.

A matched study compares the clients it could match, not every client, so each client's own
values in both worlds are kept too (:meth:`Truth.client_table`): :func:`effects_over` gives the
true effect over any set of clients, such as those a study compared.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kotoeval.outcomes import (
    PANEL_FIRST_MONTH,
    PANEL_LAST_MONTH,
    PATH_VARIABLES,
    STANDARD_OUTCOMES,
    evaluate_all,
    group_mean,
    observed,
)
from kotoeval.outcomes.subgroups import (
    AGE_BANDS,
    EDUCATION_BANDS,
    LANGUAGE_BANDS,
    SUBGROUP_VARIABLES,
    band,
)
from kotoeval.registers.codes import PROGRAMMES, VOCATIONAL_PROGRAMMES
from kotoeval.registers.reference import world_region_of
from kotoeval.synth.background import degree_level
from kotoeval.synth.calendar import NEVER, month_text
from kotoeval.synth.chunk import Chunk
from kotoeval.synth.context import WITH, WITHOUT
from kotoeval.synth.params import COUNTRIES, FIRST_YEAR, GROUNDS, N_MONTHS

Ints = npt.NDArray[np.int64]
MONTHS = np.arange(PANEL_FIRST_MONTH, PANEL_LAST_MONTH + 1)
_VOCATIONAL = np.array([PROGRAMMES.index(p) for p in VOCATIONAL_PROGRAMMES])


def _events(c: Chunk, world: int) -> dict[str, npt.NDArray[np.bool_]]:
    """Vocational start, completion and dropout flags by month (persons × months)."""
    n = len(c.people)
    flags = {
        k: np.zeros((n, N_MONTHS + 1), dtype=bool) for k in ("started", "completed", "dropped")
    }
    e = c.bg.episodes
    v = c.lives.vocational[world]
    vocational = np.isin(e.programme, _VOCATIONAL)
    person = np.concatenate([e.person[vocational], v.person])
    start = np.concatenate([e.start[vocational], v.start])
    end = np.concatenate([e.end[vocational], v.end])
    outcome = np.concatenate(
        [e.outcome[vocational], np.where(v.completed, "completed", "dropped_out")]
    )
    inside = (start >= 0) & (start < N_MONTHS)
    flags["started"][person[inside], start[inside]] = True
    ended = (end >= 0) & (end < N_MONTHS)
    for name, label in (("completed", "completed"), ("dropped", "dropped_out")):
        sel = ended & (outcome == label)
        flags[name][person[sel], end[sel]] = True
    return {k: f[:, :N_MONTHS] for k, f in flags.items()}


def panel(
    c: Chunk, world: int, who: Ints, index: Ints, events: dict[str, npt.NDArray[np.bool_]]
) -> dict[str, npt.NDArray[np.float64]]:
    """Person × relative-month panel of ``who`` around their index months in one world."""
    months = index[:, None] + MONTHS[None, :]
    inside = (months >= 0) & (months < N_MONTHS)
    mc = np.clip(months, 0, N_MONTHS - 1)
    rows = who[:, None]
    money, lives = c.money, c.lives
    earnings = money.earnings[world][rows, mc]
    benefit = money.benefit[world][rows, mc]
    values = {
        "earnings": earnings,
        "employed": lives.employed[world][rows, mc],
        "expert_employed": lives.expert[world][rows, mc] & ~money.occupation_missing[rows, mc],
        "unemployment_benefit_eur": benefit,
        "unemployment_benefit": benefit > 0,
        "vocational_started": events["started"][rows, mc],
        "vocational_completed": events["completed"][rows, mc],
        "vocational_dropped": events["dropped"][rows, mc],
    }
    return {k: np.where(inside, v.astype(np.float64), np.nan) for k, v in values.items()}


@dataclass
class _Group:
    """Per-person values of one group (clients or naive comparisons), gathered over chunks."""

    values: dict[str, list[npt.NDArray[np.float64]]] = field(default_factory=dict)
    labels: dict[str, list[npt.NDArray[np.str_]]] = field(default_factory=dict)
    entry: list[Ints] = field(default_factory=list)
    hetu: list[npt.NDArray[np.bytes_]] = field(default_factory=list)
    """Identity codes, kept for clients only (for the truth over any set of them)."""

    def add(
        self,
        values: dict[str, npt.NDArray[np.float64]],
        labels: dict[str, npt.NDArray[np.str_]],
        entry: Ints,
        hetu: npt.NDArray[np.bytes_] | None = None,
    ) -> None:
        for k, v in values.items():
            self.values.setdefault(k, []).append(v)
        for k, lab in labels.items():
            self.labels.setdefault(k, []).append(lab)
        self.entry.append(entry)
        if hetu is not None:
            self.hetu.append(hetu)

    def extend(self, other: _Group) -> None:
        for k, v in other.values.items():
            self.values.setdefault(k, []).extend(v)
        for k, lab in other.labels.items():
            self.labels.setdefault(k, []).extend(lab)
        self.entry.extend(other.entry)
        self.hetu.extend(other.hetu)

    def merged(
        self,
    ) -> tuple[dict[str, npt.NDArray[np.float64]], dict[str, npt.NDArray[np.str_]], Ints]:
        values = {k: np.concatenate(v) for k, v in self.values.items()}
        labels = {k: np.concatenate(v) for k, v in self.labels.items()}
        entry = np.concatenate(self.entry) if self.entry else np.zeros(0, np.int64)
        return values, labels, entry

    def codes(self) -> npt.NDArray[np.bytes_]:
        return np.concatenate(self.hetu) if self.hetu else np.zeros(0, "S11")


def _subgroups(c: Chunk, who: Ints, index: Ints) -> dict[str, npt.NDArray[np.str_]]:
    """Subgroup labels from covariates observed at the index month."""
    p = c.people
    age = (index - p.born_month[who]) // 12
    level = degree_level(c.lives.degree[WITHOUT][who, index])
    region = np.array([world_region_of(code) for code in COUNTRIES])[p.country_of_birth[who]]
    ground = np.array([*GROUNDS, "none"])[p.ground[who]]
    labels = {
        "age_band": band(age, AGE_BANDS).astype(str),
        "sex": np.where(p.sex[who] == 1, "male", "female"),
        "world_region": region,
        "language_level": band(
            c.bg.observed_language[who, index].astype(np.int64), LANGUAGE_BANDS
        ).astype(str),
        "education_level": band(level.astype(np.int64), EDUCATION_BANDS).astype(str),
        "permit_ground": ground,
    }
    return {name: labels[name] for name in SUBGROUP_VARIABLES}


@dataclass
class Truth:
    """Gathers clients' potential outcomes chunk by chunk and summarises them."""

    programmes: tuple[str, ...]
    clients: dict[str, _Group] = field(default_factory=dict)
    comparisons: dict[str, _Group] = field(default_factory=dict)
    premiums: dict[str, list[npt.NDArray[np.float64]]] = field(default_factory=dict)
    """Per person who completed (or dropped out of) vocational education: year-2 earnings with
    minus without the mark the education left."""

    def add(self, c: Chunk) -> None:
        """Record the clients and naive comparisons of a chunk."""
        part = c.lives.participation
        events = {w: _events(c, w) for w in (WITH, WITHOUT)}
        for k, name in enumerate(self.programmes):
            who = np.flatnonzero(part.programme == k)
            entry = part.entry[who]
            values: dict[str, npt.NDArray[np.float64]] = {}
            for w, suffix in ((WITH, "1"), (WITHOUT, "0")):
                pan = panel(c, w, who, entry, events[w])
                values.update({f"{o}|{suffix}": v for o, v in evaluate_all(pan, MONTHS).items()})
                values.update({f"path:{v}|{suffix}": pan[v] for v in PATH_VARIABLES})
            self.clients.setdefault(name, _Group()).add(
                values, _subgroups(c, who, entry), entry, c.people.hetu[who]
            )
            # Naive comparison: non-clients from the first month they were eligible.
            others = np.flatnonzero((part.programme < 0) & (part.eligible_first[:, k] < NEVER))
            first = part.eligible_first[others, k]
            seen = evaluate_all(panel(c, WITH, others, first, events[WITH]), MONTHS)
            self.comparisons.setdefault(name, _Group()).add(seen, {}, first)
        self._add_premiums(c)

    def _add_premiums(self, c: Chunk) -> None:
        completed, dropped = c.lives.completed_at[WITH], c.lives.dropped_at[WITH]
        year_two = np.arange(12, 24)
        for kind, at, chosen in (
            ("completed", completed, completed < NEVER),
            ("dropped_out", dropped, (dropped < NEVER) & (completed > dropped + 23)),
        ):
            who = np.flatnonzero(chosen & (at + year_two[-1] < N_MONTHS))
            months = at[who][:, None] + year_two[None, :]
            rows = who[:, None]
            gain = (
                c.money.earnings[WITH][rows, months] - c.money.earnings_without_degree[rows, months]
            )
            self.premiums.setdefault(kind, []).append(gain.sum(axis=1).astype(np.float64))

    def extend(self, other: Truth) -> None:
        """Add another chunk's records (chunks are merged in order)."""
        for mine, theirs in ((self.clients, other.clients), (self.comparisons, other.comparisons)):
            for name, group in theirs.items():
                mine.setdefault(name, _Group()).extend(group)
        for kind, values in other.premiums.items():
            self.premiums.setdefault(kind, []).extend(values)

    def summary(self) -> dict[str, Any]:
        """The truth as plain data for ``truth.json``."""
        out: dict[str, Any] = {}
        for name in self.programmes:
            values, labels, entry = self.clients.setdefault(name, _Group()).merged()
            naive, _, _ = self.comparisons.setdefault(name, _Group()).merged()
            out[name] = {
                "clients": int(len(entry)),
                "clients_by_entry_year": {
                    str(FIRST_YEAR + y): int(n) for y, n in enumerate(np.bincount(entry // 12)) if n
                }
                if len(entry)
                else {},
                "effects": _effects(values, naive, np.ones(len(entry), dtype=bool)),
                "subgroups": {
                    var: {level: _effects(values, None, lab == level) for level in sorted(set(lab))}
                    for var, lab in labels.items()
                },
                "paths": _paths(values),
            }
        return out

    def client_table(self) -> pa.Table:
        """Every client's standard outcomes in both worlds, one row per client.

        Columns: programme, identity code, entry month, and ``<outcome>|1`` (with the programme)
        and ``<outcome>|0`` (without) for every standard outcome that is not a ratio.
        """
        parts = []
        for name in self.programmes:
            group = self.clients.setdefault(name, _Group())
            values, _, entry = group.merged()
            columns = {
                "programme": pa.array([name] * len(entry), pa.string()),
                "hetu": pa.array(group.codes().astype(str), pa.string()),
                "entry_month": month_text(entry),
            }
            for key in sorted(k for k in values if ":" not in k):
                columns[key] = pa.array(values[key], pa.float64(), from_pandas=True)
            parts.append(pa.table(columns))
        return pa.concat_tables(parts, promote_options="default")


def effects_over(
    clients: pa.Table, rows: npt.NDArray[np.bool_]
) -> dict[str, dict[str, float | int]]:
    """True effects over the clients in ``rows`` of a :meth:`Truth.client_table` (one programme)."""
    values = {
        k: clients[k].to_numpy(zero_copy_only=False).astype(np.float64)
        for k in clients.column_names
        if "|" in k
    }
    return _effects(values, None, np.asarray(rows, bool))


def premium_summary(premiums: dict[str, list[npt.NDArray[np.float64]]]) -> dict[str, Any]:
    """Mean education premium in euros a year, for graduates and for dropouts."""
    out: dict[str, Any] = {
        "definition": "earnings in the second year after vocational studies end (completed, or "
        "dropped out without completing within two years), minus the same person's earnings in "
        "the same months had the studies left no mark on employment and wages; adult newcomers "
        "of the whole world, clients or not"
    }
    for kind in ("completed", "dropped_out"):
        values = np.concatenate(premiums.get(kind, [np.zeros(0)]))
        mean = float(values.mean()) if len(values) else float("nan")
        out[kind] = {"n": int(len(values)), "eur_per_year": _r(mean)}
    return out


def _split(
    values: dict[str, npt.NDArray[np.float64]], suffix: str
) -> dict[str, npt.NDArray[np.float64]]:
    return {
        k.split("|")[0]: v for k, v in values.items() if k.endswith(f"|{suffix}") and ":" not in k
    }


def _effects(
    values: dict[str, npt.NDArray[np.float64]],
    naive: dict[str, npt.NDArray[np.float64]] | None,
    rows: npt.NDArray[np.bool_],
) -> dict[str, dict[str, float | int]]:
    if not values:
        return {}
    with_, without = _split(values, "1"), _split(values, "0")
    result: dict[str, dict[str, float | int]] = {}
    for outcome in STANDARD_OUTCOMES:
        have = rows & observed(with_, outcome.id)
        y1 = group_mean(with_, outcome.id, have)
        y0 = group_mean(without, outcome.id, have)
        entry: dict[str, float | int] = {
            "n": int(have.sum()),
            "treated_mean": _r(y1),
            "counterfactual_mean": _r(y0),
            "att": _r(y1 - y0),
        }
        if naive is not None and naive:
            comparable = observed(naive, outcome.id)
            yc = group_mean(naive, outcome.id, comparable)
            entry.update(
                {
                    "naive_comparison_n": int(comparable.sum()),
                    "naive_comparison_mean": _r(yc),
                    "naive_difference": _r(y1 - yc),
                }
            )
        result[outcome.id] = entry
    return result


def _paths(values: dict[str, npt.NDArray[np.float64]]) -> dict[str, list[dict[str, float | int]]]:
    paths: dict[str, list[dict[str, float | int]]] = {}
    for var in PATH_VARIABLES:
        y1 = values.get(f"path:{var}|1")
        y0 = values.get(f"path:{var}|0")
        rows = []
        for j, month in enumerate(MONTHS):
            if y1 is None or y0 is None:
                break
            have = ~np.isnan(y1[:, j])
            m1 = float(y1[have, j].mean()) if have.any() else float("nan")
            m0 = float(y0[have, j].mean()) if have.any() else float("nan")
            rows.append(
                {
                    "month": int(month),
                    "n": int(have.sum()),
                    "treated_mean": _r(m1),
                    "counterfactual_mean": _r(m0),
                    "effect": _r(m1 - m0),
                }
            )
        paths[var] = rows
    return paths


def _r(x: float) -> float:
    """Rounded for a stable, readable file; NaN becomes null in JSON via the writer."""
    return float(f"{x:.6g}") if np.isfinite(x) else float("nan")
