"""Propensity scores, matching, weighting, balance, effects, trajectories and subgroups.

Pure functions on person-level arrays, in the secure zone: tables in, tables out, no engine
and no files. :func:`compare` is the public face, usable on any table (pandas or Arrow).
"""

from kotoeval.estimate.compare import Adjusted, Comparison, Options, adjust, compare, effects

__all__ = ["Adjusted", "Comparison", "Options", "adjust", "compare", "effects"]
