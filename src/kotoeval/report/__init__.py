"""Figures and the HTML/PDF report, made from a released bundle.

Open zone: reads released bundles only (``kotoeval.disclose.bundle.read_bundle``).
"""

from kotoeval.report.html import render, write_report
from kotoeval.report.pdf import to_pdf

__all__ = ["render", "to_pdf", "write_report"]
