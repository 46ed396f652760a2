"""kotoeval: evaluate integration and employment services for immigrants from linked registers.

The public face is small on purpose: the command line (``kotoeval``) is the main entry point,
and the rooms below are imported by name. See the README for a tour.
"""

__version__ = "0.1.0"

from kotoeval.errors import KotoevalError

__all__ = ["KotoevalError", "__version__"]
