"""Subgroups in which effects are reported, defined on covariates observed at the index month.

Each subgroup variable maps a covariate to a small set of labelled bands. Definitions are shared
by the synthetic world's truth and by the estimators, so that a subgroup effect and its truth
are about the same people.
"""

from __future__ import annotations

from typing import Final

import numpy as np
import numpy.typing as npt

from kotoeval.registers.codes import LANGUAGE_LEVELS

AGE_BANDS: Final = (("18_29", 18, 29), ("30_44", 30, 44), ("45_64", 45, 64))
#: Language level at entry: the latest ``overall`` test result before the index month.
LANGUAGE_BANDS: Final = (
    ("none_or_a1", -1, LANGUAGE_LEVELS.index("A1.3")),
    ("a2", LANGUAGE_LEVELS.index("A2.1"), LANGUAGE_LEVELS.index("A2.2")),
    ("b1_or_higher", LANGUAGE_LEVELS.index("B1.1"), len(LANGUAGE_LEVELS) - 1),
)
#: Registered education level (ISCED 2011) at entry; ``none`` is no degree known in Finland.
EDUCATION_BANDS: Final = (("none", -1, 2), ("upper_secondary", 3, 4), ("tertiary", 5, 8))

SUBGROUP_VARIABLES: Final = (
    "age_band",
    "sex",
    "world_region",
    "language_level",
    "education_level",
    "permit_ground",
)


def band(
    values: npt.NDArray[np.integer], bands: tuple[tuple[str, int, int], ...]
) -> npt.NDArray[np.object_]:
    """Label each value with the band whose inclusive range holds it (``other`` if none)."""
    out = np.full(values.shape, "other", dtype=object)
    for label, low, high in bands:
        out[(values >= low) & (values <= high)] = label
    return out
