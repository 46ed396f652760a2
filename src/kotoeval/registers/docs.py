"""Documentation of the input contract generated from the schemas (``docs/registers.md``).

A test regenerates it and compares it with the committed file, so the docs cannot drift from
the code; ``kotoeval docs`` rewrites it after a change to the contract.
"""

from __future__ import annotations

from kotoeval.registers.rules import RULE_DESCRIPTIONS, RULES
from kotoeval.registers.schema import REGISTERS, Register

HEADER = """# Registers (generated from `kotoeval.registers`; do not edit by hand)

Regenerate with `kotoeval docs --out docs`. Types: `text`, `int`,
`decimal` (`.` decimal point), `date` (`YYYY-MM-DD`), `month` (`YYYY-MM`). An empty field is
missing; a required column must not be missing.
"""


def _escape(text: str) -> str:
    return text.replace("|", "\\|")


def render_register(reg: Register) -> str:
    """One register as a Markdown section."""
    flags = []
    if reg.requires_resident:
        flags.append("rows of persons absent from the population register are orphans")
    if reg.non_overlapping:
        flags.append("periods of one person must not overlap")
    lines = [
        f"## {reg.name} — {reg.source}",
        "",
        f"Grain: {reg.grain}. Key: {', '.join(f'`{k}`' for k in reg.key)}."
        + "".join(f" {f.capitalize()}." for f in flags),
        "",
        "| column | type | required | content | allowed values |",
        "|---|---|---|---|---|",
    ]
    for c in reg.columns:
        required = "yes" if c.required else ""
        description, allowed = _escape(c.description), _escape(c.allowed)
        lines.append(f"| {c.name} | {c.type} | {required} | {description} | {allowed} |")
    return "\n".join(lines) + "\n"


def render_rules() -> str:
    """The validation rules a row can break, as Markdown."""
    lines = [
        "## Validation rules",
        "",
        "Ingest keeps every row that breaks one in the quarantine table, with the rule, the file,",
        "the row and the column. A row breaking several is quarantined for the first: the identity",
        "code, then the columns in contract order, then the rules across columns and rows.",
        "",
        "| rule | what it catches |",
        "|---|---|",
    ]
    lines += [f"| `{rule}` | {_escape(RULE_DESCRIPTIONS[rule])} |" for rule in RULES]
    return "\n".join(lines) + "\n"


def render() -> str:
    """The whole contract as Markdown."""
    sections = [render_register(r) for r in REGISTERS.values()] + [render_rules()]
    return HEADER + "".join("\n" + section for section in sections)
