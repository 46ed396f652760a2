"""The project key: 256 random bits that turn identity codes into pseudonyms.

The key lives in a file outside the warehouse (mode 0600), is never written into the warehouse,
a log or a result, and is never printed. The same key gives the same pseudonyms across
registers and deliveries; another key gives pseudonyms that cannot be linked to them.
"""

from __future__ import annotations

import hashlib
import hmac
import os
import secrets
import stat
from pathlib import Path
from typing import Literal

from kotoeval.errors import KeyFileError

KEY_BYTES = 32
Purpose = Literal["person", "employer", "family"]


def generate_key(path: Path) -> None:
    """Write a new key to ``path`` (created with mode 0600); never overwrite one."""
    try:
        fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
    except FileExistsError:
        raise KeyFileError(
            f"{path} exists already. A new key makes every pseudonym unlinkable to earlier "
            "deliveries; if that is what you want, move the old key away yourself."
        ) from None
    except OSError as error:
        raise KeyFileError(f"cannot create {path}: {error.strerror}") from None
    with os.fdopen(fd, "w", encoding="ascii") as f:
        f.write(secrets.token_hex(KEY_BYTES) + "\n")


def load_key(path: Path) -> bytes:
    """Read a key written by :func:`generate_key`, refusing one that others can read."""
    try:
        mode = path.stat().st_mode
    except FileNotFoundError:
        raise KeyFileError(
            f"no key file at {path}; make one with: kotoeval keygen --out {path}"
        ) from None
    if mode & (stat.S_IRWXG | stat.S_IRWXO):
        mode_text = f"{stat.S_IMODE(mode):o}"
        raise KeyFileError(
            f"{path} can be read by other users (mode {mode_text}); run: chmod 600 {path}"
        )
    text = path.read_text(encoding="ascii", errors="replace").strip()
    try:
        key = bytes.fromhex(text)
    except ValueError:
        key = b""
    if len(key) != KEY_BYTES:
        raise KeyFileError(f"{path} is not a kotoeval key ({KEY_BYTES * 2} hexadecimal digits)")
    return key


def derived_key(key: bytes, purpose: Purpose) -> bytes:
    """A separate key per kind of identifier.

    Employer and family pseudonyms can then never be matched with person pseudonyms.
    """
    if purpose == "person":
        return key
    return hmac.new(key, f"kotoeval/{purpose}".encode(), hashlib.sha256).digest()


def key_check(key: bytes) -> str:
    """A value that identifies the key without revealing it (stored in ``meta``)."""
    return hmac.new(key, b"kotoeval key check", hashlib.sha256).hexdigest()[:16]
