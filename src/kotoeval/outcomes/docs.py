"""The outcome definitions as Markdown (``docs/outcomes.md``), generated so they cannot drift."""

from __future__ import annotations

from kotoeval.outcomes import definitions
from kotoeval.outcomes.definitions import STANDARD_OUTCOMES, Outcome
from kotoeval.outcomes.subgroups import AGE_BANDS, EDUCATION_BANDS, LANGUAGE_BANDS


def render() -> str:
    """Panel variables, outcomes and subgroup bands as Markdown."""
    lines = [
        "# Outcomes (generated from `kotoeval.outcomes`; do not edit by hand)",
        "",
        "Regenerate with `kotoeval docs --out docs`.",
        "",
        (definitions.__doc__ or "").strip(),
        "",
        "| outcome | label | measure | months after entry | unit |",
        "|---|---|---|---|---|",
    ]
    for o in STANDARD_OUTCOMES:
        if isinstance(o, Outcome):
            measure = f"{o.aggregate} of `{o.variable}`"
            window = f"{o.first_month}…{o.last_month}"
        else:
            measure = f"`{o.numerator}` / `{o.denominator}` (ratio of group sums)"
            window = "as its parts"
        lines.append(f"| `{o.id}` | {o.label} | {measure} | {window} | {o.unit} |")
    lines += ["", "## Subgroups (covariates observed at the index month)", ""]
    for name, bands in (
        ("age band (years)", AGE_BANDS),
        ("language level (rank of the latest overall test; -1 none)", LANGUAGE_BANDS),
        ("education level (registered ISCED level; -1 none)", EDUCATION_BANDS),
    ):
        listed = ", ".join(f"`{label}` {low}…{high}" for label, low, high in bands)
        lines.append(f"- {name}: {listed}")
    lines += ["- sex, world region of birth and permit ground: their codes.", ""]
    return "\n".join(lines)
