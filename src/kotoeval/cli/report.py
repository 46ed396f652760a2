"""What the command line prints: progress and headline tables (aggregates only)."""

from __future__ import annotations

import json
from collections.abc import Callable, Iterator
from contextlib import contextmanager
from pathlib import Path
from typing import TYPE_CHECKING, Any

from rich.console import Console
from rich.progress import (
    BarColumn,
    MofNCompleteColumn,
    Progress,
    TaskID,
    TextColumn,
    TimeElapsedColumn,
)
from rich.table import Table

from kotoeval.ingest.reconcile import IngestReport
from kotoeval.outcomes import OUTCOMES
from kotoeval.registers import REGISTERS
from kotoeval.registers.rules import RULE_DESCRIPTIONS, RULES

if TYPE_CHECKING:  # the study and the world import SciPy and more: not for every command
    from kotoeval.study.run import StudyResult
    from kotoeval.synth.world import WorldSummary

HEADLINE_OUTCOMES = ("vocational_completed_36m", "earnings_y2", "expert_share_y2")


@contextmanager
def progress_bar(console: Console, label: str) -> Iterator[Callable[[int, int], None]]:
    """A progress bar advanced by ``(done, total)`` calls."""
    with Progress(
        TextColumn("{task.description}"),
        BarColumn(),
        MofNCompleteColumn(),
        TimeElapsedColumn(),
        console=console,
        transient=True,
    ) as progress:
        task = progress.add_task(label, total=None)

        def advance(done: int, total: int) -> None:
            progress.update(task, completed=done, total=total)

        yield advance


def wide_console() -> Console:
    """Standard output, at least wide enough for the effect tables when piped."""
    return Console(width=max(Console().width, 120))


def print_world(console: Console, s: WorldSummary) -> None:
    """Headline facts of a generated world."""
    facts = Table(title=f"Synthetic register world in {s.out}", show_header=False)
    facts.add_row("persons in the world", f"{s.persons:,}")
    facts.add_row("residents on 31.12.2020", f"{s.residents:,}")
    facts.add_row("foreign-language share", f"{s.foreign_language_share:.1%}")
    if s.defects:
        facts.add_row("planted defects (rows)", f"{s.defects:,}")
    console.print(facts)
    rows = Table(title="Rows per register")
    rows.add_column("register")
    rows.add_column("rows", justify="right")
    for name, n in s.rows.items():
        rows.add_row(name, f"{n:,}")
    console.print(rows)
    for programme, t in s.truth.items():
        clients = Table(title=f"{programme.upper()} clients by year of entry")
        years = list(t["clients_by_entry_year"])
        for y in years:
            clients.add_column(y, justify="right")
        clients.add_row(*(str(t["clients_by_entry_year"][y]) for y in years))
        console.print(clients)
        effects = Table(
            title=f"{programme.upper()}: true effect on the clients vs naive comparison"
        )
        effects.add_column("outcome", no_wrap=True)
        for col in ("clients", "with", "without", "true effect", "naive"):
            effects.add_column(col, justify="right", no_wrap=True)
        for outcome in HEADLINE_OUTCOMES:
            e = t["effects"][outcome]
            unit = OUTCOMES[outcome].unit
            effects.add_row(
                OUTCOMES[outcome].label,
                f"{e['n']:,}",
                _fmt(unit, e["treated_mean"]),
                _fmt(unit, e["counterfactual_mean"]),
                _fmt(unit, e["att"], signed=True),
                _fmt(unit, e.get("naive_difference"), signed=True),
            )
        console.print(effects)


@contextmanager
def ingest_progress(console: Console) -> Iterator[Callable[[str, str], None]]:
    """One line per register, showing the step it is in."""
    steps = ("reading", "pseudonymising", "validating", "writing", "done")
    with Progress(
        TextColumn("{task.fields[register]:<18}"),
        BarColumn(bar_width=20),
        TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(),
        console=console,
    ) as progress:
        tasks: dict[str, TaskID] = {}

        def notify(register: str, step: str) -> None:
            if register not in tasks:
                tasks[register] = progress.add_task(
                    "", total=len(steps) - 1, register=register, step=step
                )
            progress.update(tasks[register], completed=steps.index(step), step=step)

        yield notify


@contextmanager
def study_progress(console: Console, name: str) -> Iterator[Callable[[str], None]]:
    """One line for the study, showing the step it is in."""
    with Progress(
        TextColumn(f"study {name:<12}"), TextColumn("{task.fields[step]}"),
        TimeElapsedColumn(), console=console, transient=True,
    ) as progress:  # fmt: skip
        task = progress.add_task("", total=None, step="starting")
        yield lambda step: progress.update(task, step=step)


def print_study(
    console: Console,
    result: StudyResult,
    truth: dict[str, Any] | None = None,
    compared: dict[str, Any] | None = None,
) -> None:
    """Flow, balance status and the effects of a study (beside the truth when known).

    ``truth`` holds the true effects over all clients and the naive differences, ``compared``
    the true effects over the clients the study compared.
    """
    s = result.summary
    flow = s["flow"]
    console.print(
        f"\n[bold]{s['title']}[/]: {flow['clients_meeting_rules']:,} of "
        f"{flow['clients_in_window']:,} clients met the population rules; "
        f"{flow['treated_compared']:,} compared with {flow['comparison_rows_used']:,} "
        f"comparison person-months of {flow['comparison_persons']:,} persons "
        f"({s['seconds']:.0f} s)."
    )
    if s["status"] == "balanced":
        console.print("Balance holds: every covariate |SMD| < 0.1, variance ratios 0.5–2.")
    else:
        names = s["imbalanced_covariates"]
        shown = ", ".join(names[:6]) + (f" and {len(names) - 6} more" if len(names) > 6 else "")
        console.print(
            f"[bold red]Balance fails[/] for {shown} (see balance.csv): the differences below "
            "are not to be read as effects of the programme."
        )
    table = Table(title=f"Effects on clients ({s['study']}), 95 % CI")
    columns = ["outcome", "clients", "comparison", "effect", "95 % CI"]
    if compared:
        columns += ["truth, compared"]
    if truth:
        columns += ["truth, all clients", "naive difference"]
    for c in columns:
        table.add_column(c, justify="left" if c == "outcome" else "right")
    for row in result.effects.itertuples(index=False):
        if row.outcome not in s["headline"] and row.outcome not in HEADLINE_OUTCOMES:
            continue
        unit = OUTCOMES[row.outcome].unit
        cells = [
            OUTCOMES[row.outcome].label, _fmt(unit, row.treated_mean),
            _fmt(unit, row.comparison_mean), _fmt(unit, row.att, signed=True),
            f"{_fmt(unit, row.ci_low, signed=True)} … {_fmt(unit, row.ci_high, signed=True)}",
        ]  # fmt: skip
        if compared:
            cells.append(_fmt(unit, compared.get(row.outcome, {}).get("att"), True))
        if truth:
            t = truth.get(row.outcome, {})
            cells += [_fmt(unit, t.get("att"), True), _fmt(unit, t.get("naive_difference"), True)]
        table.add_row(*cells)
    console.print(table)
    console.print(f"Tables (effects, balance, trajectories, phases, subgroups): {result.folder}")


def print_ingest(console: Console, report: IngestReport) -> None:
    """Reconciliation and linkage per register, and the rules that quarantined rows."""
    table = Table(title=f"Ingest into {report.warehouse} ({report.engine}, {report.seconds:.0f} s)")
    for column in ("register", "rows in", "loaded", "quarantined", "duplicates", "reconciles"):
        table.add_column(column, justify="left" if column == "register" else "right")
    table.add_column("persons", justify="right")
    table.add_column("in population", justify="right")
    table.add_column("orphan rows", justify="right")
    for load in report.loads:
        share = load.linked_share
        table.add_row(
            load.register,
            f"{load.rows_in:,}",
            f"{load.loaded:,}",
            f"{load.quarantined:,}",
            f"{load.duplicates:,}",
            "[green]yes[/]" if load.reconciles else "[bold red]NO[/]",
            f"{load.persons:,}",
            "–" if share is None else f"{share:.2%}",
            f"{load.orphan_rows:,}" if REGISTERS[load.register].requires_resident else "–",
        )
    console.print(table)
    rules = [r for r in RULES if any(r in load.by_rule for load in report.loads)]
    if rules:
        by_rule = Table(title="Rows not loaded, by rule (every one kept in the quarantine table)")
        by_rule.add_column("rule")
        by_rule.add_column("rows", justify="right")
        by_rule.add_column("registers")
        by_rule.add_column("what it catches")
        for rule in rules:
            counts = [
                (load.register, load.by_rule[rule]) for load in report.loads if rule in load.by_rule
            ]
            by_rule.add_row(
                rule,
                f"{sum(n for _, n in counts):,}",
                ", ".join(f"{register} {n:,}" for register, n in counts),
                RULE_DESCRIPTIONS[rule],
            )
        console.print(by_rule)
    extra = [f"{load.register}: {', '.join(load.extra_columns)}" for load in report.loads]
    extra = [e for load, e in zip(report.loads, extra, strict=True) if load.extra_columns]
    if extra:
        console.print("Columns outside the contract, left out: " + "; ".join(extra))


def print_demo(
    console: Console,
    s: WorldSummary,
    report: IngestReport,
    studies: list[StudyResult],
    reports: list[Path],
    key: bytes,
) -> None:
    """The demo's report: the world, the ingest, the studies beside the truth, where to look."""
    from kotoeval.cli.truth import compared_truth
    from kotoeval.study.release import default_bundle
    from kotoeval.synth.world import CLIENT_TRUTH

    print_world(console, s)
    print_ingest(console, report)
    truth = json.loads((s.out / "truth.json").read_text(encoding="utf-8"))["programmes"]
    for result in studies:
        name = result.summary["study"]
        compared = compared_truth(s.out, name, key, result.compared_clients)
        print_study(console, result, truth.get(name, {}).get("effects"), compared)
    console.print(f"\nRegisters, truth.json and delivery.toml are in [bold]{s.out}[/].")
    console.print(
        "truth.json holds every programme's true effects: overall, by subgroup and by month; "
        f"{CLIENT_TRUTH} every client's outcomes with and without the programme."
    )
    console.print(
        f"The warehouse is [bold]{report.warehouse}[/]: one table per register, persons, "
        "quarantine (every row not loaded and why) and loads (reconciliation, fingerprints)."
    )
    for result in studies:
        console.print(
            f"Study {result.summary['study']}: results (secure zone) in {result.folder}, "
            f"release bundle in {default_bundle(result.folder)}."
        )
    console.print("\nThe evaluation reports (open them in a browser):")
    for path in reports:
        console.print(f"  [bold]{path}[/]")


def _fmt(unit: str, value: float | None, signed: bool = False) -> str:
    if value is None or value != value:  # missing or NaN
        return "–"
    if unit == "share":
        return f"{value * 100:+.1f} pts" if signed else f"{value * 100:.1f} %"
    if unit == "eur":
        return f"{value:+,.0f} €" if signed else f"{value:,.0f} €"
    return f"{value:+.2f}" if signed else f"{value:.2f}"
