"""A chunk of the world: its people, their background, lives and money, and text helpers.

Register rows are built from the recorded world (world 1) of a chunk; every register table is
text in the contract's format, with nulls for empty fields.
"""

from __future__ import annotations

from dataclasses import dataclass

import numpy as np
import numpy.typing as npt
import pyarrow as pa

from kotoeval.synth.background import Background, draw_background
from kotoeval.synth.context import WITH
from kotoeval.synth.lives import Lives, simulate
from kotoeval.synth.money import Money, monthly_money
from kotoeval.synth.params import WorldParameters
from kotoeval.synth.people import People

Ints = npt.NDArray[np.int64]


@dataclass
class Chunk:
    """Everything simulated for one chunk of whole families."""

    people: People
    bg: Background
    lives: Lives
    money: Money
    params: WorldParameters
    first_person: int
    """Index of the chunk's first person in the whole world (for stable identifiers)."""
    rng: np.random.Generator
    """Stream for drawing register details (days, providers, …) after the simulation."""

    @classmethod
    def simulate(
        cls,
        people: People,
        params: WorldParameters,
        first_person: int,
        seed: np.random.SeedSequence,
    ) -> Chunk:
        """Simulate the chunk from its own seed: chunks are independent given the world seed."""
        life_seed, detail_seed = seed.spawn(2)
        rng = np.random.default_rng(life_seed)
        bg = draw_background(people, params, rng)
        lives = simulate(people, bg, params, rng)
        money = monthly_money(people, bg, lives, params, rng)
        return cls(
            people, bg, lives, money, params, first_person, np.random.default_rng(detail_seed)
        )

    @property
    def hetu(self) -> pa.Array:
        """The persons' identity codes as text."""
        return pa.array(self.people.hetu, type=pa.binary(11)).cast(pa.string())

    def recorded(self, name: str) -> npt.NDArray:
        """A monthly array of the recorded world (persons × months)."""
        return getattr(self.lives, name)[WITH]


def text(values: npt.ArrayLike, missing: npt.ArrayLike | None = None) -> pa.Array:
    """Values as contract text (numbers in shortest form), ``missing`` as empty."""
    arr = np.asarray(values)
    if arr.dtype.kind == "f":
        arr = np.round(arr.astype(np.float64), 2)
    mask = None if missing is None else np.asarray(missing, dtype=bool)
    if arr.dtype.kind in "US":
        return pa.array(arr.astype(str), pa.string(), mask=mask)
    return pa.array(arr, mask=mask).cast(pa.string())


def codes_text(
    book: tuple[str, ...], index: npt.ArrayLike, missing: npt.ArrayLike | None = None
) -> pa.Array:
    """Code-book entries as text (``index`` into ``book``)."""
    idx = np.asarray(index, dtype=np.int64)
    mask = np.zeros(idx.shape, dtype=bool) if missing is None else np.asarray(missing, dtype=bool)
    taken = pa.array(np.where(mask, 0, idx), mask=mask)  # a null index takes a null
    return pa.array(list(book), pa.string()).take(taken)


def runs(flags: npt.NDArray[np.integer]) -> tuple[Ints, Ints, Ints, Ints]:
    """Runs of equal non-zero values along each row: (row, first, last, value), row-major."""
    n, t = flags.shape
    padded = np.zeros((n, t + 2), dtype=flags.dtype)
    padded[:, 1:-1] = flags
    change = padded[:, 1:] != padded[:, :-1]
    starts = change[:, :-1] & (padded[:, 1:-1] != 0)
    ends = change[:, 1:] & (padded[:, 1:-1] != 0)
    row, first = np.nonzero(starts)
    _, last = np.nonzero(ends)
    return row, first, last, flags[row, first].astype(np.int64)


def stable_hash(*parts: Ints) -> npt.NDArray[np.uint64]:
    """A deterministic 64-bit mix of integer arrays (splitmix64), for stable identifiers."""
    h = np.zeros(np.broadcast(*parts).shape, dtype=np.uint64)
    with np.errstate(over="ignore"):
        for p in parts:
            h = h ^ np.asarray(p).astype(np.uint64)
            h = (h + np.uint64(0x9E3779B97F4A7C15)) * np.uint64(0xBF58476D1CE4E5B9)
            h = (h ^ (h >> np.uint64(27))) * np.uint64(0x94D049BB133111EB)
            h = h ^ (h >> np.uint64(31))
    return h


def stable_uniform(*parts: Ints) -> npt.NDArray[np.float64]:
    """Deterministic uniform numbers in [0, 1) from integer arrays (see :func:`stable_hash`)."""
    return (stable_hash(*parts) >> np.uint64(11)).astype(np.float64) / 2.0**53
