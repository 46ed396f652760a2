"""The command-line reference as Markdown (``docs/cli.md``), generated from the commands."""

from __future__ import annotations

import typing
from typing import Any

import typer


def _type_name(annotation: Any) -> str:
    base = (
        typing.get_args(annotation)[0]
        if typing.get_origin(annotation) is typing.Annotated
        else annotation
    )
    names = [a.__name__ for a in typing.get_args(base)] or [getattr(base, "__name__", str(base))]
    return " or ".join(n for n in names if n != "NoneType")


def render(app: typer.Typer) -> str:
    """Every command with its options, in the order they are defined."""
    lines = [
        "# Command line (generated from `kotoeval.cli`; do not edit by hand)",
        "",
        "Regenerate with `kotoeval docs --out docs`.",
    ]
    group: Any = typer.main.get_command(app)
    for name, command in group.commands.items():
        lines += _command(f"kotoeval {name}", command)
    return "\n".join(lines) + "\n"


def _command(title: str, command: Any) -> list[str]:
    """A command's section; a group of commands (``kotoeval study``) gives one per subcommand."""
    if command.callback is None:
        out: list[str] = []
        for name, sub in command.commands.items():
            out += _command(f"{title} {name}", sub)
        return out
    hints = typing.get_type_hints(command.callback, include_extras=True)
    arguments = [p for p in command.params if p.param_type_name == "argument"]
    usage = " ".join([title, *(p.name.upper() for p in arguments)])
    lines = ["", f"## {usage}", "", (command.help or "").strip(), ""]
    lines += ["| option | type | default | meaning |", "|---|---|---|---|"]
    for param in command.params:
        if param.hidden:
            continue
        flag = " / ".join(f"`{o}`" for o in param.opts)
        if param.param_type_name == "argument":
            flag = f"`{param.name.upper()}`"
        default = "required" if param.required else f"`{param.default}`"
        kind = _type_name(hints[param.name])
        lines.append(f"| {flag} | {kind} | {default} | {getattr(param, 'help', None) or ''} |")
    return lines
