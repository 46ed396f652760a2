"""Release a study's results folder: disclosure control, figures, an immutable bundle."""

from __future__ import annotations

import json
import tempfile
from pathlib import Path

import pandas as pd

from kotoeval.disclose.bundle import write_bundle
from kotoeval.disclose.results import REQUIRED, check_results
from kotoeval.disclose.rules import RuleSet, rule_set
from kotoeval.errors import DisclosureError
from kotoeval.i18n import Texts
from kotoeval.report.figures import forest_plot, love_plot, trajectory_plot, waterfall


def default_bundle(results: Path) -> Path:
    """Where a study's results are released unless told otherwise: ``<results>-release``."""
    return results.with_name(f"{results.name}-release")


def release_study(results: Path, out: Path, rules: str | RuleSet | None = None) -> Path:
    """Check every table of ``results`` under ``rules`` (default: the spec's) into bundle ``out``.

    Figures are drawn from the checked tables, never from the results folder.
    """
    try:
        summary = json.loads((results / "summary.json").read_text(encoding="utf-8"))
        spec = json.loads((results / "spec.json").read_text(encoding="utf-8"))
    except FileNotFoundError as err:
        raise DisclosureError(
            f"{results} is not a study results folder ({Path(err.filename).name} is missing); "
            "run `kotoeval study run` first"
        ) from None
    chosen = rules if isinstance(rules, RuleSet) else rule_set(rules or spec["disclosure"])
    tables = {name: pd.read_parquet(results / f"{name}.parquet") for name in REQUIRED}
    checked = check_results(tables, summary, chosen)
    manifest = {
        "kind": "study",
        "name": spec["name"],
        "title": spec["title"],
        "spec": spec,
        "inputs": summary.get("inputs", {}),
        "rules": chosen.describe(),
        "status": summary["status"],
        "summary": checked.summary,
    }
    texts = Texts("en")
    with tempfile.TemporaryDirectory() as tmp:
        folder = Path(tmp)
        t = checked.tables
        figures = {
            "love_plot": love_plot(t["balance"], folder / "love_plot.png", texts, spec["title"]),
            "trajectories": trajectory_plot(
                t["trajectories"], t["phases"], folder / "trajectories.png", texts
            ),
            "income_build_up": waterfall(t["income_build_up"], folder / "income.png", texts),
        }
        for outcome in t["subgroups"]["outcome"].unique():
            figures[f"subgroups_{outcome}"] = forest_plot(
                t["subgroups"], outcome, folder / f"subgroups_{outcome}.png", texts
            )
        return write_bundle(out, manifest, t, checked.decisions, figures)
