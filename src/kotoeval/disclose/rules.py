"""Rule sets of disclosure control: data with named presets, one validator."""

from __future__ import annotations

from dataclasses import asdict, dataclass
from typing import Any, Final

from kotoeval.errors import SpecError


@dataclass(frozen=True)
class RuleSet:
    """What an output must satisfy before it leaves the secure zone.

    Parameters
    ----------
    threshold
        Fewest distinct persons a published count, mean or effect may rest on.
    dominance
        ``(n, k)``: a magnitude cell is sensitive when its ``n`` largest contributors make up
        more than ``k`` % of its total. ``None``: no dominance rule.
    p_percent
        The p % rule: a magnitude cell is sensitive when the second largest contributor could
        estimate the largest within ``p`` % (total − largest − second < p/100 × largest).
    min_residual_df
        Fewest residual degrees of freedom a released regression must have.
    """

    name: str
    threshold: int
    dominance: tuple[int, float] | None = None
    p_percent: float | None = None
    min_residual_df: int = 10

    def __post_init__(self) -> None:
        if self.threshold < 1:
            raise SpecError(
                f"rules {self.name}: threshold must be at least 1, not {self.threshold}"
            )
        if self.dominance is not None:
            n, k = self.dominance
            if n < 1 or not 0 < k < 100:
                raise SpecError(
                    f"rules {self.name}: dominance (n, k) needs n ≥ 1 and 0 < k < 100, "
                    f"not ({n}, {k})"
                )
        if self.p_percent is not None and not 0 < self.p_percent < 100:
            raise SpecError(f"rules {self.name}: p_percent must be in (0, 100)")
        if self.min_residual_df < 1:
            raise SpecError(f"rules {self.name}: min_residual_df must be at least 1")

    def describe(self) -> dict[str, Any]:
        """The rule set as plain data (for manifests and logs)."""
        return asdict(self)


PRESETS: Final[dict[str, RuleSet]] = {
    # The rule Statistics Finland's course for researchers teaches.
    "threshold_3": RuleSet("threshold_3", threshold=3),
    # A common rule of register research.
    "threshold_5": RuleSet("threshold_5", threshold=5),
    # Eurostat's output-checking defaults: 10 units and (2, 90) dominance.
    "eurostat": RuleSet("eurostat", threshold=10, dominance=(2, 90.0)),
}


def rule_set(name_or_values: str | dict[str, Any]) -> RuleSet:
    """A preset by name, or a rule set from its values (``{"threshold": 4, ...}``)."""
    if isinstance(name_or_values, str):
        if name_or_values not in PRESETS:
            raise SpecError(
                f"unknown disclosure rules {name_or_values!r}; choose one of "
                f"{', '.join(PRESETS)} or give your own values"
            )
        return PRESETS[name_or_values]
    values = dict(name_or_values)
    if "dominance" in values and values["dominance"] is not None:
        values["dominance"] = tuple(values["dominance"])
    values.setdefault("name", "custom")
    try:
        return RuleSet(**values)
    except TypeError as err:
        raise SpecError(f"disclosure rules: {err}") from None
