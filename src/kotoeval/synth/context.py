"""What the monthly loop reads: worlds, status codes, and per-person arrays laid out by month."""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt

from kotoeval.synth.background import Background
from kotoeval.synth.people import People

Ints = npt.NDArray[np.int64]
Bools = npt.NDArray[np.bool_]

#: The two potential worlds: without the programmes, and with them (the recorded one).
WORLDS = 2
WITHOUT, WITH = 0, 1

#: Job-seeker status codes of the simulation (refined into the contract's statuses on output).
IDLE, UNEMPLOYED, IN_SERVICES = 0, 1, 2


@dataclass
class Context:
    """Per-person arrays the loop reads every month, computed once (months on the first axis)."""

    people: People
    born: Ints
    start: Ints
    end: Ints
    arrival: Ints
    shock: npt.NDArray[np.float32]
    studying: Bools
    training: Bools
    observed_language: npt.NDArray[np.int8]
    vocational_field: npt.NDArray[np.int16]

    @classmethod
    def of(cls, people: People, bg: Background) -> Context:
        """The context of a chunk (or of a subset of it)."""
        return cls(
            people=people,
            born=people.born_month,
            start=people.start,
            end=people.end,
            arrival=people.arrival,
            shock=np.ascontiguousarray(bg.shock.T),
            studying=np.ascontiguousarray(bg.studying.T),
            training=np.ascontiguousarray(bg.training.T),
            observed_language=np.ascontiguousarray(bg.observed_language.T),
            vocational_field=bg.vocational_field.astype(np.int16),
        )

    def resident(self, m: int) -> Bools:
        """Resident in month ``m``."""
        return (self.start <= m) & (m < self.end)

    def in_espoo(self, m: int, espoo: int) -> Bools:
        """Living in Espoo (municipality index ``espoo``) in month ``m``."""
        return self.people.municipality(m) == espoo
