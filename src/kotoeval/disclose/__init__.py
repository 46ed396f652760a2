"""Disclosure rules, suppression and the release bundle writer.

Pure functions on tables: the only way out of the secure zone. Not built yet.
"""
