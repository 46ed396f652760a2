"""A study is a file: the TOML spec, validated with errors that name the key."""

from __future__ import annotations

import tomllib
from pathlib import Path
from typing import Literal

from pydantic import BaseModel, ConfigDict, Field, ValidationError, field_validator, model_validator

from kotoeval.cohort.spec import CohortSpec, Population, window_of
from kotoeval.disclose.rules import PRESETS
from kotoeval.errors import SpecError
from kotoeval.estimate.compare import Options
from kotoeval.estimate.event_study import REFERENCE_MONTH
from kotoeval.outcomes import OUTCOMES, PANEL_FIRST_MONTH, PANEL_LAST_MONTH
from kotoeval.outcomes.subgroups import SUBGROUP_VARIABLES

#: Covariates measured for every study (subgroups, income factors), matched on or not.
_MEASURED = ("age", "female", "world_region", "language_level", "education_level",
             "permit_ground", "years_in_finland")  # fmt: skip


class _Strict(BaseModel):
    model_config = ConfigDict(extra="forbid", frozen=True)


class TreatmentSpec(_Strict):
    """The service whose clients are the treated, and the months in which entry counts."""

    service: str
    entry_from: str = Field(pattern=r"^\d{4}-\d{2}$")
    entry_to: str = Field(pattern=r"^\d{4}-\d{2}$")


class PopulationSpec(_Strict):
    """Rules every person-month of the study meets (clients at entry, comparisons)."""

    municipalities: list[str] = []
    age: tuple[int, int] = (18, 64)
    immigrants: bool = True
    foreign_language: bool = True
    min_age_at_immigration: int = 16
    min_months_since_immigration: int = 0
    jobseeker_status: list[str] = []
    education_levels: list[int] | None = None
    no_degree: bool = True
    not_studying_in: list[str] = []
    not_in_services: list[str] = []
    not_earlier_clients_of: list[str] = []


class ComparisonSpec(_Strict):
    """Who can be a comparison, and what happens when a comparison enters later.

    ``not_yet_treated``: anyone not (yet) a client; with ``censor_later_entry`` a comparison
    who enters later is censored then, and the others are reweighted.
    """

    pool: Literal["never_treated", "not_yet_treated"] = "not_yet_treated"
    censor_later_entry: bool = True


class MatchingSpec(_Strict):
    """How comparisons are chosen or weighted (see ``kotoeval.estimate.Options``)."""

    method: Literal["nearest", "ipw", "cem", "entropy"] = "nearest"
    model: Literal["logit", "gbm"] = "logit"
    splines: Literal[0, 3, 4, 5, 6, 7] = 0
    """Knots of restricted cubic splines for numeric covariates in the logit; 0: linear."""
    rare_levels: int = Field(20, ge=0)
    """Categorical levels with fewer clients than this are pooled into one; 0: none."""
    leave_person_out: bool = True
    """Score each person's months by the model fitted without that person (docs/study.md)."""
    ratio: int = Field(1, ge=1, le=20)
    caliper: float | None = Field(0.2, gt=0)
    replace: bool = False
    order: Literal["largest", "smallest", "random", "data"] = "largest"
    exact: list[str] = ["index_month"]
    trim: bool = True
    once_per_person: bool = False

    @model_validator(mode="after")
    def _splines_need_logit(self) -> MatchingSpec:
        if self.splines and self.model != "logit":
            raise ValueError("splines shape the logit model; with model = 'gbm' set splines = 0")
        return self


class EstimationSpec(_Strict):
    """Effects: regression adjustment, bootstrap, confidence level."""

    adjust: bool = False
    bootstrap: int = Field(0, ge=0, le=10_000)
    level: float = Field(0.95, gt=0.5, lt=1)
    seed: int = 0


class SubgroupSpec(_Strict):
    """Subgroups in which effects are reported, and when a subgroup counts as underpowered."""

    variables: list[str] = list(SUBGROUP_VARIABLES)
    min_treated: int = Field(50, ge=1)

    @field_validator("variables")
    @classmethod
    def _known(cls, value: list[str]) -> list[str]:
        unknown = [v for v in value if v not in SUBGROUP_VARIABLES]
        if unknown:
            raise ValueError(f"unknown subgroup variables {unknown}; known: {SUBGROUP_VARIABLES}")
        return value


class TrajectorySpec(_Strict):
    """The person × relative-month panel and the phases summarised on it."""

    first_month: int = PANEL_FIRST_MONTH
    last_month: int = PANEL_LAST_MONTH
    phases: dict[str, tuple[int, int]] = {
        "before": (-12, -1),
        "during": (0, 5),
        "after_1_6": (6, 11),
        "long_term": (24, 35),
    }

    @model_validator(mode="after")
    def _around_entry(self) -> TrajectorySpec:
        if not self.first_month <= REFERENCE_MONTH < self.last_month:
            raise ValueError(
                f"the panel must run from before entry to after it: first_month <= "
                f"{REFERENCE_MONTH} (the event study's reference month) < last_month"
            )
        return self


class StudySpec(_Strict):
    """A whole study."""

    name: str = Field(pattern=r"^[a-z0-9_]+$")
    title: str
    treatment: TreatmentSpec
    population: PopulationSpec = PopulationSpec()
    comparison: ComparisonSpec = ComparisonSpec()
    covariates: list[str]
    outcomes: list[str] = list(OUTCOMES)
    headline: list[str] = ["vocational_completed_36m", "earnings_y2"]
    matching: MatchingSpec = MatchingSpec()
    estimation: EstimationSpec = EstimationSpec()
    subgroups: SubgroupSpec = SubgroupSpec()
    trajectories: TrajectorySpec = TrajectorySpec()
    disclosure: str = "threshold_5"
    """A preset of ``kotoeval.disclose.rules.PRESETS``, applied when the results are released."""

    @field_validator("disclosure")
    @classmethod
    def _disclosure(cls, value: str) -> str:
        if value not in PRESETS:
            raise ValueError(
                f"unknown disclosure rules {value!r}; choose one of {', '.join(PRESETS)}"
            )
        return value

    @field_validator("covariates")
    @classmethod
    def _covariates(cls, value: list[str]) -> list[str]:
        for name in value:
            try:
                window_of(name)
            except SpecError as err:
                raise ValueError(str(err)) from None
        return value

    @field_validator("outcomes", "headline")
    @classmethod
    def _outcomes(cls, value: list[str]) -> list[str]:
        unknown = [o for o in value if o not in OUTCOMES]
        if unknown:
            raise ValueError(f"unknown outcomes {unknown}; see docs/outcomes.md")
        return value

    def cohort(self) -> CohortSpec:
        """The cohort this study needs.

        Its covariates, the exact-matching ones, and those that the subgroups and the income
        decomposition are defined on.
        """
        p = self.population
        needed = tuple(dict.fromkeys([*self.covariates, *self.matching.exact, *_MEASURED]))
        return CohortSpec(
            service=self.treatment.service,
            entry_from=self.treatment.entry_from,
            entry_to=self.treatment.entry_to,
            population=Population(
                municipalities=tuple(p.municipalities), age=p.age, immigrants=p.immigrants,
                foreign_language=p.foreign_language,
                min_age_at_immigration=p.min_age_at_immigration,
                min_months_since_immigration=p.min_months_since_immigration,
                jobseeker_status=tuple(p.jobseeker_status),
                education_levels=tuple(p.education_levels) if p.education_levels else None,
                no_degree=p.no_degree, not_studying_in=tuple(p.not_studying_in),
                not_in_services=tuple(p.not_in_services),
                not_earlier_clients_of=tuple(p.not_earlier_clients_of),
            ),
            pool=self.comparison.pool,
            covariates=needed,
        )  # fmt: skip

    def options(self) -> Options:
        """Estimation options for :mod:`kotoeval.estimate`."""
        m, e = self.matching, self.estimation
        return Options(
            method=m.method, model=m.model, splines=m.splines, rare_levels=m.rare_levels,
            leave_person_out=m.leave_person_out,
            ratio=m.ratio, caliper=m.caliper, replace=m.replace, order=m.order,
            exact=tuple(m.exact), trim=m.trim, once_per_person=m.once_per_person,
            adjust=e.adjust, bootstrap=e.bootstrap, level=e.level, seed=e.seed,
        )  # fmt: skip


def load_spec(path: Path) -> StudySpec:
    """Read and validate a study file; errors name the file and the key."""
    try:
        data = tomllib.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        raise SpecError(f"study file {path} does not exist") from None
    except tomllib.TOMLDecodeError as err:
        raise SpecError(f"{path} is not valid TOML: {err}") from None
    try:
        return StudySpec.model_validate(data)
    except ValidationError as err:
        problems = "; ".join(
            f"{'.'.join(str(p) for p in e['loc']) or '(top)'}: {e['msg']}" for e in err.errors()
        )
        raise SpecError(f"{path}: {problems}") from None


EXAMPLES = Path(__file__).parent / "examples"
