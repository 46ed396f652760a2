"""The translation catalogue: every text in fi, sv and en, with the same fields."""

from __future__ import annotations

import string

import pytest

from kotoeval.errors import SpecError
from kotoeval.i18n import LANGUAGES, Texts, catalogue
from kotoeval.outcomes import OUTCOMES


def _fields(text: str) -> set[str]:
    return {name for _, name, _, _ in string.Formatter().parse(text) if name}


def test_every_text_has_every_language_and_the_same_fields() -> None:
    texts = catalogue()
    assert len(texts) > 100
    for key, by_language in texts.items():
        assert set(by_language) == set(LANGUAGES), key
        fields = {lang: _fields(text) for lang, text in by_language.items()}
        assert fields["fi"] == fields["sv"] == fields["en"], key
        assert all(text.strip() for text in by_language.values()), key


def test_every_outcome_has_a_name_in_every_language() -> None:
    for lang in LANGUAGES:
        t = Texts(lang)
        for outcome in OUTCOMES:
            assert t.outcome(outcome) != outcome, (lang, outcome)
    assert Texts("fi").outcome("earnings_y2") == "Ansiotulot 2. vuonna"
    assert Texts("sv").outcome("earnings_y2") == "Förvärvsinkomster år 2"


def test_numbers_are_written_the_language_s_way() -> None:
    assert Texts("fi").number(12345.678, 1) == "12\u00a0345,7"
    assert Texts("sv").number(-0.5, 2, sign=True) == "\u22120,50"
    assert Texts("en").number(12345.678, 1, sign=True) == "+12,345.7"
    assert Texts("en").number(float("nan")) == "–"


def test_unknown_language_and_key_are_clear_errors() -> None:
    with pytest.raises(SpecError, match="unknown language 'de'; choose one of fi, sv, en"):
        Texts("de")
    with pytest.raises(KeyError, match="not in the translation catalogue"):
        Texts("fi")("report.nonexistent")
