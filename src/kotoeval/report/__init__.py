"""Figures and the HTML/PDF report from a release bundle (open zone: released bundles only). Not built yet."""
