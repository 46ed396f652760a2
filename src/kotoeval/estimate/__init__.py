"""Propensity models, matching, weighting, balance, effects, trajectories and subgroups: pure functions on arrays (secure zone). Not built yet."""
