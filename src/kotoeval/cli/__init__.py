"""The ``kotoeval`` command line: a thin layer over the rooms."""

from kotoeval.cli.app import app, main

__all__ = ["app", "main"]
