"""``python -m kotoeval`` runs the command line."""

from kotoeval.cli import main

main()
