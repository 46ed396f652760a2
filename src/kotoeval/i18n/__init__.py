"""The one translation catalogue: every text users read, in Finnish, Swedish and English.

``catalogue.toml`` holds each text as a table of ``fi``, ``sv`` and ``en`` strings (with
``str.format`` fields). Code asks for texts by key; a test checks that every key has all three
languages and the same fields in each.
"""

from __future__ import annotations

import math
import tomllib
from functools import cache
from importlib.resources import files
from typing import Final, Literal, get_args

from kotoeval.errors import SpecError

Language = Literal["fi", "sv", "en"]
LANGUAGES: Final[tuple[Language, ...]] = get_args(Language)


@cache
def catalogue() -> dict[str, dict[str, str]]:
    """Every text, flattened to dotted keys: ``{"report.title": {"fi": …, "sv": …, "en": …}}``."""
    raw = tomllib.loads(files(__package__).joinpath("catalogue.toml").read_text(encoding="utf-8"))
    flat: dict[str, dict[str, str]] = {}

    def walk(prefix: str, node: dict[str, object]) -> None:
        if set(node) <= set(LANGUAGES) and all(isinstance(v, str) for v in node.values()):
            flat[prefix] = node  # type: ignore[assignment]
            return
        for key, value in node.items():
            if isinstance(value, dict):
                walk(f"{prefix}.{key}" if prefix else key, value)

    walk("", raw)
    return flat


def language(code: str) -> Language:
    """Validate a language code."""
    if code not in LANGUAGES:
        raise SpecError(f"unknown language {code!r}; choose one of {', '.join(LANGUAGES)}")
    return code


class Texts:
    """The catalogue in one language, with number formats of that language."""

    def __init__(self, lang: str) -> None:
        self.lang = language(lang)
        self._texts = catalogue()

    def __call__(self, key: str, **fields: object) -> str:
        """The text ``key``, its fields filled in."""
        try:
            text = self._texts[key][self.lang]
        except KeyError:
            raise KeyError(f"text {key!r} is not in the translation catalogue") from None
        return text.format(**fields) if fields else text

    def has(self, key: str) -> bool:
        """Whether the catalogue has ``key``."""
        return key in self._texts

    def get(self, key: str, default: str) -> str:
        """The text ``key``, or ``default`` when the catalogue lacks it."""
        return self(key) if self.has(key) else default

    def outcome(self, outcome: str) -> str:
        """An outcome's name (``earnings_y2`` → "Earnings in year 2"); the id if unknown."""
        if self.has(f"outcome.{outcome}"):
            return self(f"outcome.{outcome}")
        stem, _, year = outcome.rpartition("_y")
        if year.isdigit() and self.has(f"outcome.{stem}"):
            return self(f"outcome.{stem}", year=year)
        return outcome

    def number(self, value: float | None, decimals: int = 0, sign: bool = False) -> str:
        """A number as the language writes it (fi and sv: 12 345,6; en: 12,345.6)."""
        if value is None or (isinstance(value, float) and math.isnan(value)):
            return "–"
        text = f"{value:{'+' if sign else ''},.{decimals}f}"
        if self.lang != "en":
            text = text.replace(",", "\u00a0").replace(".", ",")
        return text.replace("-", "\u2212")
