"""The synthetic register world: registers in the input contract, and the truth behind them.

``generate`` writes a world; ``kotoeval synth`` is its command line. Lives are simulated month
by month in two potential worlds (without and with the programmes) from the same random draws,
so every client's true effect is known.
"""

from kotoeval.synth.params import SCALES, WorldParameters
from kotoeval.synth.world import WorldSummary, generate

__all__ = ["SCALES", "WorldParameters", "WorldSummary", "generate"]
