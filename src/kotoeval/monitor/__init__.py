"""Indicator definitions (data) and their computation over the warehouse (Ibis).

Secure zone. Not built yet.
"""
