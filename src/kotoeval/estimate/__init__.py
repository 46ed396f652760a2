"""Propensity scores, matching, weighting, balance, effects, trajectories and subgroups.

Pure functions on person-level arrays, in the secure zone. Not built yet.
"""
