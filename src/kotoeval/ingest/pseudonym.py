"""Identity codes in, pseudonyms out.

``pid = HMAC-SHA256(key, normalised code)``, kept to its first 128 bits as 32 hexadecimal
digits: a collision among even a hundred million persons has a probability below 10⁻²⁰. Only
the birth year-month and sex derived from the code are kept beside it, never the birth date.
"""

from __future__ import annotations

import hashlib
import hmac
from collections.abc import Iterable

import numpy as np
import numpy.typing as npt
import pyarrow as pa
from stdnum.exceptions import ValidationError
from stdnum.fi import hetu as stdnum_hetu

from kotoeval.registers.hetu import INVALID, VALID, read_codes

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
    return pseudonyms(key, [normalised])[0]


def pseudonyms(key: bytes, normalised: Iterable[str]) -> list[str]:
    """Pseudonyms of many normalised codes (or other identifiers), in order."""
    keyed = hmac.new(key, digestmod=hashlib.sha256)
    out = []
    for code in normalised:
        mac = keyed.copy()
        mac.update(code.encode("utf-8"))
        out.append(mac.hexdigest()[:PID_HEX_DIGITS])
    return out


PERSON_MAP = pa.schema(
    [
        ("pkey", pa.int64()),
        ("code", pa.string()),
        ("pid", pa.string()),
        ("problem", pa.string()),
        ("birth_year", pa.int32()),
        ("birth_month", pa.int32()),
        ("sex", pa.int64()),
    ]
)
"""Identity code → pseudonym, the rule an invalid code breaks, and what may be kept of it.

``pkey`` numbers the codes within one ingest run: joins and windows over a number are far
cheaper than over a 32-character pseudonym. It is never stored in the warehouse.
"""


def person_map(key: bytes, codes: Iterable[str], first: int = 0) -> pa.Table:
    """Pseudonymise distinct compact identity codes; classify the invalid ones.

    ``codes`` are compacted as :func:`normalise_hetu` does (white space around removed, upper
    case). An invalid code still gets a pseudonym, so its quarantined rows can be told apart
    and linked to each other, but no birth month or sex.
    """
    codes = list(codes)
    facts = read_codes(codes)
    valid = facts.status == VALID
    problem = np.where(facts.status == INVALID, "hetu_invalid", "hetu_checksum")

    def kept(values: npt.NDArray[np.int64], kind: pa.DataType) -> pa.Array:
        return pa.array(values, kind, mask=~valid)

    return pa.table(
        [
            pa.array(np.arange(first, first + len(codes)), pa.int64()),
            pa.array(codes, pa.string()),
            pa.array(pseudonyms(key, codes), pa.string()),
            pa.array(problem, pa.string(), mask=valid),
            kept(facts.birth_year, pa.int32()),
            kept(facts.birth_month, pa.int32()),
            kept(facts.sex, pa.int64()),
        ],
        schema=PERSON_MAP,
    )


def identifier_map(key: bytes, values: Iterable[str], first: int = 0) -> pa.Table:
    """Pseudonymise distinct employer or family identifiers (``code`` → ``pid``, ``pkey``)."""
    values = list(values)
    return pa.table(
        {
            "pkey": pa.array(range(first, first + len(values)), pa.int64()),
            "code": pa.array(values, pa.string()),
            "pid": pa.array(pseudonyms(key, values), pa.string()),
        }
    )
