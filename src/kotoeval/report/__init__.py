"""Figures and the HTML/PDF report, made from a released bundle.

Open zone: reads released bundles only. Not built yet.
"""
