"""The project key and pseudonyms: stable, unlinkable across keys, and never the code itself."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from stdnum.exceptions import InvalidChecksum, ValidationError
from stdnum.fi import hetu as stdnum_hetu
from typer.testing import CliRunner

from kotoeval.cli import app
from kotoeval.errors import KeyFileError
from kotoeval.ingest.keys import KEY_BYTES, derived_key, generate_key, load_key
from kotoeval.ingest.pseudonym import PID_HEX_DIGITS, normalise_hetu, person_map, pseudonym
from kotoeval.registers.hetu import (
    CHECK_CHARACTERS,
    INVALID,
    VALID,
    WRONG_CHECK_CHARACTER,
    compose,
    read_codes,
)

KEY_A = bytes(range(KEY_BYTES))
KEY_B = bytes(range(1, KEY_BYTES + 1))

codes = st.builds(
    lambda day, individual, sign: str(
        compose(
            np.array([day.year]), np.array([day.month]), np.array([day.day]),
            np.array([individual]), np.array([sign]),
        )[0]
    ),
    st.dates(min_value=datetime.date(1850, 1, 1), max_value=datetime.date(2099, 12, 31)),
    st.integers(min_value=2, max_value=999),
    st.integers(min_value=0, max_value=5),
)  # fmt: skip


@given(codes, st.sampled_from(["", " ", "  "]), st.booleans())
def test_normalisation_ignores_case_and_spaces(code: str, pad: str, lower: bool) -> None:
    messy = pad + (code.lower() if lower else code) + pad
    assert normalise_hetu(messy) == normalise_hetu(code) == code


@given(codes, st.integers(min_value=0, max_value=10))
def test_a_broken_check_character_is_invalid(code: str, shift: int) -> None:
    alphabet = "0123456789ABCDEFHJKLMNPRSTUVWXY"
    wrong = alphabet[(alphabet.index(code[-1]) + 1 + shift) % len(alphabet)]
    assert normalise_hetu(code[:-1] + wrong) is None


@given(codes)
def test_pseudonyms_are_stable_and_unlinkable_across_keys(code: str) -> None:
    first = pseudonym(KEY_A, code)
    assert first == pseudonym(KEY_A, normalise_hetu(" " + code.lower()) or "")
    assert len(first) == PID_HEX_DIGITS and code not in first
    assert pseudonym(KEY_B, code) != first
    assert pseudonym(derived_key(KEY_A, "family"), code) != first


@given(st.lists(codes, min_size=20, max_size=60, unique=True))
def test_no_pseudonym_is_shared_between_keys(many: list[str]) -> None:
    under_a = {pseudonym(KEY_A, c) for c in many}
    under_b = {pseudonym(KEY_B, c) for c in many}
    assert len(under_a) == len(many) and not under_a & under_b


def test_only_birth_month_and_sex_are_derived() -> None:
    kept = person_map(KEY_A, ["131052-308T", "010594Y302N", "020502E302K", "131052-308U"])
    assert kept.column_names == [
        "pkey", "code", "pid", "problem", "birth_year", "birth_month", "sex",
    ]  # fmt: skip
    assert kept.column("birth_year").to_pylist() == [1952, 1994, 2002, None]
    assert kept.column("birth_month").to_pylist() == [10, 5, 5, None]
    assert kept.column("sex").to_pylist() == [2, 2, 2, None]
    assert kept.column("problem").to_pylist() == [None, None, None, "hetu_checksum"]


def _stdnum_status(code: str) -> int:
    try:
        stdnum_hetu.validate(code, allow_temporary=True)
    except InvalidChecksum:
        return WRONG_CHECK_CHARACTER
    except ValidationError:
        return INVALID
    return VALID


#: Characters a damaged code may take: digits, signs, check characters, case, space, others.
_NOISE = "0123456789+-ABCDEFUVWXYZabcuy :/\tä١"


@given(
    st.lists(
        st.tuples(codes, st.lists(st.tuples(st.integers(0, 11), st.sampled_from(_NOISE)))),
        min_size=1,
        max_size=40,
    )
)
def test_the_vectorised_check_decides_as_stdnum(damaged: list[tuple[str, list]]) -> None:
    """Valid codes with characters replaced or added anywhere: the same verdict as stdnum's."""
    batch = []
    for code, edits in damaged:
        chars = list(code)
        for position, char in edits:
            if position < len(chars) and position % 2:
                chars[position] = char
            else:
                chars.insert(min(position, len(chars)), char)
        batch.append("".join(chars))
    facts = read_codes(batch)
    assert facts.status.tolist() == [_stdnum_status(c) for c in batch]
    for i, code in enumerate(batch):
        if facts.status[i] == VALID:
            compact = stdnum_hetu.compact(code)
            assert facts.birth_month[i] == int(compact[2:4])
            assert facts.sex[i] == (1 if int(compact[7:10]) % 2 else 2)


@given(st.dates(), st.integers(0, 999), st.sampled_from(CHECK_CHARACTERS))
def test_every_date_and_individual_number_is_judged_as_stdnum(
    day: datetime.date, individual: int, check: str
) -> None:
    """All dates (leap days, day 31 of short months) and individual numbers 000–999."""
    for sign in "+-YXWVUABCDEFG":
        code = f"{day:%d%m%y}{sign}{individual:03d}{check}"
        assert read_codes([code]).status[0] == _stdnum_status(code)


def test_keygen_writes_a_private_key_once(tmp_path: Path) -> None:
    key_file = tmp_path / "project.key"
    result = CliRunner().invoke(app, ["keygen", "--out", str(key_file)])
    assert result.exit_code == 0
    assert stat.S_IMODE(key_file.stat().st_mode) == 0o600
    key = load_key(key_file)
    assert len(key) == KEY_BYTES and key.hex() not in result.output
    with pytest.raises(KeyFileError, match="exists already"):
        generate_key(key_file)
    assert load_key(key_file) == key


def test_a_key_others_can_read_is_refused(tmp_path: Path) -> None:
    key_file = tmp_path / "project.key"
    generate_key(key_file)
    key_file.chmod(0o644)
    with pytest.raises(KeyFileError, match="chmod 600"):
        load_key(key_file)
    key_file.chmod(0o600)
    key_file.write_text("not a key\n")
    with pytest.raises(KeyFileError, match="64 hexadecimal digits"):
        load_key(key_file)
    with pytest.raises(KeyFileError, match="kotoeval keygen"):
        load_key(tmp_path / "missing.key")


def test_a_key_in_a_missing_folder_is_a_clear_error(tmp_path: Path) -> None:
    with pytest.raises(KeyFileError, match="cannot create"):
        generate_key(tmp_path / "missing" / "project.key")
