"""Typer application: every command parses its options, calls one room, and reports.

Errors a user can cause (``KotoevalError``) are printed as one clear line with exit code 2;
nothing prints person-level rows.
"""

from __future__ import annotations

from pathlib import Path
from typing import Annotated

import typer
from rich.console import Console

from kotoeval import __version__
from kotoeval.errors import KotoevalError, SpecError
from kotoeval.registers.docs import render as render_registers
from kotoeval.synth.params import SCALES

app = typer.Typer(
    name="kotoeval",
    help="Evaluate integration and employment services for immigrants from linked registers.",
    no_args_is_help=True,
    add_completion=False,
    pretty_exceptions_enable=False,  # never print tracebacks with local variables
)
console = Console(stderr=True)
#: Share of rows of the demo's world given a planted fault, so the quarantine has work to show.
DEMO_DEFECTS = 0.001


def _version(value: bool) -> None:
    if value:
        print(f"kotoeval {__version__}")
        raise typer.Exit()


@app.callback()
def _root(
    version: Annotated[
        bool, typer.Option("--version", callback=_version, is_eager=True, help="Show the version.")
    ] = False,
) -> None:
    """Kotoeval command line."""


@app.command()
def synth(
    out: Annotated[
        Path, typer.Option(help="Folder to write the registers, truth.json and defects.json into.")
    ],
    scale: Annotated[str, typer.Option(help=f"World size: {', '.join(SCALES)}.")] = "espoo",
    seed: Annotated[int, typer.Option(help="Random seed: the same seed gives the same bytes.")] = 1,
    format: Annotated[
        str, typer.Option("--format", help="Register file format: csv or parquet.")
    ] = "csv",
    defects: Annotated[
        float, typer.Option(help="Share of rows given a planted fault (0 = clean).")
    ] = 0.0,
    confounding: Annotated[
        float, typer.Option(help="Strength of an unobserved confounder (0 = none).")
    ] = 0.0,
    workers: Annotated[
        int, typer.Option(help="Processes simulating chunks (0 = one per core).")
    ] = 0,
) -> None:
    """Write a synthetic register world in the input contract, with its ground truth."""
    from kotoeval.cli.report import print_world, progress_bar, wide_console
    from kotoeval.synth.world import generate

    with progress_bar(console, "Simulating lives") as advance:
        summary = generate(scale, seed, out, format, defects, confounding, workers or None, advance)  # type: ignore[arg-type]
    print_world(wide_console(), summary)


@app.command()
def demo(
    out: Annotated[Path, typer.Option(help="Folder for everything the demo writes.")] = Path(
        "out/demo"
    ),
    scale: Annotated[str, typer.Option(help=f"World size: {', '.join(SCALES)}.")] = "espoo",
    seed: Annotated[int, typer.Option(help="Random seed.")] = 1,
) -> None:
    """Run the main job on the embedded default engine and print where to look."""
    from kotoeval.cli.report import (
        ingest_progress,
        print_demo,
        progress_bar,
        study_progress,
        wide_console,
    )
    from kotoeval.disclose.bundle import read_bundle, remove_bundle
    from kotoeval.i18n import LANGUAGES
    from kotoeval.ingest.keys import generate_key, load_key
    from kotoeval.ingest.run import ingest as run_ingest
    from kotoeval.report.html import write_report
    from kotoeval.study.release import default_bundle, release_study
    from kotoeval.study.run import run_study
    from kotoeval.study.spec import EXAMPLES, load_spec
    from kotoeval.synth.world import generate

    world = out / "world"
    with progress_bar(console, f"Synthetic world ({scale})") as advance:
        summary = generate(scale, seed, world, "csv", DEMO_DEFECTS, 0.0, None, advance)
    key = out / "project.key"
    if not key.exists():
        generate_key(key)
    with ingest_progress(console) as notify:
        report = run_ingest(world, out / "warehouse.duckdb", key, progress=notify)
    studies, reports = [], []
    for name in ("oske", "koske"):
        spec = load_spec(EXAMPLES / f"{name}.toml")
        folder = out / "studies" / name
        with study_progress(console, spec.name) as notify:
            studies.append(run_study(spec, out / "warehouse.duckdb", folder, progress=notify))
            bundle = default_bundle(folder)
            if bundle.exists():  # the demo's own bundle of an earlier run
                remove_bundle(bundle)
            notify("release and reports")
            released = read_bundle(release_study(folder, bundle))
            for lang in LANGUAGES:
                reports.append(
                    write_report(released, lang, out / "reports" / f"{name}_{lang}.html")
                )
    print_demo(wide_console(), summary, report, studies, reports, load_key(key))


@app.command()
def ingest(
    source: Annotated[Path, typer.Option(help="Folder of the delivered register files.")],
    warehouse: Annotated[
        Path,
        typer.Option(
            help="A .duckdb file (its tables' Parquet files go in <file>.files beside it), "
            "or a folder for a Parquet dataset (needed by Spark)."
        ),
    ],
    key: Annotated[Path, typer.Option(help="Project key file made by `kotoeval keygen`.")],
    engine: Annotated[str, typer.Option(help="duckdb (embedded) or spark (local PySpark).")] = (
        "duckdb"
    ),
    memory_limit: Annotated[
        str | None,
        typer.Option(help="Memory the engine may use before it spills to disk, e.g. 6GB."),
    ] = None,
) -> None:
    """Validate, pseudonymise and link a delivery of registers into the warehouse."""
    from kotoeval.cli.report import ingest_progress, print_ingest, wide_console
    from kotoeval.ingest.run import ingest as run_ingest
    from kotoeval.warehouse import ENGINES

    if engine not in ENGINES:
        raise SpecError(f"unknown engine {engine!r}; choose one of {', '.join(ENGINES)}")
    with ingest_progress(console) as notify:
        report = run_ingest(source, warehouse, key, engine, memory_limit, notify)
    print_ingest(wide_console(), report)
    if not all(load.reconciles for load in report.loads):
        raise SystemExit(1)


study_app = typer.Typer(help="Evaluate a programme: a study is a TOML file.", no_args_is_help=True)
app.add_typer(study_app, name="study")


@study_app.command("run")
def study_run(
    spec: Annotated[Path, typer.Argument(help="The study file (see src/kotoeval/study/examples).")],
    warehouse: Annotated[Path, typer.Option(help="The warehouse made by `kotoeval ingest`.")],
    out: Annotated[Path, typer.Option(help="Results folder to write.")],
    engine: Annotated[str, typer.Option(help="duckdb (embedded) or spark (local PySpark).")] = (
        "duckdb"
    ),
    release: Annotated[
        Path | None,
        typer.Option(help="Release bundle to write after the run (default: OUT-release)."),
    ] = None,
    no_release: Annotated[
        bool, typer.Option("--no-release", help="Keep the results in the secure zone only.")
    ] = False,
) -> None:
    """Build the cohort, match, check balance, estimate every effect, and release the results."""
    from kotoeval.cli.report import print_study, study_progress, wide_console
    from kotoeval.study.release import default_bundle, release_study
    from kotoeval.study.run import run_study
    from kotoeval.study.spec import load_spec

    study = load_spec(spec)
    if not warehouse.exists():
        raise SpecError(f"warehouse {warehouse} does not exist; run `kotoeval ingest` first")
    bundle = release or default_bundle(out)
    if not no_release and bundle.exists():
        raise SpecError(
            f"release bundle {bundle} exists and bundles are immutable; give --release another "
            "path or --no-release"
        )
    with study_progress(console, study.name) as notify:
        result = run_study(study, warehouse, out, engine, notify)
    print_study(wide_console(), result)
    if not no_release:
        release_study(out, bundle)
        console.print(f"Release bundle (disclosure-checked under {study.disclosure}): {bundle}")


@app.command("release")
def release_command(
    results: Annotated[Path, typer.Argument(help="A study's results folder (secure zone).")],
    out: Annotated[Path, typer.Option(help="Bundle folder to create (must not exist).")],
    rules: Annotated[
        str | None,
        typer.Option(
            help="Disclosure rules: threshold_3, threshold_5 or eurostat (default: the study's)."
        ),
    ] = None,
) -> None:
    """Check a study's results under disclosure rules and write an immutable release bundle."""
    from kotoeval.disclose.bundle import read_bundle
    from kotoeval.study.release import release_study

    bundle = read_bundle(release_study(results, out, rules))
    suppressed = bundle.manifest["suppressed_cells"]
    console.print(f"Release bundle {out}: {len(bundle.tables)} tables, {suppressed} cells or rows "
                  f"withheld (see {out / 'checking.log'})")  # fmt: skip


@app.command("report")
def report_command(
    bundle: Annotated[Path, typer.Argument(help="A release bundle.")],
    out: Annotated[Path, typer.Option(help="HTML file to write.")],
    lang: Annotated[str, typer.Option(help="fi, sv or en.")] = "fi",
    pdf: Annotated[bool, typer.Option("--pdf", help="Also print a PDF beside the HTML.")] = False,
) -> None:
    """Write the evaluation report of a release bundle: standalone HTML (and PDF)."""
    from kotoeval.disclose.bundle import read_bundle
    from kotoeval.i18n import language
    from kotoeval.report.html import write_report
    from kotoeval.report.pdf import to_pdf

    written = write_report(read_bundle(bundle), language(lang), out)
    console.print(f"Report: {written}")
    if pdf:
        console.print(f"PDF: {to_pdf(written, written.with_suffix('.pdf'))}")


@study_app.command("example")
def study_example(
    name: Annotated[str, typer.Argument(help="oske or koske.")],
    out: Annotated[Path, typer.Option(help="Study file to write (an existing file is kept).")],
) -> None:
    """Write a shipped example study file, to run as it is or to adapt to another programme."""
    from kotoeval.study.spec import EXAMPLES

    source = EXAMPLES / f"{name}.toml"
    if not source.exists():
        known = ", ".join(sorted(p.stem for p in EXAMPLES.glob("*.toml")))
        raise SpecError(f"no example study {name!r}; choose one of {known}")
    if out.exists():
        raise SpecError(f"{out} exists; choose another path or remove it first")
    out.write_text(source.read_text(encoding="utf-8"), encoding="utf-8")
    console.print(f"wrote {out}")


@app.command()
def keygen(
    out: Annotated[
        Path, typer.Option(help="Key file to create (mode 0600); kept outside the warehouse.")
    ],
) -> None:
    """Make a project key: 256 random bits that turn identity codes into pseudonyms."""
    from kotoeval.ingest.keys import generate_key

    generate_key(out)
    console.print(f"Key written to {out} (readable by you only). Keep it outside the warehouse.")


@app.command()
def docs(
    out: Annotated[
        Path, typer.Option(help="Folder for registers.md, outcomes.md and cli.md.")
    ] = Path("docs"),
) -> None:
    """Write the generated reference: the input contract, the outcomes and this command line."""
    out.mkdir(parents=True, exist_ok=True)
    for name, text in generated_docs().items():
        (out / name).write_text(text, encoding="utf-8")
        console.print(f"wrote {out / name}")


def generated_docs() -> dict[str, str]:
    """Every generated reference page, by file name."""
    from kotoeval.cli.docs import render as render_cli
    from kotoeval.outcomes.docs import render as render_outcomes

    return {
        "registers.md": render_registers(),
        "outcomes.md": render_outcomes(),
        "cli.md": render_cli(app),
    }


def main() -> None:
    """Entry point of the ``kotoeval`` command."""
    try:
        app()
    except KotoevalError as error:
        console.print(f"[bold red]error:[/] {error}")
        raise SystemExit(2) from None
