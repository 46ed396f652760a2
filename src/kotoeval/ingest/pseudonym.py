"""Identity codes in, pseudonyms out.

``pid = HMAC-SHA256(key, normalised code)``, kept to its first 128 bits as 32 hexadecimal
digits: a collision among even a hundred million persons has a probability below 10⁻²⁰. Only
the birth year-month and sex derived from the code are kept beside it, never the birth date.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable
from dataclasses import dataclass

from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.registers.hetu import CENTURY_SIGNS

PID_HEX_DIGITS = 32


def normalise_hetu(code: str | None) -> str | None:
    """The canonical form of an identity code (spaces stripped, upper case), or None if invalid.

    Temporary codes (individual numbers 900–999) are valid codes of persons, so they pass.
    """
    if code is None:
        return None
    candidate = code.strip().upper()
    try:
        return str(stdnum_hetu.validate(candidate, allow_temporary=True))
    except ValidationError:
        return None


def pseudonym(key: bytes, normalised: str) -> str:
    """The pseudonym of a normalised code (or any identifier) under ``key``."""
    digest = hmac.new(key, normalised.encode("ascii"), hashlib.sha256).hexdigest()
    return digest[:PID_HEX_DIGITS]


def pseudonyms(key: bytes, normalised: Iterable[str]) -> list[str]:
    """Pseudonyms of many normalised codes, in order."""
    return [pseudonym(key, code) for code in normalised]


@dataclass(frozen=True)
class Derived:
    """What may be kept of an identity code: birth year and month, and sex (1 male, 2 female)."""

    birth_year: int
    birth_month: int
    sex: int


def derived(normalised: str) -> Derived:
    """Birth year-month and sex of a normalised code."""
    century = {sign: c for c, signs in CENTURY_SIGNS.items() for sign in signs}
    year = century[normalised[6]] + int(normalised[4:6])
    return Derived(year, int(normalised[2:4]), 1 if int(normalised[7:10]) % 2 else 2)
