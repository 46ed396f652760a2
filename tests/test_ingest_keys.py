"""The project key and pseudonyms: stable, unlinkable across keys, and never the code itself."""

from __future__ import annotations

import datetime
import stat
from pathlib import Path

import numpy as np
import pytest
from hypothesis import given
from hypothesis import strategies as st
from typer.testing import CliRunner

from kotoeval.cli import app
from kotoeval.errors import KeyFileError
from kotoeval.ingest.keys import KEY_BYTES, derived_key, generate_key, load_key
from kotoeval.ingest.pseudonym import PID_HEX_DIGITS, derived, normalise_hetu, pseudonym
from kotoeval.registers.hetu import compose

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
    kept = derived("131052-308T")
    assert (kept.birth_year, kept.birth_month, kept.sex) == (1952, 10, 2)
    assert derived("010594Y302N").birth_year == 1994
    assert derived("020502E302K").birth_year == 2002
    assert not hasattr(kept, "birth_day")


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
