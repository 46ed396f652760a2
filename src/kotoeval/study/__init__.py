"""A study spec (TOML, validated) and the pipeline that runs it: cohort, estimate, disclose.

Secure zone. Not built yet.
"""
