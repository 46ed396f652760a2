"""Parameters of the synthetic register world: scales, origin groups and planted effects.

Magnitudes follow public Finnish figures (Statistics Finland, Kela, the Espoo Skills Centre
evaluation in ``shared/seeds``); every number that shapes the truth is written to ``truth.json``.
"""

from __future__ import annotations

from dataclasses import asdict, dataclass, field
from typing import Any, Final, Literal

from kotoeval.errors import SpecError
from kotoeval.registers import codes
from kotoeval.registers.reference import load

ScaleName = Literal["tiny", "small", "espoo", "national"]
SCALES: Final[tuple[ScaleName, ...]] = ("tiny", "small", "espoo", "national")

FIRST_YEAR: Final = 2012
LAST_YEAR: Final = 2024
N_MONTHS: Final = 12 * (LAST_YEAR - FIRST_YEAR + 1)
#: The delivery is extracted after the last statistical year is complete.
EXTRACTION_DATE: Final = "2025-06-30"
#: Espoo's residents on 31 December 2020, the reference of the Espoo scale.
ESPOO_RESIDENTS: Final = 290_000
ESPOO: Final = "049"
#: Persons simulated together; chunks are independent given the seed, so memory stays flat.
CHUNK_PERSONS: Final = 40_000


# Code books: coded person attributes are indices into these.
COUNTRIES: Final = load("countries").codes
LANGUAGES: Final = codes.MOTHER_TONGUES
GROUNDS: Final = codes.PERMIT_GROUNDS
MUNICIPALITIES: Final = load("municipalities").codes


@dataclass(frozen=True)
class Scale:
    """How big the world is and where it lives."""

    name: ScaleName
    households: int
    national: bool


def scale(name: str) -> Scale:
    """The preset called ``name``."""
    # Households are calibrated so that residents on 31.12.2020 are ≈ the named population.
    presets = {
        "tiny": Scale("tiny", 1_800, national=False),
        "small": Scale("small", 17_800, national=False),
        "espoo": Scale("espoo", 178_000, national=False),
        "national": Scale("national", 2_900_000, national=True),
    }
    if name not in presets:
        raise SpecError(f"unknown scale {name!r}; choose one of {', '.join(SCALES)}")
    return presets[name]


@dataclass(frozen=True)
class OriginGroup:
    """Immigrants sharing a mother tongue: where from, why, with what education."""

    name: str
    language: str
    weight: float
    countries: dict[str, float]
    grounds: dict[str, float]
    education: tuple[float, float, float]
    """Shares of low (basic or less), middle (upper secondary) and high (tertiary) education."""
    learning_speed: float
    """Finnish-language progress in levels per year of residence."""
    labour_market: float
    """Group-level shift of the employment index (networks, recognition of qualifications)."""
    arrival_from: int = 1990
    arrival_growth: float = 0.06
    """Yearly growth of arrivals: later years receive more newcomers."""


HUMANITARIAN: Final = ("international_protection", "quota_refugee", "temporary_protection")

ORIGIN_GROUPS: Final[tuple[OriginGroup, ...]] = (
    OriginGroup(
        "russian",
        "ru",
        0.17,
        {"RU": 0.8, "EE": 0.08, "KZ": 0.06, "BY": 0.06},
        {"family": 0.45, "work": 0.2, "finnish_origin": 0.15, "study": 0.2},
        (0.12, 0.43, 0.45),
        0.9,
        -0.2,
        arrival_growth=0.0,
    ),
    OriginGroup(
        "estonian",
        "et",
        0.11,
        {"EE": 1.0},
        {"eu_registration": 1.0},
        (0.12, 0.63, 0.25),
        1.4,
        0.5,
        arrival_growth=-0.01,
    ),
    OriginGroup(
        "arabic",
        "ar",
        0.10,
        {"IQ": 0.55, "SY": 0.3, "EG": 0.05, "MA": 0.1},
        {"international_protection": 0.55, "quota_refugee": 0.12, "family": 0.28, "work": 0.05},
        (0.45, 0.33, 0.22),
        0.6,
        -0.5,
        arrival_from=2000,
    ),
    OriginGroup(
        "english",
        "en",
        0.07,
        {"GB": 0.3, "US": 0.35, "NG": 0.15, "AU": 0.1, "CA": 0.1},
        {"work": 0.5, "family": 0.3, "study": 0.2},
        (0.05, 0.25, 0.70),
        0.7,
        0.2,
    ),
    OriginGroup(
        "chinese",
        "zh",
        0.06,
        {"CN": 1.0},
        {"work": 0.4, "study": 0.35, "family": 0.25},
        (0.1, 0.25, 0.65),
        0.6,
        0.0,
    ),
    OriginGroup(
        "somali",
        "so",
        0.05,
        {"SO": 1.0},
        {"international_protection": 0.4, "family": 0.55, "quota_refugee": 0.05},
        (0.62, 0.28, 0.10),
        0.6,
        -0.6,
    ),
    OriginGroup(
        "persian",
        "fa",
        0.05,
        {"IR": 0.5, "AF": 0.5},
        {"international_protection": 0.45, "quota_refugee": 0.15, "family": 0.2, "work": 0.2},
        (0.35, 0.30, 0.35),
        0.7,
        -0.4,
        arrival_from=2000,
    ),
    OriginGroup(
        "vietnamese",
        "vi",
        0.04,
        {"VN": 1.0},
        {"family": 0.5, "work": 0.4, "study": 0.1},
        (0.40, 0.40, 0.20),
        0.6,
        0.1,
    ),
    OriginGroup(
        "ukrainian",
        "uk",
        0.09,
        {"UA": 1.0},
        {"work": 0.7, "family": 0.3},
        (0.1, 0.45, 0.45),
        0.9,
        -0.1,
        arrival_from=2000,
        arrival_growth=0.1,
    ),
    OriginGroup(
        "south_asian",
        "hi",
        0.07,
        {"IN": 0.7, "NP": 0.15, "PK": 0.1, "BD": 0.05},
        {"work": 0.6, "study": 0.2, "family": 0.2},
        (0.05, 0.25, 0.70),
        0.6,
        0.3,
        arrival_from=2000,
        arrival_growth=0.12,
    ),
    OriginGroup(
        "kurdish",
        "ku",
        0.03,
        {"IQ": 0.6, "TR": 0.2, "IR": 0.2},
        {"international_protection": 0.6, "family": 0.4},
        (0.5, 0.3, 0.2),
        0.6,
        -0.5,
    ),
    OriginGroup(
        "other_eu",
        "de",
        0.06,
        {"DE": 0.3, "ES": 0.2, "FR": 0.15, "PL": 0.15, "RO": 0.2},
        {"eu_registration": 1.0},
        (0.1, 0.35, 0.55),
        0.8,
        0.3,
    ),
    OriginGroup(
        "african",
        "ti",
        0.04,
        {"ER": 0.4, "ET": 0.3, "CD": 0.2, "KE": 0.1},
        {"international_protection": 0.4, "family": 0.4, "quota_refugee": 0.2},
        (0.5, 0.3, 0.2),
        0.6,
        -0.4,
    ),
    OriginGroup(
        "other_asian",
        "tl",
        0.06,
        {"PH": 0.4, "TH": 0.4, "MM": 0.2},
        {"family": 0.5, "work": 0.4, "study": 0.1},
        (0.3, 0.45, 0.25),
        0.7,
        0.2,
    ),
)

#: Mother tongue per country where it differs from the group's (e.g. Spanish speakers).
COUNTRY_LANGUAGE: Final = {
    "ES": "es",
    "FR": "fr",
    "PL": "pl",
    "RO": "ro",
    "NP": "ne",
    "PK": "ur",
    "BD": "bn",
    "TH": "th",
    "MM": "xx",
    "ET": "am",
    "CD": "fr",
    "KE": "en",
    "TR": "tr",
    "AF": "fa",
    "NG": "en",
}

#: Daily labour market subsidy (= basic unemployment allowance), euros, by year (Kela).
DAILY_BASIC_ALLOWANCE: Final = {
    2012: 31.36,
    2013: 32.46,
    2014: 32.68,
    2015: 32.80,
    2016: 32.68,
    2017: 32.40,
    2018: 32.40,
    2019: 33.66,
    2020: 33.78,
    2021: 33.87,
    2022: 34.50,
    2023: 37.21,
    2024: 37.21,
}


@dataclass(frozen=True)
class ProgrammeParameters:
    """A programme: who is eligible, how many enter, and what it does to them."""

    service: Literal["oske", "koske"]
    first_year: int
    clients_per_year: int
    """At the Espoo scale; clients scale with Espoo's residents in the world."""
    duration_months: tuple[int, int]
    lock_in: float
    """Shift of the employment index while participating (negative: less time for work)."""
    employment_effect: float
    """Shift of the employment index after participation, reached after ``ramp_months``."""
    ramp_months: int
    vocational_start_multiplier: float
    """Multiplier of the vocational-start hazard during and up to 24 months after entry."""
    expert_effect: float
    """Added probability of an expert occupation when employed, after participation."""
    language_gain: float
    """Finnish-language levels gained by participating."""
    min_education: int
    """Lowest registered ISCED level of the eligible (-1: no degree known)."""
    max_education: int


OSKE: Final = ProgrammeParameters(
    service="oske",
    first_year=2019,
    clients_per_year=600,
    duration_months=(6, 10),
    lock_in=-0.55,
    employment_effect=0.12,
    ramp_months=18,
    vocational_start_multiplier=1.45,
    expert_effect=0.0,
    language_gain=0.8,
    min_education=-1,
    max_education=4,
)
KOSKE: Final = ProgrammeParameters(
    service="koske",
    first_year=2021,
    clients_per_year=300,
    duration_months=(4, 9),
    lock_in=-0.5,
    employment_effect=0.2,
    ramp_months=6,
    vocational_start_multiplier=1.0,
    expert_effect=0.15,
    language_gain=0.5,
    min_education=6,
    max_education=8,
)
PROGRAMMES: Final = (OSKE, KOSKE)


@dataclass(frozen=True)
class WorldParameters:
    """Everything else that shapes lives; written into ``truth.json``."""

    employment_persistence: float = 0.97
    """Monthly autocorrelation of the employment shock: spells last."""
    ability_loading: float = 0.6
    vocational_completed_employment: float = 1.9
    vocational_dropped_employment: float = 1.25
    vocational_completed_wage: float = 0.15
    vocational_dropped_wage: float = 0.08
    vocational_hazard_intercept: float = -5.85
    vocational_unemployed_shift: float = 2.5
    """Registered unemployed newcomers are steered to vocational education."""
    vocational_completion_intercept: float = 1.6
    # Heterogeneity of programme effects (multipliers of the employment effect and of the
    # vocational-start multiplier's excess over 1).
    effect_young: float = 1.35
    effect_old: float = 0.6
    effect_female: float = 1.15
    effect_low_language: float = 0.75
    effect_by_origin: tuple[tuple[str, float], ...] = (
        ("mena", 1.25), ("sub_saharan_africa", 1.25), ("former_ussr", 0.85), ("eu_efta", 0.8),
    )  # fmt: skip
    """Multipliers by world region of birth (others 1): those furthest from work gain most."""
    confounding: float = 0.0
    """Strength of an unobserved confounder of selection and outcomes (0 = none)."""
    programmes: tuple[ProgrammeParameters, ...] = field(default=PROGRAMMES)

    def as_dict(self) -> dict[str, Any]:
        """Plain dictionary for ``truth.json``."""
        return asdict(self)
