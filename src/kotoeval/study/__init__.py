"""A study spec (TOML, validated) and the pipeline that runs it: cohort, then estimate.

Secure zone: the results folder holds aggregates that disclosure control has yet to release.
"""
