"""Disclosure rules, suppression and the release bundle writer: pure functions on tables. Not built yet."""
