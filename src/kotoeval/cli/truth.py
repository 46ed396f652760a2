"""The synthetic world's true effects over the clients a study compared.

A matched study estimates the effect on the clients it could match: the common support and the
caliper leave a few out, and clients whose outcome year lies beyond the data have no outcome.
Its benchmark is therefore the true effect over those same clients (the world also gives it over
all its clients, in ``truth.json``). The world knows identity codes and the study pseudonyms, so
linking the two takes the project key, as ingest did.
"""

from __future__ import annotations

from collections.abc import Set
from pathlib import Path

import numpy as np
import pyarrow.compute as pc
from pyarrow import feather

from kotoeval.ingest.pseudonym import normalise_hetu, pseudonyms
from kotoeval.synth.truth import effects_over
from kotoeval.synth.world import CLIENT_TRUTH

Effects = dict[str, dict[str, float | int]]


def compared_truth(world: Path, programme: str, key: bytes, compared: Set[str]) -> Effects:
    """True effects of ``programme`` over the clients whose pseudonyms are in ``compared``."""
    clients = feather.read_table(world / CLIENT_TRUTH)
    mine = clients.filter(pc.equal(clients["programme"], programme))
    codes = (normalise_hetu(code) or "" for code in mine["hetu"].to_pylist())
    rows = np.array([pid in compared for pid in pseudonyms(key, codes)], dtype=bool)
    return effects_over(mine, rows)
