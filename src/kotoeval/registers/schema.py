"""The input contract as code: one :class:`Register` per register of REGISTERS.md.

This is the single source the synthetic world writes, ingest validates and the documentation is
generated from (:mod:`kotoeval.registers.docs`). Extend it with new optional columns or codes;
never change the meaning of an existing one.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Final, Literal

from kotoeval.errors import SpecError
from kotoeval.registers import codes
from kotoeval.registers.reference import Classification

ColumnType = Literal["text", "int", "decimal", "date", "month"]
Pseudonym = Literal["person", "employer", "family"]


@dataclass(frozen=True)
class Column:
    """One column of a register and every rule a value of it must pass."""

    name: str
    type: ColumnType
    description: str
    required: bool = True
    codes: tuple[str, ...] | None = None
    reference: Classification | None = None
    pattern: str | None = None
    minimum: float | None = None
    maximum: float | None = None
    pseudonym: Pseudonym | None = None
    range_rule: str = "value_out_of_range"
    """The rule a value below ``minimum`` or above ``maximum`` breaks."""

    @property
    def allowed(self) -> str:
        """Human-readable rule of allowed values, for docs and error messages."""
        if self.codes is not None:
            return ", ".join(f"`{c}`" for c in self.codes)
        if self.reference is not None:
            return f"code of the `{self.reference}` classification"
        if self.pattern is not None:
            return f"matches `{self.pattern}`"
        if self.minimum is not None or self.maximum is not None:
            lo = "" if self.minimum is None else f"{self.minimum:g}"
            hi = "" if self.maximum is None else f"{self.maximum:g}"
            return f"{lo}…{hi}"
        return ""


@dataclass(frozen=True)
class Register:
    """A register as an organisation delivers it."""

    name: str
    source: str
    grain: str
    columns: tuple[Column, ...]
    key: tuple[str, ...]
    """Columns that identify a row: two rows with the same key and other values conflict."""
    periods: tuple[tuple[str, str], ...] = ()
    """(start, end) column pairs where end must not precede start."""
    non_overlapping: bool = False
    """Periods of one person must not overlap (the job-seeker status history)."""
    requires_resident: bool = False
    """Rows of persons never found in the population register are orphans (``unlinked``)."""

    @property
    def column_names(self) -> tuple[str, ...]:
        """Names of the columns in contract order."""
        return tuple(c.name for c in self.columns)

    def column(self, name: str) -> Column:
        """The column called ``name``."""
        for c in self.columns:
            if c.name == name:
                return c
        raise SpecError(f"register {self.name!r} has no column {name!r}")


def _hetu() -> Column:
    return Column("hetu", "text", "person (Finnish personal identity code)", pseudonym="person")


def _date(name: str, description: str = "", required: bool = True) -> Column:
    return Column(name, "date", description, required=required)


POPULATION = Register(
    name="population",
    source="Statistics Finland",
    grain="one row per person per year, status on 31 December",
    columns=(
        _hetu(),
        Column("year", "int", "statistical year", minimum=1900, maximum=2100),
        Column(
            "municipality",
            "text",
            "3-digit municipality code of residence",
            reference="municipalities",
        ),
        Column("sex", "int", "1 male, 2 female; must agree with hetu", codes=("1", "2")),
        Column(
            "country_of_birth", "text", "ISO 3166-1 alpha-2 (`XX` unknown)", pattern="^[A-Z]{2}$"
        ),
        Column("citizenship", "text", "ISO 3166-1 alpha-2", pattern="^[A-Z]{2}$"),
        Column(
            "language",
            "text",
            "registered mother tongue, ISO 639-1 (`xx` unknown)",
            pattern="^[a-z]{2}$",
        ),
        _date("immigration_date", "first immigration to Finland; empty if born in Finland", False),
        Column(
            "education_level",
            "int",
            "ISCED 2011 level of the highest degree known in Finland",
            required=False,
            codes=tuple(str(level) for level in codes.DEGREE_LEVELS),
        ),
        Column(
            "education_field",
            "text",
            "ISCED-F 2013 broad field of that degree",
            required=False,
            codes=codes.EDUCATION_FIELDS,
        ),
        Column(
            "main_activity",
            "int",
            "main type of activity on 31 December",
            codes=tuple(str(k) for k in codes.MAIN_ACTIVITY),
        ),
        Column("family_id", "text", "family identifier", required=False, pseudonym="family"),
        Column("children", "int", "children under 18 in the family", minimum=0, maximum=30),
        Column(
            "disposable_income", "decimal", "annual disposable money income, euros", required=False
        ),
    ),
    key=("hetu", "year"),
)

RESIDENCE_PERMITS = Register(
    name="residence_permits",
    source="Finnish Immigration Service",
    grain="one row per permit",
    columns=(
        _hetu(),
        _date("permit_start"),
        _date("permit_end", "empty while valid", required=False),
        Column("ground", "text", "ground of the permit", codes=codes.PERMIT_GROUNDS),
        Column("permit_type", "text", "type of the permit", codes=codes.PERMIT_TYPES),
    ),
    key=("hetu", "permit_start"),
    periods=(("permit_start", "permit_end"),),
)

EARNINGS = Register(
    name="earnings",
    source="Incomes Register",
    grain="one row per person, month and payer",
    columns=(
        _hetu(),
        Column("month", "month", "month of payment"),
        Column("employer", "text", "payer's business ID", pseudonym="employer"),
        Column(
            "wages_eur", "decimal", "wages paid, euros", minimum=0, range_rule="negative_amount"
        ),
        Column(
            "occupation",
            "text",
            "ISCO-08 4 digits; major groups 1–3 are expert occupations",
            required=False,
            pattern=r"^\d{4}$",
        ),
    ),
    key=("hetu", "month", "employer"),
)

BENEFITS = Register(
    name="benefits",
    source="Kela and unemployment funds",
    grain="one row per person, month and benefit",
    columns=(
        _hetu(),
        Column("month", "month", "month of payment"),
        Column("benefit", "text", "benefit", codes=codes.BENEFITS),
        Column(
            "amount_eur", "decimal", "amount paid, euros", minimum=0, range_rule="negative_amount"
        ),
        Column(
            "days", "int", "compensated days", minimum=0, maximum=31, range_rule="days_out_of_range"
        ),
    ),
    key=("hetu", "month", "benefit"),
    requires_resident=True,
)

JOBSEEKER_PERIODS = Register(
    name="jobseeker_periods",
    source="employment services register",
    grain="non-overlapping status periods per person",
    columns=(
        _hetu(),
        _date("start_date"),
        _date("end_date", "empty while ongoing", required=False),
        Column("status", "text", "job-seeker status", codes=codes.JOBSEEKER_STATUSES),
        Column(
            "employment_area",
            "text",
            "employment area that serves the person",
            reference="employment_areas",
        ),
    ),
    key=("hetu", "start_date"),
    periods=(("start_date", "end_date"),),
    non_overlapping=True,
    requires_resident=True,
)

SERVICE_PLANS = Register(
    name="service_plans",
    source="employment services and Koto-AJ",
    grain="one row per plan",
    columns=(
        _hetu(),
        Column("plan", "text", "kind of plan", codes=codes.PLANS),
        _date("start_date"),
        _date("end_date", "empty while in force", required=False),
        Column("municipality", "text", "responsible municipality", reference="municipalities"),
    ),
    key=("hetu", "plan", "start_date"),
    periods=(("start_date", "end_date"),),
    requires_resident=True,
)

SERVICES = Register(
    name="services",
    source="cities, Skills Centres and employment services",
    grain="one row per service episode",
    columns=(
        _hetu(),
        Column("service", "text", "service", codes=codes.SERVICES),
        Column("provider", "text", "provider code"),
        _date("referral_date", "when the person was referred", required=False),
        _date("start_date"),
        _date("end_date", "empty while ongoing", required=False),
        Column(
            "end_reason",
            "text",
            "why the episode ended; empty while ongoing",
            required=False,
            codes=codes.END_REASONS,
        ),
        Column(
            "municipality",
            "text",
            "municipality that arranges the service",
            reference="municipalities",
        ),
    ),
    key=("hetu", "service", "start_date"),
    periods=(("start_date", "end_date"), ("referral_date", "start_date")),
    requires_resident=True,
)

EDUCATION = Register(
    name="education",
    source="student and degree registers",
    grain="one row per study right",
    columns=(
        _hetu(),
        Column("programme", "text", "kind of programme", codes=codes.PROGRAMMES),
        Column("field", "text", "ISCED-F 2013 broad field", codes=codes.EDUCATION_FIELDS),
        _date("start_date"),
        _date("end_date", "empty while ongoing", required=False),
        Column("outcome", "text", "how the study right ended", codes=codes.EDUCATION_OUTCOMES),
    ),
    key=("hetu", "programme", "start_date"),
    periods=(("start_date", "end_date"),),
)

LANGUAGE_TESTS = Register(
    name="language_tests",
    source="Finnish or Swedish skill assessments and tests",
    grain="one row per test and skill",
    columns=(
        _hetu(),
        _date("test_date"),
        Column("language", "text", "language tested", codes=codes.TEST_LANGUAGES),
        Column("skill", "text", "skill", codes=codes.SKILLS),
        Column("level", "text", "ordered level", codes=codes.LANGUAGE_LEVELS),
        Column("assessment", "text", "kind of assessment", codes=codes.ASSESSMENTS),
    ),
    key=("hetu", "test_date", "language", "skill", "assessment"),
)

REGISTERS: Final[dict[str, Register]] = {
    r.name: r
    for r in (
        POPULATION,
        RESIDENCE_PERMITS,
        EARNINGS,
        BENEFITS,
        JOBSEEKER_PERIODS,
        SERVICE_PLANS,
        SERVICES,
        EDUCATION,
        LANGUAGE_TESTS,
    )
}


def register(name: str) -> Register:
    """The register called ``name``, with a clear error for an unknown name."""
    try:
        return REGISTERS[name]
    except KeyError:
        raise SpecError(
            f"unknown register {name!r}; the contract has {', '.join(REGISTERS)}"
        ) from None
