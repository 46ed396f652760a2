"""Generate a synthetic register world: the nine registers, its truth and its defects.

The truth is ``truth.json`` (effects overall, by subgroup and by month) and
``truth_clients.arrow`` (every client's own outcomes in both worlds); the planted defects are
in ``defects.json``.

Determinism: the world is a function of (scale, seed, format, defect rate, confounding) alone;
the same arguments give the same bytes. Memory stays flat: lives are simulated and written in
chunks of whole families, each from its own seed.
"""

from __future__ import annotations

import json
import math
import multiprocessing
import os
import shutil
from collections import deque
from collections.abc import Callable, Iterator
from concurrent.futures import Future, ProcessPoolExecutor
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import numpy as np
import pyarrow as pa
from pyarrow import feather

from kotoeval import __version__
from kotoeval.errors import SpecError
from kotoeval.outcomes import OUTCOMES, Outcome
from kotoeval.registers import REGISTERS
from kotoeval.synth import out_money, out_people, out_services
from kotoeval.synth.chunk import Chunk, stable_hash
from kotoeval.synth.defects import apply_defects, plan_defects
from kotoeval.synth.params import (
    CHUNK_PERSONS,
    ESPOO,
    FIRST_YEAR,
    LANGUAGES,
    MUNICIPALITIES,
    WorldParameters,
    scale,
)
from kotoeval.synth.people import People, draw_people
from kotoeval.synth.truth import Truth, premium_summary
from kotoeval.synth.writer import FINNISH_SPREADSHEET, DeliveryWriter, Format, write_part

#: The register delivered in the Finnish spreadsheet dialect when defects are asked for.
DIALECT_REGISTER = "services"
#: The register delivered with a column outside the contract when defects are asked for.
EXTRA_COLUMN_REGISTER = ("residence_permits", "decision_number")
REFERENCE_YEAR = 2020
#: Every client's outcomes with and without the programme. Arrow, not Parquet or CSV, so that an
#: ingest of the world's folder does not take it for a register.
CLIENT_TRUTH = "truth_clients.arrow"

Progress = Callable[[int, int], None]


@dataclass(frozen=True)
class WorldSummary:
    """Headline facts of a generated world."""

    out: Path
    persons: int
    residents: int
    """Residents on 31 December of the reference year (of Espoo, below the national scale)."""
    foreign_language_share: float
    rows: dict[str, int]
    defects: int
    truth: dict[str, Any]


def generate(
    scale_name: str,
    seed: int,
    out: Path,
    fmt: Format = "csv",
    defects: float = 0.0,
    confounding: float = 0.0,
    workers: int | None = None,
    progress: Progress | None = None,
) -> WorldSummary:
    """Write a synthetic world into ``out`` and return its headline facts.

    Chunks are simulated by ``workers`` processes (default: one per core) and assembled in
    order, so the files are the same whatever the number of workers.
    """
    if not 0 <= defects <= 0.2:
        raise SpecError(f"--defects must be a rate between 0 and 0.2, got {defects}")
    if not 0 <= confounding <= 3:
        raise SpecError(f"--confounding must be between 0 and 3, got {confounding}")
    if fmt not in ("csv", "parquet"):
        raise SpecError(f"--format must be csv or parquet, got {fmt!r}")
    sc = scale(scale_name)
    params = WorldParameters(confounding=confounding)
    out.mkdir(parents=True, exist_ok=True)
    _remove_previous_world(out)
    parts = out / ".parts"
    parts.mkdir(exist_ok=True)
    people_seed, chunks_seed, defects_seed = np.random.SeedSequence(seed).spawn(3)
    people = draw_people(sc, np.random.default_rng(people_seed))
    bounds = _chunks(people)
    dialects = {DIALECT_REGISTER: FINNISH_SPREADSHEET} if defects > 0 and fmt == "csv" else {}
    writer = DeliveryWriter(out, fmt, dialects)
    job = _Job(
        people=people,
        params=params,
        bounds=bounds,
        chunk_seeds=chunks_seed.spawn(len(bounds)),
        defect_seeds=defects_seed.spawn(len(bounds)),
        defects=defects,
        parts=parts,
        writer=writer,
        employers=out_money.business_ids(max(2_000, len(people) // 8)),  # ~8 persons per payer
    )
    truth = Truth(tuple(p.service for p in params.programmes))
    planted: list[dict[str, Any]] = []
    try:
        for i, result in enumerate(_run(job, workers or os.cpu_count() or 1)):
            for name, (columns, rows, records) in result.registers.items():
                offset = writer.rows_written(name)
                planted += [{**r, "row": r["row"] + offset} for r in records]
                writer.append(name, parts / f"{name}.{i:05d}", columns, rows)
            truth.extend(result.truth)
            if progress is not None:
                progress(i + 1, len(bounds))
    finally:
        writer.close()
        shutil.rmtree(parts, ignore_errors=True)

    (out / "delivery.toml").write_text(writer.manifest(), encoding="utf-8")
    summary = truth.summary()
    document = _truth_document(sc.name, seed, confounding, params, summary)
    document["education_premium"] = premium_summary(truth.premiums)
    _write_json(out / "truth.json", document)
    feather.write_feather(truth.client_table(), out / CLIENT_TRUTH, compression="zstd")
    if defects > 0:
        files = (
            [
                {
                    "register": DIALECT_REGISTER,
                    "rule": "finnish_spreadsheet_dialect",
                    "file": writer.path(DIALECT_REGISTER).name,
                }
            ]
            if dialects
            else []
        )
        files.append(
            {
                "register": EXTRA_COLUMN_REGISTER[0],
                "rule": "extra_column",
                "column": EXTRA_COLUMN_REGISTER[1],
            }
        )
        _write_json(out / "defects.json", {"rate": defects, "rows": planted, "files": files})
    residents, share = _headline_population(people, sc.national)
    return WorldSummary(
        out=out,
        persons=len(people),
        residents=residents,
        foreign_language_share=share,
        rows={name: writer.rows_written(name) for name in REGISTERS},
        defects=len(planted),
        truth=summary,
    )


@dataclass
class _Job:
    """What every chunk needs; workers inherit it (forked), so nothing big is pickled."""

    people: People
    params: WorldParameters
    bounds: list[tuple[int, int]]
    chunk_seeds: list[np.random.SeedSequence]
    defect_seeds: list[np.random.SeedSequence]
    defects: float
    parts: Path
    writer: DeliveryWriter
    employers: pa.Array


@dataclass
class _ChunkResult:
    registers: dict[str, tuple[list[str], int, list[dict[str, Any]]]]
    """Per register: columns, rows written and planted defects (rows 1-based within the part)."""
    truth: Truth


_JOB: _Job | None = None


def _run(job: _Job, workers: int) -> Iterator[_ChunkResult]:
    """Chunk results in chunk order, computed by up to ``workers`` processes."""
    global _JOB
    _JOB = job
    try:
        if workers <= 1 or len(job.bounds) == 1:
            yield from (_build(i) for i in range(len(job.bounds)))
            return
        # Forked workers share the job; at most two chunks per worker are in flight.
        context = multiprocessing.get_context("fork")
        with ProcessPoolExecutor(workers, mp_context=context) as pool:
            pending: deque[Future[_ChunkResult]] = deque()
            for i in range(len(job.bounds)):
                pending.append(pool.submit(_build, i))
                if len(pending) >= 2 * workers:
                    yield pending.popleft().result()
            while pending:
                yield pending.popleft().result()
    finally:
        _JOB = None


def _build(i: int) -> _ChunkResult:
    """Simulate chunk ``i``, write its register parts and gather its truth."""
    job = _JOB
    if job is None:
        raise RuntimeError("no world is being generated")
    a, b = job.bounds[i]
    chunk = Chunk.simulate(job.people.take(slice(a, b)), job.params, a, job.chunk_seeds[i])
    defect_rng = np.random.default_rng(job.defect_seeds[i])
    registers = {}
    for name, table in _tables(chunk, job.employers, job.defects > 0).items():
        records: list[dict[str, Any]] = []
        if job.defects > 0:
            plan = plan_defects(REGISTERS[name], table, job.defects, defect_rng)
            table, records = apply_defects(table, plan, 1)
        dialect = job.writer.dialect(name)
        write_part(job.parts / f"{name}.{i:05d}", name, table, job.writer.format, dialect)
        registers[name] = (table.column_names, table.num_rows, records)
    truth = Truth(tuple(p.service for p in job.params.programmes))
    truth.add(chunk)
    return _ChunkResult(registers, truth)


def _remove_previous_world(out: Path) -> None:
    """Delete the files an earlier world wrote here, so none of them is taken for this one's."""
    names = [f"{r}.{ext}" for r in REGISTERS for ext in ("csv", "parquet")]
    for name in (*names, "delivery.toml", "truth.json", CLIENT_TRUTH, "defects.json"):
        (out / name).unlink(missing_ok=True)
    shutil.rmtree(out / ".parts", ignore_errors=True)


def _chunks(people: People) -> list[tuple[int, int]]:
    """Boundaries of chunks of about ``CHUNK_PERSONS`` persons that never split a family."""
    household_start = np.flatnonzero(np.r_[True, people.household[1:] != people.household[:-1]])
    bounds, a = [], 0
    while a < len(people):
        i = np.searchsorted(household_start, a + CHUNK_PERSONS)
        b = int(household_start[i]) if i < len(household_start) else len(people)
        bounds.append((a, b))
        a = b
    return bounds


def _tables(c: Chunk, employers: int, with_defects: bool) -> dict[str, pa.Table]:
    status = out_services.job_seeking(c)
    subsidies = out_services.wage_subsidies(c, status)
    tables = {
        "population": out_people.population(c),
        "residence_permits": out_people.residence_permits(c),
        "earnings": out_money.earnings(c, employers),
        "benefits": out_money.benefits(c),
        "jobseeker_periods": out_services.jobseeker_periods(c, status),
        "service_plans": out_services.service_plans(c, status),
        "services": out_services.services(c, status, subsidies),
        "education": out_people.education(c),
        "language_tests": out_people.language_tests(c),
    }
    if with_defects:
        register, column = EXTRA_COLUMN_REGISTER
        table = tables[register]
        numbers = stable_hash(np.arange(table.num_rows) + c.first_person) % np.uint64(10**8)
        tables[register] = table.append_column(column, pa.array(numbers.astype(str)))
    return tables


def _headline_population(people: People, national: bool) -> tuple[int, float]:
    december = (REFERENCE_YEAR - FIRST_YEAR) * 12 + 11
    here = people.resident(december)
    if not national:
        here &= people.municipality(december) == MUNICIPALITIES.index(ESPOO)
    foreign = ~np.isin(people.language, [LANGUAGES.index("fi"), LANGUAGES.index("sv")])
    residents = int(here.sum())
    return residents, float((here & foreign).sum() / max(residents, 1))


def _truth_document(
    scale_name: str, seed: int, confounding: float, params: WorldParameters, summary: dict[str, Any]
) -> dict[str, Any]:
    definitions = {}
    for o in OUTCOMES.values():
        if isinstance(o, Outcome):
            definitions[o.id] = {
                "label": o.label,
                "variable": o.variable,
                "aggregate": o.aggregate,
                "first_month": o.first_month,
                "last_month": o.last_month,
                "unit": o.unit,
            }
        else:
            definitions[o.id] = {
                "label": o.label,
                "ratio_of": [o.numerator, o.denominator],
                "unit": o.unit,
            }
    return {
        "kotoeval_version": __version__,
        "scale": scale_name,
        "seed": seed,
        "confounding": confounding,
        "estimand": "average effect on the treated (ATT): mean over clients of the outcome with "
        "the programme minus the outcome without it, both drawn from the same random stream; "
        "clients whose outcome window reaches past the data are left out of that outcome",
        "outcomes": definitions,
        "parameters": params.as_dict(),
        "programmes": summary,
    }


def _write_json(path: Path, document: dict[str, Any]) -> None:
    path.write_text(
        json.dumps(_finite(document), indent=1, ensure_ascii=False) + "\n", encoding="utf-8"
    )


def _finite(value: Any) -> Any:
    """JSON has no NaN: write null."""
    if isinstance(value, float) and not math.isfinite(value):
        return None
    if isinstance(value, dict):
        return {k: _finite(v) for k, v in value.items()}
    if isinstance(value, list | tuple):
        return [_finite(v) for v in value]
    return value
