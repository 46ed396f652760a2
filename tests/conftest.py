"""Shared fixtures: synthetic worlds generated once per session."""

from __future__ import annotations

from pathlib import Path

import pytest
from hypothesis import settings

from kotoeval.ingest.keys import generate_key
from kotoeval.synth import WorldSummary, generate
from tests.helpers import Studied, run_studies

SHARED = Path(__file__).resolve().parents[2] / "shared"

# No time limit per example: speed is measured by the benchmarks, and a busy machine would
# otherwise fail a property that holds.
settings.register_profile("kotoeval", deadline=None)
settings.load_profile("kotoeval")


@pytest.fixture(scope="session")
def shared() -> Path:
    """The shared design folder that CI places beside the project."""
    if not (SHARED / "design" / "REGISTERS.md").exists():
        pytest.fail(f"the shared design folder is missing at {SHARED}: clone it beside the project")
    return SHARED


@pytest.fixture(scope="session")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    """A clean tiny world (one process)."""
    return generate("tiny", 3, tmp_path_factory.mktemp("tiny"), workers=1)


@pytest.fixture(scope="session")
def tiny_defects(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    """The same tiny world with planted defects."""
    return generate("tiny", 3, tmp_path_factory.mktemp("tiny_defects"), defects=0.03, workers=1)


@pytest.fixture(scope="session")
def espoo(tmp_path_factory: pytest.TempPathFactory) -> WorldSummary:
    """The Espoo-scale world of the demo (≈40 s on two cores)."""
    return generate("espoo", 1, tmp_path_factory.mktemp("espoo"))


@pytest.fixture(scope="session")
def key(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """A project key shared by the ingest tests."""
    path = tmp_path_factory.mktemp("key") / "project.key"
    generate_key(path)
    return path


@pytest.fixture(scope="session")
def small(tmp_path_factory: pytest.TempPathFactory, key: Path) -> Studied:
    """The OSKE study on a small world (≈ 60 clients a year)."""
    folder = tmp_path_factory.mktemp("small_study")
    return run_studies(generate("small", 1, folder / "world"), key, folder, ("oske",))
