"""Disclosure control and release bundles: the only way out of the secure zone.

Rules and suppression are pure functions on tables (``rules``, ``counts``, ``magnitude``,
``outputs``, ``results``, with the LP audit in ``audit``); ``bundle`` writes and reads the
immutable release folder.
"""

from kotoeval.disclose.bundle import Bundle, read_bundle, write_bundle
from kotoeval.disclose.counts import CountTable, check_counts, with_margins
from kotoeval.disclose.results import check_results
from kotoeval.disclose.rules import PRESETS, RuleSet, rule_set

__all__ = [
    "PRESETS", "Bundle", "CountTable", "RuleSet", "check_counts", "check_results",
    "read_bundle", "rule_set", "with_margins", "write_bundle",
]  # fmt: skip
