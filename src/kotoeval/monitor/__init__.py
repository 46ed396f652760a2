"""Indicator definitions (data) and their computation over the warehouse (secure zone). Not built yet."""
