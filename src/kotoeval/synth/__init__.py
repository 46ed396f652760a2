"""The synthetic register world: registers in the input contract, and the truth behind them.

``generate`` writes a world; ``kotoeval synth`` is its command line. Lives are simulated month
by month in two potential worlds (without and with the programmes) from the same random draws,
so every client's true effect is known.
"""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

from kotoeval.synth.params import SCALES, WorldParameters

if TYPE_CHECKING:
    from kotoeval.synth.world import WorldSummary, generate

__all__ = ["SCALES", "WorldParameters", "WorldSummary", "generate"]


def __getattr__(name: str) -> Any:
    # The simulation imports SciPy (1.2 s): only when a world is made, not for every command.
    if name in ("WorldSummary", "generate"):
        from kotoeval.synth import world

        return getattr(world, name)
    raise AttributeError(f"module {__name__!r} has no attribute {name!r}")
